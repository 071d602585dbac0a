"""Every path the queries report is a real path of the graph, and who-can-read gives one per reader.

Walked edge by edge over whole organisations (a synthetic one and two benchmark shapes with long
chains and a hub), so a faster query can never report a hop that is not there.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import networkx as nx
import pytest

from benchmarks.shapes import generate_shape
from benchmarks.synthetic import generate
from irsa_lib.access import AccessPath, PathLimits, effective_access, explain_paths, what_can_read, who_can_read
from irsa_lib.graph import AccessGraph, build_graph
from irsa_lib.graph.schema import ARN, KEY_EVIDENCE, MECHANISM, SECRET_TYPES, SUBJECT_TYPES, WRITE_MECHANISMS
from irsa_lib.snapshot import Snapshot

CASES = {"tiny": lambda: generate("tiny", seed=3), "deep-chains": lambda: generate_shape("deep-chains-48"),
         "hub": lambda: generate_shape("hub-24")}  # fmt: skip


@pytest.fixture(scope="module", params=sorted(CASES))
def graph(request: pytest.FixtureRequest) -> AccessGraph:
    snap: Snapshot = CASES[request.param]()
    return build_graph(snap)


def _walk(graph: AccessGraph, nodes: Sequence[str], mechanisms: Sequence[str]) -> None:
    """Each hop is an edge of the graph with the mechanism the path names (never a write edge)."""
    assert len(mechanisms) == len(nodes) - 1
    for (u, v), mechanism in zip(itertools.pairwise(nodes), mechanisms, strict=True):
        found = {str(d[MECHANISM]) for d in (graph.graph.get_edge_data(u, v) or {}).values()}
        assert mechanism in found, f"{u} -> {v} has no {mechanism} edge (has {sorted(found)})"
        assert mechanism not in {str(m) for m in WRITE_MECHANISMS}


def _check(graph: AccessGraph, p: AccessPath) -> None:
    _walk(graph, p.nodes, p.mechanisms)
    assert graph.type_of(p.nodes[-1]) in SECRET_TYPES
    assert len(set(p.nodes)) == len(p.nodes)  # simple


def test_every_access_row_walks_real_edges(graph: AccessGraph) -> None:
    rows = effective_access(graph)
    assert rows
    for r in rows:
        _walk(graph, r.nodes, r.mechanisms)
        assert graph.node(r.nodes[-1])[ARN] == r.secret_arn


def test_who_can_read_names_each_reader_once_with_a_real_shortest_path(graph: AccessGraph) -> None:
    values = sorted(v for v in graph.nodes_of(*SECRET_TYPES) if graph.graph.in_degree(v))
    assert values
    reading = nx.subgraph_view(
        graph.graph, filter_edge=lambda u, v, k: graph.graph.edges[u, v, k][MECHANISM] not in WRITE_MECHANISMS
    )
    for v in values[:: max(1, len(values) // 40)]:
        paths = list(who_can_read(graph, v))
        subjects = [p.subject for p in paths]
        assert len(subjects) == len(set(subjects))
        assert [len(p.nodes) for p in paths] == sorted(len(p.nodes) for p in paths)
        for p in paths:
            _check(graph, p)
            assert p.target == v and graph.type_of(p.subject) in SUBJECT_TYPES
            assert nx.shortest_path_length(reading, p.subject, v) == len(p.nodes) - 1  # none shorter


def test_what_can_read_and_explain_paths_walk_real_edges(graph: AccessGraph) -> None:
    subjects = sorted({r.nodes[0] for r in effective_access(graph)})
    for s in subjects[:: max(1, len(subjects) // 20)]:
        reached = list(what_can_read(graph, s))
        assert len({p.target for p in reached}) == len(reached)
        for p in reached:
            _check(graph, p)
        if reached:
            more = list(explain_paths(graph, s, reached[-1].target, limits=PathLimits(max_paths=5)))
            assert more and len({p.nodes for p in more}) == len(more)
            assert [len(p.nodes) for p in more] == sorted(len(p.nodes) for p in more)
            for p in more:
                _check(graph, p)


def test_every_row_is_a_whole_access_row(graph: AccessGraph) -> None:
    """The table's rows are made without the dataclass's __init__ (a third of the time): each has every
    field, and equals the row the constructor makes from the same fields."""
    from dataclasses import fields

    from irsa_lib.access import AccessRow

    names = [f.name for f in fields(AccessRow)]
    rows = effective_access(graph)
    assert rows
    for row in rows:
        assert sorted(vars(row)) == sorted(names)
        assert AccessRow(**vars(row)) == row


def test_a_rows_last_edge_joined_directly_is_the_whole_path_made_again(graph: AccessGraph) -> None:
    """The row of a value joins its last edge to the parts before it without keeping the value's own
    parts; each row's path equals the one made hop by hop (:func:`_extend`) with the key hop added by
    :func:`_hops_with_key` (and, for the value's own key, by :func:`_with_key` itself), over every
    subject and value of the graph, with key labels made to equal the hop before the key or the value's
    own label too (the cases joined the long way)."""
    from irsa_lib.access import (
        _best_paths,
        _extend,
        _hops_with_key,
        _key_hop,
        _row_path,
        _start_nodes,
        _subjects,
        _with_key,
    )

    cache: dict[int, object] = {}
    checked = 0
    for subject in _subjects(graph):
        for target, reached in _best_paths(graph, _start_nodes(graph, subject)).items():
            key = _key_hop(graph, target)
            keys = [key] if key is None else [key, (key[0], reached[1][3][-1]), (key[0], graph.label(target))]
            for k in keys:
                got = _row_path(graph, reached, target, k, cache)  # type: ignore[arg-type]
                before, data = reached[1], reached[2]
                whole = before if data is None else _extend(graph, before, target, data, cache)  # type: ignore[arg-type]
                assert got[:2] == whole[:2] and got[4:] == whole[4:]
                assert got[2:4] == _hops_with_key(graph, whole, k)
                if k == key and k is not None and whole[1] and KEY_EVIDENCE in whole[1][-1]:
                    assert got[2:4] == _with_key(graph, whole[0], whole[1], whole[2], whole[3])
                checked += 1
    assert checked > 100
