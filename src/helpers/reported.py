"""Published figures the book prints beside its measurements, each with its source.

Every value here is copied from ``../shared/REPORTED.md`` with the citation given
there; the chapters label them "reported" and never mix them with measured numbers.
"""

from __future__ import annotations

import pandas as pd

XSTILTS_SOURCE = ("google-research/multilingual-t5 README, results table, commit 319bb8015a21 "
                  "(XTREME test sets, not XTREME-R; F1 for NER and QA, accuracy for XNLI and PAWS-X)")
"""Where :data:`XSTILTS_XTREME` was read."""

XSTILTS_XTREME: tuple[tuple[str, float, float], ...] = (
    # (task, X-STILTs, XLM-R Large)
    ("xnli", 80.4, 79.2),
    ("pawsx", 87.7, 86.4),
    ("panx", 64.7, 65.4),
    ("xquad", 77.2, 76.6),
    ("mlqa", 72.3, 71.6),
    ("tydiqa", 76.0, 65.1),
)
"""XTREME test scores of X-STILTs and XLM-R Large per target task (0-100), see :data:`XSTILTS_SOURCE`."""

PHANG_BEST_TASK_GAIN = 5.4
"""Phang et al. 2020 (arXiv 2005.13013 v2, abstract): the best intermediate model per target task
gains +5.4 points over XLM-R Large on XTREME."""

PHANG_SOURCE = "Phang et al. 2020, arXiv 2005.13013 v2, abstract"


def xstilts_table(tasks: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Reported X-STILTs and XLM-R Large XTREME scores per task, with the reported gain.

    Columns ``X-STILTs (reported)``, ``XLM-R Large (reported)`` and
    ``gain (reported)`` (X-STILTs minus XLM-R Large); one row per task of
    ``tasks`` that the source reports (all of them when ``tasks`` is None).
    """
    frame = pd.DataFrame(XSTILTS_XTREME, columns=["task", "X-STILTs (reported)", "XLM-R Large (reported)"])
    frame = frame.set_index("task").rename_axis(None)
    frame["gain (reported)"] = frame["X-STILTs (reported)"] - frame["XLM-R Large (reported)"]
    if tasks is not None:
        frame = frame.loc[[t for t in tasks if t in frame.index]]
    return frame
