"""Every finding with its fix as a verified patch.

A fix is data first: per finding, a pure builder (:mod:`irsa_lib.fixes.rules`) turns the finding and
the analysis into changes (:mod:`irsa_lib.fixes.model`): policy documents before and after, a new
key, a value to encrypt again, node metadata settings, Kubernetes objects before and after. The
changes are applied to the snapshot as a what-if overlay (:mod:`irsa_lib.fixes.overlay`) and the
analysis runs again (:mod:`irsa_lib.fixes.verify`): the proof says the finding is gone, which access
rows the fix removes, and that the intended rows (:mod:`irsa_lib.fixes.intended`) stay. Outputs
(:mod:`irsa_lib.fixes.output`): the policy documents (whole and as a diff), Terraform in the
onboarding's shape, JSON and merge patches and the patched manifests; :mod:`irsa_lib.fixes.report` is
the access report's section showing each finding's fix.
"""

from typing import TYPE_CHECKING, Any

from irsa_lib.fixes.model import Fix, NoFix
from irsa_lib.fixes.registry import BUILDERS, build_fixes, has_fix, select_findings

if TYPE_CHECKING:
    from irsa_lib.fixes.verify import Proof, Verifier, fix_and_verify

_VERIFY = ("Proof", "Verifier", "fix_and_verify")


def __getattr__(name: str) -> Any:
    """The verifier (and the what-if machinery it runs) is imported on first use: ``irsa findings``
    only asks which rules have a fix."""
    if name in _VERIFY:
        from irsa_lib.fixes import verify

        return getattr(verify, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BUILDERS",
    "Fix",
    "NoFix",
    "Proof",
    "Verifier",
    "build_fixes",
    "fix_and_verify",
    "has_fix",
    "select_findings",
]
