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
      - notebook: 06_zero_shot
        parameters: {eval_limit: 32}   # only names its parameters cell declares

Each notebook ``notebooks/<name>.ipynb`` is executed by papermill with the
plan's parameters into ``book/<name>.ipynb``. ``profile`` and ``seed`` are set
at the top level only, and each notebook is listed once (it has one chapter).
The whole plan is validated before the first chapter runs: every notebook
exists, every parameter is one its ``parameters`` cell declares (as papermill
reads that cell; an unknown name is one line listing the valid ones), and the values
pass the notebook's own validation call (``configure(...)``), without compute
and without writing anything; a ``realdata`` plan must find the real files
(``helpers.realdata.resolve_root``, never downloading: ``make realdata`` does that),
else it stops with one line before the first chapter. The executed chapter records a
cache key of its parameters, its source and the helper code; a chapter whose
key is unchanged is skipped. Chapters are written to a temporary file and
renamed, so a killed run never leaves half a chapter; the cell papermill injects
is tagged ``remove-input`` (the page does not open with the parameters); the
wall time of every phase goes to ``results/phase_times.csv``.
"""

from __future__ import annotations

import argparse
import ast
import codecs
import datetime as _dt
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill as pm
import yaml
from papermill.translators import PythonTranslator

from . import realdata, runs
from .config import configure, get_profile
from .errors import StudyError, check_seed, run_cli

NOTEBOOKS_DIR = runs.project_path("notebooks")


def book_dir() -> Path:
    """Where executed chapters go: ``<project>/book``; ``STUDY_BOOK_DIR`` overrides (tests, smoke)."""
    return Path(os.environ.get("STUDY_BOOK_DIR", runs.project_path("book")))

PLAN_KEYS = {"name", "description", "profile", "seed", "parameters", "notebooks"}
ENTRY_KEYS = ("notebook", "parameters")
TOP_LEVEL_ONLY = ("profile", "seed")  # one value for the whole plan, recorded with every chapter


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


#: The profile whose chapters read the real XTREME-R files (helpers.realdata); checked before any compute.
REALDATA_PROFILE = "realdata"


def load_plan(path: str | os.PathLike, *, check_data: bool = True) -> Plan:
    """Read and validate a plan file; every problem is one StudyError line.

    A ``realdata`` plan also needs the real files (``realdata.resolve_root``, no
    download) unless ``check_data`` is false (``status`` reads the plan only).
    """
    path = Path(path)
    if path.is_dir():
        plans = ", ".join(sorted(p.name for p in path.glob("*.yaml"))) or "none"
        raise StudyError(f"plan path {str(path)!r} is a directory, not a plan file; give a YAML plan file "
                         f"(plans in that directory: {plans})")
    if not path.is_file():
        raise StudyError(f"plan file {str(path)!r} not found")
    try:
        data = yaml.safe_load(read_utf8(path, "plan file"))
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
    if check_data and profile == REALDATA_PROFILE:
        realdata.resolve_root()  # one line naming how to provide the files, before anything runs
    get_profile(profile)
    seed = check_seed(f"plan file {path}: 'seed'", data.get("seed", 1))
    common = data.get("parameters") or {}
    if not isinstance(common, dict):
        raise StudyError(f"plan file {path}: 'parameters' must be a mapping")
    _refuse_top_level_keys(path, "parameters", common, profile, seed)
    entries = data.get("notebooks")
    if not isinstance(entries, list) or not entries:
        raise StudyError(f"plan file {path}: 'notebooks' must be a non-empty list")
    available = sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb"))
    steps = []
    for number, entry in enumerate(entries, 1):
        if isinstance(entry, str):
            name, params = entry, {}
        elif isinstance(entry, dict) and isinstance(entry.get("notebook"), str):
            name, params = entry["notebook"], entry.get("parameters") or {}
            unknown = [k for k in entry if k not in ENTRY_KEYS]
            if unknown:
                raise StudyError(f"plan file {path}: unknown key {unknown[0]!r} in the entry of {name}; "
                                 f"valid keys: {', '.join(ENTRY_KEYS)}")
            if not isinstance(params, dict):
                raise StudyError(f"plan file {path}: parameters of {name} must be a mapping")
            _refuse_top_level_keys(path, f"the parameters of {name}", params, profile, seed)
        else:
            raise StudyError(f"plan file {path}: each notebook entry is a name or {{notebook: NAME, parameters: {{...}}}}")
        if name not in available:
            raise StudyError(f"plan file {path}: unknown notebook {name!r}; valid notebooks: {', '.join(available)}")
        earlier = [i for i, s in enumerate(steps, 1) if s.notebook == name]
        if earlier:
            raise StudyError(f"plan file {path}: notebook {name} is listed twice (entries {earlier[0]} and {number}); "
                             f"list each notebook once: it has one chapter, book/{name}.ipynb")
        steps.append(Step(name, {"profile": profile, "seed": seed, **common, **params}))
    for step in steps:  # the whole plan, before the first chapter runs
        check_parameters(step.notebook, step.parameters, where=f"plan file {path}")
    return Plan(path=path, name=str(data.get("name", path.stem)), profile=profile, steps=tuple(steps))


def read_utf8(path: Path, what: str) -> str:
    """The text of a UTF-8 file (a leading BOM dropped); anything else is one line naming the line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StudyError(f"{what} {path} cannot be read: {exc.strerror}; it must be a readable file") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StudyError(f"{what} {path} is not UTF-8: byte 0x{raw[exc.start]:02x} at line {line}; "
                         f"it must be saved as UTF-8") from None


