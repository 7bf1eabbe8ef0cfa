"""Inference timing: the study's measurement of what each arm costs to run.

What is timed is the inference a careful user would deploy, and every row says
so in its columns:

* ``torch.inference_mode()`` around every forward pass (no autograd state);
* length-bucketed batches (:func:`make_batches` sorts sentences by token
  length before cutting batches, so a batch pads only to its own longest
  sentence); naive padding to ``max_length`` exists for the padding sweep;
* PyTorch's scaled-dot-product attention (``attn_implementation="sdpa"``,
  set by :func:`prepare_model` where the model supports it);
* bf16 where the hardware has fast bf16 (CUDA devices that report bf16
  support); fp32 on CPU by default (CPU bf16 is measured, not assumed, in the
  dtype sweep), and dynamic int8 of the ``nn.Linear`` layers on CPU.

Timing principles (see DESIGN.md): count real (non-pad) tokens from the
attention mask; warm up; synchronise accelerators (CUDA events plus
``synchronize`` on GPU, ``time.perf_counter`` on CPU); interleave arms in one
process on identical inputs, each arm in each position equally often
(``order="balanced"``: Williams Latin squares, see :func:`schedule`); give
ratios with confidence intervals (:func:`ratio_summary`: the geometric mean
of per-repetition ratios with a t interval and a TOST verdict), not single
absolute times. Input tensors are moved to the device before the clock
starts, so the rows measure the model, not the host-to-device copy.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import random
import threading
import time
import warnings
from typing import Iterable, Mapping, Sequence

from .errors import StudyError, check_choice, check_positive

DTYPES = ("fp32", "bf16", "fp16", "int8")
DEVICES = ("cpu", "cuda")
ORDERS = ("alternate", "balanced", "random", "fixed")

# Datasheet dense peaks in FLOP/s (REPORTED.md: "NVIDIA H100 SXM: 989 TFLOP/s dense bf16").
# Matched against torch.cuda.get_device_name(): the SXM part reports "NVIDIA H100 80GB HBM3".
DATASHEET_PEAKS: dict[tuple[str, str], float] = {
    ("H100 80GB HBM3", "bf16"): 989e12,
    ("H100 SXM", "bf16"): 989e12,
    ("H100 80GB HBM3", "fp16"): 989e12,
    ("H100 SXM", "fp16"): 989e12,
    # REPORTED.md: the H200 (SXM) has the H100 SXM's GH100 compute, 989 TFLOP/s dense bf16. CUDA names it
    # "NVIDIA H200"; the H200 NVL, a lower-power card, is a different part (see DATASHEET_EXCLUDED).
    ("H200", "bf16"): 989e12,
    ("H200", "fp16"): 989e12,
}
# Parts whose names contain a key above but whose datasheet peak differs (not on file here).
DATASHEET_EXCLUDED = ("NVL", "PCIe")

INFERENCE_COLUMNS = (
    "sweep", "profile", "arm", "task", "language", "device", "device_name", "dtype",
    "batch", "length", "padding", "layers", "threads", "repetition", "position",
    "tokens", "padded_tokens", "sequences", "batches", "seconds", "tokens_per_s",
    "sequences_per_s", "words", "characters", "words_per_s", "characters_per_s", "tokens_per_word", "seed",
)
INFERENCE_KEY = (
    "sweep", "profile", "arm", "task", "language", "device", "dtype", "batch", "length",
    "padding", "layers", "repetition",
)


# --------------------------------------------------------------------------- devices and dtypes
def resolve_device(device: str | None = None) -> str:
    """``"cpu"`` or ``"cuda"``; ``None``/``"auto"`` picks CUDA when present."""
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    device = str(device).split(":")[0]
    check_choice("device", device, DEVICES)
    if device == "cuda" and not torch.cuda.is_available():
        raise StudyError("device 'cuda' requested but no CUDA GPU is visible; valid devices here: cpu")
    return device


def default_dtype(device: str) -> str:
    """bf16 on a CUDA device with bf16 support, else fp32 (the careful deployment default)."""
    import torch

    if device == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


def torch_dtype(dtype: str):
    """The torch dtype of a floating dtype name (``int8`` keeps fp32 activations)."""
    import torch

    check_choice("dtype", dtype, DTYPES)
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "int8": torch.float32}[dtype]


def dtype_label(model) -> str:
    """``int8`` for a dynamically quantised model, else the dtype of its first parameter."""
    import torch

    for module in model.modules():
        if "quantized" in type(module).__module__:
            return "int8"
    for param in model.parameters():
        return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(param.dtype, str(param.dtype))
    return "fp32"


def quantize_int8(model, keep_fp32: Sequence[str] = ()):
    """A copy of ``model`` with its ``nn.Linear`` layers dynamically quantised to int8 (CPU only).

    Uses ``torch.ao.quantization.quantize_dynamic``, which replaces each
    ``nn.Linear`` (the task head's too) by an int8 kernel: weights int8 per
    tensor, activations quantised on the fly, per tensor (one scale for the
    whole batch), to 7-bit unsigned integers on x86 (``reduce_range``).
    Embeddings, LayerNorms and everything else stay fp32. ``keep_fp32``
    names Linear modules (``model.named_modules()`` names) left in fp32: a
    mixed-precision model. In torch 2.13 this still works but warns that
    ``torch.ao.quantization`` is deprecated in favour of torchao; the warning
    is silenced here. The original model is left untouched.
    """
    import torch

    linear = [name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]
    unknown = sorted(set(keep_fp32) - set(linear))
    if unknown:
        raise StudyError(f"keep_fp32 names no Linear module of this model: {', '.join(unknown)}; "
                         f"valid: names of its {len(linear)} Linear modules, e.g. {', '.join(linear[:2])}")
    keep = set(keep_fp32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        float_model = model.float() if dtype_label(model) != "fp32" else model
        spec = {torch.nn.Linear} if not keep else {name for name in linear if name not in keep}
        return quantize_dynamic(float_model.eval(), spec, dtype=torch.qint8, inplace=False)


def cast(model, dtype: str):
    """``model`` in ``dtype``: ``fp32``/``bf16``/``fp16`` cast in place, ``int8`` a quantised copy."""
    check_choice("dtype", dtype, DTYPES)
    if dtype == "int8":
        return quantize_int8(model)
    return model.to(torch_dtype(dtype))


def prepare_model(model, device: str = "cpu", dtype: str | None = None, attn: str = "sdpa"):
    """Eval mode, SDPA attention where supported, ``dtype`` and ``device``; returns the model."""
    device = resolve_device(device)
    model.eval()
    if attn and hasattr(model, "set_attn_implementation"):
        with contextlib.suppress(Exception):
            model.set_attn_implementation(attn)
    if dtype is not None:
        if dtype == "int8" and device != "cpu":
            raise StudyError("dtype 'int8' (dynamic quantisation) runs on cpu only; valid dtypes on cuda: fp32, bf16, fp16")
        model = cast(model, dtype)
    if dtype_label(model) != "int8":
        model = model.to(device)
    return model


# --------------------------------------------------------------------------- batches
def make_batches(tokenizer, texts: Sequence[str], batch_size: int = 32, max_length: int = 128, bucketed: bool = True):
    """Tokenised batches of ``texts`` (a list of ``BatchEncoding`` of torch tensors).

    ``bucketed=True`` (the deployed way): sentences are sorted by their token
    length (ties keep input order) and cut into batches of ``batch_size``, each
    padded only to its own longest sentence. ``bucketed=False`` (the naive
    way, for the padding sweep): input order, every batch padded to
    ``max_length``. Both truncate at ``max_length`` and together contain every
    input sentence exactly once.
    """
    check_positive("batch_size", batch_size, integer=True)
    check_positive("max_length", max_length, integer=True)
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise StudyError("texts must be a non-empty list of strings")
    if bucketed:
        lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
        order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
        padding = "longest"
    else:
        order = list(range(len(texts)))
        padding = "max_length"
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = [texts[i] for i in order[start:start + batch_size]]
        batches.append(tokenizer(chunk, padding=padding, truncation=True, max_length=max_length, return_tensors="pt"))
    return batches


def synthetic_batches(batch_size: int, length: int, vocab_size: int, n_batches: int = 1, seed: int = 0):
    """Random-id batches of exactly ``batch_size x length`` with an all-ones mask.

    The workload optimum-benchmark times (every position is a real token);
    used to compare with it like for like.
    """
    import torch
    from transformers import BatchEncoding

    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        ids = torch.randint(5, vocab_size, (batch_size, length), generator=gen)
        out.append(BatchEncoding({"input_ids": ids, "attention_mask": torch.ones_like(ids)}))
    return out


def real_tokens(batches) -> int:
    """Real (non-pad) tokens: the sum of the attention masks."""
    return int(sum(int(b["attention_mask"].sum()) for b in batches))


def _to_device(batches, device: str):
    if device == "cpu":
        return list(batches)
    return [{k: v.to(device, non_blocking=False) for k, v in b.items()} for b in batches]


# --------------------------------------------------------------------------- the timer
def _forward_pass(model, batches) -> None:
    for batch in batches:
        model(**batch)


def _timed_pass(model, batches, device: str) -> float:
    """Seconds for one forward pass over ``batches`` (CUDA events + synchronize on GPU)."""
    import torch

    with torch.inference_mode():
        if device == "cuda":
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            _forward_pass(model, batches)
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1000.0
        t0 = time.perf_counter()
        _forward_pass(model, batches)
        return time.perf_counter() - t0


def williams_square(n: int) -> list[list[int]]:
    """A Williams design for ``n`` entries: rows are orders in which every entry holds every position.

    Row ``i`` is the first row ``0, 1, n-1, 2, n-2, ...`` shifted by ``i``
    (mod ``n``). For even ``n`` the ``n`` rows are a Latin square in which
    every ordered pair of entries is adjacent exactly once (balanced for the
    entry that ran just before); for odd ``n`` the mirrored rows are added
    (``2n`` rows, each position and each ordered pair twice).
    """
    check_positive("entries", n, integer=True)
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:
        if len(first) % 2:
            first.append(lo)
            lo += 1
        else:
            first.append(hi)
            hi -= 1
    rows = [[(x + i) % n for x in first] for i in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


def schedule(n_entries: int, repeats: int, order: str = "alternate", seed: int = 0) -> list[list[int]]:
    """The order in which entries run in each repetition.

    ``alternate``: A B, B A, A B, ... (first and last swap; with more than two
    entries the middle ones never hold the ends); ``balanced``: consecutive
    blocks of a Williams design (:func:`williams_square`: ``n`` rows for even
    ``n``, ``2n`` for odd), each block with its entries relabelled and its rows
    shuffled by a seeded permutation, so every entry holds every position
    equally often in each complete block (and follows every other entry
    equally often); a last, incomplete block is balanced only as far as it
    goes. ``random``: a seeded permutation per repetition; ``fixed``: A B
    every time.
    """
    check_choice("order", order, ORDERS)
    rng = random.Random(seed)
    base = list(range(n_entries))
    out: list[list[int]] = []
    if order == "balanced":
        while len(out) < repeats:
            labels = rng.sample(base, n_entries)
            block = [[labels[x] for x in row] for row in williams_square(n_entries)]
            rng.shuffle(block)
            out += block
        return out[:repeats]
    for r in range(repeats):
        if order == "alternate":
            out.append(base if r % 2 == 0 else base[::-1])
        elif order == "random":
            out.append(rng.sample(base, n_entries))
        else:
            out.append(base)
    return out


def time_entries(
    entries: Sequence[tuple[Mapping[str, object], object, Sequence]],
    *,
    warmup: int = 1,
    repeats: int = 5,
    device: str = "cpu",
    order: str = "alternate",
    seed: int = 0,
    prime: int = 0,
) -> list[dict]:
    """Time ``(labels, model, batches)`` entries interleaved; one row per entry and repetition.

    Every entry is warmed up with ``warmup`` full passes first; then each of
    ``repeats`` repetitions runs every entry once, in the order of
    :func:`schedule`. With ``prime > 0`` the first ``prime`` batches of an
    entry run once, untimed, just before each of its timed passes: the pass
    then starts on a model whose weights and kernels were just used, as in a
    deployment that serves one model, instead of on the one the previous
    entry left in the caches. Each row holds the entry's labels plus ``repetition``,
    ``position`` (its place within the repetition), ``tokens`` (real tokens,
    from the attention masks), ``padded_tokens``, ``sequences``, ``batches``,
    ``seconds``, ``tokens_per_s``, ``sequences_per_s``, ``dtype`` (of the
    model unless labelled), ``threads`` and the device.
    """
    import torch

    from .runs import device_name

    device = resolve_device(device)
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise StudyError(f"warmup must be a non-negative integer, got {warmup!r}")
    if not isinstance(prime, int) or isinstance(prime, bool) or prime < 0:
        raise StudyError(f"prime must be a non-negative integer (untimed batches before each pass), got {prime!r}")
    check_positive("repeats", repeats, integer=True)
    if not entries:
        raise StudyError("nothing to time: give at least one model")
    prepared = []
    for labels, model, batches in entries:
        batches = list(batches)
        if not batches:
            raise StudyError(f"no batches to time for {dict(labels)}")
        prepared.append((dict(labels), model, _to_device(batches, device), {
            "tokens": real_tokens(batches),
            "padded_tokens": int(sum(b["input_ids"].numel() for b in batches)),
            # encoded sequences (a multiple-choice batch [batch, choices, length] holds batch x choices)
            "sequences": int(sum(b["input_ids"].numel() // b["input_ids"].shape[-1] for b in batches)),
            "batches": len(batches),
            "batch": max(int(b["input_ids"].shape[0]) for b in batches),
            "length": max(int(b["input_ids"].shape[-1]) for b in batches),
        }))
    # everything the rows need is computed before the first timed pass: nothing runs between passes
    dev_name = device_name()
    threads = torch.get_num_threads()
    dtypes = [dtype_label(model) for _, model, _, _ in prepared]
    plan = schedule(len(prepared), repeats, order, seed)
    for _, model, batches, _ in prepared:
        for _ in range(warmup):
            _timed_pass(model, batches, device)
    rows = []
    for rep, seq in enumerate(plan):
        for pos, idx in enumerate(seq):
            labels, model, batches, counts = prepared[idx]
            if prime:
                _timed_pass(model, batches[:prime], device)
            seconds = _timed_pass(model, batches, device)
            row = {"batch": counts["batch"], "length": counts["length"], "dtype": dtypes[idx]}
            row.update(labels)
            row.update({
                "device": device, "device_name": dev_name, "threads": threads,
                "repetition": rep, "position": pos,
                "tokens": counts["tokens"], "padded_tokens": counts["padded_tokens"],
                "sequences": counts["sequences"], "batches": counts["batches"],
                "seconds": seconds,
                "tokens_per_s": counts["tokens"] / seconds if seconds > 0 else math.inf,
                "sequences_per_s": counts["sequences"] / seconds if seconds > 0 else math.inf,
            })
            rows.append(row)
    return rows


def time_arms(
    models: Mapping[str, object],
    batches: Sequence,
    *,
    warmup: int = 1,
    repeats: int = 5,
    device: str = "cpu",
    dtype: str | None = None,
    order: str = "alternate",
    seed: int = 0,
    labels: Mapping[str, object] | None = None,
    prime: int = 0,
) -> list[dict]:
    """Time several arms on identical ``batches``, interleaved, in this process.

    ``models`` maps arm name -> model. Each model is prepared with
    :func:`prepare_model` (eval, SDPA, ``dtype`` when given, ``device``);
    ``dtype=None`` keeps the models as they are. After ``warmup`` passes per
    arm, ``repeats`` repetitions run every arm once, alternating their order
    (A B, B A, ...; ``order="balanced"`` for Williams Latin squares,
    ``"random"`` for seeded permutations; ``prime`` as in
    :func:`time_entries`). Returns one row per arm and repetition (see
    :func:`time_entries`); ``labels`` are added to every row (e.g. ``sweep``,
    ``task``).
    """
    if not isinstance(models, Mapping) or not models:
        raise StudyError("models must be a non-empty dict of arm name -> model")
    device = resolve_device(device)
    batches = list(batches)
    entries = []
    for arm, model in models.items():
        model = prepare_model(model, device, dtype)
        entries.append(({**(labels or {}), "arm": arm}, model, batches))
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device, order=order, seed=seed, prime=prime)


# --------------------------------------------------------------------------- latency, memory, FLOPs
def latency_percentiles(
    model, tokenizer, texts: Sequence[str], *, max_length: int = 128, warmup: int = 3, device: str = "cpu",
) -> dict:
    """Per-sentence latency at batch 1 (no padding): p50/p90/p99 and mean in milliseconds."""
    texts = list(texts)
    if not texts:
        raise StudyError("texts must be a non-empty list of strings")
    singles = [tokenizer([t], truncation=True, max_length=max_length, return_tensors="pt") for t in texts]
    return batch_latency(model, singles, warmup=warmup, device=device)


def batch_latency(model, batches, *, warmup: int = 3, device: str = "cpu") -> dict:
    """Latency of each of ``batches`` (one request each, e.g. batch-1 encodings): p50/p90/p99 and mean in ms.

    The first ``warmup`` batches run once untimed before the timed round.
    Percentiles are numpy's linear interpolation over the per-batch times.
    """
    import numpy as np

    device = resolve_device(device)
    batches = list(batches)
    if not batches:
        raise StudyError("no batches to time: give at least one request")
    singles = [_to_device([b], device) for b in batches]
    for batch in singles[: max(warmup, 0)]:
        _timed_pass(model, batch, device)
    ms = np.array([_timed_pass(model, batch, device) * 1000.0 for batch in singles])
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "n": int(ms.size),
    }


def peak_memory_mb(model, batches, device: str = "cpu", interval_s: float = 0.002) -> float:
    """Peak memory of one forward pass over ``batches``, in MiB.

    CUDA: ``torch.cuda.max_memory_allocated`` after resetting the peak
    statistics (weights + activations + workspace held by the caching
    allocator's tensors). CPU: the process's resident set size (psutil),
    sampled every ``interval_s`` seconds by a background thread during the
    pass, minus the RSS just before it: the extra memory the pass needs on
    top of the already-resident weights (activations and workspace). A
    sampled peak can miss a spike shorter than the interval.
    """
    import torch

    device = resolve_device(device)
    batches = _to_device(list(batches), device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        with torch.inference_mode():
            _forward_pass(model, batches)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 2**20
    import psutil

    proc = psutil.Process(os.getpid())
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(interval_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        with torch.inference_mode():
            _forward_pass(model, batches)
    finally:
        stop.set()
        thread.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    return (peak[0] - base) / 2**20


def flops_per_token(model, batch) -> float:
    """Forward FLOPs per real token of ``batch``, by ``torch.utils.flop_counter.FlopCounterMode``.

    Multiply-adds count as two FLOPs. The count is taken with eager attention
    (restored afterwards) because the counter has no formula for the CPU SDPA
    kernel and would silently drop the attention matmuls; the arithmetic is
    the same whichever kernel runs. Pad positions are computed too, so with
    bucketed batches this is close to, and never below, the unpadded cost. A
    dynamically quantised model's int8 matmuls are not counted: count the
    fp32 model instead (same arithmetic).
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    previous = getattr(getattr(model, "config", None), "_attn_implementation", None)
    switched = False
    if previous not in (None, "eager") and hasattr(model, "set_attn_implementation"):
        with contextlib.suppress(Exception):
            model.set_attn_implementation("eager")
            switched = True
    try:
        device = next(model.parameters()).device
        inputs = {k: v.to(device) for k, v in batch.items()}
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            model(**inputs)
    finally:
        if switched:
            model.set_attn_implementation(previous)
    tokens = int(batch["attention_mask"].sum())
    if tokens == 0:
        raise StudyError("the batch has no real tokens (all attention-mask entries are 0)")
    return counter.get_total_flops() / tokens


def count_subnormal(model) -> dict:
    """Subnormal values among ``model``'s floating-point parameters and buffers.

    A value is subnormal when ``0 < |x| < torch.finfo(dtype).tiny`` (below
    about 1.2e-38 in fp32): x86 CPUs compute with such numbers through a slow
    microcode path unless flush-to-zero is on, so a model whose weights hold
    many of them can run measurably slower than one of the same shape.
    Returns ``{"values", "subnormal", "zero", "subnormal_fraction"}``; shared
    (tied) tensors count once; int8-packed weights of a quantised model are
    not floating point and are not counted.
    """
    import itertools

    import torch

    total = sub = zero = 0
    seen: set[int] = set()
    for t in itertools.chain(model.parameters(), model.buffers()):
        if not t.is_floating_point() or id(t) in seen:
            continue
        seen.add(id(t))
        a = t.detach().abs()
        sub += int(((a > 0) & (a < torch.finfo(t.dtype).tiny)).sum())
        zero += int((a == 0).sum())
        total += t.numel()
    return {"values": total, "subnormal": sub, "zero": zero, "subnormal_fraction": sub / total if total else 0.0}


def _flush_denormal_view(model, on: bool):
    """``model`` behind a module whose every call first sets ``torch.set_flush_denormal(on)``."""
    import torch

    class FlushDenormal(torch.nn.Module):
        def __init__(self, inner, flag: bool):
            super().__init__()
            self.inner = inner
            self.flag = flag

        def forward(self, **inputs):
            torch.set_flush_denormal(self.flag)
            return self.inner(**inputs)

    return FlushDenormal(model, on)


def sweep_flush_denormal(model, batches, *, warmup: int = 1, repeats: int = 4,
                         order: str = "balanced", seed: int = 0, labels: Mapping[str, object] | None = None) -> list[dict]:
    """The same model and batches with flush-to-zero of subnormals off and on, interleaved (CPU).

    ``torch.set_flush_denormal(True)`` makes the CPU treat subnormal inputs
    and results as zero (the FTZ/DAZ flags), so it removes any slowdown that
    subnormal weights or activations cause. Arms are named
    ``flush_denormal=off`` and ``flush_denormal=on``; the flag is set at the
    start of each forward call of the entry (a few nanoseconds, inside the
    timed pass) and switched off again at the end. Returns rows as
    :func:`time_entries` does, with ``sweep="flush_denormal"``.
    """
    import torch

    if not torch.set_flush_denormal(False):
        raise StudyError("this CPU does not support flushing subnormals (torch.set_flush_denormal needs SSE3); "
                         "valid devices for this check: an x86 CPU with SSE3")
    batches = list(batches)
    entries = [({**(labels or {}), "sweep": "flush_denormal", "arm": f"flush_denormal={'on' if on else 'off'}"},
                _flush_denormal_view(model, on), batches) for on in (False, True)]
    try:
        return time_entries(entries, warmup=warmup, repeats=repeats, device="cpu", order=order, seed=seed)
    finally:
        torch.set_flush_denormal(False)


def measure_matmul_peak(dtype: str = "fp32", device: str = "cpu", n: int = 1024, min_seconds: float = 0.3) -> float:
    """The machine's attainable matmul rate in FLOP/s, measured now in this process.

    Multiplies two ``n x n`` matrices repeatedly (``2 n^3`` FLOPs each) for
    at least ``min_seconds`` after one warm-up product, with the same thread
    count as the timing runs; an empirical ceiling to set achieved FLOP/s
    against. ``int8`` is measured as fp32 (dynamic quantisation has no
    public int8 matmul to call here).
    """
    import torch

    device = resolve_device(device)
    check_positive("n", n, integer=True)
    tdt = torch_dtype(dtype)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device=device, dtype=tdt)
    b = torch.randn(n, n, generator=gen).to(device=device, dtype=tdt)
    with torch.inference_mode():
        torch.mm(a, b)
        if device == "cuda":
            torch.cuda.synchronize()
        count, t0 = 0, time.perf_counter()
        while True:
            torch.mm(a, b)
            count += 1
            if device == "cuda" and count % 10:
                continue
            if device == "cuda":
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - t0
            if elapsed >= min_seconds:
                break
    return 2.0 * n**3 * count / elapsed


def datasheet_peak(name: str, dtype: str) -> float | None:
    """The datasheet dense peak FLOP/s of a named GPU and dtype, or None when not on file."""
    if any(word.lower() in str(name).lower() for word in DATASHEET_EXCLUDED):
        return None
    for (part, dt), value in DATASHEET_PEAKS.items():
        if part.lower() in str(name).lower() and dt == dtype:
            return value
    return None


def utilisation(flops_token: float, tokens_per_s: float, peak_flops: float | None) -> dict:
    """Achieved FLOP/s (= FLOPs/token x tokens/s) and its fraction of ``peak_flops``."""
    achieved = float(flops_token) * float(tokens_per_s)
    return {"achieved_flops": achieved, "peak_flops": peak_flops,
            "fraction_of_peak": achieved / peak_flops if peak_flops else None}


# --------------------------------------------------------------------------- ratios
def ratio_summary(
    rows: Sequence[Mapping[str, object]],
    baseline_arm: str = "direct",
    *,
    by: Sequence[str] = ("sweep", "task", "language", "device", "batch", "length"),
    margin: float = 0.01,
    alpha: float = 0.05,
) -> list[dict]:
    """Per arm (within each group of ``by`` columns): throughput ratio vs the baseline arm.

    Repetitions are paired by their ``repetition`` index (they ran
    interleaved). Repetition ``i`` gives the ratio ``r_i`` = baseline seconds
    per real token / arm seconds per real token (> 1: the arm is faster);
    ``ratio`` is the geometric mean of the ``r_i`` with a Student t interval
    on ``log r_i`` (``ci_lo``/``ci_hi`` at ``1 - 2*alpha``, 90 % by default;
    ``ci95_lo``/``ci95_hi`` at 95 %) and the TOST verdict at ``+/- margin``
    (``equivalent``, ``different`` or ``inconclusive``; see
    :func:`helpers.stats.paired_ratio_summary`). ``tokens_per_s`` is the
    arm's median. The baseline's own row has ratio 1. A group with fewer than
    two paired repetitions gets its point ratio and an ``inconclusive``
    verdict.
    """
    import statistics

    from .stats import paired_ratio_summary

    groups: dict[tuple, dict[str, dict[int, float]]] = {}
    tps: dict[tuple, dict[str, list[float]]] = {}
    for row in rows:
        gkey = tuple(row.get(c) for c in by)
        arm = str(row["arm"])
        spt = float(row["seconds"]) / float(row["tokens"])
        groups.setdefault(gkey, {}).setdefault(arm, {})[int(row["repetition"])] = spt
        tps.setdefault(gkey, {}).setdefault(arm, []).append(float(row["tokens_per_s"]))
    arms_seen = sorted({str(r["arm"]) for r in rows})
    if rows and baseline_arm not in arms_seen:
        raise StudyError(f"baseline arm {baseline_arm!r} is not among the timed arms; valid arms: {', '.join(arms_seen)}")
    out = []
    for gkey, arms in groups.items():
        if baseline_arm not in arms:
            continue
        base = arms[baseline_arm]
        for arm, reps in arms.items():
            common = sorted(set(reps) & set(base))
            a = [reps[i] for i in common]
            b = [base[i] for i in common]
            entry = dict(zip(by, gkey))
            entry.update({"arm": arm, "baseline": baseline_arm, "n": len(common),
                          "tokens_per_s": statistics.median(tps[gkey][arm])})
            if len(common) >= 2:
                summary = paired_ratio_summary(a, b, margin=margin, alpha=alpha)
                entry.update({k: summary[k] for k in ("ratio", "ci_lo", "ci_hi", "ci95_lo", "ci95_hi", "verdict",
                                                      "p_lower", "p_upper", "sd_log")})
            else:
                entry.update({"ratio": sum(b) / sum(a) if a else math.nan, "ci_lo": math.nan, "ci_hi": math.nan,
                              "ci95_lo": math.nan, "ci95_hi": math.nan, "verdict": "inconclusive",
                              "p_lower": math.nan, "p_upper": math.nan, "sd_log": math.nan})
            entry["margin"] = margin
            out.append(entry)
    return out


# --------------------------------------------------------------------------- results table
def record_inference(rows: Iterable[Mapping[str, object]], *, path=None, **defaults) -> "os.PathLike":
    """Upsert timing rows into ``results/inference.csv`` (one row per measurement).

    ``defaults`` fill columns the rows lack (e.g. ``profile="embedded"``,
    ``task="tatoeba"``). The key is ``INFERENCE_KEY`` (sweep, profile, arm,
    task, language, device, dtype, batch, length, padding, layers,
    repetition): rerunning a measurement replaces its rows, never duplicates.
    """
    from pathlib import Path

    from .runs import results_root, upsert_rows

    base = {"sweep": "arms", "profile": "", "task": "", "language": "", "padding": "bucketed", "layers": ""}
    base.update(defaults)
    full = [{**base, **dict(r)} for r in rows]
    target = Path(path) if path else results_root() / "inference.csv"
    return upsert_rows(target, full, key=INFERENCE_KEY, columns=INFERENCE_COLUMNS)


# --------------------------------------------------------------------------- sweeps
def _prep(model, device, dtype):
    return prepare_model(model, device, dtype)


def sweep_batch_size(model, tokenizer, texts, *, batch_sizes=(1, 8, 32), max_length: int = 128, arm: str = "direct",
                     device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s at each batch size (bucketed batches), interleaved."""
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    entries = [({"sweep": "batch_size", "arm": arm, "batch": bs, "length": max_length},
                model, make_batches(tokenizer, texts, bs, max_length)) for bs in batch_sizes]
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def filled_texts(tokenizer, texts: Sequence[str], length: int, n: int) -> list[str]:
    """``n`` texts of real sentences joined until each fills ``length`` tokens (special tokens included).

    Sentences are taken in order (cycling through ``texts``) and joined with
    spaces; a text is closed once its encoding reaches ``length`` tokens, so
    truncation at ``length`` cuts only its last sentence. Every text then
    encodes to exactly ``length`` tokens: real words, no padding.
    """
    check_positive("length", length, integer=True)
    check_positive("n", n, integer=True)
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise StudyError("texts must hold at least one non-empty sentence to fill lengths with")
    out, i = [], 0
    for _ in range(n):
        parts: list[str] = []
        while True:
            parts.append(texts[i % len(texts)])
            i += 1
            if len(tokenizer(" ".join(parts), truncation=False)["input_ids"]) >= length:
                break
            if len(parts) > 10 * length:  # sentences that add no tokens: cannot fill
                raise StudyError(f"the sentences do not fill {length} tokens")
        out.append(" ".join(parts))
    return out


def sweep_length(model, tokenizer, texts, *, lengths=(32, 64, 128), batch_size: int = 32, arm: str = "direct",
                 device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3,
                 sequences: int | None = None) -> list[dict]:
    """Tokens/s at each sequence length, every position a real token, interleaved.

    For each length, ``sequences`` texts (default ``batch_size``) of real
    sentences concatenated to fill it (:func:`filled_texts`), truncated at
    the length: every sequence is exactly that long, with no padding, so the
    sweep measures the cost of the length itself. (The cost of padding short
    sentences to a length is the padding sweep's, :func:`sweep_padding`.)
    Rows are labelled ``sweep="length"``, ``padding="filled"``.
    """
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    n = sequences or batch_size
    entries = [({"sweep": "length", "arm": arm, "batch": batch_size, "length": L, "padding": "filled"},
                model, make_batches(tokenizer, filled_texts(tokenizer, texts, L, n), batch_size, L)) for L in lengths]
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_dtype(model, tokenizer, texts, *, dtypes=("fp32", "bf16", "int8"), batch_size: int = 32,
                max_length: int = 128, device: str = "cpu", warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s in each precision on the same batches; arms are named by dtype.

    ``model`` must be fp32; bf16/fp16 arms are cast copies, ``int8`` the
    dynamic int8 copy (CPU only).
    """
    device = resolve_device(device)
    for dt in dtypes:
        check_choice("dtype", dt, DTYPES)
    if "int8" in dtypes and device != "cpu":
        raise StudyError("dtype 'int8' (dynamic quantisation) runs on cpu only; valid dtypes on cuda: fp32, bf16, fp16")
    model = prepare_model(model, device)
    batches = make_batches(tokenizer, texts, batch_size, max_length)
    entries = []
    for dt in dtypes:
        variant = model if dt == dtype_label(model) else cast(copy.deepcopy(model).float(), dt)
        if dt != "int8":
            variant = variant.to(device)
        entries.append(({"sweep": "dtype", "arm": dt, "dtype": dt, "batch": batch_size, "length": max_length},
                        variant, batches))
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_padding(model, tokenizer, texts, *, batch_size: int = 32, max_length: int = 128, arm: str = "direct",
                  device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Length-bucketed batches against naive padding to ``max_length``; same sentences, same real tokens."""
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    entries = [({"sweep": "padding", "arm": kind, "padding": kind, "batch": batch_size, "length": max_length},
                model, make_batches(tokenizer, texts, batch_size, max_length, bucketed=(kind == "bucketed")))
               for kind in ("bucketed", "naive")]
    del arm
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_models(models: Mapping[str, tuple[object, object]], texts, *, batch_size: int = 32, max_length: int = 128,
                 device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s of several models (name -> (model, tokenizer)), each with its own tokenizer, interleaved."""
    device = resolve_device(device)
    entries = []
    for name, (model, tok) in models.items():
        model = _prep(model, device, dtype)
        layers = getattr(getattr(model, "config", None), "num_hidden_layers", "")
        entries.append(({"sweep": "model_size", "arm": name, "layers": layers, "batch": batch_size,
                         "length": max_length}, model, make_batches(tok, texts, batch_size, max_length)))
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_model_size(texts, *, presets=("e5-small", "xlmr-base"), batch_size: int = 8, max_length: int = 64,
                     device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 2) -> list[dict]:
    """Model size: ``helpers.models`` presets (xlmr-base/large with random weights, real tokenizer).

    Only the shapes matter for speed, so the XLM-R presets are built with
    ``pretrained=False``. Defaults are small (XLM-R Large on 2 CPU cores is
    about 0.6 GFLOP per token); add ``"xlmr-large"`` to ``presets`` to include it.
    """
    from . import models as model_presets

    loaded = {}
    for preset in presets:
        pretrained = preset in ("e5-small", "tiny")
        loaded[preset] = (model_presets.load_model(preset, head="encoder", pretrained=pretrained),
                          model_presets.load_tokenizer(preset))
    return sweep_models(loaded, texts, batch_size=batch_size, max_length=max_length, device=device, dtype=dtype,
                        warmup=warmup, repeats=repeats)


def text_counts(texts: Sequence[str]) -> dict:
    """Words (whitespace-separated) and characters of ``texts``."""
    return {"words": sum(len(t.split()) for t in texts), "characters": sum(len(t) for t in texts)}


def sweep_languages(model, tokenizer, texts_by_language: Mapping[str, Sequence[str]], *, batch_size: int = 32,
                    max_length: int = 128, arm: str = "direct", device: str = "cpu", dtype: str | None = None,
                    warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s, words/s and characters/s per language (same model, each language's sentences).

    Tokens/s differs little between languages; what a reader pays per word
    differs with the tokenizer's fertility (tokens per word): words/s =
    words / seconds, characters/s = characters / seconds over the same
    sentences. Words are whitespace-separated, so for scripts written without
    spaces (zh, ja, th) characters/s is the meaningful figure. Sentences
    longer than ``max_length`` tokens are truncated (rare for Tatoeba).
    """
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    entries, counts = [], {}
    for lang, texts in texts_by_language.items():
        texts = list(texts)
        counts[lang] = text_counts(texts)
        entries.append(({"sweep": "language", "arm": arm, "language": lang, "batch": batch_size,
                         "length": max_length}, model, make_batches(tokenizer, texts, batch_size, max_length)))
    rows = time_entries(entries, warmup=warmup, repeats=repeats, device=device)
    for row in rows:
        c = counts[row["language"]]
        row.update(c)
        row["words_per_s"] = c["words"] / row["seconds"]
        row["characters_per_s"] = c["characters"] / row["seconds"]
        row["tokens_per_word"] = row["tokens"] / c["words"] if c["words"] else math.nan
    return rows


def encoder_layers(model):
    """The ``nn.ModuleList`` of transformer layers (``base_model.encoder.layer``)."""
    base = getattr(model, "base_model", model)
    try:
        return base.encoder.layer
    except AttributeError:
        raise StudyError(f"{type(model).__name__} has no encoder.layer list; early exit needs a BERT/XLM-R encoder")


def truncate_layers(model, k: int):
    """A view of ``model`` that runs only its first ``k`` layers (weights shared, nothing copied).

    Its last hidden state equals the full model's ``hidden_states[k]``: the
    early exit at the retrieval layer (Tatoeba pools a middle layer, so the
    layers above it are wasted work for retrieval).
    """
    import torch

    layers = encoder_layers(model)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(layers):
        raise StudyError(f"early-exit layer must be an integer from 1 to {len(layers)}, got {k!r}")
    top = copy.copy(model)
    top._modules = dict(model._modules)
    base_attr = getattr(model, "base_model_prefix", "")
    has_base = bool(base_attr) and base_attr in model._modules
    base = copy.copy(model._modules[base_attr]) if has_base else top
    if has_base:
        base._modules = dict(base._modules)
        top._modules[base_attr] = base
    encoder = copy.copy(base._modules["encoder"])
    encoder._modules = dict(encoder._modules)
    encoder._modules["layer"] = torch.nn.ModuleList(list(layers)[:k])
    base._modules["encoder"] = encoder
    return top


def retrieval_layer(num_layers: int) -> int:
    """The paper's retrieval layer scaled to a depth: 14 of 24 (XLM-R Large) -> 7 of 12."""
    return max(1, round(num_layers * 14 / 24))


def sweep_early_exit(model, tokenizer, texts, *, layers: Sequence[int] | None = None, batch_size: int = 32,
                     max_length: int = 128, arm: str = "direct", device: str = "cpu", dtype: str | None = None,
                     warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s when running only the first ``k`` layers (retrieval) against the full depth.

    ``layers=None`` times the retrieval layer (:func:`retrieval_layer`) and
    the full depth. Arms are named ``layers=<k>``.
    """
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    full = len(encoder_layers(model))
    layers = list(layers) if layers else [retrieval_layer(full), full]
    batches = make_batches(tokenizer, texts, batch_size, max_length)
    entries = [({"sweep": "early_exit", "arm": f"layers={k}", "layers": k, "batch": batch_size, "length": max_length},
                model if k == full else truncate_layers(model, k), batches) for k in layers]
    del arm
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)
