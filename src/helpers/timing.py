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

Devices and dtypes live in :mod:`helpers.devices`, the run order and the
ratios in :mod:`helpers.interleave`, FLOPs and peaks in :mod:`helpers.peaks`,
the one-lever sweeps in :mod:`helpers.sweeps`; their public names stay
importable from here. torch and transformers are imported inside the
functions that use them (import cost).

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

import ctypes
import ctypes.util
import gc
import importlib
import math
import os
import threading
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import psutil

from .batching import pad_features, padded_batches
from .devices import dtype_label, prepare_model, resolve_device
from .errors import StudyError, check_choice, check_positive
from .interleave import schedule
from .runs import device_name, results_root, upsert_rows

# Names that moved to their own modules, still importable from here (notebooks, scripts/gpu_bench.py).
from .devices import DEVICES, DTYPES, cast, default_dtype, quantize_int8, torch_dtype  # noqa: F401
from .interleave import ORDERS, ratio_summary, williams_square  # noqa: F401
from .peaks import (DATASHEET_EXCLUDED, DATASHEET_PEAKS, count_subnormal, datasheet_peak,  # noqa: F401
                    flops_per_token, measure_matmul_peak, utilisation)

#: the sweeps (helpers.sweeps import this module, so they are looked up on first use: see __getattr__)
_SWEEPS = ("sweep_batch_size", "sweep_length", "sweep_dtype", "sweep_padding", "sweep_models", "sweep_model_size",
           "sweep_languages", "sweep_early_exit", "sweep_flush_denormal", "filled_texts", "text_counts",
           "encoder_layers", "truncate_layers", "retrieval_layer")

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
    from transformers import BatchEncoding

    check_positive("batch_size", batch_size, integer=True)
    check_positive("max_length", max_length, integer=True)
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise StudyError("texts must be a non-empty list of strings")
    enc = tokenizer(texts, truncation=True, max_length=max_length)
    features = [{k: enc[k][i] for k in enc.keys()} for i in range(len(texts))]
    collate = pad_features(tokenizer, width=None if bucketed else max_length)
    return [BatchEncoding(batch) for _, batch in
            padded_batches(features, batch_size, collate, order="ascending" if bucketed else "input")]


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


def timed_pass(model, batches, device: str) -> float:
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



#: How finely :func:`time_entries` interleaves its entries: whole passes, or single batches.
INTERLEAVES = ("pass", "batch")


