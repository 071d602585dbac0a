"""``python -m irsa_lib.cli``: the same as the ``irsa`` command."""

import sys

from irsa_lib.cli import main

sys.exit(main())
