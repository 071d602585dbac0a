"""The self-contained request format of ``irsa simulate --request`` (and of the test cases).

::

    {"principal": {"arn": ..., "identity_policies": [doc, ...], "permissions_boundary": doc | null,
                   "session_policies": [doc, ...], "tags": {...}},
     "action": "ssm:GetParameter", "resource": "arn:...",
     "resource_policy": doc | null, "resource_account": "111122223333",
     "scps": [[doc, ...], ...], "rcps": [[doc, ...], ...],
     "grants": [ListGrants entries], "key_state": "Enabled", "resource_tags": {key: value}, "context": {key: value | [values]},
     "context_complete": false,
     "alias_keys": [{"arn": key ARN, "key_policy": doc, "grants": [...], "key_state": ...}, ...]}

A missing optional field means "none" (``key_state``: unknown, so not taken into account;
``resource_tags``: unknown, so ``aws:ResourceTag/*`` conditions stay unresolved; ``{}``: no tags). For KMS actions ``resource_policy`` is the key policy, for
``sts:AssumeRole*`` / ``sts:TagSession`` the trust policy (``resource_kind`` may say so explicitly).
A policy entry is a document, or ``{"source": name, "document": doc}`` to name it.
``alias_keys`` (KMS CreateAlias / UpdateAlias / DeleteAlias on an alias ARN): the keys the request
affects; the principal's identity policies, boundary, session policies and SCPs apply to them too.
Optional principal fields: ``kind``, ``account_id``, ``unique_id``, ``role_arn``, ``service_linked``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from irsa_lib.errors import IrsaError
from irsa_lib.model import Grant, GrantConstraints
from irsa_lib.policy.document import Policy, PolicyKind, parse_policy
from irsa_lib.policy.policyset import PolicySet, ResourceKind
from irsa_lib.policy.principals import infer_principal
from irsa_lib.policy.request import Principal, Request

_TOP = frozenset(
    {"principal", "action", "resource", "resource_policy", "resource_account", "resource_kind", "scps", "rcps",
     "grants", "key_state", "resource_tags", "context", "context_complete", "alias_keys"}
)  # fmt: skip
_PRINCIPAL = frozenset(
    {"arn", "identity_policies", "permissions_boundary", "session_policies", "tags", "kind", "account_id",
     "unique_id", "role_arn", "service_linked"}
)  # fmt: skip
_KINDS = ("generic", "kms-key", "role-trust")


class RequestError(IrsaError, ValueError):
    """A request description that cannot be evaluated; the message names the field."""


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RequestError(f"{where}: expected an object, not {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RequestError(f"{where}: expected a list, not {type(value).__name__}")
    return value


def _str(value: Any, where: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise RequestError(f"{where}: expected a non-empty string")
    return value


def _policy(entry: Any, where: str, kind: PolicyKind) -> Policy:
    source = where
    doc = entry
    if isinstance(entry, Mapping) and "document" in entry and "Statement" not in entry:
        source = str(entry.get("source") or where)
        doc = entry["document"]
    return parse_policy(doc, source=source, kind=kind)


def _grant(entry: Any, where: str) -> Grant:
    g = _obj(entry, where)
    c = g.get("Constraints")
    constraints = None
    if c is not None:
        c = _obj(c, f"{where}.Constraints")
        constraints = GrantConstraints(
            encryption_context_equals=c.get("EncryptionContextEquals"),
            encryption_context_subset=c.get("EncryptionContextSubset"),
        )
    ops = _list(g.get("Operations"), f"{where}.Operations")
    return Grant(
        grant_id=str(g.get("GrantId") or where),
        grantee_principal=_str(g.get("GranteePrincipal"), f"{where}.GranteePrincipal") or "",
        operations=tuple(str(o) for o in ops),
        name=g.get("Name"),
        retiring_principal=g.get("RetiringPrincipal"),
        issuing_account=g.get("IssuingAccount"),
        constraints=constraints,
    )


_ALIAS_KEY = frozenset({"arn", "key_policy", "grants", "key_state", "resource_account"})


def _alias_key(entry: Any, where: str, common: PolicySet) -> tuple[str, PolicySet]:
    """One key an alias request affects: its ARN and the policies deciding the action on it."""
    raw = _obj(entry, where)
    unknown = set(raw) - _ALIAS_KEY
    if unknown:
        raise RequestError(f"{where}: unknown field(s) {sorted(unknown)}")
    arn = _str(raw.get("arn"), f"{where}.arn") or ""
    doc = raw.get("key_policy")
    policies = dataclasses.replace(
        common,
        resource=_policy(doc, f"{where}.key_policy", "key") if doc else None,
        resource_kind="kms-key",
        resource_account=_str(raw.get("resource_account"), f"{where}.resource_account", optional=True),
        grants=tuple(
            _grant(g, f"{where}.grants[{i}]") for i, g in enumerate(_list(raw.get("grants"), f"{where}.grants"))
        ),
        key_state=_str(raw.get("key_state"), f"{where}.key_state", optional=True),
    )
    return arn, policies


def _tags(value: Any, where: str) -> dict[str, str] | None:
    if value is None:
        return None
    return {str(k): str(v) for k, v in _obj(value, where).items()}


def _principal(raw: Mapping[str, Any]) -> Principal:
    arn = _str(raw.get("arn"), "principal.arn") or ""
    tags = _obj(raw.get("tags") or {}, "principal.tags")
    p = infer_principal(
        arn,
        account_id=_str(raw.get("account_id"), "principal.account_id", optional=True),
        unique_id=_str(raw.get("unique_id"), "principal.unique_id", optional=True),
        tags={str(k): str(v) for k, v in tags.items()},
        role_arn=_str(raw.get("role_arn"), "principal.role_arn", optional=True),
        service_linked=bool(raw.get("service_linked", False)),
    )
    if "kind" in raw:
        kind = raw["kind"]
        if kind not in ("role", "user", "session", "service", "federated", "root"):
            raise RequestError(f"principal.kind: unknown kind {kind!r}")
        p = Principal(p.arn, kind, p.account_id, p.role_arn, p.unique_id, p.tags, p.service_linked)
    return p


def _resource_kind(data: Mapping[str, Any], action: str) -> ResourceKind:
    kind = data.get("resource_kind")
    if kind is not None:
        if kind not in _KINDS:
            raise RequestError(f"resource_kind: expected one of {', '.join(_KINDS)}, not {kind!r}")
        return kind
    low = action.lower()
    if low.startswith(("sts:assumerole", "sts:tagsession", "sts:setsourceidentity")):
        return "role-trust"
    if low.startswith("kms:"):
        return "kms-key"
    return "generic"


def load_request(data: Any, *, source: str = "<request>") -> tuple[Request, PolicySet]:
    """Read the request format into evaluator inputs; errors name the file and the field."""
    try:
        return _load(data)
    except RequestError as exc:
        raise RequestError(f"{source}: {exc}") from None
    except IrsaError as exc:
        raise RequestError(f"{source}: {exc}") from None


def _load(data: Any) -> tuple[Request, PolicySet]:
    data = _obj(data, "request")
    unknown = set(data) - _TOP
    if unknown:
        raise RequestError(f"unknown field(s) {sorted(unknown)}")
    praw = _obj(data.get("principal"), "principal")
    unknown = set(praw) - _PRINCIPAL
    if unknown:
        raise RequestError(f"principal: unknown field(s) {sorted(unknown)}")
    principal = _principal(praw)
    action = _str(data.get("action"), "action") or ""
    resource = _str(data.get("resource"), "resource") or ""
    ctx_raw = _obj(data.get("context") or {}, "context")
    context: dict[str, str | list[str]] = {}
    for k, v in ctx_raw.items():
        if isinstance(v, list):
            context[str(k)] = [str(x).lower() if isinstance(x, bool) else str(x) for x in v]
        elif isinstance(v, str | int | float):
            context[str(k)] = str(v).lower() if isinstance(v, bool) else str(v)
        else:
            raise RequestError(f"context.{k}: expected a string or a list of strings")
    complete = data.get("context_complete", False)
    if not isinstance(complete, bool):
        raise RequestError("context_complete: expected true or false")
    identity = [
        _policy(d, f"principal.identity_policies[{i}]", "identity")
        for i, d in enumerate(_list(praw.get("identity_policies"), "principal.identity_policies"))
    ]
    boundary_doc = praw.get("permissions_boundary")
    boundary = _policy(boundary_doc, "principal.permissions_boundary", "boundary") if boundary_doc else None
    session = [
        _policy(d, f"principal.session_policies[{i}]", "session")
        for i, d in enumerate(_list(praw.get("session_policies"), "principal.session_policies"))
    ]
    kind = _resource_kind(data, action)
    res_doc = data.get("resource_policy")
    pkind: PolicyKind = {"kms-key": "key", "role-trust": "trust"}.get(kind, "resource")  # type: ignore[assignment]
    resource_policy = _policy(res_doc, "resource_policy", pkind) if res_doc else None
    org: dict[str, list[list[Policy]] | None] = {}
    for name in ("scps", "rcps"):
        raw = data.get(name)
        if raw is None:
            org[name] = None
            continue
        org[name] = [
            [_policy(d, f"{name}[{i}][{j}]", name[:3]) for j, d in enumerate(_list(level, f"{name}[{i}]"))]  # type: ignore[arg-type]
            for i, level in enumerate(_list(raw, name))
        ]
    grants = tuple(_grant(g, f"grants[{i}]") for i, g in enumerate(_list(data.get("grants"), "grants")))
    common = PolicySet(identity=tuple(identity), boundary=boundary, session=tuple(session), scps=org["scps"])
    alias_keys = tuple(
        _alias_key(k, f"alias_keys[{i}]", common) for i, k in enumerate(_list(data.get("alias_keys"), "alias_keys"))
    )
    request = Request(principal, action, resource, context, complete)
    policies = PolicySet(
        identity=tuple(identity),
        boundary=boundary,
        session=tuple(session),
        resource=resource_policy,
        resource_account=_str(data.get("resource_account"), "resource_account", optional=True),
        resource_kind=kind,
        grants=grants,
        scps=org["scps"],
        rcps=org["rcps"],
        key_state=_str(data.get("key_state"), "key_state", optional=True),
        resource_tags=_tags(data.get("resource_tags"), "resource_tags"),
        alias_keys=alias_keys,
    )
    return request, policies
