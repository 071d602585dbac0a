"""A *leg*: one hop's outcome (allow or conditional) with its evidence, and how legs combine.

A chain of hops is only as strong as its weakest hop: allow and allow is allow, anything with a
conditional hop is conditional (with the union of the unresolved keys), and a denied hop means no
chain at all (``None``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from irsa_lib.graph.schema import EdgeData, EdgeDecision, Mechanism

if TYPE_CHECKING:
    from irsa_lib.policy import Decision


@dataclass(frozen=True, kw_only=True)
class Leg:
    decision: Literal["allow", "conditional"]
    evidence: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """Policies that take part but were not available (the evaluator's ``Decision.missing``)."""


ALLOW = Leg(decision="allow")


def combine(legs: Iterable[Leg | None]) -> Leg | None:
    """The leg of a chain: None if any hop is impossible."""
    chain: list[Leg] = []
    for leg in legs:
        if leg is None:
            return None
        chain.append(leg)
    # each part once, in the order first met (dict keys keep it), as a chain reads hop by hop
    return Leg(
        decision="conditional" if any(leg.decision == "conditional" for leg in chain) else "allow",
        evidence=tuple(dict.fromkeys(e for leg in chain for e in leg.evidence)),
        unresolved=tuple(dict.fromkeys(k for leg in chain for k in leg.unresolved)),
        missing=tuple(dict.fromkeys(m for leg in chain for m in leg.missing)),
    )


def best(legs: Iterable[Leg | None]) -> Leg | None:
    """The strongest of alternative legs (allow over conditional), or None when all are impossible."""
    chosen: Leg | None = None
    for leg in legs:
        if leg is None:
            continue
        if chosen is None or (chosen.decision == "conditional" and leg.decision == "allow"):
            chosen = leg
    return chosen


def from_decision(decision: Decision, what: str) -> Leg | None:
    """Turn an evaluator Decision into a leg; ``what`` says which request it was (for the evidence)."""
    if decision.outcome == "deny":
        return None
    lines: list[str] = []
    for ref in decision.deciding:
        sid = f" (Sid {ref.sid})" if ref.sid else ""
        lines.append(f"{what}: {ref.effect} by {ref.source} statement {ref.index}{sid} [{ref.layer}]")
    if not lines:
        lines.append(f"{what}: {decision.outcome}")
    if decision.outcome == "conditional":
        lines.extend(f"{what}: {r}" for r in decision.reasons)
    lines.extend(f"{what}: not available: {m}" for m in decision.missing)
    return Leg(
        decision="allow" if decision.outcome == "allow" else "conditional",
        evidence=tuple(lines),
        unresolved=tuple(decision.unresolved_keys),
        missing=tuple(decision.missing),
    )


def leg_edge(
    mechanism: Mechanism,
    leg: Leg,
    *,
    evidence: tuple[str, ...] | None = None,
    decision: EdgeDecision | None = None,
    **fields: Any,
) -> EdgeData:
    """The edge for an evaluated hop: its decision, evidence, unresolved keys and missing policies."""
    return EdgeData(
        mechanism=mechanism,
        decision=decision or leg.decision,
        evidence=leg.evidence if evidence is None else evidence,
        unresolved_keys=leg.unresolved,
        missing=leg.missing,
        **fields,
    )
