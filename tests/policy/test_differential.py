"""Differential test against an independent evaluator, the npm package @cloud-copilot/iam-simulate.

Generated policies (identity, permission boundary, SCP levels, a same-account secret or parameter
resource policy) and complete request contexts are decided by both evaluators; their answers must
agree. iam-simulate cannot judge IRSA trust (it drops the EKS OIDC condition keys), so trust
policies are left out here; they are covered by the hand-written cases.

Needs Node.js and the package installed next to this file::

    npm ci --prefix tests/policy/differential

Skipped, saying why, when either is missing.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from irsa_lib.policy import PolicySet, Principal, Request, evaluate, parse_policy

HERE = Path(__file__).parent / "differential"
PACKAGE = HERE / "node_modules" / "@cloud-copilot" / "iam-simulate"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (needed to run iam-simulate)"),
    pytest.mark.skipif(
        not PACKAGE.exists(),
        reason="iam-simulate is not installed: run `npm ci --prefix tests/policy/differential`",
    ),
]

A = "111122223333"
ROLE = f"arn:aws:iam::{A}:role/app"
SESSION = f"arn:aws:sts::{A}:assumed-role/app/s1"
TARGETS = {
    "ssm:GetParameter": [f"arn:aws:ssm:us-east-1:{A}:parameter/app/db", f"arn:aws:ssm:us-east-1:{A}:parameter/other/x"],
    "ssm:GetParameters": [f"arn:aws:ssm:us-east-1:{A}:parameter/app/db"],
    "secretsmanager:GetSecretValue": [
        f"arn:aws:secretsmanager:us-east-1:{A}:secret:app/db-a1B2c3",
        f"arn:aws:secretsmanager:us-east-1:{A}:secret:app/db-admin-a1B2c3",
    ],
}
ACTION_PATTERNS = [
    "*",
    "ssm:*",
    "ssm:GetParameter",
    "ssm:GetParameter?",
    "ssm:Get*",
    "secretsmanager:*",
    "secretsmanager:GetSecretValue",
    "s3:*",
]
RESOURCE_PATTERNS = [
    "*",
    f"arn:aws:ssm:us-east-1:{A}:parameter/app/*",
    f"arn:aws:ssm:*:{A}:parameter/*",
    f"arn:aws:ssm:us-east-1:{A}:parameter/${{aws:PrincipalTag/team}}/*",
    f"arn:aws:secretsmanager:us-east-1:{A}:secret:app/db-??????",
    f"arn:aws:secretsmanager:us-east-1:{A}:secret:app/db-*",
    f"arn:aws:secretsmanager:*:{A}:secret:*",
]
CONDITIONS: list[dict[str, Any]] = [
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
    {"StringEquals": {"aws:PrincipalTag/team": "app"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": ["app", "ops"]}},
    {"StringLike": {"aws:RequestedRegion": "us-*"}},
    {"StringNotLike": {"aws:RequestedRegion": "eu-*"}},
    {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
    {"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/a*"}},
    {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/other"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
    {"Null": {"aws:SourceVpc": "true"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["t*"]}},
    {"StringEquals": {"aws:PrincipalAccount": A}, "StringLike": {"aws:RequestedRegion": "*-1"}},
]
RESOURCE_PRINCIPALS: list[Any] = [
    "*",
    {"AWS": ROLE},
    {"AWS": SESSION},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": f"arn:aws:iam::{A}:role/other"},
]


def statement(rng: random.Random, *, principal: bool = False, effect: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {
        "Effect": effect or rng.choice(["Allow", "Allow", "Deny"]),
        "Action": rng.sample(ACTION_PATTERNS, rng.randint(1, 2)),
        "Resource": rng.sample(RESOURCE_PATTERNS, rng.randint(1, 2)),
    }
    if principal:
        s["Principal"] = rng.choice(RESOURCE_PRINCIPALS)
    if rng.random() < 0.5:
        s["Condition"] = rng.choice(CONDITIONS)
    return s


def doc(rng: random.Random, n: int, **kw: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [statement(rng, **kw) for _ in range(n)]}


def scenario(rng: random.Random) -> dict[str, Any]:
    action = rng.choice(sorted(TARGETS))
    context: dict[str, Any] = {"aws:PrincipalArn": ROLE, "aws:PrincipalAccount": A}
    if rng.random() < 0.7:
        context["aws:SourceIp"] = rng.choice(["10.1.2.3", "192.0.2.9", "203.0.113.5"])
    if rng.random() < 0.7:
        context["aws:PrincipalTag/team"] = rng.choice(["app", "ops", "other"])
    if rng.random() < 0.7:
        context["aws:RequestedRegion"] = rng.choice(["us-east-1", "eu-west-1"])
    if rng.random() < 0.4:
        context["aws:SourceVpc"] = rng.choice(["vpc-1", "vpc-2"])
    if rng.random() < 0.5:
        context["aws:SecureTransport"] = rng.choice(["true", "false"])
    if rng.random() < 0.4:
        context["aws:TagKeys"] = rng.sample(["team", "env", "owner"], rng.randint(1, 2))
    if rng.random() < 0.3:
        context["aws:MultiFactorAuthAge"] = rng.choice(["60", "7200"])
    return {
        "action": action,
        "resource": rng.choice(TARGETS[action]),
        "context": context,
        "identity": [doc(rng, rng.randint(1, 3)) for _ in range(rng.randint(0, 2))],
        "boundary": doc(rng, rng.randint(1, 2)) if rng.random() < 0.3 else None,
        "scps": [doc(rng, rng.randint(1, 2)) for _ in range(rng.randint(1, 2))] if rng.random() < 0.3 else [],
        "resource_policy": doc(rng, rng.randint(1, 2), principal=True) if rng.random() < 0.4 else None,
    }


def ours(sc: dict[str, Any]) -> str:
    principal = Principal(SESSION, "session", A, ROLE)
    request = Request(principal, sc["action"], sc["resource"], sc["context"], True)
    policies = PolicySet(
        identity=[parse_policy(d, source=f"id{i}") for i, d in enumerate(sc["identity"])],
        boundary=parse_policy(sc["boundary"], source="b", kind="boundary") if sc["boundary"] else None,
        resource=parse_policy(sc["resource_policy"], source="r", kind="resource") if sc["resource_policy"] else None,
        scps=[[parse_policy(d, source=f"scp{i}", kind="scp")] for i, d in enumerate(sc["scps"])]
        if sc["scps"]
        else None,
    )
    d = evaluate(request, policies)
    assert d.outcome != "conditional"
    if d.outcome == "allow":
        return "Allowed"
    return "ExplicitlyDenied" if d.explicit_deny else "ImplicitlyDenied"


def theirs_input(sc: dict[str, Any]) -> dict[str, Any]:
    sim: dict[str, Any] = {
        "request": {
            "principal": SESSION,
            "action": sc["action"],
            "resource": {"resource": sc["resource"], "accountId": A},
            "contextVariables": sc["context"],
        },
        "identityPolicies": [{"name": f"id{i}", "policy": d} for i, d in enumerate(sc["identity"])],
        "serviceControlPolicies": [
            {"orgIdentifier": f"ou-{i}", "policies": [{"name": f"scp{i}", "policy": d}]}
            for i, d in enumerate(sc["scps"])
        ],
        "resourceControlPolicies": [],
    }
    if sc["boundary"]:
        sim["permissionBoundaryPolicies"] = [{"name": "b", "policy": sc["boundary"]}]
    if sc["resource_policy"]:
        sim["resourcePolicy"] = sc["resource_policy"]
    return sim


def run_iam_simulate(simulations: list[dict[str, Any]]) -> list[dict[str, str]]:
    proc = subprocess.run(
        [str(NODE), str(HERE / "run_iam_simulate.mjs")],
        input=json.dumps(simulations),
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=600,
        check=True,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_iam_simulate_agrees_on_generated_policies() -> None:
    rng = random.Random(20261129)
    scenarios = [scenario(rng) for _ in range(3000)]
    results = run_iam_simulate([theirs_input(sc) for sc in scenarios])
    compared = 0
    disagreements = []
    for sc, res in zip(scenarios, results, strict=True):
        if "error" in res:
            continue
        compared += 1
        mine = ours(sc)
        if mine != res["result"]:
            disagreements.append({"ours": mine, "iam-simulate": res["result"], "scenario": sc})
    assert compared >= 2500, "iam-simulate rejected too many generated requests"
    assert disagreements == [], json.dumps(disagreements[:3], indent=1)
