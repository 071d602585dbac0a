"""kubernetes-external-secrets: controller chain, roleArn, namespace gating, materialised Secrets."""

from __future__ import annotations

import dataclasses

from irsa_lib.graph import build_graph
from irsa_lib.graph.schema import EVIDENCE, SYNTHETIC, VIA, Mechanism
from irsa_lib.model import (
    KESController,
    KESDataItem,
    KESExternalSecret,
    SecretKeyRef,
)
from irsa_lib.snapshot import Snapshot
from tests.graph.conftest import rows, table
from tests.graph.factory import (
    CLUSTER,
    allow,
    doc,
    irsa_trust,
    key_policy_for,
    kms_key,
    namespace,
    param,
    param_arn,
    rbac_grant,
    role,
    role_arn,
    sa,
    snapshot,
    trust_roles,
    workload,
)

PERMITTED = "iam.amazonaws.com/permitted"
MECHANISM_KES = str(Mechanism.KES_READ)
RBAC_ALICE = rbac_grant("team-x", ("User", "alice"), ("create", "update"), "kubernetes-client.io", "externalsecrets")


def es(ns: str, name: str, role_name: str | None, *keys: str, path: str | None = None) -> KESExternalSecret:
    data = tuple(KESDataItem(key=k, name=k.rsplit("/", 1)[-1]) for k in keys)
    if path:
        data += (KESDataItem(path=path, recursive=True),)
    return KESExternalSecret(
        cluster=CLUSTER,
        namespace=ns,
        name=name,
        backend_type="systemManager",
        role_arn=role_arn(role_name) if role_name else None,
        data=data,
    )


def consumer(ns: str, secret_name: str, wl: str = "api") -> object:
    return workload(ns, wl, "api", secret_refs=(SecretKeyRef(secret=secret_name, via="volume"),))


def service_role(team: str, trusted: str = "ext-role") -> object:
    return role(
        f"{team}-service-role",
        trust_roles(role_arn(trusted)),
        doc(allow(["ssm:GetParameter", "ssm:GetParametersByPath"], [param_arn(f"/{team}/*"), param_arn(f"/{team}")])),
    )


def scenario(
    *, enforce: bool = False, intermediate: str | None = None, extra: dict[str, list[object]] | None = None
) -> Snapshot:
    controller = KESController(
        cluster=CLUSTER,
        namespace="external-secrets",
        name="kes",
        service_account="kes-sa",
        aws_region="us-east-1",
        enforce_namespace_annotations=enforce,
        intermediate_role_arn=role_arn(intermediate) if intermediate else None,
    )
    records: dict[str, list[object]] = {
        "roles": [
            role("ext-role", irsa_trust("system:serviceaccount:external-secrets:kes-sa")),
            service_role("billing"),
            service_role("payments"),
        ],
        "kms_keys": [
            kms_key("k-billing", "alias/billing", key_policy_for("billing-service-role")),
            kms_key("k-payments", "alias/payments", key_policy_for("payments-service-role")),
        ],
        "ssm_parameters": [
            param("/billing/db", "alias/billing"),
            param("/billing/other", "alias/billing"),
            param("/payments/key", "alias/payments"),
        ],
        "namespaces": [
            namespace("external-secrets"),
            namespace("billing", {PERMITTED: "^arn:aws:iam::111122223333:role/billing-service-role$"}),
            namespace("payments", {PERMITTED: "^arn:aws:iam::111122223333:role/payments-service-role$"}),
            namespace("team-x"),
        ],
        "service_accounts": [
            sa("external-secrets", "kes-sa", "ext-role"),
            sa("billing", "api"),
            sa("payments", "api"),
            sa("team-x", "api"),
        ],
        "kes_controllers": [controller],
        "kes_external_secrets": [
            es("billing", "db-creds", "billing-service-role", "/billing/db"),
            es("payments", "pay-creds", "payments-service-role", "/payments/key"),
            # cross-team attempts
            es("billing", "steal", "payments-service-role", "/payments/key"),
            es("team-x", "steal", "payments-service-role", "/payments/key"),
        ],
        "workloads": [
            consumer("billing", "db-creds"),
            consumer("billing", "steal", "api2"),
            consumer("payments", "pay-creds"),
            consumer("team-x", "steal"),
        ],
    }
    for k, v in (extra or {}).items():
        records[k] = records.get(k, []) + v
    return snapshot(**records)


