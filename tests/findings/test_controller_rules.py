"""F03, F09, F10, F11, F12, F25: the external-secrets controllers."""

from __future__ import annotations

from irsa_lib.findings import run_findings
from irsa_lib.model import (
    Coverage,
    ESOController,
    ESOExternalSecret,
    ESOSecretStore,
    KESController,
    KESExternalSecret,
    StoreConditions,
    StoreRef,
)
from tests.findings.builders import (
    arn,
    binding,
    doc,
    fails,
    k8s_role,
    ns,
    role,
    rule,
    sa,
    sa_subject,
    scoped_irsa,
    snap,
    trust_role,
    unknowns,
    user,
)

PERMITTED = "iam.amazonaws.com/permitted"


def kes(**kw: object) -> KESController:
    return KESController(cluster="demo", namespace="external-secrets", name="kes", service_account="kes-sa", **kw)  # type: ignore[arg-type]


def kes_world(*namespaces: object, controller: KESController | None = None) -> dict:
    return {
        "roles": (
            role("external-secrets-role", scoped_irsa("external-secrets", "kes-sa")),
            role("billing-service-role", trust_role(arn("external-secrets-role"))),
            role("payments-service-role", trust_role(arn("external-secrets-role"))),
        ),
        "service_accounts": (sa("external-secrets", "kes-sa", arn("external-secrets-role")),),
        "kes_controllers": (controller or kes(),),
        "namespaces": namespaces,
    }


# --- F03 ------------------------------------------------------------------------------------------
def test_f03_ungated_namespaces() -> None:
    s = snap(
        **kes_world(
            ns("plain"),  # no annotations, not enforced
            ns("other-annotation", team="x"),  # annotations but no permitted key: RegExp(undefined) matches all
            ns("empty", **{PERMITTED: ""}),
            ns("unanchored", **{PERMITTED: "service-role"}),  # matches both service roles
            ns("unanchored-one", **{PERMITTED: "billing-service-role"}),  # matches one: high
            ns("gated", **{PERMITTED: f"^{arn('billing-service-role')}$"}),
        )
    )
    got = {f.resource: f.severity.value for f in run_findings(s, rules=["F03"])}
    assert got == {
        "demo/Namespace/plain": "critical",
        "demo/Namespace/other-annotation": "critical",
        "demo/Namespace/empty": "critical",
        "demo/Namespace/unanchored": "critical",
        "demo/Namespace/unanchored-one": "high",
    }


def test_f03_a_regex_re2_cannot_evaluate_leaves_the_namespace_unknown() -> None:
    lookahead = f"^{arn('billing-service-role')}(?!x)$"  # JavaScript reads it; RE2 has no lookahead
    inline_flag = f"(?i)^{arn('billing-service-role')}$"  # RE2 reads it; JavaScript does not
    s = snap(**kes_world(ns("lookahead", **{PERMITTED: lookahead}), ns("flag", **{PERMITTED: inline_flag})))
    assert fails(s, "F03") == set()
    assert unknowns(s, "F03") == {"demo/Namespace/lookahead", "demo/Namespace/flag"}
    [finding] = [f for f in run_findings(s, rules=["F03"]) if f.resource == "demo/Namespace/lookahead"]
    assert finding.evidence == (
        f"{PERMITTED}={lookahead!r} cannot be evaluated: RE2 cannot compile it (invalid perl operator: (?!)",
    )


def test_f03_enforced_annotations_gate_unannotated_namespaces() -> None:
    s = snap(**kes_world(ns("plain"), ns("other", team="x"), controller=kes(enforce_namespace_annotations=True)))
    assert fails(s, "F03") == set()


def test_f03_needs_roles_trusting_the_controller() -> None:
    world = kes_world(ns("plain"))
    world["roles"] = world["roles"][:1]  # no service role trusts the controller role
    assert fails(snap(**world), "F03") == set()


def test_f03_intermediate_role_and_watched_namespaces() -> None:
    world = kes_world(ns("a"), ns("b"), controller=kes(intermediate_role_arn=arn("hop"), watched_namespaces=("a",)))
    world["roles"] = (
        *world["roles"],
        role("hop", trust_role(arn("external-secrets-role"))),
        role("svc", trust_role(arn("hop"))),
    )
    assert fails(snap(**world), "F03") == {"demo/Namespace/a"}


# --- F12 ------------------------------------------------------------------------------------------
def test_f12_tenant_can_author_kes_externalsecrets() -> None:
    es_writer = k8s_role(
        "es-writer", "billing", rule(["create", "update"], ["kubernetes-client.io"], ["externalsecrets"])
    )
    admin = k8s_role("cluster-admin", None, rule(["*"], ["*"], ["*"]))
    s = snap(
        **kes_world(ns("billing"), ns("payments")),
        rbac_roles=(es_writer, admin),
        rbac_bindings=(
            binding("billing-devs", es_writer, user("dev"), namespace="billing"),
            binding("admins", admin, user("root-user")),
        ),
        kes_external_secrets=(
            KESExternalSecret(
                cluster="demo", namespace="billing", name="db", backend_type="systemManager", has_template=True
            ),
        ),
    )
    assert fails(s, "F12") == {"demo/Namespace/billing"}


