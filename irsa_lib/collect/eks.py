"""EKS: clusters, node groups (managed and self-managed) with their node role and IMDS settings, Pod Identity.

IMDS settings decide whether pods can reach the node role. For a managed node group they are taken, in
order, from:

1. the node group's launch template version (``ec2:DescribeLaunchTemplateVersions`` MetadataOptions);
2. the node group's instances (tagged ``eks:nodegroup-name``, from the region's one
   ``ec2:DescribeInstances``, see :mod:`irsa_lib.collect.nodes`), the most permissive settings among
   them, since one reachable node is enough;
3. for managed node groups without a launch template of their own: an assumption, recorded as
   ``metadata_source="eks-default"``. EKS then creates the launch template itself "with default values"
   (EKS User Guide, *Customize managed nodes with launch templates*), and eksctl and the official
   CloudFormation templates enable IMDSv1+v2 with hop limit 2 (EKS Best Practices Guide, security/iam,
   *Restrict access to the instance profile*). We therefore assume the permissive ``optional`` / hop limit 2,
   which never hides a path to the node role.

Self-managed nodes (cluster instances outside managed node groups) come from the same instance list:
see :mod:`irsa_lib.collect.nodes`; their role is filled in from IAM's instance profiles afterwards.

Pod Identity: moto has no Pod Identity API; an endpoint answering 404 / UnknownOperation is recorded as
``failed`` with "the endpoint does not implement this operation".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, arn_account
from irsa_lib.collect.documents import decode_policy
from irsa_lib.collect.nodes import (
    SELF_MANAGED_SERVICE,
    get_cluster_instances,
    managed_instance_metadata,
    most_permissive,
    transform_metadata_options,
    transform_self_managed,
)
from irsa_lib.collect.responses import listing
from irsa_lib.model import EKSCluster, MetadataOptions, NodeGroup, PodIdentityAssociation

SERVICE = "eks"
POD_IDENTITY_SERVICE = "eks:ListPodIdentityAssociations"

EKS_DEFAULT_METADATA = MetadataOptions(http_tokens="optional", hop_limit=2, http_endpoint="enabled")
"""Assumed IMDS settings of a managed node group with an EKS-generated launch template (see module doc)."""


# --- get ---------------------------------------------------------------------------------------------


def get_cluster_names(eks: Any) -> list[str]:
    return [n for page in eks.get_paginator("list_clusters").paginate() for n in listing(page, "clusters")]


def get_cluster(eks: Any, name: str) -> dict[str, Any]:
    return dict(eks.describe_cluster(name=name)["cluster"])


def get_nodegroup_names(eks: Any, cluster: str) -> list[str]:
    pages = eks.get_paginator("list_nodegroups").paginate(clusterName=cluster)
    return [n for page in pages for n in listing(page, "nodegroups")]


def get_nodegroup(eks: Any, cluster: str, name: str) -> dict[str, Any]:
    return dict(eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"])


def get_launch_template_metadata(ec2: Any, template: Mapping[str, Any]) -> dict[str, Any] | None:
    """MetadataOptions of the node group's launch template version (None when the template sets none)."""
    ref: dict[str, Any] = (
        {"LaunchTemplateId": template["id"]} if template.get("id") else {"LaunchTemplateName": template["name"]}
    )
    versions = ec2.describe_launch_template_versions(**ref, Versions=[str(template.get("version") or "$Default")])
    found = listing(versions, "LaunchTemplateVersions")
    if not found:
        return None
    options = found[0].get("LaunchTemplateData", {}).get("MetadataOptions")
    return dict(options) if options else None


def get_pod_identity_associations(eks: Any, cluster: str) -> list[dict[str, Any]]:
    """DescribePodIdentityAssociation for every association ListPodIdentityAssociations names."""
    pages = eks.get_paginator("list_pod_identity_associations").paginate(clusterName=cluster)
    summaries = [a for page in pages for a in listing(page, "associations")]
    return [
        dict(
            eks.describe_pod_identity_association(clusterName=cluster, associationId=a["associationId"])["association"]
        )
        for a in summaries
    ]


# --- transform ---------------------------------------------------------------------------------------


def transform_cluster(cluster: Mapping[str, Any], *, region: str) -> EKSCluster:
    issuer = (cluster.get("identity") or {}).get("oidc", {}).get("issuer")
    return EKSCluster(
        name=cluster["name"],
        arn=cluster["arn"],
        account_id=arn_account(cluster["arn"]),
        region=region,
        version=cluster.get("version"),
        oidc_issuer=issuer,
        status=cluster.get("status"),
    )


def transform_nodegroup(
    nodegroup: Mapping[str, Any],
    *,
    region: str,
    metadata: MetadataOptions | None,
    metadata_source: str | None,
) -> NodeGroup:
    arn = nodegroup.get("nodegroupArn")
    return NodeGroup(
        cluster_name=nodegroup["clusterName"],
        name=nodegroup["nodegroupName"],
        account_id=arn_account(arn) if arn else arn_account(nodegroup.get("nodeRole") or ""),
        region=region,
        node_role_arn=nodegroup.get("nodeRole"),
        arn=arn,
        metadata_options=metadata,
        metadata_source=metadata_source,
        kind="managed",
    )


