"""Fixtures for the AWS collector tests: moto in server mode over HTTP, fake credentials, the proxy."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.collect.proxy import AwsProxy

CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_REGION",
)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[tuple[str, int]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield host, port
    server.stop()


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ambient AWS configuration: empty config files, no instance metadata lookups, no credentials."""
    for name in (*CLEARED_ENV, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    config, creds = tmp_path / "aws-config", tmp_path / "aws-credentials"
    config.write_text("")
    creds.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return tmp_path


@pytest.fixture
def moto(moto_server: tuple[str, int], isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The endpoint URL of a freshly reset moto server, with fake credentials in the environment."""
    host, port = moto_server
    endpoint = f"http://{host}:{port}"
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 200
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return endpoint


@pytest.fixture
def proxy(moto: str, moto_server: tuple[str, int]) -> Iterator[AwsProxy]:
    """A recording, error-injecting proxy in front of the (reset) moto server."""
    p = AwsProxy(moto_server).start()
    yield p
    p.stop()
