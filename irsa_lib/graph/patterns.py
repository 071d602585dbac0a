"""Coarse, conservative reading of raw policy documents, for candidate indexes only.

The graph must not evaluate every (principal, secret) or (role, role) pair. These helpers pull the
principals and resource patterns out of policy documents so that an index can name the few
candidates worth a full evaluation. They over-approximate (``NotAction``, ``NotResource``, policy
variables and anything unreadable count as "matches everything"); the evaluator then decides.
Nothing here is a decision.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any, Generic, TypeVar

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


def allowed_resource_patterns(documents: Iterable[Mapping[str, Any] | None], actions: Iterable[str]) -> set[str]:
    """Resource patterns of Allow statements that may cover any of ``actions`` (``*`` = anything)."""
    wanted = [a.lower() for a in actions]
    out: set[str] = set()
    for doc in documents:
        for st in statements(doc):
            if st.get("Effect") != "Allow":
                continue
            if "NotAction" in st:
                hit = True
            else:
                hit = any(wildcard_match(p.lower(), a) for p in _strings(st.get("Action")) for a in wanted)
            if not hit:
                continue
            if "NotResource" in st or "Resource" not in st:
                out.add(EVERYTHING)
            else:
                out.update(_strings(st.get("Resource")) or [EVERYTHING])
    return out


@lru_cache(maxsize=65536)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "$" and pattern.startswith("${", i):
            end = pattern.find("}", i)
            parts.append(".*")
            i = len(pattern) if end < 0 else end + 1
            continue
        parts.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def wildcard_match(pattern: str, value: str) -> bool:
    """IAM-style ``*`` / ``?`` match; policy variables match anything (over-approximation)."""
    return _compiled(pattern).fullmatch(value) is not None


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

    def __len__(self) -> int:
        return len(self._rows)

    def all(self) -> Iterator[T]:
        for _, item, _ in self._rows:
            yield item

    def matching(self, patterns: Iterable[str]) -> list[T]:
        seen: set[int] = set()
        out: list[T] = []
        for pattern in patterns:
            prefix = literal_prefix(pattern)
            lo = bisect.bisect_left(self._keys, prefix)
            hi = bisect.bisect_left(self._keys, prefix + "\U0010ffff")
            for i in range(lo, hi):
                if i in seen:
                    continue
                key, item, aliases = self._rows[i]
                if wildcard_match(pattern, key) or any(wildcard_match(pattern, a) for a in aliases):
                    seen.add(i)
                    out.append(item)
        return out
