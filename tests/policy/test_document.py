"""Document validation: every malformed shape raises PolicyError naming the source and statement."""

from __future__ import annotations

from typing import Any

import pytest

from irsa_lib.policy import PolicyError, parse_policy


def doc(**stmt: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [stmt]}


def test_statement_may_be_an_object_or_a_list() -> None:
    one = parse_policy({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}, source="p")
    assert len(one.statements) == 1
    assert one.statements[0].ref.index == 0


def test_json_text_is_accepted_and_bad_json_named() -> None:
    assert parse_policy('{"Statement": []}', source="p").statements == ()
    with pytest.raises(PolicyError, match="p: malformed JSON"):
        parse_policy("{", source="p")


@pytest.mark.parametrize(
    ("document", "kind", "message"),
    [
        ([], "identity", "must be a JSON object"),
        ({"Version": "2012-10-17"}, "identity", "no Statement"),
        ({"Statement": [], "Extra": 1}, "identity", "unknown top-level"),
        (doc(Effect="Allow", Resource="*"), "identity", "exactly one of Action or NotAction"),
        (doc(Effect="Allow", Action="*", NotAction="*", Resource="*"), "identity", "exactly one of Action"),
        (doc(Effect="Allow", Action="getparameter", Resource="*"), "identity", "'service:action'"),
        (doc(Effect="Allow", Action=[], Resource="*"), "identity", "must not be empty"),
        (doc(Effect="Allow", Action=3, Resource="*"), "identity", "non-empty string"),
        (doc(Effect="Allow", Action="*"), "identity", "needs Resource"),
        (doc(Effect="Allow", Action="*", Resource="*", NotResource="*"), "identity", "both Resource"),
        (doc(Effect="Allow", Action="*", Resource="*", Principal="*"), "boundary", "cannot name a Principal"),
        (doc(Effect="Allow", Action="*"), "trust", "needs a Principal"),
        (doc(Effect="Allow", Action="*", Principal={"AWS": []}), "trust", "non-empty string"),
        (doc(Effect="Allow", Action="*", Principal="everyone"), "trust", "Principal must be"),
        (doc(Effect="Allow", Action="*", Resource="*", Sid=5), "identity", "Sid must be a string"),
        (doc(Effect="Allow", Action="*", Resource="*", Foo=1), "identity", "unknown element"),
        ({"Statement": ["x"]}, "identity", "must be an object"),
    ],
)
def test_malformed_documents(document: Any, kind: Any, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, source="src-1", kind=kind)
    assert "src-1" in str(info.value)
    assert message in str(info.value)


def test_error_names_the_statement_index_and_sid() -> None:
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "Second", "Effect": "Maybe", "Action": "*", "Resource": "*"},
        ],
    }
    with pytest.raises(PolicyError, match=r"^pol: Statement\[1\] \(Sid 'Second'\): Effect must be"):
        parse_policy(bad, source="pol")


def test_statements_for_indexes_by_action_case_insensitively() -> None:
    p = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "ssm:Get*", "Resource": "*"},
                {"Effect": "Allow", "NotAction": "ssm:*", "Resource": "*"},
                {"Effect": "Deny", "Action": ["kms:Decrypt", "SSM:GETPARAMETER"], "Resource": "*"},
            ]
        },
        source="p",
    )
    assert [s.ref.index for s in p.statements_for("ssm:GetParameter")] == [0, 2]
    assert [s.ref.index for s in p.statements_for("kms:decrypt")] == [1, 2]
    assert p.statements_for("ssm:PutParameter") == ()
