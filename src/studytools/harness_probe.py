"""``make harness-probe`` (``python -m studytools.harness_probe``): what the timing harness reports for identical models.

The arm comparison of the inference chapter is only as good as its harness's
own error. This probe loads the same model (e5-small with a 3-way
classification head, one seed) ``copies`` times, independently, and times
the copies against each other on the same real multilingual sentences
(Tatoeba, batch 16, bucketed) with :func:`helpers.timing.time_entries`,
under each combination of

* ``interleave``: ``pass`` (each copy runs a whole pass, the copies in a
  balanced order, one priming batch before each pass) or ``batch`` (the
  copies take turns batch by batch, in balanced orders);
* ``threads``: the torch intra-op thread counts to try;
* ``storage``: ``loaded`` (the tensors as loading left them: views into the
  loaded buffers) or ``own`` (each copy's tensors copied into storage of
  their own, :func:`helpers.devices.own_storage`, as the inference chapter
  does). Each storage setting loads its own copies, ``loaded`` first.

Every copy's pass lasts at least ``seconds`` per repetition. Every copy is
the same model, so every ratio's true value is 1: the printed geometric-mean
ratio, its 90 % t interval and ``sd_log`` (the standard deviation of the
per-repetition log ratios) are the harness's error under that setting. Rows
go to ``results/harness_probe.csv`` (``sweep="harness_probe"``, ``arm`` =
``copy-<i>``, the setting in ``padding`` and ``threads``) and one line per
setting is printed.
"""

from __future__ import annotations

import argparse
import math
import statistics

from helpers import models as presets
from helpers.devices import own_storage
from helpers.errors import StudyError, check_choice, check_positive, run_cli
from helpers.interleave import ratio_summary
from helpers.runs import results_root, upsert_rows
from helpers.tatoeba import sample_sentences
from helpers.timing import INFERENCE_COLUMNS, INFERENCE_KEY, INTERLEAVES, make_batches, time_entries, timed_pass

PROBE_FILE = "harness_probe.csv"


STORAGES = ("loaded", "own")


def load_copies(copies: int, preset: str = "e5-small", storage: str = "loaded"):
    """``copies`` independently loaded, identical models (same weights, same seed for the head) and the tokenizer.

    ``storage="own"`` copies each model's tensors into storage of their own
    (:func:`helpers.devices.own_storage`)."""
    check_choice("storage", storage, STORAGES)
    out = []
    for _ in range(copies):
        model = presets.load_model(preset, head="sequence-classification", num_labels=3, seed=0)
        if storage == "own":
            own_storage(model)
        model.eval()
        out.append(model)
    return out, presets.load_tokenizer(preset)


def probe(models, batches, *, interleave: str, threads: int, repeats: int, seconds: float, seed: int = 0,
          storage: str = "loaded") -> list[dict]:
    """Time identical ``models`` against each other under one setting; rows as :func:`time_entries` gives them."""
    import torch

    torch.set_num_threads(threads)
    for m in models:
        timed_pass(m, batches, "cpu")
    first = statistics.median(timed_pass(models[0], batches, "cpu") for _ in range(2))
    work = list(batches) * max(1, math.ceil(seconds / first))
    entries = [({"sweep": "harness_probe", "profile": "probe", "task": "tatoeba", "language": "all",
                 "arm": f"copy-{i}", "padding": f"interleave={interleave} storage={storage}", "layers": "", "seed": seed},
                m, work) for i, m in enumerate(models)]
    return time_entries(entries, warmup=0, repeats=repeats, device="cpu", order="balanced", seed=seed,
                        prime=1 if interleave == "pass" else 0, interleave=interleave)


def summarise(rows: list[dict]) -> list[dict]:
    """Each copy's ratio to ``copy-0``: geometric mean, 90 % interval, sd of the log ratios, TOST verdict at 1 %."""
    return [r for r in ratio_summary(rows, "copy-0", by=("padding", "threads")) if r["arm"] != "copy-0"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="identical models timed against each other (>= 2)")
    parser.add_argument("--repeats", type=int, default=12, help="repetitions per setting (>= 2)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of each copy's pass per repetition")
    parser.add_argument("--threads", default="2", help="comma-separated torch thread counts to try")
    parser.add_argument("--interleave", default=",".join(INTERLEAVES),
                        help=f"comma-separated settings to try, of: {', '.join(INTERLEAVES)}")
    parser.add_argument("--storage", default=",".join(STORAGES),
                        help=f"comma-separated storage settings to try, of: {', '.join(STORAGES)}")
    parser.add_argument("--preset", default="e5-small", help="model preset of helpers.models (tests use tiny)")
    parser.add_argument("--sentences", type=int, default=128, help="Tatoeba sentences in the base pass")
    parser.add_argument("--no-record", action="store_true", help=f"do not write results/{PROBE_FILE}")
    args = parser.parse_args(argv)
    if args.copies < 2:
        raise StudyError(f"--copies must be at least 2 (a ratio needs two models), got {args.copies}")
    if args.repeats < 2:
        raise StudyError(f"--repeats must be at least 2 for an interval, got {args.repeats}")
    check_positive("seconds", args.seconds)
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    settings = [s.strip() for s in args.interleave.split(",") if s.strip()]
    for s in settings:
        if s not in INTERLEAVES:
            raise StudyError(f"--interleave {s!r} is not a setting; valid settings: {', '.join(INTERLEAVES)}")
    storages = [s.strip() for s in args.storage.split(",") if s.strip()]
    for s in storages:
        check_choice("storage", s, STORAGES)
    texts, source = sample_sentences(args.sentences)
    print(f"== harness probe: {args.copies} identical {args.preset} copies; {source}")
    rows = []
    for storage in storages:
        models, tokenizer = load_copies(args.copies, preset=args.preset, storage=storage)
        batches = make_batches(tokenizer, texts, 16, 128)
        for t in threads:
            for s in settings:
                got = probe(models, batches, interleave=s, threads=t, repeats=args.repeats, seconds=args.seconds,
                            storage=storage)
                rows += got
                for r in summarise(got):
                    print(f"storage={storage:6s} interleave={s:5s} threads={t} {r['arm']}: ratio {r['ratio']:.4f} "
                          f"[{r['ci_lo']:.4f}, {r['ci_hi']:.4f}] sd_log {r['sd_log']:.4f} {r['verdict']} (n={r['n']})")
        del models
    if not args.no_record:
        upsert_rows(results_root() / PROBE_FILE, rows, INFERENCE_KEY + ("threads",), INFERENCE_COLUMNS)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
