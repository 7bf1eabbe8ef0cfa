"""What the hardware can do and what a model asks of it: FLOPs per token, peaks, utilisation, subnormals.

torch is imported inside the functions (import cost).
"""

from __future__ import annotations

import contextlib
import itertools
import time

from .devices import resolve_device, torch_dtype
from .errors import StudyError, check_positive

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
