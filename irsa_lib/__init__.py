"""irsa_lib: which Kubernetes workload can read which AWS secret value, through which chain, and why."""

__version__ = "0.1.0"
