"""Training hyper-parameters per profile, task and phase.

:func:`get_recipe` answers "how is task T trained in phase P under profile
X?" with a frozen :class:`Recipe`. Phases: ``intermediate`` (phase ii, an
English intermediate task, single-task or the ``multi`` mixture) and
``target`` (phase iii, the English training data of an XTREME-R task, or
one stage of it: XCOPA trains on SIQA, then COPA).

Profiles
--------
- ``full``: the published recipes for XLM-R Large, each entry citing its
  source (see ``Recipe.reference`` and ``../shared/REPORTED.md``): the target
  tasks follow XTREME-R's own scripts (google-research/xtreme ``scripts/``,
  commit 838c13b69daa), the intermediate tasks follow jiant's X-STILTs guide
  and its ``simple`` runscript defaults (nyu-mll/jiant
  ``guides/projects/xstilts.md``, ``jiant/proj/simple/runscript.py``:
  lr 1e-5, 3 epochs, warm-up proportion 0.1, batch 4 per device) with the
  gradient accumulation (8 for classification and tagging, 4 for QA) and
  maximum lengths (256; 384 for QA) of jiant's X-STILTs XTREME subscripts.
- ``xtreme-dir``: the same hyper-parameters as ``full`` for the small encoder
  of that profile, with the embedding matrix trainable; real data, so no
  example caps.
- ``embedded``: sized so that the whole profile (4 intermediate runs and 6
  target trainings x 5 arms) trains in about 8 minutes on a 2-core CPU with
  e5-small: the 96M-parameter embedding matrix frozen, 64 English training
  examples per task, short sequences (64; 128 with stride 64 for QA), 2
  epochs, batch 16, lr 1e-4, fp32 (see the measurements beside ``_EMBEDDED``).
- ``realdata``: the real XTREME-R files with leakage-free English training blocks
  (:mod:`helpers.realsplits`), sized like ``embedded`` for the 2-core CPU (see
  ``_REALDATA``).
- ``smoke``: a handful of optimisation steps on the tiny encoder; seconds.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .errors import StudyError, check_choice, check_positive
from .tasks import ALL_TASKS, TASKS, get_task, intermediate_tasks, target_training_tasks

PROFILES = ("smoke", "embedded", "xtreme-dir", "full", "realdata")
PHASES = ("intermediate", "target")

#: Trainable tasks by recipe family (the registry's format -> family): every intermediate task, every
#: target with English training data (LAReQA and Mewsli-X have XTREME-R recipes; this study does not
#: train them) and the stages of XCOPA (SIQA, COPA), plus PAWS-X.
FAMILY: dict[str, str] = {name: spec.family for name, spec in ALL_TASKS.items() if spec.trainable}
INTERMEDIATE = intermediate_tasks() + ("multi",)
TARGET = target_training_tasks()
NO_TRAINING = tuple(name for name, spec in TASKS.items() if not spec.trainable)


#: Keys of removed fields that the serialised recipe keeps with their only value: a run's parameters and
#: the ``recipe`` digest of ``results/training_cost.csv`` hash ``Recipe.as_dict()``, and the committed
#: runs were trained when the recipe still had ``patience`` (never applied: no early stopping).
LEDGER_KEYS: dict[str, None] = {"patience": None}


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one training run (a phase of one task)."""

    learning_rate: float
    batch_size: int  # per device
    grad_accum: int
    epochs: float
    max_length: int
    doc_stride: int = 128  # span QA window overlap
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_train_examples: int | None = None  # None = all
    max_dev_examples: int | None = None
    eval_every: int | str = "epoch"  # optimizer steps, or "epoch"
    freeze_embeddings: bool = False  # the word-embedding matrix only
    freeze_layers: int = 0  # the lowest transformer layers kept frozen (0 = train every layer)
    bf16: bool = False  # bf16 autocast (CUDA, or CPU where faster)
    seed: int = 1
    max_steps: int | None = None  # cap on optimizer steps (smoke)
    reference: str = ""  # where the numbers come from

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse values that cannot train, with one line naming the field and the value.

        Every number must be finite: ``--set learning_rate=Infinity`` (JSON's
        ``Infinity``/``NaN``) is refused here; a finite value that still drives
        the loss to NaN (``learning_rate=1e30``) is stopped by the training loop.
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise StudyError(f"{f.name} must be a finite number, got {value!r}")
        check_positive("learning_rate", self.learning_rate)
        for name in ("batch_size", "grad_accum", "max_length", "doc_stride"):
            check_positive(name, getattr(self, name), integer=True)
        check_positive("epochs", self.epochs)
        for name in ("max_train_examples", "max_dev_examples", "max_steps"):
            if getattr(self, name) is not None:
                check_positive(name, getattr(self, name), integer=True)
        if isinstance(self.warmup_ratio, bool) or not isinstance(self.warmup_ratio, (int, float)) \
                or not 0 <= self.warmup_ratio < 1:
            raise StudyError(f"warmup_ratio must be a number in [0, 1), got {self.warmup_ratio!r}")
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, (int, float)) \
                or self.weight_decay < 0:
            raise StudyError(f"weight_decay must be a non-negative number, got {self.weight_decay!r}")
        if self.eval_every != "epoch":
            if isinstance(self.eval_every, bool) or not isinstance(self.eval_every, int) or self.eval_every <= 0:
                raise StudyError(f"eval_every must be 'epoch' or a positive number of steps, got {self.eval_every!r}")
        if isinstance(self.freeze_layers, bool) or not isinstance(self.freeze_layers, int) or self.freeze_layers < 0:
            raise StudyError(f"freeze_layers must be a non-negative integer, got {self.freeze_layers!r}")
        for name in ("freeze_embeddings", "bf16"):
            if not isinstance(getattr(self, name), bool):
                raise StudyError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise StudyError(f"seed must be a non-negative integer, got {self.seed!r}")

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.grad_accum

    def as_dict(self) -> dict:
        """The recipe's fields, plus :data:`LEDGER_KEYS` so that recipe digests match the committed runs."""
        return {**dataclasses.asdict(self), **LEDGER_KEYS}


