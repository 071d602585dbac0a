"""Pure transforms on API-shaped responses, and the Pod Identity path through botocore's Stubber."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.stub import Stubber

from irsa_lib.collect.allowlist import install_guard
from irsa_lib.collect.context import Scope
from irsa_lib.collect.eks import collect_pod_identity, most_permissive, transform_pod_identity_association
from irsa_lib.collect.errors import OperationNotAllowedError
from irsa_lib.collect.iam import transform_managed_policy, transform_roles
from irsa_lib.collect.progress import Progress
from irsa_lib.collect.session import Clients
from irsa_lib.model import InlinePolicy, ManagedPolicy, MetadataOptions, PodIdentityAssociation
from tests.data.aws.responses import (
    ACCOUNT,
    GAAD_AWS_POLICY,
    GAAD_ROLE,
    POD_IDENTITY_ASSOCIATION,
    POD_IDENTITY_SUMMARY,
    READ,
    SESSION_POLICY,
    TRUST,
)

EXPECTED_ASSOCIATION = PodIdentityAssociation(
    association_arn=f"arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/demo/a-abcdefghijklmnop1",
    association_id="a-abcdefghijklmnop1",
    cluster_name="demo",
    namespace="payments",
    service_account="api",
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/payments-pod",
    account_id=ACCOUNT,
    region="us-east-1",
    target_role_arn="arn:aws:iam::444455556666:role/payments-reader",
    external_id="0f3a6c3e-5d1b-4c1e-9f51-2a1b2c3d4e5f",
    disable_session_tags=True,
    policy=SESSION_POLICY,
)


def test_url_encoded_documents_from_real_aws_are_decoded() -> None:
    (role,) = transform_roles([GAAD_ROLE])
    assert role.trust_policy == TRUST
    assert role.inline_policies == (InlinePolicy(name="read", document=READ),)
    assert role.attached_policy_arns == ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",)
    assert role.max_session_duration == 3600  # ListRoles not read: the default


def test_managed_policy_uses_the_default_version_and_marks_aws_managed() -> None:
    assert transform_managed_policy(GAAD_AWS_POLICY) == ManagedPolicy(
        arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        name="AmazonSSMManagedInstanceCore",
        document=READ,
        path="/",
        default_version_id="v2",
        aws_managed=True,
    )


def test_most_permissive_instance_settings_win() -> None:
    assert most_permissive([]) is None
    assert most_permissive(
        [
            {"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
            {"HttpTokens": "required", "HttpPutResponseHopLimit": 3},
        ]
    ) == MetadataOptions(http_tokens="required", hop_limit=3)


def test_pod_identity_transform() -> None:
    assert (
        transform_pod_identity_association(POD_IDENTITY_ASSOCIATION["association"], region="us-east-1")
        == EXPECTED_ASSOCIATION
    )


def test_pod_identity_collection_path_with_stubber() -> None:
    # THE one stand-in: moto has no EKS Pod Identity API, so botocore's Stubber answers these two
    # operations (it validates requests and responses against the botocore model).
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
    clients = Clients(session)
    eks = clients.client("eks", "us-east-1")
    with Stubber(eks) as stub:
        stub.add_response("list_pod_identity_associations", POD_IDENTITY_SUMMARY, {"clusterName": "demo"})
        stub.add_response(
            "describe_pod_identity_association",
            POD_IDENTITY_ASSOCIATION,
            {"clusterName": "demo", "associationId": "a-abcdefghijklmnop1"},
        )
        part = collect_pod_identity(
            Scope(account_id=ACCOUNT, partition="aws", region="us-east-1", clients=clients), ["demo"]
        )
        stub.assert_no_pending_responses()
    assert part.records["pod_identity_associations"] == [EXPECTED_ASSOCIATION]
    ((cov),) = part.coverage
    assert (cov.service, cov.status, cov.count, cov.scope) == (
        "eks:ListPodIdentityAssociations",
        "ok",
        1,
        f"{ACCOUNT}/us-east-1",
    )


def test_stubbed_client_is_still_guarded() -> None:
    eks = install_guard(boto3.client("eks", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"))
    params = {"clusterName": "demo", "namespace": "n", "serviceAccount": "s", "roleArn": "arn:aws:iam::1:role/r"}
    with Stubber(eks) as stub:
        stub.add_response("create_pod_identity_association", {}, params)  # the stand-in would answer...
        with pytest.raises(OperationNotAllowedError, match="refusing to send eks:CreatePodIdentityAssociation"):
            eks.create_pod_identity_association(**params)  # ...but the guard refuses first


class FakeTTY(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_only_on_a_terminal_unless_forced_off() -> None:
    tty, pipe, forced = FakeTTY(True), FakeTTY(False), FakeTTY(True)
    for stream, enabled in ((tty, None), (pipe, None), (forced, False)):
        bar = Progress(2, enabled=enabled, stream=stream)
        bar.step("123456789012", "us-east-1", "kms", "ok")
        bar.close()
    assert "[1/2] 123456789012 us-east-1 kms: ok" in tty.getvalue()
    assert pipe.getvalue() == "" and forced.getvalue() == ""
