"""Regular expressions written by users, evaluated with RE2: linear time, whatever the pattern.

Two controllers read regexes from Kubernetes objects that tenants may write: kubernetes-external-secrets
tests a namespace's ``iam.amazonaws.com/permitted`` (and permitted-key-name) annotation against an
ExternalSecret's ``roleArn`` with JavaScript's ``new RegExp(pattern).test(arn)``, and External Secrets
Operator tests ClusterSecretStore ``namespaceRegexes`` and ``find.name.regexp`` with Go's ``regexp``
(itself RE2). A backtracking engine (Python's ``re``) takes exponential time on ``(a+)+$`` against
``aaaa...!``, so every such pattern is compiled here with RE2 (``google-re2``) instead.

RE2 is Go's syntax exactly. JavaScript's differs; a pattern is refused (:class:`RegexError`, and the
caller treats what it decides as unknown, never as a match or a miss) when RE2 cannot compile it
(lookahead and lookbehind, backreferences, ``\\u``/``\\c`` escapes, ``[^]``, repetition counts above
1000) or when RE2 would read it otherwise than JavaScript does: inline flags and other ``(?...)``
groups but ``(?:`` and ``(?<name>``, ``\\A \\z \\C \\Q \\E \\p \\P`` (letters in JavaScript), POSIX
classes ``[[:alpha:]]``. What still differs, for subjects that are ARNs, parameter and secret names
(which hold none of these characters): ``\\s`` is ASCII whitespace in RE2 and Unicode whitespace in
JavaScript, and ``.`` excludes only ``\\n`` in RE2 but also ``\\r``, U+2028 and U+2029 in JavaScript.

>>> compile_regex("^arn:aws:iam::1:role/(a+)+$", dialect="javascript").search("arn:aws:iam::1:role/" + "a" * 40 + "!")
False
>>> compile_regex("^(?=x)", dialect="javascript")
Traceback (most recent call last):
...
irsa_lib.userregex.RegexError: RE2 cannot compile it (invalid perl operator: (?=)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import re2

__all__ = ["Dialect", "RegexError", "UserRegex", "compile_regex", "javascript_difference"]

Dialect = Literal["javascript", "go"]

_JS_LETTER_ESCAPES = frozenset("AzCQEpP")
"""Escapes RE2 gives a meaning and JavaScript (without the ``u`` flag) reads as the plain letter."""


def javascript_difference(pattern: str) -> str | None:
    """What in ``pattern`` RE2 accepts but JavaScript reads differently, else None (one linear scan).

    >>> javascript_difference("^arn:aws:iam::[0-9]{12}:role/(?:billing|payments)-.*$") is None
    True
    >>> javascript_difference("(?i)^arn")
    'a (?...) group other than (?: and (?<name>'
    """
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if pattern[i + 1 : i + 2] in _JS_LETTER_ESCAPES and i + 1 < len(pattern):
                return f"the escape \\{pattern[i + 1]}, a plain letter in JavaScript"
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith(":", i + 1):
                return "a POSIX class, plain characters in JavaScript"
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and pattern.startswith("?", i + 1):
            after = pattern[i + 2 : i + 4]
            if not (after.startswith(":") or (after.startswith("<") and after[1:2] not in ("=", "!"))):
                return "a (?...) group other than (?: and (?<name>"
        i += 1
    return None


class RegexError(ValueError):
    """A pattern that cannot be evaluated as its controller would: what it decides is unknown."""


@dataclass(frozen=True)
class UserRegex:
    """A compiled user pattern; :meth:`search` is an unanchored test, as ``RegExp.test`` and Go's ``MatchString``."""

    pattern: str
    _compiled: Any

    def search(self, text: str) -> bool:
        return self._compiled.search(text) is not None


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print the refused pattern to stderr
    return options


_OPTIONS = _options()


@lru_cache(maxsize=4096)
def compile_regex(pattern: str, *, dialect: Dialect) -> UserRegex:
    """``pattern`` compiled with RE2 for a controller written in ``dialect``; RegexError says why not."""
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise RegexError(f"RE2 cannot compile it ({text})") from None
    differs = javascript_difference(pattern) if dialect == "javascript" else None
    if differs is not None:
        raise RegexError(f"it holds {differs}: RE2 would not decide as the controller does")
    return UserRegex(pattern, compiled)
