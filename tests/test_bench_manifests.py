"""The manifest benchmark reads what it generates, with either parser (no timing is asserted)."""

from __future__ import annotations

import pytest

from benchmarks.bench_manifests import main


def test_main_compares_both_parsers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--megabytes", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "MB/s" in out and "SafeLoader" in out and "records" in out
