"""A local AWS endpoint for the demo, tests and notebooks: moto in server mode, plus Pod Identity.

``local_aws()`` starts moto's ``ThreadedMotoServer`` on 127.0.0.1 with a free port and yields a
:class:`LocalAws` whose ``endpoint_url`` every boto3 client (or ``AWS_ENDPOINT_URL``) can use.

moto 5.2.5 has no EKS Pod Identity API (``ListPodIdentityAssociations`` and friends answer 404).
:class:`PodIdentityStandIn` is the one stand-in in this module: a small WSGI layer in front of
moto's application that answers the Pod Identity operations under the same endpoint, with the
response and error shapes of botocore's EKS service model, so ``boto3.client("eks")`` works
unchanged. It knows the clusters moto holds (an association needs an existing cluster) and forgets
its associations when moto is reset (``POST /moto-api/reset``). Everything else goes to moto.

Nothing here is a judge of access: moto stores policies faithfully but does not evaluate them.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from irsa_lib.errors import IrsaError

DEFAULT_ACCOUNT_ID = "123456789012"
"""The account moto answers for when no other is configured (and the demo's account)."""
DEFAULT_REGION = "us-east-1"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_ASSOCIATIONS_PATH = re.compile(r"^/clusters/(?P<cluster>[^/]+)/pod-identity-associations(?:/(?P<id>[^/]+))?/?$")
_CREDENTIAL_SCOPE = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")


class LocalAwsError(IrsaError):
    """The local endpoint could not be started (moto not installed, or changed)."""


# --- EKS Pod Identity stand-in -------------------------------------------------------------------


@dataclass
class _Association:
    cluster: str
    namespace: str
    service_account: str
    role_arn: str
    association_id: str
    association_arn: str
    created_at: float
    modified_at: float
    tags: dict[str, str] = field(default_factory=dict)
    disable_session_tags: bool = False
    target_role_arn: str | None = None
    external_id: str | None = None
    policy: str | None = None

    def summary(self) -> dict[str, Any]:
        """``PodIdentityAssociationSummary``: no role, timestamps or tags."""
        return {
            "clusterName": self.cluster,
            "namespace": self.namespace,
            "serviceAccount": self.service_account,
            "associationArn": self.association_arn,
            "associationId": self.association_id,
        }

    def full(self) -> dict[str, Any]:
        """``PodIdentityAssociation``: every member the model defines that has a value."""
        out: dict[str, Any] = {
            **self.summary(),
            "roleArn": self.role_arn,
            "tags": dict(self.tags),
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "disableSessionTags": self.disable_session_tags,
        }
        for key, value in (
            ("targetRoleArn", self.target_role_arn),
            ("externalId", self.external_id),
            ("policy", self.policy),
        ):
            if value is not None:
                out[key] = value
        return out


class _EksError(Exception):
    def __init__(self, status: int, code: str, message: str, cluster: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.cluster = status, code, message, cluster


def _association_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "a-" + "".join(secrets.choice(alphabet) for _ in range(17))


def _moto_cluster_exists(account: str, region: str, cluster: str) -> bool:
    from moto.eks.models import eks_backends

    return cluster in eks_backends[account][region].clusters


def _account_for_access_key(access_key: str) -> str:
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


class PodIdentityStandIn:
    """WSGI middleware answering EKS Pod Identity association calls; the rest goes to ``app``.

    Implements CreatePodIdentityAssociation, ListPodIdentityAssociations (filters and
    pagination), DescribePodIdentityAssociation and DeletePodIdentityAssociation with the shapes of
    botocore's ``eks`` model. UpdatePodIdentityAssociation answers ``InvalidRequestException``.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        cluster_exists: Callable[[str, str, str], bool] = _moto_cluster_exists,
        account_for_access_key: Callable[[str], str] = _account_for_access_key,
    ) -> None:
        self.app = app
        self._cluster_exists = cluster_exists
        self._account_for = account_for_access_key
        self._lock = threading.Lock()
        self._associations: dict[tuple[str, str, str], list[_Association]] = {}

    def reset(self) -> None:
        """Forget every association (moto's reset does the same for its own state)."""
        with self._lock:
            self._associations.clear()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.rstrip("/") == "/moto-api/reset" and method == "POST":
            self.reset()
            return self.app(environ, start_response)
        match = _ASSOCIATIONS_PATH.match(path)
        if match is None:
            return self.app(environ, start_response)
        try:
            status, body = self._handle(environ, method, match.group("cluster"), match.group("id"))
        except _EksError as err:
            status = err.status
            body = {"message": err.message}
            if err.cluster is not None:
                body["clusterName"] = err.cluster
            return self._respond(start_response, status, body, error_code=err.code)
        return self._respond(start_response, status, body)

    # -- plumbing -------------------------------------------------------------------------------

    @staticmethod
    def _respond(
        start_response: Callable[..., Any], status: int, body: Mapping[str, Any], *, error_code: str | None = None
    ) -> list[bytes]:
        payload = json.dumps(body).encode()
        reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 409: "Conflict", 500: "Internal Server Error"}
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        headers.append(("x-amzn-RequestId", secrets.token_hex(16)))
        if error_code:
            headers.append(("x-amzn-ErrorType", error_code))
        start_response(f"{status} {reasons.get(status, 'Error')}", headers)
        return [payload]

    def _scope(self, environ: Mapping[str, Any]) -> tuple[str, str]:
        """(account, region) of the request, from its SigV4 credential scope."""
        match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match is None:
            return self._account_for(""), DEFAULT_REGION
        return self._account_for(match.group("key")), match.group("region")

    @staticmethod
    def _json_body(environ: Mapping[str, Any]) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise _EksError(400, "InvalidParameterException", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise _EksError(400, "InvalidParameterException", "The request body must be a JSON object.")
        return data

    def _handle(
        self, environ: dict[str, Any], method: str, cluster: str, association_id: str | None
    ) -> tuple[int, dict[str, Any]]:
        account, region = self._scope(environ)
        if not self._cluster_exists(account, region, cluster):
            raise _EksError(404, "ResourceNotFoundException", f"No cluster found for name: {cluster}.", cluster)
        key = (account, region, cluster)
        if association_id is None and method == "POST":
            return 200, {"association": self._create(key, self._json_body(environ)).full()}
        if association_id is None and method == "GET":
            return 200, self._list(key, parse_qs(environ.get("QUERY_STRING", "")))
        if association_id is not None and method == "GET":
            return 200, {"association": self._find(key, association_id).full()}
        if association_id is not None and method == "DELETE":
            return 200, {"association": self._delete(key, association_id).full()}
        if association_id is not None and method == "POST":
            raise _EksError(
                400, "InvalidRequestException", "UpdatePodIdentityAssociation is not supported by the local endpoint."
            )
        raise _EksError(400, "InvalidRequestException", f"{method} is not supported on {environ.get('PATH_INFO')}.")

    # -- operations ------------------------------------------------------------------------------

    def _create(self, key: tuple[str, str, str], body: Mapping[str, Any]) -> _Association:
        account, region, cluster = key
        for name in ("namespace", "serviceAccount", "roleArn"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise _EksError(400, "InvalidParameterException", f"{name} is required.", cluster)
        tags = body.get("tags") or {}
        if not isinstance(tags, dict):
            raise _EksError(400, "InvalidParameterException", "tags must be a map of strings.", cluster)
        target = body.get("targetRoleArn")
        now = time.time()
        with self._lock:
            existing = self._associations.setdefault(key, [])
            for assoc in existing:
                if assoc.namespace == body["namespace"] and assoc.service_account == body["serviceAccount"]:
                    raise _EksError(
                        409,
                        "ResourceInUseException",
                        f"Association already exists: {assoc.association_id}",
                        cluster,
                    )
            assoc_id = _association_id()
            assoc = _Association(
                cluster=cluster,
                namespace=body["namespace"],
                service_account=body["serviceAccount"],
                role_arn=body["roleArn"],
                association_id=assoc_id,
                association_arn=f"arn:aws:eks:{region}:{account}:podidentityassociation/{cluster}/{assoc_id}",
                created_at=now,
                modified_at=now,
                tags={str(k): str(v) for k, v in tags.items()},
                disable_session_tags=bool(body.get("disableSessionTags", False)),
                target_role_arn=target,
                # EKS generates an external id for the target-role hop only.
                external_id=secrets.token_hex(16) if target else None,
                policy=body.get("policy"),
            )
            existing.append(assoc)
        return assoc

    def _list(self, key: tuple[str, str, str], query: Mapping[str, list[str]]) -> dict[str, Any]:
        namespace = query.get("namespace", [None])[0]
        service_account = query.get("serviceAccount", [None])[0]
        try:
            max_results = int(query.get("maxResults", ["100"])[0])
            start = int(base64.urlsafe_b64decode(query["nextToken"][0]).decode()) if "nextToken" in query else 0
        except ValueError:
            raise _EksError(400, "InvalidParameterException", "maxResults or nextToken is not valid.", key[2]) from None
        if not 1 <= max_results <= 100:
            raise _EksError(400, "InvalidParameterException", "maxResults must be between 1 and 100.", key[2])
        with self._lock:
            matching = [
                a
                for a in self._associations.get(key, [])
                if (namespace is None or a.namespace == namespace)
                and (service_account is None or a.service_account == service_account)
            ]
        page = matching[start : start + max_results]
        out: dict[str, Any] = {"associations": [a.summary() for a in page]}
        if start + max_results < len(matching):
            out["nextToken"] = base64.urlsafe_b64encode(str(start + max_results).encode()).decode()
        return out

    def _find(self, key: tuple[str, str, str], association_id: str) -> _Association:
        with self._lock:
            for assoc in self._associations.get(key, []):
                if assoc.association_id == association_id:
                    return assoc
        raise _EksError(
            404, "ResourceNotFoundException", f"No Pod Identity Association found with id: {association_id}", key[2]
        )

    def _delete(self, key: tuple[str, str, str], association_id: str) -> _Association:
        assoc = self._find(key, association_id)
        with self._lock:
            self._associations[key].remove(assoc)
        return assoc


# --- the local endpoint ----------------------------------------------------------------------------


@dataclass
class LocalAws:
    """A running local AWS endpoint (moto + the Pod Identity stand-in) on 127.0.0.1."""

    endpoint_url: str
    region: str
    pod_identity: PodIdentityStandIn
    _server: Any

    def env(self) -> dict[str, str]:
        """Environment that points boto3 (and child processes such as notebook kernels) here."""
        return local_aws_env(self.endpoint_url, region=self.region)

    def reset(self) -> None:
        """Drop every resource (moto's ``/moto-api/reset``; the stand-in follows it)."""
        import urllib.request

        req = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/reset", data=b"", method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self._server.stop()


def start_local_aws(*, region: str = DEFAULT_REGION) -> LocalAws:
    """Start moto on 127.0.0.1 (free port) with the Pod Identity stand-in in front of it."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise LocalAwsError(
            "the local AWS endpoint needs moto[server]: pip install 'irsa_lib[demo]'",
        ) from exc
    from werkzeug.serving import BaseWSGIServer

    # moto's request log goes through the "werkzeug" logger; one line per call drowns the demo.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # ThreadedMotoServer builds its WSGI app internally; the server object it serves from is the
    # documented werkzeug BaseWSGIServer, whose ``app`` is read per request. No request can have
    # arrived yet (nobody knows the port), so wrapping it now is race-free.
    wsgi_server = getattr(server, "_server", None)
    if not isinstance(wsgi_server, BaseWSGIServer):
        server.stop()
        raise LocalAwsError("moto's ThreadedMotoServer changed: cannot install the EKS Pod Identity stand-in")
    stand_in = PodIdentityStandIn(wsgi_server.app)
    wsgi_server.app = stand_in
    return LocalAws(endpoint_url=f"http://{host}:{port}", region=region, pod_identity=stand_in, _server=server)


@contextmanager
def local_aws(*, region: str = DEFAULT_REGION) -> Iterator[LocalAws]:
    """A local AWS endpoint for the duration of the ``with`` block.

    >>> with local_aws() as aws:
    ...     aws_client("iam", aws.endpoint_url).list_roles()["Roles"]
    []
    """
    aws = start_local_aws(region=region)
    try:
        yield aws
    finally:
        aws.stop()


# --- environment ---------------------------------------------------------------------------------

FAKE_ACCESS_KEY_ID = "testing"
FAKE_SECRET_ACCESS_KEY = "testing"  # moto's conventional placeholder, not a credential

# Variables that could send the demo to a real account or a real profile; cleared while it runs.
_ISOLATE = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


def aws_client_credentials(region: str = DEFAULT_REGION) -> dict[str, str]:
    """Keyword arguments for ``boto3.client`` with the placeholder credentials moto accepts."""
    return {
        "region_name": region,
        "aws_access_key_id": FAKE_ACCESS_KEY_ID,
        "aws_secret_access_key": FAKE_SECRET_ACCESS_KEY,
    }


def aws_client(service: str, endpoint_url: str, *, region: str = DEFAULT_REGION) -> Any:
    """A boto3 client for ``service`` on ``endpoint_url`` with the placeholder credentials."""
    import boto3

    make: Callable[..., Any] = boto3.client
    return make(service, endpoint_url=endpoint_url, **aws_client_credentials(region))


def local_aws_env(endpoint_url: str, *, region: str = DEFAULT_REGION) -> dict[str, str]:
    """Environment variables that send every AWS SDK call to ``endpoint_url`` with fake credentials.

    The shared config and credentials files are pointed at ``/dev/null`` so a developer's real
    profiles can never be picked up by accident.
    """
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def export_lines(env: Mapping[str, str]) -> str:
    """``export NAME=value`` lines (POSIX shell) for an environment mapping."""
    import shlex

    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in env.items())


@contextmanager
def patched_env(env: Mapping[str, str]) -> Iterator[None]:
    """Apply ``env`` to ``os.environ`` (clearing profile/session variables) and restore it after."""
    names = set(env) | set(_ISOLATE)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in _ISOLATE:
            os.environ.pop(name, None)
        os.environ.update(env)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
