"""Where the real XTREME-R files of the ``realdata`` profile come from.

The files are data, not code, and never part of the project. They are looked
for, in this order (:func:`resolve_root`):

1. ``$STUDY_REALDATA``: a copy of them anywhere (it must be a directory);
2. ``<project>/../shared/realdata``: the copy beside the checkout;
3. ``<cache_root()>/realdata`` (``.cache/realdata``) when every file of the
   manifest is there with its size (as :func:`fetch_missing` leaves it);
4. with ``download=True`` only (``make realdata``): the manifest's files are
   downloaded into ``.cache/realdata``.

Otherwise one :class:`~helpers.errors.StudyError` line names the ways to provide
them and the offline stand-in (the ``embedded`` plan).

The manifest ``realdata_files.json`` (beside this module, committed) lists one
entry per file: ``path`` (relative, the layout of ``../shared/realdata``),
``url`` (a raw GitHub URL pinned to the commit ``SOURCES.md`` names), ``sha256``
and ``bytes``. It is written by ``python -m studytools.realdata_manifest`` from a
local copy. A download streams each file into a temporary file in the target
folder, checks its size and sha256 and only then renames it into place: an
interrupted or mismatched download leaves nothing half-written (:func:`fetch_missing`,
:func:`download_file`). :func:`verify`
checks the sha256 of every file of a folder (``make realdata`` runs it).

``python -m helpers.realdata [--download] [--no-verify]``: resolve (and with
``--download`` fetch) the files, then verify them; prints where they are.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Sequence

from .errors import StudyError, run_cli
from .runs import PROJECT_ROOT, cache_root

#: The committed manifest of the real files (``python -m studytools.realdata_manifest`` writes it).
MANIFEST_PATH = Path(__file__).with_name("realdata_files.json")
#: The copy beside the checkout (CI lays the shared folder out there).
SHARED_ROOT = PROJECT_ROOT.parent / "shared" / "realdata"
#: The environment variable naming a copy of the files anywhere.
ENV_VAR = "STUDY_REALDATA"
#: Seconds a download may wait on the server (connect or read) before it fails.
DEFAULT_TIMEOUT = 60.0
_CHUNK = 1 << 16
_USER_AGENT = "xstilts-efficiency-realdata/1"


@dataclass(frozen=True)
class ManifestEntry:
    """One real file: where it lies under the root, where it comes from, what it must be."""

    path: str
    url: str
    sha256: str
    bytes: int

    def as_dict(self) -> dict:
        return {"path": self.path, "url": self.url, "sha256": self.sha256, "bytes": self.bytes}


def cache_dir() -> Path:
    """Where :func:`fetch_missing` puts the files: ``<cache_root()>/realdata``."""
    return cache_root() / "realdata"


def check_relative(path: str, where: str) -> str:
    """``path`` if it is a plain relative POSIX path inside the root (no ``..``, not absolute)."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or "\\" in path or any(p in ("", ".", "..") for p in path.split("/")):
        raise StudyError(f"{where}: path {path!r} must be relative inside the data folder "
                         f"(no leading '/', no '..', '/' as separator)")
    return path


def parse_manifest(data: object, where: str) -> tuple[ManifestEntry, ...]:
    """The entries of a manifest object ``{"files": [{path, url, sha256, bytes}, ...]}``."""
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not files:
        raise StudyError(f"{where} must be a JSON object whose 'files' is a non-empty list of "
                         f"{{path, url, sha256, bytes}}")
    entries, seen = [], set()
    for number, item in enumerate(files, 1):
        if not isinstance(item, dict) or set(item) != {"path", "url", "sha256", "bytes"}:
            raise StudyError(f"{where}: entry {number} must have exactly the keys bytes, path, sha256, url")
        path, url, digest, size = item["path"], item["url"], item["sha256"], item["bytes"]
        if not isinstance(path, str) or not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise StudyError(f"{where}: entry {number} needs a string path and an http(s) url")
        check_relative(path, f"{where}, entry {number}")
        if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise StudyError(f"{where}: entry {number} ({path}) sha256 must be 64 lowercase hex digits")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise StudyError(f"{where}: entry {number} ({path}) bytes must be a non-negative integer")
        if path in seen:
            raise StudyError(f"{where}: {path} is listed twice; list each file once")
        seen.add(path)
        entries.append(ManifestEntry(path, url, digest, size))
    return tuple(entries)


