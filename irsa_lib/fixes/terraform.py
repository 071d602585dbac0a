"""The AWS changes of a fix as Terraform, in the shape the onboarding writes (``jsonencode`` of HCL objects).

Each change becomes the resource block (or the arguments of it) that makes it: a role's
``assume_role_policy``, an ``aws_iam_role_policy``, an ``aws_iam_policy``, a key's ``policy``, a new
``aws_kms_key`` and ``aws_kms_alias``, a parameter's or secret's key, a launch template's
``metadata_options``. Blocks that change an existing resource say so in a comment: keep that
resource's other arguments. A value is never written: a parameter's comes from a ``sensitive``
variable.
"""

from __future__ import annotations

from collections.abc import Sequence

from irsa_lib.fixes.model import Change, Fix, ImdsEdit, NewKey, PolicyEdit, Rekey
from irsa_lib.onboarding.render import Expr, hcl_block, hcl_string, hcl_value, tf_name


def comment(text: str) -> str:
    """A one-line HCL comment: line breaks and other control characters in names become spaces."""
    return "# " + "".join(ch if ch.isprintable() else " " for ch in text) + "\n"


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _encoded(doc: object) -> Expr:
    return Expr("jsonencode(" + hcl_value(doc, 1) + ")")


def _policy(c: PolicyEdit) -> str:
    name = _name(c.owner)
    if c.kind == "trust":
        head = comment(f"aws_iam_role {name}: replace assume_role_policy; keep the role's other arguments")
        return head + hcl_block(
            f'resource "aws_iam_role" "{tf_name(name)}"', {"name": name, "assume_role_policy": _encoded(c.after)}
        )
    if c.kind == "inline":
        address = f'resource "aws_iam_role_policy" "{tf_name(name + "_" + c.name)}"'
        if c.after is None:
            return comment(f"{address}: delete it (inline policy {c.name} of role {name} is removed)")
        return hcl_block(address, {"name": c.name, "role": name, "policy": _encoded(c.after)})
    if c.kind == "managed":
        head = comment(f"aws_iam_policy {name}: replace policy; keep its other arguments")
        return head + hcl_block(
            f'resource "aws_iam_policy" "{tf_name(name)}"', {"name": name, "policy": _encoded(c.after)}
        )
    head = comment(f"aws_kms_key {c.owner}: replace policy; keep the key's other arguments")
    return head + hcl_block(f'resource "aws_kms_key" "{tf_name(name)}"', {"policy": _encoded(c.after)})


def _key_name(alias: str) -> str:
    return tf_name(alias.removeprefix("alias/"))


def _new_key(c: NewKey) -> str:
    name = _key_name(c.alias)
    return (
        hcl_block(
            f'resource "aws_kms_key" "{name}"',
            {"description": c.description, "enable_key_rotation": True, "policy": _encoded(c.policy)},
        )
        + "\n"
        + hcl_block(
            f'resource "aws_kms_alias" "{name}"', {"name": c.alias, "target_key_id": Expr(f"aws_kms_key.{name}.key_id")}
        )
    )


def _rekey(c: Rekey, created: Sequence[str]) -> str:
    key = Expr(f"aws_kms_key.{_key_name(c.key_after)}.arn") if c.key_after in created else c.key_after
    name = tf_name(c.value_name)
    if c.kind == "secret":
        head = comment(f"aws_secretsmanager_secret {c.value_name}: set kms_key_id; keep its other arguments")
        return head + hcl_block(
            f'resource "aws_secretsmanager_secret" "{name}"', {"name": c.value_name, "kms_key_id": key}
        )
    variable = hcl_block(
        f'variable "{name}"',
        {
            "description": f"value of {c.value_name} (sensitive; never commit it)",
            "type": Expr("string"),
            "sensitive": True,
        },
    )
    head = comment(f"aws_ssm_parameter {c.value_name}: set key_id; the value comes from TF_VAR_{name}, never a literal")
    return (
        variable
        + "\n"
        + head
        + hcl_block(
            f'resource "aws_ssm_parameter" "{name}"',
            {"name": c.value_name, "type": "SecureString", "key_id": key, "value": Expr(f"var.{name}")},
        )
    )


def _imds(c: ImdsEdit) -> str:
    after = c.after
    return (
        comment(
            f"node group {c.cluster}/{c.node_group}: the metadata options of its launch template "
            f"(settings read from: {c.source or 'unknown'}); keep the template's other arguments"
        )
        + f'resource "aws_launch_template" "{tf_name(c.node_group)}" {{\n'
        "  metadata_options {\n"
        f"    http_endpoint               = {hcl_string(after.http_endpoint or 'enabled')}\n"
        f"    http_tokens                 = {hcl_string(after.http_tokens or 'required')}\n"
        f"    http_put_response_hop_limit = {after.hop_limit}\n"
        "  }\n"
        "}\n"
    )


def change_terraform(c: Change, created: Sequence[str] = ()) -> str | None:
    """One change as Terraform (None for a Kubernetes object: see the patches)."""
    if isinstance(c, PolicyEdit):
        return _policy(c)
    if isinstance(c, NewKey):
        return _new_key(c)
    if isinstance(c, Rekey):
        return _rekey(c, created)
    if isinstance(c, ImdsEdit):
        return _imds(c)
    return None


def terraform(fix: Fix) -> str | None:
    """The fix's AWS changes as one Terraform file (None when it changes only Kubernetes objects)."""
    created = [c.alias for c in fix.changes if isinstance(c, NewKey)]
    blocks = [t for c in fix.changes if (t := change_terraform(c, created)) is not None]
    if not blocks:
        return None
    head = comment(f"{fix.finding.rule} {fix.finding.resource}: {fix.summary}") + "# Written by `irsa fix`.\n\n"
    return head + "\n".join(blocks)
