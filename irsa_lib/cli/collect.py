"""``irsa collect``: read AWS accounts and Kubernetes clusters (live or manifests) into one snapshot.

Kubernetes sources are tied to the EKS cluster whose OIDC issuer their service accounts use. Each
``--kube-context CTX`` or ``--manifests DIR`` must be followed by ``--cluster NAME``, before the
next Kubernetes source::

    irsa collect -o snap.json --profile prod --region us-east-1 --region eu-west-1 \\
        --kube-context prod-admin --cluster prod --manifests ./gitops/staging --cluster staging

AWS targets: one per ``--profile`` (the default credential chain if none), or, with ``--role-arn``,
one per role ARN assumed from the base credentials (the default chain or the one ``--profile``).
Every ``--region`` applies to every target. ``--no-aws`` collects Kubernetes sources only.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from irsa_lib.cli._coverage import coverage_lines
from irsa_lib.errors import UsageError
from irsa_lib.snapshot import Snapshot, merge_snapshots, save_snapshot

if TYPE_CHECKING:
    from irsa_lib.collect.ssm import TagMode

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_PAIRING_HINT = "write each as --kube-context CTX --cluster NAME or --manifests DIR --cluster NAME"


@dataclass
class K8sSource:
    """One Kubernetes source on the command line and the EKS cluster it belongs to."""

    kind: str  # "kube-context" | "manifests"
    value: str
    cluster: str | None = None

    @property
    def label(self) -> str:
        return f"--{self.kind} {self.value}"


def _sources(namespace: argparse.Namespace) -> list[K8sSource]:
    found: list[K8sSource] | None = getattr(namespace, "k8s_sources", None)
    if found is None:
        found = []
        namespace.k8s_sources = found
    return found


class _SourceAction(argparse.Action):
    """``--kube-context`` / ``--manifests``: open a source that the next ``--cluster`` closes."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: Any = None) -> None:
        sources = _sources(namespace)
        if sources and sources[-1].cluster is None:
            raise argparse.ArgumentError(
                self, f"{sources[-1].label} has no --cluster before {option_string}: " + _PAIRING_HINT
            )
        sources.append(K8sSource(kind=self.dest, value=str(values)))


class _ClusterAction(argparse.Action):
    """``--cluster``: names the EKS cluster of the Kubernetes source just before it."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: Any = None) -> None:
        sources = _sources(namespace)
        if not sources or sources[-1].cluster is not None:
            raise argparse.ArgumentError(
                self, f"--cluster {values} must follow the --kube-context or --manifests it names: " + _PAIRING_HINT
            )
        if not str(values).strip():
            raise argparse.ArgumentError(self, "the cluster name is empty")
        sources[-1].cluster = str(values)


def add_manifest_sources(parser: Any, help_text: str) -> None:
    """``--manifests DIR --cluster NAME`` pairs on another command (``manifest_sources`` reads them)."""
    group = parser.add_argument_group("manifests (each followed by --cluster NAME)")
    group.add_argument("--manifests", dest="manifests", action=_SourceAction, metavar="DIR", help=help_text)
    group.add_argument(
        "--cluster", action=_ClusterAction, metavar="NAME", help="EKS cluster of the preceding --manifests"
    )


def manifest_sources(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(directory, cluster) of every ``--manifests DIR --cluster NAME``; UsageError for a pair left open."""
    out = []
    for source in args.k8s_sources or ():
        if source.cluster is None:
            raise UsageError(f"{source.label} has no --cluster: write --manifests DIR --cluster NAME")
        if not Path(source.value).exists():
            raise UsageError(f"--manifests {source.value}: no such file or directory")
        out.append((source.value, source.cluster))
    return out


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def _region(text: str) -> str:
    if not _REGION.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AWS region name (like us-east-1)")
    return text


def _role_arn(text: str) -> str:
    if not _ROLE_ARN.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return text


DESCRIPTION = """Kubernetes sources are tied to the EKS cluster whose OIDC issuer their service accounts use. Each
--kube-context CTX or --manifests DIR must be followed by --cluster NAME, before the next Kubernetes
source:

    irsa collect -o snap.json --profile prod --region us-east-1 --region eu-west-1 \\
        --kube-context prod-admin --cluster prod --manifests ./gitops/staging --cluster staging

AWS targets: one per --profile (the default credential chain if none), or, with --role-arn, one per
role ARN assumed from the base credentials (the default chain or the one --profile). Every --region
applies to every target. --no-aws collects Kubernetes sources only."""


