"""Micro-benchmarks (pytest-benchmark). Run explicitly: ``pytest benchmarks/ --benchmark-only``.

Not part of ``make test`` (pytest's testpaths are tests/ and irsa_lib/), and nothing here asserts on
time: pytest-benchmark reports the distribution. Stages whose module is not present are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.stage import who_targets
from benchmarks.synthetic import generate
from irsa_lib.snapshot import Snapshot, load_snapshot, save_snapshot


@pytest.fixture(scope="module")
def small() -> Snapshot:
    return generate("small")


@pytest.fixture(scope="module")
def small_file(small: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_snapshot(small, tmp_path_factory.mktemp("bench") / "small.json")


@pytest.fixture(scope="module")
def small_graph(small: Snapshot) -> Any:
    graph = pytest.importorskip("irsa_lib.graph")
    return graph.build_graph(small)


def test_generate_small(benchmark: Any) -> None:
    snap = benchmark(generate, "small")
    assert len(snap.roles) == 1250


def test_load_small(benchmark: Any, small_file: Path, small: Snapshot) -> None:
    assert benchmark(load_snapshot, small_file) == small


def test_build_graph_small(benchmark: Any, small: Snapshot) -> None:
    graph = pytest.importorskip("irsa_lib.graph")
    benchmark.pedantic(graph.build_graph, args=(small,), rounds=3, iterations=1)


def test_who_can_read_small(benchmark: Any, small: Snapshot, small_graph: Any) -> None:
    access = pytest.importorskip("irsa_lib.access")
    targets = who_targets(small, graph=small_graph)
    benchmark(lambda: [list(access.who_can_read(small_graph, t)) for t in targets])
