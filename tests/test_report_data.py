"""The report's data: every row with its chain and key, the key's decrypt evidence, the aggregates
(expected values written from the KES scenario of tests/graph/test_kes.py)."""

from __future__ import annotations

from irsa_lib.analysis import analyse
from irsa_lib.render.report_data import aggregates, owner_namespace, report_data
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
