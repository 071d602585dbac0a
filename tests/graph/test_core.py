"""The access graph's own container: its writers make the edges networkx's own ``add_edge`` makes (same
order, keys and attributes), its readers answer what networkx answers on the same graph, and its
networkx view shares its dicts."""

from __future__ import annotations

import networkx as nx
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


def _both() -> tuple[AccessGraph, nx.MultiDiGraph]:
    """One graph built twice: through AccessGraph, and through networkx's own methods alone."""
    ours, theirs = AccessGraph(), nx.MultiDiGraph()
    for n in ("a", "b", "c", "d", "e", "lone"):
        ours.add_node(n, NodeType.IAM_ROLE, n.upper())
        theirs.add_node(n, type=NodeType.IAM_ROLE, label=n.upper())
    edges = [("c", "a", "k1"), ("a", "b", "k1"), ("a", "c", "k2"), ("a", "b", "k2"), ("b", "d", "k1"),
             ("d", "a", "k1"), ("e", "a", "k1"), ("a", "a", "k1"), ("b", "d", "k3")]  # fmt: skip
    for i, (u, v, k) in enumerate(edges):
        data = EdgeData(mechanism=Mechanism.ASSUME_ROLE, decision="allow", evidence=(str(i),))
        ours.add_edge(u, v, data, key=k)
        theirs.add_edge(u, v, key=k, **data.attrs())
    return ours, theirs


def test_the_graphs_readers_answer_what_networkx_answers() -> None:
    ours, theirs = _both()
    assert list(ours.edges()) == list(theirs.edges(keys=True, data=True))
    for n in theirs:
        assert list(ours.edges(n)) == list(theirs.out_edges(n, keys=True, data=True))
        assert list(ours.in_edges(n)) == list(theirs.in_edges(n, keys=True, data=True))
        assert ours.descendants(n) == nx.descendants(theirs, n)
        assert ours.has_out_edges(n) == bool(theirs.out_degree(n))
        assert ours.node(n) == theirs.nodes[n]
    assert ours.edge("b", "d", "k3") == theirs.edges["b", "d", "k3"]
    assert (ours.number_of_nodes(), ours.number_of_edges()) == (theirs.number_of_nodes(), theirs.number_of_edges())
    assert ("a" in ours, "zz" in ours, ["unhashable"] in ours) == (True, False, False)
    assert ours.descendants("lone") == set() and "a" not in ours.descendants("e") - {"a"} | {"e"}


def test_the_networkx_view_shares_the_graphs_dicts_both_ways() -> None:
    ours, theirs = _both()
    view = ours.graph
    assert view is ours.graph  # made once
    assert list(view.edges(keys=True, data=True)) == list(theirs.edges(keys=True, data=True))
    assert nx.has_path(view, "e", "d") and view.in_degree("a") == theirs.in_degree("a")
    ours.add_node("f", NodeType.IAM_ROLE, "F")  # written through the graph after the view was made ...
    ours.add_edge("d", "f", EdgeData(mechanism=Mechanism.ASSUME_ROLE, decision="allow"))
    assert "f" in view and nx.has_path(view, "e", "f")  # ... is in the view
    view.add_edge("f", "lone", key="k9", mechanism=Mechanism.ASSUME_ROLE)  # and through the view ...
    assert list(ours.edges("f")) == [("f", "lone", "k9", {"mechanism": Mechanism.ASSUME_ROLE})]  # ... in the graph
    assert "lone" in ours.descendants("e")


def test_a_pickled_graph_holds_no_networkx_object_and_reads_back_whole() -> None:
    import pickle
    import pickletools

    ours, _ = _both()
    _ = ours.graph  # a view made before pickling is not kept
    blob = pickle.dumps(ours, protocol=pickle.HIGHEST_PROTOCOL)
    assert not [arg for op, arg, _ in pickletools.genops(blob) if isinstance(arg, str) and "networkx" in arg]
    back = pickle.loads(blob)
    assert list(back.edges()) == list(ours.edges()) and back.gaps == ours.gaps
    assert list(back.graph.edges(keys=True, data=True)) == list(ours.edges())


def test_memoized_tells_what_memo_holds_for_the_graph_as_it_is() -> None:
    ours, _ = _both()
    assert ours.memoized("x") is None
    made = ours.memo("x", lambda: ["made"])
    assert ours.memoized("x") is made and ours.memo("x", lambda: ["again"]) is made
    ours.add_edge("a", "d", EdgeData(mechanism=Mechanism.ASSUME_ROLE, decision="allow"))
    assert ours.memoized("x") is None  # the graph changed: nothing is held for it
