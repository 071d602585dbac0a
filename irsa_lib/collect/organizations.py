"""AWS Organizations, best effort: the account's OU path and the SCPs / RCPs attached along it.

- not in an organization (``AWSOrganizationsNotInUseException``): no policies apply (``scps=()``),
  coverage ``absent``;
- ``ListParents`` / ``ListPoliciesForTarget`` denied (member accounts usually are): ``scps=None``
  (unknown), coverage ``denied``;
- RCPs likewise, independently (older endpoints may not know the policy type).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, error_code
from irsa_lib.collect.documents import decode_policy
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


class OrgReader:
    """Organizations reads with per-target caches: an OU's parent and a target's policies are read once,
    however many accounts sit under them (one reader serves a whole organisation's discovery)."""

    def __init__(self, org: Any) -> None:
        self.org = org
        self._parents: dict[str, list[dict[str, Any]]] = {}
        self._policies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._described: dict[str, dict[str, Any]] = {}

    def list_parents(self, ChildId: str) -> dict[str, Any]:  # the boto3 keyword, as get_ou_path calls it
        if ChildId not in self._parents:
            self._parents[ChildId] = list(self.org.list_parents(ChildId=ChildId)["Parents"])
        return {"Parents": self._parents[ChildId]}

    def policies_for(self, target_id: str, policy_type: str) -> list[dict[str, Any]]:
        key = (target_id, policy_type)
        if key not in self._policies:
            self._policies[key] = get_policies_for_target(self.org, target_id, policy_type)
        return self._policies[key]

    def describe(self, policy_id: str) -> dict[str, Any]:
        if policy_id not in self._described:
            self._described[policy_id] = get_policy(self.org, policy_id)
        return self._described[policy_id]

    def levels(self, path: Sequence[str], policy_type: str) -> tuple[tuple[OrgPolicy, ...], ...]:
        """Policies of one type per level of the OU path (root first)."""
        return tuple(
            tuple(
                transform_policy(self.describe(p["Id"]), target_id=target)
                for p in self.policies_for(target, policy_type)
            )
            for target in path
        )


def account_in_organization(
    reader: OrgReader, scope: Scope, organization: Mapping[str, Any]
) -> tuple[Account, Partial]:
    """The Account record of ``scope.account_id``, a member of ``organization``: OU path, SCPs and RCPs.

    The reads may be made from another account (the management or delegated-administrator account
    reading for a member); coverage is recorded under the member's scope.
    """
    out = Partial()
    management = organization.get("MasterAccountId") or organization.get("ManagementAccountId")
    account = Account(
        account_id=scope.account_id,
        partition=scope.partition,
        organization_id=organization.get("Id"),
        management_account=management == scope.account_id if management else None,
    )
    try:
        path = get_ou_path(reader, scope.account_id)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "organizations:ListParents")
        return account, out
    levels: dict[str, tuple[tuple[OrgPolicy, ...], ...] | None] = {}
    for policy_type, service in ((SCP, f"{SERVICE}:{SCP}"), (RCP, f"{SERVICE}:{RCP}")):
        try:
            levels[policy_type] = reader.levels(path, policy_type)
        except CALL_ERRORS as exc:
            levels[policy_type] = None
            out.failed(scope, service, exc, f"organizations:ListPoliciesForTarget/DescribePolicy ({policy_type})")
        else:
            out.ok(scope, service, sum(len(level) for level in levels[policy_type] or ()))
    account = dataclasses.replace(account, ou_path=path, scps=levels[SCP], rcps=levels[RCP])
    out.ok(scope, SERVICE, 1)
    return account, out


def collect_organizations(scope: Scope) -> tuple[Account, Partial]:
    """The Account record for the scope's account, with whatever Organizations would tell."""
    org = scope.client("organizations")
    base = Account(account_id=scope.account_id, partition=scope.partition)
    try:
        organization = get_organization(org)
    except CALL_ERRORS as exc:
        out = Partial()
        out.failed(scope, SERVICE, exc, "organizations:DescribeOrganization")
        return base, out
    if organization is None:
        out = Partial()
        out.status(scope, SERVICE, "absent", "the account is not a member of an organization: no SCPs or RCPs apply")
        return Account(account_id=scope.account_id, partition=scope.partition, scps=(), rcps=()), out
    return account_in_organization(OrgReader(org), scope, organization)
