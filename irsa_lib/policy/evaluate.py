"""One request, every policy, AWS's order (IAM UG reference_policies_evaluation-logic).

1. An explicit Deny in any applicable policy wins (SCP, RCP, resource/key/trust, identity,
   boundary, session).
2. SCPs of the principal's account must allow at every level (not for service-linked roles or
   the management account: the caller passes ``scps=None`` then); RCPs of the resource's account
   likewise (not for service-linked roles, and only for the services RCPs support).
3. Same account: an Allow in the resource-based policy *or* in the identity policies is enough.
   A resource policy naming the role ARN is still limited by the boundary and session policy;
   one naming the user or the session itself is not; one naming the account only delegates to IAM.
   Cross account: both sides must allow.
4. Identity side = identity policies AND boundary (if any) AND session policies (if any).
5. Role trust: the trust policy must allow as well (``resource_kind="role-trust"``).
   KMS: the key policy must allow directly, or via the account root plus an IAM allow, or a grant
   must cover the operation (``resource_kind="kms-key"``). A cryptographic operation on a key that is
   not enabled (Disabled, PendingDeletion...) fails whatever the policies say (KMS key-state table).

Three values: with an incomplete context a condition on a key not given leaves the statement
unresolved, and the decision is ``conditional`` naming the keys, never a silent allow or deny.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from irsa_lib.policy.arn import account_of, normalize_resource
from irsa_lib.policy.context import RequestContext
from irsa_lib.policy.decision import Decision, all_of
from irsa_lib.policy.document import Policy
from irsa_lib.policy.explain import explain
from irsa_lib.policy.kms import (
    ALIAS_ACTIONS,
    ALIAS_REASON,
    NO_RESOURCE_ACTIONS,
    grant_allows,
    is_alias_arn,
    key_state_blocks,
    key_state_reason,
    kms_operation,
    no_resource_reason,
)
from irsa_lib.policy.layers import FALSE, TRUE, Layer, Tri, scan, t_and, t_or
from irsa_lib.policy.policyset import PolicySet
from irsa_lib.policy.request import Request

_IAM_KINDS = frozenset({"role", "user", "session", "root"})
_IDENTITY_ONLY = frozenset({"role", "user", "session"})
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "logs", "dynamodb"})
"""Services whose requests RCPs restrict (Organizations orgs_manage_policies_rcps, "List of AWS services that
support RCPs": S3, STS, KMS, SQS and Secrets Manager at launch, later ECR, OpenSearch Serverless, CloudWatch
Logs and DynamoDB). An RCP has no effect on any other service, whatever its Action says; Systems Manager
Parameter Store is not supported. Re-check the live list when AWS adds a service."""
SLR_NOTE = (
    "service-linked role: SCPs and RCPs do not apply to it, so they were not evaluated "
    "(Organizations orgs_manage_policies_scps, orgs_manage_policies_rcps)"
)
UNLIMITED = ("direct", "wildcard")
ROLE = ("role",)
ACCOUNT = ("account",)


def _levels(
    name: str, levels: Sequence[Sequence[Policy]], action: str, resource: str, ctx: RequestContext
) -> list[Layer]:
    return [scan(f"{name}[{i}]", level, action, resource, ctx) for i, level in enumerate(levels)]


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide one request against its policies: allow, deny or conditional, with the evidence.

    Two KMS request classes are not about one key (Service Authorization Reference, KMS): actions
    with no resource type (``kms:ListKeys``, ``kms:CreateKey``...) are decided on ``*`` by the
    identity side alone, with no key policy to require; alias management (``kms:CreateAlias``,
    ``UpdateAlias``, ``DeleteAlias`` on an alias ARN) needs the action allowed on the alias (identity
    policies: an alias has no resource policy) and on every key it affects (``policies.alias_keys``).
    """
    name = kms_operation(request.action)
    if name in NO_RESOURCE_ACTIONS:
        keyless = dataclasses.replace(
            policies, resource=None, resource_kind="generic", grants=(), key_state=None, alias_keys=()
        )
        return _evaluate_one(dataclasses.replace(request, resource="*"), keyless, [no_resource_reason(request.action)])
    if name in ALIAS_ACTIONS and is_alias_arn(request.resource):
        return _alias_management(request, policies)
    return _evaluate_one(request, policies, [])


def _alias_management(request: Request, policies: PolicySet) -> Decision:
    """The alias side AND each affected key's side (KMS dev guide alias-access)."""
    alias_side = dataclasses.replace(
        policies, resource=None, resource_kind="generic", grants=(), key_state=None, alias_keys=()
    )
    if not policies.alias_keys:
        unknown = (
            f"the KMS key(s) {request.action} affects (the alias's key; for CreateAlias/UpdateAlias the target key)"
        )
        alias_side = dataclasses.replace(alias_side, missing=(*alias_side.missing, f"{unknown} are not known"))
    parts = [(f"on the alias {request.resource}", _evaluate_one(request, alias_side, [ALIAS_REASON]))]
    for key_arn, key_policies in policies.alias_keys:
        key_request = dataclasses.replace(request, resource=key_arn)
        parts.append((f"on the key {key_arn}", _evaluate_one(key_request, key_policies, [])))
    return all_of(parts)


