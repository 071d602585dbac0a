"""The rule catalogue on the demo snapshot: exactly the planted mistakes and their documented consequences.

Expectations are written by hand from the scenario's design (``irsa_lib.demo.scenario`` docstring) and
the shipped manifests (``irsa_lib/data/demo/manifests``), rule by rule:

* (a) F01 reporting-role: ``StringLike sub = system:serviceaccount:*:*``.
* (b) F06 /reporting/db-password on aws/ssm. Every other value uses a customer managed key (the
  payments secret's KmsKeyId is the key ARN).
* (c) F05 demo-node-role: ``ssm:GetParameter*`` on ``*`` with HttpTokens=optional, hop limit 2.
* (d) F04 external-secrets-role: the controller role itself reads billing directly (high: one service).
* (e) F08 legacy-app-role: trusts the account root; ci-deployer (group deployers) may sts:AssumeRole on ``*``.
* F03: KES serves every namespace without ENFORCE_NAMESPACE_ANNOTATIONS; billing carries an anchored
  regex. external-secrets and external-secrets-operator are the controllers' own namespaces (system
  namespaces: no RoleBinding there lets a tenant write ExternalSecrets), so payments, reporting and
  monitoring remain.
* F09 payments: ESO may create tokens for any SA, payments-team writes SecretStores there, and
  payments-eso-sa is annotated with external-secrets-role (billing has no IRSA service account).
* F12 billing, payments: the team-developer ClusterRole (bound per namespace) writes KES ExternalSecrets.
* F13: developers-secret-reader (cluster-wide get/list/watch secrets) and the two team-developer
  RoleBindings (create pods and deployments, write ExternalSecrets/SecretStores in their namespace).
* F14 payments-api (env secretKeyRef); F25 the KES Deployment.
* F28: reporting-exporter (IRSA) and cloudwatch-agent (Pod Identity) keep the default token mount;
  billing-api and payments-api service accounts use no AWS identity; the controllers are skipped.
* Nothing else: no open or Federated-without-condition trust (F02), every IRSA trust pins aud (F18),
  every annotation names an existing role whose trust admits the SA (F19), the Pod Identity trust has
  aws:SourceAccount (F20), no key delegates Decrypt to IAM (F07), no path wildcard spans services
  (F15), the cluster runs 1.30 (F23, F24), no PushSecret rights (F26), no organisation (F27),
  MaxSessionDuration is the default 3600 (F22), the one ``-??????`` secret ARN exists (F17).
"""

from __future__ import annotations

import pytest

from irsa_lib.access import AccessRow, effective_access
from irsa_lib.demo.run import collect_demo
from irsa_lib.demo.scenario import DemoFacts
from irsa_lib.findings import FindingContext, run_findings
from irsa_lib.findings.rules.secrets import readable
from irsa_lib.graph import AccessGraph, build_graph
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot

pytestmark = pytest.mark.integration

ACCT = "123456789012"
ROLE = f"arn:aws:iam::{ACCT}:role/"
NODE_ROLE = ROLE + "demo-node-role"
CONTROLLER_ROLE = ROLE + "external-secrets-role"

