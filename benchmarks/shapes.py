"""Organisation shapes the analysis must stay fast on, each a named, deterministic generator.

``benchmarks.synthetic`` builds one realistic organisation and scales it. Real organisations also
come in shapes it does not have, and a per-pair loop hidden behind an index that one shape never
exercises grows with the square of another. Each generator here builds one such shape in one
account with one EKS cluster, as a snapshot with ``roles`` IAM roles (give or take the shape's
fixed roles), one SecureString parameter per role and one ServiceAccount per role:

* ``root-trust``: every role trusts its account root (the default of many Terraform modules) and
  one service account through the cluster's OIDC provider (``StringEquals`` on ``sub`` and ``aud``);
  it reads its own parameter and attaches 3 of 20 shared managed policies, each allowing reads
  under a path prefix, ``sts:AssumeRole`` on one other role and denying ``iam:*`` without MFA;
* ``hub``: one CI/deployer role that may assume every role (half the roles name it in their trust,
  half trust the account root and let its ``sts:AssumeRole`` on ``*`` decide);
* ``fan-in``: one role used by a service account in every namespace (``StringLike`` on the name);
* ``wide-wildcards``: identity policies on ``*``, ``ssm:*`` + ``kms:*`` and ``ssm:Get*`` on ``*``,
  each parameter under its own key whose policy names only its role, a few under shared keys;
* ``deep-chains``: role chains of 8 hops (A -> B -> ... -> H), each hop reading its own parameter;
  half the chains name the next role in its trust, half trust the account root and grant
  ``sts:AssumeRole`` on the chain's prefix (every hop may jump to every other);
* ``string-like``: namespace-wide ``StringLike`` trusts (``system:serviceaccount:team-0001:*``),
  ``?`` patterns, prefix patterns spanning ten namespaces, ``ForAnyValue:StringLike`` and two
  ``system:serviceaccount:team-*:*`` trusts.

A size is written ``<shape>-<roles>`` (``root-trust-1600``); ``generate_shape`` takes either form.
The same name always gives the same snapshot (no randomness).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from irsa_lib.model import (
    ROLE_ARN_ANNOTATION,
    Account,
    Coverage,
    EKSCluster,
    InlinePolicy,
    KMSKey,
    ManagedPolicy,
    Namespace,
    OIDCProvider,
    Role,
    ServiceAccount,
    SSMParameter,
)
from irsa_lib.snapshot import Snapshot

__all__ = ["SHAPES", "ShapeSize", "generate_shape", "shape_size"]

ACCOUNT = "444455556666"
REGION = "us-east-1"
CLUSTER = "shapes"
ISSUER = f"oidc.eks.{REGION}.amazonaws.com/id/5A3E5A3E5A3E5A3E5A3E5A3E5A3E5A3E"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
CREATED_AT = "2026-01-01T00:00:00Z"
CHAIN = 8


def _doc(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def _allow(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def param_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def key_arn(name: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}"


def sub(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def oidc_statement(subs: str | list[str], *, op: str = "StringEquals") -> dict[str, Any]:
    """Web identity from the cluster's provider for ``subs`` (``op`` on ``sub``), ``aud`` pinned."""
    cond: dict[str, dict[str, Any]] = {op: {f"{ISSUER}:sub": subs}}
    cond.setdefault("StringEquals", {})[f"{ISSUER}:aud"] = "sts.amazonaws.com"
    return {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": cond,
    }


