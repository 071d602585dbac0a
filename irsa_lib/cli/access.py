"""``irsa access SNAPSHOT``: which subject can read which secret value, and through what."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from irsa_lib.access import AccessRow, relevant_gaps, select_rows
from irsa_lib.cli._cache import add_cache_option, analysis_of
from irsa_lib.render import terminal

if TYPE_CHECKING:
    from rich.console import Console

PATH_SEPARATOR = " → "
CSV_FIELDS = (
    "subject",
    "cluster",
    "namespace",
    "service_account",
    "subject_kind",
    "secret_name",
    "secret_kind",
    "secret_arn",
    "kms_key_arn",
    "kms_key_alias",
    "kms_key_manager",
    "access",
    "decision",
    "complete",
    "mechanisms",
    "path",
    "unresolved_keys",
    "unknown",
)


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", help="snapshot JSON file")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--namespace", help="only subjects in this namespace")
    p.add_argument("--service-account", metavar="NS/NAME", help="only this service account")
    p.add_argument("--secret", metavar="NAME-OR-ARN", help="only this parameter or secret")
    add_cache_option(p)
    p.set_defaults(run=run)


def print_table(rows: list[AccessRow], console: Console) -> None:
    """Two lines per row: subject, value, access and decision; then the path, folded between hops."""
    if terminal.writes_plain(console):
        terminal.emit_plain_lines(console, _plain_lines(rows))
    else:
        terminal.emit_lines(console, _table_lines(rows))


def _plain_lines(rows: list[AccessRow]) -> Iterator[tuple[str, int]]:
    """:func:`_table_lines` joined, each line made with one format (a subject's name spelled once)."""
    names: dict[tuple[str, str, str | None, str], str] = {}
    for r in rows:
        who = (r.subject_kind, r.cluster, r.namespace, r.service_account)
        subject = names.get(who)
        if subject is None:
            subject = names[who] = r.subject
        decision = r.decision if r.complete else f"{r.decision} (incomplete)"
        yield f"{subject}  → {r.secret_name}  {r.access}  {decision}", 0
        yield PATH_SEPARATOR.join(r.path), 4


def _table_lines(rows: list[AccessRow]) -> Iterator[tuple[list[tuple[str, str]], int]]:
    for r in rows:
        decision = r.decision + ("" if r.complete else " (incomplete)")
        yield (
            [
                (r.subject, "bold"),
                (f"→ {r.secret_name}", ""),
                (r.access, ""),
                (decision, terminal.DECISION_STYLES.get(r.decision, "")),
            ],
            0,
        )
        yield [(PATH_SEPARATOR.join(r.path), "")], 4


def render_csv(rows: list[AccessRow]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        data = r.to_json()
        w.writerow(
            {
                k: (
                    PATH_SEPARATOR.join(data[k])
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
    analysis = analysis_of(args, args.snapshot, rules=(), writes=False)  # the table only reads
    rows = select_rows(
        analysis.rows, namespace=args.namespace, service_account=args.service_account, secret=args.secret
    )
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rows], indent=2))
    elif args.format == "csv":
        sys.stdout.write(render_csv(rows))
    else:
        console = terminal.make_console()
        if rows:
            print_table(rows, console)
        else:
            terminal.emit(console, "no access found")
    gaps = relevant_gaps(analysis.graph)
    if gaps:
        print(
            f"warning: {len(gaps)} input gap(s); access through them is unknown, not absent:",
            file=sys.stderr,
        )
        for g in gaps:
            print(f"  - {g.what}", file=sys.stderr)
    return 0
