"""Reads across accounts, and the indexes the secret rules use to find what a pattern names.

IAM evaluation logic ("Cross-account policy evaluation"): a request for a resource in another
account is allowed only when the principal's policies AND a resource-based policy on the resource
allow it. A parameter or secret with no resource policy is therefore unreadable from another
account, whatever the caller's own policies say. F04, F15 and F16 skip those questions; these
tests fix the answers the rules must still give with that shortcut, in both directions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from irsa_lib.findings import FindingContext
from irsa_lib.findings.reach import decide, denied_across_accounts
from irsa_lib.findings.rules.secrets import _Askable
from irsa_lib.findings.shapes import ArnIndex, literal_prefix, pattern_matches
from irsa_lib.model import KESController, KMSKey, SecretsManagerSecret, SSMParameter
from tests.findings.builders import (
    ACCT,
    REGION,
    allow,
    arn,
    cmk,
    deny,
    doc,
    fails,
    only,
    param,
    role,
    root_delegation,
    sa,
    scoped_irsa,
    snap,
    trust_role,
)

OTHER = "210987654321"
ANY_PARAM = "arn:aws:ssm:*:*:parameter/*"


def other_param(name: str, key_id: str | None = None, **kw: Any) -> SSMParameter:
    """A SecureString parameter of account OTHER (no resource policy unless given)."""
    return SSMParameter(
        arn=f"arn:aws:ssm:{REGION}:{OTHER}:parameter/{name.lstrip('/')}",
        name=name,
        account_id=OTHER,
        region=REGION,
        type="SecureString",
        key_id=key_id,
        **kw,
    )


def shared_with(principal: str, action: str, resource: str) -> dict[str, Any]:
    """A resource policy letting ``principal`` (of the other account) call ``action``."""
    return doc({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": resource})


def other_key(alias: str, principal: str) -> KMSKey:
    """A customer managed key of account OTHER whose key policy lets ``principal`` decrypt."""
    k = cmk(alias, {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:Decrypt", "Resource": "*"})
    return dataclasses.replace(k, arn=f"arn:aws:kms:{REGION}:{OTHER}:key/{k.key_id}", account_id=OTHER)


# --- F15 ------------------------------------------------------------------------------------------
def _ops(*statements: dict[str, Any]) -> Any:
    return role("ops", trust_role(arn("x")), doc(allow("ssm:GetParameter", ANY_PARAM), *statements))


def test_f15_other_account_parameters_without_policy_do_not_count() -> None:
    # parameter/* in every account, but only account ACCT's own billing is readable: one service
    s = snap(roles=(_ops(),), ssm_parameters=(param("/billing/db"), other_param("/payments/api"), other_param("/x/y")))
    assert fails(s, "F15") == set()


def test_f15_own_account_services_count() -> None:
    s = snap(roles=(_ops(),), ssm_parameters=(param("/billing/db"), param("/shipping/db"), other_param("/pay/api")))
    f = only(s, "F15")
    assert f.resource == arn("ops")
    assert any("2 services ['billing', 'shipping']" in e for e in f.evidence), f.evidence


def test_f15_other_account_parameter_shared_by_resource_policy_counts() -> None:
    shared = other_param(
        "/payments/api",
        resource_policies=(shared_with(arn("ops"), "ssm:GetParameter", "*"),),
    )
    s = snap(roles=(_ops(),), ssm_parameters=(param("/billing/db"), other_param("/payments/db"), shared))
    f = only(s, "F15")
    assert any("2 services ['billing', 'payments']" in e for e in f.evidence), f.evidence


def test_f15_unreadable_resource_policy_is_asked_not_assumed() -> None:
    # the policy of /payments/api could not be read: the answer is unknown, which is not a read
    unread = other_param("/payments/api", resource_policy_readable=False)
    s = snap(roles=(_ops(),), ssm_parameters=(param("/billing/db"), unread))
    assert fails(s, "F15") == set()


def test_f15_deny_on_one_parameter_asks_the_next_of_the_service() -> None:
    # billing/a is denied, billing/b is not: billing still counts, as does shipping
    s = snap(
        roles=(_ops(deny("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/billing/a")),),
        ssm_parameters=(param("/billing/a"), param("/billing/b"), param("/shipping/db")),
    )
    assert any("['billing', 'shipping']" in e for e in only(s, "F15").evidence)
    # with both billing parameters denied only shipping is left: no finding
    s = snap(
        roles=(_ops(deny("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/billing/*")),),
        ssm_parameters=(param("/billing/a"), param("/billing/b"), param("/shipping/db")),
    )
    assert fails(s, "F15") == set()


# --- F04 without a graph --------------------------------------------------------------------------
def _controller(*values: SSMParameter, keys: tuple[KMSKey, ...] = ()) -> dict[str, Any]:
    policy = doc(allow("ssm:GetParameter*", ANY_PARAM), allow("kms:Decrypt", "*"))
    return {
        "roles": (role("external-secrets-role", scoped_irsa("external-secrets", "kes-sa"), policy),),
        "service_accounts": (sa("external-secrets", "kes-sa", arn("external-secrets-role")),),
        "kes_controllers": (
            KESController(cluster="demo", namespace="external-secrets", name="kes", service_account="kes-sa"),
        ),
        "kms_keys": (cmk("billing", root_delegation()), *keys),
        "ssm_parameters": values,
    }


def test_f04_other_account_values_without_policy_are_not_read() -> None:
    key = other_key("payments", arn("external-secrets-role"))
    world = _controller(param("/billing/db", "alias/billing"), other_param("/payments/api", key.arn), keys=(key,))
    f = only(snap(**world), "F04")
    assert any("1 service(s) directly: ['billing']" in e for e in f.evidence), f.evidence
    assert f.severity.value == "high"


def test_f04_other_account_value_shared_to_the_controller_is_read() -> None:
    key = other_key("payments", arn("external-secrets-role"))
    shared = other_param(
        "/payments/api", key.arn, resource_policies=(shared_with(arn("external-secrets-role"), "ssm:*", "*"),)
    )
    world = _controller(param("/billing/db", "alias/billing"), shared, keys=(key,))
    f = only(snap(**world), "F04")
    assert any("2 service(s) directly: ['billing', 'payments']" in e for e in f.evidence), f.evidence
    assert f.severity.value == "critical"


# --- F16 ------------------------------------------------------------------------------------------
LEAKY = role(
    "leaky",
    trust_role(arn("x")),
    doc(allow("ssm:*", ANY_PARAM), deny("ssm:GetParameter", ANY_PARAM), allow("kms:Decrypt", "*")),
)


def test_f16_history_only_where_it_is_readable() -> None:
    key = cmk("billing", root_delegation())
    s = snap(
        roles=(LEAKY,),
        kms_keys=(key,),
        ssm_parameters=(param("/billing/db", "alias/billing"), other_param("/payments/api")),
    )
    f = only(s, "F16")
    assert any(e.startswith("/billing/db:") for e in f.evidence)
    assert not any("/payments/api" in e for e in f.evidence), f.evidence


def test_f16_asks_about_its_own_accounts_parameters_in_snapshot_order() -> None:
    key = cmk("billing", root_delegation())
    params = (
        param("/zeta/db", "alias/billing"),
        other_param("/payments/api"),
        param("/alpha/db", "alias/billing"),
        other_param("/beta/api"),
        param("/mid/db", "alias/billing"),
    )
    f = only(snap(roles=(LEAKY,), kms_keys=(key,), ssm_parameters=params), "F16")
    assert [e.split(":")[0] for e in f.evidence] == ["/zeta/db", "/alpha/db", "/mid/db"]


# --- denied_across_accounts -------------------------------------------------------------------------
def test_denied_across_accounts_only_when_no_resource_policy_can_allow() -> None:
    ops = _ops()
    missing = role("partial", trust_role(arn("x")), attached_policy_arns=(f"arn:aws:iam::{ACCT}:policy/gone",))
    shared = other_param("/shared/api", resource_policies=(shared_with(arn("ops"), "ssm:GetParameter", "*"),))
    unread = other_param("/unread/api", resource_policy_readable=False)
    plain = other_param("/plain/api")
    other_secret = SecretsManagerSecret(
        arn=f"arn:aws:secretsmanager:{REGION}:{OTHER}:secret:db-AbC123", name="db", account_id=OTHER, region=REGION
    )
    key = other_key("k", arn("ops"))
    ctx = FindingContext(
        snap(
            roles=(ops, missing),
            ssm_parameters=(param("/own/db"), shared, unread, plain),
            secrets=(other_secret,),
            kms_keys=(key,),
        )
    )
    assert denied_across_accounts(ctx, arn("ops"), plain.arn)
    assert denied_across_accounts(ctx, arn("ops"), other_secret.arn)
    # an ancestor path of a collected parameter (GetParametersByPath) carries no resource policy;
    # a parameter that was not collected might have one: the evaluator decides that
    assert denied_across_accounts(ctx, arn("ops"), f"arn:aws:ssm:{REGION}:{OTHER}:parameter/plain")
    assert not denied_across_accounts(ctx, arn("ops"), f"arn:aws:ssm:{REGION}:{OTHER}:parameter/elsewhere/x")
    assert not denied_across_accounts(ctx, arn("ops"), param("/own/db").arn)  # same account
    assert not denied_across_accounts(ctx, arn("ops"), shared.arn)  # a resource policy may allow
    assert not denied_across_accounts(ctx, arn("ops"), unread.arn)  # the resource policy is unknown
    assert not denied_across_accounts(ctx, arn("ops"), key.arn)  # key policies and grants decide KMS
    # a managed policy of the principal is missing, but nothing on its side can stand in for the
    # absent resource policy: still denied, and the evaluator says so too
    assert denied_across_accounts(ctx, arn("partial"), plain.arn)
    assert decide(ctx, arn("partial"), "ssm:GetParameter", plain.arn).outcome == "deny"
    assert not denied_across_accounts(ctx, f"arn:aws:iam::{ACCT}:role/nobody", plain.arn)  # unknown principal


def test_f16_asks_a_principal_of_each_account_what_denied_across_accounts_leaves() -> None:
    """F16's per-account lists (``_Askable``) are :func:`denied_across_accounts` worked out once per
    account: the same parameters, in snapshot order, for a principal of either account or of none."""
    ops = _ops()
    other_ops = dataclasses.replace(ops, arn=f"arn:aws:iam::{OTHER}:role/ops", account_id=OTHER)
    params = (
        other_param("/plain/api"),
        param("/own/db"),
        other_param("/shared/api", resource_policies=(shared_with(arn("ops"), "ssm:GetParameter", "*"),)),
        other_param("/unread/api", resource_policy_readable=False),
        param("/own/other"),
        dataclasses.replace(other_param("/elsewhere"), arn="arn:aws:ssm:us-east-1:555555555555:parameter/elsewhere"),
    )
    ctx = FindingContext(snap(roles=(ops, other_ops), ssm_parameters=params))
    askable = _Askable(ctx)
    for principal in (ops.arn, other_ops.arn, f"arn:aws:iam::{ACCT}:role/nobody"):
        expected = [p.name for p in params if not denied_across_accounts(ctx, principal, p.arn)]
        assert [p.name for p in askable.of(ctx.principal_account(principal))] == expected, principal
    assert [p.name for p in askable.of(ACCT)] == ["/own/db", "/shared/api", "/unread/api", "/own/other"]


# --- the pattern index ----------------------------------------------------------------------------
def test_literal_prefix_stops_at_the_first_wildcard() -> None:
    assert literal_prefix("arn:aws:ssm:*:1:parameter/a") == "arn:aws:ssm:"
    assert literal_prefix("arn:aws:ssm:us-east-1:1:parameter/app?x*") == "arn:aws:ssm:us-east-1:1:parameter/app"
    assert literal_prefix("arn:aws:ssm:us-east-1:1:parameter/exact") == "arn:aws:ssm:us-east-1:1:parameter/exact"
    assert literal_prefix("*") == ""


def test_arn_index_keeps_the_given_order_and_ignores_case_differences() -> None:
    arns = [
        "arn:aws:ssm:us-east-1:1:parameter/b/x",
        "arn:aws:ssm:us-east-1:1:parameter/a/x",
        "arn:aws:ssm:us-east-1:1:parameter/A/x",
        "arn:aws:ssm:eu-west-1:2:parameter/a/y",
    ]
    idx = ArnIndex((a, i) for i, a in enumerate(arns))
    assert idx.matching("arn:aws:ssm:*:*:parameter/*") == [0, 1, 2, 3]
    assert idx.matching("arn:aws:ssm:*:*:parameter/a/*") == [1, 3]  # IAM ARN matching is case-sensitive
    assert idx.matching("arn:aws:ssm:us-east-1:1:parameter/a/x") == [1]
    assert idx.matching("arn:aws:ssm:us-east-1:1:parameter/?/x") == [0, 1, 2]
    assert idx.matching_any(["arn:aws:ssm:*:2:parameter/*", "arn:aws:ssm:*:1:parameter/b/*"]) == [0, 3]
    assert idx.matching("arn:aws:ssm:us-east-1:1:parameter/c/*") == []


_CHARS = st.sampled_from(["a", "b", "/", ":", "-"])
_PATTERN_CHARS = st.sampled_from(["a", "b", "/", ":", "-", "*", "?"])


@given(
    arns=st.lists(st.text(_CHARS, max_size=6).map(lambda r: f"arn:aws:ssm:r:1:{r}"), max_size=12),
    tail=st.text(_PATTERN_CHARS, max_size=6),
    head=st.sampled_from(["arn:aws:ssm:r:1:", "arn:aws:ssm:*:1:", "arn:aws:ssm:r:?:", "", "arn:aws:ssm:r:1:a"]),
)
def test_arn_index_finds_exactly_what_the_matcher_matches(arns: list[str], tail: str, head: str) -> None:
    pattern = head + tail
    idx = ArnIndex((a, i) for i, a in enumerate(arns))
    assert idx.matching(pattern) == [i for i, a in enumerate(arns) if pattern_matches(pattern, a)]
