"""Collectors: read AWS, Kubernetes and manifest sources into partial snapshots (read-only)."""
