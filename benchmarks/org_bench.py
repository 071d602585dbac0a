"""Organisation benchmark: collection fanned out on Dask, and the analysis single-process vs partitioned.

``python -m benchmarks.org_bench collect [--accounts 20,40,80] [--workers 1,2,4]`` starts the counting
local endpoint (``benchmarks.endpoint``) in its own process, seeds one organisation with the largest
number of member accounts (each small: a role, a key, a parameter, a secret; ``tests.collect.org_seed``),
then collects the first N members (the others excluded) on a fresh ``LocalCluster`` of W worker
processes (4 threads each) for every (N, W): seconds, seconds per account, speed-up over one worker,
efficiency (speed-up / W), CPU seconds of the workers and of the endpoint, and the load average at
start and end. The cluster's start is not timed.

``python -m benchmarks.org_bench analyse --size xlarge [--workers 2] [--no-single]`` generates a synthetic
organisation, runs :func:`irsa_lib.analysis.analyse` in a child process (wall and CPU time, peak RSS)
and :func:`irsa_lib.partitioned.analyse_partitioned` on a ``LocalCluster`` (wall time, CPU time and
peak RSS of every worker process and of the caller), and compares both answers by digest. At
``xxlarge`` the rows stay on the workers: the findings are compared by digest, the rows by number.

``python -m benchmarks.org_bench tasks --size xxlarge [--clusters 2]`` measures each task of the partitioned
analysis on its own: one process holds the organisation and its inventory (as a worker does once the
inventory is scattered), and each cluster task and each rule task runs in a child forked from it, so its
peak resident memory minus the parent's at the fork is what that task adds (Linux starts a child's peak
at its parent's resident size). The rule tasks get the cluster tasks' role views and readers.

Each prints one JSON line. Run on a quiet machine; on 2 cores the local endpoint (one moto process)
and the workers share the same two CPUs, which bounds the collection speed-up.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.machine import describe

if TYPE_CHECKING:
    from irsa_lib.snapshot import Snapshot


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (a worker's, through ``client.run``)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process (the local endpoint), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _digest(rows: Any, findings: Any) -> str:
    """A hash of the rows and findings, each by its repr, in order: two analyses with the same digest
    gave the same answer (compared across processes without moving the tables)."""
    h = hashlib.sha256()
    for item in (*rows, "--", *findings):
        h.update(repr(item).encode())
    return h.hexdigest()[:16]


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
                    load = os.getloadavg()[0]
                    endpoint0, workers0 = _process_cpu_seconds(server.pid), client.run(_cpu_seconds)
                    t0 = time.perf_counter()
                    snap = collect_organization(
                        client, access=MemberAccess(external_id="irsa", endpoint_url=url), regions=(REGION,),
                        exclude=exclude, progress=False,
                    )  # fmt: skip
                    seconds = time.perf_counter() - t0
                    worker_cpu = sum(v - workers0[k] for k, v in client.run(_cpu_seconds).items())
                    endpoint_cpu = _process_cpu_seconds(server.pid) - endpoint0
                collected = len({r.account_id for r in snap.roles})
                base = base or seconds
                speedup = base / seconds
                run = {
                    "accounts": n, "workers": w, "collected_accounts": collected, "seconds": round(seconds, 2),
                    "seconds_per_account": round(seconds / n, 3), "speedup": round(speedup, 2),
                    "efficiency": round(speedup / w, 2), "incomplete": len(snap.incomplete()),
                    "worker_cpu_seconds": round(worker_cpu, 1), "endpoint_cpu_seconds": round(endpoint_cpu, 1),
                    "load_at_start": round(load, 2), "load_at_end": round(os.getloadavg()[0], 2),
                }  # fmt: skip
                out["runs"].append(run)
                print(json.dumps(run), file=sys.stderr, flush=True)
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def _single(size: str, rules: list[str] | None, clusters: int | None) -> dict[str, Any]:
    """analyse() in this (child) process: wall and CPU time, peak RSS, and the answer's digest."""
    from irsa_lib.analysis import analyse

    snap = _organisation(size, clusters)
    t0, c0 = time.perf_counter(), time.process_time()
    a = analyse(snap, rules=rules)
    return {
        "seconds": round(time.perf_counter() - t0, 1), "cpu_seconds": round(time.process_time() - c0, 1),
        "peak_mib": round(_peak_mib()), "rows": len(a.rows), "findings": len(a.findings),
        "digest": _digest(a.rows, a.findings), "findings_digest": _digest((), a.findings),
    }  # fmt: skip


