"""``build_graph``: snapshot + evaluator -> AccessGraph, one edge builder per mechanism, in order.

Identity builders run first (IRSA, Pod Identity, node IMDS) so that controller builders (KES, ESO,
CSI) can follow each controller's credential chain; role-to-role assumption then expands every
identity reached, and read + decrypt (and write + encrypt) edges are added for every identity in
the graph. RBAC comes last because it points at the materialised Secrets and synthetic
ExternalSecret / PushSecret nodes.
"""

from __future__ import annotations

import weakref

from irsa_lib.collector import paused
from irsa_lib.graph.assume import add_assume_edges
from irsa_lib.graph.aws import AwsView
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.core import AccessGraph, Gap, GapReach
from irsa_lib.graph.csi import add_csi_edges
from irsa_lib.graph.eso import add_eso_edges
from irsa_lib.graph.imds import add_imds_edges
from irsa_lib.graph.irsa import add_irsa_edges
from irsa_lib.graph.kes import add_kes_edges
from irsa_lib.graph.nodes import add_nodes
from irsa_lib.graph.pod_identity import add_pod_identity_edges
from irsa_lib.graph.push import add_push_edges
from irsa_lib.graph.rbac import add_rbac_edges
from irsa_lib.graph.read import add_read_edges
from irsa_lib.graph.workloads import add_workload_edges
from irsa_lib.graph.write import add_write_edges
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot

BUILDERS = (
    add_nodes,
    add_workload_edges,
    add_irsa_edges,
    add_pod_identity_edges,
    add_imds_edges,
    add_kes_edges,
    add_eso_edges,
    add_push_edges,
    add_csi_edges,
    add_assume_edges,
    add_read_edges,
    add_write_edges,
    add_rbac_edges,
)


_VIEWS: weakref.WeakKeyDictionary[AccessGraph, AwsView] = weakref.WeakKeyDictionary()


def evaluator_view(graph: AccessGraph) -> AwsView | None:
    """The :class:`AwsView` ``graph`` was built with in this process (its evaluator answers and indexes),
    while the graph lives; None for a graph built elsewhere (or unpickled)."""
    return _VIEWS.get(graph)


RBAC_KINDS = frozenset({"roles", "rolebindings", "clusterroles", "clusterrolebindings"})


def gap_reach(service: str) -> GapReach | None:
    """Which rows a missing Kubernetes kind can change (None: any row of the cluster)."""
    if service == "secrets":
        return "k8s-secret"
    if service in RBAC_KINDS:
        return "rbac"
    return None


def coverage_gaps(snapshot: Snapshot) -> list[Gap]:
    """Every incomplete coverage entry, scoped to its account/region or cluster (and, for Kubernetes
    kinds whose absence can only change some rows, to those; see :class:`Gap`)."""
    out = []
    for c in snapshot.incomplete():
        what = f"{c.source} {c.scope} {c.service}: {c.status}" + (f" ({c.error})" if c.error else "")
        if c.resource:
            what += f" [{c.resource}]"
        if c.source == "aws":
            account, _, region = c.scope.partition("/")
            out.append(Gap(what=what, account_id=account, region=region or None))
        else:
            out.append(Gap(what=what, cluster=c.scope, reach=gap_reach(c.service)))
    return out


@paused
def build_graph(snapshot: Snapshot, *, inventory: Inventory | None = None, writes: bool = True) -> AccessGraph:
    """Build the access graph of a snapshot.

    Parameters
    ----------
    snapshot
        The collected records.
    inventory
        A prebuilt ``Inventory`` of the same snapshot (built here when not given).
    writes
        False: leave out the edges that overwrite a value (:data:`~irsa_lib.graph.schema.WRITE_MECHANISMS`),
        which no reading view follows (``irsa access``: up to a quarter of the build with identity
        policies on ``*``); the graph says so (``write_edges``).

    Returns
    -------
    AccessGraph
        Typed nodes, evidence-carrying edges, and ``gaps`` for what could not be judged.
    """
    graph = AccessGraph()
    inv = inventory if inventory is not None else Inventory.from_snapshot(snapshot)
    ctx = BuildContext.create(snapshot, graph, AwsView(snapshot, inv))
    for gap in coverage_gaps(snapshot):
        graph.add_gap(gap)
    for builder in BUILDERS:
        if writes or builder is not add_write_edges:
            builder(ctx)
    graph.write_edges = writes
    graph.evaluations = ctx.aws.evaluations
    _VIEWS[graph] = ctx.aws
    return graph
