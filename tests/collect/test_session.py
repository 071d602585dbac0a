"""Long collections and unusable first regions: assumed-role credentials refresh, identity falls back."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.credentials import RefreshableCredentials

from irsa_lib.collect.aws import AwsTarget, collect_aws
from irsa_lib.collect.errors import CollectionError
from irsa_lib.collect.session import assume_role_session
from tests.collect.proxy import AwsProxy, ErrorRule
from tests.collect.seed import ACCOUNT, REGION, seed_account

pytestmark = pytest.mark.integration
COLLECTOR = f"arn:aws:iam::{ACCOUNT}:role/collector"
OPT_IN = "ap-east-1"  # an opt-in region; the proxy answers as AWS does when it is not enabled
TOKEN_MESSAGE = "The security token included in the request is invalid."
NOT_ENABLED = ErrorRule(region=OPT_IN, status=403, code="InvalidClientTokenId", message=TOKEN_MESSAGE)


def _assume_roles(proxy: AwsProxy) -> int:
    return sum(c.operation == "AssumeRole" for c in proxy.calls)


# --- refreshable credentials ------------------------------------------------------------------------


def test_assumed_role_session_uses_refreshable_credentials_assumed_lazily(proxy: AwsProxy) -> None:
    session = assume_role_session(boto3.Session(region_name=REGION), COLLECTOR, region=REGION, endpoint_url=proxy.url)
    credentials = session.get_credentials()
    assert isinstance(credentials, RefreshableCredentials)
    assert credentials.method == "assume-role"
    assert _assume_roles(proxy) == 0  # deferred: nothing is assumed before the first signed call
    sts = session.client("sts", endpoint_url=proxy.url)
    arns = {sts.get_caller_identity()["Arn"] for _ in range(3)}
    assert arns == {f"arn:aws:sts::{ACCOUNT}:assumed-role/collector/irsa-collector"}
    # a one-hour session is far from its refresh window (15 minutes before expiry): assumed once
    assert _assume_roles(proxy) == 1


def test_credentials_are_refreshed_when_the_session_nears_expiry(proxy: AwsProxy) -> None:
    # A 900 s session starts inside botocore's 15-minute advisory window, so every use refreshes it:
    # exactly what happens every time near the end of a longer session.
    session = assume_role_session(
        boto3.Session(region_name=REGION), COLLECTOR, region=REGION, endpoint_url=proxy.url, duration_seconds=900
    )
    sts = session.client("sts", endpoint_url=proxy.url)
    keys = []
    for _ in range(3):
        sts.get_caller_identity()
        keys.append(session.get_credentials().get_frozen_credentials().access_key)
    # each get_caller_identity and each get_frozen_credentials refreshed: 6 AssumeRole calls, 3 distinct keys seen
    assert _assume_roles(proxy) == 6
    assert len(set(keys)) == 3
    durations = {c.params.get("DurationSeconds") for c in proxy.calls if c.operation == "AssumeRole"}
    assert durations == {"900"}


def test_a_collection_outlasting_its_session_completes(proxy: AwsProxy, moto: str) -> None:
    seed_account(moto)
    target = AwsTarget(role_arn=COLLECTOR, regions=(REGION,), session_duration=900)
    snap = collect_aws([target], endpoint_url=proxy.url, progress=False, max_workers=2)
    # every call found its credentials near expiry and refreshed them; none failed for it
    assert _assume_roles(proxy) > 1
    assert {c.service for c in snap.coverage if c.status != "ok"} == {
        "organizations",  # not in an organization
        "eks:ListPodIdentityAssociations",  # moto has no Pod Identity API
        "ssm:ListTagsForResource",  # skipped: no policy conditions on parameter tags
    }
    assert len(snap.roles) == 3 and len(snap.ssm_parameters) == 3 and len(snap.secrets) == 1


# --- region fallback --------------------------------------------------------------------------------


def _region_gaps(snap: object, region: str) -> dict[str, tuple[str, str | None]]:
    return {
        c.service: (c.status, c.error)
        for c in snap.coverage  # type: ignore[attr-defined]
        if c.scope == f"{ACCOUNT}/{region}"
    }


def _skipped(message: str) -> dict[str, tuple[str, str | None]]:
    return {
        "sts": ("denied", f"region rejected: {message}"),
        **{
            s: ("denied", f"skipped: region {OPT_IN} rejected ({message})")
            for s in ("kms", "ssm", "secretsmanager", "eks")
        },
    }


def test_a_rejected_first_region_falls_back_to_the_next(
    proxy: AwsProxy, moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_account(moto)
    proxy.rules.append(NOT_ENABLED)
    monkeypatch.setenv("AWS_DEFAULT_REGION", OPT_IN)  # also the configured default: global calls must not use it
    snap = collect_aws([AwsTarget(regions=(OPT_IN, REGION))], endpoint_url=proxy.url, progress=False)

    message = f"sts:GetCallerIdentity in {OPT_IN}: InvalidClientTokenId: {TOKEN_MESSAGE}"
    assert _region_gaps(snap, OPT_IN) == _skipped(message)
    assert snap.accounts[0].regions == (REGION,)
    # the rejected region was asked once, while resolving, and not again
    assert [c.operation for c in proxy.calls if c.region == OPT_IN] == ["GetCallerIdentity"]
    assert {c.status for c in snap.coverage if c.service in ("iam", "kms", "ssm", "secretsmanager", "eks")} == {
        "ok",
        "denied",
    }
    assert {c.scope for c in snap.coverage if c.status == "ok"} == {f"{ACCOUNT}/global", f"{ACCOUNT}/{REGION}"}
    assert len(snap.roles) == 3 and len(snap.secrets) == 1


def test_a_role_assumed_in_a_rejected_region_is_assumed_in_the_next(proxy: AwsProxy, moto: str) -> None:
    seed_account(moto)
    proxy.rules.append(NOT_ENABLED)
    snap = collect_aws(
        [AwsTarget(role_arn=COLLECTOR, regions=(OPT_IN, REGION))], endpoint_url=proxy.url, progress=False
    )
    message = f"sts:AssumeRole in {OPT_IN}: InvalidClientTokenId: {TOKEN_MESSAGE}"
    assert _region_gaps(snap, OPT_IN) == _skipped(message)
    assert [(c.region, c.operation) for c in proxy.calls if c.service == "sts"][:3] == [
        (OPT_IN, "AssumeRole"),
        (REGION, "AssumeRole"),
        (REGION, "GetCallerIdentity"),
    ]
    assert snap.accounts[0].regions == (REGION,) and len(snap.roles) == 3


def test_no_usable_region_raises_naming_each(proxy: AwsProxy, isolated_env: Path) -> None:
    proxy.rules.append(NOT_ENABLED)
    proxy.rules.append(
        ErrorRule(region="eu-south-1", status=403, code="OptInRequired", message="eu-south-1 is not enabled")
    )
    with pytest.raises(CollectionError) as info:
        collect_aws([AwsTarget(regions=(OPT_IN, "eu-south-1"))], endpoint_url=proxy.url, progress=False)
    where = f"the AWS endpoint {proxy.url}"
    assert str(info.value) == (
        "AWS target the default AWS credentials: no requested region could be used ("
        f"{OPT_IN}: {where} refused the credentials (denied): sts:GetCallerIdentity: InvalidClientTokenId: "
        f"{TOKEN_MESSAGE}; eu-south-1: {where} refused the credentials (denied): sts:GetCallerIdentity: "
        "OptInRequired: eu-south-1 is not enabled)"
    )
