"""Gather one snapshot to analyse: load a snapshot file, or collect it from the sources given.

The report notebooks, ``irsa report`` and ``irsa lab`` name their sources in the same shapes
(papermill parameters and command-line options): :func:`parse_cluster_map` reads them, and
:func:`gather_snapshot` loads or collects and merges.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from irsa_lib.errors import UsageError
from irsa_lib.snapshot import Snapshot, load_snapshot, merge_snapshots

__all__ = ["SNAPSHOT_ENV", "gather_snapshot", "parse_cluster_map", "snapshot_file"]

SNAPSHOT_ENV = "IRSA_SNAPSHOT"
"""The snapshot to analyse when no source is given (``irsa lab`` sets it to the demo's)."""


def parse_cluster_map(value: Mapping[str, str] | Sequence[str] | str | None, *, what: str) -> dict[str, str]:
    """``{"cluster": "x"}``, ``["cluster=x", ...]``, ``"cluster=x,other=y"`` or ``["x"]`` (cluster = x) as a dict.

    Papermill parameters and command-line options arrive in all of these shapes.
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    items = value.split(",") if isinstance(value, str) else list(value)
    out: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        cluster, sep, target = item.partition("=")
        if not sep:
            cluster, target = Path(item).name or item, item
        if not cluster or not target:
            raise UsageError(f"{what}: cannot read {item!r}; expected CLUSTER=VALUE")
        if cluster in out:
            raise UsageError(f"{what}: cluster {cluster!r} given twice")
        out[cluster] = target
    return out


def snapshot_file(
    *,
    snapshot_path: str | os.PathLike[str] | None = None,
    aws_profiles: Sequence[str] = (),
    aws_role_arns: Sequence[str] = (),
    aws_regions: Sequence[str] = (),
    endpoint_url: str | None = None,
    collect_aws: bool | None = None,
    kube_contexts: Mapping[str, str] | Sequence[str] | str | None = None,
    kubeconfig: str | None = None,
    manifest_dirs: Mapping[str, str] | Sequence[str] | str | None = None,
) -> str | None:
    """The snapshot file :func:`gather_snapshot` loads for these sources (its arguments), or None when it
    collects them instead (a caller that analyses a file through the graph cache asks this first)."""
    if snapshot_path:
        return os.fspath(snapshot_path)
    wanted = _to_collect(
        collect_aws, aws_profiles, aws_role_arns, aws_regions, endpoint_url, kube_contexts, manifest_dirs
    )
    return None if any(wanted) else _fallback_file()


def gather_snapshot(
    *,
    snapshot_path: str | os.PathLike[str] | None = None,
    aws_profiles: Sequence[str] = (),
    aws_role_arns: Sequence[str] = (),
    aws_regions: Sequence[str] = (),
    endpoint_url: str | None = None,
    collect_aws: bool | None = None,
    kube_contexts: Mapping[str, str] | Sequence[str] | str | None = None,
    kubeconfig: str | None = None,
    manifest_dirs: Mapping[str, str] | Sequence[str] | str | None = None,
) -> Snapshot:
    """Load ``snapshot_path``, or collect a fresh snapshot from the given sources.

    AWS is collected when profiles, role ARNs, regions or an endpoint are given (or ``collect_aws=True``:
    the default credential chain). ``kube_contexts`` and ``manifest_dirs`` map cluster names to a
    kubeconfig context / a directory of YAML manifests. With no source at all, the snapshot named
    by the ``IRSA_SNAPSHOT`` environment variable is used (``irsa lab`` sets it to the demo's).
    """
    if snapshot_path:
        return load_snapshot(snapshot_path)
    collect_aws, contexts, manifests = _to_collect(
        collect_aws, aws_profiles, aws_role_arns, aws_regions, endpoint_url, kube_contexts, manifest_dirs
    )
    if not (collect_aws or contexts or manifests):
        return load_snapshot(_fallback_file())
    parts: list[Snapshot] = []
    if collect_aws:
        from irsa_lib.collect.aws import AwsTarget
        from irsa_lib.collect.aws import collect_aws as _collect_aws

        regions = tuple(aws_regions)
        targets = [AwsTarget(profile=p, regions=regions) for p in aws_profiles]
        targets += [AwsTarget(role_arn=r, regions=regions) for r in aws_role_arns]
        parts.append(_collect_aws(targets or [AwsTarget(regions=regions)], endpoint_url=endpoint_url, progress=False))
    if contexts:
        from irsa_lib.collect.k8s import collect_kubernetes

        for cluster, context in contexts.items():
            parts.append(collect_kubernetes(cluster=cluster, context=context, kubeconfig=kubeconfig))
    if manifests:
        from irsa_lib.collect.manifests import load_manifests

        for cluster, path in manifests.items():
            parts.append(load_manifests(path, cluster=cluster))
    return merge_snapshots(parts)


def _to_collect(
    collect_aws: bool | None,
    aws_profiles: Sequence[str],
    aws_role_arns: Sequence[str],
    aws_regions: Sequence[str],
    endpoint_url: str | None,
    kube_contexts: Mapping[str, str] | Sequence[str] | str | None,
    manifest_dirs: Mapping[str, str] | Sequence[str] | str | None,
) -> tuple[bool, dict[str, str], dict[str, str]]:
    """Whether AWS is collected, and the kubeconfig contexts and manifest directories by cluster."""
    if collect_aws is None:
        collect_aws = bool(aws_profiles or aws_role_arns or aws_regions or endpoint_url)
    contexts = parse_cluster_map(kube_contexts, what="kube_contexts")
    manifests = parse_cluster_map(manifest_dirs, what="manifest_dirs")
    return collect_aws, contexts, manifests


def _fallback_file() -> str:
    """The snapshot ``IRSA_SNAPSHOT`` names, when no source is given; a UsageError when it names none."""
    path = os.environ.get(SNAPSHOT_ENV)
    if path:
        return path
    raise UsageError(
        "nothing to analyse: give a snapshot, or AWS / Kubernetes / manifest sources to collect "
        f"(or set {SNAPSHOT_ENV} to a snapshot file)"
    )
