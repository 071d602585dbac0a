"""Workload edges: a workload holds its service account's token and the Secrets it references.

The kubelet of the node running a pod may read every Secret the pod references: the node
authorizer grants it exactly those ("The node authorizer allows the Kubelet to read all of the
secrets mounted to the node", EKS best practices). The node of a pod-owning workload is not known,
so its Secrets are readable by ``kubelet:<cluster>/*``, "the kubelet of whichever node runs it".
"""

from __future__ import annotations

from irsa_lib import subjects
from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.nodes import k8s_secret_node
from irsa_lib.graph.schema import CLUSTER, NAME, NAMESPACE, EdgeData, Mechanism, NodeType, kubelet_id, workload_id


def add_workload_edges(ctx: BuildContext) -> None:
    g = ctx.graph
    for w in ctx.snapshot.workloads:
        wnode = workload_id(w.cluster, w.namespace, w.kind, w.name)
        sa_node = ctx.sa_node(w.cluster, w.namespace, w.service_account)
        g.add_edge(
            wnode,
            sa_node,
            EdgeData(
                mechanism=Mechanism.RUNS_AS,
                decision="allow",
                evidence=(f"{w.kind} {w.namespace}/{w.name} spec.serviceAccountName={w.service_account}",),
            ),
        )
        for ref in w.secret_refs:
            k8s = k8s_secret_node(ctx, w.cluster, w.namespace, ref.secret)
            g.add_edge(
                _kubelet_node(ctx, w.cluster, w.node_name),
                k8s,
                EdgeData(
                    mechanism=Mechanism.KUBELET_READ,
                    decision="allow",
                    evidence=(
                        f"{w.kind} {w.namespace}/{w.name} references Secret {ref.secret}: the node authorizer "
                        f"lets the kubelet of {w.node_name or 'the node running it'} read it",
                    ),
                ),
            )
            g.add_edge(
                wnode,
                k8s,
                EdgeData(
                    mechanism=Mechanism.MOUNTS_SECRET,
                    decision="allow",
                    evidence=(f"{w.kind} {w.namespace}/{w.name} uses Secret {ref.secret} via {ref.via}",),
                ),
                key=f"{Mechanism.MOUNTS_SECRET}:{ref.via}",
            )


def _kubelet_node(ctx: BuildContext, cluster: str, node: str | None) -> str:
    label = subjects.display(subjects.Subject(subjects.SubjectKind.KUBELET, cluster, None, node or "*"))
    return ctx.graph.add_node(
        kubelet_id(cluster, node), NodeType.KUBELET, label, **{CLUSTER: cluster, NAME: node or "*", NAMESPACE: None}
    )
