"""Run bookkeeping: atomic files, complete-or-absent run directories, locked
results tables and cache keys.

Every file the study writes goes through :func:`atomic_write_text` (or one of
its siblings): the content is written to a temporary name in the same
directory, flushed, fsynced and renamed, so a reader never sees half a file and
a killed process leaves at most a stray ``.tmp-*`` file, never a truncated
result. Results tables are tidy CSV files updated under an exclusive
``fcntl`` lock, so two sweeps writing at once never corrupt one.

Ownership (what a command may replace)
--------------------------------------
A command writes only where it owns the output. A directory the study writes
wholesale (a run directory, the generated benchmark) is built by
:func:`atomic_directory`, which puts the marker file :data:`OWNER_MARKER`
(``.study-owned.json``) in it. An existing directory is replaced only when it
carries that marker or is empty; any other folder -- a user's data, a folder
given to ``--run-dir`` or ``--data-dir`` by mistake -- is never replaced,
emptied or chmod-ed: :func:`check_replaceable` refuses with one
:class:`~helpers.errors.StudyError` line, before anything is written. New
directories get the usual mode (``0777 & ~umask``), never ``mkdtemp``'s 0700.

Where tables go (``results_root``)
----------------------------------
The committed tables in ``<project>/results`` are written only when asked:
``STUDY_RESULTS_DIR`` names the tables' directory, and the driver
(``helpers.study run``, so ``make book``), ``make smoke``, ``make test`` and
sweep jobs set it. A process that runs *by hand* -- a chapter executed with
papermill or Jupyter outside the driver, or ``python -m helpers.training`` --
without ``STUDY_RESULTS_DIR`` works on a private copy instead:
``cache_root()/by-hand/results``, seeded with the committed tables it does not
have yet (so the analysis chapters still read them), and prints one line
saying so. Run directories are keyed by profile
(``runs/<profile>/<lineage>/seed<k>``, :func:`lineage_dir`), so runs of
different profiles never replace each other.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from importlib import metadata
from typing import Iterable, Iterator, Mapping, Sequence

from .errors import StudyError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parents[1]


def project_path(*parts: str) -> Path:
    """A path inside the project checkout (``results/``, ``runs/``, ...)."""
    return PROJECT_ROOT.joinpath(*parts)


def runs_root() -> Path:
    """Where run directories live; ``STUDY_RUNS_DIR`` overrides ``<project>/runs``."""
    return Path(os.environ.get("STUDY_RUNS_DIR", project_path("runs")))


def cache_root() -> Path:
    """Derived, re-creatable files (converted encoder, generated data); never committed.

    ``STUDY_CACHE_DIR`` overrides ``<project>/.cache``.
    """
    return Path(os.environ.get("STUDY_CACHE_DIR", project_path(".cache")))


#: set by :func:`mark_by_hand` (an entry point run by hand, e.g. ``python -m helpers.training``)
_BY_HAND: list[str] = []
_ANNOUNCED: set[str] = set()


def mark_by_hand(what: str) -> None:
    """Declare this process a run by hand (``what`` names it): tables go to the private copy.

    Has no effect when ``STUDY_RESULTS_DIR`` is set (the caller asked for a directory).
    """
    if what not in _BY_HAND:
        _BY_HAND.append(what)


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (a chapter executed by papermill, nbval or Jupyter)."""
    return "ipykernel" in sys.modules


def by_hand_results_root() -> Path:
    """The private tables of runs by hand: ``cache_root()/by-hand/results``."""
    return cache_root() / "by-hand" / "results"


def results_root() -> Path:
    """Where results tables live (see the module docstring, "Where tables go").

    ``STUDY_RESULTS_DIR`` when set; otherwise ``<project>/results`` for the
    study's own commands, and :func:`by_hand_results_root` for a chapter
    executed outside the driver or an entry point marked by :func:`mark_by_hand`.
    """
    env = os.environ.get("STUDY_RESULTS_DIR")
    if env:
        return Path(env)
    if not (_BY_HAND or _in_kernel()):
        return project_path("results")
    private = by_hand_results_root()
    key = str(private)
    if key not in _ANNOUNCED:
        _ANNOUNCED.add(key)
        _seed_private_tables(private)
        what = _BY_HAND[0] if _BY_HAND else "a chapter executed outside the driver"
        print(f"results tables: {private} ({what} does not write the committed results/; "
              f"set STUDY_RESULTS_DIR to choose the directory)", flush=True)
    return private


def _seed_private_tables(private: Path) -> None:
    """Copy the committed tables that the private copy does not have yet (never overwrite one)."""
    committed = project_path("results")
    if not committed.is_dir():
        return
    for table in sorted(committed.glob("*.csv")):
        target = private / table.name
        if not target.exists():
            with contextlib.suppress(OSError):
                atomic_write_bytes(target, table.read_bytes())


