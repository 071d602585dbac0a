"""The rule catalogue on the demo snapshot: every planted mistake is reported, the safe design is not.

Expectations come from the scenario's design (irsa_lib.demo.scenario docstring), written by hand.
Plant (d) is deliberately absent here: F04's rule reports a controller identity that reads *several*
services, and the demo's controller role reads one (billing) directly; that path is for the access
analysis to show.
"""

from __future__ import annotations

import pytest

from irsa_lib.demo.run import collect_demo
from irsa_lib.demo.scenario import DemoFacts
from irsa_lib.findings import run_findings

pytestmark = pytest.mark.integration

ACCT = "123456789012"


@pytest.fixture(scope="module")
def failing(facts: DemoFacts) -> set[tuple[str, str]]:
    snapshot = collect_demo(facts.endpoint_url)
    assert snapshot.incomplete() == ()
    return {(f.rule, f.resource) for f in run_findings(snapshot) if f.status == "fail"}


def test_planted_mistakes_are_reported(failing: set[tuple[str, str]]) -> None:
    expected = {
        ("F01", f"arn:aws:iam::{ACCT}:role/reporting-role"),  # (a)
        ("F06", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/db-password"),  # (b)
        ("F05", f"arn:aws:iam::{ACCT}:role/demo-node-role"),  # (c)
        ("F08", f"arn:aws:iam::{ACCT}:role/legacy-app-role"),  # (e)
        # KES serves every namespace; only billing carries the role regex.
        *{
            ("F03", f"demo/Namespace/{ns}")
            for ns in ("external-secrets", "external-secrets-operator", "payments", "reporting", "monitoring")
        },
        ("F13", "demo/ClusterRoleBinding/developers-secret-reader"),
        ("F14", "demo/payments/Deployment/payments-api"),
        ("F25", "demo/external-secrets/Deployment/kubernetes-external-secrets"),
        # The ESO migration design: payments holds an IRSA SA that ESO mints tokens for.
        ("F09", "demo/Namespace/payments"),
    }
    assert expected - failing == set()


def test_the_safe_design_is_not_reported(failing: set[tuple[str, str]]) -> None:
    by_rule: dict[str, set[str]] = {}
    for rule, resource in failing:
        by_rule.setdefault(rule, set()).add(resource)
    assert by_rule["F01"] == {f"arn:aws:iam::{ACCT}:role/reporting-role"}
    assert by_rule["F06"] == {f"arn:aws:ssm:us-east-1:{ACCT}:parameter/reporting/db-password"}
    assert by_rule["F08"] == {f"arn:aws:iam::{ACCT}:role/legacy-app-role"}
    assert "demo/Namespace/billing" not in by_rule["F03"]
    assert "F07" not in by_rule  # no key delegates Decrypt to IAM
    assert "F02" not in by_rule and "F18" not in by_rule  # no open trust, every IRSA trust pins aud
