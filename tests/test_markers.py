"""The fast check's guard (tests/conftest.py): an unmarked test cannot start a server, a kernel or a browser."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def test_an_unmarked_test_cannot_listen() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        with pytest.raises(RuntimeError, match="starts a local server: mark it integration"):
            s.listen()


def test_an_unmarked_test_cannot_start_a_kernel() -> None:
    with pytest.raises(RuntimeError, match="mark it notebook or browser"):
        subprocess.Popen([sys.executable, "-m", "ipykernel_launcher", "--help"])


def test_an_unmarked_test_may_run_other_programs() -> None:
    assert subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, text=True).stdout == "ok\n"


@pytest.mark.integration
def test_a_marked_test_may_listen() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
