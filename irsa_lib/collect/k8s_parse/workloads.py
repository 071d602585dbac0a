"""Pods and pod-owning workloads, and the external-secrets controllers recognised among Deployments.

Everything comes from the pod spec (a Pod's ``spec``, a controller's pod template): the service
account, host networking, token automount, the pod security context, and every way a container
consumes a Kubernetes Secret. Container environment *values* are kept only for the configuration
variables in ``CONFIG_ENV_NAMES``; every other variable is kept by name.
"""

from __future__ import annotations

from irsa_lib.collect.k8s_parse.context import K8sObject
from irsa_lib.collect.k8s_parse.fields import Fields, kept_annotations
from irsa_lib.model import (
    CONFIG_ENV_NAMES,
    KES_NAMING_PERMITTED_ANNOTATION,
    KES_PERMITTED_ANNOTATION,
    Container,
    CSIVolume,
    ESOController,
    KESController,
    SecretKeyRef,
    Workload,
)

SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io"
KES_IMAGE_MARK = "kubernetes-external-secrets"
ESO_IMAGE_MARK = "external-secrets/external-secrets"
ESO_NON_CONTROLLER_ARGS = frozenset({"webhook", "certcontroller"})

# Where the pod template sits in each kind (None: the object is the pod itself).
_TEMPLATE_PATH: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def _template(obj: K8sObject) -> Fields:
    """The pod (or pod template): a mapping with ``metadata`` and ``spec``."""
    node = obj.body
    for key in _TEMPLATE_PATH[obj.kind]:
        node = node.map(key)
    return node


def _container(c: Fields) -> tuple[Container, list[SecretKeyRef]]:
    refs: list[SecretKeyRef] = []
    names: list[str] = []
    values: dict[str, str] = {}
    for e in c.maps("env"):
        name = e.req_str("name")
        names.append(name)
        value = e.str("value")
        if name in CONFIG_ENV_NAMES and value is not None:
            values[name] = value
        ref = e.map("valueFrom").map("secretKeyRef")
        if ref.data:
            refs.append(
                SecretKeyRef(
                    secret=ref.req_str("name"), via="env", key=ref.str("key"), optional=bool(ref.bool("optional"))
                )
            )
    for source in c.maps("envFrom"):
        ref = source.map("secretRef")
        if ref.data:
            refs.append(SecretKeyRef(secret=ref.req_str("name"), via="envFrom", optional=bool(ref.bool("optional"))))
    container = Container(
        name=c.req_str("name"),
        image=c.str("image") or "",
        env=values,
        env_names=tuple(names),
        args=c.strs("args"),
    )
    return container, refs


def _volumes(spec: Fields) -> tuple[list[SecretKeyRef], list[CSIVolume], list[str]]:
    refs: list[SecretKeyRef] = []
    csi: list[CSIVolume] = []
    audiences: list[str] = []
    for v in spec.maps("volumes"):
        secret = v.map("secret")
        if secret.data:
            refs.append(
                SecretKeyRef(secret=secret.req_str("secretName"), via="volume", optional=bool(secret.bool("optional")))
            )
        for source in v.map("projected").maps("sources"):
            psecret = source.map("secret")
            if psecret.data:
                refs.append(
                    SecretKeyRef(
                        secret=psecret.req_str("name"), via="projected", optional=bool(psecret.bool("optional"))
                    )
                )
            token = source.map("serviceAccountToken")
            if token.data:
                audiences.append(token.str("audience") or "")
        driver = v.map("csi")
        if driver.data:
            csi.append(
                CSIVolume(
                    driver=driver.req_str("driver"),
                    secret_provider_class=driver.map("volumeAttributes").str("secretProviderClass"),
                )
            )
    return refs, csi, audiences


def _unique(refs: list[SecretKeyRef]) -> tuple[SecretKeyRef, ...]:
    return tuple(dict.fromkeys(refs))


def parse_workload(obj: K8sObject) -> list[Workload | KESController | ESOController]:
    template = _template(obj)
    spec = template.map("spec")
    pod_meta = template.map("metadata")
    security = spec.map("securityContext")

    containers: list[Container] = []
    refs: list[SecretKeyRef] = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.maps(key):
            container, container_refs = _container(c)
            containers.append(container)
            refs.extend(container_refs)
    volume_refs, csi, audiences = _volumes(spec)

    workload = Workload(
        cluster=obj.cluster,
        namespace=obj.ns,
        name=obj.name,
        kind=obj.kind,
        service_account=spec.str("serviceAccountName") or spec.str("serviceAccount") or "default",
        host_network=bool(spec.bool("hostNetwork")),
        automount_token=spec.bool("automountServiceAccountToken"),
        run_as_user=security.int("runAsUser"),
        run_as_non_root=security.bool("runAsNonRoot"),
        fs_group=security.int("fsGroup"),
        node_name=spec.str("nodeName"),
        containers=tuple(containers),
        secret_refs=_unique(refs + volume_refs),
        csi_volumes=tuple(csi),
        owner=obj.controller_owner(),
        labels=pod_meta.str_map("labels"),
        annotations=kept_annotations(pod_meta),
        token_audiences=tuple(audiences),
    )
    records: list[Workload | KESController | ESOController] = [workload]
    if obj.kind == "Deployment":
        records.extend(_controllers(obj, workload))
    return records


def _controllers(obj: K8sObject, workload: Workload) -> list[KESController | ESOController]:
    """A KES or ESO controller recognised by its image (ESO's webhook and cert controller excluded)."""
    found: list[KESController | ESOController] = []
    for c in workload.containers:
        if KES_IMAGE_MARK in c.image:
            found.append(_kes_controller(obj, workload, c))
            break
    for c in workload.containers:
        if ESO_IMAGE_MARK in c.image and not ESO_NON_CONTROLLER_ARGS.intersection(c.args):
            found.append(
                ESOController(
                    cluster=obj.cluster,
                    namespace=obj.ns,
                    name=obj.name,
                    service_account=workload.service_account,
                    controller_class=_flag(c.args, "--controller-class"),
                )
            )
            break
    return found


def _kes_controller(obj: K8sObject, workload: Workload, c: Container) -> KESController:
    env = c.env
    watched = env.get("WATCHED_NAMESPACES", "")
    return KESController(
        cluster=obj.cluster,
        namespace=obj.ns,
        name=obj.name,
        service_account=workload.service_account,
        aws_region=env.get("AWS_REGION"),
        intermediate_role_arn=env.get("AWS_INTERMEDIATE_ROLE_ARN") or None,
        # The controller checks presence only ('ENFORCE_NAMESPACE_ANNOTATIONS' in process.env).
        enforce_namespace_annotations="ENFORCE_NAMESPACE_ANNOTATIONS" in c.env_names,
        role_permitted_annotation=env.get("ROLE_PERMITTED_ANNOTATION") or KES_PERMITTED_ANNOTATION,
        naming_permitted_annotation=env.get("NAMING_PERMITTED_ANNOTATION") or KES_NAMING_PERMITTED_ANNOTATION,
        watched_namespaces=tuple(n.strip() for n in watched.split(",") if n.strip()),
        instance_id=env.get("INSTANCE_ID") or None,
        sts_endpoint_type=env.get("AWS_STS_ENDPOINT_TYPE"),
        static_credentials="AWS_ACCESS_KEY_ID" in c.env_names,
    )


def _flag(args: tuple[str, ...], name: str) -> str | None:
    """The value of ``--name=value`` or ``--name value`` in a container's args."""
    for i, arg in enumerate(args):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(args):
            return args[i + 1]
    return None
