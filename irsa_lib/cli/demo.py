"""``irsa demo``: the reference scenario on a local AWS endpoint, collected into a snapshot.

Starts moto (plus the EKS Pod Identity stand-in) on 127.0.0.1, seeds the demo account, collects it
together with the shipped Kubernetes manifests of cluster ``demo`` and writes
``<DIR>/snapshot.json``, reviews an example Terraform plan against it (``<DIR>/whatif.md``, ``.json``,
``.sarif``: what the change would grant), writes the verified fix of each finding (``<DIR>/fixes/``, as
``irsa fix`` does), then the HTML access report (``<DIR>/access_report.html``, executed with
papermill) and the standalone trust graph (``<DIR>/trust-graph.html``). Nothing leaves the machine; real AWS profiles are never read.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from irsa_lib.cli._coverage import coverage_lines

DESCRIPTION = """Starts moto (plus the EKS Pod Identity stand-in) on 127.0.0.1, seeds the demo account, collects it
together with the shipped Kubernetes manifests of cluster "demo" and writes DIR/snapshot.json, the
verified fix of each finding (DIR/fixes/), then the HTML access report (DIR/access_report.html, executed with papermill) and the standalone trust graph
(DIR/trust-graph.html). Nothing leaves the machine; real AWS profiles are never read."""


def register(p: argparse.ArgumentParser) -> None:
    p.description = DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("-o", "--out-dir", default="reports/demo", metavar="DIR", help="output directory (reports/demo)")
    p.add_argument(
        "--no-onboarding",
        action="store_true",
        help="skip the dry-run onboarding of the third demo service (orders)",
    )
    p.add_argument(
        "--no-report",
        action="store_true",
        help="only collect: skip the HTML access report and trust graph (papermill + nbconvert)",
    )
    p.add_argument(
        "--keep-running",
        action="store_true",
        help="keep the local AWS endpoint up afterwards and print the environment to use it (Ctrl-C stops it)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from irsa_lib.demo.run import run_demo
    from irsa_lib.demo.server import export_lines, start_local_aws

    aws = start_local_aws()
    try:
        print(f"local AWS endpoint: {aws.endpoint_url} (moto; EKS Pod Identity answered by the local stand-in)")
        result = run_demo(args.out_dir, endpoint_url=aws.endpoint_url)
        facts = result.facts
        print(
            f"seeded account {facts.account_id} ({facts.region}): cluster {facts.cluster_name}, "
            f"{len(facts.roles)} roles, {len(facts.parameters)} SecureString parameters, 1 secret"
        )
        print(f"snapshot written: {result.snapshot_path}")
        print("\n".join(coverage_lines(result.snapshot)))
        from irsa_lib.demo.whatif import run_demo_whatif
        from irsa_lib.whatif.render import subject, summary_counts

        review = run_demo_whatif(result.snapshot, result.snapshot_path, facts, args.out_dir)
        readers = sorted({subject(r) for r in review.result.gained})
        print(f"what-if of an example plan ({review.plan}): {summary_counts(review.result)}")
        print(f"  new readers: {', '.join(readers) or 'none'}")
        print(f"  pull-request comment: {review.markdown}; SARIF: {review.sarif}")
        from irsa_lib.analysis import analyse
        from irsa_lib.demo.scenario import manifests_dir
        from irsa_lib.fixes.manifests import ManifestObjects
        from irsa_lib.fixes.output import fix_findings

        fixes = fix_findings(
            analyse(result.snapshot, rows_first=True),
            Path(args.out_dir) / "fixes",
            snapshot=str(result.snapshot_path),
            manifests=ManifestObjects([(manifests_dir(), facts.cluster_name)]),
        )
        verified = sum(1 for f in fixes if f.proof is not None and f.proof.verified)
        print(
            f"fixes: {sum(1 for f in fixes if f.proof is not None)} of {len(fixes)} findings have one, {verified} "
            f"verified by analysing the snapshot with it applied: {Path(args.out_dir) / 'fixes' / 'fixes.md'}"
        )
        if not args.no_report:
            from irsa_lib.notebooks import run_report

            report = run_report(
                args.out_dir,
                {
                    "snapshot_path": str(result.snapshot_path.resolve()),
                    "whatif_path": str(review.json.resolve()),
                    # not collected again (the snapshot holds them): the fixes section patches these objects
                    "manifest_dirs": {facts.cluster_name: str(manifests_dir())},
                },
            )
            print(f"trust graph: {report.out_dir / 'trust-graph.html'}")
            print(f"report: {report.html}")
        if not args.no_onboarding:
            from irsa_lib.demo.onboarding import onboard_dry_run_demo

            onboarding = onboard_dry_run_demo(args.out_dir, endpoint_url=aws.endpoint_url)
            steps = ", ".join(f"{n} {s}" for s, n in sorted(onboarding.report.counts().items()))
            print(
                f"onboarding dry run of a third service, orders ({steps}; nothing changed): {onboarding.outputs.plan}"
            )
        print(f"next: irsa snapshot-info {result.snapshot_path}")
        if result.gaps:
            print("irsa demo: some sources were not collected completely (see above)", file=sys.stderr)
        if args.keep_running:
            print("\nThe endpoint stays up. In another shell:\n")
            print(export_lines(aws.env()))
            print("\nPress Ctrl-C to stop it.", flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("stopping the local AWS endpoint")
        return 1 if result.gaps else 0
    finally:
        aws.stop()
