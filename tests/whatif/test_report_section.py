"""The report section "what this change would grant", read from the what-if JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irsa_lib.errors import IrsaError
from irsa_lib.render.whatif import whatif_section
from irsa_lib.whatif.compare import what_if
from irsa_lib.whatif.overlay import apply_plan
from irsa_lib.whatif.plan import load_plan
from irsa_lib.whatif.render import to_json
from tests.whatif.base import PLANS, base_snapshot


def test_lists_the_new_readers_with_their_cause(tmp_path: Path) -> None:
    snap = base_snapshot()
    result = what_if(snap, apply_plan(snap, load_plan(PLANS / "plan_actions.json")))
    path = tmp_path / "whatif.json"
    path.write_text(json.dumps(to_json(result, sources=["plan <b>.json"])))
    html = whatif_section(path).to_html()  # type: ignore[union-attr]
    assert html.count("<tr>") == 1 + 8  # header + the 8 rows gained
    assert "c1/app/worker" in html and "aws_iam_role.app" in html
    assert "plan &lt;b&gt;.json" in html and "<b>" not in html
    assert "F07 high on arn:aws:kms:us-east-1:111122223333:key/open-key" in html


def test_without_a_whatif_and_with_a_wrong_file(tmp_path: Path) -> None:
    assert "No what-if was given" in str(whatif_section(None))
    wrong = tmp_path / "x.json"
    wrong.write_text("{}")
    with pytest.raises(IrsaError, match="not a what-if JSON file"):
        whatif_section(wrong)


def test_every_cell_is_escaped(tmp_path: Path) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    snap = base_snapshot()
    data = to_json(what_if(snap, apply_plan(snap, load_plan(PLANS / "plan_actions.json"))), sources=["plan.json"])
    for row in data["access"]["gained"]:
        row["secret_name"] = hostile
        row["path"] = [hostile, "role x"]
        row["caused_by"] = [hostile]
    path = tmp_path / "whatif.json"
    path.write_text(json.dumps(data))
    html = whatif_section(path).to_html()  # type: ignore[union-attr]
    assert hostile not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
