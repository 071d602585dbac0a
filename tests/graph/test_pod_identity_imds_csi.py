"""Pod Identity (session tags, target role), node IMDS reachability, CSI mounts with GetParameters."""

from __future__ import annotations

import dataclasses

from irsa_lib.graph import build_graph
from irsa_lib.model import CSIObject, CSIVolume, MetadataOptions, PodIdentityAssociation, SecretProviderClass
from tests.graph.conftest import rows, table
from tests.graph.factory import (
    ACCT,
    CLUSTER,
    REGION,
    allow,
    doc,
    irsa_trust,
    key_policy_for,
    kms_key,
    param,
    param_arn,
    role,
    role_arn,
    sa,
    secure_nodes,
    snapshot,
    workload,
)


def pod_identity_trust(*actions: str) -> dict[str, object]:
    return doc({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": list(actions)})


def association(ns: str, name: str, role_name: str, **kw: object) -> PodIdentityAssociation:
    return PodIdentityAssociation(
        association_arn=f"arn:aws:eks:{REGION}:{ACCT}:podidentityassociation/{CLUSTER}/a-{name}",
        association_id=f"a-{name}",
        cluster_name=CLUSTER,
        namespace=ns,
        service_account=name,
        role_arn=role_arn(role_name),
        account_id=ACCT,
        region=REGION,
        **kw,  # type: ignore[arg-type]
    )


ABAC = doc(allow("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/kubernetes-namespace}/*"))


def test_pod_identity_session_tags_drive_abac() -> None:
    snap = snapshot(
        roles=[role("pi-role", pod_identity_trust("sts:AssumeRole", "sts:TagSession"), ABAC)],
        ssm_parameters=[param("/app/db"), param("/other/db")],
        service_accounts=[sa("app", "web"), sa("other", "web")],
        pod_identity_associations=[association("app", "web", "pi-role")],
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}


def test_pod_identity_trust_without_tag_session_fails() -> None:
    snap = snapshot(
        roles=[role("pi-role", pod_identity_trust("sts:AssumeRole"), ABAC)],
        ssm_parameters=[param("/app/db")],
        service_accounts=[sa("app", "web")],
        pod_identity_associations=[association("app", "web", "pi-role")],
    )
    assert table(snap) == set()


def test_pod_identity_target_role_is_chained_with_the_external_id() -> None:
    target_trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": role_arn("pi-role")},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}},
        }
    )
    snap = snapshot(
        roles=[
            role("pi-role", pod_identity_trust("sts:AssumeRole", "sts:TagSession")),
            role("target-role", target_trust, doc(allow("ssm:GetParameter", param_arn("/app/*")))),
        ],
        ssm_parameters=[param("/app/db")],
        service_accounts=[sa("app", "web")],
        pod_identity_associations=[
            association("app", "web", "pi-role", target_role_arn=role_arn("target-role"), external_id="ext-123")
        ],
    )
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}
    [row] = rows(snap)
    assert row.mechanisms == ("pod-identity", "pod-identity-target", "can-read")


NODE_READS = role(
    "node-role",
    doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
    doc(allow("ssm:GetParameter", "*")),
)


def imds_snapshot(options: MetadataOptions | None, *, host_network: bool = False) -> object:
    nodes = dataclasses.replace(secure_nodes(), metadata_options=options)
    return snapshot(
        roles=[NODE_READS],
        node_groups=[nodes],
        ssm_parameters=[param("/app/db")],
        service_accounts=[sa("app", "web"), sa("app", "idle")],
        workloads=[workload("app", "web", "web", host_network=host_network)],
    )


def test_imdsv1_lets_every_pod_use_the_node_role() -> None:
    snap = imds_snapshot(MetadataOptions(http_tokens="optional", hop_limit=1))
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}


def test_hop_limit_two_lets_pods_use_the_node_role_even_with_imdsv2() -> None:
    snap = imds_snapshot(MetadataOptions(http_tokens="required", hop_limit=2))
    assert table(snap) == {("app", "web", "/app/db", "direct", "allow")}