EXPECTED = {
    ("F01", ROLE + "reporting-role"),
    ("F03", "demo/Namespace/payments"),
    ("F03", "demo/Namespace/reporting"),
    ("F03", "demo/Namespace/monitoring"),
    ("F04", ROLE + "external-secrets-role"),
    ("F05", NODE_ROLE),
    ("F06", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/db-password"),
    ("F08", ROLE + "legacy-app-role"),
    ("F09", "demo/Namespace/payments"),
    ("F12", "demo/Namespace/billing"),
    ("F12", "demo/Namespace/payments"),
    ("F13", "demo/ClusterRoleBinding/developers-secret-reader"),
    ("F13", "demo/billing/RoleBinding/billing-team-developer"),
    ("F13", "demo/payments/RoleBinding/payments-team-developer"),
    ("F14", "demo/payments/Deployment/payments-api"),
    ("F25", "demo/external-secrets/Deployment/kubernetes-external-secrets"),
    ("F28", "demo/reporting/Deployment/reporting-exporter"),
    ("F28", "demo/monitoring/DaemonSet/cloudwatch-agent"),
}


@pytest.fixture(scope="module")
def snapshot(facts: DemoFacts) -> Snapshot:
    snap = collect_demo(facts.endpoint_url)
    assert snap.incomplete() == ()
    return snap


@pytest.fixture(scope="module")
def analysed(snapshot: Snapshot) -> tuple[Inventory, AccessGraph]:
    inventory = Inventory.from_snapshot(snapshot)
    return inventory, build_graph(snapshot, inventory=inventory)


def test_exactly_the_planted_mistakes_fail(snapshot: Snapshot, analysed: tuple[Inventory, AccessGraph]) -> None:
    inventory, graph = analysed
    with_graph = run_findings(snapshot, graph=graph, inventory=inventory)
    assert {(f.rule, f.resource) for f in with_graph if f.status == "fail"} == EXPECTED
    assert [f for f in with_graph if f.status == "unknown"] == []
    # Without a graph the same questions go to the evaluator directly: the same answer.
    without = run_findings(snapshot)
    assert {(f.rule, f.resource) for f in without if f.status == "fail"} == EXPECTED


def test_no_false_positive_on_the_safe_service_roles_and_keys(snapshot: Snapshot) -> None:
    safe = {ROLE + "billing-service-role", ROLE + "payments-service-role"}
    found = run_findings(snapshot)
    keys = {k.arn for k in snapshot.kms_keys if {"alias/billing", "alias/payments"} & set(k.aliases)}
    assert len(keys) == 2
    assert [f for f in found if f.resource in safe | keys] == []
    safe_values = {p.arn for p in snapshot.ssm_parameters if p.name.startswith(("/billing/", "/payments/"))}
    safe_values |= {s.arn for s in snapshot.secrets}
    assert [f for f in found if f.resource in safe_values] == []


def _last_hop_reads(rows: list[AccessRow], role_arn: str) -> set[str]:
    """Values whose access-row path reads them with ``role_arn`` (the hop right before the value)."""
    return {r.secret_name for r in rows if len(r.nodes) >= 2 and r.nodes[-2] == f"role:{role_arn}"}


@pytest.mark.parametrize(
    ("role_arn", "expected"),
    [
        (NODE_ROLE, {"/reporting/db-password"}),  # (c): aws/ssm only; CMK policies name neither it nor root
        (CONTROLLER_ROLE, {"/billing/db-password", "/billing/api-key"}),  # (d): billing directly, not payments
    ],
)
def test_findings_and_access_rows_agree_on_role_reads(
    snapshot: Snapshot, analysed: tuple[Inventory, AccessGraph], role_arn: str, expected: set[str]
) -> None:
    inventory, graph = analysed
    from_graph, _ = readable(FindingContext(snapshot, graph=graph, inventory=inventory), role_arn)
    from_evaluator, _ = readable(FindingContext(snapshot), role_arn)
    assert {name for _, name, _ in from_graph} == expected
    assert {name for _, name, _ in from_evaluator} == expected
    assert _last_hop_reads(list(effective_access(graph)), role_arn) == expected


def test_node_role_finding_names_exactly_what_the_rows_show(
    snapshot: Snapshot, analysed: tuple[Inventory, AccessGraph]
) -> None:
    inventory, graph = analysed
    (f05,) = [f for f in run_findings(snapshot, graph=graph, inventory=inventory, rules=["F05"])]
    named = {e.split(" (", 1)[0] for e in f05.evidence if e.startswith("/")}
    assert named == _last_hop_reads(list(effective_access(graph)), NODE_ROLE) == {"/reporting/db-password"}
    assert any("HttpTokens=optional (IMDSv1 allowed)" in e for e in f05.evidence)


def test_graph_evidence_names_what_the_mistakes_expose(
    snapshot: Snapshot, analysed: tuple[Inventory, AccessGraph]
) -> None:
    inventory, graph = analysed
    found = {(f.rule, f.resource): f for f in run_findings(snapshot, graph=graph, inventory=inventory)}
    every_service_value = (
        "['/billing/api-key', '/billing/db-password', '/payments/db-password', 'payments/stripe-api-key']"
    )
    # F03: payments is not gated, so an ExternalSecret there may name billing-service-role (or no
    # roleArn: the controller's own identity reads billing, plant d) as well as payments-service-role.
    f03 = found[("F03", "demo/Namespace/payments")]
    assert f"an ExternalSecret created here can materialise: {every_service_value}" in f03.evidence
    # F13: developers read every Kubernetes Secret, i.e. every value KES and ESO materialised.
    f13 = found[("F13", "demo/ClusterRoleBinding/developers-secret-reader")]
    assert f"access rows: its subjects can reach {every_service_value}" in f13.evidence
