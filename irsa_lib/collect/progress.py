"""A one-line progress display for long collections, on stderr, only when stderr is a terminal.

It redraws its line with ``\r`` and an erase sequence written to the terminal itself
(:func:`irsa_lib.terminal.raw`); the names it shows are made printable first."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from irsa_lib.terminal import printable, raw


class Progress:
    """Counts finished (account, region, service) steps and redraws one status line.

    Silent unless enabled; ``enabled=None`` means "when the stream is a TTY".
    """

    def __init__(self, total: int = 0, *, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total = total
        self.done = 0
        self._lock = threading.Lock()

    def add(self, steps: int) -> None:
        with self._lock:
            self.total += steps

    def step(self, account: str, region: str, service: str, status: str) -> None:
        """One step finished: redraw ``[done/total] account region service: status``."""
        with self._lock:
            self.done += 1
            if self.enabled:
                line = printable(f"[{self.done}/{self.total}] {account} {region} {service}: {status}")
                raw(self.stream).write("\r\033[K" + line[:150])
                self.stream.flush()

    def note(self, line: str) -> None:
        """One line kept above the status line (where to watch the run, say); silent when disabled."""
        if self.enabled:
            with self._lock:
                raw(self.stream).write("\r\033[K" + printable(line) + "\n")
                self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            with self._lock:
                raw(self.stream).write("\r\033[K")
                self.stream.flush()