def test_imdsv2_with_hop_limit_one_blocks_pods_but_not_host_network_pods() -> None:
    locked = MetadataOptions(http_tokens="required", hop_limit=1)
    assert table(imds_snapshot(locked)) == set()
    assert table(imds_snapshot(locked, host_network=True)) == {("app", "web", "/app/db", "direct", "allow")}


def test_unknown_imds_settings_give_a_conditional_row() -> None:
    [row] = rows(imds_snapshot(None))
    assert (row.service_account, row.access, row.decision) == ("web", "direct", "conditional")
    assert set(row.unresolved_keys) >= {"imds:http-tokens", "imds:hop-limit"}


def csi_snapshot(actions: list[str]) -> object:
    spc = SecretProviderClass(
        cluster=CLUSTER,
        namespace="app",
        name="spc",
        provider="aws",
        region=REGION,
        objects=(CSIObject(object_name="/app/db", object_type="ssmparameter"),),
    )
    return snapshot(
        roles=[role("web-role", irsa_trust("system:serviceaccount:app:web"), doc(allow(actions, param_arn("/app/*"))))],
        ssm_parameters=[param("/app/db")],
        service_accounts=[sa("app", "web", "web-role")],
        secret_provider_classes=[spc],
        workloads=[
            workload(
                "app",
                "web",
                "web",
                csi_volumes=(CSIVolume(driver="secrets-store.csi.k8s.io", secret_provider_class="spc"),),
            )
        ],
    )


def test_csi_mount_needs_get_parameters_not_get_parameter() -> None:
    [row] = rows(csi_snapshot(["ssm:GetParameter"]))
    assert "csi-mount" not in row.mechanisms  # the SA's own code could still call GetParameter
    [row] = rows(csi_snapshot(["ssm:GetParameters"]))
    assert (row.access, row.decision, row.mechanisms) == ("direct", "allow", ("csi-mount",))
    assert row.path == (
        "workload c1/app/Deployment/web",
        "SecretProviderClass app/spc",
        "role web-role",
        "key aws/ssm (AWS managed)",  # param() without a key: the default aws/ssm
        "parameter /app/db",
    )


# --- session policy and target role -------------------------------------------------------------

READ_APP = doc(allow("ssm:GetParameter", param_arn("/app/*")))
ONLY_A = {"Version": "2012-10-17", "Statement": [allow("ssm:GetParameter", param_arn("/app/a/*"))]}


def shared_role_snapshot(*associations: PodIdentityAssociation, **extra: list[object]) -> object:
    """One role shared by two service accounts; the role itself may read all of /app/*."""
    records: dict[str, list[object]] = {"ssm_parameters": [param("/app/a/db"), param("/app/b/db")], **extra}
    return snapshot(
        roles=[role("shared-role", pod_identity_trust("sts:AssumeRole", "sts:TagSession"), READ_APP)],
        service_accounts=[sa("a", "web"), sa("b", "web")],
        pod_identity_associations=list(associations),
        **records,
    )


def test_association_session_policy_narrows_the_shared_role_for_that_service_account_only() -> None:
    snap = shared_role_snapshot(
        association("a", "web", "shared-role", disable_session_tags=True, policy=ONLY_A),
        association("b", "web", "shared-role"),
    )
    assert table(snap) == {
        ("a", "web", "/app/a/db", "direct", "allow"),
        # b's association has no session policy: the role's whole permissions
        ("b", "web", "/app/a/db", "direct", "allow"),
        ("b", "web", "/app/b/db", "direct", "allow"),
    }
    [row] = rows(snap, service_account="a/web")
    assert row.path[1].startswith("session of shared-role")


