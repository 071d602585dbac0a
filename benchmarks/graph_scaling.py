"""Synthetic organisations for the access graph: n teams, each with its own namespace, IRSA role,
service role behind the KES controller, CMK and parameters. ``python -m benchmarks.graph_scaling``
prints build times and evaluation counts for growing n."""

from __future__ import annotations

import sys
import time

from irsa_lib.access import effective_access
from irsa_lib.graph import build_graph
from irsa_lib.model import (
    Account,
    EKSCluster,
    InlinePolicy,
    KESController,
    KESDataItem,
    KESExternalSecret,
    KMSKey,
    MetadataOptions,
    Namespace,
    NodeGroup,
    OIDCProvider,
    Role,
    SecretKeyRef,
    ServiceAccount,
    SSMParameter,
    Workload,
)
from irsa_lib.snapshot import Snapshot

ACCT = "111122223333"
REGION = "us-east-1"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/BENCH"
PROVIDER = f"arn:aws:iam::{ACCT}:oidc-provider/{HOST}"


def _arn(name: str) -> str:
    return f"arn:aws:iam::{ACCT}:role/{name}"


def _irsa(ns: str, sa: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{HOST}:sub": f"system:serviceaccount:{ns}:{sa}",
                        f"{HOST}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def _role(name: str, trust: dict[str, object], *statements: dict[str, object]) -> Role:
    policies = (
        (InlinePolicy(name="p", document={"Version": "2012-10-17", "Statement": list(statements)}),)
        if statements
        else ()
    )
    return Role(
        arn=_arn(name),
        name=name,
        role_id=f"AROA{abs(hash(name)) % 10**16:016d}",
        account_id=ACCT,
        trust_policy=trust,
        inline_policies=policies,
    )


def synthetic_org(n: int, *, params_per_team: int = 3) -> Snapshot:
    """n teams wired like the reference pattern (KES controller -> ext-role -> svc-i-role)."""
    roles = [_role("ext-role", _irsa("external-secrets", "kes-sa"))]
    keys, params, namespaces, sas, workloads, ess = [], [], [], [], [], []
    sas.append(
        ServiceAccount(
            cluster="c1",
            namespace="external-secrets",
            name="kes-sa",
            annotations={"eks.amazonaws.com/role-arn": _arn("ext-role")},
        )
    )
    namespaces.append(Namespace(cluster="c1", name="external-secrets"))
    for i in range(n):
        team = f"team-{i}"
        prefix = f"arn:aws:ssm:{REGION}:{ACCT}:parameter/{team}"
        read = {
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
            "Resource": [f"{prefix}/*", prefix],
        }
        trust_ext = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": _arn("ext-role")}, "Action": "sts:AssumeRole"}],
        }
        roles.append(_role(f"svc-{i}-role", trust_ext, read))
        roles.append(_role(f"app-{i}-role", _irsa(team, "app"), read))
        keys.append(
            KMSKey(
                arn=f"arn:aws:kms:{REGION}:{ACCT}:key/k-{i}",
                key_id=f"k-{i}",
                account_id=ACCT,
                region=REGION,
                manager="CUSTOMER",
                aliases=(f"alias/{team}",),
                policy={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": [_arn(f"svc-{i}-role"), _arn(f"app-{i}-role")]},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                        }
                    ],
                },
            )
        )
        for j in range(params_per_team):
            name = f"/{team}/p{j}"
            params.append(
                SSMParameter(
                    arn=f"{prefix}/p{j}",
                    name=name,
                    account_id=ACCT,
                    region=REGION,
                    type="SecureString",
                    key_id=f"alias/{team}",
                )
            )
        namespaces.append(
            Namespace(
                cluster="c1", name=team, annotations={"iam.amazonaws.com/permitted": f"^{_arn(f'svc-{i}-role')}$"}
            )
        )
        sas.append(
            ServiceAccount(
                cluster="c1",
                namespace=team,
                name="app",
                annotations={"eks.amazonaws.com/role-arn": _arn(f"app-{i}-role")},
            )
        )
        ess.append(
            KESExternalSecret(
                cluster="c1",
                namespace=team,
                name="creds",
                backend_type="systemManager",
                role_arn=_arn(f"svc-{i}-role"),
                data=(KESDataItem(key=f"/{team}/p0", name="p0"),),
            )
        )
        workloads.append(
            Workload(
                cluster="c1",
                namespace=team,
                name="app",
                kind="Deployment",
                service_account="app",
                secret_refs=(SecretKeyRef(secret="creds", via="volume"),),
            )
        )
    return Snapshot(
        created_at="2026-11-29T00:00:00Z",
        accounts=(Account(account_id=ACCT),),
        clusters=(
            EKSCluster(
                name="c1",
                arn=f"arn:aws:eks:{REGION}:{ACCT}:cluster/c1",
                account_id=ACCT,
                region=REGION,
                oidc_issuer=f"https://{HOST}",
            ),
        ),
        oidc_providers=(OIDCProvider(arn=PROVIDER, url=HOST, account_id=ACCT),),
        node_groups=(
            NodeGroup(
                cluster_name="c1",
                name="ng",
                account_id=ACCT,
                region=REGION,
                node_role_arn=_arn("node-role"),
                metadata_options=MetadataOptions(http_tokens="required", hop_limit=1),
            ),
        ),
        roles=tuple(roles),
        kms_keys=tuple(keys),
        ssm_parameters=tuple(params),
        namespaces=tuple(namespaces),
        service_accounts=tuple(sas),
        workloads=tuple(workloads),
        kes_external_secrets=tuple(ess),
        kes_controllers=(
            KESController(
                cluster="c1", namespace="external-secrets", name="kes", service_account="kes-sa", aws_region=REGION
            ),
        ),
    )


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [50, 100, 200, 400]
    print(f"{'teams':>6} {'nodes':>7} {'edges':>7} {'evals':>7} {'build s':>8} {'rows':>6} {'rows s':>7}")
    for n in sizes:
        snap = synthetic_org(n)
        t0 = time.perf_counter()
        g = build_graph(snap)
        t1 = time.perf_counter()
        rows = effective_access(g)
        t2 = time.perf_counter()
        print(
            f"{n:>6} {g.graph.number_of_nodes():>7} {g.graph.number_of_edges():>7} {g.evaluations:>7} {t1 - t0:>8.2f} {len(rows):>6} {t2 - t1:>7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
