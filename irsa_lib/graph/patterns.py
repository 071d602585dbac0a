"""Coarse, conservative reading of raw policy documents, for candidate indexes only.

The graph must not evaluate every (principal, secret) or (role, role) pair. These helpers pull the
principals and resource patterns out of policy documents so that an index can name the few
candidates worth a full evaluation. They over-approximate (``NotAction``, ``NotResource``, policy
variables and anything unreadable count as "matches everything"); the evaluator then decides.
Nothing here is a decision.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any, Generic, TypeVar

from irsa_lib.policy.patterns import LITERAL_QMARK, LITERAL_STAR, Matcher, compile_glob

T = TypeVar("T")

EVERYTHING = "*"


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    raw = document.get("Statement", [])
    items = raw if isinstance(raw, list) else [raw]
    return [s for s in items if isinstance(s, Mapping)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def principal_values(document: Mapping[str, Any] | None, *, kinds: Iterable[str] = ("AWS",)) -> set[str]:
    """Principal strings of Allow statements (``*`` for ``"Principal": "*"``)."""
    wanted = set(kinds)
    out: set[str] = set()
    for st in statements(document):
        if st.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in st:
            out.add(EVERYTHING)
            continue
        p = st.get("Principal")
        if p == "*":
            out.add(EVERYTHING)
        elif isinstance(p, Mapping):
            for kind, values in p.items():
                if kind in wanted:
                    out.update(_strings(values))
    return out


AllowStatement = tuple[tuple[str, ...] | None, tuple[str, ...]]
"""An Allow statement as :func:`allowed_resource_patterns` reads it: its lower-case Action patterns
(None for NotAction: any action may be covered) and its Resource patterns (``*`` for NotResource or
no Resource)."""


def allow_statements(document: Mapping[str, Any] | None) -> tuple[AllowStatement, ...]:
    """The Allow statements of a document, read once for every set of actions asked about."""
    out: list[AllowStatement] = []
    for st in statements(document):
        if st.get("Effect") != "Allow":
            continue
        actions = None if "NotAction" in st else tuple(p.lower() for p in _strings(st.get("Action")))
        if "NotResource" in st or "Resource" not in st:
            resources: tuple[str, ...] = (EVERYTHING,)
        else:
            resources = tuple(_strings(st.get("Resource"))) or (EVERYTHING,)
        out.append((actions, resources))
    return tuple(out)


def covered_patterns(allows: Iterable[AllowStatement], actions: Iterable[str]) -> set[str]:
    """Resource patterns of the ``allows`` that may cover any of ``actions``."""
    wanted = [a.lower() for a in actions]
    out: set[str] = set()
    for patterns, resources in allows:
        if patterns is None or any(wildcard_match(p, a) for p in patterns for a in wanted):
            out.update(resources)
    return out


def allowed_resource_patterns(documents: Iterable[Mapping[str, Any] | None], actions: Iterable[str]) -> set[str]:
    """Resource patterns of Allow statements that may cover any of ``actions`` (``*`` = anything)."""
    return covered_patterns((st for doc in documents for st in allow_statements(doc)), actions)


@lru_cache(maxsize=65536)
def _glob(pattern: str) -> Matcher:
    """The pattern for the linear-time IAM matcher: a policy variable becomes ``*`` (anything), and the
    private-use characters that matcher reads as literal ``*``/``?`` become ``?`` (still over-approximate)."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "$" and pattern.startswith("${", i):
            end = pattern.find("}", i)
            parts.append("*")
            i = len(pattern) if end < 0 else end + 1
            continue
        parts.append("?" if c in (LITERAL_STAR, LITERAL_QMARK) else c)
        i += 1
    return compile_glob("".join(parts))


def wildcard_match(pattern: str, value: str) -> bool:
    """IAM-style ``*`` / ``?`` match; policy variables match anything (over-approximation)."""
    if "*" not in pattern and "?" not in pattern and "${" not in pattern:
        return pattern == value  # a literal: no pattern to compile (most Resource entries name one ARN)
    return _glob(pattern)(value)


def literal_prefix(pattern: str) -> str:
    """The characters before the first wildcard or policy variable."""
    cut = len(pattern)
    for mark in ("*", "?", "${"):
        i = pattern.find(mark)
        if i >= 0:
            cut = min(cut, i)
    return pattern[:cut]


class PrefixIndex(Generic[T]):
    """Items keyed by strings (ARNs), found by the patterns that may match them or their aliases.

    ``aliases`` of an item are other strings a pattern may match to select it (for a parameter:
    the ARNs of its ancestor paths, since GetParametersByPath is authorised on the path).
    """

    def __init__(self, items: Iterable[tuple[str, T, tuple[str, ...]]]) -> None:
        rows = sorted(items, key=lambda r: r[0])
        self._keys = [r[0] for r in rows]
        self._rows = rows
        self._positions: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def all(self) -> Iterator[T]:
        for _, item, _ in self._rows:
            yield item

    def _range(self, pattern: str) -> range:
        prefix = literal_prefix(pattern)
        lo = bisect.bisect_left(self._keys, prefix)
        return range(lo, bisect.bisect_left(self._keys, prefix + "\U0010ffff"))

    def _hit(self, i: int, pattern: str) -> bool:
        key, _, aliases = self._rows[i]
        return wildcard_match(pattern, key) or any(wildcard_match(pattern, a) for a in aliases)

    def matching(self, patterns: Iterable[str]) -> list[T]:
        seen: set[int] = set()
        out: list[T] = []
        for pattern in patterns:
            for i in self._range(pattern):
                if i not in seen and self._hit(i, pattern):
                    seen.add(i)
                    out.append(self._rows[i][1])
        return out

    def span(self, patterns: Iterable[str]) -> int:
        """How many items :meth:`matching` would try: the work of answering by pattern."""
        return sum(len(self._range(p)) for p in patterns)

    def position(self, item: T) -> int:
        """An item's place in key order (items are told apart by identity)."""
        if self._positions is None:
            self._positions = {id(row[1]): i for i, row in enumerate(self._rows)}
        return self._positions[id(item)]

    def matches(self, item: T, patterns: Iterable[str]) -> bool:
        """Whether :meth:`matching` would return ``item`` for ``patterns`` (asked of one item)."""
        i = self.position(item)
        return any(self._hit(i, p) for p in patterns)
