"""What the command line prints: never a control character from the data, and a closed pipe ends it quietly.

Names, annotations, file names and error texts come from whoever wrote the inputs, and a terminal acts
on the escape sequences in them (move the cursor, rewrite earlier lines, set the title, copy to the
clipboard). ``irsa`` therefore writes through :class:`SafeText`, which shows every C0 and C1 control
character (tab and newline excepted), DEL, and the bidirectional overrides that reorder a line, as a
visible ``\\uXXXX``. Inside a JSON string that spelling is the same character, so JSON and SARIF
output stay exact. Code that styles its own output on purpose (a progress line) writes its control
sequences to :func:`raw` and passes the data through :func:`printable`.

>>> printable("web\\x1b]0;owned\\x07 ok\\tdone")
'web\\\\u001b]0;owned\\\\u0007 ok\\tdone'
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["SafeText", "printable", "quiet_broken_pipe", "raw", "safe_output"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""One character class (linear): C0 but tab and newline, DEL, C1, and the bidirectional marks and overrides."""


def printable(text: str) -> str:
    """``text`` with every control character shown as ``\\uXXXX``."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeText:
    """A text stream that writes :func:`printable` text to the stream it wraps (``raw``)."""

    def __init__(self, stream: TextIO) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(printable(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding...
        return getattr(self.raw, name)


def raw(stream: TextIO | SafeText) -> TextIO:
    """The stream under a :class:`SafeText` (for output that writes its own control sequences)."""
    return stream.raw if isinstance(stream, SafeText) else stream


@contextlib.contextmanager
def safe_output() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` written through :class:`SafeText` for the duration."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeText(saved[0]), SafeText(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def quiet_broken_pipe() -> None:
    """The reader of stdout went away (``irsa ... | head``): send what is left, and Python's final flush
    at exit, to /dev/null instead of reporting the broken pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, raw(sys.stdout).fileno())
        os.close(devnull)
