"""GPU measurements: the committed tables, the batching levers, and what the chapters show.

Two tables under ``results/`` hold every GPU figure the book prints, each row
naming its GPU, date, commit and library versions:

- ``inference_gpu.csv`` (:data:`INFERENCE_COLUMNS`): ``scripts/gpu_bench.py``'s
  sweeps: ``gpu_grid`` (full synthetic batches of each model shape),
  ``gpu_real`` (real Tatoeba sentences, length-bucketed batches of 64, with
  latency and peak memory), ``gpu_early_exit`` and ``gpu_levers`` (real token
  lengths batched three ways, bf16 against TF32, eager against
  ``torch.compile``).
- ``training_gpu.csv`` (:data:`TRAINING_COLUMNS`): full training steps
  (forward, backward, fused AdamW) of the XLM-R shapes from
  :func:`helpers.scaling.measure_training_step`.

Until a GPU measures them again, both come from the H200 run of 2026-11-30
(``../shared/measurements/h200-2026-11-30``), imported by
:func:`helpers.gpu_import.import_measurements` (``python -m helpers.gpu import FOLDER``) without
changing a measured value: provenance columns are added, and the datasheet
peak, which :func:`helpers.peaks.datasheet_peak` did not know at that commit,
is filled in beside the measured one.

The summaries (:func:`inference_summary`, :func:`real_workload_summary`,
:func:`levers_summary`, :func:`training_summary`, :func:`gap_facts`) are the
one-line calls of the inference and training-cost chapters.
"""

from __future__ import annotations

import datetime as _dt
import platform
import random
import subprocess
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import runs, sources
from .batching import index_batches
from .errors import StudyError, check_positive, run_cli
from .peaks import datasheet_peak
from .tatoeba import sample_sentences

PROVENANCE_COLUMNS = ("python", "date", "commit", "source")
INFERENCE_COLUMNS = (
    "sweep", "arm", "workload", "device", "device_name", "dtype", "batch", "length", "padding", "layers",
    "threads", "repetition", "position", "tokens", "padded_tokens", "sequences", "batches", "seconds",
    "tokens_per_s", "sequences_per_s", "flops_per_token", "achieved_tflops", "datasheet_peak_tflops",
    "fraction_of_datasheet_peak", "measured_peak_tflops", "fraction_of_measured_peak", "fraction_of_peak",
    "peak_source", "p50_ms", "p90_ms", "p99_ms", "peak_memory_mb", "model_note", "torch", "transformers",
) + PROVENANCE_COLUMNS
INFERENCE_KEY = ("sweep", "arm", "workload", "device_name", "dtype", "batch", "length", "padding", "layers",
                 "repetition")
TRAINING_COLUMNS = (
    "sweep", "preset", "dtype", "batch", "length", "steps", "seconds_per_step", "optimizer_seconds",
    "tokens_per_s", "flops_per_token", "achieved_tflops", "datasheet_peak_tflops", "fraction_of_datasheet_peak",
    "optimizer", "mode", "device", "device_name", "torch", "transformers", "wall_s",
) + PROVENANCE_COLUMNS
TRAINING_KEY = ("sweep", "preset", "dtype", "batch", "length", "mode", "device_name")

#: what each training ``dtype`` means (the weights stay fp32 in every case)
TRAINING_DTYPES = {
    "fp32": "fp32 matmuls",
    "tf32": "fp32 weights, TF32 tensor-core matmuls",
    "bf16": "fp32 weights, bf16 autocast",
}

#: the batchings of the lever sweep: label -> (kind, size); a budget is in tokens per batch
LEVER_BATCHINGS = {"batch64": ("fixed", 64), "budget16k": ("budget", 16384), "budget64k": ("budget", 65536)}
QUICK_LEVER_BATCHINGS = {"batch4": ("fixed", 4), "budget64": ("budget", 64), "budget256": ("budget", 256)}


# --------------------------------------------------------------------------- batching
def _check_lengths(lengths: Sequence[int]) -> list[int]:
    lengths = [int(n) for n in lengths]
    if not lengths or any(n <= 0 for n in lengths):
        raise StudyError("lengths must be a non-empty list of positive token counts")
    return lengths


