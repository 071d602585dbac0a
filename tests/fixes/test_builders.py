"""Fix builders on small hand-written snapshots: the changes they make, what they leave to a person, and
the flags of a fix that would cut an intended chain. Expected answers follow AWS's documented rules."""

from __future__ import annotations

import dataclasses
from typing import Any

import hcl2
import pytest

from irsa_lib.analysis import analyse
from irsa_lib.errors import UsageError
from irsa_lib.findings import Finding
from irsa_lib.fixes import Fix, NoFix, Verifier, build_fixes, select_findings
from irsa_lib.fixes.intended import Intent
from irsa_lib.fixes.model import NewKey, ObjectEdit, PolicyEdit, Rekey
from irsa_lib.fixes.terraform import terraform
from irsa_lib.model import KESController, KESDataItem, KESExternalSecret, SecretKeyRef
from irsa_lib.snapshot import Snapshot
from tests.graph.factory import (
    ACCT,
    CLUSTER,
    HOST,
    allow,
    doc,
    irsa_trust,
    key_arn,
    key_policy_for,
    kms_key,
    managed,
    namespace,
    param,
    param_arn,
    rbac_grant,
    role,
    role_arn,
    sa,
    secret,
    snapshot,
    trust_roles,
    workload,
)


def _fix(snap: Snapshot, rule: str) -> tuple[Fix | NoFix, Any]:
    a = analyse(snap)
    (finding,) = [f for f in a.findings if f.rule == rule]
    (item,) = build_fixes(a, findings=[finding])
    return item, (Verifier(a).verify(item) if isinstance(item, Fix) else None)


def test_f18_pins_the_audience_and_leaves_the_scoped_sub() -> None:
    snap = snapshot(
        roles=[role("app-role", irsa_trust("system:serviceaccount:app:api", aud=False))],
        service_accounts=[sa("app", "api", "app-role")],
    )
    item, proof = _fix(snap, "F18")
    assert isinstance(item, Fix)
    (edit,) = item.changes
    assert isinstance(edit, PolicyEdit) and edit.after is not None
    assert edit.after["Statement"][0]["Condition"] == {
        "StringEquals": {f"{HOST}:sub": "system:serviceaccount:app:api", f"{HOST}:aud": "sts.amazonaws.com"}
    }
    assert proof.verified and proof.removed == () and proof.changed == ()


def test_f01_without_a_service_account_using_the_role_removes_the_statement_and_its_readers() -> None:
    snap = snapshot(
        roles=[
            role(
                "open-role",
                irsa_trust("system:serviceaccount:*:*", op="StringLike"),
                doc(allow("ssm:GetParameter", param_arn("/open/*")), allow("kms:Decrypt", key_arn("k-open"))),
            )
        ],
        kms_keys=[kms_key("k-open", "alias/open", key_policy_for("open-role"))],
        ssm_parameters=[param("/open/db", "alias/open")],
        service_accounts=[sa("app", "api")],
        namespaces=[namespace("app")],
    )
    item, proof = _fix(snap, "F01")
    assert isinstance(item, Fix)
    (edit,) = item.changes
    assert isinstance(edit, PolicyEdit) and edit.after is not None and edit.after["Statement"] == []
    assert any("no service account of cluster c1 is annotated with open-role" in n for n in item.notes)
    assert {(r.subject, r.secret_name) for r in proof.removed} == {
        ("any new sa c1/*/*", "/open/db"),
        ("sa c1/app/api", "/open/db"),
    }
    assert proof.verified


def test_a_read_that_turns_from_direct_to_potential_is_changed_not_removed_and_added() -> None:
    """svc/api reads through the wildcard trust; after the fix it still could, by running a pod as
    svc/user (its RBAC lets it create pods there): the same subject and value, another access kind."""
    snap = snapshot(
        roles=[
            role(
                "open-role",
                irsa_trust("system:serviceaccount:*:*", op="StringLike"),
                doc(allow("ssm:GetParameter", param_arn("/open/*")), allow("kms:Decrypt", key_arn("k-open"))),
            )
        ],
        kms_keys=[kms_key("k-open", "alias/open", key_policy_for("open-role"))],
        ssm_parameters=[param("/open/db", "alias/open")],
        service_accounts=[sa("svc", "api"), sa("svc", "user", "open-role")],
        namespaces=[namespace("svc")],
        **rbac_grant("svc", ("ServiceAccount", "api"), ("create",), "", "pods"),
    )
    item, proof = _fix(snap, "F01")
    assert isinstance(item, Fix)
    changed = {(a.subject, a.access, b.access) for a, b in proof.changed}
    assert ("sa c1/svc/api", "direct", "potential") in changed
    assert proof.added == () and ("sa c1/svc/api", "/open/db") not in {
        (r.subject, r.secret_name) for r in proof.removed
    }
    assert proof.verified


