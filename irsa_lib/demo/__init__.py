"""The embedded demo: a local AWS endpoint seeded with the reference scenario, plus its manifests.

* :mod:`irsa_lib.demo.server`: ``local_aws()`` (moto server + the EKS Pod Identity stand-in).
* :mod:`irsa_lib.demo.scenario`: ``seed_aws(endpoint_url) -> DemoFacts`` and ``manifests_dir()``;
  its docstring documents the design and every planted mistake.
* :mod:`irsa_lib.demo.run`: ``run_demo(out_dir) -> DemoResult``, what ``irsa demo`` does.

Importing this package is cheap; moto is imported only when an endpoint starts.
"""

from irsa_lib.demo.run import DEFAULT_OUT_DIR, DemoResult, collect_demo, run_demo
from irsa_lib.demo.scenario import DemoFacts, manifests_dir, seed_aws
from irsa_lib.demo.server import LocalAws, local_aws, local_aws_env

__all__ = [
    "DEFAULT_OUT_DIR",
    "DemoFacts",
    "DemoResult",
    "LocalAws",
    "collect_demo",
    "local_aws",
    "local_aws_env",
    "manifests_dir",
    "run_demo",
    "seed_aws",
]
