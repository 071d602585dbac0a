"""The analysis partitioned per cluster and per rule equals the single-process analysis.

Row for row and finding for finding, on a real Dask ``LocalCluster`` with process workers: on
``tiny`` (two clusters in two accounts), on ``crossed`` (``tiny`` plus everything that crosses
clusters: a role and an OIDC provider used from both clusters, one node role for both clusters' node
groups, one KES controller role for both controllers, a key whose policy was not collected under
values both clusters read, a cluster known only from a failed Kubernetes source, an RBAC gap) and on
``medium`` (two clusters, 387,466 rows, 3,786 findings), which ``make bench`` runs
(``IRSA_PARTITION_SIZES=medium``; any sizes, e.g. ``medium,large``).
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.synthetic import generate
from irsa_lib.analysis import Analysis, analyse
from irsa_lib.engine import dask_client
from irsa_lib.findings import RULES
from irsa_lib.graph.schema import Mechanism, role_id
from irsa_lib.model import Coverage, InlinePolicy, MetadataOptions, OIDCProvider, Role
from irsa_lib.partitioned import (
    CLUSTER_RULES,
    READER_RULES,
    ROLE_RULES,
    analyse_cluster,
    analyse_in_parts,
    analyse_partitioned,
    cluster_snapshot,
    partition_keys,
)
from irsa_lib.snapshot import Snapshot

pytestmark = pytest.mark.integration  # a LocalCluster listens on 127.0.0.1

SIZES = [size for size in os.environ.get("IRSA_PARTITION_SIZES", "").split(",") if size]
"""Synthetic sizes compared on Dask; ``make bench`` sets ``medium`` (about 2 minutes on a quiet 2-core
machine, 9 at a load average of 10: too long for every test run)."""
ROLE_ARN = "eks.amazonaws.com/role-arn"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with dask_client(workers=2, threads_per_worker=1) as c:
        yield c


def crossed() -> Snapshot:
    """``tiny`` with the records that cross clusters (see the module docstring)."""
    s = generate("tiny")
    sas = list(s.service_accounts)
    kes_role = next(sa.role_arn for sa in sas if sa.cluster == "prod-00" and sa.namespace == "external-secrets")
    service_role = next(sa.role_arn for sa in sas if sa.cluster == "prod-00" and "/svc/" in (sa.role_arn or ""))
    assert kes_role and service_role
    guest = next(
        i for i, sa in enumerate(sas) if sa.cluster == "prod-01" and not sa.role_arn and sa.namespace != "kube-system"
    )
    for i, sa in enumerate(sas):
        if i == guest or (sa.cluster == "prod-01" and sa.namespace == "external-secrets"):
            arn = service_role if i == guest else kes_role
            sas[i] = dataclasses.replace(sa, annotations={**sa.annotations, ROLE_ARN: arn})
    # prod-01's issuer registered in the service role's account, and the role trusting the guest there
    account = service_role.split(":")[4]
    host = next(c.oidc_issuer for c in s.clusters if c.name == "prod-01" and c.oidc_issuer)
    host = host.removeprefix("https://")
    provider = OIDCProvider(
        arn=f"arn:aws:iam::{account}:oidc-provider/{host}",
        url=host,
        account_id=account,
        client_ids=("sts.amazonaws.com",),
    )
    sub = f"system:serviceaccount:{sas[guest].namespace}:{sas[guest].name}"
    welcome = {
        "Effect": "Allow",
        "Principal": {"Federated": provider.arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": sub, f"{host}:aud": "sts.amazonaws.com"}},
    }
    node_role = s.node_groups[0].node_role_arn
    reads = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameter*", "kms:Decrypt"], "Resource": "*"}],
    }

    def role(r: Role) -> Role:
        if r.arn == service_role:
            return dataclasses.replace(
                r, trust_policy={**r.trust_policy, "Statement": [*r.trust_policy["Statement"], welcome]}
            )
        if r.arn == node_role:
            return dataclasses.replace(
                r, inline_policies=(*r.inline_policies, InlinePolicy(name="reads", document=reads))
            )
        return r

    imds = MetadataOptions(http_tokens="optional", hop_limit=2, http_endpoint="enabled")
    s = dataclasses.replace(
        s,
        roles=tuple(role(r) for r in s.roles),
        service_accounts=tuple(sas),
        oidc_providers=(*s.oidc_providers, provider),
        node_groups=tuple(
            dataclasses.replace(ng, node_role_arn=node_role, metadata_options=imds) for ng in s.node_groups
        ),
        coverage=(
            *s.coverage,
            Coverage(source="kubernetes", scope="prod-02", service="namespaces", status="denied", error="forbidden"),
            Coverage(source="kubernetes", scope="prod-01", service="rolebindings", status="denied", error="forbidden"),
        ),
    )
    # the key of a value the guest (prod-01) and prod-00 both read: its policy was not collected
    shared = analyse(s, rules=())
    clusters_of: dict[str, set[str]] = {}
    for r in shared.rows:
        if r.kms_key_manager == "CUSTOMER":
            clusters_of.setdefault(r.kms_key_arn, set()).add(r.cluster)
    key = min(k for k, c in clusters_of.items() if c == {"prod-00", "prod-01"})
    return dataclasses.replace(
        s, kms_keys=tuple(dataclasses.replace(k, policy=None) if k.arn == key else k for k in s.kms_keys)
    )


@pytest.fixture(scope="module")
def crossed_org() -> tuple[Snapshot, Analysis]:
    s = crossed()
    return s, analyse(s)


def _same(single: Analysis, rows: tuple[Any, ...], findings: tuple[Any, ...]) -> None:
    assert len(rows) == len(single.rows) > 0
    assert rows == single.rows
    assert len(findings) == len(single.findings) > 0
    assert findings == single.findings


def test_crossed_organisation_really_crosses_clusters(crossed_org: tuple[Snapshot, Analysis]) -> None:
    s, single = crossed_org
    assert partition_keys(s) == ("prod-00", "prod-01", "prod-02")  # prod-02: only its failed source names it
    guest_rows = [r for r in single.rows if r.cluster == "prod-01" and "shipping-0010-service-role" in " ".join(r.path)]
    assert guest_rows  # the prod-00 service role, assumed from prod-01
    [key] = [k.arn for k in s.kms_keys if k.policy is None]
    undecided = Counter(r.cluster for r in single.rows if any(key in u for u in r.unknown))
    assert undecided.keys() >= {"prod-00", "prod-01"}  # one key's gap reaches rows of both clusters
    node_role = s.node_groups[0].node_role_arn
    assert node_role is not None
    assert any(f.rule == "F05" and f.resource == node_role for f in single.findings)
    imds = single.graph.graph.in_edges(role_id(node_role), data=True)
    pods = {single.graph.node(u)["cluster"] for u, _, d in imds if d["mechanism"] == Mechanism.NODE_IMDS}
    assert pods == {"prod-00", "prod-01"}  # one node role, reached from the workloads of both clusters
    [f04] = [f for f in single.findings if f.rule == "F04" and f.resource.endswith("external-secrets-role-prod-00")]
    assert sum("KES controller" in e for e in f04.evidence) == 2  # the controllers of both clusters
    gaps = {(f.rule, f.resource) for f in single.findings if f.status == "unknown"}
    assert {("F13", "kubernetes:prod-01:rolebindings"), ("F03", "kubernetes:prod-02:namespaces")} <= gaps


def test_a_cluster_snapshot_keeps_every_aws_record_and_only_its_own_kubernetes_objects() -> None:
    s = crossed()
    part = cluster_snapshot(s, "prod-01")
    assert part.roles is s.roles and part.ssm_parameters is s.ssm_parameters and part.coverage is s.coverage
    assert part.node_groups is s.node_groups  # a role is a node role wherever it is used
    assert {c.name for c in part.clusters} == {"prod-01"}
    assert {sa.cluster for sa in part.service_accounts} == {"prod-01"}
    assert len(part.service_accounts) == sum(sa.cluster == "prod-01" for sa in s.service_accounts) > 0
    assert {r.cluster for r in part.rbac_bindings} == {"prod-01"}
    assert cluster_snapshot(s, "prod-02").service_accounts == ()


def test_the_partitions_in_one_process_equal_the_single_process_analysis(
    crossed_org: tuple[Snapshot, Analysis],
) -> None:
    s, single = crossed_org
    parts = analyse_in_parts(s)
    _same(single, parts.rows, parts.findings)
    assert parts.row_count == len(single.rows)


def test_on_dask_the_crossed_organisation_equals_the_single_process_analysis(
    client: Any, crossed_org: tuple[Snapshot, Analysis]
) -> None:
    s, single = crossed_org
    spread = analyse_partitioned(client, s)
    assert spread.clusters == ("prod-00", "prod-01", "prod-02")
    assert spread.rules == single.rules == tuple(RULES)
    _same(single, spread.rows, spread.findings)


def test_on_dask_tiny_equals_the_single_process_analysis(client: Any) -> None:
    snapshot = generate("tiny")
    single = analyse(snapshot)
    spread = analyse_partitioned(client, snapshot)
    assert spread.clusters == ("prod-00", "prod-01")
    _same(single, spread.rows, spread.findings)
    assert {r.cluster for r in spread.rows} == {"prod-00", "prod-01"}


def test_rows_can_stay_on_the_workers(client: Any) -> None:
    snapshot = generate("tiny")
    spread = analyse_partitioned(client, snapshot, rules=["F13", "F30"], keep_rows=False)
    single = analyse(snapshot, rules=["F13", "F30"])
    assert spread.rows == ()
    assert spread.row_count == len(single.rows) > 0
    assert spread.findings == single.findings  # F13 and F30 read the rows where they are


def test_partitioned_analysis_runs_only_the_rules_asked(client: Any) -> None:
    snapshot = generate("tiny")
    for rules in (["F13"], ["F04", "F30"], []):
        spread = analyse_partitioned(client, snapshot, rules=rules)
        assert spread.rules == tuple(rules)
        assert spread.findings == analyse(snapshot, rules=rules).findings
        assert {f.rule for f in spread.findings} <= set(rules)


def test_rules_outside_the_graph_groups_read_no_graph() -> None:
    """A rule outside CLUSTER_RULES, ROLE_RULES and READER_RULES runs without the graph: with and without
    it, its findings are the same (a rule that starts reading the graph must join one of the groups)."""
    from irsa_lib.findings import run_findings

    s = crossed()
    with_graph = analyse(s)
    inventory_only = set(RULES) - CLUSTER_RULES - ROLE_RULES - READER_RULES
    without = run_findings(s, inventory=with_graph.inventory, rules=sorted(inventory_only))
    assert without == [f for f in with_graph.findings if f.rule in inventory_only]
    assert len({f.rule for f in without}) >= 8  # most of them judge something here


@pytest.mark.skipif(not SIZES, reason="set IRSA_PARTITION_SIZES=medium (make bench runs it)")
@pytest.mark.parametrize("size", SIZES or ["medium"])
def test_on_dask_a_synthetic_organisation_equals_the_single_process_analysis(client: Any, size: str) -> None:
    snapshot = generate(size)
    single = analyse(snapshot)
    spread = analyse_partitioned(client, snapshot)
    assert len(spread.clusters) >= 2
    _same(single, spread.rows, spread.findings)
    assert {r.cluster for r in spread.rows} == set(spread.clusters) & {r.cluster for r in single.rows}


def test_an_inventory_in_use_pickles_as_a_fresh_one() -> None:
    """Dask moves the scattered inventory between worker processes after tasks have used it: its caches
    (compiled matchers) stay behind and the copy answers as the original."""
    import pickle

    snapshot = generate("tiny")
    used = analyse(snapshot)
    copy = pickle.loads(pickle.dumps(used.inventory))
    assert copy.roles == used.inventory.roles and copy.snapshot == snapshot
    assert analyse_in_parts(snapshot, rules=["F04"]).findings == analyse(snapshot, rules=["F04"]).findings
    assert used.rows == analyse_cluster(copy, "prod-00", ()).rows + analyse_cluster(copy, "prod-01", ()).rows
