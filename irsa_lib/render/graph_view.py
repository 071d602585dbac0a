"""What the trust graph view shows: focus, filters and aggregation, independent of any drawing library.

:func:`build_view` turns the access graph into a small, drawable :class:`GraphView` (nodes, merged
edges, levels for a left-to-right layout, hover text, notices saying what was collapsed). The HTML
renderer in :mod:`irsa_lib.render.graph_html` only draws a view, so the rules about *what* is shown
are tested here without a browser, and the drawing library can be swapped.

Every string that came from a policy, a manifest or a name is HTML-escaped here, once, when the
hover text is built (``GraphView`` titles are safe HTML fragments).
"""

from __future__ import annotations

import html
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from irsa_lib.findings import Finding, Severity
from irsa_lib.graph.nodes import key_label_of
from irsa_lib.graph.schema import EDGE_DECISIONS, PRINCIPAL_TYPES, SECRET_TYPES, NodeType

__all__ = [
    "Focus",
    "GraphView",
    "ViewEdge",
    "ViewNode",
    "build_view",
    "locate_findings",
    "nx_graph",
    "prepare",
    "selected_nodes",
]

# Node types are irsa_lib.graph.schema's (NodeType is a str enum, so nodes read from a graph compare
# equal to them); a node of a type this module does not know still renders (with the default style).
FOCUSABLE_SECRET_TYPES: frozenset[str] = SECRET_TYPES | {NodeType.K8S_SECRET}

MAX_EDGE_PARTS = 8
"""Hover text of a merged edge lists the evidence of at most this many of its parts (and counts the rest)."""

NodeFinding = tuple[Severity, str, str]
"""A finding as a node shows it: (severity, rule, title)."""


@dataclass(frozen=True)
class Focus:
    """Which part of the graph to show. Empty = everything.

    ``service_account`` is ``"namespace/name"`` (or ``"cluster/namespace/name"``); ``secret`` is a
    parameter name, Secrets Manager secret name, ARN, graph node id, or a Kubernetes Secret's
    ``namespace/name`` label. ``secrets_only`` keeps only nodes on a path that reaches a
    secret (SSM parameter, Secrets Manager secret, Kubernetes Secret).
    """

    namespace: str | None = None
    service_account: str | None = None
    secret: str | None = None
    secrets_only: bool = False

    def describe(self) -> str:
        parts = []
        if self.namespace:
            parts.append(f"namespace {self.namespace}")
        if self.service_account:
            parts.append(f"service account {self.service_account}")
        if self.secret:
            parts.append(f"secret {self.secret}")
        if self.secrets_only:
            parts.append("only paths that reach a secret")
        return ", ".join(parts) or "whole graph"


@dataclass(frozen=True)
class ViewNode:
    id: str
    """The graph's node id (or ``aggregate:...`` for a collapsed group)."""
    type: str
    label: str
    title: str
    """Hover text: an HTML fragment in which every value is escaped."""
    level: int
    findings: tuple[str, ...] = ()
    """Severities of the findings on this node (highest first)."""
    members: int = 1
    """How many graph nodes this view node stands for (>1 for a collapsed group)."""


@dataclass(frozen=True)
class ViewEdge:
    source: str
    target: str
    decision: str
    mechanisms: tuple[str, ...]
    title: str
    configured: bool = True


@dataclass(frozen=True)
class GraphView:
    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    focus: str
    notices: tuple[str, ...] = ()
    """Plain-text sentences saying what was collapsed or filtered out."""
    node_types: tuple[str, ...] = field(default=())


_INDEXES: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, Any]]] = weakref.WeakKeyDictionary()


def _index(g: nx.MultiDiGraph, name: str, build: Callable[[], Any]) -> Any:
    """An index of ``g`` built once per graph object, so repeated focused views do not scan every node
    (an access graph is not changed once built; a different node count builds it again)."""
    held = _INDEXES.setdefault(g, {})
    entry = held.get(name)
    if entry is None or entry[0] != g.number_of_nodes():
        entry = held[name] = (g.number_of_nodes(), build())
    return entry[1]