def test_f13_binds_the_role_again_in_the_namespaces_whose_secrets_hold_no_aws_value() -> None:
    """devs read Secrets cluster-wide; billing holds the Secret KES fills from /billing/db, tools only its
    own Secret, kube-system is a system namespace: one RoleBinding, in tools."""
    from irsa_lib.model import K8sSecret, PolicyRule, RBACBinding, RBACRole, Subject

    base = _controller_scenario(shared_policy=False)
    reader = RBACRole(
        cluster=CLUSTER,
        name="secret-reader",
        kind="ClusterRole",
        rules=(PolicyRule(verbs=("get", "list"), api_groups=("",), resources=("secrets",)),),
    )
    binding = RBACBinding(
        cluster=CLUSTER,
        name="devs-read-secrets",
        kind="ClusterRoleBinding",
        role_kind="ClusterRole",
        role_name="secret-reader",
        subjects=(Subject(kind="Group", name="devs"),),
    )
    secrets = [
        K8sSecret(cluster=CLUSTER, namespace=ns, name=name, owner_references=owners)
        for ns, name, owners in (
            ("billing", "db", ("ExternalSecret/db",)),
            ("tools", "cfg", ()),
            ("kube-system", "x", ()),
        )
    ]
    snap = dataclasses.replace(
        base,
        namespaces=(*base.namespaces, namespace("tools"), namespace("kube-system")),
        rbac_roles=(reader,),
        rbac_bindings=(binding,),
        k8s_secrets=tuple(secrets),
    )
    item, proof = _fix(snap, "F13")
    assert isinstance(item, Fix)
    delete, create = item.changes
    assert isinstance(delete, ObjectEdit) and delete.after is None and delete.rebuilt
    assert (
        isinstance(create, ObjectEdit)
        and create.before is None
        and create.after
        == {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "devs-read-secrets", "namespace": "tools"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "secret-reader"},
            "subjects": [{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}],
        }
    )
    assert {(r.subject, r.secret_name) for r in proof.removed} == {("group c1/devs", "/billing/db")}
    # narrower, still reported: the RoleBinding in tools reads Secrets there (medium instead of high)
    assert [(f.rule, f.resource, f.severity.value) for f in proof.introduced] == [
        ("F13", "c1/tools/RoleBinding/devs-read-secrets", "medium")
    ]
    assert proof.verified


def test_a_key_statement_loses_only_the_controllers_decrypt() -> None:
    from irsa_lib.fixes.rules.values import _without_decrypter

    ctrl, svc = role_arn("ctrl"), role_arn("svc")
    both = {
        "Sid": "Use",
        "Effect": "Allow",
        "Principal": {"AWS": [svc, ctrl]},
        "Action": ["kms:Decrypt", "kms:Encrypt"],
    }
    assert _without_decrypter(both, ctrl) == [
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": svc}, "Action": ["kms:Decrypt", "kms:Encrypt"]},
        {"Sid": "UseWithoutDecrypt", "Effect": "Allow", "Principal": {"AWS": ctrl}, "Action": "kms:Encrypt"},
    ]
    only = {"Effect": "Allow", "Principal": {"AWS": ctrl}, "Action": "kms:*", "Resource": "*"}
    assert _without_decrypter(only, ctrl) == []
    other = {"Effect": "Allow", "Principal": {"AWS": svc}, "Action": "kms:Decrypt"}
    assert _without_decrypter(other, ctrl) == [other]


