"""The import of a GPU measurement folder into the committed tables (``python -m helpers.gpu import FOLDER``).

A folder (``../shared/measurements/<gpu>-<date>``) holds ``inference_gpu.csv``
(``scripts/gpu_bench.py``'s output), ``training_gpu.csv`` (``train_step.py``'s)
and optionally the lever logs (``levers.log``, ``compile.log``, ``lengths.json``).
:func:`import_measurements` writes ``results/inference_gpu.csv`` and
``results/training_gpu.csv`` (:data:`helpers.gpu.INFERENCE_COLUMNS`,
:data:`helpers.gpu.TRAINING_COLUMNS`) without changing a measured value: each
row gains the provenance columns, and the datasheet peak
(:func:`helpers.peaks.datasheet_peak`) is filled in where the run left it empty.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from . import runs
from .errors import StudyError, run_cli
from .gpu import (INFERENCE_COLUMNS, INFERENCE_KEY, LEVER_BATCHINGS, TRAINING_COLUMNS, TRAINING_KEY, batch_groups,
                  padded_length, token_budget_batches)
from .peaks import datasheet_peak

#: the H200 run the committed tables come from (../shared/measurements/h200-2026-11-30/README.md)
H200_2026_11_30 = {
    "folder": "h200-2026-11-30",
    "date": "2026-11-30",
    "commit": "b11c6bb",
    "python": "3.12.3",
    "torch": "2.11.0+cu130",
    "transformers": "5.17.0",
    "device_name": "NVIDIA H200",
}



def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _fmt(value: float) -> str:
    return repr(float(value))


_LEVER_LINE = re.compile(
    r"^(?P<arm>\S+)\s+(?P<workload>\S+)\s+(?P<padding>\S+)\s+batches=\s*(?P<batches>\d+)\s+"
    r"pad_eff=(?P<pad_eff>[\d.]+)\s+real_tok/s=(?P<tps>[\d,]+)\s+~TFLOP/s=(?P<tflops>[\d.]+)")
_COMPILE_LINE = re.compile(
    r"^(?P<how>eager|compiled\(dynamic\)),\s*budget(?P<budget>\d+)k,\s*pad_to=(?P<pad>\d+)\s+"
    r"real_tok/s=(?P<tps>[\d,]+)\s+~TFLOP/s=(?P<tflops>[\d.]+)")
#: shapes of levers.py / compile_check.py (XLM-R config fields): non-embedding parameters set their FLOPs
_LEVER_SHAPES = {"xlmr-large": (1024, 24, 4096), "e5-small": (384, 12, 1536)}


def non_embedding_params(hidden: int, layers: int, intermediate: int) -> int:
    """Parameters of an XLM-R encoder's layers (attention, feed-forward, layer norms), no embeddings."""
    per_layer = 4 * (hidden * hidden + hidden) + 2 * hidden * intermediate + intermediate + hidden + 4 * hidden
    return layers * per_layer


