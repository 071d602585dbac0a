"""Report assembly without a kernel: inputs, sections, files, the explorer's selection, onboarding checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from irsa_lib.analysis import Analysis
from irsa_lib.cli import build_parser
from irsa_lib.cli.report import parameters
from irsa_lib.collect.gather import gather_snapshot, parse_cluster_map, snapshot_file
from irsa_lib.errors import UsageError
from irsa_lib.model import Coverage, ServiceAccount
from irsa_lib.notebooks import choices, rows_for, selection
from irsa_lib.render.graph_view import Focus
from irsa_lib.render.report import (
    drift_frame,
    summary_frame,
    trust_graph,
    write_report_files,
)
from irsa_lib.render.report_data import from_script
from irsa_lib.resolve import Inventory
from irsa_lib.snapshot import Snapshot, save_snapshot
from tests.render_fixtures import BILLING_DB, ES_ROLE, demo_like_graph, finding, read_csv_records

ROWS = (
    {
        "cluster": "demo",
        "namespace": "billing",
        "service_account": "billing",
        "secret_name": "/billing/db",
        "secret_arn": BILLING_DB.removeprefix("param:"),
        "secret_kind": "ssm-parameter",
        "access": "via-controller",
        "decision": "allow",
        "path": ("workload:demo/billing/Deployment/billing", "k8s-secret:demo/billing/db-creds", BILLING_DB),
        "mechanisms": ("mounts-secret", "materialised-from", "kes-read"),
    },
    {
        "cluster": "demo",
        "namespace": "external-secrets",
        "service_account": "external-secrets-sa",
        "secret_name": "/payments/db",
        "secret_arn": "arn:aws:ssm:us-east-1:123456789012:parameter/payments/db",
        "secret_kind": "ssm-parameter",
        "access": "direct",
        "decision": "conditional",
        "path": (),
        "mechanisms": ("irsa", "assume-role", "can-read"),
    },
)
FINDINGS = (
    finding("F03", ES_ROLE.removeprefix("role:")),
    finding("F18", "demo/billing/ServiceAccount/billing"),
)
SNAP = Snapshot(
    created_at="2026-11-29T00:00:00Z",
    service_accounts=(ServiceAccount(cluster="demo", namespace="billing", name="billing"),),
    coverage=(
        Coverage(source="aws", scope="123456789012/us-east-1", service="kms:GetKeyPolicy", status="denied"),
        Coverage(source="manifests", scope="demo", service="serviceaccounts", status="ok", count=1),
    ),
)


def analysis() -> Analysis:
    return Analysis(
        snapshot=SNAP,
        inventory=Inventory.from_snapshot(SNAP),
        graph=demo_like_graph(),  # type: ignore[arg-type]
        rows=ROWS,  # type: ignore[arg-type]
        findings=FINDINGS,  # type: ignore[arg-type]
        rules=(),
    )


# ---------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ({"prod": "ctx"}, {"prod": "ctx"}),
        (["prod=ctx-a", "dev=ctx-b"], {"prod": "ctx-a", "dev": "ctx-b"}),
        ("prod=/m/prod, dev=/m/dev", {"prod": "/m/prod", "dev": "/m/dev"}),
        (["/dumps/prod"], {"prod": "/dumps/prod"}),
    ],
)
def test_cluster_maps_in_every_shape(value: object, expected: dict[str, str]) -> None:
    assert parse_cluster_map(value, what="x") == expected  # type: ignore[arg-type]


def test_cluster_map_errors_name_the_option() -> None:
    with pytest.raises(UsageError, match=r"--manifests: cluster 'a' given twice"):
        parse_cluster_map(["a=1", "a=2"], what="--manifests")
    with pytest.raises(UsageError, match=r"--kube-context: cannot read '=x'"):
        parse_cluster_map(["=x"], what="--kube-context")


def test_gather_loads_a_snapshot_or_the_environment_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_snapshot(SNAP, tmp_path / "s.json")
    assert gather_snapshot(snapshot_path=path) == SNAP
    assert snapshot_file(snapshot_path=path, manifest_dirs="c=x") == str(path)  # the file the load reads
    monkeypatch.delenv("IRSA_SNAPSHOT", raising=False)
    for gather in (gather_snapshot, snapshot_file):
        with pytest.raises(UsageError, match="nothing to analyse"):
            gather(collect_aws=False, kube_contexts={}, manifest_dirs="")
    assert snapshot_file(manifest_dirs="c=x") is None and snapshot_file(aws_regions=["eu-west-1"]) is None  # collected
    monkeypatch.setenv("IRSA_SNAPSHOT", str(path))
    assert gather_snapshot() == SNAP
    assert snapshot_file(aws_profiles=[], kubeconfig="k") == str(path)
    assert snapshot_file(collect_aws=True) is None


def test_the_notebooks_analyse_a_snapshot_file_through_the_graph_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file (given, or the environment's when no source is) is analysed through the cache, as the
    commands analyse it: the second analysis starts from the graph the first kept, with the same
    answers; manifests (collected, not a file) are analysed as collected and keep nothing."""
    import irsa_lib.cache
    from irsa_lib.analysis import analyse
    from irsa_lib.notebooks import analyse_snapshot_file, gather_analysis
    from irsa_lib.snapshot import load_snapshot
    from tests.graph.test_kes import scenario

    cache = tmp_path / "cache"
    monkeypatch.setenv("IRSA_CACHE", "on")
    monkeypatch.setenv("IRSA_CACHE_DIR", str(cache))
    path = save_snapshot(scenario(), tmp_path / "kes.json")
    loads: list[Path] = []
    real = irsa_lib.cache.load_snapshot
    monkeypatch.setattr(irsa_lib.cache, "load_snapshot", lambda p, **kw: loads.append(p) or real(p, **kw))
    expected = analyse(load_snapshot(path))
    first = gather_analysis(snapshot_path=str(path), aws_profiles=[], manifest_dirs={}, kubeconfig=None)
    monkeypatch.delenv("IRSA_SNAPSHOT", raising=False)
    monkeypatch.setenv("IRSA_SNAPSHOT", str(path))
    second = gather_analysis(snapshot_path=None, aws_profiles=[], kube_contexts={}, kubeconfig="kubeconfig")
    third = analyse_snapshot_file(path)  # the drift section's previous snapshot
    assert len(loads) == 1 and len(list(cache.iterdir())) == 1  # built once, then read from the cache
    for got in (first, second, third):
        assert [r.to_json() for r in got.rows] == [r.to_json() for r in expected.rows]
        assert [f.to_json() for f in got.findings] == [f.to_json() for f in expected.findings]
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: n}\n")
    collected = gather_analysis(snapshot_path=None, manifest_dirs={"c1": str(manifests)})
    assert [sa.name for sa in collected.snapshot.service_accounts] == ["a"] and len(loads) == 1


