"""The read-only guarantee: every operation sent is on the allow-list, and the guard refuses the rest."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from irsa_lib.collect.allowlist import ALLOWED_OPERATIONS, iam_actions, install_guard
from irsa_lib.collect.aws import AwsTarget, collect_aws
from irsa_lib.collect.errors import OperationNotAllowedError
from tests.collect.proxy import AwsProxy
from tests.collect.seed import REGION, seed_account

POLICY_FILE = Path(__file__).resolve().parents[2] / "deploy" / "collector-policy.json"

# Operations that return a secret value (or write): none may ever be sent. Written out by hand.
VALUE_READING = {
    ("ssm", "GetParameter"),
    ("ssm", "GetParameters"),
    ("ssm", "GetParametersByPath"),
    ("ssm", "GetParameterHistory"),
    ("secretsmanager", "GetSecretValue"),
    ("secretsmanager", "BatchGetSecretValue"),
    ("kms", "Decrypt"),
    ("kms", "GenerateDataKey"),
}


@pytest.mark.integration
def test_full_collection_sends_only_allow_listed_operations(proxy: AwsProxy, moto: str) -> None:
    seed_account(moto)
    collect_aws([AwsTarget(regions=(REGION, "us-west-2"))], endpoint_url=proxy.url, progress=False)
    sent = proxy.operations()
    outside = {(s, o) for s, o in sent if o not in ALLOWED_OPERATIONS.get(s, frozenset())}
    assert outside == set()
    assert not sent & VALUE_READING
    # the recording itself works: the calls a collection must make were seen at the HTTP layer
    assert {
        ("sts", "GetCallerIdentity"),
        ("iam", "GetAccountAuthorizationDetails"),
        ("kms", "GetKeyPolicy"),
        ("ssm", "DescribeParameters"),
        ("secretsmanager", "GetResourcePolicy"),
        ("eks", "DescribeNodegroup"),
        ("ec2", "DescribeLaunchTemplateVersions"),
        ("organizations", "DescribeOrganization"),
    } <= sent


@pytest.mark.parametrize(
    ("service", "call", "kwargs"),
    [
        ("ssm", "get_parameter", {"Name": "/billing/db", "WithDecryption": True}),
        ("ssm", "get_parameters_by_path", {"Path": "/billing"}),
        ("secretsmanager", "get_secret_value", {"SecretId": "payments/db"}),
        ("secretsmanager", "batch_get_secret_value", {"SecretIdList": ["payments/db"]}),
        ("kms", "decrypt", {"CiphertextBlob": b"x"}),
    ],
)
def test_guard_refuses_value_reading_operations_before_sending(
    proxy: AwsProxy, service: str, call: str, kwargs: dict[str, object]
) -> None:
    client = install_guard(boto3.client(service, region_name=REGION, endpoint_url=proxy.url))
    with pytest.raises(OperationNotAllowedError, match=f"refusing to send {service}:"):
        getattr(client, call)(**kwargs)
    assert proxy.calls == []  # nothing left the process


def test_guard_refuses_clients_of_other_services() -> None:
    with pytest.raises(OperationNotAllowedError, match="refusing to create a s3 client"):
        install_guard(boto3.client("s3", region_name=REGION))


def test_collector_policy_file_grants_exactly_the_allow_list() -> None:
    document = json.loads(POLICY_FILE.read_text())
    granted: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        granted.update([actions] if isinstance(actions, str) else actions)
    assert granted == iam_actions()
    assert not any("*" in a for a in granted)


def test_allow_list_names_real_operations() -> None:
    session = boto3.Session(region_name=REGION)
    for service, operations in ALLOWED_OPERATIONS.items():
        model = session.client(service).meta.service_model
        assert operations <= set(model.operation_names), service
