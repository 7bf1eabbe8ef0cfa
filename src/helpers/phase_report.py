"""Chapter logic of the data (02) and phase chapters (04 intermediate, 05 target, 06 zero-shot).

:mod:`helpers.pipeline` runs the phases; this module turns a configuration and
what the phases return into what a chapter shows: data sizes, recipes, dev
scores, the fine-tuned arm beside the trivial baselines, and the facts each
chapter's prose glues (``data_*``, ``int_*``, ``tgt_*``, ``zs_*``).
"""

from __future__ import annotations

import pandas as pd

from . import analysis, recipes
from .baselines import baseline_rows
from .config import StudyConfig
from .pipeline import RETRIEVAL, SHARED_TARGET, dev_score, trainable_targets
from .sources import dataset_sizes, load_examples, load_retrieval
from .tasks import get_task

#: The recipe fields the phase chapters show, with their column names.
RECIPE_COLUMNS = {"learning_rate": "lr", "effective_batch": "batch", "epochs": "epochs", "max_length": "max length",
                  "doc_stride": "doc stride", "max_train_examples": "train examples",
                  "freeze_embeddings": "frozen embeddings", "bf16": "bf16"}


# --------------------------------------------------------------------------- 02 data
def size_table(cfg: StudyConfig) -> pd.DataFrame:
    """Examples per task, split and language of the configuration, as its chapters use them.

    ``train``/``dev`` are English (capped by the target recipe), ``test`` the
    per-language count after the profile's ``eval_limit`` (retrieval: queries).
    """
    rows = []
    source = cfg.data_source()
    for task in cfg.tasks:
        langs = cfg.test_languages(task)
        recipe = None
        if task not in RETRIEVAL:
            recipe = recipes.get_recipe(cfg.profile, SHARED_TARGET.get(task, task), "target")
        for row in dataset_sizes(source, [task], languages=set(langs) | {"en"}):
            n = row["examples"]
            if row["split"] == "test" and cfg.eval_limit:
                n = min(n, cfg.eval_limit)
            if row["split"] == "train" and recipe and recipe.max_train_examples:
                n = min(n, recipe.max_train_examples)
            if row["split"] == "dev" and recipe and recipe.max_dev_examples:
                n = min(n, recipe.max_dev_examples)
            if row["split"] == "test" and row["language"] not in langs:
                continue
            rows.append({"task": task, "split": row["split"], "language": row["language"], "examples": n})
    return pd.DataFrame(rows)


