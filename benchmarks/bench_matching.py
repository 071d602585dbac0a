"""How long IAM wildcard matching takes on hostile patterns, as the pattern and the name grow.

Run: ``python -m benchmarks.bench_matching [--repeat N]``. Patterns come from the policies being analysed,
so the worst cases matter: ``*a*a*...*b*c`` against a long run of ``a`` ending in ``c`` (every ``*`` has
many places to stop, and the name almost matches) is exponential for a backtracking regular expression.
Each figure is given for that near miss and for a name that matches (``a...abc``). Three figures:

* ``glob``: :func:`irsa_lib.policy.patterns.compile_glob` (StringLike, actions) for k wildcards on a
  name of n characters, matching and near-miss; ``glob ?`` the same with a ``?`` in the segment that
  is never found (``*a?b*c``: its ``a`` is found everywhere, so the near miss checks every position);
* ``arn``: :func:`irsa_lib.policy.arn.compile_arn_pattern` (Resource) with the same resource part;
* ``StringLike``: a whole evaluation of a web-identity trust whose ``sub`` condition has k wildcards.

The time per match should grow about linearly with n (the ``x n`` column is the growth when n is
multiplied by 10); the target is a 20-wildcard pattern on a 1,000-character name well under a millisecond.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from irsa_lib.policy import PolicySet, Principal, Request, evaluate, parse_policy
from irsa_lib.policy.arn import compile_arn_pattern
from irsa_lib.policy.patterns import compile_glob

WILDCARDS = (2, 5, 10, 20)
LENGTHS = (100, 1_000, 10_000)
ACCOUNT = "111122223333"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/BENCH"


def pattern(k: int, *, qmark: bool = False) -> str:
    """k wildcards (k >= 2): ``*a*a...*b*c``, or ``*a*a...*a?b*c``."""
    return "*a" * (k - 2) + ("*a?b*c" if qmark else "*b*c")


def name(n: int, *, hit: bool) -> str:
    """n characters: ``a...abc`` (matches) or ``a...ac`` (the near miss: no ``b``)."""
    return "a" * (n - 2) + ("bc" if hit else "ac")


def timed(call: Callable[[], object], repeat: int) -> float:
    """Median seconds per call over ``repeat`` rounds (each round long enough to measure)."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            call()
        if time.perf_counter() - start > 0.02 or loops >= 1 << 16:
            break
        loops *= 4
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            call()
        rounds.append((time.perf_counter() - start) / loops)
    return statistics.median(rounds)


def glob_case(k: int, n: int, *, hit: bool) -> Callable[[], object]:
    match = compile_glob(pattern(k))
    value = name(n, hit=hit)
    assert match(value) is hit
    return lambda: match(value)


def qmark_case(k: int, n: int, *, hit: bool) -> Callable[[], object]:
    match = compile_glob(pattern(k, qmark=True))
    value = name(n, hit=hit)
    assert match(value) is hit
    return lambda: match(value)


def arn_case(k: int, n: int, *, hit: bool) -> Callable[[], object]:
    match = compile_arn_pattern(f"arn:aws:ssm:*:{ACCOUNT}:parameter/{pattern(k)}")
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/" + name(n, hit=hit)
    assert match(arn) is hit
    return lambda: match(arn)


def trust_case(k: int, n: int, *, hit: bool) -> Callable[[], object]:
    """One evaluation of AssumeRoleWithWebIdentity against a trust with a k-wildcard StringLike on sub."""
    trust = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {f"{HOST}:sub": "system:serviceaccount:" + pattern(k)}},
            },
        },
        source="trust",
        kind="trust",
    )
    role = f"arn:aws:iam::{ACCOUNT}:role/bench"
    principal = Principal(f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}", "federated", ACCOUNT)
    sub = "system:serviceaccount:" + name(n, hit=hit)
    request = Request(
        principal=principal,
        action="sts:AssumeRoleWithWebIdentity",
        resource=role,
        context={f"{HOST}:sub": sub},
        context_complete=True,
    )
    policies = PolicySet(resource=trust, resource_account=ACCOUNT, resource_kind="role-trust")
    expected = "allow" if hit else "deny"
    assert evaluate(request, policies).outcome == expected
    return lambda: evaluate(request, policies)


CASES: dict[str, Callable[..., Callable[[], object]]] = {
    "glob": glob_case,
    "glob ?": qmark_case,
    "arn": arn_case,
    "StringLike": trust_case,
}


def rows(repeat: int) -> list[tuple[str, int, int, float, float]]:
    """(case, k, n, near-miss seconds, match seconds) for every case, k and n."""
    out = []
    for case, make in CASES.items():
        for k in WILDCARDS:
            for n in LENGTHS:
                miss = timed(make(k, n, hit=False), repeat)
                hit = timed(make(k, n, hit=True), repeat)
                out.append((case, k, n, miss, hit))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds per figure (the median is shown)")
    args = parser.parse_args(argv)
    table = rows(max(1, args.repeat))
    previous: dict[tuple[str, int], float] = {}
    print(f"{'case':10} {'wildcards':>9} {'name length':>11} {'near miss':>12} {'match':>12} {'x n':>6}")
    for case, k, n, miss, hit in table:
        growth = f"x{miss / previous[(case, k)]:.1f}" if (case, k) in previous else ""
        previous[(case, k)] = miss
        print(f"{case:10} {k:>9} {n:>11,} {miss * 1e6:>10.1f}us {hit * 1e6:>10.1f}us {growth:>6}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
