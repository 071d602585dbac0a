"""The synthetic organisation generator: deterministic, exact counts, valid snapshots."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.synthetic import LARGE, SIZES, generate, plan, size_of
from irsa_lib.snapshot import load_snapshot, save_snapshot, snapshot_to_json


def test_same_seed_gives_identical_snapshot_json() -> None:
    a = json.dumps(snapshot_to_json(generate("tiny", seed=7)))
    b = json.dumps(snapshot_to_json(generate("tiny", seed=7)))
    assert a == b


def test_another_seed_gives_another_organisation() -> None:
    a = generate("tiny", seed=1)
    b = generate("tiny", seed=2)
    assert [r.role_id for r in a.roles] != [r.role_id for r in b.roles]


def test_issue_sizes() -> None:
    # issue 8, item 3: the large organisation; the other sizes double from one to the next
    assert (LARGE.roles, LARGE.service_accounts, LARGE.ssm_parameters, LARGE.secrets, LARGE.kms_keys) == (
        5000,
        2000,
        20000,
        5000,
        1000,
    )
    assert LARGE.clusters == 3
    assert SIZES["medium"].roles * 2 == LARGE.roles and SIZES["small"].roles * 4 == LARGE.roles
    assert SIZES["xlarge"].ssm_parameters == 40000
    xxlarge = SIZES["xxlarge"]
    assert (xxlarge.roles, xxlarge.service_accounts, xxlarge.ssm_parameters) == (100_000, 40_000, 400_000)


@pytest.mark.parametrize("name", ["small", "medium", "large", "xlarge"])
def test_every_size_has_a_feasible_plan(name: str) -> None:
    p = plan(SIZES[name])
    assert p.filler_roles > 0
    assert p.extra_service_accounts >= 0
    assert p.services == SIZES[name].kms_keys - 2 * SIZES[name].accounts


@pytest.mark.parametrize("name", ["tiny", "collect", "small"])
def test_counts_match_the_size(name: str) -> None:
    size = SIZES[name]
    snap = generate(name)
    assert len(snap.accounts) == size.accounts
    assert len(snap.clusters) == size.clusters
    assert len(snap.roles) == size.roles
    assert len(snap.service_accounts) == size.service_accounts
    assert len(snap.ssm_parameters) == size.ssm_parameters
    assert len(snap.secrets) == size.secrets
    assert len(snap.kms_keys) == size.kms_keys


def test_round_trip_through_save_and_load(tmp_path: Path) -> None:
    snap = generate("tiny", seed=3)
    assert load_snapshot(save_snapshot(snap, tmp_path / "org.json")) == snap


def test_unknown_size_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown size 'huge'"):
        size_of("huge")


def test_records_are_unique_and_consistent() -> None:
    snap = generate("small")
    for kind in ("roles", "ssm_parameters", "secrets", "kms_keys", "managed_policies", "oidc_providers"):
        arns = [r.arn for r in getattr(snap, kind)]
        assert len(arns) == len(set(arns)), kind
    sa_ids = [(s.cluster, s.namespace, s.name) for s in snap.service_accounts]
    assert len(sa_ids) == len(set(sa_ids))
    # every parameter's customer key exists (by id, alias or ARN), every secret's too
    keys = {k.key_id for k in snap.kms_keys} | {k.arn for k in snap.kms_keys}
    keys |= {a for k in snap.kms_keys for a in k.aliases}
    assert all(p.key_id in keys for p in snap.ssm_parameters if p.key_id)
    assert all(s.kms_key_id in keys for s in snap.secrets if s.kms_key_id)
    # Secrets Manager ARNs carry the six-character suffix
    assert all(s.arn.rsplit(":", 1)[1][len(s.name) :][:1] == "-" for s in snap.secrets)
    assert all(len(s.arn) == len(s.arn.rsplit("-", 1)[0]) + 7 for s in snap.secrets)


def test_mix_of_patterns_and_mistakes() -> None:
    """The organisation is not one shape repeated: every trust kind and the planted mistakes appear."""
    snap = generate("small")
    principals: Counter[str] = Counter()
    subs: list[str] = []
    for role in snap.roles:
        for st in role.trust_policy["Statement"]:
            principals.update(list(st["Principal"]))
            for op in st.get("Condition", {}).values():
                subs += [v for k, v in op.items() if k.endswith(":sub")]
    assert {"AWS", "Federated", "Service"} <= set(principals)
    assert "system:serviceaccount:*:*" in subs
    trusts = [json.dumps(r.trust_policy) for r in snap.roles]
    assert any('"AWS": "arn:aws:iam::' in t and ':root"' in t for t in trusts)  # account-root trusts
    assert any("pods.eks.amazonaws.com" in t for t in trusts)
    assert any("aws:PrincipalOrgID" in t for t in trusts)
    identity = [json.dumps(p.document) for r in snap.roles for p in r.inline_policies]
    assert any("NotAction" in d for d in identity)
    assert any("aws:PrincipalTag/team" in d for d in identity)
    assert any("aws:SourceIp" in d for d in identity)
    assert any("-??????" in d for d in identity)
    assert any(r.permissions_boundary_arn for r in snap.roles)
    assert any(p.key_id == "alias/aws/ssm" for p in snap.ssm_parameters)
    assert any(s.kms_key_id is None for s in snap.secrets)
    assert any(k.grants for k in snap.kms_keys)
    root_delegating = [k for k in snap.kms_keys if k.manager == "CUSTOMER" and '"kms:*"' in json.dumps(k.policy)]
    assert 0 < len(root_delegating) < snap.counts()["kms_keys"]
    assert snap.kes_external_secrets and snap.eso_external_secrets and snap.secret_provider_classes
    assert snap.pod_identity_associations
    assert any(n.metadata_options and n.metadata_options.http_tokens == "optional" for n in snap.node_groups)


def test_references_point_at_records_except_the_planted_dangling_ones() -> None:
    snap = generate("small")
    roles = {r.arn for r in snap.roles}
    annotated = [sa.role_arn for sa in snap.service_accounts if sa.role_arn]
    dangling = [a for a in annotated if a not in roles]
    assert dangling and all("/deleted-job-" in a for a in dangling)  # F19, planted on purpose
    assert all(es.role_arn in roles for es in snap.kes_external_secrets)
    assert all(st.role in roles for st in snap.eso_stores)
    assert all(a.role_arn in roles and (a.target_role_arn is None or a.target_role_arn in roles)
               for a in snap.pod_identity_associations)  # fmt: skip
    assert all(ng.node_role_arn in roles for ng in snap.node_groups)
    policies = {p.arn for p in snap.managed_policies}
    assert all(arn in policies for r in snap.roles for arn in r.attached_policy_arns)
    assert all(r.permissions_boundary_arn in policies for r in snap.roles if r.permissions_boundary_arn)
    providers = {p.arn for p in snap.oidc_providers}
    federated = [st["Principal"]["Federated"] for r in snap.roles for st in r.trust_policy["Statement"]
                 if "Federated" in st["Principal"]]  # fmt: skip
    assert federated and all(f in providers for f in federated)
    namespaces = {(n.cluster, n.name) for n in snap.namespaces}
    assert all((sa.cluster, sa.namespace) in namespaces for sa in snap.service_accounts)
    sas = {(sa.cluster, sa.namespace, sa.name) for sa in snap.service_accounts}
    assert all((w.cluster, w.namespace, w.service_account) in sas for w in snap.workloads)
