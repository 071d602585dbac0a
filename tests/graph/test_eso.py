"""External Secrets Operator: store credentials (jwt / controller chain), additionalRoles, conditions."""

from __future__ import annotations

import dataclasses

from irsa_lib.model import (
    ESOController,
    ESODataItem,
    ESOExternalSecret,
    ESOSecretStore,
    JWTAuth,
    SecretKeyRef,
    StoreConditions,
    StoreRef,
)
from tests.graph.conftest import rows, table
from tests.graph.factory import (
    CLUSTER,
    HOST,
    allow,
    doc,
    irsa_trust,
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

STORE_WRITERS = rbac_grant("pay", ("Group", "pay-team"), ("create",), "external-secrets.io", "secretstores")


def reader(name: str, trust: dict[str, object], prefix: str) -> object:
    return role(name, trust, doc(allow("ssm:GetParameter", param_arn(f"/{prefix}/*"))))


def store(name: str, ns: str | None, *, kind: str = "SecretStore", **kw: object) -> ESOSecretStore:
    return ESOSecretStore(
        cluster=CLUSTER,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        api_version="external-secrets.io/v1",
        namespace=ns,
        service="ParameterStore",
        region="us-east-1",
        **kw,  # type: ignore[arg-type]
    )


def external_secret(ns: str, name: str, store_name: str, key: str, *, kind: str = "SecretStore") -> ESOExternalSecret:
    return ESOExternalSecret(
        cluster=CLUSTER,
        namespace=ns,
        name=name,
        api_version="external-secrets.io/v1",
        store_ref=StoreRef(name=store_name, kind=kind),  # type: ignore[arg-type]
        target_name=f"{name}-secret",
        data=(ESODataItem(secret_key="v", remote_key=key),),
    )


def consumer(ns: str, secret_name: str) -> object:
    return workload(ns, "api", "api", secret_refs=(SecretKeyRef(secret=secret_name, via="volume"),))


def test_jwt_store_borrows_the_referenced_sa_role() -> None:
    snap = snapshot(
        roles=[reader("pay-role", irsa_trust("system:serviceaccount:pay:pay-sa"), "pay")],
        ssm_parameters=[param("/pay/db"), param("/other/db")],
        namespaces=[namespace("pay")],
        service_accounts=[sa("pay", "pay-sa", "pay-role"), sa("pay", "api")],
        eso_stores=[store("pay-store", "pay", jwt=JWTAuth(service_account="pay-sa"))],
        eso_external_secrets=[external_secret("pay", "creds", "pay-store", "/pay/db")],
        workloads=[consumer("pay", "creds-secret")],
    )
    assert table(snap) == {
        ("pay", "api", "/pay/db", "via-controller", "allow"),
        ("pay", "pay-sa", "/pay/db", "direct", "allow"),
    }


def test_referent_cluster_store_resolves_the_sa_in_the_external_secrets_namespace() -> None:
    snap = snapshot(
        roles=[reader("a-role", irsa_trust("system:serviceaccount:a:eso-reader"), "a")],
        ssm_parameters=[param("/a/db")],
        namespaces=[namespace("a"), namespace("b")],
        service_accounts=[sa("a", "eso-reader", "a-role"), sa("a", "api"), sa("b", "api")],
        eso_stores=[store("shared", None, kind="ClusterSecretStore", jwt=JWTAuth(service_account="eso-reader"))],
        eso_external_secrets=[
            external_secret("a", "creds", "shared", "/a/db", kind="ClusterSecretStore"),
            external_secret("b", "creds", "shared", "/a/db", kind="ClusterSecretStore"),
        ],
        workloads=[consumer("a", "creds-secret"), consumer("b", "creds-secret")],
    )
    assert table(snap) == {
        ("a", "api", "/a/db", "via-controller", "allow"),
        ("a", "eso-reader", "/a/db", "direct", "allow"),
    }


def test_store_without_auth_uses_the_controller_chain_then_additional_roles_then_role() -> None:
    eso_role = role("eso-role", irsa_trust("system:serviceaccount:eso:eso-sa"))
    hop = role("hop-role", trust_roles(role_arn("eso-role")))
    target = reader("c-role", trust_roles(role_arn("hop-role")), "c")
    snap = snapshot(
        roles=[eso_role, hop, target],
        ssm_parameters=[param("/c/db")],
        namespaces=[namespace("c"), namespace("eso")],
        service_accounts=[sa("eso", "eso-sa", "eso-role"), sa("c", "api")],
        eso_controllers=[ESOController(cluster=CLUSTER, namespace="eso", name="eso", service_account="eso-sa")],
        eso_stores=[store("c-store", "c", role=role_arn("c-role"), additional_roles=(role_arn("hop-role"),))],
        eso_external_secrets=[external_secret("c", "creds", "c-store", "/c/db")],
        workloads=[consumer("c", "creds-secret")],
    )
    assert table(snap) == {
        ("c", "api", "/c/db", "via-controller", "allow"),
        ("eso", "eso-sa", "/c/db", "direct", "allow"),
    }
    # without the hop, c-role does not trust the controller role: nothing
    broken = snapshot(
        roles=[eso_role, hop, target],
        ssm_parameters=[param("/c/db")],
        namespaces=[namespace("c"), namespace("eso")],
        service_accounts=[sa("eso", "eso-sa", "eso-role"), sa("c", "api")],
        eso_controllers=[ESOController(cluster=CLUSTER, namespace="eso", name="eso", service_account="eso-sa")],
        eso_stores=[store("c-store", "c", role=role_arn("c-role"))],
        eso_external_secrets=[external_secret("c", "creds", "c-store", "/c/db")],
        workloads=[consumer("c", "creds-secret")],
    )
    assert table(broken) == {("eso", "eso-sa", "/c/db", "direct", "allow")}


def test_cluster_store_conditions_keep_other_namespaces_out() -> None:
    eso_role = reader("eso-role", irsa_trust("system:serviceaccount:eso:eso-sa"), "a")
    snap = snapshot(
        roles=[eso_role],
        ssm_parameters=[param("/a/db")],
        namespaces=[namespace("a"), namespace("b"), namespace("eso")],
        service_accounts=[sa("eso", "eso-sa", "eso-role"), sa("a", "api"), sa("b", "api")],
        eso_controllers=[ESOController(cluster=CLUSTER, namespace="eso", name="eso", service_account="eso-sa")],
        eso_stores=[store("css", None, kind="ClusterSecretStore", conditions=(StoreConditions(namespaces=("a",)),))],
        eso_external_secrets=[
            external_secret("a", "creds", "css", "/a/db", kind="ClusterSecretStore"),
            external_secret("b", "creds", "css", "/a/db", kind="ClusterSecretStore"),
        ],
        workloads=[consumer("a", "creds-secret"), consumer("b", "creds-secret")],
    )
    assert table(snap) == {
        ("a", "api", "/a/db", "via-controller", "allow"),
        ("eso", "eso-sa", "/a/db", "direct", "allow"),
    }


def test_rbac_on_secretstores_borrows_the_namespace_irsa_roles_not_their_rbac() -> None:
    snap = snapshot(
        roles=[reader("pay-role", irsa_trust("system:serviceaccount:pay:pay-sa"), "pay")],
        ssm_parameters=[param("/pay/db"), param("/other/db")],
        namespaces=[namespace("pay")],
        service_accounts=[sa("pay", "pay-sa", "pay-role")],
        **STORE_WRITERS,
    )
    assert table(snap, kinds=("Group",)) == {(None, "pay-team", "/pay/db", "potential", "allow")}


# --- audiences of the token ESO mints, and controller classes ------------------------------------
def _custom_aud_trust() -> dict[str, object]:
    trust = irsa_trust("system:serviceaccount:pay:pay-sa", aud=False)
    trust["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:aud"] = "vault-aud"  # type: ignore[index]
    return trust


def _aud_snapshot(*, annotation: str | None = None, audiences: tuple[str, ...] = ()) -> object:
    pay_sa = sa("pay", "pay-sa", "pay-role")
    if annotation:
        pay_sa = dataclasses.replace(
            pay_sa, annotations={**pay_sa.annotations, "eks.amazonaws.com/audience": annotation}
        )
    return snapshot(
        roles=[reader("pay-role", _custom_aud_trust(), "pay")],
        ssm_parameters=[param("/pay/db")],
        namespaces=[namespace("pay")],
        service_accounts=[pay_sa, sa("pay", "api")],
        eso_stores=[store("pay-store", "pay", jwt=JWTAuth(service_account="pay-sa", audiences=audiences))],
        eso_external_secrets=[external_secret("pay", "creds", "pay-store", "/pay/db")],
        workloads=[consumer("pay", "creds-secret")],
    )


def test_the_audience_annotation_decides_the_store_leg_as_it_decides_the_pods() -> None:
    # the trust pins aud=vault-aud: a default token (sts.amazonaws.com) is refused, for the pods and ESO
    assert table(_aud_snapshot()) == set()
    assert table(_aud_snapshot(annotation="vault-aud")) == {
        ("pay", "api", "/pay/db", "via-controller", "allow"),
        ("pay", "pay-sa", "/pay/db", "direct", "allow"),
    }


def test_service_account_ref_audiences_are_added_to_the_token_eso_mints() -> None:
    # the pods' own token still fails; ESO's token carries sts.amazonaws.com AND vault-aud: whether
    # IAM accepts it depends on how it matches a multi-audience token, so the row is conditional
    snap = _aud_snapshot(audiences=("vault-aud",))
    assert table(snap) == {("pay", "api", "/pay/db", "via-controller", "conditional")}
    [row] = rows(snap)
    assert row.unresolved_keys == (f"{HOST}:aud",)
    # audiences that do not help change nothing
    assert table(_aud_snapshot(audiences=("other-aud",))) == set()


def _class_snapshot(store_class: str | None, controller_class: str | None) -> object:
    eso_role = reader("eso-role", irsa_trust("system:serviceaccount:eso:eso-sa"), "c")
    return snapshot(
        roles=[eso_role],
        ssm_parameters=[param("/c/db")],
        namespaces=[namespace("c"), namespace("eso")],
        service_accounts=[sa("eso", "eso-sa", "eso-role"), sa("c", "api")],
        eso_controllers=[
            ESOController(
                cluster=CLUSTER,
                namespace="eso",
                name="eso",
                service_account="eso-sa",
                controller_class=controller_class,
            )
        ],
        eso_stores=[store("c-store", "c", controller_class=store_class)],
        eso_external_secrets=[external_secret("c", "creds", "c-store", "/c/db")],
        workloads=[consumer("c", "creds-secret")],
    )


def test_a_store_of_a_class_no_controller_serves_yields_nothing() -> None:
    served = ("c", "api", "/c/db", "via-controller", "allow")
    assert served in table(_class_snapshot(None, None))  # no class: every controller serves it
    assert served in table(_class_snapshot("default", None))  # the default --controller-class
    assert served in table(_class_snapshot("team-a", "team-a"))
    assert served not in table(_class_snapshot("team-a", None))
    assert served not in table(_class_snapshot("default", "team-a"))


def test_a_store_author_picks_the_audiences_so_an_audience_pinned_trust_is_still_reachable() -> None:
    snap = dataclasses.replace(_aud_snapshot(), **{k: tuple(v) for k, v in STORE_WRITERS.items()})
    # pay-sa's own token (aud sts.amazonaws.com) is refused, but a store may ask ESO for vault-aud
    assert table(snap, kinds=("Group",)) == {(None, "pay-team", "/pay/db", "potential", "allow")}
    [binding] = STORE_WRITERS["rbac_bindings"]
    other_ns = dataclasses.replace(binding, namespace="other")  # type: ignore[type-var]
    assert table(dataclasses.replace(snap, rbac_bindings=(other_ns,)), kinds=("Group",)) == set()


def test_store_writers_reach_an_audience_pinned_role_before_any_store_exists() -> None:
    """Whoever may create a SecretStore picks the audiences ESO asks for: with no store in the cluster
    yet, the role only a store's token can assume (its trust refuses the service account's own token)
    is still reached and read from. The store authors' identities are worked out in clusters with a
    store or RBAC, and only there (elsewhere no edge can lead to them)."""
    snap = snapshot(
        roles=[reader("pay-role", _custom_aud_trust(), "pay")],
        ssm_parameters=[param("/pay/db")],
        namespaces=[namespace("pay")],
        service_accounts=[sa("pay", "pay-sa", "pay-role")],
        **STORE_WRITERS,
    )
    assert table(snap) == set()  # pay-sa's own token is refused
    assert table(snap, kinds=("Group",)) == {(None, "pay-team", "/pay/db", "potential", "allow")}
