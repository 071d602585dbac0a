"""Fixes of who reads values: a controller that reads them itself (F04), a node role that reads them
with instance metadata open to pods (F05), a value on an AWS managed key (F06)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from irsa_lib.findings import Finding
from irsa_lib.findings.reach import Target, decide
from irsa_lib.findings.rules.common import SECRET_READ_ACTIONS
from irsa_lib.findings.rules.controllers import trusting_roles
from irsa_lib.findings.rules.secrets import readable, service_of
from irsa_lib.findings.shapes import pattern_matches
from irsa_lib.fixes.context import FixContext
from irsa_lib.fixes.intended import identities
from irsa_lib.fixes.model import Change, Fix, ImdsEdit, NewKey, NoFix, PolicyEdit, Rekey
from irsa_lib.fixes.policydoc import (
    Statement,
    action_matches,
    as_list,
    drop_actions,
    drop_principals,
    one_or_list,
    statements,
    with_statements,
)
from irsa_lib.graph.imds import metadata_leg
from irsa_lib.model import MetadataOptions, PolicyDocument, Role, SSMParameter
from irsa_lib.onboarding.policies import reference_key_policy

SSM_READS = ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory")
READS_AND_DECRYPT = (*SECRET_READ_ACTIONS, "kms:Decrypt")


def covers(entry: object, actions: Iterable[str]) -> bool:
    """Whether an Action entry covers one of ``actions``."""
    return isinstance(entry, str) and any(action_matches(entry, a) for a in actions)


def specific_read(entry: str) -> bool:
    """An Action entry that names value reads or decryption only (``ssm:GetParameter*``, ``kms:Decrypt``):
    removing it takes nothing else away. ``ssm:*`` or ``*`` also grant other actions."""
    e = entry.lower()
    return e.startswith("ssm:getparameter") or e in ("secretsmanager:getsecretvalue", "kms:decrypt")


def strip_reads(doc: PolicyDocument) -> tuple[dict[str, object], bool]:
    """``doc`` without the Allow entries that only read or decrypt values, and whether an Allow still
    grants a read through a broader entry (``ssm:*``, ``*``, a NotAction)."""
    out: list[Statement] = []
    broad = False
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            out.append(st)
            continue
        if "NotAction" in st:
            broad |= not any(covers(a, SECRET_READ_ACTIONS) for a in as_list(st["NotAction"]))
            out.append(st)
            continue
        kept = drop_actions(st, specific_read)
        if kept is not None:
            broad |= any(covers(a, SECRET_READ_ACTIONS) for a in as_list(kept.get("Action")))
            out.append(kept)
    return with_statements(doc, out), broad


def _has_statements(doc: PolicyDocument) -> bool:
    return bool(statements(doc))


def _identity_edits(
    fc: FixContext, role: Role, rewrite: Callable[[PolicyDocument], tuple[dict[str, object], bool]]
) -> tuple[list[Change], bool, list[str]]:
    """``rewrite`` applied to the role's inline and customer managed policies: the edits, whether a
    grant ``rewrite`` could not remove remains (AWS managed policies included), and notes."""
    changes: list[Change] = []
    notes: list[str] = []
    broad = False
    for ip in role.inline_policies:
        after, left = rewrite(ip.document)
        broad |= left
        if after != ip.document:
            keep = after if _has_statements(after) else None
            changes.append(PolicyEdit(owner=role.arn, kind="inline", name=ip.name, before=ip.document, after=keep))
    policies = {p.arn: p for p in fc.snapshot.managed_policies}
    for arn in role.attached_policy_arns:
        mp = policies.get(arn)
        if mp is None:
            notes.append(f"attached policy {arn} was not collected: it is not changed")
            continue
        after, left = rewrite(mp.document)
        if mp.aws_managed:
            broad |= after != mp.document or left
            continue
        broad |= left
        if after != mp.document:
            changes.append(PolicyEdit(owner=mp.arn, kind="managed", before=mp.document, after=after))
            others = _holders(fc, mp.arn, role.arn)
            if others:
                notes.append(
                    f"policy {mp.name} is also attached to {', '.join(others)}: the change applies to them too"
                )
    return changes, broad, notes


def _holders(fc: FixContext, policy_arn: str, but: str) -> list[str]:
    holders = [r.arn for r in fc.snapshot.roles if policy_arn in r.attached_policy_arns and r.arn != but]
    holders += [u.arn for u in fc.snapshot.users if policy_arn in u.attached_policy_arns]
    holders += [g.arn for g in fc.snapshot.groups if policy_arn in g.attached_policy_arns]
    return holders


def _targets(fc: FixContext, names: Iterable[str]) -> list[Target]:
    wanted = set(names)
    found: list[Target] = [p for p in fc.snapshot.ssm_parameters if p.name in wanted]
    return found + [s for s in fc.snapshot.secrets if s.name in wanted]


def _deny(sid: str, actions: Iterable[str], **resource: str | list[str]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Deny", "Action": list(actions), **resource}]}


# --- F04 ----------------------------------------------------------------------------------------------


def fix_f04(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F04: the controller role loses its own reads (identity grants, key policy decrypt); it keeps
    (or gets) sts:AssumeRole into the service roles that read the same values."""
    ctx = fc.rules
    role = ctx.roles.get(finding.resource)
    if role is None:
        return NoFix(finding=finding, reason=f"role {finding.resource} is not in the snapshot")
    found, _ = readable(ctx, role.arn)
    if not found:
        return NoFix(finding=finding, reason="the role reads no value directly")
    changes, broad, notes = _identity_edits(fc, role, strip_reads)
    if broad:
        changes.append(
            PolicyEdit(
                owner=role.arn,
                kind="inline",
                name="deny-direct-secret-reads",
                before=None,
                after=_deny("DenyDirectSecretReads", READS_AND_DECRYPT, Resource="*"),
            )
        )
        notes.append(
            "a broader grant (a wildcard action or an AWS managed policy) still lets the role read values: an "
            "explicit Deny of reads and kms:Decrypt is added (its sessions of service roles are not affected)"
        )
    targets = _targets(fc, {name for _, name, _ in found})
    changes += _key_edits(fc, role, targets)
    assume, missing = _assume_edits(fc, role, sorted({svc for svc, _, _ in found}))
    changes += assume
    notes += missing
    return Fix(
        finding=finding,
        summary=f"{role.name} no longer reads {len(targets)} value(s) itself; it assumes the service roles instead",
        changes=tuple(changes),
        notes=tuple(notes),
    )


