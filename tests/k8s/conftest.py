"""Fixtures: one kmock API server for the session, wiped before each test, and a kubeconfig for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.k8s.kmock_harness import ThreadedKMock

DATA = Path(__file__).resolve().parent.parent / "data" / "k8s"
TOKEN = "valid-token"


@pytest.fixture(scope="session")
def kmock_server() -> Iterator[ThreadedKMock]:
    server = ThreadedKMock().start()
    yield server
    server.stop()


@dataclass
class Kube:
    """The wiped server plus a kubeconfig whose context ``kmock`` reaches it with a valid token."""

    server: ThreadedKMock
    kubeconfig: Path


@pytest.fixture
def kube(kmock_server: ThreadedKMock, tmp_path: Path) -> Kube:
    kmock_server.reset()
    kmock_server.emulator.tokens = {TOKEN}
    kubeconfig = kmock_server.write_kubeconfig(tmp_path / "kubeconfig", contexts={"kmock": {"token": TOKEN}})
    return Kube(server=kmock_server, kubeconfig=kubeconfig)