def aws_statement(principal: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", **extra}


READ = ["ssm:GetParameter", "ssm:GetParameters"]
DENY_IAM_WITHOUT_MFA = {
    "Effect": "Deny",
    "Action": "iam:*",
    "Resource": "*",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
}


@dataclass
class _Org:
    """Records of one account and one cluster, added in a fixed order."""

    roles: list[Role] = field(default_factory=list)
    policies: list[ManagedPolicy] = field(default_factory=list)
    keys: list[KMSKey] = field(default_factory=list)
    params: list[SSMParameter] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)
    sas: list[ServiceAccount] = field(default_factory=list)
    _ns: set[str] = field(default_factory=set)

    def role(
        self,
        name: str,
        *statements: Mapping[str, Any],
        inline: Sequence[Mapping[str, Any]] = (),
        attached: Sequence[str] = (),
    ) -> str:
        arn = role_arn(name)
        self.roles.append(
            Role(
                arn=arn,
                name=name,
                role_id=f"AROA{len(self.roles):017d}",
                account_id=ACCOUNT,
                trust_policy=_doc(*statements),
                inline_policies=(InlinePolicy(name=f"{name}-inline", document=_doc(*inline)),) if inline else (),
                attached_policy_arns=tuple(attached),
            )
        )
        return arn

    def managed(self, name: str, *statements: Mapping[str, Any]) -> str:
        arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
        self.policies.append(ManagedPolicy(arn=arn, name=name, document=_doc(*statements), default_version_id="v1"))
        return arn

    def key(self, name: str, *statements: Mapping[str, Any]) -> str:
        arn = key_arn(name)
        self.keys.append(
            KMSKey(arn=arn, key_id=name, account_id=ACCOUNT, region=REGION, manager="CUSTOMER",
                   aliases=(f"alias/{name}",), rotation_enabled=True, policy=_doc(*statements))
        )  # fmt: skip
        return arn

    def root_key(self, name: str) -> str:
        """A key whose policy delegates to the account's IAM (the console and Terraform default)."""
        return self.key(name, {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                               "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"})  # fmt: skip

    def param(self, name: str, key: str) -> str:
        arn = param_arn(name)
        self.params.append(SSMParameter(arn=arn, name=name, account_id=ACCOUNT, region=REGION, type="SecureString",
                                        key_id=key, version=1))  # fmt: skip
        return arn

    def sa(self, namespace: str, name: str, role: str | None = None) -> None:
        if namespace not in self._ns:
            self._ns.add(namespace)
            self.namespaces.append(
                Namespace(cluster=CLUSTER, name=namespace, labels={"kubernetes.io/metadata.name": namespace})
            )
        ann = {ROLE_ARN_ANNOTATION: role} if role else {}
        self.sas.append(ServiceAccount(cluster=CLUSTER, namespace=namespace, name=name, annotations=ann))

    def snapshot(self) -> Snapshot:
        counts = {"iam": len(self.roles), "kms": len(self.keys), "ssm": len(self.params), "secretsmanager": 0, "eks": 1}
        coverage = [
            Coverage(source="aws", scope=f"{ACCOUNT}/{'global' if svc == 'iam' else REGION}", service=svc,
                     status="ok", count=n)
            for svc, n in counts.items()
        ]  # fmt: skip
        coverage.append(
            Coverage(source="kubernetes", scope=CLUSTER, service="serviceaccounts", status="ok", count=len(self.sas))
        )
        provider = OIDCProvider(arn=PROVIDER, url=ISSUER, account_id=ACCOUNT, client_ids=("sts.amazonaws.com",))
        cluster = EKSCluster(
            name=CLUSTER,
            arn=f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            account_id=ACCOUNT,
            region=REGION,
            version="1.31",
            oidc_issuer=f"https://{ISSUER}",
            status="ACTIVE",
        )
        return Snapshot(
            created_at=CREATED_AT,
            accounts=(Account(account_id=ACCOUNT, alias="shapes", regions=(REGION,)),),
            roles=tuple(self.roles),
            managed_policies=tuple(self.policies),
            oidc_providers=(provider,),
            kms_keys=tuple(self.keys),
            ssm_parameters=tuple(self.params),
            clusters=(cluster,),
            namespaces=tuple(self.namespaces),
            service_accounts=tuple(self.sas),
            coverage=tuple(coverage),
        )


# --- the shapes ------------------------------------------------------------------------------------


