"""Local AWS endpoints for the demo tests: one seeded once per session, one blank per test.

Both endpoints are moto servers in this process, and moto keeps its accounts in process-wide state: resetting
the blank endpoint empties the seeded one too. The tests that use the blank endpoint therefore run after every
other demo test (``pytest_collection_modifyitems``), so no test reads the seeded account after a reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from irsa_lib.demo.scenario import DemoFacts, seed_aws
from irsa_lib.demo.server import LocalAws, start_local_aws

DEMO_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the demo tests that reset moto's state after the demo tests that read the seeded account."""
    demo = [i for i, item in enumerate(items) if DEMO_TESTS in item.path.parents]
    if not demo:
        return
    block = [items[i] for i in demo]
    ordered = [t for t in block if "blank_aws" not in t.fixturenames] + [
        t for t in block if "blank_aws" in t.fixturenames
    ]
    for i, item in zip(demo, ordered, strict=True):
        items[i] = item


@pytest.fixture(scope="session")
def seeded_aws() -> Iterator[LocalAws]:
    """A local endpoint holding the demo account; tests must not modify it."""
    aws = start_local_aws()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture(scope="session")
def facts(seeded_aws: LocalAws) -> DemoFacts:
    return seed_aws(seeded_aws.endpoint_url)


@pytest.fixture(scope="session")
def _blank_server() -> Iterator[LocalAws]:
    aws = start_local_aws()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture
def blank_aws(_blank_server: LocalAws) -> LocalAws:
    """A local endpoint reset to empty before the test."""
    _blank_server.reset()
    return _blank_server
