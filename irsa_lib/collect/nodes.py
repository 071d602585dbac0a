"""EC2 instances behind EKS nodes: their IMDS settings, and self-managed nodes outside managed node groups.

One paginated ``ec2:DescribeInstances`` per region, filtered by tag key, reads every instance that
carries a cluster tag (``kubernetes.io/cluster/<name>``, ``eks:cluster-name``,
``alpha.eksctl.io/cluster-name``) and is not terminated. Stopped instances are kept: started again,
they rejoin the cluster with the same role and IMDS settings. The list serves two purposes:

* managed node groups whose launch template sets no IMDS options take them from their instances
  (tagged ``eks:nodegroup-name``);
* every other cluster instance is a *self-managed* node (an Auto Scaling group, an eksctl unmanaged
  node group, Karpenter, a hand-launched instance). They are grouped per cluster by Auto Scaling group,
  eksctl node group, Karpenter node pool, launch template, else alone, and split by instance profile
  when a group's instances disagree. Each group becomes a ``NodeGroup`` with ``kind="self-managed"``,
  its ``instance_profile_arn`` and the most permissive IMDS settings of its instances, since one
  reachable node is enough for a pod.

The instance profile's role comes from IAM's authorization details, which are read concurrently;
:func:`resolve_node_roles` fills ``node_role_arn`` in once both are collected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from irsa_lib.collect.responses import listing
from irsa_lib.model import Coverage, InstanceProfile, MetadataOptions, NodeGroup

CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
"""Kubernetes' own cluster tag; its value is ``owned`` or ``shared``."""
CLUSTER_TAG_VALUES = frozenset({"owned", "shared"})
EKS_CLUSTER_TAG = "eks:cluster-name"
EKS_NODEGROUP_TAG = "eks:nodegroup-name"
"""Set by EKS on the instances of a managed node group."""
EKSCTL_CLUSTER_TAG = "alpha.eksctl.io/cluster-name"
EKSCTL_NODEGROUP_TAG = "alpha.eksctl.io/nodegroup-name"
ASG_TAG = "aws:autoscaling:groupName"
KARPENTER_TAGS = ("karpenter.sh/nodepool", "karpenter.sh/provisioner-name")
LAUNCH_TEMPLATE_TAG = "aws:ec2launchtemplate:id"
"""Set by EC2 on instances launched from a launch template."""

NODE_TAG_KEYS = (f"{CLUSTER_TAG_PREFIX}*", EKS_CLUSTER_TAG, EKSCTL_CLUSTER_TAG)
NODE_STATES = ("pending", "running", "stopping", "stopped")
SELF_MANAGED_SERVICE = "eks:self-managed-nodes"
"""Coverage service of the self-managed node groups of a region (and of their unresolved roles)."""
MIN_PAGE_SIZE = 5
"""DescribeInstances refuses a MaxResults below 5."""


# --- get ---------------------------------------------------------------------------------------------


def get_cluster_instances(ec2: Any, page_size: int | None = None) -> list[dict[str, Any]]:
    """Every non-terminated instance carrying a cluster tag: one paginated DescribeInstances."""
    filters = [
        {"Name": "tag-key", "Values": list(NODE_TAG_KEYS)},
        {"Name": "instance-state-name", "Values": list(NODE_STATES)},
    ]
    config = {"PageSize": max(page_size, MIN_PAGE_SIZE)} if page_size else {}
    pages = ec2.get_paginator("describe_instances").paginate(Filters=filters, PaginationConfig=config)
    return [
        dict(instance)
        for page in pages
        for reservation in listing(page, "Reservations")
        for instance in reservation.get("Instances", [])
    ]


# --- transform ---------------------------------------------------------------------------------------


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


def _tags(instance: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in instance.get("Tags") or () if "Key" in t}


def instance_clusters(tags: Mapping[str, str]) -> tuple[str, ...]:
    """The clusters an instance's tags say it belongs to.

    >>> instance_clusters({"kubernetes.io/cluster/prod": "owned", "eks:cluster-name": "prod"})
    ('prod',)
    >>> instance_clusters({"kubernetes.io/cluster/prod": "no"})
    ()
    """
    names = {
        key.removeprefix(CLUSTER_TAG_PREFIX)
        for key, value in tags.items()
        if key.startswith(CLUSTER_TAG_PREFIX) and value in CLUSTER_TAG_VALUES
    }
    names.update(tags[key] for key in (EKS_CLUSTER_TAG, EKSCTL_CLUSTER_TAG) if tags.get(key))
    return tuple(sorted(n for n in names if n))


