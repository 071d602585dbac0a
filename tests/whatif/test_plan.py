"""Reading ``terraform show -json``: actions, unknown and sensitive values, references, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irsa_lib.whatif.plan import READ_ATTRIBUTES, PlanError, Unknown, Withheld, load_plan, parse_plan
from tests.whatif.base import PLANS


def test_every_documented_action_list_is_read() -> None:
    plan = load_plan(PLANS / "plan_actions.json")
    kinds = {c.address: c.kind for c in plan.changes}
    assert kinds == {
        "aws_iam_role.app": "update",
        "aws_kms_key.app2": "create",
        "aws_ssm_parameter.token": "create",
        "aws_ssm_parameter.old": "delete",
        "aws_iam_role.batch": "replace",
        "aws_iam_policy.shared": "replace",
        "aws_kms_key.app": "no-op",
    }
    actions = {c.address: c.actions for c in plan.changes}
    assert actions["aws_iam_role.batch"] == ("delete", "create")
    assert actions["aws_iam_policy.shared"] == ("create", "delete")
    assert plan.region == "us-east-1"
    assert sorted(plan.skipped) == [
        "aws_s3_bucket.logs: type aws_s3_bucket is not read by the analysis",
        "data.aws_caller_identity.current: a data source (read during plan; its result is in the resources that use it)",
    ]


def test_create_has_no_before_and_delete_no_after() -> None:
    plan = load_plan(PLANS / "plan_actions.json")
    by = {c.address: c for c in plan.changes}
    assert by["aws_kms_key.app2"].before is None
    assert by["aws_ssm_parameter.old"].after is None
    assert by["aws_ssm_parameter.old"].before is not None
    assert by["aws_ssm_parameter.old"].before["name"] == "/app/old"


def test_unknown_values_are_marked_with_their_path() -> None:
    change = {c.address: c for c in load_plan(PLANS / "plan_actions.json").changes}["aws_kms_key.app2"]
    assert change.after is not None
    assert change.after["arn"] == Unknown("aws_kms_key.app2", "arn")
    assert change.after["key_id"] == Unknown("aws_kms_key.app2", "key_id")
    assert change.after["is_enabled"] is True


def test_configuration_references_are_kept_per_attribute() -> None:
    change = {c.address: c for c in load_plan(PLANS / "plan_actions.json").changes}["aws_ssm_parameter.token"]
    assert change.references["key_id"] == ("aws_kms_key.app2.arn", "aws_kms_key.app2")
    assert "key_id" in change.configured
    assert "value" not in change.references  # not an attribute the analysis reads


def test_values_outside_the_allow_list_are_never_kept() -> None:
    """A parameter's value is not read, whether the plan marks it sensitive or not (insecure_value)."""
    plan = load_plan(PLANS / "plan_sensitive.json")
    for change in plan.changes:
        for side in (change.before, change.after):
            assert side is None or set(side) <= set(READ_ATTRIBUTES[change.type])
    text = repr(plan)
    for i in range(3, 10):
        assert f"-000{i}" not in text


def test_sensitive_values_are_withheld_unread() -> None:
    plan = load_plan(PLANS / "plan_sensitive.json")
    by = {c.address: c for c in plan.changes}
    assert by["aws_iam_role_policy.web_extra"].after["policy"] == Withheld("aws_iam_role_policy.web_extra", "policy")  # type: ignore[index]
    manifest = by["kubernetes_manifest.db_secret"].after["manifest"]  # type: ignore[index]
    assert manifest["stringData"]["password"] == Withheld(
        "kubernetes_manifest.db_secret", "manifest.stringData.password"
    )
    assert (
        "aws_secretsmanager_secret_version.db: type aws_secretsmanager_secret_version is not read by the analysis"
        in (plan.skipped)
    )


def test_region_from_a_variable() -> None:
    assert load_plan(PLANS / "plan_unknown.json").region == "us-east-1"


def test_modules_and_instance_keys() -> None:
    plan = parse_plan(
        {
            "format_version": "1.0",
            "resource_changes": [
                {
                    "address": 'module.svc["billing"].aws_ssm_parameter.p[0]',
                    "module_address": 'module.svc["billing"]',
                    "mode": "managed",
                    "type": "aws_ssm_parameter",
                    "name": "p",
                    "index": 0,
                    "change": {"actions": ["create"], "before": None, "after": {"name": "/x"}, "after_unknown": {}},
                }
            ],
            "configuration": {
                "root_module": {
                    "module_calls": {
                        "svc": {
                            "module": {
                                "resources": [
                                    {
                                        "address": "aws_ssm_parameter.p",
                                        "mode": "managed",
                                        "type": "aws_ssm_parameter",
                                        "name": "p",
                                        "expressions": {
                                            "key_id": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}
                                        },
                                    }
                                ]
                            }
                        }
                    }
                }
            },
        }
    )
    (change,) = plan.changes
    assert change.module == "module.svc"
    assert change.config_address == "module.svc.aws_ssm_parameter.p"
    assert change.references["key_id"] == ("module.svc.aws_kms_key.k.arn", "module.svc.aws_kms_key.k")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a Terraform plan"),
        ({"resource_changes": []}, "format_version is missing"),
        ({"format_version": "2.0", "resource_changes": []}, "format_version 2.0 is not supported"),
        ({"format_version": "1.0", "values": {}}, "looks like state, not a plan"),
        ({"format_version": "1.0", "resource_changes": {}}, "resource_changes must be a list"),
    ],
)
def test_bad_plans_are_refused_with_the_reason(data: object, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_plan(data, source="p.json")


def test_one_bad_change_does_not_stop_the_rest() -> None:
    good = {
        "address": "aws_ssm_parameter.a",
        "mode": "managed",
        "type": "aws_ssm_parameter",
        "name": "a",
        "change": {"actions": ["create"], "after": {"name": "/a"}},
    }
    bad = {**good, "address": "aws_ssm_parameter.b", "name": "b", "change": {"actions": ["explode"]}}
    plan = parse_plan({"format_version": "1.2", "resource_changes": [bad, good]})
    assert [c.address for c in plan.changes] == ["aws_ssm_parameter.a"]
    assert plan.skipped == (
        "resource_changes[0]: aws_ssm_parameter.b: change.actions ['explode'] is not one of Terraform's documented "
        "action lists",
    )


def test_load_plan_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    with pytest.raises(PlanError, match=r"plan\.json: malformed JSON at line 1"):
        load_plan(bad)
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(tmp_path / "missing.json")
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"format_version": "1.0", "values": {"root_module": {}}}))
    with pytest.raises(PlanError, match="state, not a plan"):
        load_plan(state)
