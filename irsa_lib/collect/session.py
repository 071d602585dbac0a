"""boto3 sessions and guarded clients for one collection target (profile, optional assumed role).

Clients share one botocore ``Config``: standard or adaptive retries (throttling is retried with backoff
before it is recorded as ``throttled``), bounded connect/read timeouts, and a user agent naming irsa_lib.
The endpoint is the ``endpoint_url`` given, else ``AWS_ENDPOINT_URL`` (and the per-service
``AWS_ENDPOINT_URL_<SERVICE>`` variables), which botocore reads itself, else AWS.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
from botocore.config import Config

from irsa_lib import __version__
from irsa_lib.collect.allowlist import install_guard

RetryMode = Literal["standard", "adaptive"]

SESSION_NAME = "irsa-collector"


def client_config(*, retry_mode: RetryMode = "standard", max_attempts: int = 5) -> Config:
    """The botocore configuration every collector client uses."""
    return Config(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=16,
        user_agent_extra=f"irsa_lib/{__version__}",
    )


def effective_endpoint(endpoint_url: str | None) -> str | None:
    """The endpoint requests go to, for messages: the one given, else ``AWS_ENDPOINT_URL``, else None (AWS)."""
    return endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None


@dataclass
class Clients:
    """Makes guarded clients from one boto3 session; safe to call from several threads.

    boto3 sessions are not thread-safe when creating clients, so creation is serialised; the clients
    themselves are thread-safe and cached per (service, region).
    """

    session: boto3.Session
    endpoint_url: str | None = None
    config: Config = field(default_factory=client_config)
    _cache: dict[tuple[str, str | None], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def client(self, service: str, region: str | None = None) -> Any:
        """A client whose every operation is checked against the read-only allow-list before sending."""
        key = (service, region)
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                kwargs: dict[str, Any] = {"config": self.config}
                if region:
                    kwargs["region_name"] = region
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                session: Any = self.session
                found = self._cache[key] = install_guard(session.client(service, **kwargs))
            return found


def base_session(profile: str | None) -> boto3.Session:
    """A session for a named profile or the default credential chain (raises ProfileNotFound)."""
    return boto3.Session(profile_name=profile) if profile else boto3.Session()


def assume_role_session(
    clients: Clients, role_arn: str, *, region: str | None, session_name: str = SESSION_NAME
) -> boto3.Session:
    """A session with the temporary credentials of ``role_arn``, assumed from ``clients``' identity.

    The credentials last the role's default hour; a collection run is expected to finish well within it.
    """
    sts = clients.client("sts", region)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )
