"""From the measured embedded runs to the ``full`` profile: training throughput of the
XLM-R Large shape, real tokens per example of each training set, and the hours and
FLOPs of the full study for the direct and STILTs arms.

Training-set sizes are the public sizes of the English training sets (dataset
cards and the datasets' papers); they are inputs, not results, and are never
printed as "reported". Tokens per example are measured with the real XLM-R
tokenizer on real sample files from ``../shared/realdata`` (a stated proxy
where the task's own file is not among them), falling back to the generated
benchmark when that folder is absent:

- ANLI+ is ANLI R1-R3, MNLI and SNLI together (:data:`ANLI_PLUS`); its
  tokens per example are the size-weighted mean of its parts, each measured on
  its own file or proxy (ANLI's long premises are 15% of the examples).
- HellaSwag is measured in its own format (a short context paired with each of
  four one-sentence endings, no question, no passage): its own file when
  ``../shared/realdata/hellaswag/`` holds one, otherwise examples of that shape
  built from consecutive real English sentences (:func:`hellaswag_format_examples`).

Padding: the study's collator pads each batch to its longest sequence
(dynamic padding); :func:`tokens_per_example` also simulates that for the
recipe's per-device batch size, and gives the positions of padding every
sequence to the recipe's maximum length, as XTREME-R's own scripts do
(``third_party/processors/utils.py``, ``convert_examples_to_features``). FLOPs
count real tokens; hours count every position the hardware computes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from . import preprocess, recipes, runs, sources
from .config import PROFILES
from .costs import count_flops
from .errors import StudyError, check_choice, check_positive
from .models import load_model, preset_config
from .runs import device_name
from .tasks import (
    ALL_TASKS,
    COMPONENTS,
    SUBSETS,
    get_data_spec,
    get_task,
    intermediate_tasks,
    target_training_tasks,
)

def _train_size(task: str) -> int:
    """Examples of the English training data of ``task``: its own set plus its mixture, else its source's."""
    spec = get_data_spec(task)
    if spec.train_examples is None:
        return _train_size(spec.train_tasks[0])
    return spec.train_examples + sum(_train_size(part) for part in spec.train_mixture)


def _target_training_sets() -> tuple[str, ...]:
    """Phase (iii) training sets with data of their own: each trainable target, XCOPA as its stages."""
    return tuple(t for t in target_training_tasks()
                 if get_task(t).family != "retrieval" and not get_task(t).shared_model and "+" not in
                 (get_task(t).train_source or ""))


#: English training-set sizes (examples) of the full study, from the registry's public dataset sizes
#: (:attr:`helpers.tasks.TaskSpec.train_examples`): phase (ii) Phang et al.'s nine intermediate tasks
#: (ANLI+ = ANLI R1-R3 + MNLI + SNLI), then phase (iii) XTREME-R's English training data (XNLI: MNLI;
#: XCOPA: SIQA, then COPA; XQuAD and MLQA: SQuAD v1.1).
TRAIN_SIZES: dict[str, int] = {t: _train_size(t) for t in intermediate_tasks() + _target_training_sets()}

#: the parts of ANLI+ (examples): ANLI R1-R3 training rounds, MNLI, SNLI
ANLI_PLUS: dict[str, int] = {"anli": get_task("anli").train_examples,
                             **{part: _train_size(part) for part in get_task("anli").train_mixture}}

_SAMPLED = {**ALL_TASKS, **COMPONENTS}
#: real sample file used to measure tokens per example, and whether it is the task's own data:
#: task -> (realdata task loader name, language, own data?) (TaskSpec.token_sample)
_TOKEN_SOURCES: dict[str, tuple[str, str, bool]] = {
    name: (spec.token_sample, "en", spec.token_sample == name and name in spec.train_tasks)
    for name, spec in _SAMPLED.items() if spec.token_sample
}
#: the split of each realdata sample file that holds examples (TaskSpec.realdata_sample)
_SPLITS = {name: spec.realdata_sample[0] for name, spec in _SAMPLED.items() if spec.realdata_sample}