def test_f12_unknown_when_rbac_missing() -> None:
    gap = Coverage(source="kubernetes", scope="demo", service="rolebindings", status="failed")
    assert unknowns(snap(**kes_world(ns("a")), coverage=(gap,)), "F12") == {"kubernetes:demo:rolebindings"}


# --- F25 ------------------------------------------------------------------------------------------
def test_f25_kes_deployed_or_objects_left() -> None:
    assert fails(snap(kes_controllers=(kes(),)), "F25") == {"demo/external-secrets/Deployment/kes"}
    left = KESExternalSecret(cluster="demo", namespace="a", name="x", backend_type="systemManager")
    assert fails(snap(kes_external_secrets=(left,)), "F25") == {
        "demo/CustomResourceDefinition/externalsecrets.kubernetes-client.io"
    }
    assert fails(snap(), "F25") == set()


# --- F09 ------------------------------------------------------------------------------------------
def _eso_world(token_create: bool) -> dict:
    token = k8s_role("eso-token", None, rule(["create"], [""], ["serviceaccounts/token"]))
    other = k8s_role("eso-core", None, rule(["get", "list"], [""], ["secrets"]))
    store_writer = k8s_role("store-writer", "billing", rule(["create"], ["external-secrets.io"], ["secretstores"]))
    ctrl = sa_subject("external-secrets", "eso")
    return {
        "eso_controllers": (
            ESOController(cluster="demo", namespace="external-secrets", name="eso", service_account="eso"),
        ),
        "service_accounts": (sa("billing", "app", arn("billing-app")), sa("payments", "app", arn("payments-app"))),
        "rbac_roles": (token, other, store_writer),
        "rbac_bindings": (
            binding("eso", token if token_create else other, ctrl),
            binding("billing-stores", store_writer, user("dev"), namespace="billing"),
        ),
    }


def test_f09_token_create_with_tenant_store_authors() -> None:
    assert fails(snap(**_eso_world(True)), "F09") == {"demo/Namespace/billing"}
    assert fails(snap(**_eso_world(False)), "F09") == set()


# --- F10 ------------------------------------------------------------------------------------------
def css(name: str, *conditions: StoreConditions) -> ESOSecretStore:
    return ESOSecretStore(
        cluster="demo",
        name=name,
        kind="ClusterSecretStore",
        api_version="external-secrets.io/v1",
        service="ParameterStore",
        conditions=conditions,
    )


def test_f10_cluster_store_conditions() -> None:
    s = snap(
        eso_stores=(
            css("open"),
            css("regex", StoreConditions(namespace_regexes=("billing",))),
            css("anchored", StoreConditions(namespace_regexes=("^billing$",))),
            css("listed", StoreConditions(namespaces=("billing",))),
            css("label", StoreConditions(namespace_selector={"team": "billing"})),
            css("by-name", StoreConditions(namespace_selector={"kubernetes.io/metadata.name": "billing"})),
        ),
        eso_external_secrets=(
            ESOExternalSecret(
                cluster="demo",
                namespace="payments",
                name="x",
                api_version="external-secrets.io/v1",
                store_ref=StoreRef(name="open", kind="ClusterSecretStore"),
                target_name="x",
            ),
        ),
    )
    got = run_findings(s, rules=["F10"])
    assert {f.resource for f in got} == {
        "demo/ClusterSecretStore/open",
        "demo/ClusterSecretStore/regex",
        "demo/ClusterSecretStore/label",
    }
    open_ = next(f for f in got if f.resource.endswith("/open"))
    assert any("['payments']" in e for e in open_.evidence)


# --- F11 ------------------------------------------------------------------------------------------
def test_f11_spoofable_eso_session_tags() -> None:
    tagged = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": arn("eso")},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"aws:RequestTag/esoNamespace": "billing"}},
        }
    )
    base = {
        "cluster": "demo",
        "kind": "SecretStore",
        "api_version": "external-secrets.io/v1",
        "namespace": "billing",
        "role": arn("tagged"),
    }
    s = snap(
        roles=(role("tagged", tagged), role("plain", trust_role(arn("eso")))),
        eso_stores=(
            ESOSecretStore(name="none", **base),  # type: ignore[arg-type]
            ESOSecretStore(name="simple", session_tags_policy="Simple", **base),  # type: ignore[arg-type]
            ESOSecretStore(name="plain", **{**base, "role": arn("plain")}),  # type: ignore[arg-type]
        ),
    )
    assert fails(s, "F11") == {"demo/billing/SecretStore/none"}
