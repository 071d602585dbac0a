"""The snapshot seam: strict JSON round trip, clear errors, atomic writes."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from irsa_lib.cli import main
from irsa_lib.model import Coverage, KMSKey, Role, ServiceAccount, SSMParameter
from irsa_lib.snapshot import (
    SCHEMA_VERSION,
    Snapshot,
    SnapshotError,
    load_snapshot,
    merge_snapshots,
    save_snapshot,
    snapshot_to_json,
    write_atomic,
)

ROOT = Path(__file__).resolve().parent.parent

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def sample() -> Snapshot:
    return Snapshot(
        created_at="2026-11-29T00:00:00Z",
        roles=(
            Role(
                arn="arn:aws:iam::111122223333:role/a",
                name="a",
                role_id="AROAEXAMPLE",
                account_id="111122223333",
                trust_policy=TRUST,
                tags={"team": "a"},
            ),
        ),
        kms_keys=(
            KMSKey(
                arn="arn:aws:kms:us-east-1:111122223333:key/k",
                key_id="k",
                account_id="111122223333",
                region="us-east-1",
                manager="CUSTOMER",
                aliases=("alias/a",),
            ),
        ),
        ssm_parameters=(
            SSMParameter(
                arn="arn:aws:ssm:us-east-1:111122223333:parameter/a/db",
                name="/a/db",
                account_id="111122223333",
                region="us-east-1",
                type="SecureString",
                key_id="alias/a",
            ),
        ),
        service_accounts=(
            ServiceAccount(
                cluster="c",
                namespace="kube-system",
                name="external-secrets-sa",
                annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/a"},
            ),
        ),
        coverage=(
            Coverage(source="aws", scope="111122223333/global", service="iam", status="ok", count=1),
            Coverage(
                source="aws",
                scope="111122223333/us-east-1",
                service="kms:GetKeyPolicy",
                status="denied",
                error="x",
            ),
        ),
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    snap = sample()
    path = save_snapshot(snap, tmp_path / "s.json")
    assert load_snapshot(path) == snap
    assert snap.service_accounts[0].role_arn == "arn:aws:iam::111122223333:role/a"


def test_a_loaded_snapshot_is_saved_as_the_text_of_its_file(tmp_path: Path) -> None:
    # compact JSON, unlike what save_snapshot writes: a copy keeps it byte for byte
    source = tmp_path / "compact.json"
    source.write_text(json.dumps(snapshot_to_json(sample()), separators=(",", ":")), encoding="utf-8")
    loaded = load_snapshot(source)
    copy = save_snapshot(loaded, tmp_path / "out" / "copy.json")
    assert copy.read_bytes() == source.read_bytes()
    assert load_snapshot(copy) == sample()


def test_a_loaded_snapshot_whose_file_changed_since_is_encoded_again(tmp_path: Path) -> None:
    source = save_snapshot(sample(), tmp_path / "s.json")
    loaded = load_snapshot(source)
    source.write_text(json.dumps(snapshot_to_json(dataclasses.replace(sample(), roles=()))), encoding="utf-8")
    assert load_snapshot(save_snapshot(loaded, tmp_path / "again.json")) == sample()
    source.unlink()
    assert load_snapshot(save_snapshot(loaded, tmp_path / "gone.json")) == sample()


def test_a_changed_copy_of_a_loaded_snapshot_is_encoded_from_its_records(tmp_path: Path) -> None:
    loaded = load_snapshot(save_snapshot(sample(), tmp_path / "s.json"))
    changed = dataclasses.replace(loaded, roles=())
    assert load_snapshot(save_snapshot(changed, tmp_path / "changed.json")).roles == ()


def test_incomplete_lists_only_gaps() -> None:
    assert [c.service for c in sample().incomplete()] == ["kms:GetKeyPolicy"]


def test_future_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    data = snapshot_to_json(sample())
    data["schema_version"] = SCHEMA_VERSION + 1
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError, match=r"future.json: snapshot schema version 2 is newer"):
        load_snapshot(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["roles"][0].pop("trust_policy"), r"roles\[0\]\.trust_policy: required field of Role"),
        (
            lambda d: d["roles"][0].__setitem__("max_session_duration", "1h"),
            r"roles\[0\]\.max_session_duration",
        ),
        (lambda d: d["kms_keys"][0].__setitem__("manager", "ME"), r"kms_keys\[0\]\.manager: must be one of"),
        (lambda d: d.__setitem__("rolez", []), r"unknown field\(s\) for Snapshot: rolez"),
        (lambda d: d.pop("format"), r"not an irsa_lib snapshot"),
        (lambda d: d["coverage"][0].__setitem__("status", "maybe"), r"coverage\[0\]\.status"),
    ],
)
def test_malformed_snapshot_names_the_field(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = snapshot_to_json(sample())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError, match=message):
        load_snapshot(path)


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "irsa_lib.snapshot",\n "schema_version": 1,,}')
    with pytest.raises(SnapshotError, match=r"broken.json: malformed JSON at line 2, column 22"):
        load_snapshot(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no such snapshot file"):
        load_snapshot(tmp_path / "nope.json")


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    path = save_snapshot(sample(), tmp_path / "s.json")
    before = path.read_bytes()

    class Boom(Snapshot):
        pass

    with pytest.raises(TypeError):
        save_snapshot(Boom(created_at="x", roles=(object(),)), path)  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_merge_concatenates_records_and_coverage() -> None:
    a, b = sample(), sample()
    merged = merge_snapshots([a, b])
    assert len(merged.roles) == 2
    assert len(merged.coverage) == 4


def test_cli_snapshot_info_reports_gaps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = save_snapshot(sample(), tmp_path / "s.json")
    assert main(["snapshot-info", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["roles"] == 1
    assert out["incomplete"][0]["service"] == "kms:GetKeyPolicy"


def test_cli_bad_snapshot_exits_2_with_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.json"
    path.write_text("[]")
    assert main(["snapshot-info", str(path)]) == 2
    assert "x.json: not a snapshot" in capsys.readouterr().err


def deep_snapshot_text(levels: int) -> str:
    """The sample snapshot with a trust policy condition value nested ``levels`` deep (written as text:
    the JSON writer cannot write it either)."""
    data = snapshot_to_json(sample())
    data["roles"][0]["trust_policy"]["Statement"][0]["Condition"] = {"StringEquals": {"aws:x": "@DEEP@"}}
    return json.dumps(data).replace('"@DEEP@"', "[" * levels + '"v"' + "]" * levels)


@pytest.mark.parametrize("levels", [10_000, 600])
def test_deep_nesting_is_refused_naming_the_file_and_field(tmp_path: Path, levels: int) -> None:
    """10,000 levels break Python's JSON reader; 600 are read but break everything that walks them."""
    path = tmp_path / "deep.json"
    path.write_text(deep_snapshot_text(levels))
    with pytest.raises(SnapshotError) as err:
        load_snapshot(path)
    message = str(err.value)
    assert message.startswith(f"{path}: roles[0].trust_policy.Statement[0].Condition.StringEquals.aws:x[0][0]")
    assert message.endswith(" more): nested more than 64 levels deep")


