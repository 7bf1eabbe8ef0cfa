"""Kill and resume: the smoke pipeline killed with SIGKILL mid-phase finishes identically.

The pipeline is ``python -m helpers.study run`` on the smoke plan's chapters
that train and evaluate (``04_intermediate``, ``05_target``, ``06_zero_shot``:
the chapters the kill points fall in and the ones that write ``zero_shot.csv``
and ``training_cost.csv``), with the smoke plan's profile, seed and
parameters; the other chapters only add kernel start-ups to a test that must
stay within minutes on two cores. One uninterrupted run is the baseline. A second run, in its own directories, is killed (SIGKILL to its
whole process group: the driver and the notebook's kernel) three times --
inside the intermediate-training chapter, inside target training once a first
target model is published, and inside evaluation once the first zero-shot rows
are written -- and rerun each time; the last rerun goes to the end. Then:

- after every kill: every run directory is complete or absent, and every
  results table parses with its header;
- the results tables equal the baseline's: ``zero_shot.csv`` in full (run
  directories compared relative to the runs root) and the deterministic
  columns of ``training_cost.csv`` (not wall time, memory or device);
- the reruns resumed rather than restarted (chapters finished before a kill
  were skipped), and nothing half-written is left: no ``.tmp-*`` in
  ``results/`` or ``book/``, no unfinished ``.work`` training directory.

``helpers.runs.upsert_rows`` has its own unit-level kill test in test_runs.py.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "plans" / "smoke.yaml"
DIRS = {"STUDY_RESULTS_DIR": "results", "STUDY_RUNS_DIR": "runs", "STUDY_CACHE_DIR": "cache", "STUDY_BOOK_DIR": "book"}
RUN_FILES = ("config.json", "model.safetensors", "params.json", "metrics.json", "cost.json")
COST_COLUMNS = ("profile", "arm", "phase", "task", "seed", "examples", "tokens", "steps", "flops")
TIMEOUT = 420  # seconds for one pipeline run on a loaded 2-core machine
CHAPTERS = ("04_intermediate", "05_target", "06_zero_shot")

pytestmark = pytest.mark.slow


def _missing() -> list[str]:
    missing = [f"notebooks/{n}.ipynb" for n in CHAPTERS if not (REPO / "notebooks" / f"{n}.ipynb").exists()]
    for module in ("models", "pipeline", "training", "evaluation"):
        if not (REPO / "src" / "helpers" / f"{module}.py").exists():
            missing.append(f"helpers.{module}")
    return missing


def kill_plan(root: Path) -> Path:
    """The smoke plan restricted to :data:`CHAPTERS` (same profile, seed and parameters)."""
    import yaml

    plan = yaml.safe_load(PLAN.read_text())
    names = [n if isinstance(n, str) else n["notebook"] for n in plan["notebooks"]]
    assert all(c in names for c in CHAPTERS), f"the smoke plan lacks one of {CHAPTERS}: {names}"
    plan["notebooks"] = [n for n in plan["notebooks"] if (n if isinstance(n, str) else n["notebook"]) in CHAPTERS]
    plan["name"] = "smoke-kill"
    path = root / "smoke-kill.yaml"
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def env_for(root: Path) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
    for var, sub in DIRS.items():
        env[var] = str(root / sub)
    # the derived cache (tiny encoder, generated benchmark) is shared by the baseline and the killed run
    env["STUDY_CACHE_DIR"] = str(root.parent / "shared-cache")
    return env


class Pipeline:
    """One ``helpers.study run`` in its own process group, its printed lines collected as they come."""

    def __init__(self, root: Path):
        self.root = root
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "helpers.study", "run", str(kill_plan(root))],
            cwd=REPO, env=env_for(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def poll_lines(self) -> None:
        with_none = False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                with_none = True
            else:
                self.lines.append(item)
        return with_none

    def kill(self) -> None:
        """SIGKILL the driver and everything it started (the papermill kernel)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def finish(self, timeout: float = TIMEOUT) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        time.sleep(0.2)
        self.poll_lines()
        return rc


def run_until(root: Path, point: str, condition: Callable[[Path], bool], fallback_s: float) -> tuple[Pipeline, str]:
    """Start the pipeline; once it prints ``<point>: running``, kill it when ``condition(root)`` holds
    (or ``fallback_s`` seconds later). Returns the pipeline and what triggered the kill."""
    p = Pipeline(root)
    seen_at = None
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        p.poll_lines()
        if seen_at is None and any(f"{point}: running" in line for line in p.lines):
            seen_at = time.monotonic()
        if seen_at is not None:
            if condition(root):
                p.kill()
                return p, "condition"
            if time.monotonic() - seen_at > fallback_s:
                p.kill()
                return p, "delay"
        if p.proc.poll() is not None:
            p.poll_lines()
            raise AssertionError(f"pipeline ended (rc {p.proc.returncode}) before the kill point {point}:\n"
                                 + "\n".join(p.lines[-30:]))
        time.sleep(0.02)
    p.kill()
    raise AssertionError(f"kill point {point} not reached in {TIMEOUT} s:\n" + "\n".join(p.lines[-30:]))


