"""Errors raised while collecting."""

from __future__ import annotations

from irsa_lib.errors import IrsaError


class CollectionError(IrsaError):
    """Nothing at all could be collected from a source (unreachable, no credentials, unknown profile).

    Partial failures never raise: they are recorded in the snapshot's coverage.
    """


class OperationNotAllowedError(RuntimeError):
    """An AWS operation outside the read-only allow-list was about to be sent.

    This is a programming error, not bad input: the request is refused before it leaves the process.
    """
