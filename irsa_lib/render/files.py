"""Writing report files: atomically, and readable like any file the user creates.

``snapshot.write_atomic`` creates its files readable by the owner only (mode 0600).
Reports are made to be shared (a web server, a ticket), so their files get the permissions the
user's umask gives a new file.
"""

from __future__ import annotations

import os
from pathlib import Path

from irsa_lib.snapshot import write_atomic

__all__ = ["write_output"]


def write_output(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically with the permissions of a newly created file."""
    written = write_atomic(path, text)
    umask = os.umask(0)
    os.umask(umask)
    written.chmod(0o666 & ~umask)
    return written
