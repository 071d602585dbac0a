"""Wildcard patterns as IAM reads them: ``*`` is any run of characters, ``?`` exactly one.

Every other character is literal (``+``, ``(``, ``.`` and ``[`` included), so a pattern is never
handed to ``re`` unescaped. Each distinct pattern is compiled once and cached; plain strings and
simple prefixes get fast paths that avoid regular expressions altogether.

>>> match = compile_glob("parameter/app-*")
>>> match("parameter/app-x/y"), match("parameter/other")
(True, False)
>>> compile_glob("a+b(")("a+b(")
True
>>> compile_glob("SSM:Get*", ignore_case=True)("ssm:getparameter")
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


def glob_regex(pattern: str, star: str = ".*", qmark: str = ".") -> str:
    """The pattern as a regular expression source, every non-wildcard character escaped."""
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(star)
        elif ch == "?":
            parts.append(qmark)
        else:
            parts.append(re.escape(unmark(ch)))
    return "".join(parts)


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
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    regex = re.compile(glob_regex(pattern), flags)
    fullmatch = regex.fullmatch
    return lambda value: fullmatch(value) is not None