def full_epochs(task: str, phase: str) -> float:
    """Epochs of ``task`` in the full profile's recipe."""
    return float(recipes.get_recipe("full", task, phase).epochs)


def _recipe(task: str):
    """The full recipe that measures ``task`` (its ``length_recipe``: SQuAD as XQuAD's QA target, SNLI as MNLI)."""
    name = get_data_spec(task).length_recipe or task
    phase = "target" if name in recipes.TARGET else "intermediate"
    return recipes.get_recipe("full", name, phase)


def hellaswag_format_examples(sentences: Sequence[str], n: int, *, seed: int = 0) -> list[dict]:
    """``n`` examples in HellaSwag's format from consecutive real sentences.

    HellaSwag pairs a short context (``ctx``: one to three sentences, the
    last often cut short) with each of four one-sentence endings, with no
    question and no passage. Example ``i`` takes sentences ``i`` and ``i+1``
    as its context; its endings are sentence ``i+2`` (the true continuation)
    and three sentences drawn (seeded) from elsewhere in the text, the way
    HellaSwag's wrong endings are plausible sentences of the same register.
    """
    check_positive("n", n, integer=True)
    sentences = [s.strip() for s in sentences if s and s.strip()]
    if len(sentences) < 6:
        raise StudyError(f"hellaswag_format_examples needs at least 6 sentences, got {len(sentences)}")
    rng = random.Random(seed)
    out = []
    for i in range(min(n, len(sentences) - 2)):
        others = rng.sample([j for j in range(len(sentences)) if j not in (i, i + 1, i + 2)], 3)
        endings = [sentences[i + 2]] + [sentences[j] for j in others]
        out.append({"id": f"hellaswag-format-{i}", "context": f"{sentences[i]} {sentences[i + 1]}", "question": "",
                    "choices": endings, "label": 0})
    return out


def _load(name: str, lang: str, sample: int):
    """``(examples, format, measured_on, own)`` from ../shared/realdata, or the generated benchmark."""
    root = sources.realdata_root()
    if root is not None:
        source = sources.get_source("xtreme-dir", root)
        if name == "hellaswag" and not (root / "hellaswag").is_dir():
            words = sources.load_examples("udpos", "test", "en", source, limit=4 * sample + 8)
            examples = hellaswag_format_examples([" ".join(ex["tokens"]) for ex in words], sample)
            return (examples, "multiple-choice",
                    "HellaSwag format (2-sentence context x 4 one-sentence endings) from realdata udpos test-en "
                    "sentences (no HellaSwag file)", False)
        # the sample's split and language (the only TyDiQA file with answers is Swahili train)
        split, sample_lang = get_task(name).realdata_sample
        lang_for = lang if sample_lang == "en" else sample_lang
        examples = sources.load_examples(name, split, lang_for, source, limit=sample)
        return examples, get_task(name).format, f"realdata {name} {split}-{lang_for}", sample_lang == "en"
    source = sources.get_source("embedded")
    gen = get_data_spec(name).generated_proxy or name
    examples = sources.load_examples(gen, "train", "en", source, limit=sample)
    return examples, get_task(gen).format, f"generated {gen} train-en", False


def _dynamic_padding(units: Sequence[Sequence[int]], batch_size: int, seed: int = 0) -> int:
    """Positions computed when shuffled ``units`` go in batches of ``batch_size``, each padded to its longest."""
    order = list(range(len(units)))
    random.Random(seed).shuffle(order)
    total = 0
    for start in range(0, len(order), batch_size):
        chunk = [units[i] for i in order[start:start + batch_size]]
        longest = max(max(u) for u in chunk)
        total += sum(len(u) for u in chunk) * longest
    return total


