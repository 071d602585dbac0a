"""EKS Pod Identity edges: service account -> association role (-> targetRoleArn, chained by EKS).

The role's trust must allow ``pods.eks.amazonaws.com`` both ``sts:AssumeRole`` and (unless the
association disables session tags) ``sts:TagSession``, with the request tags EKS sets. The session
then carries those tags (transitive), so it is a ``role-session`` node evaluated with them.
The association's inline session policy only narrows access; it is not applied here (the graph
over-approximates rather than miss a path).
"""

from __future__ import annotations

from irsa_lib.graph.aws import Identity
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.legs import combine
from irsa_lib.graph.schema import EdgeData, Mechanism
from irsa_lib.model import PodIdentityAssociation

SERVICE = "pods.eks.amazonaws.com"


def session_tags(assoc: PodIdentityAssociation, cluster_arn: str | None) -> dict[str, str]:
    """The tags EKS puts on the session (pod name / uid vary per pod and are left out)."""
    if assoc.disable_session_tags:
        return {}
    tags = {
        "eks-cluster-name": assoc.cluster_name,
        "kubernetes-namespace": assoc.namespace,
        "kubernetes-service-account": assoc.service_account,
    }
    if cluster_arn:
        tags["eks-cluster-arn"] = cluster_arn
    return tags


def add_pod_identity_edges(ctx: BuildContext) -> None:
    for assoc in ctx.snapshot.pod_identity_associations:
        _association(ctx, assoc)


def _association(ctx: BuildContext, assoc: PodIdentityAssociation) -> None:
    eks = ctx.clusters.get(assoc.cluster_name)
    cluster_arn = eks.arn if eks else None
    tags = session_tags(assoc, cluster_arn)
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    context["aws:SourceAccount"] = assoc.account_id
    if cluster_arn:
        context["aws:SourceArn"] = cluster_arn
    actions = ["sts:AssumeRole", "sts:TagSession"] if tags else ["sts:AssumeRole"]
    if not ctx.aws.has_role(assoc.role_arn):
        if not ctx.aws.account_collected(assoc.account_id):
            ctx.graph.add_gap(
                Gap(what=f"Pod Identity role {assoc.role_arn} is not in the snapshot", cluster=assoc.cluster_name)
            )
        return
    leg = ctx.aws.service_assume(SERVICE, assoc.role_arn, actions, context)
    if leg is None:
        return
    origin = (assoc.cluster_name, assoc.namespace, assoc.service_account)
    sa_node = ctx.sa_node(*origin)
    identity = Identity(assoc.role_arn, tuple(sorted(tags.items())))
    node = ctx.identity_node(identity, origin)
    evidence = (f"Pod Identity association {assoc.association_id} ({assoc.association_arn})", *leg.evidence)
    ctx.graph.add_edge(
        sa_node,
        node,
        EdgeData(
            mechanism=Mechanism.POD_IDENTITY,
            decision=leg.decision,
            evidence=evidence,
            unresolved_keys=leg.unresolved,
            missing=leg.missing,
            configured=True,
        ),
    )
    via: tuple[str, ...] = ()
    final_node, final_identity, final_leg = node, identity, combine([leg])
    if assoc.target_role_arn:
        hop_context: dict[str, str] = {}
        if assoc.external_id:
            hop_context["sts:ExternalId"] = assoc.external_id
        hop = ctx.aws.assume(identity, assoc.target_role_arn, context=hop_context)
        if hop is None:
            return
        target_identity = Identity(assoc.target_role_arn, identity.tags)
        target_node = ctx.identity_node(target_identity, origin)
        ctx.graph.add_edge(
            node,
            target_node,
            EdgeData(
                mechanism=Mechanism.POD_IDENTITY_TARGET,
                decision=hop.decision,
                evidence=(f"targetRoleArn of association {assoc.association_id}", *hop.evidence),
                unresolved_keys=hop.unresolved,
                missing=hop.missing,
                chained=True,
            ),
        )
        final_node, final_identity, final_leg = target_node, target_identity, combine([leg, hop])
        via = (node,)
    assert final_leg is not None
    ctx.sa_reach[sa_node].append(
        Reach(
            node=final_node,
            identity=final_identity,
            leg=final_leg,
            mechanism=Mechanism.POD_IDENTITY,
            configured=True,
            via=via,
        )
    )
