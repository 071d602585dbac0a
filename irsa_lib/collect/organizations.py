"""AWS Organizations, best effort: the account's OU path and the SCPs / RCPs attached along it.

- not in an organization (``AWSOrganizationsNotInUseException``): no policies apply (``scps=()``),
  coverage ``absent``;
- ``ListParents`` / ``ListPoliciesForTarget`` denied (member accounts usually are): ``scps=None``
  (unknown), coverage ``denied``;
- RCPs likewise, independently (older endpoints may not know the policy type).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, decode_policy, error_code
from irsa_lib.collect.responses import listing
from irsa_lib.model import Account, OrgPolicy

SERVICE = "organizations"
SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"


def get_organization(org: Any) -> dict[str, Any] | None:
    """DescribeOrganization, or None when the account is in no organization."""
    try:
        return dict(org.describe_organization()["Organization"])
    except ClientError as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            return None
        raise


def get_ou_path(org: Any, account_id: str) -> tuple[str, ...]:
    """Target ids from the root down to the account (ListParents until the root)."""
    path = [account_id]
    child = account_id
    for _ in range(10):  # OUs nest at most five deep under the root
        parents = listing(org.list_parents(ChildId=child), "Parents")
        if not parents:
            break
        parent = parents[0]
        path.append(parent["Id"])
        if parent["Type"] == "ROOT":
            break
        child = parent["Id"]
    return tuple(reversed(path))


def get_policies_for_target(org: Any, target_id: str, policy_type: str) -> list[dict[str, Any]]:
    pages = org.get_paginator("list_policies_for_target").paginate(TargetId=target_id, Filter=policy_type)
    return [p for page in pages for p in listing(page, "Policies")]


def get_policy(org: Any, policy_id: str) -> dict[str, Any]:
    return dict(org.describe_policy(PolicyId=policy_id)["Policy"])


def transform_policy(policy: Mapping[str, Any], *, target_id: str) -> OrgPolicy:
    summary = policy["PolicySummary"]
    return OrgPolicy(
        policy_id=summary["Id"], name=summary["Name"], document=decode_policy(policy["Content"]), target_id=target_id
    )


def get_levels(
    org: Any, path: Sequence[str], policy_type: str, describe: Callable[[str], dict[str, Any]]
) -> tuple[tuple[OrgPolicy, ...], ...]:
    """Policies of one type per level of the OU path (root first)."""
    return tuple(
        tuple(
            transform_policy(describe(p["Id"]), target_id=target)
            for p in get_policies_for_target(org, target, policy_type)
        )
        for target in path
    )


def collect_organizations(scope: Scope) -> tuple[Account, Partial]:
    """The Account record for the scope's account, with whatever Organizations would tell."""
    out = Partial()
    org = scope.client("organizations")
    base = Account(account_id=scope.account_id, partition=scope.partition)
    try:
        organization = get_organization(org)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "organizations:DescribeOrganization")
        return base, out
    if organization is None:
        out.status(scope, SERVICE, "absent", "the account is not a member of an organization: no SCPs or RCPs apply")
        return Account(account_id=scope.account_id, partition=scope.partition, scps=(), rcps=()), out
    management = organization.get("MasterAccountId") or organization.get("ManagementAccountId")
    account = Account(
        account_id=scope.account_id,
        partition=scope.partition,
        organization_id=organization.get("Id"),
        management_account=management == scope.account_id if management else None,
    )
    try:
        path = get_ou_path(org, scope.account_id)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "organizations:ListParents")
        return account, out
    cache: dict[str, dict[str, Any]] = {}

    def describe(policy_id: str) -> dict[str, Any]:
        if policy_id not in cache:
            cache[policy_id] = get_policy(org, policy_id)
        return cache[policy_id]

    levels: dict[str, tuple[tuple[OrgPolicy, ...], ...] | None] = {}
    for policy_type, service in ((SCP, f"{SERVICE}:{SCP}"), (RCP, f"{SERVICE}:{RCP}")):
        try:
            levels[policy_type] = get_levels(org, path, policy_type, describe)
        except CALL_ERRORS as exc:
            levels[policy_type] = None
            out.failed(scope, service, exc, f"organizations:ListPoliciesForTarget/DescribePolicy ({policy_type})")
        else:
            out.ok(scope, service, sum(len(level) for level in levels[policy_type] or ()))
    account = Account(
        account_id=account.account_id,
        partition=account.partition,
        organization_id=account.organization_id,
        management_account=account.management_account,
        ou_path=path,
        scps=levels[SCP],
        rcps=levels[RCP],
    )
    out.ok(scope, SERVICE, 1)
    return account, out
