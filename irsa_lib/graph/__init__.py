"""The access graph: who (service accounts, workloads, RBAC subjects) can obtain what (roles, values).

``build_graph(snapshot)`` returns an :class:`AccessGraph`; the vocabulary (node types, mechanisms,
attribute names, id scheme) is in :mod:`irsa_lib.graph.schema`.
"""

from irsa_lib.graph.build import build_graph
from irsa_lib.graph.core import AccessGraph, Gap
from irsa_lib.graph.schema import EdgeData, Mechanism, NodeType

__all__ = ["AccessGraph", "EdgeData", "Gap", "Mechanism", "NodeType", "build_graph"]
