"""JSON patches (RFC 6902) and merge patches (RFC 7386) computed from two documents, applied by real implementations."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
import yaml

from irsa_lib.fixes.patches import json_patch, manifest_text, merge_patch, pointer, replace_lines


def merge_apply(target: Any, patch: Any) -> Any:
    """RFC 7386 section 2, MergePatch(Target, Patch), as the RFC writes it."""
    if isinstance(patch, dict):
        if not isinstance(target, dict):
            target = {}
        for name, value in patch.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = merge_apply(target.get(name), value)
        return target
    return patch


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "a/b~c"},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "env": [
                            {"name": "A", "value": "1"},
                            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                            {"name": "B", "value": "2"},
                            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "token"}}},
                        ],
                    }
                ]
            }
        }
    },
}


def _changed(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    c = out["spec"]["template"]["spec"]["containers"][0]
    c["env"] = [e for e in c["env"] if "valueFrom" not in e]
    c["volumeMounts"] = [{"name": "db", "mountPath": "/etc/secrets/db", "readOnly": True}]
    out["spec"]["template"]["spec"]["volumes"] = [{"name": "db", "secret": {"secretName": "db"}}]
    out["metadata"]["annotations"] = {"iam.amazonaws.com/permitted": "^$"}
    out["spec"]["replicas"] = 2
    del out["apiVersion"]
    return out


def test_pointer_escapes_tilde_and_slash() -> None:
    assert pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (DEPLOYMENT, _changed(DEPLOYMENT)),
        ({"a": [1, 2, 3]}, {"a": [1, 2, 3, 4, 5]}),
        ({"a": [1, 2, 3]}, {"a": [3, 2]}),
        ({"a": [1, 2]}, {"a": [2, 1]}),
        ({"a": {"b": 1}}, {"a": [1]}),
        ({"a": None}, {"a": {"b": None}}),
        ({}, {}),
    ],
)
def test_json_patch_applied_by_jsonpatch_gives_the_after_document(before: Any, after: Any) -> None:
    ops = json_patch(before, after)
    assert jsonpatch.JsonPatch(ops).apply(copy.deepcopy(before)) == after
    assert (ops == []) == (before == after)


def test_json_patch_replaces_a_value_of_another_json_type_even_when_python_calls_them_equal() -> None:
    assert json_patch({"a": True}, {"a": 1}) == [{"op": "replace", "path": "/a", "value": 1}]


def test_json_patch_removes_list_items_last_first_and_carries_no_other_value() -> None:
    ops = json_patch(DEPLOYMENT, _changed(DEPLOYMENT))
    removes = [o["path"] for o in ops if o["op"] == "remove" and "/env/" in o["path"]]
    assert removes == ["/spec/template/spec/containers/0/env/3", "/spec/template/spec/containers/0/env/1"]
    assert "1" not in str([o.get("value") for o in ops]) and '"2"' not in str(ops)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (DEPLOYMENT, _changed(DEPLOYMENT)),
        ({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"d": "e"}}),
        ({"a": [1, 2]}, {"a": [3]}),
        ({"a": {"b": 1}}, {"a": "x"}),
    ],
)
def test_merge_patch_applied_by_the_rfc_algorithm_gives_the_after_document(before: Any, after: Any) -> None:
    assert merge_apply(copy.deepcopy(before), merge_patch(before, after)) == after


def test_merge_patch_of_an_added_annotation_is_minimal() -> None:
    before = {"kind": "Namespace", "metadata": {"name": "p", "labels": {"a": "b"}}}
    after = {"kind": "Namespace", "metadata": {"name": "p", "labels": {"a": "b"}, "annotations": {"k": "^$"}}}
    assert merge_patch(before, after) == {"metadata": {"annotations": {"k": "^$"}}}


def test_manifest_in_place_keeps_the_rest_of_the_file() -> None:
    text = "# head\n---\nkind: A\nmetadata:\n  name: a\n---\n# keep me\nkind: B\nmetadata:\n  name: b\n"
    out = replace_lines(text, 3, 5, manifest_text({"kind": "A", "metadata": {"name": "a", "labels": {"x": "y"}}}))
    assert out.startswith("# head\n---\nkind: A\n") and out.endswith("---\n# keep me\nkind: B\nmetadata:\n  name: b\n")
    assert [d["metadata"].get("labels") for d in yaml.safe_load_all(out)] == [{"x": "y"}, None]
    assert replace_lines(text, 3, 5, "") == "# head\n---\n---\n# keep me\nkind: B\nmetadata:\n  name: b\n"
