"""Data-driven cases: documents + request -> expected decision, each citing the AWS rule it checks.

Each file in ``cases/`` holds ``cases:``, a list of ``{name, cite, request, expect}``. ``request``
uses the ``irsa simulate --request`` format. ``expect`` has ``decision`` and optionally
``explicit_deny``, ``deciding`` (the Sids of the deciding statements, or ``grant <id>``) and
``unresolved_keys`` and ``reason`` (a phrase one of the reasons must contain: the rule in words); or ``error`` (a substring of the PolicyError message) for malformed input.
The expected answers were written by hand from the cited documentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from irsa_lib.errors import IrsaError
from irsa_lib.policy import evaluate
from irsa_lib.policy.requestfile import load_request

CASES_DIR = Path(__file__).parent / "cases"


def _load() -> list[Any]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            out.append(pytest.param(case, id=f"{path.stem}:{case['name']}"))
    return out


CASES = _load()


def test_there_are_many_cases() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any]) -> None:
    assert case.get("cite"), "every case cites the documented rule it checks"
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(IrsaError) as info:
            evaluate(*load_request(case["request"], source=case["name"]))
        assert expect["error"] in str(info.value)
        return
    decision = evaluate(*load_request(case["request"], source=case["name"]))
    explain = "\n".join(decision.reasons)
    assert decision.outcome == expect["decision"], explain
    if "explicit_deny" in expect:
        assert decision.explicit_deny is expect["explicit_deny"], explain
    if "deciding" in expect:
        got = sorted(r.sid or r.source for r in decision.deciding)
        assert got == sorted(expect["deciding"]), explain
    if "reason" in expect:
        assert any(expect["reason"] in r for r in decision.reasons), explain
    if "unresolved_keys" in expect:
        assert sorted(k.lower() for k in decision.unresolved_keys) == sorted(
            k.lower() for k in expect["unresolved_keys"]
        ), explain
    elif decision.outcome != "conditional":
        assert decision.unresolved_keys == ()
