"""The deployment examples in deploy/ parse and hold together (names, ports, roles, permissions).

The Kubernetes manifests are read as Kubernetes reads them (YAML documents) and checked for the fields
the Dask operator, the CronJob controller and IRSA need; the member role (CloudFormation and Terraform)
must grant exactly the per-account part of the collector's allow-list and nothing that reads a value.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import hcl2
import yaml

from irsa_lib.collect.allowlist import iam_actions

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SA, NAMESPACE, HUB_ROLE, MEMBER_ROLE, CLUSTER = "irsa-collector", "irsa", "irsa-collector-hub", "irsa-collector", "irsa"
VALUE_READS = {
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "kms:Decrypt",
}


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()) if d]


def _plain(value: Any) -> Any:
    """python-hcl2 keeps the quotes of block labels and strings: drop them."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _terraform(name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Resources by ``type.name``, variables by name, and the text of a Terraform file."""
    path = DEPLOY / "iam" / name
    with path.open() as fh:
        tf = _plain(hcl2.load(fh))
    resources = {
        f"{kind}.{name}": body
        for block in tf["resource"]
        for kind, named in block.items()
        for name, body in named.items()
    }
    variables = {k: v for block in tf.get("variable", []) for k, v in block.items()}
    return resources, variables, path.read_text()


def _member_actions() -> set[str]:
    return {a for a in iam_actions() if not a.startswith(("organizations:", "sts:"))}


def test_service_account_is_on_the_collector_role_through_irsa() -> None:
    (sa,) = _docs("serviceaccount.yaml")
    assert (sa["apiVersion"], sa["kind"]) == ("v1", "ServiceAccount")
    assert (sa["metadata"]["name"], sa["metadata"]["namespace"]) == (SA, NAMESPACE)
    arn = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(rf"arn:aws:iam::\d{{12}}:role/{HUB_ROLE}", arn)


def test_dask_cluster_workers_run_as_the_collector() -> None:
    (dc,) = _docs("daskcluster.yaml")
    assert (dc["apiVersion"], dc["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    assert (dc["metadata"]["name"], dc["metadata"]["namespace"]) == (CLUSTER, NAMESPACE)
    worker = dc["spec"]["worker"]
    assert isinstance(worker["replicas"], int) and worker["replicas"] >= 1
    assert worker["spec"]["serviceAccountName"] == SA  # the workers make the AWS calls
    (wc,) = worker["spec"]["containers"]
    assert wc["args"][0] == "dask-worker" and wc["image"]
    scheduler = dc["spec"]["scheduler"]
    (sc,) = scheduler["spec"]["containers"]
    assert sc["args"] == ["dask-scheduler"]
    assert {p["name"]: p["containerPort"] for p in sc["ports"]} == {"tcp-comm": 8786, "http-dashboard": 8787}
    service = scheduler["service"]
    assert service["selector"] == {"dask.org/cluster-name": CLUSTER, "dask.org/component": "scheduler"}
    assert {p["port"] for p in service["ports"]} == {8786, 8787}


def test_cronjob_collects_the_organisation_on_the_dask_cluster_then_runs_the_report() -> None:
    cron, config = _docs("cronjob.yaml")
    assert (cron["apiVersion"], cron["kind"]) == ("batch/v1", "CronJob")
    assert len(cron["spec"]["schedule"].split()) == 5
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == SA
    assert pod["restartPolicy"] in ("OnFailure", "Never")
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    # the operator names the scheduler Service <cluster>-scheduler
    assert env["DASK_SCHEDULER_ADDRESS"]["value"] == f"tcp://{CLUSTER}-scheduler.{NAMESPACE}.svc.cluster.local:8786"
    assert "secretKeyRef" in env["IRSA_EXTERNAL_ID"]["valueFrom"]  # the external id is not in the manifest
    script = container["args"][0]
    lines = [shlex.split(line.rstrip("\\")) for line in script.replace("\\\n", " ").splitlines() if line.strip()]
    collect = next(words for words in lines if words[:2] == ["irsa", "collect"])
    assert "--organization" in collect and "--quiet" in collect
    assert collect[collect.index("--member-role") + 1] == MEMBER_ROLE
    assert collect[collect.index("--dask-scheduler") + 1] == "$DASK_SCHEDULER_ADDRESS"
    assert collect[collect.index("--cluster-map") + 1] == "/etc/irsa/clusters.yaml"
    assert any(words[:2] == ["irsa", "report"] for words in lines)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(mounts) == set(volumes)
    assert volumes["cluster-map"]["configMap"]["name"] == config["metadata"]["name"]
    assert mounts["cluster-map"] == "/etc/irsa" and "clusters.yaml" in config["data"]
    assert yaml.safe_load(config["data"]["clusters.yaml"])  # the cluster map itself is YAML


def test_member_role_cloudformation_grants_exactly_the_per_account_reads() -> None:
    template = yaml.safe_load((DEPLOY / "iam" / "member-role.cloudformation.yaml").read_text())
    role = template["Resources"]["MemberRole"]
    assert role["Type"] == "AWS::IAM::Role"
    assert role["Properties"]["RoleName"] == {"Ref": "RoleName"}
    assert template["Parameters"]["RoleName"]["Default"] == MEMBER_ROLE
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "CollectorRoleArn"}} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    (policy,) = role["Properties"]["Policies"]
    (stmt,) = policy["PolicyDocument"]["Statement"]
    assert set(stmt["Action"]) == _member_actions()
    assert not set(stmt["Action"]) & VALUE_READS


def test_member_role_terraform_matches_the_cloudformation() -> None:
    resources, variables, text = _terraform("member-role.tf")
    assert "var.role_name" in str(resources["aws_iam_role.member"]["name"])
    assert variables["role_name"]["default"] == MEMBER_ROLE
    assert variables["external_id"]["sensitive"] is True
    actions = set(re.findall(r'"((?:ec2|eks|iam|kms|ssm|secretsmanager):[A-Za-z]+)"', text))
    assert actions == _member_actions()
    assert '"sts:ExternalId" = var.external_id' in text


def test_collector_role_trusts_the_service_account_and_assumes_member_roles() -> None:
    resources, variables, text = _terraform("collector-role.tf")
    assert resources["aws_iam_role.collector"]["name"] == HUB_ROLE
    assert variables["member_role_name"]["default"] == MEMBER_ROLE
    assert f"system:serviceaccount:{NAMESPACE}:{SA}" in text
    assert "sts:AssumeRoleWithWebIdentity" in text
    assert 'Resource = "arn:aws:iam::*:role/${var.member_role_name}"' in text
    assert 'file("${path.module}/../collector-policy.json")' in text
    assert (DEPLOY / "collector-policy.json").is_file()
