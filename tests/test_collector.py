"""The analysis creates no reference cycles, so pausing the cyclic collector while it runs
(:mod:`irsa_lib.collector`) frees the same memory as running it; and the pause is undone."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.shapes import SHAPES, generate_shape
from benchmarks.synthetic import generate
from irsa_lib.access import who_can_read
from irsa_lib.analysis import Analysis, analyse
from irsa_lib.collector import collector_paused
from irsa_lib.graph.schema import ARN, SECRET_TYPES
from irsa_lib.snapshot import Snapshot


@pytest.fixture
def collector_off() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()


def _analyse_and_ask(snap: Snapshot) -> Analysis:
    a = analyse(snap)
    for v in sorted(a.graph.nodes_of(*SECRET_TYPES))[:5]:
        list(who_can_read(a.graph, str(a.graph.node(v)[ARN])))
    return a


@pytest.mark.parametrize("case", [*(f"{s}-40" for s in sorted(SHAPES)), "tiny"])
@pytest.mark.usefixtures("collector_off")
def test_an_analysis_leaves_no_cyclic_garbage(case: str) -> None:
    snap: Snapshot = generate("tiny") if case == "tiny" else generate_shape(case)
    _analyse_and_ask(snap)  # once before: networkx compiles and caches a few helpers on first use
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # from here on, what a collection finds is kept in gc.garbage
    a = _analyse_and_ask(snap)
    assert a.rows  # every case has access to analyse
    # what the analysis made and dropped while it ran, its result still held (the graph, like every
    # networkx graph, is a cycle with its cached views: the collector frees it once it is dropped);
    # other threads of the test process (a Dask cluster left by another test) may add their own
    gc.collect()
    ours = [o for o in gc.garbage if str(getattr(o, "__module__", None) or "").startswith("irsa_lib")]
    assert not ours, sorted({getattr(o, "__qualname__", type(o).__qualname__) for o in ours})


def test_the_pause_is_undone_by_the_outermost_block_only() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the collector comes back on an error too")
    assert gc.isenabled()


def test_what_a_pause_kept_goes_to_the_oldest_generation_unscanned() -> None:
    gc.collect()
    with collector_paused():
        kept = [[i] for i in range(20_000)]  # lists are tracked by the collector
    assert gc.get_count()[0] < 1_000  # not 20,000 young objects waiting for the next young collection
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(x) in oldest for x in kept[::997])
    assert gc.get_freeze_count() == 0


def test_objects_the_process_froze_itself_stay_frozen() -> None:
    gc.collect()
    frozen = [[i] for i in range(100)]
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        with collector_paused():
            kept = [[i] for i in range(100)]
        # nothing unfrozen (frozen objects are in no generation), and what the pause made not frozen
        # with them (the count may only fall: another thread may drop objects that were frozen)
        tracked = {id(o) for o in gc.get_objects()}
        assert id(frozen[0]) not in tracked and id(frozen[-1]) not in tracked
        assert id(kept[0]) in tracked and id(kept[-1]) in tracked
        assert 0 < gc.get_freeze_count() <= count
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("collector_off")
def test_the_report_s_views_leave_no_cyclic_garbage_of_their_own(tmp_path: Path) -> None:
    """The report's data model, its files and the fixes section run with the collector paused too
    (at ``small`` a full pass walks some 10 million objects each time it runs)."""
    from irsa_lib.fixes.report import fixes_frame
    from irsa_lib.render import report

    a = analyse(generate("tiny"))

    def views(out: Path) -> None:
        report.write_report_files(a, out, model=report.report_model(a))
        fixes_frame(a, limit=0)

    views(tmp_path / "first")  # once before: first uses compile and cache helpers
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    views(tmp_path / "second")
    gc.collect()
    ours = [o for o in gc.garbage if str(getattr(o, "__module__", None) or "").startswith("irsa_lib")]
    assert not ours, sorted({getattr(o, "__qualname__", type(o).__qualname__) for o in ours})
