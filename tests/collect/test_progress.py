"""The progress line: per (account, region) on a terminal, silent otherwise, never a control character."""

from __future__ import annotations

import io

from irsa_lib.collect.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_the_stream_is_not_a_terminal() -> None:
    out = io.StringIO()
    bar = Progress(stream=out)
    bar.add(2)
    bar.note("Dask dashboard: http://127.0.0.1:8787/status")
    bar.step("111122223333", "eu-west-1", "collected", "ok")
    bar.close()
    assert out.getvalue() == ""
    assert (bar.done, bar.total) == (1, 2)


def test_on_a_terminal_each_step_redraws_one_line_and_notes_stay() -> None:
    out = Terminal()
    bar = Progress(stream=out)
    bar.add(2)
    bar.note("Dask dashboard: http://127.0.0.1:8787/status")
    bar.step("111122223333", "eu-west-1", "collected", "ok")
    bar.step("444455556666", "global", "member role", "denied")
    bar.close()
    assert out.getvalue() == (
        "\r\033[KDask dashboard: http://127.0.0.1:8787/status\n"
        "\r\033[K[1/2] 111122223333 eu-west-1 collected: ok"
        "\r\033[K[2/2] 444455556666 global member role: denied"
        "\r\033[K"
    )


def test_control_characters_from_names_never_reach_the_terminal() -> None:
    out = Terminal()
    bar = Progress(stream=out)
    bar.add(1)
    bar.step("c", "-", "manifests /tmp/\x1b]0;pwned\x07x", "ok")
    written = out.getvalue().removeprefix("\r\033[K")
    assert "\x1b" not in written and "\x07" not in written
    assert written == "[1/1] c - manifests /tmp/\\u001b]0;pwned\\u0007x: ok"  # shown, not acted on
