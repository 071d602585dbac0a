"""What ``irsa`` prints: no control character from the data reaches the terminal; a closed pipe is quiet.

Names, annotations and error texts are written by whoever controls the inputs. An escape sequence in
one (set the window title, clear the screen, move the cursor and rewrite a line, a C1 CSI) must be
shown, not acted on; machine formats must still hold the exact text.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.collect.progress import Progress
from irsa_lib.model import Coverage
from irsa_lib.snapshot import Snapshot, save_snapshot
from irsa_lib.terminal import SafeText
from tests.graph import factory as f

ROOT = Path(__file__).resolve().parent.parent
TITLE = "\x1b]0;you have been owned\x07"
CLEAR = "\x1b[2J\x1b[H"
CSI = "\x9b31m"
REWRITE = "\r\x1b[1A\x1b[Kall clear"
BIDI = "\u202egnp.exe"
HOSTILE_SA = f"web{TITLE}{CLEAR}"
HOSTILE_ERROR = f"AccessDenied{REWRITE}{CSI}{BIDI}"
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


def hostile_snapshot() -> Snapshot:
    snap = f.snapshot(
        roles=[f.role("app-role", f.irsa_trust("system:serviceaccount:*", op="StringLike"))],
        service_accounts=[f.sa("billing", HOSTILE_SA, "app-role")],
    )
    gap = Coverage(source="aws", scope=f"{f.ACCT}/us-east-1", service="kms", status="denied", error=HOSTILE_ERROR)
    return dataclasses.replace(snap, coverage=(gap,))


@pytest.mark.parametrize(
    "argv",
    [["findings"], ["access"], ["snapshot-info"], ["findings", "--format", "sarif"], ["access", "--format", "csv"]],
)
def test_no_control_character_from_the_data_is_printed(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(save_snapshot(hostile_snapshot(), tmp_path / "s.json"))
    status = main([argv[0], path, *argv[1:]])
    out, err = capsys.readouterr()
    assert status == 0, err
    printed = out + err
    assert "\\u001b" in printed  # the data was printed, shown
    assert [c for c in RAW if c in printed] == []


def test_json_output_keeps_the_exact_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(save_snapshot(hostile_snapshot(), tmp_path / "s.json"))
    assert main(["findings", path, "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert f"c1/billing/ServiceAccount/{HOSTILE_SA}" in {x["resource"] for x in found}
    assert main(["snapshot-info", path, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["incomplete"][0]["error"] == HOSTILE_ERROR


def test_a_reader_closing_the_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    """``irsa snapshot-info BIG | head -1``: far more than a pipe holds is printed after head has gone."""
    gaps = tuple(
        Coverage(source="aws", scope=f"{f.ACCT}/us-east-1", service="kms:GetKeyPolicy", status="denied",
                 resource=f"arn:aws:kms:us-east-1:{f.ACCT}:key/{i:05d}", error="AccessDenied " + "x" * 80)
        for i in range(3000)
    )  # fmt: skip
    path = save_snapshot(Snapshot(created_at="2026-11-29T00:00:00Z", coverage=gaps), tmp_path / "big.json")
    proc = subprocess.Popen(
        [sys.executable, "-m", "irsa_lib.cli", "snapshot-info", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what head does after its first line
    err = proc.stderr.read().decode()
    status = proc.wait(timeout=120)
    assert first.startswith(b"snapshot ")
    assert err == ""
    assert status == 141


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_keeps_its_own_redraw_but_shows_the_data() -> None:
    term = Terminal()
    bar = Progress(1, stream=SafeText(term))  # as under ``irsa``: stderr is wrapped
    bar.step(f.ACCT, "us-east-1", f"kms{TITLE}", "ok")
    assert term.getvalue() == f"\r\x1b[K[1/1] {f.ACCT} us-east-1 kms\\u001b]0;you have been owned\\u0007: ok"
