"""Effective access: which subject can read which secret value, how, and how sure we are.

Queries over an :class:`~irsa_lib.graph.AccessGraph`:

* :func:`effective_access` -- one :class:`AccessRow` per (subject, value), the best path first;
* :func:`who_can_read` / :func:`what_can_read` -- every subject (value) with one shortest witness
  path each, shortest first, lazily;
* :func:`who_can_write` / :func:`what_can_write` -- the same for overwriting a value (ESO PushSecret,
  poisoning): paths ending in a write edge (:data:`~irsa_lib.graph.schema.WRITE_MECHANISMS`), which
  reading never follows;
* :func:`explain_paths` -- more paths between one subject and one value, on demand (k-shortest).

A path is classified by its edges: ``potential`` if any edge needs an RBAC capability or a
not-yet-existing object; else ``via-controller`` if it passes through a Kubernetes Secret a
controller materialised; else ``direct`` (the subject's own AWS identity). Its decision is
``conditional`` if any edge is conditional (the union of the unresolved keys is kept), else
``allow``. A row whose path touches a coverage gap (an account, cluster or key that could not be
read) is marked ``complete=False`` and lists the gaps in ``unknown``.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import TYPE_CHECKING, Any, Literal, cast

from irsa_lib.collector import paused
from irsa_lib.errors import UsageError
from irsa_lib.graph import build_graph
from irsa_lib.graph.core import AccessGraph, Gap
from irsa_lib.graph.nodes import key_label_of
from irsa_lib.graph.schema import (
    ACCOUNT,
    ARN,
    CLUSTER,
    DECISION,
    EDGE_DECISIONS,
    KEY_EVIDENCE,
    KMS_KEY_ALIAS,
    KMS_KEY_ARN,
    KMS_KEY_MANAGER,
    MECHANISM,
    MISSING,
    NAME,
    NAMESPACE,
    PARAMETER_TYPE,
    REGION,
    SECRET_TYPES,
    SUBJECT_TYPES,
    UNRESOLVED_KEYS,
    VIA,
    WRITE_MECHANISMS,
    Mechanism,
    NodeType,
    key_id,
    param_id,
    secret_id,
)
from irsa_lib.subjects import display_row

__all__ = [
    "ACCESS_KINDS",
    "PATH_LIMITS",
    "ROWS_MEMO",
    "ROW_DECISIONS",
    "AccessPath",
    "AccessRow",
    "PathLimits",
    "build_graph",
    "cluster_rows",
    "effective_access",
    "explain_paths",
    "relevant_gaps",
    "row_order",
    "select_rows",
    "subject_clusters",
    "subject_fields",
    "value_reach",
    "what_can_read",
    "what_can_write",
    "who_can_read",
    "who_can_write",
]

Access = Literal["direct", "via-controller", "potential"]
RowDecision = Literal["allow", "conditional"]
ACCESS_KINDS: tuple[Access, ...] = ("direct", "via-controller", "potential")
"""Every row access kind, most direct first (a row keeps the most direct of its paths)."""
ROW_DECISIONS = cast("tuple[RowDecision, ...]", EDGE_DECISIONS[:2])
"""Every row decision, strongest first: allow and conditional (a path needing RBAC is ``potential`` access)."""


if TYPE_CHECKING:  # networkx only for the k-shortest paths of explain_paths, imported there
    import networkx as nx


@dataclass(frozen=True)
class PathLimits:
    """How far the path queries look: at most ``max_paths`` answers (every one when None), each a path
    of at most ``cutoff`` edges."""

    max_paths: int | None = None
    cutoff: int = 12


PATH_LIMITS = PathLimits()
"""The limits of :func:`who_can_read` and the other path queries unless a caller gives its own."""
_SUBJECT_KIND = {
    NodeType.SERVICE_ACCOUNT: "ServiceAccount",
    NodeType.ANY_SERVICE_ACCOUNT: "AnyServiceAccount",
    NodeType.WORKLOAD: "Workload",
}


SecretKind = Literal["ssm-parameter", "ssm-string-parameter", "secretsmanager-secret"]


def _secret_kind(graph: AccessGraph, node: str) -> SecretKind:
    if graph.type_of(node) == NodeType.SECRETSMANAGER_SECRET:
        return "secretsmanager-secret"
    return (
        "ssm-parameter"
        if graph.node(node).get(PARAMETER_TYPE, "SecureString") == "SecureString"
        else "ssm-string-parameter"
    )


@dataclass(frozen=True, kw_only=True)
class AccessRow:
    """One subject that can read one secret value (the best path; see the module docstring)."""

    cluster: str
    namespace: str | None
    service_account: str
    """The service account name; ``*`` for "any service account someone could create"; the user or
    group name for other RBAC subjects; for a kubelet (``subject_kind`` ``Node``) the node name, or
    ``*`` for "the node running the pod" (see ``subject_kind``)."""
    secret_arn: str
    secret_name: str
    secret_kind: SecretKind
    """``ssm-string-parameter``: a String / StringList parameter, returned in plain text (no KMS leg)."""
    access: Access
    decision: RowDecision
    path: tuple[str, ...]
    """Readable hops, controller chains included."""
    mechanisms: tuple[str, ...]
    unresolved_keys: tuple[str, ...] = ()
    complete: bool = True
    unknown: tuple[str, ...] = ()
    """The coverage gaps this row's path touches (then ``complete`` is False)."""
    subject_kind: str = "ServiceAccount"
    nodes: tuple[str, ...] = ()
    """Node ids of the path, for views that link back into the graph."""
    hop_nodes: tuple[str, ...] = ()
    """Node ids of ``path``, one per hop (controller chains included; the key as ``key:<arn>``)."""
    kms_key_arn: str = ""
    """The value's KMS key (the ARN it is evaluated as); ``path`` names it before the value."""
    kms_key_alias: str = ""
    kms_key_manager: str = ""
    """``AWS`` (``aws/ssm``, ``aws/secretsmanager``), ``CUSTOMER``, or ``unknown`` (key not in the snapshot)."""

    @property
    def subject(self) -> str:
        """The subject as every view writes it (:func:`irsa_lib.subjects.display`)."""
        return display_row(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "cluster": self.cluster,
            "namespace": self.namespace,
            "service_account": self.service_account,
            "subject_kind": self.subject_kind,
            "secret_arn": self.secret_arn,
            "secret_name": self.secret_name,
            "secret_kind": self.secret_kind,
            "kms_key_arn": self.kms_key_arn,
            "kms_key_alias": self.kms_key_alias,
            "kms_key_manager": self.kms_key_manager,
            "access": self.access,
            "decision": self.decision,
            "path": list(self.path),
            "mechanisms": list(self.mechanisms),
            "unresolved_keys": list(self.unresolved_keys),
            "complete": self.complete,
            "unknown": list(self.unknown),
        }


