"""Collect a whole AWS organisation on Dask: one task per (account, region), merged deterministically.

The process that calls :func:`collect_organization` (the coordinator) discovers the organisation with its
own credentials (accounts, OU paths, SCPs and RCPs, read once; :mod:`irsa_lib.collect.discovery`).
Everything else runs as Dask tasks:

- per account, a *probe*: assume the member role, check the identity, list the account's enabled regions
  (``ec2:DescribeRegions``) unless regions were given. A member role that cannot be assumed makes the
  account's coverage ``denied`` (every service of it, so nothing reads as empty) and the rest goes on;
- then per account one task for the global services (IAM) and one per region (KMS, SSM, Secrets
  Manager, EKS and its nodes). A region the account's endpoint refuses is recorded as rejected;
- per Kubernetes source (a live context or a manifests directory tied to a cluster), one task.

Tasks carry names and addresses only (:class:`MemberAccess`: the role ARN, the external id, a profile
name, the endpoint); each worker builds its sessions from its own environment, so no credential is ever
in a task payload. When all of an account's tasks are in, its partial snapshot is assembled (node roles
resolved) and, with ``resume_dir``, written there atomically; a later run with the same directory skips
the accounts already there. The final snapshot is :func:`~irsa_lib.collect.merge.merge_canonical` of the
parts: the same inputs give the same bytes whatever order the tasks finished in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from irsa_lib.collect.aws import (
    REGIONAL_SERVICES,
    AwsTarget,
    ResolvedTarget,
    assemble,
    guarded,
    regional_families,
    rejected_region,
    resolve_target,
    worst_status,
)
from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, classify
from irsa_lib.collect.discovery import Organization, discover_organization
from irsa_lib.collect.errors import CollectionError
from irsa_lib.collect.iam import collect_iam
from irsa_lib.collect.merge import merge_canonical
from irsa_lib.collect.progress import Progress
from irsa_lib.collect.session import Clients, RetryMode, base_session, client_config
from irsa_lib.collect.ssm import TAGS as SSM_TAGS
from irsa_lib.collect.ssm import TagMode, collect_ssm_tags
from irsa_lib.errors import IrsaError, UsageError
from irsa_lib.model import Account, Coverage, CoverageStatus
from irsa_lib.snapshot import Snapshot, SnapshotError, load_snapshot, now_utc, save_snapshot, write_atomic

if TYPE_CHECKING:
    from distributed import Client, Future

DEFAULT_MEMBER_ROLE = "irsa-collector"
"""The member role's name in every account (``deploy/member-role.*`` creates it)."""
RESUME_FORMAT = "irsa_lib.resume"
K8S_SERVICE = "cluster"
"""Coverage service of a Kubernetes source as a whole (not read, or failed before any kind)."""


@dataclass(frozen=True)
class MemberAccess:
    """How a worker reaches a member account: names and addresses, never credentials.

    The worker's base credentials come from its own environment (``profile``, else the default chain:
    environment variables, IRSA web identity, instance metadata); it then assumes ``role_arn(account)``.
    """

    member_role: str = DEFAULT_MEMBER_ROLE
    external_id: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    partition: str = "aws"
    retry_mode: RetryMode = "standard"
    max_attempts: int = 5
    page_size: int | None = None
    session_duration: int | None = None
    ssm_tags: TagMode = "auto"
    """``always``: each region task reads its parameters' tags. Otherwise they are recorded as skipped:
    a region task does not see the account's IAM policies, so it cannot tell whether one conditions
    SSM on tags (``auto`` in a single-account collection); such conditions stay unresolved."""

    def role_arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{self.member_role}"

    def target(self, account_id: str, regions: Sequence[str]) -> AwsTarget:
        return AwsTarget(
            profile=self.profile,
            role_arn=self.role_arn(account_id),
            regions=tuple(regions),
            session_duration=self.session_duration,
            external_id=self.external_id,
        )

    def resolve(self, account_id: str, regions: Sequence[str]) -> ResolvedTarget:
        """Sessions as the member role, checked against the account it must land in."""
        config = client_config(retry_mode=self.retry_mode, max_attempts=self.max_attempts)
        resolved = resolve_target(self.target(account_id, regions), endpoint_url=self.endpoint_url, config=config)
        if resolved.account_id != account_id:
            raise CollectionError(
                f"member role {self.role_arn(account_id)} answered as account {resolved.account_id}, not {account_id}"
            )
        return resolved


