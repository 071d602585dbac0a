"""The analysis as Dask tasks: the same rows and findings as :func:`irsa_lib.analysis.analyse`, and no
worker holds the whole access graph.

The shared, read-only part (the evaluator's :class:`~irsa_lib.resolve.Inventory`, which carries the
snapshot) is sent to every worker once. Then:

- **one task per cluster** builds that cluster's graph from :func:`cluster_snapshot` (every AWS record,
  only this cluster's Kubernetes objects) and computes the rows of its subjects and the findings of
  the rules that judge one cluster's objects through the graph (:data:`CLUSTER_RULES`). A subject's
  reach never leaves its own cluster's Kubernetes objects, and what an AWS node reaches depends on AWS
  records only, so the rows of a cluster are the same in its graph as in the whole one. The whole
  graph is the union of the cluster graphs and is never built: its largest parts (the subjects, RBAC
  and the controllers' per-namespace reach) belong to one cluster each.
- **one task per rule** for the other rules, over the inventory alone; :data:`ROLE_RULES` also get a
  small graph merged from the cluster graphs (:func:`merge_role_views`: role nodes, their read edges
  and the instance-metadata edges into them) and :data:`READER_RULES` the readers of every value,
  merged from the clusters' rows.

The parts are merged in a fixed order (clusters by name; a rule's parts settled as one) and sorted with
the single-process keys, so the result equals the single-process one row for row and finding for
finding, whatever order the tasks finish in.

Why the findings are cut per rule and per cluster, not per account: a rule judges some records by
looking up others anywhere in the organisation (who may assume a role, read a value, from which
account), and it reads both from one snapshot; a finding's evidence also gathers every record that
points at its resource (every controller using one role, every node group of one node role), in
snapshot order. A per-account run would miss the cross-account lookups or, given the whole snapshot,
judge every account again; merging per-account evidence would not give the single-process order. The
rule is the unit whose findings are complete on their own; the cluster is, for the rules that judge
one cluster's objects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from irsa_lib.access import AccessRow, effective_access
from irsa_lib.findings import RULES, Finding, FindingContext, select_rules
from irsa_lib.findings.context import readers_by_value
from irsa_lib.findings.registry import settle, sort_key
from irsa_lib.graph import AccessGraph, build_graph
from irsa_lib.graph.schema import MECHANISM, Mechanism, NodeType
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "CLUSTER_RULES",
    "KUBERNETES_FIELDS",
    "READER_RULES",
    "ROLE_RULES",
    "ClusterPart",
    "PartitionedAnalysis",
    "RoleView",
    "analyse_cluster",
    "analyse_in_parts",
    "analyse_partitioned",
    "cluster_snapshot",
    "merge_role_views",
    "partition_keys",
    "rule_findings",
]

CLUSTER_RULES = frozenset({"F03", "F09", "F10", "F13"})
"""Rules that judge one cluster's objects (KES namespaces, ESO stores, RBAC bindings) and read that
cluster's graph or rows: they run in the cluster's task."""
ROLE_RULES = frozenset({"F04", "F05"})
"""Rules that read a role's read edges and the instance-metadata edges into it (:func:`merge_role_views`)."""
READER_RULES = frozenset({"F30"})
"""Rules that read who reads a value, from the rows of every cluster."""

KUBERNETES_FIELDS: tuple[str, ...] = (
    "namespaces", "service_accounts", "workloads", "k8s_secrets", "rbac_roles", "rbac_bindings",
    "kes_external_secrets", "kes_controllers", "eso_stores", "eso_external_secrets",
    "eso_cluster_external_secrets", "eso_push_secrets", "eso_controllers", "secret_provider_classes",
)  # fmt: skip
"""Snapshot collections whose records belong to one cluster (their ``cluster`` field)."""


def partition_keys(snapshot: Snapshot) -> tuple[str, ...]:
    """Every cluster a record or a Kubernetes coverage entry names (Kubernetes objects, Pod Identity
    associations, EKS clusters, node groups): the partitions, by name. A cluster whose graph has no
    subject gives no row."""
    names = {r.cluster for f in KUBERNETES_FIELDS for r in getattr(snapshot, f)}
    names |= {c.scope for c in snapshot.coverage if c.source != "aws"}
    names |= {a.cluster_name for a in snapshot.pod_identity_associations}
    names |= {c.name for c in snapshot.clusters}
    names |= {ng.cluster_name for ng in snapshot.node_groups}
    return tuple(sorted(names))


