"""Wildcard and ARN matching: only * and ? are special, components are matched separately."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irsa_lib.policy import patterns
from irsa_lib.policy.arn import compile_arn_pattern, normalize_resource, parameter_name, ssm_parameter_arn
from irsa_lib.policy.patterns import LITERAL_QMARK, LITERAL_STAR, compile_glob, literal

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


# ---------------------------------------------------------------- the matcher against a reference
# Patterns are hostile input, so the matcher avoids regular expressions (see irsa_lib.policy.patterns).
# The reference below is the textbook dynamic programme over (pattern position, value position): slow,
# but plainly right. Alphabets are small so that wildcards meet many near-misses.

STAR_FREE = {LITERAL_STAR: "*", LITERAL_QMARK: "?"}


def reference_match(pattern: str, value: str, *, stop: str = "") -> bool:
    """``*`` any run, ``?`` one character (neither of them one of ``stop``); everything else literal."""
    n = len(value)
    reach = [True] + [False] * n  # reach[j]: the pattern so far matches value[:j]
    for p in pattern:
        nxt = [False] * (n + 1)
        for j in range(n + 1):
            if p == "*":
                nxt[j] = reach[j] or (j > 0 and nxt[j - 1] and value[j - 1] not in stop)
            elif j > 0 and reach[j - 1]:
                c = value[j - 1]
                nxt[j] = (c not in stop) if p == "?" else c == STAR_FREE.get(p, p)
        reach = nxt
    return reach[n]


def reference_arn_match(pattern: str, value: str) -> bool:
    """IAM's component-wise rule: in the first five components a wildcard never spans a ``:``."""
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return reference_match(pattern, value)
    # a head wildcard may not cross ':'; the ':' between components are literal in both
    head = ":".join(parts[:5]) + ":"
    for split in range(len(value) + 1):
        if reference_match(head, value[:split], stop=":") and value[:split].count(":") == 5:
            return reference_match(parts[5], value[split:])
    return False


SEGMENT = st.text(st.sampled_from(["a", "b", "?"] * 3 + [LITERAL_STAR, LITERAL_QMARK]), min_size=1, max_size=4)
GLOBS = st.lists(SEGMENT | st.just(""), max_size=5).map("*".join)
"""Runs of literals and ``?`` between ``*``: every shape of the matcher's segments, with near-misses."""
VALUES = st.text(st.sampled_from(["a", "b"] * 3 + ["*", "?"]), max_size=16)


@settings(max_examples=1000, deadline=None)
@given(pattern=GLOBS, value=VALUES)
def test_glob_agrees_with_the_reference(pattern: str, value: str) -> None:
    assert compile_glob(pattern)(value) is reference_match(pattern, value)


@settings(max_examples=600, deadline=None)
@given(pattern=GLOBS, value=VALUES)
def test_the_one_pass_search_agrees_with_the_reference(pattern: str, value: str) -> None:
    """A segment with ``?`` switches to a shift-and pass after a few misses: here, from the start."""
    with mock.patch.object(patterns, "_MISSES", 0):
        assert compile_glob(pattern)(value) is reference_match(pattern, value)


@settings(max_examples=400, deadline=None)
@given(
    pattern=st.text(st.sampled_from(["a", "B", "*", "?"]), max_size=10),
    value=st.text(st.sampled_from(["A", "b", "a", "B"]), max_size=12),
)
def test_glob_ignoring_case_agrees_with_the_reference(pattern: str, value: str) -> None:
    assert compile_glob(pattern, ignore_case=True)(value) is reference_match(pattern.lower(), value.lower())


ARN_PARTS = st.text(st.sampled_from(["a", "b", "*", "?", ":"]), max_size=3)


@settings(max_examples=500, deadline=None)
@given(
    head=st.lists(st.text(st.sampled_from(["a", "*", "?"]), max_size=3), min_size=4, max_size=4),
    resource=st.text(st.sampled_from(["a", "b", "*", "?", ":", "/"]), max_size=6),
    value_head=st.lists(st.text(st.sampled_from(["a", "b"]), max_size=3), min_size=4, max_size=4),
    value_resource=ARN_PARTS,
)
def test_arn_patterns_agree_with_the_reference(
    head: list[str], resource: str, value_head: list[str], value_resource: str
) -> None:
    pattern = ":".join(["arn", *head, resource])
    value = ":".join(["arn", *value_head, value_resource])
    assert compile_arn_pattern(pattern)(value) is reference_arn_match(pattern, value)
    assert compile_arn_pattern(pattern)(pattern) is reference_arn_match(pattern, pattern)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "a" * 1000, False),
        ("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "a" * 1000 + "b", True),
        ("*?a*?a*?a*?a*?a*?a*?a*?a*?a*?a*c", "a" * 1000, False),
        ("*?a*?a*?a*?a*?a*?a*?a*?a*?a*?a*c", "a" * 1000 + "c", True),
        ("a" + "*a" * 40 + "*", "a" * 40, False),
    ],
)
def test_many_wildcards_on_long_names(pattern: str, value: str, expected: bool) -> None:
    """Cases on which a backtracking regex takes exponential time (how long they take: benchmarks/)."""
    assert compile_glob(pattern)(value) is expected
    arn = f"arn:aws:ssm:us-east-1:111122223333:parameter/{value}"
    assert compile_arn_pattern(f"arn:aws:ssm:*:*:parameter/{pattern}")(arn) is expected
