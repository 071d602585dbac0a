"""One subject, one spelling: ``irsa access``, ``irsa diff``, the report's data and the trust graph
write every kind of subject the same way (the expected spellings are written out by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irsa_lib.access import effective_access
from irsa_lib.cli import main
from irsa_lib.graph import build_graph
from irsa_lib.render.graph_html import render_trust_graph
from irsa_lib.render.report_data import report_data
from irsa_lib.snapshot import Snapshot, save_snapshot
from tests.graph.test_kes import scenario

# the subjects of the KES scenario that reach a value, one of each kind it has
EXPECTED = {
    "sa c1/billing/api",  # a service account (its workload mounts the materialised Secret)
    "sa c1/external-secrets/kes-sa",  # the controller's own account, reading with its own role
    "kubelet c1/(node running the pod)",  # the node authorizer: the kubelet reads the Secrets its pods use
}


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return scenario()


def test_every_view_spells_the_subjects_alike(
    snap: Snapshot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_snapshot(snap, tmp_path / "snap.json")
    empty = save_snapshot(Snapshot(created_at="2026-01-01T00:00:00Z"), tmp_path / "empty.json")

    assert main(["access", str(path)]) == 0
    access_text = capsys.readouterr().out
    assert main(["access", str(path), "--format", "json"]) == 0
    access_json = {r["subject"] for r in json.loads(capsys.readouterr().out)}
    assert main(["diff", str(empty), str(path)]) == 0
    diff_text = capsys.readouterr().out

    graph = build_graph(snap)
    data = report_data(graph, effective_access(graph), (), {"billing", "payments"})
    report_subjects = {s[0] for s in data["subjects"]}
    graph_page = render_trust_graph(graph, aggregate=False)

    assert access_json >= EXPECTED
    assert report_subjects >= EXPECTED
    for subject in EXPECTED:
        assert f"\n{subject}  " in "\n" + access_text, f"irsa access spells {subject!r} otherwise"
        assert f"+ {subject} reads " in diff_text, f"irsa diff spells {subject!r} otherwise"
        assert json.dumps(subject)[1:-1] in graph_page, f"the trust graph spells {subject!r} otherwise"
    # no other spelling of the same subjects survives anywhere
    for old in ("c1:billing/api", "c1:-/*", "c1/*/*", "c1/None/", "(Node)"):
        assert old not in access_text + diff_text, old
