"""IAM not collected (GetAccountAuthorizationDetails denied or throttled): every analysis still completes.

The demo account is collected through the fault-injecting proxy in front of the local endpoint, with
the IAM authorization dump answered by an AWS error. Collection records the gap; ``irsa access``,
``irsa findings``, ``irsa graph`` and ``irsa report`` must then finish and say "unknown" where IAM
could matter, never crash and never report the account's IAM mistakes as absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from irsa_lib.cli import main
from irsa_lib.demo.run import collect_demo
from irsa_lib.demo.scenario import ACCOUNT_ID, DemoFacts
from irsa_lib.demo.server import LocalAws
from irsa_lib.snapshot import save_snapshot
from tests.collect.proxy import AwsProxy, ErrorRule

pytestmark = pytest.mark.integration

FAULTS = {
    "denied": ErrorRule(
        service="iam",
        operation="GetAccountAuthorizationDetails",
        status=403,
        code="AccessDenied",
        message="User: arn:aws:sts::123456789012:assumed-role/collector/x is not authorized to perform: "
        "iam:GetAccountAuthorizationDetails",
    ),
    "throttled": ErrorRule(
        service="iam", operation="GetAccountAuthorizationDetails", code="Throttling", message="Rate exceeded"
    ),
}


@pytest.fixture
def proxy(seeded_aws: LocalAws, facts: DemoFacts) -> Iterator[AwsProxy]:
    url = urlparse(seeded_aws.endpoint_url)
    p = AwsProxy((str(url.hostname), int(url.port or 80))).start()
    yield p
    p.stop()


def run(capsys: Any, *argv: str) -> tuple[str, str]:
    """``irsa ARGV`` in-process: it must succeed; (stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out, err


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_analysis_completes_and_says_unknown_when_iam_was_not_collected(
    fault: str, proxy: AwsProxy, facts: DemoFacts, tmp_path: Path, capsys: Any
) -> None:
    proxy.rules.append(FAULTS[fault])
    snapshot = collect_demo(proxy.url, cluster=facts.cluster_name)
    iam = [c for c in snapshot.incomplete() if c.service == "iam"]
    assert [(c.scope, c.status) for c in iam] == [(f"{ACCOUNT_ID}/global", fault)]
    assert snapshot.roles == ()
    path = str(save_snapshot(snapshot, tmp_path / "snapshot.json"))

    # access: nothing can be claimed readable, and the answer says why it is unknown (not "no access")
    out, err = run(capsys, "access", path, "--format", "json")
    assert json.loads(out) == []
    assert "access through them is unknown, not absent" in err
    assert f"aws {ACCOUNT_ID}/global iam: {fault}" in err
    assert f"node role arn:aws:iam::{ACCOUNT_ID}:role/demo-node-role is not in the snapshot" in err

    # findings: the demo's planted IAM mistakes (scenario (a) wildcard trust, (b) root trust, (c) node
    # role with IMDS, KES gating) cannot be judged: each rule says unknown instead of passing
    findings = json.loads(run(capsys, "findings", path, "--format", "json")[0])
    unknown = {f["rule"] for f in findings if f["status"] == "unknown"}
    assert {"F01", "F02", "F03", "F05"} <= unknown
    assert not [f for f in findings if f["status"] == "fail" and f["resource"].startswith("arn:aws:iam::")]

    run(capsys, "graph", path, "-o", str(tmp_path / "graph.html"))
    assert (tmp_path / "graph.html").stat().st_size > 0


@pytest.mark.notebook
def test_report_completes_when_iam_was_not_collected(
    proxy: AwsProxy, facts: DemoFacts, tmp_path: Path, capsys: Any
) -> None:
    proxy.rules.append(FAULTS["denied"])
    path = str(save_snapshot(collect_demo(proxy.url, cluster=facts.cluster_name), tmp_path / "snapshot.json"))
    run(capsys, "report", "--snapshot", path, "-o", str(tmp_path / "out"))
    page = (tmp_path / "out" / "access_report.html").read_text(encoding="utf-8")
    assert "iam:GetAccountAuthorizationDetails: AccessDenied" in page  # the coverage section names the gap