def test_report_cli_parameters(tmp_path: Path) -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "report",
            "-o",
            str(tmp_path),
            "--manifests",
            "demo=m",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--previous",
            "p.json",
            "--whatif",
            "w.json",
        ]
    )
    params = parameters(args)
    assert params["whatif_path"] == str(Path("w.json").resolve())
    assert params["manifest_dirs"] == {"demo": str(Path("m").resolve())}
    assert params["endpoint_url"] == "http://127.0.0.1:1"
    assert params["previous_snapshot"] == str(Path("p.json").resolve())
    assert params["snapshot_path"] is None
    with pytest.raises(UsageError, match="either --snapshot or sources"):
        parameters(parser.parse_args(["report", "-o", "x", "--snapshot", "s.json", "--region", "us-east-1"]))
    with pytest.raises(UsageError, match="nothing to analyse"):
        parameters(parser.parse_args(["report", "-o", "x"]))


def test_report_cli_reports_bad_input_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from irsa_lib.cli import main

    assert main(["report", "-o", str(tmp_path / "out")]) == 2
    assert "irsa report: error: nothing to analyse" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- sections and files


def test_summary_counts() -> None:
    summary = dict(summary_frame(analysis()).itertuples(index=False, name=None))
    assert summary["service accounts"] == "1"
    # both rows' subjects are service accounts; every kind is counted, zero included
    assert summary["subjects reaching a value: service accounts"] == "2"
    assert summary["subjects reaching a value: RBAC groups"] == "0"
    assert summary["subjects reaching a value: kubelets (nodes)"] == "0"
    assert summary["values (parameters and secrets) some subject can read"] == "2"
    assert summary["access paths: direct"] == "1"
    assert summary["access paths: via controller"] == "1"
    assert summary["findings: critical"] == "1"
    assert summary["findings: all"] == "2"
    assert summary["sources not fully collected"] == "1"


def test_trust_graph_section_is_an_iframe_with_findings_marked() -> None:
    html = trust_graph(analysis())
    assert html._repr_html_().startswith('<iframe sandbox="allow-scripts" srcdoc="')
    assert f"&quot;flagged&quot;: [&quot;{ES_ROLE}&quot;, &quot;sa:demo/billing/billing&quot;]" in html


def test_write_report_files(tmp_path: Path) -> None:
    written = write_report_files(analysis(), tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "snapshot.json",
            "trust-graph.html",
            "report_data.js",
            "access_rows.csv",
            "access_matrix.csv",
            *(
                f"{t}.{ext}"
                for t in ("findings", "coverage", "values", "subjects", "namespaces")
                for ext in ("csv", "json")
            ),
        ]
    )
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert [f["rule"] for f in findings] == ["F03", "F18"]
    values = json.loads((tmp_path / "out" / "values.json").read_text())
    # /billing/db belongs to billing (its first path segment) and is read from there only
    billing = next(v for v in values if v["value"] == "/billing/db")
    assert (billing["owner_namespace"], billing["readers"], billing["readers_outside_owner"]) == ("billing", 1, 0)
    payments = next(v for v in values if v["value"] == "/payments/db")
    # no namespace "payments" in this snapshot: no owner, so no reader counts as outside
    assert (payments["owner_namespace"], payments["readers"], payments["readers_outside_owner"]) == ("", 1, 0)
    script = (tmp_path / "out" / "report_data.js").read_text()
    assert script.startswith('window["IRSA_REPORT_DATA"] = JSON.parse("')
    data = from_script(script)
    assert "sa demo/billing/billing" in [s[0] for s in data["subjects"]]
    assert len(data["rows"]["s"]) == len(read_csv_records(tmp_path / "out" / "access_rows.csv"))


