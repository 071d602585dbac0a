"""``irsa findings SNAPSHOT``: the misconfiguration catalogue as a table, JSON or SARIF, with a CI gate."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from irsa_lib.analysis import analyse
from irsa_lib.errors import UsageError
from irsa_lib.findings import RULES, Finding, Severity, at_or_above, select_rules
from irsa_lib.findings.sarif import to_sarif
from irsa_lib.snapshot import load_snapshot


def register(sub: Any) -> None:
    p = sub.add_parser(
        "findings",
        help="run the misconfiguration catalogue (F01..F28) over a snapshot",
        description="Run the misconfiguration rules over a snapshot. Exit 1 with --fail-on when a failing "
        "finding at or above that severity exists, 2 on bad input.",
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
    p.add_argument("--list-rules", action="store_true", help="print the rule catalogue (markdown table) and exit")
    p.set_defaults(run=run)


def rules_table(ids: Sequence[str] | None = None) -> str:
    """The catalogue as a markdown table (id, severity, title, slug), for the README and ``--list-rules``."""
    lines = ["| id | severity | title | slug |", "|---|---|---|---|"]
    for rule in select_rules(ids):
        m = rule.meta
        lines.append(f"| {m.id} | {m.severity.value} | {m.title} | `{m.slug}` |")
    return "\n".join(lines)


def format_table(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    out = []
    for f in findings:
        status = "" if f.status == "fail" else " [unknown]"
        out.append(f"{f.severity.value.upper():8} {f.rule} {f.slug}{status}")
        out.append(f"         {f.resource}")
        for e in f.evidence:
            out.append(textwrap.fill(e, width=118, initial_indent="         - ", subsequent_indent="           "))
    fails = [f for f in findings if f.status == "fail"]
    counts = {s.value: sum(1 for f in fails if f.severity is s) for s in Severity}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    unknown = len(findings) - len(fails)
    out.append(f"{len(fails)} failing ({summary or 'none'}), {unknown} not judged (inputs missing)")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        print(rules_table(args.rule))
        return 0
    if not args.snapshot:
        raise UsageError("a SNAPSHOT file is required (or --list-rules)")
    threshold = Severity.parse(args.fail_on) if args.fail_on else None
    selected = select_rules(args.rule)
    findings = analyse(load_snapshot(args.snapshot), rules=[r.id for r in selected]).findings
    if args.format == "json":
        print(json.dumps([f.to_json() for f in findings], indent=2))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(findings, [r.meta for r in selected]), indent=2))
    else:
        print(format_table(findings))
    if threshold is not None and at_or_above(findings, threshold):
        return 1
    return 0


__all__ = ["RULES", "register", "rules_table", "run"]