# --------------------------------------------------------------------------- files
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: os.PathLike | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: os.PathLike | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: os.PathLike | str, obj: object) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: os.PathLike | str) -> object:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# --------------------------------------------------------------------------- ownership
#: The file that marks a directory as created by the study (see "Ownership" above).
OWNER_MARKER = ".study-owned.json"


def is_owned(path: os.PathLike | str) -> bool:
    """True when ``path`` is a directory the study created (it holds :data:`OWNER_MARKER`)."""
    return (Path(path) / OWNER_MARKER).is_file()


def mark_owned(directory: os.PathLike | str, kind: str) -> Path:
    """Write the ownership marker of ``kind`` (``run``, ``embedded-benchmark``, ...) into ``directory``."""
    return atomic_write_json(Path(directory) / OWNER_MARKER, {"created_by": "helpers (the study)", "kind": kind})


def check_replaceable(path: os.PathLike | str, what: str = "directory", owned_if: Sequence[str] = ()) -> Path:
    """Return ``path`` if the study may create or replace it, else raise one StudyError line.

    Allowed: a path that does not exist, an empty directory, or a directory
    holding :data:`OWNER_MARKER` (or one of the files ``owned_if`` names: the
    study's own markers of caches written before :data:`OWNER_MARKER`
    existed). Anything else is the user's and is refused before anything is
    written.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return path
    if not path.is_dir():
        raise StudyError(f"{what} {path} exists and is not a folder; expected a new or empty folder, "
                         f"or one the study created; nothing was written")
    if is_owned(path) or any((path / name).is_file() for name in owned_if) or not any(path.iterdir()):
        return path
    raise StudyError(f"{what} {path} exists and was not created by the study (no {OWNER_MARKER} in it); "
                     f"it is left as it is: expected a new or empty folder, or one the study created; "
                     f"nothing was written")


def _usual_dir_mode(path: Path) -> None:
    """``mkdtemp`` creates 0700; give a directory the mode ``mkdir`` would (``0777 & ~umask``)."""
    os.chmod(path, 0o777 & ~_UMASK)


@contextlib.contextmanager
def atomic_directory(final: os.PathLike | str, kind: str = "run", what: str = "directory",
                     owned_if: Sequence[str] = ()) -> Iterator[Path]:
    """Yield a temporary sibling directory that becomes ``final`` on success.

    On an exception (or a kill) ``final`` is untouched: a run directory is
    complete or absent. An existing ``final`` is replaced only after the new
    one is complete, and only when the study owns it (:func:`check_replaceable`,
    checked before anything is written); the new directory carries the
    ownership marker of ``kind`` and the usual directory mode.
    """
    final = Path(final)
    check_replaceable(final, what, owned_if)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}.", dir=final.parent))
    try:
        _usual_dir_mode(tmp)
        mark_owned(tmp, kind)
        yield tmp
        check_replaceable(final, what, owned_if)  # a folder that appeared meanwhile is not ours either
        if final.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".old-{final.name}.", dir=final.parent))
            os.replace(final, trash / final.name)
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- locks
@contextlib.contextmanager
def file_lock(path: os.PathLike | str) -> Iterator[None]:
    """An exclusive advisory lock on ``<path>.lock`` (blocks until free)."""
    lock_path = Path(str(path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------- tables
def read_table(path: os.PathLike | str) -> list[dict[str, str]]:
    """Rows of a CSV results table as dicts of strings ([] if absent)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def upsert_rows(
    path: os.PathLike | str,
    rows: Iterable[Mapping[str, object]],
    key: Sequence[str],
    columns: Sequence[str] | None = None,
    legacy_key: Sequence[str] | None = None,
) -> Path:
    """Insert or replace ``rows`` in the CSV table at ``path``, atomically.

    Rows whose ``key`` columns equal a new row's are replaced, so rerunning a
    measurement never duplicates it. The table is rewritten under a lock and
    renamed into place; rows are kept sorted by ``key`` for stable diffs.
    ``legacy_key``: the key of an earlier version of the table; an existing
    row written before a key column existed (it lacks one) is replaced when
    its ``legacy_key`` columns equal a new row's.
    """
    path = Path(path)
    rows = [{k: _cell(v) for k, v in row.items()} for row in rows]
    with file_lock(path):
        existing = read_table(path)
        cols = list(columns) if columns else _merge_columns(existing, rows)
        for row in rows:
            missing = [k for k in key if k not in row]
            if missing:
                raise ValueError(f"row lacks key columns {missing}: {row}")
        new_keys = {tuple(row[k] for k in key) for row in rows}
        old_keys = {tuple(row.get(k, "") for k in legacy_key) for row in rows} if legacy_key else set()

        def replaced(r: dict) -> bool:
            if tuple(r.get(k, "") for k in key) in new_keys:
                return True
            legacy = any(k not in r for k in key)
            return legacy and bool(legacy_key) and tuple(r.get(k, "") for k in legacy_key) in old_keys

        kept = [r for r in existing if not replaced(r)]
        merged = sorted(kept + rows, key=lambda r: tuple(str(r.get(k, "")) for k in key))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in merged:
            writer.writerow({c: row.get(c, "") for c in cols})
        atomic_write_text(path, buf.getvalue())
    return path