def nx_graph(graph: Any) -> nx.MultiDiGraph:
    """The networkx graph inside an ``AccessGraph`` (or the graph itself)."""
    if isinstance(graph, nx.Graph):
        return graph
    for name in ("nx", "graph", "g", "G"):
        inner = getattr(graph, name, None)
        if isinstance(inner, nx.Graph):
            return inner
    raise TypeError(f"expected an AccessGraph or a networkx graph, got {type(graph).__name__}")


KEYS_UP_TO = 5000
"""Views of up to this many selected nodes draw each value's KMS key as a node of its own (the copy
that takes costs more than the view is worth on a whole large organisation, which is aggregated anyway)."""


def with_keys(g: nx.MultiDiGraph, nodes: Collection[Any] | None = None) -> nx.MultiDiGraph:
    """A view of ``g`` (of its ``nodes`` only, when given) in which every read (or write) of a value
    passes its KMS key: the reading identity gets an edge to the key carrying the evidence of
    kms:Decrypt alone (the key policy statement or grant that decided it, ``kms:Decrypt for <value>``),
    and the key an edge to each value it encrypts. The read edge itself stays (the value needs the read
    action *and* the key). A key that is not in the snapshot (``aws/ssm`` before first use, a key of
    another account) gets a node of its own. ``g`` is not changed."""
    h = nx.MultiDiGraph(g) if nodes is None else _induced(g, nodes)
    reads = [(u, v, d) for u, v, d in h.edges(data=True) if "key_evidence" in d and h.nodes[v].get("kms_key")]
    if not reads:
        return h
    for u, v, d in reads:
        value = h.nodes[v]
        key = "key:" + str(value["kms_key"])
        if key not in h:
            h.add_node(key, type="kms-key", label=key_label_of(value), arn=value["kms_key"])
        h.add_edge(key, v, key="encrypts", mechanism="encrypts", decision="allow",
                   evidence=(f"{value.get('label', v)} is encrypted with this key",), unresolved_keys=())  # fmt: skip
        decrypt = d.get("decrypt_decision") or d.get("encrypt_decision") or d["decision"]
        h.add_edge(u, key, key=f"kms:{v}", mechanism="kms-decrypt", decision=decrypt,
                   evidence=tuple(d["key_evidence"]), unresolved_keys=())  # fmt: skip
    return h


def _induced(g: nx.MultiDiGraph, nodes: Collection[Any]) -> nx.MultiDiGraph:
    """A copy of the subgraph of ``g`` on ``nodes`` (in ``g``'s order, as ``nx.MultiDiGraph(g.subgraph(nodes))``
    makes it), read straight from the adjacency: a subgraph view tests every neighbour through filters,
    several times slower on the hubs of a large graph (an OIDC provider, a widely trusted role)."""
    keep = nodes if isinstance(nodes, (set, frozenset)) else set(nodes)
    h = nx.MultiDiGraph()
    order = [n for n in g if n in keep]
    h.add_nodes_from((n, g.nodes[n]) for n in order)
    adj = g._adj  # networkx 3's adjacency (the package pins it, see irsa_lib.access._overlay)
    h.add_edges_from((u, v, k, d) for u in order for v, keyed in adj[u].items() if v in keep for k, d in keyed.items())
    return h


