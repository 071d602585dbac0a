"""The report tables: access rows, the matrix, findings by severity, coverage, export."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from irsa_lib.model import Coverage
from irsa_lib.render.tables import (
    _csv,
    access_columns,
    access_frame,
    access_matrix,
    coverage_frame,
    export_frames,
    findings_frame,
    findings_summary,
    style_access_matrix,
    style_access_rows,
    style_coverage,
    style_findings,
)
from tests.render_fixtures import finding


@dataclass(frozen=True)
class Row:
    """The fields of irsa_lib.access rows the tables read."""

    cluster: str
    namespace: str
    service_account: str
    secret_name: str
    access: str
    decision: str
    secret_kind: str = "ssm_parameter"
    secret_arn: str = ""
    path: tuple[str, ...] = ()
    mechanisms: tuple[str, ...] = ()


ROWS = [
    Row("demo", "billing", "billing", "/billing/db", "via-controller", "allow", path=("sa", "ks")),
    Row("demo", "billing", "billing", "/billing/db", "direct", "conditional", path=("sa", "role", "p")),
    Row("demo", "billing", "billing", "/billing/db", "potential", "allow"),
    Row("demo", "tenant", "app", "/billing/db", "potential", "allow", mechanisms=("rbac", "kes-role-arn")),
    Row("demo", "tenant", "app", "/payments/db", "via-controller", "conditional"),
]


def test_access_frame_flattens_paths_and_mechanisms() -> None:
    frame = access_frame(ROWS)
    assert list(frame.columns)[:5] == ["subject", "cluster", "namespace", "service_account", "subject_kind"]
    assert frame["subject"].iloc[0] == "sa demo/billing/billing"
    assert len(frame) == 5
    direct = frame[frame["access"] == "direct"].iloc[0]
    assert direct["path"] == "sa → role → p"
    tenant = frame[(frame["namespace"] == "tenant") & (frame["access"] == "potential")].iloc[0]
    assert tenant["mechanisms"] == "rbac, kes-role-arn"


def test_matrix_shows_the_most_direct_then_most_certain_access() -> None:
    matrix = access_matrix(access_frame(ROWS))
    assert list(matrix.index) == ["sa demo/billing/billing", "sa demo/tenant/app"]
    assert list(matrix.columns) == ["/billing/db", "/payments/db"]
    # direct beats via-controller even when the direct path is only conditional
    assert matrix.loc["sa demo/billing/billing", "/billing/db"] == "direct · conditional"
    assert matrix.loc["sa demo/billing/billing", "/payments/db"] == ""
    assert matrix.loc["sa demo/tenant/app", "/billing/db"] == "potential · allow"
    assert matrix.loc["sa demo/tenant/app", "/payments/db"] == "via-controller · conditional"


def test_matrix_of_nothing_is_empty() -> None:
    assert access_matrix(access_frame([])).empty


def test_matrix_styling_is_deterministic_and_colours_by_decision() -> None:
    matrix = access_matrix(access_frame(ROWS))
    html_a = style_access_matrix(matrix).to_html()
    html_b = style_access_matrix(matrix).to_html()
    assert html_a == html_b
    assert "T_access-matrix" in html_a
    assert "#fdd0a2" in html_a  # conditional: orange
    assert "font-style: italic" in html_a  # potential access (needs an RBAC capability)
    assert "font-weight: bold" in html_a  # direct access stands out
    rows_html = style_access_rows(access_frame(ROWS)).to_html()
    assert "#c7e9c0" in rows_html and "T_access-rows" in rows_html


def test_findings_sorted_by_severity_and_counted() -> None:
    findings = [
        finding("F18", "arn:role/a"),
        finding("F01", "arn:role/b", "sub = *", "no aud"),
        finding("F06", "arn:param/x"),
        finding("F01", "arn:role/a"),
    ]
    frame = findings_frame(findings)
    assert list(frame["severity"]) == ["critical", "critical", "high", "low"]
    assert list(frame["resource"][:2]) == ["arn:role/a", "arn:role/b"]
    assert frame.loc[1, "evidence"] == "sub = *; no aud"
    summary = findings_summary(frame)
    assert dict(zip(summary["severity"], summary["findings"], strict=True)) == {
        "critical": 2,
        "high": 1,
        "medium": 0,
        "low": 1,
        "info": 0,
    }
    html = style_findings(frame).to_html()
    assert "#b10026" in html and "T_findings" in html


def test_no_findings_still_lists_every_severity() -> None:
    summary = findings_summary([])
    assert list(summary["findings"]) == [0, 0, 0, 0, 0]


def test_coverage_highlights_what_could_not_be_read() -> None:
    cov = (
        Coverage(source="aws", scope="123456789012/us-east-1", service="ssm", status="ok", count=12),
        Coverage(
            source="aws",
            scope="123456789012/us-east-1",
            service="kms:GetKeyPolicy",
            status="denied",
            error="AccessDeniedException",
            resource="arn:aws:kms:us-east-1:123456789012:key/k",
        ),
    )
    frame = coverage_frame(cov)
    assert list(frame["status"]) == ["denied", "ok"]
    assert frame.loc[1, "count"] == 12 and pd.isna(frame.loc[0, "count"])
    html = style_coverage(frame).to_html()
    assert html.count("#fcbba1") == 1


def test_export_writes_csv_and_json(tmp_path: Path) -> None:
    frame = access_frame(ROWS)
    matrix = access_matrix(frame)
    written = export_frames({"access": frame, "matrix": matrix}, tmp_path / "out")
    assert sorted(p.name for p in written) == ["access.csv", "access.json", "matrix.csv", "matrix.json"]
    assert pd.read_csv(tmp_path / "out" / "access.csv").shape == (5, 15)
    records = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert records[0]["subject"] == "sa demo/billing/billing"
    assert records[0]["/billing/db"] == "direct · conditional"


def test_export_reads_back_as_written_whatever_the_cells_hold(tmp_path: Path) -> None:
    """Column tables and frames with missing values, quotes, commas, newlines, non-ASCII text and a
    ``%`` in a column name read back cell for cell, from CSV and from JSON (the C encoders' way of
    writing them is checked against the standard readers, not against itself)."""
    cells = ['a "quoted", value', "line\nbreak", "→ ünïcode", "50% {x}", "\\", "", "</script>"]
    table = {"text %s": cells, "n": [1, None, 3, 4, 5, 6, 7]}
    frame = pd.DataFrame({"text": cells, "count": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64")})
    written = export_frames({"t": table, "f": frame, "wide": table}, tmp_path, csv_only={"wide"})
    assert sorted(p.name for p in written) == ["f.csv", "f.json", "t.csv", "t.json", "wide.csv"]
    records = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert [r["text %s"] for r in records] == cells and [r["n"] for r in records] == table["n"]
    assert json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))[1] == {"text": cells[1], "count": None}
    for name in ("t", "wide"):
        with (tmp_path / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
            back = list(csv.reader(fh))
        assert back[0] == ["text %s", "n"]
        assert back[1:] == [[c, "" if n is None else str(n)] for c, n in zip(cells, table["n"], strict=True)]


def test_an_empty_table_is_written_as_its_header_and_an_empty_list(tmp_path: Path) -> None:
    export_frames({"e": {"a": [], "b": []}}, tmp_path)
    assert (tmp_path / "e.csv").read_text() == "a,b\n"
    assert json.loads((tmp_path / "e.json").read_text()) == []


def test_access_columns_keep_the_rows_order_and_the_matrix_reads_them() -> None:
    columns = access_columns(ROWS)
    assert columns["secret_name"] == [r.secret_name for r in ROWS]
    assert access_matrix(columns).equals(access_matrix(access_frame(ROWS)))


CELLS = st.one_of(st.none(), st.integers(), st.text(alphabet=st.sampled_from(list("ab ,\"\r\n→\\'x")), max_size=8))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS, CELLS), max_size=6), st.sampled_from([1, 2, 3]))
def test_csv_is_what_the_standard_writer_writes(records: list[tuple[Any, ...]], width: int) -> None:
    """The column-at-a-time CSV writer reads back cell for cell through the standard reader, and gives
    the standard writer's bytes, quoting included; but a carriage return, which Python 3.11's writer
    leaves unquoted when the line ends in a newline alone (its own reader then splits the line), is
    quoted."""
    names = ["a,b", 'q"', "plain"][:width]
    columns = {n: [r[i] for r in records] for i, n in enumerate(names)}
    ours, theirs = io.StringIO(), io.StringIO()
    _csv(columns, ours)
    back = list(csv.reader(io.StringIO(ours.getvalue(), newline="")))
    assert back == [names] + [["" if c is None else str(c) for c in r[:width]] for r in records]
    writer = csv.writer(theirs, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([r[:width] for r in records])
    if "\r" not in theirs.getvalue():
        assert ours.getvalue() == theirs.getvalue()
