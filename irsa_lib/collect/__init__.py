"""Collectors: read AWS accounts, Kubernetes clusters and manifest directories into partial snapshots."""
