"""The cyclic garbage collector paused while an analysis builds its large structures.

An analysis allocates millions of objects that live until it ends (the graph, the evaluator's
answers, the rows) and creates no reference cycles (``tests/test_collector.py`` checks it on every
organisation shape), so each full pass of the collector walks them all and frees nothing: about a
sixth of the CPU time of an analysis at 1,600 roles. Reference counting still frees everything as
usual; the collector runs again when the outermost pause ends.

When it ends, what the pause allocated is moved to the oldest generation as it is, unscanned
(``gc.freeze()`` then ``gc.unfreeze()``, two list splices). Left in the youngest generation, the
millions of objects an analysis keeps would be walked by the next young collection, again by the
middle one and again by the full one, all within the next few thousand allocations: about a second
after an analysis at ``large``, paid by whatever ran next (the first query, the first notebook cell).
In the oldest generation they wait for the next full collection, which Python runs only when the
objects promoted since the last one are a quarter of those it found then. Where the process has
frozen objects itself (``gc.get_freeze_count()``), nothing is moved: its frozen set stays as it is.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

__all__ = ["collector_paused", "paused"]

P = ParamSpec("P")
T = TypeVar("T")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested pauses: the outermost one resumes it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def paused(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn`` run with the cyclic collector paused."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with collector_paused():
            return fn(*args, **kwargs)

    return run
