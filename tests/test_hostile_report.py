"""Hostile text in every field that reaches the report: opened in Chromium, no script runs, nothing is fetched.

Anyone who may edit a ServiceAccount, a manifest, a policy or a tag controls text the report shows. The
inputs here put a payload in each such field: names (service account, role, parameter), an annotation,
a manifest's file name, a statement Sid, session-tag and condition values, a coverage error and its
resource, and the snapshot's metadata (``created_at`` of this and of the ``--previous`` snapshot). The
report is made as a user makes it (``irsa report --snapshot ... --previous ...``) and its HTML files are
opened in headless Chromium. Each payload, if it ran, would add a class to the page's ``<body>`` and
fetch from an unresolvable host; the checks read the DOM after the scripts ran and the browser's net log.
A control page with the same payloads written raw proves the checks see both.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from irsa_lib.collect.manifests import load_manifests
from irsa_lib.model import Coverage
from irsa_lib.render.report_page import DATA_FILE
from irsa_lib.snapshot import merge_snapshots, save_snapshot
from tests.browser_support import CHROMIUM, SKIP_REASON, leaving_requests, load_dom
from tests.graph import factory as f

pytestmark = [
    pytest.mark.browser,
    pytest.mark.notebook,
    pytest.mark.integration,
    pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON),
]

ROOT = Path(__file__).resolve().parent.parent
REPORT_FILES = ("access_report.html", "trust-graph.html")
"""The pages a browser opens; report_data.js (:data:`DATA_FILE`) is read by the first."""


def payload(field: str) -> str:
    """Script, an event handler and a remote image: any of them running marks ``<body>`` or fetches."""
    return (
        f'<script>document.body.classList.add("xss-{field}");fetch("https://xss.invalid/{field}")</script>'
        f'<img src="https://xss.invalid/img-{field}" onerror="document.body.classList.add(\'xss-{field}\')">'
    )


def name_payload(field: str) -> str:
    """For names, which must not hold ``/`` or ``:`` (file names, ARN parts, ``system:serviceaccount:...``)."""
    return f"<img src=x id=xss-{field} onerror=document.body.classList.add(this.id)>"


FIELDS = (
    "sa-name",
    "role-name",
    "param-name",
    "annotation",
    "file-name",
    "sid",
    "session-tag",
    "tag-condition",
    "coverage-error",
    "coverage-resource",
    "created-at",
    "previous-created-at",
)


def hostile_inputs(work: Path) -> tuple[Path, Path]:
    """A snapshot and a previous snapshot whose every shown field carries a payload."""
    manifests = work / "manifests"
    manifests.mkdir()
    role_name = name_payload("role-name")
    docs = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": name_payload("sa-name"),
                "namespace": "billing",
                "annotations": {"eks.amazonaws.com/role-arn": f.role_arn(role_name)},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "annotations": {"eks.amazonaws.com/role-arn": payload("annotation")},
            },
        },
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": "shared"},
            "spec": {
                "provider": {
                    "aws": {
                        "service": "ParameterStore",
                        "region": f.REGION,
                        "role": f.role_arn("eso-role"),
                        "sessionTags": [{"key": "esoNamespace", "value": payload("session-tag")}],
                    }
                }
            },
        },
    ]
    (manifests / "objects.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs), encoding="utf-8")
    (manifests / f"{name_payload('file-name')}.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    kubernetes = load_manifests(manifests, cluster=f.CLUSTER)

    trust = f.irsa_trust("system:serviceaccount:*", op="StringLike")
    trust["Statement"][0]["Sid"] = payload("sid")
    parameter = "/billing/" + name_payload("param-name")
    tagged_trust = f.doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f.role_arn(role_name)},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"aws:RequestTag/esoNamespace": payload("tag-condition")}},
        }
    )
    read = f.doc(f.allow("ssm:GetParameter", f.param_arn(parameter)), f.allow("kms:Decrypt", f.key_arn("k1")))
    aws = f.snapshot(
        roles=[f.role(role_name, trust, read), f.role("eso-role", tagged_trust)],
        kms_keys=[f.kms_key("k1", "alias/app", f.key_policy_root())],
        ssm_parameters=[f.param(parameter, f.key_arn("k1"))],
    )
    gap = Coverage(
        source="aws",
        scope=f"{f.ACCT}/{f.REGION}",
        service="secretsmanager",
        status="denied",
        error=payload("coverage-error"),
        resource=payload("coverage-resource"),
    )
    aws = dataclasses.replace(aws, coverage=(gap,))
    now = merge_snapshots([aws, kubernetes], created_at="2026-11-29T00:00:00Z" + payload("created-at"))
    before = dataclasses.replace(
        now, created_at="2026-01-01T00:00:00Z" + payload("previous-created-at"), service_accounts=()
    )
    return save_snapshot(now, work / "snapshot.json"), save_snapshot(before, work / "previous.json")


@dataclass(frozen=True)
class Report:
    out: Path
    pages: dict[str, str]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    work = tmp_path_factory.mktemp("hostile")
    snapshot, previous = hostile_inputs(work)
    out = work / "out"
    command = ["report", "--snapshot", str(snapshot), "--previous", str(previous), "-o", str(out)]
    run = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # the report's rows live in report_data.js beside the page (its text escapes <, > and &)
    files = (*REPORT_FILES, DATA_FILE)
    return Report(out, {name: (out / name).read_text(encoding="utf-8") for name in files})


def ran(dom: str) -> list[str]:
    """The payload fields whose script ran: the classes they added to ``<body>``."""
    return sorted({m for body in re.findall(r"<body\b[^>]*>", dom) for m in re.findall(r"xss-[a-z-]+", body)})


def test_every_field_reaches_the_report_as_text(report: Report) -> None:
    shown = " ".join(report.pages.values())
    assert [field for field in FIELDS if f"xss-{field}" not in shown] == []
    for name, page in report.pages.items():
        raw = [field for field in FIELDS if payload(field) in page or name_payload(field) in page]
        assert raw == [], f"{name} holds raw payloads of {raw}"


@pytest.mark.parametrize("page", REPORT_FILES)
def test_no_payload_runs_and_nothing_leaves_the_page(report: Report, page: str, tmp_path: Path) -> None:
    loaded = load_dom(report.out / page, tmp_path, name=page.removesuffix(".html"))
    assert "</body>" in loaded.dom  # the page loaded and was serialised
    assert ran(loaded.dom) == []
    assert leaving_requests(loaded.requests) == []


def test_report_loads_nothing_from_a_cdn(report: Report) -> None:
    """nbconvert's lab template imports mermaid from a CDN when a page has a diagram: the loader is left out."""
    assert "mermaid" not in report.pages["access_report.html"].lower()


def test_control_the_checks_see_payloads_that_run(tmp_path: Path) -> None:
    """The same payloads written into a page unescaped: every one runs and the remote fetches are seen."""
    page = tmp_path / "control.html"
    body = "".join(payload(field) for field in FIELDS[3:5]) + name_payload("sa-name")
    page.write_text(f"<!DOCTYPE html><html><body><p>control</p>{body}</body></html>", encoding="utf-8")
    loaded = load_dom(page, tmp_path, name="control")
    assert ran(loaded.dom) == ["xss-annotation", "xss-file-name", "xss-sa-name"]
    assert {u.removeprefix("https://xss.invalid/") for u in leaving_requests(loaded.requests)} >= {
        "annotation",
        "img-annotation",
    }
