"""The full effective-access table of the demo scenario, written by hand from its documented design.

Source: the ``irsa_lib.demo.scenario`` docstring (intended design, planted mistakes (a)-(e)) and the
manifests under ``irsa_lib/data/demo/manifests`` (namespaces, controllers, workloads, RBAC). Each
row below is derived in the comment above its block; none is taken from the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from irsa_lib.access import AccessRow, effective_access
from irsa_lib.graph import build_graph
from irsa_lib.snapshot import Snapshot

pytestmark = pytest.mark.integration

BILLING = ("/billing/db-password", "/billing/api-key")
PAYMENTS = ("/payments/db-password", "payments/stripe-api-key")
REPORTING = "/reporting/db-password"


def _rows(kind: str, ns: str | None, name: str, values: tuple[str, ...], access: str) -> set[tuple[str, ...]]:
    return {(kind, ns or "-", name, v, access, "allow") for v in values}


EXPECTED: set[tuple[str, ...]] = set()
# KES controller: its IRSA role external-secrets-role reads billing itself (d) and assumes both
# service roles (billing, payments incl. the Stripe secret); reporting-role's sub *:* (a) and the
# node role (c) give it /reporting/db-password. /legacy/api-token: no Kubernetes path (e).
EXPECTED |= _rows(
    "ServiceAccount", "external-secrets", "external-secrets-sa", (*BILLING, *PAYMENTS, REPORTING), "direct"
)
# payments-eso-sa is annotated with external-secrets-role, whose trust lists it: same reach.
EXPECTED |= _rows("ServiceAccount", "payments", "payments-eso-sa", (*BILLING, *PAYMENTS, REPORTING), "direct")
# billing-api mounts the two Secrets KES materialises (billing-service-role chain); reporting via (a)/(c).
EXPECTED |= _rows("ServiceAccount", "billing", "billing-api", BILLING, "via-controller")
EXPECTED |= _rows("ServiceAccount", "billing", "billing-api", (REPORTING,), "direct")
# payments-api consumes the two Secrets ESO materialises (env + volume); reporting via (a)/(c).
EXPECTED |= _rows("ServiceAccount", "payments", "payments-api", PAYMENTS, "via-controller")
EXPECTED |= _rows("ServiceAccount", "payments", "payments-api", (REPORTING,), "direct")
# reporting-app (configured for reporting-role) and cloudwatch-agent (Pod Identity role reads
# nothing; reporting-role's wildcard trust and the node role still apply).
EXPECTED |= _rows("ServiceAccount", "reporting", "reporting-app", (REPORTING,), "direct")
EXPECTED |= _rows("ServiceAccount", "monitoring", "cloudwatch-agent", (REPORTING,), "direct")
# ESO controller: no IRSA annotation, but sub *:* (a) and the node role (c) -> reporting directly;
# its chart RBAC (serviceaccounts/token create, secrets get/list cluster-wide) -> everything else potential.
EXPECTED |= _rows("ServiceAccount", "external-secrets-operator", "external-secrets", (REPORTING,), "direct")
EXPECTED |= _rows("ServiceAccount", "external-secrets-operator", "external-secrets", (*BILLING, *PAYMENTS), "potential")
# Any service account someone creates in the cluster: reporting-role (a).
EXPECTED |= _rows("AnyServiceAccount", None, "*", (REPORTING,), "potential")
# Group developers: get/list/watch secrets cluster-wide (F13) -> the four materialised values.
EXPECTED |= _rows("Group", None, "developers", (*BILLING, *PAYMENTS), "potential")
# Group billing-team (team-developer in billing): pods as billing-api (reporting), KES
# ExternalSecrets in billing (the gate admits only billing-service-role; no roleArn uses the
# controller's own role, which reads billing (d)) -> billing.
EXPECTED |= _rows("Group", None, "billing-team", (*BILLING, REPORTING), "potential")
# The kubelet of the node running billing-api / payments-api: the node authorizer lets it read the
# Secrets those pods reference (billing-db, billing-api-key; payments-db, payments-stripe), i.e. the
# four materialised values. The Deployments' node is unknown: one "*" kubelet.
EXPECTED |= _rows("Node", None, "*", (*BILLING, *PAYMENTS), "via-controller")
# Group payments-team (team-developer in payments): KES ExternalSecrets in the ungated payments
# namespace (F03) may name billing-service-role or payments-service-role; SecretStores and pods as
# payments-eso-sa reach external-secrets-role; pods give reporting.
EXPECTED |= _rows("Group", None, "payments-team", (*BILLING, *PAYMENTS, REPORTING), "potential")


@pytest.fixture(scope="module")
def demo_snapshot() -> Iterator[Snapshot]:
    from irsa_lib.demo.run import collect_demo
    from irsa_lib.demo.scenario import REGION, seed_aws
    from irsa_lib.demo.server import local_aws

    with local_aws(region=REGION) as aws:
        try:
            facts = seed_aws(aws.endpoint_url)
            yield collect_demo(aws.endpoint_url, cluster=facts.cluster_name)
        finally:
            aws.reset()  # moto keeps its state per process: leave nothing behind for other tests


def _table(rows: list[AccessRow]) -> set[tuple[str, ...]]:
    return {(r.subject_kind, r.namespace or "-", r.service_account, r.secret_name, r.access, r.decision) for r in rows}


def test_demo_access_table_is_exactly_the_documented_one(demo_snapshot: Snapshot) -> None:
    rows = effective_access(build_graph(demo_snapshot))
    assert _table(rows) == EXPECTED
    assert all(r.complete for r in rows)
    assert all(r.cluster == "demo" for r in rows)


def test_nobody_in_the_cluster_reads_the_legacy_token(demo_snapshot: Snapshot) -> None:
    assert effective_access(build_graph(demo_snapshot), secret="/legacy/api-token") == []


def test_billing_api_path_goes_through_the_kes_chain(demo_snapshot: Snapshot) -> None:
    [row] = effective_access(
        build_graph(demo_snapshot), service_account="billing/billing-api", secret="/billing/db-password"
    )
    assert row.path == (
        "workload demo/billing/Deployment/billing-api",
        "Secret billing/billing-db",
        "KES ExternalSecret billing/billing-db",
        "sa demo/external-secrets/external-secrets-sa",
        "role external-secrets-role",
        "role billing-service-role",
        "key billing (customer managed)",
        "parameter /billing/db-password",
    )
