"""Chapter logic of the zero-shot chapter (06): scores read against their floors and their uncertainty.

Everything here reads the tables the zero-shot phase wrote (``zero_shot.csv``
and ``zero_shot_items.csv``) and the test sets of the configuration:

* :func:`coverage_table`: how many languages each task's score covers, against
  the languages the profile evaluates and XTREME-R's list (a partial score is
  flagged, never silently averaged as if complete);
* :func:`gain_table`: every STILTs arm's gain over direct, per task and on the
  average over tasks, with a paired bootstrap 95 % interval over test items
  (:func:`helpers.stats.gain_intervals`);
* :func:`floors_table`: the direct arm's score per task beside the chance
  level, the majority class counted on the same test items and the trivial
  baseline of :mod:`helpers.baselines`, with the count of degenerate
  predictors (one class for 95 % or more of a language's items) per arm;
* :func:`retrieval_table`: the retrieval tasks, where direct is the untouched
  (contrastively trained) encoder and a STILTs arm its intermediate checkpoint;
* :func:`seed_table`: the spread of the direct arm over seeds where the
  profile trains several (:func:`helpers.stats.seed_spread`);
* :func:`record_floors`: the floors table into ``results/zero_shot_floors.csv``
  (the floors need the test files; the table keeps them for readers without);
* :func:`recorded_run_table` and :func:`recorded_run_facts`: another profile's
  run read back from the results tables alone (the embedded book's section on
  the ``realdata`` run), every STILTs arm beside direct with its interval and floors.
"""

from __future__ import annotations

import math

import pandas as pd

from . import analysis, baselines, runs, stats
from .config import StudyConfig
from .errors import StudyError
from .metrics import primary_metric
from .phase_report import baseline_table
from .report import bootstrap_gains, gain_cell
from .tasks import TASKS, retrieval_tasks

#: The values :func:`recorded_run_facts` glues, without their prefix.
RECORDED_FACTS = ("tasks", "pairs", "examples", "arms", "stilts", "avg_gain", "n_excl_zero", "n_above_floor",
                  "above_floor", "degenerate", "seed_sd")
#: ``results/zero_shot_floors.csv``: :func:`floors_table` per profile, model and data source.
FLOORS_KEY = ("profile", "model", "source", "task")
FLOORS_COLUMNS = FLOORS_KEY + ("direct", "chance", "majority_test", "trivial", "degenerate")

