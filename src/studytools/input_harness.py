"""The bad-input suite's harness: cases, how one is run in fresh directories, and how its answer is judged.

A case (registered with :func:`case`) feeds one bad input to a real entry point;
:func:`run_case` runs it with the four study directories pointing at fresh empty
folders and judges the answer (see :mod:`studytools.verify_inputs`). The cases
themselves live in :mod:`studytools.input_cases_entry` and :mod:`studytools.input_cases_outputs`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import nbformat
import papermill as pm

from helpers import runs
from helpers.errors import StudyError

ENV_DIRS = {
    "STUDY_RESULTS_DIR": "results",
    "STUDY_RUNS_DIR": "runs",
    "STUDY_CACHE_DIR": "cache",
    "STUDY_BOOK_DIR": "book",
}
VALID_WORDS = re.compile(r"\bvalid\b|\bexpected\b|\bmust\b|\bone of\b|\bneeds\b|\bgive\b", re.IGNORECASE)
SRC_DIR = Path(__file__).resolve().parents[1]


class NotClear(Exception):
    """A case's entry point answered, but not with a clear one-line error."""


@dataclass(frozen=True)
class Case:
    name: str
    func: Callable[[Path], None]
    expect: tuple[str, ...] = ()  # fragments the message must contain (the bad value, the choices)
    allow_model: bool = False  # loading a checkpoint may build the model before reading weights
    description: str = ""
    prepare: Callable[[], None] | None = None  # warms a re-creatable cache before the snapshot
    behaviour: bool = False  # the right answer is correct behaviour, not an error (see ``case``)
    allow_writes: bool = False  # a behaviour case may write into the study directories it owns


@dataclass
class Outcome:
    name: str
    clear: bool
    message: str
    reason: str = ""
    seconds: float = 0.0


CASES: list[Case] = []


def case(name: str, *expect: str, allow_model: bool = False, prepare: Callable[[], None] | None = None,
         behaviour: bool = False, allow_writes: bool = False):
    """Register a case: a function of a scratch directory that triggers one bad input.

    Most cases must end in a clear :class:`StudyError`. A ``behaviour`` case is
    an input whose right answer is not an error (a user's folder left intact, a
    result stored under its own key): its function checks the behaviour itself,
    raises :class:`NotClear` when it is wrong, and returns one line saying what
    it observed. ``allow_writes`` lets it write into the study directories.
    """

    def register(func: Callable[[Path], None]) -> Callable[[Path], None]:
        if any(c.name == name for c in CASES):
            raise RuntimeError(f"duplicate case {name}")
        doc = (func.__doc__ or "").strip().splitlines()
        CASES.append(Case(name, func, tuple(expect), allow_model, doc[0] if doc else "", prepare,
                          behaviour, allow_writes))
        return func

    return register


# --------------------------------------------------------------------------- checks
def problems_with_message(message: str, expect: tuple[str, ...] = ()) -> list[str]:
    """Why ``message`` is not a clear error line ([] when it is)."""
    out = []
    if not message.strip():
        out.append("empty message")
    if "\n" in message:
        out.append("more than one line")
    if "Traceback" in message:
        out.append("contains a traceback")
    if len(message) > 600:
        out.append(f"{len(message)} characters long")
    missing = [e for e in expect if e not in message]
    if missing:
        out.append(f"does not mention {missing}")
    if not VALID_WORDS.search(message) and not expect:
        out.append("does not name what is valid")
    return out


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())


@contextlib.contextmanager
def study_dirs(base: Path) -> Iterator[dict[str, Path]]:
    """Point the four study directories at fresh empty ones under ``base``."""
    old = {k: os.environ.get(k) for k in ENV_DIRS}
    dirs = {}
    for var, sub in ENV_DIRS.items():
        d = base / sub
        d.mkdir(parents=True, exist_ok=True)
        dirs[var] = d
        os.environ[var] = str(d)
    try:
        yield dirs
    finally:
        for var, value in old.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


@contextlib.contextmanager
def count_modules() -> Iterator[list[int]]:
    """Count ``torch.nn.Module`` constructions inside the block."""
    import torch

    counter = [0]
    original = torch.nn.Module.__init__

    def counting(self, *args, **kwargs):
        counter[0] += 1
        return original(self, *args, **kwargs)

    torch.nn.Module.__init__ = counting
    try:
        yield counter
    finally:
        torch.nn.Module.__init__ = original


