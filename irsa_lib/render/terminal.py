"""Terminal output through rich: fits the terminal, keeps ARNs whole, colours only a terminal.

Width: ``COLUMNS`` when set, else the terminal's; written to a pipe or a file without ``COLUMNS``,
lines are not wrapped at all (one record per line stays greppable). Words are never split: a token
longer than the line (an ARN) goes whole onto a line of its own. Colour (by severity and decision
only) is used on a terminal, never in a pipe, and not when ``NO_COLOR`` is set. Every text goes in
as a :class:`rich.text.Text` (never parsed as markup) with control characters shown as escapes, so
a hostile name cannot style, move or clear the terminal.

>>> import io
>>> out = io.StringIO()
>>> c = make_console(out, width=30)
>>> emit(c, plain("sa demo/a → role arn:aws:iam::123456789012:role/very-long-role-name"))
>>> print(out.getvalue())
sa demo/a → role
  arn:aws:iam::123456789012:role/very-long-role-name
<BLANKLINE>
>>> safe("a\\x1b[2Jb")
'a\\\\u001b[2Jb'
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

from rich._wrap import divide_line
from rich.console import Console
from rich.text import Text

from irsa_lib.terminal import printable, raw

__all__ = [
    "DECISION_STYLES",
    "SEVERITY_STYLES",
    "emit",
    "emit_lines",
    "emit_parts",
    "fold",
    "join",
    "make_console",
    "plain",
    "safe",
]

SEVERITY_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
DECISION_STYLES = {"allow": "green", "conditional": "yellow", "potential": "magenta"}


def safe(text: Any) -> str:
    """``text`` with every control character but newline and tab shown as an escape (``\\u001b``)."""
    return printable(str(text))


class _Console(Console):
    """A console whose reader going away is a ``BrokenPipeError`` for the command to end on quietly with
    status 141 (``irsa_lib.cli``), where rich's own ends the process with status 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def make_console(file: IO[str] | None = None, *, width: int | None = None) -> Console:
    """A console on ``file`` (stdout): width from ``width``, ``COLUMNS`` or the terminal; colour on a
    terminal only; no wrapping at all for a pipe or file when no width is known."""
    # the console writes its own colour sequences, so it goes to the stream under irsa's SafeText;
    # every text it is given has been through safe()
    file = file if file is not None else raw(sys.stdout)
    tty = bool(getattr(file, "isatty", lambda: False)())
    if width is None:
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            width = int(columns)
        elif tty:
            width = os.get_terminal_size(file.fileno()).columns if hasattr(file, "fileno") else None
    no_color = "NO_COLOR" in os.environ
    return _Console(
        file=file,
        width=width or 100_000,
        soft_wrap=width is None,
        force_terminal=tty and not no_color,
        color_system="auto" if tty and not no_color else None,
        no_color=no_color,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )


def emit(console: Console, text: Text | str, *, indent: int = 0, hang: int = 2) -> None:
    """Print one piece of output ``indent`` spaces in, wrapped at spaces to the console's width, lines
    after the first ``hang`` more; a token longer than the line (an ARN) stays whole on its own line."""
    text = text if isinstance(text, Text) else plain(text)
    if console.soft_wrap:
        if _writes_plain(console) and "\t" not in text.plain:
            # what rich would print here, without its per-line rendering (the bulk of `irsa access`
            # on 100,000 rows): no colour, no wrapping, nothing to expand
            console.file.write(" " * indent + text.plain + "\n")
            return
        console.print(Text(" " * indent) + text, crop=False, soft_wrap=True)
        return
    for i, line in enumerate(_wrap(text, max(console.width - indent - hang, 20))):
        pad = indent + (hang if i else 0)
        console.print(Text(" " * pad) + line, no_wrap=True, overflow="ignore", crop=False)


def emit_parts(
    console: Console, parts: Iterable[tuple[Any, str]], *, sep: str = "  ", indent: int = 0, hang: int = 2
) -> None:
    """``emit(console, join(plain(text, style) for text, style in parts, sep))``, without building a
    rich text for each part when the console writes plain text (a table of 100,000 rows to a file)."""
    parts = list(parts)
    if writes_plain(console):
        line = sep.join(safe(t) for t, _ in parts)
        if "\t" not in line:
            console.file.write(" " * indent + line + "\n")
            return
    emit(console, join((plain(t, style) for t, style in parts), sep), indent=indent, hang=hang)


def emit_lines(
    console: Console, lines: Iterable[tuple[Sequence[tuple[Any, str]], int]], *, sep: str = "  ", batch: int = 4096
) -> None:
    """:func:`emit_parts` for each ``(parts, indent)`` of ``lines``; when the console writes plain text,
    ``batch`` lines at a time go through one control-character scan and one write (a line by line
    scan of every part was most of the time `irsa access` spent printing 100,000 rows). The bytes
    written are the same: the separator, indent and newline hold no control character."""
    if not writes_plain(console):
        for parts, indent in lines:
            emit_parts(console, parts, sep=sep, indent=indent)
        return
    emit_plain_lines(console, ((sep.join(str(t) for t, _ in parts), indent) for parts, indent in lines), batch=batch)


def emit_plain_lines(console: Console, lines: Iterable[tuple[str, int]], *, batch: int = 4096) -> None:
    """Lines already joined, ``(text, indent)``, to a console that :func:`writes_plain`: the bytes
    :func:`emit_lines` writes for their parts, without making parts (a caller with 100,000 rows to
    print builds each line with one format instead)."""
    pending: list[str] = []

    def flush() -> None:
        console.file.write(printable("".join(pending)))
        pending.clear()

    for line, indent in lines:
        if "\t" in line:  # rich expands tabs: that line goes its way, in its place
            flush()
            emit(console, plain(line), indent=indent)
            continue
        pending.append(" " * indent + line + "\n")
        if len(pending) >= batch:
            flush()
    flush()


def writes_plain(console: Console) -> bool:
    """Whether :func:`emit_plain_lines` may print to ``console``: it writes without wrapping (a pipe or
    a file) and :func:`_writes_plain`."""
    return console.soft_wrap and _writes_plain(console)


def _writes_plain(console: Console) -> bool:
    """The console writes text as it is: no colour system, not recording, not capturing (rich's
    buffer depth, read defensively: anything unexpected means "let rich print it")."""
    return console.color_system is None and not console.record and getattr(console, "_buffer_index", 1) == 0


def _wrap(text: Text, width: int) -> list[Text]:
    # rich's own word splitter, told not to fold a long word (Text.wrap would crop it instead)
    lines = list(text.divide(divide_line(str(text), width, fold=False)))
    for line in lines:
        line.rstrip()
    return lines


def plain(text: Any, style: str = "") -> Text:
    """A piece of output: control characters escaped, never read as markup."""
    return Text(safe(text), style=style)


def join(parts: Iterable[Text | str], sep: str = "  ") -> Text:
    """Parts on one line (strings are made :func:`plain`)."""
    out = Text(overflow="ignore")
    for i, p in enumerate(parts):
        if i:
            out.append(sep)
        out.append_text(p if isinstance(p, Text) else plain(p))
    return out


def fold(items: Sequence[str], *, keep: int, what: str, hint: str) -> tuple[list[str], str | None]:
    """The first ``keep`` of ``items`` and, when some are left out, the line that says so."""
    if len(items) <= keep:
        return list(items), None
    return list(items[:keep]), f"… {len(items) - keep} more {what} of {len(items)} ({hint})"
