"""``irsa diff OLD NEW``: findings and access rows added, removed and changed between two snapshots."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from irsa_lib.cli._cache import add_cache_option, analysis_of
from irsa_lib.diff import Drift, FindingChange, RowChange, diff_analyses
from irsa_lib.findings import Finding, Severity
from irsa_lib.render import terminal
from irsa_lib.subjects import display_row

if TYPE_CHECKING:
    from rich.text import Text


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Compare the analyses of two snapshots. Exit 0, or 1 with --fail-on-new when a new failing "
        "finding at or above that severity appeared; 2 on bad input."
    )
    p.add_argument("old", help="older snapshot JSON file")
    p.add_argument("new", help="newer snapshot JSON file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--fail-on-new", metavar="SEVERITY", help="exit 1 if a new failing finding is at or above this severity"
    )
    add_cache_option(p)
    p.set_defaults(run=run)


PATH_SEPARATOR = " → "
Line = tuple[int, "Text"]
"""A line of output and its indent."""


def _finding_lines(sign: str, f: Finding) -> list[Line]:
    status = "" if f.status == "fail" else " [unknown]"
    sev = f.severity.value
    head = terminal.join([sign, terminal.plain(f"{sev:8}", terminal.SEVERITY_STYLES.get(sev, ""))], " ")
    head.append_text(terminal.plain(f" {f.rule} {f.slug}{status}: {f.resource}"))
    return [(2, head)]


def _finding_change(c: FindingChange) -> list[Line]:
    lines = _finding_lines("~", c.new)
    for name in c.fields:
        before, after = getattr(c.old, name), getattr(c.new, name)
        if name == "evidence":
            gone = [e for e in before if e not in after]
            new = [e for e in after if e not in before]
            lines += [(6, terminal.plain(f"evidence no longer: {e}")) for e in gone]
            lines += [(6, terminal.plain(f"evidence now:       {e}")) for e in new]
        else:
            lines.append((6, terminal.plain(f"{name}: was {_value(before)}, now {_value(after)}")))
    return lines


def _value(v: Any) -> str:
    return str(getattr(v, "value", v))


def _row_head(sign: str, r: Mapping[str, Any]) -> Line:
    value = r.get("secret_name") or r.get("secret_arn")
    return 2, terminal.plain(f"{sign} {display_row(r)} reads {value} [{r.get('access')}]")


def _path(r: Mapping[str, Any]) -> str:
    return PATH_SEPARATOR.join(map(str, r.get("path") or ()))


def _row_lines(sign: str, r: Mapping[str, Any]) -> list[Line]:
    decision = terminal.plain(str(r.get("decision")), terminal.DECISION_STYLES.get(str(r.get("decision")), ""))
    return [_row_head(sign, r), (6, terminal.join([terminal.plain("decision:"), decision], " ")),
            (6, terminal.plain(f"path: {_path(r)}"))]  # fmt: skip


def _row_change(c: RowChange) -> list[Line]:
    lines = [_row_head("~", c.new)]
    for name in c.fields:
        if name == "path":
            lines += [(6, terminal.plain(f"path was: {_path(c.old)}")),
                      (6, terminal.plain(f"path now: {_path(c.new)}"))]  # fmt: skip
        else:
            before, after = c.old.get(name), c.new.get(name)
            if isinstance(before, (list, tuple)) or isinstance(after, (list, tuple)):
                before, after = ", ".join(map(str, before or ())), ", ".join(map(str, after or ()))
            lines.append((6, terminal.plain(f"{name}: was {before}, now {after}")))
    return lines


def text_lines(d: Drift) -> list[Line]:
    """The drift as lines: every finding and access row gained (+), lost (-) or changed (~), a changed
    one with what it was and what it is now (decision, path, mechanisms; severity, status, evidence)."""
    if d.is_empty:
        return [(0, terminal.plain("no changes"))]
    out: list[Line] = [(0, terminal.plain(
        f"findings: {len(d.findings_added)} new, {len(d.findings_removed)} resolved, {len(d.findings_changed)} changed"
    ))]  # fmt: skip
    for f in d.findings_added:
        out += _finding_lines("+", f)
    for f in d.findings_removed:
        out += _finding_lines("-", f)
    for c in d.findings_changed:
        out += _finding_change(c)
    out.append((0, terminal.plain(
        f"access: {len(d.access_added)} new, {len(d.access_removed)} removed, {len(d.access_changed)} changed"
    )))  # fmt: skip
    for r in d.access_added:
        out += _row_lines("+", r)
    for r in d.access_removed:
        out += _row_lines("-", r)
    for ch in d.access_changed:
        out += _row_change(ch)
    return out


def format_text(d: Drift, *, width: int | None = None) -> str:
    """:func:`text_lines` as one string without colour, ``width`` columns wide (unbounded when None)."""
    buf = io.StringIO()
    console = terminal.make_console(buf, width=width)
    for indent, line in text_lines(d):
        terminal.emit(console, line, indent=indent, hang=4)
    return buf.getvalue().rstrip("\n")


def run(args: argparse.Namespace) -> int:
    threshold = Severity.parse(args.fail_on_new) if args.fail_on_new else None
    drift = diff_analyses(analysis_of(args, args.old), analysis_of(args, args.new))
    if args.format == "json":
        print(json.dumps(drift.to_json(), indent=2))
    else:
        console = terminal.make_console()
        for indent, line in text_lines(drift):
            terminal.emit(console, line, indent=indent, hang=4)
    if threshold is not None and drift.new_at_or_above(threshold):
        return 1
    return 0
