"""``irsa collect`` argument handling and ``irsa demo`` end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from irsa_lib.cli import build_parser, main
from irsa_lib.cli.collect import plan_from_args
from irsa_lib.demo.scenario import DemoFacts, manifests_dir
from irsa_lib.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parents[2]


def usage_error(capsys: Any, argv: list[str]) -> str:
    """Run ``irsa`` in-process; it must exit 2 and explain on stderr. Returns stderr."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse errors
        status = exc.code
    assert status == 2
    err: str = capsys.readouterr().err
    assert err.strip()
    return err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cluster", "demo", "--manifests", "."], "--cluster demo must follow the --kube-context or --manifests"),
        (["--manifests", ".", "--manifests", "."], "--manifests . has no --cluster before --manifests"),
        (["--manifests", ".", "--cluster", "a", "--cluster", "b"], "--cluster b must follow"),
        (["--kube-context", "ctx"], "--kube-context ctx has no --cluster"),
        (["--manifests", ".", "--cluster", "a", "--kube-context", "x", "--cluster", "a"], "cluster 'a' is given twice"),
        (["--manifests", "/does/not/exist", "--cluster", "a"], "--manifests /does/not/exist: no such file"),
        (["--no-aws"], "nothing to collect"),
        (["--no-aws", "--profile", "p", "--manifests", ".", "--cluster", "a"], "--no-aws conflicts with --profile"),
        (
            ["--profile", "a", "--profile", "b", "--role-arn", "arn:aws:iam::111122223333:role/r"],
            "with --role-arn give at most one --profile",
        ),
        (["--region", "mars-1"], "'mars-1' is not an AWS region name"),
        (["--role-arn", "arn:aws:iam::1:user/u"], "is not an IAM role ARN"),
        (["--workers", "0"], "must be at least 1"),
        (["--kubeconfig", "/no/kubeconfig", "--kube-context", "c", "--cluster", "a"], "--kubeconfig /no/kubeconfig"),
        (["--kubeconfig", __file__, "--manifests", ".", "--cluster", "a"], "--kubeconfig is only used with"),
    ],
)
def test_collect_usage_errors(capsys: Any, tmp_path: Path, argv: list[str], message: str) -> None:
    err = usage_error(capsys, ["collect", "-o", str(tmp_path / "s.json"), *argv])
    assert message in err
    assert not (tmp_path / "s.json").exists()


def test_collect_requires_output(capsys: Any) -> None:
    assert "-o/--output" in usage_error(capsys, ["collect"])


def test_collect_refuses_a_directory_as_output(capsys: Any, tmp_path: Path) -> None:
    assert "is a directory" in usage_error(
        capsys, ["collect", "-o", str(tmp_path), "--no-aws", "--manifests", ".", "--cluster", "a"]
    )


def test_collect_usage_error_from_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "collect", "-o", str(tmp_path / "s.json"), "--cluster", "x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "usage: irsa collect" in proc.stderr
    assert "--cluster x must follow" in proc.stderr


def plan(argv: list[str]) -> Any:
    return plan_from_args(build_parser().parse_args(["collect", "-o", "out.json", *argv]))


def test_collect_plans_targets_and_pairs_sources() -> None:
    assert plan([]).aws_targets == ((None, None),)
    assert plan(["--profile", "a", "--profile", "b", "--profile", "a"]).aws_targets == (("a", None), ("b", None))
    roles = ["--role-arn", "arn:aws:iam::111122223333:role/r1", "--role-arn", "arn:aws:iam::444455556666:role/r2"]
    assert plan(["--profile", "org", *roles]).aws_targets == (
        ("org", "arn:aws:iam::111122223333:role/r1"),
        ("org", "arn:aws:iam::444455556666:role/r2"),
    )
    first = ["--region", "us-east-1", "--manifests", ".", "--profile", "x", "--cluster", "staging"]
    second = [
        "--region",
        "eu-west-1",
        "--region",
        "us-east-1",
        "--kube-context",
        "arn:aws:eks:us-east-1:1:cluster/prod",
    ]
    p = plan([*first, *second, "--cluster", "prod"])
    assert p.regions == ("us-east-1", "eu-west-1")
    assert [(s.kind, s.value, s.cluster) for s in p.k8s_sources] == [
        ("manifests", ".", "staging"),
        ("kube-context", "arn:aws:eks:us-east-1:1:cluster/prod", "prod"),
    ]
    assert plan(["--no-aws", "--manifests", ".", "--cluster", "a"]).aws_targets == ()


def test_collect_manifests_only(tmp_path: Path, capsys: Any) -> None:
    pytest.importorskip("irsa_lib.collect.manifests", reason="irsa_lib.collect.manifests not merged yet")
    out = tmp_path / "snap.json"
    assert main(["collect", "-o", str(out), "--no-aws", "--manifests", str(manifests_dir()), "--cluster", "demo"]) == 0
    printed = capsys.readouterr().out
    assert f"snapshot written: {out}" in printed
    assert "all collected" in printed
    snap = load_snapshot(out)
    assert {sa.name for sa in snap.service_accounts} >= {"external-secrets-sa", "payments-eso-sa", "reporting-app"}
    assert snap.roles == ()


