"""Wildcard and ARN matching: only * and ? are special, components are matched separately."""

from __future__ import annotations

import pytest

from irsa_lib.policy.arn import compile_arn_pattern, normalize_resource, parameter_name, ssm_parameter_arn
from irsa_lib.policy.patterns import compile_glob, literal

P = "arn:aws:ssm:us-east-1:111122223333:parameter/"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("a*", "a", True),
        ("a*", "abc/def:ghi", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("a+b", "a+b", True),
        ("a+b", "aab", False),
        ("a.b", "a.b", True),
        ("a.b", "axb", False),
        ("(x", "(x", True),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("^a$", "^a$", True),
        ("a\\d", "a\\d", True),
        ("a\\d", "a1", False),
        ("*", "", True),
        ("", "", True),
        ("", "x", False),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "aXbY", False),
        ("x\n*", "x\nyz", True),
    ],
)
def test_glob_only_star_and_question_mark_are_special(pattern: str, value: str, expected: bool) -> None:
    assert compile_glob(pattern)(value) is expected


def test_glob_ignore_case_for_actions() -> None:
    assert compile_glob("SSM:Get*", ignore_case=True)("ssm:getparameter")
    assert not compile_glob("SSM:Get*")("ssm:getparameter")


def test_literal_marks_wildcards_as_plain_characters() -> None:
    m = compile_glob("report" + literal("*"))
    assert m("report*")
    assert not m("report-2026")


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        (P + "app/*", P + "app/db", True),
        (P + "app/*", P + "App/db", False),
        ("arn:aws:ssm:*:111122223333:parameter/x", "arn:aws:ssm:eu-west-1:111122223333:parameter/x", True),
        ("arn:aws:ssm:us-*:111122223333:parameter/x", "arn:aws:ssm:us-east-1:444455556666:parameter/x", False),
        # fewer than six components: matched as one string, so * may span region and account
        ("arn:aws:ssm:*:parameter/x", "arn:aws:ssm:us-east-1:111122223333:parameter/x", True),
        ("arn:aws:ssm::111122223333:parameter/x", "arn:aws:ssm:us-east-1:111122223333:parameter/x", False),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k", True),
        ("arn:aws:ssm:*", "arn:aws:ssm:us-east-1:111122223333:parameter/x", True),
        ("arn:aws:*:us-east-1:*:*", "arn:aws:kms:us-east-1:111122223333:key/k", True),
        ("arn:aws:s?s:*:*:*", "arn:aws:sns:us-east-1:1:t", True),
        ("*", "anything", True),
        (P + "x", "not-an-arn", False),
    ],
)
def test_arn_patterns_match_component_by_component(pattern: str, value: str, expected: bool) -> None:
    assert compile_arn_pattern(pattern)(value) is expected


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (P + "db/pw", P + "db/pw"),
        (P + "/db/pw", P + "db/pw"),
        (P + "db/pw:3", P + "db/pw"),
        (P + "db/pw:prod", P + "db/pw"),
        (P + "MyParameter", P + "MyParameter"),
        ("arn:aws:s3:::b/k:1", "arn:aws:s3:::b/k:1"),
        ("arn:aws:secretsmanager:us-east-1:1:secret:x-abcdef", "arn:aws:secretsmanager:us-east-1:1:secret:x-abcdef"),
        ("*", "*"),
    ],
)
def test_normalize_resource_handles_ssm_forms(resource: str, expected: str) -> None:
    assert normalize_resource(resource) == expected


def test_parameter_arn_and_name_round_trip() -> None:
    assert ssm_parameter_arn("us-east-1", "111122223333", "/db/pw") == P + "db/pw"
    assert ssm_parameter_arn("us-east-1", "111122223333", "TestParam1") == P + "TestParam1"
    assert ssm_parameter_arn("us-east-1", "111122223333", "/TestParam1") == P + "TestParam1"
    assert ssm_parameter_arn("us-east-1", "111122223333", "/db/pw:4") == P + "db/pw"
    assert ssm_parameter_arn("x", "y", P + "/db/pw") == P + "db/pw"
    assert parameter_name(P + "db/pw") == "/db/pw"
    assert parameter_name(P + "TestParam1") == "TestParam1"
    assert parameter_name("arn:aws:s3:::b") is None
