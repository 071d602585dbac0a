"""The Principal element: which request principals a statement names, and how.

How a statement names the caller matters for the decision, so a match returns its kind:

* ``direct``: the caller's own user ARN, session ARN, unique id, service or federated provider;
* ``role``: the ARN (or unique id) of the role whose session is calling;
* ``account``: the caller's account (``arn:aws:iam::A:root`` or ``A``), which only delegates to the
  account's IAM policies;
* ``wildcard``: ``*`` (or ``{"AWS": "*"}``), every principal.

>>> spec = parse_principal({"AWS": "111122223333"})
>>> spec.match(Principal("arn:aws:iam::111122223333:role/r", "role", account_id="111122223333"))
'account'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from irsa_lib.policy.context import session_role_arn
from irsa_lib.policy.errors import PolicyError
from irsa_lib.policy.request import Principal
from irsa_lib.policy.variables import Lookup

MatchKind = Literal["direct", "role", "account", "wildcard"]
_ACCOUNT = re.compile(r"^\d{12}$")
_ROOT = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")
_UNIQUE = re.compile(r"^A[A-Z]{3}[A-Z0-9]{8,}$")
_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")


class PrincipalSyntaxError(ValueError):
    """A Principal element that is not valid policy grammar."""


@lru_cache(maxsize=65536)
def entity_key(arn: str) -> str | None:
    """``partition:account:role/name`` (or ``user/name``) for a role or user ARN, name lower-cased.

    A role or user is identified by its account and name: names are unique per account and not
    distinguished by case, and the path is not part of the identity (an assumed-role ARN carries
    the role name without the path). IAM resolves a Principal ARN to the entity when the policy
    is saved, so comparing keys is how AWS matches.
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    kind, _, rest = parts[5].partition("/")
    if kind not in ("role", "user") or not rest or rest.endswith("/"):
        return None
    return f"{parts[1]}:{parts[4]}:{kind}/{rest.rsplit('/', 1)[-1].lower()}"


@lru_cache(maxsize=65536)
def session_key(arn: str) -> str | None:
    """``partition:account:role-name/session-name`` for an assumed-role session ARN (role name lower-cased)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[5].startswith("assumed-role/"):
        return None
    segs = parts[5].split("/")
    if len(segs) < 3 or not segs[1] or not segs[2]:
        return None
    return f"{parts[1]}:{parts[4]}:{segs[1].lower()}/{'/'.join(segs[2:])}"


def _role_name_key(p: Principal) -> str | None:
    """``partition:account:role-name/`` of a role principal: the prefix of its sessions' keys."""
    key = entity_key(p.arn)
    if key is None or ":role/" not in key:
        return None
    part, acct, rest = key.split(":", 2)
    return f"{part}:{acct}:{rest[len('role/') :]}/"


def session_of(p: Principal, session_name: str) -> Principal:
    """The session ``session_name`` of role principal ``p``."""
    parts = p.arn.split(":", 5)
    name = parts[5].rsplit("/", 1)[-1]
    return Principal(
        f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{name}/{session_name}",
        "session",
        account_id=p.account_id,
        role_arn=p.role_arn or p.arn,
        unique_id=p.unique_id,
        tags=p.tags,
        service_linked=p.service_linked,
    )


