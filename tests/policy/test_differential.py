"""Differential test against an independent evaluator, the npm package @cloud-copilot/iam-simulate.

Generated policies (identity, permission boundary, SCP levels, a same-account secret or parameter
resource policy) and complete request contexts are decided by both evaluators; their answers must
agree. iam-simulate cannot judge IRSA trust (it drops the EKS OIDC condition keys), so trust
policies are left out here; they are covered by the hand-written cases.

A second, wider generator adds NotAction / NotResource / NotPrincipal, IAM users, callers from
another account, session policies, RCPs and KMS key policies. It leaves out three request classes
where iam-simulate answers differently and AWS's documentation supports our answer (each is pinned
by a hand-written case instead):

(a) a policy variable without a value inside NotResource: iam-simulate treats the whole NotResource
    element as not matching; we follow "an unset variable matches no resource", so the NotResource
    excludes nothing (IAM UG reference_policies_variables; the documented rule the cases cite).
(b) a session policy together with a resource policy naming the session ARN (or ``*``):
    iam-simulate lets the session policy limit it, but "the resource-based policy permissions are not
    limited by the session policies" when the session ARN is the principal (IAM UG access_policies,
    session policies).
(c) NotPrincipal with Deny other than the recommended form (session, role and account listed), and
    with a permission boundary: iam-simulate exempts a principal named at any one level (even
    every principal of a listed account); the IAM UG (reference_policies_elements_notprincipal)
    says AWS may check the account, the role and the session in turn.

A third generator covers KMS requests that are not about one key: actions with no resource type
(``kms:ListKeys``, ``kms:CreateKey``...) and alias management (``kms:CreateAlias``, ``UpdateAlias``,
``DeleteAlias``), whose answer combines iam-simulate's answers for the alias and for each key.

Needs Node.js and the package installed next to this file::

    npm ci --prefix tests/policy/differential

Skipped, saying why, when either is missing.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import subprocess
from collections.abc import Iterable
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


# --- a wider generator: NotAction / NotResource / NotPrincipal, cross-account callers, users,
# session policies, RCPs, KMS key policies, and the condition families the first one leaves out.

B = "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CALLERS = {
    "session": (f"arn:aws:sts::{A}:assumed-role/app/s1", A, ROLE),
    "user": (f"arn:aws:iam::{A}:user/alice", A, f"arn:aws:iam::{A}:user/alice"),
    "foreign": (f"arn:aws:sts::{B}:assumed-role/reader/s1", B, f"arn:aws:iam::{B}:role/reader"),
}
WIDE_TARGETS = {
    "ssm:GetParameter": [f"arn:aws:ssm:us-east-1:{A}:parameter/app/db", f"arn:aws:ssm:us-east-1:{A}:parameter/other/x"],
    "secretsmanager:GetSecretValue": [
        f"arn:aws:secretsmanager:us-east-1:{A}:secret:app/db-a1B2c3",
        f"arn:aws:secretsmanager:us-east-1:{A}:secret:other-a1B2c3",
    ],
    "kms:Decrypt": [KEY],
}
WIDE_ACTIONS = [*ACTION_PATTERNS, "kms:Decrypt", "kms:*", "iam:*"]
WIDE_RESOURCES = [
    *RESOURCE_PATTERNS,
    KEY,
    f"arn:aws:kms:*:{A}:key/*",
    f"arn:aws:secretsmanager:us-east-1:{A}:secret:other-??????",
]
WIDE_CONDITIONS: list[dict[str, Any]] = [
    *CONDITIONS,
    {"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
    {"DateLessThanIfExists": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}},
    {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}},
    {"ForAnyValue:StringNotLike": {"aws:TagKeys": ["t*"]}},
    {"StringNotLike": {"aws:PrincipalTag/team": "o*"}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "APP"}},
    {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{B}:role/*", f"arn:aws:iam::{A}:user/*"]}},
    {"StringEquals": {"aws:PrincipalAccount": B}},
    {"NumericGreaterThanEquals": {"aws:MultiFactorAuthAge": "60"}},
]
WIDE_PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": ROLE},
    {"AWS": SESSION},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:user/alice"},
    {"AWS": f"arn:aws:iam::{B}:root"},
    {"AWS": f"arn:aws:iam::{B}:role/reader"},
]


def wide_statement(
    rng: random.Random, *, principal: bool = False, scp: bool = False, rcp: bool = False, gen: dict[str, Any]
) -> dict[str, Any]:
    effect = "Deny" if rcp else rng.choice(["Allow", "Allow", "Deny"])
    s: dict[str, Any] = {"Effect": effect}
    actions = rng.sample([a for a in WIDE_ACTIONS if not rcp or a != "*"], rng.randint(1, 2))
    s["NotAction" if rng.random() < 0.15 and not rcp else "Action"] = actions
    if rng.random() < 0.15 and not scp:
        # (a) no policy variables in NotResource: see the module notes
        s["NotResource"] = rng.sample([r for r in WIDE_RESOURCES if "${" not in r], rng.randint(1, 2))
    else:
        s["Resource"] = rng.sample(WIDE_RESOURCES, rng.randint(1, 2))
    if rcp:
        s["Principal"] = "*"
    elif principal:
        if effect == "Deny" and gen["not_principal"] and rng.random() < 0.2:
            # (c) NotPrincipal with Deny only in the form AWS recommends: session, role and account
            s["NotPrincipal"] = {"AWS": [SESSION, ROLE, f"arn:aws:iam::{A}:root"]}
        else:
            s["Principal"] = rng.choice(gen["principals"])
    if rng.random() < 0.5:
        s["Condition"] = rng.choice(WIDE_CONDITIONS)
    return s


def wide_doc(rng: random.Random, n: int, gen: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [wide_statement(rng, gen=gen, **kw) for _ in range(n)]}


RCP_FULL_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}


def wide_scenario(rng: random.Random) -> dict[str, Any]:
    caller = rng.choice(sorted(CALLERS))
    _arn, account, principal_arn = CALLERS[caller]
    action = rng.choice(sorted(WIDE_TARGETS))
    context: dict[str, Any] = {"aws:PrincipalArn": principal_arn, "aws:PrincipalAccount": account}
    if rng.random() < 0.6:
        context["aws:PrincipalTag/team"] = rng.choice(["app", "App", "ops", "other"])
    if rng.random() < 0.6:
        context["aws:SourceIp"] = rng.choice(["10.1.2.3", "192.0.2.9", "203.0.113.5"])
    if rng.random() < 0.6:
        context["aws:RequestedRegion"] = rng.choice(["us-east-1", "eu-west-1"])
    if rng.random() < 0.6:
        context["aws:CurrentTime"] = rng.choice(
            ["2023-06-01T00:00:00Z", "2024-06-01T12:00:00Z", "2026-01-01T00:00:00Z"]
        )
    if rng.random() < 0.4:
        context["aws:TagKeys"] = rng.sample(["team", "env", "secret"], rng.randint(1, 2))
    if rng.random() < 0.3:
        context["aws:MultiFactorAuthAge"] = rng.choice(["30", "60", "7200"])
    if rng.random() < 0.3:
        context["aws:SecureTransport"] = rng.choice(["true", "false"])
    kms = action.startswith("kms:")
    rcp_ok = action.split(":")[0] in ("secretsmanager", "kms")  # RCPs restrict only supported services
    has_session = rng.random() < 0.2 and caller != "user"
    has_boundary = rng.random() < 0.25 and caller != "user"
    gen: dict[str, Any] = {
        # (b) with a session policy, no resource-policy principal that names the session itself
        "principals": [p for p in WIDE_PRINCIPALS if not has_session or p not in ("*", {"AWS": "*"}, {"AWS": SESSION})],
        "not_principal": caller != "user" and not has_boundary,
    }
    return {
        "caller": caller,
        "action": action,
        "resource": rng.choice(WIDE_TARGETS[action]),
        "context": context,
        "identity": [wide_doc(rng, rng.randint(1, 3), gen) for _ in range(rng.randint(0, 2))],
        "boundary": wide_doc(rng, rng.randint(1, 2), gen) if has_boundary else None,
        "session": wide_doc(rng, rng.randint(1, 2), gen) if has_session else None,
        "scps": [wide_doc(rng, rng.randint(1, 2), gen, scp=True) for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.25
        else [],
        "rcps": [wide_doc(rng, 1, gen, rcp=True) for _ in range(rng.randint(1, 2))]
        if rcp_ok and rng.random() < 0.25
        else [],
        "resource_policy": wide_doc(rng, rng.randint(1, 3), gen, principal=True) if kms or rng.random() < 0.5 else None,
    }


def wide_ours(sc: dict[str, Any]) -> str:
    arn, account, principal_arn = CALLERS[sc["caller"]]
    if sc["caller"] == "user":
        principal = Principal(arn, "user", account)
    else:
        principal = Principal(arn, "session", account, principal_arn)
    request = Request(principal, sc["action"], sc["resource"], sc["context"], True)
    kms = sc["action"].startswith("kms:")
    policies = PolicySet(
        identity=[parse_policy(d, source=f"id{i}") for i, d in enumerate(sc["identity"])],
        boundary=parse_policy(sc["boundary"], source="b", kind="boundary") if sc["boundary"] else None,
        session=[parse_policy(sc["session"], source="s", kind="session")] if sc["session"] else (),
        resource=parse_policy(sc["resource_policy"], source="r", kind="key" if kms else "resource")
        if sc["resource_policy"]
        else None,
        resource_account=A,
        resource_kind="kms-key" if kms else "generic",
        scps=[[parse_policy(d, source=f"scp{i}", kind="scp")] for i, d in enumerate(sc["scps"])]
        if sc["scps"]
        else None,
        rcps=[
            [parse_policy(RCP_FULL_ACCESS, source="full", kind="rcp"), parse_policy(d, source=f"rcp{i}", kind="rcp")]
            for i, d in enumerate(sc["rcps"])
        ]
        if sc["rcps"]
        else None,
    )
    d = evaluate(request, policies)
    assert d.outcome != "conditional", d.reasons
    if d.outcome == "allow":
        return "Allowed"
    return "ExplicitlyDenied" if d.explicit_deny else "ImplicitlyDenied"


def wide_theirs_input(sc: dict[str, Any]) -> dict[str, Any]:
    arn = CALLERS[sc["caller"]][0]
    sim: dict[str, Any] = {
        "request": {
            "principal": arn,
            "action": sc["action"],
            "resource": {"resource": sc["resource"], "accountId": A},
            "contextVariables": sc["context"],
        },
        "identityPolicies": [{"name": f"id{i}", "policy": d} for i, d in enumerate(sc["identity"])],
        "serviceControlPolicies": [
            {"orgIdentifier": f"ou-{i}", "policies": [{"name": f"scp{i}", "policy": d}]}
            for i, d in enumerate(sc["scps"])
        ],
        "resourceControlPolicies": [
            {"orgIdentifier": f"ou-{i}", "policies": [{"name": f"rcp{i}", "policy": d}]}
            for i, d in enumerate(sc["rcps"])
        ],
    }
    if sc["boundary"]:
        sim["permissionBoundaryPolicies"] = [{"name": "b", "policy": sc["boundary"]}]
    if sc["session"]:
        sim["sessionPolicy"] = sc["session"]
    if sc["resource_policy"]:
        sim["resourcePolicy"] = sc["resource_policy"]
    return sim


def wide_features(scenarios: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many compared scenarios use each request class the wider generator exists for."""
    counts = dict.fromkeys(
        ["NotAction", "NotResource", "NotPrincipal", "cross-account", "user", "session policy", "RCP", "KMS key"], 0
    )
    for sc in scenarios:
        text = json.dumps(sc)
        for element in ("NotAction", "NotResource", "NotPrincipal"):
            counts[element] += element in text
        counts["cross-account"] += sc["caller"] == "foreign"
        counts["user"] += sc["caller"] == "user"
        counts["session policy"] += sc["session"] is not None
        counts["RCP"] += bool(sc["rcps"])
        counts["KMS key"] += sc["action"].startswith("kms:")
    return counts