def main_seed(scores: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """The rows of the configuration's seed (the arms are compared seed with seed; extra seeds measure spread)."""
    return scores[scores["seed"] == cfg.seed].reset_index(drop=True) if not scores.empty else scores


def coverage_table(scores: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """Per task (direct arm): languages scored, languages the profile evaluates, XTREME-R's, and ``partial``."""
    expected = {t: cfg.test_languages(t) for t in cfg.tasks}
    cover = analysis.task_coverage(main_seed(scores, cfg), expected)
    cover = cover[cover["arm"] == "direct"].set_index("target_task").reindex(list(cfg.tasks))
    return cover[["languages", "languages_expected", "languages_registry", "nan_languages", "partial"]].rename(
        columns={"languages": "scored", "languages_expected": "evaluated", "languages_registry": "XTREME-R",
                 "nan_languages": "NaN"})


def gain_rows(cfg: StudyConfig) -> pd.DataFrame:
    """The paired bootstrap gains of every STILTs arm over direct on ``cfg``'s tasks
    (``arm, task, gain, lo, hi, items``; :func:`helpers.report.bootstrap_gains`)."""
    return bootstrap_gains(cfg.profile, tuple(cfg.arms), cfg.seed, tasks=tuple(cfg.tasks))


def gain_table(gains: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame | None:
    """Arms x (tasks, average): ``gain [lo, hi]`` in points, ``*`` where the interval excludes 0."""
    if gains.empty:
        return None
    cells = gains.assign(cell=[gain_cell(r, mark=True) for r in gains.to_dict("records")])
    table = cells.pivot(index="arm", columns="task", values="cell")
    order = [t for t in cfg.tasks if t in table.columns] + ["average"]
    return table.reindex(index=[a for a in cfg.arms if a in table.index], columns=order)


def floors_table(scores: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """Per task: direct's score beside chance, test majority and the trivial baseline; degenerate predictors.

    Each column is the mean over the task's test languages. ``degenerate``
    counts (arm, language) pairs whose predictions put one class on 95 % or
    more of the items (:func:`helpers.itemscores.is_degenerate`), over all arms.
    """
    main = main_seed(scores, cfg)
    levels = baselines.level_rows(cfg.data_source(), cfg.tasks, limit=cfg.eval_limit)
    levels = [r for r in levels if r["language"] in cfg.test_languages(r["task"])]
    trivial = baseline_table(cfg).to_dict("records")
    rows = pd.DataFrame(baselines.beside_scores(main, levels, trivial))
    if rows.empty:
        return pd.DataFrame()
    direct = rows[rows["arm"] == "direct"].groupby("task")
    out = pd.DataFrame({
        "direct": direct["score"].mean(),
        "chance": direct["chance"].mean(),
        "majority (test)": direct["majority_test"].apply(lambda s: s.dropna().mean() if s.notna().any() else math.nan),
        "trivial baseline": direct["trivial"].apply(lambda s: s.dropna().mean() if s.notna().any() else math.nan),
    })
    out["degenerate"] = rows.groupby("task")["degenerate"].sum().astype(int)
    return out.reindex([t for t in cfg.tasks if t in out.index])


def seed_table(scores: pd.DataFrame) -> pd.DataFrame | None:
    """Per seed task: the direct arm's mean and standard deviation over seeds (None: one seed only)."""
    rows = stats.seed_spread(scores)
    return pd.DataFrame(rows).set_index("task") if rows else None


def zero_shot_facts(groups: pd.DataFrame, gains: pd.DataFrame, floors: pd.DataFrame, cover: pd.DataFrame,
                    seeds: pd.DataFrame | None) -> dict:
    """Glued values of the zero-shot chapter (``zs_*``)."""
    overall = groups["average"]
    direct = float(overall.get("direct", math.nan))
    best = overall.drop(index="direct").idxmax() if len(overall) > 1 else "direct"
    per_task = gains[gains["task"] != "average"] if not gains.empty else gains
    excl = per_task[(per_task["lo"] > 0) | (per_task["hi"] < 0)] if not per_task.empty else per_task
    avg = gains[gains["task"] == "average"].set_index("arm") if not gains.empty else pd.DataFrame()
    trained = floors.dropna(subset=["direct"])
    floor = trained[["chance", "majority (test)", "trivial baseline"]].max(axis=1)
    facts = {
        "zs_direct_avg": f"{direct:.2f}",
        "zs_best_arm": best,
        "zs_best_avg": f"{float(overall[best]):.2f}",
        "zs_n_gains": len(per_task),
        "zs_n_excl_zero": len(excl),
        "zs_n_excl_pos": int((excl["lo"] > 0).sum()) if len(excl) else 0,
        "zs_best_ci": gain_cell(avg.loc[best], mark=True) if best in avg.index else "not measured",
        "zs_n_above_floor": int((trained["direct"] > floor).sum()),
        "zs_n_tasks": len(trained),
        "zs_n_degenerate": int(floors["degenerate"].sum()) if "degenerate" in floors else 0,
        "zs_n_partial": int(cover["partial"].sum()),
        "zs_seed_sd": ("not measured (this profile trains one seed)" if seeds is None else
                       ", ".join(f"{t} {r['sd']:.1f} points over {int(r['seeds'])} seeds"
                                 for t, r in seeds.iterrows())),
    }
    return facts


def retrieval_table(table: pd.DataFrame) -> pd.DataFrame | None:
    """Arms x retrieval tasks of ``table`` (arm x task scores), with each arm's change against direct.

    Direct is the untouched encoder on these tasks; a STILTs arm is its
    intermediate checkpoint. None when the profile has no retrieval task.
    """
    tasks = [t for t in table.columns if t in retrieval_tasks()]
    if not tasks:
        return None
    out = table[tasks].round(2)
    if "direct" in out.index and len(out) > 1:
        delta = (table[tasks] - table.loc["direct", tasks]).round(2)
        out = out.join(delta.add_suffix(" vs direct"))
    return out


def record_floors(floors: pd.DataFrame, cfg: StudyConfig, source_id: str) -> None:
    """Upsert :func:`floors_table` into ``results/zero_shot_floors.csv`` (key :data:`FLOORS_KEY`)."""
    def number(value) -> float | None:  # a plain float (no numpy repr in the CSV); an empty cell for NaN
        return None if pd.isna(value) else float(value)

    rows = [{"profile": cfg.profile, "model": cfg.model, "source": source_id, "task": task,
             "direct": number(r["direct"]), "chance": number(r["chance"]),
             "majority_test": number(r["majority (test)"]), "trivial": number(r["trivial baseline"]),
             "degenerate": int(r["degenerate"])}
            for task, r in floors.iterrows()]
    runs.upsert_rows(runs.results_root() / "zero_shot_floors.csv", rows, key=FLOORS_KEY, columns=FLOORS_COLUMNS)


def _recorded(profile: str) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...], list[str]]:
    scores = analysis.load_table("zero_shot.csv", profile)
    if scores.empty:
        raise StudyError(f"results/zero_shot.csv has no {profile} rows: run make book PLAN=plans/{profile}.yaml")
    scores = scores[scores["target_task"].isin(TASKS)]
    floors = analysis.load_table("zero_shot_floors.csv", profile)
    for col in FLOORS_COLUMNS[len(FLOORS_KEY):]:
        if col in floors:
            floors[col] = pd.to_numeric(floors[col], errors="coerce")  # an empty cell: no such floor
    arms = tuple(["direct"] + sorted(a for a in scores["arm"].unique() if a != "direct"))
    tasks = [t for t in TASKS if t in set(scores["target_task"])]
    return scores, floors, arms, tasks


def has_recorded_run(profile: str) -> bool:
    """Whether ``results/zero_shot.csv`` holds rows of ``profile``."""
    return not analysis.load_table("zero_shot.csv", profile).empty


def recorded_run_table(profile: str, seed: int = 1) -> pd.DataFrame:
    """Per task of ``profile``'s recorded run (results tables only, no data files): languages and test
    examples scored, each arm's score, each STILTs arm's gain over direct with its paired bootstrap 95 %
    interval, the floors (:func:`record_floors`) and the degenerate (arm, language) pairs; then the
    average over tasks."""
    scores, floors, arms, tasks = _recorded(profile)
    main = scores[scores["seed"] == seed]
    table = analysis.arm_task_table(main, arms)
    direct = main[main["arm"] == "direct"]
    primary = direct[[primary_metric(t) == m for t, m in zip(direct["target_task"], direct["metric"])]]
    out = pd.DataFrame({
        "languages": primary.groupby("target_task")["language"].nunique(),
        "examples": primary.groupby("target_task")["examples"].sum().astype(int),
    }).reindex(tasks)
    for arm in arms:
        out[arm] = table.loc[arm, tasks].round(2)
    gains = bootstrap_gains(profile, arms, seed, tasks=tuple(tasks))
    for arm in arms[1:]:
        cells = gains[gains["arm"] == arm].set_index("task")
        out[f"{arm} - direct [95% CI]"] = [gain_cell(cells.loc[t], mark=True) if t in cells.index else ""
                                           for t in tasks]
    if not floors.empty:
        f = floors.set_index("task").reindex(tasks)
        out["chance"] = f["chance"].round(1)
        out["majority (test)"] = f["majority_test"].round(1)
        out["trivial baseline"] = f["trivial"].round(1)
        out["degenerate"] = f["degenerate"].astype("Int64")
    avg = {"languages": int(out["languages"].sum()), "examples": int(out["examples"].sum())}
    avg.update({arm: round(float(table.loc[arm, tasks].mean()), 2) for arm in arms})
    for arm in arms[1:]:
        cell = gains[(gains["arm"] == arm) & (gains["task"] == "average")]
        avg[f"{arm} - direct [95% CI]"] = gain_cell(cell.iloc[0], mark=True) if len(cell) else ""
    out.loc["average over tasks"] = pd.Series(avg)
    out.index.name = "task"
    return out.astype({"languages": int, "examples": int})


def recorded_run_facts(profile: str, seed: int = 1, prefix: str = "rd") -> dict:
    """Glued values of a recorded run (``{prefix}_*``): its size, each floor cleared, degenerate tasks, the
    first STILTs arm's average gain with its interval, and the direct arm's spread over seeds. Without
    rows of ``profile`` every value reads ``not recorded``."""
    if not has_recorded_run(profile):
        return {f"{prefix}_{key}": "not recorded" for key in RECORDED_FACTS}
    scores, floors, arms, tasks = _recorded(profile)
    table = recorded_run_table(profile, seed)
    per_task = table.drop(index="average over tasks")
    stilts = arms[1] if len(arms) > 1 else None
    gains = bootstrap_gains(profile, arms, seed, tasks=tuple(tasks))
    excl = gains[(gains["task"] != "average") & ((gains["lo"] > 0) | (gains["hi"] < 0))]
    f = floors.set_index("task").reindex(tasks) if not floors.empty else pd.DataFrame(index=tasks)
    floor = f[["chance", "majority_test", "trivial"]].max(axis=1) if not floors.empty else pd.Series(dtype=float)
    above = [t for t in tasks if t in floor.index and per_task.loc[t, "direct"] > floor[t]]
    degenerate = [TASKS[t].label for t in tasks if "degenerate" in f and f.loc[t, "degenerate"] > 0]
    seeds = seed_table(scores)
    return {
        f"{prefix}_tasks": len(tasks),
        f"{prefix}_pairs": int(per_task["languages"].sum()),
        f"{prefix}_examples": f"{int(per_task['examples'].sum()):,}",
        f"{prefix}_arms": ", ".join(arms),
        f"{prefix}_stilts": stilts or "none",
        f"{prefix}_avg_gain": (table.loc["average over tasks", f"{stilts} - direct [95% CI]"] if stilts
                               else "not measured"),
        f"{prefix}_n_excl_zero": len(excl),
        f"{prefix}_n_above_floor": len(above),
        f"{prefix}_above_floor": ", ".join(TASKS[t].label for t in above) or "none",
        f"{prefix}_degenerate": ", ".join(degenerate) or "none",
        f"{prefix}_seed_sd": ("not measured (one seed)" if seeds is None else
                              ", ".join(f"{TASKS[t].label} {r['sd']:.1f} points over {int(r['seeds'])} seeds"
                                        for t, r in seeds.iterrows())),
    }
