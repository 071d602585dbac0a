"""The reach rules ask the policy evaluator, with the request context the services really send.

Each case is something a statement-by-statement reading gets wrong, written from AWS's rules:
key-policy conditions on kms:ViaService / the encryption context (KMS dev guide conditions-kms,
services-parameter-store), SCPs and permission boundaries (IAM UG evaluation logic), and condition
keys the snapshot cannot know (reported as conditional, naming the key).
"""

from __future__ import annotations

from typing import Any

from irsa_lib.findings import run_findings
from irsa_lib.graph import Mechanism, build_graph
from irsa_lib.model import (
    Account,
    ESOController,
    ESOSecretStore,
    KESController,
    ManagedPolicy,
    OIDCProvider,
    OrgPolicy,
)
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot
from tests.findings.builders import (
    ACCT,
    HOST,
    PROVIDER,
    REGION,
    allow,
    arn,
    binding,
    cmk,
    deny,
    doc,
    fails,
    irsa_trust,
    k8s_role,
    node_group,
    ns,
    only,
    param,
    param_arn,
    role,
    rule,
    sa,
    scoped_irsa,
    snap,
    trust_role,
    user,
)

CTRL = "external-secrets-role"
OIDC = OIDCProvider(arn=PROVIDER, url=HOST, account_id=ACCT, client_ids=("sts.amazonaws.com",))
READ_ALL = doc(allow("ssm:GetParameter*", param_arn("/*")), allow("kms:Decrypt", "*"))


def key_for_ctrl(alias: str, **condition: Any) -> Any:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": arn(CTRL)}, "Action": "kms:Decrypt", "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return cmk(alias, st)


def kes_world(policy: dict[str, Any], *keys: Any, **extra: Any) -> dict[str, Any]:
    return {
        "roles": (role(CTRL, scoped_irsa("external-secrets", "kes-sa"), policy),),
        "service_accounts": (sa("external-secrets", "kes-sa", arn(CTRL)),),
        "kes_controllers": (
            KESController(cluster="demo", namespace="external-secrets", name="kes", service_account="kes-sa"),
        ),
        "kms_keys": keys,
        "ssm_parameters": (param("/billing/db", "alias/billing"), param("/payments/api", "alias/payments")),
        "oidc_providers": (OIDC,),
        **extra,
    }


# --- the KMS leg carries kms:ViaService, kms:CallerAccount and the encryption context --------------
def test_via_service_condition_is_met_by_the_ssm_request() -> None:
    via_ssm = {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com", "kms:CallerAccount": ACCT}}
    s = snap(**kes_world(READ_ALL, key_for_ctrl("billing", **via_ssm), key_for_ctrl("payments", **via_ssm)))
    f = only(s, "F04")
    assert f.severity.value == "critical"  # an allow, not "conditional": the request says it comes via SSM


def test_via_service_of_another_service_does_not_decrypt_parameters() -> None:
    via_sm = {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}
    s = snap(**kes_world(READ_ALL, key_for_ctrl("billing", **via_sm), key_for_ctrl("payments", **via_sm)))
    assert fails(s, "F04") == set()


def test_encryption_context_pins_decryption_to_one_service() -> None:
    pinned = {"StringLike": {"kms:EncryptionContext:PARAMETER_ARN": param_arn("/billing/*")}}
    s = snap(**kes_world(READ_ALL, key_for_ctrl("billing", **pinned), key_for_ctrl("payments", **pinned)))
    f = only(s, "F04")  # decrypts /billing/db only: one service, still a direct read by the controller
    assert f.severity.value == "high"
    assert any("['billing']" in e for e in f.evidence)
    assert not any("payments" in e for e in f.evidence)


# --- keys the snapshot cannot know stay conditional and are named ----------------------------------
def test_unknown_condition_key_is_conditional_and_named() -> None:
    vpc_only = doc(
        allow("ssm:GetParameter*", param_arn("/*"), Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}),
        allow("kms:Decrypt", "*"),
    )
    s = snap(**kes_world(vpc_only, key_for_ctrl("billing"), key_for_ctrl("payments")))
    f = only(s, "F04")
    assert f.severity.value == "high"  # conditional reads only
    assert any(e.startswith("/billing/db (conditional on aws:SourceVpc)") for e in f.evidence)


# --- SCPs and boundaries take part ---------------------------------------------------------------
def _org(*statements: dict[str, Any]) -> Account:
    full = OrgPolicy(policy_id="p-full", name="FullAWSAccess", target_id="r-root", document=doc(allow("*", "*")))
    extra = OrgPolicy(policy_id="p-x", name="guard", target_id=ACCT, document=doc(*statements))
    return Account(account_id=ACCT, organization_id="o-1", scps=((full,), (full, extra)), rcps=())


def test_scp_deny_removes_the_controller_reads() -> None:
    world = kes_world(READ_ALL, key_for_ctrl("billing"), key_for_ctrl("payments"))
    assert fails(snap(**world), "F04") == {arn(CTRL)}
    guarded = snap(**world, accounts=(_org(deny("ssm:GetParameter*", "*")),))
    assert fails(guarded, "F04") == set()


def test_permission_boundary_limits_the_node_role() -> None:
    boundary = ManagedPolicy(
        arn=f"arn:aws:iam::{ACCT}:policy/nothing", name="nothing", document=doc(allow("ec2:Describe*", "*"))
    )

    def world(boundary_arn: str | None) -> Snapshot:
        node = role(
            "node-role",
            trust_role("ec2.amazonaws.com"),
            doc(allow("ssm:GetParameter", "*")),
            permissions_boundary_arn=boundary_arn,
        )
        return snap(
            roles=(node,),
            managed_policies=(boundary,),
            ssm_parameters=(param("/a/db"),),  # aws/ssm: open to the account through SSM
            node_groups=(node_group("optional", 2),),
        )

    assert fails(world(None), "F05") == {arn("node-role")}
    assert fails(world(boundary.arn), "F05") == set()


