"""Run bookkeeping: atomic files, complete-or-absent run directories, locked
results tables and cache keys.

Every file the study writes goes through :func:`atomic_write_text` (or one of
its siblings): the content is written to a temporary name in the same
directory, flushed, fsynced and renamed, so a reader never sees half a file and
a killed process leaves at most a stray ``.tmp-*`` file, never a truncated
result. Results tables are tidy CSV files updated under an exclusive
``fcntl`` lock, so two sweeps writing at once never corrupt one.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

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


def results_root() -> Path:
    """Where results tables live; ``STUDY_RESULTS_DIR`` overrides ``<project>/results``."""
    return Path(os.environ.get("STUDY_RESULTS_DIR", project_path("results")))


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


@contextlib.contextmanager
def atomic_directory(final: os.PathLike | str) -> Iterator[Path]:
    """Yield a temporary sibling directory that becomes ``final`` on success.

    On an exception (or a kill) ``final`` is untouched: a run directory is
    complete or absent. An existing ``final`` is replaced only after the new
    one is complete.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}.", dir=final.parent))
    try:
        yield tmp
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
) -> Path:
    """Insert or replace ``rows`` in the CSV table at ``path``, atomically.

    Rows whose ``key`` columns equal a new row's are replaced, so rerunning a
    measurement never duplicates it. The table is rewritten under a lock and
    renamed into place; rows are kept sorted by ``key`` for stable diffs.
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
        kept = [r for r in existing if tuple(r.get(k, "") for k in key) not in new_keys]
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
    from importlib import metadata

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


def lineage_dir(intermediate: str | None, target: str | None, seed: int, root: Path | None = None) -> Path:
    """The run directory of a lineage: ``<intermediate>___<target>/seed<k>``.

    ``direct`` stands for no intermediate task; an intermediate-only run has
    no ``___<target>`` part. Example: ``mnli___xnli/seed1``, ``direct___xnli/seed1``.
    """
    root = root or runs_root()
    name = intermediate or "direct"
    if target:
        name = f"{name}___{target}"
    return root / name / f"seed{seed}"
