"""The evaluator's error type."""

from __future__ import annotations

from irsa_lib.errors import IrsaError


class PolicyError(IrsaError, ValueError):
    """A malformed policy document; the message names the policy source and the statement."""


class UnknownDocumentError(PolicyError):
    """A policy document that is not known yet (see :mod:`irsa_lib.policy.unknown`): not malformed."""