@lru_cache(maxsize=4)
def _load_manifest(path: str, mtime_ns: int) -> tuple[ManifestEntry, ...]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StudyError(f"realdata manifest {path} cannot be read ({exc}); regenerate it with "
                         f"python -m studytools.realdata_manifest") from None
    return parse_manifest(data, f"realdata manifest {path}")


def load_manifest(path: str | os.PathLike = MANIFEST_PATH) -> tuple[ManifestEntry, ...]:
    """The entries of the committed manifest (or of the manifest at ``path``)."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise StudyError(f"realdata manifest {path} is missing; regenerate it with "
                         f"python -m studytools.realdata_manifest") from None
    return _load_manifest(str(path), mtime)


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_files(root: str | os.PathLike, entries: Sequence[ManifestEntry] | None = None) -> list[ManifestEntry]:
    """The entries that are not under ``root`` with their size (a cheap check: no checksum)."""
    root = Path(root)
    out = []
    for entry in load_manifest() if entries is None else entries:
        target = root / entry.path
        try:
            ok = target.is_file() and target.stat().st_size == entry.bytes
        except OSError:
            ok = False
        if not ok:
            out.append(entry)
    return out


def verify(root: str | os.PathLike, entries: Sequence[ManifestEntry] | None = None) -> list[str]:
    """One line per manifest file under ``root`` that is missing or has another size or sha256.

    An empty list means every file is there, byte for byte as the manifest pins it.
    Files under ``root`` that the manifest does not list are not looked at.
    """
    root = Path(root)
    problems = []
    for entry in load_manifest() if entries is None else entries:
        target = root / entry.path
        if not target.is_file():
            problems.append(f"{entry.path}: missing")
            continue
        size = target.stat().st_size
        if size != entry.bytes:
            problems.append(f"{entry.path}: {size} bytes, expected {entry.bytes}")
            continue
        digest = file_sha256(target)
        if digest != entry.sha256:
            problems.append(f"{entry.path}: sha256 {digest}, expected {entry.sha256}")
    return problems


# --------------------------------------------------------------------------- download
def _fetch_into(entry: ManifestEntry, url: str, handle, timeout: float) -> str:
    """Stream ``url`` into the open binary ``handle``; returns the sha256; raises on any shortfall."""
    digest = hashlib.sha256()
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        announced = response.length  # Content-Length (None when the server gives none)

        def interrupted() -> ValueError:
            return ValueError(f"the connection closed after {received} of the {announced} bytes "
                              f"the server announced (interrupted)")

        while True:
            try:
                chunk = response.read(_CHUNK)
            except http.client.IncompleteRead as exc:
                received += len(exc.partial)
                raise interrupted() from None
            if not chunk:
                break
            received += len(chunk)
            if received > entry.bytes:
                raise ValueError(f"the server sent more than the expected {entry.bytes} bytes")
            digest.update(chunk)
            handle.write(chunk)
        if announced is not None and received < announced:
            raise interrupted()
    if received != entry.bytes:
        raise ValueError(f"got {received} bytes, expected {entry.bytes} (truncated)")
    return digest.hexdigest()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the server ({exc.reason})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return " ".join(str(exc).split()) or type(exc).__name__


def download_file(entry: ManifestEntry, dest: str | os.PathLike, *, url: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Download one file to ``dest/entry.path``: a temp file beside it, size and sha256 checked, renamed.

    Any failure (HTTP error, timeout, a connection closed mid-body, a short or
    long body, another checksum) removes the temp file and raises one
    StudyError line naming the file, the URL and what went wrong.
    """
    url = url or entry.url
    target = Path(dest) / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            digest = _fetch_into(entry, url, handle, timeout)
            handle.flush()
            os.fsync(handle.fileno())
        if digest != entry.sha256:
            raise ValueError(f"sha256 {digest}, expected {entry.sha256} (the file at the source changed)")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise StudyError(f"download of realdata file {entry.path} from {url} failed: {_reason(exc)}; "
                         f"nothing was kept, run make realdata again") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def fetch_missing(dest: str | os.PathLike | None = None, entries: Sequence[ManifestEntry] | None = None, *,
             base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT, quiet: bool = False) -> list[str]:
    """Download the manifest's files that ``dest`` lacks (or has with another size); returns their paths.

    ``dest`` defaults to :func:`cache_dir`. ``base_url`` (tests) replaces each
    entry's URL by ``<base_url>/<path>``. The first failure stops the download
    with one StudyError line; files already completed stay (each is whole and checked).
    """
    dest = Path(dest) if dest is not None else cache_dir()
    todo = missing_files(dest, entries)
    total = sum(e.bytes for e in todo)
    if todo and not quiet:
        print(f"realdata: downloading {len(todo)} files ({total / 1e6:.1f} MB) into {dest}", flush=True)
    for entry in todo:
        url = f"{base_url.rstrip('/')}/{entry.path}" if base_url else None
        download_file(entry, dest, url=url, timeout=timeout)
    return [e.path for e in todo]