@dataclass(frozen=True)
class Change:
    old: object
    new: object
    fields: tuple[str, ...]


@dataclass(frozen=True)
class FakeDrift:
    findings_added: tuple[object, ...] = ()
    findings_removed: tuple[object, ...] = ()
    findings_changed: tuple[Change, ...] = ()
    access_added: tuple[dict[str, object], ...] = ()
    access_removed: tuple[dict[str, object], ...] = ()
    access_changed: tuple[Change, ...] = field(default=())


def test_drift_frame_lists_each_change() -> None:
    old_row = {**ROWS[1], "decision": "allow"}
    drift = FakeDrift(
        findings_added=(FINDINGS[0],),
        findings_removed=(FINDINGS[1],),
        access_added=(ROWS[0],),
        access_changed=(Change(old_row, ROWS[1], ("decision",)),),
    )
    frame = drift_frame(drift)
    assert list(frame.columns) == ["change", "kind", "what", "before", "after"]
    assert list(frame.itertuples(index=False, name=None)) == [
        (
            "new",
            "finding",
            "F03 arn:aws:iam::123456789012:role/external-secrets-role",
            "",
            "critical: kubernetes-external-secrets without effective namespace role gating",
        ),
        (
            "gone",
            "finding",
            "F18 demo/billing/ServiceAccount/billing",
            "low: IRSA trust policy has no aud condition",
            "",
        ),
        (
            "new",
            "access",
            "sa demo/billing/billing reads /billing/db (via-controller)",
            "",
            f"allow: workload:demo/billing/Deployment/billing → k8s-secret:demo/billing/db-creds → {BILLING_DB}",
        ),
        (
            "changed",
            "access",
            "sa demo/external-secrets/external-secrets-sa reads /payments/db (direct)",
            "allow: ",
            "conditional: ",
        ),
    ]


# ---------------------------------------------------------------- explorer and onboarding


def test_rows_for_and_choices() -> None:
    assert rows_for(ROWS, namespace="billing") == [ROWS[0]]
    assert rows_for(ROWS, secret=ROWS[1]["secret_arn"]) == [ROWS[1]]  # type: ignore[arg-type]
    assert rows_for(ROWS, cluster="other") == []
    assert choices(analysis())["namespace"] == ["billing", "external-secrets"]


def test_selection_focuses_the_graph_and_filters_findings() -> None:
    sel = selection(analysis(), cluster="demo", namespace="billing", service_account="billing")
    assert sel.focus == Focus(service_account="demo/billing/billing")
    assert list(sel.rows["secret_name"]) == ["/billing/db"]
    assert list(sel.findings["rule"]) == ["F18"]
    assert sel.description == "cluster demo, namespace billing, service account billing"
    by_secret = selection(analysis(), secret="/payments/db")
    assert by_secret.focus == Focus(secret="/payments/db")
    everything = selection(analysis())
    assert everything.focus == Focus() and len(everything.rows) == 2 and len(everything.findings) == 2


def test_explorer_panel_updates_on_picks() -> None:
    from irsa_lib.notebooks import explorer

    panel = explorer(analysis())
    pickers, result = panel.children[0].children, panel.children[1]
    assert "Access paths: 2 (everything)" in result.value
    namespace = next(p for p in pickers if p.description == "namespace")
    namespace.value = "billing"
    assert "Access paths: 1 (namespace billing)" in result.value
    assert "srcdoc=" in result.value


def test_the_explorer_index_gives_the_answers_of_a_full_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    from irsa_lib import notebooks
    from irsa_lib.notebooks import RowIndex, selection_html

    a = analysis()
    index = RowIndex(a.rows)
    for pick in (
        {"secret": "/payments/db"},
        {"secret": ROWS[1]["secret_arn"]},
        {"namespace": "billing"},
        {"cluster": "demo", "namespace": "billing", "service_account": "billing"},
        {"service_account": "nobody"},
        {},
    ):
        scanned, indexed = selection(a, **pick), selection(a, index=index, **pick)  # type: ignore[arg-type]
        assert scanned.rows.equals(indexed.rows) and scanned.findings.equals(indexed.findings), pick
    # a long table is cut, saying so
    monkeypatch.setattr(notebooks, "SHOWN_ROWS", 1)
    page = selection_html(a, selection(a, index=index))
    assert "Access paths: the first 1 of 2 (view.rows holds all) (everything)" in page
