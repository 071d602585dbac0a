"""The request context as conditions see it: given keys plus keys derived from the principal.

Condition key names are case-insensitive, so every key is looked up in lower case. Keys about
the principal (``aws:PrincipalArn``, ``aws:PrincipalTag/*``...) are known from the principal
itself: when the principal has no such value the key is absent, even in an incomplete context.
``kms:CallerAccount`` is the principal's account on a KMS request; a web identity request carries
no claim keys of other identity providers. Any other key not given is
``unknown`` when the context is incomplete and ``absent`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

from irsa_lib.policy.request import ContextValue, Principal, Request
from irsa_lib.policy.variables import KeyStatus

_PRINCIPAL_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:username",
        "aws:userid",
        "aws:principaltype",
        "aws:principalisawsservice",
        "aws:principalservicename",
    }
)
_TAG_PREFIX = "aws:principaltag/"
_CALLER_ACCOUNT = "kms:calleraccount"
"""Known from the principal on every KMS request (KMS dev guide conditions-kms: the caller's account)."""
_IAM_KINDS = frozenset({"role", "user", "session", "root"})
_ABSENT: tuple[KeyStatus, tuple[str, ...]] = ("absent", ())
_UNKNOWN: tuple[KeyStatus, tuple[str, ...]] = ("unknown", ())


def _values(value: ContextValue) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, int | float):
        return (str(value),)
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in value)


def principal_key(key: str) -> bool:
    """Whether a (lower-case) condition key is filled in from the principal making the request."""
    return key in _PRINCIPAL_KEYS or key.startswith(_TAG_PREFIX)


def session_role_arn(session_arn: str) -> str | None:
    """``arn:aws:iam::A:role/NAME`` for ``arn:aws:sts::A:assumed-role/NAME/SESSION`` (path unknown)."""
    parts = session_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("assumed-role/"):
        return None
    segs = parts[5].split("/")
    if len(segs) < 3:
        return None
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{segs[1]}"


def derived_keys(principal: Principal) -> dict[str, tuple[str, ...]]:
    """Condition keys AWS fills in from the principal making the request (lower-case names)."""
    kind = principal.kind
    out: dict[str, tuple[str, ...]] = {}
    if kind == "service":
        out["aws:principalisawsservice"] = ("true",)
        out["aws:principalservicename"] = (principal.arn,)
        return out
    if kind == "federated":
        return out
    out["aws:principalisawsservice"] = ("false",)
    if principal.account_id:
        out["aws:principalaccount"] = (principal.account_id,)
    for k, v in principal.tags.items():
        out[_TAG_PREFIX + k.lower()] = (v,)
    if kind == "user":
        out["aws:principalarn"] = (principal.arn,)
        out["aws:principaltype"] = ("User",)
        out["aws:username"] = (principal.arn.rsplit("/", 1)[-1],)
        if principal.unique_id:
            out["aws:userid"] = (principal.unique_id,)
    elif kind in ("role", "session"):
        role_arn = principal.role_arn or (principal.arn if kind == "role" else session_role_arn(principal.arn))
        if role_arn:
            out["aws:principalarn"] = (role_arn,)
        out["aws:principaltype"] = ("AssumedRole",)
        if kind == "session" and principal.unique_id:
            out["aws:userid"] = (f"{principal.unique_id}:{principal.arn.rsplit('/', 1)[-1]}",)
    elif kind == "root":
        out["aws:principalarn"] = (principal.arn,)
        out["aws:principaltype"] = ("Account",)
        if principal.account_id:
            out["aws:userid"] = (principal.account_id,)
    return out


def _foreign_claim(key: str, provider: str) -> bool:
    """Whether ``key`` is a claim key of an identity provider other than ``provider``.

    Web identity keys are ``<provider-url>:<claim>`` (``oidc.eks.<r>.amazonaws.com/id/X:sub``,
    ``accounts.google.com:aud``); service keys (``aws:``, ``sts:``...) have no dot in their prefix.
    A token from one provider carries none of another provider's claims.
    """
    prefix = key.split(":", 1)[0]
    if "." not in prefix:
        return False
    own = provider.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in provider else provider
    return prefix != own.lower()


