"""Rules about the values themselves: a value no one can read because of its key, a secret kept in plain text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from irsa_lib.findings.context import FindingContext
from irsa_lib.findings.model import Finding, Rule, RuleMeta, Severity
from irsa_lib.findings.reach import Target
from irsa_lib.findings.rules.common import limit
from irsa_lib.graph.aws import is_plaintext
from irsa_lib.graph.schema import param_id
from irsa_lib.policy.kms import key_state_blocks
from irsa_lib.resolve import parameter_paths

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


# --- F30 -------------------------------------------------------------------------------------------

PARAMETER_TYPES = "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-about.html"
F30 = RuleMeta(
    id="F30",
    slug="plaintext-parameter-looks-secret",
    severity=Severity.MEDIUM,
    title="SSM String parameter that looks like a secret: stored and returned in plain text",
    why=(
        "String and StringList parameters are not encrypted: GetParameter returns them in plain text to anyone "
        "allowed the read action, with no KMS key to limit who can see them (no key-level isolation, no "
        "kms:Decrypt to audit). A parameter whose name says password, token, secret, key or credential, or one "
        "kept beside a service's SecureStrings, most likely holds a secret that should be a SecureString."
    ),
    remediation=(
        "Store the value as a SecureString under the service's customer managed key (delete and recreate the "
        "parameter with Type SecureString; the type of a parameter cannot be changed in place), then rotate it, "
        "since its plain text may have been read."
    ),
    references=(PARAMETER_TYPES, "https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html"),
    scope=(
        "Judged from the parameter's name and its neighbours only (values are never read): a secret under a "
        "neutral name on a path with no SecureString is not seen, and a non-secret named like one is reported."
    ),
)
SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "tokens", "key", "keys", "apikey",
     "credential", "credentials", "creds", "privatekey"}
)  # fmt: skip
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
"""Words of a name segment (``dbPassword`` -> db, Password); no nested quantifiers, so linear time."""


def secret_words(name: str) -> list[str]:
    """The words of a parameter name that say "secret".

    >>> secret_words("/billing/db/password"), secret_words("/app/stripeApiKey"), secret_words("/app/feature-flags")
    (['password'], ['key'], [])
    """
    words = [w.lower() for w in _WORD.findall(name[:2048])]
    return list(dict.fromkeys(w for w in words if w in SECRET_WORDS))


def check_f30(ctx: FindingContext) -> Iterator[Finding]:
    secure_paths: dict[tuple[str, str, str], list[str]] = {}
    for p in ctx.snapshot.ssm_parameters:
        if p.type == "SecureString" and p.name.startswith("/"):
            parent = parameter_paths(p)[-1][0]
            secure_paths.setdefault((p.account_id, p.region, parent), []).append(p.name)
    for p in ctx.snapshot.ssm_parameters:
        if not is_plaintext(p):
            continue
        words = secret_words(p.name)
        path = parameter_paths(p)[-1][0] if p.name.startswith("/") else "/"
        beside = secure_paths.get((p.account_id, p.region, path), []) if path != "/" else []
        if not words and not beside:
            continue
        evidence = [f"{p.type} parameter {p.name}: its value is stored and returned in plain text"]
        if words:
            evidence.append(f"its name says {', '.join(words)}")
        if beside:
            evidence.append(f"it sits under {path} beside SecureString(s) {limit(sorted(beside), 5)}")
        readers = ctx.readers(param_id(p.arn))
        if readers:
            evidence.append(f"readable by {len(readers)} subject(s): {limit(readers, 5)}")
        yield F30.fail(p.arn, *evidence, severity=Severity.HIGH if words else None)


RULES = (Rule(F29, check_f29), Rule(F30, check_f30))
