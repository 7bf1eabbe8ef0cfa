"""GPU timing with the study's own code: inference (helpers.timing), the batching levers, training steps.

Three modes (``--mode``, default ``all``):

- ``inference``: XLM-R Large and Base shapes (random weights: only the shapes
  matter for speed) and e5-small, plus any trained arms found under ``runs/``,
  at a few batch sizes and lengths, interleaved (A B C, C B A, ...) after
  warm-up, with CUDA events and synchronisation; then real Tatoeba sentences
  in length-bucketed batches of 64 (with latency at batch 1 and peak memory),
  and early exit at the retrieval layer.
- ``levers``: what closes the gap on real short inputs: real token lengths
  (Tatoeba sentences, XNLI pairs) batched three ways (sorted, 64 a batch;
  sorted and filled to a token budget of 16k or 64k tokens a batch), bf16
  against fp32 (TF32), and ``torch.compile(dynamic=True)`` (``--compile-mode
  reduce-overhead`` adds CUDA graphs) against eager on the 16k budget.
- ``training``: full training steps (forward, backward, fused AdamW) of the
  XLM-R Large and Base shapes through ``helpers.scaling.measure_training_step``,
  bf16 autocast and TF32, median of 7 steps after one warm-up.

Inference and lever rows go to ``results/inference_gpu.csv``, training rows to
``results/training_gpu.csv``; every row names the GPU, the date, the commit and
the library versions, with FLOPs per token (torch.utils.flop_counter), achieved
FLOP/s and its fraction of the datasheet peak (``helpers.timing.datasheet_peak``:
989 TFLOP/s dense bf16 for the H100 SXM and H200, REPORTED.md) and of a bf16
matmul peak measured in the same run.

Usage (on the GPU machine, from the repository root):

    python scripts/gpu_bench.py                   # everything, well under 8 minutes on one H100/H200
    python scripts/gpu_bench.py --mode training   # only the training steps
    python scripts/gpu_bench.py --device cpu --quick --out /tmp/x.csv --train-out /tmp/t.csv   # tiny shapes

It needs only the repository and an installed torch + transformers (versions
may differ from the study's pins: they are printed and recorded). Without a
CUDA GPU it stops at once with one line (unless ``--device cpu``).
"""

from __future__ import annotations

import argparse
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
MODES = ("all", "inference", "levers", "training")
#: training steps measured: (preset, batch, length); each in every precision of TRAIN_PRECISIONS
TRAIN_CONFIGS = (("xlmr-large", 32, 128), ("xlmr-large", 8, 512), ("xlmr-base", 32, 128))
QUICK_TRAIN_CONFIGS = (("tiny", 2, 16),)
TRAIN_PRECISIONS = {"cuda": ("bf16", "tf32"), "cpu": ("fp32", "bf16")}
LEVER_MODELS = ("xlmr-large", "e5-small")


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

    from studytools.bench import xlmr_shaped_model
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
    """Trained target-task models under runs/ (``<profile>/<arm>___<task>/seed<k>`` with config.json + safetensors)."""
    from helpers.runs import runs_root
    from helpers.timing import prepare_model

    found = {}
    root = runs_root()
    if not root.is_dir():
        return found
    for cfg in sorted(root.glob("*/*___*/seed*/**/config.json")):
        d = cfg.parent
        if not list(d.glob("*.safetensors")):
            continue
        try:
            from transformers import AutoModel

            model = AutoModel.from_pretrained(d, attn_implementation="sdpa")  # encoder only: heads cost ~nothing
        except Exception as exc:
            print(f"   skip {d}: {type(exc).__name__}", flush=True)
            continue
        name = "/".join(d.relative_to(root).parts[1:])  # <arm>___<task>/seed<k>; the profile only when needed
        name = name if name not in found else d.relative_to(root).as_posix()
        found[name] = (prepare_model(model, device, dtype), "trained arm (encoder; head dropped)")
    return found


