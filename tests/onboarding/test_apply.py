"""Apply against moto in server mode: dry run, create, idempotence, interruption, values kept, preflight stops."""

from __future__ import annotations

import json
from typing import Any

import pytest

from irsa_lib.collect.errors import OperationNotAllowedError
from irsa_lib.onboarding import PreflightError, ValueUnavailable
from irsa_lib.onboarding.apply import KEY_TAG, ApplyError, StepResult, apply_plan
from irsa_lib.onboarding.guard import ONBOARDING_OPERATIONS
from tests.collect.proxy import AwsProxy, ErrorRule
from tests.onboarding.conftest import (
    ACCOUNT,
    API_VALUE,
    CONTROLLER_ROLE,
    DB_VALUE,
    STRIPE_VALUE,
    Aws,
    orders_params,
)

AWS_STEPS = [
    "service-role",
    "kms-key",
    "kms-alias",
    "kms-rotation",
    "service-role-policy",
    "controller-policy",
    "parameter:/orders/db-password",
    "parameter:/orders/api-key",
    "secret:orders/stripe-api-key",
]
WRITES = {
    ("iam", "CreateRole"),
    ("iam", "UpdateAssumeRolePolicy"),
    ("iam", "PutRolePolicy"),
    ("kms", "CreateKey"),
    ("kms", "CreateAlias"),
    ("kms", "PutKeyPolicy"),
    ("kms", "EnableKeyRotation"),
    ("kms", "TagResource"),
    ("ssm", "PutParameter"),
    ("secretsmanager", "CreateSecret"),
    ("secretsmanager", "PutSecretValue"),
}
VALUE_READS = {
    ("ssm", "GetParameter"),
    ("ssm", "GetParameters"),
    ("ssm", "GetParametersByPath"),
    ("ssm", "GetParameterHistory"),
    ("secretsmanager", "GetSecretValue"),
    ("secretsmanager", "BatchGetSecretValue"),
    ("kms", "Decrypt"),
}


# --- what exists, read straight from the endpoint (not through the code under test) ------------------


def customer_keys(aws: Aws) -> list[dict[str, Any]]:
    kms = aws.client("kms")
    metas = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    return [m for m in metas if m["KeyManager"] == "CUSTOMER" and m["KeyState"] == "Enabled"]


def orders_keys(aws: Aws) -> list[dict[str, Any]]:
    kms = aws.client("kms")
    return [
        m
        for m in customer_keys(aws)
        if {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=m["KeyId"])["Tags"]}.get(KEY_TAG)
        == "orders"
    ]


def alias_target(aws: Aws, alias: str = "alias/orders") -> str | None:
    for a in aws.client("kms").list_aliases()["Aliases"]:
        if a["AliasName"] == alias:
            return str(a.get("TargetKeyId"))
    return None


def role(aws: Aws, name: str = "orders-service-role") -> dict[str, Any] | None:
    iam = aws.client("iam")
    try:
        return dict(iam.get_role(RoleName=name)["Role"])
    except iam.exceptions.NoSuchEntityException:
        return None


def inline(aws: Aws, role_name: str) -> dict[str, Any]:
    iam = aws.client("iam")
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    out = {}
    for n in names:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=n)["PolicyDocument"]
        out[n] = json.loads(doc) if isinstance(doc, str) else doc
    return out


def parameters(aws: Aws) -> dict[str, dict[str, Any]]:
    pages = aws.client("ssm").get_paginator("describe_parameters").paginate()
    return {p["Name"]: p for page in pages for p in page["Parameters"]}


def secrets(aws: Aws) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in aws.client("secretsmanager").list_secrets()["SecretList"]}


