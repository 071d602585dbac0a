"""``irsa access``: formats, filters, and errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.snapshot import save_snapshot
from tests.graph.test_kes import scenario

FIELDS = {
    "cluster",
    "namespace",
    "service_account",
    "secret_arn",
    "secret_name",
    "secret_kind",
    "access",
    "decision",
    "path",
    "mechanisms",
    "complete",
}


@pytest.fixture
def snap_file(tmp_path: Path) -> Path:
    return save_snapshot(scenario(), tmp_path / "snap.json")


def test_json_is_an_array_of_rows_with_the_documented_fields(
    snap_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access", str(snap_file), "--format", "json", "--service-account", "billing/api"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and len(data) == 1
    [row] = data
    assert set(row) >= FIELDS
    assert (
        row["namespace"],
        row["service_account"],
        row["secret_name"],
        row["secret_kind"],
        row["access"],
        row["decision"],
    ) == (
        "billing",
        "api",
        "/billing/db",
        "ssm-parameter",
        "via-controller",
        "allow",
    )
    assert row["secret_arn"] == "arn:aws:ssm:us-east-1:111122223333:parameter/billing/db"


def test_csv_and_table_and_filters(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", str(snap_file), "--format", "csv", "--secret", "/payments/key"]) == 0
    out = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(r["namespace"], r["service_account"]) for r in out} == {
        ("payments", "api"),
        ("team-x", "api"),
        ("external-secrets", "kes-sa"),
        ("", "*"),  # the kubelet of the node running the consuming pods (node authorizer)
    }
    assert main(["access", str(snap_file), "--namespace", "payments"]) == 0
    text = capsys.readouterr().out
    assert "sa c1/payments/api" in text and "/payments/key" in text and "/billing/db" not in text


def test_bad_service_account_filter_is_a_usage_error(snap_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", str(snap_file), "--service-account", "nons"]) == 2
    assert "NS/NAME" in capsys.readouterr().err


def test_gaps_are_reported_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from irsa_lib.model import Coverage

    snap = scenario()
    snap = snap.__class__(
        **{
            **snap.__dict__,
            "coverage": (Coverage(source="kubernetes", scope="c1", service="serviceaccounts", status="denied"),),
        }
    )
    path = save_snapshot(snap, tmp_path / "gappy.json")
    assert main(["access", str(path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert all(r["complete"] is False for r in json.loads(captured.out))
    assert "serviceaccounts" in captured.err
    # a gap that can only change some rows is still reported, even when no row is marked
    narrow = snap.__class__(
        **{
            **snap.__dict__,
            "coverage": (Coverage(source="kubernetes", scope="c1", service="rolebindings", status="denied"),),
        }
    )
    path = save_snapshot(narrow, tmp_path / "rbac-gap.json")
    assert main(["access", str(path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert all(r["complete"] is True for r in json.loads(captured.out))  # allowed, none potential
    assert "rolebindings" in captured.err


def test_the_table_made_line_by_line_is_the_table_made_from_parts(snap_file: Path) -> None:
    """`irsa access` to a pipe or file formats each line at once; the bytes are those of its parts
    printed one by one (tabs, control characters, a subject's name spelled per row, incomplete rows)."""
    import dataclasses

    from irsa_lib.analysis import analyse
    from irsa_lib.cli.access import _table_lines, print_table
    from irsa_lib.render import terminal
    from irsa_lib.snapshot import load_snapshot

    rows = list(analyse(load_snapshot(snap_file), rules=()).rows)
    hostile = [
        dataclasses.replace(r, service_account=f"a\tb\x1b[2J{i}", secret_name=f"/x\t\u202e{i}", complete=bool(i % 2))
        for i, r in enumerate(rows)
    ]
    for table in (rows, hostile, rows + hostile):
        fast, parts = io.StringIO(), io.StringIO()
        print_table(table, terminal.make_console(fast))
        for line, indent in _table_lines(table):
            terminal.emit_parts(terminal.make_console(parts), line, indent=indent)
        assert fast.getvalue() == parts.getvalue() and fast.getvalue()
        assert "\x1b" not in fast.getvalue() and "\u202e" not in fast.getvalue()
