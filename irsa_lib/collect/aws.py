"""Collect the AWS side of the inventory, read-only, into a partial snapshot.

For each target (a profile and/or a role to assume) the account is resolved with sts:GetCallerIdentity
in the first requested region the endpoint accepts (refused ones are recorded and skipped), each other
region is checked once, then the API families run concurrently on a bounded thread pool: IAM and
Organizations once per account (global), KMS, SSM, Secrets Manager and EKS (with the region's EC2 node
instances) per region. An assumed role's credentials are refreshed before they expire, so a collection
may outlast one role session. Every
(scope, service) attempted gets a coverage entry: ``ok`` with a count, or the failure and its text. One
failing call never stops the rest; only a target from which nothing at all can be read raises
:class:`~irsa_lib.collect.errors.CollectionError`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import boto3
from botocore.exceptions import (
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.parsers import ResponseParserError

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, classify
from irsa_lib.collect.eks import collect_eks
from irsa_lib.collect.errors import CollectionError
from irsa_lib.collect.iam import collect_iam
from irsa_lib.collect.kms import collect_kms
from irsa_lib.collect.merge import canonical
from irsa_lib.collect.nodes import resolve_node_roles
from irsa_lib.collect.organizations import collect_organizations
from irsa_lib.collect.progress import Progress
from irsa_lib.collect.responses import MalformedResponseError
from irsa_lib.collect.secretsmanager import collect_secretsmanager
from irsa_lib.collect.session import (
    Clients,
    RetryMode,
    assume_role_session,
    base_session,
    client_config,
    effective_endpoint,
)
from irsa_lib.collect.ssm import TAGS as ssm_tags_service
from irsa_lib.collect.ssm import TagMode, collect_ssm, collect_ssm_tags, tag_conditions_on_ssm
from irsa_lib.model import Account, Coverage, CoverageStatus, SSMParameter
from irsa_lib.snapshot import RECORD_FIELDS, Snapshot, now_utc

REGIONAL_SERVICES: tuple[str, ...] = ("kms", "ssm", "secretsmanager", "eks")
GLOBAL_SERVICES: tuple[str, ...] = ("iam", "organizations")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


@dataclass(frozen=True)
class AwsTarget:
    """One account to collect: a named profile (None = default chain), optionally a role to assume first."""

    profile: str | None = None
    role_arn: str | None = None
    regions: tuple[str, ...] = ()
    """Empty = the session's default region."""
    session_duration: int | None = None
    """DurationSeconds of the assumed role's sessions (None: the role's default, one hour). They are
    refreshed before they expire, so a collection may take longer than one session."""
    external_id: str | None = None
    """ExternalId sent with AssumeRole (only with ``role_arn``)."""

    def describe(self) -> str:
        """How the target reads in messages: ``profile 'prod' -> role arn:...``."""
        base = f"profile {self.profile!r}" if self.profile else "the default AWS credentials"
        return f"{base} -> role {self.role_arn}" if self.role_arn else base


@dataclass(frozen=True)
class ResolvedTarget:
    """A target whose identity is known: its account, partition, regions and clients."""

    target: AwsTarget
    clients: Clients
    account_id: str
    partition: str
    regions: tuple[str, ...]
    home_region: str | None = None
    """The region the identity was resolved in: it needs no second check."""
    rejected: Mapping[str, tuple[CoverageStatus, str]] = field(default_factory=dict)
    """Regions tried before ``home_region`` and refused by the endpoint: (status, message)."""

    def scope(self, region: str | None) -> Scope:
        return Scope(account_id=self.account_id, partition=self.partition, region=region, clients=self.clients)


def _where(endpoint_url: str | None) -> str:
    endpoint = effective_endpoint(endpoint_url)
    return f"the AWS endpoint {endpoint}" if endpoint else "AWS"


def _identify(
    base: boto3.Session, target: AwsTarget, region: str, *, endpoint_url: str | None, config: Any
) -> tuple[Clients, dict[str, Any]]:
    """Clients for the target in ``region`` (assuming its role there first) and its caller identity.

    The session's default region, used by the global services, is ``region``: one the endpoint accepts.
    """
    if target.role_arn:
        session = assume_role_session(
            base,
            target.role_arn,
            region=region,
            endpoint_url=endpoint_url,
            config=config,
            profile=target.profile,
            duration_seconds=target.session_duration,
            external_id=target.external_id,
        )
    elif base.region_name == region:
        session = base
    else:
        session = base_session(target.profile, region)
    clients = Clients(session, endpoint_url, config)
    return clients, dict(clients.client("sts", region).get_caller_identity())


