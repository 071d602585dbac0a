"""Role chaining through trust principals, coverage gaps, and the path queries."""

from __future__ import annotations

import pytest

from irsa_lib.access import PathLimits, what_can_read, who_can_read
from irsa_lib.errors import UsageError
from irsa_lib.graph import build_graph
from irsa_lib.model import Coverage
from tests.graph.conftest import rows, table
from tests.graph.factory import (
    ACCT,
    allow,
    doc,
    irsa_trust,
    param,
    param_arn,
    role,
    role_arn,
    sa,
    snapshot,
)
from tests.graph.test_kes import scenario

ROOT_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:AssumeRole"})
DEST = role("dest-role", ROOT_TRUST, doc(allow("ssm:GetParameter", param_arn("/dest/*"))))


def test_account_root_trust_needs_an_identity_allow_for_assume_role() -> None:
    without = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:web")), DEST],
        service_accounts=[sa("app", "web", "web-role")],
        ssm_parameters=[param("/dest/db")],
    )
    assert table(without) == set()
    with_allow = snapshot(
        roles=[
            role(
                "web-role",
                irsa_trust("system:serviceaccount:app:web"),
                doc(allow("sts:AssumeRole", role_arn("dest-role"))),
            ),
            DEST,
        ],
        service_accounts=[sa("app", "web", "web-role")],
        ssm_parameters=[param("/dest/db")],
    )
    assert table(with_allow) == {("app", "web", "/dest/db", "direct", "allow")}
    [row] = rows(with_allow)
    assert row.mechanisms == ("irsa", "assume-role", "can-read")


def test_trust_naming_the_role_needs_no_identity_allow() -> None:
    dest = role(
        "dest-role",
        doc({"Effect": "Allow", "Principal": {"AWS": role_arn("web-role")}, "Action": "sts:AssumeRole"}),
        doc(allow("ssm:GetParameter", param_arn("/dest/*"))),
    )
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:web")), dest],
        service_accounts=[sa("app", "web", "web-role")],
        ssm_parameters=[param("/dest/db")],
    )
    assert table(snap) == {("app", "web", "/dest/db", "direct", "allow")}


def test_missing_coverage_marks_rows_incomplete() -> None:
    snap = snapshot(
        roles=[
            role(
                "web-role",
                irsa_trust("system:serviceaccount:app:web"),
                doc(allow("ssm:GetParameter", param_arn("/app/*"))),
            )
        ],
        service_accounts=[sa("app", "web", "web-role")],
        ssm_parameters=[param("/app/db")],
        coverage=[
            Coverage(source="aws", scope=f"{ACCT}/us-east-1", service="kms", status="denied", error="AccessDenied")
        ],
    )
    [row] = rows(snap)
    assert row.complete is False
    assert any("kms" in u and "denied" in u for u in row.unknown)
    assert build_graph(snap).gaps


def test_cluster_without_node_groups_is_a_gap_not_silence() -> None:
    snap = snapshot(service_accounts=[sa("app", "web")], node_groups=[])
    g = build_graph(snap.__class__(**{**snap.__dict__, "workloads": ()}))
    assert g.gaps == ()
    from tests.graph.factory import workload

    g = build_graph(
        snapshot(service_accounts=[sa("app", "web")], workloads=[workload("app", "web", "web")], node_groups=[])
    )
    assert any("node groups" in gap.what for gap in g.gaps)


def test_who_can_read_yields_shortest_paths_first_and_is_bounded() -> None:
    g = build_graph(scenario())
    paths = list(who_can_read(g, "/billing/db", limits=PathLimits(max_paths=20)))
    lengths = [len(p.nodes) for p in paths]
    assert lengths == sorted(lengths)
    subjects = {g.label(p.subject) for p in paths}
    # the controller's own service account reads it directly; billing/api's workload through its Secret
    assert {"sa external-secrets/kes-sa", "Deployment billing/api"} <= subjects
    assert "Deployment payments/api" not in subjects
    assert len(list(who_can_read(g, "/billing/db", limits=PathLimits(max_paths=2)))) == 2
    assert all(len(p.nodes) - 1 <= 2 for p in who_can_read(g, "/billing/db", limits=PathLimits(cutoff=2)))


