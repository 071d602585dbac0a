"""What preflight found: the status each step would have, and the resources already there.

Produced by :func:`irsa_lib.onboarding.apply.preflight` (reads only) and consumed by
:func:`irsa_lib.onboarding.plan.make_plan` to annotate the plan, and by apply to act.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["create", "update", "unchanged", "skip"]
"""``skip``: nothing this run may do (e.g. a policy on a role in another account: output only)."""


@dataclass(frozen=True, kw_only=True)
class Observed:
    """The result of reading the current state, before any change."""

    statuses: Mapping[str, Status] = field(default_factory=dict)
    """Step id -> what applying it would do."""
    reasons: Mapping[str, str] = field(default_factory=dict)
    """Step id -> why (e.g. ``key policy differs``, ``exists; value kept``)."""
    key_arn: str | None = None
    """The service key when it already exists (found by alias, or by tag after an interrupted run)."""
