"""Errors raised when a source cannot be collected at all."""

from irsa_lib.errors import IrsaError


class CollectionError(IrsaError):
    """Nothing could be collected from a source (unreachable endpoint, rejected or missing credentials)."""
