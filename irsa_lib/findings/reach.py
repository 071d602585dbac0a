"""Whether a principal may read, decrypt or write a secret value: asked of the policy evaluator.

Findings F04, F05, F15, F16 and F26 ask "may this role read (or overwrite) that value". Each
question is one or two evaluator requests built by :mod:`irsa_lib.resolve` (identity policies,
boundary, SCPs/RCPs, resource policy, key policy and grants) with the context the service really
sends: for the KMS leg of a SecureString read ``kms:ViaService = ssm.<region>.amazonaws.com``,
``kms:CallerAccount`` and ``kms:EncryptionContext:PARAMETER_ARN``; for Secrets Manager
``kms:EncryptionContext:SecretARN``. The context is never declared complete, so an answer that
depends on anything else stays ``conditional`` and says which keys decide it.

A :class:`Reach` is ``allow``, ``conditional`` (allowed under condition keys the snapshot cannot
fix), ``unknown`` (only a policy that was not collected could allow it) or ``deny``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from irsa_lib.findings.context import FindingContext
from irsa_lib.model import KMSKey, SecretsManagerSecret, SSMParameter
from irsa_lib.policy import Decision, PolicySet, Request, evaluate, parse_policy
from irsa_lib.policy.decision import StatementRef
from irsa_lib.resolve import UnknownPrincipalError, policy_set_for

Outcome = Literal["allow", "conditional", "unknown", "deny"]
Target = SSMParameter | SecretsManagerSecret
ContextMap = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Reach:
    """The answer for one question (one or more requests that must all be allowed)."""

    outcome: Outcome
    evidence: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    """Policies that take part but were not collected: the answer may be incomplete."""

    @property
    def possible(self) -> bool:
        """Allowed, or allowed under conditions the snapshot cannot fix."""
        return self.outcome in ("allow", "conditional")


def _refs(refs: Sequence[StatementRef]) -> str:
    shown = [f"{r.layer} {r.source} statement {r.index}" + (f" ({r.sid})" if r.sid else "") for r in refs]
    return "; ".join(dict.fromkeys(shown))


def verdict(d: Decision, what: str) -> Reach:
    """A decision as a finding reads it, with one evidence line naming what was asked."""
    if d.outcome == "deny":
        why = f"explicitly denied by {_refs(d.deciding)}" if d.explicit_deny else "not allowed"
        return Reach("deny", (f"{what}: {why}",))
    if d.outcome == "allow":
        return Reach("allow", (f"{what}: allowed by {_refs(d.deciding)}",))
    allows = [r for r in d.deciding if r.effect == "Allow"]
    if not d.unresolved_keys and not allows:
        return Reach("unknown", (f"{what}: cannot be judged",), d.missing)
    keys = f" on {', '.join(d.unresolved_keys)}" if d.unresolved_keys else ""
    return Reach("conditional", (f"{what}: conditional{keys} ({_refs(d.deciding)})",), d.missing)


def combine(*parts: Reach) -> Reach:
    """Every part must be allowed: deny beats unknown beats conditional beats allow."""
    for outcome in ("deny", "unknown", "conditional"):
        hit = [p for p in parts if p.outcome == outcome]
        if hit and outcome == "deny":
            return Reach("deny", tuple(e for p in hit for e in p.evidence))
        if hit:
            return Reach(
                outcome,
                tuple(e for p in parts for e in p.evidence),
                tuple(dict.fromkeys(u for p in parts for u in p.unknown)),
            )
    return Reach("allow", tuple(e for p in parts for e in p.evidence))


def decide(
    ctx: FindingContext,
    principal_arn: str,
    action: str,
    resource: str,
    context: ContextMap | None = None,
    *,
    policies: PolicySet | None = None,
) -> Decision:
    """One evaluator request by a role or user of the snapshot (cached per context)."""
    key = (principal_arn, action.lower(), resource, tuple(sorted((k, str(v)) for k, v in (context or {}).items())))
    found = ctx.decisions.get(key)
    if found is None:
        inv = ctx.inventory
        try:
            principal = inv.principal(principal_arn)
        except UnknownPrincipalError as exc:
            return Decision("conditional", False, (), (), (str(exc),), (str(exc),))
        request = Request(principal, action, resource, dict(context or {}), context_complete=False)
        found = evaluate(request, policies or policy_set_for(inv, principal_arn, resource))
        ctx.decisions[key] = found
    return found


def ask(ctx: FindingContext, principal_arn: str, action: str, resource: str, what: str | None = None) -> Reach:
    """One request with no service context, as a :class:`Reach`."""
    return verdict(decide(ctx, principal_arn, action, resource), what or f"{action} on {resource}")


# --- KMS -------------------------------------------------------------------------------------------

AWS_MANAGED_ALIAS = {"ssm": "alias/aws/ssm", "secretsmanager": "alias/aws/secretsmanager"}


def aws_managed_key_policy(service: str, account_id: str, region: str) -> dict[str, object]:
    """The documented key policy of ``aws/ssm`` / ``aws/secretsmanager`` (fixed by AWS).

    Every principal of the account may use the key through the service (SSM UG; Secrets Manager
    security-encryption). Used when the key or its policy was not collected.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"Allow access through {service} for all principals in the account",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                    }
                },
            }
        ],
    }


