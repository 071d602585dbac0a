"""The matching benchmark's cases are what they claim: near misses do not match, the others do."""

from __future__ import annotations

import pytest

from benchmarks.bench_matching import CASES, main


@pytest.mark.parametrize("case", sorted(CASES))
def test_cases_match_and_miss_as_labelled(case: str) -> None:
    for k in (2, 20):
        for hit in (False, True):
            CASES[case](k, 1_000, hit=hit)()  # each case asserts its own outcome when built


def test_main_prints_a_row_per_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 + len(CASES) * 4 * 3 and "near miss" in out
