"""The markers the fast check relies on (``make check``: no local server, browser or notebook kernel).

A test is ``integration`` when it uses a fixture that starts a local server (moto, the demo's
endpoint, kmock), whatever its file says; the doctests of the demo's server start one too. A test
left unmarked that still starts a server, a kernel or a browser fails and says to mark it, so the
fast check never runs one by mistake.
"""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

import pytest

SERVER_FIXTURES = frozenset({"moto_server", "seeded_aws", "_blank_server", "kmock_server", "demo_endpoint"})
"""Fixtures that start a local server; a test using one directly or through other fixtures is integration."""
MARKERS = ("integration", "notebook", "browser")

os.environ["IRSA_CACHE"] = "off"
"""Commands under test build their graph (and write nothing under ~/.cache); tests/test_cache.py
turns the graph cache on in a directory of its own."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) or item.nodeid.startswith(
            "irsa_lib/demo/server.py::"
        ):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _unmarked_tests_start_no_server_kernel_or_browser(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if any(request.node.get_closest_marker(m) for m in MARKERS):
        return
    where = request.node.nodeid

    def no_listen(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"{where} starts a local server: mark it integration")

    popen = subprocess.Popen.__init__

    def checked_popen(self: subprocess.Popen[Any], args: Any, *rest: Any, **kw: Any) -> None:
        text = " ".join(map(str, args)) if isinstance(args, (list, tuple)) else str(args)
        if "ipykernel" in text or "chrom" in text:
            raise RuntimeError(f"{where} starts a notebook kernel or a browser: mark it notebook or browser")
        popen(self, args, *rest, **kw)

    monkeypatch.setattr(socket.socket, "listen", no_listen)
    monkeypatch.setattr(subprocess.Popen, "__init__", checked_popen)