def root_trust(n: int) -> Snapshot:
    """Every role trusts the account root and its own service account; 3 of 20 shared policies each."""
    org = _Org()
    app = org.root_key("app")
    shared_key = org.root_key("shared")
    teams = 20
    managed = []
    for k in range(teams):
        for j in range(2):
            org.param(f"/shared/team-{k:02d}/config-{j}", shared_key)
        managed.append(
            org.managed(
                f"team-{k:02d}-access",
                _allow(["ssm:GetParameter*"], param_arn(f"/shared/team-{k:02d}/*")),
                _allow("kms:Decrypt", shared_key),
                _allow("sts:AssumeRole", role_arn(f"svc-{k:05d}")),
                DENY_IAM_WITHOUT_MFA,
            )
        )
    for i in range(n):
        name = f"svc-{i:05d}"
        own = org.param(f"/svc/{name}/db-password", app)
        picks = list(dict.fromkeys((i % teams, (7 * i + 3) % teams, (13 * i + 5) % teams)))
        arn = org.role(
            name,
            aws_statement(ROOT),
            oidc_statement(sub(name, "app")),
            inline=[_allow(READ, own), _allow("kms:Decrypt", app)],
            attached=[managed[k] for k in picks],
        )
        org.sa(name, "app", arn)
    return org.snapshot()


def hub(n: int) -> Snapshot:
    """One deployer role (used by the CI service account) that may assume every role."""
    org = _Org()
    app = org.root_key("app")
    deployer = role_arn("ci-deployer")
    org.role(
        "ci-deployer",
        oidc_statement(sub("ci", "deployer")),
        inline=[_allow("sts:AssumeRole", "*"), _allow("ssm:DescribeParameters", "*")],
    )
    org.sa("ci", "deployer", deployer)
    for i in range(n - 1):
        name = f"svc-{i:05d}"
        own = org.param(f"/svc/{name}/db-password", app)
        trusted = aws_statement(deployer if i % 2 == 0 else ROOT)
        arn = org.role(
            name, trusted, oidc_statement(sub(name, "app")), inline=[_allow(READ, own), _allow("kms:Decrypt", app)]
        )
        org.sa(name, "app", arn)
    return org.snapshot()


def fan_in(n: int) -> Snapshot:
    """One role that the ``shared-reader`` service account of every namespace can assume."""
    org = _Org()
    app = org.root_key("app")
    shared_key = org.root_key("shared")
    shared = [org.param(f"/shared/config-{j}", shared_key) for j in range(5)]
    reader = org.role(
        "shared-reader",
        oidc_statement(sub("svc-*", "shared-reader"), op="StringLike"),
        inline=[_allow(READ, param_arn("/shared/*")), _allow("kms:Decrypt", shared_key)],
    )
    assert shared
    for i in range(n - 1):
        name = f"svc-{i:05d}"
        own = org.param(f"/svc/{name}/db-password", app)
        arn = org.role(name, oidc_statement(sub(name, "app")), inline=[_allow(READ, own), _allow("kms:Decrypt", app)])
        org.sa(name, "app", arn)
        org.sa(name, "shared-reader", reader)
    return org.snapshot()


def wide_wildcards(n: int) -> Snapshot:
    """Identity policies on ``*``; each parameter's own key names only its role."""
    org = _Org()
    wide = org.managed("wide-read", _allow(["ssm:Get*", "ssm:Describe*"], "*"), _allow("kms:Decrypt", "*"))
    common = org.root_key("common")
    for j in range(2):
        org.param(f"/common/setting-{j}", common)
        org.param(f"/common/managed-{j}", "alias/aws/ssm")
    for i in range(n):
        name = f"svc-{i:05d}"
        arn = role_arn(name)
        key = org.key(
            f"key-{name}",
            {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": role_arn("svc-00000")},
             "Action": ["kms:Describe*", "kms:Put*", "kms:Get*", "kms:List*"], "Resource": "*"},
            {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "kms:Decrypt", "Resource": "*"},
        )  # fmt: skip
        org.param(f"/svc/{name}/db-password", key)
        inline: list[dict[str, Any]]
        attached: list[str] = []
        if i % 3 == 0:
            inline = [_allow("*", "*")]
        elif i % 3 == 1:
            inline = [_allow(["ssm:*", "kms:*"], "*")]
        else:
            inline, attached = [_allow("s3:GetObject", f"arn:aws:s3:::{name}/*")], [wide]
        org.role(name, oidc_statement(sub(name, "app")), inline=inline, attached=attached)
        org.sa(name, "app", arn)
    return org.snapshot()