def analyse_sizes(
    size: str, workers: int, single: bool, rules: list[str] | None, clusters: int | None
) -> dict[str, Any]:
    """The single-process analysis in a child process, then the partitioned one on a fresh LocalCluster.

    Every worker process reports its peak RSS and CPU time; the rows stay on the workers above
    ``xlarge`` (only their number comes back), so the caller's memory is the snapshot's and the
    findings'. Up to ``xlarge`` both answers are compared by digest.
    """
    from irsa_lib.engine import dask_client
    from irsa_lib.partitioned import analyse_partitioned

    out: dict[str, Any] = {"size": size, "clusters": clusters or "all", "workers": workers,
                           "rules": "all" if rules is None else rules}  # fmt: skip
    if single:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.org_bench", "single", "--size", size, *_rules_arg(rules),
             *([] if clusters is None else ["--clusters", str(clusters)])],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        lines = proc.stdout.strip().splitlines()
        out["single"] = json.loads(lines[-1]) if lines else {"status": "error", "reason": proc.stderr[-500:]}
        print(json.dumps(out["single"]), file=sys.stderr, flush=True)
    snap = _organisation(size, clusters)
    keep = size not in ("xxlarge",)
    with dask_client(workers=workers, threads_per_worker=1, memory_limit=None) as client:
        cpu0 = client.run(_cpu_seconds)
        t0, c0 = time.perf_counter(), time.process_time()
        spread = analyse_partitioned(client, snap, rules=rules, keep_rows=keep)
        seconds, caller_cpu = time.perf_counter() - t0, time.process_time() - c0
        peaks = client.run(_peak_mib)
        cpu = {k: v - cpu0[k] for k, v in client.run(_cpu_seconds).items()}
    out["partitioned"] = {
        "seconds": round(seconds, 1), "caller_cpu_seconds": round(caller_cpu, 1),
        "worker_cpu_seconds": sorted(round(v, 1) for v in cpu.values()),
        "worker_peak_mib": sorted(round(v) for v in peaks.values()), "caller_peak_mib": round(_peak_mib()),
        "rows": spread.row_count, "findings": len(spread.findings), "cluster_partitions": len(spread.clusters),
        "rule_partitions": len(spread.rules),
    }  # fmt: skip
    out["partitioned"]["findings_digest"] = _digest((), spread.findings)
    if keep:
        out["partitioned"]["digest"] = _digest(spread.rows, spread.findings)
        if single and "digest" in out["single"]:
            out["equal"] = out["single"]["digest"] == out["partitioned"]["digest"]
    elif single and "findings_digest" in out["single"]:  # the rows stayed on the workers: their number
        out["equal_findings_and_row_count"] = (out["single"]["findings_digest"], out["single"]["rows"]) == (
            out["partitioned"]["findings_digest"],
            spread.row_count,
        )
    return out