def _refuse_top_level_keys(path: Path, where: str, params: dict, profile: str, seed: int) -> None:
    """``profile`` and ``seed`` belong at the plan's top level: one value, recorded for every chapter."""
    for key in TOP_LEVEL_ONLY:
        if key in params:
            current = {"profile": profile, "seed": seed}[key]
            raise StudyError(f"plan file {path}: {key!r} in {where} must be set at the plan's top level "
                             f"instead ({key}: {current} now), where the driver records it")


# --------------------------------------------------------------------------- notebook interfaces
def _cells(source: Path) -> list[dict]:
    try:
        return json.loads(read_utf8(source, "notebook")).get("cells", [])
    except json.JSONDecodeError as exc:
        raise StudyError(f"notebook {source} is not valid JSON at line {exc.lineno}; it must be an .ipynb file") from None


def _parameter_cell(cells: list[dict]) -> int | None:
    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def notebook_parameters(source: str | os.PathLike) -> dict[str, object]:
    """The parameters a notebook declares: name -> default, in the order of its ``parameters`` cell.

    The names are those papermill's Python translator reads from that cell (what
    ``papermill.inspect_notebook`` lists, and what papermill injects, with the
    driver's ``python3`` kernel); a default that is not a literal is ``None``. A notebook without a
    ``parameters`` cell, or whose cell is not Python, is one StudyError line.
    """
    source = Path(source)
    cells = _cells(source)
    index = _parameter_cell(cells)
    if index is None:
        raise StudyError(f"notebook {source.name} has no cell tagged 'parameters'; a chapter must declare its "
                         f"parameters there")
    text = "".join(cells[index].get("source", []))
    try:
        ast.parse(text)
    except SyntaxError as exc:
        raise StudyError(f"notebook {source.name}: its parameters cell is not valid Python at line {exc.lineno}; "
                         f"it must hold assignments such as task = \"\"") from None
    out: dict[str, object] = {}
    for param in PythonTranslator.inspect(nbformat.v4.new_code_cell(text)):  # papermill's own reading
        try:
            out[param.name] = ast.literal_eval(param.default) if param.default is not None else None
        except (ValueError, TypeError, SyntaxError, RecursionError):  # not a literal: no type to check
            out[param.name] = None
    return out


