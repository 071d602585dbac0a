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
from typing import Any, Literal

from irsa_lib.policy.context import session_role_arn
from irsa_lib.policy.errors import PolicyError
from irsa_lib.policy.request import Principal

MatchKind = Literal["direct", "role", "account", "wildcard"]
_ACCOUNT = re.compile(r"^\d{12}$")
_ROOT = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")
_UNIQUE = re.compile(r"^A[A-Z]{3}[A-Z0-9]{8,}$")
_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")


class PrincipalSyntaxError(ValueError):
    """A Principal element that is not valid policy grammar."""


@dataclass(frozen=True)
class PrincipalSpec:
    """A compiled Principal / NotPrincipal element."""

    everyone: bool = False
    """``"Principal": "*"``: every principal, AWS services included."""
    aws_wildcard: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    """Role and user ARNs, lower case (IAM resolves them to the entity, case-insensitively)."""
    sessions: frozenset[str] = frozenset()
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
            if p.arn in self.sessions:
                return "direct"
            role = p.role_arn or session_role_arn(p.arn)
            if (role and role.lower() in self.arns) or (p.unique_id and p.unique_id in self.unique_ids):
                return "role"
        elif kind == "role":
            if p.arn.lower() in self.arns or (p.unique_id and p.unique_id in self.unique_ids):
                return "role"
        elif kind == "user":
            if p.arn.lower() in self.arns or (p.unique_id and p.unique_id in self.unique_ids):
                return "direct"
        elif kind == "root" and p.arn.lower() in self.arns:
            return "account"
        if p.account_id and p.account_id in self.accounts:
            return "account"
        if self.aws_wildcard:
            return "wildcard"
        return None

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
                elif ":assumed-role/" in v:
                    sessions.add(v)
                elif v.startswith("arn:") and (":role/" in v or ":user/" in v):
                    arns.add(v.lower())
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
    return Principal(
        arn, kind, account_id=acct, role_arn=role_arn, unique_id=unique_id, tags=tags, service_linked=service_linked
    )
