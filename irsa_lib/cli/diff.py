"""``irsa diff OLD NEW``: findings and access rows added, removed and changed between two snapshots."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from irsa_lib.analysis import analyse
from irsa_lib.diff import Drift, diff_analyses
from irsa_lib.findings import Finding, Severity
from irsa_lib.snapshot import load_snapshot


def register(sub: Any) -> None:
    p = sub.add_parser(
        "diff",
        help="what changed between two snapshots: findings and access rows added, removed, changed",
        description="Compare the analyses of two snapshots. Exit 0, or 1 with --fail-on-new when a new failing "
        "finding at or above that severity appeared; 2 on bad input.",
    )
    p.add_argument("old", help="older snapshot JSON file")
    p.add_argument("new", help="newer snapshot JSON file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--fail-on-new", metavar="SEVERITY", help="exit 1 if a new failing finding is at or above this severity"
    )
    p.set_defaults(run=run)


def _finding_line(sign: str, f: Finding) -> str:
    status = "" if f.status == "fail" else " [unknown]"
    return f"  {sign} {f.severity.value:8} {f.rule} {f.slug}{status}: {f.resource}"


def _row_line(sign: str, r: Mapping[str, Any]) -> str:
    return (
        f"  {sign} {r.get('cluster')}/{r.get('namespace')}/{r.get('service_account')} -> {r.get('secret_name') or r.get('secret_arn')}"
        f" [{r.get('access')}, {r.get('decision')}]"
    )


def format_text(d: Drift) -> str:
    if d.is_empty:
        return "no changes"
    out = [
        f"findings: {len(d.findings_added)} new, {len(d.findings_removed)} resolved, {len(d.findings_changed)} changed"
    ]
    out += [_finding_line("+", f) for f in d.findings_added]
    out += [_finding_line("-", f) for f in d.findings_removed]
    for c in d.findings_changed:
        out.append(
            _finding_line("~", c.new) + f" ({', '.join(c.fields)} changed; was {c.old.severity.value}/{c.old.status})"
        )
    out.append(f"access: {len(d.access_added)} new, {len(d.access_removed)} removed, {len(d.access_changed)} changed")
    out += [_row_line("+", r) for r in d.access_added]
    out += [_row_line("-", r) for r in d.access_removed]
    out += [_row_line("~", c.new) + f" ({', '.join(c.fields)} changed)" for c in d.access_changed]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    threshold = Severity.parse(args.fail_on_new) if args.fail_on_new else None
    old, new = load_snapshot(args.old), load_snapshot(args.new)
    drift = diff_analyses(analyse(old), analyse(new))
    if args.format == "json":
        print(json.dumps(drift.to_json(), indent=2))
    else:
        print(format_text(drift))
    if threshold is not None and drift.new_at_or_above(threshold):
        return 1
    return 0