def _controller_scenario(*, shared_policy: bool, wildcard: bool = False) -> Snapshot:
    """KES reads billing through billing-service-role (roleArn, gated). The controller role also reads
    billing itself: through a managed policy it shares with the service role, or through ``ssm:*``."""
    read = managed("read-billing", doc(allow("ssm:GetParameter", param_arn("/billing/*"))))
    ext = role(
        "ext-role",
        irsa_trust("system:serviceaccount:external-secrets:kes-sa"),
        doc(allow("sts:AssumeRole", role_arn("billing-service-role"))),
        *([doc(allow("ssm:*", param_arn("/billing/*")))] if wildcard else []),
    )
    svc = role("billing-service-role", trust_roles(role_arn("ext-role")))
    if shared_policy:
        ext = dataclasses.replace(ext, attached_policy_arns=(read.arn,))
        svc = dataclasses.replace(svc, attached_policy_arns=(read.arn,))
    else:
        svc = dataclasses.replace(svc, inline_policies=(*svc.inline_policies,), attached_policy_arns=(read.arn,))
    return snapshot(
        roles=[ext, svc],
        managed_policies=[read],
        kms_keys=[kms_key("k-billing", "alias/billing", key_policy_for("billing-service-role", "ext-role"))],
        ssm_parameters=[param("/billing/db", "alias/billing")],
        namespaces=[
            namespace("external-secrets"),
            namespace(
                "billing", {"iam.amazonaws.com/permitted": "^arn:aws:iam::111122223333:role/billing-service-role$"}
            ),
        ],
        service_accounts=[sa("external-secrets", "kes-sa", "ext-role"), sa("billing", "api")],
        kes_controllers=[
            KESController(
                cluster=CLUSTER,
                namespace="external-secrets",
                name="kes",
                service_account="kes-sa",
                aws_region="us-east-1",
            )
        ],
        kes_external_secrets=[
            KESExternalSecret(
                cluster=CLUSTER,
                namespace="billing",
                name="db",
                backend_type="systemManager",
                role_arn=role_arn("billing-service-role"),
                data=(KESDataItem(key="/billing/db", name="db"),),
            )
        ],
        workloads=[workload("billing", "api", "api", secret_refs=(SecretKeyRef(secret="db", via="volume"),))],
    )


DELIVERED = {("sa c1/billing/api", "/billing/db"), ("kubelet c1/(node running the pod)", "/billing/db")}


def test_intended_rows_follow_the_declared_chains() -> None:
    a = analyse(_controller_scenario(shared_policy=True))
    intent = Intent(a)
    by_subject = {(r.subject, r.access): intent.reason(r) for r in a.rows}
    delivery = (
        "declared delivery: ExternalSecret c1/billing/db through arn:aws:iam::111122223333:role/billing-service-role"
    )
    assert by_subject == {
        ("sa c1/billing/api", "via-controller"): delivery,
        # the kubelet of the node running the pod reads the Secret it mounts
        ("kubelet c1/(node running the pod)", "via-controller"): delivery,
        # the controller reads billing with its own role: F04, never intended
        ("sa c1/external-secrets/kes-sa", "direct"): None,
    }


def test_f04_through_a_shared_managed_policy_is_flagged_for_cutting_the_delivery() -> None:
    item, proof = _fix(_controller_scenario(shared_policy=True), "F04")
    assert isinstance(item, Fix)
    assert any(isinstance(c, PolicyEdit) and c.kind == "managed" for c in item.changes)
    assert any("also attached to arn:aws:iam::111122223333:role/billing-service-role" in n for n in item.notes)
    assert {(r.subject, r.secret_name) for r in proof.cut} == DELIVERED
    assert not proof.verified and "it removes 2 intended access row(s)" in proof.flags


def test_f04_with_a_wildcard_action_adds_an_explicit_deny_and_keeps_the_delivery() -> None:
    item, proof = _fix(_controller_scenario(shared_policy=False, wildcard=True), "F04")
    assert isinstance(item, Fix)
    deny = [c for c in item.changes if isinstance(c, PolicyEdit) and c.name == "deny-direct-secret-reads"]
    assert len(deny) == 1 and deny[0].after is not None
    assert deny[0].after["Statement"][0]["Effect"] == "Deny"
    assert proof.verified
    assert {(r.subject, r.secret_name) for r in proof.kept} == DELIVERED
    assert {(a.subject, b.path[-3]) for a, b in proof.changed} == {
        ("sa c1/external-secrets/kes-sa", "role billing-service-role")
    }


