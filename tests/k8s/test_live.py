"""Live collection through the official client against a real HTTP API server (kmock in a thread)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from irsa_lib.cli import main
from irsa_lib.codec import to_data
from irsa_lib.collect import k8s as live
from irsa_lib.collect.errors import CollectionError
from irsa_lib.collect.k8s import PARTIAL_METADATA_ACCEPT, collect_kubernetes
from irsa_lib.collect.manifests import load_manifests
from irsa_lib.model import (
    Container,
    CSIObject,
    CSIVolume,
    ESOController,
    ESODataItem,
    ESOExternalSecret,
    ESOSecretStore,
    JWTAuth,
    K8sSecret,
    KESController,
    KESDataItem,
    KESExternalSecret,
    Namespace,
    RBACBinding,
    SecretKeyRef,
    SecretProviderClass,
    ServiceAccount,
    StoreRef,
    Subject,
    Workload,
)
from irsa_lib.snapshot import RECORD_FIELDS, Snapshot
from tests.k8s.conftest import DATA, Kube

pytestmark = pytest.mark.integration

CLUSTER_YAML = (DATA / "cluster.yaml").read_text(encoding="utf-8")
SENTINELS = ("SENTINEL", "U0VOVElORUwtaHVudGVyMg")


def seed_cluster(kube: Kube) -> None:
    for group, version, kind in [
        ("kubernetes-client.io", "v1", "ExternalSecret"),
        ("external-secrets.io", "v1", "SecretStore"),
        ("external-secrets.io", "v1", "ExternalSecret"),
        ("secrets-store.csi.x-k8s.io", "v1", "SecretProviderClass"),
    ]:
        kube.server.declare_crd(group, version, kind)
    kube.server.seed_yaml(CLUSTER_YAML)


def collect(kube: Kube, **kwargs: Any) -> Snapshot:
    return collect_kubernetes(cluster="demo", context="kmock", kubeconfig=str(kube.kubeconfig), **kwargs)


def by_name(records: Any, name: str, **attrs: Any) -> Any:
    found = [r for r in records if r.name == name and all(getattr(r, k) == v for k, v in attrs.items())]
    assert len(found) == 1, f"{name} {attrs}: {found}"
    return found[0]


def coverage(snapshot: Snapshot) -> dict[str, tuple[str, int | None]]:
    return {c.service: (c.status, c.count) for c in snapshot.coverage}


def test_live_collection_reads_every_kind(kube: Kube) -> None:
    seed_cluster(kube)
    snap = collect(kube)

    assert by_name(snap.namespaces, "billing") == Namespace(
        cluster="demo",
        name="billing",
        annotations={"iam.amazonaws.com/permitted": "^arn:aws:iam::123456789012:role/billing-service-role$"},
    )
    assert by_name(snap.service_accounts, "external-secrets-sa") == ServiceAccount(
        cluster="demo",
        namespace="external-secrets",
        name="external-secrets-sa",
        annotations={
            "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/external-secrets-role",
            "eks.amazonaws.com/sts-regional-endpoints": "true",
        },
    )
    assert by_name(snap.service_accounts, "billing-api").automount_token is False

    assert by_name(snap.workloads, "billing-api", kind="Deployment") == Workload(
        cluster="demo",
        namespace="billing",
        name="billing-api",
        kind="Deployment",
        service_account="billing-api",
        run_as_user=1000,
        run_as_non_root=True,
        containers=(
            Container(
                name="api",
                image="registry.example/billing-api:1.2",
                env={"AWS_REGION": "us-east-1"},
                env_names=("DB_PASSWORD", "AWS_REGION"),
            ),
        ),
        secret_refs=(
            SecretKeyRef(secret="billing-db", via="env", key="password"),
            SecretKeyRef(secret="billing-db", via="volume"),
        ),
        labels={"app": "billing-api"},
        annotations={"eks.amazonaws.com/skip-containers": "sidecar"},
    )
    pod = by_name(snap.workloads, "billing-api-7d9-abcde")
    assert (pod.kind, pod.owner, pod.node_name) == ("Pod", "ReplicaSet/billing-api-7d9", "ip-10-0-0-1.ec2.internal")
    assert pod.secret_refs == (SecretKeyRef(secret="billing-db", via="envFrom"),)
    ledger = by_name(snap.workloads, "ledger")
    assert ledger.service_account == "default"
    assert ledger.secret_refs == (
        SecretKeyRef(secret="payments-creds", via="envFrom", optional=True),
        SecretKeyRef(secret="payments-db-secret", via="projected"),
    )
    assert ledger.csi_volumes == (CSIVolume(driver="secrets-store.csi.k8s.io", secret_provider_class="payments-spc"),)
    assert ledger.token_audiences == ("sts.amazonaws.com",)
    report = by_name(snap.workloads, "report")
    assert (report.kind, report.host_network, [c.name for c in report.containers]) == (
        "CronJob",
        True,
        ["init", "report"],
    )

    assert snap.kes_controllers == (
        KESController(
            cluster="demo",
            namespace="external-secrets",
            name="kubernetes-external-secrets",
            service_account="external-secrets-sa",
            aws_region="us-east-1",
            intermediate_role_arn=None,
            enforce_namespace_annotations=True,
            watched_namespaces=("billing", "payments"),
        ),
    )
    assert snap.eso_controllers == (
        ESOController(
            cluster="demo",
            namespace="external-secrets",
            name="external-secrets",
            service_account="external-secrets-operator",
            controller_class="team-a",
        ),
    )

    assert snap.k8s_secrets == (
        K8sSecret(
            cluster="demo",
            namespace="billing",
            name="billing-db",
            type="Opaque",
            owner_references=("ExternalSecret/billing-db",),
        ),
        K8sSecret(
            cluster="demo",
            namespace="external-secrets",
            name="eso-token",
            type="kubernetes.io/service-account-token",
            service_account="external-secrets-operator",
        ),
    )
    assert by_name(snap.rbac_bindings, "read-billing") == RBACBinding(
        cluster="demo",
        name="read-billing",
        kind="RoleBinding",
        role_kind="ClusterRole",
        role_name="secrets-everywhere",
        namespace="billing",
        subjects=(
            Subject(kind="ServiceAccount", name="billing-api", namespace="billing"),
            Subject(kind="Group", name="billing-devs"),
        ),
    )
    assert by_name(snap.rbac_roles, "ops").aggregation_selectors == ({"rbac.example/aggregate-to-ops": "true"},)
    assert snap.kes_external_secrets == (
        KESExternalSecret(
            cluster="demo",
            namespace="billing",
            name="billing-db",
            backend_type="systemManager",
            role_arn="arn:aws:iam::123456789012:role/billing-service-role",
            region="us-east-1",
            data=(KESDataItem(key="/billing/db/password", name="password"),),
            data_from=("/billing/json",),
            has_template=True,
        ),
    )
    assert snap.eso_stores == (
        ESOSecretStore(
            cluster="demo",
            name="aws-payments",
            kind="SecretStore",
            api_version="external-secrets.io/v1",
            namespace="payments",
            service="ParameterStore",
            region="us-east-1",
            role="arn:aws:iam::123456789012:role/payments-service-role",
            jwt=JWTAuth(service_account="eso-auth"),
        ),
    )
    assert snap.eso_external_secrets == (
        ESOExternalSecret(
            cluster="demo",
            namespace="payments",
            name="payments-db",
            api_version="external-secrets.io/v1",
            store_ref=StoreRef(name="aws-payments"),
            target_name="payments-db-secret",
            data=(ESODataItem(secret_key="password", remote_key="/payments/db", property="password"),),
        ),
    )
    assert snap.secret_provider_classes == (
        SecretProviderClass(
            cluster="demo",
            namespace="payments",
            name="payments-spc",
            provider="aws",
            region="us-east-1",
            use_pod_identity=True,
            objects=(CSIObject(object_name="/payments/api-key", object_type="ssmparameter", object_alias="api-key"),),
        ),
    )

    cov = coverage(snap)
    assert cov["serviceaccounts"] == ("ok", 3)
    assert cov["secrets"] == ("ok", 2)
    assert cov["deployments.apps"] == ("ok", 4)
    assert cov["externalsecrets.kubernetes-client.io"] == ("ok", 1)
    assert cov["replicationcontrollers"] == ("ok", 0)
    for crd in ("clustersecretstores", "clusterexternalsecrets", "pushsecrets"):
        assert cov[f"{crd}.external-secrets.io"] == ("absent", None)
    assert snap.incomplete() == ()


def test_secrets_are_listed_metadata_only_and_no_value_reaches_the_parser(
    kube: Kube, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_cluster(kube)
    seen: list[dict[str, Any]] = []
    real_parse = live.parse_object

    def spy(obj: Any, **kwargs: Any) -> Any:
        seen.append(json.loads(json.dumps(obj)))
        return real_parse(obj, **kwargs)

    monkeypatch.setattr(live, "parse_object", spy)
    snap = collect(kube)

    secret_requests = [r for r in kube.server.emulator.requests if r.url.path == "/api/v1/secrets"]
    assert len(secret_requests) == 3  # all secrets, then type=Opaque and type=service-account-token
    assert all(r.headers.get("Accept") == PARTIAL_METADATA_ACCEPT for r in secret_requests)
    assert sorted(r.params.get("fieldSelector", "") for r in secret_requests) == [
        "",
        "type=Opaque",
        "type=kubernetes.io/service-account-token",
    ]
    secrets_seen = [o for o in seen if o["kind"] == "Secret"]
    assert len(secrets_seen) == 2
    assert all(set(o) == {"apiVersion", "kind", "metadata", "type"} for o in secrets_seen)
    # No Secret value reaches the parser: not the data, nor its copy in last-applied-configuration.
    assert "billing-db" in json.dumps(secrets_seen)
    assert not any(sentinel in json.dumps(secrets_seen) for sentinel in SENTINELS)
    # Nor the snapshot, where container env values (read with the Deployment) are also dropped.
    assert "billing-db" in json.dumps(to_data(snap))
    assert not any(sentinel in json.dumps(to_data(snap)) for sentinel in SENTINELS)


def test_manifests_and_live_api_give_equal_records(kube: Kube, tmp_path: Path) -> None:
    seed_cluster(kube)
    manifest_dir = tmp_path / "repo"
    manifest_dir.mkdir()
    (manifest_dir / "cluster.yaml").write_text(CLUSTER_YAML, encoding="utf-8")

    from_api = collect(kube)
    from_files = load_manifests(manifest_dir, cluster="demo")

    # Manifests show Secret key names; a metadata-only listing cannot. That is the only difference.
    assert [s.keys for s in from_files.k8s_secrets] == [("password",), ("token",)]
    files_secrets = tuple(dataclasses.replace(s, keys=()) for s in from_files.k8s_secrets)
    assert files_secrets == from_api.k8s_secrets
    for name in RECORD_FIELDS:
        if name in {"coverage", "k8s_secrets"}:
            continue
        assert getattr(from_files, name) == getattr(from_api, name), name
    assert (
        sum(len(getattr(from_api, n)) for n in RECORD_FIELDS if n != "coverage") == 26
    )  # counted by hand from cluster.yaml


def test_pagination_reads_every_page(kube: Kube) -> None:
    kube.server.seed(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"sa-{i:02d}", "namespace": "ns"}}
        for i in range(7)
    )
    snap = collect(kube, page_size=3)
    assert [sa.name for sa in snap.service_accounts] == [f"sa-{i:02d}" for i in range(7)]
    pages = [r for r in kube.server.emulator.requests if r.url.path == "/api/v1/serviceaccounts"]
    assert [r.params.get("limit") for r in pages] == ["3", "3", "3"]
    assert [bool(r.params.get("continue")) for r in pages] == [False, True, True]


def endless(*, same: bool, give_up: int = 200) -> Any:
    """A list hook whose pages ask for another: with the same token each time, or a new one. After
    ``give_up`` pages it stops (so a collector without a bound finishes, and its test fails, not hangs)."""
    pages = iter(range(1_000_000))

    def hook(page: dict[str, Any]) -> dict[str, Any]:
        n = next(pages)
        if n >= give_up:
            return {**page, "metadata": {k: v for k, v in page["metadata"].items() if k != "continue"}}
        # kmock reads the token as an offset: each request serves the first page again
        token = base64.b64encode(json.dumps({"offset": 0, "n": 0 if same else n}).encode()).decode()
        return {**page, "metadata": {**page["metadata"], "continue": token}}

    return hook


def pod_requests(kube: Kube) -> int:
    return sum(r.url.path == "/api/v1/pods" for r in kube.server.emulator.requests)


def test_a_repeated_continue_token_stops_the_listing_as_failed(kube: Kube) -> None:
    seed_cluster(kube)
    kube.server.hook_list("pods", endless(same=True))
    snap = collect(kube)
    assert coverage(snap)["pods"] == ("failed", None)
    [pods] = [c for c in snap.coverage if c.service == "pods"]
    assert pods.error == (
        "the API server sent a continue token it had sent before (page 2): the listing would never end, so it was stopped"
    )
    assert pod_requests(kube) == 2
    assert len(snap.service_accounts) == 3 and coverage(snap)["serviceaccounts"] == ("ok", 3)


def test_a_listing_that_never_ends_is_stopped_after_max_pages(kube: Kube) -> None:
    seed_cluster(kube)
    kube.server.hook_list("pods", endless(same=False))
    snap = collect(kube, max_pages=25)
    [pods] = [c for c in snap.coverage if c.service == "pods"]
    assert (pods.status, pods.error) == (
        "failed",
        "stopped after 25 pages (25 objects) with the API server still sending continue tokens",
    )
    assert pod_requests(kube) == 25
    assert all(w.kind != "Pod" for w in snap.workloads)
    assert len(snap.service_accounts) == 3


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ({"a": {"metadata": {"name": "x"}}}, "the answer's items is not a list but dict"),
        ("none", "the answer's items is not a list but str"),
        ([{"metadata": {"name": "x"}}, "x"], "1 of the answer's 2 items are not objects"),
        (..., "the answer has no items list"),
    ],
)
def test_a_list_whose_items_is_not_a_list_of_objects_is_failed_not_empty(kube: Kube, items: Any, error: str) -> None:
    seed_cluster(kube)

    def hook(page: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in page.items() if k != "items"} if items is ... else {**page, "items": items}

    kube.server.hook_list("serviceaccounts", hook)
    snap = collect(kube)
    [accounts] = [c for c in snap.coverage if c.service == "serviceaccounts"]
    assert (accounts.status, accounts.error) == ("failed", error)
    assert snap.service_accounts == ()
    assert coverage(snap)["pods"] == ("ok", 1)


async def slow(page: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(3)
    return page


def test_a_kind_that_does_not_answer_in_time_is_unreachable_and_the_rest_collected(kube: Kube) -> None:
    seed_cluster(kube)
    kube.server.hook_list("pods", slow)
    snap = collect(kube, request_timeout=1)
    [pods] = [c for c in snap.coverage if c.service == "pods"]
    assert (pods.status, pods.error) == ("unreachable", "no answer within 1 s (the request timeout, --kube-timeout)")
    assert coverage(snap)["serviceaccounts"] == ("ok", 3)


def test_irsa_collect_takes_the_kubernetes_timeout(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_cluster(kube)
    kube.server.hook_list("pods", slow)
    out = tmp_path / "snap.json"
    argv = ["collect", "-o", str(out), "--no-aws", "--kube-context", "kmock", "--cluster", "demo"]
    assert main([*argv, "--kubeconfig", str(kube.kubeconfig), "--kube-timeout", "1.5", "--quiet"]) == 0
    assert "unreachable kubernetes demo pods: no answer within 1.5 s" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main([*argv, "--kube-timeout", "0"])
    assert refused.value.code == 2
    assert "--kube-timeout: must be more than 0 seconds" in capsys.readouterr().err


def test_forbidden_kind_is_denied_and_the_rest_is_collected(kube: Kube) -> None:
    seed_cluster(kube)
    kube.server.emulator.denied.add("rolebindings")
    snap = collect(kube)
    denied = [c for c in snap.coverage if c.status == "denied"]
    assert [(c.service, c.source, c.scope) for c in denied] == [
        ("rolebindings.rbac.authorization.k8s.io", "kubernetes", "demo")
    ]
    assert denied[0].error is not None and "403" in denied[0].error and "cannot list" in denied[0].error
    assert [b.name for b in snap.rbac_bindings] == ["eso-controller"]  # the ClusterRoleBinding still read
    assert len(snap.service_accounts) == 3
    assert snap.incomplete() == tuple(denied)


def test_crd_served_only_in_an_older_version_is_read_in_that_version(kube: Kube) -> None:
    kube.server.declare_crd("external-secrets.io", "v1beta1", "ClusterSecretStore")
    kube.server.seed(
        [
            {
                "apiVersion": "external-secrets.io/v1beta1",
                "kind": "ClusterSecretStore",
                "metadata": {"name": "shared"},
                "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "eu-west-1"}}},
            }
        ]
    )
    snap = collect(kube)
    assert [(s.name, s.api_version, s.namespace, s.service) for s in snap.eso_stores] == [
        ("shared", "external-secrets.io/v1beta1", None, "SecretsManager")
    ]
    assert coverage(snap)["clustersecretstores.external-secrets.io"] == ("ok", 1)
    assert coverage(snap)["secretstores.external-secrets.io"] == ("absent", None)


def test_malformed_object_is_reported_and_the_rest_is_collected(kube: Kube) -> None:
    kube.server.seed(
        [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ok", "namespace": "a"}},
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "bad", "namespace": "a", "annotations": {"x": 1}},
            },
        ]
    )
    snap = collect(kube)
    assert [sa.name for sa in snap.service_accounts] == ["ok"]
    failed = [c for c in snap.coverage if c.status == "failed"]
    assert [(c.resource, c.error) for c in failed] == [
        ("ServiceAccount/a/bad", "metadata.annotations.x: must be a string, got a number")
    ]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_api_server_raises_a_clear_error(kube: Kube, tmp_path: Path) -> None:
    port = _closed_port()
    text = kube.kubeconfig.read_text().replace(kube.server.url, f"http://127.0.0.1:{port}")
    kubeconfig = tmp_path / "closed"
    kubeconfig.write_text(text)
    with pytest.raises(CollectionError) as err:
        collect_kubernetes(cluster="demo", context="kmock", kubeconfig=str(kubeconfig))
    message = str(err.value)
    assert f"cannot reach the API server http://127.0.0.1:{port} (context 'kmock')" in message


def test_unknown_context_names_the_available_ones(kube: Kube) -> None:
    with pytest.raises(CollectionError) as err:
        collect_kubernetes(cluster="demo", context="prod", kubeconfig=str(kube.kubeconfig))
    assert str(err.value) == f"kubeconfig {kube.kubeconfig}: no context named 'prod' (available: kmock)"


def test_missing_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match=r"^kubeconfig .*nope: no such file$"):
        collect_kubernetes(cluster="demo", kubeconfig=str(tmp_path / "nope"))


def test_expired_token_is_a_clear_error(kube: Kube, tmp_path: Path) -> None:
    kubeconfig = kube.server.write_kubeconfig(tmp_path / "expired", contexts={"old": {"token": "expired-token"}})
    with pytest.raises(CollectionError) as err:
        collect_kubernetes(cluster="demo", context="old", kubeconfig=str(kubeconfig))
    assert "rejected the credentials (HTTP 401 Unauthorized" in str(err.value)
    assert "(context 'old')" in str(err.value) and "expired" in str(err.value)


def test_failing_exec_plugin_is_a_clear_error(kube: Kube, tmp_path: Path) -> None:
    """An expired SSO session makes `aws eks get-token` fail; the client then sends no credentials."""
    exec_user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": ["-c", "import sys; sys.exit('Error: the SSO session has expired')"],
            "interactiveMode": "Never",
        }
    }
    kubeconfig = kube.server.write_kubeconfig(tmp_path / "exec", contexts={"sso": exec_user})
    with pytest.raises(CollectionError) as err:
        collect_kubernetes(cluster="demo", context="sso", kubeconfig=str(kubeconfig))
    assert "treated the requests as anonymous" in str(err.value)
    assert "exec plugin" in str(err.value)


def test_current_context_is_used_by_default(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> None:
    kube.server.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "only"}}])
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    snap = collect_kubernetes(cluster="other")
    assert [(n.cluster, n.name) for n in snap.namespaces] == [("other", "only")]
