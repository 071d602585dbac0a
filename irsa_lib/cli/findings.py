"""``irsa findings SNAPSHOT``: the misconfiguration catalogue as a table, JSON or SARIF, with a CI gate."""

from __future__ import annotations

import argparse
import io
import json
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from irsa_lib.analysis import Analysis
from irsa_lib.cli._cache import add_cache_option, analysis_of
from irsa_lib.cli.collect import add_manifest_sources, manifest_sources
from irsa_lib.errors import UsageError
from irsa_lib.findings import RULES, Finding, Severity, at_or_above, select_rules
from irsa_lib.render import terminal

if TYPE_CHECKING:
    from rich.console import Console

    from irsa_lib.locate import Location


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Run the misconfiguration rules over a snapshot. Exit 1 with --fail-on when a failing "
        "finding at or above that severity exists, 2 on bad input."
    )
    p.add_argument("snapshot", nargs="?", help="snapshot JSON file")
    p.add_argument("--format", choices=("table", "json", "sarif"), default="table")
    p.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help="exit 1 if a failing finding is at or above: " + ", ".join(s.value for s in Severity),
    )
    p.add_argument(
        "--rule", action="append", metavar="ID", default=[], help="run only this rule (repeatable, e.g. --rule F01)"
    )
    p.add_argument("--full", action="store_true", help="table: every evidence line, uncut")
    p.add_argument("--list-rules", action="store_true", help="print the rule catalogue (markdown table) and exit")
    add_manifest_sources(p, "SARIF: point results about Kubernetes objects at this manifest tree (repeatable)")
    add_cache_option(p)
    p.set_defaults(run=run, k8s_sources=None)


def rules_table(ids: Sequence[str] | None = None) -> str:
    """The catalogue as a markdown table (id, severity, title, slug), for the README and ``--list-rules``."""
    lines = ["| id | severity | title | slug |", "|---|---|---|---|"]
    for rule in select_rules(ids):
        m = rule.meta
        lines.append(f"| {m.id} | {m.severity.value} | {m.title} | `{m.slug}` |")
    return "\n".join(lines)


EVIDENCE_SHOWN = 3
"""Evidence lines shown per finding in the table (``--full`` shows all; JSON and SARIF always do)."""
EVIDENCE_CHARS = 300
"""Characters of one evidence line shown in the table before it is cut (``--full`` shows all)."""


def fix_command(f: Finding, snapshot: str | None) -> str | None:
    """The ``irsa fix`` command writing and verifying the fix of a finding whose rule has one."""
    if f.status != "fail":
        return None
    from irsa_lib.fixes import has_fix  # the fix builders: imported when a finding fails, not before

    if not has_fix(f.rule):
        return None
    target = shlex.quote(snapshot) if snapshot else "SNAPSHOT"
    return f"irsa fix {target} -o fixes --finding {shlex.quote(f'{f.rule}:{f.resource}')}"


def print_findings(
    findings: Sequence[Finding], console: Console, *, full: bool = False, snapshot: str | None = None
) -> None:
    """Each finding: severity, rule and resource (whole, never split), folded evidence, remediation,
    and the ``irsa fix`` command of its patch when its rule has a mechanical fix."""
    if not findings:
        terminal.emit(console, "no findings")
        return
    for f in findings:
        status = "" if f.status == "fail" else " [unknown: inputs missing]"
        sev = f.severity.value
        terminal.emit(
            console,
            terminal.join(
                [terminal.plain(sev.upper(), terminal.SEVERITY_STYLES.get(sev, "")), f"{f.rule} {f.slug}{status}"]
            ),
        )
        terminal.emit(console, terminal.plain(f.resource), indent=2)
        shown, more = (
            (list(f.evidence), None)
            if full
            else terminal.fold(
                f.evidence, keep=EVIDENCE_SHOWN, what="evidence lines", hint="--full or --format json shows all"
            )
        )
        for e in shown:
            text = e if full or len(e) <= EVIDENCE_CHARS else e[:EVIDENCE_CHARS] + " … (--full shows all)"
            terminal.emit(console, terminal.plain(f"- {text}", "dim"), indent=4)
        if more:
            terminal.emit(console, terminal.plain(more, "dim italic"), indent=4)
        if f.remediation:
            terminal.emit(console, terminal.plain(f"fix: {f.remediation}"), indent=4)
        command = fix_command(f, snapshot)
        if command:
            terminal.emit(console, terminal.plain(f"patch: {command}"), indent=4)
    fails = [f for f in findings if f.status == "fail"]
    counts = {s.value: sum(1 for f in fails if f.severity is s) for s in Severity}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    unknown = len(findings) - len(fails)
    terminal.emit(console, f"{len(fails)} failing ({summary or 'none'}), {unknown} not judged (inputs missing)")


