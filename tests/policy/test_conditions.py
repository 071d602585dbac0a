"""Condition operators one by one: missing keys, negation, IfExists, set qualifiers, unknown keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from irsa_lib.policy import PolicyError, Principal, Request, parse_policy
from irsa_lib.policy.conditions import evaluate_all, parse_conditions
from irsa_lib.policy.context import RequestContext, derived_keys

ROLE = Principal("arn:aws:iam::111122223333:role/app", "role", account_id="111122223333", tags={"Team": "billing"})


def check(block: Mapping[str, Any], context: Mapping[str, str | Sequence[str]], complete: bool = True) -> Any:
    ctx = RequestContext(Request(ROLE, "s3:GetObject", "arn:aws:s3:::b/k", context, complete))
    return evaluate_all(parse_conditions(block, variables=True), ctx)


@pytest.mark.parametrize(
    ("op", "present_match", "present_other", "absent"),
    [
        ("StringEquals", True, False, False),
        ("StringNotEquals", False, True, True),
        ("StringEqualsIgnoreCase", True, False, False),
        ("StringNotEqualsIgnoreCase", False, True, True),
        ("StringLike", True, False, False),
        ("StringNotLike", False, True, True),
        ("StringEqualsIfExists", True, False, True),
        ("StringNotEqualsIfExists", False, True, True),
        ("ForAllValues:StringEquals", True, False, True),
        ("ForAnyValue:StringEquals", True, False, False),
        ("ForAnyValue:StringEqualsIfExists", True, False, True),
    ],
)
def test_string_operator_truth_table(op: str, present_match: bool, present_other: bool, absent: bool) -> None:
    block = {op: {"k": "v"}}
    assert check(block, {"k": "v"}) is present_match
    assert check(block, {"k": "w"}) is present_other
    assert check(block, {}) is absent


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("NumericEquals", "10", True),
        ("NumericNotEquals", "10", False),
        ("NumericLessThan", "11", True),
        ("NumericLessThan", "10", False),
        ("NumericLessThanEquals", "10", True),
        ("NumericGreaterThan", "9", True),
        ("NumericGreaterThanEquals", "10.0", True),
        ("DateLessThan", "2025-01-01T00:00:00Z", False),
        ("DateLessThan", "2026-01-01T00:00:00Z", True),
        ("DateGreaterThan", "2020-01-01", True),
        ("DateEquals", "2025-06-01T00:00:00+00:00", True),
    ],
)
def test_numeric_and_date_operators(op: str, value: str, expected: bool) -> None:
    key_value = "10" if op.startswith("Numeric") else "2025-06-01T00:00:00Z"
    assert check({op: {"k": value}}, {"k": key_value}) is expected


def test_unreadable_request_values_do_not_match() -> None:
    assert check({"NumericEquals": {"k": "10"}}, {"k": "ten"}) is False
    assert check({"NumericNotEquals": {"k": "10"}}, {"k": "ten"}) is True
    assert check({"DateEquals": {"k": "2020-01-01"}}, {"k": "soon"}) is False
    assert check({"IpAddress": {"k": "10.0.0.0/8"}}, {"k": "not-an-ip"}) is False
    assert check({"Bool": {"k": "true"}}, {"k": "yes"}) is False


def test_negated_numeric_and_ip_are_true_on_missing_key() -> None:
    assert check({"NumericNotEquals": {"k": "1"}}, {}) is True
    assert check({"DateNotEquals": {"k": "2020-01-01"}}, {}) is True
    assert check({"NotIpAddress": {"k": "10.0.0.0/8"}}, {}) is True
    assert check({"ArnNotLike": {"k": "arn:aws:iam::*:role/x"}}, {}) is True


def test_null_operator() -> None:
    assert check({"Null": {"k": "true"}}, {}) is True
    assert check({"Null": {"k": "true"}}, {"k": "x"}) is False
    assert check({"Null": {"k": "false"}}, {"k": "x"}) is True
    assert check({"Null": {"k": ["true", "false"]}}, {}) is True


def test_unknown_key_in_incomplete_context_is_unresolved() -> None:
    assert check({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {}, complete=False) == ("aws:SourceIp",)
    assert check({"StringNotEquals": {"aws:SourceVpc": "v"}}, {}, complete=False) == ("aws:SourceVpc",)
    assert check({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}, {}, complete=False) == ("aws:TagKeys",)
    assert check({"Null": {"aws:SourceVpc": "true"}}, {}, complete=False) == ("aws:SourceVpc",)


def test_a_false_condition_wins_over_an_unresolved_one() -> None:
    block = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringEquals": {"aws:PrincipalTag/team": "payments"}}
    assert check(block, {}, complete=False) is False


def test_principal_keys_are_known_in_an_incomplete_context() -> None:
    assert check({"StringEquals": {"aws:PrincipalTag/TEAM": "billing"}}, {}, complete=False) is True
    assert check({"StringEquals": {"aws:PrincipalTag/owner": "x"}}, {}, complete=False) is False


def test_given_context_wins_over_derived_keys() -> None:
    assert check({"StringEquals": {"aws:PrincipalAccount": "999"}}, {"aws:PrincipalAccount": "999"}) is True


def test_derived_keys_by_principal_kind() -> None:
    session = Principal(
        "arn:aws:sts::111122223333:assumed-role/app/s1", "session", account_id="111122223333", unique_id="AROAX"
    )
    keys = derived_keys(session)
    assert keys["aws:principalarn"] == ("arn:aws:iam::111122223333:role/app",)
    assert keys["aws:userid"] == ("AROAX:s1",)
    assert keys["aws:principaltype"] == ("AssumedRole",)
    service = derived_keys(Principal("pods.eks.amazonaws.com", "service"))
    assert service == {
        "aws:principalisawsservice": ("true",),
        "aws:principalservicename": ("pods.eks.amazonaws.com",),
    }


def test_variables_in_condition_values_with_defaults() -> None:
    assert check({"StringEquals": {"k": "${aws:PrincipalTag/team}"}}, {"k": "billing"}) is True
    assert check({"StringEquals": {"k": "${aws:PrincipalTag/none, 'dflt'}"}}, {"k": "dflt"}) is True
    assert check({"StringEquals": {"k": "${aws:PrincipalTag/none}"}}, {"k": ""}) is False


@pytest.mark.parametrize(
    "block",
    [
        {"StringEqualz": {"k": "v"}},
        {"NumericEquals": {"k": "ten"}},
        {"DateEquals": {"k": "yesterday"}},
        {"Bool": {"k": "maybe"}},
        {"IpAddress": {"k": "10.0.0.300/8"}},
        {"Null": {"k": "perhaps"}},
        {"ForAllValues:NullIfExists": {"k": "true"}},
        {"StringEquals": {"k": {"nested": 1}}},
        {"StringEquals": "v"},
        {"StringEquals": {}},
    ],
)
def test_malformed_conditions_raise_policy_error_naming_the_statement(block: Any) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Sid": "S1", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
    doc["Statement"][0]["Condition"] = block
    with pytest.raises(PolicyError, match=r"my-policy: Statement\[0\] \(Sid 'S1'\)"):
        parse_policy(doc, source="my-policy")