@dataclass(frozen=True)
class PrincipalSpec:
    """A compiled Principal / NotPrincipal element."""

    everyone: bool = False
    """``"Principal": "*"``: every principal, AWS services included."""
    aws_wildcard: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    """Roles and users, as :func:`entity_key` (account and lower-case name, no path)."""
    sessions: frozenset[str] = frozenset()
    """Assumed-role sessions, as :func:`session_key`."""
    unique_ids: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    canonical: frozenset[str] = frozenset()
    other: frozenset[str] = frozenset()
    """AWS entries naming nothing this evaluator models (kept for explanations, never matched)."""

    def match(self, p: Principal) -> MatchKind | None:
        """How this element names principal ``p`` (None: not at all)."""
        if self.everyone:
            return "wildcard"
        kind = p.kind
        if kind == "service":
            return "direct" if p.arn.lower() in self.services else None
        if kind == "federated":
            return "direct" if p.arn in self.federated else None
        if p.arn in self.canonical:
            return "direct"
        if kind == "session":
            if self.sessions and session_key(p.arn) in self.sessions:
                return "direct"
            role = p.role_arn or session_role_arn(p.arn)
            if (role and entity_key(role) in self.arns) or (p.unique_id and p.unique_id in self.unique_ids):
                return "role"
        elif kind == "role":
            if entity_key(p.arn) in self.arns or (p.unique_id and p.unique_id in self.unique_ids):
                return "role"
        elif kind == "user" and (entity_key(p.arn) in self.arns or (p.unique_id and p.unique_id in self.unique_ids)):
            return "direct"
        if p.account_id and p.account_id in self.accounts:
            return "account"
        if self.aws_wildcard:
            return "wildcard"
        return None

    def named_sessions(self, p: Principal) -> tuple[str, ...]:
        """For a role principal (any session of the role): the session names this element lists."""
        if not self.sessions or p.kind != "role":
            return ()
        prefix = _role_name_key(p)
        if prefix is None:
            return ()
        return tuple(sorted(k[len(prefix) :] for k in self.sessions if k.startswith(prefix)))

    def excludes(self, p: Principal, effect: str) -> bool:
        """Whether a NotPrincipal element exempts ``p`` from its statement.

        For Deny, the exemption needs the principal's own ARN *and* its account (IAM UG
        reference_policies_elements_notprincipal); for Allow any naming exempts it.
        """
        kind = self.match(p)
        if kind is None:
            return False
        if effect == "Allow" or self.everyone:
            return True
        entity = kind in ("direct", "role") or (p.kind == "root" and kind == "account")
        if not entity:
            probe = PrincipalSpec(
                arns=self.arns,
                sessions=self.sessions,
                unique_ids=self.unique_ids,
                services=self.services,
                federated=self.federated,
                canonical=self.canonical,
            )
            entity = probe.match(p) is not None
        return entity and (p.account_id is None or p.account_id in self.accounts)


def judge(
    spec: PrincipalSpec, negated: bool, effect: str, p: Principal, lookup: Lookup
) -> tuple[MatchKind | None, tuple[str, ...]]:
    """Whether a statement's Principal (or NotPrincipal) applies to ``p``, and how it names it.

    Returns the match kind (None: the statement does not apply) and the keys that decide it. A
    role principal stands for any session of the role, and the session name is the caller's
    choice (STS AssumeRole ``RoleSessionName``): when the element lists a session of the role,
    the answer depends on the session name, which ``aws:userid`` (``role-id:session``) carries.
    """

    def one(q: Principal) -> MatchKind | None:
        if negated:
            return None if spec.excludes(q, effect) else "wildcard"
        return spec.match(q)

    base = one(p)
    names = spec.named_sessions(p)
    if not names:
        return base, ()
    status, values = lookup("aws:userid")
    if status == "present":
        given = [v.split(":", 1)[1] for v in values if ":" in v]
        return (one(session_of(p, given[0])) if given else base), ()
    if status == "absent":
        return base, ()
    alt = one(session_of(p, names[0]))
    if alt == base or (base is not None and alt is not None):
        return base, ()
    return (base or alt), ("aws:userid",)


