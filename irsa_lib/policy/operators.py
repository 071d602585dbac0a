"""Condition operators: names, families, and per-value matchers built from policy values.

Each family turns the policy's values for one key into a predicate over one request value
("does this request value match any policy value?"). Negation, ``IfExists`` and the
``ForAllValues:`` / ``ForAnyValue:`` qualifiers are applied on top by :mod:`conditions`.
A policy value the family cannot read (``NumericEquals: "ten"``) raises ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from irsa_lib.policy.arn import compile_arn_pattern
from irsa_lib.policy.patterns import Matcher, compile_glob, unmark

Builder = Callable[[tuple[str, ...]], Matcher]


@dataclass(frozen=True)
class OperatorInfo:
    """What an operator name means: its family, whether it is negated, and its matcher builder."""

    family: str
    negated: bool
    build: Builder
    variables: bool
    """Whether policy variables are substituted in its values (string and ARN operators)."""


def _never(_v: str) -> bool:
    return False


def _string_equals(values: tuple[str, ...]) -> Matcher:
    allowed = frozenset(unmark(v) for v in values)
    return allowed.__contains__


def _string_equals_ic(values: tuple[str, ...]) -> Matcher:
    allowed = frozenset(unmark(v).lower() for v in values)
    return lambda r: r.lower() in allowed


def _any(matchers: list[Matcher]) -> Matcher:
    if not matchers:
        return _never
    if len(matchers) == 1:
        return matchers[0]
    return lambda r: any(m(r) for m in matchers)


def _string_like(values: tuple[str, ...]) -> Matcher:
    return _any([compile_glob(v) for v in values])


def _arn_like(values: tuple[str, ...]) -> Matcher:
    return _any([compile_arn_pattern(v) for v in values])


def _number(text: str) -> float:
    return float(text.strip())


def _date(text: str) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda r, v: r == v,
    "LessThan": lambda r, v: r < v,
    "LessThanEquals": lambda r, v: r <= v,
    "GreaterThan": lambda r, v: r > v,
    "GreaterThanEquals": lambda r, v: r >= v,
}


def _ordered(parse: Callable[[str], float], compare: Callable[[float, float], bool]) -> Builder:
    def build(values: tuple[str, ...]) -> Matcher:
        bounds = [parse(v) for v in values]

        def match(r: str) -> bool:
            try:
                x = parse(r)
            except (ValueError, OverflowError):
                return False
            return any(compare(x, b) for b in bounds)

        return match

    return build


def _bool(values: tuple[str, ...]) -> Matcher:
    wanted = set()
    for v in values:
        lv = v.strip().lower()
        if lv not in ("true", "false"):
            raise ValueError(f"Bool value must be true or false, not {v!r}")
        wanted.add(lv)
    return lambda r: r.strip().lower() in wanted


@lru_cache(maxsize=16384)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().split("/", 1)[0])
    except ValueError:
        return None


def _ip(values: tuple[str, ...]) -> Matcher:
    nets = [ipaddress.ip_network(v.strip(), strict=False) for v in values]

    def match(r: str) -> bool:
        addr = _address(r)
        if addr is None:
            return False
        return any(addr.version == n.version and addr in n for n in nets)

    return match


def _table() -> dict[str, OperatorInfo]:
    t: dict[str, OperatorInfo] = {}
    t["stringequals"] = OperatorInfo("String", False, _string_equals, True)
    t["stringnotequals"] = OperatorInfo("String", True, _string_equals, True)
    t["stringequalsignorecase"] = OperatorInfo("String", False, _string_equals_ic, True)
    t["stringnotequalsignorecase"] = OperatorInfo("String", True, _string_equals_ic, True)
    t["stringlike"] = OperatorInfo("String", False, _string_like, True)
    t["stringnotlike"] = OperatorInfo("String", True, _string_like, True)
    for name, cmp in _COMPARE.items():
        t["numeric" + name.lower()] = OperatorInfo("Numeric", False, _ordered(_number, cmp), False)
        t["date" + name.lower()] = OperatorInfo("Date", False, _ordered(_date, cmp), False)
    t["numericnotequals"] = OperatorInfo("Numeric", True, _ordered(_number, _COMPARE["Equals"]), False)
    t["datenotequals"] = OperatorInfo("Date", True, _ordered(_date, _COMPARE["Equals"]), False)
    t["bool"] = OperatorInfo("Bool", False, _bool, False)
    t["binaryequals"] = OperatorInfo("Binary", False, _string_equals, False)
    t["ipaddress"] = OperatorInfo("IpAddress", False, _ip, False)
    t["notipaddress"] = OperatorInfo("IpAddress", True, _ip, False)
    for name in ("arnequals", "arnlike"):
        t[name] = OperatorInfo("Arn", False, _arn_like, True)
    for name in ("arnnotequals", "arnnotlike"):
        t[name] = OperatorInfo("Arn", True, _arn_like, True)
    return t


OPERATORS = _table()
"""Base operator names (lower case, without qualifier or ``IfExists``) to their meaning."""


@lru_cache(maxsize=16384)
def build_matcher(base: str, values: tuple[str, ...]) -> Matcher:
    """The cached matcher of operator ``base`` for these (already substituted) values."""
    return OPERATORS[base].build(values)
