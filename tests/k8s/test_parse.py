"""The object parser, kind by kind, on API-shaped fixtures; expected records are written by hand."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from irsa_lib.collect.k8s_parse import ObjectError, parse_object
from irsa_lib.model import (
    CSIObject,
    ESOClusterExternalSecret,
    ESODataFrom,
    ESODataItem,
    ESOExternalSecret,
    ESOPushSecret,
    ESOSecretStore,
    JWTAuth,
    K8sSecret,
    KESController,
    KESDataItem,
    KESExternalSecret,
    PolicyRule,
    RBACBinding,
    RBACRole,
    SecretProviderClass,
    SecretRefAuth,
    StoreConditions,
    StoreRef,
    Subject,
)
from tests.k8s.conftest import DATA


def fixture(name: str) -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all((DATA / name).read_text(encoding="utf-8")) if d]
    return {d["metadata"]["name"]: d for d in docs}


def parse(obj: dict[str, Any]) -> Any:
    (record,) = parse_object(obj, cluster="c").records
    return record


# --- kubernetes-external-secrets --------------------------------------------------------------------


def test_kes_current_form() -> None:
    assert parse(fixture("kes.yaml")["current"]) == KESExternalSecret(
        cluster="c",
        namespace="billing",
        name="current",
        backend_type="secretsManager",
        role_arn="arn:aws:iam::123456789012:role/billing-service-role",
        controller_id="blue",
        data=(
            KESDataItem(key="billing/db", name="url", property="url", version_stage="AWSPREVIOUS"),
            KESDataItem(path="/billing/flags", recursive=True),
        ),
        data_from_with_options=(KESDataItem(key="billing/extra", is_binary=True, version_id="v-1"),),
    )


def test_kes_secret_descriptor_and_secret_manager_alias_are_legacy() -> None:
    assert parse(fixture("kes.yaml")["descriptor"]) == KESExternalSecret(
        cluster="c",
        namespace="payments",
        name="descriptor",
        backend_type="secretsManager",
        data=(KESDataItem(key="payments/api", name="token"),),
        legacy_form=True,
    )


def test_kes_spec_properties_is_legacy() -> None:
    record = parse(fixture("kes.yaml")["properties"])
    assert (record.backend_type, record.data, record.legacy_form) == (
        "systemManager",
        (KESDataItem(key="/payments/pin", name="pin"),),
        True,
    )


def test_kes_other_backends_are_kept_as_given() -> None:
    record = parse(fixture("kes.yaml")["vault"])
    assert (record.backend_type, record.legacy_form, record.role_arn) == ("vault", False, None)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"data": [{"key": "/a", "name": "a"}]}, "spec.backendType: is required"),
        (
            {"backendType": "systemManager", "data": [{"name": "a"}]},
            "spec.data[0]: needs a key (with a name) or a path",
        ),
        ({"backendType": "systemManager", "data": [{"key": "/a"}]}, "spec.data[0].name: is required with key"),
        ({"backendType": "systemManager", "dataFrom": "/a"}, "spec.dataFrom: must be a list, got a string"),
    ],
)
def test_kes_malformed_fields_are_named(spec: dict[str, Any], message: str) -> None:
    obj = {"apiVersion": "kubernetes-client.io/v1", "kind": "ExternalSecret", "metadata": {"name": "x"}, "spec": spec}
    with pytest.raises(ObjectError) as err:
        parse_object(obj, cluster="c")
    assert str(err.value).startswith(message)


# --- External Secrets Operator ------------------------------------------------------------------------


def test_eso_v1beta1_secret_store_with_static_keys() -> None:
    assert parse(fixture("eso_stores.yaml")["static-keys"]) == ESOSecretStore(
        cluster="c",
        name="static-keys",
        kind="SecretStore",
        api_version="external-secrets.io/v1beta1",
        namespace="team-a",
        service="SecretsManager",
        region="eu-west-1",
        secret_ref=SecretRefAuth(access_key_secret="aws-keys"),
        prefix="team-a/",
        controller_class="team-a",
    )


def test_eso_v1_cluster_secret_store_with_roles_tags_and_conditions() -> None:
    assert parse(fixture("eso_stores.yaml")["shared"]) == ESOSecretStore(
        cluster="c",
        name="shared",
        kind="ClusterSecretStore",
        api_version="external-secrets.io/v1",
        namespace=None,
        service="ParameterStore",
        region="us-east-1",
        role="arn:aws:iam::123456789012:role/shared-reader",
        additional_roles=("arn:aws:iam::123456789012:role/hop-1", "arn:aws:iam::210987654321:role/hop-2"),
        external_id="ext-42",
        session_tags={"esoNamespace": "team-a"},
        transitive_tag_keys=("esoNamespace",),
        session_tags_policy="Simple",
        jwt=JWTAuth(service_account="eso-irsa", namespace="external-secrets", audiences=("sts.amazonaws.com",)),
        conditions=(
            StoreConditions(namespaces=("team-a", "team-b")),
            StoreConditions(namespace_regexes=("team-.*",)),
            StoreConditions(namespace_selector={"tier": "shared"}, has_match_expressions=True),
        ),
    )


def test_eso_non_aws_store_keeps_only_its_provider() -> None:
    store = parse(fixture("eso_stores.yaml")["vault"])
    assert (store.provider, store.service, store.role, store.jwt) == ("vault", None, None, None)


def test_eso_v1_external_secret() -> None:
    assert parse(fixture("eso_secrets.yaml")["app"]) == ESOExternalSecret(
        cluster="c",
        namespace="team-a",
        name="app",
        api_version="external-secrets.io/v1",
        store_ref=StoreRef(name="shared", kind="ClusterSecretStore"),
        target_name="app",
        creation_policy="Merge",
        data=(
            ESODataItem(
                secret_key="url",
                remote_key="/team-a/url",
                version="3",
                metadata_policy="Fetch",
                store_ref=StoreRef(name="local"),
            ),
        ),
        data_from=(
            ESODataFrom(extract_key="/team-a/json"),
            ESODataFrom(find_path="/team-a/", find_name_regexp="^db-", find_tags={"team": "a"}),
            ESODataFrom(generator="ECRAuthorizationToken/ecr"),
        ),
        has_template=True,
        from_cluster_external_secret="fanout",
    )


def test_eso_v1alpha1_external_secret_data_from_is_a_list_of_keys() -> None:
    assert parse(fixture("eso_secrets.yaml")["old"]) == ESOExternalSecret(
        cluster="c",
        namespace="team-b",
        name="old",
        api_version="external-secrets.io/v1alpha1",
        store_ref=StoreRef(name="local"),
        target_name="old-secret",
        data=(ESODataItem(secret_key="k", remote_key="/team-b/k", property="p"),),
        data_from=(ESODataFrom(extract_key="/team-b/all"),),
    )


def test_eso_cluster_external_secret_fans_out_a_template() -> None:
    assert parse(fixture("eso_secrets.yaml")["fanout"]) == ESOClusterExternalSecret(
        cluster="c",
        name="fanout",
        api_version="external-secrets.io/v1",
        namespaces=("team-c",),
        namespace_selectors=({"tier": "shared"}, {}),
        selector_match_expressions=True,
        template=ESOExternalSecret(
            cluster="c",
            namespace="",
            name="app",
            api_version="external-secrets.io/v1",
            store_ref=StoreRef(name="shared", kind="ClusterSecretStore"),
            target_name="app",
            data_from=(ESODataFrom(extract_key="/shared/config"),),
            from_cluster_external_secret="fanout",
        ),
    )


def test_eso_push_secret() -> None:
    assert parse(fixture("eso_secrets.yaml")["push"]) == ESOPushSecret(
        cluster="c",
        namespace="team-a",
        name="push",
        api_version="external-secrets.io/v1alpha1",
        store_refs=(StoreRef(name="shared", kind="ClusterSecretStore"),),
        store_selectors=({"push": "yes"},),
        source_secret="local-creds",
        remote_keys=("/team-a/pushed",),
    )


def test_eso_store_ref_of_another_kind_is_an_error() -> None:
    obj = fixture("eso_secrets.yaml")["app"]
    obj["spec"]["secretStoreRef"]["kind"] = "Vault"
    with pytest.raises(ObjectError, match=r"^spec\.secretStoreRef\.kind: must be SecretStore or ClusterSecretStore"):
        parse_object(obj, cluster="c")


# --- SecretProviderClass ----------------------------------------------------------------------------


def test_secret_provider_class_objects_string_is_parsed() -> None:
    assert parse(fixture("spc.yaml")["aws-objects"]) == SecretProviderClass(
        cluster="c",
        namespace="shop",
        name="aws-objects",
        provider="aws",
        region="eu-central-1",
        failover_region="eu-west-1",
        use_pod_identity=False,
        objects=(
            CSIObject(
                object_name="arn:aws:secretsmanager:eu-central-1:123456789012:secret:shop/db-AbCdEf",
                object_alias="db",
                object_version_label="AWSCURRENT",
            ),
            CSIObject(object_name="/shop/api-key", object_type="ssmparameter", object_version="2"),
        ),
        synced_secrets=("shop-db",),
    )


def test_secret_provider_class_of_another_provider_is_not_parsed_further() -> None:
    spc = parse(fixture("spc.yaml")["azure"])
    assert (spc.provider, spc.objects) == ("azure", ())


def test_secret_provider_class_invalid_objects_yaml_names_the_field() -> None:
    obj = fixture("spc.yaml")["aws-objects"]
    obj["spec"]["parameters"]["objects"] = "- objectName: [unclosed"
    with pytest.raises(ObjectError, match=r"^spec\.parameters\.objects: not valid YAML at line 1"):
        parse_object(obj, cluster="c")
    obj["spec"]["parameters"]["objects"] = "- objectType: ssmparameter"
    with pytest.raises(ObjectError, match=r"^spec\.parameters\.objects\[0\]\.objectName: is required"):
        parse_object(obj, cluster="c")


# --- RBAC, Secrets, workloads ---------------------------------------------------------------------------


def rbac(kind: str, **body: Any) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "r"}, **body}


def test_role_rules_are_kept_faithfully() -> None:
    obj = rbac(
        "Role",
        rules=[
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"], "verbs": ["get"]},
            {"apiGroups": ["external-secrets.io"], "resources": ["*"], "verbs": ["create", "patch"]},
        ],
    )
    assert parse(obj) == RBACRole(
        cluster="c",
        name="r",
        kind="Role",
        namespace="default",
        rules=(
            PolicyRule(verbs=("get",), api_groups=("",), resources=("secrets",), resource_names=("a",)),
            PolicyRule(verbs=("create", "patch"), api_groups=("external-secrets.io",), resources=("*",)),
        ),
    )
    nonresource = rbac("ClusterRole", rules=[{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}])
    assert parse(nonresource).rules == (PolicyRule(verbs=("get",), non_resource_urls=("/metrics",)),)


def test_role_binding_to_a_cluster_role() -> None:
    obj = rbac(
        "RoleBinding",
        roleRef={"kind": "ClusterRole", "name": "edit"},
        subjects=[{"kind": "ServiceAccount", "name": "ci"}, {"kind": "User", "name": "alice"}],
    )
    obj["metadata"]["namespace"] = "shop"
    assert parse(obj) == RBACBinding(
        cluster="c",
        name="r",
        kind="RoleBinding",
        role_kind="ClusterRole",
        role_name="edit",
        namespace="shop",
        subjects=(Subject(kind="ServiceAccount", name="ci", namespace="shop"), Subject(kind="User", name="alice")),
    )


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (
            rbac("ClusterRoleBinding", roleRef={"kind": "Role", "name": "x"}),
            "roleRef.kind: a ClusterRoleBinding refers",
        ),
        (
            rbac(
                "ClusterRoleBinding",
                roleRef={"kind": "ClusterRole", "name": "x"},
                subjects=[{"kind": "ServiceAccount", "name": "s"}],
            ),
            r"subjects\[0\].namespace: is required",
        ),
        (
            rbac("RoleBinding", roleRef={"kind": "Role", "name": "x"}, subjects=[{"kind": "Robot", "name": "s"}]),
            r"subjects\[0\].kind",
        ),
    ],
)
def test_invalid_bindings_are_errors(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(ObjectError, match="^" + message):
        parse_object(obj, cluster="c")


def test_secret_keeps_key_names_and_drops_values_and_annotations() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "namespace": "n",
            "labels": {"a": "b"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"k":"dmFsdWU="}}'},
        },
        "data": {"k": "dmFsdWU="},
        "stringData": {"plain": "value"},
    }
    assert parse(obj) == K8sSecret(
        cluster="c", namespace="n", name="s", type="Opaque", keys=("k", "plain"), labels={"a": "b"}
    )


def deployment(image: str, *, env: list[dict[str, Any]] | None = None, args: list[str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": image, "env": env or []}
    if args is not None:
        container["args"] = args
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ctl", "namespace": "ops"},
        "spec": {"template": {"spec": {"serviceAccountName": "ctl-sa", "containers": [container]}}},
    }


def test_container_env_values_are_kept_only_for_configuration_names() -> None:
    obj = deployment(
        "app:1",
        env=[
            {"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::1:role/x"},
            {"name": "API_TOKEN", "value": "do-not-keep"},
            {"name": "AWS_REGION", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "region"}}},
        ],
    )
    (workload,) = parse_object(obj, cluster="c").records
    (container,) = workload.containers
    assert container.env == {"AWS_ROLE_ARN": "arn:aws:iam::1:role/x"}
    assert container.env_names == ("AWS_ROLE_ARN", "API_TOKEN", "AWS_REGION")


def test_kes_controller_defaults_and_presence_of_enforce() -> None:
    obj = deployment(
        "ghcr.io/external-secrets/kubernetes-external-secrets:8.5.5",
        env=[
            {"name": "ENFORCE_NAMESPACE_ANNOTATIONS", "value": "false"},  # presence is what the controller checks
            {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "keys", "key": "id"}}},
            {"name": "INSTANCE_ID", "value": "blue"},
        ],
    )
    _, controller = parse_object(obj, cluster="c").records
    assert controller == KESController(
        cluster="c",
        namespace="ops",
        name="ctl",
        service_account="ctl-sa",
        enforce_namespace_annotations=True,
        instance_id="blue",
        static_credentials=True,
    )


@pytest.mark.parametrize(
    ("args", "is_controller"),
    [([], True), (["--concurrent=1"], True), (["webhook", "--port=10250"], False), (["certcontroller"], False)],
)
def test_eso_controller_is_recognised_by_image_but_not_its_webhook(args: list[str], is_controller: bool) -> None:
    records = parse_object(
        deployment("oci.external-secrets.io/external-secrets/external-secrets:v0.16", args=args), cluster="c"
    ).records
    assert [type(r).__name__ for r in records] == ["Workload"] + (["ESOController"] if is_controller else [])


def test_unknown_kinds_are_ignored_but_typos_in_known_groups_are_errors() -> None:
    assert parse_object(
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}}, cluster="c"
    ).ignored
    with pytest.raises(ObjectError, match=r"^kind: unknown kind 'Deploymnet' for apiVersion apps/v1$"):
        parse_object({"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "d"}}, cluster="c")
    with pytest.raises(ObjectError, match=r"^apiVersion: ExternalSecret external-secrets.io/v2 is not supported"):
        parse_object(
            {"apiVersion": "external-secrets.io/v2", "kind": "ExternalSecret", "metadata": {"name": "e"}}, cluster="c"
        )
