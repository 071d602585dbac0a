"""The demo walkthrough: a dry run of ``orders`` against the seeded demo endpoint changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from irsa_lib.collect.manifests import load_manifests
from irsa_lib.demo import local_aws, manifests_dir, seed_aws
from irsa_lib.demo.onboarding import onboard_dry_run_demo
from irsa_lib.demo.server import aws_client


@pytest.fixture
def demo_endpoint() -> Iterator[str]:
    with local_aws() as aws:
        seed_aws(aws.endpoint_url)
        try:
            yield aws.endpoint_url
        finally:
            aws.reset()  # in-process moto servers share one state: leave it empty


def test_orders_dry_run_on_the_demo_creates_nothing(demo_endpoint: str, tmp_path: Path) -> None:
    iam = aws_client("iam", demo_endpoint)
    roles_before = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert "orders-service-role" not in roles_before

    result = onboard_dry_run_demo(tmp_path, endpoint_url=demo_endpoint)

    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == roles_before
    aliases = {a["AliasName"] for a in aws_client("kms", demo_endpoint).list_aliases()["Aliases"]}
    assert "alias/orders" not in aliases
    pages = aws_client("ssm", demo_endpoint).get_paginator("describe_parameters").paginate()
    assert not [p["Name"] for page in pages for p in page["Parameters"] if p["Name"].startswith("/orders/")]
    assert iam.list_role_policies(RoleName="external-secrets-role")["PolicyNames"] == [
        "assume-service-roles",
        "read-billing-parameters",
    ]
    assert result.report.dry_run
    assert [(r.step, r.status) for r in result.report.results] == [
        ("service-role", "create"),
        ("kms-key", "create"),
        ("kms-alias", "create"),
        ("kms-rotation", "create"),
        ("service-role-policy", "create"),
        ("controller-policy", "create"),
        ("parameter:/orders/db-password", "create"),
        ("parameter:/orders/payment-token", "create"),
    ]
    assert result.outputs.out_dir == tmp_path / "onboard-orders"
    generated = load_manifests(result.outputs.manifests_dir, cluster="demo")
    assert "orders" not in {n.name for n in load_manifests(manifests_dir(), cluster="demo").namespaces}
    assert [(e.namespace, e.role_arn) for e in generated.kes_external_secrets] == [
        ("orders", "arn:aws:iam::123456789012:role/orders-service-role")
    ]