def _measure(name: str, lang: str, own: bool, tokenizer, sample: int, max_length: int | None, recipe_task: str,
             seed: int) -> dict:
    """Token statistics of one training source (see :func:`tokens_per_example`)."""
    examples, fmt, measured_on, own_file = _load(name, lang, sample)
    try:
        recipe = _recipe(recipe_task)
        length, stride, batch = max_length or recipe.max_length, recipe.doc_stride, recipe.batch_size
    except StudyError:
        length, stride, batch = max_length or 256, 128, 16
    label_names = get_task(name).labels
    feats = preprocess.encode(fmt, examples, tokenizer, length, train=False, label_names=label_names,
                              doc_stride=stride)
    units = []  # the sequences that travel together in a batch: an example's choices, else one sequence
    for f in feats:
        ids = f["input_ids"]
        units.append([len(x) for x in ids] if ids and isinstance(ids[0], list) else [len(ids)])
    n = len(examples)
    real = sum(sum(u) for u in units)
    sequences = sum(len(u) for u in units)
    return {"tokens": real / n, "sequences": sequences / n, "max_length": length, "batch_size": batch,
            "padded_dynamic": _dynamic_padding(units, batch, seed) / n, "padded_max": sequences * length / n,
            "measured_on": measured_on, "proxy": not (own and own_file)}


def tokens_per_example(task: str, tokenizer, *, sample: int = 200, max_length: int | None = None,
                       seed: int = 0) -> dict:
    """Real tokens per training example of ``task``, measured on real files, and the padding around them.

    Multiple choice counts every choice's sequence; span QA counts the
    doc-stride windows of the full recipe's length. Returns ``{task, tokens,
    sequences, max_length, batch_size, padded_dynamic, padded_max,
    measured_on, proxy}``: ``tokens`` real (non-pad) tokens per example,
    ``sequences`` encoded sequences per example, ``padded_dynamic`` the
    positions per example when shuffled examples go in batches of the
    recipe's per-device ``batch_size`` padded to their longest (the study's
    collator), ``padded_max`` the positions when every sequence is padded to
    ``max_length`` (XTREME-R's scripts). ANLI+ is the size-weighted mean of
    its parts (:data:`ANLI_PLUS`), its ``measured_on`` naming each.
    """
    if task not in _TOKEN_SOURCES or task in COMPONENTS:
        valid = sorted(t for t in _TOKEN_SOURCES if t not in COMPONENTS)
        raise StudyError(f"no token-count source for {task}; valid tasks: {', '.join(valid)}")
    if get_task(task).train_mixture:  # ANLI+
        parts = {}
        for part, size in ANLI_PLUS.items():
            name, lang, own = _TOKEN_SOURCES[part]
            parts[part] = (size, _measure(name, lang, own, tokenizer, sample, max_length, "anli", seed))
        total = sum(size for size, _ in parts.values())
        out = {"task": task}
        for key in ("tokens", "sequences", "padded_dynamic", "padded_max"):
            out[key] = sum(size * m[key] for size, m in parts.values()) / total
        first = parts[task][1]
        out.update({"max_length": first["max_length"], "batch_size": first["batch_size"],
                    "measured_on": "ANLI+ = " + " + ".join(
                        f"{part} {size:,} x {m['tokens']:.1f} ({m['measured_on']})" for part, (size, m) in parts.items()),
                    "proxy": any(m["proxy"] for _, m in parts.values())})
        return out
    name, lang, own = _TOKEN_SOURCES[task]
    return {"task": task, **_measure(name, lang, own, tokenizer, sample, max_length, task, seed)}


# --------------------------------------------------------------------------- training-step throughput
PRECISIONS = ("fp32", "tf32", "bf16")


@dataclass(frozen=True)
class StepThroughput:
    preset: str
    batch: int
    length: int
    steps: int
    seconds_per_step: float
    tokens_per_s: float
    flops_per_token: float
    device: str
    precision: str = "fp32"
    optimizer_seconds: float = 0.0  # of seconds_per_step: the AdamW update and zeroing of gradients