def _strings(value: Any, kind: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise PrincipalSyntaxError(f"Principal {kind} must be a non-empty string or list of strings")
    return items


def parse_principal(element: Any) -> PrincipalSpec:
    """Compile a Principal or NotPrincipal element."""
    if element == "*":
        return PrincipalSpec(everyone=True)
    if not isinstance(element, Mapping) or not element:
        raise PrincipalSyntaxError('Principal must be "*" or an object such as {"AWS": ...}')
    accounts: set[str] = set()
    arns: set[str] = set()
    sessions: set[str] = set()
    uids: set[str] = set()
    other: set[str] = set()
    aws_wildcard = False
    services: set[str] = set()
    federated: set[str] = set()
    canonical: set[str] = set()
    for kind, value in element.items():
        if kind not in _KINDS:
            raise PrincipalSyntaxError(f"unknown principal type {kind!r} (expected one of {', '.join(_KINDS)})")
        values = _strings(value, kind)
        if kind == "Service":
            services.update(v.lower() for v in values)
        elif kind == "Federated":
            federated.update(values)
        elif kind == "CanonicalUser":
            canonical.update(values)
        else:
            for v in values:
                root = _ROOT.match(v)
                if v == "*":
                    aws_wildcard = True
                elif _ACCOUNT.match(v):
                    accounts.add(v)
                elif root:
                    accounts.add(root.group(1))
                elif ":assumed-role/" in v and session_key(v):
                    sessions.add(session_key(v) or "")
                elif entity_key(v):
                    arns.add(entity_key(v) or "")
                elif _UNIQUE.match(v):
                    uids.add(v)
                else:
                    other.add(v)
    return PrincipalSpec(
        aws_wildcard=aws_wildcard,
        accounts=frozenset(accounts),
        arns=frozenset(arns),
        sessions=frozenset(sessions),
        unique_ids=frozenset(uids),
        services=frozenset(services),
        federated=frozenset(federated),
        canonical=frozenset(canonical),
        other=frozenset(other),
    )


SERVICE_LINKED_PATH = "aws-service-role/"
"""IAM puts every service-linked role on this path (``role/aws-service-role/<service>/AWSServiceRoleFor...``)."""


def is_service_linked_arn(arn: str) -> bool:
    """Whether ``arn`` is the ARN of a service-linked role: its path is ``/aws-service-role/``.

    Only the path is decisive (IAM UG using-service-linked-roles); a session ARN carries no path, so a
    session is service-linked only when its role is known to be.

    >>> is_service_linked_arn("arn:aws:iam::111122223333:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM")
    True
    >>> is_service_linked_arn("arn:aws:iam::111122223333:role/AWSServiceRoleForAmazonSSM")
    False
    """
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[5].startswith("role/" + SERVICE_LINKED_PATH)


def infer_principal(
    arn: str,
    *,
    account_id: str | None = None,
    unique_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    role_arn: str | None = None,
    service_linked: bool = False,
) -> Principal:
    """A Principal from its ARN alone: role, user, session, root, OIDC provider or service name."""
    parts = arn.split(":", 5)
    is_arn = len(parts) == 6 and parts[0] == "arn"
    acct = account_id or (parts[4] if is_arn and parts[4] else None)
    tags = dict(tags or {})
    if not is_arn:
        if _ACCOUNT.match(arn):
            return Principal(f"arn:aws:iam::{arn}:root", "root", account_id=arn, tags=tags)
        return Principal(arn, "service" if arn.endswith(".amazonaws.com") else "federated", tags=tags)
    res = parts[5]
    kind: Literal["role", "user", "session", "federated", "root"]
    if res.startswith("role/"):
        kind, role_arn = "role", role_arn or arn
    elif res.startswith("assumed-role/"):
        kind, role_arn = "session", role_arn or session_role_arn(arn)
    elif res.startswith("user/"):
        kind = "user"
    elif res == "root":
        kind = "root"
    elif res.startswith(("oidc-provider/", "saml-provider/")):
        kind = "federated"
    else:
        raise PolicyError(
            f"cannot tell what kind of principal {arn!r} is (expected a role, user, session, root or provider ARN)"
        )
    service_linked = service_linked or is_service_linked_arn(role_arn or "")
    return Principal(
        arn, kind, account_id=acct, role_arn=role_arn, unique_id=unique_id, tags=tags, service_linked=service_linked
    )
