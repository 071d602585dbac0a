"""What every AWS family collector shares: where it runs, and how it records records and gaps.

A family collector receives a :class:`Scope` and returns a :class:`Partial`: the records it built plus a
coverage entry for what it attempted. Failures are classified by botocore error code into the snapshot's
coverage statuses so "could not look" never reads as "nothing there".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from irsa_lib.collect.session import Clients
from irsa_lib.model import Coverage, CoverageStatus

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthFailure",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "OptInRequired",
        "SignatureDoesNotMatch",
        "403",
    }
)
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
        "429",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "NoSuchEntity",
        "NotFoundException",
        "ResourceNotFoundException",
        "ParameterNotFound",
        "InvalidLaunchTemplateId.NotFound",
        "InvalidLaunchTemplateName.NotFoundException",
        "InvalidLaunchTemplateId.VersionNotFound",
        "PolicyNotFoundException",
        "TargetNotFoundException",
        "ChildNotFoundException",
    }
)
UNIMPLEMENTED_CODES = frozenset(
    {"404", "UnknownOperationException", "InvalidAction", "NotImplemented", "UnsupportedOperation", "500"}
)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    if isinstance(exc, ClientError):
        return str(
            exc.response.get("Error", {}).get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        )
    return None


def classify(exc: BaseException, operation: str) -> tuple[CoverageStatus, str]:
    """Map a botocore error to a coverage status and a readable one-line message."""
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return "unreachable", f"{operation}: endpoint unreachable: {exc}"
    if isinstance(exc, ClientError):
        code = error_code(exc) or "?"
        message = str(exc.response.get("Error", {}).get("Message") or "").strip()
        if code in DENIED_CODES:
            return "denied", f"{operation}: {code}: {message}"
        if code in THROTTLED_CODES:
            return "throttled", f"{operation}: {code} (still throttled after retries): {message}"
        if code in NOT_FOUND_CODES:
            return "not_found", f"{operation}: {code}: {message}"
        if code in UNIMPLEMENTED_CODES and (
            code in {"404", "UnknownOperationException", "InvalidAction"}
            or "not been implemented" in message
            or "not implemented" in message.lower()
        ):
            return "failed", f"{operation}: the endpoint does not implement this operation ({code})"
        if code == "500" and _is_html(message):
            # AWS answers a server fault with an error in the service's protocol (InternalFailure...);
            # an HTML error page instead is a local endpoint without this operation (moto raises
            # NotImplementedError, which its web server turns into a bare HTTP 500 page).
            return "failed", (
                f"{operation}: the endpoint does not implement this operation "
                "(HTTP 500 with an HTML page instead of an AWS error)"
            )
        return "failed", f"{operation}: {code}: {_first_line(message)}"
    if isinstance(exc, BotoCoreError):
        return "failed", f"{operation}: {exc}"
    if isinstance(exc, ResponseParserError):  # its text carries the raw body: not repeated here
        return "failed", f"{operation}: malformed response: botocore could not read the body"
    return "failed", f"{operation}: {type(exc).__name__}: {exc}"


def _is_html(text: str) -> bool:
    head = text.lstrip()[:15].lower()
    return head.startswith(("<!doctype html", "<html"))


def _first_line(text: str) -> str:
    return text.splitlines()[0][:300] if text else ""


def tags_dict(tags: Any) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` (either case) as a dict."""
    out: dict[str, str] = {}
    for tag in tags or ():
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            out[str(key)] = str(tag.get("Value", tag.get("value", "")))
    return out


def arn_account(arn: str) -> str:
    """The account field of an ARN (empty for AWS-owned resources such as AWS managed policies)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) > 4 else ""


@dataclass(frozen=True)
class Scope:
    """Where a family collector runs: one account, one region (or ``None`` for global services)."""

    account_id: str
    partition: str
    region: str | None
    clients: Clients

    @property
    def name(self) -> str:
        """Coverage scope: ``<account>/<region>``, or ``<account>/global``."""
        return f"{self.account_id}/{self.region or 'global'}"

    def client(self, service: str) -> Any:
        return self.clients.client(service, self.region)


@dataclass
class Partial:
    """Records (by snapshot field name) and coverage produced by one family collector."""

    records: dict[str, list[Any]] = field(default_factory=dict)
    coverage: list[Coverage] = field(default_factory=list)

    def add(self, name: str, items: Any) -> None:
        self.records.setdefault(name, []).extend(items)

    def ok(self, scope: Scope, service: str, count: int) -> None:
        self.coverage.append(Coverage(source="aws", scope=scope.name, service=service, status="ok", count=count))

    def status(
        self, scope: Scope, service: str, status: CoverageStatus, error: str, resource: str | None = None
    ) -> None:
        self.coverage.append(
            Coverage(source="aws", scope=scope.name, service=service, status=status, error=error, resource=resource)
        )

    def failed(
        self, scope: Scope, service: str, exc: BaseException, operation: str, resource: str | None = None
    ) -> None:
        """Record a failed call: ``service`` is the coverage service, ``operation`` names the API call."""
        status, message = classify(exc, operation)
        self.status(scope, service, status, message, resource)

    def extend(self, other: Partial) -> None:
        for name, items in other.records.items():
            self.add(name, items)
        self.coverage.extend(other.coverage)


CALL_ERRORS = (ClientError, BotoCoreError, ResponseParserError)
"""What a ``get_*`` function may raise for a failed AWS call (a malformed answer included:
:mod:`irsa_lib.collect.responses`); anything else is a bug and propagates."""
