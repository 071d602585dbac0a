"""Loading manifests: the formats found in GitOps repositories, and bad input reported per document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from irsa_lib.collect.manifests import ManifestError, load_manifests
from irsa_lib.model import Coverage

HELM_OUTPUT = """\
---
# Source: billing/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: billing-api
  labels:
    helm.sh/chart: billing-1.0.0
---
# Source: billing/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: billing-api
spec:
  ports: [{port: 80}]
---
---
# Source: billing/templates/empty.yaml
# (rendered to nothing)
---
# Source: billing/templates/externalsecret.yaml
apiVersion: kubernetes-client.io/v1
kind: ExternalSecret
metadata:
  name: billing-db
  annotations:
    deployed-at: 2024-01-01
spec:
  backendType: systemManager
  data:
    - {key: /billing/db, name: db}
"""

KUBECTL_LIST = """\
apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
  - apiVersion: v1
    kind: ServiceAccount
    metadata: {name: a, namespace: ns1}
  - apiVersion: v1
    kind: Secret
    metadata: {name: s, namespace: ns1}
    type: kubernetes.io/tls
    data: {tls.crt: Y2VydA==, tls.key: a2V5}
"""

TYPED_LIST = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBindingList",
    "items": [
        {
            "metadata": {"name": "rb", "namespace": "ns2"},
            "roleRef": {"kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "a", "namespace": "ns1"}],
        }
    ],
}


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_directory_of_helm_output_lists_and_json_loads(tmp_path: Path) -> None:
    write(tmp_path, "charts/billing.yaml", HELM_OUTPUT)
    write(tmp_path, "dump/all.yml", KUBECTL_LIST)
    write(tmp_path, "dump/rbac.json", json.dumps(TYPED_LIST))
    write(tmp_path, "notes.txt", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: not-a-manifest}\n")
    write(tmp_path, ".git/config.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: hidden}\n")

    snap = load_manifests(tmp_path, cluster="demo")

    assert [(s.namespace, s.name, s.labels) for s in snap.service_accounts] == [
        ("default", "billing-api", {"helm.sh/chart": "billing-1.0.0"}),
        ("ns1", "a", {}),
    ]
    assert [(s.name, s.type, s.keys) for s in snap.k8s_secrets] == [("s", "kubernetes.io/tls", ("tls.crt", "tls.key"))]
    assert [(b.namespace, b.name, b.role_kind, b.role_name) for b in snap.rbac_bindings] == [
        ("ns2", "rb", "Role", "reader")
    ]
    (es,) = snap.kes_external_secrets
    assert (es.namespace, es.name, es.backend_type) == ("default", "billing-db", "systemManager")
    assert {c.service: (c.status, c.count) for c in snap.coverage} == {
        "serviceaccounts": ("ok", 2),
        "secrets": ("ok", 1),
        "rolebindings.rbac.authorization.k8s.io": ("ok", 1),
        "externalsecrets.kubernetes-client.io": ("ok", 1),
        "Service": ("ignored", 1),
    }
    assert snap.incomplete() == ()


def test_a_single_file_can_be_given(tmp_path: Path) -> None:
    path = write(tmp_path, "one.yaml", HELM_OUTPUT)
    assert [sa.name for sa in load_manifests(path, cluster="demo").service_accounts] == ["billing-api"]


def failures(snapshot_coverage: tuple[Coverage, ...]) -> list[tuple[str | None, str | None]]:
    return [(c.resource, c.error) for c in snapshot_coverage if c.status == "failed"]


UNCLOSED = (
    "did not find expected ',' or ']'" if yaml.__with_libyaml__ else "expected ',' or ']', but got '<stream end>'"
)
"""The problem an unclosed flow sequence is reported with (libyaml's wording, or the pure-Python parser's)."""


def test_bad_documents_are_reported_and_everything_else_loads(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "apps/bad.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: before}\n"
        "---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: [broken\n"
        "---\n"
        "metadata: {name: no-kind}\nspec: {}\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: typo}\n"
        "---\n"
        "apiVersion: external-secrets.io/v2\nkind: ExternalSecret\nmetadata: {name: future, namespace: shop}\n"
        "---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: after}\n",
    )
    write(tmp_path, "apps/good.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    broken_json = write(tmp_path, "apps/broken.json", '{"apiVersion": "v1", "kind": ')

    snap = load_manifests(tmp_path, cluster="demo")

    assert [sa.name for sa in snap.service_accounts] == ["after", "before"]
    assert [ns.name for ns in snap.namespaces] == ["shop"]
    assert failures(snap.coverage) == [
        (f"{bad}#1", f"invalid YAML at line 9, column 1: {UNCLOSED}"),
        (f"{bad}#2 ?/no-kind", "apiVersion and kind: missing (not a Kubernetes object)"),
        (f"{bad}#3 Deploymnet/typo", "kind: unknown kind 'Deploymnet' for apiVersion apps/v1"),
        (
            f"{bad}#4 ExternalSecret/future",
            "apiVersion: ExternalSecret external-secrets.io/v2 is not supported "
            "(supported: external-secrets.io/v1, external-secrets.io/v1beta1, external-secrets.io/v1alpha1)",
        ),
        (f"{broken_json}#0", "invalid JSON at line 1, column 30: Expecting value"),
    ]
    assert all(c.source == "manifests" and c.scope == "demo" for c in snap.coverage)
    assert len(snap.incomplete()) == 5


@pytest.mark.parametrize("levels", [10_000, 400])
def test_deep_nesting_names_the_file_and_field_and_the_rest_loads(tmp_path: Path, levels: int) -> None:
    """Python's YAML and JSON readers recurse per level; libyaml stops at 1,000 levels."""
    deep = "[" * levels + "]" * levels
    yaml_file = write(
        tmp_path,
        "a/deep.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: first, namespace: shop}\n---\n"
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata:\n  x: {deep}\n---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: last, namespace: shop}\n",
    )
    json_file = write(tmp_path, "b/deep.json", '{"apiVersion": "v1", "kind": "List", "items": ' + deep + "}")
    write(tmp_path, "c/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")

    snap = load_manifests(tmp_path, cluster="demo")

    assert [sa.name for sa in snap.service_accounts] == ["first", "last"]
    assert [ns.name for ns in snap.namespaces] == ["shop"]
    found = dict(failures(snap.coverage))
    if levels > 1000:  # too deep to read at all: the field and the line are named
        assert found[f"{yaml_file}#1"].startswith("data.x[0][0][0]")
        assert " levels deep (line 9), too deep to read" in found[f"{yaml_file}#1"]
        assert found[f"{json_file}#0"].startswith("items[0][0][0]")
        assert found[f"{json_file}#0"].endswith(" more): nested too deeply to read")
    else:  # read: a ConfigMap is not used, and the List's items are not objects
        assert f"{yaml_file}#1" not in found


