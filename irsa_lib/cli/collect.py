"""``irsa collect``: read AWS accounts and Kubernetes clusters (live or manifests) into one snapshot.

Kubernetes sources are tied to the EKS cluster whose OIDC issuer their service accounts use. Each
``--kube-context CTX`` or ``--manifests DIR`` must be followed by ``--cluster NAME``, before the
next Kubernetes source::

    irsa collect -o snap.json --profile prod --region us-east-1 --region eu-west-1 \\
        --kube-context prod-admin --cluster prod --manifests ./gitops/staging --cluster staging

AWS targets: one per ``--profile`` (the default credential chain if none), or, with ``--role-arn``,
one per role ARN assumed from the base credentials (the default chain or the one ``--profile``).
Every ``--region`` applies to every target. ``--no-aws`` collects Kubernetes sources only.

``--organization`` collects every account of the AWS organisation instead, on Dask: run it with the
management or delegated-administrator account's credentials; each account is read through its
``--member-role``, in the given regions or in every region it has enabled::

    irsa collect -o org.json --organization --member-role irsa-collector --region us-east-1 \
        --cluster-map clusters.yaml --resume .irsa-resume [--dask-scheduler tcp://HOST:8786]
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
_OU = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")
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


def _ou_id(text: str) -> str:
    if not _OU.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an OU or root id (ou-xxxx-xxxxxxxx or r-xxxx)")
    return text


def _account_id(text: str) -> str:
    if not re.fullmatch(r"\d{12}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a 12-digit AWS account id")
    return text


DESCRIPTION = """Kubernetes sources are tied to the EKS cluster whose OIDC issuer their service accounts use. Each
--kube-context CTX or --manifests DIR must be followed by --cluster NAME, before the next Kubernetes
source:

    irsa collect -o snap.json --profile prod --region us-east-1 --region eu-west-1 \\
        --kube-context prod-admin --cluster prod --manifests ./gitops/staging --cluster staging

AWS targets: one per --profile (the default credential chain if none), or, with --role-arn, one per
role ARN assumed from the base credentials (the default chain or the one --profile). Every --region
applies to every target. --no-aws collects Kubernetes sources only.