# --------------------------------------------------------------------------- full
_XTREME_R = "XTREME-R scripts (google-research/xtreme scripts/, commit 838c13b69daa; REPORTED.md)"
_JIANT = (
    "jiant X-STILTs guide + simple runscript defaults (lr 1e-5, 3 epochs, warm-up 0.1, batch 4) with the "
    "X-STILTs XTREME subscripts' accumulation and lengths (nyu-mll/jiant, commit daa5a258e3af; REPORTED.md)"
)

_FULL_TARGET = {
    # XTREME-R scripts/train_xnli.sh (XLM-R Large): lr 3e-5, batch 2 x 16, 5 epochs, length 128.
    "classification": Recipe(3e-5, 16, 2, 5, 128, reference=f"{_XTREME_R}: XNLI/XCOPA lr 3e-5, batch 2x16, 5 epochs, length 128"),
    # XCOPA (SIQA then COPA) uses the XNLI settings in XTREME-R's scripts.
    "multiple-choice": Recipe(3e-5, 16, 2, 5, 128, reference=f"{_XTREME_R}: XNLI/XCOPA lr 3e-5, batch 2x16, 5 epochs, length 128"),
    # scripts/train_udpos.sh, train_panx.sh: lr 2e-5, batch 2 x 16, 10 epochs, length 128.
    "tagging": Recipe(2e-5, 16, 2, 10, 128, reference=f"{_XTREME_R}: UD-POS/PAN-X lr 2e-5, batch 2x16, 10 epochs, length 128"),
    # scripts/train_qa.sh: lr 3e-5, batch 4 x 8, 3 epochs, length 384, doc stride 128.
    "qa": Recipe(3e-5, 8, 4, 3, 384, doc_stride=128, reference=f"{_XTREME_R}: QA lr 3e-5, batch 4x8, 3 epochs, length 384, stride 128"),
    # Retrieval targets with recipes of their own (helpers.tasks: TaskSpec.recipe)
    # scripts/train_lareqa.sh: lr 2e-5, batch 4 x 4, 3 epochs, length 352 (not trained by this study)
    "retrieval-qa": Recipe(2e-5, 4, 4, 3, 352, reference=f"{_XTREME_R}: LAReQA lr 2e-5, batch 4x4, 3 epochs, length 352"),
    # scripts/train_mewslix.sh: lr 1e-5, batch 8 x 4, 2 epochs, length 64 (not trained by this study)
    "retrieval-entity": Recipe(1e-5, 8, 4, 2, 64, reference=f"{_XTREME_R}: Mewsli-X lr 1e-5, batch 8x4, 2 epochs, length 64"),
}
_FULL_INTERMEDIATE = {
    "classification": Recipe(1e-5, 4, 8, 3, 256, eval_every=1000, reference=f"{_JIANT}: accumulation 8, length 256"),
    "multiple-choice": Recipe(1e-5, 4, 8, 3, 256, eval_every=1000, reference=f"{_JIANT}: accumulation 8, length 256"),
    "tagging": Recipe(1e-5, 4, 8, 3, 256, eval_every=1000, reference=f"{_JIANT}: accumulation 8, length 256"),
    "qa": Recipe(1e-5, 4, 4, 3, 384, doc_stride=128, eval_every=1000, reference=f"{_JIANT}: accumulation 4, length 384"),
    # jiant's multi-task run: same optimiser, evaluate every 1000 steps (X-STILTs subscripts). jiant also
    # stops early (patience 30 evaluations); this study trains every run for its full epochs: no early stopping.
    "multi": Recipe(1e-5, 4, 8, 3, 256, doc_stride=128, eval_every=1000,
                    reference=f"{_JIANT}: multi-task, evaluate every 1000 steps (no early stopping here)"),
}

