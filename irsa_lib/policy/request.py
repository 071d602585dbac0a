"""Evaluator inputs: who asks (Principal) and what for (Request); the policies that apply are a PolicySet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["role", "user", "session", "service", "federated", "root"]
ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class Principal:
    """The identity making a request.

    ``arn`` is an IAM role ARN (standing for any session of the role), a user ARN, an assumed-role
    session ARN, a service principal (``pods.eks.amazonaws.com``), an OIDC provider ARN for web
    identity, or an account root ARN.
    """

    arn: str
    kind: PrincipalKind
    account_id: str | None = None
    role_arn: str | None = None
    """For sessions: the role the session belongs to."""
    unique_id: str | None = None
    """AROA... / AIDA...; for a session, the role's id."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Principal tags; for a session the session tags win over the role's tags."""
    service_linked: bool = False


@dataclass(frozen=True)
class Request:
    """One request: principal, action, resource ARN and the condition keys known about it."""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    context_complete: bool = False
    """False: a condition on a key not given makes the answer ``conditional`` naming that key.
    True: keys not given are absent, as AWS sees a real request."""
