"""The graph only evaluates the pairs its indexes propose: those indexes must never drop an allowed pair.

Checked exhaustively on a synthetic organisation (several accounts, wildcard grants, cross-account keys,
org-wide trusts), with resource policies added that share values across accounts and name single role
sessions: every (role, value) pair the candidate index leaves out must be one the evaluator denies too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from benchmarks.shapes import generate_shape
from benchmarks.synthetic import generate
from irsa_lib.findings import FindingContext
from irsa_lib.findings.shapes import wildcard_grant
from irsa_lib.graph import build_graph
from irsa_lib.graph.aws import (
    ALL_READ_ACTIONS,
    ALL_WRITE_ACTIONS,
    SM_READ_ACTIONS,
    AwsView,
    Identity,
    consumer_actions,
    web_principal,
)
from irsa_lib.graph.irsa import SubjectIndex, accepted_subjects
from irsa_lib.graph.patterns import allowed_resource_patterns
from irsa_lib.graph.schema import Mechanism, any_sa_id, role_id, sa_id
from irsa_lib.model import AUDIENCE_ANNOTATION, Grant, InlinePolicy, SecretsManagerSecret, SSMParameter
from irsa_lib.policy import Decision, PolicySet, Request, evaluate
from irsa_lib.resolve import Inventory, parameter_paths
from irsa_lib.snapshot import Snapshot
from tests.graph import factory as f
from tests.graph.factory import ACCT, CLUSTER, HOST, PROVIDER_ARN


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


def _with_odd_keys(snap: Snapshot) -> Snapshot:
    """Customer keys whose policy is unreadable, malformed, names a role by unique id or one of its
    sessions, grants to an account or a role, or lets the account decrypt one parameter only; and
    values whose key is not in the snapshot."""
    keys = [k for k in snap.kms_keys if k.manager == "CUSTOMER"]
    roles = [r for r in snap.roles if r.account_id == keys[0].account_id]

    def policy(principal: str, action: str = "kms:Decrypt") -> dict[str, Any]:
        statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"}
        return {"Version": "2012-10-17", "Statement": [statement]}

    session = f"arn:aws:sts::{roles[3].account_id}:assumed-role/{roles[3].name}/deploy"
    changed = {
        keys[0].arn: dataclasses.replace(keys[0], policy=None),
        keys[1].arn: dataclasses.replace(keys[1], policy={"Statement": [{"Effect": "Maybe"}]}),
        keys[2].arn: dataclasses.replace(keys[2], policy=policy(roles[2].role_id, "kms:*")),
        keys[3].arn: dataclasses.replace(keys[3], policy=policy(session)),
        keys[4].arn: dataclasses.replace(
            keys[4],
            policy=policy(roles[0].arn, "kms:DescribeKey"),
            grants=(
                Grant(grant_id="g1", grantee_principal=keys[4].account_id, operations=("Decrypt", "Encrypt")),
                Grant(grant_id="g2", grantee_principal=roles[5].arn, operations=("GenerateDataKey",)),
            ),
        ),
    }
    one = next(p for p in snap.ssm_parameters if p.key_id in (keys[6].arn, keys[6].key_id, *keys[6].aliases))
    by_context = policy(f"arn:aws:iam::{keys[6].account_id}:root")
    by_context["Statement"][0]["Condition"] = {"StringEquals": {"kms:EncryptionContext:PARAMETER_ARN": one.arn}}
    changed[keys[6].arn] = dataclasses.replace(keys[6], policy=by_context)
    gone = keys[5]
    kept = tuple(changed.get(k.arn, k) for k in snap.kms_keys if k.arn != gone.arn)
    return dataclasses.replace(snap, kms_keys=kept)


@pytest.mark.parametrize("odd_keys", [False, True])
def test_read_candidates_never_leave_out_a_value_the_evaluator_lets_a_role_read(odd_keys: bool) -> None:
    snap = _with_resource_policies(generate("tiny", seed=3))
    snap = _with_odd_keys(snap) if odd_keys else snap
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


def test_write_candidates_never_leave_out_a_value_the_evaluator_lets_a_role_overwrite() -> None:
    snap = _with_odd_keys(_with_resource_policies(generate("tiny", seed=3)))
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    proposed = dropped = 0
    for role in snap.roles:
        identity = Identity(role.arn)
        candidates = {id(t) for t in aws.candidate_targets(identity, ALL_WRITE_ACTIONS)}
        proposed += len(candidates)
        for target in aws.all_targets():
            if id(target) not in candidates:
                dropped += 1
                assert aws.write(identity, target) is None, f"{role.arn} can overwrite {target.arn}"
    assert proposed and dropped


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


def _web(sub: str | list[str], op: str, **extra: Any) -> dict[str, Any]:
    """A web-identity trust statement for the factory cluster's provider with ``op`` on ``sub``."""
    cond: dict[str, Any] = {op: {f"{HOST}:sub": sub}, **extra}
    return {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": cond,
    }