def test_what_can_read_for_a_service_account() -> None:
    g = build_graph(scenario())
    targets = {g.label(p.target) for p in what_can_read(g, "billing/api")}
    assert targets == {"parameter /billing/db"}
    with pytest.raises(UsageError):
        list(what_can_read(g, "nope/none"))
    with pytest.raises(UsageError):
        list(who_can_read(g, "/does/not/exist"))


def test_a_policy_missing_from_the_snapshot_makes_the_row_incomplete() -> None:
    import dataclasses

    web = role(
        "web-role", irsa_trust("system:serviceaccount:app:web"), doc(allow("ssm:GetParameter", param_arn("/app/*")))
    )
    web = dataclasses.replace(web, attached_policy_arns=(f"arn:aws:iam::{ACCT}:policy/not-collected",))
    snap = snapshot(roles=[web], service_accounts=[sa("app", "web", "web-role")], ssm_parameters=[param("/app/db")])
    [row] = rows(snap)
    assert row.secret_name == "/app/db"
    assert row.complete is False
    assert any("not-collected" in u for u in row.unknown)


def test_trust_naming_everyone_needs_no_identity_allow_in_the_same_account() -> None:
    open_role = role(
        "open-role",
        doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
        doc(allow("ssm:GetParameter", param_arn("/open/*"))),
    )
    snap = snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:web")), open_role],
        service_accounts=[sa("app", "web", "web-role")],
        ssm_parameters=[param("/open/db")],
    )
    assert table(snap) == {("app", "web", "/open/db", "direct", "allow")}


def _with_gap(service: str, **extra: object) -> object:
    import dataclasses

    from tests.graph.test_kes import RBAC_ALICE

    snap = scenario(extra=RBAC_ALICE)  # type: ignore[arg-type]
    snap = dataclasses.replace(snap, **extra)  # type: ignore[arg-type]
    gap = Coverage(source="kubernetes", scope="c1", service=service, status="denied", error="Forbidden")
    return dataclasses.replace(snap, coverage=(gap,))


def _completeness(snap: object) -> dict[tuple[str, str, str, str], bool]:
    from irsa_lib.access import effective_access

    return {
        (r.subject_kind, r.service_account, r.secret_name, r.access): r.complete
        for r in effective_access(build_graph(snap))  # type: ignore[arg-type]
    }


def test_a_denied_secrets_listing_marks_only_rows_through_a_kubernetes_secret() -> None:
    got = _completeness(_with_gap("secrets"))
    assert got[("ServiceAccount", "api", "/billing/db", "via-controller")] is False
    assert got[("User", "alice", "/payments/key", "potential")] is True  # alice -> ExternalSecret -> value
    assert got[("ServiceAccount", "kes-sa", "/billing/db", "direct")] is True


def test_denied_rbac_marks_only_rows_rbac_could_change() -> None:
    got = _completeness(_with_gap("rolebindings"))
    assert got[("User", "alice", "/payments/key", "potential")] is False
    assert got[("ServiceAccount", "api", "/billing/db", "via-controller")] is True
    assert got[("ServiceAccount", "kes-sa", "/billing/db", "direct")] is True


def test_other_kubernetes_gaps_still_mark_every_row_of_the_cluster() -> None:
    got = _completeness(_with_gap("pods"))
    assert got and not any(got.values())


def test_denied_rbac_also_marks_conditional_rows_an_unseen_binding_could_better() -> None:
    import dataclasses

    from tests.graph.test_pod_identity_imds_csi import imds_snapshot

    snap = imds_snapshot(None)  # unknown instance metadata settings: a conditional direct row
    gap = Coverage(source="kubernetes", scope="c1", service="clusterrolebindings", status="denied")
    [row] = rows(dataclasses.replace(snap, coverage=(gap,)))  # type: ignore[call-overload]
    assert (row.access, row.decision, row.complete) == ("direct", "conditional", False)
