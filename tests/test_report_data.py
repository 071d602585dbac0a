"""The report's data: every row with its chain and key, the key's decrypt evidence, the aggregates
(expected values written from the KES scenario of tests/graph/test_kes.py)."""

from __future__ import annotations

from irsa_lib.analysis import analyse
from irsa_lib.render.report_data import aggregates, owner_namespace, report_data, team_findings
from irsa_lib.render.report_page import controller_subjects
from tests.graph.test_kes import scenario


def data_of_scenario() -> tuple[dict, dict]:  # type: ignore[type-arg]
    a = analyse(scenario())
    data = report_data(a.graph, a.rows, a.findings, {"billing", "payments", "team-x", "external-secrets"})
    return data, aggregates(data, controller_subjects(a.snapshot))


def test_every_row_is_in_the_data_with_its_chain_and_key() -> None:
    a = analyse(scenario())
    data, _ = data_of_scenario()
    assert len(data["rows"]["s"]) == len(a.rows)
    labels = data["labels"]
    chains = {
        (data["subjects"][s][0], data["values"][v][0]): [labels[f], *(labels[i] for i in data["suffixes"][p])]
        for s, v, f, p in zip(data["rows"]["s"], data["rows"]["v"], data["rows"]["f"], data["rows"]["p"], strict=True)
    }
    assert chains[("sa c1/billing/api", "/billing/db")] == [
        "workload c1/billing/Deployment/api",
        "Secret billing/db-creds",
        "KES ExternalSecret billing/db-creds",
        "sa c1/external-secrets/kes-sa",
        "role ext-role",
        "role billing-service-role",
        "key billing (customer managed)",
        "parameter /billing/db",
    ]
    [billing] = [v for v in data["values"] if v[0] == "/billing/db"]
    assert billing[3] == "key billing (customer managed)" and billing[5] == "billing"


def test_the_edge_into_the_key_carries_the_deciding_key_policy_statement() -> None:
    data, _ = data_of_scenario()
    labels = data["labels"]
    role = labels.index("role billing-service-role")
    key = labels.index("key billing (customer managed)")
    mechanism, decision, evidence = data["edges"][f"{role} {key}"]
    assert (mechanism, decision) == ("kms:Decrypt", "allow")
    # the key policy (no root delegation) allows the role by its statement Sid AllowServiceRoles
    assert any("kms:Decrypt on" in e and "(Sid AllowServiceRoles)" in e for e in evidence), evidence
    assert data["edges"][f"{key} {labels.index('parameter /billing/db')}"][0] == "decrypts"


def test_aggregates_count_readers_outside_the_owner_namespace() -> None:
    data, agg = data_of_scenario()
    by_value = {r[1]: r for r in agg["values"]}
    readers = {
        data["subjects"][s][0] for s, v in zip(data["rows"]["s"], data["rows"]["v"], strict=True)
        if data["values"][v][0] == "/billing/db"
    }  # fmt: skip
    outside = {r for r in readers if not r.startswith(("sa c1/billing/", "workload c1/billing/"))}
    assert by_value["/billing/db"][4] == len(readers) and by_value["/billing/db"][6] == len(outside)
    # the KES controller's own service account reads values with its own role
    assert [r[1] for r in agg["controllers"]] == ["sa c1/external-secrets/kes-sa"]


def test_owner_namespace_is_the_first_name_segment_when_such_a_namespace_exists() -> None:
    assert owner_namespace("/billing/db", {"billing"}) == "billing"
    assert owner_namespace("billing/api-key", {"billing"}) == "billing"
    assert owner_namespace("/shared/db", {"billing"}) is None


def test_a_team_gets_the_findings_on_its_objects_its_values_and_the_roles_its_paths_use() -> None:
    data, agg = data_of_scenario()
    # F03 names the namespace team-x; F25 and F24 name objects in external-secrets
    assert agg["team_findings"] == {"c1/team-x": [0], "c1/external-secrets": [1, 2]}
    assert [data["findings"][i][1] for i in (0, 1, 2)] == ["F03", "F25", "F24"]


def test_team_findings_follow_values_keys_and_paths() -> None:
    role = "arn:aws:iam::1:role/billing-service-role"
    oncall = "arn:aws:iam::1:role/oncall"
    cross = "arn:aws:iam::1:role/billing-reads-payments"
    key = "arn:aws:kms:us-east-1:1:key/k-billing"
    billing_db = "arn:aws:ssm:us-east-1:1:parameter/billing/db"
    payments_key = "arn:aws:ssm:us-east-1:1:parameter/payments/key"

    def finding(resource: str) -> list[object]:
        return ["high", "F00", "slug", "title", resource, "fail", [], "fix"]

    data = {
        "node_ids": [
            f"role:{role}",
            f"key:{key}",
            f"param:{billing_db}",
            f"role:{oncall}",
            f"param:{payments_key}",
            f"role:{cross}",
        ],
        "subjects": [
            ["sa c1/billing/api", "ServiceAccount", "c1", "billing"],
            ["group c1/oncall", "Group", "c1", ""],
            ["sa c1/payments/api", "ServiceAccount", "c1", "payments"],
            ["sa c2/payments/api", "ServiceAccount", "c2", "payments"],
        ],
        "values": [
            ["/billing/db", billing_db, "ssm-parameter", "key billing", key, "billing"],
            ["/payments/key", payments_key, "ssm-parameter", "key aws/ssm", "", "payments"],
        ],
        "suffixes": [[0, 1, 2], [3, 1, 2], [3, 4], [5, 4]],
        # billing's api reads /billing/db through its role and key, and /payments/key through a role of
        # its own; the on-call group reads both values through the on-call role; payments' api (c1)
        # reads its own value through the on-call role too
        "rows": {"s": [0, 1, 1, 2, 0], "v": [0, 0, 1, 1, 1], "p": [0, 1, 2, 2, 3]},
        "findings": [
            finding(role),  # 0: on the path to billing's value
            finding(oncall),  # 1: on paths to the values of both
            finding(key),  # 2: the key of a billing value
            finding(payments_key),  # 3: owned by payments, in both clusters
            finding("c1/billing/Deployment/api"),  # 4
            finding("c1/Namespace/payments"),  # 5
            finding("c1/ClusterRoleBinding/oncall"),  # 6: cluster-wide
            finding("arn:aws:iam::1:root"),  # 7: on no path
            finding(cross),  # 8: billing's subject uses it, but it exposes payments' value
        ],
    }
    teams = ["c1/billing", "c1/payments", "c2/payments"]
    assert team_findings(data, teams) == {
        "c1/billing": [0, 1, 2, 4],
        "c1/payments": [1, 3, 5, 8],
        "c2/payments": [1, 3, 8],
    }
