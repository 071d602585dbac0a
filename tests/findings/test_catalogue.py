"""The registry: every rule F01..F30 present with complete metadata; runner ordering and merging."""

from __future__ import annotations

import re

import pytest

from irsa_lib.errors import UsageError
from irsa_lib.findings import RULES, Finding, RuleMeta, Severity, at_or_above, run_findings, select_rules
from tests.findings.builders import HOST, arn, irsa_trust, role, snap


def test_all_rules_registered_in_order() -> None:
    assert list(RULES) == [f"F{i:02d}" for i in range(1, 31)]


@pytest.mark.parametrize("rule_id", list(RULES))
def test_rule_metadata_complete(rule_id: str) -> None:
    m: RuleMeta = RULES[rule_id].meta
    assert m.id == rule_id
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", m.slug)
    assert m.title and m.why and m.remediation and m.scope
    assert m.references and all(r.startswith("https://") for r in m.references)
    assert isinstance(m.severity, Severity)


def test_slugs_unique() -> None:
    slugs = [r.meta.slug for r in RULES.values()]
    assert len(slugs) == len(set(slugs))


def test_severity_order_and_parse() -> None:
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(UsageError, match="unknown severity 'severe'"):
        Severity.parse("severe")


def test_select_rules_rejects_unknown_ids() -> None:
    assert [r.id for r in select_rules(["f01", "F18"])] == ["F01", "F18"]
    with pytest.raises(UsageError, match="F99"):
        select_rules(["F99"])


def test_findings_sorted_by_severity_then_rule_then_resource_and_merged() -> None:
    two_statements = {
        "Statement": [
            irsa_trust(None)["Statement"][0],
            irsa_trust({"StringLike": {f"{HOST}:sub": "system:serviceaccount:*:*"}})["Statement"][0],
        ]
    }
    s = snap(roles=(role("b", two_statements), role("a", irsa_trust(None))))
    found = run_findings(s, rules=["F18", "F01"])
    assert [(f.rule, f.resource) for f in found] == [
        ("F01", arn("a")),
        ("F01", arn("b")),
        ("F18", arn("a")),
        ("F18", arn("b")),
    ]
    merged = next(f for f in found if f.key == ("F01", arn("b")))
    assert len(merged.evidence) == 2  # both statements, one finding


def test_at_or_above_ignores_unknown() -> None:
    meta = RULES["F01"].meta
    fail = meta.fail("r1", "x")
    unknown = meta.unknown("r2", "not collected")
    low = RULES["F18"].meta.fail("r3")
    assert at_or_above([fail, unknown, low], Severity.HIGH) == [fail]


def test_finding_json_round_trip() -> None:
    f = RULES["F03"].meta.fail("demo/Namespace/a", "e1", severity=Severity.HIGH)
    data = f.to_json()
    assert set(data) >= {"rule", "slug", "severity", "title", "resource", "evidence", "remediation", "status"}
    assert Finding.from_json(data) == f
