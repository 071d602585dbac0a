"""The cluster map: which Kubernetes source belongs to which EKS cluster of an organisation.

A YAML (or JSON) mapping from EKS cluster ARN to a kubeconfig context or a manifests directory::

    arn:aws:eks:us-east-1:111122223333:cluster/prod: {context: prod-admin}
    arn:aws:eks:eu-west-1:444455556666:cluster/staging: {manifests: gitops/staging}

A relative manifests path is read from the map file's directory. The Kubernetes records of a source
are tied to the cluster by its name (the ARN's last part), so two mapped clusters may not share a name.
Every error names the file and the entry.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from irsa_lib.collect.fanout import ClusterSource
from irsa_lib.errors import UsageError

_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{0,99})$")


def load_cluster_map(path: str | Path, *, kubeconfig: str | None = None) -> list[ClusterSource]:
    """The Kubernetes sources of a cluster map file, in file order."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cluster map {p}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"cluster map {p}: not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"cluster map {p}: expected a mapping of EKS cluster ARN -> {{context|manifests: ...}}")
    sources: list[ClusterSource] = []
    by_name: dict[str, str] = {}
    for arn, entry in data.items():
        where = f"cluster map {p}, entry {arn!r}"
        match = _CLUSTER_ARN.match(str(arn))
        if not match:
            raise UsageError(f"{where}: not an EKS cluster ARN (arn:aws:eks:<region>:<account>:cluster/<name>)")
        name = match["name"]
        if name in by_name:
            raise UsageError(
                f"{where}: cluster name {name!r} is also {by_name[name]}; Kubernetes records are tied to a "
                "cluster by name, so give each mapped cluster a distinct name"
            )
        by_name[name] = str(arn)
        if not isinstance(entry, dict) or len(entry) != 1 or not ({"context", "manifests"} & set(entry)):
            raise UsageError(f"{where}: give exactly one of context: NAME or manifests: DIR")
        value = entry.get("context") or entry.get("manifests")
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{where}: the context or manifests value is empty or not a string")
        if "manifests" in entry:
            directory = Path(value) if Path(value).is_absolute() else p.parent / value
            if not directory.exists():
                raise UsageError(f"{where}: manifests {directory}: no such file or directory")
            sources.append(ClusterSource(cluster=name, manifests=str(directory)))
        else:
            sources.append(ClusterSource(cluster=name, context=value, kubeconfig=kubeconfig))
    return sources


__all__ = ["load_cluster_map"]
