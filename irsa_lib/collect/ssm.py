"""SSM Parameter Store: parameter metadata (DescribeParameters), resource policies and tags; never values.

Only advanced-tier parameters can carry resource policies (parameter sharing), so GetResourcePolicies is
called for those alone. When it fails the parameter is kept with ``resource_policy_readable=False`` (its
policies are unknown, not absent) and the failure is recorded in coverage, naming the parameter.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from irsa_lib.collect.context import CALL_ERRORS, Partial, Scope
from irsa_lib.collect.documents import decode_policy
from irsa_lib.collect.responses import listing
from irsa_lib.model import PolicyDocument, SSMParameter

SERVICE = "ssm"
TAGS = "ssm:ListTagsForResource"
TagMode = Literal["auto", "always", "never"]
"""SSM parameter tags: one ListTagsForResource call per parameter (no bulk form), so ``auto`` collects
them only when some collected policy conditions an SSM action on resource tags."""
MAX_PAGE_SIZE = 50
"""DescribeParameters' documented MaxResults limit; without it the API returns 10 a page."""


def get_parameters(ssm: Any, page_size: int | None = None) -> list[dict[str, Any]]:
    """DescribeParameters over all pages (metadata only: DescribeParameters never returns values).

    Pages of ``page_size`` (default: the API maximum, five times fewer calls than its default of 10).
    """
    config = {"PageSize": page_size or MAX_PAGE_SIZE}
    paginator = ssm.get_paginator("describe_parameters")
    pages = paginator.paginate(PaginationConfig=config)
    return [p for page in pages for p in listing(page, "Parameters")]


def get_resource_policies(ssm: Any, arn: str) -> list[dict[str, Any]]:
    return [
        p
        for page in ssm.get_paginator("get_resource_policies").paginate(ResourceArn=arn)
        for p in listing(page, "Policies")
    ]


def parameter_arn(name: str, *, partition: str, region: str, account_id: str) -> str:
    """The ARN of a parameter by name (``/a/b`` and ``a`` both become ``parameter/a...``).

    >>> parameter_arn("/billing/db", partition="aws", region="us-east-1", account_id="123456789012")
    'arn:aws:ssm:us-east-1:123456789012:parameter/billing/db'
    """
    return f"arn:{partition}:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


def transform_parameter(
    item: Mapping[str, Any],
    *,
    partition: str,
    region: str,
    account_id: str,
    policies: Sequence[Mapping[str, Any]] = (),
    policies_readable: bool = True,
) -> SSMParameter:
    """A DescribeParameters entry (+ GetResourcePolicies' ``Policies``) as an SSMParameter record.

    ``policies_readable=False``: GetResourcePolicies failed, so ``policies`` is unknown, not empty.
    """
    name = item["Name"]
    ptype = item.get("Type", "String")
    if ptype not in ("String", "StringList", "SecureString"):
        raise ValueError(f"parameter {name}: unknown Type {ptype!r}")
    documents: tuple[PolicyDocument, ...] = tuple(decode_policy(p["Policy"]) for p in policies)
    return SSMParameter(
        arn=item.get("ARN") or parameter_arn(name, partition=partition, region=region, account_id=account_id),
        name=name,
        account_id=account_id,
        region=region,
        type=ptype,
        tier=item.get("Tier", "Standard"),
        key_id=item.get("KeyId") if ptype == "SecureString" else None,
        resource_policies=documents,
        resource_policy_readable=policies_readable,
        version=item.get("Version"),
        last_modified_user=item.get("LastModifiedUser"),
    )


def collect_ssm(scope: Scope, *, page_size: int | None = None) -> Partial:
    out = Partial()
    assert scope.region is not None
    ssm = scope.client("ssm")
    try:
        items = get_parameters(ssm, page_size)
    except CALL_ERRORS as exc:
        out.failed(scope, SERVICE, exc, "ssm:DescribeParameters")
        return out
    params = []
    for item in items:
        arn = item.get("ARN") or parameter_arn(
            item["Name"], partition=scope.partition, region=scope.region, account_id=scope.account_id
        )
        policies: list[dict[str, Any]] = []
        readable = True
        if item.get("Tier") == "Advanced":
            try:
                policies = get_resource_policies(ssm, arn)
            except CALL_ERRORS as exc:
                readable = False
                operation = f"ssm:GetResourcePolicies for parameter {item['Name']}"
                out.failed(scope, "ssm:GetResourcePolicies", exc, operation, resource=arn)
        params.append(
            transform_parameter(
                item,
                partition=scope.partition,
                region=scope.region,
                account_id=scope.account_id,
                policies=policies,
                policies_readable=readable,
            )
        )
    out.add("ssm_parameters", params)
    out.ok(scope, SERVICE, len(params))
    return out


def get_tags(ssm: Any, name: str) -> dict[str, str]:
    """ListTagsForResource of one parameter (not paginated)."""
    response = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    return {t["Key"]: t["Value"] for t in response.get("TagList", [])}


def collect_ssm_tags(scope: Scope, params: Sequence[SSMParameter]) -> tuple[list[SSMParameter], Partial]:
    """The parameters with their tags; one that failed keeps ``tags=None`` (unknown) and is recorded."""
    out = Partial()
    ssm = scope.client("ssm")
    tagged: list[SSMParameter] = []
    for p in params:
        try:
            tags = get_tags(ssm, p.name)
        except CALL_ERRORS as exc:
            out.failed(scope, TAGS, exc, f"{TAGS} for parameter {p.name}", resource=p.arn)
            tagged.append(p)
            continue
        tagged.append(dataclasses.replace(p, tags=tags))
    out.ok(scope, TAGS, sum(1 for p in tagged if p.tags is not None))
    return tagged, out


def _covers_ssm(pattern: str) -> bool:
    service = pattern.split(":", 1)[0].lower()
    return pattern == "*" or service == "ssm" or ("*" in service or "?" in service)


def tag_conditions_on_ssm(documents: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a statement of ``documents`` may condition an SSM action on resource tags.

    A textual over-approximation (a statement mentioning ``ResourceTag/`` whose Action may name an SSM
    action, or that uses NotAction): collecting tags no policy needs costs calls, never correctness.
    """
    for doc in documents:
        statements = doc.get("Statement", []) if isinstance(doc, Mapping) else []
        for st in [statements] if isinstance(statements, Mapping) else statements:
            if not isinstance(st, Mapping) or "resourcetag/" not in json.dumps(st).lower():
                continue
            if "NotAction" in st:
                return True
            actions = st.get("Action", [])
            if any(_covers_ssm(str(a)) for a in ([actions] if isinstance(actions, str) else actions)):
                return True
    return False