def _operation(exc: Exception) -> str:
    """The STS operation that failed: AssumeRole (made while fetching credentials) or GetCallerIdentity."""
    return str(getattr(exc, "operation_name", None) or "GetCallerIdentity")


def _refusal(exc: Exception, endpoint_url: str | None) -> str:
    """Why an identity call failed, as the tail of a CollectionError message."""
    if isinstance(exc, ClientError):
        status, message = classify(exc, f"sts:{_operation(exc)}")
        return f"{_where(endpoint_url)} refused the credentials ({status}): {message}"
    if isinstance(exc, MalformedResponseError | ResponseParserError):
        return f"{_where(endpoint_url)} answered unreadably: {classify(exc, f'sts:{_operation(exc)}')[1]}"
    return f"cannot reach {_where(endpoint_url)}: {exc}"


def resolve_target(target: AwsTarget, *, endpoint_url: str | None, config: Any) -> ResolvedTarget:
    """Open a session for the target and learn its account; raise CollectionError if that is impossible.

    The identity is asked in the first requested region; if the endpoint refuses that region (an opt-in
    region not enabled, a regional endpoint down) the next one is tried, and so on. Refused regions are
    kept in ``rejected`` for the coverage; only when every region fails is the target given up.
    """
    who = f"AWS target {target.describe()}"
    try:
        base = base_session(target.profile)
    except ProfileNotFound:
        raise CollectionError(
            f"{who}: profile {target.profile!r} not found in the AWS config or credentials files"
        ) from None
    regions = tuple(dict.fromkeys(target.regions)) or ((base.region_name,) if base.region_name else ())
    if not regions:
        raise CollectionError(
            f"{who}: no region given and none configured (pass regions, or set AWS_REGION / the profile's region)"
        )
    candidates = [r for r in regions if _REGION_RE.match(r)] or [regions[0]]
    failures: dict[str, Exception] = {}
    for region in candidates:
        try:
            if base.get_credentials() is None:
                raise NoCredentialsError()
            clients, identity = _identify(base, target, region, endpoint_url=endpoint_url, config=config)
        except (NoCredentialsError, PartialCredentialsError):
            raise CollectionError(
                f"{who}: no AWS credentials found (environment, shared credentials/config files, "
                "SSO, container or instance metadata)"
            ) from None
        except NoRegionError:
            raise CollectionError(f"{who}: no region configured") from None
        except CALL_ERRORS as exc:
            failures[region] = exc
            continue
        arn = str(identity["Arn"])
        return ResolvedTarget(
            target=target,
            clients=clients,
            account_id=str(identity["Account"]),
            partition=arn.split(":")[1] if arn.count(":") >= 5 else "aws",
            regions=regions,
            home_region=region,
            rejected={r: classify(e, f"sts:{_operation(e)} in {r}") for r, e in failures.items()},
        )
    if len(failures) == 1:
        (only,) = failures.values()
        raise CollectionError(f"{who}: {_refusal(only, endpoint_url)}") from only
    tried = "; ".join(f"{r}: {_refusal(e, endpoint_url)}" for r, e in failures.items())
    raise CollectionError(f"{who}: no requested region could be used ({tried})") from next(iter(failures.values()))


def rejected_region(scope: Scope, status: CoverageStatus, message: str) -> Partial:
    """Coverage of a region the endpoint refused: an ``sts`` entry, and each regional service skipped."""
    out = Partial()
    out.status(scope, "sts", status, f"region rejected: {message}")
    for service in REGIONAL_SERVICES:
        out.status(scope, service, status, f"skipped: region {scope.region} rejected ({message})")
    return out


def check_region(resolved: ResolvedTarget, region: str) -> Partial:
    """Is the region usable for this account? (sts:GetCallerIdentity against it; syntax checked first).

    A region the endpoint rejects (not enabled for the account, unknown, unreachable) gets an ``sts``
    coverage entry plus one per regional service saying it was skipped, so no service reads as empty.
    Regions already refused while resolving the identity are not asked again.
    """
    scope = resolved.scope(region)
    if region == resolved.home_region:
        return Partial()
    if region in resolved.rejected:
        return rejected_region(scope, *resolved.rejected[region])
    if not _REGION_RE.match(region):
        return rejected_region(scope, "failed", f"{region!r} is not an AWS region name")
    try:
        scope.client("sts").get_caller_identity()
    except CALL_ERRORS as exc:
        return rejected_region(scope, *classify(exc, f"sts:GetCallerIdentity in {region}"))
    return Partial()


