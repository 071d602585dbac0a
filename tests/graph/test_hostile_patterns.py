"""Hostile patterns in policies and annotations: the analysis finishes and gives the hand-written answer.

IAM's ``*`` and ``?`` used to be turned into a regular expression and matched by Python's backtracking
engine: ten wildcards against a name of a few hundred characters that almost matches take longer than
anyone waits, and a trust policy's ``StringLike`` on ``sub`` or a policy's ``Resource`` is written by
whoever may edit IAM. The same held for the KES namespace regex, written by whoever may annotate a
namespace, now evaluated with RE2. ``irsa access`` runs in a subprocess here; its timeout only stops a hung run (how
long matching takes is measured in ``benchmarks/bench_matching.py``).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from irsa_lib.snapshot import save_snapshot
from tests.graph.factory import (
    HOST,
    allow,
    doc,
    irsa_trust,
    key_arn,
    key_policy_root,
    kms_key,
    namespace,
    param,
    param_arn,
    role,
    sa,
    snapshot,
)
from tests.graph.test_kes import PERMITTED, es, scenario

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "a" * 30
WILD_SUB = "system:serviceaccount:" + "*a" * 10 + "*:*b"
"""Ten a's, then a ``:``, then anything ending in b."""
WILD_RESOURCE = param_arn("/" + "*a" * 10 + "*c")


def irsa_access(snap_path: Path) -> list[dict[str, object]]:
    run = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "access", str(snap_path), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # stops a hung run only
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows: list[dict[str, object]] = json.loads(run.stdout)
    return rows


def test_many_wildcards_against_long_names_finish_with_the_right_rows(tmp_path: Path) -> None:
    trust = irsa_trust(WILD_SUB, op="StringLike")
    reads = doc(allow("ssm:GetParameter", WILD_RESOURCE), allow("kms:Decrypt", key_arn("k1")))
    matching, near = "/" + "a" * 1000 + "c", "/" + "a" * 1000
    snap = snapshot(
        roles=[role("wild-role", trust, reads)],
        kms_keys=[kms_key("k1", "alias/k1", key_policy_root())],
        ssm_parameters=[param(matching, key_arn("k1")), param(near, key_arn("k1"))],
        service_accounts=[
            sa(NAMESPACE, "x" * 200 + "b", "wild-role"),  # sub: ten a's in the namespace, ':' and a final b
            sa(NAMESPACE, "x" * 200, "wild-role"),  # no final b: the trust does not admit it
        ],
    )
    assert trust["Statement"][0]["Condition"]["StringLike"] == {f"{HOST}:sub": WILD_SUB}
    rows = irsa_access(save_snapshot(snap, tmp_path / "snap.json"))
    # the trust admits the first account, and any account someone creates in a namespace with ten a's
    # whose name ends in b (potential); the policy's pattern names the parameter ending in c only
    assert [(r["subject_kind"], r["namespace"], r["service_account"], r["secret_name"], r["access"]) for r in rows] == [
        ("AnyServiceAccount", None, "*", matching, "potential"),
        ("ServiceAccount", NAMESPACE, "x" * 200 + "b", matching, "direct"),
    ]
    assert {r["decision"] for r in rows} == {"allow"}


def test_a_kes_permitted_regex_that_backtracks_exponentially_is_decided(tmp_path: Path) -> None:
    """``(a+)+$`` against ``role/aaaa...!`` takes exponential time in a backtracking engine; RE2 says no."""
    snap = scenario()
    snap = dataclasses.replace(
        snap,
        namespaces=tuple(
            namespace("billing", {PERMITTED: "^arn:aws:iam::111122223333:role/(a+)+$"}) if n.name == "billing" else n
            for n in snap.namespaces
        ),
        kes_external_secrets=(*snap.kes_external_secrets, es("billing", "long", "a" * 40 + "!", "/billing/db")),
    )
    rows = irsa_access(save_snapshot(snap, tmp_path / "snap.json"))
    # the regex admits no role ARN named in billing: nothing reaches it through KES (the roles
    # the other namespaces permit are unchanged)
    assert [r for r in rows if r["namespace"] == "billing"] == []
    accounts = [r for r in rows if r["subject_kind"] == "ServiceAccount"]
    assert {(r["namespace"], r["secret_name"]) for r in accounts if r["access"] == "via-controller"} == {
        ("payments", "/payments/key"),
        ("team-x", "/payments/key"),
    }
