"""Reading policy documents statement by statement, for rules about a policy's *shape*.

Several findings are about how a policy is written (a trust with no ``sub`` condition, a
``name-*`` resource), not about a single access decision; those read statements here. Questions of
effective access go to the evaluator (``irsa_lib.policy``) instead. Reading is lenient: a statement
that is not an object is skipped, since judging malformed policies is the evaluator's job.

>>> doc = {"Statement": {"Effect": "Allow", "Action": "ssm:Get*", "Resource": "*"}}
>>> [s.effect for s in statements(doc)]
['Allow']
>>> action_matches(statements(doc)[0], "ssm:GetParameter")
True
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

LIMITING_TRUST_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "sts:externalid",
    }
)
"""Condition keys that narrow an open (``*``) principal to known callers."""

NEGATED_PREFIXES = ("stringnot", "arnnot", "notipaddress")


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str | int | bool))
    return (str(value),)


@dataclass(frozen=True)
class Condition:
    """One operator/key pair of a Condition block, e.g. ``StringLike`` on ``<issuer>:sub``."""

    operator: str
    key: str
    values: tuple[str, ...]

    @property
    def base_operator(self) -> str:
        """Operator without ``ForAnyValue:``/``ForAllValues:`` and ``IfExists``, lower-cased."""
        op = self.operator.split(":", 1)[-1].lower()
        return op.removesuffix("ifexists")

    @property
    def negated(self) -> bool:
        return self.base_operator.startswith(NEGATED_PREFIXES)

    @property
    def restricts(self) -> bool:
        """True for operators that admit only listed values (not negated, not ``Null``)."""
        return not self.negated and self.base_operator != "null"

    def describe(self) -> str:
        return f"{self.operator} {self.key} = {list(self.values)}"


@dataclass(frozen=True)
class Statement:
    """A statement with every element normalised to tuples."""

    source: str
    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """``{"AWS": (...), "Federated": (...), "Service": (...)}``; ``{"*": ("*",)}`` for ``Principal: "*"``."""
    has_principal: bool = False
    conditions: tuple[Condition, ...] = ()

    @property
    def ref(self) -> str:
        """Where the statement is, for evidence: ``source statement 0 (Sid)``."""
        sid = f" ({self.sid})" if self.sid else ""
        return f"{self.source} statement {self.index}{sid}"

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def principal_values(self, kind: str) -> tuple[str, ...]:
        return self.principals.get(kind, ())

    @property
    def open_principal(self) -> bool:
        """``Principal: "*"`` or ``{"AWS": "*"}``."""
        return "*" in self.principal_values("*") or "*" in self.principal_values("AWS")

    def conditions_on(self, key: str) -> tuple[Condition, ...]:
        k = key.lower()
        return tuple(c for c in self.conditions if c.key.lower() == k)

    def condition_keys(self) -> frozenset[str]:
        return frozenset(c.key.lower() for c in self.conditions)


def statements(document: Mapping[str, Any] | None, *, source: str = "policy") -> list[Statement]:
    """The statements of a policy document (a single statement object counts as one)."""
    if not isinstance(document, Mapping):
        return []
    raw = document.get("Statement", ())
    items = [raw] if isinstance(raw, Mapping) else list(raw) if isinstance(raw, list) else []
    out = []
    for i, st in enumerate(items):
        if not isinstance(st, Mapping):
            continue
        principals: dict[str, tuple[str, ...]] = {}
        p = st.get("Principal")
        if p == "*":
            principals["*"] = ("*",)
        elif isinstance(p, Mapping):
            principals = {str(k): _strings(v) for k, v in p.items()}
        conds: list[Condition] = []
        block = st.get("Condition")
        if isinstance(block, Mapping):
            for op, kv in block.items():
                if isinstance(kv, Mapping):
                    conds.extend(Condition(str(op), str(k), _strings(v)) for k, v in kv.items())
        sid = st.get("Sid")
        out.append(
            Statement(
                source=source,
                index=i,
                sid=str(sid) if sid else None,
                effect=str(st.get("Effect", "")),
                actions=_strings(st.get("Action")),
                not_actions=_strings(st.get("NotAction")),
                resources=_strings(st.get("Resource")),
                not_resources=_strings(st.get("NotResource")),
                principals=principals,
                has_principal="Principal" in st,
                conditions=tuple(conds),
            )
        )
    return out


@lru_cache(maxsize=4096)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def glob_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM wildcard match: ``*`` any run of characters, ``?`` exactly one, all else literal.

    >>> glob_match("parameter/app*", "parameter/app-other/db")
    True
    >>> glob_match("secret:db-??????", "secret:db-AbC123")
    True
    >>> glob_match("a+b", "aab")
    False
    """
    return _glob(pattern, case_sensitive).fullmatch(value) is not None


def action_matches(st: Statement, action: str) -> bool:
    """Whether the statement's Action (or NotAction) covers ``action`` (case-insensitive)."""
    if st.actions:
        return any(glob_match(a, action, case_sensitive=False) for a in st.actions)
    if st.not_actions:
        return not any(glob_match(a, action, case_sensitive=False) for a in st.not_actions)
    return False


def resource_matches(st: Statement, arn: str) -> bool:
    """Whether the statement's Resource (or NotResource) covers ``arn`` (case-sensitive)."""
    if st.resources:
        return any(glob_match(r, arn) for r in st.resources)
    if st.not_resources:
        return not any(glob_match(r, arn) for r in st.not_resources)
    return False


def matching_resources(st: Statement, arn: str) -> tuple[str, ...]:
    """The Resource patterns of the statement that cover ``arn``."""
    return tuple(r for r in st.resources if glob_match(r, arn))


def iter_allows(docs: Mapping[str, Mapping[str, Any]], action: str) -> Iterator[Statement]:
    """Allow statements (of documents keyed by source) whose action covers ``action``."""
    for source, doc in docs.items():
        for st in statements(doc, source=source):
            if st.allow and action_matches(st, action):
                yield st