def format_table(
    findings: Sequence[Finding], *, width: int | None = None, full: bool = False, snapshot: str | None = None
) -> str:
    """:func:`print_findings` as a string (no colour), ``width`` columns wide (unbounded when None)."""
    buf = io.StringIO()
    print_findings(findings, terminal.make_console(buf, width=width), full=full, snapshot=snapshot)
    return buf.getvalue().rstrip("\n")


def finding_locator(snapshot_path: str, manifests: Sequence[tuple[str, str]]) -> Callable[[Finding], Location]:
    """Where a finding's resource is written: its manifest when one of ``manifests`` (dir, cluster)
    holds it, else its record in the snapshot file."""
    from irsa_lib.locate import ManifestLocator, SnapshotLocator

    trees = [ManifestLocator(d, cluster=c) for d, c in manifests]
    snap = SnapshotLocator(snapshot_path)

    def locate(f: Finding) -> Location:
        for tree in trees:
            hit = tree.find(f.resource)
            if hit is not None:
                return hit
        return snap.find(f.resource)

    return locate


def file_fixes(
    analysis: Analysis, trees: Sequence[tuple[str, str]], locate: Callable[[Finding], Location], snapshot: str
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """SARIF ``fix`` objects of the verified fixes of findings located in a manifest of ``trees`` (not
    in the snapshot file, which is not a source to change)."""
    from irsa_lib.fixes import Fix, fix_and_verify, has_fix
    from irsa_lib.fixes.manifests import ManifestObjects
    from irsa_lib.fixes.sarif import sarif_fix

    in_files = [
        f
        for f in analysis.findings
        if f.status == "fail" and has_fix(f.rule) and Path(locate(f).path).resolve() != Path(snapshot).resolve()
    ]
    if not trees or not in_files:
        return {}
    out = {}
    for item, proof in fix_and_verify(analysis, findings=in_files, manifests=ManifestObjects(trees)):
        fix = sarif_fix(item, proof) if isinstance(item, Fix) else None
        if fix is not None:
            out[item.finding.key] = [fix]
    return out


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        print(rules_table(args.rule))
        return 0
    if not args.snapshot:
        raise UsageError("a SNAPSHOT file is required (or --list-rules)")
    threshold = Severity.parse(args.fail_on) if args.fail_on else None
    selected = select_rules(args.rule)
    analysis = analysis_of(args, args.snapshot, rules=[r.id for r in selected])
    findings = analysis.findings
    if args.format == "json":
        print(json.dumps([{**f.to_json(), "fix": fix_command(f, args.snapshot)} for f in findings], indent=2))
    elif args.format == "sarif":
        from irsa_lib.findings.sarif import to_sarif  # and the manifest locator's YAML: only for SARIF

        trees = manifest_sources(args)
        locate = finding_locator(args.snapshot, trees)
        fixes = file_fixes(analysis, trees, locate, args.snapshot)
        log = to_sarif(findings, [r.meta for r in selected], locate=locate, fixes=lambda f: fixes.get(f.key, []))
        print(json.dumps(log, indent=2))
    else:
        print_findings(findings, terminal.make_console(), full=args.full, snapshot=args.snapshot)
    if threshold is not None and at_or_above(findings, threshold):
        return 1
    return 0


__all__ = ["RULES", "register", "rules_table", "run"]
