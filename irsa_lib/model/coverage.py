"""What was collected and what was not, so "couldn't look" never reads as "nothing there"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CoverageStatus = Literal[
    "ok",
    "denied",
    "throttled",
    "failed",
    "not_found",
    "absent",
    "unreachable",
    "ignored",
    "not_collected",
    "skipped",
]
"""``not_collected``: the source (an offline dump) does not hold this at all: unknown, like a failure.
``absent``: the source does not have this kind at all (e.g. a CRD not installed): not an error.
``ignored``: objects were read but are of a kind the analysis does not use (a Service, an Ingress): not an error.
``skipped``: deliberately not collected (the error text says why), e.g. SSM parameter tags no policy
refers to; whatever depends on them stays unresolved, never false."""

COMPLETE_STATUSES: frozenset[str] = frozenset({"ok", "absent", "not_found", "ignored", "skipped"})


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """The outcome of collecting one service or kind in one scope."""

    source: Literal["aws", "kubernetes", "manifests"]
    scope: str
    """``<account>/<region>`` (``<account>/global`` for IAM), or the cluster name for Kubernetes."""
    service: str
    """AWS service and, where the failure is narrower, the operation (``kms:GetKeyPolicy``);
    for Kubernetes the resource kind (``serviceaccounts``)."""
    status: CoverageStatus
    error: str | None = None
    resource: str | None = None
    """The one object concerned, when a failure is about a single resource (a key, a file)."""
    count: int | None = None
    """Records collected, when status is ``ok``."""

    @property
    def complete(self) -> bool:
        return self.status in COMPLETE_STATUSES
