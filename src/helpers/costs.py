"""Training cost: FLOPs of a step and the training-cost ledger.

:func:`count_flops` counts the floating-point operations of one forward and
backward pass with ``torch.utils.flop_counter.FlopCounterMode`` (matrix
multiplications and attention, a multiply-add counted as two FLOPs); the
optimizer update and element-wise work are not counted. A run's FLOPs are
estimated as the FLOPs of measured steps scaled to the run's real tokens
(see :func:`scale_flops`). :func:`record_training_cost` upserts one row per
(profile, arm, phase, task, seed, model, source, recipe) into ``results/training_cost.csv``;
:func:`cost_identity` gives the last three (also the ``model`` and ``source`` columns of the
zero-shot table, through :func:`helpers.models.lineage_preset` and :func:`source_identity`).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
from pathlib import Path
from typing import Mapping

from . import runs
from .errors import StudyError, check_choice
from .models import lineage_preset
from .sources import source_fingerprint

COLUMNS = (
    "profile", "arm", "phase", "task", "seed", "examples", "tokens", "steps",
    "wall_s", "flops", "peak_mem_mb", "device", "model", "source", "recipe",
)
# model (the preset the lineage starts from), source (the data) and recipe (a digest of the resolved
# recipe, so --set overrides get rows of their own) change the numbers, so they are part of the key
KEY = ("profile", "arm", "phase", "task", "seed", "model", "source", "recipe")
LEGACY_KEY = ("profile", "arm", "phase", "task", "seed")  # rows written before those columns existed
PHASES = ("intermediate", "target")


_FLOPS_CACHE: dict[tuple, int] = {}


def _structure_key(model, batch: Mapping) -> tuple | None:
    """What the FLOPs of a pass depend on: the architecture, which parameters train, the input shapes.

    ``FlopCounterMode`` counts from shapes alone, so two models of the same
    configuration and head with the same trainable parameters cost the same on
    batches of the same shapes (every arm of a task trains on the same first
    batch). ``None`` (not cached) for a model without a transformers config.
    """
    import torch

    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "to_json_string"):
        return None
    inputs = []
    for name in sorted(batch):
        value = batch[name]
        if isinstance(value, torch.Tensor):
            inputs.append((name, tuple(value.shape), str(value.dtype)))
        elif isinstance(value, (str, int, float, bool, type(None))):
            inputs.append((name, value))
        else:
            return None
    # problem_type is set by the first forward of a classifier (it picks the loss, which is not counted)
    shape = {k: v for k, v in config.to_dict().items() if k != "problem_type"}
    trainable = tuple(name for name, p in model.named_parameters() if p.requires_grad)
    return (type(model).__qualname__, json.dumps(shape, sort_keys=True, default=str), hash(trainable), tuple(inputs))


def count_flops(model, batch: Mapping) -> int:
    """FLOPs of one forward + backward pass of ``model`` on ``batch``.

    ``batch`` holds tensors (with labels, so the model returns a loss; without
    them the sum of the first output is back-propagated). The model's
    gradients and train/eval mode are left as they were. A count depends only
    on the architecture, the trainable parameters and the input shapes, so it
    is measured once per process for each (see :func:`_structure_key`).
    """
    key = _structure_key(model, batch)
    if key is not None and key in _FLOPS_CACHE:
        return _FLOPS_CACHE[key]
    flops = _count_flops(model, batch)
    if key is not None:
        _FLOPS_CACHE[key] = flops
    return flops


def _count_flops(model, batch: Mapping) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    params = [p for p in model.parameters() if p.requires_grad]
    saved = [None if p.grad is None else p.grad.detach().clone() for p in params]
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            out = model(**batch)
            loss = out["loss"] if isinstance(out, Mapping) and out.get("loss") is not None else None
            if loss is None:
                if isinstance(out, torch.Tensor):
                    first = out
                elif isinstance(out, Mapping):
                    first = next(v for v in out.values() if isinstance(v, torch.Tensor))
                else:
                    first = out[0]
                loss = first.float().sum()
            if params:
                loss.backward()
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    return int(counter.get_total_flops())


def scale_flops(step_flops: int, step_tokens: int, total_tokens: int) -> int:
    """A run's FLOPs from a measured step: ``step_flops`` per token of that step x tokens seen.

    Transformer FLOPs grow about linearly with the tokens of a batch (for
    the short sequences here, attention's quadratic part is small), so the
    per-token cost of a measured step times the real tokens seen estimates
    the run. With padded batches the real cost is higher; this is the
    useful-work estimate.
    """
    if step_tokens <= 0:
        raise StudyError(f"step_tokens must be positive, got {step_tokens}")
    return int(round(step_flops * total_tokens / step_tokens))


def peak_memory_mb() -> float:
    """Peak memory of this process: CUDA allocator peak on a GPU, else max RSS."""
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return torch.cuda.max_memory_allocated() / 2**20
    except ImportError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def training_cost_row(
    *,
    profile: str,
    arm: str,
    phase: str,
    task: str,
    seed: int,
    examples: int,
    tokens: int,
    steps: int,
    wall_s: float,
    flops: int,
    peak_mem_mb: float | None = None,
    device: str | None = None,
    model: str = "",
    source: str = "",
    recipe: str = "",
) -> dict:
    """One row of ``training_cost.csv`` (columns :data:`COLUMNS`)."""
    check_choice("phase", phase, PHASES)
    for name, value in (("examples", examples), ("tokens", tokens), ("steps", steps), ("flops", flops)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise StudyError(f"{name} must be a non-negative integer, got {value!r}")
    if not wall_s >= 0:
        raise StudyError(f"wall_s must be non-negative, got {wall_s!r}")
    return {
        "profile": profile,
        "arm": arm,
        "phase": phase,
        "task": task,
        "seed": int(seed),
        "examples": examples,
        "tokens": tokens,
        "steps": steps,
        "wall_s": round(float(wall_s), 3),
        "flops": flops,
        "peak_mem_mb": round(float(peak_mem_mb if peak_mem_mb is not None else peak_memory_mb()), 1),
        "device": device or runs.device_name(),
        "model": model,
        "source": source,
        "recipe": recipe,
    }


def record_training_cost(row: Mapping) -> None:
    """Insert or replace ``row`` in ``results_root()/training_cost.csv``."""
    missing = [c for c in COLUMNS if c not in row]
    if missing:
        raise StudyError(f"training-cost row lacks columns {', '.join(missing)}; columns: {', '.join(COLUMNS)}")
    runs.upsert_rows(runs.results_root() / "training_cost.csv", [dict(row)], key=KEY, columns=COLUMNS,
                     legacy_key=LEGACY_KEY)


def read_training_cost() -> list[dict[str, str]]:
    """The rows of ``training_cost.csv`` ([] when absent)."""
    return runs.read_table(runs.results_root() / "training_cost.csv")


# --------------------------------------------------------------------------- what identifies a row
def source_id(source) -> str:
    """A data source as the parameters of a run name it (``params.json``): its kind and root."""
    if isinstance(source, str):
        return source
    for attr in ("describe", "name", "kind"):
        value = getattr(source, attr, None)
        if callable(value):
            value = value()
        if value:
            root = getattr(source, "root", None)
            return f"{value}:{root}" if root else str(value)
    return type(source).__name__


def source_identity(source) -> str:
    """What identifies a data source in the results tables, the same on every machine.

    ``embedded`` and ``hub`` name themselves (the generated benchmark is a
    function of the code); a directory source adds a digest of its file names
    and sizes (``xtreme-dir:3f2a...``), so two data directories never share rows.
    """
    kind = getattr(source, "kind", None) or getattr(source, "name", None) or source_id(source)
    root = getattr(source, "root", None)
    if kind in ("embedded", "hub") or root is None:
        return str(kind)
    return f"{kind}:{source_fingerprint(Path(root))}"


def cost_identity(params: Mapping, source) -> dict:
    """The training-cost columns that, beside profile/arm/phase/task/seed, change a run's numbers.

    ``model``: the preset the lineage starts from; ``source``: the data source;
    ``recipe``: a short digest of the resolved recipe(s) in a run's ``params``
    (``recipes`` of a single-task run, ``recipe`` of a multi-task one), so
    ``--set`` overrides get rows of their own.
    """
    recipes_ = params.get("recipes") or [params.get("recipe")]
    digest = hashlib.sha256(json.dumps(recipes_, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return {"model": lineage_preset(params["init"]), "source": source_identity(source), "recipe": digest}
