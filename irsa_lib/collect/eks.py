"""EKS: clusters, managed node groups with their node role and IMDS settings, Pod Identity associations.

IMDS settings decide whether pods can reach the node role. They are taken, in order, from:

1. the node group's launch template version (``ec2:DescribeLaunchTemplateVersions`` MetadataOptions);
2. the node group's running instances (``ec2:DescribeInstances`` filtered by tag ``eks:nodegroup-name``),
   the most permissive settings among them, since one reachable node is enough;
3. for managed node groups without a launch template of their own: an assumption, recorded as
   ``metadata_source="eks-default"``. EKS then creates the launch template itself "with default values"
   (EKS User Guide, *Customize managed nodes with launch templates*), and eksctl and the official
   CloudFormation templates enable IMDSv1+v2 with hop limit 2 (EKS Best Practices Guide, security/iam,
   *Restrict access to the instance profile*). We therefore assume the permissive ``optional`` / hop limit 2,
   which never hides a path to the node role.

Pod Identity: moto has no Pod Identity API; an endpoint answering 404 / UnknownOperation is recorded as
``failed`` with "the endpoint does not implement this operation".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, arn_account, decode_policy
from irsa_lib.model import EKSCluster, MetadataOptions, NodeGroup, PodIdentityAssociation

SERVICE = "eks"
POD_IDENTITY_SERVICE = "eks:ListPodIdentityAssociations"

EKS_DEFAULT_METADATA = MetadataOptions(http_tokens="optional", hop_limit=2, http_endpoint="enabled")
"""Assumed IMDS settings of a managed node group with an EKS-generated launch template (see module doc)."""


# --- get ---------------------------------------------------------------------------------------------


def get_cluster_names(eks: Any) -> list[str]:
    return [n for page in eks.get_paginator("list_clusters").paginate() for n in page.get("clusters", [])]


def get_cluster(eks: Any, name: str) -> dict[str, Any]:
    return dict(eks.describe_cluster(name=name)["cluster"])


def get_nodegroup_names(eks: Any, cluster: str) -> list[str]:
    pages = eks.get_paginator("list_nodegroups").paginate(clusterName=cluster)
    return [n for page in pages for n in page.get("nodegroups", [])]


def get_nodegroup(eks: Any, cluster: str, name: str) -> dict[str, Any]:
    return dict(eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"])


def get_launch_template_metadata(ec2: Any, template: Mapping[str, Any]) -> dict[str, Any] | None:
    """MetadataOptions of the node group's launch template version (None when the template sets none)."""
    ref: dict[str, Any] = (
        {"LaunchTemplateId": template["id"]} if template.get("id") else {"LaunchTemplateName": template["name"]}
    )
    versions = ec2.describe_launch_template_versions(**ref, Versions=[str(template.get("version") or "$Default")])
    found = versions.get("LaunchTemplateVersions", [])
    if not found:
        return None
    options = found[0].get("LaunchTemplateData", {}).get("MetadataOptions")
    return dict(options) if options else None


def get_nodegroup_instances_metadata(ec2: Any, cluster: str, nodegroup: str) -> list[dict[str, Any]]:
    """MetadataOptions of the node group's running or pending instances."""
    filters = [
        {"Name": "tag:eks:nodegroup-name", "Values": [nodegroup]},
        {"Name": "tag:eks:cluster-name", "Values": [cluster]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]},
    ]
    pages = ec2.get_paginator("describe_instances").paginate(Filters=filters)
    return [
        dict(instance.get("MetadataOptions") or {})
        for page in pages
        for reservation in page.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    ]


def get_pod_identity_associations(eks: Any, cluster: str) -> list[dict[str, Any]]:
    """DescribePodIdentityAssociation for every association ListPodIdentityAssociations names."""
    pages = eks.get_paginator("list_pod_identity_associations").paginate(clusterName=cluster)
    summaries = [a for page in pages for a in page.get("associations", [])]
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


def transform_metadata_options(options: Mapping[str, Any]) -> MetadataOptions:
    hop = options.get("HttpPutResponseHopLimit")
    return MetadataOptions(
        http_tokens=options.get("HttpTokens"),
        hop_limit=int(hop) if hop is not None else None,
        http_endpoint=options.get("HttpEndpoint"),
    )


def most_permissive(options: Iterable[Mapping[str, Any]]) -> MetadataOptions | None:
    """The weakest IMDS settings among several instances: one reachable node suffices for a pod.

    >>> most_permissive([{"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
    ...                  {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2}])
    MetadataOptions(http_tokens='optional', hop_limit=2, http_endpoint=None)
    """
    items = [transform_metadata_options(o) for o in options]
    if not items:
        return None
    tokens = {i.http_tokens for i in items}
    hops = [i.hop_limit for i in items if i.hop_limit is not None]
    endpoints = {i.http_endpoint for i in items}
    return MetadataOptions(
        http_tokens="optional" if "optional" in tokens else (tokens.pop() if len(tokens) == 1 else None),
        hop_limit=max(hops) if hops else None,
        http_endpoint="enabled" if "enabled" in endpoints else (endpoints.pop() if len(endpoints) == 1 else None),
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
    scope: Scope, out: Partial, nodegroup: Mapping[str, Any]
) -> tuple[MetadataOptions | None, str | None]:
    """IMDS settings of a node group and where they came from; failures go to coverage."""
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
    try:
        instances = get_nodegroup_instances_metadata(ec2, nodegroup["clusterName"], nodegroup["nodegroupName"])
    except CALL_ERRORS as exc:
        out.failed(scope, "ec2:DescribeInstances", exc, "ec2:DescribeInstances", resource=resource)
        return None, None
    found = most_permissive(instances)
    if found is not None:
        return found, "instances"
    if not template:
        return EKS_DEFAULT_METADATA, "eks-default"
    return None, None


def collect_eks(scope: Scope) -> Partial:
    """Clusters and node groups of the region (Pod Identity is collected separately)."""
    out = Partial()
    assert scope.region is not None
    eks = scope.client("eks")
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
            metadata, source = _node_metadata(scope, out, ng)
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
