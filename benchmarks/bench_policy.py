"""Decisions per second of the policy evaluator on a realistic mix (one core).

Run: ``python -m benchmarks.bench_policy [--requests N]``. Two figures are printed:

* simple: a service role's identity policies (inline + managed, about ten statements, one
  condition) against parameter reads in and out of its subtree;
* mixed: the chain the product evaluates for every workload: IRSA web identity, role-to-role
  ``sts:AssumeRole`` with a trust policy, parameter reads under a boundary and SCPs, ``kms:Decrypt``
  against a key policy with root delegation and grants, and secret reads with a resource policy.

Target (issue 4): at least 100,000 simple decisions per second on one core.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Sequence

from irsa_lib.model import Grant
from irsa_lib.policy import PolicySet, Principal, Request, evaluate, parse_policy

A = "123456789012"
REGION = "us-east-1"
SERVICES = [f"svc{i:02d}" for i in range(20)]


def _role(name: str) -> Principal:
    arn = f"arn:aws:iam::{A}:role/{name}"
    return Principal(arn, "role", A, arn, f"AROA{name.upper():0<16}"[:20], {"team": name})


def _identity(svc: str) -> list:  # type: ignore[type-arg]
    read = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
             "Resource": f"arn:aws:ssm:{REGION}:{A}:parameter/{svc}/*"},
            {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:{REGION}:{A}:key/*",
             "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}}},
            {"Sid": "Secret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": f"arn:aws:secretsmanager:{REGION}:{A}:secret:{svc}/*-??????"},
        ],
    }  # fmt: skip
    managed = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
            {"Sid": "Describe", "Effect": "Allow", "Action": ["ssm:DescribeParameters", "kms:DescribeKey"], "Resource": "*"},
            {"Sid": "NoAdmin", "Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
            {"Sid": "NoOthers", "Effect": "Deny", "Action": "ssm:GetParameter*",
             "Resource": f"arn:aws:ssm:{REGION}:{A}:parameter/admin/*"},
        ],
    }  # fmt: skip
    return [parse_policy(read, source=f"{svc}-read"), parse_policy(managed, source=f"{svc}-common")]


def simple_workload(n: int, seed: int = 7) -> list[tuple[Request, PolicySet]]:
    """Identity-only parameter reads by service roles, in and out of their own subtree."""
    rng = random.Random(seed)
    sets = {svc: PolicySet(identity=_identity(svc)) for svc in SERVICES}
    principals = {svc: _role(f"{svc}-service-role") for svc in SERVICES}
    out = []
    for _ in range(n):
        svc = rng.choice(SERVICES)
        other = svc if rng.random() < 0.5 else rng.choice(SERVICES)
        action = rng.choice(["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"])
        res = f"arn:aws:ssm:{REGION}:{A}:parameter/{other}/db/{rng.randint(0, 9)}"
        out.append((Request(principals[svc], action, res), sets[svc]))
    return out


def mixed_workload(n: int, seed: int = 11) -> list[tuple[Request, PolicySet]]:
    """The per-workload chain: IRSA, AssumeRole, boundary + SCP reads, KMS with grants, secrets."""
    rng = random.Random(seed)
    issuer = f"oidc.eks.{REGION}.amazonaws.com/id/DEMO"
    provider = Principal(f"arn:aws:iam::{A}:oidc-provider/{issuer}", "federated")
    eso = _role("external-secrets-role")
    eso_session = Principal(
        f"arn:aws:sts::{A}:assumed-role/external-secrets-role/k8s", "session", A, eso.arn, eso.unique_id
    )
    irsa_trust = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Sid": "Irsa", "Effect": "Allow", "Principal": {"Federated": provider.arn},
         "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {
             f"{issuer}:sub": "system:serviceaccount:external-secrets:external-secrets-sa", f"{issuer}:aud": "sts.amazonaws.com"}}}]},
        source="irsa-trust", kind="trust",
    )  # fmt: skip
    boundary = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ssm:*", "kms:*", "secretsmanager:*", "sts:*"], "Resource": "*"}]},
        source="boundary", kind="boundary",
    )  # fmt: skip
    scps = [
        [parse_policy({"Statement": [{"Sid": "Full", "Effect": "Allow", "Action": "*", "Resource": "*"}]}, source="FullAWSAccess", kind="scp")],
        [parse_policy({"Version": "2012-10-17", "Statement": [
            {"Sid": "Full", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "Region", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": [REGION, "eu-west-1"]}}}]}, source="ou-guard", kind="scp")],
    ]  # fmt: skip
    cases: list[tuple[Request, PolicySet]] = []
    for svc in SERVICES:
        role = _role(f"{svc}-service-role")
        session = Principal(
            f"arn:aws:sts::{A}:assumed-role/{role.arn.rsplit('/', 1)[1]}/k8s", "session", A, role.arn, role.unique_id
        )
        trust = parse_policy(
            {"Version": "2012-10-17", "Statement": [{"Sid": "Eso", "Effect": "Allow", "Principal": {"AWS": eso.arn}, "Action": "sts:AssumeRole"}]},
            source=f"{svc}-trust", kind="trust",
        )  # fmt: skip
        key_arn = f"arn:aws:kms:{REGION}:{A}:key/{svc}"
        key_policy = parse_policy(
            {"Version": "2012-10-17", "Statement": [
                {"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"},
                {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": role.arn}, "Action": "kms:Decrypt", "Resource": "*",
                 "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}}}]},
            source=f"{svc}-key", kind="key",
        )  # fmt: skip
        grants = (Grant(grant_id=f"g-{svc}", grantee_principal=eso.arn, operations=("Decrypt",)),)
        secret_policy = parse_policy(
            {"Version": "2012-10-17", "Statement": [{"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": role.arn},
             "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]},
            source=f"{svc}-secret", kind="resource",
        )  # fmt: skip
        ident = _identity(svc)
        ctx = {"aws:RequestedRegion": REGION, "kms:ViaService": f"ssm.{REGION}.amazonaws.com"}
        sa = "system:serviceaccount:external-secrets:external-secrets-sa"
        cases += [
            (Request(provider, "sts:AssumeRoleWithWebIdentity", eso.arn, {f"{issuer}:sub": sa, f"{issuer}:aud": "sts.amazonaws.com"}, True),
             PolicySet(resource=irsa_trust, resource_kind="role-trust")),
            (Request(eso_session, "sts:AssumeRole", role.arn), PolicySet(resource=trust, resource_kind="role-trust", scps=scps)),
            (Request(session, "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{A}:parameter/{svc}/db", ctx),
             PolicySet(identity=ident, boundary=boundary, scps=scps)),
            (Request(session, "kms:Decrypt", key_arn, ctx), PolicySet(identity=ident, boundary=boundary, resource=key_policy, resource_kind="kms-key", grants=grants, scps=scps)),
            (Request(eso_session, "kms:Decrypt", key_arn, ctx), PolicySet(resource=key_policy, resource_kind="kms-key", grants=grants)),
            (Request(session, "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{A}:secret:{svc}/api-AbC123", ctx),
             PolicySet(identity=ident, resource=secret_policy, scps=scps)),
        ]  # fmt: skip
    return [rng.choice(cases) for _ in range(n)]


def measure(workload: Sequence[tuple[Request, PolicySet]], repeat: int = 3) -> tuple[float, Counter[str]]:
    """Best-of-``repeat`` decisions per second over the workload, and the outcome counts."""
    outcomes: Counter[str] = Counter(evaluate(r, p).outcome for r, p in workload)  # warm caches
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        for r, p in workload:
            evaluate(r, p)
        elapsed = time.perf_counter() - start
        best = max(best, len(workload) / elapsed if elapsed > 0 else float("inf"))
    return best, outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args(argv)
    for name, build in (("simple", simple_workload), ("mixed", mixed_workload)):
        rate, outcomes = measure(build(args.requests))
        mix = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(f"{name:7} {rate:>12,.0f} decisions/s  ({args.requests:,} requests; {mix})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
