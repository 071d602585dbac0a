"""IAM: roles, users, groups, managed policies, instance profiles (GetAccountAuthorizationDetails), OIDC providers.

get -> transform: ``get_*`` call AWS and raise botocore errors; ``transform_*`` are pure functions of the
API-shaped responses. Managed policies the dump omits (boundary-only ones, AWS managed ones not attached)
are fetched one by one with GetPolicy + GetPolicyVersion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope, arn_account, tags_dict
from irsa_lib.collect.documents import decode_policy
from irsa_lib.collect.responses import listing
from irsa_lib.model import Group, InlinePolicy, InstanceProfile, ManagedPolicy, OIDCProvider, Role, User

SERVICE = "iam"
OIDC_SERVICE = "iam:ListOpenIDConnectProviders"


# --- get ---------------------------------------------------------------------------------------------


def get_authorization_details(iam: Any) -> dict[str, list[dict[str, Any]]]:
    """All pages of GetAccountAuthorizationDetails, concatenated per list."""
    out: dict[str, list[dict[str, Any]]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key, items in out.items():
            items.extend(listing(page, key))
    return out


def get_role_session_durations(iam: Any) -> dict[str, int]:
    """MaxSessionDuration per role ARN (ListRoles; the authorization dump does not carry it)."""
    return {
        role["Arn"]: int(role.get("MaxSessionDuration", 3600))
        for page in iam.get_paginator("list_roles").paginate()
        for role in listing(page, "Roles")
    }


def get_managed_policy(iam: Any, arn: str) -> dict[str, Any]:
    """One managed policy in the authorization-dump shape: GetPolicy, then its default version."""
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    return {**policy, "PolicyVersionList": [{**version, "IsDefaultVersion": True}]}


def get_oidc_provider_arns(iam: Any) -> list[str]:
    found = listing(iam.list_open_id_connect_providers(), "OpenIDConnectProviderList")
    return [p["Arn"] for p in found]


def get_oidc_provider(iam: Any, arn: str) -> dict[str, Any]:
    """GetOpenIDConnectProvider's response with the provider's ``Arn`` added."""
    return {"Arn": arn, **iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)}


# --- transform ---------------------------------------------------------------------------------------


def _inline(items: Iterable[Mapping[str, Any]]) -> tuple[InlinePolicy, ...]:
    return tuple(InlinePolicy(name=p["PolicyName"], document=decode_policy(p["PolicyDocument"])) for p in items)


def _attached(items: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(p["PolicyArn"] for p in items)


def _boundary(detail: Mapping[str, Any]) -> str | None:
    boundary = detail.get("PermissionsBoundary") or {}
    arn = boundary.get("PermissionsBoundaryArn")
    return str(arn) if arn else None


def transform_roles(details: Sequence[Mapping[str, Any]], durations: Mapping[str, int] | None = None) -> list[Role]:
    """RoleDetailList entries as Role records (``durations``: MaxSessionDuration by ARN, when read)."""
    durations = durations or {}
    return [
        Role(
            arn=d["Arn"],
            name=d["RoleName"],
            role_id=d["RoleId"],
            account_id=arn_account(d["Arn"]),
            path=d.get("Path", "/"),
            trust_policy=decode_policy(d["AssumeRolePolicyDocument"]),
            inline_policies=_inline(d.get("RolePolicyList", [])),
            attached_policy_arns=_attached(d.get("AttachedManagedPolicies", [])),
            permissions_boundary_arn=_boundary(d),
            tags=tags_dict(d.get("Tags")),
            max_session_duration=durations.get(d["Arn"], 3600),
            instance_profile_arns=tuple(ip["Arn"] for ip in d.get("InstanceProfileList", [])),
            service_linked=d.get("Path", "/").startswith("/aws-service-role/"),
        )
        for d in details
    ]


def transform_users(details: Sequence[Mapping[str, Any]]) -> list[User]:
    return [
        User(
            arn=d["Arn"],
            name=d["UserName"],
            user_id=d["UserId"],
            account_id=arn_account(d["Arn"]),
            path=d.get("Path", "/"),
            inline_policies=_inline(d.get("UserPolicyList", [])),
            attached_policy_arns=_attached(d.get("AttachedManagedPolicies", [])),
            group_names=tuple(d.get("GroupList", [])),
            permissions_boundary_arn=_boundary(d),
            tags=tags_dict(d.get("Tags")),
        )
        for d in details
    ]


def transform_groups(details: Sequence[Mapping[str, Any]]) -> list[Group]:
    return [
        Group(
            arn=d["Arn"],
            name=d["GroupName"],
            group_id=d["GroupId"],
            account_id=arn_account(d["Arn"]),
            path=d.get("Path", "/"),
            inline_policies=_inline(d.get("GroupPolicyList", [])),
            attached_policy_arns=_attached(d.get("AttachedManagedPolicies", [])),
        )
        for d in details
    ]


def is_aws_managed(arn: str) -> bool:
    """AWS managed policies live in the pseudo-account ``aws`` (``arn:aws:iam::aws:policy/...``)."""
    return arn.split(":")[4:5] == ["aws"]


def transform_managed_policy(detail: Mapping[str, Any]) -> ManagedPolicy:
    """A ManagedPolicyDetail (or GetPolicy+version) as a ManagedPolicy with its default version's document.

    moto omits ``PolicyName``; the name is then the last segment of the ARN (names cannot hold ``/``).
    """
    arn = detail["Arn"]
    default_id = detail.get("DefaultVersionId")
    versions = detail.get("PolicyVersionList", [])
    default = next((v for v in versions if v.get("IsDefaultVersion")), None)
    if default is None:
        default = next((v for v in versions if v.get("VersionId") == default_id), None)
    if default is None:
        raise ValueError(f"managed policy {arn}: no default version document in the response")
    return ManagedPolicy(
        arn=arn,
        name=detail.get("PolicyName") or arn.rsplit("/", 1)[-1],
        document=decode_policy(default["Document"]),
        path=detail.get("Path", "/"),
        default_version_id=default_id or default.get("VersionId"),
        aws_managed=is_aws_managed(arn),
    )


def transform_instance_profiles(roles: Sequence[Mapping[str, Any]]) -> list[InstanceProfile]:
    """Instance profiles named in RoleDetailList entries, once each."""
    seen: dict[str, InstanceProfile] = {}
    for role in roles:
        for ip in role.get("InstanceProfileList", []):
            if ip["Arn"] not in seen:
                seen[ip["Arn"]] = InstanceProfile(
                    arn=ip["Arn"],
                    name=ip["InstanceProfileName"],
                    account_id=arn_account(ip["Arn"]),
                    role_arns=tuple(r["Arn"] for r in ip.get("Roles", [])),
                )
    return list(seen.values())


def referenced_policy_arns(roles: Sequence[Role], users: Sequence[User], groups: Sequence[Group]) -> set[str]:
    """Every managed policy ARN attached to, or used as boundary by, a principal."""
    arns: set[str] = set()
    principals: list[Role | User] = [*roles, *users]
    for p in principals:
        arns.update(p.attached_policy_arns)
        if p.permissions_boundary_arn:
            arns.add(p.permissions_boundary_arn)
    for g in groups:
        arns.update(g.attached_policy_arns)
    return arns


def transform_oidc_provider(response: Mapping[str, Any]) -> OIDCProvider:
    return OIDCProvider(
        arn=response["Arn"],
        url=str(response["Url"]).removeprefix("https://"),
        account_id=arn_account(response["Arn"]),
        client_ids=tuple(response.get("ClientIDList", [])),
    )


# --- collect -----------------------------------------------------------------------------------------


def collect_iam(scope: Scope) -> Partial:
    """IAM principals and policies of the account (global: run once per account)."""
    out = Partial()
    iam = scope.client("iam")
    try:
        details = get_authorization_details(iam)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "iam:GetAccountAuthorizationDetails")
    else:
        try:
            durations: dict[str, int] | None = get_role_session_durations(iam)
        except CALL_ERRORS as exc:
            durations = None
            out.failed(scope, "iam:ListRoles", exc, "iam:ListRoles (role MaxSessionDuration)")
        roles = transform_roles(details["RoleDetailList"], durations)
        users = transform_users(details["UserDetailList"])
        groups = transform_groups(details["GroupDetailList"])
        policies = {p.arn: p for p in map(transform_managed_policy, details["Policies"])}
        for arn in sorted(referenced_policy_arns(roles, users, groups) - set(policies)):
            try:
                policies[arn] = transform_managed_policy(get_managed_policy(iam, arn))
            except CALL_ERRORS as exc:
                out.failed(scope, "iam:GetPolicyVersion", exc, "iam:GetPolicy/GetPolicyVersion", resource=arn)
        profiles = transform_instance_profiles(details["RoleDetailList"])
        out.add("roles", roles)
        out.add("users", users)
        out.add("groups", groups)
        out.add("managed_policies", policies.values())
        out.add("instance_profiles", profiles)
        out.ok(scope, SERVICE, len(roles) + len(users) + len(groups) + len(policies) + len(profiles))
    try:
        provider_arns = get_oidc_provider_arns(iam)
    except CALL_ERRORS as exc:
        out.failed(scope, OIDC_SERVICE, exc, "iam:ListOpenIDConnectProviders")
        return out
    providers = []
    for arn in provider_arns:
        try:
            providers.append(transform_oidc_provider(get_oidc_provider(iam, arn)))
        except CALL_ERRORS as exc:
            out.failed(scope, "iam:GetOpenIDConnectProvider", exc, "iam:GetOpenIDConnectProvider", resource=arn)
    out.add("oidc_providers", providers)
    out.ok(scope, OIDC_SERVICE, len(providers))
    return out