def _lever_rows(folder: Path, meta: Mapping[str, str], peak_sheet: float | None, measured_peak: float | None) -> list[dict]:
    """Rows of the lever checks (levers.log, compile.log) of a measurement folder, one per logged median."""
    lengths_path = folder / "lengths.json"
    lengths = json.loads(lengths_path.read_text()) if lengths_path.is_file() else {}
    rows = []

    def row(arm, workload, padding, dtype, groups, pad_to, tps, source, note, statistic):
        ls = lengths.get(workload)
        hidden, layers, inter = _LEVER_SHAPES[arm]
        fpt = 2.0 * non_embedding_params(hidden, layers, inter)
        r = {"sweep": "gpu_levers", "arm": arm, "workload": workload, "device": "cuda",
             "device_name": meta["device_name"], "dtype": dtype, "padding": padding, "layers": layers,
             "repetition": statistic, "tokens_per_s": _fmt(tps), "flops_per_token": _fmt(fpt),
             "achieved_tflops": _fmt(fpt * tps / 1e12), "peak_source": "datasheet" if peak_sheet else "",
             "model_note": note, "torch": meta["torch"], "transformers": meta["transformers"],
             "python": meta["python"], "date": meta["date"], "commit": "", "source": source}
        if ls and groups is not None:
            g = groups(ls)
            real = sum(ls)
            padded = sum(len(x) * padded_length(max(ls[i] for i in x), pad_to) for x in g)
            r.update({"batch": max(len(x) for x in g), "length": max(padded_length(n, pad_to) for n in ls),
                      "tokens": real, "padded_tokens": padded, "sequences": len(ls), "batches": len(g),
                      "seconds": _fmt(real / tps), "sequences_per_s": _fmt(len(ls) * tps / real)})
        if peak_sheet:
            r.update({"datasheet_peak_tflops": _fmt(peak_sheet / 1e12),
                      "fraction_of_datasheet_peak": _fmt(fpt * tps / peak_sheet),
                      "fraction_of_peak": _fmt(fpt * tps / peak_sheet)})
        if measured_peak:
            r.update({"measured_peak_tflops": _fmt(measured_peak / 1e12),
                      "fraction_of_measured_peak": _fmt(fpt * tps / measured_peak)})
        return r

    note = ("XLM-R-shaped random weights; random ids of real token lengths (real XLM-R tokenizer); "
            "FLOPs/token = 2 x non-embedding parameters (useful work only)")
    levers = folder / "levers.log"
    if levers.is_file():
        for line in levers.read_text().splitlines():
            m = _LEVER_LINE.match(line.strip())
            if not m or m["arm"] not in _LEVER_SHAPES:
                continue
            kind, size = LEVER_BATCHINGS[m["padding"]]
            rows.append(row(m["arm"], m["workload"], m["padding"], "bf16",
                            lambda ls, kind=kind, size=size: batch_groups(ls, kind, size), 1,
                            float(m["tps"].replace(",", "")), f"{meta['folder']}/levers.log (levers.py)",
                            note, "median of 3"))
    compiled = folder / "compile.log"
    if compiled.is_file():
        for line in compiled.read_text().splitlines():
            m = _COMPILE_LINE.match(line.strip())
            if not m:
                continue
            budget, pad = int(m["budget"]) * 1024, int(m["pad"])
            label = f"budget{m['budget']}k" + (f"+pad{pad}" if pad > 1 else "") + \
                ("+compile" if m["how"].startswith("compiled") else "")
            rows.append(row("xlmr-large", "xnli_pairs", label, "bf16",
                            lambda ls, budget=budget, pad=pad: token_budget_batches(ls, budget, pad), pad,
                            float(m["tps"].replace(",", "")),
                            f"{meta['folder']}/compile.log (compile_check.py)", note, "median of 5"))
    return rows


