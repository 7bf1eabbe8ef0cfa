"""Profiles and notebook parameters.

A *profile* fixes the model preset, the data source and the sizes of a study run;
all four go through the same code. A notebook's ``parameters`` cell holds typed
literals; the cell after it calls :func:`configure`, which validates them into a
frozen :class:`StudyConfig` before any compute and fails with one clear line
(:class:`helpers.errors.StudyError`) naming the valid values.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import StudyError, check_choice, invalid_choice


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

    @property
    def arms(self) -> tuple[str, ...]:
        return ("direct",) + self.intermediates + (("multi",) if self.multitask else ())


ALL_TARGETS = ("xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa", "mewslix", "lareqa", "tatoeba")
NINE_INTERMEDIATES = ("anli", "mnli", "qqp", "squad", "sst2", "ccg", "cosmosqa", "hellaswag", "commonsenseqa")

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="tiny XLM-R-shaped encoder, one task per format group, a few examples; seconds",
        model="tiny",
        source="embedded",
        tasks=("xnli", "panx", "xquad", "tatoeba"),
        intermediates=("mnli",),
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
        intermediates=("mnli", "squad", "hellaswag"),
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
        intermediates=("mnli", "squad", "hellaswag"),
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
    extra: dict = field(default_factory=dict)

    @property
    def multitask(self) -> bool:
        return "multi" in self.arms

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def data_source(self):
        """The :mod:`helpers.sources` source this configuration reads."""
        from .sources import get_source

        return get_source(self.source, self.data_dir)

    def test_languages(self, task: str) -> tuple[str, ...]:
        """The languages this configuration tests ``task`` in (registry order)."""
        from .tasks import task_languages

        if self.source == "embedded":
            from .generate import generated_languages as test_languages

            langs = task_languages(task, test_languages(task))
        elif self.source == "hub":
            langs = task_languages(task)
        else:
            from .sources import dataset_sizes

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


def configure(
    profile: str = "smoke",
    task: str = "",
    arm: str = "",
    seed: int = 1,
    model: str = "",
    data_dir: str = "",
    eval_limit: int = 0,
    **extra: object,
) -> StudyConfig:
    """Validate a notebook's parameters into a frozen :class:`StudyConfig`.

    ``task`` and ``arm`` are comma-separated subsets ("" = all of the profile's);
    ``model`` overrides the profile's preset; ``eval_limit`` 0 keeps the
    profile's; ``extra`` holds notebook-specific parameters already checked by
    the caller (kept for the record).
    """
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
    if seed < 0:
        raise StudyError(f"seed must be a non-negative integer, got {seed}")
    if eval_limit < 0:
        raise StudyError(f"eval_limit must be 0 (the profile's) or a positive integer, got {eval_limit}")

    from .tasks import TASKS  # the registry knows every task name

    tasks = _split(task, "task") or prof.tasks
    for t in tasks:
        check_choice("task", t, TASKS if profile in ("xtreme-dir", "full") else prof.tasks)
    arms = _split(arm, "arm") or prof.arms
    for a in arms:
        check_choice("arm", a, prof.arms)
    intermediates = tuple(a for a in prof.intermediates if a in arms or "multi" in arms)

    if model:
        from .models import get_preset

        get_preset(model)
    if prof.needs_data_dir:
        if not data_dir:
            raise StudyError(f"profile {profile} needs data_dir: a directory laid out by XTREME's download script")
        if not Path(data_dir).is_dir():
            raise StudyError(f"data_dir {data_dir!r} is not a directory")
        entries = [p for p in Path(data_dir).iterdir() if not p.name.startswith(".")]
        if not entries:
            raise StudyError(f"data_dir {data_dir!r} is empty; expected task folders such as xnli/, panx/, xquad/")
    elif data_dir:
        raise StudyError(f"data_dir is only used by profile xtreme-dir, not {profile}")

    return StudyConfig(
        profile=profile,
        model=model or prof.model,
        source=prof.source,
        tasks=tasks,
        arms=arms,
        intermediates=intermediates,
        seed=seed,
        data_dir=os.path.abspath(data_dir) if data_dir else None,
        eval_limit=eval_limit or prof.eval_limit,
        languages=prof.languages,
        timing_repeats=prof.timing_repeats,
        extra=dict(extra),
    )
