"""The local endpoint: moto over HTTP on 127.0.0.1, and the EKS Pod Identity stand-in's API shapes."""

from __future__ import annotations

import json
import os
import socket
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from irsa_lib.demo.server import (
    LocalAws,
    aws_client,
    export_lines,
    local_aws,
    local_aws_env,
    patched_env,
)

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/pod-role"


def _cluster(aws: LocalAws, name: str = "c1") -> None:
    ec2 = aws_client("ec2", aws.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    aws_client("eks", aws.endpoint_url).create_cluster(
        name=name, roleArn="arn:aws:iam::123456789012:role/cluster", resourcesVpcConfig={"subnetIds": [subnet]}
    )


class RawBodies:
    """Keeps the raw JSON body of every EKS response, to compare with the service model."""

    def __init__(self, client: Any) -> None:
        self.bodies: dict[str, Any] = {}
        client.meta.events.register("after-call.eks", self._keep)

    def _keep(self, http_response: Any, model: Any, **_: Any) -> None:
        self.bodies[model.name] = json.loads(http_response.content or b"{}")


def _assert_matches_model(client: Any, operation: str, parsed: dict[str, Any], raw: dict[str, Any]) -> None:
    """The response validates against the operation's output shape, and carries no unknown member."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()

    def unknown(value: Any, shape: Any, where: str) -> list[str]:
        if shape.type_name == "structure":
            out = [f"{where}.{k}" for k in value if k not in shape.members]
            for k, v in value.items():
                if k in shape.members:
                    out += unknown(v, shape.members[k], f"{where}.{k}")
            return out
        if shape.type_name == "list":
            return [u for i, item in enumerate(value) for u in unknown(item, shape.member, f"{where}[{i}]")]
        return []

    assert unknown(raw, shape, operation) == []


def test_endpoint_is_local_http_and_stops() -> None:
    with local_aws() as aws:
        url = urlparse(aws.endpoint_url)
        assert url.scheme == "http" and url.hostname == "127.0.0.1" and url.port
        assert aws_client("sts", aws.endpoint_url).get_caller_identity()["Account"] == "123456789012"
        port = url.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_pod_identity_create_list_describe_shapes(blank_aws: LocalAws) -> None:
    _cluster(blank_aws)
    eks = aws_client("eks", blank_aws.endpoint_url)
    raw = RawBodies(eks)

    created = eks.create_pod_identity_association(
        clusterName="c1", namespace="apps", serviceAccount="web", roleArn=ROLE, tags={"team": "web"}
    )
    _assert_matches_model(eks, "CreatePodIdentityAssociation", created, raw.bodies["CreatePodIdentityAssociation"])
    assoc = created["association"]
    assert assoc["clusterName"] == "c1"
    assert assoc["namespace"] == "apps"
    assert assoc["serviceAccount"] == "web"
    assert assoc["roleArn"] == ROLE
    assert assoc["tags"] == {"team": "web"}
    assert assoc["disableSessionTags"] is False
    assert assoc["associationId"].startswith("a-")
    assert assoc["associationArn"] == (
        f"arn:aws:eks:us-east-1:123456789012:podidentityassociation/c1/{assoc['associationId']}"
    )
    assert "targetRoleArn" not in assoc and "externalId" not in assoc

    listed = eks.list_pod_identity_associations(clusterName="c1")
    _assert_matches_model(eks, "ListPodIdentityAssociations", listed, raw.bodies["ListPodIdentityAssociations"])
    assert listed["associations"] == [
        {
            "clusterName": "c1",
            "namespace": "apps",
            "serviceAccount": "web",
            "associationArn": assoc["associationArn"],
            "associationId": assoc["associationId"],
        }
    ]
    assert "nextToken" not in listed

    described = eks.describe_pod_identity_association(clusterName="c1", associationId=assoc["associationId"])
    _assert_matches_model(
        eks, "DescribePodIdentityAssociation", described, raw.bodies["DescribePodIdentityAssociation"]
    )
    assert described["association"] == assoc


def test_pod_identity_target_role_gets_an_external_id(blank_aws: LocalAws) -> None:
    _cluster(blank_aws)
    eks = aws_client("eks", blank_aws.endpoint_url)
    assoc = eks.create_pod_identity_association(
        clusterName="c1",
        namespace="apps",
        serviceAccount="web",
        roleArn=ROLE,
        targetRoleArn="arn:aws:iam::210987654321:role/target",
        disableSessionTags=True,
    )["association"]
    assert assoc["targetRoleArn"] == "arn:aws:iam::210987654321:role/target"
    assert assoc["disableSessionTags"] is True
    assert len(assoc["externalId"]) == 32


def test_pod_identity_filters_and_pagination(blank_aws: LocalAws) -> None:
    _cluster(blank_aws)
    _cluster(blank_aws, "c2")
    eks = aws_client("eks", blank_aws.endpoint_url)
    for ns, sa in [("a", "x"), ("a", "y"), ("b", "x")]:
        eks.create_pod_identity_association(clusterName="c1", namespace=ns, serviceAccount=sa, roleArn=ROLE)
    eks.create_pod_identity_association(clusterName="c2", namespace="a", serviceAccount="x", roleArn=ROLE)

    def pairs(**kw: Any) -> list[tuple[str, str]]:
        pages = eks.get_paginator("list_pod_identity_associations").paginate(clusterName="c1", **kw)
        return [(a["namespace"], a["serviceAccount"]) for page in pages for a in page["associations"]]

    assert pairs() == [("a", "x"), ("a", "y"), ("b", "x")]
    assert pairs(namespace="a") == [("a", "x"), ("a", "y")]
    assert pairs(serviceAccount="x") == [("a", "x"), ("b", "x")]
    assert pairs(namespace="b", serviceAccount="y") == []
    first = eks.list_pod_identity_associations(clusterName="c1", maxResults=2)
    assert len(first["associations"]) == 2 and "nextToken" in first
    assert pairs(PaginationConfig={"PageSize": 1}) == [("a", "x"), ("a", "y"), ("b", "x")]


def test_pod_identity_errors(blank_aws: LocalAws) -> None:
    _cluster(blank_aws)
    eks = aws_client("eks", blank_aws.endpoint_url)
    with pytest.raises(eks.exceptions.ResourceNotFoundException, match="No cluster found for name: nope"):
        eks.list_pod_identity_associations(clusterName="nope")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.create_pod_identity_association(clusterName="nope", namespace="a", serviceAccount="b", roleArn=ROLE)
    with pytest.raises(eks.exceptions.ResourceNotFoundException, match="a-doesnotexist"):
        eks.describe_pod_identity_association(clusterName="c1", associationId="a-doesnotexist")
    eks.create_pod_identity_association(clusterName="c1", namespace="a", serviceAccount="b", roleArn=ROLE)
    with pytest.raises(eks.exceptions.ResourceInUseException) as err:
        eks.create_pod_identity_association(clusterName="c1", namespace="a", serviceAccount="b", roleArn=ROLE)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as update:
        eks.update_pod_identity_association(clusterName="c1", associationId="a-x", roleArn=ROLE)
    assert update.value.response["Error"]["Code"] in {"InvalidRequestException", "ResourceNotFoundException"}


def test_pod_identity_delete_and_reset(blank_aws: LocalAws) -> None:
    _cluster(blank_aws)
    eks = aws_client("eks", blank_aws.endpoint_url)
    ids = [
        eks.create_pod_identity_association(clusterName="c1", namespace="a", serviceAccount=sa, roleArn=ROLE)[
            "association"
        ]["associationId"]
        for sa in ("x", "y")
    ]
    deleted = eks.delete_pod_identity_association(clusterName="c1", associationId=ids[0])["association"]
    assert deleted["serviceAccount"] == "x"
    assert [a["associationId"] for a in eks.list_pod_identity_associations(clusterName="c1")["associations"]] == [
        ids[1]
    ]
    blank_aws.reset()
    assert blank_aws.pod_identity._associations == {}
    with pytest.raises(eks.exceptions.ResourceNotFoundException):  # the cluster went with moto's reset
        eks.list_pod_identity_associations(clusterName="c1")


def test_other_eks_calls_still_reach_moto(blank_aws: LocalAws) -> None:
    _cluster(blank_aws)
    eks = aws_client("eks", blank_aws.endpoint_url)
    assert eks.list_clusters()["clusters"] == ["c1"]
    assert eks.describe_cluster(name="c1")["cluster"]["identity"]["oidc"]["issuer"].startswith(
        "https://oidc.eks.us-east-1.amazonaws.com/id/"
    )


def test_env_helpers_point_sdk_at_the_endpoint_and_restore(blank_aws: LocalAws, monkeypatch: Any) -> None:
    import boto3

    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    env = local_aws_env(blank_aws.endpoint_url)
    assert env["AWS_ENDPOINT_URL"] == blank_aws.endpoint_url
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    with patched_env(env):
        assert "AWS_PROFILE" not in os.environ
        session = boto3.session.Session()
        assert session.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert os.environ["AWS_PROFILE"] == "someone-real"
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert export_lines({"A": "x y", "B": "z"}) == "export A='x y'\nexport B=z"