def build_view(
    graph: Any,
    *,
    focus: Focus | None = None,
    findings: Iterable[Finding] = (),
    aggregate: bool | None = None,
    max_nodes: int = 150,
    max_parameters: int = 30,
) -> GraphView:
    """Select, aggregate and describe the part of ``graph`` to draw.

    ``aggregate=None`` collapses only as far as needed, in this order, each step only while the
    view is still too large: SSM parameters and Secrets Manager secrets sharing a path prefix
    (more than ``max_parameters`` of a kind), roles with no path to a secret, then (more than
    ``max_nodes`` nodes) the Kubernetes objects of each namespace, the RBAC users and groups of
    each cluster, the roles of each account, the secrets of each account and region, and the
    Kubernetes objects of each cluster. Nodes with findings stay individual in the first steps,
    and a group containing them is marked. ``True`` applies the first three steps always,
    ``False`` none. Every step taken is stated in :attr:`GraphView.notices`.
    """
    base = nx_graph(graph)
    focus = focus or Focus()
    notices: list[str] = []
    keep = _select(base, focus, notices)  # selected without the key hops: a shared key joins no paths
    g = base
    if len(keep) <= KEYS_UP_TO:
        g = with_keys(base, keep)
        keep = set(g.nodes)
    if not (focus.namespace or focus.service_account or focus.secret):
        isolated = {n for n in keep if g.degree(n) == 0}
        if isolated:
            keep -= isolated
            kinds = ", ".join(sorted({_type(g, n) for n in isolated}))
            notices.append(f"Not shown: {len(isolated)} node(s) with no edge at all ({kinds}).")
    sub = g.subgraph(keep)
    by_node = _findings_by_node(g, findings)
    grouping = _Grouping(sub, by_node)
    if aggregate is not False:
        _aggregate(grouping, force=aggregate is True, max_nodes=max_nodes, max_parameters=max_parameters)
    notices.extend(grouping.notices)
    if g is base:
        notices.append(
            f"KMS keys are drawn in views of up to {KEYS_UP_TO:,} nodes (focus on a namespace, service account or "
            "value); here each read edge's hover text names the key and the statement that allows kms:Decrypt."
        )

    levels = _levels(sub)
    nodes: list[ViewNode] = []
    for vid, members in sorted(grouping.members.items(), key=lambda kv: str(kv[0])):
        if vid in grouping.info:
            nodes.append(grouping.view_node(vid, members, levels))
            continue
        data = sub.nodes[vid]
        nodes.append(
            ViewNode(
                id=str(vid),
                type=_type(sub, vid),
                label=str(data.get("label") or vid),
                title=_node_title(vid, data, by_node.get(vid, ())),
                level=levels.get(vid, 0),
                findings=_severities(f[0] for f in by_node.get(vid, ())),
            )
        )

    merged: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    of = grouping.of
    for u, v, data in sub.edges(data=True):
        a, b = str(of.get(u, u)), str(of.get(v, v))
        if a != b:
            merged[(a, b)].append(data)
    edges = tuple(_merge_edges(a, b, parts) for (a, b), parts in sorted(merged.items()))
    types = tuple(sorted({n.type for n in nodes}))
    return GraphView(nodes=tuple(nodes), edges=edges, focus=focus.describe(), notices=tuple(notices), node_types=types)


def _severities(severities: Iterable[Severity]) -> tuple[str, ...]:
    """Severity names, most severe first."""
    return tuple(s.value for s in sorted(severities, reverse=True))


# ---------------------------------------------------------------- selection


def _type(g: nx.MultiDiGraph, n: Any) -> str:
    return str(g.nodes[n].get("type", "unknown"))


def _attr(g: nx.MultiDiGraph, n: Any, name: str) -> str | None:
    value = g.nodes[n].get(name)
    return None if value is None else str(value)


def _select(g: nx.MultiDiGraph, focus: Focus, notices: list[str]) -> set[Any]:
    keep: set[Any] = set(g.nodes)
    if focus.namespace:
        seeds = set(_index(g, "namespaces", lambda: _by_namespace(g)).get(focus.namespace, ()))
        keep &= _through(g, seeds)
        if not seeds:
            notices.append(f"No node belongs to namespace {focus.namespace}.")
    if focus.service_account:
        seeds = {n for n in g if _is_service_account(g, n, focus.service_account)}
        keep &= _through(g, seeds)
        if not seeds:
            notices.append(f"No service account {focus.service_account} in the graph.")
    if focus.secret:
        seeds = set(_index(g, "secrets", lambda: _secret_names(g)).get(focus.secret, ()))
        keep &= _through(g, seeds)
        if not seeds:
            notices.append(f"No secret named {focus.secret} in the graph.")
    if focus.secrets_only:
        sub = g.subgraph(keep)
        reaching = _reach(sub, {n for n in sub if _type(sub, n) in SECRET_TYPES}, backwards=True)
        dropped = len(keep) - len(reaching)
        keep = reaching
        if dropped:
            notices.append(f"Hidden {dropped} node(s) that lie on no path to a secret.")
    return keep


def _reach(g: nx.MultiDiGraph, seeds: set[Any], *, backwards: bool = False) -> set[Any]:
    """The seeds and every node reachable from them (or reaching them), in one linear traversal."""
    step = g.predecessors if backwards else g.successors
    seen = set(seeds)
    stack = list(seeds)
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _through(g: nx.MultiDiGraph, seeds: set[Any]) -> set[Any]:
    """The seeds with everything that reaches them and everything they reach."""
    return _reach(g, seeds) | _reach(g, seeds, backwards=True)


