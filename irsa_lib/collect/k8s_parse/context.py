"""What every per-kind parser receives: the object, its identity and the cluster it belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from irsa_lib.collect.k8s_parse.fields import Fields


@dataclass(frozen=True)
class K8sObject:
    """One Kubernetes object, identified; ``namespace`` is None for cluster-scoped kinds."""

    cluster: str
    api_version: str
    kind: str
    name: str
    namespace: str | None
    body: Fields

    @property
    def metadata(self) -> Fields:
        return self.body.map("metadata")

    @property
    def spec(self) -> Fields:
        return self.body.map("spec")

    @property
    def version(self) -> str:
        return self.api_version.rsplit("/", 1)[-1]

    @property
    def ns(self) -> str:
        """The namespace of a namespaced object (parsers of namespaced kinds only)."""
        assert self.namespace is not None, f"{self.kind} is namespaced"
        return self.namespace

    def owners(self) -> tuple[str, ...]:
        """``Kind/name`` of every owner reference."""
        return tuple(f"{o.req_str('kind')}/{o.req_str('name')}" for o in self.metadata.maps("ownerReferences"))

    def controller_owner(self) -> str | None:
        """``Kind/name`` of the controlling owner (the one marked ``controller: true``, else the only one)."""
        refs = self.metadata.maps("ownerReferences")
        chosen = [o for o in refs if o.bool("controller")] or (refs if len(refs) == 1 else [])
        return f"{chosen[0].req_str('kind')}/{chosen[0].req_str('name')}" if chosen else None
