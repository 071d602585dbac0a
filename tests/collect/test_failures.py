"""Partial failures are recorded and the rest is collected; hopeless targets raise a clear CollectionError."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from irsa_lib.collect.aws import AwsTarget, collect_aws
from irsa_lib.collect.errors import CollectionError
from tests.collect.proxy import AwsProxy, ErrorRule
from tests.collect.seed import ACCOUNT, REGION, seed_account

pytestmark = pytest.mark.integration
SCOPE = f"{ACCOUNT}/{REGION}"
OPT_IN = "ap-east-1"  # an opt-in region; the proxy answers as AWS does when it is not enabled


def test_denied_service_and_rejected_region_are_recorded_and_the_rest_collected(proxy: AwsProxy, moto: str) -> None:
    seeded = seed_account(moto)
    proxy.rules += [
        ErrorRule(
            service="secretsmanager",
            code="AccessDeniedException",
            message="User: arn:aws:sts::123456789012:assumed-role/collector/x is not authorized to perform: secretsmanager:ListSecrets",
        ),
        ErrorRule(
            service="kms",
            operation="GetKeyPolicy",
            code="AccessDeniedException",
            message="not authorized to perform: kms:GetKeyPolicy",
        ),
        ErrorRule(
            region=OPT_IN,
            status=403,
            code="InvalidClientTokenId",
            message="The security token included in the request is invalid.",
        ),
    ]
    snap = collect_aws([AwsTarget(regions=(REGION, OPT_IN))], endpoint_url=proxy.url, progress=False)

    bad = {(c.scope, c.service, c.resource): (c.status, c.error) for c in snap.coverage if c.status != "ok"}
    denied_secrets = (
        "denied",
        "secretsmanager:ListSecrets: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/collector/x "
        "is not authorized to perform: secretsmanager:ListSecrets",
    )
    region_error = "sts:GetCallerIdentity in ap-east-1: InvalidClientTokenId: The security token included in the request is invalid."
    assert bad == {
        (SCOPE, "secretsmanager", None): denied_secrets,
        (SCOPE, "kms:GetKeyPolicy", seeded.key_arn): (
            "denied",
            "kms:GetKeyPolicy: AccessDeniedException: not authorized to perform: kms:GetKeyPolicy",
        ),
        (f"{ACCOUNT}/global", "organizations", None): (
            "absent",
            "the account is not a member of an organization: no SCPs or RCPs apply",
        ),
        (SCOPE, "eks:ListPodIdentityAssociations", "demo"): (
            "failed",
            "eks:ListPodIdentityAssociations: the endpoint does not implement this operation (404)",
        ),
        (SCOPE, "ssm:ListTagsForResource", None): (
            "skipped",
            "parameter tags not collected: no collected policy conditions an SSM action on resource tags",
        ),
        (f"{ACCOUNT}/{OPT_IN}", "sts", None): ("denied", f"region rejected: {region_error}"),
        **{
            (f"{ACCOUNT}/{OPT_IN}", service, None): ("denied", f"skipped: region {OPT_IN} rejected ({region_error})")
            for service in ("kms", "ssm", "secretsmanager", "eks")
        },
    }
    # nothing was attempted in the rejected region beyond the check
    assert {c.operation for c in proxy.calls if c.region == OPT_IN} == {"GetCallerIdentity"}
    # the key whose policy is unreadable is kept, with policy unknown
    key = next(k for k in snap.kms_keys if k.arn == seeded.key_arn)
    assert key.policy is None and key.aliases == ("alias/billing",) and key.rotation_enabled is True
    # the rest was collected
    assert snap.secrets == ()
    assert len(snap.ssm_parameters) == 3 and len(snap.roles) == 3 and len(snap.node_groups) == 1
    assert snap.accounts[0].regions == (REGION,)


def test_throttling_past_retries_is_recorded_as_throttled(proxy: AwsProxy, moto: str) -> None:
    seed_account(moto)
    proxy.rules.append(ErrorRule(service="ssm", code="ThrottlingException", message="Rate exceeded"))
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False, max_attempts=2)
    ssm = next(c for c in snap.coverage if c.service == "ssm")
    assert (ssm.status, ssm.error) == (
        "throttled",
        "ssm:DescribeParameters: ThrottlingException (still throttled after retries): Rate exceeded",
    )
    assert sum(c.operation == "DescribeParameters" for c in proxy.calls) == 2  # botocore retried once
    assert len(snap.secrets) == 1


def test_malformed_region_name_is_recorded_not_fatal(moto: str) -> None:
    snap = collect_aws([AwsTarget(regions=(REGION, "Mars 1"))], endpoint_url=moto, progress=False)
    sts = next(c for c in snap.coverage if c.scope == f"{ACCOUNT}/Mars 1" and c.service == "sts")
    assert (sts.status, sts.error) == ("failed", "region rejected: 'Mars 1' is not an AWS region name")
    assert snap.accounts[0].regions == (REGION,)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_raises(moto: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(CollectionError) as info:
        collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=url, progress=False, max_attempts=1)
    assert str(info.value) == (
        f"AWS target the default AWS credentials: cannot reach the AWS endpoint {url}: "
        f'Could not connect to the endpoint URL: "{url}/"'
    )


def test_no_credentials_raises(isolated_env: Path, moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CollectionError) as info:
        collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False)
    assert str(info.value) == (
        "AWS target the default AWS credentials: no AWS credentials found (environment, shared "
        "credentials/config files, SSO, container or instance metadata)"
    )


def test_unknown_profile_raises(isolated_env: Path, moto: str) -> None:
    with pytest.raises(CollectionError) as info:
        collect_aws([AwsTarget(profile="prod-readonly", regions=(REGION,))], endpoint_url=moto, progress=False)
    assert str(info.value) == (
        "AWS target profile 'prod-readonly': profile 'prod-readonly' not found in the AWS config or credentials files"
    )


def test_named_profile_and_assumed_role(isolated_env: Path, moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    (isolated_env / "aws-credentials").write_text("[audit]\naws_access_key_id = AKIDAUDIT\naws_secret_access_key = s\n")
    (isolated_env / "aws-config").write_text("[profile audit]\nregion = us-east-1\n")
    target = AwsTarget(profile="audit", role_arn=f"arn:aws:iam::{ACCOUNT}:role/collector")
    snap = collect_aws([target], endpoint_url=moto, progress=False)
    assert snap.accounts[0].account_id == ACCOUNT and snap.accounts[0].regions == (REGION,)
    assert {c.status for c in snap.coverage if c.service in ("iam", "kms", "ssm")} == {"ok"}


def test_denied_credentials_raise(proxy: AwsProxy) -> None:
    proxy.rules.append(
        ErrorRule(
            service="sts",
            status=403,
            code="InvalidClientTokenId",
            message="The security token included in the request is invalid.",
        )
    )
    with pytest.raises(CollectionError) as info:
        collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False)
    assert str(info.value) == (
        f"AWS target the default AWS credentials: the AWS endpoint {proxy.url} refused the credentials (denied): "
        "sts:GetCallerIdentity: InvalidClientTokenId: The security token included in the request is invalid."
    )