def _by_namespace(g: nx.MultiDiGraph) -> dict[str, list[Any]]:
    """The nodes of each namespace."""
    found: dict[str, list[Any]] = defaultdict(list)
    for n, data in g.nodes(data=True):
        if data.get("namespace") is not None:
            found[str(data["namespace"])].append(n)
    return found


def _is_service_account(g: nx.MultiDiGraph, n: Any, wanted: str) -> bool:
    if _type(g, n) != NodeType.SERVICE_ACCOUNT:
        return False
    parts = wanted.split("/")
    ns, name = _attr(g, n, "namespace"), _attr(g, n, "name")
    cluster = _attr(g, n, "cluster")
    if len(parts) == 2 and (ns, name) == (parts[0], parts[1]):
        return True
    if len(parts) == 3 and (cluster, ns, name) == (parts[0], parts[1], parts[2]):
        return True
    return str(n) == wanted or str(n).endswith("/" + wanted) or _attr(g, n, "label") == wanted


def _secret_names(g: nx.MultiDiGraph) -> dict[str, list[Any]]:
    """Every value (and Kubernetes Secret) by each name a focus may give it: node id, ARN, name, label."""
    names: dict[str, list[Any]] = defaultdict(list)
    for n, data in g.nodes(data=True):
        if str(data.get("type")) in FOCUSABLE_SECRET_TYPES:
            for name in {str(n), *(str(data[k]) for k in ("arn", "name", "label") if data.get(k) is not None)}:
                names[name].append(n)
    return names


def prepare(graph: Any) -> None:
    """Build the indexes focused views and :func:`locate_findings` use, so the first view asked for is as
    quick as the next (they are kept per graph)."""
    g = nx_graph(graph)
    _index(g, "secrets", lambda: _secret_names(g))
    _index(g, "namespaces", lambda: _by_namespace(g))
    _index(g, "resources", lambda: _resource_index(g))


def selected_nodes(graph: Any, focus: Focus) -> set[Any]:
    """The graph nodes a view of ``focus`` holds before any aggregation, with the KMS keys of its values."""
    g = nx_graph(graph)
    keep = _select(g, focus, [])
    return keep | {f"key:{g.nodes[n]['kms_key']}" for n in keep if g.nodes[n].get("kms_key")}


def locate_findings(graph: Any, findings: Iterable[Finding]) -> dict[Any, list[Finding]]:
    """The findings about each node of ``graph`` (a finding's ``resource`` is an ARN, a node id or a
    Kubernetes id ``cluster/namespace/Kind/name``); findings about nothing in the graph are left out."""
    g = nx_graph(graph)
    index = _index(g, "resources", lambda: _resource_index(g))
    out: dict[Any, list[Finding]] = defaultdict(list)
    for f in findings:
        node = index.get(f.resource)
        if node is not None:
            out[node].append(f)
    return out


def _resource_index(g: nx.MultiDiGraph) -> dict[str, Any]:
    index: dict[str, Any] = {}
    for n, data in g.nodes(data=True):
        index[str(n)] = n
        for alias in _resource_aliases(n, data):
            index.setdefault(alias, n)
    return index


def _findings_by_node(g: nx.MultiDiGraph, findings: Iterable[Finding]) -> dict[Any, list[NodeFinding]]:
    """Findings keyed by the node they are about: (severity, rule, title)."""
    return {
        node: [(f.severity, f.rule, f.title) for f in found] for node, found in locate_findings(g, findings).items()
    }


_KINDS: Mapping[str, str] = {
    NodeType.SERVICE_ACCOUNT: "ServiceAccount",
    NodeType.K8S_SECRET: "Secret",
    NodeType.KES_EXTERNAL_SECRET: "ExternalSecret",
    NodeType.ESO_EXTERNAL_SECRET: "ExternalSecret",
    NodeType.SECRET_PROVIDER_CLASS: "SecretProviderClass",
}


