"""How a parsed policy is written, for rules about a policy's *shape*.

Several findings are about how a statement is written (a trust with no ``sub`` condition, a
``name-*`` resource, a Deny that a by-path grant bypasses), not about one access decision. They
read the evaluator's own parsed documents (:mod:`irsa_lib.policy.document`), so statements,
principals, actions and conditions are understood exactly as the evaluator understands them, and
resource patterns are matched with its ARN matcher. Questions of effective access go to
:mod:`irsa_lib.findings.reach` (the evaluator) instead.

>>> from irsa_lib.policy import parse_policy
>>> p = parse_policy({"Statement": {"Sid": "Read", "Effect": "Allow", "Action": "ssm:Get*",
...                   "Resource": "arn:aws:ssm:*:1:parameter/app*"}}, source="app-policy")
>>> st = p.statements[0]
>>> ref(st), allows(st, "ssm:GetParameter"), written(p, st, "Resource")
('app-policy statement 0 (Read)', True, ('arn:aws:ssm:*:1:parameter/app*',))
>>> pattern_matches("arn:aws:ssm:*:1:parameter/app*", "arn:aws:ssm:us-east-1:1:parameter/app-admin/db")
True
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from irsa_lib.policy.arn import compile_arn_pattern
from irsa_lib.policy.conditions import Condition
from irsa_lib.policy.document import Policy, Statement
from irsa_lib.policy.patterns import unmark
from irsa_lib.policy.variables import render_template

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


def ref(st: Statement) -> str:
    """Where a statement is, for evidence: ``source statement 0 (Sid)``."""
    sid = f" ({st.ref.sid})" if st.ref.sid else ""
    return f"{st.ref.source} statement {st.ref.index}{sid}"


def allows(st: Statement, action: str) -> bool:
    """An Allow statement whose Action (or NotAction) covers ``action``."""
    return st.effect == "Allow" and st.matches_action(action.lower())


def denies(st: Statement, action: str) -> bool:
    """A Deny statement whose Action (or NotAction) covers ``action``."""
    return st.effect == "Deny" and st.matches_action(action.lower())


def written(policy: Policy, st: Statement, element: str) -> tuple[str, ...]:
    """An element of the statement as written (``Resource``, ``NotResource``...), as strings.

    Compiled matchers do not keep their text; evidence and shape checks need it.
    """
    raw = policy.document.get("Statement") if isinstance(policy.document, Mapping) else None
    items: list[Any] = raw if isinstance(raw, list) else [raw] if raw is not None else []
    if st.ref.index >= len(items) or not isinstance(items[st.ref.index], Mapping):
        return ()
    value = items[st.ref.index].get(element)
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def pattern_matches(pattern: str, arn: str) -> bool:
    """Whether a Resource pattern covers ``arn``, as IAM matches it (component by component)."""
    return compile_arn_pattern(pattern)(arn)


def literal_prefix(pattern: str) -> str:
    """What every ARN :func:`pattern_matches` accepts starts with: the text before the first ``*`` or ``?``.

    IAM matches the characters before the first wildcard literally and case-sensitively, in every
    component (``compile_arn_pattern``), so the prefix narrows the candidates without deciding.

    >>> literal_prefix("arn:aws:ssm:*:1:parameter/app*"), literal_prefix("arn:aws:ssm:us-east-1:1:parameter/a/?")
    ('arn:aws:ssm:', 'arn:aws:ssm:us-east-1:1:parameter/a/')
    """
    cut = len(pattern)
    for mark in ("*", "?"):
        i = pattern.find(mark)
        if 0 <= i < cut:
            cut = i
    return unmark(pattern[:cut])


T = TypeVar("T")


class ArnIndex(Generic[T]):
    """Records by ARN, found by the Resource patterns that match them (:func:`pattern_matches`).

    A pattern is tried only on the ARNs sharing its literal prefix (found by bisection), so a
    pattern naming one service's subtree costs that subtree, not the whole snapshot. Answers keep
    the order the records were given in, and are cached per pattern.

    >>> idx = ArnIndex([("arn:aws:ssm:r:1:parameter/b/x", "bx"), ("arn:aws:ssm:r:1:parameter/a/x", "ax")])
    >>> idx.matching("arn:aws:ssm:*:1:parameter/*"), idx.matching("arn:aws:ssm:r:1:parameter/a/*")
    (['bx', 'ax'], ['ax'])
    """

    def __init__(self, items: Iterable[tuple[str, T]]) -> None:
        self._items = list(items)
        order = sorted(range(len(self._items)), key=lambda i: self._items[i][0])
        self._keys = [self._items[i][0] for i in order]
        self._order = order
        self._hits: dict[str, tuple[list[int], list[T]]] = {}

    def _positions(self, pattern: str) -> tuple[list[int], list[T]]:
        hit = self._hits.get(pattern)
        if hit is None:
            prefix = literal_prefix(pattern)
            found: list[int] = []
            i = bisect.bisect_left(self._keys, prefix)
            while i < len(self._keys) and self._keys[i].startswith(prefix):
                if pattern_matches(pattern, self._keys[i]):
                    found.append(self._order[i])
                i += 1
            found.sort()
            hit = self._hits[pattern] = (found, [self._items[j][1] for j in found])
        return hit

    def matching(self, pattern: str) -> list[T]:
        """The records whose ARN the pattern matches, in the order given (shared: do not change it)."""
        return self._positions(pattern)[1]

    def matching_any(self, patterns: Iterable[str]) -> list[T]:
        """The records whose ARN one of the patterns matches, each once, in the order given."""
        found = sorted({i for pat in patterns for i in self._positions(pat)[0]})
        return [self._items[i][1] for i in found]


def values(c: Condition) -> tuple[str, ...]:
    """A condition's values as written (policy variables shown as ``${...}``)."""
    return tuple(unmark(v) if isinstance(v, str) else render_template(v) for v in c.values)


def restricts(c: Condition) -> bool:
    """True for operators that admit only listed values (not negated, not ``Null``)."""
    return not c.negated and c.base != "null"


def conditions_on(st: Statement, key: str) -> tuple[Condition, ...]:
    """The statement's conditions on ``key`` (names are case-insensitive)."""
    k = key.lower()
    return tuple(c for c in st.conditions if c.key == k)


def open_principal(st: Statement) -> bool:
    """``Principal: "*"`` or ``{"AWS": "*"}``."""
    return st.principal is not None and not st.not_principal and (st.principal.everyone or st.principal.aws_wildcard)


def named_accounts(st: Statement) -> frozenset[str]:
    """Accounts the Principal names (``arn:aws:iam::A:root`` or ``A``)."""
    return st.principal.accounts if st.principal is not None and not st.not_principal else frozenset()


def wildcard_grant(policy: Policy, action: str, arn: str) -> str | None:
    """The statement of ``policy`` allowing ``action`` on ``arn`` through a pattern (not the ARN itself).

    Covers Resource patterns that match ``arn`` without naming it, and NotResource lists that do
    not exclude it; returns the evidence line, or None.
    """
    for st in policy.statements:
        if not allows(st, action) or st.resources is None:
            continue
        if st.resources.negated:
            excluded = written(policy, st, "NotResource")
            if not any(pattern_matches(r, arn) for r in excluded):
                return f"{ref(st)} allows {action} on NotResource {list(excluded)}"
            continue
        pats = [r for r in written(policy, st, "Resource") if r != arn and pattern_matches(r, arn)]
        if pats:
            return f"{ref(st)} allows {action} on {pats}"
    return None