def training_step_flops(preset: str, batch: int, length: int, *, num_labels: int = 3) -> int:
    """FLOPs of one forward + backward pass of ``preset``'s classifier on ``batch x length`` tokens.

    Counted by :func:`helpers.costs.count_flops` on a copy of the model on
    PyTorch's ``meta`` device (shapes only: no memory, no arithmetic, so an
    XLM-R Large count takes a second), with eager attention so the counter
    sees the attention matmuls on every device (it has no formula for the CPU
    SDPA kernel).
    """
    import torch

    preset_config(preset)  # outside the meta device: a local preset (tiny) may have files to build first
    with torch.device("meta"):
        model = load_model(preset, head="sequence-classification", num_labels=num_labels, pretrained=False,
                           attn_implementation="eager")
    model.train()
    # no attention mask: a full one changes no FLOPs, and building it would read values a meta tensor lacks
    inputs = {"input_ids": torch.zeros(batch, length, dtype=torch.long, device="meta"),
              "labels": torch.zeros(batch, dtype=torch.long, device="meta")}
    return count_flops(model, inputs)


def measure_training_step(preset: str = "xlmr-large", *, batch: int = 2, length: int = 64, steps: int = 3,
                          device: str = "cpu", seed: int = 0, precision: str = "fp32") -> StepThroughput:
    """Tokens/s of full training steps (forward, backward, AdamW) of a preset's shape.

    Random weights (only the shape matters for speed), a classification head,
    random token ids with a full attention mask; the first step is a warm-up
    and the median of the rest is kept, with the optimizer's share of it.
    ``precision``: ``fp32``; ``tf32`` (CUDA: fp32 weights, TF32 tensor-core
    matmuls); ``bf16`` (fp32 weights, forward and backward under bf16
    autocast, as mixed-precision training runs). FLOPs per token are counted
    once per shape (:func:`training_step_flops`). A small batch on a CPU
    measures mostly the optimizer (AdamW touches every parameter whatever
    the batch): measure the CPU at a batch such as 8 x 128.
    """
    import torch

    for name, value in (("batch", batch), ("length", length), ("steps", steps)):
        check_positive(name, value, integer=True)
    if steps < 2:
        raise StudyError("steps must be at least 2 (the first is a warm-up)")
    check_choice("precision", precision, PRECISIONS)
    if precision == "tf32" and device != "cuda":
        raise StudyError("precision tf32 needs a CUDA GPU; valid precisions on cpu: fp32, bf16")
    flops = training_step_flops(preset, batch, length)
    torch.manual_seed(seed)
    model = load_model(preset, head="sequence-classification", num_labels=3, pretrained=False).to(device)
    model.train()
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (batch, length), generator=gen).to(device)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids),
              "labels": torch.zeros(batch, dtype=torch.long, device=device)}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)  # as the Trainer runs (adamw_torch_fused)

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    tf32_before = torch.backends.cuda.matmul.allow_tf32
    times, opt_times = [], []
    try:
        if precision == "tf32":
            torch.backends.cuda.matmul.allow_tf32 = True
        autocast = (torch.autocast(device_type=device, dtype=torch.bfloat16) if precision == "bf16"
                    else contextlib.nullcontext())
        for _ in range(steps):
            sync()
            start = time.perf_counter()
            with autocast:
                loss = model(**inputs).loss
            loss.backward()
            sync()
            mid = time.perf_counter()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            sync()
            end = time.perf_counter()
            times.append(end - start)
            opt_times.append(end - mid)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32_before
    per_step = statistics.median(times[1:])
    return StepThroughput(preset=preset, batch=batch, length=length, steps=steps, seconds_per_step=per_step,
                          tokens_per_s=batch * length / per_step, flops_per_token=flops / (batch * length),
                          device=device_name(), precision=precision,
                          optimizer_seconds=statistics.median(opt_times[1:]))


