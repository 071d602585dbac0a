"""Graph building does work linear in the organisation's size (counted, not timed)."""

from __future__ import annotations

from benchmarks.graph_scaling import synthetic_org
from irsa_lib.access import effective_access
from irsa_lib.graph import build_graph


def test_policy_evaluations_grow_linearly_with_teams() -> None:
    small, large = build_graph(synthetic_org(20)), build_graph(synthetic_org(80))
    # each team adds the same handful of evaluations: no pairwise (roles x roles, SAs x roles) work
    per_team = (large.evaluations - small.evaluations) / 60
    assert large.evaluations <= small.evaluations * 4 + 10
    assert per_team < 40
    assert large.graph.number_of_edges() <= small.graph.number_of_edges() * 4 + 10


def test_each_team_reads_only_its_own_values() -> None:
    rows = effective_access(build_graph(synthetic_org(5)))
    # (the kubelet of whichever node runs a pod reads the Secrets it mounts: a cluster-wide subject)
    by_team = {
        (r.namespace, r.service_account, r.secret_name, r.access)
        for r in rows
        if r.namespace != "external-secrets" and r.subject_kind != "Node"
    }
    expected = {(f"team-{i}", "app", f"/team-{i}/p{j}", "direct") for i in range(5) for j in range(3)}
    # app's own IRSA role reads all three of its team's parameters; the ExternalSecret adds nothing better
    assert by_team == expected
