"""Invariants of the evaluator over generated policies and requests (hypothesis).

* an added Deny never makes an answer more permissive (deny stays deny);
* an added Allow never makes an answer less permissive (an allow stays an allow);
* with a complete context nothing is left conditional;
* three-valued soundness: if some completion of a partial context allows, the partial answer is
  not a deny (``possible``), and a partial allow stays an allow under every completion;
* evaluation never raises on well-formed documents; malformed ones raise PolicyError only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irsa_lib.policy import PolicyError, PolicySet, Principal, Request, evaluate, parse_policy

A, B = "111122223333", "444455556666"
RANK = {"deny": 0, "conditional": 1, "allow": 2}

ACTIONS = ["ssm:GetParameter", "ssm:GetParameters", "kms:Decrypt", "sts:AssumeRole", "secretsmanager:GetSecretValue"]
ACTION_PATTERNS = [*ACTIONS, "*", "ssm:Get*", "SSM:getparameter?", "kms:*", "sts:*", "s3:*"]
RESOURCES = [
    f"arn:aws:ssm:us-east-1:{A}:parameter/app/db",
    f"arn:aws:ssm:us-east-1:{B}:parameter/app/db",
    f"arn:aws:kms:us-east-1:{A}:key/k1",
    f"arn:aws:iam::{A}:role/target",
    f"arn:aws:secretsmanager:us-east-1:{A}:secret:db-a1B2c3",
]
RESOURCE_PATTERNS = [
    "*",
    *RESOURCES,
    "arn:aws:ssm:*:*:parameter/app/*",
    f"arn:aws:ssm:us-east-1:{A}:parameter/${{aws:PrincipalTag/team}}/*",
    "arn:aws:secretsmanager:*:*:secret:db-??????",
    "arn:aws:kms:us-east-1::key/k1",
    f"arn:aws:iam::{A}:role/t*",
]
KEYS = ["aws:SourceIp", "aws:PrincipalTag/team", "aws:SourceVpc", "kms:ViaService", "aws:TagKeys", "custom:n"]
VALUES = [
    "10.0.0.1",
    "10.0.0.0/8",
    "app",
    "billing",
    "vpc-1",
    "ssm.us-east-1.amazonaws.com",
    "5",
    "${aws:PrincipalTag/team}",
]
OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLikeIfExists",
    "StringEqualsIgnoreCase",
    "ForAllValues:StringEquals",
    "ForAnyValue:StringLike",
    "ArnLike",
]
PRINCIPAL_SPECS = [
    "*",
    {"AWS": "*"},
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": f"arn:aws:iam::{A}:role/app"},
    {"AWS": f"arn:aws:sts::{A}:assumed-role/app/s1"},
    {"AWS": f"arn:aws:iam::{B}:role/other"},
    {"Service": "pods.eks.amazonaws.com"},
]
PRINCIPALS = [
    Principal(f"arn:aws:iam::{A}:role/app", "role", A, f"arn:aws:iam::{A}:role/app", "AROAAPP", {"team": "app"}),
    Principal(f"arn:aws:sts::{A}:assumed-role/app/s1", "session", A, f"arn:aws:iam::{A}:role/app", "AROAAPP"),
    Principal(f"arn:aws:iam::{A}:user/alice", "user", A, unique_id="AIDAALICE", tags={"team": "billing"}),
    Principal(f"arn:aws:iam::{B}:role/other", "role", B),
    Principal("pods.eks.amazonaws.com", "service"),
]

conditions = st.dictionaries(
    st.sampled_from(OPERATORS),
    st.dictionaries(
        st.sampled_from(KEYS), st.lists(st.sampled_from(VALUES), min_size=1, max_size=2), min_size=1, max_size=2
    ),
    min_size=1,
    max_size=2,
)


@st.composite
def statement(draw: Any, *, principal: bool, effect: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {
        "Effect": effect or draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"])),
        "Action" if principal else draw(st.sampled_from(["Action", "Action", "Action", "NotAction"])): draw(
            st.lists(st.sampled_from(["*", "*", *ACTION_PATTERNS]), min_size=1, max_size=2)
        ),
        "Resource": draw(st.lists(st.sampled_from(["*", "*", "*", *RESOURCE_PATTERNS]), min_size=1, max_size=2)),
    }
    if principal:
        s["Principal"] = draw(st.sampled_from(PRINCIPAL_SPECS))
    cond = draw(conditions) if draw(st.sampled_from([True, True, False])) else None
    if cond:
        s["Condition"] = cond
    return s


def document(*, principal: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda stmts: {"Version": "2012-10-17", "Statement": stmts},
        st.lists(statement(principal=principal), min_size=1, max_size=3),
    )


@st.composite
def scenario(draw: Any) -> tuple[Request, dict[str, Any]]:
    principal = draw(st.sampled_from(PRINCIPALS))
    context = draw(
        st.dictionaries(
            st.sampled_from([k for k in KEYS if k != "aws:PrincipalTag/team"]), st.sampled_from(VALUES), max_size=3
        )
    )
    request = Request(
        principal, draw(st.sampled_from(ACTIONS)), draw(st.sampled_from(RESOURCES)), context, draw(st.booleans())
    )
    docs = {
        "identity": draw(st.lists(document(principal=False), min_size=1, max_size=2)),
        "boundary": draw(st.none() | st.none() | document(principal=False)),
        "session": draw(st.lists(document(principal=False), max_size=1)) if draw(st.booleans()) else [],
        "resource": draw(st.none() | document(principal=True)),
        "kind": draw(st.sampled_from(["generic", "generic", "kms-key", "role-trust"])),
        "scps": draw(
            st.none() | st.none() | st.lists(st.lists(document(principal=False), min_size=1, max_size=2), max_size=2)
        ),
    }
    return request, docs


def build(docs: dict[str, Any]) -> PolicySet:
    kind = docs["kind"]
    res_kind = {"kms-key": "key", "role-trust": "trust"}.get(kind, "resource")
    return PolicySet(
        identity=[parse_policy(d, source=f"id{i}") for i, d in enumerate(docs["identity"])],
        boundary=parse_policy(docs["boundary"], source="b", kind="boundary") if docs["boundary"] else None,
        session=[parse_policy(d, source="s", kind="session") for d in docs["session"]],
        resource=parse_policy(docs["resource"], source="r", kind=res_kind) if docs["resource"] else None,
        resource_kind=kind,
        scps=None
        if docs["scps"] is None
        else [[parse_policy(d, source=f"scp{i}", kind="scp") for d in level] for i, level in enumerate(docs["scps"])],
    )


def add(docs: dict[str, Any], where: str, stmt: dict[str, Any]) -> dict[str, Any]:
    new = dict(docs)
    extra = {"Version": "2012-10-17", "Statement": [stmt]}
    if where == "identity":
        new["identity"] = [*docs["identity"], extra]
    elif where == "resource" and docs["resource"] is not None:
        new["resource"] = {**docs["resource"], "Statement": [*docs["resource"]["Statement"], stmt]}
    elif where == "boundary" and docs["boundary"] is not None:
        new["boundary"] = {**docs["boundary"], "Statement": [*docs["boundary"]["Statement"], stmt]}
    elif where == "scp" and docs["scps"]:
        first = docs["scps"][0]
        new["scps"] = [[*first, extra], *docs["scps"][1:]]
    return new


PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(scenario(), st.sampled_from(["identity", "resource", "boundary", "scp"]), st.data())
def test_an_added_deny_never_makes_an_answer_more_permissive(sc: Any, where: str, data: Any) -> None:
    request, docs = sc
    before = evaluate(request, build(docs))
    stmt = data.draw(statement(principal=where == "resource", effect="Deny"))
    after = evaluate(request, build(add(docs, where, stmt)))
    assert RANK[after.outcome] <= RANK[before.outcome]


@PROFILE
@given(scenario(), st.sampled_from(["identity", "resource", "boundary", "scp"]), st.data())
def test_an_added_allow_never_makes_an_answer_less_permissive(sc: Any, where: str, data: Any) -> None:
    request, docs = sc
    before = evaluate(request, build(docs))
    stmt = data.draw(statement(principal=where == "resource", effect="Allow"))
    after = evaluate(request, build(add(docs, where, stmt)))
    assert RANK[after.outcome] >= RANK[before.outcome]


@PROFILE
@given(scenario())
def test_a_complete_context_leaves_nothing_conditional(sc: Any) -> None:
    request, docs = sc
    decision = evaluate(dataclasses.replace(request, context_complete=True), build(docs))
    assert decision.outcome != "conditional"
    assert decision.unresolved_keys == ()


SMALL_KEYS = ["ctx:k1", "ctx:k2", "ctx:k3"]
small_conditions = st.dictionaries(
    st.sampled_from(
        ["StringEquals", "StringNotEquals", "StringLike", "StringEqualsIfExists", "ForAllValues:StringEquals"]
    ),
    st.dictionaries(st.sampled_from(SMALL_KEYS), st.sampled_from(["a", "b", "*"]), min_size=1, max_size=2),
    min_size=1,
    max_size=2,
)


@st.composite
def conditional_scenario(draw: Any) -> tuple[Request, dict[str, Any]]:
    """Identity statements on every action and resource, each guarded by conditions: the context decides."""
    stmts = draw(
        st.lists(
            st.builds(
                lambda effect, cond: {"Effect": effect, "Action": "*", "Resource": "*", "Condition": cond},
                st.sampled_from(["Allow", "Deny"]),
                small_conditions,
            ),
            min_size=1,
            max_size=3,
        )
    )
    context = draw(st.dictionaries(st.sampled_from(SMALL_KEYS), st.sampled_from(["a", "b"]), min_size=1))
    request = Request(PRINCIPALS[0], "ssm:GetParameter", RESOURCES[0], context, False)
    docs = {"identity": [{"Version": "2012-10-17", "Statement": stmts}], "boundary": None, "session": [],
            "resource": None, "kind": "generic", "scps": None}  # fmt: skip
    return request, docs


@PROFILE
@given(scenario() | conditional_scenario(), st.data())
def test_partial_context_answers_are_sound_for_every_completion(sc: Any, data: Any) -> None:
    request, docs = sc
    full = dataclasses.replace(request, context_complete=True)
    kept = [k for k in sorted(full.context) if data.draw(st.booleans())]
    partial = dataclasses.replace(request, context={k: full.context[k] for k in kept}, context_complete=False)
    policies = build(docs)
    complete_answer = evaluate(full, policies).outcome
    partial_answer = evaluate(partial, policies).outcome
    if complete_answer == "allow":
        assert partial_answer != "deny"
    if partial_answer == "allow":
        assert complete_answer == "allow"
    if partial_answer == "deny":
        assert complete_answer == "deny"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["Allow", "Deny", "*", "s3:*", "2012-10-17"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Version",
                    "Statement",
                    "Effect",
                    "Action",
                    "Resource",
                    "Principal",
                    "Condition",
                    "Sid",
                    "AWS",
                    "StringEquals",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(json_values, st.sampled_from(["identity", "resource", "trust", "key", "scp", "rcp", "boundary", "session"]))
def test_arbitrary_documents_parse_or_raise_policy_error_only(value: Any, kind: Any) -> None:
    try:
        policy = parse_policy(value, source="fuzz", kind=kind)
    except PolicyError as exc:
        assert str(exc).startswith("fuzz")
        return
    for principal in PRINCIPALS:
        evaluate(
            Request(principal, "s3:GetObject", "arn:aws:s3:::b/k"),
            PolicySet(identity=[policy] if kind == "identity" else []),
        )


@settings(max_examples=300, deadline=None)
@given(
    document(principal=True), st.sampled_from(["Effect", "Action", "Resource", "Principal", "Condition"]), json_values
)
def test_a_corrupted_field_raises_policy_error_or_still_parses(doc: dict[str, Any], field: str, junk: Any) -> None:
    stmt = dict(doc["Statement"][0])
    stmt[field] = junk
    try:
        parse_policy({**doc, "Statement": [stmt]}, source="corrupt", kind="resource")
    except PolicyError as exc:
        assert "corrupt: Statement[0]" in str(exc)