# --------------------------------------------------------------------------- the full study
def full_study_plan(intermediates: tuple[str, ...], targets: tuple[str, ...]) -> list[tuple[str, str]]:
    """(task, phase) of every training set the full study trains, once each."""
    plan = [(t, "intermediate") for t in intermediates]
    for target in targets:
        if "+" in (get_task(target).train_source or ""):  # XCOPA: SIQA, then COPA
            plan += [(stage, "target") for stage in get_task(target).train_tasks]
        elif target in TRAIN_SIZES:
            plan.append((target, "target"))
    return plan


def full_study_inputs(tokenizer, intermediates: Sequence[str], targets: Sequence[str], *, sample: int = 200):
    """Per training set of the full study: phase, examples, epochs and the token statistics.

    A DataFrame indexed by task with :func:`tokens_per_example`'s fields plus
    ``phase``, ``examples`` (:data:`TRAIN_SIZES`) and ``epochs`` (the full recipe).
    """
    rows = []
    for task, phase in full_study_plan(tuple(intermediates), tuple(targets)):
        stats = tokens_per_example(task, tokenizer, sample=sample)
        rows.append({**stats, "phase": phase, "examples": TRAIN_SIZES[task], "epochs": full_epochs(task, phase)})
    return pd.DataFrame(rows).set_index("task")


def _nearest(lengths: Sequence[int], value: float) -> int:
    return min(sorted(lengths), key=lambda n: (abs(n - value), n))


def extrapolate_full(inputs, *, gpu: Mapping[str, Mapping[int, Mapping]], cpu: StepThroughput | None = None):
    """Tokens, PFLOPs and hours of each training set of the full study.

    ``inputs``: :func:`full_study_inputs`. ``gpu``: ``{label: {length:
    {"tokens_per_s", ...}}}``, measured training throughput by sequence length
    (:func:`helpers.gpu.training_throughput`), e.g. one label per precision;
    each task uses the measured length nearest to its mean padded sequence.
    ``cpu``: the step measured on this machine. Columns: ``tokens`` (real,
    all epochs), ``PFLOPs`` (real tokens x the FLOPs per token of the GPU row
    used, forward + backward), ``positions (dynamic)`` and ``positions (max
    length)`` (what the hardware computes under each padding), and per label
    ``<label>-hours`` (dynamic padding), ``<label>-hours padded`` (every
    sequence at the recipe's maximum length); ``CPU-hours`` (dynamic padding).
    """
    if not gpu:
        raise StudyError("extrapolate_full needs at least one measured GPU throughput (helpers.gpu.training_throughput)")
    out = pd.DataFrame(index=inputs.index)
    out["phase"] = inputs["phase"]
    out["examples"] = inputs["examples"]
    out["epochs"] = inputs["epochs"]
    out["tokens/example"] = inputs["tokens"]
    out["positions/example (dynamic)"] = inputs["padded_dynamic"]
    out["positions/example (max length)"] = inputs["padded_max"]
    out["tokens"] = inputs["examples"] * inputs["tokens"] * inputs["epochs"]
    out["positions (dynamic)"] = inputs["examples"] * inputs["padded_dynamic"] * inputs["epochs"]
    out["positions (max length)"] = inputs["examples"] * inputs["padded_max"] * inputs["epochs"]
    mean_seq = inputs["padded_dynamic"] / inputs["sequences"]
    first = next(iter(gpu.values()))
    out["measured length used"] = [_nearest(list(first), v) for v in mean_seq]
    fpt = [first[n].get("flops_per_token") or (cpu.flops_per_token if cpu else None) for n in out["measured length used"]]
    if any(f is None for f in fpt):
        raise StudyError("no FLOPs per token: give the GPU rows' flops_per_token or a measured cpu step")
    out["PFLOPs"] = out["tokens"] * pd.Series(fpt, index=out.index, dtype=float) / 1e15
    for label, by_length in gpu.items():
        tps = pd.Series([by_length[_nearest(list(by_length), v)]["tokens_per_s"] for v in mean_seq], index=out.index)
        out[f"{label}-hours"] = out["positions (dynamic)"] / tps / 3600
        out[f"{label}-hours padded"] = out["positions (max length)"] / tps / 3600
    if cpu is not None:
        out["CPU-hours"] = out["positions (dynamic)"] / cpu.tokens_per_s / 3600
    return out


