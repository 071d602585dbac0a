"""Start-up time of the ``irsa`` command: ``irsa --help`` and ``irsa simulate --request FILE``.

Run: ``python -m benchmarks.bench_cli [--runs N]``. Each command runs ``N`` times in a fresh process
(the ``irsa`` script beside this interpreter); printed per command: the median and fastest wall
time, the median CPU time (user + system of the child: steadier than wall time on a busy machine),
and which heavy libraries the command imported (read from ``python -X importtime``).

Budget on the project's machine: ``irsa --help`` <= 0.3 s, ``irsa simulate --request`` <= 0.6 s.
Only the subcommand being run is imported, so neither imports pandas, networkx, papermill, boto3 or
the onboarding stack.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HEAVY = ("pandas", "networkx", "papermill", "boto3", "kubernetes", "pyvis", "irsa_lib.onboarding", "irsa_lib.graph")
BUDGET = {"--help": 0.3, "simulate --request": 0.6}

REQUEST = {
    "principal": {
        "arn": "arn:aws:iam::123456789012:role/billing-service-role",
        "identity_policies": [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}],
            }
        ],
    },
    "action": "ssm:GetParameter",
    "resource": "arn:aws:ssm:us-east-1:123456789012:parameter/billing/db-password",
}


def irsa_command() -> list[str]:
    """The ``irsa`` script of this environment (what a user runs), else ``python -m irsa_lib.cli``."""
    script = Path(sys.executable).with_name("irsa")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "irsa_lib.cli"]


def commands(request_file: Path) -> dict[str, list[str]]:
    return {"--help": ["--help"], "simulate --request": ["simulate", "--request", str(request_file)]}


def imported(args: Sequence[str]) -> set[str]:
    """Top-level names of the modules ``irsa ARGS`` imports (``-X importtime`` lists every one)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "irsa_lib.cli", *args], capture_output=True, text=True, check=True
    )
    names = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def heavy_imports(args: Sequence[str]) -> list[str]:
    """The heavy libraries among what ``irsa ARGS`` imports."""
    names = imported(args)
    return [h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in names)]


def measure(args: Sequence[str], runs: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([*irsa_command(), *args], capture_output=True, check=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"wall_median": statistics.median(walls), "wall_min": min(walls), "cpu_median": statistics.median(cpus)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        request_file = Path(tmp) / "request.json"
        request_file.write_text(json.dumps(REQUEST), encoding="utf-8")
        for name, cmd in commands(request_file).items():
            m = measure(cmd, args.runs)
            heavy = heavy_imports(cmd)
            print(
                f"irsa {name}: wall median {m['wall_median']:.3f} s (fastest {m['wall_min']:.3f} s), "
                f"cpu median {m['cpu_median']:.3f} s, budget {BUDGET[name]} s; "
                f"heavy imports: {', '.join(heavy) or 'none'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
