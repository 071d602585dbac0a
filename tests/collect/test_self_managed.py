"""Self-managed EKS nodes: found by tag in one DescribeInstances per region, grouped, their role resolved.

moto accepts the ``aws:``-prefixed tags that EC2 Auto Scaling and EC2 themselves set on the instances they
launch (AWS refuses them from users), so the instances are launched directly with the tags, instance
profile and IMDS options an Auto Scaling group or launch template would have given them: moto's own
Auto Scaling launches apply neither the template's instance profile nor its MetadataOptions.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from irsa_lib.collect.aws import AwsTarget, collect_aws
from irsa_lib.findings import run_findings
from irsa_lib.model import MetadataOptions, NodeGroup
from tests.collect.proxy import AwsProxy, ErrorRule
from tests.collect.seed import ACCOUNT, NODE_TRUST, REGION, seed_account

pytestmark = pytest.mark.integration
SCOPE = f"{ACCOUNT}/{REGION}"
OTHER_REGION = "us-west-2"
SELF_ROLE = f"arn:aws:iam::{ACCOUNT}:role/nodes/self-node-role"
SELF_PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/nodes/self-nodes"
EKS_NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-node-role"
EKS_NODE_PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/eks-node-profile"
ORPHAN_PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/orphan"
READ_EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameter", "kms:Decrypt"], "Resource": "*"}],
}


def _imds(tokens: str, hop: int) -> dict[str, Any]:
    return {"HttpTokens": tokens, "HttpPutResponseHopLimit": hop, "HttpEndpoint": "enabled"}


class Fleet:
    """Launches instances with given tags, instance profile and IMDS options; remembers their ids."""

    def __init__(self, endpoint: str) -> None:
        self.ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint)

    def launch(
        self,
        tags: dict[str, str],
        *,
        profile: str | None = None,
        imds: dict[str, Any] | None = None,
        template: str | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1}
        if tags:
            kwargs["TagSpecifications"] = [
                {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            ]
        if profile:
            kwargs["IamInstanceProfile"] = {"Arn": profile}
        if imds:
            kwargs["MetadataOptions"] = imds
        if template:
            kwargs["LaunchTemplate"] = {"LaunchTemplateId": template, "Version": "1"}
        return str(self.ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"])


def seed_nodes(endpoint: str) -> dict[str, str]:
    """The seeded account plus self-managed nodes of two clusters; returns ids the expectations need."""
    seeded = seed_account(endpoint)
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
    iam.create_role(RoleName="self-node-role", Path="/nodes/", AssumeRolePolicyDocument=json.dumps(NODE_TRUST))
    iam.put_role_policy(RoleName="self-node-role", PolicyName="read", PolicyDocument=json.dumps(READ_EVERYTHING))
    iam.create_instance_profile(InstanceProfileName="self-nodes", Path="/nodes/")
    iam.add_role_to_instance_profile(InstanceProfileName="self-nodes", RoleName="self-node-role")
    iam.create_instance_profile(InstanceProfileName="orphan")  # holds no role
    boto3.client("eks", region_name=REGION, endpoint_url=endpoint).create_cluster(
        name="batch",
        version="1.29",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    fleet = Fleet(endpoint)
    asg = {"kubernetes.io/cluster/demo": "owned", "aws:autoscaling:groupName": "demo-asg"}
    # an Auto Scaling group of three nodes whose IMDS settings differ
    fleet.launch(asg, profile=SELF_PROFILE, imds=_imds("required", 1))
    fleet.launch(asg, profile=SELF_PROFILE, imds=_imds("optional", 1))
    fleet.launch(asg, profile=SELF_PROFILE, imds=_imds("required", 3))
    # an eksctl unmanaged node group, told by eksctl's tags
    eksctl = {
        "alpha.eksctl.io/cluster-name": "demo",
        "alpha.eksctl.io/nodegroup-name": "ng-legacy",
        "kubernetes.io/cluster/demo": "owned",
    }
    fleet.launch(eksctl, profile=EKS_NODE_PROFILE, imds=_imds("required", 2))
    # a node of the other cluster launched from a launch template (EC2 tags it aws:ec2launchtemplate:id)
    fleet.launch(
        {"eks:cluster-name": "batch"},
        profile=SELF_PROFILE,
        imds=_imds("required", 1),
        template=seeded.launch_template_id,
    )
    # a lone node whose instance profile holds no role
    lone = fleet.launch({"kubernetes.io/cluster/batch": "shared"}, profile=ORPHAN_PROFILE, imds=_imds("optional", 2))
    # an Auto Scaling group in the middle of an instance-profile change
    mixed = {"kubernetes.io/cluster/demo": "owned", "aws:autoscaling:groupName": "mixed-asg"}
    fleet.launch(mixed, profile=SELF_PROFILE, imds=_imds("required", 1))
    fleet.launch(mixed, imds=_imds("required", 1))
    # not self-managed nodes: a managed node group's instance, a foreign tag value, no tag, a terminated node
    managed = {"eks:cluster-name": "demo", "eks:nodegroup-name": "workers", "kubernetes.io/cluster/demo": "owned"}
    fleet.launch(managed, profile=EKS_NODE_PROFILE, imds=_imds("optional", 2))
    fleet.launch({"kubernetes.io/cluster/demo": "unrelated"}, profile=SELF_PROFILE, imds=_imds("optional", 2))
    fleet.launch({}, profile=SELF_PROFILE, imds=_imds("optional", 2))
    gone = fleet.launch(asg, profile=SELF_PROFILE, imds=_imds("optional", 9))
    fleet.ec2.terminate_instances(InstanceIds=[gone])
    return {"lone": lone, "template": seeded.launch_template_id}


def _self_managed(snap: Any) -> dict[tuple[str, str], NodeGroup]:
    return {(ng.cluster_name, ng.name): ng for ng in snap.node_groups if ng.kind == "self-managed"}


def _expected(ids: dict[str, str], *, roles: bool = True) -> dict[tuple[str, str], NodeGroup]:
    def group(cluster: str, name: str, role: str | None, profile: str | None, tokens: str, hop: int) -> NodeGroup:
        return NodeGroup(
            cluster_name=cluster,
            name=name,
            account_id=ACCOUNT,
            region=REGION,
            node_role_arn=role if roles else None,
            metadata_options=MetadataOptions(http_tokens=tokens, hop_limit=hop, http_endpoint="enabled"),
            metadata_source="instances",
            kind="self-managed",
            instance_profile_arn=profile,
        )

    found = [
        # optional from the second node, hop limit 3 from the third: the most permissive of the group
        group("demo", "demo-asg", SELF_ROLE, SELF_PROFILE, "optional", 3),
        group("demo", "ng-legacy", EKS_NODE_ROLE, EKS_NODE_PROFILE, "required", 2),
        group("demo", "mixed-asg [self-nodes]", SELF_ROLE, SELF_PROFILE, "required", 1),
        group("demo", "mixed-asg [no instance profile]", None, None, "required", 1),
        group("batch", f"launch-template/{ids['template']}", SELF_ROLE, SELF_PROFILE, "required", 1),
        group("batch", f"instance/{ids['lone']}", None, ORPHAN_PROFILE, "optional", 2),
    ]
    return {(g.cluster_name, g.name): g for g in found}


@pytest.mark.parametrize(("page_size", "pages"), [(None, 1), (2, 2)])
def test_self_managed_nodes_are_grouped_and_resolved(
    proxy: AwsProxy, moto: str, page_size: int | None, pages: int
) -> None:
    ids = seed_nodes(moto)
    snap = collect_aws(
        [AwsTarget(regions=(REGION, OTHER_REGION))], endpoint_url=proxy.url, progress=False, page_size=page_size
    )

    assert _self_managed(snap) == _expected(ids)
    # the managed node group keeps its launch template's settings
    (managed,) = [ng for ng in snap.node_groups if ng.kind == "managed"]
    assert (managed.name, managed.metadata_source, managed.instance_profile_arn) == ("workers", "launch-template", None)
    # one DescribeInstances per region (10 tagged, live instances: two pages of 5 with page_size), not per cluster
    described = [c for c in proxy.calls if c.operation == "DescribeInstances"]
    assert sorted(c.region for c in described) == sorted([REGION] * pages + [OTHER_REGION])
    assert all(
        c.params.get("Filter.1.Name") == "tag-key"
        and [c.params.get(f"Filter.1.Value.{i}") for i in (1, 2, 3)]
        == ["kubernetes.io/cluster/*", "eks:cluster-name", "alpha.eksctl.io/cluster-name"]
        for c in described
    )
    coverage = {(c.scope, c.service, c.resource): (c.status, c.count, c.error) for c in snap.coverage}
    assert coverage[(SCOPE, "eks:self-managed-nodes", None)] == ("ok", 6, None)
    assert coverage[(f"{ACCOUNT}/{OTHER_REGION}", "eks:self-managed-nodes", None)] == ("ok", 0, None)
    assert coverage[(SCOPE, "eks:self-managed-nodes", ORPHAN_PROFILE)] == (
        "not_found",
        None,
        f"self-managed nodes batch/instance/{ids['lone']}: instance profile {ORPHAN_PROFILE} holds no role "
        "(not in IAM's authorization details): the instances get no credentials from IMDS",
    )
    assert coverage[(SCOPE, "eks", None)][:2] == ("ok", 3)  # two clusters, one managed node group


def test_self_managed_node_role_reaching_secrets_is_a_finding(moto: str) -> None:
    seed_nodes(moto)
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False)
    # By hand: self-node-role may ssm:GetParameter + kms:Decrypt on *, and /billing/db's key policy
    # delegates to the account, so the role reads it. demo-asg's nodes allow IMDSv1 with hop limit 3:
    # pods reach the role. The batch launch-template nodes (required, hop 1) alone would not.
    failing = [f for f in run_findings(snap, rules=["F05"]) if f.status == "fail"]
    assert [f.resource for f in failing] == [SELF_ROLE]
    assert failing[0].evidence[0] == (
        "node group demo/demo-asg: HttpTokens=optional (IMDSv1 allowed), hop limit 3 (from instances)"
    )


def test_unreadable_iam_leaves_self_managed_roles_unknown(proxy: AwsProxy, moto: str) -> None:
    ids = seed_nodes(moto)
    denied = "not authorized to perform: iam:GetAccountAuthorizationDetails"
    proxy.rules.append(
        ErrorRule(service="iam", operation="GetAccountAuthorizationDetails", code="AccessDenied", message=denied)
    )
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False)

    assert _self_managed(snap) == _expected(ids, roles=False)
    unresolved = {
        c.error: c.status for c in snap.coverage if c.service == "eks:self-managed-nodes" and c.resource is not None
    }
    why = f"iam:GetAccountAuthorizationDetails: AccessDenied: {denied}"
    assert unresolved == {
        f"self-managed nodes {where}: node role unknown, instance profile {profile} not resolved ({why})": "denied"
        for where, profile in [
            ("demo/demo-asg", SELF_PROFILE),
            ("demo/ng-legacy", EKS_NODE_PROFILE),
            ("demo/mixed-asg [self-nodes]", SELF_PROFILE),
            (f"batch/launch-template/{ids['template']}", SELF_PROFILE),
            (f"batch/instance/{ids['lone']}", ORPHAN_PROFILE),
        ]
    }


def test_denied_instance_listing_is_recorded_and_managed_groups_still_read(proxy: AwsProxy, moto: str) -> None:
    seed_nodes(moto)
    proxy.rules.append(
        ErrorRule(service="ec2", operation="DescribeInstances", code="UnauthorizedOperation", message="no ec2 read")
    )
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False)
    gaps = {(c.service, c.status, c.error) for c in snap.coverage if c.scope == SCOPE and c.status != "ok"}
    assert (
        "ec2:DescribeInstances",
        "denied",
        "ec2:DescribeInstances (instances tagged for a cluster): UnauthorizedOperation: no ec2 read",
    ) in gaps
    assert not any(c.service == "eks:self-managed-nodes" for c in snap.coverage)
    assert [(ng.name, ng.kind, ng.metadata_source) for ng in snap.node_groups] == [
        ("workers", "managed", "launch-template")
    ]
