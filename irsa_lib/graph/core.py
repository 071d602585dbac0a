"""The AccessGraph container: typed nodes and keyed edges, plus what the inputs could not show.

Builders add nodes and edges only through :meth:`AccessGraph.add_node` and
:meth:`AccessGraph.add_edge`, so every node has a type and a label and every edge the attributes
listed in :mod:`irsa_lib.graph.schema`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from irsa_lib.graph.schema import (
    LABEL,
    MECHANISM,
    TYPE,
    EdgeData,
    Mechanism,
    NodeType,
)

if TYPE_CHECKING:
    import networkx as nx

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
    """Typed nodes and evidence-carrying edges, held as networkx 3 holds a ``MultiDiGraph``: ``_node``
    (node -> attributes), ``_succ`` / ``_pred`` (u -> v -> key -> attributes, and v -> u -> the same
    key dicts). ``graph`` is a ``networkx.MultiDiGraph`` over those very dicts, made on first use, for
    the views that run networkx's algorithms: the analysis itself never imports networkx (70 ms of
    every command's start)."""

    def __init__(self) -> None:
        self._node: dict[str, dict[str, Any]] = {}
        self._succ: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self._pred: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self._nx: nx.MultiDiGraph | None = None
        self._gaps: list[Gap] = []
        self.evaluations = 0
        """Policy evaluations made while building (for benchmarks)."""
        self.write_edges = True
        """False when built without the edges that overwrite a value (``build_graph(writes=False)``, for
        views that only read): who/what-can-write then refuse the graph rather than answer "nobody"."""
        self._version = 0
        self._memo: dict[str, tuple[tuple[int, int], Any]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """The graph as pickled (:mod:`irsa_lib.cache`): plain dicts, without its derived structures
        and networkx view, rebuilt on use."""
        return {**self.__dict__, "_memo": {}, "_nx": None}

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The graph as a ``networkx.MultiDiGraph`` sharing this graph's dicts (a change through either
        is seen by both). It relies on networkx 3's attribute names, which pyproject.toml pins."""
        if self._nx is None:
            import networkx as nx

            view = nx.MultiDiGraph()
            view._node, view._pred = self._node, self._pred
            view._succ = view._adj = self._succ
            self._nx = view
        return self._nx

    # --- building -----------------------------------------------------------------------------
    def add_node(self, node: str, type_: NodeType, label: str, **attrs: Any) -> str:
        """Add (or enrich) a node; the first type given wins, later attributes are merged."""
        self._version += 1
        current = self._node.get(node)
        if current is not None:
            for k, v in attrs.items():
                current.setdefault(k, v)
            return node
        self._node[node] = {TYPE: type_, LABEL: label, **attrs}
        self._succ[node] = {}
        self._pred[node] = {}
        return node

    def add_edge(self, u: str, v: str, data: EdgeData, *, key: str | None = None) -> None:
        """Add an edge; ``key`` (default: the mechanism) keeps one edge per mechanism and qualifier."""
        self.add_edges_from(u, ((v, data.attrs()),), key=key or str(data.mechanism))

    def add_edges_from(self, u: str, edges: Iterable[tuple[str, dict[str, Any]]], *, key: str) -> None:
        """Add edges ``u -> v`` under one ``key``, each with the attributes given (a dict made by
        :meth:`EdgeData.attrs`, copied onto the graph; an edge already there has them merged in, as
        ``MultiDiGraph.add_edge`` does): many edges of one origin at once."""
        succ, pred = self._succ, self._pred
        out = succ.get(u)
        if out is None:
            raise KeyError(f"edges from {u}: node {u} was not added first")
        self._version += 1
        for v, attrs in edges:
            if v not in succ:
                raise KeyError(f"edge {u} -> {v}: node {v} was not added first")
            keydict = out.get(v)
            if keydict is None:
                keydict = out[v] = pred[v][u] = {}
            datadict = keydict.get(key)
            if datadict is None:
                datadict = keydict[key] = {}
            datadict.update(attrs)
        if self._nx is not None:  # networkx's own cache of derived graphs is stale now
            getattr(self._nx, "__networkx_cache__", {}).clear()

    def add_gap(self, gap: Gap) -> None:
        if gap not in self._gaps:
            self._gaps.append(gap)

    # --- reading ------------------------------------------------------------------------------
    def memo(self, name: str, build: Callable[[], T]) -> T:
        """A derived structure (a query view, an index), built once and rebuilt after the graph changes.

        ``add_node`` / ``add_edge`` (the only writers) bump the version; counting edges would cost a
        pass over the whole graph on every query.
        """
        sig = (self._version, len(self._node))
        hit = self._memo.get(name)
        if hit is not None and hit[0] == sig:
            return cast(T, hit[1])
        value = build()
        self._memo[name] = (sig, value)
        return value

    def memoized(self, name: str) -> Any | None:
        """What :meth:`memo` holds under ``name`` for the graph as it is, or None (nothing is built)."""
        hit = self._memo.get(name)
        return hit[1] if hit is not None and hit[0] == (self._version, len(self._node)) else None

    @property
    def gaps(self) -> tuple[Gap, ...]:
        """What could not be decided: rows touching a gap are marked incomplete."""
        return tuple(self._gaps)

    def node(self, node: str) -> dict[str, Any]:
        """The node's attributes (the graph's own dict: a change to it is a change to the graph)."""
        return self._node[node]

    def type_of(self, node: str) -> NodeType:
        t = self._node[node][TYPE]
        return t if isinstance(t, NodeType) else NodeType(t)

    def nodes_of(self, *types: NodeType) -> list[str]:
        wanted = set(types)
        return [n for n, attrs in self._node.items() if attrs.get(TYPE) in wanted]

    def edges(
        self, u: str | None = None, *, mechanism: Mechanism | None = None
    ) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """``(u, v, key, attrs)`` for every edge (out of ``u`` when given), optionally of one mechanism,
        in the graph's order (nodes as added, then each node's successors and keys as added)."""
        for a, near in self._succ.items() if u is None else ((u, self._succ[u]),):
            for b, keys in near.items():
                for k, d in keys.items():
                    if mechanism is None or d[MECHANISM] == mechanism:
                        yield a, b, k, d

    def in_edges(self, v: str) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """``(u, v, key, attrs)`` for every edge into ``v``, predecessors in the order their first edge
        into ``v`` was added."""
        for a, keys in self._pred[v].items():
            for k, d in keys.items():
                yield a, v, k, d

    def edge(self, u: str, v: str, key: str) -> dict[str, Any]:
        """The attributes of the edge ``u -> v`` under ``key`` (KeyError when there is none)."""
        return self._succ[u][v][key]

    def has_out_edges(self, node: str) -> bool:
        return bool(self._succ[node])

    def number_of_nodes(self) -> int:
        return len(self._node)

    def number_of_edges(self) -> int:
        return sum(len(keys) for near in self._succ.values() for keys in near.values())

    def descendants(self, node: str) -> set[str]:
        """Every node other than ``node`` reachable from it, whatever the edges' decisions (what
        ``networkx.descendants`` answers)."""
        seen: set[str] = set()
        todo = [node]
        while todo:
            for v in self._succ[todo.pop()]:
                if v not in seen:
                    seen.add(v)
                    todo.append(v)
        seen.discard(node)
        return seen

    def label(self, node: str) -> str:
        return str(self.node(node).get(LABEL, node))

    def __contains__(self, node: object) -> bool:
        try:
            return node in self._node
        except TypeError:  # not hashable: no node, as networkx answers
            return False

    def __repr__(self) -> str:
        return f"AccessGraph({self.number_of_nodes()} nodes, {self.number_of_edges()} edges, {len(self._gaps)} gaps)"