def _resource_aliases(n: Any, data: Mapping[str, Any]) -> list[str]:
    """The names a finding may use for a node: its ARN, its id without the type prefix
    (``role:<arn>`` -> ``<arn>``), or the Kubernetes id ``cluster/namespace/Kind/name``."""
    aliases = [str(data["arn"])] if data.get("arn") else []
    if ":" in str(n):
        aliases.append(str(n).split(":", 1)[1])
    kind = _KINDS.get(str(data.get("type")))
    if kind and data.get("cluster") and data.get("namespace") and data.get("name"):
        aliases.append(f"{data['cluster']}/{data['namespace']}/{kind}/{data['name']}")
    return aliases


# ---------------------------------------------------------------- aggregation

K8S_TYPES: frozenset[str] = frozenset(
    {
        NodeType.WORKLOAD,
        NodeType.SERVICE_ACCOUNT,
        NodeType.ANY_SERVICE_ACCOUNT,
        NodeType.K8S_SECRET,
        NodeType.KES_EXTERNAL_SECRET,
        NodeType.ESO_EXTERNAL_SECRET,
        NodeType.ESO_STORE,
        NodeType.SECRET_PROVIDER_CLASS,
        NodeType.STATIC_CREDENTIALS,
    }
)
"""Kubernetes objects a namespace (then a cluster) collapses into."""


class _Grouping:
    """Which visible node each graph node is drawn as: itself, or a collapsed group."""

    def __init__(self, g: nx.MultiDiGraph, by_node: Mapping[Any, Sequence[NodeFinding]]) -> None:
        self.g = g
        self.by_node = by_node
        self.members: dict[Any, list[Any]] = {n: [n] for n in g}
        self.of: dict[Any, str] = {}
        self.info: dict[str, str] = {}  # group id -> node type
        self.labels: dict[str, str] = {}
        self.notices: list[str] = []

    def type_of(self, vid: Any) -> str:
        return self.info[vid] if vid in self.info else _type(self.g, vid)

    def visible(self, types: frozenset[str], *, keep_flagged: bool) -> list[Any]:
        return [
            v
            for v in self.members
            if self.type_of(v) in types and not (keep_flagged and v not in self.info and v in self.by_node)
        ]

    def merge(self, gid: str, node_type: str, label: str, vids: Sequence[Any]) -> int:
        """Collapse the visible nodes ``vids`` into group ``gid``; returns how many graph nodes it holds."""
        nodes: list[Any] = []
        for v in vids:
            nodes.extend(self.members.pop(v))
            self.info.pop(v, None)
            self.labels.pop(v, None)
        nodes.extend(self.members.get(gid, []))
        self.members[gid] = nodes
        for n in nodes:
            self.of[n] = gid
        self.info[gid] = node_type
        self.labels[gid] = label.format(n=len(nodes))
        return len(nodes)

    def view_node(self, gid: str, members: Sequence[Any], levels: Mapping[Any, int]) -> ViewNode:
        names = sorted(str(self.g.nodes[m].get("label") or m) for m in members)
        shown = ", ".join(names[:15]) + (f" and {len(names) - 15} more" if len(names) > 15 else "")
        severities = {f[0] for m in members for f in self.by_node.get(m, ())}
        label = self.labels[gid]
        title = f"<b>{_e(label)}</b><br>collapsed group of {len(members)}: {_e(shown)}"
        if severities:
            title += "<br><b>findings inside</b>: " + _e(", ".join(_severities(severities)))
        return ViewNode(
            id=gid,
            type=self.info[gid],
            label=label,
            title=title,
            level=max((levels.get(m, 0) for m in members), default=0),
            findings=_severities(severities),
            members=len(members),
        )