def real_batches(batch: int, length: int, quick: bool):
    """Bucketed batches of real Tatoeba sentences through the real XLM-R tokenizer (or say what replaced it)."""
    from helpers import models as presets
    from helpers.tatoeba import sample_sentences
    from helpers.timing import make_batches

    texts, source = sample_sentences(32 if quick else 1024)
    try:
        if quick:
            raise RuntimeError("quick mode")
        tok, tok_note = presets.load_tokenizer("xlmr-base"), "XLM-R tokenizer"
    except Exception as exc:
        tok = presets.load_tokenizer("tiny")
        tok_note = f"the tiny preset's unigram tokenizer ({type(exc).__name__}: real one unavailable)"
    return make_batches(tok, texts, batch, length), f"{source}; {tok_note}", texts, tok


def training_steps(args, gpu: str, info: dict, prov: dict, train_path: Path) -> list[dict]:
    """Training-step throughput (helpers.scaling.measure_training_step) -> rows of training_gpu.csv."""
    import torch

    from helpers.gpu import TRAINING_COLUMNS, TRAINING_KEY
    from helpers.runs import upsert_rows
    from helpers.scaling import measure_training_step
    from helpers.timing import datasheet_peak

    configs = QUICK_TRAIN_CONFIGS if args.quick else TRAIN_CONFIGS
    steps = 3 if args.quick else 8
    peak = datasheet_peak(gpu, "bf16") if args.device == "cuda" else None
    rows = []
    for preset, batch, length in configs:
        for precision in TRAIN_PRECISIONS[args.device]:
            t0 = time.perf_counter()
            try:
                s = measure_training_step(preset, batch=batch, length=length, steps=steps, device=args.device,
                                          precision=precision)
            except Exception as exc:  # out of memory on a small GPU: say so and go on
                print(f"   training {preset} {precision} {batch}x{length}: {type(exc).__name__}: {exc}", flush=True)
                continue
            achieved = s.flops_per_token * s.tokens_per_s
            rows.append({
                "sweep": "gpu_train", "preset": preset, "dtype": precision, "batch": batch, "length": length,
                "steps": steps, "seconds_per_step": s.seconds_per_step, "optimizer_seconds": s.optimizer_seconds,
                "tokens_per_s": s.tokens_per_s, "flops_per_token": s.flops_per_token,
                "achieved_tflops": achieved / 1e12, "datasheet_peak_tflops": peak / 1e12 if peak else "",
                "fraction_of_datasheet_peak": achieved / peak if peak else "", "optimizer": "AdamW (fused)",
                "mode": "eager", "device": args.device, "device_name": gpu, "torch": info["torch"],
                "transformers": info["transformers"], "wall_s": time.perf_counter() - t0, **prov})
            print(f"   training {preset} {precision} {batch}x{length}: {s.tokens_per_s:,.0f} tokens/s, "
                  f"{achieved / 1e12:.1f} TFLOP/s, optimizer {s.optimizer_seconds * 1e3:.1f} ms of "
                  f"{s.seconds_per_step * 1e3:.1f} ms a step", flush=True)
            if args.device == "cuda":
                torch.cuda.empty_cache()
    if rows:
        upsert_rows(train_path, rows, key=TRAINING_KEY, columns=TRAINING_COLUMNS)
    return rows