def transform_pod_identity_association(association: Mapping[str, Any], *, region: str) -> PodIdentityAssociation:
    policy = association.get("policy")
    return PodIdentityAssociation(
        association_arn=association["associationArn"],
        association_id=association["associationId"],
        cluster_name=association["clusterName"],
        namespace=association["namespace"],
        service_account=association["serviceAccount"],
        role_arn=association["roleArn"],
        account_id=arn_account(association["associationArn"]),
        region=region,
        target_role_arn=association.get("targetRoleArn") or None,
        external_id=association.get("externalId") or None,
        disable_session_tags=bool(association.get("disableSessionTags", False)),
        policy=decode_policy(policy) if policy else None,
    )


# --- collect -----------------------------------------------------------------------------------------


def _node_metadata(
    scope: Scope,
    out: Partial,
    nodegroup: Mapping[str, Any],
    instances: Mapping[tuple[str, str], list[dict[str, Any]]] | None,
) -> tuple[MetadataOptions | None, str | None]:
    """IMDS settings of a managed node group and where they came from; failures go to coverage.

    ``instances``: MetadataOptions of managed instances by (cluster, node group); None when the
    region's instances could not be listed.
    """
    ec2 = scope.client("ec2")
    resource = nodegroup.get("nodegroupArn") or f"{nodegroup['clusterName']}/{nodegroup['nodegroupName']}"
    template = nodegroup.get("launchTemplate")
    if template:
        try:
            options = get_launch_template_metadata(ec2, template)
        except CALL_ERRORS as exc:
            out.failed(
                scope,
                "ec2:DescribeLaunchTemplateVersions",
                exc,
                "ec2:DescribeLaunchTemplateVersions",
                resource=resource,
            )
        else:
            if options:
                return transform_metadata_options(options), "launch-template"
    if instances is None:
        return None, None
    found = most_permissive(instances.get((nodegroup["clusterName"], nodegroup["nodegroupName"]), []))
    if found is not None:
        return found, "instances"
    if not template:
        return EKS_DEFAULT_METADATA, "eks-default"
    return None, None


def _cluster_instances(scope: Scope, out: Partial, page_size: int | None) -> list[dict[str, Any]] | None:
    """The region's cluster instances (one DescribeInstances), or None with the failure recorded."""
    try:
        return get_cluster_instances(scope.client("ec2"), page_size)
    except CALL_ERRORS as exc:
        out.failed(scope, "ec2:DescribeInstances", exc, "ec2:DescribeInstances (instances tagged for a cluster)")
        return None


def collect_eks(scope: Scope, *, page_size: int | None = None) -> Partial:
    """Clusters, managed and self-managed node groups of the region, and Pod Identity associations."""
    out = Partial()
    assert scope.region is not None
    eks = scope.client("eks")
    instances = _cluster_instances(scope, out, page_size)
    if instances is not None:
        self_managed = transform_self_managed(instances, account_id=scope.account_id, region=scope.region)
        out.add("node_groups", self_managed)
        out.ok(scope, SELF_MANAGED_SERVICE, len(self_managed))
    managed_metadata = managed_instance_metadata(instances) if instances is not None else None
    try:
        names = get_cluster_names(eks)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "eks:ListClusters")
        return out
    clusters: list[EKSCluster] = []
    nodegroups: list[NodeGroup] = []
    for name in names:
        try:
            clusters.append(transform_cluster(get_cluster(eks, name), region=scope.region))
        except CALL_ERRORS as exc:
            out.failed(scope, "eks:DescribeCluster", exc, "eks:DescribeCluster", resource=name)
            continue
        try:
            ng_names = get_nodegroup_names(eks, name)
        except CALL_ERRORS as exc:
            out.failed(scope, "eks:ListNodegroups", exc, "eks:ListNodegroups", resource=name)
            continue
        for ng_name in ng_names:
            try:
                ng = get_nodegroup(eks, name, ng_name)
            except CALL_ERRORS as exc:
                out.failed(scope, "eks:DescribeNodegroup", exc, "eks:DescribeNodegroup", resource=f"{name}/{ng_name}")
                continue
            metadata, source = _node_metadata(scope, out, ng, managed_metadata)
            nodegroups.append(transform_nodegroup(ng, region=scope.region, metadata=metadata, metadata_source=source))
    out.add("clusters", clusters)
    out.add("node_groups", nodegroups)
    out.ok(scope, SERVICE, len(clusters) + len(nodegroups))
    out.extend(collect_pod_identity(scope, [c.name for c in clusters]))
    return out


def collect_pod_identity(scope: Scope, cluster_names: Iterable[str]) -> Partial:
    """Pod Identity associations of the given clusters; one coverage entry for the region."""
    out = Partial()
    assert scope.region is not None
    eks = scope.client("eks")
    associations: list[PodIdentityAssociation] = []
    failed = False
    for name in cluster_names:
        try:
            found = get_pod_identity_associations(eks, name)
        except CALL_ERRORS as exc:
            out.failed(scope, POD_IDENTITY_SERVICE, exc, "eks:ListPodIdentityAssociations", resource=name)
            failed = True
            continue
        associations.extend(transform_pod_identity_association(a, region=scope.region) for a in found)
    out.add("pod_identity_associations", associations)
    if not failed:
        out.ok(scope, POD_IDENTITY_SERVICE, len(associations))
    return out
