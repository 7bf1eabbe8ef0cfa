"""Data-parallel training: what each rank of a ``torchrun`` / ``accelerate launch`` job does.

The ranks of one job train one run together: the transformers Trainer shards
the batches and joins the ranks over gloo (CPU) or NCCL (GPU). Everything that
touches the file system around the Trainer is done by rank 0 alone -- checking
that a run directory is the study's (:func:`claim`), the run lock
(:func:`run_lock`), the work directory (:func:`open_work`,
:func:`cleanup_work`), publishing the finished run (:func:`publish`) -- while
the others wait at a barrier. Counters are summed over the ranks with
:func:`world_sum`. A single process is rank 0 of a world of one.

The command line (``python -m helpers.training``, see :mod:`helpers.training`)
runs unchanged under ``accelerate launch --num_processes 2 --multi_gpu`` or
``torchrun``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist

from . import runs
from .errors import StudyError


def is_main_process() -> bool:
    """Whether this process is rank 0 (``RANK`` unset: a single process)."""
    return int(os.environ.get("RANK", "0")) == 0


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def world_sum(value: int) -> int:
    """``value`` summed over the ranks of the job (itself in a single process)."""
    if dist.is_available() and dist.is_initialized():
        t = torch.tensor([value], dtype=torch.long)
        dist.all_reduce(t)
        return int(t.item())
    return int(value)


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def run_lock(run_dir: Path):
    """The run directory's lock, taken by rank 0 only.

    Ranks of one distributed job train the same run together: if every rank took the exclusive lock,
    rank 1 would wait on it while rank 0 waits for rank 1 in the first collective, forever.
    """
    return runs.file_lock(run_dir) if is_main_process() else contextlib.nullcontext()


def claim(run_dir: Path) -> Path:
    """Check, before anything is written, that the run directory and its work directory are the study's.

    ``run_dir`` must be new, empty or created by the study (:func:`helpers.runs.check_replaceable`);
    ``<run_dir>.work`` must be new or hold the study's marker (or only the stage and checkpoint
    folders that training writes there). Only the main process checks: in a data-parallel run the
    other ranks would race rank 0 while it creates and marks the work directory.
    """
    if not is_main_process():
        return run_dir
    runs.check_replaceable(run_dir, "run directory")
    work = work_dir(run_dir)
    if work.exists() and not runs.is_owned(work):
        ours = work.is_dir() and all(p.name == "checkpoints" or p.name.startswith("stage") for p in work.iterdir())
        if not ours:
            raise StudyError(f"work directory {work} of run directory {run_dir} exists and was not created by the "
                             f"study; it is left as it is: expected no such folder, or one the study created; "
                             f"nothing was written")
    return run_dir


def work_dir(run_dir: Path) -> Path:
    """Where a run is built (Trainer checkpoints included) before it is renamed into place."""
    return Path(str(run_dir) + ".work")


def open_work(work: Path) -> None:
    if is_main_process():
        work.mkdir(parents=True, exist_ok=True)
        if not runs.is_owned(work):
            runs.mark_owned(work, "work")


def cleanup_work(work: Path) -> None:
    if is_main_process():
        shutil.rmtree(work, ignore_errors=True)


def publish(run_dir: Path, write: Callable[[Path], None]) -> None:
    """Build the run directory with ``write(tmp_dir)`` and rename it into place (rank 0 only)."""
    if is_main_process():
        with runs.atomic_directory(run_dir) as tmp:
            write(tmp)
    barrier()