def train_dev_table(sizes: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """Tasks x (dev, train): English examples of each task (retrieval tasks have none)."""
    english = sizes[sizes["split"] != "test"]
    return english.pivot_table(index="task", columns="split", values="examples", aggfunc="sum").reindex(list(cfg.tasks))


def test_table(sizes: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """Tasks x languages: test examples (retrieval: queries) after the profile's ``eval_limit``; 0 where absent."""
    test = sizes[sizes["split"] == "test"]
    table = test.pivot_table(index="task", columns="language", values="examples", aggfunc="sum")
    return table.reindex(list(cfg.tasks)).fillna(0).astype(int)


def format_examples(cfg: StudyConfig) -> str:
    """One test example of each task, a line each, in its first language other than English.

    Retrieval tasks show a query and its gold candidate; the others the canonical example without its id.
    """
    lines = []
    source = cfg.data_source()
    for name in cfg.tasks:
        langs = cfg.test_languages(name)
        lang = [l for l in langs if l != "en"][0] if len(langs) > 1 else langs[0]
        if get_task(name).format == "retrieval":
            rs = load_retrieval(name, lang, source, limit=1)
            lines.append(f"{name} [{lang}] query: {rs.queries[0]!r} -> gold: {rs.candidates[sorted(rs.gold[0])[0]]!r}")
        else:
            ex = load_examples(name, "test", lang, source, limit=1)[0]
            lines.append(f"{name} [{lang}] {({k: v for k, v in ex.items() if k != 'id'})}")
    return "\n".join(lines)


def baseline_table(cfg: StudyConfig) -> pd.DataFrame:
    """Trivial baselines on the configuration's test sets (same languages and limits); one row per language."""
    rows = []
    for task in cfg.tasks:
        rows.extend(baseline_rows(cfg.data_source(), [task], limit=cfg.eval_limit, languages=cfg.test_languages(task)))
    return pd.DataFrame(rows)


def baseline_summary(base: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """Per task: the baseline's name and its score averaged over languages (0-100)."""
    return pd.DataFrame({"baseline": base.groupby("task")["baseline"].first(),
                         "baseline score": base.groupby("task")["value"].mean()}).reindex(list(cfg.tasks))


def data_facts(sizes: pd.DataFrame, summary: pd.DataFrame) -> dict:
    """Glued values of the data chapter (``data_*``)."""
    test = sizes[sizes["split"] == "test"]
    best = summary["baseline score"].idxmax()
    return {
        "data_n_tasks": int(sizes["task"].nunique()),
        "data_n_languages": int(test["language"].nunique()),
        "data_n_test": int(test["examples"].sum()),
        "data_n_train": int(sizes[sizes["split"] == "train"]["examples"].sum()),
        "data_best_baseline_task": best,
        "data_best_baseline": round(float(summary.loc[best, "baseline score"]), 1),
    }


# --------------------------------------------------------------------------- 04 and 05 training
def _recipe_row(recipe: recipes.Recipe) -> dict:
    values = {**recipe.as_dict(), "effective_batch": recipe.effective_batch}
    row = {name: values[key] for key, name in RECIPE_COLUMNS.items()}
    row["train examples"] = row["train examples"] or "all"
    return row


def intermediate_recipes(cfg: StudyConfig) -> pd.DataFrame:
    """The recipe of each intermediate arm of the configuration (``helpers.recipes``)."""
    arms = [a for a in cfg.arms if a != "direct"]
    return pd.DataFrame([{"arm": a, **_recipe_row(recipes.get_recipe(cfg.profile, a, "intermediate"))} for a in arms]
                        ).set_index("arm")


def target_recipes(cfg: StudyConfig) -> pd.DataFrame:
    """The target recipe of each trainable task of the configuration (``helpers.recipes``)."""
    return pd.DataFrame([{"task": t, **_recipe_row(recipes.get_recipe(cfg.profile, t, "target"))}
                         for t in trainable_targets(cfg)]).set_index("task")


def training_facts(runs_table: pd.DataFrame, prefix: str) -> dict:
    """Glued values of a training chapter (``<prefix>_*``): runs, optimizer steps and tokens trained on."""
    return {f"{prefix}_n_runs": len(runs_table), f"{prefix}_steps": int(runs_table["steps"].sum()),
            f"{prefix}_tokens": f"{int(runs_table['tokens'].sum()):,}"}


def dev_score_table(target: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """Arms x tasks: the English dev score that selected each target model (accuracy or F1)."""
    scored = target.assign(**{"dev score": [dev_score(r) for r in target.to_dict("records")]})
    return scored.pivot(index="arm", columns="task", values="dev score").reindex(list(cfg.arms)).round(2)


def target_facts(target: pd.DataFrame, dev: pd.DataFrame) -> dict:
    """Glued values of the target chapter (``tgt_*``): the runs and the arm with the best mean dev score."""
    mean = dev.mean(axis=1)
    return {**training_facts(target, "tgt"), "tgt_best_dev_arm": str(mean.idxmax()),
            "tgt_best_dev_mean": round(float(mean.max()), 2)}


# --------------------------------------------------------------------------- 06 zero-shot
def gain_table(table: pd.DataFrame, arms: tuple[str, ...]) -> pd.DataFrame | None:
    """Each STILTs arm minus direct, task by task (None without direct or without a STILTs arm)."""
    return analysis.gains(table).round(2) if "direct" in arms and len(arms) > 1 else None


def baseline_check(cfg: StudyConfig, table: pd.DataFrame, arm: str = "direct") -> pd.DataFrame:
    """``arm``'s zero-shot score per task beside the trivial baseline's, and the margin.

    ``table``: arm x task scores (:func:`helpers.analysis.arm_task_table`).
    Columns: baseline (its name), baseline score, ``<arm> fine-tuned``, margin.
    """
    check = baseline_summary(baseline_table(cfg), cfg)
    check[f"{arm} fine-tuned"] = table.loc[arm] if arm in table.index else float("nan")
    check["margin"] = check[f"{arm} fine-tuned"] - check["baseline score"]
    return check


def zero_shot_facts(groups: pd.DataFrame, check: pd.DataFrame) -> dict:
    """Glued values of the zero-shot chapter (``zs_*``): averages, the best arm, the margin over baselines."""
    overall = groups["average"]
    direct = float(overall.get("direct", float("nan")))
    best = overall.drop(index="direct").idxmax() if len(overall) > 1 else "direct"
    trained = check.dropna()
    return {
        "zs_direct_avg": round(direct, 2),
        "zs_best_arm": best,
        "zs_best_avg": round(float(overall[best]), 2),
        "zs_best_gain": round(float(overall[best]) - direct, 2),
        "zs_n_beaten": int((trained["margin"] > 0).sum()),
        "zs_n_tasks": len(trained),
        "zs_mean_margin": round(float(trained["margin"].mean()), 1),
    }
