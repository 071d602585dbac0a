"""Three-valued logic and the scan of one policy layer against a request.

A truth value is ``(state, keys, refs)``: state 2 true, 1 unresolved, 0 false; ``keys`` are the
condition keys that leave it unresolved and ``refs`` the statements behind it. AND is false as
soon as one part is false; OR is true as soon as one part is true; otherwise unresolved parts
carry their keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from irsa_lib.policy.conditions import evaluate_all
from irsa_lib.policy.decision import StatementRef
from irsa_lib.policy.principals import judge

if TYPE_CHECKING:
    from irsa_lib.policy.context import RequestContext
    from irsa_lib.policy.document import Policy, Statement
    from irsa_lib.policy.principals import MatchKind

Tri = tuple[int, tuple[str, ...], tuple[StatementRef, ...]]
TRUE: Tri = (2, (), ())
FALSE: Tri = (0, (), ())


def _uniq(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def t_and(*parts: Tri) -> Tri:
    """Three-valued AND."""
    state = 2
    keys: list[str] = []
    refs: list[StatementRef] = []
    for s, k, r in parts:
        if s == 0:
            return FALSE
        if s == 1:
            state = 1
        if k:
            keys.extend(k)
        if r:
            refs.extend(r)
    if not keys and not refs:  # most parts carry nothing (TRUE, or a layer that takes no part)
        return TRUE if state == 2 else (1, (), ())
    return (state, _uniq(keys), tuple(dict.fromkeys(refs)))


def t_or(*parts: Tri) -> Tri:
    """Three-valued OR."""
    true = [p for p in parts if p[0] == 2]
    if true:
        if len(true) == 1 and not true[0][1]:
            return true[0] if len(true[0][2]) < 2 else (2, (), tuple(dict.fromkeys(true[0][2])))
        return (2, (), tuple(dict.fromkeys(r for p in true for r in p[2])))
    unres = [p for p in parts if p[0] == 1]
    if unres:
        return (1, _uniq(k for p in unres for k in p[1]), tuple(dict.fromkeys(r for p in unres for r in p[2])))
    return FALSE


class Layer:
    """What the statements of one layer say about a request: allows and denies, definite or not."""

    __slots__ = ("allows", "cond_allows", "cond_denies", "denies", "name", "statements")

    def __init__(self, name: str) -> None:
        self.name = name
        self.allows: list[tuple[Statement, MatchKind | None]] = []
        self.denies: list[Statement] = []
        self.cond_allows: list[tuple[Statement, MatchKind | None, tuple[str, ...]]] = []
        self.cond_denies: list[tuple[Statement, tuple[str, ...]]] = []
        self.statements: dict[StatementRef, Statement] = {}

    def allow(self, kinds: tuple[str | None, ...] | None = None) -> Tri:
        """Whether the layer allows (optionally only through principals matched as ``kinds``)."""
        refs = [s.ref for s, k in self.allows if kinds is None or k in kinds]
        if refs:
            return (2, (), tuple(refs))
        cond = [(s, ks) for s, k, ks in self.cond_allows if kinds is None or k in kinds]
        if cond:
            return (1, _uniq(k for _, ks in cond for k in ks), tuple(s.ref for s, _ in cond))
        return FALSE

    def deny(self) -> Tri:
        """Whether the layer explicitly denies."""
        if self.denies:
            return (2, (), tuple(s.ref for s in self.denies))
        if self.cond_denies:
            return (1, _uniq(k for _, ks in self.cond_denies for k in ks), tuple(s.ref for s, _ in self.cond_denies))
        return FALSE


def scan(name: str, policies: Iterable[Policy], action: str, resource: str, ctx: RequestContext) -> Layer:
    """Evaluate every statement of ``policies`` that covers ``action`` against the request."""
    layer = Layer(name)
    principal = ctx.principal
    for policy in policies:
        for st in policy.statements_for(action):
            kind: MatchKind | None = None
            who: tuple[str, ...] = ()
            spec = st.principal
            if spec is not None:
                kind, who = judge(spec, st.not_principal, st.effect, principal, ctx.lookup)
                if kind is None:
                    continue
            res = st.resources
            hit: bool | tuple[str, ...] = True if res is None else res.match(resource, ctx)
            if hit is False:
                continue
            if who:
                hit = who if hit is True else tuple(dict.fromkeys((*who, *hit)))
            if st.conditions:
                cond = evaluate_all(st.conditions, ctx)
                if cond is False:
                    continue
                if cond is not True:
                    hit = cond if hit is True else tuple(dict.fromkeys((*hit, *cond)))
            layer.statements[st.ref] = st
            if hit is True:
                if st.effect == "Allow":
                    layer.allows.append((st, kind))
                else:
                    layer.denies.append(st)
            elif st.effect == "Allow":
                layer.cond_allows.append((st, kind, hit))
            else:
                layer.cond_denies.append((st, hit))
    return layer
