"""`irsa` imports only the subcommand it runs, and its help is plain text (times: benchmarks/bench_cli.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.bench_cli import REQUEST, heavy_imports, imported
from benchmarks.bench_cli import main as bench_main
from irsa_lib.cli import COMMANDS, main

MARKUP = re.compile(r"``|:(mod|func|class|data|meth|attr):`")


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(REQUEST), encoding="utf-8")
    return path


def test_help_and_simulate_request_import_no_heavy_library(request_file: Path) -> None:
    assert heavy_imports(["--help"]) == []
    assert heavy_imports(["simulate", "--request", str(request_file)]) == []


def test_the_analysis_commands_import_no_collection_or_table_library(tmp_path: Path) -> None:
    """`irsa access` and `irsa findings` need the graph, not boto3 or pandas (a quarter second each
    to import, which every run of the two commands paid through the fixes and what-if modules)."""
    from irsa_lib.snapshot import save_snapshot
    from tests.graph.test_kes import scenario

    snap = str(save_snapshot(scenario(), tmp_path / "s.json"))  # rows and findings: every step runs
    for args in (["access", snap], ["findings", snap]):
        heavy = heavy_imports(args)
        assert "irsa_lib.graph" in heavy  # the check sees what the command imports
        assert not {"pandas", "boto3", "papermill", "kubernetes", "pyvis"} & set(heavy), (args[0], heavy)
        # nor the what-if machinery that verifies a fix (`irsa findings` only asks which rules have one),
        # nor networkx (the graph holds its own dicts; only views drawing it or listing k paths need it)
        assert not [n for n in imported(args) if n.startswith(("irsa_lib.whatif", "irsa_lib.fixes.verify", "networkx"))]


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name, (_, help_) in COMMANDS.items():
        assert f"{name} {help_}" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_is_plain_text(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: irsa {command}")
    assert not MARKUP.search(out), MARKUP.search(out)


def test_the_chosen_command_runs(request_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--request", str(request_file)]) == 0
    assert capsys.readouterr().out.startswith("decision: ALLOW")


def test_benchmark_prints_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "irsa --help: wall median" in out and "irsa simulate --request: wall median" in out
    assert out.count("heavy imports: none") == 2


def test_an_analysis_command_ends_with_its_output_whole_and_its_status(tmp_path: Path) -> None:
    """The quick exit after `irsa access` / `findings` (no teardown of the analysis) loses no output
    and keeps the exit status; a reader that leaves early still gets the status of SIGPIPE."""
    import subprocess
    import sys

    from benchmarks.shapes import generate_shape
    from irsa_lib.cli import BROKEN_PIPE, QUICK_EXIT
    from irsa_lib.snapshot import save_snapshot

    assert {"access", "findings"} <= QUICK_EXIT and "collect" not in QUICK_EXIT and "report" not in QUICK_EXIT
    snap = str(save_snapshot(generate_shape("root-trust-60"), tmp_path / "s.json"))
    irsa = [sys.executable, "-m", "irsa_lib.cli"]
    expected = json.dumps([r.to_json() for r in _rows(snap)], indent=2) + "\n"
    done = subprocess.run([*irsa, "access", snap, "--format", "json"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, expected) and len(expected) > 100_000  # more than a pipe holds
    to_file = tmp_path / "out.json"
    with to_file.open("w") as fh:
        assert subprocess.run([*irsa, "access", snap, "--format", "json"], stdout=fh, check=False).returncode == 0
    assert to_file.read_text() == expected
    wide = str(save_snapshot(generate_shape("wide-wildcards-40"), tmp_path / "w.json"))
    failed = subprocess.run([*irsa, "findings", wide, "--fail-on", "low"], capture_output=True, text=True, check=False)
    assert failed.returncode == 1 and "F" in failed.stdout
    for table in (["--format", "json"], []):  # json.dumps writes; the table goes through rich's console
        head = subprocess.Popen([*irsa, "access", snap, *table], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert head.stdout is not None and head.stderr is not None
        head.stdout.read(10)
        head.stdout.close()
        assert (head.wait(), head.stderr.read()) == (BROKEN_PIPE, b""), table


def _rows(snap: str) -> list[object]:
    from irsa_lib.analysis import analyse
    from irsa_lib.snapshot import load_snapshot

    return list(analyse(load_snapshot(snap), rules=()).rows)


def test_a_quick_exit_command_leaves_its_analysis_to_the_process_end_and_main_keeps_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run as the `irsa` command, `access` and `findings` keep their analysis until the process ends
    (freeing it when the command returns is work nobody waits for); :func:`main` called in a process
    that goes on (a notebook, these tests) keeps nothing."""
    import subprocess
    import sys

    import irsa_lib.cli as cli
    from irsa_lib.snapshot import save_snapshot
    from tests.graph.test_kes import scenario

    snap = str(save_snapshot(scenario(), tmp_path / "s.json"))
    # what entry() holds when the process ends (os._exit), reported by a stand-in for os._exit
    probe = (
        "import os, sys, irsa_lib.cli as c\n"
        "end = os._exit\n"
        "def report(status):\n"
        "    kept = c._UntilExit.kept\n"
        "    print('KEPT', None if kept is None else [type(k).__name__ for k in kept], file=sys.stderr)\n"
        "    end(status)\n"
        "os._exit = report\n"
        "sys.argv = ['irsa', *sys.argv[1:]]\n"
        "c.entry()\n"
    )
    for args in (["access", snap], ["findings", snap]):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "KEPT ['Analysis']" in done.stderr, (args, done.stderr[-500:])
    assert main(["access", snap, "--no-cache"]) == 0
    assert cli._UntilExit.kept is None and "→" in capsys.readouterr().out
