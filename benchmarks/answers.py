"""Dump every answer of the analysis as sorted text, and compare two dumps: a speed-up must not change them.

``python -m benchmarks.answers dump OUT [--cases demo,tiny,root-trust-200,...]`` writes one
``<case>.txt`` per case: every effective-access row (with its witness path and its length),
every finding, and for every readable value the subjects ``who_can_read`` names with the length of
the shortest path it gives for each. ``python -m benchmarks.answers compare BEFORE AFTER`` checks
two dumps line by line and exits 1 on a difference that is not allowed:

* a row, finding or reader that disappears or appears (a reader may appear only where the older
  answer was cut off at its path bound: ``who-cut`` lines);
* a row or reader whose witness path got longer.

A row whose witness path changed but is no longer is listed as an allowed difference (another path
of the same or shorter length), with both paths. Cases: ``demo`` (the demo account collected from
the local AWS endpoint once and kept in ``OUT/demo-snapshot.json``, so later dumps read the same
records), the synthetic sizes (``tiny``, ``small``, ...) and shape sizes (``root-trust-200``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmarks.shapes import SHAPES, generate_shape
from benchmarks.synthetic import generate
from irsa_lib.access import AccessRow, effective_access, who_can_read
from irsa_lib.findings import Finding, run_findings
from irsa_lib.graph import AccessGraph, build_graph
from irsa_lib.graph.schema import ARN, SECRET_TYPES
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot, load_snapshot, save_snapshot

DEFAULT_CASES = ("demo", "tiny", "small", "medium", *(f"{s}-200" for s in SHAPES))
WHO_PATHS = 50
"""The bound ``who_can_read`` had by default when these dumps were introduced (its ``max_paths``)."""
SEP = " | "


def snapshot_for(case: str, out: Path) -> Snapshot:
    if case == "demo":
        path = out / "demo-snapshot.json"
        if not path.exists():
            from irsa_lib.demo.run import collect_demo
            from irsa_lib.demo.scenario import REGION, seed_aws
            from irsa_lib.demo.server import local_aws

            with local_aws(region=REGION) as aws:
                facts = seed_aws(aws.endpoint_url)
                save_snapshot(collect_demo(aws.endpoint_url, cluster=facts.cluster_name), path)
        return load_snapshot(path)
    if case.rpartition("-")[0] in SHAPES:
        return generate_shape(case)
    return generate(case)


def row_line(r: AccessRow) -> str:
    key = SEP.join((r.cluster, r.namespace or "-", r.subject_kind, r.service_account, r.secret_arn, r.access,
                    r.decision))  # fmt: skip
    rest = SEP.join((
        f"len={len(r.nodes) - 1}",
        f"unresolved={','.join(r.unresolved_keys)}",
        f"complete={r.complete}",
        f"unknown={'; '.join(r.unknown)}",
        f"mechanisms={','.join(r.mechanisms)}",
        f"path={' -> '.join(r.path)}",
    ))  # fmt: skip
    return f"row {key} || {rest}"


def finding_line(f: Finding) -> str:
    return "finding " + SEP.join((f.rule, f.status, f.severity.value, f.resource, " ;; ".join(f.evidence)))


def who_lines(graph: AccessGraph, every: int = 1) -> list[str]:
    """For every ``every``-th readable value: each subject ``who_can_read`` names, shortest path length."""
    values = sorted(v for v in graph.nodes_of(*SECRET_TYPES) if graph.graph.in_degree(v) > 0)
    out = []
    for v in values[::every]:
        arn = str(graph.node(v)[ARN])
        best: dict[str, int] = {}
        n = 0
        for p in who_can_read(graph, arn):
            n += 1
            best[p.subject] = min(best.get(p.subject, len(p.nodes)), len(p.nodes) - 1)
        out += [f"who {arn} <- {s} || len={best[s]}" for s in best]
        if n >= WHO_PATHS:
            out.append(f"who-cut {arn} || paths={n}")
    return out


def dump_case(case: str, out: Path, every: int) -> list[str]:
    snap = snapshot_for(case, out)
    inventory = Inventory.from_snapshot(snap)
    graph = build_graph(snap, inventory=inventory)
    lines = [row_line(r) for r in effective_access(graph)]
    lines += [finding_line(f) for f in run_findings(snap, graph=graph, inventory=inventory)]
    lines += who_lines(graph, every)
    return sorted(lines)


def dump(out: Path, cases: Iterable[str], every: dict[str, int]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for case in cases:
        lines = dump_case(case, out, every.get(case, 1))
        (out / f"{case}.txt").write_text("\n".join(lines) + "\n")
        print(f"{case}: {len(lines)} lines", file=sys.stderr, flush=True)


# --- comparison ------------------------------------------------------------------------------------


def _split(lines: Iterable[str]) -> tuple[dict[str, str], set[str], dict[tuple[str, str], int], set[str]]:
    rows: dict[str, str] = {}
    findings: set[str] = set()
    who: dict[tuple[str, str], int] = {}
    cut: set[str] = set()
    for line in lines:
        kind, _, body = line.partition(" ")
        if kind == "row":
            key, _, rest = body.partition(" || ")
            rows[key] = rest
        elif kind == "finding":
            findings.add(body)
        elif kind == "who":
            head, _, length = body.partition(" || len=")
            arn, _, subject = head.partition(" <- ")
            who[(arn, subject)] = int(length)
        elif kind == "who-cut":
            cut.add(body.partition(" || ")[0])
    return rows, findings, who, cut


def _length(rest: str) -> int:
    return int(rest.split(SEP, 1)[0].removeprefix("len="))


def compare_case(before: Sequence[str], after: Sequence[str]) -> tuple[list[str], list[str]]:
    """(errors, allowed differences) between two dumps of one case."""
    rb, fb, wb, cb = _split(before)
    ra, fa, wa, _ = _split(after)
    errors: list[str] = []
    allowed: list[str] = []
    errors += [f"row lost: {k}" for k in sorted(rb.keys() - ra.keys())]
    errors += [f"row new: {k}" for k in sorted(ra.keys() - rb.keys())]
    for k in sorted(rb.keys() & ra.keys()):
        if rb[k] == ra[k]:
            continue
        msg = f"row {k}\n    before: {rb[k]}\n    after:  {ra[k]}"
        (errors if _length(ra[k]) > _length(rb[k]) else allowed).append(msg)
    errors += [f"finding lost: {f}" for f in sorted(fb - fa)]
    errors += [f"finding new: {f}" for f in sorted(fa - fb)]
    for arn, subject in sorted(wb.keys() - wa.keys()):
        errors.append(f"reader lost: {subject} of {arn}")
    for arn, subject in sorted(wa.keys() - wb.keys()):
        note = f"reader {subject} of {arn} (len {wa[(arn, subject)]})"
        (allowed if arn in cb else errors).append(f"{note}: new{' (the older answer was cut off)' * (arn in cb)}")
    for key in sorted(wb.keys() & wa.keys()):
        if wa[key] > wb[key]:
            errors.append(f"reader {key[1]} of {key[0]}: path {wb[key]} -> {wa[key]} edges (longer)")
        elif wa[key] < wb[key]:
            allowed.append(f"reader {key[1]} of {key[0]}: path {wb[key]} -> {wa[key]} edges (shorter)")
    return errors, allowed


def compare(before: Path, after: Path) -> int:
    failed = False
    for b in sorted(before.glob("*.txt")):
        a = after / b.name
        if not a.exists():
            print(f"{b.stem}: missing in {after}")
            failed = True
            continue
        lb, la = b.read_text().splitlines(), a.read_text().splitlines()
        if lb == la:
            print(f"{b.stem}: identical ({len(lb)} lines)")
            continue
        errors, allowed = compare_case(lb, la)
        failed = failed or bool(errors)
        print(f"{b.stem}: {len(errors)} not allowed, {len(allowed)} allowed difference(s)")
        for line in [*errors, *allowed]:
            print(f"  {line}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.answers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="write every answer of each case as sorted text")
    d.add_argument("out", type=Path)
    d.add_argument("--cases", default=",".join(DEFAULT_CASES))
    d.add_argument("--who-every", action="append", default=[], metavar="CASE=N",
                   help="ask who-can-read about every N-th readable value of CASE (default: all)")  # fmt: skip
    c = sub.add_parser("compare", help="compare two dumps; exit 1 on a difference that is not allowed")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after)
    every = {k: int(v) for k, _, v in (x.partition("=") for x in args.who_every)}
    dump(args.out, [c.strip() for c in args.cases.split(",") if c.strip()], every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