# --------------------------------------------------------------------------- resolution
def offline_message(cache: Path, present: int, total: int) -> str:
    """The one line for a machine without the files (and without ``download``)."""
    partial = f", which holds {present} of the {total} files" if present else ""
    return (f"the real XTREME-R files are not here (not in ${ENV_VAR}, {SHARED_ROOT} or {cache}{partial}): "
            f"set {ENV_VAR} to a copy of them, or run make realdata on a machine with internet to download "
            f"them from the pinned sources of SOURCES.md (src/helpers/realdata_files.json, sha256-checked) "
            f"into .cache/realdata; offline, the stand-in is make book PLAN=plans/embedded.yaml")


def resolve_root(download: bool = False, *, entries: Sequence[ManifestEntry] | None = None,
                 base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """The folder holding the real files: ``$STUDY_REALDATA``, ``../shared/realdata``, a complete
    ``.cache/realdata``, else (``download=True``) the files downloaded there; else one StudyError line.

    ``entries`` (default: the committed manifest) and ``base_url`` are for tests.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise StudyError(f"{ENV_VAR}={env} is not a directory; set it to a copy of the real XTREME-R files "
                             f"(the layout of src/helpers/realdata_files.json) or unset it to use "
                             f"{SHARED_ROOT} or .cache/realdata")
        return path
    if SHARED_ROOT.is_dir():
        return SHARED_ROOT
    entries = load_manifest() if entries is None else tuple(entries)
    cache = cache_dir()
    missing = missing_files(cache, entries)
    if not missing:
        return cache
    if download:
        fetch_missing(cache, entries, base_url=base_url, timeout=timeout)
        return cache
    raise StudyError(offline_message(cache, len(entries) - len(missing), len(entries)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.realdata", description=__doc__.splitlines()[0])
    parser.add_argument("--download", action="store_true",
                        help="download the files into .cache/realdata when no copy is found")
    parser.add_argument("--no-verify", action="store_true", help="skip the sha256 check of every file")
    args = parser.parse_args(argv)
    root = resolve_root(download=args.download)
    entries = load_manifest()
    if args.no_verify:
        print(f"realdata: {root}")
        return 0
    problems = verify(root, entries)
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    if problems:
        raise StudyError(f"{len(problems)} of the {len(entries)} realdata files in {root} are missing or differ "
                         f"from the manifest (listed above); replace that copy, or unset {ENV_VAR} and run "
                         f"make realdata to download them")
    print(f"realdata: {len(entries)} files verified (size and sha256) in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