def validation_call(source: str | os.PathLike) -> dict[str, tuple[str, object]] | None:
    """The keywords of the ``configure(...)`` call in the cell after the ``parameters`` cell.

    keyword -> ("parameter", name) where the value is a notebook parameter,
    ("literal", value) where it is a constant; None when the notebook has no
    such call.
    """
    cells = _cells(Path(source))
    index = _parameter_cell(cells)
    after = [c for c in cells[(index or 0) + 1:] if c.get("cell_type") == "code"]
    if index is None or not after:
        return None
    try:
        tree = ast.parse("".join(after[0].get("source", [])))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        func = getattr(node, "func", None)
        if isinstance(node, ast.Call) and getattr(func, "id", getattr(func, "attr", None)) == "configure":
            call: dict[str, tuple[str, object]] = {}
            for kw in node.keywords:
                if kw.arg is None:
                    continue
                if isinstance(kw.value, ast.Name):
                    call[kw.arg] = ("parameter", kw.value.id)
                elif isinstance(kw.value, ast.Constant):
                    call[kw.arg] = ("literal", kw.value.value)
            return call
    return None


def check_parameters(notebook: str, parameters: dict, *, where: str | None) -> None:
    """Validate ``parameters`` for ``notebook`` as its chapter would, before anything runs.

    Every name must be declared by the notebook's ``parameters`` cell; the
    values go through the notebook's own ``configure(...)`` call (with its
    literal keywords, such as ``phase``), and a parameter that call does not
    take must have its default's type. One StudyError line prefixed by
    ``where`` (when given); nothing is computed or written.
    """
    source = NOTEBOOKS_DIR / f"{notebook}.ipynb"
    declared = notebook_parameters(source)
    prefix = f"{where}: " if where else ""
    unknown = [k for k in parameters if k not in declared]
    if unknown:
        raise StudyError(f"{prefix}unknown parameter {unknown[0]!r} for {notebook}; "
                         f"valid parameters: {', '.join(declared)}")
    values = {**declared, **parameters}
    call = validation_call(source) or {}
    taken = {v for kind, v in call.values() if kind == "parameter"}
    for name, default in declared.items():
        kind = type(default)
        if name in taken or name not in parameters or default is None:
            continue
        value = values[name]
        widened = kind is float and isinstance(value, int)  # 3 for a float parameter is fine
        if isinstance(value, bool) != (kind is bool) or not (isinstance(value, kind) or widened):
            raise StudyError(f"{prefix}parameter {name} of {notebook} must be {kind.__name__}, "
                             f"got {type(value).__name__} {value!r}")
    if call:
        try:
            configure(**{kw: values.get(v) if kind == "parameter" else v for kw, (kind, v) in call.items()})
        except StudyError as exc:
            raise StudyError(f"{prefix}{notebook}: {exc}" if where else str(exc)) from None


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
    """Run one notebook through papermill into its chapter, atomically.

    The cell papermill injects (tagged ``injected-parameters``) is tagged
    ``remove-input`` too (:func:`hide_injected_parameters`): the rendered page
    does not open with the parameters; nbval still runs the cell.
    """
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
    nb = hide_injected_parameters(nbformat.read(str(tmp), as_version=4))
    nb.metadata["study"] = {"cache_key": key, "parameters": step.parameters}
    runs.atomic_write_text(step.output, nbformat.writes(nb))
    tmp.unlink()
    return wall


#: The tag papermill gives the cell it injects, and the tag that hides a cell's input in the book.
INJECTED_TAG, REMOVE_INPUT = "injected-parameters", "remove-input"


def hide_injected_parameters(nb):
    """``nb`` with its ``injected-parameters`` cell(s) also tagged ``remove-input`` (idempotent)."""
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if INJECTED_TAG in tags and REMOVE_INPUT not in tags:
            tags.append(REMOVE_INPUT)
    return nb


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
    # the driver's chapters write the plan's tables: name the directory for their kernels (runs.results_root)
    os.environ.setdefault("STUDY_RESULTS_DIR", str(runs.results_root()))
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
    plan = load_plan(args.plan, check_data=args.command == "run")
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