@dataclass(frozen=True)
class Probe:
    """What the probe of one account found: the regions to collect, or why nothing can be."""

    account_id: str
    regions: tuple[str, ...] = ()
    """Regions to collect: the home region first, then the others not already refused."""
    partial: Partial = field(default_factory=Partial)
    """Coverage of refused regions, of a failed region listing, or of the unreachable account."""
    reachable: bool = True


@dataclass(frozen=True)
class ScopeResult:
    """One task's records and coverage; ``usable``: the region answered (False: it was refused)."""

    account_id: str
    region: str | None
    partial: Partial
    usable: bool = True


# --- worker side: everything below runs in a Dask worker ---------------------------------------------


def _scope(account_id: str, region: str | None, partition: str, clients: Clients | None = None) -> Scope:
    """A scope to record coverage under (clients unused when no call is made)."""
    return Scope(account_id=account_id, partition=partition, region=region, clients=clients or Clients(boto3.Session()))


def _failure(exc: BaseException, where: str) -> tuple[CoverageStatus, str]:
    """Status and message of a failed identity step (CollectionError wraps the botocore error)."""
    cause = exc.__cause__ if isinstance(exc, CollectionError) and exc.__cause__ is not None else exc
    if isinstance(cause, CALL_ERRORS):
        operation = str(getattr(cause, "operation_name", None) or "GetCallerIdentity")
        return classify(cause, f"sts:{operation} {where}")
    return "failed", f"{where}: {exc}"


def unreachable_account(
    access: MemberAccess,
    account_id: str,
    regions: Sequence[str],
    exc: BaseException,
    why: str = "member role not usable",
) -> Partial:
    """Coverage of an account that could not be collected at all: every service of it, skipped, so
    nothing of it reads as empty (regions unknown when they were to be listed: the global entries say it)."""
    status, message = _failure(exc, f"as {access.role_arn(account_id)}")
    out = Partial()
    gscope = _scope(account_id, None, access.partition)
    out.status(gscope, "sts", status, f"{why}: {message}")
    out.status(gscope, "iam", status, f"skipped: {why} ({message})")
    for region in regions:
        scope = replace(gscope, region=region)
        for service in REGIONAL_SERVICES:
            out.status(scope, service, status, f"skipped: {why} ({message})")
    return out


def list_enabled_regions(clients: Clients, region: str) -> tuple[str, ...]:
    """The regions enabled for the account (``ec2:DescribeRegions`` answers those only by default)."""
    answer = clients.client("ec2", region).describe_regions()
    return tuple(sorted(str(r["RegionName"]) for r in answer.get("Regions", [])))


def probe_account(access: MemberAccess, account_id: str, regions: tuple[str, ...], home_region: str) -> Probe:
    """Assume the member role and learn which regions to collect (the given ones, else the enabled ones)."""
    asked = regions or (home_region,)
    try:
        resolved = access.resolve(account_id, asked)
    except CollectionError as exc:
        return Probe(account_id, partial=unreachable_account(access, account_id, regions, exc), reachable=False)
    home = resolved.home_region or asked[0]
    out = Partial()
    for region, (status, message) in resolved.rejected.items():
        out.extend(rejected_region(resolved.scope(region), status, message))
    if regions:
        keep = [r for r in regions if r not in resolved.rejected]
    else:
        try:
            keep = list(list_enabled_regions(resolved.clients, home))
        except CALL_ERRORS as exc:
            out.failed(
                resolved.scope(None), "ec2:DescribeRegions", exc, f"ec2:DescribeRegions (collecting {home} only)"
            )
            keep = [home]
    ordered = (home, *sorted(r for r in keep if r != home))
    return Probe(account_id, regions=ordered, partial=out)


def collect_account_global(access: MemberAccess, account_id: str, home_region: str) -> ScopeResult:
    """The account's global services (IAM), as the member role."""
    try:
        resolved = access.resolve(account_id, (home_region,))
    except CollectionError as exc:
        out = Partial()
        status, message = _failure(exc, f"in {home_region}")
        out.status(_scope(account_id, None, access.partition), "iam", status, f"skipped: {message}")
        return ScopeResult(account_id, None, out)
    scope = resolved.scope(None)
    return ScopeResult(account_id, None, guarded(lambda: collect_iam(scope), scope, "iam"))


