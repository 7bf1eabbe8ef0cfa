"""From the measured embedded runs to the ``full`` profile: training throughput of the
XLM-R Large shape, real tokens per example of each training set, and the hours and
FLOPs of the full study for the direct and STILTs arms.

Training-set sizes are the public sizes of the English training sets (dataset
cards and the datasets' papers); they are inputs, not results, and are never
printed as "reported". Tokens per example are measured with the real XLM-R
tokenizer on real sample files from ``../shared/realdata`` (a stated proxy
where the task's own file is not among them), falling back to the generated
benchmark when that folder is absent.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from .errors import StudyError, check_positive

#: English training-set sizes (examples) of the full study; public dataset sizes.
TRAIN_SIZES: dict[str, int] = {
    # phase (ii): Phang et al.'s nine intermediate tasks
    "anli": 162_865 + 392_702 + 550_152,  # ANLI R1-R3 + MNLI + SNLI (ANLI+)
    "mnli": 392_702,
    "qqp": 363_846,
    "squad": 87_599,
    "sst2": 67_349,
    "ccg": 39_604,  # CCGbank sections 02-21 (sentences)
    "cosmosqa": 25_262,
    "hellaswag": 39_905,
    "commonsenseqa": 9_741,
    # phase (iii): XTREME-R's English training data
    "xnli": 392_702,  # MNLI
    "siqa": 33_410,  # XCOPA's first stage
    "copa": 400,  # XCOPA's second stage (XTREME-R's train-en)
    "udpos": 21_253,  # UD v2.5 English treebanks as XTREME packages them (approximate)
    "panx": 20_000,
    "xquad": 87_599,  # SQuAD v1.1 (also MLQA's model)
    "tydiqa": 3_696,
}

#: real sample file used to measure tokens per example, and whether it is the task's own data
_TOKEN_SOURCES: dict[str, tuple[str, str, bool]] = {
    # task: (realdata task loader name, language, own data?)
    "anli": ("anli", "en", True),
    "mnli": ("xnli", "en", False),  # XNLI en dev: MNLI-style pairs
    "xnli": ("xnli", "en", False),
    "qqp": ("pawsx", "en", False),  # sentence pairs
    "squad": ("xquad", "en", False),  # XQuAD en = SQuAD v1.1 dev paragraphs
    "xquad": ("xquad", "en", False),
    "sst2": ("sst2", "en", True),
    "ccg": ("udpos", "en", False),  # English sentences as word sequences
    "udpos": ("udpos", "en", True),
    "cosmosqa": ("cosmosqa", "en", True),
    "hellaswag": ("cosmosqa", "en", False),  # four-way multiple choice with a context
    "commonsenseqa": ("commonsenseqa", "en", True),
    "siqa": ("siqa", "en", True),
    "copa": ("copa", "en", True),
    "panx": ("panx", "en", True),
    "tydiqa": ("tydiqa", "en", True),
}


def full_epochs(task: str, phase: str) -> float:
    """Epochs of ``task`` in the full profile's recipe."""
    from .recipes import get_recipe

    return float(get_recipe("full", task, phase).epochs)


def tokens_per_example(task: str, tokenizer, *, sample: int = 200, max_length: int | None = None) -> dict:
    """Mean real tokens per training example of ``task``, measured on real files.

    Multiple choice counts every choice's sequence; span QA counts the
    doc-stride windows of the full recipe's length. Returns ``{task, tokens,
    measured_on, proxy}``.
    """
    from . import preprocess, recipes, sources
    from .tasks import get_task

    if task not in _TOKEN_SOURCES:
        raise StudyError(f"no token-count source for {task}; valid tasks: {', '.join(sorted(_TOKEN_SOURCES))}")
    name, lang, own = _TOKEN_SOURCES[task]
    root = sources.realdata_root()
    if root is not None:
        source = sources.get_source("xtreme-dir", root)
        split = {"sst2": "test", "anli": "dev", "cosmosqa": "dev", "commonsenseqa": "dev", "siqa": "dev",
                 "copa": "train", "panx": "dev", "udpos": "test", "xnli": "dev", "pawsx": "dev",
                 "xquad": "test", "tydiqa": "train"}[name]
        lang_for = "sw" if name == "tydiqa" else lang  # the only TyDiQA file with answers is Swahili train
        measured_on = f"realdata {name} {split}-{lang_for}"
        own = own and name != "tydiqa"
    else:
        source = sources.get_source("embedded")
        split, lang_for = "train", "en"
        name = {"mnli": "xnli", "qqp": "xnli", "ccg": "udpos", "hellaswag": "xcopa", "cosmosqa": "xcopa",
                "commonsenseqa": "xcopa", "siqa": "xcopa", "copa": "xcopa", "anli": "xnli", "sst2": "xnli"}.get(name, name)
        measured_on = f"generated {name} train-en"
        own = False
    examples = sources.load_examples(name, split, lang_for, source, limit=sample)
    fmt = get_task(name).format
    recipe_task = "xquad" if task == "squad" else task
    try:
        recipe = recipes.get_recipe("full", recipe_task, "target" if recipe_task in recipes.TARGET else "intermediate")
        length = max_length or recipe.max_length
        stride = recipe.doc_stride
    except StudyError:
        length, stride = max_length or 256, 128
    feats = preprocess.encode(fmt, examples, tokenizer, length, train=False, label_names=get_task(name).labels,
                              doc_stride=stride)
    total = 0
    for f in feats:
        ids = f["input_ids"]
        total += sum(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)
    return {"task": task, "tokens": total / len(examples), "measured_on": measured_on, "proxy": not own}


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


def measure_training_step(preset: str = "xlmr-large", *, batch: int = 2, length: int = 64, steps: int = 3,
                          device: str = "cpu", seed: int = 0) -> StepThroughput:
    """Tokens/s of full training steps (forward, backward, AdamW) of a preset's shape.

    Random weights (only the shape matters for speed), a classification head,
    random token ids with a full attention mask; the first step is a warm-up
    and the median of the rest is kept. FLOPs per token are counted on one
    step with :func:`helpers.costs.count_flops` (forward + backward).
    """
    import torch

    from .costs import count_flops
    from .models import load_model
    from .runs import device_name

    for name, value in (("batch", batch), ("length", length), ("steps", steps)):
        check_positive(name, value, integer=True)
    if steps < 2:
        raise StudyError("steps must be at least 2 (the first is a warm-up)")
    torch.manual_seed(seed)
    model = load_model(preset, head="sequence-classification", num_labels=3, pretrained=False).to(device)
    model.train()
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (batch, length), generator=gen).to(device)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids),
              "labels": torch.zeros(batch, dtype=torch.long, device=device)}
    flops = count_flops(model, inputs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)  # as the Trainer runs (adamw_torch_fused)
    times = []
    for _ in range(steps):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    per_step = statistics.median(times[1:])
    return StepThroughput(preset=preset, batch=batch, length=length, steps=steps, seconds_per_step=per_step,
                          tokens_per_s=batch * length / per_step, flops_per_token=flops / (batch * length),
                          device=device_name())


def full_study_plan(intermediates: tuple[str, ...], targets: tuple[str, ...]) -> list[tuple[str, str]]:
    """(task, phase) of every training set the full study trains, once each."""
    plan = [(t, "intermediate") for t in intermediates]
    for target in targets:
        if target == "xcopa":
            plan += [("siqa", "target"), ("copa", "target")]
        elif target in TRAIN_SIZES:
            plan.append((target, "target"))
    return plan