def test_session_policy_also_limits_the_kms_leg_even_when_the_key_policy_names_the_role() -> None:
    def with_policy(policy: dict[str, object]) -> object:
        return shared_role_snapshot(
            association("a", "web", "shared-role", disable_session_tags=True, policy=policy),
            kms_keys=[kms_key("k-app", "alias/app", key_policy_for("shared-role"))],
            ssm_parameters=[param("/app/a/db", "alias/app")],
        )

    # the key policy names the role, but a session policy's implicit deny still blocks kms:Decrypt
    assert table(with_policy(ONLY_A)) == set()
    decrypt_too = {"Version": "2012-10-17", "Statement": [*ONLY_A["Statement"], allow("kms:Decrypt", "*")]}
    assert table(with_policy(decrypt_too)) == {("a", "web", "/app/a/db", "direct", "allow")}


def target_snapshot(target_trust_actions: tuple[str, ...], **assoc_kw: object) -> object:
    target_trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": role_arn("pi-role")},
            "Action": list(target_trust_actions),
            "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}},
        }
    )
    abac = doc(allow("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/kubernetes-namespace}/*"))
    return snapshot(
        roles=[
            # the association role itself may read /pi/*: the pod never holds its credentials
            role("pi-role", pod_identity_trust("sts:AssumeRole", "sts:TagSession"), doc(allow("ssm:*", "*"))),
            role("target-role", target_trust, READ_APP, abac),
        ],
        ssm_parameters=[param("/app/a/db"), param("/app/b/db"), param("/pi/db"), param("/a/own")],
        service_accounts=[sa("a", "web")],
        pod_identity_associations=[
            association(
                "a", "web", "pi-role", target_role_arn=role_arn("target-role"), external_id="ext-123", **assoc_kw
            )
        ],
    )


def test_target_role_gets_the_transitive_tags_and_the_pod_only_the_target_credentials() -> None:
    snap = target_snapshot(("sts:AssumeRole", "sts:TagSession"))
    assert table(snap) == {
        ("a", "web", "/app/a/db", "direct", "allow"),
        ("a", "web", "/app/b/db", "direct", "allow"),
        # ABAC on the transitive kubernetes-namespace tag carried into the target session
        ("a", "web", "/a/own", "direct", "allow"),
    }
    # the tags are passed on the target hop, so its trust must allow sts:TagSession as well
    assert table(target_snapshot(("sts:AssumeRole",))) == set()


def test_session_policy_applies_to_the_target_session_only() -> None:
    snap = target_snapshot(("sts:AssumeRole", "sts:TagSession"), disable_session_tags=True, policy=ONLY_A)
    # the policy does not allow sts:AssumeRole, yet the hop works: it does not limit the first role;
    # no session tags, so the ABAC statement gives nothing either
    assert table(snap) == {("a", "web", "/app/a/db", "direct", "allow")}


def test_self_managed_nodes_without_an_instance_profile_have_no_role_to_reach() -> None:
    open_imds = MetadataOptions(http_tokens="optional", hop_limit=2, http_endpoint="enabled")
    no_profile = dataclasses.replace(
        secure_nodes(), name="bare", kind="self-managed", node_role_arn=None, metadata_options=open_imds
    )
    snap = snapshot(
        roles=[NODE_READS],
        node_groups=[secure_nodes(), no_profile],
        ssm_parameters=[param("/app/db")],
        service_accounts=[sa("app", "web")],
        workloads=[workload("app", "web", "web")],
    )
    graph = build_graph(snap)
    assert table(snap) == set()
    assert not any("node role unknown" in g.what for g in graph.gaps)
    # a profile whose role could not be resolved is a different matter: unknown, said so
    unresolved = dataclasses.replace(no_profile, instance_profile_arn=f"arn:aws:iam::{ACCT}:instance-profile/p")
    graph = build_graph(dataclasses.replace(snap, node_groups=(secure_nodes(), unresolved)))  # type: ignore[type-var]
    assert [g.what for g in graph.gaps if "node role unknown" in g.what] == [
        f"node group bare of {CLUSTER}: node role unknown"
    ]
