# ruff: noqa: F811 (fixtures imported from the AWS and Kubernetes conftests are test arguments)
"""Answers that cannot be read: a failure in the coverage, never an empty "ok" and never a crash.

The forwarding proxy in front of moto rewrites chosen answers as a broken network or a misbehaving
proxy would: a ``200`` whose JSON body is cut in half, one whose body lacks the list the operation
always returns, an XML body that is not XML (an HTML error page with status 200). Each must become a
``failed`` coverage entry naming the operation, with no raw body in the message, while everything else
is still collected. The last test runs ``irsa collect`` over AWS and a Kubernetes API server (kmock)
with a bad answer on each side: both sides' other results are in the snapshot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from irsa_lib.cli import main
from irsa_lib.collect.aws import AwsTarget, collect_aws
from irsa_lib.collect.errors import CollectionError
from irsa_lib.snapshot import Snapshot, load_snapshot
from tests.collect.conftest import isolated_env, moto, moto_server, proxy  # noqa: F401 (fixtures)
from tests.collect.proxy import AwsProxy, Call
from tests.collect.seed import ACCOUNT, REGION, seed_account
from tests.k8s.conftest import TOKEN, Kube, kmock_server, kube  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration
SCOPE = f"{ACCOUNT}/{REGION}"
GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>upstream reset"
"""What a proxy in the way may answer with status 200: not XML, not JSON."""


def cut_in_half(call: Call, params: dict[str, object], body: bytes) -> bytes:
    return body[: len(body) // 2]


def gateway_page(call: Call, params: dict[str, object], body: bytes) -> bytes:
    return GATEWAY_PAGE


def without(key: str) -> Any:
    def hook(call: Call, params: dict[str, object], body: bytes) -> bytes:
        data = json.loads(body)
        data.pop(key)
        return json.dumps(data).encode()

    return hook


def gaps(snap: Snapshot) -> dict[tuple[str, str], tuple[str, str]]:
    return {(c.scope, c.service): (c.status, c.error or "") for c in snap.coverage if c.status != "ok"}


def collect(proxy: AwsProxy, *regions: str) -> Snapshot:
    return collect_aws([AwsTarget(regions=regions or (REGION,))], endpoint_url=proxy.url, progress=False)


@pytest.mark.parametrize(
    ("service", "operation", "items"),
    [
        ("ssm", "DescribeParameters", "ssm_parameters"),
        ("secretsmanager", "ListSecrets", "secrets"),
        ("eks", "ListClusters", "clusters"),
    ],
)
def test_a_truncated_json_answer_is_a_failure_not_an_empty_list(
    proxy: AwsProxy, moto: str, service: str, operation: str, items: str
) -> None:
    seed_account(moto)
    proxy.hooks[(service, operation)] = cut_in_half
    snap = collect(proxy)
    status, error = gaps(snap)[(SCOPE, service)]
    assert status == "failed"
    assert error.startswith(f"{service}:{operation}: malformed response: the body is not valid JSON (")
    assert error.endswith(" bytes, truncated or garbled)")
    assert getattr(snap, items) == ()
    assert not [c for c in snap.coverage if c.service == service and c.status == "ok"]
    # every other family was collected as usual
    assert len(snap.roles) == 3 and len(snap.kms_keys) >= 1
    assert service == "ssm" or len(snap.ssm_parameters) == 3


def test_an_answer_without_its_list_is_a_failure(proxy: AwsProxy, moto: str) -> None:
    seed_account(moto)
    proxy.hooks[("secretsmanager", "ListSecrets")] = without("SecretList")
    snap = collect(proxy)
    assert gaps(snap)[(SCOPE, "secretsmanager")] == (
        "failed",
        "secretsmanager:ListSecrets: malformed response: no SecretList list in the answer",
    )
    assert snap.secrets == () and len(snap.ssm_parameters) == 3


def test_garbage_xml_from_iam_and_ec2_is_recorded_and_the_rest_collected(
    proxy: AwsProxy, moto: str, capfd: Any
) -> None:
    seed_account(moto)
    proxy.hooks[("iam", "GetAccountAuthorizationDetails")] = gateway_page
    proxy.hooks[("ec2", "DescribeInstances")] = cut_in_half
    snap = collect(proxy)
    found = gaps(snap)
    size = len(GATEWAY_PAGE)
    assert found[(f"{ACCOUNT}/global", "iam")] == (
        "failed",
        "iam:GetAccountAuthorizationDetails: malformed response: the body is not well-formed XML "
        f"({size} bytes, truncated or garbled)",
    )
    status, error = found[(SCOPE, "ec2:DescribeInstances")]
    assert status == "failed"
    assert error.startswith("ec2:DescribeInstances (instances tagged for a cluster): malformed response: the body is")
    assert snap.roles == ()  # IAM unknown, recorded as such
    assert len(snap.oidc_providers) == 1 and len(snap.ssm_parameters) == 3 and len(snap.clusters) == 1
    assert "Bad Gateway" not in json.dumps([c.error for c in snap.coverage])
    out, err = capfd.readouterr()
    assert "Bad Gateway" not in out + err


def test_garbage_from_sts_in_one_region_skips_that_region(proxy: AwsProxy, moto: str) -> None:
    seed_account(moto)

    def west_only(call: Call, params: dict[str, object], body: bytes) -> bytes:
        return GATEWAY_PAGE if call.region == "us-west-2" else body

    proxy.hooks[("sts", "GetCallerIdentity")] = west_only
    snap = collect(proxy, REGION, "us-west-2")
    status, error = gaps(snap)[(f"{ACCOUNT}/us-west-2", "sts")]
    assert status == "failed"
    assert error == (
        "region rejected: sts:GetCallerIdentity in us-west-2: malformed response: the body is not well-formed XML "
        f"({len(GATEWAY_PAGE)} bytes, truncated or garbled)"
    )
    assert snap.accounts[0].regions == (REGION,) and len(snap.ssm_parameters) == 3


def test_garbage_from_sts_for_the_only_region_is_one_clear_line(proxy: AwsProxy, moto: str) -> None:
    proxy.hooks[("sts", "GetCallerIdentity")] = gateway_page
    with pytest.raises(CollectionError) as info:
        collect(proxy)
    assert str(info.value) == (
        f"AWS target the default AWS credentials: the AWS endpoint {proxy.url} answered unreadably: "
        "sts:GetCallerIdentity: malformed response: the body is not well-formed XML "
        f"({len(GATEWAY_PAGE)} bytes, truncated or garbled)"
    )


K8S_OBJECTS = """
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: billing}
---
apiVersion: v1
kind: Pod
metadata: {name: api-0, namespace: billing}
spec: {serviceAccountName: api, containers: [{name: app, image: app}]}
"""


def test_irsa_collect_keeps_both_sides_when_each_has_a_bad_answer(
    proxy: AwsProxy, moto: str, kube: Kube, tmp_path: Path, capsys: Any
) -> None:
    seed_account(moto)
    proxy.hooks[("iam", "GetAccountAuthorizationDetails")] = gateway_page
    kube.server.seed_yaml(K8S_OBJECTS)
    broken = b'{"kind": "PodList", "items": [{"metad'
    kube.server.hook_list("pods", lambda page: broken)
    out = tmp_path / "snap.json"
    argv = ["collect", "-o", str(out), "--endpoint-url", proxy.url, "--region", REGION, "--quiet"]
    argv += ["--kube-context", "kmock", "--cluster", "demo", "--kubeconfig", str(kube.kubeconfig)]
    assert main(argv) == 0, capsys.readouterr().err
    snap = load_snapshot(out)
    found = gaps(snap)
    assert found[(f"{ACCOUNT}/global", "iam")][0] == "failed"
    assert found[("demo", "pods")] == (
        "failed",
        f"the answer is not valid JSON ({len(broken)} bytes, truncated or garbled)",
    )
    assert len(snap.ssm_parameters) == 3 and len(snap.kms_keys) >= 1  # AWS survived the bad Kubernetes kind
    assert [(sa.namespace, sa.name) for sa in snap.service_accounts] == [("billing", "api")]  # and vice versa
    assert [n.name for n in snap.namespaces] == ["billing"]


def test_a_key_policy_nested_too_deep_is_a_failure_not_a_crash(proxy: AwsProxy, moto: str) -> None:
    seeded = seed_account(moto)

    def deep_policy(call: Call, params: dict[str, object], body: bytes) -> bytes:
        return json.dumps({"PolicyName": "default", "Policy": "[" * 10_000 + "]" * 10_000}).encode()

    proxy.hooks[("kms", "GetKeyPolicy")] = deep_policy
    snap = collect(proxy)
    status, error = gaps(snap)[(SCOPE, "kms")]
    assert status == "failed"
    assert error.startswith("kms: unexpected response from the endpoint: TooDeep: [0][0][0]")
    assert error.endswith(" more): nested more than 64 levels deep")
    assert seeded.key_arn not in {k.arn for k in snap.kms_keys}
    assert len(snap.roles) == 3 and len(snap.ssm_parameters) == 3  # the other families were collected