@pytest.mark.integration
def test_collect_through_an_endpoint(facts: DemoFacts, tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    pytest.importorskip("irsa_lib.collect.aws", reason="irsa_lib.collect.aws not merged yet")
    from irsa_lib.demo.server import local_aws_env

    for name, value in local_aws_env(facts.endpoint_url).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "snap.json"
    argv = ["collect", "-o", str(out), "--endpoint-url", facts.endpoint_url, "--region", "us-east-1", "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == f"snapshot written: {out}"
    snap = load_snapshot(out)
    assert snap.incomplete() == ()
    assert {r.name for r in snap.roles} >= {"external-secrets-role", "billing-service-role"}


@pytest.mark.integration
def test_demo_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("irsa_lib.collect.aws", reason="irsa_lib.collect.aws not merged yet")
    pytest.importorskip("irsa_lib.collect.manifests", reason="irsa_lib.collect.manifests not merged yet")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "demo", "-o", "out"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = tmp_path / "out" / "snapshot.json"
    assert "snapshot written: out/snapshot.json" in proc.stdout
    assert "all collected" in proc.stdout
    snap = load_snapshot(path)
    assert snap.incomplete() == ()
    assert {c.source for c in snap.coverage} == {"aws", "manifests"}
    # What the demo seeded, as collected (hand-written; the issuer id is random).
    assert {r.name for r in snap.roles} == {
        "demo-cluster-role",
        "demo-node-role",
        "external-secrets-role",
        "billing-service-role",
        "payments-service-role",
        "reporting-role",
        "legacy-app-role",
        "cloudwatch-agent-role",
    }
    assert {p.name for p in snap.ssm_parameters} == {
        "/billing/db-password",
        "/billing/api-key",
        "/payments/db-password",
        "/reporting/db-password",
        "/legacy/api-token",
    }
    assert [s.name for s in snap.secrets] == ["payments/stripe-api-key"]
    (cluster,) = snap.clusters
    assert cluster.name == "demo" and cluster.version == "1.30"
    assert cluster.oidc_issuer is not None and cluster.oidc_issuer.startswith(
        "https://oidc.eks.us-east-1.amazonaws.com/id/"
    )
    assert [p.url for p in snap.oidc_providers] == [cluster.oidc_issuer.removeprefix("https://")]
    assert [(a.namespace, a.service_account) for a in snap.pod_identity_associations] == [
        ("monitoring", "cloudwatch-agent")
    ]
    (nodes,) = snap.node_groups
    assert nodes.node_role_arn == "arn:aws:iam::123456789012:role/demo-node-role"
    assert nodes.metadata_options is not None
    assert (nodes.metadata_options.http_tokens, nodes.metadata_options.hop_limit) == ("optional", 2)
    assert {sa.cluster for sa in snap.service_accounts} == {"demo"}
    assert len(snap.kes_external_secrets) == 2 and len(snap.eso_external_secrets) == 2


@pytest.mark.integration
def test_run_demo_in_process(tmp_path: Path) -> None:
    pytest.importorskip("irsa_lib.collect.aws", reason="irsa_lib.collect.aws not merged yet")
    pytest.importorskip("irsa_lib.collect.manifests", reason="irsa_lib.collect.manifests not merged yet")
    from irsa_lib.demo import run_demo

    result = run_demo(tmp_path / "demo")
    assert result.snapshot_path == tmp_path / "demo" / "snapshot.json"
    assert result.gaps == ()
    assert load_snapshot(result.snapshot_path) == result.snapshot
    (cluster,) = result.snapshot.clusters
    assert cluster.oidc_issuer == result.facts.oidc_issuer
    assert {k.arn for k in result.snapshot.kms_keys} >= set(result.facts.keys.values())


@pytest.mark.integration
def test_demo_keep_running_serves_until_interrupted(tmp_path: Path) -> None:
    pytest.importorskip("irsa_lib.collect.aws", reason="irsa_lib.collect.aws not merged yet")
    pytest.importorskip("irsa_lib.collect.manifests", reason="irsa_lib.collect.manifests not merged yet")
    import signal

    from irsa_lib.demo.server import aws_client

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # stderr goes to a file: a pipe nobody reads fills up (the report's progress lines) and blocks the demo
    errors = (tmp_path / "stderr").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "irsa_lib.cli", "demo", "-o", "out", "--keep-running"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        # Ctrl-C as a terminal delivers it: a test run started in the background (a CI script's `&`)
        # hands its children SIGINT ignored, and Python then never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        exports: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
            if line.startswith("Press Ctrl-C"):
                break
        endpoint = exports["AWS_ENDPOINT_URL"]
        assert endpoint.startswith("http://127.0.0.1:")
        eks = aws_client("eks", endpoint)
        try:
            assert eks.list_clusters()["clusters"] == ["demo"]
        finally:
            eks.close()  # its keep-alive connection would otherwise stay open until this process collects it
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)  # reads what it still prints
        assert proc.returncode == 0, (tmp_path / "stderr").read_text()[-3000:]
        assert "stopping the local AWS endpoint" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errors.close()
