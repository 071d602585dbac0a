"""The default trust graph of an organisation: the riskiest chains, legible at any size.

Drawn node by node, the graph of a few hundred objects is a hairball, and collapsed far enough to fit
(one node per cluster, account and region) it says nothing. The overview instead draws whole chains,
subject to value, for the values most exposed: values are grouped by the namespace that owns them
(the first segment of their name, :func:`irsa_lib.render.report_data.owner_namespace`) and their KMS
key, groups are ranked by what the report ranks values by, summed over their values (access rows of
readers outside the owning namespace allowed outright, then of all outside readers, then all access
rows), and the first :data:`OVERVIEW_GROUPS` are drawn with every reader of theirs. Controllers, roles and keys on the chains are drawn one by one with the
evidence of their edges; subjects are drawn one by one while they are few (:data:`GROUP_AT`), else as
one node per kind and namespace, else per kind and cluster, each saying how many it holds (a service
account's own workload and the "any ExternalSecret someone could create" of its namespace folded into
it). The view's notices say what part is drawn and how to see the rest.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx

from irsa_lib.findings import Finding
from irsa_lib.render.graph_view import (
    GraphView,
    NodeFinding,
    ViewNode,
    _findings_by_node,
    _levels,
    _merge_edges,
    _node_title,
    _severities,
    nx_graph,
    with_keys,
)
from irsa_lib.render.report_data import owner_namespace, row_fields
from irsa_lib.subjects import KIND_LABELS, Subject, SubjectKind, display, subject_of_row

__all__ = ["GROUP_AT", "OVERVIEW_ABOVE", "OVERVIEW_GROUPS", "SUBJECT_NODE_TYPES", "TYPE_PLURAL", "overview_view"]

OVERVIEW_GROUPS = 6
"""Value groups (the values of one owning namespace on one key) the overview draws."""
OVERVIEW_ABOVE = 60
"""A whole graph with more nodes (that have an edge) than this is shown as the overview."""
GROUP_AT = 25
"""More subjects than this are grouped (per kind and namespace, then per kind and cluster)."""

SUBJECT_NODE_TYPES: Mapping[str, str] = {
    SubjectKind.SERVICE_ACCOUNT: "service-account",
    SubjectKind.WORKLOAD: "workload",
    SubjectKind.RBAC_USER: "rbac-subject",
    SubjectKind.RBAC_GROUP: "rbac-subject",
    SubjectKind.KUBELET: "kubelet",
    SubjectKind.ANY_SERVICE_ACCOUNT: "any-service-account",
}
"""The node type (and so the style) of each subject kind."""

TYPE_PLURAL: Mapping[str, str] = {
    "service-account": "service accounts",
    "workload": "workloads",
    "k8s-secret": "Kubernetes Secrets",
    "kes-external-secret": "KES ExternalSecrets",
    "eso-external-secret": "ESO ExternalSecrets",
    "eso-store": "SecretStores",
    "secret-provider-class": "SecretProviderClasses",
    "iam-role": "IAM roles",
    "node-role": "node roles",
    "role-session": "role sessions",
    "kms-key": "KMS keys",
    "oidc-provider": "OIDC providers",
    "ssm-parameter": "SSM parameters",
    "secretsmanager-secret": "Secrets Manager secrets",
}
"""How a group of equivalent nodes of one type is counted (other types: "<type> nodes")."""

_RUNS_AS: Mapping[str, Any] = {
    "mechanism": "runs as",
    "decision": "allow",
    "evidence": ("the workload's pods hold the service account's token",),
}


_VIA: Mapping[str, Any] = {
    "mechanism": "via",
    "decision": "allow",
    "evidence": ("a step of a controller's credential chain (the edge into the value carries the decision)",),
}


def _reader(rows: Sequence[Any]) -> Callable[[Any, str], Any]:
    """Reads a field of rows like ``rows[0]``: access rows, or their JSON form (mappings)."""
    if rows and isinstance(rows[0], Mapping):
        return lambda r, name: r.get(name)
    return lambda r, name: getattr(r, name, None)


@dataclass
class _ValueGroup:
    owner: str
    key: str
    values: set[str] = field(default_factory=set)
    rows: list[Any] = field(default_factory=list)
    outside_allowed: int = 0
    outside: int = 0

    def rank(self) -> tuple[int, int, int, str, str]:
        return (-self.outside_allowed, -self.outside, -len(self.rows), self.owner, self.key)


_GROUP_FIELDS = ("secret_name", "kms_key_arn", "secret_arn", "namespace", "access", "decision")


def value_groups(rows: Sequence[Any], namespaces: set[str]) -> list[_ValueGroup]:
    """The values of the access rows grouped by owning namespace and KMS key, most exposed first."""
    groups: dict[tuple[str, str], _ValueGroup] = {}
    of_value: dict[Any, tuple[_ValueGroup, str]] = {}  # a value's group and owner, by its ARN
    for r, (name, key, arn, namespace, access, decision) in row_fields(rows, _GROUP_FIELDS):
        hit = of_value.get(arn)
        if hit is None:
            owner = owner_namespace(str(name), namespaces) or ""
            key = str(key or "")
            group = groups.get((owner, key))
            if group is None:
                group = groups[(owner, key)] = _ValueGroup(owner, key)
            group.values.add(str(arn))
            hit = of_value[arn] = (group, owner)
        group, owner = hit
        group.rows.append(r)
        if owner and namespace != owner:
            group.outside += 1
            group.outside_allowed += access != "potential" and decision == "allow"
    return sorted(groups.values(), key=_ValueGroup.rank)


def overview_view(
    graph: Any, rows: Sequence[Any], findings: Iterable[Finding] = (), *, groups: int = OVERVIEW_GROUPS
) -> GraphView:
    """The overview of ``graph`` (an ``AccessGraph`` or its networkx graph) drawn from its access
    ``rows``: every chain to the ``groups`` most exposed value groups (see the module docstring)."""
    g = nx_graph(graph)
    namespaces = {str(d["namespace"]) for _, d in g.nodes(data=True) if d.get("namespace")}
    ranked = value_groups(rows, namespaces)
    chosen = ranked[:groups]
    get = _reader(rows)
    paths = [(r, tuple(get(r, "hop_nodes") or ()), i) for i, group in enumerate(chosen) for r in group.rows]
    h = with_keys(g, {n for _, hops, _ in paths for n in hops if n in g})  # the key hops too
    subjects: dict[tuple[Any, ...], Subject] = {}
    placed = []
    for r, hops, i in paths:
        if len(hops) >= 2 and all(n in h for n in hops):
            raw = tuple(get(r, k) for k in ("subject_kind", "cluster", "namespace", "service_account"))
            subject = subjects.get(raw)
            if subject is None:
                subject = subjects[raw] = subject_of_row(r)
            placed.append((subject, hops, i))
    level = _grouping(placed)
    drawing = _Drawing(h, _findings_by_node(h, findings), level)
    targets = [drawing.value_group(group) for group in chosen]
    for subject, hops, i in placed:
        drawing.add(subject, hops, targets[i])
    merged = drawing.merge_equivalent()
    exposed = sum(1 for group in ranked if group.outside)
    notices = [
        f"Overview: every reader of the {len(chosen)} value group(s) most read from outside their owning "
        f"namespace ({len(chosen)} of {len(ranked)} groups, of which {exposed} are read from outside; "
        f"{sum(len(group.values) for group in chosen)} of the {sum(len(group.values) for group in ranked)} "
        "readable values). A group holds the values of one namespace (the first segment of their name) on one "
        "KMS key.",
        "Everything else: irsa graph --focus-secret NAME, --focus-namespace NS or --focus-service-account NS/NAME "
        "draws one part node by node, --aggregate never the whole graph; the report's tables list every access row.",
    ]
    if level:
        scope = "namespace" if level == 1 else "cluster"
        notices.insert(1, f"Subjects of one kind in one {scope} are drawn as one node with their count (hover it for "
                          "their names); a service account's own workload is folded into it.")  # fmt: skip
    if merged:
        notices.insert(-1, f"{merged} nodes inside the chains that have the same nodes before and after them are "
                           "drawn as one node per kind with their count.")  # fmt: skip
    if len(placed) < len(paths):  # a row without node ids (an older row object) cannot be placed
        notices.append(f"Not drawn: {len(paths) - len(placed)} access row(s) whose path names no graph node.")
    return drawing.view(notices)


def _grouping(placed: Sequence[tuple[Subject, Sequence[str], int]]) -> int:
    """0: each subject alone; 1: grouped per kind and namespace; 2: per kind and cluster (:data:`GROUP_AT`)."""
    if len({display(s) for s, _, _ in placed}) <= GROUP_AT:
        return 0
    return 1 if len({(s.kind, s.cluster, s.namespace) for s, _, _ in placed}) <= GROUP_AT else 2


@dataclass
class _Group:
    node_type: str
    label: str
    """The label when it holds several members; one member is labelled with its name."""
    members: set[str] = field(default_factory=set)
    severities: set[Any] = field(default_factory=set)


class _Drawing:
    """The overview's nodes and edges, built chain by chain."""

    def __init__(self, g: nx.MultiDiGraph, by_node: Mapping[Any, Sequence[NodeFinding]], level: int) -> None:
        self.g = g
        self.by_node = by_node
        self.level = level
        self.graph_nodes: set[str] = set()
        self.groups: dict[str, _Group] = {}
        self.edges: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
        self.seen: set[tuple[str, str, str | None, str]] = set()
        self.walked: set[tuple[str, tuple[str, ...], str | None]] = set()

    def _label(self, n: str) -> str:
        return str(self.g.nodes[n].get("label") or n)

    def _group(self, gid: str, node_type: str, label: str, member: str, *graph_nodes: str) -> str:
        group = self.groups.setdefault(gid, _Group(node_type, label))
        group.node_type = group.node_type or node_type
        group.members.add(member)
        for n in graph_nodes:
            group.severities.update(f[0] for f in self.by_node.get(n, ()))
        return gid

    def value_group(self, group: _ValueGroup) -> str | None:
        """The id drawn for the group's values: None (each value itself) when it holds one."""
        if len(group.values) == 1:
            return None
        gid = f"overview:values:{group.owner}:{group.key}"
        self.groups[gid] = _Group("", f"{{n}} values of {group.owner or '(no owning namespace)'}")
        return gid

    def add(self, subject: Subject, hops: Sequence[str], value_group: str | None) -> None:
        """One access row's path: its subject (alone or in its group), the hops after it, the value."""
        name = display(subject)
        node_type = SUBJECT_NODE_TYPES.get(subject.kind, "")
        # (view node, graph node it stands for here) along the path; None: no graph node (a subject
        # reached through its workload has no hop of its own)
        along: list[tuple[str, str | None]]
        if self.level == 0 and self._label(hops[0]) == name:  # the path starts at the subject itself
            along = [(hops[0], hops[0])]
        elif self.level == 0:
            along = [(self._group(f"overview:subject:{name}", node_type, name, name), None), (hops[0], hops[0])]
        else:
            # folded into the group: the subject's own workload, the "any ExternalSecret someone could
            # create in <ns>" of its namespace
            i = 1
            while i < len(hops) - 1 and (
                self.g.nodes[hops[i]].get("type") == "workload" or self._label(hops[i]).startswith("any ")
            ):
                i += 1
            scope = (
                f"{subject.cluster}/{subject.namespace}" if self.level == 1 and subject.namespace else subject.cluster
            )
            what = KIND_LABELS.get(subject.kind, str(subject.kind))
            gid = f"overview:subjects:{subject.kind.value}:{scope}"
            along = [(self._group(gid, node_type, f"{{n}} {what} of {scope}", name, *hops[:i]), hops[i - 1])]
            hops = hops[i - 1 :]
        walk = (along[0][0], tuple(hops), value_group)
        if walk in self.walked:  # the same chain from the same view node: drawn already
            return
        self.walked.add(walk)
        along += [(n, n) for n in hops[1:]]
        if value_group is not None:
            last = hops[-1]
            along[-1] = (self._group(value_group, str(self.g.nodes[last].get("type", "")), "", self._label(last), last),
                         last)  # fmt: skip
        self.graph_nodes.update(view for view, graph_node in along if view == graph_node)
        for (a, u), (b, v) in pairwise(along):
            if (a, b, u, str(v)) in self.seen:
                continue
            self.seen.add((a, b, u, str(v)))
            if u is None or v is None:
                self.edges[(a, b)].append(_RUNS_AS)
            else:
                self.edges[(a, b)].extend(self.g.get_edge_data(u, v, default={}).values() or (_VIA,))

    def merge_equivalent(self) -> int:
        """Draw graph nodes of one type with the same view nodes before and after them as one node
        (the service accounts each RBAC group may run pods as, say): the chain reads the same. Only
        nodes inside a chain, never its subject or its value. Returns how many nodes were merged."""
        merged = 0
        for _ in range(3):  # a merge can make further nodes equivalent
            before: dict[str, set[str]] = defaultdict(set)
            after: dict[str, set[str]] = defaultdict(set)
            for a, b in self.edges:
                after[a].add(b)
                before[b].add(a)
            classes: dict[tuple[Any, ...], list[str]] = defaultdict(list)
            for n in sorted(self.graph_nodes):
                if before[n] and after[n]:
                    node_type = str(self.g.nodes[n].get("type", ""))
                    classes[(node_type, frozenset(before[n]), frozenset(after[n]))].append(n)
            found = {n: members for members in classes.values() if len(members) > 1 for n in members}
            if not found:
                break
            for members in {id(m): m for m in found.values()}.values():
                node_type = str(self.g.nodes[members[0]].get("type", ""))
                gid = f"overview:same:{members[0]}"
                for n in members:
                    self._group(
                        gid, node_type, f"{{n}} {TYPE_PLURAL.get(node_type, node_type + ' nodes')}", self._label(n), n
                    )
                self.graph_nodes.difference_update(members)
                merged += len(members)
            edges: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
            for (a, b), parts in self.edges.items():
                a2 = f"overview:same:{found[a][0]}" if a in found else a
                b2 = f"overview:same:{found[b][0]}" if b in found else b
                edges[(a2, b2)].extend(parts)
            self.edges = edges
        return merged

    def view(self, notices: Sequence[str]) -> GraphView:
        nodes: dict[str, ViewNode] = {}
        for n in self.graph_nodes:
            found = self.by_node.get(n, ())
            data = self.g.nodes[n]
            nodes[n] = ViewNode(id=n, type=str(data.get("type", "unknown")), label=self._label(n),
                                title=_node_title(n, data, found), level=0,
                                findings=_severities(f[0] for f in found))  # fmt: skip
        for gid, group in self.groups.items():
            names = sorted(group.members)
            label = names[0] if len(names) == 1 else group.label.format(n=len(names))
            shown = "<br>".join(html.escape(n) for n in names[:30])
            more = f"<br>… and {len(names) - 30} more" if len(names) > 30 else ""
            severities = _severities(group.severities)
            title = f"<b>{html.escape(label)}</b><br>{shown}{more}"
            if severities:
                title += "<br><b>findings inside</b>: " + html.escape(", ".join(severities))
            nodes[gid] = ViewNode(id=gid, type=group.node_type, label=label, title=title, level=0,
                                  findings=severities, members=len(names))  # fmt: skip
        flow = nx.MultiDiGraph()
        flow.add_nodes_from(nodes)
        flow.add_edges_from(self.edges)
        levels = _levels(flow)
        view_nodes = tuple(
            ViewNode(n.id, n.type, n.label, n.title, levels.get(n.id, 0), n.findings, n.members)
            for _, n in sorted(nodes.items())
        )
        edges = tuple(_merge_edges(a, b, parts) for (a, b), parts in sorted(self.edges.items()))
        return GraphView(nodes=view_nodes, edges=edges, focus="overview: the riskiest chains",
                         notices=tuple(notices), node_types=tuple(sorted({n.type for n in view_nodes})))  # fmt: skip
