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


# ----------------------------------------------------------------------------- ownership (issue 15)
def _user_folder(root):
    (root / "sub").mkdir(parents=True)
    (root / "notes.txt").write_text("mine\n")
    (root / "sub" / "data.tsv").write_text("a\tb\n")
    os.chmod(root, 0o750)
    return sorted((p.relative_to(root).as_posix(), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*"))


def test_atomic_directory_refuses_a_folder_it_did_not_create(tmp_path):
    from helpers.errors import StudyError

    mine = tmp_path / "mine"
    before = _user_folder(mine)
    with pytest.raises(StudyError, match=r"directory .*mine exists and was not created by the study .*"
                                         r"expected a new or empty folder, or one the study created"):
        with runs.atomic_directory(mine) as tmp:
            (tmp / "metrics.json").write_text("{}")
    after = sorted((p.relative_to(mine).as_posix(), p.read_bytes() if p.is_file() else b"") for p in mine.rglob("*"))
    assert after == before and mine.stat().st_mode & 0o777 == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary sibling either
    with pytest.raises(StudyError, match="is not a folder"):
        runs.check_replaceable(mine / "notes.txt", "run directory")


def test_atomic_directory_marks_replaces_its_own_and_uses_the_usual_mode(tmp_path):
    final = tmp_path / "run"
    with runs.atomic_directory(final) as tmp:
        (tmp / "metrics.json").write_text("1")
    assert final.stat().st_mode & 0o777 == 0o777 & ~runs._UMASK  # not mkdtemp's 0700
    assert runs.is_owned(final) and runs.read_json(final / runs.OWNER_MARKER)["kind"] == "run"
    with runs.atomic_directory(final) as tmp:  # its own folder: replaced
        (tmp / "metrics.json").write_text("2")
    assert (final / "metrics.json").read_text() == "2"
    empty = tmp_path / "empty"
    empty.mkdir()
    with runs.atomic_directory(empty, kind="embedded-benchmark") as tmp:  # an empty folder: filled
        (tmp / "README.md").write_text("x")
    assert runs.read_json(empty / runs.OWNER_MARKER)["kind"] == "embedded-benchmark"


def test_lineage_dir_is_keyed_by_profile(tmp_path):
    smoke = runs.lineage_dir(None, "xnli", 1, tmp_path, profile="smoke")
    assert smoke == tmp_path / "smoke" / "direct___xnli" / "seed1"
    assert smoke != runs.lineage_dir(None, "xnli", 1, tmp_path, profile="embedded")


def test_upsert_rows_replaces_legacy_rows_on_the_legacy_key(tmp_path):
    table = tmp_path / "zero_shot.csv"
    runs.upsert_rows(table, [{"arm": "direct", "lang": "de", "value": 1.0}], key=("arm", "lang"))  # old table
    new = {"arm": "direct", "lang": "de", "limit": 16, "value": 2.0}
    runs.upsert_rows(table, [new], key=("arm", "lang", "limit"), columns=("arm", "lang", "limit", "value"),
                     legacy_key=("arm", "lang"))
    runs.upsert_rows(table, [dict(new, limit=64, value=3.0)], key=("arm", "lang", "limit"),
                     columns=("arm", "lang", "limit", "value"), legacy_key=("arm", "lang"))
    assert runs.read_table(table) == [{"arm": "direct", "lang": "de", "limit": "16", "value": "2.0"},
                                      {"arm": "direct", "lang": "de", "limit": "64", "value": "3.0"}]


def test_results_by_hand_go_to_a_seeded_private_copy(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("STUDY_RESULTS_DIR", raising=False)
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(runs, "_BY_HAND", [])
    monkeypatch.setattr(runs, "_ANNOUNCED", set())
    monkeypatch.setattr(runs, "_in_kernel", lambda: False)
    assert runs.results_root() == runs.project_path("results")  # the study's own commands
    runs.mark_by_hand("python -m helpers.training")
    private = tmp_path / "cache" / "by-hand" / "results"
    assert runs.results_root() == private and runs.results_root() == private
    out = capsys.readouterr().out.splitlines()
    assert out == [f"results tables: {private} (python -m helpers.training does not write the committed results/; "
                   f"set STUDY_RESULTS_DIR to choose the directory)"]  # said once
    committed = sorted(p.name for p in runs.project_path("results").glob("*.csv"))
    assert committed and sorted(p.name for p in private.glob("*.csv")) == committed
    monkeypatch.setenv("STUDY_RESULTS_DIR", str(tmp_path / "asked"))
    assert runs.results_root() == tmp_path / "asked"


def test_caches_written_before_the_marker_stay_replaceable(tmp_path):
    from helpers.errors import StudyError

    legacy = tmp_path / "e5-small"
    legacy.mkdir()
    (legacy / "conversion.json").write_text("{}")
    with runs.atomic_directory(legacy, kind="converted-encoder", owned_if=("conversion.json",)) as tmp:
        (tmp / "conversion.json").write_text('{"new": 1}')
    assert runs.is_owned(legacy)
    other = tmp_path / "other"
    other.mkdir()
    (other / "conversion.json").write_text("{}")
    with pytest.raises(StudyError, match="not created by the study"):
        runs.check_replaceable(other, "directory")  # without owned_if, only the study's marker counts


def test_code_digest_follows_the_imports_of_training(monkeypatch):
    """Editing a module training imports (transitively) changes the digest; an unrelated one does not."""
    modules = runs.code_modules()
    assert {"training", "recipes", "preprocess", "runs", "errors"} <= set(modules)
    assert "analysis" not in modules and "study" not in modules
    before = runs.code_digest()
    original = runs._read_source

    def edited(target):
        def read(path):
            data = original(path)
            return data + b"\n# edited\n" if path.name == target else data
        return read

    monkeypatch.setattr(runs, "_read_source", edited("analysis.py"))
    assert runs.code_digest() == before
    monkeypatch.setattr(runs, "_read_source", edited("recipes.py"))
    assert runs.code_digest() != before
    monkeypatch.setattr(runs, "_read_source", edited("training.py"))
    assert runs.code_digest() != before


def test_code_modules_walk_relative_and_absolute_imports(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "training.py").write_text("from . import a\nfrom .b import thing\n\ndef f():\n    import helpers.c\n")
    (pkg / "a.py").write_text("from .d import x\n")
    (pkg / "b.py").write_text("import os\n")
    (pkg / "c.py").write_text("")
    (pkg / "d.py").write_text("")
    (pkg / "unrelated.py").write_text("from . import a\n")
    assert runs.code_modules(package_dir=pkg) == ["a", "b", "c", "d", "training"]
    before = runs.code_digest(package_dir=pkg)
    (pkg / "unrelated.py").write_text("from . import b\n")
    assert runs.code_digest(package_dir=pkg) == before
    (pkg / "d.py").write_text("x = 1\n")
    assert runs.code_digest(package_dir=pkg) != before