def collect_account_region(access: MemberAccess, account_id: str, region: str) -> ScopeResult:
    """One region of the account (KMS, SSM, Secrets Manager, EKS and node groups), as the member role.

    The identity is asked in the region first: a region the endpoint refuses is recorded as rejected.
    """
    try:
        resolved = access.resolve(account_id, (region,))
    except CollectionError as exc:
        status, message = _failure(exc, f"in {region}")
        partial = rejected_region(_scope(account_id, region, access.partition), status, message)
        return ScopeResult(account_id, region, partial, usable=False)
    scope = resolved.scope(region)
    out = Partial()
    for service, job in regional_families(scope, page_size=access.page_size).items():
        out.extend(guarded(job, scope, service))
    if access.ssm_tags == "always":
        tagged, part = collect_ssm_tags(scope, out.records.get("ssm_parameters", []))
        out.records["ssm_parameters"] = tagged
        out.extend(part)
    else:
        why = (
            "--ssm-tags never"
            if access.ssm_tags == "never"
            else "--organization reads them only with --ssm-tags always"
        )
        out.status(scope, SSM_TAGS, "skipped", f"parameter tags not collected: {why}")
    return ScopeResult(account_id, region, out)


@dataclass(frozen=True)
class ClusterSource:
    """One Kubernetes source and the EKS cluster (by name) its objects belong to."""

    cluster: str
    context: str | None = None
    manifests: str | None = None
    kubeconfig: str | None = None

    @property
    def label(self) -> str:
        return f"context {self.context}" if self.context else f"manifests {self.manifests}"


def collect_k8s_source(source: ClusterSource, created_at: str) -> Snapshot:
    """Read one Kubernetes source; a source that cannot be read at all is a coverage entry, not an error."""
    try:
        if source.manifests is not None:
            from irsa_lib.collect.manifests import load_manifests

            return load_manifests(source.manifests, cluster=source.cluster)
        from irsa_lib.collect.k8s import collect_kubernetes

        return collect_kubernetes(cluster=source.cluster, context=source.context, kubeconfig=source.kubeconfig)
    except IrsaError as exc:
        gap = Coverage(source="kubernetes", scope=source.cluster, service=K8S_SERVICE, status="failed", error=str(exc))
        return Snapshot(created_at=created_at, coverage=(gap,))


# --- coordinator side -------------------------------------------------------------------------------


@dataclass
class _AccountRun:
    """An account being collected: its record, tasks outstanding, results so far."""

    account: Account
    outstanding: int = 0
    result: Partial = field(default_factory=Partial)
    usable: list[str] = field(default_factory=list)
    broken: bool = False
    """A task failed (an exception, a lost worker): the account is not saved for --resume."""


class ResumeDir:
    """Per-account partial snapshots of an interrupted collection, and the parameters they were made with."""

    def __init__(self, path: str | Path, params: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.params = dict(params)
        manifest = self.path / "resume.json"
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"--resume {self.path}: unreadable resume.json: {exc}") from exc
            if not isinstance(found, dict) or found.get("format") != RESUME_FORMAT:
                raise UsageError(f"--resume {self.path}: resume.json is not an irsa_lib resume manifest")
            if found.get("params") != self.params:
                raise UsageError(
                    f"--resume {self.path} was started with other parameters ({found.get('params')}); "
                    "use a new directory for these"
                )
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            write_atomic(manifest, json.dumps({"format": RESUME_FORMAT, "params": self.params}, indent=1) + "\n")

    def file(self, account_id: str) -> Path:
        return self.path / f"account-{account_id}.json"

    def load(self, account_id: str) -> Snapshot | None:
        """The account's saved partial snapshot, or None (absent or unreadable: it is collected again)."""
        path = self.file(account_id)
        if not path.exists():
            return None
        try:
            return load_snapshot(path)
        except SnapshotError:
            return None

    def save(self, account_id: str, snapshot: Snapshot) -> None:
        save_snapshot(snapshot, self.file(account_id))


def _coverage(account_id: str, region: str | None, service: str, status: CoverageStatus, error: str) -> Coverage:
    return Coverage(
        source="aws", scope=f"{account_id}/{region or 'global'}", service=service, status=status, error=error
    )