def padded_length(n: int, pad_to: int = 1) -> int:
    """``n`` rounded up to a multiple of ``pad_to`` (1: unchanged)."""
    check_positive("pad_to", pad_to, integer=True)
    return -(-int(n) // pad_to) * pad_to


def fixed_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices of ``lengths`` sorted by length (ties in input order), cut into batches of ``batch_size``."""
    return index_batches(_check_lengths(lengths), batch_size)


def token_budget_batches(lengths: Sequence[int], budget: int, pad_to: int = 1) -> list[list[int]]:
    """Indices sorted by length, filled greedily into batches of at most ``budget`` padded tokens.

    A batch's cost is its size times its longest (padded) sequence; a
    sequence longer than the budget gets a batch of its own. Short sentences
    thus travel in large batches and long ones in small batches, which keeps
    a GPU busy without padding every sentence to the longest.
    """
    lengths = _check_lengths(lengths)
    check_positive("budget", budget, integer=True)
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    out: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = padded_length(lengths[i], pad_to)  # sorted: the newest is the longest
        if current and (len(current) + 1) * width > budget:
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    return out


def batch_groups(lengths: Sequence[int], kind: str, size: int, pad_to: int = 1) -> list[list[int]]:
    """``fixed`` (:func:`fixed_batches`) or ``budget`` (:func:`token_budget_batches`) batching."""
    if kind == "fixed":
        return fixed_batches(lengths, size)
    if kind == "budget":
        return token_budget_batches(lengths, size, pad_to)
    raise StudyError(f"unknown batching {kind!r}; valid: fixed, budget")


def padding_efficiency(lengths: Sequence[int], groups: Sequence[Sequence[int]], pad_to: int = 1) -> float:
    """Real tokens / computed positions of a batching (1.0 = no padding)."""
    lengths = _check_lengths(lengths)
    computed = sum(len(g) * padded_length(max(lengths[i] for i in g), pad_to) for g in groups)
    return sum(lengths[i] for g in groups for i in g) / computed


def length_batches(lengths: Sequence[int], groups: Sequence[Sequence[int]], *, vocab_size: int, pad_to: int = 1,
                   seed: int = 0):
    """Batches (``BatchEncoding`` of ``input_ids``/``attention_mask``) of random ids with exactly ``lengths``.

    Speed depends on the shapes, not on which ids they hold; each sequence's
    mask covers its own length and the batch is padded to its longest (a
    multiple of ``pad_to``).
    """
    import torch
    from transformers import BatchEncoding

    lengths = _check_lengths(lengths)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for group in groups:
        width = padded_length(max(lengths[i] for i in group), pad_to)
        ids = torch.randint(5, vocab_size, (len(group), width), generator=gen)
        mask = torch.zeros(len(group), width, dtype=torch.long)
        for row, i in enumerate(group):
            mask[row, :lengths[i]] = 1
        ids[mask == 0] = 1  # XLM-R's <pad>
        out.append(BatchEncoding({"input_ids": ids, "attention_mask": mask}))
    return out


def workload_lengths(tokenizer, *, sentences: int = 8192, pairs: int = 4096, max_length: int = 512,
                     seed: int = 0) -> tuple[dict[str, list[int]], str]:
    """Token lengths of real inputs: Tatoeba sentences and XNLI premise/hypothesis pairs.

    Tatoeba: a seeded sample across every language file (:func:`helpers.tatoeba.sample_sentences`);
    XNLI: the dev pairs of every language in ``../shared/realdata``, a seeded
    sample of ``pairs``, encoded as a pair (absent without the real files).
    Returns ``({workload: lengths}, description)``.
    """
    check_positive("sentences", sentences, integer=True)
    check_positive("pairs", pairs, integer=True)
    texts, source = sample_sentences(sentences, seed=seed)
    out = {"tatoeba": [len(x) for x in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]}
    notes = [source]
    root = sources.realdata_root()
    xdir = root / "xnli" if root else None
    if xdir is not None and xdir.is_dir():
        src = sources.get_source("xtreme-dir", root)
        langs = sorted({p.stem.split("-", 1)[1] for p in xdir.glob("dev-*.tsv")})
        pool = []
        for lang in langs:
            pool += [(ex["text_a"], ex["text_b"]) for ex in sources.load_examples("xnli", "dev", lang, src)]
        picked = random.Random(seed).sample(pool, min(pairs, len(pool)))
        enc = tokenizer([a for a, _ in picked], [b for _, b in picked], truncation=True, max_length=max_length)
        out["xnli_pairs"] = [len(x) for x in enc["input_ids"]]
        notes.append(f"XNLI dev pairs ({len(langs)} languages), seeded sample of {len(picked)}")
    return out, "; ".join(notes)


# --------------------------------------------------------------------------- provenance
def git_commit(repo: Path | None = None) -> str:
    """The short commit of the working tree (suffixed ``+dirty`` when it has changes), or ``""``."""
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+dirty" if dirty else "")


def provenance(source: str) -> dict[str, str]:
    """The provenance columns of a row measured now: python, date (UTC), commit, source."""
    return {"python": platform.python_version(), "date": _dt.datetime.now(_dt.timezone.utc).date().isoformat(),
            "commit": git_commit(), "source": source}


# --------------------------------------------------------------------------- the chapters' tables
def _frame(name: str, frame=None):
    if frame is None:
        frame = pd.DataFrame(runs.read_table(runs.results_root() / name))
    frame = frame.copy()
    for col in frame.columns:
        converted = pd.to_numeric(frame[col], errors="coerce")
        if converted.notna().all():
            frame[col] = converted
    return frame


def _label(frame) -> str:
    parts = []
    for (gpu, date, commit), _ in frame.groupby(["device_name", "date", "commit"], dropna=False, sort=True):
        parts.append(f"{gpu}, measured {date}" + (f" at commit {commit}" if commit else ""))
    return "; ".join(parts)


def _num(frame, col):
    return pd.to_numeric(frame[col], errors="coerce")


def inference_summary(frame=None):
    """Per GPU, model shape, batch x length (full synthetic batches): the median over repetitions.

    Columns: ``GPU``, ``model``, ``batch x length``, ``tokens/s``, ``TFLOP/s``,
    ``of measured peak`` (a bf16 matmul timed in the same run),
    ``of datasheet peak`` (:func:`helpers.timing.datasheet_peak`), ``measured``
    (date and commit). Empty when no GPU table is committed.
    """
    df = _frame("inference_gpu.csv", frame)
    if df.empty:
        return pd.DataFrame()
    df = df[df["sweep"] == "gpu_grid"]
    out = []
    for (gpu, arm, batch, length), g in df.groupby(["device_name", "arm", "batch", "length"], sort=False):
        tflops = float(_num(g, "achieved_tflops").median())
        out.append({"GPU": gpu, "model": arm, "batch x length": f"{int(batch)} x {int(length)}",
                    "tokens/s": float(_num(g, "tokens_per_s").median()), "TFLOP/s": tflops,
                    "of measured peak": float(_num(g, "fraction_of_measured_peak").median()),
                    "of datasheet peak": _ratio(tflops, g), "measured": _label(g)})
    res = pd.DataFrame(out)
    order = {"xlmr-large": 0, "xlmr-base": 1, "e5-small": 2}
    res["_o"] = [order.get(m, 9) for m in res["model"]]
    res["_b"] = [tuple(int(x) for x in s.split(" x ")) for s in res["batch x length"]]
    return res.sort_values(["GPU", "_o", "_b"]).drop(columns=["_o", "_b"]).reset_index(drop=True)


def _ratio(tflops: float, g) -> float | None:
    sheet = _num(g, "datasheet_peak_tflops").median() if "datasheet_peak_tflops" in g else float("nan")
    if not sheet == sheet:  # NaN: look the GPU up now
        peak = datasheet_peak(str(g["device_name"].iloc[0]), str(g["dtype"].iloc[0]))
        return tflops * 1e12 / peak if peak else None
    return tflops / float(sheet)


def real_workload_summary(frame=None):
    """Real short sentences (Tatoeba, length-bucketed batches of 64) per GPU and model shape.

    Columns: ``GPU``, ``model``, ``batch``, ``real tokens/s``, ``TFLOP/s``,
    ``of measured peak``, ``of datasheet peak``, ``FLOPs/token x smallest``
    and ``tokens/s x smallest`` (against the model with the fewest FLOPs per
    token: a model with 14x the arithmetic that runs only 2x slower is held
    back by something other than arithmetic), ``p50 ms (batch 1)``,
    ``peak memory MiB`` and ``measured``.
    """
    df = _frame("inference_gpu.csv", frame)
    if df.empty:
        return pd.DataFrame()
    df = df[df["sweep"] == "gpu_real"]
    out = []
    for (gpu, arm), g in df.groupby(["device_name", "arm"], sort=False):
        tflops = float(_num(g, "achieved_tflops").median())
        out.append({"GPU": gpu, "model": arm, "batch": int(_num(g, "batch").max()),
                    "real tokens/s": float(_num(g, "tokens_per_s").median()), "TFLOP/s": tflops,
                    "of measured peak": float(_num(g, "fraction_of_measured_peak").median()),
                    "of datasheet peak": _ratio(tflops, g),
                    "_fpt": float(_num(g, "flops_per_token").median()),
                    "p50 ms (batch 1)": float(_num(g, "p50_ms").median()),
                    "peak memory MiB": float(_num(g, "peak_memory_mb").median()), "measured": _label(g)})
    res = pd.DataFrame(out)
    if res.empty:
        return res
    parts = []
    for _, g in res.groupby("GPU", sort=False):
        smallest = g.loc[g["_fpt"].idxmin()]
        g = g.assign(**{"FLOPs/token x smallest": g["_fpt"] / smallest["_fpt"],
                        "tokens/s x smallest": g["real tokens/s"] / smallest["real tokens/s"]})
        parts.append(g.sort_values("_fpt", ascending=False))
    res = pd.concat(parts).drop(columns="_fpt")
    cols = ["GPU", "model", "batch", "real tokens/s", "TFLOP/s", "of measured peak", "of datasheet peak",
            "FLOPs/token x smallest", "tokens/s x smallest", "p50 ms (batch 1)", "peak memory MiB", "measured"]
    return res[cols].reset_index(drop=True)


def levers_summary(frame=None):
    """The batching levers on real token lengths: one row per GPU, model, workload and batching.

    Columns: ``GPU``, ``model``, ``workload`` (Tatoeba sentences, XNLI
    pairs), ``batching`` (``batch64``: sorted by length, 64 a batch;
    ``budget16k``/``budget64k``: sorted, filled to 16k/64k tokens a batch;
    ``+pad32``: lengths rounded up to a multiple of 32; ``+compile``:
    ``torch.compile(dynamic=True)``), ``dtype``, ``batches``, ``padding
    efficiency`` (real / computed positions), ``real tokens/s``, ``x batch64``
    (speed-up over fixed batches of 64 of the same model, workload and
    dtype), ``of datasheet peak`` and ``source``.
    """
    df = _frame("inference_gpu.csv", frame)
    if df.empty or "gpu_levers" not in set(df["sweep"]):
        return pd.DataFrame()
    df = df[df["sweep"] == "gpu_levers"]
    out = []
    for (gpu, arm, wl, padding, dtype, source), g in df.groupby(
            ["device_name", "arm", "workload", "padding", "dtype", "source"], sort=False):
        tflops = float(_num(g, "achieved_tflops").median())
        tokens, padded = _num(g, "tokens").median(), _num(g, "padded_tokens").median()
        out.append({"GPU": gpu, "model": arm, "workload": wl, "batching": padding, "dtype": dtype,
                    "batches": _num(g, "batches").median(),
                    "padding efficiency": float(tokens / padded) if padded == padded and padded else None,
                    "real tokens/s": float(_num(g, "tokens_per_s").median()),
                    "of datasheet peak": _ratio(tflops, g), "source": source})
    res = pd.DataFrame(out)
    base = {(r["GPU"], r["model"], r["workload"], r["dtype"]): r["real tokens/s"]
            for _, r in res.iterrows() if r["batching"].startswith("batch") and "+" not in r["batching"]}
    rank = {"batch": 0, "budget16k": 1, "budget64k": 2}
    res["_o"] = [(rank.get(b.split("+")[0], 1 if b.startswith("budget") else 0), b.count("+"), b)
                 for b in res["batching"]]
    res = res.sort_values(["GPU", "model", "workload", "_o"]).drop(columns="_o").reset_index(drop=True)
    res.insert(8, "x batch64", [r["real tokens/s"] / base[k] if (k := (r["GPU"], r["model"], r["workload"], r["dtype"]))
                                in base else None for _, r in res.iterrows()])
    return res.reset_index(drop=True)


def training_summary(frame=None):
    """Measured training steps per GPU, shape, precision and batch: tokens/s, TFLOP/s, fraction of the datasheet peak."""
    df = _frame("training_gpu.csv", frame)
    if df.empty:
        return pd.DataFrame()
    out = pd.DataFrame({
        "GPU": df["device_name"], "model": df["preset"],
        "precision": [TRAINING_DTYPES.get(d, d) for d in df["dtype"]],
        "batch x length": [f"{int(b)} x {int(n)}" for b, n in zip(df["batch"], df["length"])],
        "s/step": _num(df, "seconds_per_step"), "tokens/s": _num(df, "tokens_per_s"),
        "GFLOP/token (fwd+bwd)": _num(df, "flops_per_token") / 1e9, "TFLOP/s": _num(df, "achieved_tflops"),
        "of datasheet peak": _num(df, "fraction_of_datasheet_peak"),
        "measured": [f"{g}, {d}" + (f" at commit {c}" if c else "") for g, d, c in
                     zip(df["device_name"], df["date"], df["commit"])],
    })
    return out.reset_index(drop=True)


def gap_facts(frame=None, model: str = "xlmr-large") -> dict:
    """The figures of the GPU gap for the prose (glue them; never type them).

    Keys: ``gpu``, ``date``, ``commit``, ``peak_tflops_measured``,
    ``peak_tflops_datasheet``; for ``model``: ``full_tps`` and
    ``full_of_measured``/``full_of_datasheet`` (the best full synthetic batch
    of the grid), ``full_shape``; ``real_tps``, ``real_of_measured``,
    ``real_of_datasheet`` (real Tatoeba sentences, batches of 64),
    ``real_batch``; ``real_speed_spread`` (fastest / slowest model on real
    sentences) and ``real_flops_spread`` (most / fewest FLOPs per token).
    """
    grid = inference_summary(frame)
    real = real_workload_summary(frame)
    if grid.empty or real.empty:
        raise StudyError("no GPU measurements: results/inference_gpu.csv has no gpu_grid and gpu_real rows "
                         "(run scripts/gpu_bench.py on a GPU, or python -m helpers.gpu import FOLDER)")
    df = _frame("inference_gpu.csv", frame)
    g = grid[grid["model"] == model]
    r = real[real["model"] == model]
    if g.empty or r.empty:
        raise StudyError(f"no GPU rows for model {model!r}; valid: {', '.join(sorted(set(real['model'])))}")
    best = g.loc[g["tokens/s"].idxmax()]
    rr = r.iloc[0]
    meta = df[(df["sweep"] == "gpu_real") & (df["arm"] == model)].iloc[0]
    return {
        "gpu": str(meta["device_name"]), "date": str(meta["date"]), "commit": str(meta["commit"]),
        "peak_tflops_measured": float(_num(df, "measured_peak_tflops").median()),
        "peak_tflops_datasheet": float(_num(df, "datasheet_peak_tflops").median()),
        "full_shape": best["batch x length"], "full_tps": float(best["tokens/s"]),
        "full_of_measured": float(best["of measured peak"]), "full_of_datasheet": _float(best["of datasheet peak"]),
        "real_batch": int(rr["batch"]), "real_tps": float(rr["real tokens/s"]),
        "real_of_measured": float(rr["of measured peak"]), "real_of_datasheet": _float(rr["of datasheet peak"]),
        "real_speed_spread": float(real["real tokens/s"].max() / real["real tokens/s"].min()),
        "real_flops_spread": float(real["FLOPs/token x smallest"].max()),
    }


def _float(value) -> float | None:
    return None if value is None or value != value else float(value)


def training_throughput(frame=None, *, preset: str = "xlmr-large", dtype: str = "bf16") -> dict[int, dict]:
    """Measured training tokens/s of ``preset`` in ``dtype`` on the committed GPU, by sequence length.

    ``{length: {"tokens_per_s", "batch", "flops_per_token", "gpu", "date"}}`` (the fastest row of each length); the extrapolation
    picks, per task, the length nearest to the recipe's maximum length.
    """
    df = _frame("training_gpu.csv", frame)
    if df.empty:
        raise StudyError("no GPU training measurements: results/training_gpu.csv is absent "
                         "(run scripts/gpu_bench.py --mode training on a GPU)")
    sel = df[(df["preset"] == preset) & (df["dtype"] == dtype)]
    if sel.empty:
        valid = sorted({f"{p}/{d}" for p, d in zip(df["preset"], df["dtype"])})
        raise StudyError(f"no training rows for {preset}/{dtype}; valid: {', '.join(valid)}")
    out = {}
    for length, g in sel.groupby("length"):
        row = g.loc[_num(g, "tokens_per_s").idxmax()]
        out[int(length)] = {"tokens_per_s": float(row["tokens_per_s"]), "batch": int(row["batch"]),
                            "flops_per_token": float(row["flops_per_token"]), "gpu": str(row["device_name"]),
                            "date": str(row["date"])}
    return out


if __name__ == "__main__":  # python -m helpers.gpu import FOLDER: the command lives with the import
    from .gpu_import import main

    raise SystemExit(run_cli(main))