def _key_edits(fc: FixContext, role: Role, targets: list[Target]) -> list[Change]:
    """The role's name taken out of the Decrypt statements of the customer managed keys of ``targets``."""
    out: list[Change] = []
    seen = set()
    for t in targets:
        key, _, managed = fc.rules.aws.key_for(t)
        if key is None or managed is not None or key.policy is None or key.arn in seen:
            continue
        seen.add(key.arn)
        kept: list[Statement] = []
        for st in statements(key.policy):
            kept.extend(_without_decrypter(st, role.arn))
        after = with_statements(key.policy, kept)
        if after != key.policy:
            out.append(PolicyEdit(owner=key.arn, kind="key", before=key.policy, after=after))
    return out


def _without_decrypter(st: Statement, principal: str) -> list[Statement]:
    """A key policy statement without ``principal``'s kms:Decrypt: the others keep the statement, the
    principal keeps the statement's other actions (when an entry such as ``kms:*`` also covers
    Decrypt, it keeps none of them)."""
    names = (
        principal in as_list((st.get("Principal") or {}).get("AWS")) if isinstance(st.get("Principal"), dict) else False
    )
    actions = as_list(st.get("Action"))
    if st.get("Effect") != "Allow" or not names or not any(covers(a, ("kms:Decrypt",)) for a in actions):
        return [st]
    out = []
    others = drop_principals(st, lambda p: p == principal)
    if others is not None:
        out.append(others)
    rest = [a for a in actions if not covers(a, ("kms:Decrypt",))]
    if rest:
        mine = {**st, "Principal": {"AWS": principal}, "Action": one_or_list(rest)}
        if isinstance(st.get("Sid"), str) and others is not None:
            mine["Sid"] = f"{st['Sid']}WithoutDecrypt"  # Sids stay unique within the policy
        out.append(mine)
    return out


def _assume_edits(fc: FixContext, role: Role, services: list[str]) -> tuple[list[Change], list[str]]:
    """sts:AssumeRole on the service roles (trusting the controller, reading the service's values) it lacks."""
    ctx = fc.rules
    trusting = trusting_roles(ctx, role.arn)
    reads = {r.arn: {svc for svc, _, _ in readable(ctx, r.arn)[0]} for r in trusting}
    changes: list[Change] = []
    notes = []
    for svc in services:
        service_roles = [r for r in trusting if svc in reads[r.arn]]
        if not service_roles:
            notes.append(
                f"no role trusting {role.name} reads the values of {svc}: onboard one (`irsa onboard --service {svc} "
                "...`) before applying, or the controller stops delivering them"
            )
            continue
        missing = [r for r in service_roles if not decide(ctx, role.arn, "sts:AssumeRole", r.arn).possible]
        if len(missing) == len(service_roles):
            target = missing[0]
            changes.append(
                PolicyEdit(
                    owner=role.arn,
                    kind="inline",
                    name=f"assume-{target.name}",
                    before=None,
                    after={
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "AssumeServiceRole",
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Resource": target.arn,
                            }
                        ],
                    },
                )
            )
    return changes, notes


