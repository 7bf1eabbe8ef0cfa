import csv
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from helpers import runs


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "a" / "table.txt"
    runs.atomic_write_text(target, "one\n")
    runs.atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["table.txt"]


def test_atomic_write_failure_keeps_old_content(tmp_path):
    target = tmp_path / "t.json"
    runs.atomic_write_json(target, {"a": 1})

    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        runs.atomic_write_json(target, {"a": Boom()})
    assert runs.read_json(target) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]


def test_atomic_directory_complete_or_absent(tmp_path):
    final = tmp_path / "mnli___xnli" / "seed1"
    with pytest.raises(KeyError):
        with runs.atomic_directory(final) as work:
            (work / "metrics.json").write_text("{}")
            raise KeyError("killed half-way")
    assert not final.exists()
    assert list(final.parent.iterdir()) == []
    with runs.atomic_directory(final) as work:
        (work / "metrics.json").write_text('{"f1": 1}')
    assert (final / "metrics.json").read_text() == '{"f1": 1}'
    with runs.atomic_directory(final) as work:
        (work / "metrics.json").write_text('{"f1": 2}')
    assert (final / "metrics.json").read_text() == '{"f1": 2}'
    assert sorted(p.name for p in final.parent.iterdir()) == ["seed1"]


def test_upsert_rows_replaces_by_key_and_sorts(tmp_path):
    table = tmp_path / "zero_shot.csv"
    runs.upsert_rows(table, [{"arm": "mnli", "lang": "de", "value": 1.5}], key=("arm", "lang"))
    runs.upsert_rows(table, [{"arm": "direct", "lang": "de", "value": 2.0},
                             {"arm": "mnli", "lang": "de", "value": 3.25}], key=("arm", "lang"))
    rows = runs.read_table(table)
    assert rows == [{"arm": "direct", "lang": "de", "value": "2.0"},
                    {"arm": "mnli", "lang": "de", "value": "3.25"}]


def test_upsert_rows_missing_key_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="key columns"):
        runs.upsert_rows(tmp_path / "t.csv", [{"arm": "x"}], key=("arm", "lang"))


def _writer(args):
    path, worker = args
    for i in range(20):
        runs.upsert_rows(path, [{"worker": worker, "i": i, "v": worker * 100 + i}], key=("worker", "i"))
    return worker


def test_concurrent_upserts_never_lose_rows(tmp_path):
    table = tmp_path / "inference.csv"
    with mp.get_context("fork").Pool(4) as pool:
        pool.map(_writer, [(table, w) for w in range(4)])
    rows = runs.read_table(table)
    assert len(rows) == 80
    assert {(r["worker"], r["i"]) for r in rows} == {(str(w), str(i)) for w in range(4) for i in range(20)}


def test_killed_writer_leaves_old_table(tmp_path):
    table = tmp_path / "t.csv"
    runs.upsert_rows(table, [{"k": "a", "v": 1}], key=("k",))
    script = textwrap.dedent(f"""
        import os, signal
        from helpers import runs
        real = runs.atomic_write_bytes
        def slow(path, data):
            import tempfile
            fd, tmp = tempfile.mkstemp(prefix='.tmp-x.', dir=os.path.dirname(path))
            os.write(fd, data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        runs.atomic_write_bytes = slow
        runs.upsert_rows({str(table)!r}, [{{'k': 'b', 'v': 2}}], key=('k',))
    """)
    proc = subprocess.run([sys.executable, "-c", script])
    assert proc.returncode == -signal.SIGKILL
    assert runs.read_table(table) == [{"k": "a", "v": "1"}]


def test_cache_key_depends_on_params_and_extra():
    a = runs.cache_key({"task": "xnli", "seed": 1})
    assert a == runs.cache_key({"seed": 1, "task": "xnli"})
    assert a != runs.cache_key({"task": "xnli", "seed": 2})
    assert a != runs.cache_key({"task": "xnli", "seed": 1}, b"notebook v2")
    assert len(a) == 16


def test_lineage_dir_names(tmp_path):
    assert runs.lineage_dir("mnli", "xnli", 1, tmp_path) == tmp_path / "mnli___xnli" / "seed1"
    assert runs.lineage_dir(None, "panx", 2, tmp_path) == tmp_path / "direct___panx" / "seed2"
    assert runs.lineage_dir("multi", None, 1, tmp_path) == tmp_path / "multi" / "seed1"


def test_roots_follow_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDY_RESULTS_DIR", str(tmp_path / "r"))
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "c"))
    assert runs.results_root() == tmp_path / "r"
    assert runs.cache_root() == tmp_path / "c"


def test_library_versions_names_torch():
    versions = runs.library_versions()
    assert versions["torch"].startswith("2.13.0")
    assert set(versions) >= {"python", "transformers", "tokenizers"}


def test_atomic_files_get_the_usual_mode(tmp_path):
    path = runs.atomic_write_text(tmp_path / "t.txt", "x")
    assert path.stat().st_mode & 0o777 == 0o666 & ~runs._UMASK
