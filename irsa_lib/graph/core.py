"""The AccessGraph container: a typed ``networkx.MultiDiGraph`` plus what the inputs could not show.

Builders add nodes and edges only through :meth:`AccessGraph.add_node` and
:meth:`AccessGraph.add_edge`, so every node has a type and a label and every edge the attributes
listed in :mod:`irsa_lib.graph.schema`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import networkx as nx

from irsa_lib.graph.schema import (
    LABEL,
    MECHANISM,
    TYPE,
    EdgeData,
    Mechanism,
    NodeType,
)

T = TypeVar("T")
GapReach = Literal["k8s-secret", "rbac"]


@dataclass(frozen=True, kw_only=True)
class Gap:
    """Something the graph could not decide because an input was not collected or is unknown.

    A gap names its scope so queries can mark exactly the rows it touches: an AWS account (and
    region), a cluster, or one node (a key whose policy could not be read). ``reach`` narrows a
    cluster gap to the rows it can change: ``k8s-secret`` (a Kubernetes Secret listing: only paths
    through a Kubernetes Secret), ``rbac`` (roles / bindings: RBAC only adds ``potential`` edges, so
    only potential or conditional rows could change; an allowed direct or via-controller row cannot).
    """

    what: str
    account_id: str | None = None
    region: str | None = None
    cluster: str | None = None
    node: str | None = None
    reach: GapReach | None = None

    def touches(
        self,
        *,
        clusters: set[str],
        accounts: set[tuple[str, str]],
        nodes: set[str],
        through_k8s_secret: bool = True,
        settled: bool = False,
    ) -> bool:
        """True when this gap concerns a row over these clusters, (account, region) pairs and nodes.

        ``through_k8s_secret``: the row's path crosses a Kubernetes Secret. ``settled``: the row is
        allowed and not potential (no RBAC edge could improve it). The defaults are conservative.
        """
        if self.node is not None:
            return self.node in nodes
        if self.cluster is not None:
            if self.reach == "k8s-secret" and not through_k8s_secret:
                return False
            if self.reach == "rbac" and settled:
                return False
            return self.cluster in clusters
        if self.account_id is not None:
            return any(
                acct == self.account_id and (self.region in (None, "global") or self.region == region)
                for acct, region in accounts
            )
        return True


class AccessGraph:
    """Typed nodes and evidence-carrying edges; ``graph`` is the underlying MultiDiGraph."""

    def __init__(self) -> None:
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self._gaps: list[Gap] = []
        self.evaluations = 0
        """Policy evaluations made while building (for benchmarks)."""
        self.write_edges = True
        """False when built without the edges that overwrite a value (``build_graph(writes=False)``, for
        views that only read): who/what-can-write then refuse the graph rather than answer "nobody"."""
        self._version = 0
        self._memo: dict[str, tuple[tuple[int, int], Any]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """The graph as pickled (:mod:`irsa_lib.cache`): without its derived structures, rebuilt on use."""
        return {**self.__dict__, "_memo": {}}

    # --- building -----------------------------------------------------------------------------
    def add_node(self, node: str, type_: NodeType, label: str, **attrs: Any) -> str:
        """Add (or enrich) a node; the first type given wins, later attributes are merged."""
        self._version += 1
        if node in self.graph:
            current = self.graph.nodes[node]
            for k, v in attrs.items():
                current.setdefault(k, v)
            return node
        self.graph.add_node(node, **{TYPE: type_, LABEL: label, **attrs})
        return node

    def add_edge(self, u: str, v: str, data: EdgeData, *, key: str | None = None) -> None:
        """Add an edge; ``key`` (default: the mechanism) keeps one edge per mechanism and qualifier."""
        self.add_edges_from(u, ((v, data.attrs()),), key=key or str(data.mechanism))

    def add_edges_from(self, u: str, edges: Iterable[tuple[str, dict[str, Any]]], *, key: str) -> None:
        """Add edges ``u -> v`` under one ``key``, each with the attributes given (a dict made by
        :meth:`EdgeData.attrs`, copied onto the graph): many edges of one origin at once.

        What ``MultiDiGraph.add_edge`` does for nodes that exist, done on its adjacency dicts (networkx 3,
        which pyproject.toml pins): its keyword arguments and checks cost more than the edge itself, and
        an organisation's graph has hundreds of thousands of edges."""
        g = self.graph
        succ, pred = g._succ, g._pred
        out = succ.get(u)
        if out is None:
            raise KeyError(f"edges from {u}: node {u} was not added first")
        self._version += 1
        for v, attrs in edges:
            if v not in succ:
                raise KeyError(f"edge {u} -> {v}: node {v} was not added first")
            keydict = out.get(v)
            if keydict is None:
                keydict = out[v] = pred[v][u] = g.edge_key_dict_factory()
            datadict = keydict.get(key)
            if datadict is None:
                datadict = g.edge_attr_dict_factory()
            datadict.update(attrs)
            keydict[key] = datadict
        nx._clear_cache(g)

    def add_gap(self, gap: Gap) -> None:
        if gap not in self._gaps:
            self._gaps.append(gap)

    # --- reading ------------------------------------------------------------------------------
    def memo(self, name: str, build: Callable[[], T]) -> T:
        """A derived structure (a query view, an index), built once and rebuilt after the graph changes.

        ``add_node`` / ``add_edge`` (the only writers) bump the version; counting edges would cost a
        pass over the whole graph on every query.
        """
        sig = (self._version, self.graph.number_of_nodes())
        hit = self._memo.get(name)
        if hit is not None and hit[0] == sig:
            return cast(T, hit[1])
        value = build()
        self._memo[name] = (sig, value)
        return value

    @property
    def gaps(self) -> tuple[Gap, ...]:
        """What could not be decided: rows touching a gap are marked incomplete."""
        return tuple(self._gaps)

    def node(self, node: str) -> dict[str, Any]:
        # networkx's own attribute dict (the private ``_node``, stable within networkx 3, which
        # pyproject.toml pins): the public ``nodes[node]`` costs a view call that, on the hot lookups
        # of node() and type_of(), made the whole analysis of the small benchmark 5-8 % slower
        attrs: dict[str, Any] = self.graph._node[node]
        return attrs

    def type_of(self, node: str) -> NodeType:
        t = self.graph._node[node][TYPE]
        return t if isinstance(t, NodeType) else NodeType(t)

    def nodes_of(self, *types: NodeType) -> list[str]:
        wanted = set(types)
        return [n for n, t in self.graph.nodes(data=TYPE) if t in wanted]

    def edges(
        self, u: str | None = None, *, mechanism: Mechanism | None = None
    ) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """``(u, v, key, attrs)`` for every edge (out of ``u`` when given), optionally of one mechanism."""
        it = self.graph.out_edges(u, keys=True, data=True) if u is not None else self.graph.edges(keys=True, data=True)
        for a, b, k, d in it:
            if mechanism is None or d[MECHANISM] == mechanism:
                yield a, b, k, d

    def label(self, node: str) -> str:
        return str(self.node(node).get(LABEL, node))

    def __contains__(self, node: object) -> bool:
        return node in self.graph

    def __repr__(self) -> str:
        return (
            f"AccessGraph({self.graph.number_of_nodes()} nodes, {self.graph.number_of_edges()} edges, "
            f"{len(self._gaps)} gaps)"
        )