def test_cli_on_a_deep_snapshot_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text(deep_snapshot_text(10_000))
    assert main(["access", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "roles[0].trust_policy.Statement[0]" in err and "Traceback" not in err


def test_nesting_within_the_bound_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text(deep_snapshot_text(20))
    assert load_snapshot(path).roles[0].name == "a"


def test_a_duplicate_arn_is_refused_naming_both_entries(tmp_path: Path) -> None:
    """The second copy would replace the first in every index: here it would grant ``Action: *``."""
    data = snapshot_to_json(sample())
    admin = dict(data["roles"][0], inline_policies=[{"name": "all", "document": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}])  # fmt: skip
    data["roles"] = [data["roles"][0], admin]
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError) as err:
        load_snapshot(path)
    assert str(err.value) == (
        f"{path}: roles[0] and roles[1] are the same resource (arn:aws:iam::111122223333:role/a): "
        "a snapshot holds each once"
    )


def test_records_without_an_arn_may_repeat_their_other_fields(tmp_path: Path) -> None:
    snap = sample()
    path = save_snapshot(
        merge_snapshots([snap, Snapshot(created_at=snap.created_at, coverage=snap.coverage)]), tmp_path / "s.json"
    )
    assert len(load_snapshot(path).coverage) == 4


WRITER = """
import sys
from irsa_lib.snapshot import write_atomic
text = "x" * 40_000_000
write_atomic(sys.argv[1], text)
print("written", flush=True)
while True:
    write_atomic(sys.argv[1], text)
"""


def _writing_into(pid: int, directory: Path) -> bool:
    """Does the process hold a file of ``directory`` open (a write in progress)?"""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd).startswith(f"{directory}/"):
                return True
    return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see a write in progress")
def test_a_writer_killed_mid_write_leaves_no_partial_file(tmp_path: Path) -> None:
    """A real process writing a 40 MB file over and over is killed with SIGKILL while a write is open."""
    target = tmp_path / "snap.json"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "written\n"
        deadline = time.monotonic() + 120  # only stops a writer that never writes again
        while not _writing_into(child.pid, tmp_path):
            assert time.monotonic() < deadline, "the writer never opened a file again"
            time.sleep(0.002)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    size = 40_000_000
    # what a crash may leave: the previous file whole, and nothing partial or empty beside it
    assert target.stat().st_size == size
    assert {p.name: p.stat().st_size for p in tmp_path.iterdir() if p != target and p.stat().st_size != size} == {}
    write_atomic(target, "next run")  # the next write clears a whole temporary a crash left between its steps
    assert [p.name for p in tmp_path.iterdir()] == ["snap.json"]