def test_iam_simulate_agrees_on_wider_generated_policies() -> None:
    rng = random.Random(20261130)
    scenarios = [wide_scenario(rng) for _ in range(2500)]
    results = run_iam_simulate([wide_theirs_input(sc) for sc in scenarios])
    compared = 0
    disagreements = []
    for sc, res in zip(scenarios, results, strict=True):
        if "error" in res:
            continue
        compared += 1
        mine = wide_ours(sc)
        if mine != res["result"]:
            disagreements.append({"ours": mine, "iam-simulate": res["result"], "scenario": sc})
    assert compared >= 2000, "iam-simulate rejected too many generated requests"
    for feature, count in wide_features(s for s, r in zip(scenarios, results, strict=True) if "error" not in r).items():
        assert count >= 50, f"the generator exercised {feature} only {count} times"
    assert disagreements == [], f"{len(disagreements)} disagreements; first: " + json.dumps(disagreements[:2], indent=1)


# --- KMS requests that are not about one key: actions with no resource type, and alias management.
# iam-simulate decides one resource per request, so an alias request is asked of it once for the alias
# (identity side only: an alias has no resource policy) and once per affected key (key policy as the
# resource policy), and its answers are combined as the KMS dev guide says (alias-access: the action must
# be allowed on the alias and on every key): any explicit deny, else allowed only if every part is.

