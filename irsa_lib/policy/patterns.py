"""Wildcard patterns as IAM reads them: ``*`` is any run of characters, ``?`` exactly one.

Every other character is literal (``+``, ``(``, ``.`` and ``[`` included). Patterns come from the
policies being analysed, so they are hostile input: matching never uses a regular expression (a
backtracking engine takes exponential time on ``*a*a*a*...`` against a long name). A pattern is cut
at its ``*`` into segments; the first must match at the start, the last at the end, and each one in
between at its leftmost place after the previous one (taking the leftmost place never loses a match,
since whatever follows may start later but not earlier). Each segment is found with ``str.find`` on
its longest literal run; a segment with ``?`` whose run occurs often where the segment does not match
reads the rest of the name once with a shift-and automaton. A match costs O(pattern + name) steps
(shift-and's steps are integer operations on a pattern-sized bit set).
Each distinct pattern is compiled once and cached; plain strings and simple prefixes get fast paths.

>>> match = compile_glob("parameter/app-*")
>>> match("parameter/app-x/y"), match("parameter/other")
(True, False)
>>> compile_glob("a+b(")("a+b(")
True
>>> compile_glob("SSM:Get*", ignore_case=True)("ssm:getparameter")
True
>>> compile_glob("*a*a*a*a*a*b")("a" * 1000)
False
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

Matcher = Callable[[str], bool]

LITERAL_STAR = "\ue000"
"""Stands for a ``*`` that must match literally (from ``${*}`` or a substituted variable value)."""
LITERAL_QMARK = "\ue001"
"""Stands for a ``?`` that must match literally."""
_UNSENTINEL = str.maketrans({LITERAL_STAR: "*", LITERAL_QMARK: "?"})
_SENTINEL = str.maketrans({"*": LITERAL_STAR, "?": LITERAL_QMARK})


def literal(text: str) -> str:
    """``text`` with its ``*`` and ``?`` marked as literal characters for :func:`compile_glob`."""
    return text.translate(_SENTINEL)


def unmark(text: str) -> str:
    """``text`` with literal-marked ``*`` and ``?`` turned back into plain characters."""
    return text.translate(_UNSENTINEL)


def has_wildcard(pattern: str) -> bool:
    """True when the pattern contains ``*`` or ``?``."""
    return "*" in pattern or "?" in pattern


def _always(_value: str) -> bool:
    return True


_MISSES = 8
"""Candidates a segment with ``?`` may reject before its search switches to one shift-and pass."""


@dataclass(frozen=True)
class _Segment:
    """A run of the pattern between two ``*``: literal pieces at fixed offsets, ``?`` in the gaps."""

    size: int
    pieces: tuple[tuple[int, str], ...]
    """(offset, literal text); the characters not covered are ``?``."""
    anchor: int
    """Index in ``pieces`` of the longest piece: the one searched for."""
    masks: dict[str, int]
    """Shift-and masks: bit p is set for a character the segment admits at position p."""
    wild: int
    """The mask of a character the segment names nowhere: its ``?`` positions."""

    @classmethod
    def parse(cls, text: str) -> _Segment:
        pieces: list[tuple[int, str]] = []
        start = 0
        for i, ch in enumerate(text + "?"):
            if ch == "?":
                if i > start:
                    pieces.append((start, unmark(text[start:i])))
                start = i + 1
        anchor = max(range(len(pieces)), key=lambda k: len(pieces[k][1])) if pieces else -1
        wild = sum(1 << i for i, ch in enumerate(text) if ch == "?")
        masks: dict[str, int] = {}
        for off, piece in pieces:
            for i, ch in enumerate(piece):
                masks[ch] = masks.get(ch, wild) | 1 << (off + i)
        return cls(len(text), tuple(pieces), anchor, masks, wild)

    @property
    def literal(self) -> str | None:
        """The segment's text when it has no ``?`` (and is not empty), else None."""
        if len(self.pieces) == 1 and len(self.pieces[0][1]) == self.size:
            return self.pieces[0][1]
        return None

    def at(self, value: str, i: int) -> bool:
        """Does the segment match ``value`` at offset ``i`` (which leaves room for it)?"""
        return all(value.startswith(text, i + off) for off, text in self.pieces)

    def find(self, value: str, start: int, stop: int) -> int:
        """The leftmost ``i`` in ``[start, stop - size]`` where the segment matches, else -1.

        Candidates come from ``str.find`` on the longest literal piece; when that piece occurs often
        where the segment does not match, the rest is read once with :meth:`scan` instead.
        """
        last = stop - self.size
        if last < start:
            return -1
        if self.anchor < 0:
            return start
        off, text = self.pieces[self.anchor]
        i = start
        for _ in range(_MISSES):
            hit = value.find(text, i + off, last + off + len(text))
            if hit < 0:
                return -1
            i = hit - off
            if self.at(value, i):
                return i
            i += 1
        return self.scan(value, i, last)

    def scan(self, value: str, start: int, last: int) -> int:
        """Shift-and (bitap): the leftmost match starting in ``[start, last]`` in one pass over the value."""
        get, wild, goal = self.masks.get, self.wild, 1 << (self.size - 1)
        state = 0
        for j, ch in enumerate(value[start : last + self.size], start):
            state = ((state << 1) | 1) & get(ch, wild)
            if state & goal:
                return j - self.size + 1
        return -1


def _segments_matcher(pattern: str) -> Matcher:
    """The general case: a pattern with at least one ``*``, or with ``?``."""
    parts = [_Segment.parse(p) for p in pattern.split("*")]
    if len(parts) == 1:
        (only,) = parts
        return lambda value: len(value) == only.size and only.at(value, 0)
    first, last = parts[0], parts[-1]
    # a middle segment without ``?`` is searched with str.find alone (the common case, and the fastest)
    middle = [(p.literal or "", p.size, p) for p in parts[1:-1]]
    minimum = sum(p.size for p in parts)

    def match(value: str) -> bool:
        n = len(value)
        if n < minimum or not first.at(value, 0) or not last.at(value, n - last.size):
            return False
        pos, end = first.size, n - last.size
        for text, size, seg in middle:
            i = value.find(text, pos, end) if text else seg.find(value, pos, end)
            if i < 0:
                return False
            pos = i + size
        return True

    return match


@lru_cache(maxsize=65536)
def compile_glob(pattern: str, ignore_case: bool = False) -> Matcher:
    """A predicate testing whether a whole string matches ``pattern``."""
    if pattern == "*":
        return _always
    if ignore_case:
        pattern = pattern.lower()
    if not has_wildcard(pattern):
        text = unmark(pattern)
        if ignore_case:
            return lambda value: value.lower() == text
        return lambda value: value == text
    body = unmark(pattern[:-1])
    if pattern.endswith("*") and not has_wildcard(pattern[:-1]):
        if ignore_case:
            return lambda value: value.lower().startswith(body)
        return lambda value: value.startswith(body)
    match = _segments_matcher(pattern)
    if ignore_case:
        return lambda value: match(value.lower())
    return match
