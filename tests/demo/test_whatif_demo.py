"""The demo's example plan against the demo snapshot: exactly the rows and findings it adds, written by hand.

The plan (irsa_lib/data/demo/whatif) widens payments-service-role's trust with a web-identity statement for
``system:serviceaccount:*:*`` of cluster demo, and creates /reporting/api-key on the AWS managed aws/ssm key.

By hand, from the scenario (irsa_lib/demo/scenario.py) and the manifests:
* payments-service-role reads /payments/db-password (alias/payments, whose key policy names the role) and
  payments/stripe-api-key. With the wildcard trust every service account of the cluster reaches it directly:
  billing-api, cloudwatch-agent, payments-api, reporting-app and the ESO controller's account are new direct
  readers (payments-api read them through ESO's Kubernetes Secret, the ESO controller only potentially:
  those rows change access kind, so they leave as via-controller / potential and come back as direct);
  external-secrets-sa and payments-eso-sa already read them directly through external-secrets-role (their
  rows stay, with a shorter path). Anyone who can create a service account reaches it (any service account of
  the cluster), and so does group billing-team, which may run pods in namespace billing.
* /reporting/api-key is read like /reporting/db-password: reporting-role (trust system:serviceaccount:*:*,
  ssm:GetParameter* on /reporting/*) decrypts through SSM with aws/ssm, whose policy allows every principal
  of the account via SSM. So every service account, any new one, and the groups that may run pods
  (billing-team in billing, payments-team in payments) read it.
* Findings: F01 on payments-service-role (IRSA trust for any service account), F06 on the new parameter (AWS
  managed key). Nothing is resolved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.demo.run import collect_demo
from irsa_lib.demo.scenario import DemoFacts
from irsa_lib.demo.whatif import demo_plan_text, run_demo_whatif, whatif_dir
from irsa_lib.findings.sarif import artifact_uri
from irsa_lib.snapshot import Snapshot, save_snapshot
from tests.sarif_schema import validate_sarif

pytestmark = pytest.mark.integration

PAY = ("/payments/db-password", "payments/stripe-api-key")
API_KEY = "/reporting/api-key"
SAS = (
    ("billing", "billing-api"),
    ("external-secrets-operator", "external-secrets"),
    ("monitoring", "cloudwatch-agent"),
    ("payments", "payments-api"),
    ("reporting", "reporting-app"),
)
GAINED = (
    {(ns, sa, "ServiceAccount", v, "direct", "allow") for ns, sa in SAS for v in (*PAY, API_KEY)}
    | {
        ("external-secrets", "external-secrets-sa", "ServiceAccount", API_KEY, "direct", "allow"),
        ("payments", "payments-eso-sa", "ServiceAccount", API_KEY, "direct", "allow"),
    }
    | {(None, "*", "AnyServiceAccount", v, "potential", "allow") for v in (*PAY, API_KEY)}
    | {(None, "billing-team", "Group", v, "potential", "allow") for v in (*PAY, API_KEY)}
    | {(None, "payments-team", "Group", API_KEY, "potential", "allow")}
)
LOST = {("external-secrets-operator", "external-secrets", "ServiceAccount", v, "potential", "allow") for v in PAY} | {
    ("payments", "payments-api", "ServiceAccount", v, "via-controller", "allow") for v in PAY
}
CHANGED = {("external-secrets", "external-secrets-sa", v) for v in PAY} | {
    ("payments", "payments-eso-sa", v) for v in PAY
}


def _row(r: dict) -> tuple[object, ...]:
    return (r["namespace"], r["service_account"], r["subject_kind"], r["secret_name"], r["access"], r["decision"])


@pytest.fixture(scope="module")
def snapshot(facts: DemoFacts) -> Snapshot:
    return collect_demo(facts.endpoint_url)


@pytest.fixture(scope="module")
def files(snapshot: Snapshot, facts: DemoFacts, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("whatif")
    snap = save_snapshot(snapshot, out / "snapshot.json")
    plan = out / "plan.json"
    plan.write_text(demo_plan_text(facts))
    return snap, plan


def test_exactly_the_expected_rows_and_findings(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    snap, plan = files
    code = main(["whatif", str(snap), "--terraform-plan", str(plan), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {_row(r) for r in data["access"]["gained"]} == GAINED
    assert {_row(r) for r in data["access"]["lost"]} == LOST
    changed = {
        (c["after"]["namespace"], c["after"]["service_account"], c["after"]["secret_name"])
        for c in data["access"]["changed"]
    }
    assert changed == CHANGED
    assert all(c["fields"] == ["path", "mechanisms"] for c in data["access"]["changed"])
    assert {(f["rule"], f["resource"]) for f in data["findings"]["introduced"]} == {
        ("F01", "arn:aws:iam::123456789012:role/payments-service-role"),
        ("F06", "arn:aws:ssm:us-east-1:123456789012:parameter/reporting/api-key"),
    }
    assert data["findings"]["resolved"] == []
    assert data["plan"]["known_after_apply"] == [] and data["plan"]["not_applied"] == []


@pytest.mark.parametrize(("gate", "expected"), [("new-access", 1), ("critical", 1), ("high", 1), (None, 0)])
def test_exit_status_per_fail_on(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], gate: str | None, expected: int
) -> None:
    snap, plan = files
    argv = ["whatif", str(snap), "--terraform-plan", str(plan)] + (["--fail-on", gate] if gate else [])
    assert main(argv) == expected
    capsys.readouterr()


def test_the_parameter_alone_trips_high_but_not_critical(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap, plan = files
    data = json.loads(plan.read_text())
    data["resource_changes"] = [rc for rc in data["resource_changes"] if rc["type"] == "aws_ssm_parameter"]
    only = tmp_path / "param-only.json"
    only.write_text(json.dumps(data))
    assert main(["whatif", str(snap), "--terraform-plan", str(only), "--fail-on", "critical"]) == 0
    assert main(["whatif", str(snap), "--terraform-plan", str(only), "--fail-on", "high"]) == 1
    capsys.readouterr()


def test_demo_writes_the_review_and_never_the_planned_value(
    snapshot: Snapshot, facts: DemoFacts, tmp_path: Path
) -> None:
    snap = save_snapshot(snapshot, tmp_path / "snapshot.json")
    review = run_demo_whatif(snapshot, snap, facts, tmp_path)
    markdown = review.markdown.read_text()
    assert markdown.startswith("### What this change would grant")
    assert (
        "| demo/billing/billing-api | /payments/db-password | direct, allow | aws\\_iam\\_role.payments\\_service |"
        in (markdown)
    )
    log = json.loads(review.sarif.read_text())
    validate_sarif(log)
    f01 = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "F01")
    loc = f01["locations"][0]["physicalLocation"]
    main_tf = whatif_dir() / "main.tf"
    assert loc["artifactLocation"]["uri"] == artifact_uri(main_tf)
    line = main_tf.read_text().splitlines()[loc["region"]["startLine"] - 1]
    assert line == 'resource "aws_iam_role" "payments_service" {'
    for path in (review.json, review.markdown, review.sarif):
        assert "demo-plan-value-never-shown" not in path.read_text()
