"""Whether a principal may read, decrypt or write a secret value: asked of the policy evaluator.

Findings F04, F05, F07, F15, F16 and F26 ask "may this role read (or overwrite) that value". Each
question is evaluator requests built by :mod:`irsa_lib.resolve` (identity policies, boundary,
SCPs/RCPs, resource policy, key policy and grants). Read + decrypt is asked exactly as the graph
asks it for its CAN_READ edges (``irsa_lib.graph.aws.AwsView``), so findings and access rows
cannot disagree: the KMS leg carries the context the service really sends
(``kms:ViaService = ssm.<region>.amazonaws.com``, ``kms:CallerAccount``,
``kms:EncryptionContext:PARAMETER_ARN``; for Secrets Manager ``kms:EncryptionContext:SecretARN``).
The context is never declared complete, so an answer that depends on anything else stays
``conditional`` and says which keys decide it.

A :class:`Reach` is ``allow``, ``conditional`` (allowed under condition keys the snapshot cannot
fix), ``unknown`` (only a policy that was not collected could allow it) or ``deny``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from irsa_lib.findings.context import FindingContext
from irsa_lib.graph.aws import Identity, consumer_actions
from irsa_lib.graph.legs import Leg, from_decision
from irsa_lib.graph.schema import DECISION, EVIDENCE, MISSING, UNRESOLVED_KEYS
from irsa_lib.model import SecretsManagerSecret, SSMParameter
from irsa_lib.policy import Decision
from irsa_lib.policy.arn import account_of
from irsa_lib.resolve import UnknownPrincipalError

Outcome = Literal["allow", "conditional", "unknown", "deny"]
Target = SSMParameter | SecretsManagerSecret


@dataclass(frozen=True)
class Reach:
    """The answer for one question (one or more requests that must all be allowed)."""

    outcome: Outcome
    evidence: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    """Policies that take part but were not collected: the answer may be incomplete."""
    keys: tuple[str, ...] = ()
    """For ``conditional``: the condition keys that decide it."""

    @property
    def label(self) -> str:
        """``allow``, ``conditional on k1, k2``, ``unknown`` or ``deny``."""
        return f"{self.outcome} on {', '.join(self.keys)}" if self.keys else self.outcome

    @property
    def possible(self) -> bool:
        """Allowed, or allowed under conditions the snapshot cannot fix."""
        return self.outcome in ("allow", "conditional")


def verdict(d: Decision, what: str) -> Reach:
    """A decision as a finding reads it, with evidence lines naming what was asked."""
    return from_leg(from_decision(d, what), what)


def decide(ctx: FindingContext, principal_arn: str, action: str, resource: str, *, keep: bool = True) -> Decision:
    """One evaluator request by a role or user of the snapshot, no service context (cached per context;
    ``keep=False``: not added to any cache, see :meth:`~irsa_lib.graph.aws.AwsView.decide`)."""
    key = (principal_arn, action.lower(), resource)
    found = ctx.decisions.get(key)
    if found is None:
        try:
            found = ctx.aws.decide(principal_arn, action, resource, keep=keep)
        except UnknownPrincipalError as exc:
            return Decision("conditional", False, (), (), (str(exc),), (str(exc),))
        if keep:
            ctx.decisions[key] = found
    return found


def denied_across_accounts(ctx: FindingContext, principal_arn: str, resource: str) -> bool:
    """True when every request by ``principal_arn`` on ``resource`` is denied, whatever the action.

    That is the case when the request crosses accounts and the resource is known to have no
    resource-based policy (``PolicySet.resource_complete``): across accounts the principal's own
    policies AND the resource's policy must allow (IAM evaluation logic, "Cross-account policy
    evaluation"), and an absent policy allows nothing, whatever is missing on the principal's
    side. The evaluator gives ``deny`` for exactly these policy sets, so rules that scan many
    values skip asking it. The resource side and both accounts are the ones the evaluator is given
    (``Inventory.closed_account``, the principal's ``account_id``).
    """
    account = ctx.principal_account(principal_arn)
    if account is None or account_of(resource) in (None, account):
        return False  # same account, or unknown: only the evaluator can tell
    closed = ctx.inventory.closed_account(resource)  # the resource side alone decides: once per resource
    return closed is not None and closed != account


def ask(
    ctx: FindingContext, principal_arn: str, action: str, resource: str, what: str | None = None, *, keep: bool = True
) -> Reach:
    """One request with no service context, as a :class:`Reach` (``keep``: as :func:`decide`)."""
    return verdict(decide(ctx, principal_arn, action, resource, keep=keep), what or f"{action} on {resource}")


# --- read + decrypt ------------------------------------------------------------------------------


def from_leg(leg: Leg | None, what: str) -> Reach:
    """A graph leg (read + decrypt, or one edge) as a finding reads it."""
    if leg is None:
        return Reach("deny", (f"{what}: denied",))
    if leg.decision == "allow":
        return Reach("allow", leg.evidence)
    if not leg.unresolved and leg.missing:
        return Reach("unknown", leg.evidence, leg.missing)
    return Reach("conditional", leg.evidence, leg.missing, leg.unresolved)


def edge_leg(attrs: Mapping[str, Any]) -> Leg:
    """The leg stored on a graph edge (its decision, evidence, unresolved keys and missing policies)."""
    decision = attrs[DECISION]
    return Leg(
        decision="allow" if decision == "allow" else "conditional",
        evidence=tuple(attrs.get(EVIDENCE, ())),
        unresolved=tuple(attrs.get(UNRESOLVED_KEYS, ())),
        missing=tuple(attrs.get(MISSING, ())),
    )


def read(ctx: FindingContext, principal_arn: str, target: Target, actions: Sequence[str] | None = None) -> Reach:
    """Read (any of ``actions``; default every action that returns the value) AND decrypt ``target``.

    The same question, asked the same way, as the graph's CAN_READ edges (``AwsView.read``).
    """
    acts = tuple(actions) if actions else consumer_actions("direct", target)
    got = ctx.aws.read(Identity(principal_arn), target, acts)
    return from_leg(got.leg if got else None, f"{'/'.join(acts)} on {target.name}")


def decrypt(ctx: FindingContext, principal_arn: str, target: Target) -> Reach:
    """kms:Decrypt of ``target``'s value as its service calls it (``AwsView.decrypt``)."""
    return from_leg(ctx.aws.decrypt_leg(Identity(principal_arn), target), f"kms:Decrypt of {target.name}")
