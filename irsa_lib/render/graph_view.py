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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

__all__ = [
    "DECISION_RANK",
    "SECRET_TYPES",
    "Focus",
    "GraphView",
    "ViewEdge",
    "ViewNode",
    "build_view",
    "locate_findings",
    "nx_graph",
]

# Node types as the graph names them (irsa_lib.graph.schema.NodeType values). Plain strings, so a
# node of a type this module does not know still renders (with the default style).
SA = "service-account"
ROLE_TYPES: frozenset[str] = frozenset({"iam-role", "node-role", "role-session"})
PARAMETER = "ssm-parameter"
SECRET_TYPES: frozenset[str] = frozenset({PARAMETER, "secretsmanager-secret"})
"""Node types holding a secret value: a path "reaches a secret" when it ends at one of these."""
FOCUSABLE_SECRET_TYPES: frozenset[str] = SECRET_TYPES | {"k8s-secret"}

DECISION_RANK: Mapping[str, int] = {"allow": 3, "conditional": 2, "potential": 1}
"""Stronger decisions first: a merged edge shows the strongest of its parts."""

SEVERITY_RANK: Mapping[str, int] = {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}


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


def nx_graph(graph: Any) -> nx.MultiDiGraph:
    """The networkx graph inside an ``AccessGraph`` (or the graph itself)."""
    if isinstance(graph, nx.Graph):
        return graph
    for name in ("nx", "graph", "g", "G"):
        inner = getattr(graph, name, None)
        if isinstance(inner, nx.Graph):
            return inner
    raise TypeError(f"expected an AccessGraph or a networkx graph, got {type(graph).__name__}")


def build_view(
    graph: Any,
    *,
    focus: Focus | None = None,
    findings: Iterable[Any] = (),
    aggregate: bool | None = None,
    max_nodes: int = 150,
    max_parameters: int = 30,
) -> GraphView:
    """Select, aggregate and describe the part of ``graph`` to draw.

    ``aggregate=None`` collapses only when needed: parameters sharing a path prefix when more than
    ``max_parameters`` parameters are shown, and roles with no path to a secret when more than
    ``max_nodes`` nodes are shown. ``True`` always collapses, ``False`` never does.
    """
    g = nx_graph(graph)
    focus = focus or Focus()
    notices: list[str] = []
    keep = _select(g, focus, notices)
    sub = g.subgraph(keep)
    by_node = _findings_by_node(g, findings)

    groups: dict[str, str] = {}  # node -> aggregate id
    group_info: dict[str, tuple[str, str, list[str]]] = {}  # aggregate id -> (type, label, members)
    params = sorted(n for n in sub if _type(sub, n) == PARAMETER)
    if aggregate is True or (aggregate is None and len(params) > max_parameters):
        _collapse_parameters(sub, params, by_node, groups, group_info, notices)
    if aggregate is True or (aggregate is None and sub.number_of_nodes() > max_nodes):
        _collapse_dead_roles(sub, by_node, groups, group_info, notices)

    levels = _levels(sub)
    nodes: dict[str, ViewNode] = {}
    for n in sorted(sub, key=str):
        if n in groups:
            continue
        data = sub.nodes[n]
        severities = tuple(sorted((f[0] for f in by_node.get(n, ())), key=lambda s: -SEVERITY_RANK.get(s, 0)))
        nodes[str(n)] = ViewNode(
            id=str(n),
            type=_type(sub, n),
            label=str(data.get("label") or n),
            title=_node_title(n, data, by_node.get(n, ())),
            level=levels.get(n, 0),
            findings=severities,
        )
    for gid, (gtype, glabel, members) in sorted(group_info.items()):
        shown = ", ".join(members[:15]) + (f" and {len(members) - 15} more" if len(members) > 15 else "")
        nodes[gid] = ViewNode(
            id=gid,
            type=gtype,
            label=glabel,
            title=f"<b>{_e(glabel)}</b><br>collapsed group of {len(members)}: {_e(shown)}",
            level=max((levels.get(m, 0) for m in members), default=0),
            members=len(members),
        )

    merged: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for u, v, data in sub.edges(data=True):
        a, b = groups.get(u, str(u)), groups.get(v, str(v))
        if a != b:
            merged[(a, b)].append(data)
    edges = tuple(_merge_edges(a, b, parts) for (a, b), parts in sorted(merged.items()))
    types = tuple(sorted({n.type for n in nodes.values()}))
    return GraphView(
        nodes=tuple(nodes.values()), edges=edges, focus=focus.describe(), notices=tuple(notices), node_types=types
    )