@dataclass
class _Coordinator:
    """Submits the tasks of an organisation and gathers their results as they finish."""

    client: Client
    access: MemberAccess
    regions: tuple[str, ...]
    home_region: str
    created_at: str
    bar: Progress
    resume: ResumeDir | None = None
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    runs: dict[str, _AccountRun] = field(default_factory=dict)
    parts: list[Snapshot] = field(default_factory=list)
    pending: dict[str, Callable[[Future], list[Future]]] = field(default_factory=dict)

    def submit(self, fn: Callable[..., Any], *args: Any, name: str, then: Callable[[Future], list[Future]]) -> Future:
        key = f"irsa-{self.token}-{name}"
        future = self.client.submit(fn, *args, key=key, pure=False)
        self.pending[key] = then
        self.bar.add(1)
        return future

    def start_account(self, account: Account) -> Future:
        self.runs[account.account_id] = _AccountRun(account=account)
        fid = account.account_id
        return self.submit(
            probe_account, self.access, fid, self.regions, self.home_region, name=f"probe-{fid}", then=self.probed
        )

    def probed(self, future: Future) -> list[Future]:
        probe: Probe = future.result()
        run = self.runs[probe.account_id]
        run.result.extend(probe.partial)
        self.bar.step(
            probe.account_id, "-", "member role", worst_status(probe.partial) if probe.reachable else "denied"
        )
        if not probe.reachable:
            run.broken = True  # nothing collected: tried again on --resume
            self.parts.append(self._account_snapshot(run))
            return []
        home = probe.regions[0]
        futures = [
            self.submit(
                collect_account_global, self.access, probe.account_id, home, name=f"{probe.account_id}-global",
                then=self.scoped,
            )
        ]  # fmt: skip
        for region in probe.regions:
            futures.append(
                self.submit(
                    collect_account_region, self.access, probe.account_id, region,
                    name=f"{probe.account_id}-{region}", then=self.scoped,
                )
            )  # fmt: skip
        run.outstanding = len(futures)
        return futures

    def scoped(self, future: Future) -> list[Future]:
        result: ScopeResult = future.result()
        run = self.runs[result.account_id]
        run.result.extend(result.partial)
        if result.region is not None and result.usable:
            run.usable.append(result.region)
        self.bar.step(result.account_id, result.region or "global", "collected", worst_status(result.partial))
        self._task_done(run)
        return []

    def _task_done(self, run: _AccountRun) -> None:
        run.outstanding -= 1
        if run.outstanding > 0:
            return
        snapshot = self._account_snapshot(run)
        if self.resume is not None and not run.broken:
            self.resume.save(run.account.account_id, snapshot)
        self.parts.append(snapshot)

    def _account_snapshot(self, run: _AccountRun) -> Snapshot:
        account = replace(run.account, regions=tuple(sorted(set(run.usable))))
        return assemble(run.result, [account], created_at=self.created_at)

    def failed(self, future: Future, exc: BaseException) -> None:
        """A task raised (a bug, a lost worker): its scope is recorded as failed, the rest goes on."""
        name = str(future.key).removeprefix(f"irsa-{self.token}-")
        what = f"task {name} failed: {type(exc).__name__}: {exc}"
        if name.startswith("probe-"):
            account_id = name.removeprefix("probe-")
            run = self.runs[account_id]
            run.result.extend(unreachable_account(self.access, account_id, self.regions, exc, why=what))
            run.broken = True
            self.parts.append(self._account_snapshot(run))
        elif name.startswith("k8s-"):
            cluster = name.removeprefix("k8s-")
            gap = Coverage(source="kubernetes", scope=cluster, service=K8S_SERVICE, status="failed", error=what)
            self.parts.append(Snapshot(created_at=self.created_at, coverage=(gap,)))
        else:
            account_id, _, region = name.partition("-")
            run = self.runs[account_id]
            services = ("iam",) if region == "global" else REGIONAL_SERVICES
            for service in services:
                run.result.coverage.append(
                    _coverage(account_id, None if region == "global" else region, service, "failed", what)
                )
            run.broken = True
            self.bar.step(account_id, region, "collected", "failed")
            self._task_done(run)

    def run(self, first: Iterable[Future]) -> None:
        from distributed import as_completed

        queue = as_completed(list(first))
        for future in queue:
            then = self.pending.pop(str(future.key))
            if future.status == "error":
                self.failed(future, future.exception())
            else:
                for more in then(future):
                    queue.add(more)
            future.release()


def _k8s_done(parts: list[Snapshot], bar: Progress, source: ClusterSource) -> Callable[[Future], list[Future]]:
    def then(future: Future) -> list[Future]:
        snapshot: Snapshot = future.result()
        parts.append(snapshot)
        worst = next((c.status for c in snapshot.coverage if not c.complete), "ok")
        bar.step(source.cluster, "-", source.label, worst)
        return []

    return then


