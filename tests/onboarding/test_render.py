"""Outputs: manifests read back by the manifest collector, Terraform parsed for real, policy documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2

from irsa_lib.collect.manifests import load_manifests
from irsa_lib.model import JWTAuth, KESDataItem, SecretKeyRef, StoreRef
from irsa_lib.onboarding import make_plan, write_outputs
from irsa_lib.onboarding.render import anchored_regex, hcl_string, manifests, terraform
from tests.onboarding.conftest import CONTROLLER_ROLE, VALUES, orders_params

ROLE = "arn:aws:iam::123456789012:role/orders-service-role"


def test_kes_manifests_read_back_as_the_records_the_collector_builds(tmp_path: Path) -> None:
    out = write_outputs(make_plan(orders_params()), tmp_path)
    snap = load_manifests(out.manifests_dir, cluster="demo")
    assert snap.incomplete() == ()
    (ns,) = snap.namespaces
    assert (ns.name, dict(ns.annotations)) == ("orders", {"iam.amazonaws.com/permitted": f"^{ROLE}$"})
    assert [(sa.namespace, sa.name, sa.role_arn, sa.automount_token) for sa in snap.service_accounts] == [
        ("orders", "orders", None, False)
    ]
    by_name = {es.name: es for es in snap.kes_external_secrets}
    assert set(by_name) == {"orders-parameters", "orders-secrets"}
    params, secrets = by_name["orders-parameters"], by_name["orders-secrets"]
    assert (params.backend_type, params.role_arn, params.region) == ("systemManager", ROLE, "us-east-1")
    assert params.data == (
        KESDataItem(key="/orders/db-password", name="db-password"),
        KESDataItem(key="/orders/api-key", name="api-key"),
    )
    assert (secrets.backend_type, secrets.role_arn) == ("secretsManager", ROLE)
    assert secrets.data == (KESDataItem(key="orders/stripe-api-key", name="stripe-api-key"),)
    (workload,) = snap.workloads
    assert workload.service_account == "orders"
    assert set(workload.secret_refs) == {
        SecretKeyRef(secret="orders-parameters", via="volume"),
        SecretKeyRef(secret="orders-secrets", via="volume"),
    }
    assert all(c.env_names == () for c in workload.containers)  # volumes, never environment variables


def test_eso_manifests_with_a_store_service_account_in_the_namespace(tmp_path: Path) -> None:
    p = orders_params(controller="eso", controller_service_account="orders/orders-eso-sa")
    out = write_outputs(make_plan(p), tmp_path)
    snap = load_manifests(out.manifests_dir, cluster="demo")
    assert snap.incomplete() == ()
    assert snap.namespaces[0].annotations == {}  # the KES gate means nothing to ESO
    store_sa = next(sa for sa in snap.service_accounts if sa.name == "orders-eso-sa")
    assert store_sa.role_arn == CONTROLLER_ROLE
    stores = {s.name: s for s in snap.eso_stores}
    assert {(s.service, s.role, s.kind, s.namespace) for s in stores.values()} == {
        ("ParameterStore", ROLE, "SecretStore", "orders"),
        ("SecretsManager", ROLE, "SecretStore", "orders"),
    }
    assert all(s.jwt == JWTAuth(service_account="orders-eso-sa") for s in stores.values())
    es = {e.name: e for e in snap.eso_external_secrets}
    assert es["orders-parameters"].store_ref == StoreRef(name="orders-parameter-store", kind="SecretStore")
    assert [(d.secret_key, d.remote_key) for d in es["orders-parameters"].data] == [
        ("db-password", "/orders/db-password"),
        ("api-key", "/orders/api-key"),
    ]
    assert [(d.secret_key, d.remote_key) for d in es["orders-secrets"].data] == [
        ("stripe-api-key", "orders/stripe-api-key")
    ]


def test_eso_with_the_controller_identity_has_no_auth_block() -> None:
    p = orders_params(controller="eso", controller_service_account="external-secrets-operator/external-secrets")
    stores = [o for o in manifests(p) if o["kind"] == "SecretStore"]
    assert stores and all("auth" not in o["spec"]["provider"]["aws"] for o in stores)
    assert not [o for o in manifests(p) if o["kind"] == "ServiceAccount" and o["metadata"]["name"] != "orders"]


def test_anchored_regex_escapes_metacharacters() -> None:
    assert anchored_regex("arn:aws:iam::1:role/a.b") == r"^arn:aws:iam::1:role/a\.b$"
    assert anchored_regex("x+(y)") == r"^x\+\(y\)$"


def test_policy_documents_are_written_as_json(tmp_path: Path) -> None:
    out = write_outputs(make_plan(orders_params()), tmp_path)
    names = sorted(p.name for p in out.policies)
    assert names == ["controller-assume-policy.json", "key-policy.json", "read-policy.json", "trust-policy.json"]
    for path in out.policies:
        doc = json.loads(path.read_text())
        assert doc["Version"] == "2012-10-17"
        for st in doc["Statement"]:
            assert st["Effect"] == "Allow" and "Action" in st and ("Resource" in st or "Principal" in st)


def test_policy_documents_pass_the_policy_validator(tmp_path: Path) -> None:
    from irsa_lib.policy import parse_policy

    plan = make_plan(
        orders_params(controller="eso", controller_service_account="orders/orders-eso-sa", eso_session_tags=True)
    )
    kinds = {
        "trust-policy": "trust",
        "key-policy": "key",
        "read-policy": "identity",
        "controller-assume-policy": "identity",
    }
    documents = plan.documents()
    assert set(documents) == set(kinds)
    for stem, doc in documents.items():
        policy = parse_policy(doc, source=stem, kind=kinds[stem])  # raises PolicyError on anything invalid
        assert len(policy.statements) == len(doc["Statement"]) > 0


def _resources(parsed: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for block in parsed.get("resource", []):
        for rtype, named in block.items():
            for name, body in named.items():
                out[(rtype.strip('"'), name.strip('"'))] = body
    return out


def test_terraform_parses_and_has_each_resource() -> None:
    text = terraform(orders_params())
    parsed = hcl2.loads(text)
    res = _resources(parsed)
    assert set(res) == {
        ("aws_iam_role", "orders_service"),
        ("aws_kms_key", "orders"),
        ("aws_kms_alias", "orders"),
        ("aws_iam_role_policy", "orders_service_read"),
        ("aws_iam_role_policy", "external_secrets_role_assume_orders"),
        ("aws_ssm_parameter", "orders_db_password"),
        ("aws_ssm_parameter", "orders_api_key"),
        ("aws_secretsmanager_secret", "orders_stripe_api_key"),
        ("aws_secretsmanager_secret_version", "orders_stripe_api_key"),
    }
    assert res[("aws_kms_key", "orders")]["enable_key_rotation"] is True
    for name in ("orders_db_password", "orders_api_key"):
        body = res[("aws_ssm_parameter", name)]
        assert body["type"] == '"SecureString"' or body["type"] == "SecureString"
        assert body["value"] == f"${{var.{name}}}"  # from a variable, never a literal
        assert body["key_id"] == "${aws_kms_key.orders.arn}"
    assert res[("aws_secretsmanager_secret_version", "orders_stripe_api_key")]["secret_string"] == (
        "${var.orders_stripe_api_key}"
    )
    variables = {k.strip('"'): v for block in parsed["variable"] for k, v in block.items()}
    assert set(variables) == {"orders_db_password", "orders_api_key", "orders_stripe_api_key"}
    assert all(v["sensitive"] is True for v in variables.values())
    # The key policy names the role by reference (ordering), the read policy names the key by reference.
    assert "aws_iam_role.orders_service.arn" in str(res[("aws_kms_key", "orders")]["policy"])
    assert "aws_kms_key.orders.arn" in str(res[("aws_iam_role_policy", "orders_service_read")]["policy"])
    assert text.count("{") == text.count("}") and text.count("[") == text.count("]")
    assert not any(v in text for v in VALUES.values())


def test_hcl_strings_never_interpolate() -> None:
    assert hcl_string('a "b" ${c} %{d}') == '"a \\"b\\" $${c} %%{d}"'