def cluster_snapshot(snapshot: Snapshot, cluster: str) -> Snapshot:
    """What the rows of ``cluster``'s subjects depend on: every AWS record and coverage entry, and of
    the records tied to one cluster (Kubernetes objects, Pod Identity associations, EKS cluster
    records) only ``cluster``'s. Node groups stay whole: a role is a node role wherever it is used."""
    own: dict[str, Any] = {f: tuple(r for r in getattr(snapshot, f) if r.cluster == cluster) for f in KUBERNETES_FIELDS}
    own["clusters"] = tuple(c for c in snapshot.clusters if c.name == cluster)
    own["pod_identity_associations"] = tuple(a for a in snapshot.pod_identity_associations if a.cluster_name == cluster)
    return dataclasses.replace(snapshot, **own)


@dataclass(frozen=True, kw_only=True)
class RoleView:
    """The part of a cluster graph :data:`ROLE_RULES` read: every role node, its read (CAN_READ) edges
    with their values, and the instance-metadata (NODE_IMDS) edges into it with their workloads."""

    nodes: tuple[tuple[str, dict[str, Any]], ...]
    edges: tuple[tuple[str, str, str, dict[str, Any]], ...]


def role_view(graph: AccessGraph) -> RoleView:
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str, str, dict[str, Any]]] = []
    for role in graph.nodes_of(NodeType.IAM_ROLE, NodeType.NODE_ROLE):
        nodes[role] = graph.node(role)
        for u, v, k, d in graph.edges(role, mechanism=Mechanism.CAN_READ):
            nodes.setdefault(v, graph.node(v))
            edges.append((u, v, k, d))
        for u, _, k, d in graph.in_edges(role):
            if d[MECHANISM] == Mechanism.NODE_IMDS:
                nodes.setdefault(u, graph.node(u))
                edges.append((u, role, k, d))
    return RoleView(nodes=tuple(nodes.items()), edges=tuple(edges))


def merge_role_views(views: Iterable[RoleView]) -> AccessGraph:
    """The role nodes of every cluster graph with their read edges (the same in every graph holding the
    role: they depend on AWS records only, so they are taken from the first) and every cluster's
    instance-metadata edges: what the whole graph would answer :data:`ROLE_RULES`."""
    merged = AccessGraph()
    g = merged.graph
    for view in views:
        fresh = {n for n, _ in view.nodes if n not in g}
        for n, attrs in view.nodes:
            if n in fresh:
                g.add_node(n, **attrs)
        for u, v, k, d in view.edges:
            if d[MECHANISM] != Mechanism.CAN_READ or u in fresh:
                g.add_edge(u, v, key=k, **d)
    return merged


@dataclass(frozen=True, kw_only=True)
class ClusterPart:
    """What one cluster's task returns."""

    cluster: str
    rows: tuple[AccessRow, ...]
    """The rows of the cluster's subjects, in table order (empty when not kept)."""
    row_count: int
    findings: Mapping[str, list[Finding]]
    """The :data:`CLUSTER_RULES` asked for, by rule id, settled."""
    readers: dict[str, set[str]]
    """Who reads each value (:func:`irsa_lib.findings.context.readers_by_value`), for :data:`READER_RULES`."""
    roles: RoleView | None
    """The cluster graph's :class:`RoleView` when :data:`ROLE_RULES` are asked for."""


def analyse_cluster(
    inventory: Inventory, cluster: str, rules: tuple[str, ...], *, keep_rows: bool = True
) -> ClusterPart:
    """Build ``cluster``'s graph; its rows, its :data:`CLUSTER_RULES` findings and what the others need."""
    snapshot = cluster_snapshot(inventory.snapshot, cluster)
    graph = build_graph(snapshot, inventory=inventory)
    rows = [r for r in effective_access(graph) if r.cluster == cluster]
    ctx = FindingContext(snapshot, graph=graph, inventory=inventory)
    findings = {r: settle(RULES[r].check(ctx)) for r in rules if r in CLUSTER_RULES}
    return ClusterPart(
        cluster=cluster,
        rows=tuple(rows) if keep_rows else (),
        row_count=len(rows),
        findings=findings,
        readers=readers_by_value(rows) if READER_RULES & set(rules) else {},
        roles=role_view(graph) if ROLE_RULES & set(rules) else None,
    )


def rule_findings(
    inventory: Inventory,
    rule: str,
    roles: Iterable[RoleView | None] = (),
    readers: Iterable[Mapping[str, set[str]]] = (),
) -> list[Finding]:
    """One rule that is not a :data:`CLUSTER_RULES` one, over the whole inventory; ``roles`` and
    ``readers``: every cluster part's, for :data:`ROLE_RULES` and :data:`READER_RULES`."""
    graph = merge_role_views(v for v in roles if v is not None) if rule in ROLE_RULES else None
    merged: dict[str, set[str]] | None = None
    if rule in READER_RULES:
        merged = {}
        for part in readers:
            for value, subjects in part.items():
                merged.setdefault(value, set()).update(subjects)
    ctx = FindingContext(inventory.snapshot, graph=graph, inventory=inventory, readers=merged)
    return settle(RULES[rule].check(ctx))