def _rss_mib() -> float:
    """Resident memory of this process now (not its peak), in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _in_child(task: Any) -> dict[str, Any]:
    """Run ``task()`` in a forked child; its seconds, result and peak memory over this process's
    resident memory at the fork (the child's own peak starts there)."""
    base = _rss_mib()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report on the pipe, leave without the parent's exit handlers
        os.close(read)
        code = 0
        try:
            t0 = time.perf_counter()
            result = task()
            out = {"seconds": round(time.perf_counter() - t0, 1), "peak_mib": round(_peak_mib()), "result": result}
        except BaseException as exc:  # reported, not raised: the parent goes on with the next task
            out, code = {"status": "error", "reason": repr(exc)[:500]}, 1
        with os.fdopen(write, "w") as f:
            json.dump(out, f, default=str)
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        text = f.read()
    os.waitpid(pid, 0)
    out = json.loads(text) if text else {"status": "error", "reason": "the child died without a report"}
    out["base_mib"] = round(base)
    if "peak_mib" in out:
        out["added_mib"] = out["peak_mib"] - out["base_mib"]
    return out


def tasks(size: str, clusters: int | None, rules: list[str] | None) -> dict[str, Any]:
    """Each partitioned task's seconds and added peak memory (see the module docstring)."""
    import pickle
    import tempfile

    from irsa_lib.findings import select_rules
    from irsa_lib.partitioned import CLUSTER_RULES, analyse_cluster, partition_keys, rule_findings
    from irsa_lib.resolve import Inventory

    snap = _organisation(size, clusters)
    inventory = Inventory.from_snapshot(snap)
    ids = tuple(r.id for r in select_rules(rules))
    out: dict[str, Any] = {"size": size, "clusters": clusters or "all", "base_mib": round(_rss_mib()), "tasks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for c in partition_keys(snap):
            where = Path(tmp, f"{len(out['tasks'])}.pickle")

            def cluster_task(c: str = c, where: Path = where) -> int:
                part = analyse_cluster(inventory, c, ids, keep_rows=False)
                where.write_bytes(pickle.dumps((part.roles, part.readers)))
                return part.row_count

            out["tasks"][f"cluster {c}"] = _in_child(cluster_task)
            print(json.dumps({f"cluster {c}": out["tasks"][f"cluster {c}"]}), file=sys.stderr, flush=True)
        parts = [pickle.loads(f.read_bytes()) for f in sorted(Path(tmp).glob("*.pickle"))]
    roles, readers = [r for r, _ in parts], [r for _, r in parts]
    for r in ids:
        if r not in CLUSTER_RULES:
            out["tasks"][f"rule {r}"] = _in_child(lambda r=r: len(rule_findings(inventory, r, roles, readers)))
            print(json.dumps({f"rule {r}": out["tasks"][f"rule {r}"]}), file=sys.stderr, flush=True)
    return out


def _organisation(size: str, clusters: int | None) -> Snapshot:
    """A synthetic organisation; with ``clusters``, every AWS record but the records tied to a cluster
    (Kubernetes objects, EKS clusters, node groups, Pod Identity associations, Kubernetes coverage) of
    its first N clusters only: the AWS side of a large organisation with fewer clusters to analyse."""
    from benchmarks.synthetic import generate
    from irsa_lib.partitioned import KUBERNETES_FIELDS

    snap = generate(size)
    if clusters is None:
        return snap
    keep = {c.name for c in snap.clusters[:clusters]}
    own: dict[str, Any] = {f: tuple(r for r in getattr(snap, f) if r.cluster in keep) for f in KUBERNETES_FIELDS}
    return dataclasses.replace(
        snap,
        **own,
        clusters=snap.clusters[:clusters],
        node_groups=tuple(ng for ng in snap.node_groups if ng.cluster_name in keep),
        pod_identity_associations=tuple(a for a in snap.pod_identity_associations if a.cluster_name in keep),
        coverage=tuple(c for c in snap.coverage if c.source == "aws" or c.scope in keep),
    )


def _rules(text: str | None) -> list[str] | None:
    return None if text is None else [r for r in text.split(",") if r]


def _rules_arg(rules: list[str] | None) -> list[str]:
    return [] if rules is None else ["--rules", ",".join(rules)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.org_bench", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--accounts", default="20,40,80")
    c.add_argument("--workers", default="1,2,4")
    a = sub.add_parser("analyse")
    a.add_argument("--size", default="xlarge")
    a.add_argument("--workers", type=int, default=2)
    a.add_argument("--no-single", action="store_true", help="skip the single-process run")
    a.add_argument("--rules", help="comma-separated rule ids (default: every rule)")
    a.add_argument("--clusters", type=int, help="keep the Kubernetes side of the first N clusters only")
    t = sub.add_parser("tasks")
    t.add_argument("--size", default="xlarge")
    t.add_argument("--rules", help="comma-separated rule ids (default: every rule)")
    t.add_argument("--clusters", type=int, help="keep the Kubernetes side of the first N clusters only")
    s = sub.add_parser("single")
    s.add_argument("--size", default="medium")
    s.add_argument("--rules")
    s.add_argument("--clusters", type=int)
    args = parser.parse_args(argv)
    if args.what == "single":
        print(json.dumps(_single(args.size, _rules(args.rules), args.clusters)))
        return 0
    started = {"machine": describe(), "load": os.getloadavg()}
    if args.what == "tasks":
        result = tasks(args.size, args.clusters, _rules(args.rules))
    elif args.what == "collect":
        result = collect([int(n) for n in args.accounts.split(",")], [int(w) for w in args.workers.split(",")])
    else:
        result = analyse_sizes(args.size, args.workers, not args.no_single, _rules(args.rules), args.clusters)
    print(json.dumps({**started, **result, "load_after": os.getloadavg()}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
