"""Which policies take part in deciding one request (a PolicySet), beside the request itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from irsa_lib.model import Grant
from irsa_lib.policy.document import Policy

ResourceKind = Literal["generic", "kms-key", "role-trust"]


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
