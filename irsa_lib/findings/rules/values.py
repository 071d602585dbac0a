"""Rules about the values themselves: a value no one can read because of its key."""

from __future__ import annotations

from collections.abc import Iterator

from irsa_lib.findings.context import FindingContext
from irsa_lib.findings.model import Finding, Rule, RuleMeta, Severity
from irsa_lib.findings.reach import Target
from irsa_lib.policy.kms import key_state_blocks

KEY_STATE = "https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html"

# --- F29 -------------------------------------------------------------------------------------------

F29 = RuleMeta(
    id="F29",
    slug="value-key-not-enabled",
    severity=Severity.MEDIUM,
    title="Secret value encrypted with a KMS key that is not enabled: no one can read it",
    why=(
        "KMS refuses Decrypt on a key that is Disabled, PendingDeletion, PendingImport, Unavailable or "
        "PendingReplicaDeletion, whatever the policies say, so GetParameter (WithDecryption) and GetSecretValue "
        "fail for everyone: the controllers and workloads that should receive the value get an error instead "
        "(a broken delivery). A key pending deletion makes the value unrecoverable once the deletion completes."
    ),
    remediation=(
        "Enable the key again (kms:EnableKey), cancel its scheduled deletion (kms:CancelKeyDeletion), import its "
        "key material or reconnect its custom key store; or re-encrypt the value with an enabled key."
    ),
    references=(KEY_STATE, "https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html"),
    scope=(
        "Judged from the key state DescribeKey reported at collection, for SecureString parameters and secrets "
        "whose key was collected; a key that was not collected is not judged."
    ),
)
_LOSES_DATA = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


def check_f29(ctx: FindingContext) -> Iterator[Finding]:
    targets: list[tuple[str, Target]] = [
        ("SecureString", p) for p in ctx.snapshot.ssm_parameters if p.type == "SecureString"
    ]
    targets += [("secret", s) for s in ctx.snapshot.secrets]
    for kind, t in targets:
        key, key_arn, _ = ctx.aws.key_for(t)
        if key is None or not key_state_blocks(key.key_state, "kms:Decrypt"):
            continue
        alias = f" ({', '.join(key.aliases)})" if key.aliases else ""
        yield F29.fail(
            t.arn,
            f"{kind} {t.name} is encrypted with {key_arn}{alias}, whose state is {key.key_state}",
            "kms:Decrypt fails in this state whatever the key policy, grants and IAM policies say, so no one can "
            "read the value",
            severity=Severity.HIGH if key.key_state in _LOSES_DATA else None,
        )


RULES = (Rule(F29, check_f29),)