def test_f08_wildcard_assumer_blocked_by_its_boundary_is_not_listed() -> None:
    svc = role("svc", trust_role(f"arn:aws:iam::{ACCT}:root"), doc(allow("ssm:GetParameter", param_arn("/svc/*"))))
    blocked = role(
        "dev",
        trust_role(arn("x")),
        doc(allow("sts:AssumeRole", "*")),
        permissions_boundary_arn=f"arn:aws:iam::{ACCT}:policy/no-sts",
    )
    no_sts = ManagedPolicy(arn=f"arn:aws:iam::{ACCT}:policy/no-sts", name="no-sts", document=doc(allow("ssm:*", "*")))
    assert fails(snap(roles=(svc, blocked), managed_policies=(no_sts,)), "F08") == set()


# --- F19: the evaluator decides whether the trust admits the annotated service account ----------
def test_f19_audience_annotation_not_admitted_by_trust() -> None:
    good = role("r", scoped_irsa("billing", "app"))
    other_aud = sa("billing", "app", arn("r"), **{"eks.amazonaws.com/audience": "my-aud"})
    assert fails(snap(roles=(good,), service_accounts=(other_aud,)), "F19") == {"demo/billing/ServiceAccount/app"}
    ns_wide = role("r", irsa_trust({"StringLike": {f"{HOST}:sub": "system:serviceaccount:billing:*"}}))
    assert fails(snap(roles=(ns_wide,), service_accounts=(sa("billing", "x", arn("r")),)), "F19") == set()


# --- the graph, when given, answers the reach questions the same way ------------------------------
def test_graph_and_evaluator_agree() -> None:
    s = snap(**kes_world(READ_ALL, key_for_ctrl("billing"), key_for_ctrl("payments")))
    inventory = Inventory.from_snapshot(s)
    graph = build_graph(s, inventory=inventory)
    assert any(True for _ in graph.edges(f"role:{arn(CTRL)}", mechanism=Mechanism.CAN_READ))  # the graph answers
    with_graph = run_findings(s, graph=graph, inventory=inventory)
    assert [(f.rule, f.resource, f.severity) for f in with_graph] == [
        (f.rule, f.resource, f.severity) for f in run_findings(s)
    ]
    assert ("F04", arn(CTRL)) in {(f.rule, f.resource) for f in with_graph}


# --- F03 / F12: system namespaces ----------------------------------------------------------------
def test_system_namespaces_only_with_a_tenant_rolebinding_there() -> None:
    writer = k8s_role("es-writer", None, rule(["create"], ["kubernetes-client.io"], ["externalsecrets"]))
    base = {
        "roles": (
            role(CTRL, scoped_irsa("external-secrets", "kes-sa")),
            role("billing-service-role", trust_role(arn(CTRL))),
        ),
        "service_accounts": (sa("external-secrets", "kes-sa", arn(CTRL)),),
        "kes_controllers": (
            KESController(cluster="demo", namespace="external-secrets", name="kes", service_account="kes-sa"),
        ),
        "eso_controllers": (ESOController(cluster="demo", namespace="eso", name="eso", service_account="eso"),),
        "namespaces": (ns("kube-system"), ns("external-secrets"), ns("eso"), ns("team")),
        "rbac_roles": (writer,),
    }
    everywhere = snap(**base, rbac_bindings=(binding("devs", writer, user("dev")),))  # cluster-wide grant
    assert fails(everywhere, "F03") == {"demo/Namespace/team"}
    assert fails(everywhere, "F12") == {"demo/Namespace/team"}
    in_kube_system = snap(**base, rbac_bindings=(binding("ks", writer, user("dev"), namespace="kube-system"),))
    assert fails(in_kube_system, "F03") == {"demo/Namespace/team", "demo/Namespace/kube-system"}
    assert fails(in_kube_system, "F12") == {"demo/Namespace/kube-system"}


def test_f10_names_what_an_open_cluster_store_reaches_with_a_graph() -> None:
    store_role = role(
        "store-role", trust_role(arn("eso-role")), doc(allow("ssm:GetParameter*", param_arn("/billing/*")))
    )
    eso_role = role("eso-role", scoped_irsa("eso", "eso"), doc(allow("sts:AssumeRole", arn("store-role"))))
    s = snap(
        roles=(store_role, eso_role),
        service_accounts=(sa("eso", "eso", arn("eso-role")),),
        eso_controllers=(ESOController(cluster="demo", namespace="eso", name="eso", service_account="eso"),),
        eso_stores=(
            ESOSecretStore(
                cluster="demo",
                name="open",
                kind="ClusterSecretStore",
                api_version="external-secrets.io/v1",
                service="ParameterStore",
                region=REGION,
                role=arn("store-role"),
            ),
        ),
        ssm_parameters=(param("/billing/db"), param("/payments/api")),  # aws/ssm: decryptable via SSM
        oidc_providers=(OIDC,),
    )
    inventory = Inventory.from_snapshot(s)
    (f10,) = run_findings(s, graph=build_graph(s, inventory=inventory), inventory=inventory, rules=["F10"])
    assert "its credentials reach ['/billing/db']" in f10.evidence
    (plain,) = run_findings(s, rules=["F10"])
    assert not any(e.startswith("its credentials reach") for e in plain.evidence)
