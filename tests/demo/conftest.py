"""Local AWS endpoints for the demo tests: one seeded once per session, one blank per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from irsa_lib.demo.scenario import DemoFacts, seed_aws
from irsa_lib.demo.server import LocalAws, start_local_aws


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
