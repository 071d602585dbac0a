"""What-if of an N-resource Terraform plan on a synthetic organisation, against a plain analysis.

``python -m benchmarks.bench_whatif [--size large] [--resources 50]`` generates the organisation and a
plan (hand-built in Terraform's JSON plan format: inline policies added to roles, trusts widened to a
namespace, parameters, keys and aliases created), saves both, then times in fresh processes:

* ``plain``: one analysis of the snapshot (inventory, graph, findings, access rows);
* ``whatif``: ``irsa whatif``'s work from the loaded snapshot: read the plan, overlay it, analyse both
  and compare;
* ``whatif-baseline``: the same with the snapshot's analysis read from a baseline file written by an
  earlier run (``irsa whatif --baseline FILE``): what a CI job pays when today's snapshot is reused.

The snapshot is loaded untimed in every process (it is the same for all three). Each stage reports its
wall time and its CPU time (user + system of the process and of the worker process a what-if forks to
analyse the snapshot beside its overlay): on a machine shared with other work, CPU time is the fair
figure. The one-minute load average at the start and end of each stage is reported with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _change(
    address: str, rtype: str, name: str, actions: list[str], before: Any, after: Any, unknown: dict[str, Any]
) -> dict[str, Any]:
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown},
    }


def make_plan(snapshot: Any, resources: int) -> dict[str, Any]:
    """A plan of ``resources`` changes over the first account's roles, parameters and keys."""
    account = snapshot.roles[0].account_id
    region = next(p.region for p in snapshot.ssm_parameters if p.account_id == account)
    roles = [r for r in snapshot.roles if r.account_id == account and not r.service_linked]
    clusters = [c for c in snapshot.clusters if c.oidc_issuer]
    providers = {p.url: p.arn for p in snapshot.oidc_providers}
    prefixes = sorted(
        {p.name.split("/")[1] for p in snapshot.ssm_parameters if p.account_id == account and p.name.count("/") >= 2}
    )
    quarter = max(1, resources // 5)
    changes: list[dict[str, Any]] = []
    for i in range(quarter):  # an extra inline read policy on an existing role
        role = roles[(i * 37) % len(roles)]
        doc = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:{region}:{account}:parameter/{prefixes[i % len(prefixes)]}/*",
                }
            ],
        }
        changes.append(
            _change(
                f"aws_iam_role_policy.extra_{i}",
                "aws_iam_role_policy",
                f"extra_{i}",
                ["create"],
                None,
                {"name": f"extra-{i}", "role": role.name, "policy": json.dumps(doc)},
                {"id": True},
            )
        )
    for i in range(quarter):  # a trust widened to a whole namespace of a cluster
        role = roles[(i * 53 + 11) % len(roles)]
        cluster = clusters[i % len(clusters)]
        host = str(cluster.oidc_issuer).removeprefix("https://")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": providers.get(host, f"arn:aws:iam::{account}:oidc-provider/{host}")},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringLike": {f"{host}:sub": f"system:serviceaccount:ns-{i}:*"}},
                }
            ],
        }
        before = {
            "arn": role.arn,
            "name": role.name,
            "path": role.path,
            "assume_role_policy": json.dumps(role.trust_policy),
        }
        after = {**before, "assume_role_policy": json.dumps(trust)}
        changes.append(
            _change(f"aws_iam_role.widened_{i}", "aws_iam_role", f"widened_{i}", ["update"], before, after, {})
        )
    keys = resources - 3 * quarter - (resources - 3 * quarter) // 2
    for i in range(keys):  # a new key with an alias
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": roles[i].arn}, "Action": "kms:Decrypt", "Resource": "*"}
            ],
        }
        changes.append(
            _change(
                f"aws_kms_key.new_{i}",
                "aws_kms_key",
                f"new_{i}",
                ["create"],
                None,
                {"policy": json.dumps(policy), "is_enabled": True},
                {"arn": True, "key_id": True},
            )
        )
    aliases = resources - 3 * quarter - keys
    for i in range(aliases):
        changes.append(
            _change(
                f"aws_kms_alias.new_{i}",
                "aws_kms_alias",
                f"new_{i}",
                ["create"],
                None,
                {"name": f"alias/new-{i}"},
                {"target_key_id": True},
            )
        )
    for i in range(quarter):  # a new SecureString under an existing prefix, on a new key when there is one
        changes.append(
            _change(
                f"aws_ssm_parameter.new_{i}",
                "aws_ssm_parameter",
                f"new_{i}",
                ["create"],
                None,
                {"name": f"/{prefixes[i % len(prefixes)]}/new-{i}", "type": "SecureString"},
                {"arn": True, "key_id": True},
            )
        )
    config = []
    for i in range(min(aliases, keys)):
        config.append(
            {
                "address": f"aws_kms_alias.new_{i}",
                "mode": "managed",
                "type": "aws_kms_alias",
                "name": f"new_{i}",
                "expressions": {
                    "target_key_id": {"references": [f"aws_kms_key.new_{i}.key_id", f"aws_kms_key.new_{i}"]}
                },
            }
        )
    for i in range(quarter):
        if keys:
            config.append(
                {
                    "address": f"aws_ssm_parameter.new_{i}",
                    "mode": "managed",
                    "type": "aws_ssm_parameter",
                    "name": f"new_{i}",
                    "expressions": {
                        "key_id": {"references": [f"aws_kms_key.new_{i % keys}.arn", f"aws_kms_key.new_{i % keys}"]}
                    },
                }
            )
    assert len(changes) == resources, len(changes)
    return {
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": region}}}},
            "root_module": {"resources": config},
        },
    }


def stage(name: str, snapshot_path: Path, plan_path: Path, baseline_path: Path) -> dict[str, Any]:
    from irsa_lib.analysis import analyse
    from irsa_lib.snapshot import load_snapshot
    from irsa_lib.whatif.baseline import load_baseline, save_baseline
    from irsa_lib.whatif.compare import what_if
    from irsa_lib.whatif.overlay import apply_plan
    from irsa_lib.whatif.plan import load_plan

    snapshot = load_snapshot(snapshot_path)
    account = snapshot.roles[0].account_id
    load = os.getloadavg()[0]
    cpu = _cpu()
    start = time.perf_counter()
    details: dict[str, Any] = {}
    if name == "plain":
        analysis = analyse(snapshot)
        details = {"findings": len(analysis.findings), "rows": len(analysis.rows)}
    elif name == "write-baseline":
        analysis = analyse(snapshot)
        save_baseline(baseline_path, snapshot_path, analysis.findings, analysis.rows)
    else:
        baseline = load_baseline(baseline_path, snapshot_path) if name == "whatif-baseline" else None
        overlay = apply_plan(snapshot, load_plan(plan_path), account_id=account)
        result = what_if(snapshot, overlay, baseline=baseline)
        details = {
            "gained": len(result.gained),
            "lost": len(result.lost),
            "changed": len(result.drift.access_changed),
            "introduced": len(result.introduced),
            "effects": len(overlay.effects),
        }
    wall = time.perf_counter() - start
    return {"stage": name, "seconds": round(wall, 2), "cpu_seconds": round(_cpu() - cpu, 2),
            "load": [round(load, 1), round(os.getloadavg()[0], 1)], **details}  # fmt: skip


def _cpu() -> float:
    """User + system time of this process and of its children that ended (a what-if's forked worker)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size", default="large")
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="irsa-bench-whatif-"))
    snap, plan, base = workdir / f"{args.size}.json", workdir / f"plan-{args.resources}.json", workdir / "baseline.json"
    if args.stage:
        print(json.dumps(stage(args.stage, snap, plan, base)))
        return 0
    from benchmarks.synthetic import generate
    from irsa_lib.snapshot import save_snapshot

    snapshot = generate(args.size, seed=args.seed)
    save_snapshot(snapshot, snap)
    plan.write_text(json.dumps(make_plan(snapshot, args.resources)))
    results = {}
    for name in ("plain", "whatif", "write-baseline", "whatif-baseline"):
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.bench_whatif",
            "--size",
            args.size,
            "--resources",
            str(args.resources),
            "--workdir",
            str(workdir),
            "--stage",
            name,
        ]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(results[name]), flush=True)
    for unit, key in (("wall", "seconds"), ("CPU", "cpu_seconds")):
        plain = results["plain"][key]
        what, based = results["whatif"][key], results["whatif-baseline"][key]
        print(
            f"{args.size}, {args.resources}-resource plan, {unit} time: plain analysis {plain:.1f} s; what-if "
            f"{what:.1f} s (x{what / plain:.2f}); with the baseline reused {based:.1f} s (x{based / plain:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