def collect_organization(
    client: Client,
    *,
    access: MemberAccess,
    regions: Sequence[str] = (),
    ous: Sequence[str] = (),
    exclude: Iterable[str] = (),
    k8s_sources: Sequence[ClusterSource] = (),
    resume_dir: str | Path | None = None,
    progress: bool | None = None,
    created_at: str | None = None,
) -> Snapshot:
    """Discover the organisation from this process's credentials and collect every account on ``client``.

    ``regions``: collect these in every account (empty: each account's enabled regions). ``ous``: only
    the accounts in these OUs (and below). ``exclude``: account ids left out (recorded as ``ignored``).
    ``k8s_sources``: Kubernetes sources, one task each. ``resume_dir``: keep per-account partial
    snapshots there and skip accounts already collected. Raises CollectionError when the organisation
    cannot be discovered (no credentials, not its management or delegated-administrator account).
    """
    stamp = created_at or now_utc()
    config = client_config(retry_mode=access.retry_mode, max_attempts=access.max_attempts)
    base = base_session(access.profile, regions[0] if regions else None)
    home = regions[0] if regions else (base.region_name or "us-east-1")
    clients = Clients(base_session(access.profile, home), access.endpoint_url, config)
    try:
        identity = clients.client("sts", home).get_caller_identity()
    except CALL_ERRORS as exc:
        raise CollectionError(f"cannot identify the collecting credentials: {classify(exc, 'sts')[1]}") from exc
    except Exception as exc:  # no credentials at all, an unknown profile
        raise CollectionError(f"cannot identify the collecting credentials: {exc}") from exc
    partition = str(identity["Arn"]).split(":")[1]
    access = replace(access, partition=partition)
    org: Organization = discover_organization(clients, partition=partition, ous=ous, exclude=exclude, region=home)
    resume = None
    if resume_dir is not None:
        params = {
            "organization": org.organization_id,
            "member_role": access.member_role,
            "regions": list(regions),
            "ous": list(ous),
        }
        resume = ResumeDir(resume_dir, params)

    bar = Progress(enabled=False if progress is False else None)
    from irsa_lib.engine import dashboard_link

    link = dashboard_link(client)
    if link:
        bar.note(f"Dask dashboard: {link}")
    coordinator = _Coordinator(
        client=client,
        access=access,
        regions=tuple(dict.fromkeys(regions)),
        home_region=home,
        created_at=stamp,
        bar=bar,
        resume=resume,
    )
    coordinator.parts.append(Snapshot(created_at=stamp, coverage=tuple(org.partial.coverage)))
    first: list[Future] = []
    for account in org.accounts:
        saved = resume.load(account.account_id) if resume else None
        if saved is not None:
            coordinator.parts.append(saved)
            continue
        first.append(coordinator.start_account(account))
    for source in k8s_sources:
        first.append(
            coordinator.submit(
                collect_k8s_source, source, stamp, name=f"k8s-{source.cluster}",
                then=_k8s_done(coordinator.parts, bar, source),
            )
        )  # fmt: skip
    try:
        coordinator.run(first)
    finally:
        bar.close()
    parts = coordinator.parts
    return merge_canonical([*parts, uncovered_clusters(parts, k8s_sources, stamp)], created_at=stamp)


def uncovered_clusters(parts: Sequence[Snapshot], sources: Sequence[ClusterSource], created_at: str) -> Snapshot:
    """A gap for every EKS cluster found whose Kubernetes side no source covers (its workloads are unknown)."""
    covered = {s.cluster for s in sources}
    found = {c.name: c.arn for part in parts for c in part.clusters if c.name not in covered}
    gaps = tuple(
        Coverage(
            source="kubernetes",
            scope=name,
            service=K8S_SERVICE,
            status="failed",
            error=f"not collected: no Kubernetes source for {arn} (add it to the cluster map)",
        )
        for name, arn in sorted(found.items())
    )
    return Snapshot(created_at=created_at, coverage=gaps)


__all__ = [
    "DEFAULT_MEMBER_ROLE",
    "ClusterSource",
    "MemberAccess",
    "Probe",
    "ResumeDir",
    "ScopeResult",
    "collect_account_global",
    "collect_account_region",
    "collect_organization",
    "probe_account",
    "uncovered_clusters",
]
