"""Compare a fresh run's results tables with the committed reference run, with stated tolerances.

nbval checks the executed chapters cell by cell, exactly. That is right for everything that is a
pure function of the code and the data (configurations, data sizes, token counts, FLOPs), but a
score read off a trained model is an argmax over floats: a different CPU (another SIMD width, another
BLAS kernel) rounds a few products differently, and in a 16-example evaluation one flipped answer
moves a score by 6.25 points and may change which checkpoint wins on the dev set. Those cells are
tagged ``nbval-ignore-output`` and this module checks what they show, from the results tables:

* ``training_cost.csv``: the same runs, with exactly the same examples, tokens, steps and FLOPs;
* ``zero_shot.csv``: the same (arm, task, language, metric) rows; at least ``min_equal`` of the
  scores identical to 0.01; each arm's mean score within ``max_arm_shift`` points.

Wall-clock columns and timing tables are never compared: they measure the machine.

Rows are matched on the tables' keys, which hold every parameter that changes the numbers
(zero-shot: model, source and eval_limit too; training cost: model, source and the recipe
digest). A key column that one of the two tables does not have (a table written before the
column existed) is left out of the match, so older reference tables are still accepted.

    python -m studytools.reference FRESH_RESULTS_DIR [REFERENCE_RESULTS_DIR]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import StudyError
from helpers.runs import project_path, read_table

ZERO_SHOT_KEY = ("profile", "model", "source", "eval_limit", "arm", "intermediate", "target_task", "language",
                 "metric", "seed")
COST_KEY = ("profile", "arm", "phase", "task", "seed", "model", "source", "recipe")
COST_EXACT = ("examples", "tokens", "steps", "flops")


@dataclass(frozen=True)
class Tolerance:
    min_equal: float = 0.8  # share of zero-shot scores that must match the reference to 0.01
    max_arm_shift: float = 2.0  # points an arm's mean zero-shot score may move


@dataclass
class Comparison:
    problems: list[str]
    rows: int = 0  # zero-shot rows compared
    equal: int = 0  # of which identical to 0.01
    arm_shift: dict[str, float] | None = None  # arm -> fresh mean minus reference mean

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        share = self.equal / self.rows if self.rows else float("nan")
        shifts = " ".join(f"{a}={s:+.2f}" for a, s in (self.arm_shift or {}).items())
        head = f"zero-shot rows={self.rows} identical={self.equal} ({share:.1%}) arm shifts: {shifts}"
        return "\n".join([head, *self.problems]) if self.problems else head


def _index(rows: list[dict], key: tuple[str, ...], table: str) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for row in rows:
        k = tuple(row.get(c, "") for c in key)
        if k in out:
            raise StudyError(f"{table}: duplicate row for {dict(zip(key, k))}")
        out[k] = row
    return out


def _pair(fresh_dir: Path, reference_dir: Path, name: str, key: tuple[str, ...],
          profile: str) -> tuple[dict, dict, tuple[str, ...]]:
    """The ``profile`` rows of table ``name`` in both directories, indexed by the key columns both tables have."""
    tables = []
    for directory in (fresh_dir, reference_dir):
        path = directory / name
        if not path.exists():
            raise StudyError(f"{path} is missing: cannot compare {name}")
        tables.append((read_table(path), _header(path)))
    key = tuple(c for c in key if c in tables[0][1] and c in tables[1][1])
    indexed = [_index([r for r in rows if r.get("profile") == profile], key, name) for rows, _ in tables]
    if not indexed[1]:
        raise StudyError(f"{reference_dir / name} has no {profile} rows to compare with")
    return indexed[0], indexed[1], key


def _header(path: Path) -> tuple[str, ...]:
    with open(path, encoding="utf-8") as handle:
        return tuple(c.strip() for c in handle.readline().strip().split(","))


def _missing(fresh: dict, ref: dict, table: str, key: tuple[str, ...]) -> list[str]:
    problems = []
    for label, keys in (("missing from the fresh run", ref.keys() - fresh.keys()),
                        ("not in the reference", fresh.keys() - ref.keys())):
        for k in sorted(keys)[:5]:
            problems.append(f"{table}: {label}: {dict(zip(key, k))}")
        if len(keys) > 5:
            problems.append(f"{table}: … and {len(keys) - 5} more {label}")
    return problems


def compare(fresh_dir: Path, reference_dir: Path | None = None, profile: str = "embedded",
            tol: Tolerance = Tolerance()) -> Comparison:
    """Check ``fresh_dir``'s tables against ``reference_dir`` (default: the project's results/)."""
    reference_dir = Path(reference_dir) if reference_dir is not None else project_path("results")
    fresh_dir = Path(fresh_dir)
    problems: list[str] = []

    f_cost, r_cost, cost_key = _pair(fresh_dir, reference_dir, "training_cost.csv", COST_KEY, profile)
    problems += _missing(f_cost, r_cost, "training_cost.csv", cost_key)
    for k in sorted(f_cost.keys() & r_cost.keys()):
        for col in COST_EXACT:
            if str(f_cost[k].get(col)) != str(r_cost[k].get(col)):
                problems.append(f"training_cost.csv: {dict(zip(cost_key, k))} {col} is {f_cost[k].get(col)}, "
                                f"reference {r_cost[k].get(col)}")

    f_zs, r_zs, zs_key = _pair(fresh_dir, reference_dir, "zero_shot.csv", ZERO_SHOT_KEY, profile)
    problems += _missing(f_zs, r_zs, "zero_shot.csv", zs_key)
    common = sorted(f_zs.keys() & r_zs.keys())
    equal = 0
    sums: dict[str, list[float]] = {}
    for k in common:
        fv, rv = float(f_zs[k]["value"]), float(r_zs[k]["value"])
        equal += abs(fv - rv) < 0.005
        acc = sums.setdefault(f_zs[k]["arm"], [0.0, 0.0, 0])
        acc[0] += fv
        acc[1] += rv
        acc[2] += 1
    shifts = {arm: (f - r) / n for arm, (f, r, n) in sums.items()}
    if common and equal / len(common) < tol.min_equal:
        problems.append(f"zero_shot.csv: only {equal} of {len(common)} scores ({equal / len(common):.1%}) match "
                        f"the reference; at least {tol.min_equal:.0%} must")
    for arm, shift in shifts.items():
        if abs(shift) > tol.max_arm_shift:
            problems.append(f"zero_shot.csv: arm {arm}'s mean score moved {shift:+.2f} points "
                            f"(tolerance ±{tol.max_arm_shift})")
    return Comparison(problems=problems, rows=len(common), equal=equal, arm_shift=shifts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("fresh", type=Path, help="results directory of the fresh run")
    parser.add_argument("reference", type=Path, nargs="?", default=None, help="default: the project's results/")
    parser.add_argument("--profile", default="embedded")
    args = parser.parse_args(argv)
    try:
        result = compare(args.fresh, args.reference, args.profile)
    except StudyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
