"""Errors of the onboarding runbook: each names the parameter, resource or step that is wrong."""

from __future__ import annotations

from collections.abc import Sequence

from irsa_lib.errors import IrsaError


class OnboardingError(IrsaError):
    """Base of every onboarding error the user can cause."""


class InvalidParameters(OnboardingError):
    """Onboarding parameters that cannot be acted on; raised before anything is read or changed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid onboarding parameters:\n  - " + "\n  - ".join(self.problems))


class PreflightError(OnboardingError):
    """The current state forbids the onboarding (name taken, parameter owned by another key...).

    Raised by the preflight phase, which only reads: nothing has been changed.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("onboarding stopped before any change:\n  - " + "\n  - ".join(self.problems))


class ValueUnavailable(OnboardingError):
    """A parameter value could not be obtained (environment variable unset, no terminal to prompt)."""