def deep_chains(n: int) -> Snapshot:
    """Chains of 8 roles: the head is a service account's role, each hop reads its own parameter."""
    org = _Org()
    app = org.root_key("app")
    for c in range(max(1, n // CHAIN)):
        chain = f"chain-{c:04d}"
        open_chain = c % 2 == 1
        for h in range(CHAIN):
            name = f"{chain}-hop-{h}"
            own = org.param(f"/{chain}/hop-{h}", app)
            statements: list[dict[str, Any]] = []
            if h == 0:
                statements.append(oidc_statement(sub(chain, "app")))
            statements.append(aws_statement(ROOT if open_chain else role_arn(f"{chain}-hop-{max(h - 1, 0)}")))
            inline = [_allow(READ, own), _allow("kms:Decrypt", app)]
            if open_chain:
                inline.append(_allow("sts:AssumeRole", role_arn(f"{chain}-hop-*")))
            elif h + 1 < CHAIN:
                inline.append(_allow("sts:AssumeRole", role_arn(f"{chain}-hop-{h + 1}")))
            arn = org.role(name, *statements, inline=inline)
            if h == 0:
                org.sa(chain, "app", arn)
    return org.snapshot()


def string_like(n: int) -> Snapshot:
    """Namespace-wide and patterned ``StringLike`` trusts; four service accounts per namespace."""
    org = _Org()
    app = org.root_key("app")
    teams = max(1, n // 4)
    for t in range(teams):
        for j in range(4):
            org.sa(f"team-{t:05d}", f"app-{j}")
    for i in range(n):
        name = f"svc-{i:05d}"
        t = i % teams
        own = org.param(f"/svc/{name}/db-password", app)
        kind = i % 10
        if i < 2:  # every namespace of every team (F01)
            trust = oidc_statement(sub("team-*", "*"), op="StringLike")
        elif kind == 1:
            trust = oidc_statement(sub(f"team-{t:05d}", "app-?"), op="StringLike")
        elif kind == 2:  # a prefix that spans ten namespaces (team-00010 .. team-00019)
            trust = oidc_statement(sub(f"team-{t // 10:04d}*", "app-0"), op="StringLike")
        elif kind == 3:
            trust = oidc_statement([sub(f"team-{t:05d}", "app-1"), sub(f"team-{t:05d}", "app-2")],
                                   op="ForAnyValue:StringLike")  # fmt: skip
        else:
            trust = oidc_statement(sub(f"team-{t:05d}", "*"), op="StringLike")
        org.role(name, trust, inline=[_allow(READ, own), _allow("kms:Decrypt", app)])
    return org.snapshot()


SHAPES: dict[str, Callable[[int], Snapshot]] = {
    "root-trust": root_trust,
    "hub": hub,
    "fan-in": fan_in,
    "wide-wildcards": wide_wildcards,
    "deep-chains": deep_chains,
    "string-like": string_like,
}


@dataclass(frozen=True)
class ShapeSize:
    """A shape at a number of roles, named ``<shape>-<roles>``."""

    shape: str
    roles: int

    @property
    def name(self) -> str:
        return f"{self.shape}-{self.roles}"


def shape_size(name: str) -> ShapeSize:
    """``root-trust-1600`` -> ShapeSize("root-trust", 1600); ValueError when it names no shape."""
    shape, _, roles = name.rpartition("-")
    if shape not in SHAPES or not roles.isdigit() or int(roles) < CHAIN:
        raise ValueError(f"unknown shape size {name!r}; write <shape>-<roles> with a shape of {', '.join(SHAPES)}")
    return ShapeSize(shape, int(roles))


def generate_shape(size: str | ShapeSize) -> Snapshot:
    """The snapshot of a shape size (``root-trust-1600`` or a :class:`ShapeSize`)."""
    s = shape_size(size) if isinstance(size, str) else size
    return SHAPES[s.shape](s.roles)
