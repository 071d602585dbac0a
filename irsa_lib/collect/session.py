"""boto3 sessions and guarded clients for one collection target (profile, optional assumed role).

Clients share one botocore ``Config``: standard or adaptive retries (throttling is retried with backoff
before it is recorded as ``throttled``), bounded connect/read timeouts, and a user agent naming irsa_lib.
The endpoint is the ``endpoint_url`` given, else ``AWS_ENDPOINT_URL`` (and the per-service
``AWS_ENDPOINT_URL_<SERVICE>`` variables), which botocore reads itself, else AWS. A successful answer
that cannot be read is an error, never an empty result (:mod:`irsa_lib.collect.responses`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
)
from botocore.exceptions import NoCredentialsError

from irsa_lib import __version__
from irsa_lib.collect.allowlist import install_guard
from irsa_lib.collect.responses import install_response_checks

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
                found = self._cache[key] = _collector_client(session.client(service, **kwargs))
            return found


def _collector_client(client: Any) -> Any:
    """A client that sends only allow-listed operations and refuses answers it cannot read."""
    return install_response_checks(install_guard(client))


_MODEL_CACHE: dict[Any, Any] = {}


def core_session(profile: str | None = None) -> botocore.session.Session:
    """A botocore session for ``profile`` (None: the default chain) whose parsed service models are the process's.

    Every session the collector opens (one per account and region of an organisation, on each Dask
    worker) would otherwise parse the service model JSON again; EC2's alone takes a good part of a
    second. botocore's loader keeps what it parsed in its ``_cache`` dictionary (the storage its
    ``instance_cache`` decorator documents); each session's loader is given the one of the process.
    """
    core = botocore.session.Session(profile=profile)
    core.get_component("data_loader")._cache = _MODEL_CACHE
    return core


def base_session(profile: str | None, region: str | None = None) -> boto3.Session:
    """A session for a named profile or the default credential chain (raises ProfileNotFound).

    ``region``: the session's default region (global services are signed for it), else the configured one.
    """
    return boto3.Session(botocore_session=core_session(profile), region_name=region)


class _AssumedRoleProvider(CredentialProvider):
    """Hands botocore one refreshable credentials object (the assumed role's)."""

    METHOD = "assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def assume_role_session(
    base: boto3.Session,
    role_arn: str,
    *,
    region: str | None,
    endpoint_url: str | None = None,
    config: Config | None = None,
    profile: str | None = None,
    session_name: str = SESSION_NAME,
    duration_seconds: int | None = None,
    external_id: str | None = None,
) -> boto3.Session:
    """A session acting as ``role_arn``, assumed from ``base``'s credentials and refreshed before expiry.

    botocore's ``AssumeRoleCredentialFetcher`` + ``DeferredRefreshableCredentials`` call sts:AssumeRole
    (through a guarded client in ``region``) on first use and again whenever less than 15 minutes are
    left, so a collection may outlast one session (1 hour by default, or ``duration_seconds``).
    ``external_id`` is sent as ``ExternalId`` (member roles of an organisation often require one). A failed
    AssumeRole surfaces as the ClientError of the call that needed the credentials.
    """
    source = base.get_credentials()
    if source is None:
        raise NoCredentialsError()
    lock = threading.Lock()

    def create_client(service: str, **kwargs: Any) -> Any:
        if region:
            kwargs["region_name"] = region
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        session: Any = base
        with lock:  # boto3 sessions are not thread-safe when creating clients
            return _collector_client(session.client(service, config=config or client_config(), **kwargs))

    extra: dict[str, Any] = {"RoleSessionName": session_name}
    if duration_seconds is not None:
        extra["DurationSeconds"] = duration_seconds
    if external_id is not None:
        extra["ExternalId"] = external_id
    fetcher = AssumeRoleCredentialFetcher(create_client, source, role_arn, extra_args=extra)
    credentials = DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")
    core = core_session(profile)
    core.register_component("credential_provider", CredentialResolver([_AssumedRoleProvider(credentials)]))
    return boto3.Session(botocore_session=core, region_name=region)
