"""The analysis on a real Dask LocalCluster (process workers) equals the single-process analysis.

Row for row and finding for finding, on synthetic organisations with several clusters and accounts
(``tiny`` here, ``small`` with ``IRSA_PARTITION_SIZES=small``; the benchmark runs ``medium`` and larger:
on a shared 2-core machine the single-process analysis of ``medium`` alone takes minutes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.synthetic import generate
from irsa_lib.analysis import analyse
from irsa_lib.engine import dask_client
from irsa_lib.partitioned import analyse_partitioned

SIZES = os.environ.get("IRSA_PARTITION_SIZES", "tiny").split(",")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with dask_client(workers=2, threads_per_worker=1) as c:
        yield c


@pytest.mark.parametrize("size", SIZES)
def test_partitioned_analysis_equals_the_single_process_one(client: Any, size: str) -> None:
    snapshot = generate(size)
    single = analyse(snapshot)
    spread = analyse_partitioned(client, snapshot)
    if size == "tiny":
        assert len(spread.clusters) == 2  # tiny has two clusters: two row partitions
    assert spread.rules == single.rules
    assert len(spread.rows) == len(single.rows) > 0
    assert spread.rows == single.rows
    assert len(spread.findings) == len(single.findings) > 0
    assert spread.findings == single.findings
    # the rows of every cluster came from their own task, and every cluster with subjects is there
    assert set(spread.clusters) == {r.cluster for r in single.rows}


def test_partitioned_analysis_runs_only_the_rules_asked(client: Any) -> None:
    snapshot = generate("tiny")
    spread = analyse_partitioned(client, snapshot, rules=["F13"])
    assert spread.rules == ("F13",)
    assert spread.findings == analyse(snapshot, rules=["F13"]).findings
    assert {f.rule for f in spread.findings} <= {"F13"}
