"""The scratch copy of ``results/`` that ``make test``'s nbval step re-executes the chapters into.

The re-execution must produce the reference plan's accuracy and training
tables afresh, so their rows of the plan's profile are removed first. Rows of
other profiles stay: the chapters read them as recorded inputs (the zero-shot
chapter's section on the ``realdata`` run reads its rows of ``zero_shot.csv``),
and the reference plan cannot produce them.

    python -m studytools.scratch RESULTS_DIR --profile embedded zero_shot.csv zero_shot_items.csv training_cost.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Sequence

from helpers.errors import StudyError
from helpers.runs import atomic_write_text


def drop_profile(results_dir: Path, profile: str, names: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Remove the rows of ``profile`` from each table ``names`` of ``results_dir``, rewriting it atomically.

    Returns, per table, (rows removed, rows kept). A missing table is left
    missing; a table without a ``profile`` column is one StudyError line.
    Kept rows are written back exactly as they were read.
    """
    out = {}
    for name in names:
        path = Path(results_dir) / name
        if not path.is_file():
            out[name] = (0, 0)
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
        if "profile" not in header:
            raise StudyError(f"{path} has no profile column; valid tables are the study's results tables")
        kept = [r for r in rows if r["profile"] != profile]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
        atomic_write_text(path, buffer.getvalue())
        out[name] = (len(rows) - len(kept), len(kept))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studytools.scratch", description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", type=Path)
    parser.add_argument("--profile", required=True, help="the profile whose rows the re-execution must produce")
    parser.add_argument("tables", nargs="+")
    args = parser.parse_args(argv)
    try:
        counts = drop_profile(args.results_dir, args.profile, args.tables)
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, (removed, kept) in counts.items():
        print(f"{name}: {removed} {args.profile} rows removed, {kept} rows of other profiles kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
