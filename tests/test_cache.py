"""The graph cache (:mod:`irsa_lib.cache`): a command prints the same with it, without it, and
starting from what an earlier command kept; an entry is used only when it is the snapshot's, made
by this code, whole, and the user's own."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

import irsa_lib.cache
from benchmarks.shapes import generate_shape
from benchmarks.synthetic import generate
from irsa_lib.analysis import analyse
from irsa_lib.cache import GraphCache, analyse_file
from irsa_lib.cli import main
from irsa_lib.errors import UsageError
from irsa_lib.snapshot import Snapshot, load_snapshot, save_snapshot
from tests.graph.test_kes import scenario
from tests.test_hostile_report import hostile_inputs

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("access", "--format", "json"),
    ("findings", "--format", "json"),
    ("access",),
    ("findings", "--format", "sarif"),
    ("graph", "-o", "{out}"),
    ("fix", "-o", "{out}", "--format", "json"),
)
"""Each command that analyses a snapshot file, in the formats whose text depends on the whole graph."""


def _snapshots(work: Path) -> dict[str, Path]:
    """A KES scenario, every hostile field, a synthetic organisation and a shape with wildcard
    identity policies (write edges, F26), as files."""
    hostile = work / "hostile"
    hostile.mkdir()
    return {
        "kes": save_snapshot(scenario(), work / "kes.json"),
        "hostile": hostile_inputs(hostile)[0],
        "tiny": save_snapshot(generate("tiny"), work / "tiny.json"),
        "wide-wildcards": save_snapshot(generate_shape("wide-wildcards-60"), work / "wide.json"),
    }


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _snapshots(tmp_path_factory.mktemp("cache-snapshots"))


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache on, in a fresh directory (the test session runs with it off)."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("IRSA_CACHE", "on")
    monkeypatch.setenv("IRSA_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per snapshot file a command analyses from its records (not from the cache); only a
    command's own analysis, not those a fix's verification makes of the snapshot with the fix applied."""
    calls: list[int] = []
    real = irsa_lib.cache.load_snapshot

    def counted(path: Path, *, text: str | None = None) -> Snapshot:
        calls.append(1)
        return real(path, text=text)

    monkeypatch.setattr(irsa_lib.cache, "load_snapshot", counted)
    return calls


def run(capsys: pytest.CaptureFixture[str], args: tuple[str, ...], snapshot: Path, work: Path) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of one command (the file ``graph`` writes, in place of its line);
    what a command writes goes to one place under ``work`` per command."""
    out = work / f"{args[0]}-out"
    argv = [a.format(out=out) for a in args]
    status = main([argv[0], str(snapshot), *argv[1:]])
    text, err = capsys.readouterr()
    if argv[0] == "graph":
        text = out.read_text(encoding="utf-8")
    return status, text, err


@pytest.mark.parametrize(
    ("name", "first"),
    [(n, c) for n in ("kes", "hostile", "wide-wildcards") for c in ("access", "findings", "graph", "fix")]
    + [("tiny", "access")],  # an organisation: 8 s for one order (its fixes are verified by analysing it again)
)
def test_every_command_prints_the_same_from_a_kept_graph(
    name: str,
    first: str,
    snapshots: dict[str, Path],
    cache_dir: Path,
    builds: list[int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    snapshot = snapshots[name]
    expected = {c: run(capsys, (*c, "--no-cache"), snapshot, tmp_path) for c in COMMANDS}
    assert len(builds) == len(COMMANDS) and not cache_dir.exists()  # --no-cache: built each time, nothing kept

    order = sorted(COMMANDS, key=lambda c: c[0] != first)
    builds.clear()
    for command in order:
        assert run(capsys, command, snapshot, tmp_path) == expected[command], command
    assert len(builds) == 1  # the first command built the graph; every later one read it
    assert len(list(cache_dir.iterdir())) == 1


def test_diff_of_two_kept_graphs(
    cache_dir: Path, builds: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now, before = hostile_inputs(tmp_path)
    for argv in (["diff", str(before), str(now), "--format", "json"], ["diff", str(before), str(now)]):
        assert main([*argv, "--no-cache"]) == 0
        expected = capsys.readouterr()
        builds.clear()
        for _ in range(2):
            assert main(argv) == 0
            assert capsys.readouterr() == expected
        assert len(builds) == (2 if argv[-1] == "json" else 0)  # the first diff kept both graphs


def test_a_changed_snapshot_is_analysed_again(
    cache_dir: Path, builds: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    before = run(capsys, ("access", "--format", "json"), path, tmp_path)
    save_snapshot(scenario(enforce=True), path)  # the same file, other records
    after = run(capsys, ("access", "--format", "json"), path, tmp_path)
    assert after == run(capsys, ("access", "--format", "json", "--no-cache"), path, tmp_path)
    assert after != before and len(builds) == 3
    assert len(list(cache_dir.iterdir())) == 2  # one entry per text


def test_the_same_text_at_another_path_is_its_own_entry(
    cache_dir: Path, builds: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Records name the file they came from (in messages), so an entry is the file's, not only its text's."""
    a = save_snapshot(scenario(), tmp_path / "a.json")
    b = tmp_path / "b.json"
    b.write_bytes(a.read_bytes())
    run(capsys, ("access",), a, tmp_path)
    run(capsys, ("access",), b, tmp_path)
    assert len(builds) == 2