@dataclass(frozen=True, kw_only=True)
class AccessPath:
    """One path from a subject to a secret value."""

    nodes: tuple[str, ...]
    edges: tuple[dict[str, Any], ...]
    access: Access
    decision: RowDecision
    hops: tuple[str, ...]
    hop_nodes: tuple[str, ...]
    """Node ids of ``hops``, one each (controller chains included; the key as ``key:<arn>``)."""
    mechanisms: tuple[str, ...]
    unresolved_keys: tuple[str, ...]

    @property
    def subject(self) -> str:
        return self.nodes[0]

    @property
    def target(self) -> str:
        return self.nodes[-1]


# --- classification --------------------------------------------------------------------------
def _edge_class(data: dict[str, Any]) -> tuple[int, int]:
    if data[DECISION] == "potential":  # an RBAC capability, or a trust whose own answer may be conditional
        return 2, 1 if data[UNRESOLVED_KEYS] or data.get(MISSING) else 0
    cls = 1 if data[MECHANISM] == Mechanism.MATERIALISED_FROM else 0
    return cls, 1 if data[DECISION] == "conditional" else 0


Hop = tuple[int, int, tuple[str, ...], tuple[str, ...], str, tuple[str, ...]]
"""What one edge adds to a path: its class and decision rank, its via nodes and its target, their
labels, its mechanism, its unresolved keys."""


def _hop(graph: AccessGraph, v: str, data: dict[str, Any], cache: dict[int, Hop]) -> Hop:
    """An edge's part of a path, worked out once per edge (``cache``: by the edge's data dict)."""
    hit = cache.get(id(data))
    if hit is None:
        c, d = _edge_class(data)
        ids = (*data.get(VIA, ()), v)
        labels = tuple(graph.label(x) for x in ids)
        hit = cache[id(data)] = (c, d, ids, labels, str(data[MECHANISM]), tuple(data[UNRESOLVED_KEYS]))
    return hit


def _path(graph: AccessGraph, nodes: list[str], edges: list[dict[str, Any]]) -> AccessPath:
    cache: dict[int, Hop] = graph.memo("path-hops", dict)
    cls = dec = 0
    ids = [nodes[0]]
    hops = [graph.label(nodes[0])]
    mechanisms: list[str] = []
    unresolved: list[str] = []
    for v, data in zip(nodes[1:], edges, strict=True):
        c, d, hop_ids, labels, mechanism, keys = _hop(graph, v, data, cache)
        cls, dec = max(cls, c), max(dec, d)
        ids.extend(hop_ids)
        hops.extend(labels)
        mechanisms.append(mechanism)
        unresolved.extend(k for k in keys if k not in unresolved)
    hop_nodes, labels = _with_key(graph, nodes, edges, ids, hops)
    return AccessPath(
        nodes=tuple(nodes),
        edges=tuple(edges),
        access=ACCESS_KINDS[cls],
        decision=ROW_DECISIONS[dec],
        hops=labels,
        hop_nodes=hop_nodes,
        mechanisms=tuple(mechanisms),
        unresolved_keys=tuple(unresolved),
    )