def _aggregate(grouping: _Grouping, *, force: bool, max_nodes: int, max_parameters: int) -> None:
    g = grouping.g
    for kind, what in (
        (NodeType.SSM_PARAMETER, "SSM parameters"),
        (NodeType.SECRETSMANAGER_SECRET, "Secrets Manager secrets"),
    ):
        if force or len(grouping.visible(frozenset({kind}), keep_flagged=False)) > max_parameters:
            _collapse_by_prefix(grouping, kind, what)
    if force or len(grouping.members) > max_nodes:
        _collapse_dead_roles(grouping)
    if force or len(grouping.members) <= max_nodes:
        return
    # overview steps for large graphs: findings no longer keep nodes apart; groups are marked
    by_ns: dict[str, list[Any]] = defaultdict(list)
    for v in grouping.visible(K8S_TYPES, keep_flagged=False):
        cluster, ns = _attr(g, v, "cluster"), _attr(g, v, "namespace")
        if ns:
            by_ns[f"{cluster}/{ns}" if cluster else ns].append(v)
    merged = [grouping.merge(f"aggregate:namespace:{k}", "namespace", f"namespace {k} ({{n}} objects)", vs)
              for k, vs in sorted(by_ns.items()) if len(vs) > 1]  # fmt: skip
    if merged:
        grouping.notices.append(
            f"Collapsed the Kubernetes objects of {len(merged)} namespace(s) ({sum(merged)} objects) into one node each."
        )
    if len(grouping.members) > max_nodes:
        by_cluster: dict[str, list[Any]] = defaultdict(list)
        for v in grouping.visible(frozenset({NodeType.RBAC_SUBJECT}), keep_flagged=False):
            by_cluster[_attr(g, grouping.members[v][0], "cluster") or "?"].append(v)
        merged = [grouping.merge(f"aggregate:rbac:{c}", NodeType.RBAC_SUBJECT, f"RBAC subjects of {c} ({{n}})", vs)
                  for c, vs in sorted(by_cluster.items()) if len(vs) > 1]  # fmt: skip
        if merged:
            grouping.notices.append(f"Collapsed {sum(merged)} RBAC users and groups into one node per cluster.")
    if len(grouping.members) > max_nodes:
        _collapse_by_account(grouping, PRINCIPAL_TYPES, NodeType.IAM_ROLE, "roles", "IAM roles")
    if len(grouping.members) > max_nodes:
        _collapse_by_account(
            grouping, SECRET_TYPES, NodeType.SSM_PARAMETER, "secrets", "parameters and secrets", region=True
        )
    if len(grouping.members) > max_nodes:
        by_cluster = defaultdict(list)
        for v in grouping.visible(K8S_TYPES | {"namespace"}, keep_flagged=False):
            by_cluster[_attr(g, grouping.members[v][0], "cluster") or "?"].append(v)
        merged = [grouping.merge(f"aggregate:cluster:{c}", "namespace", f"cluster {c} ({{n}} objects)", vs)
                  for c, vs in sorted(by_cluster.items()) if len(vs) > 1]  # fmt: skip
        if merged:
            grouping.notices.append(
                f"Collapsed the Kubernetes objects of {len(merged)} cluster(s) ({sum(merged)} objects) into one node each."
            )


def _collapse_by_prefix(grouping: _Grouping, kind: str, what: str) -> None:
    """One node per first path segment (``/billing/...``, ``billing/...``); flagged ones stay apart."""
    by_prefix: dict[str, list[Any]] = defaultdict(list)
    for v in grouping.visible(frozenset({kind}), keep_flagged=True):
        if v in grouping.info:
            continue
        name = _attr(grouping.g, v, "name") or _attr(grouping.g, v, "label") or str(v)
        segments = [s for s in name.split("/") if s]
        prefix = (
            (f"/{segments[0]}/" if name.startswith("/") else f"{segments[0]}/") if len(segments) > 1 else "(top level)"
        )
        by_prefix[prefix].append(v)
    merged = [grouping.merge(f"aggregate:{kind}:{prefix}", kind, f"{prefix}* ({{n}} {what})", vs)
              for prefix, vs in sorted(by_prefix.items()) if len(vs) > 1]  # fmt: skip
    if merged:
        grouping.notices.append(
            f"Collapsed {sum(merged)} {what} into {len(merged)} group(s) by path prefix "
            f"({what} with findings are shown individually)."
        )


def _collapse_dead_roles(grouping: _Grouping) -> None:
    """Replace every role with no path to a secret (and no finding) by one node."""
    g = grouping.g
    reaching = _reach(g, {n for n in g if _type(g, n) in SECRET_TYPES}, backwards=True)
    dead = [
        v for v in grouping.visible(PRINCIPAL_TYPES, keep_flagged=True) if v not in grouping.info and v not in reaching
    ]
    if len(dead) < 2:
        return
    grouping.merge("aggregate:roles-without-secret-path", NodeType.IAM_ROLE, "{n} roles with no path to a secret", dead)
    grouping.notices.append(f"Collapsed {len(dead)} IAM roles that have no path to any secret into one node.")


