"""Writing report files: atomically, and readable like any file the user creates.

``snapshot.write_atomic`` creates its files readable by the owner only (mode 0600).
Reports are made to be shared (a web server, a ticket), so their files get the permissions the
user's umask gives a new file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from irsa_lib.snapshot import write_atomic

__all__ = ["write_output", "write_output_with"]


def write_output(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically with the permissions of a newly created file."""
    written = write_atomic(path, text)
    umask = os.umask(0)
    os.umask(umask)
    written.chmod(0o666 & ~umask)
    return written


def write_output_with(path: str | os.PathLike[str], write: Callable[[TextIO], None]) -> Path:
    """Like :func:`write_output`, for files too large to hold as one string: ``write`` streams into
    the open temporary file, which replaces ``path`` only when it is complete."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
