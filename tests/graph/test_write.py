"""Write edges: who may overwrite (poison) a value, through ESO PushSecret or an identity they hold.

Reading never follows a write edge: effective access and who/what-can-read stay about reading.
"""

from __future__ import annotations

from typing import Any

import pytest

from irsa_lib.access import effective_access, what_can_write, who_can_read, who_can_write
from irsa_lib.analysis import analyse
from irsa_lib.graph import build_graph
from irsa_lib.graph.schema import Mechanism, param_id, role_id
from irsa_lib.model import (
    ESOPushSecret,
    ESOSecretStore,
    JWTAuth,
    StoreRef,
)
from tests.graph.factory import (
    CLUSTER,
    allow,
    doc,
    irsa_trust,
    kms_key,
    namespace,
    param,
    param_arn,
    rbac_grant,
    role,
    role_arn,
    sa,
    snapshot,
)

PUSHERS = rbac_grant("pay", ("Group", "pay-team"), ("create",), "external-secrets.io", "pushsecrets")


def push_snapshot(*, key_policy: dict[str, Any] | None = None, **extra: list[object]) -> Any:
    """pay-role (borrowed by pay-store through pay-sa) reads /pay/* and may PutParameter on /pay/* and
    /other/*; values use the AWS managed aws/ssm key unless ``key_policy`` gives /other/db a CMK."""
    other = param("/other/db", "alias/other" if key_policy else None)
    records: dict[str, list[object]] = {
        "roles": [
            role(
                "pay-role",
                irsa_trust("system:serviceaccount:pay:pay-sa"),
                doc(
                    allow("ssm:GetParameter", param_arn("/pay/*")),
                    allow("ssm:PutParameter", [param_arn("/pay/*"), param_arn("/other/*")]),
                ),
            )
        ],
        "ssm_parameters": [param("/pay/db"), other, param("/third/db")],
        "kms_keys": [kms_key("k-other", "alias/other", key_policy)] if key_policy else [],
        "namespaces": [namespace("pay")],
        "service_accounts": [sa("pay", "pay-sa", "pay-role")],
        "eso_stores": [
            ESOSecretStore(
                cluster=CLUSTER,
                name="pay-store",
                kind="SecretStore",
                api_version="external-secrets.io/v1",
                namespace="pay",
                service="ParameterStore",
                region="us-east-1",
                jwt=JWTAuth(service_account="pay-sa"),
            )
        ],
        "eso_push_secrets": [
            ESOPushSecret(
                cluster=CLUSTER,
                namespace="pay",
                name="poison",
                api_version="external-secrets.io/v1alpha1",
                store_refs=(StoreRef(name="pay-store"),),
                source_secret="local",
                remote_keys=("/other/db",),
            )
        ],
        **extra,
    }
    return snapshot(**records)


def test_write_edges_need_the_put_and_the_encrypt_legs() -> None:
    g = build_graph(push_snapshot())
    writes = {(u, v) for u, v, _, _ in g.edges(mechanism=Mechanism.CAN_WRITE)}
    pay = role_id(role_arn("pay-role"))
    assert writes == {(pay, param_id(param_arn("/pay/db"))), (pay, param_id(param_arn("/other/db")))}
    # a CMK whose policy lets pay-role decrypt but not encrypt: the new value cannot be written
    decrypt_only = doc(
        {"Effect": "Allow", "Principal": {"AWS": role_arn("pay-role")}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    g = build_graph(push_snapshot(key_policy=decrypt_only))
    assert param_id(param_arn("/other/db")) not in {v for _, v, _, _ in g.edges(mechanism=Mechanism.CAN_WRITE)}
    encrypt_too = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": role_arn("pay-role")},
            "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": "*",
        }
    )
    g = build_graph(push_snapshot(key_policy=encrypt_too))
    assert param_id(param_arn("/other/db")) in {v for _, v, _, _ in g.edges(mechanism=Mechanism.CAN_WRITE)}


def test_push_secret_edges_follow_the_store_chain_and_name_only_existing_values() -> None:
    g = build_graph(push_snapshot())
    pushes = {(g.label(u), g.label(v)) for u, v, _, _ in g.edges(mechanism=Mechanism.ESO_PUSH)}
    assert ("PushSecret pay/poison", "parameter /other/db") in pushes
    [data] = [d for u, v, _, d in g.edges(mechanism=Mechanism.ESO_PUSH) if g.label(u) == "PushSecret pay/poison"]
    assert [g.label(n) for n in data["via"]] == ["SecretStore pay/pay-store", "sa c1/pay/pay-sa", "role pay-role"]


def test_writing_is_never_reading() -> None:
    g = build_graph(push_snapshot(**PUSHERS))
    rows = {(r.service_account, r.secret_name) for r in effective_access(g)}
    assert rows == {("pay-sa", "/pay/db")}
    assert {g.label(p.subject) for p in who_can_read(g, "/other/db")} == set()


def test_who_can_write_and_what_can_write() -> None:
    g = build_graph(push_snapshot(**PUSHERS))
    writers = {(g.label(p.subject), p.access) for p in who_can_write(g, "/other/db")}
    # pay-sa holds pay-role itself; pay-team may create PushSecrets through pay-store
    assert writers == {("sa c1/pay/pay-sa", "direct"), ("group c1/pay-team", "potential")}
    [team_path] = [p for p in who_can_write(g, "/other/db") if g.label(p.subject) == "group c1/pay-team"]
    assert team_path.mechanisms == ("rbac-create-push-secret", "eso-push")
    assert {g.label(p.target) for p in what_can_write(g, "pay/pay-sa")} == {"parameter /pay/db", "parameter /other/db"}
    assert list(who_can_write(g, "/third/db")) == []


def test_a_graph_built_without_write_edges_reads_the_same_and_refuses_to_say_who_writes() -> None:
    whole, reading = build_graph(push_snapshot(**PUSHERS)), build_graph(push_snapshot(**PUSHERS), writes=False)
    edges = {(u, v, k) for u, v, k, _ in whole.edges()}
    writes = {(u, v, k) for u, v, k, _ in whole.edges(mechanism=Mechanism.CAN_WRITE)}
    assert writes and {(u, v, k) for u, v, k, _ in reading.edges()} == edges - writes
    assert effective_access(reading) == effective_access(whole)
    assert [p.hops for p in who_can_read(reading, "/pay/db")] == [p.hops for p in who_can_read(whole, "/pay/db")]
    with pytest.raises(ValueError, match="without write edges"):
        list(who_can_write(reading, "/other/db"))
    with pytest.raises(ValueError, match="without write edges"):
        list(what_can_write(reading, "pay/pay-sa"))
    with pytest.raises(ValueError, match="findings need the write edges"):
        analyse(push_snapshot(), writes=False)
    assert analyse(push_snapshot(), rules=(), writes=False).graph.write_edges is False