# ----------------------------------------------------------------------------- invariants
def run_dirs(root: Path) -> list[Path]:
    """Every published run directory (``<profile>/<lineage>/seed<k>``), hidden and work dirs excluded."""
    runs_root = root / "runs"
    if not runs_root.exists():
        return []
    return sorted(p for p in runs_root.glob("*/*/seed*") if p.is_dir() and not p.name.startswith(".")
                  and not p.name.endswith(".work") and not p.parent.parent.name.startswith((".", "sweeps")))


def incomplete_run_dirs(root: Path) -> list[str]:
    bad = []
    for d in run_dirs(root):
        missing = [f for f in RUN_FILES if not (d / f).is_file()]
        if missing:
            bad.append(f"{d.relative_to(root)} lacks {missing}")
    return bad


def unreadable_tables(root: Path) -> list[str]:
    import csv

    bad = []
    for table in sorted((root / "results").glob("*.csv")):
        with open(table, newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            bad.append(table.name)
    return bad


def zero_shot(root: Path) -> list[tuple]:
    from helpers.runs import read_table

    rows = read_table(root / "results" / "zero_shot.csv")
    out = []
    for r in rows:
        r = dict(r)
        if r.get("run_dir"):
            r["run_dir"] = os.path.relpath(r["run_dir"], root / "runs") if os.path.isabs(r["run_dir"]) else r["run_dir"]
        out.append(tuple(sorted(r.items())))
    return sorted(out)


def training_cost(root: Path) -> list[tuple]:
    from helpers.runs import read_table

    return sorted(tuple(r.get(c, "") for c in COST_COLUMNS) for r in read_table(root / "results" / "training_cost.csv"))


def leftovers(root: Path) -> list[str]:
    found = [p for sub in ("results", "book") for p in (root / sub).rglob(".tmp-*")]
    found += [p for p in (root / "runs").rglob("*.work")]
    return sorted(str(p.relative_to(root)) for p in found)


# ----------------------------------------------------------------------------- the test
@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    missing = _missing()
    if missing:
        pytest.skip(f"the smoke pipeline is not complete yet: {', '.join(missing)}")
    root = tmp_path_factory.mktemp("kill") / "baseline"
    p = Pipeline(root)
    rc = p.finish()
    assert rc == 0, "\n".join(p.lines[-40:])
    assert (root / "results" / "zero_shot.csv").is_file()
    return root


def test_killed_pipeline_resumes_to_identical_results(baseline):
    root = baseline.parent / "killed"
    points = [
        # inside intermediate training: while a run is being built in <run_dir>.work
        ("04_intermediate", lambda r: any((r / "runs").glob("*/*/*.work")), 20.0),
        # inside target training: a first target model is published, others are not
        ("05_target", lambda r: any((r / "runs").glob("*/*___*/seed*/metrics.json")), 20.0),
        # inside evaluation: the first zero-shot rows are in the table
        ("06_zero_shot", lambda r: (r / "results" / "zero_shot.csv").is_file(), 20.0),
    ]
    triggers = []
    for point, condition, fallback in points:
        p, trigger = run_until(root, point, condition, fallback)
        triggers.append(f"{point}:{trigger}")
        assert incomplete_run_dirs(root) == [], f"after the kill in {point}"
        assert unreadable_tables(root) == [], f"after the kill in {point}"
        if point == "06_zero_shot":  # this rerun resumed: the chapter finished before the last kill was skipped
            assert any("04_intermediate: unchanged since its last run, skipped" in line for line in p.lines), p.lines
    final = Pipeline(root)
    rc = final.finish()
    assert rc == 0, "\n".join(final.lines[-40:])
    assert any("05_target: unchanged since its last run, skipped" in line for line in final.lines), final.lines
    print("kill triggers:", ", ".join(triggers))

    assert zero_shot(root) == zero_shot(baseline)
    assert training_cost(root) == training_cost(baseline)
    assert len(zero_shot(root)) > 0 and len(training_cost(root)) > 0
    assert incomplete_run_dirs(root) == []
    assert [d.relative_to(root) for d in run_dirs(root)] == [d.relative_to(baseline) for d in run_dirs(baseline)]
    assert leftovers(root) == []
    assert sorted(p.name for p in (root / "book").glob("*.ipynb")) == sorted(
        p.name for p in (baseline / "book").glob("*.ipynb"))
