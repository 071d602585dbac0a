"""EKS Pod Identity edges: service account -> association role (-> targetRoleArn, chained by EKS).

The role's trust must allow ``pods.eks.amazonaws.com`` both ``sts:AssumeRole`` and (unless the
association disables session tags) ``sts:TagSession``, with the request tags EKS sets. The session
then carries those tags (transitive), so it is a ``role-session`` node evaluated with them.

``targetRoleArn``: EKS assumes the target role with the association role's session, passing
``sts:ExternalId`` and the transitive session tags (so the target's trust must allow
``sts:TagSession`` too, as in the EKS user guide's target-role trust policy); the target session
keeps the tags.

The association's inline session ``policy`` intersects with the role's permissions for the
credentials handed to the pod: the association role's session, or only the target role's session
when ``targetRoleArn`` is set ("the policy restrictions apply only to the target role's
permissions, not to the initial role", EKS API reference, UpdatePodIdentityAssociation).
"""

from __future__ import annotations

from irsa_lib.graph.aws import Identity, SessionPolicy
from irsa_lib.graph.chains import note_missing_role
from irsa_lib.graph.context import BuildContext, Reach
from irsa_lib.graph.core import Gap
from irsa_lib.graph.legs import Leg, combine, leg_edge
from irsa_lib.graph.schema import Mechanism
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
    policy = (
        SessionPolicy.of(assoc.policy, source=f"session policy of Pod Identity association {assoc.association_arn}")
        if assoc.policy is not None
        else None
    )
    # With a target role the pod only ever holds the target's credentials: the association
    # role's session is EKS's own hop (no reads or assumptions of its own), and the session
    # policy limits the target session only.
    target = assoc.target_role_arn
    identity = Identity(assoc.role_arn, tuple(sorted(tags.items())), None if target else policy)
    hop: Leg | None = None
    if target:
        note_missing_role(ctx, target, assoc.cluster_name, f"Pod Identity association {assoc.association_id}")
        hop = _target_hop(ctx, assoc, identity, tags)
        if hop is None:
            return
    sa_node = ctx.sa_node(*origin)
    node = ctx.session_node(identity, *origin, hop_only=True) if target else ctx.identity_node(identity, origin)
    evidence = (f"Pod Identity association {assoc.association_id} ({assoc.association_arn})", *leg.evidence)
    if identity.session_policy is not None:
        evidence += (f"the association's session policy limits this session ({identity.session_policy.source})",)
    ctx.graph.add_edge(
        sa_node,
        node,
        leg_edge(
            Mechanism.POD_IDENTITY,
            leg,
            evidence=evidence,
            configured=True,
        ),
    )
    reach = Reach(node=node, identity=identity, leg=leg, mechanism=Mechanism.POD_IDENTITY, configured=True)
    if target and hop is not None:
        target_identity = Identity(target, identity.tags, policy)
        target_node = ctx.identity_node(target_identity, origin)
        hop_evidence = (f"targetRoleArn of association {assoc.association_id}", *hop.evidence)
        if policy is not None:
            hop_evidence += (f"the association's session policy limits the target session ({policy.source})",)
        ctx.graph.add_edge(
            node,
            target_node,
            leg_edge(
                Mechanism.POD_IDENTITY_TARGET,
                hop,
                evidence=hop_evidence,
                chained=True,
            ),
        )
        both = combine([leg, hop])
        assert both is not None
        reach = Reach(
            node=target_node,
            identity=target_identity,
            leg=both,
            mechanism=Mechanism.POD_IDENTITY,
            configured=True,
            via=(node,),
        )
    ctx.sa_reach[sa_node].append(reach)


def _target_hop(
    ctx: BuildContext, assoc: PodIdentityAssociation, identity: Identity, tags: dict[str, str]
) -> Leg | None:
    """EKS assuming ``targetRoleArn`` with the association role's session (ExternalId, transitive tags)."""
    assert assoc.target_role_arn is not None
    context: dict[str, str | list[str]] = {}
    if assoc.external_id:
        context["sts:ExternalId"] = assoc.external_id
    if tags:
        context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        context["aws:TagKeys"] = sorted(tags)
        context["sts:TransitiveTagKeys"] = sorted(tags)
    actions = ("sts:AssumeRole", "sts:TagSession") if tags else ("sts:AssumeRole",)
    return combine(
        ctx.aws.assume(
            identity,
            assoc.target_role_arn,
            context=context,
            action=action,
            what=f"{action} {assoc.role_arn} -> {assoc.target_role_arn} (targetRoleArn)",
        )
        for action in actions
    )