def import_measurements(folder: Path | str, meta: Mapping[str, str] = H200_2026_11_30,
                        results_dir: Path | str | None = None) -> tuple[Path, Path]:
    """Write ``inference_gpu.csv`` and ``training_gpu.csv`` from a measurement folder.

    ``folder`` holds ``inference_gpu.csv`` (``scripts/gpu_bench.py``'s own
    output), ``training_gpu.csv`` (``train_step.py``'s), and optionally
    ``levers.log``, ``compile.log`` and ``lengths.json``. Every measured
    value is kept as written; each row gains the provenance columns of
    ``meta`` (date, commit, python and library versions), and the datasheet
    peak of the GPU (:func:`helpers.timing.datasheet_peak`) is filled in
    where the run left it empty. Returns the two paths written.
    """
    folder = Path(folder)
    for name in ("inference_gpu.csv", "training_gpu.csv"):
        if not (folder / name).is_file():
            raise StudyError(f"{folder} has no {name}; a measurement folder holds inference_gpu.csv and "
                             f"training_gpu.csv (see ../shared/measurements/*/README.md)")
    out_dir = Path(results_dir) if results_dir else runs.results_root()
    source = f"{meta['folder']}/inference_gpu.csv (scripts/gpu_bench.py at {meta['commit']})"
    inference = []
    measured_peak = None
    for raw in _read_csv(folder / "inference_gpu.csv"):
        r = {c: raw.get(c, "") for c in INFERENCE_COLUMNS}
        r.update({"python": meta["python"], "date": meta["date"], "commit": meta["commit"], "source": source})
        if not r["device_name"]:
            raise StudyError(f"a row of {folder / 'inference_gpu.csv'} names no GPU (device_name is empty)")
        sheet = datasheet_peak(r["device_name"], r["dtype"])
        if sheet and not r["datasheet_peak_tflops"]:
            r["datasheet_peak_tflops"] = _fmt(sheet / 1e12)
            r["fraction_of_datasheet_peak"] = _fmt(float(r["achieved_tflops"]) * 1e12 / sheet)
        if r["measured_peak_tflops"]:
            measured_peak = float(r["measured_peak_tflops"]) * 1e12
        inference.append(r)
    peak_sheet = datasheet_peak(meta["device_name"], "bf16")
    inference += _lever_rows(folder, meta, peak_sheet, measured_peak)

    training = []
    for raw in _read_csv(folder / "training_gpu.csv"):
        name = raw.get("device_name") or raw.get("device", "")
        if not name:
            raise StudyError(f"a row of {folder / 'training_gpu.csv'} names no GPU (device is empty)")
        tps, fpt = float(raw["tokens_per_s"]), float(raw["flops_per_token"])
        sheet = datasheet_peak(name, "bf16")  # TF32 and bf16 autocast both set against the dense bf16 figure
        training.append({
            "sweep": "gpu_train", "preset": raw["preset"], "dtype": raw["dtype"], "batch": raw["batch"],
            "length": raw["length"], "steps": raw["steps"], "seconds_per_step": raw["seconds_per_step"],
            "optimizer_seconds": raw.get("optimizer_seconds", ""), "tokens_per_s": raw["tokens_per_s"],
            "flops_per_token": raw["flops_per_token"],
            "achieved_tflops": raw.get("achieved_tflops") or _fmt(tps * fpt / 1e12),
            "datasheet_peak_tflops": _fmt(sheet / 1e12) if sheet else "",
            "fraction_of_datasheet_peak": _fmt(tps * fpt / sheet) if sheet else "",
            "optimizer": "AdamW (fused)", "mode": "eager", "device": "cuda", "device_name": name,
            "torch": raw.get("torch", meta["torch"]), "transformers": meta["transformers"],
            "wall_s": raw.get("wall_s", ""), "python": meta["python"], "date": meta["date"],
            "commit": meta["commit"],
            "source": f"{meta['folder']}/training_gpu.csv (train_step.py: helpers.scaling.measure_training_step "
                      f"at {meta['commit']}, median of 7 steps after one warm-up)",
        })
    inf_path, train_path = out_dir / "inference_gpu.csv", out_dir / "training_gpu.csv"
    runs.atomic_write_text(inf_path, _csv_text(inference, INFERENCE_COLUMNS, INFERENCE_KEY))
    runs.atomic_write_text(train_path, _csv_text(training, TRAINING_COLUMNS, TRAINING_KEY))
    return inf_path, train_path


def _csv_text(rows: Iterable[Mapping[str, object]], columns: Sequence[str], key: Sequence[str]) -> str:
    rows = sorted(({c: "" if r.get(c) is None else str(r.get(c, "")) for c in columns} for r in rows),
                  key=lambda r: tuple(r[k] for k in key))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.gpu import FOLDER``: (re)write the committed GPU tables from a measurement folder."""
    p = argparse.ArgumentParser(prog="python -m helpers.gpu", description=main.__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="write results/inference_gpu.csv and training_gpu.csv from FOLDER")
    imp.add_argument("folder")
    imp.add_argument("--results-dir", default=None)
    args = p.parse_args(argv)
    folder = Path(args.folder)
    if folder.name != H200_2026_11_30["folder"]:
        raise StudyError(f"no provenance on file for {folder.name}; known measurement folders: "
                         f"{H200_2026_11_30['folder']} (add its date, commit and versions to helpers.gpu_import)")
    paths = import_measurements(folder, H200_2026_11_30, args.results_dir)
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
