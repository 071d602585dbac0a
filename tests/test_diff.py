"""Drift between two analyses: findings and access rows added, removed and changed; `irsa diff`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from irsa_lib.analysis import analyse
from irsa_lib.cli import main
from irsa_lib.diff import diff_analyses, diff_rows
from irsa_lib.findings import Severity
from irsa_lib.rowtable import RowTable
from irsa_lib.snapshot import Snapshot, save_snapshot
from tests.findings.builders import HOST, arn, irsa_trust, role, scoped_irsa, snap

SUB = f"{HOST}:sub"
WILD = irsa_trust({"StringLike": {SUB: "system:serviceaccount:*:*"}})
NO_AUD = irsa_trust({"StringEquals": {SUB: "system:serviceaccount:a:b"}})


def old_new() -> tuple[Snapshot, Snapshot]:
    old = snap(roles=(role("fixed", WILD), role("same", NO_AUD), role("tightened", WILD)))
    # fixed: F01+F18 resolved; same: unchanged F18; tightened: F01 resolved, F18 evidence unchanged;
    # new-open: F01 and F18 added.
    new = snap(
        roles=(
            role("fixed", scoped_irsa("a", "b")),
            role("same", NO_AUD),
            role("tightened", NO_AUD),
            role("new-open", WILD),
        )
    )
    return old, new


def test_findings_added_removed_changed() -> None:
    old, new = old_new()
    d = diff_analyses(analyse(old), analyse(new))
    assert d.access_added == d.access_removed == d.access_changed == ()
    assert {f.key for f in d.findings_added} == {("F01", arn("new-open")), ("F18", arn("new-open"))}
    assert {f.key for f in d.findings_removed} == {
        ("F01", arn("fixed")),
        ("F18", arn("fixed")),
        ("F01", arn("tightened")),
    }
    assert [(c.key, c.fields) for c in d.findings_changed] == []
    assert [f.key for f in d.new_at_or_above(Severity.HIGH)] == [("F01", arn("new-open"))]


def test_changed_finding_when_evidence_moves() -> None:
    two = {"Statement": [WILD["Statement"][0], irsa_trust(None)["Statement"][0]]}
    d = diff_analyses(analyse(snap(roles=(role("r", WILD),))), analyse(snap(roles=(role("r", two),))))
    # both statements lack aud, so F18 gains evidence too
    assert [(c.key, c.fields) for c in d.findings_changed] == [
        (("F01", arn("r")), ("evidence",)),
        (("F18", arn("r")), ("evidence",)),
    ]
    assert d.new_at_or_above(Severity.HIGH) == []  # same severity, already failing


def test_identical_snapshots_are_empty() -> None:
    old, _ = old_new()
    assert diff_analyses(analyse(old), analyse(old)).is_empty


@dataclass(frozen=True)
class Row:
    cluster: str
    namespace: str
    service_account: str
    secret_arn: str
    secret_name: str
    secret_kind: str
    access: str
    decision: str
    path: tuple[str, ...]
    mechanisms: tuple[str, ...]
    subject_kind: str = "ServiceAccount"


def row(
    ns: str,
    secret: str,
    decision: str = "allow",
    path: tuple[str, ...] = ("sa", "role"),
    *,
    name: str = "app",
    kind: str = "ServiceAccount",
) -> Row:
    return Row(
        "demo", ns, name, f"arn:{secret}", secret, "ssm-parameter", "via-controller", decision, path, ("kes",), kind
    )


def test_access_rows_keyed_and_compared() -> None:
    old = [row("billing", "/billing/db"), row("payments", "/payments/api"), row("billing", "/billing/key")]
    new = [
        row("billing", "/billing/db"),
        row("billing", "/billing/key", decision="conditional"),
        row("tenant", "/payments/api"),
    ]
    added, removed, changed = diff_rows(old, new)
    assert [(r["namespace"], r["secret_name"]) for r in added] == [("tenant", "/payments/api")]
    assert [(r["namespace"], r["secret_name"]) for r in removed] == [("payments", "/payments/api")]
    assert [(c.new["secret_name"], c.fields) for c in changed] == [("/billing/key", ("decision",))]


def test_a_user_and_a_service_account_of_the_same_name_are_different_rows() -> None:
    sa_row = row("billing", "/billing/db", name="deploy")
    user_row = row("billing", "/billing/db", name="deploy", kind="User", path=("User deploy", "role"))
    added, removed, changed = diff_rows([sa_row], [sa_row, user_row])
    assert [(r["subject_kind"], r["service_account"]) for r in added] == [("User", "deploy")]
    assert removed == [] and changed == []
    # the user losing access is a removal, not a change of the service account's row
    added, removed, changed = diff_rows([sa_row, user_row], [sa_row])
    assert [(r["subject_kind"], r["service_account"]) for r in removed] == [("User", "deploy")]
    assert added == [] and changed == []


def test_access_rows_of_two_analyses_added_and_changed() -> None:
    # web-role trusts app/web exactly and reads /app/db with its own key: one direct row, allow.
    # In the new snapshot the key policy lets web-role decrypt only with MFA (conditional), and a
    # second service account, app/batch, is admitted by the trust: one row changed, one added.
    from tests.graph import factory as f

    read = f.doc(f.allow("ssm:GetParameter", f.param_arn("/app/*")))
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    decrypt_with_mfa = f.doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f.role_arn("web-role")},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": mfa,
        }
    )

    def state(key_policy: dict[str, object], subs: list[str]) -> Snapshot:
        trust = f.irsa_trust(subs[0] if len(subs) == 1 else subs)  # type: ignore[arg-type]
        return f.snapshot(
            roles=[f.role("web-role", trust, read)],
            service_accounts=[f.sa("app", "web", "web-role"), f.sa("app", "batch", "web-role")],
            kms_keys=[f.kms_key("k-app", "alias/app", key_policy)],
            ssm_parameters=[f.param("/app/db", "alias/app")],
        )

    old = state(f.key_policy_for("web-role"), ["system:serviceaccount:app:web"])
    new = state(decrypt_with_mfa, ["system:serviceaccount:app:web", "system:serviceaccount:app:batch"])
    d = diff_analyses(analyse(old), analyse(new))
    assert [(r["namespace"], r["service_account"], r["secret_name"]) for r in d.access_added] == [
        ("app", "batch", "/app/db")
    ]
    assert d.access_removed == ()
    assert [(c.new["service_account"], c.fields) for c in d.access_changed] == [("web", ("decision",))]
    assert (d.access_changed[0].old["decision"], d.access_changed[0].new["decision"]) == ("allow", "conditional")

    # the same rows as plain records (what a what-if's worker and baseline file hold): the same answer
    old_rows, new_rows = analyse(old).rows, analyse(new).rows
    as_records = diff_rows(RowTable.from_json(RowTable.of(old_rows).to_json()), RowTable.of(new_rows))
    assert as_records == diff_rows(old_rows, new_rows) == (list(d.access_added), [], list(d.access_changed))


# --- CLI ------------------------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    old, new = old_new()
    return save_snapshot(old, tmp_path / "old.json"), save_snapshot(new, tmp_path / "new.json")


def test_cli_json_and_text(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    old, new = files
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted((f["rule"], f["resource"]) for f in data["findings"]["added"]) == [
        ("F01", arn("new-open")),
        ("F18", arn("new-open")),
    ]
    assert len(data["findings"]["removed"]) == 3
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert (
        "findings: 2 new, 3 resolved, 0 changed" in out
        and f"+ critical F01 irsa-trust-any-service-account: {arn('new-open')}" in out
    )


def test_cli_fail_on_new(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = files
    assert main(["diff", str(old), str(new), "--fail-on-new", "critical"]) == 1
    assert main(["diff", str(old), str(old), "--fail-on-new", "info"]) == 0
    only_low = save_snapshot(
        snap(roles=(role("fixed", WILD), role("same", NO_AUD), role("tightened", WILD), role("x", NO_AUD))),
        tmp_path / "low.json",
    )
    assert main(["diff", str(old), str(only_low), "--fail-on-new", "high"]) == 0
    assert main(["diff", str(old), str(only_low), "--fail-on-new", "low"]) == 1
    capsys.readouterr()


def test_cli_bad_input(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, _ = files
    assert main(["diff", str(old), str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