# --------------------------------------------------------------------------- embedded
# Measured on the 2-core CPU of the development machine (AMD EPYC, AVX2 only: no AVX-512, no AMX)
# with an e5-small-shaped model (12 layers, hidden 384, vocabulary 250,002): one training step at
# batch 16 x length 64 is 134 GFLOP (forward + backward, frozen embedding matrix); fp32 took
# 15-16 s a step under a load average of ~9 (other jobs),
# a trainable embedding matrix cost ~10% more, and bf16 autocast was > 5x SLOWER (no native bf16
# matrix units), so bf16 stays off on CPU. Budget: ~360k real training tokens over the whole
# profile (64 examples x 2 epochs per run) = ~47 TFLOP.
# Re-measured on a quiet machine: one step of e5-small at batch 8 x ~44 tokens takes ~0.7 s
# (forward + backward + AdamW), a whole target run (load, 24 steps, 3 dev evaluations, checkpoints,
# save) ~30 s. Batch 16 with 8 steps left XNLI at chance (32.7 vs the 31.3 majority baseline) and
# PAN-X at F1 0; batch 8 with 24 steps reached 69 (XNLI dev) and 64 (PAN-X dev F1), so the embedded
# recipes take more, smaller steps. Freezing the lower six layers saved only ~7% and cost accuracy.
# On the idle machine a step at batch 8 x 24 tokens spends ~0.35 s in forward + backward and 0.09 s in
# the per-tensor AdamW update of the 21M trainable parameters; fused AdamW (all the Trainer uses now)
# takes 0.03 s.
_EMB = ("embedded profile: sized for minutes of CPU training per arm (frozen embedding matrix, "
        "64 English examples, batch 8, 2-3 epochs)")
_EMB_KW = dict(max_train_examples=64, max_dev_examples=32, freeze_embeddings=True, bf16=False, reference=_EMB)
_EMBEDDED = {
    "classification": Recipe(2e-4, 8, 1, 3, 64, **_EMB_KW),
    "multiple-choice": Recipe(2e-4, 8, 1, 3, 64, **_EMB_KW),
    "tagging": Recipe(3e-4, 8, 1, 3, 64, **_EMB_KW),
    "qa": Recipe(3e-4, 8, 1, 2, 128, doc_stride=64, **_EMB_KW),
    "multi": Recipe(2e-4, 8, 1, 2, 128, doc_stride=64, **_EMB_KW),
}