def arm_costs(per_task, intermediates: Sequence[str]):
    """The full study's cost per arm from :func:`extrapolate_full`, in PFLOPs and hours.

    Rows: ``direct (all targets)``; ``one STILTs arm: + <task>`` for MNLI,
    SQuAD and HellaSwag (the paper's best three); ``multi (nine mixed, one
    pass each)``; ``the whole full study (direct, nine single-task arms,
    multi)``, where every STILTs arm also trains every target. Columns:
    ``PFLOPs``, ``extra PFLOPs vs direct``, ``direct PFLOPs``, ``x direct``,
    and every hours column of ``per_task`` (totals).
    """
    hours = [c for c in per_task.columns if c.endswith("-hours") or c.endswith("-hours padded")]
    cols = ["PFLOPs"] + hours
    inter = per_task[per_task["phase"] == "intermediate"]
    target = per_task[per_task["phase"] == "target"][cols].sum()
    inter_all = inter.loc[[t for t in intermediates if t in inter.index], cols].sum()
    rows = {"direct (all targets)": target}
    for task in SUBSETS["three-intermediates"]:
        if task in inter.index:
            rows[f"one STILTs arm: + {get_task(task).label}"] = target + inter.loc[task, cols]
    rows["multi (nine mixed, one pass each)"] = target + inter_all
    n_single = len([t for t in intermediates if t in inter.index])
    rows[f"the whole full study (direct, {n_single} single-task arms, multi)"] = \
        target * (n_single + 2) + inter_all * 2
    out = pd.DataFrame(rows).T
    out.index.name = "arm"
    out.insert(1, "extra PFLOPs vs direct", out["PFLOPs"] - target["PFLOPs"])
    out.insert(2, "direct PFLOPs", target["PFLOPs"])
    out.insert(3, "x direct", out["PFLOPs"] / target["PFLOPs"])
    return out


#: the CPU training step the chapter measures: a batch where forward and backward, not AdamW, dominate
CPU_STEP_SHAPE = (8, 128)
SMOKE_CPU_STEP_SHAPE = (2, 32)  # the smoke profile runs in seconds: its number is a code-path check only


def cpu_step_shape(profile: str) -> tuple[int, int]:
    """``(batch, length)`` of the CPU training step measured for ``profile`` (8 x 128; smoke 2 x 32).

    AdamW reads and writes every parameter once a step whatever the batch,
    so at a small batch (2 x 64) the optimizer's share of a CPU step is
    large; at 8 x 128 the forward and backward passes dominate, as they do
    on the full study's batches.
    """
    check_choice("profile", profile, tuple(PROFILES))
    return SMOKE_CPU_STEP_SHAPE if profile == "smoke" else CPU_STEP_SHAPE


FULL_EXTRAPOLATION_KEY = ("profile", "arm")


def record_full_extrapolation(profile: str, arms) -> Path:
    """Replace ``profile``'s rows of ``results/full_extrapolation.csv`` with :func:`arm_costs`' rows.

    Every row of the profile is replaced (an arm renamed since the last run
    leaves no stale row); other profiles' rows are kept. Numbers are rounded
    to 4 decimals.
    """
    path = runs.results_root() / "full_extrapolation.csv"
    new = [{"profile": profile, "arm": arm, **{c: round(float(v), 4) for c, v in row.items()}}
           for arm, row in arms.iterrows()]
    columns = list(FULL_EXTRAPOLATION_KEY) + [c for c in new[0] if c not in FULL_EXTRAPOLATION_KEY]
    with runs.file_lock(path):
        kept = [r for r in runs.read_table(path) if r.get("profile") != profile]
        for r in kept:
            for c in r:
                if c not in columns:
                    columns.append(c)
        rows = sorted(kept + new, key=lambda r: (str(r["profile"]), str(r["arm"])))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
        runs.atomic_write_text(path, buf.getvalue())
    return path
