"""``irsa access SNAPSHOT``: which subject can read which secret value, and through what."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any

from irsa_lib.access import AccessRow, relevant_gaps, select_rows
from irsa_lib.analysis import analyse
from irsa_lib.snapshot import load_snapshot

CSV_FIELDS = (
    "cluster",
    "namespace",
    "service_account",
    "subject_kind",
    "secret_name",
    "secret_kind",
    "secret_arn",
    "access",
    "decision",
    "complete",
    "mechanisms",
    "path",
    "unresolved_keys",
    "unknown",
)


def register(sub: Any) -> None:
    p = sub.add_parser("access", help="effective access: which service account can read which secret value")
    p.add_argument("snapshot", help="snapshot JSON file")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--namespace", help="only subjects in this namespace")
    p.add_argument("--service-account", metavar="NS/NAME", help="only this service account")
    p.add_argument("--secret", metavar="NAME-OR-ARN", help="only this parameter or secret")
    p.set_defaults(run=run)


def render_table(rows: list[AccessRow]) -> str:
    header = ("SUBJECT", "SECRET", "ACCESS", "DECISION", "PATH")
    lines = [header]
    for r in rows:
        subject = f"{r.cluster}:{r.namespace or '-'}/{r.service_account}"
        if r.subject_kind != "ServiceAccount":
            subject += f" ({r.subject_kind})"
        decision = r.decision + ("" if r.complete else " (incomplete)")
        lines.append((subject, r.secret_name, r.access, decision, " -> ".join(r.path)))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(line)) for line in lines
    )


def render_csv(rows: list[AccessRow]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        data = r.to_json()
        w.writerow(
            {
                k: (
                    " -> ".join(data[k])
                    if k == "path"
                    else "; ".join(data[k])
                    if isinstance(data[k], list)
                    else data[k]
                )
                for k in CSV_FIELDS
            }
        )
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    analysis = analyse(load_snapshot(args.snapshot), rules=())
    rows = select_rows(
        analysis.rows, namespace=args.namespace, service_account=args.service_account, secret=args.secret
    )
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rows], indent=2))
    elif args.format == "csv":
        sys.stdout.write(render_csv(rows))
    else:
        print(render_table(rows) if rows else "no access found")
    gaps = relevant_gaps(analysis.graph)
    if gaps:
        print(
            f"warning: {len(gaps)} input gap(s); access through them is unknown, not absent:",
            file=sys.stderr,
        )
        for g in gaps:
            print(f"  - {g.what}", file=sys.stderr)
    return 0