def _roles(part: ClusterPart) -> RoleView | None:
    return part.roles


def _readers(part: ClusterPart) -> dict[str, set[str]]:
    return part.readers


@dataclass(frozen=True, kw_only=True)
class PartitionedAnalysis:
    """Rows and findings of a snapshot computed on Dask, cluster by cluster and rule by rule."""

    snapshot: Snapshot
    rows: tuple[AccessRow, ...]
    """As :attr:`irsa_lib.analysis.Analysis.rows` (empty when the rows were not kept)."""
    row_count: int
    findings: tuple[Finding, ...]
    rules: tuple[str, ...]
    clusters: tuple[str, ...]
    """The cluster partitions (:func:`partition_keys`)."""


def analyse_partitioned(
    client: Client, snapshot: Snapshot, *, rules: Iterable[str] | None = None, keep_rows: bool = True
) -> PartitionedAnalysis:
    """Analyse ``snapshot`` on ``client``'s cluster; ``rules`` as in :func:`irsa_lib.analysis.analyse`.

    ``keep_rows=False`` leaves the rows on the workers (only their number comes back): for
    organisations whose table does not fit one process.
    """
    wanted = None if rules is None else list(rules)
    ids = () if wanted == [] else tuple(r.id for r in select_rules(wanted))
    clusters = partition_keys(snapshot)
    [inventory] = client.scatter([Inventory.from_snapshot(snapshot)], hash=False, broadcast=True)
    run = inventory.key
    parts = [
        client.submit(analyse_cluster, inventory, c, ids, keep_rows=keep_rows, key=f"irsa-cluster-{c}-{run}")
        for c in clusters
    ]
    # the small parts the rule tasks need, taken out where each cluster's part lies
    roles = [client.submit(_roles, p, key=f"irsa-roles-{p.key}") for p in parts] if ROLE_RULES & set(ids) else []
    readers = (
        [client.submit(_readers, p, key=f"irsa-readers-{p.key}") for p in parts] if READER_RULES & set(ids) else []
    )
    by_rule = {
        r: client.submit(
            rule_findings,
            inventory,
            r,
            roles if r in ROLE_RULES else [],
            readers if r in READER_RULES else [],
            key=f"irsa-{r}-{run}",
        )
        for r in ids
        if r not in CLUSTER_RULES
    }
    done: list[ClusterPart] = client.gather(parts)
    rule_lists: dict[str, list[Finding]] = dict(zip(by_rule, client.gather(list(by_rule.values())), strict=True))
    for future in (*parts, *roles, *readers, *by_rule.values(), inventory):
        future.release()
    return _assemble(snapshot, ids, clusters, done, rule_lists)


def analyse_in_parts(snapshot: Snapshot, *, rules: Iterable[str] | None = None) -> PartitionedAnalysis:
    """The same partitions as :func:`analyse_partitioned`, one after another in this process (no Dask):
    to check the partition itself on any snapshot."""
    wanted = None if rules is None else list(rules)
    ids = () if wanted == [] else tuple(r.id for r in select_rules(wanted))
    clusters = partition_keys(snapshot)
    inventory = Inventory.from_snapshot(snapshot)
    parts = [analyse_cluster(inventory, c, ids) for c in clusters]
    rule_lists = {
        r: rule_findings(inventory, r, [p.roles for p in parts], [p.readers for p in parts])
        for r in ids
        if r not in CLUSTER_RULES
    }
    return _assemble(snapshot, ids, clusters, parts, rule_lists)


def _assemble(
    snapshot: Snapshot,
    ids: tuple[str, ...],
    clusters: tuple[str, ...],
    parts: list[ClusterPart],
    rule_lists: Mapping[str, list[Finding]],
) -> PartitionedAnalysis:
    """The parts in the single-process order: rows cluster by cluster (each part is in table order and
    the table is ordered by cluster first), a cluster rule's parts settled as one, findings sorted."""
    findings: list[Finding] = []
    for r in ids:
        findings += settle(f for p in parts for f in p.findings[r]) if r in CLUSTER_RULES else rule_lists[r]
    findings.sort(key=sort_key)
    return PartitionedAnalysis(
        snapshot=snapshot,
        rows=tuple(row for p in parts for row in p.rows),
        row_count=sum(p.row_count for p in parts),
        findings=tuple(findings),
        rules=ids,
        clusters=clusters,
    )