def test_unquoted_dates_stay_strings(tmp_path: Path) -> None:
    """kubectl keeps ``2024-01-02`` a string; YAML 1.1 would make it a date, which no label may be."""
    write(
        tmp_path,
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, labels: {since: 2024-01-02}}\n",
    )
    [sa] = load_manifests(tmp_path, cluster="demo").service_accounts
    assert sa.labels == {"since": "2024-01-02"}


def test_a_list_whose_items_is_not_a_list_is_failed(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "apiVersion: v1\nkind: List\nitems: {name: web}\n")
    write(tmp_path, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    snap = load_manifests(tmp_path, cluster="demo")
    assert failures(snap.coverage) == [(f"{path}#0", "List: items must be a list, got dict")]
    assert [ns.name for ns in snap.namespaces] == ["shop"]


def test_malformed_field_names_the_file_document_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\nautomountServiceAccountToken: 'no'\n",
    )
    snap = load_manifests(path, cluster="demo")
    assert [sa.name for sa in snap.service_accounts] == ["ok"]
    assert failures(snap.coverage) == [
        (f"{path}#1 ServiceAccount/web", "automountServiceAccountToken: must be true or false, got a string")
    ]


def test_duplicate_objects_keep_the_first(tmp_path: Path) -> None:
    sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop, labels: {from: %s}}\n"
    first = write(tmp_path, "a.yaml", sa % "a")
    second = write(tmp_path, "b.yaml", sa % "b")
    snap = load_manifests(tmp_path, cluster="demo")
    assert [s.labels for s in snap.service_accounts] == [{"from": "a"}]
    assert failures(snap.coverage) == [
        (f"{second}#0 ServiceAccount/web", f"duplicate of {first}#0 ServiceAccount/web; the first one is kept")
    ]


def test_missing_path_and_empty_directory_raise(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"nope: no such file or directory$"):
        load_manifests(tmp_path / "nope", cluster="demo")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ManifestError, match=r"empty: no \.yaml, \.yml, \.json files found$"):
        load_manifests(tmp_path / "empty", cluster="demo")
