"""Unreadable resource policies: recorded as unknown (not "none"), named in coverage, and conditional downstream."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from irsa_lib.collect.aws import AwsTarget, collect_aws
from irsa_lib.snapshot import load_snapshot
from tests.collect.proxy import AwsProxy, ErrorRule
from tests.collect.seed import ACCOUNT, REGION

pytestmark = pytest.mark.integration
SCOPE = f"{ACCOUNT}/{REGION}"
ROOT = Path(__file__).resolve().parents[2]
SHARED = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shared/token"
PLAIN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plain"


def _seed_parameters(endpoint: str) -> None:
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=endpoint)
    ssm.put_parameter(Name="/shared/token", Value="not-read", Type="SecureString", Tier="Advanced")
    ssm.put_parameter(Name="/plain", Value="not-read", Type="String")


def _policy_gaps(snap: object) -> dict[tuple[str, str, str | None], tuple[str, str | None]]:
    return {
        (c.scope, c.service, c.resource): (c.status, c.error)
        for c in snap.coverage  # type: ignore[attr-defined]
        if c.service.endswith(("GetResourcePolicies", "GetResourcePolicy"))
    }


def test_parameter_policies_on_an_endpoint_without_the_operation(moto: str) -> None:
    # moto has no GetResourcePolicies: it answers a bare HTTP 500 page (NotImplementedError)
    _seed_parameters(moto)
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=moto, progress=False, max_attempts=1)
    assert _policy_gaps(snap) == {
        (SCOPE, "ssm:GetResourcePolicies", SHARED): (
            "failed",
            "ssm:GetResourcePolicies for parameter /shared/token: the endpoint does not implement this operation "
            "(HTTP 500 with an HTML page instead of an AWS error)",
        )
    }
    params = {p.name: p for p in snap.ssm_parameters}
    assert (params["/shared/token"].tier, params["/shared/token"].resource_policy_readable) == ("Advanced", False)
    assert params["/shared/token"].resource_policies == ()
    # standard-tier parameters cannot carry resource policies: not asked, known to have none
    assert (params["/plain"].tier, params["/plain"].resource_policy_readable) == ("Standard", True)


def test_parameter_policies_access_denied_is_denied(proxy: AwsProxy, moto: str) -> None:
    _seed_parameters(moto)
    proxy.rules.append(
        ErrorRule(
            service="ssm",
            operation="GetResourcePolicies",
            code="AccessDeniedException",
            message="not authorized to perform: ssm:GetResourcePolicies",
        )
    )
    snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=proxy.url, progress=False)
    assert _policy_gaps(snap) == {
        (SCOPE, "ssm:GetResourcePolicies", SHARED): (
            "denied",
            "ssm:GetResourcePolicies for parameter /shared/token: AccessDeniedException: "
            "not authorized to perform: ssm:GetResourcePolicies",
        )
    }
    assert [p.name for p in snap.ssm_parameters if not p.resource_policy_readable] == ["/shared/token"]
    asked = [c.params.get("ResourceArn") for c in proxy.calls if c.operation == "GetResourcePolicies"]
    assert asked == [SHARED]  # the advanced parameter only, once: AccessDenied is not retried


APP_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadApp",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/*",
        }
    ],
}


def _irsa(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_denied_secret_policy_makes_simulate_conditional(proxy: AwsProxy, moto: str, tmp_path: Path) -> None:
    iam = boto3.client("iam", region_name=REGION, endpoint_url=moto)
    trust = {"Version": "2012-10-17", "Statement": []}
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="app-role", PolicyName="read", PolicyDocument=json.dumps(APP_READ))
    sm = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto)
    hidden = sm.create_secret(Name="app/db", SecretString="not-read")["ARN"]
    visible = sm.create_secret(Name="app/api", SecretString="not-read")["ARN"]
    proxy.rules.append(
        ErrorRule(
            service="secretsmanager",
            operation="GetResourcePolicy",
            params={"SecretId": hidden},
            code="AccessDeniedException",
            message="not authorized to perform: secretsmanager:GetResourcePolicy",
        )
    )
    out = tmp_path / "snap.json"
    _irsa("collect", "-o", str(out), "--region", REGION, "--endpoint-url", proxy.url, "--quiet")

    snap = load_snapshot(out)
    readable = {s.name: s.resource_policy_readable for s in snap.secrets}
    assert readable == {"app/db": False, "app/api": True}
    assert _policy_gaps(snap) == {
        (SCOPE, "secretsmanager:GetResourcePolicy", hidden): (
            "denied",
            "secretsmanager:GetResourcePolicy for secret app/db: AccessDeniedException: "
            "not authorized to perform: secretsmanager:GetResourcePolicy",
        )
    }

    def simulate(resource: str, *extra: str) -> str:
        role = f"arn:aws:iam::{ACCOUNT}:role/app-role"
        action = "secretsmanager:GetSecretValue"
        return _irsa("simulate", str(out), "--principal", role, "--action", action, "--resource", resource, *extra)

    # By hand: the identity policy allows GetSecretValue on app/*; app/db's resource policy is unknown
    # and could Deny, so the answer is conditional and names the unread policy.
    conditional = json.loads(simulate(hidden, "--format", "json"))
    assert conditional["decision"] == "conditional"
    assert conditional["missing"] == [f"resource policy of secret {hidden} could not be read"]
    text = simulate(hidden).splitlines()
    assert text[0] == "decision: CONDITIONAL"
    assert f"  - resource policy of secret {hidden} could not be read" in text
    # app/api's policy was read (it has none): the identity allow decides.
    allowed = json.loads(simulate(visible, "--format", "json"))
    assert (allowed["decision"], allowed["missing"]) == ("allow", [])
