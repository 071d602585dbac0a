"""``irsa report -o DIR``: run the access report notebook with papermill and write it as offline HTML."""

from __future__ import annotations

import argparse
from typing import Any

from irsa_lib.collect.gather import parse_cluster_map
from irsa_lib.errors import UsageError


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Collect (or load a snapshot), analyse, and write DIR/access_report.html plus the "
        "executed notebook, the snapshot, CSV/JSON tables and the standalone trust graph."
    )
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", metavar="DIR", help="directory for the report and its files")
    out.add_argument(
        "--runs-dir",
        metavar="DIR",
        help="scheduled runs: write this run to DIR/<UTC time> (created if missing), compare it with the last "
        "successful run in DIR unless --previous is given; a failed run is kept as DIR/<UTC time>.failed",
    )
    src = p.add_argument_group("what to analyse (a snapshot, or sources to collect)")
    src.add_argument("--snapshot", metavar="FILE", help="analyse this snapshot instead of collecting")
    src.add_argument("--aws-profile", action="append", default=[], metavar="NAME", help="AWS profile (repeatable)")
    src.add_argument(
        "--aws-role-arn", action="append", default=[], metavar="ARN", help="role to assume first (repeatable)"
    )
    src.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="AWS region (repeatable); alone: collect with the default credential chain",
    )
    src.add_argument("--endpoint-url", metavar="URL", help="a local AWS endpoint instead of AWS")
    src.add_argument(
        "--kube-context",
        action="append",
        default=[],
        metavar="CLUSTER=CONTEXT",
        help="live cluster to collect, by kubeconfig context (repeatable)",
    )
    src.add_argument("--kubeconfig", metavar="FILE")
    src.add_argument(
        "--manifests",
        action="append",
        default=[],
        metavar="CLUSTER=DIR",
        help="directory of YAML manifests for a cluster (repeatable)",
    )
    p.add_argument("--previous", metavar="FILE", help="an earlier snapshot: the report shows the drift")
    p.add_argument(
        "--whatif", metavar="FILE", help="a what-if (irsa whatif --format json): the report lists its new readers"
    )
    p.add_argument("--timeout", type=int, default=900, help="seconds a single notebook cell may run")
    p.set_defaults(run=run)


def parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The papermill parameters of ``access_report.ipynb`` for these options."""
    contexts = parse_cluster_map(args.kube_context, what="--kube-context")
    manifests = parse_cluster_map(args.manifests, what="--manifests")
    collecting = bool(
        args.aws_profile or args.aws_role_arn or args.region or args.endpoint_url or contexts or manifests
    )
    if args.snapshot and collecting:
        raise UsageError("give either --snapshot or sources to collect, not both")
    if not (args.snapshot or collecting):
        raise UsageError(
            "nothing to analyse: give --snapshot FILE, or --aws-profile / --endpoint-url / --manifests ..."
        )
    return {
        "snapshot_path": _abs(args.snapshot),
        "previous_snapshot": _abs(args.previous),
        "whatif_path": _abs(args.whatif),
        "aws_profiles": list(args.aws_profile),
        "aws_role_arns": list(args.aws_role_arn),
        "aws_regions": list(args.region),
        "endpoint_url": args.endpoint_url,
        "kube_contexts": contexts,
        "kubeconfig": _abs(args.kubeconfig),
        "manifest_dirs": {cluster: _abs(path) for cluster, path in manifests.items()},
    }


def _abs(path: str | None) -> str | None:
    """Paths become absolute: the notebook runs with the output directory as its working directory."""
    from pathlib import Path

    return str(Path(path).resolve()) if path else None


def run(args: argparse.Namespace) -> int:
    from irsa_lib.notebooks import run_report

    params = parameters(args)
    if not args.runs_dir:
        result = run_report(args.output, params, timeout=args.timeout)
        print(f"report: {result.html}")
        print(f"executed notebook: {result.notebook}")
        return 0
    from irsa_lib.render.runs import finish_run, last_successful, start_run

    previous = last_successful(args.runs_dir)
    if params["previous_snapshot"] is None and previous is not None:
        params["previous_snapshot"] = str((previous / "snapshot.json").resolve())
    run_dir = start_run(args.runs_dir)
    try:
        result = run_report(run_dir, params, timeout=args.timeout)
    except BaseException as exc:
        failed = finish_run(run_dir, error=f"{type(exc).__name__}: {exc}")
        print(f"run failed, kept as {failed} (the next run compares with {previous or 'no earlier run'})")
        raise
    done = finish_run(run_dir, error=None)
    print(f"report: {done / result.html.name}")
    print(f"compared with: {params['previous_snapshot'] or 'no earlier run'}")
    return 0