KEY2 = f"arn:aws:kms:us-east-1:{A}:key/5678efgh-56ef-78gh-90ij-5678901234cd"
ALIAS = f"arn:aws:kms:us-east-1:{A}:alias/app"
KEYLESS_ACTIONS = ["kms:ListKeys", "kms:ListAliases", "kms:CreateKey", "kms:GenerateRandom", "kms:ListRetirableGrants"]
ALIAS_ACTIONS = ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"]
KMS_ACTION_PATTERNS = [
    "*",
    "kms:*",
    "kms:List*",
    "kms:Create*",
    "kms:*Alias",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:ListKeys",
    "kms:GenerateRandom",
    "kms:Decrypt",
    "ssm:*",
]
KMS_RESOURCE_PATTERNS = [
    "*",
    ALIAS,
    f"arn:aws:kms:*:{A}:alias/*",
    f"arn:aws:kms:us-east-1:{A}:alias/other",
    KEY,
    KEY2,
    f"arn:aws:kms:*:{A}:key/*",
    f"arn:aws:kms:us-east-1:{A}:*",
]
KEY_PRINCIPALS: list[Any] = ["*", {"AWS": ROLE}, {"AWS": SESSION}, {"AWS": f"arn:aws:iam::{A}:root"}, {"AWS": A},
                             {"AWS": f"arn:aws:iam::{A}:role/other"}]  # fmt: skip


