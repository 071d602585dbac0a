"""The shipped demo manifests: well-formed, consistent with the seeded account, and loaded as intended."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from irsa_lib.demo.scenario import PARAMETERS, ROLE_NAMES, SECRET_NAME, manifests_dir

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(manifests_dir().rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                yield path, doc


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in documents() if doc["kind"] == kind]


def test_manifests_ship_with_the_package() -> None:
    assert manifests_dir().is_dir()
    assert len(list(documents())) == 43


def test_every_object_is_complete_and_namespaced_objects_say_where() -> None:
    for path, doc in documents():
        assert doc.get("apiVersion") and doc.get("kind") and doc["metadata"].get("name"), path
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"].get("namespace"), f"{path.name}: {doc['kind']}/{doc['metadata']['name']}"


def test_secrets_carry_key_names_but_no_value() -> None:
    secrets = by_kind("Secret")
    assert {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in secrets} == {
        ("billing", "billing-db"),
        ("billing", "billing-api-key"),
        ("payments", "payments-db"),
        ("payments", "payments-stripe"),
    }
    for secret in secrets:
        assert "stringData" not in secret
        assert secret["data"] and all(value == "" for value in secret["data"].values())


def test_secrets_are_owned_by_existing_external_secrets() -> None:
    owners = {
        (doc["apiVersion"], doc["metadata"]["namespace"], doc["metadata"]["name"]): doc["metadata"]["uid"]
        for doc in by_kind("ExternalSecret")
    }
    for secret in by_kind("Secret"):
        (ref,) = secret["metadata"]["ownerReferences"]
        key = (ref["apiVersion"], secret["metadata"]["namespace"], ref["name"])
        assert ref["kind"] == "ExternalSecret" and ref["controller"] is True
        assert owners[key] == ref["uid"]


def test_every_aws_reference_exists_in_the_seeded_account() -> None:
    account_roles = {f"arn:aws:iam::123456789012:role/{name}" for name in ROLE_NAMES}
    referenced: list[str] = []
    for _, doc in documents():
        arn = doc["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn")
        if arn:
            referenced.append(arn)
        spec = doc.get("spec", {})
        if doc["apiVersion"] == "kubernetes-client.io/v1":
            referenced.append(spec["roleArn"])
            assert {item["key"] for item in spec["data"]} <= set(PARAMETERS)
        if doc["kind"] == "SecretStore":
            referenced.append(spec["provider"]["aws"]["role"])
        if doc["apiVersion"] == "external-secrets.io/v1" and doc["kind"] == "ExternalSecret":
            assert {item["remoteRef"]["key"] for item in spec["data"]} <= {*PARAMETERS, SECRET_NAME}
    assert referenced and set(referenced) <= account_roles


def test_planted_kubernetes_mistakes_are_present() -> None:
    (kes,) = [d for d in by_kind("Deployment") if d["metadata"]["name"] == "kubernetes-external-secrets"]
    pod = kes["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert "ENFORCE_NAMESPACE_ANNOTATIONS" not in env and "WATCHED_NAMESPACES" not in env  # F03
    assert env["AWS_REGION"] == "us-east-1" and pod["securityContext"]["fsGroup"] == 65534
    gated = {
        ns["metadata"]["name"]
        for ns in by_kind("Namespace")
        if "iam.amazonaws.com/permitted" in ns["metadata"].get("annotations", {})
    }
    assert gated == {"billing"}
    (binding,) = [b for b in by_kind("ClusterRoleBinding") if b["metadata"]["name"] == "developers-secret-reader"]
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "developers"}]
    (payments_api,) = [d for d in by_kind("Deployment") if d["metadata"]["name"] == "payments-api"]
    env_refs = [
        e["valueFrom"]["secretKeyRef"]
        for e in payments_api["spec"]["template"]["spec"]["containers"][0]["env"]
        if "valueFrom" in e
    ]
    assert env_refs == [{"name": "payments-db", "key": "password"}]  # F14


# --- through the loader (irsa_lib.collect.manifests, from the k8scollect branch) ---------------------


@pytest.fixture(scope="module")
def loaded() -> Any:
    manifests = pytest.importorskip("irsa_lib.collect.manifests", reason="irsa_lib.collect.manifests not merged yet")
    return manifests.load_manifests(manifests_dir(), cluster="demo")


def test_loader_reads_everything_completely(loaded: Any) -> None:
    assert loaded.incomplete() == ()
    assert {c.source for c in loaded.coverage} == {"manifests"}
    assert {c.scope for c in loaded.coverage} == {"demo"}


def test_loader_identities(loaded: Any) -> None:
    assert {n.name for n in loaded.namespaces} == {
        "external-secrets",
        "external-secrets-operator",
        "billing",
        "payments",
        "reporting",
        "monitoring",
    }
    (billing,) = [n for n in loaded.namespaces if n.name == "billing"]
    assert billing.annotations["iam.amazonaws.com/permitted"] == (
        "^arn:aws:iam::123456789012:role/billing-service-role$"
    )
    sas = {(sa.namespace, sa.name): sa.role_arn for sa in loaded.service_accounts}
    assert sas == {
        ("external-secrets", "external-secrets-sa"): "arn:aws:iam::123456789012:role/external-secrets-role",
        ("external-secrets-operator", "external-secrets"): None,
        ("billing", "billing-api"): None,
        ("payments", "payments-eso-sa"): "arn:aws:iam::123456789012:role/external-secrets-role",
        ("payments", "payments-api"): None,
        ("reporting", "reporting-app"): "arn:aws:iam::123456789012:role/reporting-role",
        ("monitoring", "cloudwatch-agent"): None,
    }
    assert all(sa.cluster == "demo" for sa in loaded.service_accounts)


def test_loader_controllers(loaded: Any) -> None:
    (kes,) = loaded.kes_controllers
    assert (kes.namespace, kes.service_account) == ("external-secrets", "external-secrets-sa")
    assert kes.aws_region == "us-east-1"
    assert kes.enforce_namespace_annotations is False
    assert kes.watched_namespaces == ()
    assert kes.intermediate_role_arn is None
    (eso,) = loaded.eso_controllers
    assert (eso.namespace, eso.service_account) == ("external-secrets-operator", "external-secrets")


def test_loader_external_secrets(loaded: Any) -> None:
    kes = {es.name: es for es in loaded.kes_external_secrets}
    assert set(kes) == {"billing-db", "billing-api-key"}
    assert kes["billing-db"].namespace == "billing"
    assert kes["billing-db"].backend_type == "systemManager"
    assert kes["billing-db"].role_arn == "arn:aws:iam::123456789012:role/billing-service-role"
    assert [(d.key, d.name) for d in kes["billing-db"].data] == [("/billing/db-password", "password")]
    assert [(d.key, d.name) for d in kes["billing-api-key"].data] == [("/billing/api-key", "api-key")]

    stores = {s.name: s for s in loaded.eso_stores}
    assert set(stores) == {"payments-parameter-store", "payments-secrets-manager"}
    for store, service in (
        ("payments-parameter-store", "ParameterStore"),
        ("payments-secrets-manager", "SecretsManager"),
    ):
        s = stores[store]
        assert (s.kind, s.namespace, s.service, s.region) == ("SecretStore", "payments", service, "us-east-1")
        assert s.role == "arn:aws:iam::123456789012:role/payments-service-role"
        assert s.jwt is not None and s.jwt.service_account == "payments-eso-sa"
    eso = {es.name: es for es in loaded.eso_external_secrets}
    assert set(eso) == {"payments-db", "payments-stripe"}
    assert eso["payments-db"].store_ref.name == "payments-parameter-store"
    assert [(d.secret_key, d.remote_key) for d in eso["payments-db"].data] == [("password", "/payments/db-password")]
    assert [(d.remote_key, d.property) for d in eso["payments-stripe"].data] == [("payments/stripe-api-key", "api-key")]
    assert eso["payments-stripe"].target_name == "payments-stripe"


def test_loader_secrets_and_workloads(loaded: Any) -> None:
    secrets = {(s.namespace, s.name): s for s in loaded.k8s_secrets}
    assert secrets[("billing", "billing-db")].keys == ("password",)
    assert secrets[("billing", "billing-db")].owner_references == ("ExternalSecret/billing-db",)
    assert secrets[("payments", "payments-stripe")].owner_references == ("ExternalSecret/payments-stripe",)
    workloads = {(w.namespace, w.name): w for w in loaded.workloads}
    assert set(workloads) == {
        ("external-secrets", "kubernetes-external-secrets"),
        ("external-secrets-operator", "external-secrets"),
        ("billing", "billing-api"),
        ("payments", "payments-api"),
        ("reporting", "reporting-exporter"),
        ("monitoring", "cloudwatch-agent"),
    }
    billing = workloads[("billing", "billing-api")]
    assert billing.service_account == "billing-api"
    assert {(r.secret, r.via) for r in billing.secret_refs} == {("billing-db", "volume"), ("billing-api-key", "volume")}
    payments = workloads[("payments", "payments-api")]
    assert {(r.secret, r.via, r.key) for r in payments.secret_refs} == {
        ("payments-db", "env", "password"),
        ("payments-stripe", "volume", None),
    }
    assert workloads[("external-secrets", "kubernetes-external-secrets")].fs_group == 65534


def test_loader_rbac(loaded: Any) -> None:
    bindings = {(b.kind, b.namespace, b.name): b for b in loaded.rbac_bindings}
    dev = bindings[("ClusterRoleBinding", None, "developers-secret-reader")]
    assert (dev.role_kind, dev.role_name) == ("ClusterRole", "secret-reader")
    assert [(s.kind, s.name) for s in dev.subjects] == [("Group", "developers")]
    team = bindings[("RoleBinding", "payments", "payments-team-developer")]
    assert (team.role_kind, team.role_name) == ("ClusterRole", "team-developer")
    roles = {(r.kind, r.name): r for r in loaded.rbac_roles}
    (rule,) = roles[("ClusterRole", "secret-reader")].rules
    assert (set(rule.verbs), rule.resources) == ({"get", "list", "watch"}, ("secrets",))
    assert ("ClusterRole", "external-secrets-controller") in roles
    assert ("ClusterRole", "kubernetes-external-secrets") in roles
