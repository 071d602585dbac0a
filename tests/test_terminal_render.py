"""Terminal rendering: fits COLUMNS, never splits an ARN, no colour in a pipe, findings with remediation and
folded evidence, drift with before and after."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.findings import Finding, Severity
from irsa_lib.render import terminal
from irsa_lib.snapshot import Snapshot, save_snapshot
from tests.graph.test_kes import scenario

ARN = re.compile(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d*:[A-Za-z0-9/_+=.@*-]+")


@pytest.fixture
def snap_file(tmp_path: Path) -> Path:
    return save_snapshot(scenario(), tmp_path / "snap.json")


def test_access_lines_fit_columns_and_keep_words_whole(
    snap_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert main(["access", str(snap_file), "--secret", "/billing/db"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # a pipe gets no colour
    lines = out.splitlines()
    # a line is longer than 60 only when it is one unbreakable token (nothing here is)
    assert all(len(line) <= 60 for line in lines), [line for line in lines if len(line) > 60]
    text = " ".join(line.strip() for line in lines)
    # the wrapped path still reads hop by hop, the key named before the value
    assert "role billing-service-role → key billing (customer managed) → parameter /billing/db" in text
    assert "sa c1/external-secrets/kes-sa" in text


def test_without_columns_a_pipe_gets_one_line_per_record(
    snap_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["access", str(snap_file), "--service-account", "billing/api"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("sa c1/billing/api") and lines[1].lstrip().startswith("workload c1/billing/")
    assert len(lines) == 2


def _finding(evidence: tuple[str, ...]) -> Finding:
    return Finding(
        rule="F04",
        slug="controller-reads-every-service",
        severity=Severity.CRITICAL,
        title="t",
        resource="arn:aws:iam::123456789012:role/a-rather-long-controller-role-name-for-wrapping",
        evidence=evidence,
        remediation="let the controller role only assume each service's own role",
    )


def test_findings_name_the_remediation_fold_long_evidence_and_keep_arns_whole() -> None:
    evidence = tuple(f"reads arn:aws:ssm:us-east-1:123456789012:parameter/svc-{i}/db with key k{i}" for i in range(9))
    text = _findings(50, evidence)
    assert "fix: let the controller role only assume each service's own role" in " ".join(text.split())
    assert "… 6 more evidence lines of 9 (--full or --format json shows all)" in " ".join(text.split())
    for arn in ARN.findall(_finding(evidence).resource + " " + " ".join(evidence[:3])):
        assert arn in text.split(), f"{arn} was split"  # each ARN whole on some line
    full = _findings(50, evidence, full=True)
    assert "svc-8/db" in full


def _findings(width: int, evidence: tuple[str, ...], *, full: bool = False) -> str:
    from irsa_lib.cli.findings import format_table

    return format_table([_finding(evidence)], width=width, full=full)


@pytest.mark.parametrize(
    "text",
    ["plain", "  lead and trail  ", "wide 日本語", "emoji 🔑", "e\u0301 combining", "multi\nline", "", "[bold]x[/] :key:",
     "ctrl\x1b[2J\x9b", "tab\tthen 日本\tx"],
)  # fmt: skip
@pytest.mark.parametrize("indent", [0, 4])
def test_a_pipe_without_columns_gets_exactly_what_rich_prints(text: str, indent: int) -> None:
    """emit writes plain text itself where rich would change nothing; the bytes are rich's own."""
    import io

    from rich.text import Text

    ours, theirs = io.StringIO(), io.StringIO()
    terminal.emit(terminal.make_console(ours), terminal.plain(text), indent=indent)
    terminal.make_console(theirs).print(Text(" " * indent) + terminal.plain(text), crop=False, soft_wrap=True)
    assert ours.getvalue() == theirs.getvalue()
    assert "\x1b" not in ours.getvalue()
    parts, joined = io.StringIO(), io.StringIO()
    terminal.emit_parts(terminal.make_console(parts), [(text, "bold"), ("→ x", "")], indent=indent)
    terminal.emit(terminal.make_console(joined), terminal.join([terminal.plain(text, "bold"), "→ x"]), indent=indent)
    assert parts.getvalue() == joined.getvalue()
    # many lines at once (batched, two to a batch here): the same bytes as one emit_parts per line
    lines = [([(text, "bold"), ("→ x", "")], indent), ([("plain", "")], 4), ([(text, "")], 0)]
    batched, each = io.StringIO(), io.StringIO()
    terminal.emit_lines(terminal.make_console(batched), lines, batch=2)
    for line_parts, line_indent in lines:
        terminal.emit_parts(terminal.make_console(each), line_parts, indent=line_indent)
    assert batched.getvalue() == each.getvalue()


def test_a_control_character_never_reaches_the_terminal() -> None:
    assert terminal.safe("ok\x1b]0;title\x07\x9b2J") == "ok\\u001b]0;title\\u0007\\u009b2J"


def test_diff_text_shows_each_row_gained_with_its_decision_and_path(
    snap_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = save_snapshot(Snapshot(created_at="2026-01-01T00:00:00Z"), tmp_path / "empty.json")
    assert main(["diff", str(empty), str(snap_file)]) == 0
    out = capsys.readouterr().out
    assert "+ sa c1/billing/api reads /billing/db [via-controller]" in out
    assert "path: workload c1/billing/Deployment/api → Secret billing/db-creds" in out
    assert main(["diff", str(snap_file), str(empty)]) == 0
    assert "- sa c1/billing/api reads /billing/db [via-controller]" in capsys.readouterr().out


def test_diff_text_shows_a_changed_row_before_and_after(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = scenario()
    # the same parameter moved from the billing key to aws/ssm: still readable, through another key
    params = tuple(
        dataclasses.replace(p, key_id="alias/aws/ssm") if p.name == "/billing/db" else p for p in old.ssm_parameters
    )
    new = dataclasses.replace(old, ssm_parameters=params)
    a, b = save_snapshot(old, tmp_path / "a.json"), save_snapshot(new, tmp_path / "b.json")
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "~ sa c1/billing/api reads /billing/db [via-controller]" in out
    assert "path was: workload c1/billing/Deployment/api" in out
    was = next(line for line in out.splitlines() if "path was:" in line and "billing-service-role" in line)
    now = next(line for line in out.splitlines() if "path now:" in line and "billing-service-role" in line)
    assert was.endswith("role billing-service-role → key billing (customer managed) → parameter /billing/db")
    assert now.endswith("role billing-service-role → key aws/ssm (AWS managed) → parameter /billing/db")
