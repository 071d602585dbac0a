"""Condition blocks: parsing, and three-valued evaluation against a request context.

A block's operators and keys are ANDed; the values under one key are ORed. A key missing from
the request makes ordinary operators false and negated ones (``StringNotEquals``,
``NotIpAddress``...) true; ``...IfExists`` is true on a missing key; ``ForAllValues:`` is true on a
missing or empty key and ``ForAnyValue:`` false. When the context is incomplete and a key is not
given, the condition is unresolved and its evaluation returns the key's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from irsa_lib.policy.context import RequestContext
from irsa_lib.policy.operators import OPERATORS, build_matcher
from irsa_lib.policy.patterns import unmark
from irsa_lib.policy.variables import Template, Unknown, expand, parse_template, render_template

Qualifier = Literal["all", "any"] | None
Result = bool | tuple[str, ...]
"""True / False, or the names of the keys that leave the condition unresolved."""


class ConditionSyntaxError(ValueError):
    """A condition block that is not valid policy grammar (the caller adds where it is)."""


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    raise ConditionSyntaxError(
        f"{where}: condition value must be a string, number or boolean, not {type(value).__name__}"
    )


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key, with the policy's values for it."""

    operator: str
    key: str
    """Lower-case key name (condition key names are case-insensitive)."""
    key_name: str
    base: str
    negated: bool
    if_exists: bool
    qualifier: Qualifier
    values: tuple[str | Template, ...]
    static: bool
    """No policy variables: the matcher is built once."""

    def describe(self) -> str:
        """The condition as written, for explanations."""
        shown = [unmark(v) if isinstance(v, str) else render_template(v) for v in self.values]
        return f"{self.operator} {self.key_name} {shown}"

    def evaluate(self, ctx: RequestContext) -> Result:
        """True, False, or the unresolved key names."""
        status, got = ctx.lookup(self.key)
        if status == "unknown":
            return (self.key_name,)
        if self.base == "null":
            is_null = status == "absent" or not got
            return any((v == "true") == is_null for v in self.values)
        if status == "absent" or not got:
            if self.qualifier == "all" or self.if_exists:
                return True
            if self.qualifier == "any":
                return False
            return self.negated
        if self.static:
            match = build_matcher(self.base, self.values)
        else:
            try:
                expanded: list[str] = []
                for v in self.values:
                    expanded.extend(expand(v, ctx.lookup))
            except Unknown as exc:
                return exc.keys
            match = build_matcher(self.base, tuple(expanded))
        if self.qualifier == "all":
            if self.negated:
                return not any(match(r) for r in got)
            return all(match(r) for r in got)
        if self.qualifier == "any" and self.negated:
            return any(not match(r) for r in got)
        hit = any(match(r) for r in got)
        return not hit if self.negated else hit


def _parse_operator(op: str) -> tuple[str, Qualifier, bool]:
    qualifier: Qualifier = None
    name = op
    low = op.lower()
    if low.startswith("forallvalues:"):
        qualifier, name = "all", op[len("ForAllValues:") :]
    elif low.startswith("foranyvalue:"):
        qualifier, name = "any", op[len("ForAnyValue:") :]
    base = name.lower()
    if_exists = base.endswith("ifexists")
    if if_exists:
        base = base[: -len("ifexists")]
    if base not in OPERATORS and base != "null":
        raise ConditionSyntaxError(f"unknown condition operator {op!r}")
    if base == "null" and (if_exists or qualifier):
        raise ConditionSyntaxError(f"operator {op!r}: Null takes no qualifier or IfExists")
    return base, qualifier, if_exists


def parse_conditions(block: Any, *, variables: bool) -> tuple[Condition, ...]:
    """Parse a ``Condition`` element; ``variables`` says whether ``${...}`` is substituted."""
    if not isinstance(block, Mapping):
        raise ConditionSyntaxError(f"Condition must be an object, not {type(block).__name__}")
    out: list[Condition] = []
    for op, keys in block.items():
        if not isinstance(op, str):
            raise ConditionSyntaxError(f"condition operator {op!r} is not a string")
        base, qualifier, if_exists = _parse_operator(op)
        if not isinstance(keys, Mapping) or not keys:
            raise ConditionSyntaxError(f"{op}: expected an object of condition keys to values")
        for key, raw in keys.items():
            if not isinstance(key, str) or not key:
                raise ConditionSyntaxError(f"{op}: condition key {key!r} is not a non-empty string")
            where = f"{op} {key}"
            items = raw if isinstance(raw, list) else [raw]
            texts = tuple(_scalar(v, where) for v in items)
            if base == "null":
                norm = tuple(t.lower() for t in texts)
                if any(t not in ("true", "false") for t in norm):
                    raise ConditionSyntaxError(f"{where}: Null takes true or false, not {list(texts)}")
                out.append(Condition(op, key.lower(), key, base, False, False, None, norm, True))
                continue
            info = OPERATORS[base]
            values: tuple[str | Template, ...] = (
                tuple(parse_template(t) for t in texts) if variables and info.variables else texts
            )
            static = all(isinstance(v, str) for v in values)
            if static:
                try:
                    build_matcher(base, values)
                except (ValueError, OverflowError) as exc:
                    raise ConditionSyntaxError(f"{where}: invalid value for {op}: {exc}") from exc
            out.append(Condition(op, key.lower(), key, base, info.negated, if_exists, qualifier, values, static))
    return tuple(out)


def evaluate_all(conditions: tuple[Condition, ...], ctx: RequestContext) -> Result:
    """AND of the conditions: False if any is false, else the unresolved keys, else True."""
    unresolved: list[str] = []
    for cond in conditions:
        r = cond.evaluate(ctx)
        if r is True:
            continue
        if r is False:
            return False
        unresolved.extend(r)
    if unresolved:
        return tuple(dict.fromkeys(unresolved))
    return True
