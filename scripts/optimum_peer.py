"""Run optimum-benchmark 0.6.0 on a local model directory and print its figures as JSON.

This script runs inside ``.venv-optimum`` (optimum-benchmark 0.6.0 does not
import with transformers 5), started by ``python -m studytools.bench``. It uses
optimum-benchmark's own API: scenario ``inference``, backend ``pytorch``,
device ``cpu``, launcher ``inline`` (same process, no extra spawn), task
``feature-extraction``, input shapes ``batch_size`` x ``sequence_length``.

optimum-benchmark generates random token ids with an all-ones attention mask,
so every one of the ``batch_size * sequence_length`` positions is a real token;
it reports ``forward.throughput`` in samples/s (= batch_size / mean latency).

Thread count: optimum-benchmark 0.6.0's PyTorch backend calls
``torch.set_num_threads(inter_op_num_threads)`` and
``torch.set_num_interop_threads(intra_op_num_threads)`` (the two names are
swapped in its code), so the intra-op thread count is passed as
``inter_op_num_threads``; OMP_NUM_THREADS is set by the caller as well.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="local model directory (save_pretrained)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--length", type=int, default=128)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--warmup", type=int, default=10, help="optimum-benchmark default: 10")
    p.add_argument("--iterations", type=int, default=10, help="optimum-benchmark default: 10")
    p.add_argument("--duration", type=int, default=10, help="optimum-benchmark default: 10 s")
    p.add_argument("--out", default="-", help="JSON output file ('-' = stdout)")
    args = p.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from optimum_benchmark import Benchmark, BenchmarkConfig, InferenceConfig, InlineConfig, PyTorchConfig

    backend = PyTorchConfig(
        model=args.model,
        device="cpu",
        task="feature-extraction",
        library="transformers",
        no_weights=False,
        inter_op_num_threads=args.threads,  # sets torch.set_num_threads in 0.6.0 (see module docstring)
    )
    scenario = InferenceConfig(
        input_shapes={"batch_size": args.batch, "sequence_length": args.length},
        warmup_runs=args.warmup,
        iterations=args.iterations,
        duration=args.duration,
        latency=True,
        memory=False,
    )
    config = BenchmarkConfig(name="xstilts_bench", launcher=InlineConfig(), scenario=scenario, backend=backend,
                             print_report=False, log_report=False)
    report = Benchmark.launch(config)
    forward = report.forward
    lat = forward.latency
    values = list(lat.values)
    result = {
        "throughput_samples_per_s": float(forward.throughput.value),
        "throughput_unit": forward.throughput.unit,
        "latency_mean_s": float(lat.mean),
        "latency_p50_s": float(lat.p50),
        "latency_p90_s": float(lat.p90),
        "latency_p99_s": float(lat.p99),
        "iterations": len(values),
        "batch": args.batch,
        "length": args.length,
        "tokens_per_forward": args.batch * args.length,
        "threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "optimum_benchmark": __import__("optimum_benchmark").__version__
                     if hasattr(__import__("optimum_benchmark"), "__version__") else "0.6.0"},
    }
    text = json.dumps(result)
    if args.out == "-":
        print("OPTIMUM_RESULT " + text)
    else:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
