"""Workload edges: a workload holds its service account's token and the Secrets it references."""

from __future__ import annotations

from irsa_lib.graph.context import BuildContext
from irsa_lib.graph.nodes import k8s_secret_node
from irsa_lib.graph.schema import EdgeData, Mechanism, workload_id


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
                wnode,
                k8s,
                EdgeData(
                    mechanism=Mechanism.MOUNTS_SECRET,
                    decision="allow",
                    evidence=(f"{w.kind} {w.namespace}/{w.name} uses Secret {ref.secret} via {ref.via}",),
                ),
                key=f"{Mechanism.MOUNTS_SECRET}:{ref.via}",
            )
