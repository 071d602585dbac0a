"""Turn the evaluated layers into a Decision with readable reasons."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from irsa_lib.policy.decision import Decision, StatementRef
from irsa_lib.policy.layers import Layer, Tri
from irsa_lib.policy.policyset import PolicySet
from irsa_lib.policy.request import Request

_RULES = {
    "kms-key": "KMS: the key policy must allow the principal directly, or allow the account root and an IAM "
    "policy must allow too, or a grant must cover the operation",
    "role-trust": "STS: the role's trust policy must allow this principal (naming the account root also needs an "
    "IAM allow for sts:AssumeRole)",
}


def _find(layers: Sequence[Layer], ref: StatementRef) -> str:
    for lay in layers:
        st = lay.statements.get(ref)
        if st is not None:
            return "; ".join(c.describe() for c in st.conditions) or "a policy variable is resolved"
    return "its conditions hold"


def _why_not(request: Request, policies: PolicySet, layers: Sequence[Layer], same_account: bool) -> list[str]:
    out = []
    for lay in layers:
        if not lay.allows and not lay.cond_allows:
            out.append(f"{lay.name}: no statement allows {request.action} on {request.resource}")
    rule = _RULES.get(policies.resource_kind)
    if rule:
        out.append(rule)
    if not same_account and policies.resource is not None:
        out.append("cross-account: the resource policy and the principal's own policies must both allow")
    elif not same_account and policies.resource_kind == "generic":
        out.append("cross-account: the resource has no resource-based policy, so nothing can allow it")
    return out or [f"nothing allows {request.action} on {request.resource} (implicit deny)"]


def explain(
    request: Request,
    policies: PolicySet,
    layers: Sequence[Layer],
    allow: Tri,
    deny: Tri,
    same_account: bool,
    notes: Sequence[str] = (),
) -> Decision:
    """The decision for the combined allow / deny truth values; ``notes`` are rules that shaped the
    evaluation (a layer left out, the key's state) and are added to the reasons in words."""
    decision = _decide(request, policies, layers, allow, deny, same_account)
    if not notes:
        return decision
    return dataclasses.replace(decision, reasons=(*decision.reasons, *notes))


def _decide(
    request: Request, policies: PolicySet, layers: Sequence[Layer], allow: Tri, deny: Tri, same_account: bool
) -> Decision:
    missing = tuple(policies.missing)
    missing_reasons = tuple(f"not available, so the answer is uncertain: {m}" for m in missing)
    if deny[0] == 2:
        refs = deny[2]
        return Decision("deny", True, refs, (), tuple(f"explicitly denied by {r}" for r in refs))
    if allow[0] == 0:
        reasons = tuple(_why_not(request, policies, layers, same_account))
        if missing:
            return Decision("conditional", False, (), (), reasons + missing_reasons, missing)
        return Decision("deny", False, (), (), reasons)
    if allow[0] == 2 and deny[0] == 0:
        refs = allow[2]
        reasons = tuple(f"allowed by {r}" for r in refs)
        if missing:
            return Decision("conditional", False, refs, (), reasons + missing_reasons, missing)
        return Decision("allow", False, refs, (), reasons)
    keys: list[str] = []
    lines: list[str] = []
    refs_out: list[StatementRef] = []
    if allow[0] == 1:
        keys.extend(allow[1])
        lines.extend(f"allowed only if {_find(layers, r)}: {r}" for r in allow[2] if r.effect == "Allow")
        refs_out.extend(allow[2])
    else:
        lines.extend(f"allowed by {r}" for r in allow[2])
        refs_out.extend(allow[2])
    if deny[0] == 1:
        keys.extend(deny[1])
        lines.extend(f"denied if {_find(layers, r)}: {r}" for r in deny[2])
        refs_out.extend(deny[2])
    return Decision(
        "conditional",
        False,
        tuple(dict.fromkeys(refs_out)),
        tuple(dict.fromkeys(keys)),
        tuple(lines) + missing_reasons,
        missing,
    )