def test_f06_of_a_secret_moves_it_to_a_service_key_through_secrets_manager() -> None:
    stripe = secret("app/stripe")  # no KmsKeyId: aws/secretsmanager
    snap = snapshot(
        roles=[
            role(
                "app-role",
                irsa_trust("system:serviceaccount:app:api"),
                doc(allow("secretsmanager:GetSecretValue", stripe.arn)),
            )
        ],
        secrets=[stripe],
        service_accounts=[sa("app", "api", "app-role")],
        namespaces=[namespace("app")],
    )
    item, proof = _fix(snap, "F06")
    assert isinstance(item, Fix)
    new_key, rekey = item.changes
    assert isinstance(new_key, NewKey) and new_key.alias == "alias/app"
    decrypt = next(s for s in new_key.policy["Statement"] if s["Sid"] == "ServiceRoleDecryptViaService")
    assert decrypt["Principal"] == {"AWS": role_arn("app-role")}
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    assert isinstance(rekey, Rekey) and rekey.kind == "secret"
    assert any(f"update-secret --secret-id {stripe.arn} --kms-key-id alias/app" in s for s in item.steps)
    assert proof.verified and {(r.subject, r.secret_name) for r in proof.kept} == {("sa c1/app/api", "app/stripe")}
    tf = hcl2.loads(terraform(item) or "")
    assert {next(iter(b)).strip('"') for b in tf["resource"]} == {
        "aws_kms_key",
        "aws_kms_alias",
        "aws_secretsmanager_secret",
    }


def test_f08_across_accounts_without_their_iam_is_not_judged_and_has_no_fix() -> None:
    other = "444455556666"
    snap = snapshot(
        roles=[
            role(
                "legacy",
                doc(
                    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other}:root"}, "Action": "sts:AssumeRole"}
                ),
                doc(allow("ssm:GetParameter", "*")),
            )
        ],
    )
    a = analyse(snap)
    f08 = [f for f in a.findings if f.rule == "F08"]
    (item,) = build_fixes(a, findings=f08)
    assert isinstance(item, NoFix) and item.finding.status == "unknown" and "not judged" in item.reason


def test_a_hostile_role_name_stays_inside_terraform_comments_and_strings() -> None:
    name = 'evil\n} resource "x" "y" { #'
    trust = irsa_trust("system:serviceaccount:*:*", op="StringLike")
    bad = dataclasses.replace(role("placeholder", trust), arn=f"arn:aws:iam::{ACCT}:role/{name}", name=name)
    snap = snapshot(
        roles=[bad],
        service_accounts=[dataclasses.replace(sa("app", "api"), annotations={"eks.amazonaws.com/role-arn": bad.arn})],
    )
    item, _ = _fix(snap, "F01")
    assert isinstance(item, Fix)
    parsed = hcl2.loads(terraform(item) or "")
    assert [next(iter(b)) for b in parsed["resource"]] == ['"aws_iam_role"']


def test_findings_are_chosen_by_rule_or_rule_and_resource() -> None:
    findings = [
        Finding(rule=r, slug="s", severity=s, title="t", resource=res, evidence=(), remediation="")
        for r, res, s in (
            ("F01", "arn:a", _sev("high")),
            ("F01", "arn:b", _sev("high")),
            ("F14", "c1/ns/Deployment/x", _sev("low")),
        )
    ]
    assert [f.resource for f in select_findings(findings, ["f01"])] == ["arn:a", "arn:b"]
    assert [f.resource for f in select_findings(findings, ["F01:arn:b", "F14"])] == ["arn:b", "c1/ns/Deployment/x"]
    with pytest.raises(UsageError, match="no such finding"):
        select_findings(findings, ["F01:arn:c"])
    with pytest.raises(UsageError, match="unknown rule F99"):
        select_findings(findings, ["F99"])


def _sev(text: str) -> Any:
    from irsa_lib.findings import Severity

    return Severity.parse(text)
