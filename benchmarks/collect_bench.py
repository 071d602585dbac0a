"""Collection benchmark: API calls and time per 1,000 resources against a local AWS endpoint.

``python -m benchmarks.collect_bench [--size collect]`` starts the counting endpoint
(``benchmarks.endpoint``) in its own process, seeds it with one account of a synthetic
organisation, clears the counts, runs ``irsa_lib.collect.aws.collect_aws`` against it and prints
one JSON line: seconds, resources seeded, records collected, calls per operation, and any call that
would read a secret value (there must be none).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

from benchmarks.stage import rss_mib
from benchmarks.synthetic import REGION, seed_endpoint

VALUE_READS = frozenset(
    {
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "kms:Decrypt",
    }
)


def minimum_calls(seeded: dict[str, int], *, advanced_parameters: int = 0) -> int:
    """A floor for collecting ``seeded`` under the documented page sizes, reading no values.

    IAM in bulk (GetAccountAuthorizationDetails, up to 1,000 entities a page) plus one
    GetOpenIDConnectProvider each; KMS ListKeys/ListAliases pages plus DescribeKey (state, manager),
    GetKeyPolicy and ListGrants per key (no bulk form exists; rotation status is extra); SSM DescribeParameters (50 a page) plus GetResourcePolicies for
    Advanced-tier parameters only (Standard ones cannot carry policies); Secrets Manager ListSecrets
    (100 a page) plus GetResourcePolicy per secret; EKS ListClusters, then DescribeCluster,
    ListNodegroups and ListPodIdentityAssociations per cluster and DescribeNodegroup per node group;
    one GetCallerIdentity.
    """

    def pages(n: int, size: int) -> int:
        return max(1, -(-n // size))

    iam_entities = seeded.get("roles", 0) + seeded.get("managed_policies", 0)
    keys, clusters = seeded.get("kms_keys", 0), seeded.get("clusters", 0)
    return (
        1
        + pages(iam_entities, 1000)
        + 1
        + seeded.get("oidc_providers", 0)
        + pages(keys, 1000)
        + pages(keys, 100)
        + 3 * keys
        + pages(seeded.get("ssm_parameters", 0), 50)
        + advanced_parameters
        + pages(seeded.get("secrets", 0), 100)
        + seeded.get("secrets", 0)
        + 1
        + 3 * clusters
        + seeded.get("node_groups", 0)
    )


def _calls(url: str, action: str = "calls") -> dict[str, int]:
    method = "POST" if action == "reset" else "GET"
    req = urllib.request.Request(f"{url}/__bench/{action}", method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=30) as resp:
        data: dict[str, int] = json.loads(resp.read())
    return data


def run(size: str, seed: int) -> dict[str, Any]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
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
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the local endpoint did not start (got {url!r})")
        t0 = time.perf_counter()
        seeded = seed_endpoint(url, size, seed=seed)
        seed_seconds = time.perf_counter() - t0
        seed_calls = sum(_calls(url).values())
        _calls(url, "reset")
        out: dict[str, Any] = {
            "resources": seeded.resources,
            "seeded": dict(seeded.counts),
            "seed_seconds": seed_seconds,
            "seed_calls": seed_calls,
            "minimum_calls": minimum_calls(dict(seeded.counts), advanced_parameters=seeded.advanced_parameters),
        }
        from irsa_lib.collect.aws import AwsTarget, collect_aws

        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ[key] = "testing"
        os.environ["AWS_DEFAULT_REGION"] = REGION
        base = rss_mib()
        t0 = time.perf_counter()
        snap = collect_aws([AwsTarget(regions=(REGION,))], endpoint_url=url, progress=False)
        seconds = time.perf_counter() - t0
        calls = _calls(url)
        total = sum(calls.values())
        out.update(
            status="ok",
            seconds=seconds,
            base_rss_mib=base,
            collected={k: v for k, v in snap.counts().items() if v},
            calls=calls,
            total_calls=total,
            calls_per_resource=total / max(1, seeded.resources),
            seconds_per_1000=seconds / max(1, seeded.resources) * 1000,
            value_reads=sorted(op for op in calls if op in VALUE_READS),
        )
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.collect_bench", description=__doc__)
    parser.add_argument("--size", default="collect")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        result = run(args.size, args.seed)
    except Exception as exc:
        result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    result["peak_rss_mib"] = rss_mib()
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