--organization collects every account of the AWS organisation instead, on Dask: run it with the
management or delegated-administrator account's credentials; each account is read through its
--member-role, in the given regions or in every region it has enabled:

    irsa collect -o org.json --organization --member-role irsa-collector --region us-east-1 \\
        --cluster-map clusters.yaml --resume .irsa-resume [--dask-scheduler tcp://HOST:8786]"""


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
    org = p.add_argument_group("AWS organisation (collected on Dask)")
    org.add_argument("--organization", action="store_true", help="every account of the organisation")
    org.add_argument("--member-role", metavar="NAME", help="role assumed in each account (default: irsa-collector)")
    org.add_argument("--external-id", metavar="ID", help="ExternalId sent when assuming the member role")
    org.add_argument(
        "--ou",
        action="append",
        default=[],
        type=_ou_id,
        metavar="OU_ID",
        help="only accounts under this OU (repeatable)",
    )
    org.add_argument(
        "--exclude-account", action="append", default=[], type=_account_id, metavar="ID", help="leave out (repeatable)"
    )
    org.add_argument("--cluster-map", metavar="FILE", help="YAML: EKS cluster ARN -> {context: CTX | manifests: DIR}")
    org.add_argument("--resume", metavar="DIR", help="keep per-account snapshots here; skip accounts already in it")
    org.add_argument("--dask-scheduler", metavar="URL", help="a running Dask scheduler (tcp://HOST:8786)")
    org.add_argument(
        "--dask-workers", type=_positive_int, default=2, metavar="N", help="worker processes of the local cluster (2)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress display; print the path and any gaps only")
    p.set_defaults(run=run, k8s_sources=None)


@dataclass(frozen=True)
class OrgPlan:
    """``--organization``: how to reach the accounts and where the tasks run."""

    member_role: str
    external_id: str | None
    ous: tuple[str, ...]
    exclude: tuple[str, ...]
    cluster_map: str | None
    resume: str | None
    scheduler: str | None
    dask_workers: int


@dataclass(frozen=True)
class CollectPlan:
    """What ``irsa collect`` will read, validated."""

    aws_targets: tuple[tuple[str | None, str | None], ...]
    """(profile, role_arn) pairs; empty when AWS is skipped."""
    regions: tuple[str, ...]
    k8s_sources: tuple[K8sSource, ...]
    iam_dump: str | None = None
    aws_dump: str | None = None
    organization: OrgPlan | None = None


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
    if args.kubeconfig and not (args.cluster_map or any(s.kind == "kube-context" for s in sources)):
        raise UsageError("--kubeconfig is only used with --kube-context or --cluster-map")
    if Path(args.output).is_dir():
        raise UsageError(
            f"-o {args.output} is a directory; give a file name such as {Path(args.output) / 'snapshot.json'}"
        )

    org_flags = [
        flag
        for flag, value in (
            ("--member-role", args.member_role),
            ("--external-id", args.external_id),
            ("--ou", args.ou),
            ("--exclude-account", args.exclude_account),
            ("--cluster-map", args.cluster_map),
            ("--resume", args.resume),
            ("--dask-scheduler", args.dask_scheduler),
        )
        if value
    ]
    dumps = [flag for flag, value in (("--iam-dump", args.iam_dump), ("--aws-dump", args.aws_dump)) if value]
    if args.organization:
        if dumps:
            raise UsageError(f"--organization collects live accounts; it conflicts with {', '.join(dumps)}")
        return _org_plan(args, sources)
    if org_flags:
        raise UsageError(f"{', '.join(org_flags)} only apply with --organization")
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


def _org_plan(args: argparse.Namespace, sources: Sequence[K8sSource]) -> CollectPlan:
    conflicts = [flag for flag, value in (("--role-arn", args.role_arn), ("--no-aws", args.no_aws)) if value]
    if conflicts:
        raise UsageError(f"--organization conflicts with {', '.join(conflicts)}")
    if len(args.profile) > 1:
        raise UsageError("with --organization give at most one --profile (the management account's credentials)")
    if args.cluster_map and not Path(args.cluster_map).is_file():
        raise UsageError(f"--cluster-map {args.cluster_map}: no such file")
    if args.resume and Path(args.resume).exists() and not Path(args.resume).is_dir():
        raise UsageError(f"--resume {args.resume}: not a directory")
    from irsa_lib.collect.fanout import DEFAULT_MEMBER_ROLE

    member_role = args.member_role or DEFAULT_MEMBER_ROLE
    if not re.fullmatch(r"[\w+=,.@-]{1,64}", member_role):
        raise UsageError(f"--member-role {member_role!r} is not an IAM role name")
    org = OrgPlan(
        member_role=member_role,
        external_id=args.external_id,
        ous=tuple(dict.fromkeys(args.ou)),
        exclude=tuple(dict.fromkeys(args.exclude_account)),
        cluster_map=args.cluster_map,
        resume=args.resume,
        scheduler=args.dask_scheduler,
        dask_workers=args.dask_workers,
    )
    profiles = tuple((p, None) for p in args.profile) or ((None, None),)
    return CollectPlan(
        aws_targets=profiles, regions=tuple(dict.fromkeys(args.region)), k8s_sources=tuple(sources), organization=org
    )


def collect_org(
    plan: CollectPlan,
    *,
    endpoint_url: str | None,
    kubeconfig: str | None,
    workers: int,
    progress: bool | None,
    ssm_tags: TagMode = "auto",
) -> Snapshot:
    """``--organization``: discover the accounts here, collect them and the Kubernetes sources on Dask."""
    from irsa_lib.collect.cluster_map import load_cluster_map
    from irsa_lib.collect.fanout import ClusterSource, MemberAccess, collect_organization
    from irsa_lib.engine import dask_client

    org = plan.organization
    assert org is not None
    sources = [
        ClusterSource(
            cluster=s.cluster or "",
            context=s.value if s.kind == "kube-context" else None,
            manifests=s.value if s.kind == "manifests" else None,
            kubeconfig=kubeconfig,
        )
        for s in plan.k8s_sources
    ]
    if org.cluster_map:
        sources.extend(load_cluster_map(org.cluster_map, kubeconfig=kubeconfig))
    names = [s.cluster for s in sources]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise UsageError(f"cluster {', '.join(twice)} has two Kubernetes sources (command line and --cluster-map)")
    access = MemberAccess(
        member_role=org.member_role,
        external_id=org.external_id,
        profile=plan.aws_targets[0][0],
        endpoint_url=endpoint_url,
        ssm_tags=ssm_tags,
    )
    threads = -(-workers // org.dask_workers)
    with dask_client(org.scheduler, workers=org.dask_workers, threads_per_worker=threads) as client:
        return collect_organization(
            client,
            access=access,
            regions=plan.regions,
            ous=org.ous,
            exclude=org.exclude,
            k8s_sources=sources,
            resume_dir=org.resume,
            progress=progress,
        )


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
    if plan.organization is not None:
        return collect_org(
            plan,
            endpoint_url=endpoint_url,
            kubeconfig=kubeconfig,
            workers=workers,
            progress=progress,
            ssm_tags=ssm_tags,
        )
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