def _service(target: Target) -> str:
    return "ssm" if isinstance(target, SSMParameter) else "secretsmanager"


def key_of(ctx: FindingContext, target: Target) -> tuple[KMSKey | None, str, bool]:
    """The key that encrypts ``target``: (record or None, ARN to evaluate against, AWS managed?)."""
    service = _service(target)
    ref = (target.key_id if isinstance(target, SSMParameter) else target.kms_key_id) or AWS_MANAGED_ALIAS[service]
    partition = target.arn.split(":")[1]
    if ref.startswith("arn:"):
        arn = ref
    elif ref.startswith("alias/"):
        arn = f"arn:{partition}:kms:{target.region}:{target.account_id}:{ref}"
    else:
        arn = f"arn:{partition}:kms:{target.region}:{target.account_id}:key/{ref}"
    key = ctx.inventory.find_key(arn) or ctx.inventory.find_key(ref)
    managed = ref == AWS_MANAGED_ALIAS[service] or (key is not None and key.manager == "AWS")
    return key, key.arn if key is not None else arn, managed


def decrypt(ctx: FindingContext, principal_arn: str, target: Target) -> Reach:
    """kms:Decrypt as the service performs it for ``target`` (ViaService, CallerAccount, context)."""
    service = _service(target)
    key, key_arn, managed = key_of(ctx, target)
    try:
        account = ctx.inventory.principal(principal_arn).account_id or ""
    except UnknownPrincipalError:
        account = ""
    ec_key = "PARAMETER_ARN" if service == "ssm" else "SecretARN"
    context = {
        "kms:ViaService": f"{service}.{target.region}.amazonaws.com",
        "kms:CallerAccount": account,
        f"kms:EncryptionContext:{ec_key}": target.arn,
    }
    what = f"kms:Decrypt of {target.name} with {key.aliases[0] if key and key.aliases else key_arn}"
    policies = None
    if managed and (key is None or key.policy is None):
        alias = AWS_MANAGED_ALIAS[service]
        base = policy_set_for(ctx.inventory, principal_arn, key_arn)
        policies = dataclasses.replace(
            base,
            resource=parse_policy(
                aws_managed_key_policy(service, target.account_id, target.region),
                source=f"documented key policy of {alias}",
                kind="key",
            ),
            resource_account=target.account_id,
            resource_kind="kms-key",
            grants=(),
            rcps=None,  # RCPs do not apply to AWS managed keys
            missing=tuple(m for m in base.missing if key_arn not in m),
        )
        what += " (AWS managed: its documented key policy)"
    return verdict(decide(ctx, principal_arn, "kms:Decrypt", key_arn, context, policies=policies), what)


def parameter_paths(param: SSMParameter) -> list[tuple[str, str]]:
    """(path, path ARN) of every ancestor path GetParametersByPath could return ``param`` from.

    >>> p = SSMParameter(arn="arn:aws:ssm:us-east-1:1:parameter/a/b/c", name="/a/b/c", account_id="1",
    ...                  region="us-east-1", type="SecureString")
    >>> [path for path, _ in parameter_paths(p)]
    ['/', '/a', '/a/b']
    """
    if not param.name.startswith("/"):
        return []
    prefix = param.arn[: len(param.arn) - len(param.name.lstrip("/"))]  # "...:parameter/"
    segments = param.name.strip("/").split("/")[:-1]
    return [("/", prefix)] + [
        ("/" + "/".join(segments[:i]), prefix + "/".join(segments[:i])) for i in range(1, len(segments) + 1)
    ]


# --- read / write ----------------------------------------------------------------------------------


def read(ctx: FindingContext, principal_arn: str, target: Target, action: str | None = None) -> Reach:
    """``action`` on the value (GetParameter / GetSecretValue by default) and decrypting it."""
    is_param = isinstance(target, SSMParameter)
    action = action or ("ssm:GetParameter" if is_param else "secretsmanager:GetSecretValue")
    got = ask(ctx, principal_arn, action, target.arn, f"{action} on {target.name}")
    if got.outcome == "deny" or (isinstance(target, SSMParameter) and target.type != "SecureString"):
        return got
    return combine(got, decrypt(ctx, principal_arn, target))
