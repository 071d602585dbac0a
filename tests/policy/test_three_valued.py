"""Three-valued AND / OR (``irsa_lib.policy.layers``) against the rules written out by hand."""

from __future__ import annotations

import itertools
from typing import TypeVar

from irsa_lib.policy.decision import StatementRef
from irsa_lib.policy.layers import FALSE, TRUE, Tri, t_and, t_or


def _ref(i: int) -> StatementRef:
    return StatementRef(source=f"policy {i}", index=i, sid=None, effect="Allow", layer="identity")


A, B = _ref(1), _ref(2)
SAMPLES: list[Tri] = [
    TRUE,
    FALSE,
    (2, (), (A,)),
    (2, (), (A, B)),
    (2, ("k1",), (B,)),  # a true part can carry keys (an AND of true parts): OR drops them
    (1, (), ()),
    (1, ("k1",), (A,)),
    (1, ("k2", "k1"), (B, A)),
    (0, ("k3",), (B,)),
]


T = TypeVar("T")


def _unique(items: list[T]) -> tuple[T, ...]:
    out: list[T] = []
    for x in items:
        if x not in out:
            out.append(x)
    return tuple(out)


def expected_and(parts: tuple[Tri, ...]) -> Tri:
    """False as soon as one part is false; else the least state, with every part's keys and refs once each."""
    if any(p[0] == 0 for p in parts):
        return FALSE
    state = min((p[0] for p in parts), default=2)
    return (state, _unique([k for p in parts for k in p[1]]), _unique([r for p in parts for r in p[2]]))


def expected_or(parts: tuple[Tri, ...]) -> Tri:
    """True with the true parts' refs as soon as one part is true; else unresolved with the unresolved
    parts' keys and refs; else false."""
    true = [p for p in parts if p[0] == 2]
    if true:
        return (2, (), _unique([r for p in true for r in p[2]]))
    unresolved = [p for p in parts if p[0] == 1]
    if unresolved:
        return (1, _unique([k for p in unresolved for k in p[1]]), _unique([r for p in unresolved for r in p[2]]))
    return FALSE


def test_and_and_or_follow_the_rules_for_every_combination_of_up_to_three_parts() -> None:
    checked = 0
    for n in range(4):
        for parts in itertools.product(SAMPLES, repeat=n):
            assert t_and(*parts) == expected_and(parts), parts
            assert t_or(*parts) == expected_or(parts), parts
            checked += 1
    assert checked == 1 + 9 + 81 + 729