def stored_value(aws: Aws, name: str) -> str:
    """Test-only read-back of a stored value (the library itself never reads one)."""
    if name.startswith("/"):
        return str(aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
    return str(aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


def nothing_created(aws: Aws) -> None:
    assert role(aws) is None
    assert orders_keys(aws) == [] and customer_keys(aws) == []
    assert alias_target(aws) is None
    assert not [n for n in parameters(aws) if n.startswith("/orders/")]
    assert not [n for n in secrets(aws) if n.startswith("orders/")]
    assert "assume-orders-service-role" not in inline(aws, "external-secrets-role")


def everything_present(aws: Aws) -> None:
    trust = role(aws)
    assert trust is not None
    assert trust["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Sid": "ControllerAssumes",
            "Effect": "Allow",
            "Principal": {"AWS": CONTROLLER_ROLE},
            "Action": "sts:AssumeRole",
        }
    ]
    (key,) = orders_keys(aws)
    assert alias_target(aws) == key["KeyId"]
    kms = aws.client("kms")
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    decrypt = [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"] or s["Action"] == "kms:Decrypt"]
    assert [s["Principal"] for s in decrypt] == [{"AWS": "arn:aws:iam::123456789012:role/orders-service-role"}]
    assert decrypt[0]["Condition"] == {
        "StringEquals": {"kms:ViaService": ["ssm.us-east-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"]}
    }
    read = inline(aws, "orders-service-role")["read-orders-secrets"]
    decrypt_stmt = next(s for s in read["Statement"] if s["Action"] == "kms:Decrypt")
    assert decrypt_stmt["Resource"] == key["Arn"]
    assert inline(aws, "external-secrets-role")["assume-orders-service-role"]["Statement"][0]["Resource"] == (
        "arn:aws:iam::123456789012:role/orders-service-role"
    )
    params = parameters(aws)
    for name in ("/orders/db-password", "/orders/api-key"):
        assert params[name]["Type"] == "SecureString"
        assert params[name]["KeyId"] == key["Arn"]
    assert secrets(aws)["orders/stripe-api-key"]["KmsKeyId"] == key["Arn"]
    assert stored_value(aws, "/orders/db-password") == DB_VALUE
    assert stored_value(aws, "/orders/api-key") == API_VALUE
    assert stored_value(aws, "orders/stripe-api-key") == STRIPE_VALUE


# --- tests -------------------------------------------------------------------------------------------


def test_dry_run_creates_nothing_and_sends_no_write(recorded: tuple[Aws, AwsProxy], value_env: dict[str, str]) -> None:
    aws, proxy = recorded
    report = apply_plan(orders_params(), aws.clients)
    sent = proxy.operations()
    assert report.dry_run
    assert [(r.step, r.status, r.applied) for r in report.results] == [(s, "create", False) for s in AWS_STEPS]
    assert sent and not (sent & WRITES) and not (sent & VALUE_READS)
    nothing_created(aws)


def test_apply_creates_everything_then_a_second_run_changes_nothing(
    recorded: tuple[Aws, AwsProxy], value_env: dict[str, str]
) -> None:
    aws, proxy = recorded
    first = apply_plan(orders_params(), aws.clients, dry_run=False)
    sent = proxy.operations()
    assert all(op in ONBOARDING_OPERATIONS[svc] for svc, op in sent), sent
    assert not (sent & VALUE_READS)
    assert [(r.step, r.status, r.applied) for r in first.results] == [(s, "create", True) for s in AWS_STEPS]
    everything_present(aws)
    assert first.key_arn == orders_keys(aws)[0]["Arn"]

    proxy.calls.clear()
    again = apply_plan(orders_params(), aws.clients, dry_run=False)
    assert not (proxy.operations() & WRITES)
    assert [(r.step, r.status, r.applied) for r in again.results] == [(s, "unchanged", False) for s in AWS_STEPS]
    everything_present(aws)


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("stop_after", AWS_STEPS)
def test_interrupted_after_any_step_then_rerun_completes_without_duplicates(
    aws: Aws, value_env: dict[str, str], stop_after: str
) -> None:
    def fault(result: StepResult) -> None:
        if result.step == stop_after:
            raise Interrupted(stop_after)

    with pytest.raises(Interrupted):
        apply_plan(orders_params(), aws.clients, dry_run=False, after_step=fault)
    rerun = apply_plan(orders_params(), aws.clients, dry_run=False)
    done = AWS_STEPS[: AWS_STEPS.index(stop_after) + 1]
    expected = {s: "unchanged" if s in done else "create" for s in AWS_STEPS}
    if "kms-key" in done and "kms-rotation" not in done:
        expected["kms-rotation"] = "update"  # the key exists, its rotation is still off
    assert {r.step: r.status for r in rerun.results} == expected
    everything_present(aws)  # exactly one orders key, the alias on it, each value once


def test_failure_between_create_key_and_create_alias_finds_the_key_again(
    aws: Aws, moto_server: tuple[str, int], value_env: dict[str, str]
) -> None:
    from irsa_lib.onboarding.guard import OnboardingClients

    proxy = AwsProxy(moto_server).start()
    try:
        proxy.rules.append(ErrorRule("KMSInternalException", "injected failure", status=500, operation="CreateAlias"))
        clients = OnboardingClients(region="us-east-1", endpoint_url=proxy.url)
        with pytest.raises(ApplyError, match="step kms-alias"):
            apply_plan(orders_params(), clients, dry_run=False)
    finally:
        proxy.stop()
    assert len(orders_keys(aws)) == 1 and alias_target(aws) is None
    rerun = apply_plan(orders_params(), aws.clients, dry_run=False)
    assert rerun.status("kms-key") == "unchanged" and rerun.status("kms-alias") == "create"
    everything_present(aws)


def test_existing_values_are_kept_unless_overwrite_is_asked(
    aws: Aws, value_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_plan(orders_params(), aws.clients, dry_run=False)
    monkeypatch.setenv("ORDERS_DB", "a-different-value-1")
    kept = apply_plan(orders_params(), aws.clients, dry_run=False)
    assert kept.status("parameter:/orders/db-password") == "unchanged"
    assert stored_value(aws, "/orders/db-password") == DB_VALUE
    replaced = apply_plan(orders_params(), aws.clients, dry_run=False, overwrite_values=True)
    assert replaced.status("parameter:/orders/db-password") == "update"
    assert replaced.status("secret:orders/stripe-api-key") == "update"
    assert stored_value(aws, "/orders/db-password") == "a-different-value-1"
    assert stored_value(aws, "orders/stripe-api-key") == STRIPE_VALUE


def test_drifted_policies_are_updated(aws: Aws, value_env: dict[str, str]) -> None:
    apply_plan(orders_params(), aws.clients, dry_run=False)
    key = orders_keys(aws)[0]
    aws.client("kms").put_key_policy(
        KeyId=key["KeyId"],
        PolicyName="default",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    aws.client("kms").disable_key_rotation(KeyId=key["KeyId"])
    aws.client("iam").put_role_policy(
        RoleName="orders-service-role",
        PolicyName="read-orders-secrets",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}
        ),
    )
    report = apply_plan(orders_params(), aws.clients, dry_run=False)
    assert {r.step: r.status for r in report.results if r.status != "unchanged"} == {
        "kms-key": "update",
        "kms-rotation": "update",
        "service-role-policy": "update",
    }
    everything_present(aws)


def test_missing_value_stops_before_any_change(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERS_DB", raising=False)
    with pytest.raises(ValueUnavailable, match="ORDERS_DB, which is not set"):
        apply_plan(orders_params(), aws.clients, dry_run=False)
    nothing_created(aws)


def test_prompted_values_are_asked_only_for_what_is_created(aws: Aws, value_env: dict[str, str]) -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "prompted-value-1"

    p = orders_params(value_env={"/orders/db-password": "ORDERS_DB"})
    apply_plan(p, aws.clients, dry_run=False, prompt=prompt)
    assert asked == ["value for /orders/api-key (input hidden): ", "value for orders/stripe-api-key (input hidden): "]
    assert stored_value(aws, "/orders/api-key") == "prompted-value-1"
    asked.clear()
    apply_plan(p, aws.clients, dry_run=False, prompt=prompt)
    assert asked == []


def test_no_terminal_to_prompt_is_a_clear_error(aws: Aws) -> None:
    def no_tty(text: str) -> str:
        raise EOFError

    with pytest.raises(ValueUnavailable, match="cannot prompt for the value of '/orders/db-password'"):
        apply_plan(orders_params(value_env={}), aws.clients, dry_run=False, prompt=no_tty)
    nothing_created(aws)


# --- preflight stops before any change --------------------------------------------------------------


def seed_billing_key(aws: Aws) -> str:
    kms = aws.client("kms")
    key = kms.create_key(Description="billing")["KeyMetadata"]
    kms.create_alias(AliasName="alias/billing", TargetKeyId=key["KeyId"])
    return str(key["Arn"])


def test_existing_parameter_owned_by_another_key_stops_everything(aws: Aws, value_env: dict[str, str]) -> None:
    seed_billing_key(aws)
    aws.client("ssm").put_parameter(Name="/orders/db-password", Type="SecureString", KeyId="alias/billing", Value="x1")
    with pytest.raises(PreflightError) as caught:
        apply_plan(orders_params(), aws.clients, dry_run=False)
    assert "parameter /orders/db-password already exists, encrypted with key alias/billing" in str(caught.value)
    assert role(aws) is None and orders_keys(aws) == [] and alias_target(aws) is None
    assert secrets(aws) == {}


def test_existing_plain_string_parameter_stops(aws: Aws, value_env: dict[str, str]) -> None:
    aws.client("ssm").put_parameter(Name="/orders/api-key", Type="String", Value="x1")
    with pytest.raises(PreflightError, match="already exists as a String, not a SecureString"):
        apply_plan(orders_params(), aws.clients, dry_run=False)
    assert role(aws) is None


def test_role_name_taken_with_a_different_trust_stops(aws: Aws, value_env: dict[str, str]) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    aws.client("iam").create_role(RoleName="orders-service-role", AssumeRolePolicyDocument=json.dumps(trust))
    with pytest.raises(PreflightError, match="role orders-service-role already exists with a different trust policy"):
        apply_plan(orders_params(), aws.clients, dry_run=False)
    assert customer_keys(aws) == [] and inline(aws, "orders-service-role") == {}


def test_every_problem_is_reported_at_once(aws: Aws, value_env: dict[str, str]) -> None:
    kms = aws.client("kms")
    foreign = kms.create_key(Description="someone else's")["KeyMetadata"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=foreign["KeyId"])
    aws.client("secretsmanager").create_secret(Name="orders/stripe-api-key", SecretString="x1")
    p = orders_params(controller_role_arn=f"arn:aws:iam::{ACCOUNT}:role/no-such-controller")
    with pytest.raises(PreflightError) as caught:
        apply_plan(p, aws.clients, dry_run=True)
    problems = caught.value.problems
    assert any(
        "controller role arn:aws:iam::123456789012:role/no-such-controller does not exist" in x for x in problems
    )
    assert any("alias/orders already points at key" in x and "did not create" in x for x in problems)
    assert any(
        "secret orders/stripe-api-key already exists, encrypted with key aws/secretsmanager" in x for x in problems
    )
    assert role(aws) is None and len(customer_keys(aws)) == 1


def test_wrong_account_stops(aws: Aws) -> None:
    with pytest.raises(
        PreflightError, match="credentials are for account 123456789012, but account_id is 210987654321"
    ):
        apply_plan(orders_params(account_id="210987654321"), aws.clients)


def test_eso_store_service_account_must_be_trusted_by_the_controller_role(aws: Aws, value_env: dict[str, str]) -> None:
    p = orders_params(controller="eso", controller_service_account="orders/orders-eso-sa")
    with pytest.raises(PreflightError, match="does not name system:serviceaccount:orders:orders-eso-sa"):
        apply_plan(p, aws.clients, dry_run=False)
    assert role(aws) is None


def test_the_guard_refuses_value_reads_before_sending(aws: Aws) -> None:
    ssm = aws.clients.client("ssm")
    with pytest.raises(OperationNotAllowedError, match="refusing to send ssm:GetParameter"):
        ssm.get_parameter(Name="/orders/db-password", WithDecryption=True)
    with pytest.raises(OperationNotAllowedError, match="refusing to create a s3 client"):
        aws.clients.client("s3")