def _with_key(
    graph: AccessGraph, nodes: Sequence[str], edges: Sequence[dict[str, Any]], ids: Sequence[str], hops: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A path's hop nodes and labels with the value's KMS key before the value (decrypting is a hop of
    its own; a plaintext parameter has none), a hop repeating the one before it dropped."""
    ids, hops = list(ids), list(hops)
    key = _key_hop(graph, nodes[-1]) if nodes else None
    if key is not None and edges and KEY_EVIDENCE in edges[-1]:
        hops.insert(len(hops) - 1, key[1])
        ids.insert(len(ids) - 1, key[0])
    if all(hops[i] != hops[i - 1] for i in range(1, len(hops))):
        return tuple(ids), tuple(hops)
    keep = [i for i, h in enumerate(hops) if i == 0 or h != hops[i - 1]]
    return tuple(ids[i] for i in keep), tuple(hops[i] for i in keep)


def _key_hop(graph: AccessGraph, node: str) -> tuple[str, str] | None:
    """(node id, label) of the KMS key hop before a value node (None: not a value, or no key), worked
    out once per value and graph."""
    known: dict[str, tuple[str, str] | None] = graph.memo("key-hops", dict)
    if node not in known:
        value = graph.node(node) if graph.type_of(node) in SECRET_TYPES else {}
        arn = value.get(KMS_KEY_ARN)
        known[node] = (key_id(str(arn)), key_label_of(value)) if arn else None
    return known[node]


# --- rows ------------------------------------------------------------------------------------
def _start_nodes(graph: AccessGraph, subject: str) -> list[str]:
    """A service account acts through itself and through the workloads that run as it."""
    starts = [subject]
    if graph.type_of(subject) == NodeType.SERVICE_ACCOUNT:
        for u, _, _, d in graph.in_edges(subject):
            if d[MECHANISM] == Mechanism.RUNS_AS:
                starts.append(u)
    return starts


def _row_adjacency(graph: AccessGraph) -> tuple[frozenset[str], dict[str, list[tuple[str, dict[str, Any], int, int]]]]:
    """The value nodes, and each node's reading edges (never a write) with their class and decision
    rank, in the graph's own order: what every row search walks, worked out once per graph."""
    adjacency: dict[str, list[tuple[str, dict[str, Any], int, int]]] = {}
    for u, v, _, data in graph.edges():
        if data[MECHANISM] not in WRITE_MECHANISMS:
            adjacency.setdefault(u, []).append((v, data, *_edge_class(data)))
    return frozenset(graph.nodes_of(*SECRET_TYPES)), adjacency


Prefix = tuple[
    tuple[str, ...],
    tuple[dict[str, Any], ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
]
"""A path's nodes, edges, hop nodes and their readable labels (never one label twice in a row),
mechanisms, unresolved keys, and the inputs its edges say are missing (each once, in path order)."""


State = tuple[str, int, int]
"""A row search's state: a node, and the class and decision rank of the path that reached it."""


def _prefix(
    graph: AccessGraph,
    state: State,
    parent: dict[State, tuple[State, dict[str, Any]] | None],
    prefixes: dict[State, Prefix],
    cache: dict[int, Hop],
) -> Prefix:
    """The parts of the path to ``state``: its parent's plus one edge, each worked out once however
    many values lie beyond it (``prefixes``; a module function, so no closure cycle keeps them alive)."""
    hit = prefixes.get(state)
    if hit is None:
        link = parent[state]
        if link is None:
            hit = ((state[0],), (), (state[0],), (graph.label(state[0]),), (), (), ())
        else:
            before, data = link
            hit = _extend(graph, _prefix(graph, before, parent, prefixes, cache), state[0], data, cache)
        prefixes[state] = hit
    return hit


def _extend(graph: AccessGraph, prefix: Prefix, node: str, data: dict[str, Any], cache: dict[int, Hop]) -> Prefix:
    """The parts of ``prefix`` followed by the edge ``data`` into ``node``."""
    ids, hops = prefix[2], prefix[3]
    _, _, hop_ids, labels, mechanism, keys = _hop(graph, node, data, cache)
    if len(labels) == 1:  # most edges: one node, whose label differs from the one before
        if labels[0] != hops[-1]:
            ids, hops = (*ids, hop_ids[0]), (*hops, labels[0])
    else:
        ids_out, hops_out = list(ids), list(hops)
        for i, h in zip(hop_ids, labels, strict=True):
            if h != hops_out[-1]:
                ids_out.append(i)
                hops_out.append(h)
        ids, hops = tuple(ids_out), tuple(hops_out)
    return _appended(prefix, node, data, ids, hops, mechanism, keys)


def _appended(
    prefix: Prefix,
    node: str,
    data: dict[str, Any],
    ids: tuple[str, ...],
    hops: tuple[str, ...],
    mechanism: str,
    keys: tuple[str, ...],
) -> Prefix:
    """``prefix`` with the edge ``data`` into ``node`` added, given the hop nodes and labels it has then."""
    nodes, edges, _, _, mechanisms, unresolved, missing = prefix
    return (
        (*nodes, node),
        (*edges, data),
        ids,
        hops,
        (*mechanisms, mechanism),
        _added(unresolved, keys),
        _added(missing, data.get(MISSING, ())),
    )


def _added(before: tuple[str, ...], more: Sequence[str]) -> tuple[str, ...]:
    """``before`` and then each of ``more`` not yet in it (``before`` itself when there is none)."""
    if not more:
        return before
    out = list(before)
    out.extend(k for k in more if k not in out)
    return tuple(out)


Reached = tuple[State, Prefix, dict[str, Any] | None]
"""How a row search reached a value: the best state, the parts of the path to the state before it and
the edge from there (a value is never the state before another, so its own parts are not kept), or
the parts of the whole path and None where the value is where the search started."""


Parents = dict[State, tuple[State, dict[str, Any]] | None]
"""A row search's tree: each state's parent state and the edge from it (None: a start)."""


def _best_paths(graph: AccessGraph, starts: list[str]) -> dict[str, Reached]:
    """For each value reachable from ``starts``: the state that reached it by the best path (allow
    first, then most direct, then shortest), and that path's parts."""
    parent, best = _best_states(graph, starts)
    cache: dict[int, Hop] = graph.memo("path-hops", dict)
    prefixes: dict[State, Prefix] = {}
    out: dict[str, Reached] = {}
    for target, state in best.items():
        link = parent[state]
        if link is None:
            out[target] = (state, _prefix(graph, state, parent, prefixes, cache), None)
        else:
            out[target] = (state, _prefix(graph, link[0], parent, prefixes, cache), link[1])
    return out


def _best_states(graph: AccessGraph, starts: list[str]) -> tuple[Parents, dict[str, State]]:
    """The search of :func:`_best_paths`: its tree, and for each value reached the state of its best
    path (allow first, then most direct, then shortest), in the order the search reached them."""
    parent: Parents = {}
    queue: deque[State] = deque()
    for s in starts:
        st = (s, 0, 0)
        if st not in parent:
            parent[st] = None
            queue.append(st)
    found: dict[str, list[State]] = {}
    values, adjacency = graph.memo("row-adjacency", lambda: _row_adjacency(graph))
    while queue:
        state = queue.popleft()
        node, cls, dec = state
        if node in values:
            found.setdefault(node, []).append(state)
            continue
        for v, data, c, d in adjacency.get(node, ()):
            nxt = (v, c if c > cls else cls, d if d > dec else dec)
            if nxt not in parent:
                parent[nxt] = (state, data)
                queue.append(nxt)
    # BFS order already gives the shortest per state
    best = {
        t: states[0] if len(states) == 1 else min(states, key=lambda s: (s[2], s[1])) for t, states in found.items()
    }
    return parent, best


def _row_path(
    graph: AccessGraph, reached: Reached, target: str, key: tuple[str, str] | None, cache: dict[int, Hop]
) -> Prefix:
    """The parts of the path of the row of ``target``, its hop nodes and labels with the value's ``key``
    hop (:func:`_hops_with_key`): the parts before its last edge and that edge. The common last edge
    (its nodes labelled each unlike the hop before it, and the key's label unlike the two hops it goes
    between) is joined to them directly; any other goes through :func:`_extend`."""
    _, before, data = reached
    if data is None:
        return before[0], before[1], *_hops_with_key(graph, before, key), *before[4:]
    ids, hops = before[2], before[3]
    _, _, hop_ids, labels, mechanism, keys = _hop(graph, target, data, cache)
    if labels[0] != hops[-1] and all(a != b for a, b in itertools.pairwise(labels)):
        if key is None or KEY_EVIDENCE not in data:
            return _appended(before, target, data, (*ids, *hop_ids), (*hops, *labels), mechanism, keys)
        if key[1] != labels[-1] and key[1] != (labels[-2] if len(labels) > 1 else hops[-1]):
            keyed_ids = (*ids, *hop_ids[:-1], key[0], hop_ids[-1])
            keyed_hops = (*hops, *labels[:-1], key[1], labels[-1])
            return _appended(before, target, data, keyed_ids, keyed_hops, mechanism, keys)
    parts = _extend(graph, before, target, data, cache)
    return parts[0], parts[1], *_hops_with_key(graph, parts, key), *parts[4:]


def _hops_with_key(
    graph: AccessGraph, prefix: Prefix, key: tuple[str, str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`_with_key` of a row's path (``prefix``, whose labels never repeat one another) and its
    value's ``key`` hop: the common case (the key's label differs from both its neighbours) without
    rebuilding the path."""
    nodes, edges, ids, hops = prefix[:4]
    if key is None or not edges or KEY_EVIDENCE not in edges[-1]:
        return ids, hops
    if len(hops) >= 2 and key[1] != hops[-1] and key[1] != hops[-2]:
        return (*ids[:-1], key[0], ids[-1]), (*hops[:-1], key[1], hops[-1])
    return _with_key(graph, nodes, edges, ids, hops)


NodeScope = tuple[str | None, tuple[str, str] | None, bool]
"""A node's part of a row's scope: its cluster, its (account, region), whether it is a Kubernetes Secret."""


def _node_scope(graph: AccessGraph, node: str) -> NodeScope:
    attrs = graph.node(node)
    account = (attrs[ACCOUNT], attrs.get(REGION) or "global") if attrs.get(ACCOUNT) else None
    return attrs.get(CLUSTER) or None, account, graph.type_of(node) == NodeType.K8S_SECRET


def _row_scope(
    graph: AccessGraph,
    path_nodes: Sequence[str],
    path_edges: Sequence[dict[str, Any]],
    cache: dict[str, NodeScope] | None = None,
) -> tuple[set[str], set[tuple[str, str]], set[str], bool]:
    """Clusters, (account, region) pairs and nodes a row's path touches (via nodes included), and
    whether it crosses a Kubernetes Secret. ``cache``: node scopes already looked up."""
    cache = {} if cache is None else cache
    clusters: set[str] = set()
    accounts: set[tuple[str, str]] = set()
    nodes = set(path_nodes)
    for data in path_edges:
        nodes.update(data.get(VIA, ()))
    through = False
    for n in nodes:
        scope = cache.get(n)
        if scope is None:
            scope = cache[n] = _node_scope(graph, n)
        cluster, account, k8s = scope
        if cluster:
            clusters.add(cluster)
        if account:
            accounts.add(account)
        through = through or k8s
    return clusters, accounts, nodes, through


def _subjects(graph: AccessGraph) -> list[str]:
    types = (NodeType.SERVICE_ACCOUNT, NodeType.ANY_SERVICE_ACCOUNT, NodeType.RBAC_SUBJECT, NodeType.KUBELET)
    return sorted(graph.nodes_of(*types))


def subject_fields(graph: AccessGraph, node: str) -> tuple[str, str | None, str, str]:
    attrs = graph.node(node)
    t = graph.type_of(node)
    if t == NodeType.SERVICE_ACCOUNT:
        return attrs[CLUSTER], attrs[NAMESPACE], attrs[NAME], "ServiceAccount"
    if t == NodeType.ANY_SERVICE_ACCOUNT:
        return attrs[CLUSTER], attrs.get(NAMESPACE), "*", "AnyServiceAccount"
    if t == NodeType.KUBELET:
        return attrs[CLUSTER], None, attrs[NAME], "Node"
    return attrs[CLUSTER], attrs.get(NAMESPACE), attrs[NAME], str(attrs.get("kind", "User"))


ROWS_MEMO = "effective-access"
"""Where a graph keeps its rows once made (:meth:`AccessGraph.memoized` tells whether they are)."""


def value_reach(graph: AccessGraph) -> list[tuple[str, str, str]]:
    """``(subject, start, value)`` for every row :func:`effective_access` makes, without making the rows:
    the row's subject, the node its path starts at (the subject or a workload running as it) and its
    value node, in the rows' search order. What the findings that ask who reaches which value need,
    for a tenth of the rows' work. Built once per graph."""
    return graph.memo("value-reach", lambda: _value_reach(graph))


@paused
def _value_reach(graph: AccessGraph) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for subject in _subjects(graph):
        parent, best = _best_states(graph, _start_nodes(graph, subject))
        for target, state in best.items():
            link = parent[state]
            while link is not None:  # up the search tree to the path's first node
                state = link[0]
                link = parent[state]
            out.append((subject, state[0], target))
    return out


def effective_access(
    graph: AccessGraph,
    *,
    namespace: str | None = None,
    service_account: str | None = None,
    secret: str | None = None,
) -> list[AccessRow]:
    """One row per (subject, secret value) the subject can read, sorted.

    The table is built once per graph (the findings read it too); each call gets its own list,
    narrowed by :func:`select_rows` when a filter is given.
    """
    rows = graph.memo(ROWS_MEMO, lambda: _rows(graph))
    return select_rows(rows, namespace=namespace, service_account=service_account, secret=secret)


def select_rows(
    rows: Iterable[AccessRow],
    *,
    namespace: str | None = None,
    service_account: str | None = None,
    secret: str | None = None,
) -> list[AccessRow]:
    """The rows matching every given filter.

    Parameters
    ----------
    namespace
        Only subjects in this namespace.
    service_account
        ``NS/NAME``: only this service account.
    secret
        Only this value (name, name without its leading ``/``, ARN, or node id).
    """
    want: tuple[str, str] | None = None
    if service_account is not None:
        want_ns, sep, want_name = service_account.partition("/")
        if not sep or not want_ns or not want_name:
            raise UsageError(f"--service-account must be NS/NAME, got {service_account!r}")
        want = (want_ns, want_name)
    out = []
    for r in rows:
        if namespace is not None and r.namespace != namespace:
            continue
        if want is not None and (r.subject_kind != "ServiceAccount" or (r.namespace, r.service_account) != want):
            continue
        if secret is not None and secret not in (r.nodes[-1], r.secret_arn, r.secret_name, r.secret_name.lstrip("/")):
            continue
        out.append(r)
    return out


def subject_clusters(graph: AccessGraph) -> list[str]:
    """The clusters whose subjects have rows: the partition of :func:`cluster_rows`."""
    return sorted({subject_fields(graph, s)[0] for s in _subjects(graph)})


def cluster_rows(graph: AccessGraph, cluster: str) -> list[AccessRow]:
    """The rows of one cluster's subjects, in table order: the effective-access table is these lists,
    concatenated in :func:`subject_clusters` order (each subject's reach is independent of the others')."""
    return _rows(graph, [s for s in _subjects(graph) if subject_fields(graph, s)[0] == cluster])


ValueFields = tuple[str, str, SecretKind, str, str, str, tuple[str, str] | None]
"""What every row of one value repeats: its ARN, name, kind, KMS key ARN, alias and manager, and its
key hop (:func:`_key_hop`)."""


def _value_fields(graph: AccessGraph, target: str) -> ValueFields:
    attrs = graph.node(target)
    return (
        attrs[ARN],
        attrs[NAME],
        _secret_kind(graph, target),
        str(attrs.get(KMS_KEY_ARN) or ""),
        str(attrs.get(KMS_KEY_ALIAS) or ""),
        str(attrs.get(KMS_KEY_MANAGER) or ""),
        _key_hop(graph, target),
    )


@paused
def _rows(graph: AccessGraph, subjects: list[str] | None = None) -> list[AccessRow]:
    rows: list[AccessRow] = []
    gaps = graph.gaps
    scopes: dict[str, NodeScope] = {}
    value_fields: dict[str, ValueFields] = {}
    hops: dict[int, Hop] = graph.memo("path-hops", dict)
    for subject in _subjects(graph) if subjects is None else subjects:
        cluster, ns, name, kind = subject_fields(graph, subject)
        for target, reached in _best_paths(graph, _start_nodes(graph, subject)).items():
            fields = value_fields.get(target)
            if fields is None:
                fields = value_fields[target] = _value_fields(graph, target)
            arn, secret_name, secret_kind, key_arn, key_alias, key_manager, key = fields
            best = reached[0]
            access, decision = ACCESS_KINDS[best[1]], ROW_DECISIONS[best[2]]
            nodes, edges, hop_nodes, labels, mechanisms, unresolved, missing = _row_path(
                graph, reached, target, key, hops
            )
            unknown: tuple[str, ...] = ()
            if gaps:
                clusters, accounts, touched, through = _row_scope(graph, nodes, edges, scopes)
                settled = decision == "allow" and access != "potential"
                unknown = tuple(
                    g.what
                    for g in gaps
                    if g.touches(
                        clusters=clusters, accounts=accounts, nodes=touched, through_k8s_secret=through, settled=settled
                    )
                )
            if missing:
                unknown += tuple(m for m in missing if m not in unknown)
            rows.append(
                _new_row(
                    {
                        "cluster": cluster,
                        "namespace": ns,
                        "service_account": name,
                        "subject_kind": kind,
                        "secret_arn": arn,
                        "secret_name": secret_name,
                        "secret_kind": secret_kind,
                        "access": access,
                        "decision": decision,
                        "path": labels,
                        "mechanisms": mechanisms,
                        "unresolved_keys": unresolved,
                        "complete": not unknown,
                        "unknown": unknown,
                        "nodes": nodes,
                        "hop_nodes": hop_nodes,
                        "kms_key_arn": key_arn,
                        "kms_key_alias": key_alias,
                        "kms_key_manager": key_manager,
                    }
                )
            )
    rows.sort(key=row_order)
    return rows


_NEW = object.__new__
_SET = object.__setattr__


def _new_row(fields: dict[str, Any]) -> AccessRow:
    """``AccessRow(**fields)`` without the frozen dataclass's ``object.__setattr__`` per field nor the
    keyword arguments (3.5 -> 0.8 us a row; a table has 10^5 of them). Every field must be given, as
    :func:`_rows` does."""
    row = _NEW(AccessRow)
    _SET(row, "__dict__", fields)
    return row


def row_order(row: AccessRow) -> tuple[str, str, str, str, str]:
    """The table's order: cluster, namespace, subject kind and name, value name."""
    return (row.cluster, row.namespace or "", row.subject_kind, row.service_account, row.secret_name)


def relevant_gaps(graph: AccessGraph) -> tuple[Gap, ...]:
    """Gaps to report with any query: all of them, since an empty answer next to a gap means
    "unknown", not "no access" (rows over a gap also say so in ``unknown``)."""
    return graph.gaps


# --- path queries ----------------------------------------------------------------------------
_SOURCE = "\x00subjects"
_SINK = "\x00values"


_RANK = {d: i for i, d in enumerate(EDGE_DECISIONS)}


def _simple_view(graph: AccessGraph, *, write: bool = False) -> nx.DiGraph:
    """One edge per (u, v): the strongest (allow over conditional over potential).

    Reading views leave write edges out; writing views leave out every other edge into a value.
    Built once per graph (and direction); queries overlay their own source and sink on it
    (:func:`_overlay`) and never change it.
    """
    return graph.memo(f"simple-view:{write}", lambda: _build_simple_view(graph, write=write))


@paused
def _build_simple_view(graph: AccessGraph, *, write: bool) -> nx.DiGraph:
    import networkx as nx

    view = _SearchView(graph, write=write)
    h = nx.DiGraph()
    h.add_nodes_from(graph._node)
    succ, pred = h._succ, h._pred  # filled directly, as add_edge would (first-seen order): a third of the cost
    for u, near in graph._succ.items():
        for v in near:
            data = view.best(u, v)
            if data is not None:
                succ[u][v] = pred[v][u] = {"data": data}
    return h


class _SearchView:
    """The simple view (:func:`_simple_view`) as one search sees it: each node's neighbours and each
    pair's strongest edge worked out when the search first reaches them.

    A who-can-read or what-can-read touches the part of the graph within its cutoff of one node;
    building the whole view first cost more than the search (up to 0.4 s at 1,600 roles). The
    neighbours come in the view's order (successors as the graph holds them, predecessors in the
    graph's node order, as the view's first-seen fill gives them), so the search picks the same
    witness path among equally short ones.
    """

    def __init__(self, graph: AccessGraph, *, write: bool) -> None:
        if write and not graph.write_edges:
            raise ValueError(
                "this graph was built without write edges (build_graph(writes=False)): it cannot say who can write"
            )
        self._edges = graph._succ
        self._preds = graph._pred
        self._write = write
        self.values, self._position = graph.memo("search-view-base", lambda: _search_base(graph))
        self._best: dict[tuple[str, str], dict[str, Any] | None] = {}

    def best(self, u: str, v: str) -> dict[str, Any] | None:
        """The strongest edge ``u -> v`` the view keeps (allow over conditional over potential; the
        first of equals), or None."""
        pair = (u, v)
        if pair in self._best:
            return self._best[pair]
        found: dict[str, Any] | None = None
        into_value = v in self.values
        for data in self._edges[u][v].values():
            writes = data[MECHANISM] in WRITE_MECHANISMS
            if writes != self._write and (writes or into_value):
                continue  # reading views leave write edges out; writing views every other edge into a value
            if found is None or _RANK[data[DECISION]] < _RANK[found[DECISION]]:
                found = data
        self._best[pair] = found
        return found

    def fresh(self, node: str, seen: Mapping[str, object], *, backward: bool) -> list[str]:
        """The neighbours of ``node`` not in ``seen``, in the view's order."""
        if backward:
            near = [u for u in self._preds[node] if u not in seen and self.best(u, node)]
            near.sort(key=self._position.__getitem__)
            return near
        return [v for v in self._edges[node] if v not in seen and self.best(node, v)]


@paused
def _search_base(graph: AccessGraph) -> tuple[frozenset[str], dict[str, int]]:
    """The value nodes and every node's position in the graph's order, for :class:`_SearchView`."""
    return frozenset(graph.nodes_of(*SECRET_TYPES)), {n: i for i, n in enumerate(graph._node)}


def _overlay(base: nx.DiGraph, sources: list[str], sinks: list[str]) -> nx.DiGraph:
    """``base`` plus edges ``_SOURCE -> sources`` and ``sinks -> _SINK``, without copying ``base``.

    The new graph shares the adjacency dicts of every node it does not touch; the touched ones are
    copied before the edge is added, so ``base`` stays as it was. Nodes and neighbours keep the
    order a copy of ``base`` with the same edges added would have, so path enumeration (and its
    choice among equally short paths) is exactly that of a copy. It works on networkx 3's adjacency
    dicts (no public API shares them), hence the pin to networkx 3 in pyproject.toml.
    """
    import networkx as nx

    h = nx.DiGraph()
    h._node = dict(base._node)
    h._succ = h._adj = dict(base._succ)
    h._pred = dict(base._pred)
    for s in sources:
        if s in h._pred:
            h._pred[s] = dict(h._pred[s])
    for t in sinks:
        h._succ[t] = dict(h._succ[t])
    h.add_edges_from((_SOURCE, s) for s in sources)
    h.add_edges_from((t, _SINK) for t in sinks)
    return h


def _paths(graph: AccessGraph, h: nx.DiGraph, limits: PathLimits) -> Iterator[AccessPath]:
    import networkx as nx

    try:
        raw = nx.shortest_simple_paths(h, _SOURCE, _SINK)
        for nodes in islice(raw, limits.max_paths):
            inner = [n for n in nodes if n not in (_SOURCE, _SINK)]
            if len(inner) - 1 > limits.cutoff:
                return
            edges = [h.edges[a, b]["data"] for a, b in pairwise(inner)]
            yield _path(graph, inner, edges)
    except nx.NetworkXNoPath:
        return


def _witnesses(
    graph: AccessGraph, view: _SearchView, starts: list[str], ends: AbstractSet[str], cutoff: int, *, backward: bool
) -> Iterator[AccessPath]:
    """One shortest path per node of ``ends`` that a node of ``starts`` reaches, shortest first
    (:func:`_reached`), each made into a path when the caller asks for it."""
    for nodes in _reached(view, starts, ends, cutoff, backward=backward):
        yield _path(graph, nodes, [cast("dict[str, Any]", view.best(a, b)) for a, b in pairwise(nodes)])


@paused
def _reached(
    view: _SearchView, starts: list[str], ends: AbstractSet[str], cutoff: int, *, backward: bool
) -> list[list[str]]:
    """The node chains from ``starts`` to each node of ``ends`` they reach, shortest first.

    One breadth-first search over the simple view (backward from a value for "who", forward from a
    subject for "what"): linear in the part of the graph within ``cutoff`` edges, never a path
    enumeration. Run with the collector paused, as the analysis is: nothing it makes is garbage
    before it ends.
    """
    link: dict[str, str | None] = dict.fromkeys(starts)
    frontier = list(link)
    found = []
    for depth in range(cutoff + 1):
        for node in frontier:
            if node in ends:
                chain = [node]
                while (nxt := link[chain[-1]]) is not None:
                    chain.append(nxt)
                found.append(chain if backward else chain[::-1])
        if depth == cutoff:
            break
        following = []
        for node in frontier:
            for other in view.fresh(node, link, backward=backward):
                link[other] = node
                following.append(other)
        frontier = following
    return found


def _secret_index(graph: AccessGraph) -> dict[str, list[str]]:
    """Value nodes by every name :func:`select_rows` accepts (node id, ARN, name, name without "/")."""
    index: dict[str, list[str]] = {}
    for n in graph.nodes_of(*SECRET_TYPES):
        attrs = graph.node(n)
        for key in dict.fromkeys((n, attrs.get(ARN), attrs.get(NAME), str(attrs.get(NAME, "")).lstrip("/"))):
            if isinstance(key, str):
                index.setdefault(key, []).append(n)
    return index


def _secret_node(graph: AccessGraph, secret: str) -> str:
    if secret.startswith("arn:"):  # an ARN names one value (names cannot contain ':'): no index needed
        for node in (param_id(secret), secret_id(secret)):
            if node in graph and graph.node(node).get(ARN) == secret and graph.type_of(node) in SECRET_TYPES:
                return node
    hits = graph.memo("secret-index", lambda: _secret_index(graph)).get(secret, [])
    if not hits:
        raise UsageError(f"no SSM parameter or Secrets Manager secret named {secret!r} in the graph")
    if len(hits) > 1:
        raise UsageError(f"{secret!r} names several values ({', '.join(hits)}); give the ARN")
    return hits[0]


def who_can_read(graph: AccessGraph, secret: str, *, limits: PathLimits = PATH_LIMITS) -> Iterator[AccessPath]:
    """Every subject (service account, workload, RBAC subject) that can read ``secret``, each with one
    shortest witness path (at most ``limits.cutoff`` edges), shortest first; at most ``limits.max_paths``
    of them (every one by default).

    More paths between one subject and the value: :func:`explain_paths`.

    Examples
    --------
    >>> from irsa_lib.graph.core import AccessGraph
    >>> from irsa_lib.graph.schema import EdgeData, Mechanism, NodeType
    >>> g = AccessGraph()
    >>> _ = g.add_node("sa:c/ns/a", NodeType.SERVICE_ACCOUNT, "sa ns/a", cluster="c", namespace="ns", name="a")
    >>> _ = g.add_node("role:r", NodeType.IAM_ROLE, "role r")
    >>> _ = g.add_node("param:p", NodeType.SSM_PARAMETER, "parameter /p", arn="p", name="/p")
    >>> g.add_edge("sa:c/ns/a", "role:r", EdgeData(mechanism=Mechanism.IRSA, decision="allow"))
    >>> g.add_edge("role:r", "param:p", EdgeData(mechanism=Mechanism.CAN_READ, decision="allow"))
    >>> [p.hops for p in who_can_read(g, "/p")]
    [('sa ns/a', 'role r', 'parameter /p')]
    """
    return _paths_to(graph, secret, limits, write=False)


def who_can_write(graph: AccessGraph, secret: str, *, limits: PathLimits = PATH_LIMITS) -> Iterator[AccessPath]:
    """Every subject with an edge that may overwrite ``secret`` (PushSecret, a put by an identity the
    subject holds), one shortest path each, shortest first; bounded like :func:`who_can_read`."""
    return _paths_to(graph, secret, limits, write=True)


def _paths_to(graph: AccessGraph, secret: str, limits: PathLimits, *, write: bool) -> Iterator[AccessPath]:
    target = _secret_node(graph, secret)
    subjects = graph.memo("subject-nodes", lambda: set(graph.nodes_of(*SUBJECT_TYPES)))
    view = _SearchView(graph, write=write)
    return islice(_witnesses(graph, view, [target], subjects, limits.cutoff, backward=True), limits.max_paths)


def _subject_nodes(graph: AccessGraph, subject: str) -> list[str]:
    if subject in graph:
        return _start_nodes(graph, subject)
    ns, sep, name = subject.partition("/")
    hits = [
        s
        for s in graph.nodes_of(NodeType.SERVICE_ACCOUNT)
        if sep and graph.node(s)[NAMESPACE] == ns and graph.node(s)[NAME] == name
    ]
    if not hits:
        raise UsageError(f"no subject {subject!r} in the graph (give a node id or NS/NAME of a service account)")
    return [n for h in hits for n in _start_nodes(graph, h)]


def what_can_read(graph: AccessGraph, subject: str, *, limits: PathLimits = PATH_LIMITS) -> Iterator[AccessPath]:
    """Every value ``subject`` (node id or ``NS/NAME`` of a service account) can read, each with one
    shortest witness path, shortest first; bounded like :func:`who_can_read`."""
    return _paths_from(graph, subject, limits, write=False)


def what_can_write(graph: AccessGraph, subject: str, *, limits: PathLimits = PATH_LIMITS) -> Iterator[AccessPath]:
    """Every value ``subject`` may overwrite, one shortest path each, shortest first."""
    return _paths_from(graph, subject, limits, write=True)


def _paths_from(graph: AccessGraph, subject: str, limits: PathLimits, *, write: bool) -> Iterator[AccessPath]:
    starts = _subject_nodes(graph, subject)
    view = _SearchView(graph, write=write)
    return islice(_witnesses(graph, view, starts, view.values, limits.cutoff, backward=False), limits.max_paths)


EXPLAIN_LIMITS = PathLimits(max_paths=10)
"""The limits of :func:`explain_paths` unless a caller gives its own: ten paths of one pair."""


def explain_paths(
    graph: AccessGraph, subject: str, secret: str, *, limits: PathLimits = EXPLAIN_LIMITS, write: bool = False
) -> Iterator[AccessPath]:
    """The ``limits.max_paths`` shortest paths (k-shortest simple paths) from ``subject`` to ``secret``,
    shortest first: every way one subject reaches one value, for an explanation. Lazy; each further
    path costs a shortest-path search, so ask only for the pair being explained."""
    starts = _subject_nodes(graph, subject)
    h = _overlay(_simple_view(graph, write=write), starts, [_secret_node(graph, secret)])
    return _paths(graph, h, limits)
