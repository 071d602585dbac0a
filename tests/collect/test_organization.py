"""Collecting a whole organisation on a real Dask LocalCluster (process workers) from the local endpoint.

The organisation (``org_seed``): a management account and 20 members in three OUs with an SCP on each;
member 7 has no member role (the proxy answers AssumeRole with AccessDenied, as AWS does: moto would let
anyone assume a role that does not exist), and ``ap-east-1`` is asked for but refused (an opt-in region
not enabled). Every expected value below is written from the seed by hand.
"""

from __future__ import annotations

import json
import pickle
import random
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from irsa_lib.cli import main as cli_main
from irsa_lib.collect.allowlist import ALLOWED_OPERATIONS
from irsa_lib.collect.cluster_map import load_cluster_map
from irsa_lib.collect.discovery import discover_organization, list_member_accounts
from irsa_lib.collect.fanout import (
    ClusterSource,
    MemberAccess,
    ResumeDir,
    collect_organization,
    probe_account,
    uncovered_clusters,
    unreachable_account,
)
from irsa_lib.collect.merge import merge_canonical
from irsa_lib.collect.session import Clients, base_session
from irsa_lib.engine import dask_client
from irsa_lib.errors import UsageError
from irsa_lib.snapshot import Snapshot, load_snapshot, snapshot_to_json
from tests.collect.conftest import CLEARED_ENV
from tests.collect.org_seed import (
    CLUSTER_INDEXES,
    MANAGEMENT,
    MEMBER_ROLE,
    MEMBERS,
    MISSING_ROLE_INDEX,
    OPT_IN,
    REGION,
    SeededOrg,
    ou_of,
    seed_organization,
)
from tests.collect.proxy import AwsProxy, ErrorRule

pytestmark = pytest.mark.integration

SECRET_KEY = "org-test-secret-key-never-in-a-task"
REGIONAL = ("eks", "kms", "secretsmanager", "ssm")
DENIED_TEXT = "not authorized to perform: sts:AssumeRole"
OPT_IN_TEXT = "The security token included in the request is invalid."
CREATED = "2026-06-01T00:00:00Z"


KUBECONFIG = """apiVersion: v1
kind: Config
current-context: other
clusters: [{name: other, cluster: {server: "http://127.0.0.1:9"}}]
contexts: [{name: other, context: {cluster: other, user: other}}]
users: [{name: other, user: {}}]
"""
SERVICE_ACCOUNT = """apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: web}
"""


@dataclass
class OrgRun:
    org: SeededOrg
    proxy: AwsProxy
    client: Any
    access: MemberAccess
    resume: Path
    snapshot: Snapshot
    payloads: list[bytes]
    sources: list[ClusterSource]
    cluster_map: Path
    kubeconfig: Path


def _bytes(snapshot: Snapshot) -> bytes:
    return json.dumps(snapshot_to_json(snapshot), indent=1).encode()


