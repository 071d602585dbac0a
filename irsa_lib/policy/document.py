"""Policy documents: validation and compilation into statements that evaluate fast.

``parse_policy`` checks the grammar for the policy's kind (a trust policy needs a Principal and
may not use NotPrincipal; an identity policy may have neither) and compiles every pattern once.
A malformed document raises :class:`PolicyError` naming the source and the statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from irsa_lib.nesting import TooDeep, json_loads
from irsa_lib.policy.conditions import Condition, ConditionSyntaxError, parse_conditions
from irsa_lib.policy.decision import StatementRef
from irsa_lib.policy.errors import PolicyError
from irsa_lib.policy.patterns import Matcher, compile_glob
from irsa_lib.policy.principals import PrincipalSpec, PrincipalSyntaxError, parse_principal
from irsa_lib.policy.resources import ResourceMatcher, compile_resources

PolicyKind = Literal["identity", "resource", "trust", "key", "scp", "rcp", "boundary", "session"]
KINDS: tuple[str, ...] = ("identity", "resource", "trust", "key", "scp", "rcp", "boundary", "session")
_VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
_PRINCIPAL_KINDS = frozenset({"resource", "trust", "key", "rcp"})
_NOT_PRINCIPAL_KINDS = frozenset({"resource", "key"})
_RESOURCE_REQUIRED = frozenset({"identity", "boundary", "session"})


@dataclass(frozen=True, eq=False)
class Statement:
    """A compiled statement; ``ref`` names it in decisions."""

    ref: StatementRef
    effect: Literal["Allow", "Deny"]
    actions: tuple[Matcher, ...]
    not_action: bool
    resources: ResourceMatcher | None
    """None: no Resource element (the statement covers the policy's own resource)."""
    principal: PrincipalSpec | None
    not_principal: bool
    conditions: tuple[Condition, ...]

    def matches_action(self, action: str) -> bool:
        """Whether the (lower-case) action is covered by Action / not excluded by NotAction."""
        hit = any(m(action) for m in self.actions)
        return hit != self.not_action


@dataclass(frozen=True, eq=False)
class Policy:
    """A validated, compiled policy document."""

    source: str
    kind: PolicyKind
    version: str | None
    statements: tuple[Statement, ...]
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _by_action: dict[str, tuple[Statement, ...]] = field(default_factory=dict, repr=False)

    def statements_for(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action / NotAction covers ``action`` (cached per action)."""
        key = action.lower()
        found = self._by_action.get(key)
        if found is None:
            found = tuple(s for s in self.statements if s.matches_action(key))
            self._by_action[key] = found
        return found


def combine_policies(policies: list[Policy], *, source: str, kind: PolicyKind) -> Policy:
    """Several documents acting as one (e.g. a parameter's resource policies); statements keep their source."""
    stmts = tuple(s for p in policies for s in p.statements)
    return Policy(source=source, kind=kind, version=None, statements=stmts)


def _strings(value: Any, what: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError(f"{what} must not be empty")
    for v in items:
        if not isinstance(v, str) or not v:
            raise ValueError(f"{what} must be a non-empty string or a list of them, found {v!r}")
    return items


def _compile_actions(value: Any, what: str) -> tuple[Matcher, ...]:
    out = []
    for a in _strings(value, what):
        if a != "*" and (":" not in a or a.startswith(":")):
            raise ValueError(f"{what} {a!r} is not '*' or 'service:action'")
        out.append(compile_glob(a, ignore_case=True))
    return tuple(out)


def _statement(raw: Any, i: int, source: str, kind: PolicyKind, variables: bool) -> Statement:
    sid = raw.get("Sid") if isinstance(raw, Mapping) else None
    where = f"{source}: Statement[{i}]" + (f" (Sid {sid!r})" if isinstance(sid, str) and sid else "")
    try:
        if not isinstance(raw, Mapping):
            raise ValueError(f"must be an object, not {type(raw).__name__}")
        unknown = set(raw) - _STATEMENT_KEYS
        if unknown:
            raise ValueError(f"unknown element(s) {sorted(map(str, unknown))}")
        if sid is not None and not isinstance(sid, str):
            raise ValueError("Sid must be a string")
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f'Effect must be "Allow" or "Deny", not {effect!r}')
        if ("Action" in raw) == ("NotAction" in raw):
            raise ValueError("needs exactly one of Action or NotAction")
        not_action = "NotAction" in raw
        actions = _compile_actions(
            raw["NotAction" if not_action else "Action"], "NotAction" if not_action else "Action"
        )
        if "Resource" in raw and "NotResource" in raw:
            raise ValueError("has both Resource and NotResource")
        resources = None
        if "Resource" in raw or "NotResource" in raw:
            neg = "NotResource" in raw
            name = "NotResource" if neg else "Resource"
            resources = compile_resources(_strings(raw[name], name), negated=neg, variables=variables)
        elif kind in _RESOURCE_REQUIRED:
            raise ValueError(f"needs Resource or NotResource in a {kind} policy")
        if "Principal" in raw and "NotPrincipal" in raw:
            raise ValueError("has both Principal and NotPrincipal")
        has_principal = "Principal" in raw or "NotPrincipal" in raw
        if kind in _PRINCIPAL_KINDS and not has_principal:
            raise ValueError(f"needs a Principal in a {kind} policy")
        if kind not in _PRINCIPAL_KINDS and has_principal:
            raise ValueError(f"a {kind} policy cannot name a Principal")
        not_principal = "NotPrincipal" in raw
        if not_principal and kind not in _NOT_PRINCIPAL_KINDS:
            raise ValueError(f"NotPrincipal is not allowed in a {kind} policy")
        principal = parse_principal(raw["NotPrincipal" if not_principal else "Principal"]) if has_principal else None
        conditions = parse_conditions(raw["Condition"], variables=variables) if "Condition" in raw else ()
    except (ValueError, PrincipalSyntaxError, ConditionSyntaxError) as exc:
        raise PolicyError(f"{where}: {exc}") from None
    ref = StatementRef(source=source, index=i, sid=sid or None, effect=effect, layer=kind)
    return Statement(ref, effect, actions, not_action, resources, principal, not_principal, conditions)


def parse_policy(document: Mapping[str, Any] | str, *, source: str, kind: PolicyKind = "identity") -> Policy:
    """Validate and compile a policy document (a decoded JSON object, or its JSON text)."""
    if kind not in KINDS:
        raise PolicyError(f"{source}: unknown policy kind {kind!r}")
    if isinstance(document, str):
        try:
            document = json_loads(document)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{source}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except TooDeep as exc:
            raise PolicyError(f"{source}: {exc}") from None
    if not isinstance(document, Mapping):
        raise PolicyError(f"{source}: a policy document must be a JSON object, not {type(document).__name__}")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyError(f"{source}: unknown top-level element(s) {sorted(map(str, unknown))}")
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyError(f"{source}: Version must be one of {', '.join(_VERSIONS)}, not {version!r}")
    if "Statement" not in document:
        raise PolicyError(f"{source}: no Statement element")
    raw = document["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    variables = version == "2012-10-17"
    statements = tuple(_statement(s, i, source, kind, variables) for i, s in enumerate(items))
    return Policy(source=source, kind=kind, version=version, statements=statements, document=document)