SUB = f"{HOST}:sub"
TRUSTS: dict[str, list[dict[str, Any]]] = {
    "equals": [_web("system:serviceaccount:team-a:app", "StringEquals")],
    "equals-list": [_web(["system:serviceaccount:team-a:app", "system:serviceaccount:team-b:app"], "StringEquals")],
    "any-equals": [_web("system:serviceaccount:team-b:app", "ForAnyValue:StringEquals")],
    "like-namespace": [_web("system:serviceaccount:team-a:*", "StringLike")],
    "like-prefix": [_web("system:serviceaccount:team-a*:app", "StringLike")],
    "like-qmark": [_web("system:serviceaccount:team-?:app", "StringLike")],
    "any-like": [_web(["system:serviceaccount:other:*", "system:serviceaccount:team-b:w*"], "ForAnyValue:StringLike")],
    "like-literal-star": [_web("system:serviceaccount:team-a:${*}", "StringLike")],
    "not-equals": [_web("system:serviceaccount:team-a:app", "StringNotEquals")],
    "not-like": [_web("system:serviceaccount:team-*", "StringNotLike")],
    "equals-if-exists": [_web("system:serviceaccount:team-a:app", "StringEqualsIfExists")],
    "like-if-exists": [_web("system:serviceaccount:team-b:*", "StringLikeIfExists")],
    "all-values": [_web("system:serviceaccount:other:x", "ForAllValues:StringEquals")],
    "ignore-case": [_web("SYSTEM:SERVICEACCOUNT:TEAM-A:APP", "StringEqualsIgnoreCase")],
    # a policy variable with a default names team-a; one naming the token's own sub matches every subject
    "variable-default": [_web("system:serviceaccount:${aws:PrincipalTag/ns, 'team-a'}:app", "StringEquals")],
    "variable-self": [_web(f"${{{SUB}}}", "StringEquals")],
    "no-sub": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"}},
        }
    ],
    "root-and-one": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:AssumeRole"},
        _web("system:serviceaccount:team-b:worker", "StringEquals"),
    ],
    "root-any-sts": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:*"},
        _web("system:serviceaccount:team-b:worker", "StringEquals"),
    ],
    "star-principal": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {SUB: "system:serviceaccount:team-ab:*"}},
        }
    ],
    "equals-and-like": [
        _web("system:serviceaccount:team-a:app", "StringEquals", StringLike={SUB: "system:serviceaccount:*"})
    ],
    "two-statements": [_web("system:serviceaccount:other:x", "StringEquals"), _web("system:*:team-b:*", "StringLike")],
    "other-issuer": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"oidc.example.com/id/OTHER:sub": "system:serviceaccount:team-a:app"}},
        }
    ],
    "deny-one": [
        _web("system:serviceaccount:team-a:*", "StringLike"),
        {
            "Effect": "Deny",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {SUB: "system:serviceaccount:team-a:worker"}},
        },
    ],
    # not a valid policy (unknown operator): the evaluator cannot read it, so the index must not either
    "malformed": [_web("system:serviceaccount:team-a:app", "StringEqualsSometimes")],
}
SAS = [("team-a", "app"), ("team-a", "worker"), ("team-ab", "app"), ("team-b", "app"), ("team-b", "worker"),
       ("other", "x"), ("team-c", "app")]  # fmt: skip


