"""`irsa lab` builds the JupyterLab command line it runs (tests/test_report_e2e.py runs `irsa lab --check`)."""

from __future__ import annotations

from pathlib import Path

from irsa_lib.cli.lab import lab_command


def test_lab_command_opens_the_notebook_dir_and_allows_root_only_when_root() -> None:
    as_user = lab_command(Path("/nb"), port=8899, no_browser=True)
    assert as_user[1:] == ["-m", "jupyterlab", "--ServerApp.root_dir=/nb", "--ServerApp.port=8899", "--no-browser"]
    assert "--allow-root" in lab_command(Path("/nb"), port=None, no_browser=False, as_root=True)
