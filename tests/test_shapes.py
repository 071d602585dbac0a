"""The benchmark shapes are what their names say, and the answer comparison flags what it must."""

from __future__ import annotations

import json

import pytest

from benchmarks.answers import compare_case
from benchmarks.shapes import CHAIN, ROOT, SHAPES, generate_shape, shape_size
from irsa_lib.snapshot import snapshot_to_json


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_shape_is_deterministic_and_has_the_roles_asked_for(shape: str) -> None:
    a, b = generate_shape(f"{shape}-64"), generate_shape(f"{shape}-64")
    assert json.dumps(snapshot_to_json(a)) == json.dumps(snapshot_to_json(b))
    assert len(a.roles) == 64
    assert len({r.arn for r in a.roles}) == len(a.roles)
    assert all(p.type == "SecureString" for p in a.ssm_parameters)


def test_shape_sizes_are_named_shape_dash_roles() -> None:
    assert shape_size("root-trust-1600").roles == 1600
    assert shape_size("wide-wildcards-200").shape == "wide-wildcards"
    for bad in ("root-trust", "nope-200", "hub-x"):
        with pytest.raises(ValueError, match="unknown shape size"):
            shape_size(bad)


def test_root_trust_roles_trust_the_account_root_and_one_service_account() -> None:
    snap = generate_shape("root-trust-40")
    for role in snap.roles:
        aws, web = role.trust_policy["Statement"]
        assert aws["Principal"] == {"AWS": ROOT}
        subs = [v for k, v in web["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        assert subs == [f"system:serviceaccount:{role.name}:app"]
        assert 2 <= len(role.attached_policy_arns) <= 3
    assert len(snap.managed_policies) == 20


def test_deep_chains_are_eight_hops_long() -> None:
    snap = generate_shape("deep-chains-32")
    heads = [r for r in snap.roles if r.name.endswith("-hop-0")]
    assert len(heads) == 4 and len(snap.roles) == 4 * CHAIN
    assert len(snap.service_accounts) == 4


def test_the_comparison_allows_shorter_paths_only() -> None:
    row = "row c | ns | ServiceAccount | sa | arn:p | direct | allow || len={} | path=x"
    base = [row.format(3), "finding F01 | fail | critical | arn:r | e", "who arn:p <- sa:x || len=3"]
    assert compare_case(base, base) == ([], [])
    errors, allowed = compare_case(base, [row.format(2), base[1], "who arn:p <- sa:x || len=2"])
    assert errors == [] and len(allowed) == 2
    errors, _ = compare_case(base, [row.format(4), base[1], "who arn:p <- sa:x || len=4"])
    assert len(errors) == 2
    errors, _ = compare_case(base, [base[0]])
    assert sorted(e.split(":")[0] for e in errors) == ["finding lost", "reader lost"]
    errors, allowed = compare_case(base, [*base, "who arn:p <- sa:y || len=5"])
    assert len(errors) == 1 and "new" in errors[0]
    errors, allowed = compare_case([*base, "who-cut arn:p || paths=50"], [*base, "who arn:p <- sa:y || len=5"])
    assert errors == [] and "cut off" in allowed[0]
