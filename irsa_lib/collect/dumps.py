"""Offline AWS dumps: the JSON the AWS CLI prints, read into a partial snapshot (no AWS call).

For reviewers without live access. ``load_iam_dump(FILE)`` reads ``aws iam
get-account-authorization-details`` (the format other IAM tools accept); ``load_aws_dump(DIR)`` reads a
directory laid out as the README documents (``iam/``, then ``<region>/kms``, ``ssm``,
``secretsmanager``, ``eks``), every file being one CLI command's output. The records come from the same
``transform_*`` functions as live collection. What a dump lacks is recorded in the coverage as
``not_collected`` (naming the file that would hold it), so an answer that depends on it says
"unknown", never "no access"; a malformed file is ``failed`` with the reason, and the rest still loads.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irsa_lib.collect.context import arn_account
from irsa_lib.collect.eks import transform_cluster
from irsa_lib.collect.iam import (
    referenced_policy_arns,
    transform_groups,
    transform_instance_profiles,
    transform_managed_policy,
    transform_oidc_provider,
    transform_roles,
    transform_users,
)
from irsa_lib.collect.kms import transform_aliases, transform_key
from irsa_lib.collect.secretsmanager import transform_secret
from irsa_lib.collect.ssm import transform_parameter
from irsa_lib.errors import IrsaError
from irsa_lib.model import Coverage, CoverageStatus, OIDCProvider
from irsa_lib.snapshot import Snapshot, now_utc

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
GAAD_FILE = "get-account-authorization-details.json"


class DumpError(IrsaError):
    """A dump that cannot be read at all (missing, or not the expected CLI output)."""


@dataclass
class _Dump:
    """Records and coverage gathered from one dump."""

    records: dict[str, list[Any]] = field(default_factory=dict)
    coverage: list[Coverage] = field(default_factory=list)

    def add(self, name: str, items: Any) -> None:
        self.records.setdefault(name, []).extend(items)

    def cover(
        self,
        scope: str,
        service: str,
        status: CoverageStatus,
        *,
        error: str | None = None,
        resource: str | None = None,
        count: int | None = None,
    ) -> None:
        self.coverage.append(
            Coverage(
                source="aws", scope=scope, service=service, status=status, error=error, resource=resource, count=count
            )
        )

    def missing(self, scope: str, service: str, file: Path, what: str, resource: str | None = None) -> None:
        self.cover(
            scope, service, "not_collected", error=f"not in the offline dump: {what} ({file})", resource=resource
        )

    def snapshot(self) -> Snapshot:
        records: dict[str, Any] = {k: tuple(v) for k, v in self.records.items()}
        return Snapshot(created_at=now_utc(), coverage=tuple(self.coverage), **records)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DumpError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DumpError(f"{path}: cannot read: {exc}") from exc


def _pages(data: Any) -> list[Mapping[str, Any]]:
    """One CLI output, or a list of pages of it (``--no-paginate`` runs saved one after another)."""
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list) and all(isinstance(p, Mapping) for p in data):
        return data
    raise ValueError("expected a JSON object (or a list of pages)")


def _joined(data: Any, key: str) -> list[Mapping[str, Any]]:
    return [item for page in _pages(data) for item in page.get(key) or []]


# --- IAM ------------------------------------------------------------------------------------------


def load_iam_dump(path: str | os.PathLike[str], *, providers_dir: str | os.PathLike[str] | None = None) -> Snapshot:
    """Roles, users, groups, policies and instance profiles from ``aws iam get-account-authorization-details``.

    OIDC providers are not in that output: they come from ``providers_dir`` (one
    ``aws iam get-open-id-connect-provider`` output per file), else are recorded as not collected.
    """
    dump = _Dump()
    _iam(dump, Path(path), Path(providers_dir) if providers_dir else None)
    return dump.snapshot()


def _iam(dump: _Dump, file: Path, providers_dir: Path | None) -> str:
    if not file.is_file():
        raise DumpError(f"{file}: no such file (expected the output of aws iam get-account-authorization-details)")
    data = _read(file)
    try:
        details = {k: _joined(data, k) for k in ("RoleDetailList", "UserDetailList", "GroupDetailList", "Policies")}
    except ValueError as exc:
        raise DumpError(f"{file}: {exc}") from None
    if not any(details.values()):
        raise DumpError(f"{file}: not the output of aws iam get-account-authorization-details (no RoleDetailList)")
    arns = [d.get("Arn", "") for k in ("RoleDetailList", "UserDetailList", "GroupDetailList") for d in details[k]]
    accounts = {arn_account(a) for a in arns if a}
    if len(accounts) != 1:
        raise DumpError(f"{file}: expected one account's principals, found accounts {sorted(accounts) or 'none'}")
    account = accounts.pop()
    scope = f"{account}/global"
    try:
        roles = transform_roles(details["RoleDetailList"])
        users = transform_users(details["UserDetailList"])
        groups = transform_groups(details["GroupDetailList"])
        policies = {p.arn: p for p in map(transform_managed_policy, details["Policies"])}
    except (KeyError, ValueError, TypeError) as exc:
        dump.cover(scope, "iam", "failed", error=f"{file}: malformed entry: {exc!r}")
        return account
    for arn in sorted(referenced_policy_arns(roles, users, groups) - set(policies)):
        dump.missing(scope, "iam:GetPolicyVersion", file, "a managed policy attached or used as a boundary", arn)
    profiles = transform_instance_profiles(details["RoleDetailList"])
    dump.add("roles", roles)
    dump.add("users", users)
    dump.add("groups", groups)
    dump.add("managed_policies", policies.values())
    dump.add("instance_profiles", profiles)
    dump.cover(scope, "iam", "ok", count=len(roles) + len(users) + len(groups) + len(policies) + len(profiles))
    _providers(dump, scope, account, file, providers_dir)
    return account


def _providers(dump: _Dump, scope: str, account: str, file: Path, providers_dir: Path | None) -> None:
    service = "iam:ListOpenIDConnectProviders"
    if providers_dir is None or not providers_dir.is_dir():
        where = providers_dir or file.parent / "oidc-providers"
        dump.missing(scope, service, where, "OIDC providers (aws iam get-open-id-connect-provider, one file each)")
        return
    providers: list[OIDCProvider] = []
    for path in sorted(providers_dir.glob("*.json")):
        try:
            data = _read(path)
            arn = data.get("Arn") or f"arn:aws:iam::{account}:oidc-provider/{str(data['Url']).removeprefix('https://')}"
            providers.append(transform_oidc_provider({**data, "Arn": arn}))
        except (DumpError, KeyError, AttributeError) as exc:
            dump.cover(scope, service, "failed", error=f"{path}: {exc}", resource=str(path))
    dump.add("oidc_providers", providers)
    dump.cover(scope, service, "ok", count=len(providers))


# --- a whole dump directory ------------------------------------------------------------------------


def load_aws_dump(root: str | os.PathLike[str]) -> Snapshot:
    """IAM, then KMS, SSM, Secrets Manager and EKS per region, from a dump directory (see the README)."""
    base = Path(root)
    if not base.is_dir():
        raise DumpError(f"{base}: no such dump directory")
    dump = _Dump()
    account = _iam(dump, base / "iam" / GAAD_FILE, base / "iam" / "oidc-providers")
    regions = sorted(p.name for p in base.iterdir() if p.is_dir() and _REGION.match(p.name))
    if not regions:
        raise DumpError(f"{base}: no region directory (like us-east-1/) beside iam/")
    for region in regions:
        scope = f"{account}/{region}"
        for reader in (_kms, _ssm, _secrets, _eks):
            try:
                reader(dump, base / region, scope, account, region)
            except (DumpError, ValueError, KeyError, TypeError, AttributeError) as exc:
                dump.cover(scope, reader.__name__.strip("_"), "failed", error=str(exc))
    return dump.snapshot()


def _kms(dump: _Dump, d: Path, scope: str, account: str, region: str) -> None:
    kms = d / "kms"
    keys_dir = kms / "keys"
    if not keys_dir.is_dir():
        dump.missing(scope, "kms", keys_dir, "KMS keys (describe-key per key)")
        return
    aliases: dict[str, tuple[str, ...]] = {}
    if (kms / "list-aliases.json").is_file():
        aliases = transform_aliases(_joined(_read(kms / "list-aliases.json"), "Aliases"))
    else:
        dump.missing(scope, "kms:ListAliases", kms / "list-aliases.json", "key aliases")
    keys = []
    for key_dir in sorted(p for p in keys_dir.iterdir() if p.is_dir()):
        described = key_dir / "describe-key.json"
        if not described.is_file():
            dump.missing(scope, "kms:DescribeKey", described, "the key's metadata", key_dir.name)
            continue
        metadata = _read(described)["KeyMetadata"]
        arn = metadata["Arn"]
        policy = rotation = None
        if (key_dir / "get-key-policy.json").is_file():
            policy = _read(key_dir / "get-key-policy.json")["Policy"]
        else:
            dump.missing(scope, "kms:GetKeyPolicy", key_dir / "get-key-policy.json", "the key policy", arn)
        if (key_dir / "get-key-rotation-status.json").is_file():
            rotation = bool(_read(key_dir / "get-key-rotation-status.json").get("KeyRotationEnabled"))
        grants: list[Mapping[str, Any]] = []
        if (key_dir / "list-grants.json").is_file():
            grants = _joined(_read(key_dir / "list-grants.json"), "Grants")
        else:
            dump.missing(scope, "kms:ListGrants", key_dir / "list-grants.json", "the key's grants", arn)
        keys.append(
            transform_key(
                metadata,
                region=region,
                aliases=aliases.get(metadata["KeyId"], ()),
                policy=policy,
                rotation=rotation,
                grants=grants,
            )
        )
    dump.add("kms_keys", keys)
    dump.cover(scope, "kms", "ok", count=len(keys))


def _ssm(dump: _Dump, d: Path, scope: str, account: str, region: str) -> None:
    file = d / "ssm" / "describe-parameters.json"
    if not file.is_file():
        dump.missing(scope, "ssm", file, "parameters (aws ssm describe-parameters)")
        return
    params = []
    for item in _joined(_read(file), "Parameters"):
        policies: list[Mapping[str, Any]] = []
        readable = True
        if item.get("Tier") == "Advanced":
            pfile = d / "ssm" / "resource-policies" / f"{urllib.parse.quote(item['Name'], safe='')}.json"
            if pfile.is_file():
                policies = _joined(_read(pfile), "Policies")
            else:
                readable = False
                dump.missing(scope, "ssm:GetResourcePolicies", pfile, "the parameter's resource policies", item["Name"])
        params.append(
            transform_parameter(
                item, partition="aws", region=region, account_id=account, policies=policies, policies_readable=readable
            )
        )
    dump.add("ssm_parameters", params)
    dump.cover(scope, "ssm", "ok", count=len(params))


def _secrets(dump: _Dump, d: Path, scope: str, account: str, region: str) -> None:
    sm = d / "secretsmanager"
    file = sm / "list-secrets.json"
    if not file.is_file():
        dump.missing(scope, "secretsmanager", file, "secrets (aws secretsmanager list-secrets)")
        return
    policies: dict[str, str | None] = {}
    for path in sorted((sm / "resource-policies").glob("*.json")) if (sm / "resource-policies").is_dir() else ():
        data = _read(path)
        policies[data["ARN"]] = data.get("ResourcePolicy")
    secrets = []
    for item in _joined(_read(file), "SecretList"):
        readable = item["ARN"] in policies
        if not readable:
            dump.missing(
                scope,
                "secretsmanager:GetResourcePolicy",
                sm / "resource-policies",
                "the secret's resource policy (aws secretsmanager get-resource-policy)",
                item["ARN"],
            )
        secrets.append(
            transform_secret(item, region=region, policy=policies.get(item["ARN"]), policy_readable=readable)
        )
    dump.add("secrets", secrets)
    dump.cover(scope, "secretsmanager", "ok", count=len(secrets))


def _eks(dump: _Dump, d: Path, scope: str, account: str, region: str) -> None:
    clusters_dir = d / "eks" / "describe-cluster"
    if not clusters_dir.is_dir():
        dump.missing(scope, "eks", clusters_dir, "EKS clusters (aws eks describe-cluster, one file each)")
        return
    clusters = [transform_cluster(_read(p)["cluster"], region=region) for p in sorted(clusters_dir.glob("*.json"))]
    dump.add("clusters", clusters)
    dump.cover(scope, "eks", "ok", count=len(clusters))
    for service, what in (
        ("eks:ListPodIdentityAssociations", "Pod Identity associations"),
        ("eks:DescribeNodegroup", "node groups and their IMDS settings"),
    ):
        dump.missing(scope, service, d / "eks", what)