def _merge_columns(existing: list[dict], rows: list[dict]) -> list[str]:
    cols: list[str] = []
    for row in existing[:1] + rows:
        for c in row:
            if c not in cols:
                cols.append(c)
    return cols


def _cell(value: object) -> str:
    if isinstance(value, float):
        return repr(round(value, 10))
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- cache keys
def helper_code_digest(package_dir: os.PathLike | str = PACKAGE_DIR) -> str:
    """sha256 over every ``.py`` file of the helpers package (name + content)."""
    digest = hashlib.sha256()
    for file in sorted(Path(package_dir).rglob("*.py")):
        digest.update(file.relative_to(package_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


#: The module whose imports, followed transitively, make up the code that trains a run.
TRAINING_ENTRY = "training"


def _read_source(path: Path) -> bytes:
    """The bytes of one module's source (a seam for tests)."""
    return path.read_bytes()


def _module_file(name: str, package_dir: Path) -> Path | None:
    """The source file of helpers module ``name`` (dotted below the package), or None."""
    base = package_dir.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _helper_imports(name: str, source: bytes, package_dir: Path) -> set[str]:
    """The helpers modules that module ``name`` imports anywhere in its source (a static AST walk).

    Relative imports (``from . import x``, ``from .x import y``, ``from .. import z``) and
    absolute ones of the package (``import helpers.x``, ``from helpers.x import y``) count,
    also inside functions (the lazy imports of heavy collaborators).
    """
    package = PACKAGE_DIR.name
    is_package = _module_file(name, package_dir) == package_dir.joinpath(*name.split(".")) / "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        bases: list[list[str]] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parent = here[: len(here) - (node.level - 1)] if node.level > 1 else list(here)
                base = parent + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == package:
                base = node.module.split(".")[1:]
            else:
                continue
            bases = [base + [alias.name] for alias in node.names] + [base]
        elif isinstance(node, ast.Import):
            bases = [a.name.split(".")[1:] for a in node.names if a.name.split(".")[0] == package]
        for parts in bases:
            if parts and _module_file(".".join(parts), package_dir) is not None:
                found.add(".".join(parts))
    return found


def code_modules(entry: str = TRAINING_ENTRY, package_dir: os.PathLike | str = PACKAGE_DIR) -> list[str]:
    """``entry`` and every helpers module it imports, transitively, sorted by name."""
    package_dir = Path(package_dir)
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_helper_imports(name, _read_source(_module_file(name, package_dir)), package_dir) - seen)
    return sorted(seen)


def code_digest(entry: str = TRAINING_ENTRY, package_dir: os.PathLike | str = PACKAGE_DIR) -> str:
    """sha256 over the relative names and sources of the code that trains a run.

    The modules are ``entry`` (``helpers.training``) and the helpers modules it
    imports, transitively (:func:`code_modules`). The digest is part of every
    run's parameters, so a change to that code gives the run a new key: a run
    trained by other code is trained again, never reused. A module outside
    that import graph (``analysis``, the chapters' tables) does not change it.
    """
    package_dir = Path(package_dir)
    digest = hashlib.sha256()
    for name in code_modules(entry, package_dir):
        path = _module_file(name, package_dir)
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(_read_source(path))
        digest.update(b"\0")
    return digest.hexdigest()


def cache_key(params: Mapping[str, object], *extra: bytes | str) -> str:
    """A stable key of parameters, helper code and any extra inputs."""
    digest = hashlib.sha256()
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    digest.update(helper_code_digest().encode())
    for item in extra:
        digest.update(item if isinstance(item, bytes) else item.encode())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- provenance
def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the results."""
    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "tokenizers", "datasets", "accelerate", "safetensors"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def device_name() -> str:
    """A human-readable name of the device that computes (GPU model or CPU)."""
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:
        pass
    try:
        import cpuinfo  # py-cpuinfo, optional

        brand = cpuinfo.get_cpu_info().get("brand_raw")
        if brand:
            return f"{brand} ({os.cpu_count()} cores)"
    except Exception:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def lineage_dir(intermediate: str | None, target: str | None, seed: int, root: Path | None = None,
                profile: str | None = None) -> Path:
    """The run directory of a lineage: ``[<profile>/]<intermediate>___<target>/seed<k>``.

    ``direct`` stands for no intermediate task; an intermediate-only run has
    no ``___<target>`` part. Example: ``mnli___xnli/seed1``, ``direct___xnli/seed1``.
    The study keys its runs by ``profile`` (``smoke/direct___xnli/seed1``), so
    that a smoke run never replaces the embedded run of the same lineage.
    """
    root = root or runs_root()
    name = intermediate or "direct"
    if target:
        name = f"{name}___{target}"
    return (root / profile if profile else root) / name / f"seed{seed}"