@pytest.fixture(scope="module")
def org_run(moto_server: tuple[str, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgRun]:
    """Seed the organisation, start 2 worker processes, collect once (with --resume) and keep the result."""
    host, port = moto_server
    endpoint = f"http://{host}:{port}"
    tmp = tmp_path_factory.mktemp("org")
    with pytest.MonkeyPatch.context() as mp:
        for name in CLEARED_ENV:
            mp.delenv(name, raising=False)
        (tmp / "config").write_text("")
        mp.setenv("AWS_CONFIG_FILE", str(tmp / "config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "config"))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass
        org = seed_organization(endpoint)
        proxy = AwsProxy(moto_server).start()
        missing = f"arn:aws:iam::{org.missing_role}:role/{MEMBER_ROLE}"
        proxy.rules.append(
            ErrorRule(
                code="AccessDenied",
                message=f"User: arn:aws:iam::{MANAGEMENT}:user/collector is {DENIED_TEXT} on resource: {missing}",
                status=403,
                service="sts",
                operation="AssumeRole",
                params={"RoleArn": missing},
            )
        )
        proxy.rules.append(
            ErrorRule(code="InvalidClientTokenId", message=OPT_IN_TEXT, status=403, service="sts", region=OPT_IN)
        )
        access = MemberAccess(external_id="irsa", endpoint_url=proxy.url, max_attempts=2)
        # app-0's Kubernetes side from manifests; app-5's from a kubeconfig context that does not exist
        (tmp / "manifests").mkdir()
        (tmp / "manifests" / "sa.yaml").write_text(SERVICE_ACCOUNT)
        kubeconfig = tmp / "kubeconfig"
        kubeconfig.write_text(KUBECONFIG)
        arn0, arn5 = (f"arn:aws:eks:{REGION}:{org.members[i]}:cluster/app-{i}" for i in CLUSTER_INDEXES)
        cluster_map = tmp / "clusters.yaml"
        cluster_map.write_text(f"{arn0}: {{manifests: manifests}}\n{arn5}: {{context: nope}}\n")
        sources = load_cluster_map(cluster_map, kubeconfig=str(kubeconfig))
        payloads: list[bytes] = []
        try:
            with dask_client(workers=2, threads_per_worker=2) as client:
                submit = client.submit

                def recording_submit(fn: Any, *args: Any, **kwargs: Any) -> Any:
                    payloads.append(pickle.dumps((fn, args)))
                    return submit(fn, *args, **kwargs)

                client.submit = recording_submit
                snapshot = collect_organization(
                    client,
                    access=access,
                    regions=(REGION, OPT_IN),
                    k8s_sources=sources,
                    resume_dir=tmp / "resume",
                    progress=False,
                    created_at=CREATED,
                )
                client.submit = submit
                yield OrgRun(
                    org, proxy, client, access, tmp / "resume", snapshot, payloads, sources, cluster_map, kubeconfig
                )
        finally:
            proxy.stop()


def _coverage(snapshot: Snapshot) -> dict[tuple[str, str], Any]:
    return {(c.scope, c.service): c for c in snapshot.coverage if c.resource is None}


def _scp_names(level: Any) -> list[str]:
    return sorted(p.name for p in level)


def test_every_reachable_account_is_collected_with_its_ou_path_and_scps(org_run: OrgRun) -> None:
    org, snap = org_run.org, org_run.snapshot
    accounts = {a.account_id: a for a in snap.accounts}
    assert set(accounts) == {MANAGEMENT, *org.members}
    assert len(org.members) == MEMBERS
    ou_ids = {
        "prod": (org.ous["prod"],),
        "prod-eu": (org.ous["prod"], org.ous["prod-eu"]),
        "dev": (org.ous["dev"],),
    }
    ou_scps = {
        "prod": [["FullAWSAccess", "scp-prod"]],
        "prod-eu": [["FullAWSAccess", "scp-prod"], ["FullAWSAccess", "scp-prod-eu"]],
        "dev": [["FullAWSAccess", "scp-dev"]],
    }
    for index, account_id in enumerate(org.members):
        account = accounts[account_id]
        ou = ou_of(index)
        assert account.organization_id == org.organization_id
        assert account.management_account is False
        assert account.ou_path == (org.root_id, *ou_ids[ou], account_id)
        assert account.scps is not None
        assert [_scp_names(level) for level in account.scps] == [
            ["FullAWSAccess"],
            *ou_scps[ou],
            ["FullAWSAccess"],
        ]
        assert account.regions == (() if index == MISSING_ROLE_INDEX else (REGION,))
    management = accounts[MANAGEMENT]
    assert management.management_account is True
    assert management.ou_path == (org.root_id, MANAGEMENT)
    assert management.regions == (REGION,)


def test_each_account_contributes_its_own_records(org_run: OrgRun) -> None:
    org, snap = org_run.org, org_run.snapshot
    roles = {r.arn for r in snap.roles}
    parameters = {(p.account_id, p.name) for p in snap.ssm_parameters}
    secrets = {(s.account_id, s.name) for s in snap.secrets}
    for index, account_id in enumerate(org.members):
        present = index != MISSING_ROLE_INDEX
        assert (f"arn:aws:iam::{account_id}:role/app-{index}" in roles) is present
        assert ((account_id, f"/app-{index}/db") in parameters) is present
        assert ((account_id, f"app-{index}/api") in secrets) is present
    assert f"arn:aws:iam::{MANAGEMENT}:role/{MEMBER_ROLE}" in roles
    assert len(snap.ssm_parameters) == MEMBERS - 1
    assert len(snap.kms_keys) == MEMBERS - 1
    clusters = {(c.account_id, c.name) for c in snap.clusters}
    assert clusters == {(org.members[i], f"app-{i}") for i in CLUSTER_INDEXES}


def test_kubernetes_sources_are_tasks_too_and_one_failing_stops_nothing(org_run: OrgRun) -> None:
    snap = org_run.snapshot
    assert [(sa.cluster, sa.namespace, sa.name) for sa in snap.service_accounts] == [("app-0", "web", "api")]
    gaps = {c.scope: c for c in snap.incomplete() if c.source == "kubernetes"}
    # app-0 was read from its manifests; app-5's context does not exist: its whole Kubernetes side is unknown
    assert set(gaps) == {"app-5"}
    assert gaps["app-5"].service == "cluster" and gaps["app-5"].status == "failed"
    assert gaps["app-5"].error == f"kubeconfig {org_run.kubeconfig}: no context named 'nope' (available: other)"


def test_a_cluster_no_source_covers_is_a_gap(org_run: OrgRun) -> None:
    (only,) = uncovered_clusters([org_run.snapshot], org_run.sources[:1], CREATED).coverage
    member5 = org_run.org.members[5]
    assert (only.source, only.scope, only.service, only.status) == ("kubernetes", "app-5", "cluster", "failed")
    assert only.error == (
        f"not collected: no Kubernetes source for arn:aws:eks:{REGION}:{member5}:cluster/app-5 (add it to the cluster map)"
    )
    assert uncovered_clusters([org_run.snapshot], org_run.sources, CREATED).coverage == ()


def test_missing_member_role_is_denied_everywhere_and_the_rest_goes_on(org_run: OrgRun) -> None:
    missing = org_run.org.missing_role
    cov = _coverage(org_run.snapshot)
    sts = cov[(f"{missing}/global", "sts")]
    assert sts.status == "denied"
    assert sts.error is not None and DENIED_TEXT in sts.error and "AccessDenied" in sts.error
    expected = [(f"{missing}/global", "iam")] + [
        (f"{missing}/{region}", service) for region in (REGION, OPT_IN) for service in REGIONAL
    ]
    for key in expected:
        assert cov[key].status == "denied", key
        assert (cov[key].error or "").startswith("skipped: member role not usable")
    assert not [r for r in org_run.snapshot.roles if r.account_id == missing]
    # the account is still known, with its place in the organisation (read from the management account)
    (account,) = [a for a in org_run.snapshot.accounts if a.account_id == missing]
    assert account.ou_path[-1] == missing and account.scps is not None
    # and it is not kept for --resume: the next run tries it again
    assert not (org_run.resume / f"account-{missing}.json").exists()


def test_rejected_region_is_recorded_for_every_reachable_account_and_never_read(org_run: OrgRun) -> None:
    cov = _coverage(org_run.snapshot)
    reachable = [a for a in (MANAGEMENT, *org_run.org.members) if a != org_run.org.missing_role]
    for account_id in reachable:
        sts = cov[(f"{account_id}/{OPT_IN}", "sts")]
        assert sts.status == "denied"
        assert sts.error == f"region rejected: sts:AssumeRole in {OPT_IN}: InvalidClientTokenId: {OPT_IN_TEXT}"
        for service in REGIONAL:
            assert cov[(f"{account_id}/{OPT_IN}", service)].status == "denied"
        for service in ("iam", *REGIONAL):
            scope = f"{account_id}/global" if service == "iam" else f"{account_id}/{REGION}"
            assert cov[(scope, service)].status == "ok", (scope, service)
    assert {c.service for c in org_run.proxy.calls if c.region == OPT_IN} == {"sts"}


def test_only_allow_listed_operations_were_sent(org_run: OrgRun) -> None:
    sent = org_run.proxy.operations()
    assert {(s, o) for s, o in sent if o not in ALLOWED_OPERATIONS.get(s, frozenset())} == set()
    assert {
        ("organizations", "ListAccounts"),
        ("organizations", "ListPoliciesForTarget"),
        ("sts", "AssumeRole"),
    } <= sent


def test_no_credential_travels_in_a_task(org_run: OrgRun) -> None:
    # every task's function and arguments, as pickled for the scheduler
    assert len(org_run.payloads) >= 2 * (MEMBERS + 1)
    for payload in org_run.payloads:
        assert SECRET_KEY.encode() not in payload
        assert b"testing" not in payload  # the access key id


def test_merge_does_not_depend_on_the_order_parts_complete(org_run: OrgRun) -> None:
    parts = [load_snapshot(p) for p in sorted(org_run.resume.glob("account-*.json"))]
    assert len(parts) == MEMBERS  # every account but the one without a member role
    reference = _bytes(merge_canonical(parts, created_at=CREATED))
    rng = random.Random(18)
    for _ in range(6):
        shuffled = parts[:]
        rng.shuffle(shuffled)
        assert _bytes(merge_canonical(shuffled, created_at=CREATED)) == reference
    # pairs of parts merged first, then together: still the same bytes
    backwards = parts[::-1]
    halves = [merge_canonical(backwards[i : i + 2], created_at=CREATED) for i in range(0, len(backwards), 2)]
    assert _bytes(merge_canonical(halves, created_at=CREATED)) == reference


def test_resume_skips_collected_accounts_and_gives_the_same_bytes(org_run: OrgRun) -> None:
    redo = org_run.org.members[3]
    (org_run.resume / f"account-{redo}.json").unlink()
    org_run.proxy.calls.clear()
    again = collect_organization(
        org_run.client,
        access=org_run.access,
        regions=(REGION, OPT_IN),
        k8s_sources=org_run.sources,
        resume_dir=org_run.resume,
        progress=False,
        created_at=CREATED,
    )
    assumed = {str(c.params.get("RoleArn")) for c in org_run.proxy.calls if c.operation == "AssumeRole"}
    assert assumed == {
        f"arn:aws:iam::{redo}:role/{MEMBER_ROLE}",
        f"arn:aws:iam::{org_run.org.missing_role}:role/{MEMBER_ROLE}",
    }
    assert _bytes(again) == _bytes(org_run.snapshot)
    assert (org_run.resume / f"account-{redo}.json").exists()


def test_resume_directory_refuses_other_parameters(tmp_path: Path) -> None:
    ResumeDir(tmp_path, {"organization": "o-1", "regions": ["us-east-1"]})
    with pytest.raises(UsageError, match="was started with other parameters"):
        ResumeDir(tmp_path, {"organization": "o-1", "regions": ["eu-west-1"]})


def test_discovery_under_an_ou_and_with_exclusions(org_run: OrgRun) -> None:
    org = org_run.org
    clients = Clients(base_session(None, REGION), org_run.proxy.url)
    prod = [org.members[i] for i in range(MEMBERS) if ou_of(i) in ("prod", "prod-eu")]
    listed = list_member_accounts(clients.client("organizations", REGION), [org.ous["prod"]])
    assert sorted(a["Id"] for a in listed) == sorted(prod)  # prod-eu, below prod, included
    found = discover_organization(clients, ous=[org.ous["prod-eu"]], exclude=[org.members[9]], region=REGION)
    assert [a.account_id for a in found.accounts] == sorted(org.members[i] for i in range(8, 14) if i != 9)
    (ignored,) = [c for c in found.partial.coverage if c.status == "ignored"]
    assert ignored.scope == f"{org.members[9]}/global"
    assert ignored.error == "excluded from the collection (--exclude-account)"


def test_cli_collects_the_organisation_on_a_running_scheduler(
    org_run: OrgRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "org.json"
    status = cli_main(
        [
            "collect", "-o", str(out), "--organization", "--member-role", MEMBER_ROLE, "--external-id", "irsa",
            "--region", REGION, "--region", OPT_IN, "--endpoint-url", org_run.proxy.url,
            "--resume", str(org_run.resume), "--dask-scheduler", org_run.client.scheduler.address, "--quiet",
            "--cluster-map", str(org_run.cluster_map), "--kubeconfig", str(org_run.kubeconfig),
        ]
    )  # fmt: skip
    assert status == 0
    snap = load_snapshot(out)
    assert snap.accounts == org_run.snapshot.accounts
    assert snap.coverage == org_run.snapshot.coverage
    assert snap.service_accounts == org_run.snapshot.service_accounts
    assert f"snapshot written: {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--member-role", "r"], "--member-role only apply with --organization"),
        (["--organization", "--role-arn", "arn:aws:iam::111122223333:role/x"], "conflicts with --role-arn"),
        (["--organization", "--profile", "a", "--profile", "b"], "at most one --profile"),
        (["--organization", "--cluster-map", "/nonexistent/map.yaml"], "--cluster-map /nonexistent/map.yaml"),
        (["--organization", "--member-role", "bad role"], "is not an IAM role name"),
    ],
)
def test_cli_organization_usage_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["collect", "-o", str(tmp_path / "s.json"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_without_regions_the_probe_lists_the_account_s_enabled_regions(org_run: OrgRun) -> None:
    def two_regions(call: Any, params: dict[str, object], body: bytes) -> bytes:
        items = "".join(f"<item><regionName>{r}</regionName></item>" for r in ("eu-west-1", REGION))
        return f"<DescribeRegionsResponse><regionInfo>{items}</regionInfo></DescribeRegionsResponse>".encode()

    org_run.proxy.hooks[("ec2", "DescribeRegions")] = two_regions
    try:
        probe = probe_account(org_run.access, org_run.org.members[0], (), REGION)
    finally:
        del org_run.proxy.hooks[("ec2", "DescribeRegions")]
    assert probe.reachable
    assert probe.regions == (REGION, "eu-west-1")  # the home region first
    assert probe.partial.coverage == []


def test_cluster_map_errors_name_the_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("arn:aws:eks:us-east-1:111122223333:cluster/a: {context: x}\n"
                    "arn:aws:eks:eu-west-1:444455556666:cluster/a: {context: y}\n")  # fmt: skip
    with pytest.raises(
        UsageError, match=r"map.yaml, entry 'arn:aws:eks:eu-west-1:444455556666:cluster/a': cluster name 'a'"
    ):
        load_cluster_map(path)
    path.write_text("not-an-arn: {context: x}\n")
    with pytest.raises(UsageError, match="not an EKS cluster ARN"):
        load_cluster_map(path)
    path.write_text("arn:aws:eks:us-east-1:111122223333:cluster/a: {context: x, manifests: y}\n")
    with pytest.raises(UsageError, match="exactly one of context"):
        load_cluster_map(path)


def test_an_account_whose_tasks_failed_has_every_service_unknown() -> None:
    part = unreachable_account(
        MemberAccess(), "111122223333", (REGION,), RuntimeError("worker lost"), why="task probe-111122223333 failed"
    )
    got = {(c.scope, c.service): (c.status, c.error) for c in part.coverage}
    reason = "as arn:aws:iam::111122223333:role/irsa-collector: worker lost"
    assert got == {
        ("111122223333/global", "sts"): ("failed", f"task probe-111122223333 failed: {reason}"),
        ("111122223333/global", "iam"): ("failed", f"skipped: task probe-111122223333 failed ({reason})"),
        **{
            (f"111122223333/{REGION}", s): ("failed", f"skipped: task probe-111122223333 failed ({reason})")
            for s in REGIONAL
        },
    }