SERVICE_RESOURCE_TAG = {
    "ssm": "ssm:resourcetag/",
    "secretsmanager": "secretsmanager:resourcetag/",
    "iam": "iam:resourcetag/",
}
"""Services with their own resource tag key besides ``aws:ResourceTag/`` (Service Authorization Reference:
``ssm:resourceTag/tag-key``, ``secretsmanager:ResourceTag/tag-key``, ``iam:ResourceTag/${TagKey}``)."""


def resource_tag_prefixes(service: str) -> tuple[str, ...]:
    """The (lower-case) condition key prefixes a resource of ``service`` resolves from its tags."""
    own = SERVICE_RESOURCE_TAG.get(service)
    return ("aws:resourcetag/", own) if own else ("aws:resourcetag/",)


def resource_tag_keys(tags: Mapping[str, str], service: str) -> dict[str, tuple[str, ...] | None]:
    """Condition keys (lower case) the tags of a resource of ``service`` resolve; None marks a tag key
    that differs from another only in case (which of them a condition means is not known)."""
    out: dict[str, tuple[str, ...] | None] = {}
    for k, v in tags.items():
        for prefix in resource_tag_prefixes(service):
            key = prefix + k.lower()
            out[key] = None if key in out else (v,)
    return out


class RequestContext:
    """Lookups of condition keys for one request (three-valued: present / absent / unknown).

    ``resource_tags``: the tags of the resource, when known; then ``aws:ResourceTag/<key>`` (and the
    resource's service's own tag key) is present for a tag the resource has and absent otherwise.
    """

    __slots__ = ("_derived", "_given", "_kms", "_names", "_resource_service", "_resource_tags", "complete", "principal")

    def __init__(self, request: Request, resource_tags: Mapping[str, str] | None = None) -> None:
        self.principal = request.principal
        self.complete = request.context_complete
        self._kms = request.action[:4].lower() == "kms:"
        given: dict[str, tuple[str, ...]] = {}
        names: dict[str, str] = {}
        ctx: Mapping[str, ContextValue] = request.context
        for k, v in ctx.items():
            lk = k.lower()
            given[lk] = _values(v)
            names[lk] = k
        self._given = given
        self._names = names
        self._derived: dict[str, tuple[str, ...]] | None = None
        parts = request.resource.split(":", 3)
        self._resource_service = parts[2].lower() if len(parts) > 3 and parts[0] == "arn" else ""
        self._resource_tags = (
            None if resource_tags is None else resource_tag_keys(resource_tags, self._resource_service)
        )

    def lookup(self, key: str) -> tuple[KeyStatus, tuple[str, ...]]:
        """The status and values of a (lower-case) key."""
        vals = self._given.get(key)
        if vals is not None:
            return ("present", vals) if vals else _ABSENT
        if key in _PRINCIPAL_KEYS or key.startswith(_TAG_PREFIX):
            if self._derived is None:
                self._derived = derived_keys(self.principal)
            vals = self._derived.get(key)
            if vals is not None:
                return ("present", vals)
            if key == "aws:userid" and self.principal.kind == "role" and not self.complete:
                return _UNKNOWN
            return _ABSENT
        if self._resource_tags is not None and key.startswith(resource_tag_prefixes(self._resource_service)):
            if key not in self._resource_tags:
                return _ABSENT
            tag = self._resource_tags[key]
            if tag is not None:
                return ("present", tag)
        if self.principal.kind == "federated" and _foreign_claim(key, self.principal.arn):
            return _ABSENT
        if key == _CALLER_ACCOUNT and self._kms and self.principal.kind in _IAM_KINDS and self.principal.account_id:
            return ("present", (self.principal.account_id,))
        return _ABSENT if self.complete else _UNKNOWN

    def given_with_prefix(self, prefix: str) -> dict[str, tuple[str, ...]]:
        """Given keys starting with a lower-case prefix, by their original-case names."""
        return {self._names[k]: v for k, v in self._given.items() if k.startswith(prefix)}
