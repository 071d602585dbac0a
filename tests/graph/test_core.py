"""The access graph's own writers: many edges of one origin at once are the edges networkx's own
``add_edge`` makes, in the same order, keys and attributes."""

from __future__ import annotations

import pytest

from irsa_lib.graph import AccessGraph, EdgeData, Mechanism, NodeType


def _graph() -> AccessGraph:
    g = AccessGraph()
    for n in ("a", "b", "c", "d"):
        g.add_node(n, NodeType.IAM_ROLE, n)
    return g


def test_many_edges_at_once_are_the_edges_add_edge_makes() -> None:
    batches = [
        ("a", "k1", [("b", {"x": 1}), ("c", {"x": 2}), ("a", {"loop": True})]),
        ("a", "k2", [("b", {"x": 3}), ("d", {"x": 4})]),
        ("a", "k1", [("b", {"x": 5, "y": 6}), ("d", {"x": 7})]),  # an existing key: its data updated in place
        ("c", "k1", [("b", {"x": 8})]),
    ]
    fast, slow = _graph(), _graph()
    for u, key, edges in batches:
        fast.add_edges_from(u, [(v, dict(attrs)) for v, attrs in edges], key=key)
        for v, attrs in edges:
            slow.graph.add_edge(u, v, key=key, **attrs)
    for u, v, key in (("d", "a", None), ("d", "a", "q"), ("d", "a", None), ("b", "b", None)):
        data = EdgeData(mechanism=Mechanism.ASSUME_ROLE, decision="allow", evidence=(f"{u}{v}{key}",))
        fast.add_edge(u, v, data, key=key)  # one edge: the same writer
        slow.graph.add_edge(u, v, key=key or str(data.mechanism), **data.attrs())

    def shape(g: AccessGraph) -> object:
        nx_graph = g.graph
        return (
            list(nx_graph.edges(keys=True, data=True)),
            {n: list(nx_graph.pred[n].items()) for n in nx_graph},
            {n: list(nx_graph.succ[n].items()) for n in nx_graph},
        )

    assert shape(fast) == shape(slow)
    assert fast.graph._succ["a"]["b"] is fast.graph._pred["b"]["a"]  # one key dict, shared as networkx shares it
    given = {"x": 9}
    fast.add_edges_from("c", [("d", given)], key="k3")
    given["x"] = 10
    assert fast.graph["c"]["d"]["k3"] == {"x": 9}  # the attributes are copied onto the graph


def test_an_edge_to_a_node_not_added_is_refused() -> None:
    g = _graph()
    with pytest.raises(KeyError, match="node e was not added first"):
        g.add_edges_from("a", [("b", {}), ("e", {})], key="k")
    with pytest.raises(KeyError, match="edges from e"):
        g.add_edges_from("e", [("a", {})], key="k")
    with pytest.raises(KeyError, match="edge a -> e: node e was not added first"):
        g.add_edge("a", "e", EdgeData(mechanism=Mechanism.ASSUME_ROLE, decision="allow"))