def group_name(tags: Mapping[str, str], instance_id: str) -> str:
    """The self-managed group an instance belongs to, by the most specific tag it carries.

    >>> group_name({"aws:autoscaling:groupName": "prod-nodes", "aws:ec2launchtemplate:id": "lt-1"}, "i-1")
    'prod-nodes'
    >>> group_name({"aws:ec2launchtemplate:id": "lt-1"}, "i-1"), group_name({}, "i-2")
    ('launch-template/lt-1', 'instance/i-2')
    """
    if tags.get(ASG_TAG):
        return tags[ASG_TAG]
    if tags.get(EKSCTL_NODEGROUP_TAG):
        return tags[EKSCTL_NODEGROUP_TAG]
    pool = next((tags[k] for k in KARPENTER_TAGS if tags.get(k)), None)
    if pool:
        return f"karpenter/{pool}"
    if tags.get(LAUNCH_TEMPLATE_TAG):
        return f"launch-template/{tags[LAUNCH_TEMPLATE_TAG]}"
    return f"instance/{instance_id}"


def _profile_arn(instance: Mapping[str, Any]) -> str | None:
    arn = (instance.get("IamInstanceProfile") or {}).get("Arn")
    return str(arn) if arn else None


def managed_instance_metadata(instances: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """MetadataOptions of managed node group instances, by (cluster, node group)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for instance in instances:
        tags = _tags(instance)
        if tags.get(EKS_NODEGROUP_TAG) and tags.get(EKS_CLUSTER_TAG):
            key = (tags[EKS_CLUSTER_TAG], tags[EKS_NODEGROUP_TAG])
            out.setdefault(key, []).append(dict(instance.get("MetadataOptions") or {}))
    return out


def transform_self_managed(instances: Iterable[Mapping[str, Any]], *, account_id: str, region: str) -> list[NodeGroup]:
    """Self-managed node groups (role not yet resolved) from the region's cluster instances."""
    groups: dict[tuple[str, str], dict[str | None, list[Mapping[str, Any]]]] = {}
    for instance in instances:
        tags = _tags(instance)
        if tags.get(EKS_NODEGROUP_TAG):
            continue  # a managed node group's instance
        name = group_name(tags, str(instance["InstanceId"]))
        for cluster in instance_clusters(tags):
            groups.setdefault((cluster, name), {}).setdefault(_profile_arn(instance), []).append(instance)
    out: list[NodeGroup] = []
    for (cluster, name), by_profile in sorted(groups.items()):
        for profile, members in sorted(by_profile.items(), key=lambda item: item[0] or ""):
            label = name
            if len(by_profile) > 1:
                label += f" [{profile.rsplit('/', 1)[-1] if profile else 'no instance profile'}]"
            out.append(
                NodeGroup(
                    cluster_name=cluster,
                    name=label,
                    account_id=account_id,
                    region=region,
                    node_role_arn=None,
                    metadata_options=most_permissive(m.get("MetadataOptions") or {} for m in members),
                    metadata_source="instances",
                    kind="self-managed",
                    instance_profile_arn=profile,
                )
            )
    return out


def resolve_node_roles(
    node_groups: Sequence[NodeGroup], profiles: Sequence[InstanceProfile], iam: Mapping[str, Coverage]
) -> tuple[list[NodeGroup], list[Coverage]]:
    """Self-managed groups with ``node_role_arn`` from their instance profile; gaps as coverage.

    ``iam``: each account's ``iam`` coverage entry. IAM's authorization details list every instance
    profile that holds a role, so when IAM was read in full a profile not among them holds none (its
    instances get no credentials from IMDS: ``not_found``); when IAM was not read, the role is unknown.
    """
    by_arn = {p.arn: p for p in profiles}
    out: list[NodeGroup] = []
    gaps: list[Coverage] = []
    for ng in node_groups:
        if ng.kind != "self-managed" or ng.node_role_arn or not ng.instance_profile_arn:
            out.append(ng)
            continue
        profile = by_arn.get(ng.instance_profile_arn)
        if profile is not None and profile.role_arns:
            out.append(dataclasses.replace(ng, node_role_arn=profile.role_arns[0]))
            continue
        out.append(ng)
        where = f"self-managed nodes {ng.cluster_name}/{ng.name}"
        state = iam.get(ng.account_id)
        if state is not None and state.status == "ok":
            status: Any = "not_found"
            error = (
                f"{where}: instance profile {ng.instance_profile_arn} holds no role (not in IAM's authorization "
                "details): the instances get no credentials from IMDS"
            )
        else:
            status = state.status if state is not None else "failed"
            why = state.error if state is not None and state.error else "IAM was not collected"
            error = f"{where}: node role unknown, instance profile {ng.instance_profile_arn} not resolved ({why})"
        gaps.append(
            Coverage(
                source="aws",
                scope=f"{ng.account_id}/{ng.region}",
                service=SELF_MANAGED_SERVICE,
                status=status,
                error=error,
                resource=ng.instance_profile_arn,
            )
        )
    return out, gaps