def run_case(c: Case) -> Outcome:
    """Run one case in fresh directories and judge its answer."""
    base = Path(tempfile.mkdtemp(prefix=f"verify-{c.name}-"))
    scratch = base / "scratch"
    scratch.mkdir()
    start = time.perf_counter()
    message, reasons = "", []
    try:
        with study_dirs(base / "study") as dirs:
            if c.prepare is not None:  # caches that exist before the bad input are allowed
                c.prepare()
            before = {var: _files_under(d) for var, d in dirs.items()}
            with count_modules() as built:
                try:
                    observed = c.func(scratch)
                    if c.behaviour:
                        message = str(observed or "").split("\n")[0]
                        if not message:
                            reasons.append("behaviour case returned no observation")
                    else:
                        reasons.append("no error raised")
                except StudyError as exc:
                    message = str(exc)
                    if c.behaviour:
                        reasons.append("raised StudyError where correct behaviour was expected")
                    else:
                        reasons += problems_with_message(message, c.expect)
                except NotClear as exc:
                    message = str(exc)
                    reasons.append("wrong behaviour" if c.behaviour else "not a clear error")
                except Exception as exc:  # the wrong kind of error is a finding, not a crash
                    message = f"{type(exc).__name__}: {exc}".split("\n")[0]
                    reasons.append(f"raised {type(exc).__name__}, not StudyError")
            if built[0] and not c.allow_model:
                reasons.append(f"built {built[0]} torch modules before failing")
            for var, d in dirs.items():
                if c.allow_writes:
                    break
                new = sorted(set(_files_under(d)) - set(before[var]))
                if new:
                    reasons.append(f"wrote {len(new)} files under {var} ({', '.join(new[:3])})")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return Outcome(c.name, not reasons, message, "; ".join(reasons), time.perf_counter() - start)


# --------------------------------------------------------------------------- drivers used by the cases
def cli(*args: str, timeout: float = 300) -> None:
    """Run ``python -m <args>``; a clear error (exit 2, one ``error:`` line) is re-raised as StudyError."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC_DIR), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(runs.PROJECT_ROOT),
        timeout=timeout,
    )
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    if proc.returncode != 2:
        raise NotClear(f"exit status {proc.returncode}, expected 2; stderr: {' | '.join(err[-3:])}")
    if "Traceback" in proc.stderr or len(err) != 1 or not err[0].startswith("error: "):
        raise NotClear(f"stderr is not one 'error: ...' line: {' | '.join(err[-3:])}")
    raise StudyError(err[0][len("error: "):])


def notebook(name: str, scratch: Path, **parameters: object) -> None:
    """Execute ``notebooks/<name>.ipynb`` with ``parameters`` through papermill.

    A clear error is a ``StudyError`` raised in the validation cell (the one
    after the injected parameters), shown as the single line
    ``StudyError: ...``, with no later cell executed; it is re-raised here.
    """
    source = runs.project_path("notebooks", f"{name}.ipynb")
    out = scratch / f"{name}.ipynb"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        pm.execute_notebook(
            str(source), str(out), parameters=parameters, kernel_name="python3",
            progress_bar=False, cwd=str(scratch),
        )
    except pm.PapermillExecutionError as exc:
        nb = nbformat.read(str(out), as_version=4)
        cells = nb.cells
        injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.metadata.get("tags", [])]
        failed = [i for i, c in enumerate(cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        if exc.ename != "StudyError":
            raise NotClear(f"{name} failed with {exc.ename}: {exc.evalue}".split("\n")[0]) from None
        after = [i for i, c in enumerate(cells) if injected and i > injected[0] and c.cell_type == "code"]
        if not injected or not after or failed != after[:1]:
            raise NotClear(f"{name} failed in cell {failed}, not in the validation cell after the parameters")
        if "configure(" not in cells[failed[0]].source:
            raise NotClear(f"{name}: the failing cell does not call configure(...)")
        error = [o for o in cells[failed[0]].outputs if o.get("output_type") == "error"][0]
        if list(error.get("traceback", [])) != [f"StudyError: {exc.evalue}"]:
            raise NotClear(f"{name}: the error is not rendered as one 'StudyError: ...' line")
        later = [i for i, c in enumerate(cells) if i > failed[0] and c.cell_type == "code" and c.get("execution_count")]
        if later:
            raise NotClear(f"{name}: cells {later} ran after the validation cell failed")
        raise StudyError(exc.evalue) from None
    raise NotClear(f"{name} ran to the end with parameters {parameters}")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def small_plan(scratch: Path) -> str:
    """A valid smoke plan of the setup chapter only (independent of the other notebooks)."""
    return str(write(scratch / "small.yaml", "name: small\nprofile: smoke\nseed: 1\nnotebooks: [01_setup]\n"))
