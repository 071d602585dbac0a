"""The Dask cluster that organisation-wide collection and partitioned analysis run on.

``dask_client()`` starts a ``LocalCluster`` of worker processes on this machine (nothing to install
or start beforehand), or connects to a running scheduler (``tcp://HOST:8786``, e.g. one the Dask
operator runs on Kubernetes). Dask is imported here only, and only when a cluster is asked for, so
single-account commands and ``irsa demo`` start as fast as before. Credentials never travel to the
workers: tasks carry role ARNs and endpoints, each worker builds its sessions from its own environment.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from irsa_lib.errors import UsageError

if TYPE_CHECKING:
    from distributed import Client

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
"""Environment variable naming a running scheduler (used when no address is given)."""


def _import_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(
            "organisation-wide collection and partitioned analysis run on Dask: "
            "install it with `pip install 'irsa_lib[org]'`"
        ) from None


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    workers: int = 2,
    threads_per_worker: int = 1,
    memory_limit: str | int | None = "auto",
) -> Iterator[Client]:
    """A Dask client: on ``scheduler`` (else ``$DASK_SCHEDULER_ADDRESS``) or on a new local cluster.

    The local cluster has ``workers`` worker processes of ``threads_per_worker`` threads each and listens
    on 127.0.0.1 only (its HTTP endpoint on a free port; the dashboard pages need bokeh). Both are
    closed on exit.
    """
    _import_distributed()
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        try:
            client = Client(address, timeout="30s")
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=max(1, workers),
            threads_per_worker=max(1, threads_per_worker),
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port: never 8787 taken by another cluster
            memory_limit=memory_limit,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def dashboard_link(client: Client) -> str | None:
    """The scheduler's dashboard URL, when it serves one (a local cluster draws its pages with bokeh only)."""
    services = client.scheduler_info().get("services", {})
    if "dashboard" not in services or (client.cluster is not None and importlib.util.find_spec("bokeh") is None):
        return None
    return str(client.dashboard_link)


__all__ = ["SCHEDULER_ENV", "dashboard_link", "dask_client"]