def _evaluate_one(request: Request, policies: PolicySet, notes: list[str]) -> Decision:
    """One request on one resource (``notes``: rules that shaped it, added to the reasons)."""
    p = request.principal
    ctx = RequestContext(request, policies.resource_tags)
    action = request.action
    resource = normalize_resource(request.resource)
    layers: list[Layer] = []

    resource_account = policies.resource_account or account_of(resource)
    same_account = resource_account is None or p.account_id is None or resource_account == p.account_id
    identity = scan("identity", policies.identity, action, resource, ctx)
    layers.append(identity)
    if (
        same_account
        and policies.resource is None
        and policies.boundary is None
        and not policies.session
        and policies.scps is None
        and policies.rcps is None
        and not policies.scp_missing
        and not policies.rcp_missing
        and policies.resource_kind == "generic"
        and p.kind in _IDENTITY_ONLY
    ):
        return explain(request, policies, layers, identity.allow(), identity.deny(), True, notes)
    if p.kind == "root":
        ident: Tri = TRUE
    elif p.kind in _IAM_KINDS:
        ident = identity.allow()
    else:
        ident = FALSE  # services and web-identity callers have no identity policies
    bound: Tri = TRUE
    if policies.boundary is not None:
        b = scan("boundary", (policies.boundary,), action, resource, ctx)
        layers.append(b)
        bound = b.allow()
    sess: Tri = TRUE
    if policies.session:
        s = scan("session", policies.session, action, resource, ctx)
        layers.append(s)
        sess = s.allow()
    identity_side = t_and(ident, bound, sess)
    limits = t_and(bound, sess)

    kind = policies.resource_kind
    res_layer: Layer | None = None
    if policies.resource is not None:
        res_layer = scan(
            {"kms-key": "key", "role-trust": "trust"}.get(kind, "resource"), (policies.resource,), action, resource, ctx
        )
        layers.append(res_layer)

    if res_layer is None:
        r_unl = r_role = r_acct = FALSE
    else:
        r_unl, r_role, r_acct = res_layer.allow(UNLIMITED), res_layer.allow(ROLE), res_layer.allow(ACCOUNT)

    if kind == "kms-key":
        grants = grant_allows(policies.grants, action, ctx)
        g_unl, g_role, g_acct = grants.get("direct", FALSE), grants.get("role", FALSE), grants.get("account", FALSE)
        by_grant = t_or(g_unl, t_and(g_role, limits), t_and(g_acct, identity_side))
        if same_account:
            core = t_or(r_unl, t_and(r_role, limits), t_and(r_acct, identity_side), by_grant)
        else:
            core = t_or(t_and(t_or(r_unl, r_role, r_acct), identity_side), by_grant)
    else:
        if same_account:
            via_resource = t_or(r_unl, t_and(r_role, limits))
            core = t_or(via_resource, identity_side)
        else:
            core = t_and(t_or(r_unl, r_role, r_acct), identity_side)
        if kind == "role-trust":
            core = t_and(t_or(r_unl, r_role, r_acct), core)
        elif res_layer is None and same_account:
            core = identity_side

    org: list[Tri] = []
    if p.service_linked and (policies.scps is not None or policies.rcps is not None or policies.scp_missing):
        notes.append(SLR_NOTE)
    scps_apply = p.kind in _IAM_KINDS and not p.service_linked
    rcps_apply = not p.service_linked and action.split(":", 1)[0].lower() in RCP_SERVICES
    if policies.scps is not None and scps_apply:
        scp_layers = _levels("scp", policies.scps, action, resource, ctx)
        layers.extend(scp_layers)
        org.extend(lay.allow() for lay in scp_layers)
    if policies.rcps is not None and rcps_apply:
        rcp_layers = _levels("rcp", policies.rcps, action, resource, ctx)
        layers.extend(rcp_layers)
        org.extend(lay.allow() for lay in rcp_layers)
    org_missing = (*(policies.scp_missing if scps_apply else ()), *(policies.rcp_missing if rcps_apply else ()))
    if org_missing:
        policies = dataclasses.replace(policies, missing=(*policies.missing, *org_missing))
    allow = t_and(core, *org) if org else core
    deny = t_or(*(lay.deny() for lay in layers))
    if kind == "generic" and not same_account and res_layer is None and policies.resource_complete:
        # Across accounts the resource side must allow and there is no resource policy: whatever is
        # missing elsewhere (an uncollected managed policy, SCPs) cannot turn this into an allow.
        policies = dataclasses.replace(policies, missing=())
    decision = explain(request, policies, layers, allow, deny, same_account, notes)
    if kind == "kms-key" and key_state_blocks(policies.key_state, action):
        return _key_state_refusal(decision, policies.key_state or "", request)
    return decision


def _key_state_refusal(decision: Decision, key_state: str, request: Request) -> Decision:
    """KMS refuses a cryptographic operation on a key that is not enabled, whatever the policies say:
    a definite deny (an explicit deny in the policies is still reported as one), with the policies'
    own answer kept in the reasons."""
    explicit = decision.outcome == "deny" and decision.explicit_deny
    policies_say = f"the policies alone: {decision.outcome}" + (
        f" ({'; '.join(decision.reasons)})" if decision.reasons else ""
    )
    return Decision(
        "deny",
        explicit,
        decision.deciding if explicit else (),
        (),
        (key_state_reason(key_state, request.action, request.resource), policies_say),
    )
