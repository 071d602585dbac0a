"""The analysis as Dask tasks: the same rows and findings as :func:`irsa_lib.analysis.analyse`, partitioned.

The shared, read-only part (the evaluator's :class:`~irsa_lib.resolve.Inventory`, which carries the
snapshot) is scattered to the cluster once. One task builds the access graph from it and keeps it on
its worker (it never travels back to the caller). Then:

- the rows of each cluster's subjects are one task each (:func:`irsa_lib.access.cluster_rows`: a
  subject's reach does not depend on any other subject's);
- the findings of each rule are one task each, over the same inventory and graph.

Dask moves the graph to the workers that run those tasks, once per worker. The parts are merged in a
fixed order (clusters by name, rules by id) and sorted with the single-process keys, so the result
equals the single-process one row for row and finding for finding, whatever order the tasks finish in.

Why rules and not accounts for the findings: a rule judges some records (the roles of one account,
say) by looking up others anywhere in the organisation (who may assume them, across accounts), and
today each rule reads both from one snapshot. Splitting them per account needs every rule to tell the
records it judges from those it looks up; until then the rule is the unit that is independent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from irsa_lib.access import AccessRow, cluster_rows, row_order, subject_clusters
from irsa_lib.findings import Finding, run_findings, select_rules
from irsa_lib.findings.registry import sort_key
from irsa_lib.graph import AccessGraph, build_graph
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["PartitionedAnalysis", "analyse_partitioned"]


@dataclass(frozen=True, kw_only=True)
class PartitionedAnalysis:
    """Rows and findings of a snapshot computed on Dask (the graph stays on the workers)."""

    snapshot: Snapshot
    rows: tuple[AccessRow, ...]
    findings: tuple[Finding, ...]
    rules: tuple[str, ...]
    clusters: tuple[str, ...]
    """The row partitions: clusters with subjects, by name."""


def _graph(inventory: Inventory) -> AccessGraph:
    return build_graph(inventory.snapshot, inventory=inventory)


def _rule_findings(inventory: Inventory, graph: AccessGraph, rule: str) -> list[Finding]:
    return run_findings(inventory.snapshot, graph=graph, inventory=inventory, rules=[rule])


def analyse_partitioned(
    client: Client, snapshot: Snapshot, *, rules: Iterable[str] | None = None
) -> PartitionedAnalysis:
    """Analyse ``snapshot`` on ``client``'s cluster; ``rules`` as in :func:`irsa_lib.analysis.analyse`."""
    wanted = None if rules is None else list(rules)
    ids = () if wanted == [] else tuple(r.id for r in select_rules(wanted))
    [inventory] = client.scatter([Inventory.from_snapshot(snapshot)], hash=False)
    graph = client.submit(_graph, inventory, key=f"irsa-graph-{inventory.key}", pure=False)
    clusters = tuple(client.submit(subject_clusters, graph, pure=False).result())
    row_parts = [client.submit(cluster_rows, graph, c, key=f"irsa-rows-{c}-{graph.key}") for c in clusters]
    rule_parts = [client.submit(_rule_findings, inventory, graph, r, key=f"irsa-{r}-{graph.key}") for r in ids]
    row_lists: list[list[AccessRow]] = client.gather(row_parts)
    finding_lists: list[list[Finding]] = client.gather(rule_parts)
    rows = [r for part in row_lists for r in part]
    rows.sort(key=row_order)
    findings = sorted((f for part in finding_lists for f in part), key=sort_key)
    for future in (*row_parts, *rule_parts, graph, inventory):
        future.release()
    return PartitionedAnalysis(
        snapshot=snapshot, rows=tuple(rows), findings=tuple(findings), rules=ids, clusters=clusters
    )
