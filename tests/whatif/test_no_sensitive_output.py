"""A value the plan marks sensitive (or any parameter value) never reaches an output: text, JSON, Markdown,
SARIF, logs, or the overlaid snapshot."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.snapshot import save_snapshot, snapshot_to_json
from irsa_lib.whatif.overlay import apply_plan
from irsa_lib.whatif.plan import load_plan
from tests.whatif.base import PLANS, base_snapshot

PLANTED = ("PLAN-SENSITIVE-VALUE", "PLAN-INSECURE-VALUE")


def _plans_with_planted_values() -> list[Path]:
    plans = [p for p in sorted(PLANS.glob("plan_*.json")) if any(v in p.read_text() for v in PLANTED)]
    assert {p.name for p in plans} == {"plan_actions.json", "plan_sensitive.json"}
    return plans


@pytest.mark.parametrize("plan", _plans_with_planted_values(), ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif"])
def test_no_output_carries_a_plan_value(
    plan: Path,
    fmt: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    snap = save_snapshot(base_snapshot(), tmp_path / "snap.json")
    caplog.set_level(logging.DEBUG)
    argv = ["whatif", str(snap), "--terraform-plan", str(plan), "--format", fmt, "--fail-on", "new-access"]
    if fmt == "sarif":
        argv += ["--terraform-dir", str(PLANS / "config")]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1)
    assert out.strip()
    for value in PLANTED:
        assert value not in out
        assert value not in err
        assert value not in caplog.text


def test_the_overlaid_snapshot_holds_no_plan_value() -> None:
    for plan in _plans_with_planted_values():
        overlay = apply_plan(base_snapshot(), load_plan(plan))
        text = json.dumps(snapshot_to_json(overlay.snapshot)) + repr(overlay)
        for value in PLANTED:
            assert value not in text


def test_the_sensitive_policy_still_makes_its_answers_conditional(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = save_snapshot(base_snapshot(), tmp_path / "snap.json")
    main(["whatif", str(snap), "--terraform-plan", str(PLANS / "plan_sensitive.json"), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    web = [r for r in data["access"]["gained"] if r["service_account"] == "web"]
    assert web and {r["decision"] for r in web} == {"conditional"}
    assert all(
        "aws_iam_role_policy.web_extra.policy is sensitive in the plan and was not read" in u
        for r in web
        for u in r["unknown"]
    )
