"""Profiles and notebook parameters.

A *profile* fixes the model preset, the data source and the sizes of a study run;
all five go through the same code. ``realdata`` (the reference run) reads the real
XTREME-R files through the leakage-free splits of :mod:`helpers.realsplits`. A notebook's ``parameters`` cell holds typed
literals; the cell after it calls :func:`configure`, which validates them into a
frozen :class:`StudyConfig` before any compute and fails with one clear line
(:class:`helpers.errors.StudyError`) naming the valid values.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import realsplits, runs
from .errors import StudyError, check_choice, check_seed, invalid_choice
from .generate import generated_languages
from .models import get_preset
from .sources import check_task_files, dataset_sizes, get_source
from .tasks import SUBSETS, TASKS, get_task, intermediate_tasks, target_tasks, task_languages


@dataclass(frozen=True)
class Profile:
    """What a study run covers and with which model and data."""

    name: str
    description: str
    model: str  # a preset of helpers.models
    source: str  # "embedded" | "xtreme-dir" | "hub"
    tasks: tuple[str, ...]  # XTREME-R target tasks
    intermediates: tuple[str, ...]  # single-task intermediate arms
    multitask: bool  # add the "multi" arm (all intermediates together)
    eval_limit: int | None  # test examples per task and language (None = all)
    languages: tuple[str, ...] | None = None  # restrict test languages (None = all available)
    timing_repeats: int = 5  # interleaved repetitions in the efficiency chapter
    needs_data_dir: bool = False
    #: The direct arm is also trained (05) and evaluated (06) with each of ``extra_seeds`` on each of
    #: ``seed_tasks`` (helpers.pipeline.seed_jobs): the seed spread stated beside the arm differences.
    seed_tasks: tuple[str, ...] = ()
    extra_seeds: tuple[int, ...] = ()

    @property
    def arms(self) -> tuple[str, ...]:
        return ("direct",) + self.intermediates + (("multi",) if self.multitask else ())


ALL_TARGETS = target_tasks()
NINE_INTERMEDIATES = intermediate_tasks()

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="tiny XLM-R-shaped encoder, one task per format group, a few examples; seconds",
        model="tiny",
        source="embedded",
        tasks=SUBSETS["one-per-group"],
        intermediates=SUBSETS["three-intermediates"][:1],
        multitask=False,
        eval_limit=8,
        languages=("en", "de", "ru", "zh"),
        timing_repeats=3,
    ),
    "embedded": Profile(
        name="embedded",
        description=(
            "converted multilingual-e5-small with the real XLM-R tokenizer, the generated "
            "benchmark in 10 languages; minutes on a 2-core CPU (the default main job)"
        ),
        model="e5-small",
        source="embedded",
        tasks=ALL_TARGETS,
        intermediates=SUBSETS["three-intermediates"],
        multitask=True,
        eval_limit=16,
        timing_repeats=4,
    ),
    "xtreme-dir": Profile(
        name="xtreme-dir",
        description="real XTREME-R data from a directory laid out by XTREME's download script",
        model="e5-small",
        source="xtreme-dir",
        tasks=ALL_TARGETS,
        intermediates=SUBSETS["three-intermediates"],
        multitask=True,
        eval_limit=None,
        needs_data_dir=True,
    ),
    "full": Profile(
        name="full",
        description="XLM-R Large and the real datasets from the Hugging Face hub, the papers' recipes, on GPUs",
        model="xlmr-large",
        source="hub",
        tasks=ALL_TARGETS,
        intermediates=NINE_INTERMEDIATES,
        multitask=True,
        eval_limit=None,
        timing_repeats=10,
    ),
    "realdata": Profile(
        name="realdata",
        description=(
            "converted multilingual-e5-small, the real XTREME-R files of ../shared/realdata (every language "
            "present) with leakage-free English training blocks; the reference run on a 2-core CPU"
        ),
        model="e5-small",
        source="realdata",
        tasks=SUBSETS["realdata-targets"],
        intermediates=SUBSETS["realdata-arms"],  # ANLI for XNLI; SIQA for XCOPA (XTREME-R trains XCOPA on it first)
        multitask=False,
        eval_limit=None,  # the realsplits subsets: >= 100 test examples per language, >= 500 per task
        timing_repeats=4,
        seed_tasks=SUBSETS["realdata-seed-tasks"],  # the two cheapest trainable targets to train and test
        extra_seeds=(2, 3),
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise invalid_choice("profile", name, PROFILES)
    return PROFILES[name]


@dataclass(frozen=True)
class StudyConfig:
    """The validated parameters of one notebook execution."""

    profile: str
    model: str
    source: str
    tasks: tuple[str, ...]
    arms: tuple[str, ...]
    intermediates: tuple[str, ...]
    seed: int
    data_dir: str | None
    eval_limit: int | None
    languages: tuple[str, ...] | None
    timing_repeats: int
    #: Resolved from ``model``'s preset (helpers.models), never from the profile: the hidden-state
    #: layer that retrieval mean-pools and the preset whose tokenizer reads the data.
    retrieval_layer: int = -1
    tokenizer: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def multitask(self) -> bool:
        return "multi" in self.arms

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def data_source(self):
        """The :mod:`helpers.sources` source this configuration reads."""
        return get_source(self.source, self.data_dir)

    def test_languages(self, task: str) -> tuple[str, ...]:
        """The languages this configuration tests ``task`` in (registry order)."""
        if self.source == "embedded":
            langs = task_languages(task, generated_languages(task))
        elif self.source == "hub":
            langs = task_languages(task)
        elif self.source == "realdata":
            langs = realsplits.test_languages(self.data_source().root, task)
        else:
            found = {r["language"] for r in dataset_sizes(self.data_source(), [task], splits=("test",))}
            langs = task_languages(task, found)
        if self.languages:
            langs = tuple(lang for lang in langs if lang in self.languages)
        return langs

    def _repr_markdown_(self) -> str:
        rows = "\n".join(f"| {k} | {v} |" for k, v in self.as_dict().items() if k != "extra")
        return "| parameter | value |\n|---|---|\n" + rows


def _split(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        raise StudyError(f"{what} must be a comma-separated string, got {type(value).__name__} {value!r}")
    return tuple(v for v in items if v)


def _check_type(name: str, value: object, kind: type) -> None:
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        raise StudyError(f"parameter {name} must be {kind.__name__}, got {type(value).__name__} {value!r}")


#: Papermill's first line of the cell it injects after the ``parameters`` cell.
INJECTED_HEADER = "# Parameters"
#: What a chapter's ``phase`` asks of its tasks and arms (see :func:`configure`).
PHASES = {
    "": "any chapter",
    "intermediate": "04_intermediate (phase ii)",
    "target": "05_target (phase iii)",
    "tradeoff": "09_tradeoff",
}


def _assigned_names(source: str) -> list[str] | None:
    """Names a cell assigns at top level, in order (None when it is not Python)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names += [t.id for t in targets if isinstance(t, ast.Name) and t.id not in names]
    return names


