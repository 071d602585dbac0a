"""Discover an AWS organisation's accounts, their OU paths and their SCPs/RCPs, read once for all of them.

Run with the management account's or a delegated administrator's credentials (Organizations answers
there only). Accounts come from ``ListAccounts``, or, with OUs given, from ``ListAccountsForParent``
over each OU and every OU below it (``ListOrganizationalUnitsForParent``). Only ``ACTIVE`` accounts are
collected; suspended or closing ones and ``exclude``d ones are recorded in the coverage as ``ignored``
with the reason, so the snapshot says why an account of the organisation is not in it. The SCPs and
RCPs along every account's OU path are read through one :class:`OrgReader`, so a policy or an OU shared
by a hundred accounts is read once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, classify
from irsa_lib.collect.errors import CollectionError
from irsa_lib.collect.organizations import OrgReader, account_in_organization, get_organization
from irsa_lib.collect.session import Clients
from irsa_lib.model import Account

MAX_OUS = 10_000
"""More OUs than AWS lets an organisation have (1,000 by default): a bound on the walk, not a limit."""
MAX_DEPTH = 6
"""OUs nest at most five levels below the root."""


@dataclass(frozen=True)
class Organization:
    """What discovery found: the accounts to collect (with OU path, SCPs and RCPs) and what it skipped."""

    organization_id: str
    management_account_id: str | None
    accounts: tuple[Account, ...]
    """ACTIVE accounts not excluded, in account id order."""
    names: Mapping[str, str]
    """Account id -> account name, for messages."""
    partial: Partial
    """Coverage of the Organizations reads per account, and the accounts left out with the reason."""


def _pages(org: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in org.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def list_member_accounts(org: Any, ous: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every account of the organisation, or of the given OUs and the OUs below them (each once)."""
    if not ous:
        return _pages(org, "list_accounts", "Accounts")
    found: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    level = list(dict.fromkeys(ous))
    for _ in range(MAX_DEPTH + 1):
        below: list[str] = []
        for ou in level:
            if ou in seen:
                continue
            seen.add(ou)
            if len(seen) > MAX_OUS:
                raise CollectionError(f"more than {MAX_OUS} organizational units under {', '.join(ous)}")
            for account in _pages(org, "list_accounts_for_parent", "Accounts", ParentId=ou):
                found.setdefault(str(account["Id"]), account)
            below.extend(
                str(child["Id"])
                for child in _pages(org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=ou)
            )
        if not below:
            break
        level = below
    return sorted(found.values(), key=lambda a: str(a["Id"]))


def discover_organization(
    clients: Clients,
    *,
    partition: str = "aws",
    ous: Sequence[str] = (),
    exclude: Iterable[str] = (),
    region: str | None = None,
) -> Organization:
    """List the organisation's accounts and read their OU paths and SCPs/RCPs from ``clients``' account.

    Raises CollectionError when the organisation cannot be described or its accounts cannot be listed
    (not in an organisation, or not its management / delegated-administrator account): without the
    account list there is nothing to fan out.
    """
    org = clients.client("organizations", region)
    try:
        organization = get_organization(org)
    except CALL_ERRORS as exc:
        raise CollectionError(f"cannot describe the organisation: {classify(exc, 'DescribeOrganization')[1]}") from exc
    if organization is None:
        raise CollectionError("the account of these credentials is not a member of an AWS organisation")
    try:
        listed = list_member_accounts(org, ous)
    except CALL_ERRORS as exc:
        what = "ListAccountsForParent" if ous else "ListAccounts"
        raise CollectionError(
            f"cannot list the organisation's accounts ({classify(exc, f'organizations:{what}')[1]}): run from the "
            "management account or a delegated administrator for AWS Organizations"
        ) from exc
    excluded = set(exclude)
    reader = OrgReader(org)
    out = Partial()
    accounts: list[Account] = []
    names: dict[str, str] = {}
    for entry in listed:
        account_id = str(entry["Id"])
        names[account_id] = str(entry.get("Name") or "")
        scope = Scope(account_id=account_id, partition=partition, region=None, clients=clients)
        status = str(entry.get("Status") or entry.get("State") or "ACTIVE")
        if account_id in excluded:
            out.status(scope, "account", "ignored", "excluded from the collection (--exclude-account)")
            continue
        if status != "ACTIVE":
            out.status(scope, "account", "ignored", f"account status {status}: not collected")
            continue
        account, part = account_in_organization(reader, scope, organization)
        out.extend(part)
        accounts.append(account)
    management = organization.get("MasterAccountId") or organization.get("ManagementAccountId")
    return Organization(
        organization_id=str(organization.get("Id") or ""),
        management_account_id=str(management) if management else None,
        accounts=tuple(accounts),
        names=names,
        partial=out,
    )


__all__ = ["Organization", "discover_organization", "list_member_accounts"]