def test_the_irsa_index_never_leaves_out_a_service_account_the_evaluator_lets_assume_a_role() -> None:
    roles = [f.role(name, f.doc(*statements)) for name, statements in TRUSTS.items()]
    sas = [f.sa(ns, name) for ns, name in SAS]
    sas.append(dataclasses.replace(f.sa("team-c", "custom-aud"), annotations={AUDIENCE_ANNOTATION: "vault"}))
    snap = f.snapshot(roles=roles, service_accounts=sas)
    graph = build_graph(snap)
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    provider = snap.oidc_providers[0]
    index = SubjectIndex(sas)
    narrowed = accepted = 0
    for r in roles:
        trust = aws.inventory.policy_set_for(provider.arn, r.arn).resource
        proposed = {x.subject for x in index.candidates(accepted_subjects(trust, web_principal(provider), SUB.lower()))}
        narrowed += len(proposed) < len(sas)
        for account in sas:
            if aws.web_identity(provider, r, sub=account.subject, aud=account.audience).outcome == "deny":
                continue
            accepted += 1
            assert account.subject in proposed, f"{r.name} accepts {account.subject} but the index left it out"
            edges = graph.graph.get_edge_data(sa_id(CLUSTER, account.namespace, account.name), role_id(r.arn)) or {}
            assert any(e["mechanism"] == Mechanism.IRSA for e in edges.values()), (r.name, account.subject)
    assert accepted >= 25 and narrowed >= 10  # neither vacuous nor "everything is a candidate"
    # a trust that accepts a service account nobody has created yet has a potential edge from "any service account"
    potential = 0
    for r in roles:
        for ns in ("brand-new", "team-a"):
            made_up = f"system:serviceaccount:{ns}:made-up"
            if aws.web_identity(provider, r, sub=made_up, aud="sts.amazonaws.com").outcome == "deny":
                continue
            potential += 1
            sources = {any_sa_id(CLUSTER), any_sa_id(CLUSTER, ns)}
            assert any(u in sources for u, _ in graph.graph.in_edges(role_id(r.arn))), (r.name, made_up)
    assert potential >= 10


def _with_odd_grants(snap: Snapshot) -> Snapshot:
    """Give roles with no other grant NotResource, ``?``, whole-ARN prefix and exact grants of
    sts:AssumeRole and kms:Decrypt."""
    acct = snap.roles[0].account_id
    extra = [
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "kms:Decrypt"], "NotResource": f"arn:aws:iam::{acct}:role/x"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{acct}:role/ad?in"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{acct}:role/readonly*"},
        {"Effect": "Allow", "Action": "kms:*", "Resource": [f"arn:aws:kms:*:{acct}:key/*", "arn:aws:kms:us-east-1:*"]},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": snap.roles[1].arn},
    ]
    bare = [i for i, r in enumerate(snap.roles) if r.account_id == acct and not r.attached_policy_arns]
    roles = list(snap.roles)
    for i, statement in zip(bare, extra, strict=False):
        doc = {"Version": "2012-10-17", "Statement": [statement]}
        roles[i] = dataclasses.replace(roles[i], inline_policies=(InlinePolicy(name="odd", document=doc),))
    return dataclasses.replace(snap, roles=tuple(roles))


def test_pattern_holders_never_leave_out_a_holder_with_a_wildcard_grant() -> None:
    for snap in (
        _with_odd_grants(generate("tiny", seed=3)),
        generate_shape("deep-chains-32"),
        generate_shape("hub-16"),
    ):
        ctx = FindingContext(snap)
        targets = [r.arn for r in snap.roles] + [k.arn for k in snap.kms_keys]
        skipped = proposed = 0
        for account in sorted({r.account_id for r in snap.roles}):
            for action in ("sts:AssumeRole", "kms:Decrypt"):
                holders = ctx.grant_holders(account, action)
                for arn in targets:
                    kept = {h for h, _ in ctx.pattern_holders(account, action, arn)}
                    proposed += len(kept)
                    for holder, policies in holders:
                        if holder in kept:
                            continue
                        skipped += 1
                        assert all(wildcard_grant(p, action, arn) is None for p in policies), (holder, action, arn)
        assert skipped and proposed


def _with_gaps(snap: Snapshot) -> Snapshot:
    """Roles attaching a managed policy that was not collected; a parameter whose resource policies were not read."""
    roles = [
        dataclasses.replace(
            r, attached_policy_arns=(*r.attached_policy_arns, f"arn:aws:iam::{r.account_id}:policy/gone")
        )
        if i % 7 == 0
        else r
        for i, r in enumerate(snap.roles)
    ]
    params = list(snap.ssm_parameters)
    params[1] = dataclasses.replace(params[1], resource_policy_readable=False)
    return dataclasses.replace(snap, roles=tuple(roles), ssm_parameters=tuple(params))


