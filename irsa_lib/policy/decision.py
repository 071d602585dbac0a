"""The evaluator's answer: allow / deny / conditional, the statements that decided, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["allow", "deny", "conditional"]


@dataclass(frozen=True)
class StatementRef:
    """One statement of one policy, as named in explanations."""

    source: str
    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    layer: str
    """identity, boundary, session, resource, trust, key, grant, scp, rcp."""

    def __str__(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        return f"{self.layer} {self.source} Statement[{self.index}]{sid} {self.effect}"


@dataclass(frozen=True)
class Decision:
    """The answer for one request.

    ``conditional`` means allowed only under context the inputs do not fix; ``unresolved_keys``
    names the condition keys that decide it and ``reasons`` says which values would allow.
    """

    outcome: Outcome
    explicit_deny: bool
    deciding: tuple[StatementRef, ...]
    unresolved_keys: tuple[str, ...]
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()
    """Policies that take part but were not available: they keep the answer from being certain."""

    @property
    def allowed(self) -> bool:
        """True only for a definite allow."""
        return self.outcome == "allow"

    @property
    def possible(self) -> bool:
        """True when some request context could make this allowed (allow or conditional)."""
        return self.outcome != "deny"

    def to_json(self) -> dict[str, object]:
        """The decision as a JSON-ready object."""
        return {
            "decision": self.outcome,
            "explicit_deny": self.explicit_deny,
            "deciding": [
                {"layer": s.layer, "source": s.source, "index": s.index, "sid": s.sid, "effect": s.effect}
                for s in self.deciding
            ],
            "unresolved_keys": list(self.unresolved_keys),
            "missing": list(self.missing),
            "reasons": list(self.reasons),
        }


def all_of(parts: Sequence[tuple[str | None, Decision]]) -> Decision:
    """Requests that must all be allowed (AssumeRole and TagSession; an alias and its keys), combined.

    A denied part decides (an explicit deny first); otherwise any conditional part makes the whole
    conditional, with every part's keys and missing policies. A label names its part in the reasons.
    """

    def lines(label: str | None, d: Decision) -> tuple[str, ...]:
        return tuple(f"{label}: {r}" for r in d.reasons) if label else d.reasons

    denied = [(label, d) for label, d in parts if d.outcome == "deny"]
    if denied:
        label, d = next(((lb, x) for lb, x in denied if x.explicit_deny), denied[0])
        return Decision("deny", d.explicit_deny, d.deciding, (), lines(label, d))
    decisions = [d for _, d in parts]
    outcome: Outcome = "allow" if all(d.outcome == "allow" for d in decisions) else "conditional"
    return Decision(
        outcome,
        False,
        tuple(dict.fromkeys(r for d in decisions for r in d.deciding)),
        tuple(dict.fromkeys(k for d in decisions for k in d.unresolved_keys)),
        tuple(dict.fromkeys(line for label, d in parts for line in lines(label, d))),
        tuple(dict.fromkeys(m for d in decisions for m in d.missing)),
    )