def test_another_version_of_the_code_does_not_read_the_entry(
    cache_dir: Path,
    builds: list[int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    run(capsys, ("access",), path, tmp_path)
    monkeypatch.setattr(irsa_lib.cache, "code_digest", lambda: b"another irsa_lib")
    run(capsys, ("access",), path, tmp_path)
    assert len(builds) == 2


def test_the_code_digest_changes_with_any_file_of_the_package(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "data").mkdir(parents=True)
    (root / "mod.py").write_text("x = 1\n")
    (root / "data" / "policy.json").write_text("{}")
    before = irsa_lib.cache.tree_digest(root)
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"compiled")
    assert irsa_lib.cache.tree_digest(root) == before  # bytecode is not the code
    (root / "data" / "policy.json").write_text("{ }")
    assert irsa_lib.cache.tree_digest(root) != before
    (root / "data" / "policy.json").write_text("{}")
    (root / "data" / "policy.json").rename(root / "data" / "other.json")
    assert irsa_lib.cache.tree_digest(root) != before  # a name is part of it too


def _entry(cache_dir: Path) -> Path:
    [entry] = cache_dir.iterdir()
    return entry


def test_a_damaged_entry_is_skipped_removed_and_written_again(
    cache_dir: Path, builds: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    expected = run(capsys, ("findings", "--format", "json"), path, tmp_path)
    entry = _entry(cache_dir)
    whole = entry.read_bytes()
    entry.write_bytes(whole[: len(whole) // 2])
    status, text, err = run(capsys, ("findings", "--format", "json"), path, tmp_path)
    assert (status, text) == expected[:2]
    assert "is damaged" in err and len(builds) == 2
    assert _entry(cache_dir).read_bytes() == whole  # written again, whole


def _planted(cache_dir: Path, marker: Path, mode: int) -> Path:
    """An entry under the snapshot's key that, when unpickled, creates ``marker`` (what a hostile
    writer of the directory could do), with ``mode``."""
    entry = _entry(cache_dir)

    class Runs:
        def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
            return (Path.touch, (marker,))

    entry.write_bytes(pickle.dumps(Runs()))
    entry.chmod(mode)
    return entry


def test_an_entry_others_may_write_is_never_unpickled(
    cache_dir: Path, builds: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    expected = run(capsys, ("access",), path, tmp_path)
    marker = tmp_path / "ran"
    _planted(cache_dir, marker, 0o622)
    status, text, err = run(capsys, ("access",), path, tmp_path)
    assert (status, text) == expected[:2] and len(builds) == 2
    assert not marker.exists()
    assert "not read: not a file of yours that only you can write" in err


def test_a_directory_others_may_write_is_not_used(
    cache_dir: Path, builds: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    run(capsys, ("access",), path, tmp_path)
    marker = tmp_path / "ran"
    _planted(cache_dir, marker, 0o600)
    cache_dir.chmod(0o777)
    status, _, err = run(capsys, ("access",), path, tmp_path)
    assert status == 0 and not marker.exists() and len(builds) == 2
    assert "not used: not a directory of yours that only you can write" in err
    assert len(list(cache_dir.iterdir())) == 1  # nothing written there either


def test_a_link_in_place_of_an_entry_is_not_followed(
    cache_dir: Path, builds: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    run(capsys, ("access",), path, tmp_path)
    entry = _entry(cache_dir)
    elsewhere = tmp_path / "elsewhere"
    entry.rename(elsewhere)
    entry.symlink_to(elsewhere)
    status, _, err = run(capsys, ("access",), path, tmp_path)
    assert status == 0 and len(builds) == 2 and "not read" in err


def test_the_directory_and_entries_are_private(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    old = os.umask(0o022)
    try:
        run(capsys, ("access",), path, tmp_path)
    finally:
        os.umask(old)
    assert cache_dir.stat().st_mode & 0o777 == 0o700
    assert _entry(cache_dir).stat().st_mode & 0o777 == 0o600
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".")]  # no temporary left


def test_an_entry_is_made_from_the_text_its_key_digests_and_the_file_is_read_once(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file rewritten after a command read it: the entry kept is that of the text the command read
    and analysed, so the next command on the new text analyses it again, never reads the old graph."""
    path = save_snapshot(scenario(), tmp_path / "snap.json")
    read = irsa_lib.cache.read_snapshot_text
    reads: list[Path] = []

    def read_then_changed(p: Path) -> str:
        reads.append(p)
        text = read(p)
        save_snapshot(scenario(enforce=True), p)  # rewritten as soon as it was read
        return text

    monkeypatch.setattr(irsa_lib.cache, "read_snapshot_text", read_then_changed)
    before = analyse_file(path, rules=(), cache=GraphCache.from_env())
    assert len(reads) == 1 and len(list(cache_dir.iterdir())) == 1  # read once, and kept
    monkeypatch.setattr(irsa_lib.cache, "read_snapshot_text", read)
    after = analyse_file(path, rules=(), cache=GraphCache.from_env())
    expected = analyse(load_snapshot(path), rules=())  # the new text, without the cache
    assert [r.to_json() for r in after.rows] == [r.to_json() for r in expected.rows]
    assert [r.to_json() for r in after.rows] != [r.to_json() for r in before.rows]
    assert len(list(cache_dir.iterdir())) == 2  # an entry for each text


def test_least_recently_used_entries_go_past_the_limit(tmp_path: Path) -> None:
    files = [save_snapshot(generate_shape(f"hub-{n}"), tmp_path / f"hub-{n}.json") for n in (20, 30, 40, 50)]
    cache = GraphCache(tmp_path / "cache")
    for f in files[:3]:
        analyse_file(f, rules=(), cache=cache)
    first, second, third = cache.entries()
    for age, entry in ((300, second), (200, third), (100, first)):  # the first read since the others
        os.utime(entry, ns=(0, (1_700_000_000 - age) * 10**9))
    size = {p: p.stat().st_size for p in (first, second, third)}
    limited = GraphCache(cache.directory, max_bytes=size[first] + size[third] + 2 * size[second])
    analyse_file(files[3], rules=(), cache=limited)  # a fourth entry, larger than the second
    fourth = limited.entries()[-1]
    assert limited.entries() == [third, first, fourth]  # the least recently used went, and only it
    tiny = GraphCache(tmp_path / "tiny", max_bytes=100)
    analyse_file(files[0], rules=(), cache=tiny)
    assert tiny.entries() == []  # larger than the whole limit: not written


def test_switches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert GraphCache.from_env({"IRSA_CACHE": "off"}) is None
    assert GraphCache.from_env({"IRSA_CACHE": "OFF", "IRSA_CACHE_DIR": "/x"}) is None
    home = GraphCache.from_env({"XDG_CACHE_HOME": str(tmp_path)})
    assert home is not None and home.directory == tmp_path / "irsa_lib"
    sized = GraphCache.from_env({"IRSA_CACHE_DIR": str(tmp_path / "c"), "IRSA_CACHE_MAX_MB": "3"})
    assert sized is not None and (sized.directory, sized.max_bytes) == (tmp_path / "c", 3 * 2**20)
    with pytest.raises(UsageError, match="IRSA_CACHE_MAX_MB: expected a whole number of MiB, got '2G'"):
        GraphCache.from_env({"IRSA_CACHE_MAX_MB": "2G"})


def test_an_unreadable_snapshot_is_reported_as_without_the_cache(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access", str(tmp_path / "missing.json")]) == 2
    assert "no such snapshot file" in capsys.readouterr().err
    assert not cache_dir.exists()