def test_a_request_answered_without_evaluation_is_one_the_evaluator_denies() -> None:
    snap = _with_gaps(_with_odd_keys(_with_resource_policies(generate("tiny", seed=3))))
    aws = AwsView(snap, Inventory.from_snapshot(snap))
    skipped = evaluated = 0
    for role in snap.roles:
        identity = Identity(role.arn)
        principal = aws.principal(identity)
        for target in aws.all_targets():
            resources = [target.arn]
            if isinstance(target, SSMParameter):
                resources += [arn for _, arn in parameter_paths(target)]
            for action in (*ALL_READ_ACTIONS, *ALL_WRITE_ACTIONS):
                for resource in resources:
                    policies = aws.policies(identity, resource)
                    if not aws._no_allow_can_cover(identity, action, resource, policies):
                        evaluated += 1
                        continue
                    skipped += 1
                    decision = evaluate(Request(principal, action, resource, {}, context_complete=False), policies)
                    assert decision.outcome == "deny", (role.arn, action, resource, decision)
    assert skipped and evaluated


class _WithoutKeyFilter(AwsView):
    """The view with its candidates narrowed by identity patterns and resource policies only."""

    def _key_filter(self, *_args: Any) -> None:
        return None


@pytest.mark.parametrize("actions", [ALL_READ_ACTIONS, ALL_WRITE_ACTIONS], ids=["read", "write"])
def test_the_key_filter_only_leaves_out_what_the_evaluator_denies_even_with_policies_missing(
    actions: tuple[str, ...],
) -> None:
    snap = _with_gaps(_with_odd_keys(_with_resource_policies(generate("tiny", seed=3))))
    inventory = Inventory.from_snapshot(snap)
    aws, plain = AwsView(snap, inventory), _WithoutKeyFilter(snap, inventory)
    left_out = 0
    for role in snap.roles:
        identity = Identity(role.arn)
        kept = {id(t) for t in aws.candidate_targets(identity, actions)}
        for target in plain.candidate_targets(identity, actions):
            if id(target) in kept:
                continue
            left_out += 1
            if actions == ALL_WRITE_ACTIONS:
                assert aws.write(identity, target) is None, (role.arn, target.arn)
            else:
                assert aws.read(identity, target, consumer_actions("direct", target)) is None, (role.arn, target.arn)
    assert left_out


class _Unshared(AwsView):
    """The view evaluating every request on its own (no shared answers or reads, no shortcut)."""

    def _evaluate(self, request: Request, policies: PolicySet, *_: Any) -> Decision:
        self.evaluations += 1
        return evaluate(request, policies)

    def _read_signature(self, *_: Any) -> None:
        return None


@pytest.mark.parametrize("shape", ["tiny", "root-trust-40", "wide-wildcards-24", "deep-chains-16", "hub-16"])
def test_a_shared_answer_is_the_answer_the_evaluator_gives_each_principal(shape: str) -> None:
    """Every read, write, KMS and assume question of every role, answered with shared answers, equals
    the answer evaluated for that role alone (decisions, evidence and all)."""
    snap = generate("tiny", seed=3) if shape == "tiny" else generate_shape(shape)
    snap = _with_gaps(_with_odd_keys(_with_resource_policies(snap))) if shape == "tiny" else snap
    inventory = Inventory.from_snapshot(snap)
    aws, plain = AwsView(snap, inventory), _Unshared(snap, inventory)
    shared_reads = 0
    for role in snap.roles:
        identity = Identity(role.arn)
        for target in aws.all_targets():
            actions = consumer_actions("direct", target)
            assert aws.read(identity, target, actions) == plain.read(identity, target, actions), (role.arn, target.arn)
            shared_reads += aws._read_signature(identity, target, actions, None) is not None
            if isinstance(target, SSMParameter) and target.name.startswith("/"):
                by_path, parent = consumer_actions("kes", target, by_path=True), target.name.rsplit("/", 1)[0]
                got = aws.read(identity, target, by_path, path=parent or "/")
                assert got == plain.read(identity, target, by_path, path=parent or "/"), (role.arn, target.arn)
            assert aws.write(identity, target) == plain.write(identity, target), (role.arn, target.arn)
        for dest in snap.roles:
            assert aws.assume(identity, dest.arn) == plain.assume(identity, dest.arn), (role.arn, dest.arn)
    assert aws.evaluations < plain.evaluations  # some answers were shared
    if shape.startswith("deep-chains"):
        # every role reads only through its own inline policy (whose kms:Decrypt statement takes part in
        # every read): no other principal can share a read, and none is given a signature
        assert shared_reads == 0
    else:
        assert shared_reads  # some reads are shared as a whole