def levers(args, dtype: str, vocab: int, finish, tok) -> None:
    """Real token lengths through each lever: token-budget batching, bf16 vs fp32, torch.compile."""
    import torch

    from studytools.bench import xlmr_shaped_model
    from helpers.gpu import LEVER_BATCHINGS, QUICK_LEVER_BATCHINGS, batch_groups, length_batches, workload_lengths
    from helpers.timing import flops_per_token, prepare_model, synthetic_batches, time_entries

    lengths, described = workload_lengths(tok, sentences=256 if args.quick else 8192,
                                          pairs=128 if args.quick else 4096)
    print(f"== levers: {described}", flush=True)
    batchings = QUICK_LEVER_BATCHINGS if args.quick else LEVER_BATCHINGS
    budget_label = next(k for k, (kind, _) in batchings.items() if kind == "budget")
    shapes = QUICK_SHAPES if args.quick else {k: SHAPES[k] for k in LEVER_MODELS}
    dtypes = [dtype, "bf16" if dtype == "fp32" else "fp32"]  # the precision lever: bf16 against fp32 (TF32)
    repeats = 2 if args.quick else 5
    for name, shape in shapes.items():
        models = {}
        for dt in dtypes:
            if args.device == "cuda":
                with torch.device("cuda"):
                    m = xlmr_shaped_model(vocab_size=vocab, **shape)
            else:
                m = xlmr_shaped_model(vocab_size=vocab, **shape)
            models[dt] = prepare_model(m, args.device, dt)
        (full,) = synthetic_batches(1, 128 if not args.quick else 16, vocab_size=vocab, seed=1)
        useful = flops_per_token(models[dtype], full)  # useful work: FLOPs of an unpadded sequence
        for workload, ls in lengths.items():
            entries = []
            for label, (kind, size) in batchings.items():
                groups = batch_groups(ls, kind, size)
                data = length_batches(ls, groups, vocab_size=vocab)
                for dt in (dtypes if label == budget_label else [dtype]):
                    entries.append(({"sweep": "gpu_levers", "arm": name, "workload": workload, "padding": label,
                                     "layers": models[dt].config.num_hidden_layers}, models[dt], data))
            compile_it = args.compile if args.compile is not None else args.device == "cuda"
            if compile_it:
                kind, size = batchings[budget_label]
                groups = batch_groups(ls, kind, size, pad_to=32)
                data = length_batches(ls, groups, vocab_size=vocab, pad_to=32)
                t0 = time.perf_counter()
                compiled = torch.compile(models[dtype], dynamic=True, mode=args.compile_mode)
                with torch.inference_mode():
                    for b in data:
                        compiled(**{k: v.to(args.device) for k, v in b.items()})
                print(f"   {name} {workload}: torch.compile + first pass {time.perf_counter() - t0:.0f} s", flush=True)
                layers = models[dtype].config.num_hidden_layers
                entries.append(({"sweep": "gpu_levers", "arm": name, "workload": workload,
                                 "padding": f"{budget_label}+pad32", "layers": layers}, models[dtype], data))
                entries.append(({"sweep": "gpu_levers", "arm": name, "workload": workload,
                                 "padding": f"{budget_label}+pad32+compile", "layers": layers}, compiled, data))
            rows = time_entries(entries, warmup=1, repeats=repeats, device=args.device)
            for r in rows:
                r["model_note"] = "XLM-R-shaped random weights; random ids of real token lengths; " \
                                  "FLOPs/token of an unpadded sequence (useful work only)"
                if r["padding"].endswith("+compile"):
                    r["dtype"] = dtype
            finish(rows, {}, lambda r: useful)
            for label in dict.fromkeys(r["padding"] for r in rows):
                for dt in dict.fromkeys(r["dtype"] for r in rows if r["padding"] == label):
                    rr = [r for r in rows if r["padding"] == label and r["dtype"] == dt]
                    tps = sorted(r["tokens_per_s"] for r in rr)[len(rr) // 2]
                    print(f"   {name:10s} {workload:10s} {label:24s} {dt:4s} batches={rr[0]['batches']:4d} "
                          f"pad_eff={rr[0]['tokens'] / rr[0]['padded_tokens']:.2f} real_tok/s={tps:,.0f}", flush=True)
        del models
        if args.device == "cuda":
            torch.cuda.empty_cache()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="GPU timing of XLM-R Large/Base and e5-small shapes: inference, "
                                            "batching levers, training steps")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--mode", default="all", choices=MODES, help="what to measure (default: all)")
    p.add_argument("--quick", action="store_true", help="tiny shapes and a tiny grid (checks the code path)")
    p.add_argument("--dtype", default=None, help="bf16 (default on CUDA), fp32, fp16")
    p.add_argument("--repeats", type=int, default=None, help="interleaved repetitions (default 10; quick 2)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up passes per entry (default 3; quick 1)")
    p.add_argument("--budget-s", type=float, default=420.0, help="stop starting new grid points after this")
    p.add_argument("--out", default=None, help="inference CSV (default results/inference_gpu.csv)")
    p.add_argument("--train-out", default=None, help="training CSV (default results/training_gpu.csv)")
    p.add_argument("--compile", default=None, action=argparse.BooleanOptionalAction,
                   help="time torch.compile in the levers (default: on CUDA only)")
    p.add_argument("--compile-mode", default="default", choices=("default", "reduce-overhead", "max-autotune"),
                   help="torch.compile mode of the lever (reduce-overhead uses CUDA graphs)")
    args = p.parse_args(argv)
    t_start = time.perf_counter()
    info = header(args.device)

    import torch

    from helpers.gpu import INFERENCE_COLUMNS, INFERENCE_KEY, provenance
    from helpers.runs import device_name, results_root, upsert_rows
    from helpers.timing import datasheet_peak, default_dtype, flops_per_token, measure_matmul_peak, synthetic_batches

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
    train_path = Path(args.train_out) if args.train_out else results_root() / "training_gpu.csv"
    prov = provenance("scripts/gpu_bench.py")
    written = {"inference": 0, "training": 0}

    if args.mode in ("all", "training"):
        print(f"== training steps on {gpu}", flush=True)
        written["training"] = len(training_steps(args, gpu, info, prov, train_path))
        if args.mode == "training":
            print(f"== wrote {written['training']} rows to {train_path} in {time.perf_counter() - t_start:.0f} s",
                  flush=True)
            return 0

    peak_meas = measure_matmul_peak(dtype, args.device, n=256 if args.quick else 8192,
                                    min_seconds=0.05 if args.quick else 2.0)
    peak_sheet = datasheet_peak(gpu, dtype) if args.device == "cuda" else None
    print(f"== matmul peak measured {peak_meas / 1e12:.3f} TFLOP/s; datasheet "
          f"{peak_sheet / 1e12 if peak_sheet else 'n/a'} TFLOP/s", flush=True)

    vocab = 1000 if args.quick else 250002
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
                      "torch": info["torch"], "transformers": info["transformers"], "device_name": gpu, **prov})
            r.setdefault("model_note", notes.get(r["arm"], ""))
            r.setdefault("padding", "")
        written["inference"] += len(rows)
        upsert_rows(out_path, rows, key=INFERENCE_KEY, columns=INFERENCE_COLUMNS)

    # the tokenizer of the real workloads (the real XLM-R one, or one trained on the sample; said which)
    batch_real = 4 if args.quick else 64
    len_real = 32 if args.quick else 128
    rb, source, texts, tok = real_batches(batch_real, len_real, args.quick)

    if args.mode in ("all", "inference"):
        inference(args, dtype, vocab, grid, shapes, repeats, warmup, gpu, t_start, fpt, finish,
                  (rb, source, texts, tok), batch_real, len_real)
    if args.mode in ("all", "levers"):
        levers(args, dtype, vocab, finish, tok)

    print(f"== wrote {written['inference']} rows to {out_path}"
          + (f" and {written['training']} to {train_path}" if written["training"] else "")
          + f" in {time.perf_counter() - t_start:.0f} s", flush=True)
    return 0


def inference(args, dtype, vocab, grid, shapes, repeats, warmup, gpu, t_start, fpt, finish, real, batch_real,
              len_real) -> None:
    """The grid of full synthetic batches, real sentences (latency, memory), early exit."""
    from helpers.timing import (flops_per_token, latency_percentiles, peak_memory_mb, ratio_summary,
                                retrieval_layer, synthetic_batches, time_entries, truncate_layers)

    models = build_models(shapes, args.device, dtype, args.quick)
    arms = trained_arms(args.device, dtype) if not args.quick else {}
    print(f"== {gpu}, dtype {dtype}, models {list(models)}, trained arms {list(arms) or 'none'}", flush=True)
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
    rb, source, texts, tok = real
    print(f"== real workload: {source}", flush=True)
    everyone = {**models, **arms}
    entries = [({"sweep": "gpu_real", "arm": n, "workload": "tatoeba", "padding": "bucketed", "batch": batch_real,
                 "length": len_real, "layers": m.config.num_hidden_layers}, m, rb)
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


if __name__ == "__main__":
    sys.exit(main())