def _account_region(g: nx.MultiDiGraph, n: Any) -> tuple[str, str]:
    arn = _attr(g, n, "arn") or str(n).split(":", 1)[-1]
    parts = arn.split(":")
    account = _attr(g, n, "account_id") or (parts[4] if len(parts) > 4 else "?")
    region = _attr(g, n, "region") or (parts[3] if len(parts) > 3 else "?")
    return account or "?", region or "global"


def _collapse_by_account(
    grouping: _Grouping, types: frozenset[str], node_type: str, key: str, what: str, *, region: bool = False
) -> None:
    by_scope: dict[str, list[Any]] = defaultdict(list)
    for v in grouping.visible(types, keep_flagged=False):
        first = grouping.members[v][0]
        account, reg = _account_region(grouping.g, first)
        by_scope[f"{account}/{reg}" if region else account].append(v)
    merged = [grouping.merge(f"aggregate:{key}:{scope}", node_type, f"{what} of {scope} ({{n}})", vs)
              for scope, vs in sorted(by_scope.items()) if len(vs) > 1]  # fmt: skip
    if merged:
        scope = "account and region" if region else "account"
        grouping.notices.append(f"Collapsed {sum(merged)} {what} into {len(merged)} node(s), one per {scope}.")


# ---------------------------------------------------------------- layout and text


def _levels(g: nx.MultiDiGraph) -> dict[Any, int]:
    """Longest-path depth from the sources, cycles counted once: a stable left-to-right layout."""
    cond = nx.condensation(nx.DiGraph(g))
    depth: dict[int, int] = {}
    for c in nx.topological_sort(cond):
        preds = list(cond.predecessors(c))
        depth[c] = 1 + max(depth[p] for p in preds) if preds else 0
    mapping = cond.graph["mapping"]
    return {n: depth[mapping[n]] for n in g}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _node_title(n: Any, data: Mapping[str, Any], findings: Sequence[NodeFinding]) -> str:
    lines = [f"<b>{_e(data.get('label') or n)}</b>", f"type: {_e(data.get('type', 'unknown'))}", f"id: {_e(n)}"]
    for key in ("arn", "cluster", "namespace"):
        if data.get(key) and str(data[key]) != str(n):
            lines.append(f"{key}: {_e(data[key])}")
    for severity, rule, title in findings:
        lines.append(f"<b>finding {_e(rule)} ({_e(severity.value)})</b>: {_e(title)}")
    return "<br>".join(lines)


def _decision_order(decision: str) -> int:
    return EDGE_DECISIONS.index(decision) if decision in EDGE_DECISIONS else len(EDGE_DECISIONS)


def _merge_edges(a: str, b: str, parts: Sequence[Mapping[str, Any]]) -> ViewEdge:
    # the strongest decision of the parts (EDGE_DECISIONS: strongest first)
    decision = min((str(p.get("decision", "allow")) for p in parts), key=_decision_order)
    mechanisms = tuple(sorted({str(p.get("mechanism", "?")) for p in parts}))
    lines: list[str] = []
    if len(parts) > MAX_EDGE_PARTS:
        counts = Counter((str(p.get("mechanism", "?")), str(p.get("decision", "?"))) for p in parts)
        lines.append(f"<b>{len(parts)} edges</b> between the collapsed groups:")
        lines += [f"&nbsp;&nbsp;{n} × {_e(m)}: {_e(d)}" for (m, d), n in sorted(counts.items())]
        lines.append(f"first {MAX_EDGE_PARTS} of them:")
    for p in parts[:MAX_EDGE_PARTS]:
        head = f"<b>{_e(p.get('mechanism', '?'))}</b>: {_e(p.get('decision', '?'))}"
        if p.get("configured") is False:
            head += " (not configured: trust allows it, nothing uses it)"
        lines.append(head)
        for ev in p.get("evidence") or ():
            lines.append("&nbsp;&nbsp;" + _e(ev))
        keys = p.get("unresolved_keys") or ()
        if keys:
            lines.append("&nbsp;&nbsp;depends on: " + _e(", ".join(map(str, keys))))
    configured = any(p.get("configured", True) is not False for p in parts)
    return ViewEdge(
        source=a, target=b, decision=decision, mechanisms=mechanisms, title="<br>".join(lines), configured=configured
    )