# ---------------------------------------------------------------- selection


def _type(g: nx.MultiDiGraph, n: Any) -> str:
    return str(g.nodes[n].get("type", "unknown"))


def _attr(g: nx.MultiDiGraph, n: Any, name: str) -> str | None:
    value = g.nodes[n].get(name)
    return None if value is None else str(value)


def _select(g: nx.MultiDiGraph, focus: Focus, notices: list[str]) -> set[Any]:
    keep: set[Any] = set(g.nodes)
    if focus.namespace:
        seeds = {n for n in g if _in_namespace(g, n, focus.namespace)}
        keep &= _through(g, seeds)
        if not seeds:
            notices.append(f"No node belongs to namespace {focus.namespace}.")
    if focus.service_account:
        seeds = {n for n in g if _is_service_account(g, n, focus.service_account)}
        keep &= _through(g, seeds)
        if not seeds:
            notices.append(f"No service account {focus.service_account} in the graph.")
    if focus.secret:
        seeds = {n for n in g if _is_secret(g, n, focus.secret)}
        keep &= _through(g, seeds)
        if not seeds:
            notices.append(f"No secret named {focus.secret} in the graph.")
    if focus.secrets_only:
        sub = g.subgraph(keep)
        targets = {n for n in sub if _type(sub, n) in SECRET_TYPES}
        reaching = set(targets)
        for t in targets:
            reaching |= nx.ancestors(sub, t)
        dropped = len(keep) - len(reaching)
        keep = reaching
        if dropped:
            notices.append(f"Hidden {dropped} node(s) that lie on no path to a secret.")
    return keep


def _through(g: nx.MultiDiGraph, seeds: set[Any]) -> set[Any]:
    """The seeds with everything that reaches them and everything they reach."""
    out = set(seeds)
    for s in seeds:
        out |= nx.ancestors(g, s)
        out |= nx.descendants(g, s)
    return out


def _in_namespace(g: nx.MultiDiGraph, n: Any, namespace: str) -> bool:
    return _attr(g, n, "namespace") == namespace


def _is_service_account(g: nx.MultiDiGraph, n: Any, wanted: str) -> bool:
    if _type(g, n) != SA:
        return False
    parts = wanted.split("/")
    ns, name = _attr(g, n, "namespace"), _attr(g, n, "name")
    cluster = _attr(g, n, "cluster")
    if len(parts) == 2 and (ns, name) == (parts[0], parts[1]):
        return True
    if len(parts) == 3 and (cluster, ns, name) == (parts[0], parts[1], parts[2]):
        return True
    return str(n) == wanted or str(n).endswith("/" + wanted) or _attr(g, n, "label") == wanted


def _is_secret(g: nx.MultiDiGraph, n: Any, wanted: str) -> bool:
    if _type(g, n) not in FOCUSABLE_SECRET_TYPES:
        return False
    candidates = {str(n), _attr(g, n, "arn"), _attr(g, n, "name"), _attr(g, n, "label")}
    return wanted in candidates


def locate_findings(graph: Any, findings: Iterable[Any]) -> dict[Any, list[Any]]:
    """The findings about each node of ``graph`` (a finding's ``resource`` is an ARN, a node id or a
    Kubernetes id ``cluster/namespace/Kind/name``); findings about nothing in the graph are left out."""
    g = nx_graph(graph)
    index: dict[str, Any] = {}
    for n, data in g.nodes(data=True):
        index[str(n)] = n
        for alias in _resource_aliases(n, data):
            index.setdefault(alias, n)
    out: dict[Any, list[Any]] = defaultdict(list)
    for f in findings:
        node = index.get(str(getattr(f, "resource", "")))
        if node is not None:
            out[node].append(f)
    return out