CONTROLLER_ROWS = {
    ("external-secrets", "kes-sa", "/billing/db", "direct", "allow"),
    ("external-secrets", "kes-sa", "/billing/other", "direct", "allow"),
    ("external-secrets", "kes-sa", "/payments/key", "direct", "allow"),
}


def test_reference_pattern_each_namespace_gets_its_own_values_and_ungated_namespaces_leak() -> None:
    assert table(scenario()) == CONTROLLER_ROWS | {
        ("billing", "api", "/billing/db", "via-controller", "allow"),
        ("payments", "api", "/payments/key", "via-controller", "allow"),
        # team-x has no permitted-role annotation and enforcement is off: the confused deputy
        ("team-x", "api", "/payments/key", "via-controller", "allow"),
    }


def test_enforced_annotations_close_the_ungated_namespace() -> None:
    assert table(scenario(enforce=True)) == CONTROLLER_ROWS | {
        ("billing", "api", "/billing/db", "via-controller", "allow"),
        ("payments", "api", "/payments/key", "via-controller", "allow"),
    }


def test_path_of_a_via_controller_row_shows_the_controller_chain() -> None:
    [row] = rows(scenario(), service_account="billing/api")
    assert row.path == (
        "workload c1/billing/Deployment/api",
        "Secret billing/db-creds",
        "KES ExternalSecret billing/db-creds",
        "sa c1/external-secrets/kes-sa",
        "role ext-role",
        "role billing-service-role",
        "key billing (customer managed)",
        "parameter /billing/db",
    )
    assert row.mechanisms == ("mounts-secret", "materialised-from", "kes-read")


def test_unanchored_permitted_regex_matches_any_role_arn_containing_it() -> None:
    snap = scenario()
    assert ("billing", "api", "/payments/key", "via-controller", "allow") not in table(snap)
    # "service-role" (no ^...$) is tested with RegExp.test semantics: it matches every service role
    loose = dataclasses.replace(
        snap,
        namespaces=tuple(
            namespace("billing", {PERMITTED: "service-role"}) if n.name == "billing" else n for n in snap.namespaces
        ),
    )
    assert ("billing", "api", "/payments/key", "via-controller", "allow") in table(loose)


def test_get_parameter_consumer_cannot_use_a_by_path_only_grant_but_a_path_item_can() -> None:
    path_only = role(
        "paths-role", trust_roles(role_arn("ext-role")), doc(allow("ssm:GetParametersByPath", param_arn("/app")))
    )
    snap = scenario(
        extra={
            "roles": [path_only],
            "kms_keys": [kms_key("k-app", "alias/app", key_policy_for("paths-role"))],
            "ssm_parameters": [param("/app/db", "alias/app")],
            "namespaces": [namespace("app")],
            "service_accounts": [sa("app", "api")],
            "kes_external_secrets": [
                es("app", "by-key", "paths-role", "/app/db"),
                es("app", "by-path", "paths-role", path="/app"),
            ],
            "workloads": [
                consumer("app", "by-key", "k"),
                workload("app", "p", "p-sa", secret_refs=(SecretKeyRef(secret="by-path", via="env"),)),
            ],
        }
    )
    got = {r for r in table(snap) if r[0] == "app"}
    assert got == {("app", "p-sa", "/app/db", "via-controller", "allow")}


