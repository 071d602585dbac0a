"""``irsa whatif SNAPSHOT --terraform-plan PLAN.json [--manifests DIR --cluster NAME ...]``: what would this change grant?

Overlays the planned state (``terraform show -json PLANFILE``; OpenTofu writes the same) and/or changed
manifests (each replaces that cluster's Kubernetes side) on the snapshot, analyses both and prints the
difference: access gained, lost and changed, findings introduced and resolved. Exit 0; 1 when
``--fail-on`` trips (``new-access``: a subject gains a read; a severity: a finding at or above it is
introduced); 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from irsa_lib.cli.collect import add_manifest_sources, manifest_sources
from irsa_lib.errors import UsageError
from irsa_lib.findings import Severity

NEW_ACCESS = "new-access"


def register(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n", 1)[1].replace("``", "") if __doc__ else None
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("snapshot", help="snapshot JSON file of the current state")
    p.add_argument("--terraform-plan", metavar="PLAN.json", help="output of `terraform show -json PLANFILE`")
    p.add_argument(
        "--terraform-dir", metavar="DIR", help="the Terraform configuration: SARIF results point at its blocks"
    )
    add_manifest_sources(p, "changed manifests (or helm template output) replacing that cluster's Kubernetes side")
    p.add_argument("--format", choices=("text", "json", "markdown", "sarif"), default="text")
    p.add_argument(
        "--fail-on",
        metavar="new-access|SEVERITY",
        help="exit 1 if the change grants a new read (new-access) or introduces a finding at or above SEVERITY",
    )
    p.add_argument("--account", metavar="ID", help="account of resources the plan creates (default: the snapshot's)")
    p.add_argument("--region", metavar="R", help="region of resources the plan creates (default: the plan's provider)")
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="reuse the snapshot's analysis from FILE when it was written for this snapshot, else write it there",
    )
    p.add_argument(
        "--kubernetes-cluster", metavar="NAME", help="EKS cluster that kubernetes_* resources of the plan apply to"
    )
    p.set_defaults(run=run, k8s_sources=None)


def _gate(text: str | None) -> Severity | str | None:
    if text is None:
        return None
    if text.strip().lower() == NEW_ACCESS:
        return NEW_ACCESS
    return Severity.parse(text)


def run(args: argparse.Namespace) -> int:
    from irsa_lib.collect.manifests import load_manifests
    from irsa_lib.snapshot import load_snapshot
    from irsa_lib.whatif.compare import what_if
    from irsa_lib.whatif.overlay import Overlay, apply_plan, replace_cluster
    from irsa_lib.whatif.plan import load_plan
    from irsa_lib.whatif.render import format_markdown, format_text, to_json

    gate = _gate(args.fail_on)
    manifests = manifest_sources(args)
    if not args.terraform_plan and not manifests:
        raise UsageError("nothing to overlay: give --terraform-plan PLAN.json and/or --manifests DIR --cluster NAME")
    locator = None
    if args.format == "sarif":
        from irsa_lib.whatif.sarif import WhatIfLocator

        locator = WhatIfLocator(
            args.snapshot, plan_path=args.terraform_plan, terraform_dir=args.terraform_dir, manifests=manifests
        )
    elif args.terraform_dir:
        raise UsageError("--terraform-dir is used for SARIF locations only: add --format sarif")
    snapshot = load_snapshot(args.snapshot)
    overlay = Overlay(snapshot=snapshot)
    sources = []
    if args.terraform_plan:
        plan = load_plan(args.terraform_plan)
        overlay = apply_plan(
            snapshot, plan, account_id=args.account, region=args.region, kubernetes_cluster=args.kubernetes_cluster
        )
        sources.append(args.terraform_plan)
    for directory, cluster in manifests:
        overlay = replace_cluster(overlay, cluster, load_manifests(directory, cluster=cluster), directory)
        sources.append(f"{directory} (cluster {cluster})")
    baseline = None
    if args.baseline:
        from irsa_lib.whatif.baseline import load_baseline, save_baseline

        baseline = load_baseline(args.baseline, args.snapshot)
    result = what_if(snapshot, overlay, baseline=baseline)
    if args.baseline and baseline is None and result.baseline is not None:
        save_baseline(args.baseline, args.snapshot, *result.baseline)
    if args.format == "json":
        print(json.dumps(to_json(result, sources=sources), indent=2))
    elif args.format == "markdown":
        sys.stdout.write(format_markdown(result, sources=sources))
    elif args.format == "sarif":
        from irsa_lib.whatif.sarif import to_sarif

        assert locator is not None
        print(json.dumps(to_sarif(result, locator), indent=2))
    else:
        print(format_text(result, sources=sources))
    if gate == NEW_ACCESS:
        return 1 if result.new_access() else 0
    if isinstance(gate, Severity):
        return 1 if result.drift.new_at_or_above(gate) else 0
    return 0