def injected_unknown_parameters(history: list[str], fallback: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(unknown, declared): the names papermill injected that the ``parameters`` cell does not declare.

    ``history`` is the kernel's input history (IPython's ``In``): papermill
    runs the ``parameters`` cell, then the cell it injected (first line
    ``# Parameters``), then the validation cell. The declared names are those
    the ``parameters`` cell assigns (``fallback`` when there is none before
    the injected cell). No injected cell: ([], []).
    """
    for i in range(len(history) - 1, -1, -1):
        if history[i].lstrip().startswith(INJECTED_HEADER + "\n") or history[i].strip() == INJECTED_HEADER:
            injected = _assigned_names(history[i]) or []
            declared = _assigned_names(history[i - 1]) if i > 0 and history[i - 1].strip() else None
            declared = list(declared or fallback)
            return [n for n in injected if n not in declared], declared
    return [], []


def _check_injected_parameters() -> None:
    """In a papermill kernel: refuse a parameter the notebook does not declare (papermill only warns)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if not history:
        return
    fallback = tuple(p for p in inspect.signature(configure).parameters if p not in ("extra", "phase"))
    unknown, declared = injected_unknown_parameters(list(history), fallback)
    if unknown:
        what = "parameter" if len(unknown) == 1 else "parameters"
        raise StudyError(f"unknown {what} {', '.join(repr(n) for n in unknown)}; "
                         f"valid parameters: {', '.join(declared)}")


def configure(
    profile: str = "smoke",
    task: str = "",
    arm: str = "",
    seed: int = 1,
    model: str = "",
    data_dir: str = "",
    eval_limit: int = 0,
    phase: str = "",
    **extra: object,
) -> StudyConfig:
    """Validate a notebook's parameters into a frozen :class:`StudyConfig`.

    ``task`` and ``arm`` are comma-separated subsets ("" = all of the profile's);
    ``model`` overrides the profile's preset; ``eval_limit`` 0 keeps the
    profile's; ``extra`` holds notebook-specific parameters already checked by
    the caller (kept for the record). ``phase`` is set by a chapter's
    validation cell, not by the user: ``intermediate`` refuses the ``direct``
    arm (it has no intermediate run), ``target`` refuses a named task without
    training data (retrieval), ``tradeoff`` needs ``direct`` among the arms
    (every arm is compared with it). In a papermill kernel, a parameter that
    the notebook's ``parameters`` cell does not declare is refused (papermill
    itself only warns).
    """
    _check_injected_parameters()
    check_choice("phase", phase, PHASES)
    for name, value, kind in (
        ("profile", profile, str),
        ("task", task, str),
        ("arm", arm, str),
        ("seed", seed, int),
        ("model", model, str),
        ("data_dir", data_dir, str),
        ("eval_limit", eval_limit, int),
    ):
        _check_type(name, value, kind)
    prof = get_profile(profile)
    check_seed("seed", seed)
    if eval_limit < 0:
        raise StudyError(f"eval_limit must be 0 (the profile's) or a positive integer, got {eval_limit}")

    tasks = _split(task, "task") or prof.tasks
    for t in tasks:
        check_choice("task", t, TASKS if profile in ("xtreme-dir", "full") else prof.tasks)
    arms = _split(arm, "arm") or prof.arms
    for a in arms:
        check_choice("arm", a, prof.arms)
    intermediates = tuple(a for a in prof.intermediates if a in arms or "multi" in arms)
    _check_phase(phase, tasks if _split(task, "task") else (), arms if _split(arm, "arm") else (), prof)

    preset = get_preset(model or prof.model)
    if prof.needs_data_dir:
        if not data_dir:
            raise StudyError(f"profile {profile} needs data_dir: a directory laid out by XTREME's download script")
        if not Path(data_dir).is_dir():
            raise StudyError(f"data_dir {data_dir!r} is not a directory")
        entries = [p for p in Path(data_dir).iterdir() if not p.name.startswith(".")]
        if not entries:
            raise StudyError(f"data_dir {data_dir!r} is empty; expected task folders such as xnli/, panx/, xquad/")
        check_task_files(Path(data_dir), tasks)  # a task without test files would fail later, mid-study
    elif data_dir:
        raise StudyError(f"data_dir is only used by profile xtreme-dir, not {profile}")
    if prof.source == "realdata":  # the real files, found before any compute (one line when absent)
        data_dir = str(get_source("realdata").root)

    return StudyConfig(
        profile=profile,
        model=preset.name,
        source=prof.source,
        tasks=tasks,
        arms=arms,
        intermediates=intermediates,
        seed=seed,
        data_dir=os.path.abspath(data_dir) if data_dir else None,
        eval_limit=eval_limit or prof.eval_limit,
        languages=prof.languages,
        timing_repeats=prof.timing_repeats,
        retrieval_layer=int(preset.retrieval_layer),
        tokenizer=preset.name,
        extra=dict(extra),
    )


def _check_phase(phase: str, named_tasks: tuple[str, ...], named_arms: tuple[str, ...], prof: Profile) -> None:
    """What a chapter's phase asks of the tasks and arms the user named (see :func:`configure`)."""
    if phase == "intermediate":
        valid = [a for a in prof.arms if a != "direct"]
        if "direct" in named_arms:
            raise StudyError(f"arm direct has no intermediate phase; {PHASES[phase]} trains the STILTs arms, "
                             f"valid arms: {', '.join(valid)}")
    elif phase == "target":
        untrained = [t for t in named_tasks if get_task(t).format == "retrieval"]
        if untrained:
            trainable = [t for t in prof.tasks if get_task(t).format != "retrieval"]
            raise StudyError(f"task {untrained[0]} has no training data: retrieval tasks use each arm's encoder "
                             f"as it is (see 06_zero_shot); valid tasks for {PHASES[phase]}: {', '.join(trainable)}")
    elif phase == "tradeoff" and named_arms and "direct" not in named_arms:
        raise StudyError(f"{PHASES[phase]} compares every arm with direct: arm must include direct, "
                         f"got {','.join(named_arms)!r}")


#: The chapters that write each results table an analysis chapter reads.
TABLE_MAKERS = {
    "zero_shot.csv": ("06_zero_shot",),
    "zero_shot_items.csv": ("06_zero_shot",),
    "training_cost.csv": ("04_intermediate", "05_target"),
    "inference.csv": ("07_inference",),
}


def require_results(cfg: StudyConfig, *tables: str) -> None:
    """Refuse, in one line, when a results table this chapter reads lacks this configuration's rows.

    Each table must hold rows of ``cfg.profile`` (and ``cfg.seed`` where it has
    a seed column) for every arm of ``cfg`` (where it has an arm column); the
    message names the chapter that writes the missing rows.
    """
    for name in tables:
        makers = TABLE_MAKERS.get(name)
        if makers is None:
            raise invalid_choice("results table", name, TABLE_MAKERS)
        rows = [r for r in runs.read_table(runs.results_root() / name)
                if r.get("profile") == cfg.profile and r.get("seed", str(cfg.seed)) == str(cfg.seed)]
        have = {r.get("arm") for r in rows}
        missing = [a for a in cfg.arms if a not in have] if rows and "arm" in rows[0] else []
        if rows and not missing:
            continue
        what = f"arm {missing[0]}" if rows else "rows"
        raise StudyError(
            f"results table {name} has no {what} for profile {cfg.profile}, seed {cfg.seed} "
            f"(in {runs.results_root()}); "
            f"{'the chapter' if len(makers) == 1 else 'the chapters'} {' and '.join(makers)} "
            f"{'writes' if len(makers) == 1 else 'write'} it: run it first, e.g. "
            f"python -m helpers.study run PLAN.yaml --only {makers[-1]}"
        )
