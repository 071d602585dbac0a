"""The project's error types: each message names what was wrong and where."""


class IrsaError(Exception):
    """Base of every error irsa_lib raises on bad input or an unusable source."""


class UsageError(IrsaError):
    """Command-line arguments or parameters that cannot be acted on."""
