"""Secret values never leave the one call that stores them: not in logs, outputs, reprs, errors, CLI or notebook."""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from nbconvert import HTMLExporter

from irsa_lib.notebooks import notebook_path
from irsa_lib.onboarding import SecretValue, write_outputs
from irsa_lib.onboarding.apply import ApplyError, apply_plan
from irsa_lib.onboarding.guard import OnboardingClients
from tests.collect.proxy import AwsProxy, ErrorRule
from tests.onboarding.conftest import CLUSTER_MANIFESTS, ENV_NAMES, VALUES, Aws, orders_params

ROOT = Path(__file__).resolve().parents[2]


def leaks(text: str) -> list[str]:
    return [name for name, value in VALUES.items() if value in text]


def scan_tree(root: Path) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            hit = leaks(path.read_text(encoding="utf-8", errors="replace"))
            if hit:
                found[str(path)] = hit
    return found


def test_secret_value_is_redacted_everywhere_but_reveal() -> None:
    v = SecretValue("p@ss-1")
    assert "p@ss-1" not in f"{v!r} {v!s} {v} {[v]} {dict(a=v)}"
    assert v.reveal() == "p@ss-1"
    with pytest.raises(TypeError):
        pickle.dumps(v)


def test_apply_logs_nothing_secret_even_with_botocore_debug_logging(
    aws: Aws, value_env: dict[str, str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore logs every request body at DEBUG
    report = apply_plan(orders_params(), aws.clients, dry_run=False)
    outputs = write_outputs(report.plan, tmp_path)
    assert any("PutParameter" in r.getMessage() for r in caplog.records), "botocore request logging was not captured"
    assert leaks(caplog.text) == []
    assert leaks(repr(report) + report.to_text() + report.to_frame().to_string()) == []
    assert scan_tree(outputs.out_dir) == {}


def test_an_aws_error_while_storing_a_value_is_redacted(
    aws: Aws, moto_server: tuple[str, int], value_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = AwsProxy(moto_server).start()
    try:
        proxy.rules.append(
            ErrorRule(
                "ValidationException", f"value {VALUES['/orders/db-password']} rejected", operation="PutParameter"
            )
        )
        with pytest.raises(ApplyError) as caught:
            apply_plan(orders_params(), OnboardingClients(region="us-east-1", endpoint_url=proxy.url), dry_run=False)
    finally:
        proxy.stop()
    assert "<redacted> rejected" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert leaks(str(caught.value)) == [] and leaks(caplog.text) == []


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irsa_lib.cli", "onboard", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_onboarding_run_prints_and_writes_no_value(
    cluster_aws: Aws, value_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = [
        "--service=orders",
        "--namespace=orders",
        "--cluster=demo",
        "--region=us-east-1",
        "--parameter=/orders/db-password",
        "--parameter=/orders/api-key",
        "--secret=orders/stripe-api-key",
        "--controller-role-arn=arn:aws:iam::123456789012:role/external-secrets-role",
        f"--endpoint-url={cluster_aws.endpoint}",
        f"--out={out}",
        f"--manifests={CLUSTER_MANIFESTS}",
        *(f"--value-env={name}={var}" for name, var in ENV_NAMES.items()),
    ]
    env = dict(os.environ)
    dry = _cli(args, env, tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: nothing was changed" in dry.stdout and "9 create" in dry.stdout
    applied = _cli([*args, "--apply"], env, tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Onboarding applied: 9 create" in applied.stdout
    assert "Verification of orders: PROVEN" in applied.stdout
    again = _cli([*args, "--apply"], env, tmp_path)
    assert again.returncode == 0 and "Onboarding applied: 9 unchanged" in again.stdout
    for run in (dry, applied, again):
        assert leaks(run.stdout) == [] and leaks(run.stderr) == []
    assert scan_tree(out) == {}


def test_cli_bad_parameters_exit_2_with_the_reasons(tmp_path: Path) -> None:
    run = _cli(
        [
            "--service=Orders",
            "--namespace=orders",
            "--cluster=demo",
            "--region=us-east-1",
            "--parameter=/x/y",
            "--offline",
        ],
        dict(os.environ),
        tmp_path,
    )
    assert run.returncode == 2
    assert "service 'Orders' is not a DNS-1123 label" in run.stderr
    assert "controller_role_arn '(not given)'" in run.stderr
    assert not (tmp_path / "reports").exists()


NOTEBOOK = notebook_path("onboard_service")


def execute(output: Path, parameters: dict[str, object], *, cwd: Path) -> Path:
    """papermill with the python3 kernel importing this checkout, then HTML next to it (kept even on failure)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(NOTEBOOK),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(cwd),
            progress_bar=False,
            execution_timeout=300,
        )
    finally:
        if output.exists():
            html, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(str(output), as_version=4))
            output.with_suffix(".html").write_text(html, encoding="utf-8")
    return output


def test_notebook_is_committed_without_outputs_and_has_one_parameters_cell() -> None:
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert [c for c in code if "parameters" in c.metadata.get("tags", [])] == [code[0]]
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.notebook
def test_notebook_runbook_dry_run_interrupt_rerun_and_no_value_in_any_output(
    cluster_aws: Aws, value_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's irsa_lib

    params = {
        "service_name": "orders",
        "namespace": "orders",
        "cluster": "demo",
        "account_id": "123456789012",
        "region": "us-east-1",
        "parameter_names": ["/orders/db-password", "/orders/api-key"],
        "secret_names": ["orders/stripe-api-key"],
        "value_env": ENV_NAMES,
        "controller_role_arn": "arn:aws:iam::123456789012:role/external-secrets-role",
        "endpoint_url": cluster_aws.endpoint,
        "manifests": [str(CLUSTER_MANIFESTS)],
        "out_dir": str(tmp_path / "outputs"),
    }
    runs = tmp_path / "runs"

    def run(name: str, **extra: object) -> str:
        """Execute the notebook; return the text of its outputs (not its source)."""
        executed = execute(runs / f"{name}.ipynb", {**params, **extra}, cwd=tmp_path)
        cells = json.loads(executed.read_text())["cells"]
        return json.dumps([c.get("outputs", []) for c in cells if c["cell_type"] == "code"])

    dry = run("dry-run")
    assert "nothing to verify yet" in dry and "Dry run: nothing was changed" in dry
    assert cluster_aws.client("iam").list_role_policies(RoleName="external-secrets-role")["PolicyNames"] == [
        "assume-shop"
    ]
    with pytest.raises(papermill.PapermillExecutionError, match="stopped after step kms-key"):
        run("interrupted", apply=True, stop_after_step="kms-key")
    completed = run("rerun", apply=True)
    assert "PROVEN" in completed and "NOT PROVEN" not in completed and "9 create" not in completed
    again = run("again", apply=True)
    assert "Onboarding applied: 9 unchanged" in again
    kms = cluster_aws.client("kms")
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    assert len([k for k in keys if k["Description"] == "secrets of service orders"]) == 1
    assert "Verification of orders: PROVEN" in (runs / "rerun.html").read_text()
    assert sorted(p.name for p in runs.glob("*.html")) == [
        "again.html",
        "dry-run.html",
        "interrupted.html",
        "rerun.html",
    ]
    assert scan_tree(runs) == {} and scan_tree(tmp_path / "outputs") == {}
    cells = json.loads((runs / "rerun.ipynb").read_text())["cells"]
    assert all(not c.get("outputs") or leaks(json.dumps(c["outputs"])) == [] for c in cells)
