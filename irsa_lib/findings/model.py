"""What a finding is: a rule's metadata, its severity, and one judged resource.

A rule's prose (why it matters, how to fix it, where the rule comes from, and what the rule cannot
see) lives in its :class:`RuleMeta`, beside the small function that makes the decision. A
:class:`Finding` is one resource the rule judged: ``fail`` (the misconfiguration is there) or
``unknown`` (the rule could not judge it because an input was not collected). Passing resources
are not reported.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from irsa_lib.errors import UsageError

if TYPE_CHECKING:
    from irsa_lib.findings.context import FindingContext

Status = Literal["fail", "unknown"]


class Severity(enum.Enum):
    """How bad a finding is; members are declared most severe first and compare by rank (``CRITICAL > HIGH``)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info."""
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """The severity named by ``text`` (case-insensitive); UsageError otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise UsageError(f"unknown severity {text!r} (expected one of: {names})") from None

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_RANK = {s: len(Severity) - 1 - i for i, s in enumerate(Severity)}
"""The one severity order: the members' declaration order, most severe first."""


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One resource a rule judged as failing, or could not judge (``status="unknown"``)."""

    rule: str
    slug: str
    severity: Severity
    title: str
    resource: str
    """An ARN, or a Kubernetes id ``cluster/namespace/Kind/name`` (``cluster/Kind/name`` if cluster-scoped)."""
    evidence: tuple[str, ...]
    """Readable facts that made the decision: statements, annotations, settings."""
    remediation: str
    status: Status = "fail"

    @property
    def key(self) -> tuple[str, str]:
        """Stable identity across runs: the rule and the resource."""
        return (self.rule, self.resource)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "slug": self.slug,
            "severity": self.severity.value,
            "status": self.status,
            "title": self.title,
            "resource": self.resource,
            "evidence": list(self.evidence),
            "remediation": self.remediation,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            rule=str(data["rule"]),
            slug=str(data["slug"]),
            severity=Severity.parse(str(data["severity"])),
            title=str(data["title"]),
            resource=str(data["resource"]),
            evidence=tuple(str(e) for e in data.get("evidence", ())),
            remediation=str(data.get("remediation", "")),
            status="unknown" if data.get("status") == "unknown" else "fail",
        )


@dataclass(frozen=True, kw_only=True)
class RuleMeta:
    """A rule's identity and prose: what it flags, why, how to fix it, and what it cannot see."""

    id: str
    slug: str
    severity: Severity
    title: str
    why: str
    remediation: str
    references: tuple[str, ...]
    scope: str
    """Scope note: what the rule cannot see, so a clean result is not over-read."""

    @property
    def help_uri(self) -> str:
        return self.references[0] if self.references else ""

    def fail(
        self, resource: str, *evidence: str, severity: Severity | None = None, title: str | None = None
    ) -> Finding:
        """A failing finding on ``resource``; ``severity`` overrides the rule's default when context raises or lowers it."""
        return Finding(
            rule=self.id,
            slug=self.slug,
            severity=severity or self.severity,
            title=title or self.title,
            resource=resource,
            evidence=tuple(evidence),
            remediation=self.remediation,
        )

    def unknown(self, resource: str, *missing: str) -> Finding:
        """The rule could not judge ``resource``: ``missing`` names the inputs that were not collected."""
        return Finding(
            rule=self.id,
            slug=self.slug,
            severity=self.severity,
            title=f"{self.title} (not judged: inputs missing)",
            resource=resource,
            evidence=tuple(missing),
            remediation="Collect the missing inputs (see evidence) and run the findings again.",
            status="unknown",
        )


@dataclass(frozen=True)
class Rule:
    """A rule: its metadata and a pure check of the context."""

    meta: RuleMeta
    check: Callable[[FindingContext], Iterable[Finding]]

    @property
    def id(self) -> str:
        return self.meta.id
