"""``python -m irsa_lib.cli``: the same as the ``irsa`` console script."""

import sys

from irsa_lib.cli import main

sys.exit(main())