def test_intermediate_role_is_assumed_before_role_arn() -> None:
    inter = role("inter-role", trust_roles(role_arn("ext-role")))
    svc = role(
        "svc-role",
        trust_roles(role_arn("inter-role")),
        doc(allow("ssm:GetParameter", param_arn("/svc/*"))),
    )
    extra = {
        "roles": [inter, svc],
        "kms_keys": [kms_key("k-svc", "alias/svc", key_policy_for("svc-role"))],
        "ssm_parameters": [param("/svc/db", "alias/svc")],
        "namespaces": [namespace("svc")],
        "service_accounts": [sa("svc", "api")],
        "kes_external_secrets": [es("svc", "creds", "svc-role", "/svc/db")],
        "workloads": [consumer("svc", "creds")],
    }
    without = {r for r in table(scenario(extra=extra)) if r[0] == "svc"}
    assert without == set()
    with_inter = {r for r in table(scenario(intermediate="inter-role", extra=extra)) if r[0] == "svc"}
    assert with_inter == {("svc", "api", "/svc/db", "via-controller", "allow")}


def test_rbac_create_external_secret_gives_potential_access_through_the_controller() -> None:
    snap = scenario(extra=RBAC_ALICE)
    assert table(snap, kinds=("User",)) == {
        (None, "alice", "/billing/db", "potential", "allow"),
        (None, "alice", "/billing/other", "potential", "allow"),
        (None, "alice", "/payments/key", "potential", "allow"),
    }
    enforced = scenario(enforce=True, extra=RBAC_ALICE)
    # team-x has no permitted annotation and enforcement is on: no roleArn is accepted, but an
    # ExternalSecret without roleArn still uses the controller's own role (which reads nothing itself)
    assert table(enforced, kinds=("User",)) == set()


def test_each_namespace_s_could_create_object_gets_its_own_edges_with_its_own_reason() -> None:
    """The controller's own role reads /billing/*: an ExternalSecret anyone could create without
    spec.roleArn in any namespace reads them. The edges of each namespace's object are worked out
    once and copied: each names its own namespace first, and they are separate edges."""
    snap = scenario()
    ext = role(
        "ext-role",
        irsa_trust("system:serviceaccount:external-secrets:kes-sa"),
        doc(allow(["ssm:GetParameter"], [param_arn("/billing/*")])),
    )
    keys = [kms_key("k-billing", "alias/billing", key_policy_for("billing-service-role", "ext-role")),
            *(k for k in snap.kms_keys if "alias/billing" not in k.aliases)]  # fmt: skip
    snap = dataclasses.replace(
        snap, roles=(ext, *(r for r in snap.roles if r.name != "ext-role")), kms_keys=tuple(keys)
    )
    g = build_graph(snap).graph
    own = f"{MECHANISM_KES}:role:{role_arn('ext-role')}"
    edges = {(u, v): d for u, v, k, d in g.edges(keys=True, data=True) if g.nodes[u].get(SYNTHETIC) and k == own}
    namespaces = ("billing", "external-secrets", "payments", "team-x")
    for ns in namespaces:
        for value in ("/billing/db", "/billing/other"):
            d = edges[(f"kes-es:{CLUSTER}/{ns}/*", f"param:{param_arn(value)}")]
            assert d[EVIDENCE][0] == f"an ExternalSecret in {ns} without spec.roleArn uses the controller's identity"
    assert len(edges) == 2 * len(namespaces)  # /payments/key is not readable by the controller's role
    billing, team_x = (
        edges[(f"kes-es:{CLUSTER}/{ns}/*", f"param:{param_arn('/billing/db')}")] for ns in ("billing", "team-x")
    )
    assert billing is not team_x
    assert {**billing, EVIDENCE: billing[EVIDENCE][1:]} == {**team_x, EVIDENCE: team_x[EVIDENCE][1:]}
    assert team_x[VIA] == (f"sa:{CLUSTER}/external-secrets/kes-sa", f"role:{role_arn('ext-role')}")


# --- key-name gating (NAMING_PERMITTED_ANNOTATION) ----------------------------------------------
NAMING = "externalsecrets.kubernetes-client.io/permitted-key-name"


def _annotate(snap: Snapshot, ns: str, **annotations: str) -> Snapshot:
    return dataclasses.replace(
        snap,
        namespaces=tuple(
            dataclasses.replace(n, annotations={**n.annotations, **annotations}) if n.name == ns else n
            for n in snap.namespaces
        ),
    )


def _named(snap: Snapshot, ns: str, pattern: str) -> Snapshot:
    return _annotate(snap, ns, **{NAMING: pattern})


