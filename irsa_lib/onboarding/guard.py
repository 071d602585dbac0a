"""The explicit allow-list of AWS operations onboarding may send, and clients guarded by it.

Onboarding writes, so it cannot use the collector's read-only allow-list; this is its own, just as
strict: the writes the reference pattern needs and the reads preflight needs. Value-reading
operations (``ssm:GetParameter*``, ``secretsmanager:GetSecretValue``, ``kms:Decrypt``) are not on it:
whether a parameter exists is learnt from ``DescribeParameters``, never by reading it. Deletes are not
on it either: onboarding never removes anything.

>>> is_allowed("ssm", "PutParameter"), is_allowed("ssm", "GetParameter"), is_allowed("iam", "DeleteRole")
(True, False, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from irsa_lib.collect.errors import OperationNotAllowedError
from irsa_lib.collect.session import client_config

ONBOARDING_OPERATIONS: Mapping[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity"}),
    "iam": frozenset({"GetRole", "GetRolePolicy", "CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy"}),
    "kms": frozenset(
        {
            "ListAliases",
            "ListKeys",
            "DescribeKey",
            "GetKeyPolicy",
            "GetKeyRotationStatus",
            "ListResourceTags",
            "CreateKey",
            "CreateAlias",
            "PutKeyPolicy",
            "EnableKeyRotation",
            "TagResource",
        }
    ),
    "ssm": frozenset({"DescribeParameters", "PutParameter"}),
    "secretsmanager": frozenset({"DescribeSecret", "CreateSecret", "PutSecretValue"}),
}
"""botocore service name -> operations (the IAM action is ``<service>:<operation>`` for all of these)."""


def is_allowed(service: str, operation: str) -> bool:
    return operation in ONBOARDING_OPERATIONS.get(service, frozenset())


def iam_actions() -> frozenset[str]:
    """The allow-list as IAM actions: the permissions an onboarding run needs."""
    return frozenset(f"{svc}:{op}" for svc, ops in ONBOARDING_OPERATIONS.items() for op in ops)


def _guard(model: Any, **_: Any) -> None:
    service, operation = model.service_model.service_name, model.name
    if not is_allowed(service, operation):
        raise OperationNotAllowedError(f"refusing to send {service}:{operation}: not on the onboarding allow-list")


def guard_client(client: Any) -> Any:
    """Check every operation of ``client`` against the allow-list before it is built and sent."""
    service = client.meta.service_model.service_name
    if service not in ONBOARDING_OPERATIONS:
        raise OperationNotAllowedError(f"refusing to create a {service} client for onboarding")
    client.meta.events.register_first("before-parameter-build", _guard, unique_id="irsa-onboard-guard")
    client.meta.events.register_first("before-call", _guard, unique_id="irsa-onboard-guard-call")
    return client


@dataclass
class OnboardingClients:
    """Guarded clients for one account and region (an optional profile and endpoint)."""

    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    _session: Any = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        found = self._cache.get(service)
        if found is None:
            if self._session is None:
                self._session = boto3.Session(profile_name=self.profile) if self.profile else boto3.Session()
            kwargs: dict[str, Any] = {"region_name": self.region, "config": client_config()}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
            found = self._cache[service] = guard_client(self._session.client(service, **kwargs))
        return found
