"""Bad inputs to the study's entry points: parameters, languages, recipes, data directories and files,
plans, command lines and notebooks (registered into :data:`studytools.input_harness.CASES`)."""

from __future__ import annotations

import json as _json
from pathlib import Path

from helpers import models
from helpers.config import configure
from helpers.recipes import get_recipe
from helpers.sources import get_source, load_examples
from helpers.study import load_plan
from helpers.tasks import check_language, get_task
from helpers.training import override_recipe as override, train_target
from studytools.input_harness import case, cli, notebook, small_plan, write

# --- parameters through configure -------------------------------------------------------------
@case("unknown-profile", "'nosuch'", "valid profiles: smoke, embedded, xtreme-dir, full")
def _unknown_profile(scratch: Path) -> None:
    """configure(profile='nosuch')"""
    configure(profile="nosuch")


@case("unknown-task", "'nosuch'", "valid tasks:", "xnli")
def _unknown_task(scratch: Path) -> None:
    """configure(profile='smoke', task='nosuch')"""
    configure(profile="smoke", task="nosuch")


@case("unknown-task-registry", "'nosuch'", "valid tasks:", "xnli", "tatoeba")
def _unknown_task_registry(scratch: Path) -> None:
    """tasks.get_task('nosuch')"""
    get_task("nosuch")


@case("unknown-arm", "'qqp'", "valid arms: direct, mnli")
def _unknown_arm(scratch: Path) -> None:
    """configure(profile='smoke', arm='qqp')"""
    configure(profile="smoke", arm="qqp")


@case("unknown-model-preset", "'xlmr-huge'", "xlmr-large", "tiny")
def _unknown_model(scratch: Path) -> None:
    """configure(model='xlmr-huge') -> models.get_preset"""
    configure(profile="smoke", model="xlmr-huge")


@case("unknown-model-preset-load", "'xlmr-huge'", "xlmr-base", "e5-small")
def _unknown_model_load(scratch: Path) -> None:
    """models.load_model('xlmr-huge')"""
    models.load_model("xlmr-huge")


@case("negative-seed", "seed", "-3")
def _negative_seed(scratch: Path) -> None:
    """configure(seed=-3)"""
    configure(profile="smoke", seed=-3)


@case("wrong-type-eval-limit", "eval_limit", "int")
def _eval_limit_type(scratch: Path) -> None:
    """configure(eval_limit='ten')"""
    configure(profile="smoke", eval_limit="ten")


# --- languages ----------------------------------------------------------------------------------
@case("unknown-language", "'xx'", "valid", "de", "sw")
def _unknown_language(scratch: Path) -> None:
    """tasks.check_language('xnli', 'xx')"""
    check_language("xnli", "xx")


def _embedded_source() -> None:
    get_source("embedded")


# --- training hyper-parameters (recipes) -----------------------------------------------------------
def override_recipe(**changes: object):
    """The smoke xnli target recipe with ``changes``, through the public override API.

    That is ``helpers.training.override_recipe(recipe, ["FIELD=VALUE", ...])``,
    what ``python -m helpers.training ... --set FIELD=VALUE`` calls; a recipe
    must refuse a value that cannot train (``Recipe.validate()`` is called too
    where it exists).
    """
    recipe = override(get_recipe("smoke", "xnli", "target"), [f"{k}={_json.dumps(v)}" for k, v in changes.items()])
    if hasattr(recipe, "validate"):
        recipe.validate()
    return recipe


@case("zero-epochs", "epochs", "0")
def _zero_epochs(scratch: Path) -> None:
    """recipe override epochs=0"""
    override_recipe(epochs=0)


@case("negative-max-steps", "max_steps", "-5")
def _negative_steps(scratch: Path) -> None:
    """recipe override max_steps=-5"""
    override_recipe(max_steps=-5)


@case("zero-batch-size", "batch_size", "0")
def _zero_batch(scratch: Path) -> None:
    """recipe override batch_size=0"""
    override_recipe(batch_size=0)


@case("negative-learning-rate", "learning_rate", "-0.001")
def _negative_lr(scratch: Path) -> None:
    """recipe override learning_rate=-1e-3"""
    override_recipe(learning_rate=-1e-3)


