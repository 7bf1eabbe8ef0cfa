"""What the setup chapter shows: the machine, the library versions, the plan."""

from __future__ import annotations

import os
import platform

import pandas as pd
import psutil

from . import runs
from .tasks import get_task


def hardware() -> dict[str, object]:
    """The machine that computes: device, cores, memory, threads and precision support."""
    import torch

    info: dict[str, object] = {
        "device": runs.device_name(),
        "machine": platform.machine(),
        "cpu cores": os.cpu_count(),
        "memory (GiB)": round(psutil.virtual_memory().total / 2**30, 1),
        "torch threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
    flags = _cpu_flags()
    info["bf16 matmul (AMX or AVX512-BF16)"] = bool({"amx_bf16", "avx512_bf16"} & flags)
    info["int8 matmul (AMX-INT8 or VNNI)"] = bool({"amx_int8", "avx512_vnni", "avx_vnni"} & flags)
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu memory (GiB)"] = round(props.total_memory / 2**30, 1)
    return info


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def versions() -> dict[str, str]:
    return runs.library_versions()


def as_table(mapping: dict) -> pd.DataFrame:
    """A two-column table of a mapping, for display."""
    return pd.DataFrame({"item": list(mapping), "value": [str(v) for v in mapping.values()]}).set_index("item")


def plan_table(cfg) -> pd.DataFrame:
    """One row per target task of the plan: group, format, metric, test languages."""
    rows = []
    for name in cfg.tasks:
        spec = get_task(name)
        langs = cfg.test_languages(name)
        rows.append(
            {
                "task": name,
                "group": spec.group,
                "format": spec.format,
                "metric": spec.metric,
                "english training data": spec.train_source or "none (encoder used as it is)",
                "languages": len(langs),
                "test languages": " ".join(langs),
            }
        )
    return pd.DataFrame(rows).set_index("task")