SHAPE_ERRORS = (KeyError, ValueError, TypeError, AttributeError, IndexError)
"""What reading an answer of an unexpected shape raises (a field missing, a string where a list was)."""


def regional_families(scope: Scope, *, page_size: int | None = None) -> dict[str, Callable[[], Partial]]:
    """The family collectors of one region (``REGIONAL_SERVICES``), ready to run."""
    return {
        "kms": partial(collect_kms, scope, page_size=page_size),
        "ssm": partial(collect_ssm, scope, page_size=page_size),
        "secretsmanager": partial(collect_secretsmanager, scope, page_size=page_size),
        "eks": partial(collect_eks, scope, page_size=page_size),
    }


def guarded(job: Callable[[], Partial], scope: Scope, service: str) -> Partial:
    """Run one family; a malformed response is recorded as ``failed``, never stops the other families."""
    try:
        return job()
    except SHAPE_ERRORS as exc:
        out = Partial()
        out.status(
            scope, service, "failed", f"{service}: unexpected response from the endpoint: {type(exc).__name__}: {exc}"
        )
        return out


def collect_aws(
    targets: Sequence[AwsTarget],
    *,
    endpoint_url: str | None = None,
    max_workers: int = 8,
    progress: bool | None = None,
    retry_mode: RetryMode = "standard",
    max_attempts: int = 3,
    page_size: int | None = None,
    ssm_tags: TagMode = "auto",
) -> Snapshot:
    """Collect every target's AWS inventory into one partial snapshot (records + coverage).

    ``ssm_tags``: collect SSM parameter tags (one call per parameter) ``always``, ``never``, or, by
    default, only when some collected policy conditions an SSM action on resource tags (``auto``).

    ``endpoint_url`` (else ``AWS_ENDPOINT_URL``) sends every call to one endpoint, e.g. a local one.
    ``progress``: None shows progress on stderr when it is a terminal; False never. ``max_attempts`` counts the first try. ``page_size`` asks
    paginated listings for smaller pages (tests). Raises CollectionError when a target yields nothing.
    """
    created = now_utc()
    config = client_config(retry_mode=retry_mode, max_attempts=max_attempts)
    resolved: list[ResolvedTarget] = []
    seen: set[tuple[str, str]] = set()
    for target in targets or (AwsTarget(),):
        r = resolve_target(target, endpoint_url=endpoint_url, config=config)
        regions = tuple(reg for reg in r.regions if (r.account_id, reg) not in seen)
        seen.update((r.account_id, reg) for reg in regions)
        resolved.append(dataclasses.replace(r, regions=regions))

    bar = Progress(enabled=False if progress is False else None)
    result = Partial()
    accounts: dict[str, Account] = {}
    workers = max(1, max_workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="irsa-collect") as pool:
        checks = {(r.account_id, reg): pool.submit(check_region, r, reg) for r in resolved for reg in r.regions}
        usable: dict[str, list[str]] = {}
        for (account_id, region), check in checks.items():
            checked = check.result()
            result.extend(checked)
            if not checked.coverage:
                usable.setdefault(account_id, []).append(region)

        jobs: list[tuple[Scope, str, Future[Partial]]] = []
        org_jobs: list[tuple[Scope, Future[tuple[Account, Partial]]]] = []
        global_done: set[str] = set()
        for r in resolved:
            if r.account_id not in global_done:
                global_done.add(r.account_id)
                gscope = r.scope(None)
                jobs.append((gscope, "iam", pool.submit(guarded, partial(collect_iam, gscope), gscope, "iam")))
                org_jobs.append((gscope, pool.submit(collect_organizations, gscope)))
            for region in r.regions:
                if region not in usable.get(r.account_id, []):
                    continue
                scope = r.scope(region)
                for service, job in regional_families(scope, page_size=page_size).items():
                    jobs.append((scope, service, pool.submit(guarded, job, scope, service)))
        bar.add(len(jobs) + len(org_jobs))
        for scope, org_fut in org_jobs:
            try:
                accounts[scope.account_id], part = org_fut.result()
            except SHAPE_ERRORS as exc:
                part = Partial()
                part.status(scope, "organizations", "failed", f"organizations: unexpected response: {exc!r}")
            result.extend(part)
            bar.step(scope.account_id, "global", "organizations", worst_status(part))
        for scope, service, fut in jobs:
            part = fut.result()
            result.extend(part)
            bar.step(scope.account_id, scope.region or "global", service, worst_status(part))
        ssm_scopes = [scope for scope, service, _ in jobs if service == "ssm"]
        result.extend(_ssm_tags(pool, ssm_scopes, result, list(accounts.values()), ssm_tags))
    bar.close()

    for r in resolved:
        acct = accounts.get(r.account_id) or Account(account_id=r.account_id, partition=r.partition)
        regions = tuple(sorted({*acct.regions, *usable.get(r.account_id, [])}))
        accounts[r.account_id] = dataclasses.replace(acct, regions=regions)
    return assemble(result, accounts.values(), created_at=created)