@case("cli-training-negative-learning-rate", "learning_rate", "-1", prepare=_embedded_source)
def _cli_training_lr(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --profile smoke --set learning_rate=-1"""
    cli("helpers.training", "target", "--task", "xnli", "--profile", "smoke", "--set", "learning_rate=-1")


@case("cli-training-unknown-recipe-field", "'lr=0.1'", "learning_rate", prepare=_embedded_source)
def _cli_training_field(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --profile smoke --set lr=0.1"""
    cli("helpers.training", "target", "--task", "xnli", "--profile", "smoke", "--set", "lr=0.1")


@case("retrieval-task-recipe", "tatoeba", "trainable tasks")
def _retrieval_recipe(scratch: Path) -> None:
    """recipes.get_recipe('smoke', 'tatoeba', 'target')"""
    get_recipe("smoke", "tatoeba", "target")


@case("retrieval-task-training", "tatoeba", "trainable tasks", "xnli", prepare=_embedded_source)
def _retrieval_training(scratch: Path) -> None:
    """training.train_target('tatoeba', 'direct', 'tiny', profile='smoke', ...)"""
    train_target("tatoeba", "direct", "tiny", profile="smoke", source=get_source("embedded"), seed=1)


# --- data directories -------------------------------------------------------------------------------
@case("missing-data-dir", "data_dir", "/nonexistent/xtreme-data")
def _missing_data_dir(scratch: Path) -> None:
    """configure(profile='xtreme-dir', data_dir='/nonexistent/xtreme-data')"""
    configure(profile="xtreme-dir", data_dir="/nonexistent/xtreme-data")


@case("empty-data-dir", "is empty", "xnli/")
def _empty_data_dir(scratch: Path) -> None:
    """configure(profile='xtreme-dir', data_dir=<an empty directory>)"""
    empty = scratch / "xtreme-empty"
    empty.mkdir()
    configure(profile="xtreme-dir", data_dir=str(empty))


@case("xtreme-dir-without-data-dir", "needs data_dir")
def _no_data_dir(scratch: Path) -> None:
    """configure(profile='xtreme-dir') without data_dir"""
    configure(profile="xtreme-dir")


# --- data files ---------------------------------------------------------------------------------------
@case("truncated-squad-json", "xquad.de.json", "line ")
def _truncated_squad(scratch: Path) -> None:
    """sources.load_examples('xquad', 'test', 'de', <xtreme-dir with xquad.de.json cut in half>)"""
    data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{
        "context": "Berlin ist die Hauptstadt von Deutschland.",
        "qas": [{"id": f"q{i}", "question": "Was ist Berlin?",
                 "answers": [{"text": "die Hauptstadt", "answer_start": 10}]} for i in range(4)]}]}]}
    text = _json.dumps(data, indent=1)
    write(scratch / "xtreme" / "xquad" / "xquad.de.json", text[: len(text) // 2])
    load_examples("xquad", "test", "de", get_source("xtreme-dir", str(scratch / "xtreme")))


@case("tsv-missing-column", "test-de.tsv", "line 3")
def _tsv_missing_column(scratch: Path) -> None:
    """sources.load_examples('xnli', 'test', 'de', <xtreme-dir whose test-de.tsv line 3 lacks a column>)"""
    rows = ["Der Hund schläft.\tEin Tier ruht.\tentailment",
            "Es regnet.\tDie Sonne scheint.\tcontradiction",
            "Sie liest ein Buch.\tneutral",
            "Er läuft.\tEr bewegt sich.\tentailment"]
    write(scratch / "xtreme" / "xnli" / "test-de.tsv", "\n".join(rows) + "\n")
    load_examples("xnli", "test", "de", get_source("xtreme-dir", str(scratch / "xtreme")))


def tiny_run_dir(run: Path) -> Path:
    """A run directory like training's (config.json + model.safetensors) of a 1-layer encoder."""
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    config = XLMRobertaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=32, max_position_embeddings=40, num_labels=3)
    XLMRobertaForSequenceClassification(config).save_pretrained(str(run))
    return run


@case("corrupted-checkpoint", "model.safetensors", "direct___xnli", allow_model=True)
def _corrupted_checkpoint(scratch: Path) -> None:
    """models.load_trainable(<a run dir whose model.safetensors is cut in half>, 'sequence-classification')"""
    run = tiny_run_dir(scratch / "direct___xnli" / "seed1")
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    models.load_trainable(run, "sequence-classification", 3)


# --- plans --------------------------------------------------------------------------------------------
@case("plan-bad-yaml", "not valid YAML", "at line 5")
def _plan_bad_yaml(scratch: Path) -> None:
    """study.load_plan(<a plan with an unclosed bracket>)"""
    load_plan(write(scratch / "bad.yaml", "name: bad\nprofile: smoke\nnotebooks: [01_setup, \n  02_data\nseed: [\n"))


@case("plan-unknown-key", "unknown keys ['notebook']", "valid keys")
def _plan_unknown_key(scratch: Path) -> None:
    """study.load_plan(<a plan with 'notebook:' for 'notebooks:'>)"""
    load_plan(write(scratch / "typo.yaml", "profile: smoke\nnotebook: [01_setup]\nnotebooks: [01_setup]\n"))


@case("plan-unknown-notebook", "'05_targets'", "valid notebooks", "01_setup")
def _plan_unknown_notebook(scratch: Path) -> None:
    """study.load_plan(<a plan naming notebook 05_targets>)"""
    load_plan(write(scratch / "nb.yaml", "profile: smoke\nnotebooks: [01_setup, 05_targets]\n"))


@case("plan-unknown-profile", "'tiny'", "valid profiles")
def _plan_unknown_profile(scratch: Path) -> None:
    """study.load_plan(<a plan with profile: tiny>)"""
    load_plan(write(scratch / "p.yaml", "profile: tiny\nnotebooks: [01_setup]\n"))


# --- command lines (subprocesses: exit 2, one 'error:' line) -----------------------------------------
@case("cli-study-missing-plan", "nosuch.yaml", "not found")
def _cli_missing_plan(scratch: Path) -> None:
    """python -m helpers.study run nosuch.yaml"""
    cli("helpers.study", "run", str(scratch / "nosuch.yaml"))


@case("cli-study-bad-yaml", "not valid YAML")
def _cli_bad_yaml(scratch: Path) -> None:
    """python -m helpers.study run <bad YAML>"""
    cli("helpers.study", "run", str(write(scratch / "bad.yaml", "profile: smoke\nnotebooks: [01_setup\n")))


@case("cli-study-only-unknown", "'99_nosuch'", "valid:", "01_setup")
def _cli_only_unknown(scratch: Path) -> None:
    """python -m helpers.study run <plan> --only 99_nosuch"""
    cli("helpers.study", "run", small_plan(scratch), "--only", "99_nosuch")


@case("cli-sweep-unknown-task", "'nosuch'", "valid tasks")
def _cli_sweep_task(scratch: Path) -> None:
    """python -m studytools.sweep ... --task xnli,nosuch"""
    cli("studytools.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli,nosuch", "--arm", "direct", "--seed", "1")


@case("cli-sweep-unknown-executor", "'kubernetes'", "valid executors: local, slurm, debug, auto")
def _cli_sweep_executor(scratch: Path) -> None:
    """python -m studytools.sweep ... --executor kubernetes"""
    cli("studytools.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli", "--arm", "direct", "--seed", "1", "--executor", "kubernetes")


@case("cli-sweep-bad-seed", "--seed", "'one'")
def _cli_sweep_seed(scratch: Path) -> None:
    """python -m studytools.sweep ... --seed 1,one"""
    cli("studytools.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli", "--arm", "direct", "--seed", "1,one")


@case("cli-sweep-notebook-not-in-plan", "'07_nosuch'", "valid notebooks: 01_setup")
def _cli_sweep_notebook(scratch: Path) -> None:
    """python -m studytools.sweep --notebook 07_nosuch ..."""
    cli("studytools.sweep", "--plan", small_plan(scratch), "--notebook", "07_nosuch",
        "--task", "xnli", "--arm", "direct", "--seed", "1")


# --- notebooks through papermill -----------------------------------------------------------------------
@case("papermill-seed-not-a-number", "parameter seed must be int", "'notanumber'")
def _pm_seed(scratch: Path) -> None:
    """papermill notebooks/01_setup.ipynb -p seed notanumber"""
    notebook("01_setup", scratch, seed="notanumber")


@case("papermill-unknown-task", "unknown task 'nosuch'", "valid tasks")
def _pm_task(scratch: Path) -> None:
    """papermill notebooks/01_setup.ipynb -p task nosuch"""
    notebook("01_setup", scratch, task="nosuch")
