"""Requests for the two ways a pod gets a role: IRSA web identity and EKS Pod Identity.

IRSA: the pod's projected token is exchanged with ``sts:AssumeRoleWithWebIdentity``; the caller is
the cluster's OIDC provider (``Federated``) and the trust policy's conditions see
``<issuer>:sub = system:serviceaccount:<ns>:<sa>`` and ``<issuer>:aud`` (EKS UG
associate-service-account-role). No identity policy takes part.

Pod Identity: the EKS service principal ``pods.eks.amazonaws.com`` calls ``sts:AssumeRole`` and
``sts:TagSession`` with the session tags ``eks-cluster-arn``, ``eks-cluster-name``,
``kubernetes-namespace``, ``kubernetes-service-account`` (also pod name and uid, which a snapshot
cannot know) as ``aws:RequestTag/*`` (EKS UG pod-id-role, pod-id-abac). The trust must allow both.

>>> reqs = pod_identity_requests("arn:aws:iam::111122223333:role/app",
...     cluster_arn="arn:aws:eks:us-east-1:111122223333:cluster/demo", namespace="billing", service_account="api")
>>> [r.action for r in reqs]
['sts:AssumeRole', 'sts:TagSession']
"""

from __future__ import annotations

from irsa_lib.policy.decision import Decision, all_of
from irsa_lib.policy.evaluate import evaluate
from irsa_lib.policy.policyset import PolicySet
from irsa_lib.policy.request import Principal, Request

DEFAULT_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"


def issuer_host(issuer: str) -> str:
    """The issuer as condition keys spell it: without ``https://`` and without a trailing slash."""
    return issuer.removeprefix("https://").rstrip("/")


def web_identity_request(
    role_arn: str,
    *,
    provider_arn: str,
    issuer: str,
    namespace: str,
    service_account: str,
    audiences: tuple[str, ...] = (DEFAULT_AUDIENCE,),
    context_complete: bool = False,
) -> Request:
    """The AssumeRoleWithWebIdentity request a service account's token makes.

    Other keys a trust policy may test (``amr``, source IP...) stay unresolved unless
    ``context_complete`` says the token's claims given here are all there is.
    """
    host = issuer_host(issuer)
    context: dict[str, str | list[str]] = {
        f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
        f"{host}:aud": list(audiences) if len(audiences) != 1 else audiences[0],
        "aws:FederatedProvider": provider_arn,
    }
    return Request(
        Principal(provider_arn, "federated"), "sts:AssumeRoleWithWebIdentity", role_arn, context, context_complete
    )


def pod_identity_requests(
    role_arn: str,
    *,
    cluster_arn: str,
    namespace: str,
    service_account: str,
    account_id: str | None = None,
) -> tuple[Request, Request]:
    """The AssumeRole and TagSession requests EKS makes for an association (pod name/uid unknown)."""
    cluster_name = cluster_arn.rsplit("/", 1)[-1]
    acct = account_id or cluster_arn.split(":")[4]
    context: dict[str, str | list[str]] = {
        "aws:RequestTag/eks-cluster-arn": cluster_arn,
        "aws:RequestTag/eks-cluster-name": cluster_name,
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
        "aws:TagKeys": [
            "eks-cluster-arn",
            "eks-cluster-name",
            "kubernetes-namespace",
            "kubernetes-service-account",
            "kubernetes-pod-name",
            "kubernetes-pod-uid",
        ],
        "aws:SourceAccount": acct,
        "aws:SourceArn": cluster_arn,
    }
    service = Principal(POD_IDENTITY_SERVICE, "service")
    return (
        Request(service, "sts:AssumeRole", role_arn, context, False),
        Request(service, "sts:TagSession", role_arn, context, False),
    )


def both(first: Decision, second: Decision) -> Decision:
    """Two decisions that must both allow (e.g. AssumeRole and TagSession), combined."""
    return all_of([(None, first), (None, second)])


def pod_identity_decision(trust: PolicySet, requests: tuple[Request, Request]) -> Decision:
    """Whether EKS Pod Identity can hand the role to the pod: the trust must allow both requests."""
    return both(evaluate(requests[0], trust), evaluate(requests[1], trust))