def register(p: argparse.ArgumentParser) -> None:
    p.description = DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("-o", "--output", required=True, metavar="SNAPSHOT", help="snapshot file to write (JSON)")
    aws = p.add_argument_group("AWS")
    aws.add_argument("--profile", action="append", default=[], metavar="P", help="named profile (repeatable)")
    aws.add_argument(
        "--role-arn", action="append", default=[], type=_role_arn, metavar="ARN", help="role to assume (repeatable)"
    )
    aws.add_argument("--region", action="append", default=[], type=_region, metavar="R", help="region (repeatable)")
    aws.add_argument("--endpoint-url", metavar="URL", help="send every AWS call to this endpoint (e.g. a local one)")
    aws.add_argument("--no-aws", action="store_true", help="collect only the Kubernetes sources")
    aws.add_argument("--workers", type=_positive_int, default=8, metavar="N", help="concurrent AWS readers (8)")
    aws.add_argument(
        "--ssm-tags",
        choices=("auto", "always", "never"),
        default="auto",
        help="SSM parameter tags cost one call per parameter: auto collects them only when a collected policy "
        "conditions an SSM action on resource tags (default auto)",
    )
    dumps = p.add_argument_group("offline AWS dumps (instead of live AWS; layout in the README)")
    dumps.add_argument("--iam-dump", metavar="FILE", help="output of aws iam get-account-authorization-details")
    dumps.add_argument("--aws-dump", metavar="DIR", help="a directory of AWS CLI outputs: iam/, <region>/kms, ssm, ...")
    k8s = p.add_argument_group("Kubernetes (each source followed by --cluster NAME)")
    k8s.add_argument("--kube-context", dest="kube-context", action=_SourceAction, metavar="CTX", help="live cluster")
    k8s.add_argument("--manifests", dest="manifests", action=_SourceAction, metavar="DIR", help="YAML/JSON manifests")
    k8s.add_argument("--cluster", action=_ClusterAction, metavar="NAME", help="EKS cluster of the preceding source")
    k8s.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig for --kube-context (default: the usual)")
    k8s.add_argument(
        "--kube-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="wait this long for each Kubernetes list request; a kind that does not answer is recorded "
        "as unreachable (default: 30)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress display; print the path and any gaps only")
    p.set_defaults(run=run, k8s_sources=None)


@dataclass(frozen=True)
class CollectPlan:
    """What ``irsa collect`` will read, validated."""

    aws_targets: tuple[tuple[str | None, str | None], ...]
    """(profile, role_arn) pairs; empty when AWS is skipped."""
    regions: tuple[str, ...]
    k8s_sources: tuple[K8sSource, ...]
    iam_dump: str | None = None
    aws_dump: str | None = None