def _findings_by_node(g: nx.MultiDiGraph, findings: Iterable[Any]) -> dict[Any, list[tuple[str, str, str]]]:
    """Findings keyed by the node they are about: (severity, rule, title)."""
    return {
        node: [
            (str(getattr(f, "severity", "")).lower(), str(getattr(f, "rule", "")), str(getattr(f, "title", "")))
            for f in found
        ]
        for node, found in locate_findings(g, findings).items()
    }


_KINDS: Mapping[str, str] = {
    "service-account": "ServiceAccount",
    "k8s-secret": "Secret",
    "kes-external-secret": "ExternalSecret",
    "eso-external-secret": "ExternalSecret",
    "secret-provider-class": "SecretProviderClass",
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


def _collapse_parameters(
    g: nx.MultiDiGraph,
    params: Sequence[Any],
    by_node: Mapping[Any, Any],
    groups: dict[str, str],
    info: dict[str, tuple[str, str, list[str]]],
    notices: list[str],
) -> None:
    """Replace parameters sharing a first path segment (``/billing/...``) by one node per prefix.

    Parameters with findings stay visible: collapsing must not hide a problem.
    """
    by_prefix: dict[str, list[Any]] = defaultdict(list)
    for p in params:
        if p in by_node:
            continue
        name = _attr(g, p, "name") or _attr(g, p, "label") or str(p)
        segments = [s for s in name.split("/") if s]
        prefix = f"/{segments[0]}/" if name.startswith("/") and len(segments) > 1 else "(top level)"
        by_prefix[prefix].append(p)
    collapsed = made = 0
    for prefix, members in sorted(by_prefix.items()):
        if len(members) < 2:
            continue
        made += 1
        gid = f"aggregate:parameters:{prefix}"
        names = sorted(_attr(g, m, "name") or _attr(g, m, "label") or str(m) for m in members)
        info[gid] = (PARAMETER, f"{prefix}* ({len(members)} parameters)", names)
        for m in members:
            groups[m] = gid
        collapsed += len(members)
    if collapsed:
        notices.append(
            f"Collapsed {collapsed} SSM parameters into {made} group(s) "
            "by path prefix (parameters with findings are shown individually)."
        )


def _collapse_dead_roles(
    g: nx.MultiDiGraph,
    by_node: Mapping[Any, Any],
    groups: dict[str, str],
    info: dict[str, tuple[str, str, list[str]]],
    notices: list[str],
) -> None:
    """Replace every role with no path to a secret (and no finding) by one node."""
    dead = []
    for n in g:
        if _type(g, n) not in ROLE_TYPES or n in by_node or n in groups:
            continue
        if not any(_type(g, d) in SECRET_TYPES for d in nx.descendants(g, n)):
            dead.append(n)
    if len(dead) < 2:
        return
    gid = "aggregate:roles-without-secret-path"
    names = sorted(_attr(g, n, "label") or str(n) for n in dead)
    info[gid] = ("iam-role", f"{len(dead)} roles with no path to a secret", names)
    for n in dead:
        groups[n] = gid
    notices.append(f"Collapsed {len(dead)} IAM roles that have no path to any secret into one node.")


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


def _node_title(n: Any, data: Mapping[str, Any], findings: Sequence[tuple[str, str, str]]) -> str:
    lines = [f"<b>{_e(data.get('label') or n)}</b>", f"type: {_e(data.get('type', 'unknown'))}", f"id: {_e(n)}"]
    for key in ("arn", "cluster", "namespace"):
        if data.get(key) and str(data[key]) != str(n):
            lines.append(f"{key}: {_e(data[key])}")
    for severity, rule, title in findings:
        lines.append(f"<b>finding {_e(rule)} ({_e(severity)})</b>: {_e(title)}")
    return "<br>".join(lines)


def _merge_edges(a: str, b: str, parts: Sequence[Mapping[str, Any]]) -> ViewEdge:
    decision = max((str(p.get("decision", "allow")) for p in parts), key=lambda d: DECISION_RANK.get(d, 0))
    mechanisms = tuple(sorted({str(p.get("mechanism", "?")) for p in parts}))
    lines: list[str] = []
    for p in parts:
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
