"""The study driver: a plan file -> papermill -> executed chapters in ``book/``.

Usage::

    python -m helpers.study run plans/embedded.yaml [--force] [--only 05_target]
    python -m helpers.study status plans/embedded.yaml

A plan names the profile, the seed, common parameters and the notebooks to run::

    profile: embedded
    seed: 1
    parameters: {}            # passed to every notebook
    notebooks:
      - 01_setup
      - notebook: 07_inference
        parameters: {repeats: 6}

Each notebook ``notebooks/<name>.ipynb`` is executed by papermill with the
plan's parameters into ``book/<name>.ipynb``. The executed chapter records a
cache key of its parameters, its source and the helper code; a chapter whose
key is unchanged is skipped. Chapters are written to a temporary file and
renamed, so a killed run never leaves half a chapter; the wall time of every
phase goes to ``results/phase_times.csv``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import runs
from .config import get_profile
from .errors import StudyError, run_cli

NOTEBOOKS_DIR = runs.project_path("notebooks")


def book_dir() -> Path:
    """Where executed chapters go: ``<project>/book``; ``STUDY_BOOK_DIR`` overrides (tests, smoke)."""
    return Path(os.environ.get("STUDY_BOOK_DIR", runs.project_path("book")))

PLAN_KEYS = {"name", "description", "profile", "seed", "parameters", "notebooks"}


@dataclass(frozen=True)
class Step:
    notebook: str
    parameters: dict

    @property
    def source(self) -> Path:
        return NOTEBOOKS_DIR / f"{self.notebook}.ipynb"

    @property
    def output(self) -> Path:
        return book_dir() / f"{self.notebook}.ipynb"

    def cache_key(self) -> str:
        return runs.cache_key(self.parameters, self.source.read_bytes())


@dataclass(frozen=True)
class Plan:
    path: Path
    name: str
    profile: str
    steps: tuple[Step, ...]


def load_plan(path: str | os.PathLike) -> Plan:
    """Read and validate a plan file; every problem is one StudyError line."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"plan file {str(path)!r} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise StudyError(f"plan file {path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise StudyError(f"plan file {path} must be a mapping with keys {', '.join(sorted(PLAN_KEYS))}")
    unknown = set(data) - PLAN_KEYS
    if unknown:
        raise StudyError(f"plan file {path}: unknown keys {sorted(unknown)}; valid keys: {', '.join(sorted(PLAN_KEYS))}")
    profile = data.get("profile")
    if not isinstance(profile, str):
        raise StudyError(f"plan file {path}: 'profile' must name a profile")
    get_profile(profile)
    seed = data.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise StudyError(f"plan file {path}: 'seed' must be a non-negative integer, got {seed!r}")
    common = data.get("parameters") or {}
    if not isinstance(common, dict):
        raise StudyError(f"plan file {path}: 'parameters' must be a mapping")
    entries = data.get("notebooks")
    if not isinstance(entries, list) or not entries:
        raise StudyError(f"plan file {path}: 'notebooks' must be a non-empty list")
    available = sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb"))
    steps = []
    for entry in entries:
        if isinstance(entry, str):
            name, params = entry, {}
        elif isinstance(entry, dict) and isinstance(entry.get("notebook"), str):
            name, params = entry["notebook"], entry.get("parameters") or {}
            if not isinstance(params, dict):
                raise StudyError(f"plan file {path}: parameters of {name} must be a mapping")
        else:
            raise StudyError(f"plan file {path}: each notebook entry is a name or {{notebook: NAME, parameters: {{...}}}}")
        if name not in available:
            raise StudyError(f"plan file {path}: unknown notebook {name!r}; valid notebooks: {', '.join(available)}")
        steps.append(Step(name, {"profile": profile, "seed": seed, **common, **params}))
    return Plan(path=path, name=str(data.get("name", path.stem)), profile=profile, steps=tuple(steps))


def recorded_key(output: Path) -> str | None:
    """The cache key stored in an executed chapter's metadata, if any."""
    if not output.is_file():
        return None
    try:
        meta = json.loads(output.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, json.JSONDecodeError):
        return None
    return meta.get("study", {}).get("cache_key")


def execute(step: Step, key: str) -> float:
    """Run one notebook through papermill into its chapter, atomically."""
    import nbformat
    import papermill as pm

    step.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = step.output.with_name(f".tmp-{step.output.name}")
    env_offline = get_profile(step.parameters["profile"]).source != "hub"
    if env_offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(step.source),
            str(tmp),
            parameters=step.parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(step.output.parent),
        )
    except pm.PapermillExecutionError as exc:
        if tmp.exists():
            tmp.unlink()
        raise StudyError(f"{step.notebook} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}") from None
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    wall = time.perf_counter() - start
    nb = nbformat.read(str(tmp), as_version=4)
    nb.metadata["study"] = {"cache_key": key, "parameters": step.parameters}
    runs.atomic_write_text(step.output, nbformat.writes(nb))
    tmp.unlink()
    return wall


def record_phase_time(plan: Plan, step: Step, wall: float) -> None:
    runs.upsert_rows(
        runs.results_root() / "phase_times.csv",
        [
            {
                "profile": plan.profile,
                "notebook": step.notebook,
                "wall_s": round(wall, 1),
                "device": runs.device_name(),
                "finished_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            }
        ],
        key=("profile", "notebook"),
    )


def run_plan(plan: Plan, *, force: bool = False, only: tuple[str, ...] = ()) -> list[tuple[str, str, float]]:
    """Execute the plan's notebooks in order; returns (notebook, status, seconds)."""
    report = []
    total = len(plan.steps)
    t0 = time.perf_counter()
    for i, step in enumerate(plan.steps, 1):
        if only and step.notebook not in only:
            continue
        key = step.cache_key()
        if not force and recorded_key(step.output) == key:
            print(f"[{i}/{total}] {step.notebook}: unchanged since its last run, skipped", flush=True)
            report.append((step.notebook, "skipped", 0.0))
            continue
        print(f"[{i}/{total}] {step.notebook}: running ({plan.profile}) ...", flush=True)
        wall = execute(step, key)
        record_phase_time(plan, step, wall)
        print(f"[{i}/{total}] {step.notebook}: done in {wall:.1f} s", flush=True)
        report.append((step.notebook, "ran", wall))
    ran = sum(w for _, s, w in report if s == "ran")
    print(f"plan {plan.name}: {sum(s == 'ran' for _, s, _ in report)} ran, "
          f"{sum(s == 'skipped' for _, s, _ in report)} skipped, "
          f"phases {ran:.1f} s, total {time.perf_counter() - t0:.1f} s", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.study", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute a plan into book/")
    p_run.add_argument("plan")
    p_run.add_argument("--force", action="store_true", help="rerun every notebook, even unchanged ones")
    p_run.add_argument("--only", action="append", default=[], help="run only this notebook (repeatable)")
    p_status = sub.add_parser("status", help="say which chapters are up to date")
    p_status.add_argument("plan")
    args = parser.parse_args(argv)
    plan = load_plan(args.plan)
    if args.command == "status":
        for step in plan.steps:
            state = "up to date" if recorded_key(step.output) == step.cache_key() else "stale"
            print(f"{step.notebook}: {state}")
        return 0
    for name in args.only:
        if name not in {s.notebook for s in plan.steps}:
            raise StudyError(f"--only {name!r} is not in the plan; valid: {', '.join(s.notebook for s in plan.steps)}")
    run_plan(plan, force=args.force, only=tuple(args.only))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
