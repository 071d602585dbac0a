"""Verification: collect again and prove exactly the intended access, on a clean account and a tampered one."""

from __future__ import annotations

import json
from pathlib import Path

from irsa_lib.onboarding import make_plan, write_outputs
from irsa_lib.onboarding.apply import apply_plan
from irsa_lib.onboarding.verify import collect_state, verify
from tests.onboarding.conftest import (
    ACCOUNT,
    CLUSTER_MANIFESTS,
    CONTROLLER_ROLE,
    VALUES,
    Aws,
    irsa_trust,
    orders_params,
)

NEW = set(VALUES)


def onboard(aws: Aws, tmp_path: Path) -> tuple[Path, object]:
    p = orders_params()
    before = collect_state(p, endpoint_url=aws.endpoint, manifests=[CLUSTER_MANIFESTS])
    report = apply_plan(p, aws.clients, dry_run=False)
    out = write_outputs(report.plan, tmp_path / "out")
    return out.manifests_dir, before


def test_verify_proves_exactly_the_intended_access(cluster_aws: Aws, value_env: dict[str, str], tmp_path: Path) -> None:
    p = orders_params()
    manifests, before = onboard(cluster_aws, tmp_path)
    after = collect_state(p, endpoint_url=cluster_aws.endpoint, manifests=[CLUSTER_MANIFESTS, manifests])
    proof = verify(p, after, before=before)  # type: ignore[arg-type]

    # Written by hand from the design: the orders workload reads its three values through the Secrets
    # the KES controller fills, the controller reaches them with its own identity (IRSA ->
    # external-secrets-role -> orders-service-role), and nobody else reaches them.
    assert {(r.namespace, r.service_account, r.secret_name, r.access) for r in proof.intended} == {
        ("orders", "orders", name, "via-controller") for name in NEW
    }
    assert {(r.namespace, r.service_account, r.secret_name, r.access) for r in proof.controller} == {
        ("external-secrets", "external-secrets-sa", name, "direct") for name in NEW
    }
    # The kubelet of whichever node runs the pod reads the Secrets it mounts (Kubernetes' node authorizer).
    assert {(r.subject_kind, r.service_account, r.secret_name, r.path[1]) for r in proof.kubelet} == {
        ("Node", "*", "/orders/db-password", "Secret orders/orders-parameters"),
        ("Node", "*", "/orders/api-key", "Secret orders/orders-parameters"),
        ("Node", "*", "orders/stripe-api-key", "Secret orders/orders-secrets"),
    }
    for row in proof.intended:
        assert "role external-secrets-role" in row.path and "role orders-service-role" in row.path
    assert proof.missing == () and proof.unexpected == () and proof.namespace_other == ()
    assert proof.added_elsewhere == () and proof.removed_elsewhere == ()
    assert {(r.namespace, r.service_account) for r in proof.new_rows} == {
        ("orders", "orders"),
        ("external-secrets", "external-secrets-sa"),
        (None, "*"),  # the kubelet rows above
    }
    assert proof.ok
    assert proof.to_text().startswith("Verification of orders: PROVEN")


def test_verify_shows_a_subject_that_gained_access(cluster_aws: Aws, value_env: dict[str, str], tmp_path: Path) -> None:
    p = orders_params()
    manifests, before = onboard(cluster_aws, tmp_path)
    # Someone widens the service role's trust to a role that any pod running as rogue/app obtains.
    iam = cluster_aws.client("iam")
    provider = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    host = provider.split("oidc-provider/", 1)[1]
    iam.create_role(
        RoleName="rogue-role",
        AssumeRolePolicyDocument=json.dumps(irsa_trust(provider, host, "system:serviceaccount:rogue:app")),
    )
    wide = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [CONTROLLER_ROLE, f"arn:aws:iam::{ACCOUNT}:role/rogue-role"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.update_assume_role_policy(RoleName="orders-service-role", PolicyDocument=json.dumps(wide))
    rogue = tmp_path / "rogue"
    rogue.mkdir()
    (rogue / "rogue.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: rogue}\n---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: rogue\n  annotations:\n"
        f"    eks.amazonaws.com/role-arn: arn:aws:iam::{ACCOUNT}:role/rogue-role\n"
    )
    after = collect_state(p, endpoint_url=cluster_aws.endpoint, manifests=[CLUSTER_MANIFESTS, manifests, rogue])
    proof = verify(p, after, before=before)  # type: ignore[arg-type]
    assert not proof.ok
    # The rogue SA reads the two parameters and the secret: the key policy lets the service role
    # decrypt, and rogue-role acts through a session of orders-service-role.
    assert {(r.namespace, r.service_account, r.secret_name) for r in proof.unexpected} == {
        ("rogue", "app", name) for name in NEW
    }
    assert "NOT PROVEN" in proof.to_text()


def test_plan_outputs_load_next_to_the_existing_manifests(tmp_path: Path) -> None:
    from irsa_lib.collect.manifests import load_manifests

    out = write_outputs(make_plan(orders_params()), tmp_path)
    snap = load_manifests(out.manifests_dir, cluster="demo")
    existing = load_manifests(CLUSTER_MANIFESTS, cluster="demo")
    assert {n.name for n in snap.namespaces}.isdisjoint({n.name for n in existing.namespaces})
