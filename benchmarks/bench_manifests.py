"""How fast manifests load: megabytes of ``kubectl get -o yaml``-style YAML per second.

Run: ``python -m benchmarks.bench_manifests [--megabytes N]``. A directory of deployments, service
accounts and namespaces (multi-document files, as ``helm template`` writes them) is generated and read
with :func:`irsa_lib.collect.manifests.load_manifests`, once with the parser the loader uses (libyaml's,
when PyYAML has it) and once with PyYAML's pure-Python parser, for comparison.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import yaml

from irsa_lib.collect import manifests

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{team}
  labels: {{app: app-{i}, team: team-{team}, tier: backend}}
  annotations: {{deployment.kubernetes.io/revision: "3", owner: team-{team}@example.com}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata: {{labels: {{app: app-{i}}}}}
    spec:
      serviceAccountName: app-{i}
      containers:
        - name: app
          image: registry.example.com/team-{team}/app-{i}:1.{i}
          env:
            - {{name: AWS_REGION, value: us-east-1}}
            - {{name: LOG_LEVEL, value: info}}
          volumeMounts: [{{name: creds, mountPath: /etc/creds, readOnly: true}}]
      volumes: [{{name: creds, secret: {{secretName: app-{i}-creds}}}}]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app-{i}
  namespace: team-{team}
  annotations: {{eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/app-{i}"}}
---
"""


def write_manifests(directory: Path, megabytes: float) -> int:
    """Files of about 100 kB each until ``megabytes`` are written; returns the bytes written."""
    written, i = 0, 0
    while written < megabytes * 1_000_000:
        docs = []
        for _ in range(60):
            docs.append(DEPLOYMENT.format(i=i, team=i % 20))
            i += 1
        text = "".join(docs)
        (directory / f"part-{i:06d}.yaml").write_text(text, encoding="utf-8")
        written += len(text.encode())
    return written


def timed_load(directory: Path) -> tuple[float, int]:
    start = time.perf_counter()
    snap = manifests.load_manifests(directory, cluster="bench")
    return time.perf_counter() - start, len(snap.workloads) + len(snap.service_accounts)


def pure_python_loader() -> type:
    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = manifests._Loader.yaml_implicit_resolvers
    return Loader


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2.0, help="size of the generated manifests (2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        size = write_manifests(Path(tmp), args.megabytes)
        used = manifests._Loader.__mro__[1].__name__
        seconds, records = timed_load(Path(tmp))
        with mock.patch.object(manifests, "_Loader", pure_python_loader()):
            py_seconds, py_records = timed_load(Path(tmp))
    assert records == py_records, "both parsers must read the same records"
    mb = size / 1_000_000
    print(f"{mb:.1f} MB of manifests, {records:,} records")
    print(f"{used:14} {seconds:6.2f} s  {mb / seconds:6.2f} MB/s  (the loader's parser)")
    print(f"{'SafeLoader':14} {py_seconds:6.2f} s  {mb / py_seconds:6.2f} MB/s  (pure Python, for comparison)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