def kms_statement(rng: random.Random, *, principal: bool = False) -> dict[str, Any]:
    s: dict[str, Any] = {
        "Effect": "Deny" if rng.random() < 0.15 else "Allow",
        "Action": rng.sample(KMS_ACTION_PATTERNS, rng.randint(1, 3)),
        "Resource": "*" if principal else rng.sample(KMS_RESOURCE_PATTERNS, rng.randint(1, 2)),
    }
    if principal:
        s["Principal"] = rng.choice(KEY_PRINCIPALS)
    if rng.random() < 0.3:
        s["Condition"] = rng.choice(CONDITIONS)
    return s


def kms_doc(rng: random.Random, n: int, **kw: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [kms_statement(rng, **kw) for _ in range(n)]}


def kms_scenario(rng: random.Random) -> dict[str, Any]:
    action = rng.choice(KEYLESS_ACTIONS + ALIAS_ACTIONS + ALIAS_ACTIONS)
    keys = [] if action in KEYLESS_ACTIONS else [KEY, KEY2] if action == "kms:UpdateAlias" else [KEY]
    base = scenario(rng)  # the same request context as the first generator
    return {
        "action": action,
        "resource": "*" if action in KEYLESS_ACTIONS else ALIAS,
        "context": base["context"],
        "identity": [kms_doc(rng, rng.randint(1, 3)) for _ in range(rng.randint(0, 2))],
        "boundary": kms_doc(rng, rng.randint(1, 2)) if rng.random() < 0.2 else None,
        "scps": [kms_doc(rng, rng.randint(1, 2)) for _ in range(rng.randint(1, 2))] if rng.random() < 0.2 else [],
        # a key-less action ignores any key policy: ours gets one anyway, iam-simulate none
        "key_policies": {k: kms_doc(rng, rng.randint(1, 3), principal=True) for k in keys or [KEY]},
        "keys": keys,
    }