def assemble(result: Partial, accounts: Iterable[Account], *, created_at: str) -> Snapshot:
    """The collected parts of one or more accounts as a snapshot: node roles resolved from the instance
    profiles (or their gaps recorded), records and coverage in canonical order."""
    iam_state = {
        c.scope.split("/")[0]: c for c in result.coverage if c.service == "iam" and c.scope.endswith("/global")
    }
    node_groups, node_gaps = resolve_node_roles(
        result.records.get("node_groups", []), result.records.get("instance_profiles", []), iam_state
    )
    records: dict[str, Any] = {
        name: tuple(result.records.get(name, [])) for name in RECORD_FIELDS if name not in ("accounts", "coverage")
    }
    records["node_groups"] = tuple(node_groups)
    return canonical(
        Snapshot(
            created_at=created_at,
            accounts=tuple(accounts),
            coverage=(*result.coverage, *node_gaps),
            **records,
        )
    )


def _policy_documents(records: Mapping[str, Any], accounts: Sequence[Account]) -> Iterator[Mapping[str, Any]]:
    """Every policy document collected: IAM (inline and managed), SCPs and RCPs, parameter policies."""
    for holder in (*records.get("roles", ()), *records.get("users", ()), *records.get("groups", ())):
        yield from (ip.document for ip in holder.inline_policies)
    yield from (mp.document for mp in records.get("managed_policies", ()))
    for acct in accounts:
        for levels in (acct.scps or (), acct.rcps or ()):
            yield from (op.document for level in levels for op in level)
    for param in records.get("ssm_parameters", ()):
        yield from param.resource_policies


def _ssm_tags(
    pool: ThreadPoolExecutor, scopes: Sequence[Scope], result: Partial, accounts: Sequence[Account], mode: TagMode
) -> Partial:
    """Phase two: tags of the collected parameters (``mode``: see :func:`collect_aws`); the parameter
    records are replaced in ``result``, the coverage is returned."""
    out = Partial()
    params: list[SSMParameter] = result.records.get("ssm_parameters", [])
    if not scopes:
        return out
    if mode == "never" or (mode == "auto" and not tag_conditions_on_ssm(_policy_documents(result.records, accounts))):
        why = "--ssm-tags never" if mode == "never" else "no collected policy conditions an SSM action on resource tags"
        for scope in scopes:
            out.status(scope, ssm_tags_service, "skipped", f"parameter tags not collected: {why}")
        return out
    by_scope = {(s.account_id, s.region): s for s in scopes}
    groups: dict[tuple[str, str | None], list[SSMParameter]] = {key: [] for key in by_scope}
    rest: list[SSMParameter] = []
    for p in params:
        groups.get((p.account_id, p.region), rest).append(p)
    futures = [pool.submit(collect_ssm_tags, by_scope[key], group) for key, group in groups.items()]
    tagged = list(rest)
    for fut in futures:
        done, part = fut.result()
        tagged.extend(done)
        out.extend(part)
    result.records["ssm_parameters"] = tagged
    return out


def worst_status(part: Partial) -> str:
    """The first status of the part's coverage that is not ``ok`` (for progress lines), else ``ok``."""
    return next((c.status for c in part.coverage if c.status != "ok"), "ok")


__all__ = ["AwsTarget", "Coverage", "ResolvedTarget", "assemble", "collect_aws", "resolve_target"]
