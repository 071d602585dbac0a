"""The findings that ask who reaches which value (F13's reach, the readers rule) read
:func:`irsa_lib.access.value_reach`, the rows' subjects and values without their paths: it must name
exactly the rows' (subject, first node, value), on every kind of graph."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.shapes import generate_shape
from benchmarks.synthetic import generate
from irsa_lib.access import ROWS_MEMO, effective_access, subject_fields, value_reach
from irsa_lib.analysis import analyse
from irsa_lib.findings.context import FindingContext, readers_by_value
from irsa_lib.snapshot import Snapshot, load_snapshot
from tests.graph.test_kes import scenario
from tests.test_hostile_report import hostile_inputs


def _snapshots(tmp_path: Path) -> dict[str, Snapshot]:
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    shapes = ("root-trust-40", "hub-40", "fan-in-40", "wide-wildcards-40", "deep-chains-40", "string-like-40")
    return {
        "kes": scenario(),
        "kes-enforced": scenario(enforce=True),
        "hostile": load_snapshot(hostile_inputs(hostile)[0]),
        "tiny": generate("tiny"),
        **{name: generate_shape(name) for name in shapes},
    }


def test_value_reach_names_exactly_the_rows(tmp_path: Path) -> None:
    checked = 0
    for name, snapshot in _snapshots(tmp_path).items():
        analysis = analyse(snapshot, rules=())
        graph = analysis.graph
        before = FindingContext(snapshot, graph=graph, inventory=analysis.inventory)  # no rows made yet
        indexes = (before._values_by_subject, before._readers_by_value)
        assert graph.memoized(ROWS_MEMO) is None, name  # ... nor by those indexes
        rows = effective_access(graph)
        from_rows = Counter(
            (r.cluster, r.namespace, r.service_account, r.subject_kind, r.nodes[0], r.nodes[-1]) for r in rows
        )
        reach = Counter((*subject_fields(graph, s), start, value) for s, start, value in value_reach(graph))
        assert reach == from_rows, name
        # the finding context's two indexes, as they were made from the rows (and are, once rows exist)
        by_first: dict[str, set[str]] = {}
        for r in rows:
            by_first.setdefault(r.nodes[0], set()).add(r.secret_name)
        after = FindingContext(snapshot, graph=graph, inventory=analysis.inventory)
        assert indexes == (by_first, readers_by_value(rows)), name
        assert (after._values_by_subject, after._readers_by_value) == indexes, name
        checked += len(rows)
        if any(start != s for s, start, _ in value_reach(graph)):
            checked += 1_000_000  # a path starting at a workload, not its service account, was seen
    assert checked > 1_000_000 + 1_000  # rows enough, and starts at workloads among them


def test_findings_build_no_row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """F13's reach and F30's readers no longer build the access table (its paths were most of F13's
    time at the `large` size); what they read of it is checked above."""
    import irsa_lib.access

    def no_rows(*_: object, **__: object) -> object:
        raise AssertionError("the rows were built")

    monkeypatch.setattr(irsa_lib.access, "_rows", no_rows)
    found = analyse(generate("tiny"), rules=("F13", "F30")).findings
    assert sum(any("access rows: its subjects can reach" in e for e in f.evidence) for f in found) > 5
    assert {f.rule for f in found} == {"F13", "F30"}


def test_rows_first_gives_the_rules_the_rows_and_the_same_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that reads rows and findings (the report) builds the rows first; the rules then read
    them and search nothing again, and find what they find without them."""
    import irsa_lib.findings.context

    snapshot = generate("tiny")
    searched = analyse(snapshot)  # the rules search for the reach themselves

    def no_search(*_: object, **__: object) -> object:
        raise AssertionError("searched again")

    monkeypatch.setattr(irsa_lib.findings.context, "value_reach", no_search)
    both = analyse(snapshot, rows_first=True)
    assert [f.to_json() for f in both.findings] == [f.to_json() for f in searched.findings]
    assert [r.to_json() for r in both.rows] == [r.to_json() for r in searched.rows]
    assert any(f.rule == "F13" and any("access rows" in e for e in f.evidence) for f in both.findings)
