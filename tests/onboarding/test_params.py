"""Parameter validation: every rule, each problem named, all problems reported at once."""

from __future__ import annotations

from typing import Any

import pytest

from irsa_lib.errors import IrsaError
from irsa_lib.onboarding import InvalidParameters, SecretSpec
from tests.onboarding.conftest import CONTROLLER_ROLE, orders_params


def problems(**overrides: Any) -> tuple[str, ...]:
    with pytest.raises(InvalidParameters) as caught:
        orders_params(**overrides)
    assert isinstance(caught.value, IrsaError)
    return caught.value.problems


def test_valid_parameters_derive_the_reference_names() -> None:
    p = orders_params()
    assert p.service_role_arn == "arn:aws:iam::123456789012:role/orders-service-role"
    assert p.key_alias == "alias/orders"
    assert p.controller_role_name == "external-secrets-role"
    assert p.controller_policy_name == "assume-orders-service-role"
    assert p.parameter_arn("/orders/db-password") == "arn:aws:ssm:us-east-1:123456789012:parameter/orders/db-password"
    assert p.secret_arn_pattern("orders/stripe-api-key") == (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/stripe-api-key-??????"
    )
    assert p.via_services() == ("ssm.us-east-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com")
    assert [s.value_env for s in p.secrets] == ["ORDERS_DB", "ORDERS_API", "ORDERS_STRIPE"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"service": "Orders"}, "service 'Orders' is not a DNS-1123 label"),
        ({"service": "orders_svc"}, "service 'orders_svc' is not a DNS-1123 label"),
        ({"service": "-orders"}, "is not a DNS-1123 label"),
        ({"service": "a" * 52}, "exceeds 64 characters"),
        (
            {"service": "ssmtool", "parameters": ["/ssmtool/x"], "secrets": [], "value_env": {}},
            "starts with 'aws' or 'ssm'",
        ),
        ({"namespace": "Orders"}, "namespace 'Orders' is not a DNS-1123 label"),
        ({"namespace": "kube-system"}, "reserved for Kubernetes"),
        ({"namespace": "default"}, "reserved for Kubernetes"),
        ({"cluster": "demo cluster"}, "not an EKS cluster name"),
        ({"account_id": "12345"}, "not a 12-digit AWS account id"),
        ({"region": "useast1"}, "not an AWS region name"),
        ({"controller": "vault"}, "controller 'vault' is not one of kes, eso"),
        ({"controller_role_arn": "arn:aws:iam::123456789012:user/bob"}, "is not an IAM role ARN"),
        ({"controller_role_arn": "external-secrets-role"}, "is not an IAM role ARN"),
        ({"controller_role_arn": None}, "controller_role_arn '(not given)'"),
        ({"controller_service_account": "external-secrets"}, "is not 'namespace/name'"),
        ({"key_admin_arns": ["arn:aws:iam::123456789012:group/admins"]}, "not an IAM role, user or account-root ARN"),
        ({"root_administers_key": False}, "nobody could ever change the key policy"),
        ({"eso_session_tags": True}, "External Secrets Operator only"),
    ],
)
def test_each_rule_names_the_field(overrides: dict[str, Any], expected: str) -> None:
    assert any(expected in p for p in problems(**overrides)), problems(**overrides)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/billing/db-password", "is not under '/orders/'"),
        ("orders/db-password", "is not under '/orders/'"),
        ("/orders/", "is not under '/orders/'"),
        ("/orders/db password", "characters SSM does not allow"),
        ("/orders/a//b", "empty path component"),
        ("/orders/a/", "empty path component"),
        ("/orders/" + "/".join("l" * 1 for _ in range(15)), "has 16 levels; SSM allows at most 15"),
        ("/orders/" + "x" * 1010, "longer than 1011"),
    ],
)
def test_parameter_names(name: str, expected: str) -> None:
    found = problems(parameters=[name], secrets=[], value_env={})
    assert any(expected in p for p in found), found


def test_fifteen_levels_are_allowed() -> None:
    name = "/orders/" + "/".join("l" for _ in range(14))
    assert len(name.strip("/").split("/")) == 15
    assert orders_params(parameters=[name], secrets=[], value_env={}).parameters[0].name == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("billing/stripe", "is not under 'orders/'"),
        ("orders/stripe key", "characters Secrets Manager does not allow"),
        ("orders/stripe-abc123", "six characters, like the random suffix"),
    ],
)
def test_secret_names(name: str, expected: str) -> None:
    found = problems(parameters=[], secrets=[name], value_env={})
    assert any(expected in p for p in found), found


def test_collisions_and_duplicates() -> None:
    found = problems(parameters=["/orders/a/password", "/orders/b/password", "/orders/a/password"], value_env={})
    assert any("given twice" in p for p in found)
    assert any("end in the same name 'password'" in p for p in found)


def test_no_secret_at_all() -> None:
    assert any("no parameters or secrets given" in p for p in problems(parameters=[], secrets=[], value_env={}))


def test_value_env_must_name_a_declared_parameter_and_a_valid_variable() -> None:
    found = problems(value_env={"/orders/other": "X", "/orders/db-password": "1BAD"})
    assert any("value_env names '/orders/other'" in p for p in found)
    assert any("'1BAD' is not a valid variable name" in p for p in found)


def test_all_problems_are_reported_together() -> None:
    found = problems(service="Bad_Name", namespace="kube-x", account_id="1", controller_role_arn="nope")
    assert len(found) >= 4
    message = str(InvalidParameters(found))
    assert message.startswith("invalid onboarding parameters:")


def test_key_admins_and_role_paths() -> None:
    p = orders_params(
        key_admin_arns=["arn:aws:iam::123456789012:role/platform/key-admin", "arn:aws:iam::123456789012:user/alice"],
        root_administers_key=False,
        controller_role_arn="arn:aws:iam::123456789012:role/platform/external-secrets-role",
    )
    assert p.controller_role_name == "external-secrets-role"
    assert p.partition == "aws"
    assert p.controller_role_arn != CONTROLLER_ROLE


def test_secret_spec_leaf() -> None:
    assert SecretSpec("/orders/db/password").leaf == "password"
