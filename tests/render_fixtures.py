"""Small hand-built access graphs for the view tests, shaped like irsa_lib.graph's output.

Edges point from "whoever holds this" to "what they can obtain": workload -> its service account
and mounted Secrets, Secret -> the ExternalSecret that fills it -> the parameter it fetches,
service account -> role (IRSA) -> role (AssumeRole) -> parameter (read + decrypt).
"""

from __future__ import annotations

import csv
from pathlib import Path

import networkx as nx

from irsa_lib.findings import RULES, Finding

ES_SA = "sa:demo/external-secrets/external-secrets-sa"
BILLING_SA = "sa:demo/billing/billing"
PAYMENTS_SA = "sa:demo/payments/payments"
BILLING_WORKLOAD = "workload:demo/billing/Deployment/billing"
ES_ROLE = "role:arn:aws:iam::123456789012:role/external-secrets-role"
BILLING_ROLE = "role:arn:aws:iam::123456789012:role/billing-service-role"
PAYMENTS_ROLE = "role:arn:aws:iam::123456789012:role/payments-service-role"
UNUSED_ROLE = "role:arn:aws:iam::123456789012:role/unused-role"
UNUSED_ROLE_2 = "role:arn:aws:iam::123456789012:role/another-unused-role"
BILLING_DB = "param:arn:aws:ssm:us-east-1:123456789012:parameter/billing/db"
BILLING_API = "param:arn:aws:ssm:us-east-1:123456789012:parameter/billing/api"
PAYMENTS_DB = "param:arn:aws:ssm:us-east-1:123456789012:parameter/payments/db"
BILLING_K8S = "k8s-secret:demo/billing/db-creds"
BILLING_ES = "kes-es:demo/billing/db"


def finding(rule: str, resource: str, *evidence: str) -> Finding:
    """A failing finding about ``resource`` as rule ``rule`` reports it (its catalogue severity and title)."""
    return RULES[rule].meta.fail(resource, *evidence)


def demo_like_graph() -> nx.MultiDiGraph:
    """The reference pattern: KES controller -> IRSA role -> service roles -> parameters."""
    g = nx.MultiDiGraph()

    def k8s(node: str, type_: str, ns: str, name: str) -> None:
        g.add_node(node, type=type_, label=f"{ns}/{name}", cluster="demo", namespace=ns, name=name)

    def role(node: str) -> None:
        arn = node.removeprefix("role:")
        g.add_node(node, type="iam-role", label=arn.rsplit("/", 1)[1], arn=arn)

    def param(node: str) -> None:
        arn = node.removeprefix("param:")
        name = "/" + arn.split(":parameter/", 1)[1]
        g.add_node(node, type="ssm-parameter", label=name, name=name, arn=arn)

    k8s(ES_SA, "service-account", "external-secrets", "external-secrets-sa")
    k8s(BILLING_SA, "service-account", "billing", "billing")
    k8s(PAYMENTS_SA, "service-account", "payments", "payments")
    k8s(BILLING_WORKLOAD, "workload", "billing", "billing")
    k8s(BILLING_K8S, "k8s-secret", "billing", "db-creds")
    k8s(BILLING_ES, "kes-external-secret", "billing", "db")
    for node in (ES_ROLE, BILLING_ROLE, PAYMENTS_ROLE, UNUSED_ROLE, UNUSED_ROLE_2):
        role(node)
    for node in (BILLING_DB, BILLING_API, PAYMENTS_DB):
        param(node)

    def edge(u: str, v: str, mechanism: str, decision: str = "allow", **extra: object) -> None:
        g.add_edge(u, v, mechanism=mechanism, decision=decision, evidence=extra.pop("evidence", ()), **extra)

    edge(ES_SA, ES_ROLE, "irsa", evidence=("trust: sub = system:serviceaccount:external-secrets:external-secrets-sa",))
    edge(ES_ROLE, BILLING_ROLE, "assume-role")
    edge(ES_ROLE, PAYMENTS_ROLE, "assume-role", "conditional", unresolved_keys=("sts:ExternalId",))
    edge(BILLING_ROLE, BILLING_DB, "can-read")
    edge(BILLING_ROLE, BILLING_API, "can-read")
    edge(PAYMENTS_ROLE, PAYMENTS_DB, "can-read")
    edge(BILLING_WORKLOAD, BILLING_SA, "runs-as")
    edge(BILLING_WORKLOAD, BILLING_K8S, "mounts-secret")
    edge(BILLING_K8S, BILLING_ES, "materialised-from")
    edge(BILLING_ES, BILLING_DB, "kes-read", via=(ES_SA, ES_ROLE, BILLING_ROLE))
    edge(PAYMENTS_SA, UNUSED_ROLE, "irsa", "potential", configured=False)
    edge(PAYMENTS_SA, UNUSED_ROLE_2, "irsa", "potential", configured=False)
    return g


def large_graph(
    *,
    accounts: int = 4,
    roles: int = 5000,
    service_accounts: int = 2000,
    namespaces: int = 200,
    parameters: int = 20000,
) -> nx.MultiDiGraph:
    """A large organisation's graph shape: every SA has a role, every role reads 4 parameters."""
    g = nx.MultiDiGraph()
    for i in range(parameters):
        account = f"1000000000{i % accounts:02d}"
        arn = f"arn:aws:ssm:us-east-1:{account}:parameter/svc{i // 4:05d}/p{i % 4}"
        g.add_node("param:" + arn, type="ssm-parameter", label=arn.split(":parameter")[1], arn=arn)
    for r in range(roles):
        account = f"1000000000{r % accounts:02d}"
        arn = f"arn:aws:iam::{account}:role/svc{r:05d}"
        g.add_node("role:" + arn, type="iam-role", label=f"svc{r:05d}", arn=arn)
        for k in range(4):
            p = r * 4 + k
            if p < parameters:
                pacct = f"1000000000{p % accounts:02d}"
                parn = f"param:arn:aws:ssm:us-east-1:{pacct}:parameter/svc{p // 4:05d}/p{p % 4}"
                g.add_edge("role:" + arn, parn, mechanism="can-read", decision="allow", evidence=("stmt",))
    for s in range(service_accounts):
        ns = f"ns{s % namespaces:03d}"
        sa = f"sa:c{s % 3}/{ns}/app{s:05d}"
        g.add_node(
            sa, type="service-account", label=f"{ns}/app{s:05d}", cluster=f"c{s % 3}", namespace=ns, name=f"app{s:05d}"
        )
        role = f"role:arn:aws:iam::1000000000{s % accounts:02d}:role/svc{s:05d}"
        g.add_edge(sa, role, mechanism="irsa", decision="allow" if s % 7 else "conditional", evidence=("trust",))
    return g


def read_csv_records(path: Path) -> list[dict[str, str]]:
    """A CSV table the report writes beside it, one dict per line (header -> cell)."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