# --- F05 ----------------------------------------------------------------------------------------------

IMDS_SAFE = MetadataOptions(http_tokens="required", hop_limit=1, http_endpoint="enabled")


def fix_f05(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F05: IMDSv2 required with hop limit 1 on the role's node groups, and its parameter reads scoped
    to plain-text parameters and AWS public parameters (no SecureString, no Secrets Manager)."""
    ctx = fc.rules
    role = ctx.roles.get(finding.resource)
    if role is None:
        return NoFix(finding=finding, reason=f"role {finding.resource} is not in the snapshot")
    groups = [g for g in fc.snapshot.node_groups if g.node_role_arn == role.arn and g.kind != "fargate"]
    changes: list[Change] = []
    for g in groups:
        if metadata_leg(g, host_network=False, who="a pod") is not None:
            changes.append(
                ImdsEdit(
                    cluster=g.cluster_name,
                    node_group=g.name,
                    before=g.metadata_options,
                    after=IMDS_SAFE,
                    source=g.metadata_source,
                )
            )
    regions = sorted({g.region for g in groups}) or sorted({p.region for p in fc.snapshot.ssm_parameters})
    partition = role.arn.split(":")[1]
    scope = Scope(fc, role.account_id, regions, partition)
    edits, broad, notes = _identity_edits(fc, role, scope.rewrite)
    changes += edits
    if broad:
        changes.append(
            PolicyEdit(
                owner=role.arn,
                kind="inline",
                name="deny-secret-reads",
                before=None,
                after=_deny("DenySecretReads", SECRET_READ_ACTIONS, NotResource=one_or_list(scope.allowed([]))),
            )
        )
        notes.append(
            "an AWS managed policy or a wildcard action still grants reads: an explicit Deny of value reads "
            "outside the scoped parameters is added to the role"
        )
    host = sorted(
        f"{w.namespace}/{w.name}"
        for w in fc.snapshot.workloads
        if w.host_network and w.cluster in {g.cluster_name for g in groups}
    )
    if host:
        notes.append(f"hostNetwork pods still reach instance metadata: {', '.join(host)}")
    notes.append(
        "node bootstrap reads AWS public parameters (parameter/aws/service/*): they stay allowed; add any "
        "other plain-text parameter the nodes need to the scoped statement"
    )
    steps = [
        f"running instances keep their settings until replaced: `aws ec2 modify-instance-metadata-options "
        f"--instance-id ID --http-tokens required --http-put-response-hop-limit 1` on each node of {g.cluster_name}/"
        f"{g.name}, or roll the node group after changing its launch template"
        for g in groups
        if any(isinstance(c, ImdsEdit) and c.node_group == g.name for c in changes)
    ]
    return Fix(
        finding=finding,
        summary=f"node role {role.name}: IMDSv2 with hop limit 1 on {len(groups)} node group(s), reads scoped "
        "to plain-text and AWS public parameters",
        changes=tuple(changes),
        steps=tuple(steps),
        notes=tuple(notes),
    )


class Scope:
    """The parameter reads a node role keeps: plain-text parameters of its account, AWS public parameters."""

    def __init__(self, fc: FixContext, account: str, regions: list[str], partition: str) -> None:
        params = [p for p in fc.snapshot.ssm_parameters if p.account_id == account]
        self.secure = [p.arn for p in params if p.type == "SecureString"] + [
            s.arn for s in fc.snapshot.secrets if s.account_id == account
        ]
        self.plain = [p for p in params if p.type != "SecureString" and (not regions or p.region in regions)]
        self.public = [f"arn:{partition}:ssm:{r}::parameter/aws/service/*" for r in regions]

    def allowed(self, patterns: list[str]) -> list[str]:
        """Plain-text parameters ``patterns`` match (all of them without patterns), then the public ones."""
        plain = [p.arn for p in self.plain if not patterns or any(pattern_matches(x, p.arn) for x in patterns)]
        return plain + self.public

    def rewrite(self, doc: PolicyDocument) -> tuple[dict[str, object], bool]:
        """Allow statements that read SecureStrings or secrets split: their SSM reads scoped, Secrets
        Manager reads dropped, other actions kept as they were."""
        out: list[Statement] = []
        broad = False
        for st in statements(doc):
            resources = [r for r in as_list(st.get("Resource")) if isinstance(r, str)]
            reaches = any(pattern_matches(r, arn) for r in resources for arn in self.secure)
            if st.get("Effect") != "Allow" or "Action" not in st or not reaches:
                broad |= st.get("Effect") == "Allow" and "NotAction" in st
                out.append(st)
                continue
            actions = as_list(st["Action"])
            reads = [a for a in actions if covers(a, SSM_READS) and specific_read(a)]
            dropped = [a for a in actions if covers(a, ("secretsmanager:GetSecretValue",)) and specific_read(a)]
            others = [a for a in actions if a not in reads and a not in dropped]
            broad |= any(covers(a, SECRET_READ_ACTIONS) for a in others)
            if others:
                out.append({**st, "Action": one_or_list(others)})
            if reads:
                sid = f"{st['Sid']}Scoped" if isinstance(st.get("Sid"), str) else "ReadPlainParameters"
                out.append(
                    {
                        "Sid": sid,
                        "Effect": "Allow",
                        "Action": one_or_list(reads),
                        "Resource": one_or_list(self.allowed(resources)),
                    }
                )
        return with_statements(doc, out), broad


# --- F06 ----------------------------------------------------------------------------------------------


def fix_f06(fc: FixContext, finding: Finding) -> Fix | NoFix:
    """F06: a customer managed key for the value's service, with the reference key policy naming the
    roles of its intended readers, and the value encrypted with it (written again)."""
    ctx = fc.rules
    target = fc.values.get(finding.resource)
    if target is None:
        return NoFix(finding=finding, reason=f"{finding.resource} is not in the snapshot")
    _, key_arn, managed = ctx.aws.key_for(target)
    if managed is None:
        return NoFix(finding=finding, reason=f"{target.name} is not on an AWS managed key")
    kind: Literal["parameter", "secret"] = "parameter" if isinstance(target, SSMParameter) else "secret"
    service = service_of(target.name)
    alias = f"alias/{service}" if service.lower() != "aws" else "alias/aws-values"
    partition = target.arn.split(":")[1]
    root = f"arn:{partition}:iam::{target.account_id}:root"
    readers = sorted({identities(r)[-1] for r in fc.intended_readers(target.arn) if identities(r)})
    via = f"{managed}.{target.region}.amazonaws.com"
    changes: list[Change] = []
    notes = []
    existing = next(
        (
            k
            for k in fc.snapshot.kms_keys
            if alias in k.aliases
            and k.manager == "CUSTOMER"
            and (k.account_id, k.region) == (target.account_id, target.region)
        ),
        None,
    )
    if existing is None:
        changes.append(
            NewKey(
                arn=f"arn:{partition}:kms:{target.region}:{target.account_id}:key/planned-{alias.removeprefix('alias/')}",
                alias=alias,
                account_id=target.account_id,
                region=target.region,
                policy=reference_key_policy(name=service, root=root, admins=[root], decrypters=readers, via=[via]),
                description=f"secrets of service {service}",
            )
        )
    else:
        notes.append(f"{alias} exists ({existing.arn}): the value moves to it; its key policy decides who decrypts")
    if not readers:
        notes.append(
            f"no intended reader of {target.name} was found: the key policy lets no role decrypt it; add the "
            "service's role to ServiceRoleDecryptViaService"
        )
    current = (target.key_id if isinstance(target, SSMParameter) else target.kms_key_id) or f"alias/aws/{managed}"
    changes.append(Rekey(value_arn=target.arn, value_name=target.name, kind=kind, key_before=current, key_after=alias))
    return Fix(
        finding=finding,
        summary=f"{target.name}: encrypted with {alias} (customer managed), decryptable by "
        f"{', '.join(r.rsplit('/', 1)[-1] for r in readers) or 'no role yet'} through {managed} only",
        changes=tuple(changes),
        steps=tuple(_rekey_steps(target, kind, alias, key_arn)),
        notes=tuple(notes),
    )


def _rekey_steps(target: Target, kind: str, alias: str, old_key: str) -> list[str]:
    """How the value gets encrypted with the new key; the value itself never appears."""
    if kind == "parameter":
        return [
            f"create the key and its alias {alias} first (Terraform or `aws kms create-key` + `aws kms create-alias`)",
            "SSM encrypts a SecureString when it is written: write the value again with the new key, e.g. "
            f"`aws ssm put-parameter --name {target.name} --type SecureString --key-id {alias} --overwrite --value "
            f'"$(aws ssm get-parameter --name {target.name} --with-decryption --query Parameter.Value --output text)"` '
            "(the value passes through your shell only; irsa never reads it)",
            f"earlier versions stay encrypted with {old_key} and readable through GetParameterHistory: delete the "
            "parameter and create it again (or rotate the value) if they must not stay readable",
        ]
    return [
        f"create the key and its alias {alias} first (Terraform or `aws kms create-key` + `aws kms create-alias`)",
        f"`aws secretsmanager update-secret --secret-id {target.arn} --kms-key-id {alias}`: Secrets Manager "
        "re-encrypts the versions labelled AWSCURRENT, AWSPENDING and AWSPREVIOUS with the new key",
        f"older, unlabelled versions stay encrypted with {old_key}: rotate the value if they must not stay readable",
    ]