def plan_from_args(args: argparse.Namespace) -> CollectPlan:
    """Check the argument combination and turn it into a plan; ``UsageError`` names the problem."""
    sources: list[K8sSource] = list(args.k8s_sources or ())
    for source in sources:
        if source.cluster is None:
            raise UsageError(f"{source.label} has no --cluster: {_PAIRING_HINT}")
    seen: dict[str, K8sSource] = {}
    for source in sources:
        assert source.cluster is not None
        if source.cluster in seen:
            raise UsageError(
                f"cluster {source.cluster!r} is given twice ({seen[source.cluster].label} and {source.label}): "
                "use one Kubernetes source per cluster"
            )
        seen[source.cluster] = source
        if source.kind == "manifests" and not Path(source.value).exists():
            raise UsageError(f"--manifests {source.value}: no such file or directory")
    if args.kubeconfig and not Path(args.kubeconfig).is_file():
        raise UsageError(f"--kubeconfig {args.kubeconfig}: no such file")
    if args.kubeconfig and not any(s.kind == "kube-context" for s in sources):
        raise UsageError("--kubeconfig is only used with --kube-context")
    if Path(args.output).is_dir():
        raise UsageError(
            f"-o {args.output} is a directory; give a file name such as {Path(args.output) / 'snapshot.json'}"
        )

    dumps = [flag for flag, value in (("--iam-dump", args.iam_dump), ("--aws-dump", args.aws_dump)) if value]
    if len(dumps) == 2:
        raise UsageError("give --iam-dump FILE or --aws-dump DIR (whose iam/ holds the same file), not both")
    if args.no_aws or dumps:
        given = [
            flag
            for flag, value in (
                ("--profile", args.profile),
                ("--role-arn", args.role_arn),
                ("--region", args.region),
                ("--endpoint-url", args.endpoint_url),
            )
            if value
        ]
        what = dumps[0] if dumps else "--no-aws"
        if args.no_aws and dumps:
            given.append(dumps[0])
        if given:
            raise UsageError(f"{what} conflicts with {', '.join(given)}")
        for flag, value in (("--iam-dump", args.iam_dump), ("--aws-dump", args.aws_dump)):
            if value and not Path(value).exists():
                raise UsageError(f"{flag} {value}: no such file or directory")
        if not sources and not dumps:
            raise UsageError("nothing to collect: --no-aws needs at least one --kube-context or --manifests")
        return CollectPlan(
            aws_targets=(), regions=(), k8s_sources=tuple(sources), iam_dump=args.iam_dump, aws_dump=args.aws_dump
        )

    profiles: Sequence[str | None] = args.profile or [None]
    if args.role_arn:
        if len(profiles) > 1:
            raise UsageError(
                "with --role-arn give at most one --profile (the credentials that assume the roles); "
                "to also collect a profile's own account, add its role ARN"
            )
        targets = tuple((profiles[0], arn) for arn in dict.fromkeys(args.role_arn))
    else:
        targets = tuple((profile, None) for profile in dict.fromkeys(profiles))
    return CollectPlan(aws_targets=targets, regions=tuple(dict.fromkeys(args.region)), k8s_sources=tuple(sources))


def collect(
    plan: CollectPlan,
    *,
    endpoint_url: str | None,
    kubeconfig: str | None,
    workers: int,
    progress: bool | None,
    kube_timeout: float | None = None,
    ssm_tags: TagMode = "auto",
) -> Snapshot:
    """Run the collectors of the plan and merge their partial snapshots."""
    parts: list[Snapshot] = []
    if plan.iam_dump or plan.aws_dump:
        from irsa_lib.collect.dumps import load_aws_dump, load_iam_dump

        parts.append(load_iam_dump(plan.iam_dump) if plan.iam_dump else load_aws_dump(str(plan.aws_dump)))
    if plan.aws_targets:
        from irsa_lib.collect.aws import AwsTarget, collect_aws

        targets = [AwsTarget(profile=p, role_arn=r, regions=plan.regions) for p, r in plan.aws_targets]
        parts.append(
            collect_aws(targets, endpoint_url=endpoint_url, max_workers=workers, progress=progress, ssm_tags=ssm_tags)
        )
    for source in plan.k8s_sources:
        assert source.cluster is not None
        if source.kind == "manifests":
            from irsa_lib.collect.manifests import load_manifests

            parts.append(load_manifests(source.value, cluster=source.cluster))
        else:
            from irsa_lib.collect.k8s import collect_kubernetes

            timeout: dict[str, Any] = {"request_timeout": kube_timeout} if kube_timeout else {}
            parts.append(
                collect_kubernetes(cluster=source.cluster, context=source.value, kubeconfig=kubeconfig, **timeout)
            )
    return merge_snapshots(parts)


def run(args: argparse.Namespace) -> int:
    plan = plan_from_args(args)
    snapshot = collect(
        plan,
        endpoint_url=args.endpoint_url,
        kubeconfig=args.kubeconfig,
        workers=args.workers,
        progress=False if args.quiet else None,
        kube_timeout=args.kube_timeout,
        ssm_tags=args.ssm_tags,
    )
    path = save_snapshot(snapshot, args.output)
    print(f"snapshot written: {path}")
    if not args.quiet or snapshot.incomplete():
        print("\n".join(coverage_lines(snapshot, gaps_only=args.quiet)))
    return 0
