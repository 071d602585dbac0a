"""Small pure edits of policy documents as written (JSON objects): statements, actions, principals, conditions.

The evaluator (:mod:`irsa_lib.policy`) decides what a document means; these helpers only rewrite
one: every function returns a new document and leaves its input untouched. Element names follow
IAM's grammar (``Action`` may be a string or a list, ``Statement`` an object or a list).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from irsa_lib.model import PolicyDocument
from irsa_lib.policy.patterns import compile_glob

Statement = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    """An element written as one value or a list, as a list (absent: empty)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def one_or_list(values: Iterable[str]) -> str | list[str]:
    """One value as itself, several as a list (IAM's own way of writing them)."""
    items = list(dict.fromkeys(values))
    return items[0] if len(items) == 1 else items


def statements(doc: PolicyDocument | None) -> list[Statement]:
    """Deep copies of the document's statements, in order (``Statement`` as an object counts as one)."""
    raw = (doc or {}).get("Statement")
    return [copy.deepcopy(dict(s)) for s in as_list(raw) if isinstance(s, Mapping)]


def with_statements(doc: PolicyDocument | None, stmts: Iterable[Statement]) -> dict[str, Any]:
    """A copy of ``doc`` (its Version, Id) holding ``stmts``."""
    out = {k: copy.deepcopy(v) for k, v in (doc or {}).items() if k != "Statement"}
    out.setdefault("Version", "2012-10-17")
    out["Statement"] = list(stmts)
    return out


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action entry (``ssm:GetParameter*``, ``*``) covers ``action`` (actions ignore case)."""
    return compile_glob(pattern, ignore_case=True)(action.lower())


def drop_actions(st: Statement, covered: Callable[[str], bool]) -> Statement | None:
    """The statement without the Action entries ``covered`` accepts; None when no action is left.

    A NotAction statement is returned unchanged (removing actions from it would widen it).
    """
    if "Action" not in st:
        return st
    kept = [a for a in as_list(st["Action"]) if not (isinstance(a, str) and covered(a))]
    if not kept:
        return None
    out = dict(st)
    out["Action"] = one_or_list(kept)
    return out


def drop_principals(st: Statement, covered: Callable[[str], bool]) -> Statement | None:
    """The statement without the ``Principal.AWS`` entries ``covered`` accepts; None when it names no one."""
    principal = st.get("Principal")
    if not isinstance(principal, Mapping) or "AWS" not in principal:
        return st
    kept = [p for p in as_list(principal["AWS"]) if not (isinstance(p, str) and covered(p))]
    rest = {k: v for k, v in principal.items() if k != "AWS"}
    if kept:
        rest["AWS"] = one_or_list(kept)
    if not rest:
        return None
    out = dict(st)
    out["Principal"] = rest
    return out


def set_condition(st: Statement, operator: str, key: str, value: str | list[str]) -> Statement:
    """The statement with every condition on ``key`` (any operator, any case) replaced by ``operator key value``."""
    conditions: dict[str, Any] = {}
    for op, block in (st.get("Condition") or {}).items():
        if not isinstance(block, Mapping):
            conditions[op] = block
            continue
        kept = {k: v for k, v in block.items() if k.lower() != key.lower()}
        if kept:
            conditions[op] = kept
    conditions.setdefault(operator, {})[key] = value
    out = dict(st)
    out["Condition"] = conditions
    return out


def has_condition(st: Statement, key: str) -> bool:
    """Whether any operator of the statement tests ``key`` (any case)."""
    return any(
        isinstance(block, Mapping) and any(k.lower() == key.lower() for k in block)
        for block in (st.get("Condition") or {}).values()
    )
