"""Small hand-built access graphs for the view tests (the shape the graph builder produces)."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

ES_SA = "sa:demo/external-secrets/external-secrets-sa"
BILLING_SA = "sa:demo/billing/billing"
PAYMENTS_SA = "sa:demo/payments/payments"
ES_ROLE = "arn:aws:iam::123456789012:role/external-secrets-role"
BILLING_ROLE = "arn:aws:iam::123456789012:role/billing-service-role"
PAYMENTS_ROLE = "arn:aws:iam::123456789012:role/payments-service-role"
UNUSED_ROLE = "arn:aws:iam::123456789012:role/unused-role"
UNUSED_ROLE_2 = "arn:aws:iam::123456789012:role/another-unused-role"
BILLING_DB = "arn:aws:ssm:us-east-1:123456789012:parameter/billing/db"
BILLING_API = "arn:aws:ssm:us-east-1:123456789012:parameter/billing/api"
PAYMENTS_DB = "arn:aws:ssm:us-east-1:123456789012:parameter/payments/db"
BILLING_KEY = "arn:aws:kms:us-east-1:123456789012:key/billing"
BILLING_K8S = "k8s-secret:demo/billing/db-creds"


@dataclass(frozen=True)
class FakeFinding:
    """The fields of irsa_lib.findings.Finding the views read."""

    rule: str
    severity: str
    title: str
    resource: str
    slug: str = ""
    status: str = "open"
    evidence: tuple[str, ...] = ()
    remediation: str = ""


def demo_like_graph() -> nx.MultiDiGraph:
    """The reference pattern: KES controller -> IRSA role -> service roles -> parameters."""
    g = nx.MultiDiGraph()

    def sa(node: str, ns: str, name: str) -> None:
        g.add_node(node, type="service_account", label=f"{ns}/{name}", cluster="demo", namespace=ns, name=name)

    def role(arn: str) -> None:
        g.add_node(arn, type="iam_role", label=arn.rsplit("/", 1)[1], arn=arn)

    def param(arn: str) -> None:
        name = "/" + arn.split(":parameter/", 1)[1]
        g.add_node(arn, type="ssm_parameter", label=name, name=name, arn=arn)

    sa(ES_SA, "external-secrets", "external-secrets-sa")
    sa(BILLING_SA, "billing", "billing")
    sa(PAYMENTS_SA, "payments", "payments")
    for arn in (ES_ROLE, BILLING_ROLE, PAYMENTS_ROLE, UNUSED_ROLE, UNUSED_ROLE_2):
        role(arn)
    for arn in (BILLING_DB, BILLING_API, PAYMENTS_DB):
        param(arn)
    g.add_node(BILLING_KEY, type="kms_key", label="alias/billing", arn=BILLING_KEY)
    g.add_node(BILLING_K8S, type="k8s_secret", label="billing/db-creds", namespace="billing", name="db-creds")

    def edge(u: str, v: str, mechanism: str, decision: str = "allow", **extra: object) -> None:
        g.add_edge(u, v, mechanism=mechanism, decision=decision, evidence=extra.pop("evidence", ()), **extra)

    edge(ES_SA, ES_ROLE, "irsa", evidence=("trust: sub = system:serviceaccount:external-secrets:external-secrets-sa",))
    edge(ES_ROLE, BILLING_ROLE, "assume-role")
    edge(ES_ROLE, PAYMENTS_ROLE, "assume-role", "conditional", unresolved_keys=("sts:ExternalId",))
    edge(BILLING_ROLE, BILLING_DB, "read")
    edge(BILLING_ROLE, BILLING_API, "read")
    edge(BILLING_ROLE, BILLING_KEY, "decrypt")
    edge(PAYMENTS_ROLE, PAYMENTS_DB, "read")
    edge(BILLING_DB, BILLING_K8S, "materializes")
    edge(BILLING_SA, BILLING_K8S, "mounts")
    edge(PAYMENTS_SA, UNUSED_ROLE, "irsa", "potential", configured=False)
    edge(PAYMENTS_SA, UNUSED_ROLE_2, "irsa", "potential", configured=False)
    return g
