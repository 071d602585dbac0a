"""Evaluator inputs: who asks (Principal), what for (Request), and which policies apply (PolicySet)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from irsa_lib.model import Grant
    from irsa_lib.policy.document import Policy

PrincipalKind = Literal["role", "user", "session", "service", "federated", "root"]
ResourceKind = Literal["generic", "kms-key", "role-trust"]
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


@dataclass(frozen=True)
class PolicySet:
    """Every policy that takes part in deciding one request."""

    identity: Sequence[Policy] = ()
    boundary: Policy | None = None
    session: Sequence[Policy] = ()
    resource: Policy | None = None
    """Resource-based policy: role trust policy, KMS key policy, secret or parameter policy."""
    resource_account: str | None = None
    resource_kind: ResourceKind = "generic"
    grants: Sequence[Grant] = ()
    scps: Sequence[Sequence[Policy]] | None = None
    """SCPs per level, root to account; None when no SCPs apply (or none are known)."""
    rcps: Sequence[Sequence[Policy]] | None = None
    missing: tuple[str, ...] = ()
    """Policies that take part but could not be read (named); they make an answer uncertain."""
    resource_tags: Mapping[str, str] | None = None
    """The resource's tags when known (``aws:ResourceTag/<key>`` and the service's own
    ``<service>:ResourceTag/<key>`` resolve from them; a key not among them is absent). None: unknown,
    so a condition on them stays unresolved."""
    key_state: str | None = None
    """KMS: the key's state (``Enabled``, ``Disabled``, ``PendingDeletion``...), when known."""
    alias_keys: tuple[tuple[str, PolicySet], ...] = ()
    """KMS alias management (CreateAlias, UpdateAlias, DeleteAlias on an alias ARN): each key the
    request affects, with the policies deciding the action on that key."""
    scp_missing: tuple[str, ...] = ()
    """SCPs that could not be read: uncertain only where SCPs apply (not for service-linked roles)."""
    rcp_missing: tuple[str, ...] = ()
    """RCPs that could not be read: uncertain only where RCPs apply (a supported service, not a
    service-linked role)."""
    resource_complete: bool = False
    """The resource side is known in full: the resource is a collected record whose resource-based
    policy was read, or is known not to exist. Then a cross-account request on it without a resource
    policy is denied whatever else is missing (nothing on the principal's side can allow it)."""