def _batch_seconds(model, batch, device: str) -> float:
    """Seconds of one forward call on ``batch`` (the caller holds ``torch.inference_mode``)."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(**batch)
        torch.cuda.synchronize()
        return time.perf_counter() - t0
    t0 = time.perf_counter()
    model(**batch)
    return time.perf_counter() - t0


def _batch_orders(n_entries: int, n_batches: int, repeats: int, seed: int) -> list[list[list[int]]]:
    """Per repetition, per batch: the order in which the entries run it (balanced over all of them)."""
    rows = schedule(n_entries, repeats * n_batches, "balanced", seed)
    return [rows[r * n_batches:(r + 1) * n_batches] for r in range(repeats)]


def _interleaved_by_batch(prepared, orders, device: str, batch_log: list | None = None) -> list[list[float]]:
    """Seconds per (repetition, entry) when entries take turns batch by batch.

    Within repetition ``r``, batch ``j`` runs on every entry in the order
    ``orders[r][j]`` (:func:`_batch_orders`: each entry holds each position
    equally often), so all entries of a repetition share the same stretch of
    wall time and slow drift of the machine cancels out of their ratios. An
    entry's seconds are the sum of its per-batch times. ``batch_log``, when a
    list, receives ``(repetition, batch, position, entry, seconds)`` per timed batch.
    """
    import torch

    out = []
    with torch.inference_mode():
        for r, rep_orders in enumerate(orders):
            secs = [0.0] * len(prepared)
            for j, seq in enumerate(rep_orders):
                for pos, idx in enumerate(seq):
                    s = _batch_seconds(prepared[idx][1], prepared[idx][2][j], device)
                    secs[idx] += s
                    if batch_log is not None:
                        batch_log.append((r, j, pos, idx, s))
            out.append(secs)
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
    interleave: str = "pass",
    batch_log: list | None = None,
) -> list[dict]:
    """Time ``(labels, model, batches)`` entries interleaved; one row per entry and repetition.

    Every entry is warmed up with ``warmup`` full passes first; then each of
    ``repeats`` repetitions runs every entry once, in the order of
    :func:`schedule`. With ``prime > 0`` the first ``prime`` batches of an
    entry run once, untimed, just before each of its timed passes: the pass
    then starts on a model whose weights and kernels were just used, as in a
    deployment that serves one model, instead of on the one the previous
    entry left in the caches. ``interleave="batch"`` (entries with the same
    number of batches, e.g. the same inputs) interleaves finer: within a
    repetition the entries take turns batch by batch, in balanced orders, so
    they share the same seconds of wall time (:func:`_interleaved_by_batch`;
    ``order`` and ``prime`` do not apply, and ``position`` is the entry's
    place on the repetition's first batch). Python's garbage collector is
    paused while timing. Each row holds the entry's labels plus ``repetition``,
    ``position`` (its place within the repetition), ``tokens`` (real tokens,
    from the attention masks), ``padded_tokens``, ``sequences``, ``batches``,
    ``seconds``, ``tokens_per_s``, ``sequences_per_s``, ``dtype`` (of the
    model unless labelled), ``threads`` and the device. ``batch_log`` (with
    ``interleave="batch"``), when a list, receives one dict per timed batch:
    the entry's labels, ``repetition``, ``batch_index``, ``position`` (the
    entry's place on that batch) and ``seconds``; :func:`helpers.efficiency.position_effects`
    reads it.
    """
    import torch

    device = resolve_device(device)
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise StudyError(f"warmup must be a non-negative integer, got {warmup!r}")
    if not isinstance(prime, int) or isinstance(prime, bool) or prime < 0:
        raise StudyError(f"prime must be a non-negative integer (untimed batches before each pass), got {prime!r}")
    check_positive("repeats", repeats, integer=True)
    check_choice("interleave", interleave, INTERLEAVES)
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
    if batch_log is not None and interleave != "batch":
        raise StudyError("batch_log records the batches of interleave='batch'; with interleave='pass' the rows "
                         "hold each pass's position")
    if interleave == "batch":
        if len({len(b) for _, _, b, _ in prepared}) > 1:
            raise StudyError("interleave='batch' needs the same number of batches in every entry; "
                             "use interleave='pass' for entries with different inputs")
        orders = _batch_orders(len(prepared), len(prepared[0][2]), repeats, seed)
        plan = [rep_orders[0] for rep_orders in orders]
    else:
        plan = schedule(len(prepared), repeats, order, seed)
    for _, model, batches, _ in prepared:
        for _ in range(warmup):
            timed_pass(model, batches, device)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if interleave == "batch":
            raw_log: list | None = [] if batch_log is not None else None
            seconds_by_rep = _interleaved_by_batch(prepared, orders, device, raw_log)
        else:
            seconds_by_rep = []
            for seq in plan:
                secs = [0.0] * len(prepared)
                for idx in seq:
                    _, model, batches, _ = prepared[idx]
                    if prime:
                        timed_pass(model, batches[:prime], device)
                    secs[idx] = timed_pass(model, batches, device)
                seconds_by_rep.append(secs)
    finally:
        if gc_was_enabled:
            gc.enable()
    if batch_log is not None:
        batch_log.extend({**prepared[idx][0], "repetition": r, "batch_index": j, "position": pos, "seconds": s}
                         for r, j, pos, idx, s in raw_log)
    rows = []
    for rep, seq in enumerate(plan):
        for pos, idx in enumerate(seq):
            labels, model, batches, counts = prepared[idx]
            seconds = seconds_by_rep[rep][idx]
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
    device = resolve_device(device)
    batches = list(batches)
    if not batches:
        raise StudyError("no batches to time: give at least one request")
    singles = [_to_device([b], device) for b in batches]
    for batch in singles[: max(warmup, 0)]:
        timed_pass(model, batch, device)
    ms = np.array([timed_pass(model, batch, device) * 1000.0 for batch in singles])
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "n": int(ms.size),
    }


def model_bytes(model) -> int:
    """Bytes of ``model``'s weights: parameters, buffers and int8-packed weights, each tensor once."""
    import torch

    seen: set[int] = set()
    total = 0

    def add(value) -> None:
        nonlocal total
        if isinstance(value, (tuple, list)):
            for v in value:
                add(v)
        elif isinstance(value, torch.Tensor) and id(value) not in seen:
            seen.add(id(value))
            total += value.numel() * value.element_size()

    for t in list(model.parameters()) + list(model.buffers()):
        add(t)
    for module in model.modules():  # dynamic int8 Linear layers keep their weights packed, outside parameters()
        packed = getattr(module, "_packed_params", None)
        if packed is not None and hasattr(packed, "_weight_bias"):
            add(packed._weight_bias())
    return total


def _release_free_memory() -> None:
    """Collect garbage and hand the C allocator's free pages back to the OS (glibc ``malloc_trim``; else a no-op).

    Without it, memory freed by earlier passes stays resident and is reused, so
    the resident set would not grow while a pass allocates its activations.
    """
    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        libc = ctypes.CDLL(name)
        if hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)


