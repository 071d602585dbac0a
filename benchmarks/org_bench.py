"""Organisation benchmark: collection fanned out on Dask, and the analysis single-process vs partitioned.

``python -m benchmarks.org_bench collect [--accounts 20,40,80] [--workers 1,2,4]`` starts the counting
local endpoint (``benchmarks.endpoint``) in its own process, seeds one organisation with the largest
number of member accounts (each small: a role, a key, a parameter, a secret; ``tests.collect.org_seed``),
then collects the first N members (the others excluded) on a fresh ``LocalCluster`` of W worker
processes (4 threads each) for every (N, W): seconds, seconds per account, speed-up over one worker
and efficiency (speed-up / W). The cluster's start is not timed.

``python -m benchmarks.org_bench analyse --size medium [--workers 2]`` generates a synthetic
organisation, runs :func:`irsa_lib.analysis.analyse` in a child process (time, peak RSS) and
:func:`irsa_lib.partitioned.analyse_partitioned` on a ``LocalCluster`` (time, peak RSS of every worker
process, and whether rows and findings are equal to the single-process ones).

Each prints one JSON line. Run on a quiet machine; on 2 cores the local endpoint (one moto process)
and the workers share the same two CPUs, which bounds the collection speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from benchmarks.machine import describe


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def collect(accounts: list[int], workers: list[int]) -> dict[str, Any]:
    from irsa_lib.collect.fanout import MemberAccess, collect_organization
    from irsa_lib.engine import dask_client
    from tests.collect.org_seed import MANAGEMENT, REGION, seed_organization

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.endpoint"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        t0 = time.perf_counter()
        org = seed_organization(url, members=max(accounts))
        out: dict[str, Any] = {"seed_seconds": round(time.perf_counter() - t0, 1), "runs": []}
        for n in accounts:
            exclude = [MANAGEMENT, *org.members[n:]]
            base: float | None = None
            for w in workers:
                with dask_client(workers=w, threads_per_worker=4) as client:
                    t0 = time.perf_counter()
                    snap = collect_organization(
                        client, access=MemberAccess(external_id="irsa", endpoint_url=url), regions=(REGION,),
                        exclude=exclude, progress=False,
                    )  # fmt: skip
                    seconds = time.perf_counter() - t0
                collected = len({r.account_id for r in snap.roles})
                base = base or seconds
                speedup = base / seconds
                run = {
                    "accounts": n, "workers": w, "collected_accounts": collected, "seconds": round(seconds, 2),
                    "seconds_per_account": round(seconds / n, 3), "speedup": round(speedup, 2),
                    "efficiency": round(speedup / w, 2), "incomplete": len(snap.incomplete()),
                }  # fmt: skip
                out["runs"].append(run)
                print(json.dumps(run), file=sys.stderr, flush=True)
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def _single(size: str) -> dict[str, Any]:
    """analyse() in this (child) process: time and peak RSS."""
    from benchmarks.synthetic import generate
    from irsa_lib.analysis import analyse

    snap = generate(size)
    t0 = time.perf_counter()
    a = analyse(snap)
    return {
        "seconds": round(time.perf_counter() - t0, 2), "peak_mib": round(_peak_mib()),
        "rows": len(a.rows), "findings": len(a.findings),
    }  # fmt: skip


def analyse_sizes(size: str, workers: int, single: bool) -> dict[str, Any]:
    from benchmarks.synthetic import generate
    from irsa_lib.analysis import analyse
    from irsa_lib.engine import dask_client
    from irsa_lib.partitioned import analyse_partitioned

    out: dict[str, Any] = {"size": size, "workers": workers}
    if single:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.org_bench", "single", "--size", size],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        lines = proc.stdout.strip().splitlines()
        out["single"] = json.loads(lines[-1]) if lines else {"status": "error", "reason": proc.stderr[-500:]}
    snap = generate(size)
    with dask_client(workers=workers, threads_per_worker=1, memory_limit=None) as client:
        t0 = time.perf_counter()
        spread = analyse_partitioned(client, snap)
        seconds = time.perf_counter() - t0
        peaks = client.run(_peak_mib)
    out["partitioned"] = {
        "seconds": round(seconds, 2), "worker_peak_mib": sorted(round(v) for v in peaks.values()),
        "rows": len(spread.rows), "findings": len(spread.findings), "row_partitions": len(spread.clusters),
        "rule_partitions": len(spread.rules),
    }  # fmt: skip
    if single and size in ("tiny", "small", "medium"):
        reference = analyse(snap)
        out["equal"] = reference.rows == spread.rows and reference.findings == spread.findings
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.org_bench", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--accounts", default="20,40,80")
    c.add_argument("--workers", default="1,2,4")
    a = sub.add_parser("analyse")
    a.add_argument("--size", default="medium")
    a.add_argument("--workers", type=int, default=2)
    a.add_argument("--no-single", action="store_true", help="skip the single-process run")
    s = sub.add_parser("single")
    s.add_argument("--size", default="medium")
    args = parser.parse_args(argv)
    if args.what == "single":
        print(json.dumps(_single(args.size)))
        return 0
    started = {"machine": describe(), "load": os.getloadavg()}
    if args.what == "collect":
        result = collect([int(n) for n in args.accounts.split(",")], [int(w) for w in args.workers.split(",")])
    else:
        result = analyse_sizes(args.size, args.workers, not args.no_single)
    print(json.dumps({**started, **result, "load_after": os.getloadavg()}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
