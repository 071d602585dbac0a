"""Node IMDS edges: workload -> node role, when the pod can reach the instance metadata service.

Reachable when IMDSv1 is allowed (``http_tokens`` not ``required``), or the PUT response hop limit
is 2 or more (the extra hop is the pod's network namespace), or the pod uses the host network
(no extra hop at all). Unknown settings give a ``conditional`` edge saying which are unknown.
Fargate has no instance metadata. The snapshot does not say which node group runs a pod, so a pod
may reach the role of every node group of its cluster.
"""

from __future__ import annotations

import dataclasses

from irsa_lib.graph.aws import Identity
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.legs import Leg, leg_edge
from irsa_lib.graph.schema import Mechanism, workload_id
from irsa_lib.model import NodeGroup, Workload


def imds_leg(ng: NodeGroup, w: Workload) -> Leg | None:
    """Whether this workload's pods reach IMDS on this node group's nodes."""
    return metadata_leg(ng, host_network=w.host_network, who=f"{w.kind} {w.namespace}/{w.name}")


def metadata_leg(ng: NodeGroup, *, host_network: bool, who: str) -> Leg | None:
    """Whether pods (``who``, for the evidence) reach IMDS on this node group's nodes."""
    mo = ng.metadata_options
    if mo is not None and mo.http_endpoint == "disabled":
        return None
    tokens = mo.http_tokens if mo else None
    hops = mo.hop_limit if mo else None
    where = f"node group {ng.cluster_name}/{ng.name}"
    settings = f"HttpTokens={tokens or 'unknown'}, hop limit {hops if hops is not None else 'unknown'}"
    source = f"(from {ng.metadata_source or 'an unknown source'})"
    if host_network:
        return Leg(
            decision="allow",
            evidence=(f"{who} uses hostNetwork (the hop limit does not apply); {where}: {settings} {source}",),
        )
    if tokens is not None and tokens != "required":
        return Leg(
            decision="allow",
            evidence=(f"{where}: HttpTokens={tokens} (IMDSv1 allowed), hop limit {hops or 'unknown'} {source}",),
        )
    if hops is not None and hops >= 2:
        return Leg(decision="allow", evidence=(f"{where}: HttpTokens={tokens}, hop limit {hops} (>= 2) {source}",))
    if tokens == "required" and hops is not None:
        return None
    unknown = [k for k, v in (("imds:http-tokens", tokens), ("imds:hop-limit", hops)) if v is None]
    return Leg(
        decision="conditional",
        evidence=(
            f"{where}: instance metadata settings unknown ({', '.join(unknown)}) {source}; pods may reach the node role",
        ),
        unresolved=tuple(unknown),
    )


def add_imds_edges(ctx: BuildContext) -> None:
    for groups in ctx.node_groups.values():
        for ng in groups:
            if ng.kind != "fargate" and ng.node_role_arn:
                ctx.role_node(ng.node_role_arn)  # a pod someone creates may reach it (RBAC)
    by_cluster: dict[str, list[Workload]] = {}
    for w in ctx.snapshot.workloads:
        by_cluster.setdefault(w.cluster, []).append(w)
    for cluster, workloads in by_cluster.items():
        groups = [ng for ng in ctx.node_groups.get(cluster, []) if ng.kind != "fargate"]
        if not groups:
            if not any(ng.kind == "fargate" for ng in ctx.node_groups.get(cluster, [])):
                ctx.graph.add_gap(
                    Gap(
                        what=f"cluster {cluster}: no node groups in the snapshot, so node-role access "
                        "through instance metadata is unknown",
                        cluster=cluster,
                    )
                )
            continue
        for ng in groups:
            if ng.node_role_arn is None and ng.kind == "self-managed" and ng.instance_profile_arn is None:
                continue  # instances without an instance profile: IMDS hands out no credentials
            if ng.node_role_arn is None:
                ctx.graph.add_gap(Gap(what=f"node group {ng.name} of {cluster}: node role unknown", cluster=cluster))
                continue
            if not ctx.aws.has_role(ng.node_role_arn) and not ctx.aws.account_collected(ng.account_id):
                ctx.graph.add_gap(Gap(what=f"node role {ng.node_role_arn} is not in the snapshot", cluster=cluster))
            for w in workloads:
                leg = imds_leg(ng, w)
                if leg is None:
                    continue
                wnode = workload_id(w.cluster, w.namespace, w.kind, w.name)
                rnode = ctx.role_node(ng.node_role_arn)
                ctx.graph.add_edge(
                    wnode,
                    rnode,
                    leg_edge(
                        Mechanism.NODE_IMDS,
                        leg,
                    ),
                    key=f"{Mechanism.NODE_IMDS}:{ng.name}",
                )
                ctx.imds_reach[wnode].append(
                    Reach(node=rnode, identity=Identity(ng.node_role_arn), leg=leg, mechanism=Mechanism.NODE_IMDS)
                )


HOST_NETWORK_FORBIDDEN = frozenset({"baseline", "restricted"})
"""Pod Security Standards levels that forbid ``hostNetwork``."""
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


def new_pod_legs(ctx: BuildContext, cluster: str, namespace: str) -> list[tuple[str, Leg]]:
    """(node role node, leg) for a pod someone creates in ``namespace``: it may use hostNetwork
    (then the hop limit does not apply) unless the namespace's Pod Security Admission level forbids
    it. Other admission controllers (policy engines, webhooks) are not collected: the evidence says so."""
    ns = ctx.namespaces.get((cluster, namespace))
    level = ns.labels.get(PSA_ENFORCE) if ns else None
    host_ok = level not in HOST_NETWORK_FORBIDDEN
    who = f"a pod created in {namespace}"
    note = (
        f"namespace {namespace}: {PSA_ENFORCE}={level!r} forbids hostNetwork"
        if not host_ok
        else f"namespace {namespace}: no Pod Security level forbids hostNetwork ({PSA_ENFORCE}={level!r}); "
        "other admission policies are not collected and may still forbid it"
    )
    out = []
    for ng in ctx.node_groups.get(cluster, []):
        if ng.kind == "fargate" or not ng.node_role_arn:
            continue
        leg = metadata_leg(ng, host_network=host_ok, who=who)
        if leg is not None:
            out.append((ctx.role_node(ng.node_role_arn), dataclasses.replace(leg, evidence=(note, *leg.evidence))))
    return out