def peak_memory_mb(model, batches, device: str = "cpu", interval_s: float = 0.002) -> float:
    """Peak memory of one forward pass over ``batches`` (weights and working memory), in MiB.

    CUDA: ``torch.cuda.max_memory_allocated`` after resetting the peak
    statistics (weights + activations + workspace held by the caching
    allocator's tensors). CPU: the model's weights (:func:`model_bytes`) plus
    the growth of the process's resident set size (psutil) during the pass,
    sampled every ``interval_s`` seconds by a background thread and once
    after the pass, over a baseline taken after the allocator's free pages
    went back to the OS (:func:`_release_free_memory`), so activations and
    workspace count even when earlier passes left freed memory behind. A
    sampled peak can miss a spike shorter than the interval that was also
    freed to the OS before the pass ended.
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
    proc = psutil.Process(os.getpid())
    _release_free_memory()
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
    return (model_bytes(model) + peak[0] - base) / 2**20



# --------------------------------------------------------------------------- results table
def record_inference(rows: Iterable[Mapping[str, object]], *, path=None, **defaults) -> "os.PathLike":
    """Upsert timing rows into ``results/inference.csv`` (one row per measurement).

    ``defaults`` fill columns the rows lack (e.g. ``profile="embedded"``,
    ``task="tatoeba"``). The key is ``INFERENCE_KEY`` (sweep, profile, arm,
    task, language, device, dtype, batch, length, padding, layers,
    repetition): rerunning a measurement replaces its rows, never duplicates.
    """
    base = {"sweep": "arms", "profile": "", "task": "", "language": "", "padding": "bucketed", "layers": ""}
    base.update(defaults)
    full = [{**base, **dict(r)} for r in rows]
    target = Path(path) if path else results_root() / "inference.csv"
    return upsert_rows(target, full, key=INFERENCE_KEY, columns=INFERENCE_COLUMNS)


def __getattr__(name: str):
    """``timing.sweep_*`` and the sweep helpers, which live in :mod:`helpers.sweeps` (imported on first use)."""
    if name in _SWEEPS:
        return getattr(importlib.import_module(".sweeps", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