# --------------------------------------------------------------------------- realdata
# The realdata profile trains e5-small on the real English training blocks of helpers.realsplits,
# sized like embedded (frozen embedding matrix, fp32, batch 8) for the 2-core CPU. Measured there
# under a load of ~2.3 (other jobs): e5-small ran 1,000-1,300 tokens/s forward (batch 32 x 128-256);
# a direct XNLI run on 128 examples for one epoch (5,663 tokens, with load, 32 dev examples and save)
# took 51 s and reached 40.6 dev accuracy; an XQuAD run on 64 MLQA-en questions (21,607 tokens in
# 256-token windows) took 137 s and reached dev F1 0.9. Evaluation dominates the profile (the
# leakage-free test subsets: >= 100 examples per language of nine tasks, ~1.6 QA test examples/s),
# so each training run sees a few hundred short examples, and QA only 64 questions for one epoch.
_REAL = ("realdata profile: real English training blocks (helpers.realsplits), frozen embedding matrix, "
         "a few hundred examples per run (QA 64), batch 8")
_REAL_KW = dict(max_dev_examples=64, freeze_embeddings=True, bf16=False, reference=_REAL)
_REALDATA = {
    "classification": Recipe(1e-4, 8, 1, 2, 128, max_train_examples=128, **_REAL_KW),
    "multiple-choice": Recipe(1e-4, 8, 1, 2, 96, max_train_examples=256, **_REAL_KW),
    "tagging": Recipe(2e-4, 8, 1, 2, 128, max_train_examples=256, **_REAL_KW),
    "qa": Recipe(3e-4, 8, 1, 1, 256, doc_stride=128, max_train_examples=64,
                 **{**_REAL_KW, "max_dev_examples": 32}),
    "multi": Recipe(1e-4, 8, 1, 1, 128, doc_stride=64, max_train_examples=512, **_REAL_KW),
}
#: Intermediate runs are few (one per STILTs arm): one epoch over more examples than a target run.
_REALDATA_INTERMEDIATE = {
    "classification": Recipe(1e-4, 8, 1, 1, 128, max_train_examples=512, **_REAL_KW),
    "multiple-choice": Recipe(1e-4, 8, 1, 1, 128, max_train_examples=512, **_REAL_KW),
    "multi": _REALDATA["multi"],
}

# --------------------------------------------------------------------------- smoke
_SMOKE = Recipe(5e-4, 4, 1, 1, 48, doc_stride=16, warmup_ratio=0.0, max_train_examples=12, max_dev_examples=8,
                eval_every="epoch", max_steps=3, reference="smoke profile: a handful of steps on the tiny encoder")


def family(task: str) -> str:
    """The recipe family of a trainable task (classification, multiple-choice, tagging, qa)."""
    if task == "multi":
        return "multi"
    if task in NO_TRAINING:
        raise StudyError(f"task {task} has no training data (the encoder is used as it is); "
                         f"trainable tasks: {', '.join(sorted(FAMILY))}")
    if task not in FAMILY:
        raise StudyError(f"unknown task {task!r}; trainable tasks: {', '.join(sorted(FAMILY))}, multi")
    return FAMILY[task]


def get_recipe(profile: str, task: str, phase: str) -> Recipe:
    """The :class:`Recipe` of ``task`` in ``phase`` under ``profile``."""
    check_choice("profile", profile, PROFILES)
    check_choice("phase", phase, PHASES)
    fam = family(task)
    valid = INTERMEDIATE if phase == "intermediate" else TARGET
    if task not in valid:
        raise StudyError(f"task {task} is not trained in the {phase} phase; valid tasks: {', '.join(valid)}")
    if profile == "smoke":
        return _SMOKE
    if profile == "embedded":
        return _EMBEDDED["multi" if fam == "multi" else fam]
    if profile == "realdata":
        return (_REALDATA_INTERMEDIATE if phase == "intermediate" and fam in _REALDATA_INTERMEDIATE else _REALDATA)[fam]
    if phase == "target":
        recipe = _FULL_TARGET[get_task(task).recipe_key]
    else:
        recipe = _FULL_INTERMEDIATE[fam]
    if profile == "xtreme-dir":
        recipe = dataclasses.replace(recipe, reference=f"xtreme-dir uses the full recipe: {recipe.reference}")
    return recipe