def kms_ours(sc: dict[str, Any]) -> str:
    principal = Principal(SESSION, "session", A, ROLE)
    request = Request(principal, sc["action"], sc["resource"], sc["context"], True)
    common = PolicySet(
        identity=[parse_policy(d, source=f"id{i}") for i, d in enumerate(sc["identity"])],
        boundary=parse_policy(sc["boundary"], source="b", kind="boundary") if sc["boundary"] else None,
        scps=[[parse_policy(d, source=f"scp{i}", kind="scp")] for i, d in enumerate(sc["scps"])]
        if sc["scps"]
        else None,
        resource_account=A,
    )

    def key_side(key: str) -> PolicySet:
        kp = parse_policy(sc["key_policies"][key], source=f"key {key}", kind="key")
        return dataclasses.replace(common, resource=kp, resource_kind="kms-key")

    if sc["keys"]:
        policies = dataclasses.replace(common, alias_keys=tuple((k, key_side(k)) for k in sc["keys"]))
    else:
        policies = key_side(KEY)  # what a request file gives for a kms: action: a key policy, ignored here
    d = evaluate(request, policies)
    assert d.outcome != "conditional", d.reasons
    if d.outcome == "allow":
        return "Allowed"
    return "ExplicitlyDenied" if d.explicit_deny else "ImplicitlyDenied"


def kms_theirs_inputs(sc: dict[str, Any]) -> list[dict[str, Any]]:
    """One simulation for the alias (or the key-less action) and one per affected key."""
    parts = [(sc["resource"], None)] + [(k, sc["key_policies"][k]) for k in sc["keys"]]
    out = []
    for resource, key_policy in parts:
        sim: dict[str, Any] = {
            "request": {
                "principal": SESSION,
                "action": sc["action"],
                "resource": {"resource": resource, "accountId": A},
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
        if key_policy is not None:
            sim["resourcePolicy"] = key_policy
        out.append(sim)
    return out


def combined(results: list[dict[str, str]]) -> str | None:
    """iam-simulate's answers for the parts of one request, combined (None when it rejected a part)."""
    if any("error" in r for r in results):
        return None
    answers = [r["result"] for r in results]
    if "ExplicitlyDenied" in answers:
        return "ExplicitlyDenied"
    return "Allowed" if all(a == "Allowed" for a in answers) else "ImplicitlyDenied"


def test_iam_simulate_agrees_on_kms_requests_without_one_key() -> None:
    rng = random.Random(20261201)
    scenarios = [kms_scenario(rng) for _ in range(3000)]
    inputs = [kms_theirs_inputs(sc) for sc in scenarios]
    flat = run_iam_simulate([sim for parts in inputs for sim in parts])
    compared: dict[str, dict[str, int]] = {}
    disagreements = []
    at = 0
    for sc, parts in zip(scenarios, inputs, strict=True):
        theirs = combined(flat[at : at + len(parts)])
        at += len(parts)
        if theirs is None:
            continue
        counts = compared.setdefault(sc["action"], {})
        counts[theirs] = counts.get(theirs, 0) + 1
        mine = kms_ours(sc)
        if mine != theirs:
            disagreements.append({"ours": mine, "iam-simulate": theirs, "scenario": sc})
    for action in KEYLESS_ACTIONS + ALIAS_ACTIONS:
        assert sum(compared.get(action, {}).values()) >= 150, (action, compared.get(action))
    for actions in (KEYLESS_ACTIONS, ALIAS_ACTIONS):
        for outcome in ("Allowed", "ImplicitlyDenied", "ExplicitlyDenied"):
            seen = sum(compared.get(a, {}).get(outcome, 0) for a in actions)
            assert seen >= 40, f"{outcome} only {seen} times for {actions}"
    assert disagreements == [], f"{len(disagreements)} disagreements; first: " + json.dumps(disagreements[:2], indent=1)
