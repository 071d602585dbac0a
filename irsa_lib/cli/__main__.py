"""``python -m irsa_lib.cli``: the same as the ``irsa`` command."""

from irsa_lib.cli import entry

entry()
