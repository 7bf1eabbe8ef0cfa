"""GPU inference timing: the study's timer (helpers.timing) on CUDA, bf16, SDPA.

Measures XLM-R Large and Base shapes (random weights: only the shapes matter
for speed) and e5-small, plus any trained arms found under ``runs/``, at a few
batch sizes and lengths, interleaved (A B C, C B A, ...) after warm-up, with
CUDA events and synchronisation. Writes ``results/inference_gpu.csv`` with the
GPU's name, FLOPs per token (torch.utils.flop_counter), achieved FLOP/s, and
its fraction of the datasheet peak (H100 SXM: 989 TFLOP/s dense bf16, from
REPORTED.md) and of a bf16 matmul peak measured in the same run.

Usage (on the GPU machine, from the repository root):

    python scripts/gpu_bench.py                   # the full grid, well under 8 minutes on one H100
    python scripts/gpu_bench.py --device cpu --quick --out /tmp/x.csv   # tiny shapes: checks the code path

It needs only the repository and an installed torch + transformers (versions
may differ from the study's pins: they are printed and recorded). Without a
CUDA GPU it stops at once with one line (unless ``--device cpu``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

SHAPES = {
    # name: (XLM-R config fields, preset name in helpers.models)
    "xlmr-large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    "xlmr-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "e5-small": dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=12, intermediate_size=1536),
}
QUICK_SHAPES = {
    "tiny-a": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64),
    "tiny-b": dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=4, intermediate_size=96),
}
GRID = {"batches": (1, 32, 128), "lengths": (128, 512)}
QUICK_GRID = {"batches": (1, 4), "lengths": (16, 32)}
GPU_COLUMNS = (
    "sweep", "arm", "workload", "device", "device_name", "dtype", "batch", "length", "padding", "layers",
    "threads", "repetition", "position", "tokens", "padded_tokens", "sequences", "batches", "seconds",
    "tokens_per_s", "sequences_per_s", "flops_per_token", "achieved_tflops", "datasheet_peak_tflops",
    "fraction_of_datasheet_peak", "measured_peak_tflops", "fraction_of_measured_peak", "fraction_of_peak",
    "peak_source", "p50_ms", "p90_ms",
    "p99_ms", "peak_memory_mb", "model_note", "torch", "transformers",
)
GPU_KEY = ("sweep", "arm", "workload", "device_name", "dtype", "batch", "length", "layers", "repetition")


def header(device: str) -> dict:
    """Print and return the library versions; stop with one line when CUDA is required but absent."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        sys.exit(f"error: gpu_bench needs torch and transformers installed ({exc})")
    info = {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
            "cuda": str(torch.version.cuda), "cuda_available": torch.cuda.is_available()}
    if device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("error: no CUDA GPU is visible (torch.cuda.is_available() is False); "
                     "run this on the GPU machine, or pass --device cpu --quick to check the code path")
        info["gpu"] = torch.cuda.get_device_name(0)
        info["bf16"] = torch.cuda.is_bf16_supported()
    print("== versions: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    return info


def build_models(shapes: dict, device: str, dtype: str, quick: bool) -> dict:
    """name -> (model, note). helpers.models presets when they load here, else XLM-R-shaped random models."""
    import torch

    from helpers.bench import xlmr_shaped_model
    from helpers.timing import prepare_model

    out = {}
    for name, shape in shapes.items():
        model, note = None, ""
        if not quick:
            try:
                from helpers import models as presets

                model = presets.load_model(name, head="encoder", pretrained=(name == "e5-small"))
                note = f"helpers.models {name}" + ("" if name == "e5-small" else " (random weights)")
            except Exception as exc:
                note = f"XLM-R-shaped random weights ({type(exc).__name__} loading helpers.models {name})"
        if model is None:
            if device == "cuda":
                with torch.device("cuda"):
                    model = xlmr_shaped_model(vocab_size=250002 if not quick else 1000, **shape)
            else:
                model = xlmr_shaped_model(vocab_size=250002 if not quick else 1000, **shape)
            note = note or "XLM-R-shaped random weights"
        out[name] = (prepare_model(model, device, dtype), note)
    return out


def trained_arms(device: str, dtype: str) -> dict:
    """Trained target-task models under runs/ (``<arm>___<task>/seed<k>`` with config.json + safetensors)."""
    from helpers.runs import runs_root
    from helpers.timing import prepare_model

    found = {}
    root = runs_root()
    if not root.is_dir():
        return found
    for cfg in sorted(root.glob("*___*/seed*/**/config.json")):
        d = cfg.parent
        if not list(d.glob("*.safetensors")):
            continue
        try:
            from transformers import AutoModel

            model = AutoModel.from_pretrained(d, attn_implementation="sdpa")  # encoder only: heads cost ~nothing
        except Exception as exc:
            print(f"   skip {d}: {type(exc).__name__}", flush=True)
            continue
        name = d.relative_to(root).as_posix()
        found[name] = (prepare_model(model, device, dtype), "trained arm (encoder; head dropped)")
    return found


def real_batches(batch: int, length: int, quick: bool):
    """Bucketed batches of real Tatoeba sentences through the real XLM-R tokenizer (or say what replaced it)."""
    from helpers.bench import sample_sentences, train_tokenizer
    from helpers.timing import make_batches

    texts, source = sample_sentences(32 if quick else 1024)
    try:
        if quick:
            raise RuntimeError("quick mode")
        from helpers import models as presets

        tok, tok_note = presets.load_tokenizer("xlmr-base"), "XLM-R tokenizer"
    except Exception as exc:
        tok = train_tokenizer(texts, vocab_size=400 if quick else 4000)
        tok_note = f"unigram tokenizer trained on the sample ({type(exc).__name__}: real one unavailable)"
    return make_batches(tok, texts, batch, length), f"{source}; {tok_note}", texts, tok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="GPU inference timing of XLM-R Large/Base and e5-small shapes")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--quick", action="store_true", help="tiny shapes and a tiny grid (checks the code path)")
    p.add_argument("--dtype", default=None, help="bf16 (default on CUDA), fp32, fp16")
    p.add_argument("--repeats", type=int, default=None, help="interleaved repetitions (default 10; quick 2)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up passes per entry (default 3; quick 1)")
    p.add_argument("--budget-s", type=float, default=420.0, help="stop starting new grid points after this")
    p.add_argument("--out", default=None, help="CSV path (default results/inference_gpu.csv)")
    args = p.parse_args(argv)
    t_start = time.perf_counter()
    info = header(args.device)

    import torch

    from helpers.runs import device_name, results_root, upsert_rows
    from helpers.timing import (datasheet_peak, default_dtype, flops_per_token, latency_percentiles,
                                measure_matmul_peak, peak_memory_mb, ratio_summary, synthetic_batches,
                                time_entries, truncate_layers, retrieval_layer)

    torch.manual_seed(0)
    dtype = args.dtype or default_dtype(args.device)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 runs use TF32 tensor cores, as deployed
    repeats = args.repeats or (2 if args.quick else 10)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    grid = QUICK_GRID if args.quick else GRID
    gpu = device_name() if args.device == "cuda" else f"cpu: {device_name()}"
    out_path = Path(args.out) if args.out else results_root() / "inference_gpu.csv"

    models = build_models(shapes, args.device, dtype, args.quick)
    arms = trained_arms(args.device, dtype) if not args.quick else {}
    print(f"== {gpu}, dtype {dtype}, models {list(models)}, trained arms {list(arms) or 'none'}", flush=True)

    peak_meas = measure_matmul_peak(dtype, args.device, n=256 if args.quick else 8192,
                                    min_seconds=0.05 if args.quick else 2.0)
    peak_sheet = datasheet_peak(gpu, dtype) if args.device == "cuda" else None
    print(f"== matmul peak measured {peak_meas / 1e12:.3f} TFLOP/s; datasheet "
          f"{peak_sheet / 1e12 if peak_sheet else 'n/a'} TFLOP/s", flush=True)

    vocab = 1000 if args.quick else 250002
    all_rows: list[dict] = []
    fpt_cache: dict = {}

    def fpt(name, model, length):
        if (name, length) not in fpt_cache:
            (b,) = synthetic_batches(1, length, vocab_size=vocab, seed=1)
            fpt_cache[(name, length)] = flops_per_token(model, b)
        return fpt_cache[(name, length)]

    def finish(rows, notes, flops_of):
        for r in rows:
            f = flops_of(r)
            achieved = f * r["tokens_per_s"]
            r.update({"flops_per_token": f, "achieved_tflops": achieved / 1e12,
                      "datasheet_peak_tflops": peak_sheet / 1e12 if peak_sheet else "",
                      "fraction_of_datasheet_peak": achieved / peak_sheet if peak_sheet else "",
                      "measured_peak_tflops": peak_meas / 1e12, "fraction_of_measured_peak": achieved / peak_meas,
                      "fraction_of_peak": achieved / (peak_sheet or peak_meas),
                      "peak_source": "datasheet" if peak_sheet else "measured matmul",
                      "model_note": notes.get(r["arm"], ""), "torch": info["torch"],
                      "transformers": info["transformers"], "device_name": gpu})
        all_rows.extend(rows)
        upsert_rows(out_path, rows, key=GPU_KEY, columns=GPU_COLUMNS)

    notes = {n: note for n, (_, note) in {**models, **arms}.items()}
    # 1. the grid: every model interleaved at each (batch, length), full synthetic batches (every token real)
    skipped = []
    for length in grid["lengths"]:
        for batch in grid["batches"]:
            if time.perf_counter() - t_start > args.budget_s:
                skipped.append((batch, length))
                continue
            n_batches = max(1, (8192 if not args.quick else 64) // (batch * length))
            data = synthetic_batches(batch, length, vocab_size=vocab, n_batches=min(n_batches, 8), seed=batch + length)
            entries = [({"sweep": "gpu_grid", "arm": n, "workload": "synthetic", "padding": "full", "batch": batch,
                         "length": length, "layers": m.config.num_hidden_layers}, m, data)
                       for n, (m, _) in models.items()]
            rows = time_entries(entries, warmup=warmup, repeats=repeats, device=args.device)
            finish(rows, notes, lambda r: fpt(r["arm"], models[r["arm"]][0], r["length"]))
            best = {n: max(r["tokens_per_s"] for r in rows if r["arm"] == n) for n in models}
            print(f"   batch {batch:4d} length {length:4d}: " + ", ".join(f"{n} {v:,.0f} tok/s" for n, v in best.items()),
                  flush=True)
    if skipped:
        print(f"== budget reached: skipped grid points {skipped}", flush=True)

    # 2. real sentences, bucketed, per model (and trained arms), with latency and memory
    batch_real = 4 if args.quick else 64
    rb, source, texts, tok = real_batches(batch_real, 128 if not args.quick else 32, args.quick)
    print(f"== real workload: {source}", flush=True)
    everyone = {**models, **arms}
    entries = [({"sweep": "gpu_real", "arm": n, "workload": "tatoeba", "padding": "bucketed", "batch": batch_real,
                 "length": 128 if not args.quick else 32, "layers": m.config.num_hidden_layers}, m, rb)
               for n, (m, _) in everyone.items()]
    rows = time_entries(entries, warmup=warmup, repeats=repeats, device=args.device)
    real_fpt = {}
    for n, (m, _) in everyone.items():
        total_tokens = sum(int(b["attention_mask"].sum()) for b in rb)
        real_fpt[n] = sum(flops_per_token(m, b) * int(b["attention_mask"].sum()) for b in rb) / total_tokens
    extra = {}
    for n, (m, _) in everyone.items():
        lat = latency_percentiles(m, tok, texts[:64 if not args.quick else 8], max_length=128, warmup=3,
                                  device=args.device)
        extra[n] = {"p50_ms": lat["p50_ms"], "p90_ms": lat["p90_ms"], "p99_ms": lat["p99_ms"],
                    "peak_memory_mb": peak_memory_mb(m, rb[-1:], device=args.device)}
    for r in rows:
        r.update(extra[r["arm"]])
    finish(rows, notes, lambda r: real_fpt[r["arm"]])
    for n in everyone:
        rr = [r for r in rows if r["arm"] == n]
        print(f"   {n}: {sum(r['tokens_per_s'] for r in rr) / len(rr):,.0f} real tok/s, p50 {extra[n]['p50_ms']:.2f} ms "
              f"(batch 1), peak {extra[n]['peak_memory_mb']:.0f} MiB", flush=True)
    if arms:
        base = next((n for n in arms if n.startswith("direct___")), None)
        if base:
            for s in ratio_summary([r for r in rows if r["arm"] in arms], baseline_arm=base, by=("sweep",)):
                print(f"   {s['arm']} vs {base}: ratio {s['ratio']:.3f} [{s['ci_lo']:.3f}, {s['ci_hi']:.3f}] "
                      f"{s['verdict']}", flush=True)

    # 3. early exit at the retrieval layer for the deepest model (first k layers vs all)
    name = next(iter(models))
    model = models[name][0]
    k, full = retrieval_layer(model.config.num_hidden_layers), model.config.num_hidden_layers
    data = synthetic_batches(grid["batches"][-1], grid["lengths"][0], vocab_size=vocab, n_batches=2, seed=7)
    short = truncate_layers(model, k)
    entries = [({"sweep": "gpu_early_exit", "arm": f"{name}:layers={k}", "workload": "synthetic", "padding": "full",
                 "layers": k}, short, data),
               ({"sweep": "gpu_early_exit", "arm": f"{name}:layers={full}", "workload": "synthetic", "padding": "full",
                 "layers": full}, model, data)]
    rows = time_entries(entries, warmup=warmup, repeats=repeats, device=args.device)
    ee_fpt = {f"{name}:layers={k}": fpt(f"{name}@{k}", short, data[0]["input_ids"].shape[1]),
              f"{name}:layers={full}": fpt(name, model, data[0]["input_ids"].shape[1])}
    finish(rows, notes, lambda r: ee_fpt[r["arm"]])
    for s in ratio_summary(rows, baseline_arm=f"{name}:layers={full}", by=("sweep",)):
        print(f"   early exit {s['arm']}: {s['ratio']:.3f}x [{s['ci_lo']:.3f}, {s['ci_hi']:.3f}]", flush=True)

    print(f"== wrote {len(all_rows)} rows to {out_path} in {time.perf_counter() - t_start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
