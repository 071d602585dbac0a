"""The graph only evaluates the reads its indexes propose: those indexes must never drop a readable value.

Checked exhaustively on a synthetic organisation (several accounts, wildcard grants, cross-account keys,
org-wide trusts), with resource policies added that share values across accounts and name single role
sessions: every (role, value) pair the candidate index leaves out must be one the evaluator denies too.
"""

from __future__ import annotations

import dataclasses

from benchmarks.synthetic import generate
from irsa_lib.graph import build_graph
from irsa_lib.graph.aws import SM_READ_ACTIONS, AwsView, Identity, consumer_actions
from irsa_lib.graph.patterns import allowed_resource_patterns
from irsa_lib.graph.schema import Mechanism, role_id, sa_id
from irsa_lib.model import SecretsManagerSecret, SSMParameter
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot


def _with_resource_policies(snap: Snapshot) -> Snapshot:
    """Share a few values with roles of other accounts, and with one session of a same-account role."""
    roles = list(snap.roles)
    params, secrets = list(snap.ssm_parameters), list(snap.secrets)
    for i in range(0, min(len(params), 40), 4):
        p = params[i]
        reader = next((r for r in roles[i:] if r.account_id != p.account_id), roles[-1])
        statement = {"Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": p.arn}
        shared = {**statement, "Principal": {"AWS": reader.arn}}
        params[i] = dataclasses.replace(p, tier="Advanced", resource_policies=({"Statement": [shared]},))
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    no_grant = [r for r in roles if not allowed_resource_patterns(aws.identity_documents(r), SM_READ_ACTIONS)]
    for i in range(0, min(len(secrets), 20), 3):
        s = secrets[i]
        # a role of the secret's account with no Secrets Manager grant of its own; the AWS managed key
        # lets anyone in the account decrypt through the service, so only the resource policy decides
        same = next(r for r in no_grant if r.account_id == s.account_id)
        session = f"arn:aws:sts::{same.account_id}:assumed-role/{same.name}/ci"
        statement = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
        policy = {"Statement": [{**statement, "Principal": {"AWS": session}}]}
        secrets[i] = dataclasses.replace(s, resource_policy=policy, kms_key_id=None)
    return dataclasses.replace(snap, ssm_parameters=tuple(params), secrets=tuple(secrets))


def test_read_candidates_never_leave_out_a_value_the_evaluator_lets_a_role_read() -> None:
    snap = _with_resource_policies(generate("tiny", seed=3))
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    targets: list[SSMParameter | SecretsManagerSecret] = aws.all_targets()
    proposed = dropped = 0
    for role in snap.roles:
        identity = Identity(role.arn)
        candidates = {id(t) for t in aws.candidate_targets(identity)}
        proposed += len(candidates)
        for target in targets:
            if id(target) in candidates:
                continue
            dropped += 1
            read = aws.read(identity, target, consumer_actions("direct", target))
            assert read is None, f"{role.arn} can read {target.arn} ({read.leg.decision}) but was not proposed"
    assert proposed and dropped  # the index both proposes and leaves out: the check is not vacuous
    session_reads = [
        t
        for t in targets
        if isinstance(t, SecretsManagerSecret) and t.resource_policy and "assumed-role" in str(t.resource_policy)
    ]
    # and a value shared with one session only is readable by that role somewhere (not vacuous either)
    assert session_reads and any(
        aws.read(Identity(_session_role(t)), t, consumer_actions("direct", t)) is not None for t in session_reads
    )


def _session_role(secret: SecretsManagerSecret) -> str:
    """The role of the one session a secret's resource policy names."""
    session = str(secret.resource_policy["Statement"][0]["Principal"]["AWS"])  # type: ignore[index]
    account, name = session.split(":")[4], session.split("/")[1]
    return f"arn:aws:iam::{account}:role/{name}"


def test_assume_candidates_never_leave_out_a_role_the_evaluator_lets_a_role_assume() -> None:
    snap = generate("tiny", seed=3)
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    allowed_dropped = [
        (source.arn, dest.arn)
        for source in snap.roles
        for proposed in [{r.arn for r in aws.roles_trusting(source)}]
        for dest in snap.roles
        # a role assuming itself needs a trust naming it explicitly (an account-root trust is not
        # enough; IAM UG, "role trust policy ... assume itself"): the index applies that rule itself
        if dest.arn != source.arn
        and dest.arn not in proposed
        and aws.assume(Identity(source.arn), dest.arn) is not None
    ]
    assert allowed_dropped == []
    assert any(aws.roles_trusting(r) for r in snap.roles)  # chains exist in this organisation


def test_irsa_edges_cover_every_service_account_a_role_trust_accepts() -> None:
    snap = generate("tiny", seed=3)
    graph = build_graph(snap)
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    issuers = {c.name: c.oidc_issuer.removeprefix("https://") for c in snap.clusters if c.oidc_issuer}
    accepted = missing = 0
    for sa in snap.service_accounts:
        for provider in aws.oidc_by_url.get(issuers.get(sa.cluster, ""), []):
            for role in snap.roles:
                if aws.web_identity(provider, role, sub=sa.subject, aud=sa.audience).outcome == "deny":
                    continue
                accepted += 1
                edge = graph.graph.get_edge_data(sa_id(sa.cluster, sa.namespace, sa.name), role_id(role.arn)) or {}
                missing += not any(e["mechanism"] == Mechanism.IRSA for e in edge.values())
    assert accepted and missing == 0
