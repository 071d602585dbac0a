"""``run_demo``: seed a local AWS endpoint, collect it and the shipped manifests into a snapshot.

A small orchestration over library calls so ``irsa demo``, tests and notebooks share it; later
stages (graph, findings, report) extend :class:`DemoResult` rather than this function's body.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from irsa_lib.demo.scenario import CLUSTER, REGION, DemoFacts, manifests_dir, seed_aws
from irsa_lib.demo.server import local_aws, local_aws_env, patched_env
from irsa_lib.model import Coverage
from irsa_lib.snapshot import Snapshot, merge_snapshots, save_snapshot

DEFAULT_OUT_DIR = Path("reports") / "demo"
SNAPSHOT_NAME = "snapshot.json"


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    """Where the demo wrote its outputs, what it collected, and what it had seeded."""

    out_dir: Path
    snapshot_path: Path
    snapshot: Snapshot
    facts: DemoFacts

    @property
    def gaps(self) -> tuple[Coverage, ...]:
        """Sources the demo could not collect completely (empty when all is well)."""
        return self.snapshot.incomplete()


def collect_demo(endpoint_url: str, *, cluster: str = CLUSTER) -> Snapshot:
    """Collect the AWS side through ``endpoint_url`` and load the shipped manifests for ``cluster``."""
    from irsa_lib.collect.aws import AwsTarget, collect_aws
    from irsa_lib.collect.manifests import load_manifests

    with patched_env(local_aws_env(endpoint_url, region=REGION)):
        aws_part = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=endpoint_url, progress=False)
    k8s_part = load_manifests(manifests_dir(), cluster=cluster)
    return merge_snapshots([aws_part, k8s_part])


def run_demo(out_dir: str | os.PathLike[str] = DEFAULT_OUT_DIR, *, endpoint_url: str | None = None) -> DemoResult:
    """Seed, collect and write ``<out_dir>/snapshot.json``.

    With ``endpoint_url`` the given endpoint is seeded and left running (``irsa demo
    --keep-running``); without it a local endpoint is started for the run and stopped after.
    """
    if endpoint_url is None:
        with local_aws(region=REGION) as aws:
            return run_demo(out_dir, endpoint_url=aws.endpoint_url)
    out = Path(out_dir)
    facts = seed_aws(endpoint_url)
    snapshot = collect_demo(endpoint_url, cluster=facts.cluster_name)
    path = save_snapshot(snapshot, out / SNAPSHOT_NAME)
    return DemoResult(out_dir=out, snapshot_path=path, snapshot=snapshot, facts=facts)