def test_one_key_outside_the_naming_regex_refuses_the_whole_external_secret() -> None:
    extra: dict[str, list[object]] = {
        "kes_external_secrets": [es("billing", "mixed", "billing-service-role", "/billing/other", "/payments/key")],
        "workloads": [consumer("billing", "mixed", "mixer")],
    }
    snap = scenario(extra=extra)
    # billing-service-role reads /billing/other (not /payments/key): without a naming rule it materialises
    assert ("billing", "api", "/billing/other", "via-controller", "allow") in table(snap)
    named = _named(snap, "billing", "^/billing/")
    got = {r for r in table(named) if r[0] == "billing"}
    # db-creds names only /billing/db: still served; "mixed" also names /payments/key: refused entirely
    assert got == {("billing", "api", "/billing/db", "via-controller", "allow")}


def test_naming_regex_applies_to_data_paths_too() -> None:
    extra: dict[str, list[object]] = {
        "kes_external_secrets": [es("payments", "by-path", "payments-service-role", path="/payments")],
        "service_accounts": [sa("payments", "walker")],
        "workloads": [
            workload("payments", "walker", "walker", secret_refs=(SecretKeyRef(secret="by-path", via="env"),))
        ],
    }
    snap = scenario(extra=extra)
    assert ("payments", "walker", "/payments/key", "via-controller", "allow") in table(snap)
    only_keys = _named(snap, "payments", "^/payments/")  # "/payments" (the path) does not match
    # pay-creds (key /payments/key) still serves api; the by-path ExternalSecret is refused
    assert {r for r in table(only_keys) if r[0] == "payments"} == {
        ("payments", "api", "/payments/key", "via-controller", "allow")
    }


def test_any_external_secret_someone_could_create_respects_the_naming_regex() -> None:
    snap = _named(scenario(extra=RBAC_ALICE), "team-x", "^/billing/")
    assert table(snap, kinds=("User",)) == {
        (None, "alice", "/billing/db", "potential", "allow"),
        (None, "alice", "/billing/other", "potential", "allow"),
        # not through data/dataFrom; only dataFromWithOptions (never tested against the regex),
        # which materialises the value only if it is a JSON object
        (None, "alice", "/payments/key", "potential", "conditional"),
    }
    [row] = rows(snap, kinds=("User",), secret="/payments/key")
    assert row.unresolved_keys == ("kes:dataFromWithOptions-json-object",)


def test_a_naming_regex_admitting_only_a_path_allows_a_by_path_read() -> None:
    snap = _named(scenario(extra=RBAC_ALICE), "team-x", "^/payments$")
    got = table(snap, kinds=("User",))
    # the path /payments matches (payments-service-role may GetParametersByPath on it); billing's do not
    assert (None, "alice", "/payments/key", "potential", "allow") in got
    assert (None, "alice", "/billing/db", "potential", "conditional") in got


LOOKAHEAD = "^arn:aws:iam::111122223333:role/(?=billing)billing-service-role$"
"""JavaScript reads it (and would admit the billing role only); RE2 has no lookahead."""


def with_billing_regex(snap: Snapshot, regex: str) -> Snapshot:
    return dataclasses.replace(
        snap,
        namespaces=tuple(
            namespace("billing", {PERMITTED: regex}) if n.name == "billing" else n for n in snap.namespaces
        ),
    )


def test_a_permitted_regex_re2_cannot_evaluate_makes_the_gate_unknown_not_open_or_closed() -> None:
    got = {r[:4]: r[4] for r in table(with_billing_regex(scenario(), LOOKAHEAD)) if r[0] == "billing"}
    # both ExternalSecrets of billing (its own role, and the payments role) depend on the unknown gate
    assert got == {
        ("billing", "api", "/billing/db", "via-controller"): "conditional",
        ("billing", "api", "/payments/key", "via-controller"): "conditional",
    }
    [row] = rows(with_billing_regex(scenario(), LOOKAHEAD), namespace="billing", secret="/billing/db")
    assert row.unresolved_keys == (f"namespace-annotation:{PERMITTED}",)
