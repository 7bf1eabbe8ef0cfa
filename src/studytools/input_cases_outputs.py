"""Bad inputs about what a command may write and how results are keyed (issue 15): folders the study does not
own, results keys, training values, plans and the driver, sweeps, and malformed data files (registered into
:data:`studytools.input_harness.CASES`)."""

from __future__ import annotations

import json as _json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

from helpers import runs
from helpers.errors import StudyError
from helpers.config import configure
from helpers.costs import read_training_cost, record_training_cost, training_cost_row
from helpers.generate import generate_benchmark
from helpers.pipeline import run_zero_shot_phase, target_run
from helpers.sources import get_source, load_examples, load_retrieval, read_tagging
from helpers.study import load_plan
from helpers.training import target_run_dir
from studytools.input_cases_entry import _embedded_source, override_recipe
from studytools.input_harness import SRC_DIR, NotClear, case, cli, notebook, problems_with_message, small_plan, write

# --- issue 15, part A: outputs a command does not own, results keys, training values -------------------
# (cases for --data-dir / --run-dir refusal, results keys, non-finite values, seeds, model messages)
def _user_folder(root: Path) -> dict[str, bytes]:
    """A folder of the user's (XTREME-layout files and a note) and a snapshot of its contents."""
    write(root / "xnli" / "test-de.tsv", "Der Hund schläft.\tEin Tier ruht.\tentailment\n")
    write(root / "xnli" / "train-en.tsv", "A dog sleeps.\tAn animal rests.\tentailment\n")
    write(root / "notes.txt", "my own notes\n")
    return _snapshot(root)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _intact(root: Path, before: dict[str, bytes], mode: int | None = None) -> None:
    """Raise NotClear unless ``root`` holds exactly ``before`` (and still has ``mode``)."""
    if not root.is_dir() or _snapshot(root) != before:
        now = _snapshot(root) if root.is_dir() else {}
        raise NotClear(f"{root.name} was changed: {len(before)} files before, {len(now)} after")
    if mode is not None and (root.stat().st_mode & 0o777) != mode:
        raise NotClear(f"{root.name} changed mode from {oct(mode)} to {oct(root.stat().st_mode & 0o777)}")


def _refused_and_intact(root: Path, before: dict[str, bytes], call: Callable[[], None], mode: int | None = None):
    """``call()`` must refuse (StudyError) and leave ``root`` as it was; the error is re-raised."""
    try:
        call()
    except StudyError:
        _intact(root, before, mode)
        raise
    _intact(root, before, mode)


@case("cli-training-data-dir-user-files", "mydata", "xtreme-dir", prepare=_embedded_source)
def _cli_data_dir_user(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --data-dir mydata (real files; smoke's source is generated)"""
    mydata = scratch / "mydata"
    before = _user_folder(mydata)
    _refused_and_intact(mydata, before, lambda: cli("helpers.training", "target", "--task", "xnli",
                                                    "--data-dir", str(mydata)))


@case("embedded-source-user-folder", "mydata", "did not generate", "xtreme-dir")
def _embedded_source_user(scratch: Path) -> None:
    """sources.get_source('embedded', <a folder of real files>) -- would have generated the benchmark over it"""
    mydata = scratch / "mydata"
    before = _user_folder(mydata)
    _refused_and_intact(mydata, before, lambda: get_source("embedded", str(mydata)))


@case("cli-training-run-dir-user-folder", "myfolder", "not created by the study", "expected a new or empty folder",
      prepare=_embedded_source)
def _cli_run_dir_user(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --profile smoke --run-dir <an existing folder of the user's>"""
    folder = scratch / "myfolder"
    before = _user_folder(folder)
    os.chmod(folder, 0o755)
    _refused_and_intact(folder, before, lambda: cli("helpers.training", "target", "--task", "xnli", "--profile",
                                                    "smoke", "--run-dir", str(folder)), mode=0o755)
    if Path(str(folder) + ".lock").exists() or Path(str(folder) + ".work").exists():
        raise NotClear("a lock or work directory was written beside the refused run directory")


@case("generated-benchmark-over-user-folder", "mine", "not created by the study")
def _generate_over_user(scratch: Path) -> None:
    """generate.generate_benchmark(<an existing folder of the user's>)"""
    mine = scratch / "mine"
    before = _user_folder(mine)
    _refused_and_intact(mine, before, lambda: generate_benchmark(mine, n_train=2, n_dev=2, n_test=2))


@case("atomic-directory-usual-mode", behaviour=True)
def _atomic_mode(scratch: Path) -> str:
    """runs.atomic_directory(<new folder>): the published folder has the umask's mode, not mkdtemp's 0700"""
    expected = 0o777 & ~runs._UMASK
    with runs.atomic_directory(scratch / "run") as tmp:
        (tmp / "metrics.json").write_text("{}", encoding="utf-8")
    mode = (scratch / "run").stat().st_mode & 0o777
    if mode != expected:
        raise NotClear(f"published folder has mode {oct(mode)}, expected {oct(expected)}")
    return f"published folder has mode {oct(mode)} (umask {oct(runs._UMASK)})"


@case("cli-training-infinite-learning-rate", "learning_rate", "finite", "inf", prepare=_embedded_source)
def _cli_lr_infinity(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --profile smoke --set learning_rate=Infinity"""
    cli("helpers.training", "target", "--task", "xnli", "--profile", "smoke", "--set", "learning_rate=Infinity")


@case("recipe-nan-weight-decay", "weight_decay", "finite", "nan")
def _recipe_nan(scratch: Path) -> None:
    """recipe override weight_decay=NaN"""
    override_recipe(weight_decay=float("nan"))


@case("cli-training-loss-diverges", behaviour=True, allow_writes=True, prepare=_embedded_source)
def _cli_loss_nan(scratch: Path) -> str:
    """python -m helpers.training target --task xnli --profile smoke --set learning_rate=1e30: stops, publishes nothing"""
    try:
        cli("helpers.training", "target", "--task", "xnli", "--profile", "smoke", "--set", "learning_rate=1e30")
    except StudyError as exc:
        message = str(exc)
    else:  # pragma: no cover - cli() raises NotClear on any other exit
        raise NotClear("training with learning_rate=1e30 exited 0")
    problems = problems_with_message(message, ("step", "not finite", "learning rate"))
    if problems:
        raise NotClear(f"{message} [{'; '.join(problems)}]")
    published = [p.relative_to(runs.runs_root()).as_posix() for p in runs.runs_root().rglob("*")
                 if p.is_dir() and (p.name.startswith("seed") or p.name.endswith(".work"))]
    rows = runs.read_table(runs.results_root() / "training_cost.csv")
    if published or rows:
        raise NotClear(f"a diverged run was published: {published[:3]} and {len(rows)} cost rows")
    return f"refused after training: {message}"


@case("cli-training-arm-not-in-profile", "arm qqp", "its arms: direct, mnli", "--init", prepare=_embedded_source)
def _cli_arm_qqp(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --profile smoke --arm qqp"""
    cli("helpers.training", "target", "--task", "xnli", "--profile", "smoke", "--arm", "qqp")


@case("cli-training-arm-untrained-intermediate", "arm mnli", "has not been trained",
      "helpers.training intermediate --task mnli", prepare=_embedded_source)
def _cli_arm_mnli(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --profile smoke --arm mnli (no intermediate run yet)"""
    cli("helpers.training", "target", "--task", "xnli", "--profile", "smoke", "--arm", "mnli")


@case("cli-training-init-missing", "/nonexistent", "does not exist", "tiny", prepare=_embedded_source)
def _cli_init_missing(scratch: Path) -> None:
    """python -m helpers.training target --task xnli --profile smoke --init /nonexistent"""
    cli("helpers.training", "target", "--task", "xnli", "--profile", "smoke", "--init", "/nonexistent")


@case("training-cost-recipe-own-key", behaviour=True, allow_writes=True)
def _cost_recipe_key(scratch: Path) -> str:
    """costs.record_training_cost of the same run under two recipes (a --set override): both rows kept"""
    common = dict(profile="smoke", arm="direct", phase="target", task="xnli", seed=1, examples=12, tokens=100,
                  steps=3, wall_s=1.0, flops=10, peak_mem_mb=1.0, device="cpu", model="tiny", source="embedded")
    record_training_cost(training_cost_row(**common, recipe="aaaaaaaaaaaa"))
    record_training_cost(training_cost_row(**dict(common, steps=8), recipe="bbbbbbbbbbbb"))
    rows = read_training_cost()
    if sorted(r["steps"] for r in rows) != ["3", "8"]:
        raise NotClear(f"the second recipe's row replaced the first: steps {[r['steps'] for r in rows]}")
    return "two recipes of one run give two training-cost rows (steps 3 and 8)"


def _smoke_xnli_direct(**params: object):
    return configure(profile="smoke", task="xnli", arm="direct", **params)


@case("zero-shot-eval-limit-own-key", behaviour=True, allow_writes=True, allow_model=True, prepare=_embedded_source)
def _zero_shot_key(scratch: Path) -> str:
    """pipeline.run_zero_shot_phase (06_zero_shot) with the profile's eval_limit, then -p eval_limit 4: both kept"""
    target_run(_smoke_xnli_direct(), "direct", "xnli")  # 05_target's run: the zero-shot phase trains nothing
    run_zero_shot_phase(_smoke_xnli_direct())
    first = runs.read_table(runs.results_root() / "zero_shot.csv")
    run_zero_shot_phase(_smoke_xnli_direct(eval_limit=4))
    rows = runs.read_table(runs.results_root() / "zero_shot.csv")
    limits = sorted({r.get("eval_limit", "") for r in rows})
    kept = [r for r in first if r in rows]
    if limits != ["4", "8"] or len(kept) != len(first):
        raise NotClear(f"eval_limit 4 overwrote the profile's scores: {len(kept)} of {len(first)} rows kept, "
                       f"eval_limits {limits}")
    return f"{len(rows)} zero-shot rows: eval_limit 8 and 4 under their own keys"


@case("smoke-run-keeps-embedded-run", behaviour=True, allow_writes=True, allow_model=True, prepare=_embedded_source)
def _smoke_keeps_embedded(scratch: Path) -> str:
    """training.train_target(smoke) beside an embedded run of the same lineage: the embedded run is untouched"""
    embedded = target_run_dir("direct", "xnli", 1, profile="embedded")
    write(embedded / "params.json", '{"profile": "embedded"}\n')
    write(embedded / "metrics.json", '{"dev": {"accuracy": 75.0}}\n')
    runs.mark_owned(embedded, "run")
    before = _snapshot(embedded)
    result = target_run(_smoke_xnli_direct(), "direct", "xnli")
    _intact(embedded, before)
    if Path(result.run_dir) == embedded:
        raise NotClear(f"smoke and embedded runs share {embedded}")
    return (f"smoke run in {Path(result.run_dir).relative_to(runs.runs_root())}, embedded run "
            f"{embedded.relative_to(runs.runs_root())} untouched")


@case("papermill-by-hand-leaves-committed-results", behaviour=True, allow_writes=True, prepare=_embedded_source)
def _pm_by_hand(scratch: Path) -> str:
    """papermill notebooks/05_target.ipynb out.ipynb -p profile smoke -p task xnli (no STUDY_RESULTS_DIR)"""
    import papermill as pm

    committed = runs.project_path("results")
    before = _snapshot(committed) if committed.is_dir() else {}
    saved = os.environ.pop("STUDY_RESULTS_DIR", None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        pm.execute_notebook(str(runs.project_path("notebooks", "05_target.ipynb")), str(scratch / "out.ipynb"),
                            parameters={"profile": "smoke", "task": "xnli", "arm": "direct"},
                            kernel_name="python3", progress_bar=False, cwd=str(scratch))
    finally:
        if saved is not None:
            os.environ["STUDY_RESULTS_DIR"] = saved
        after = _snapshot(committed) if committed.is_dir() else {}
        if after != before:  # put the committed tables back, then report the pollution
            for name in set(after) - set(before):
                (committed / name).unlink()
            for name, data in before.items():
                if after.get(name) != data:
                    runs.atomic_write_bytes(committed / name, data)
            raise NotClear(f"the chapter run by hand wrote into the committed results/: "
                           f"{sorted(n for n in set(after) | set(before) if after.get(n) != before.get(n))}")
    private = runs.by_hand_results_root()
    rows = [r for r in runs.read_table(private / "training_cost.csv") if r.get("profile") == "smoke"]
    out = (scratch / "out.ipynb").read_text(encoding="utf-8")
    if not rows or str(private) not in out:
        raise NotClear(f"no smoke cost row in {private}, or the chapter did not say where its tables went")
    return f"committed results/ untouched; {len(rows)} smoke cost row(s) in {private.name}/ (announced in the chapter)"


# --- issue 15, part B: plans, notebook parameters, the driver and sweeps ------------------------------
# (cases for misspelled parameters, plan/profile conflicts, whole-plan validation, duplicate notebooks)
def _plan(scratch: Path, body: str, name: str = "plan.yaml") -> str:
    """A plan file under ``scratch`` with ``body`` (UTF-8)."""
    return str(write(scratch / name, body))


@case("plan-latin1", "latin1.yaml", "not UTF-8", "line 3")
def _plan_latin1(scratch: Path) -> None:
    """study.load_plan(<a plan saved as Latin-1: 'name: märz' on line 3>)"""
    path = scratch / "latin1.yaml"
    path.write_bytes("# plan\nprofile: smoke\nname: m\u00e4rz\nnotebooks: [01_setup]\n".encode("latin-1"))
    load_plan(path)


@case("papermill-unknown-parameter", "unknown parameter 'tasks'",
      "valid parameters: profile, seed, task, arm, data_dir, eval_limit")
def _pm_unknown_parameter(scratch: Path) -> None:
    """papermill notebooks/01_setup.ipynb -p tasks xnli (for task: papermill itself only warns)"""
    notebook("01_setup", scratch, profile="smoke", tasks="xnli")


@case("plan-entry-misspelled-parameters", "unknown key 'parameter'", "valid keys: notebook, parameters")
def _plan_entry_key(scratch: Path) -> None:
    """study.load_plan(<an entry '- notebook: 05_target' with 'parameter:' for 'parameters:'>)"""
    load_plan(_plan(scratch, "profile: smoke\nnotebooks:\n  - notebook: 05_target\n    parameter: {task: xnli}\n"))


@case("plan-undeclared-parameter", "unknown parameter 'tasks' for 01_setup", "valid parameters: profile, seed, task")
def _plan_undeclared(scratch: Path) -> None:
    """study.load_plan(<a plan with parameters: {tasks: xnli}>)"""
    load_plan(_plan(scratch, "profile: smoke\nparameters: {tasks: xnli}\nnotebooks: [01_setup]\n"))


@case("plan-profile-in-parameters", "'profile'", "top level", "profile: smoke")
def _plan_profile_override(scratch: Path) -> None:
    """study.load_plan(<a smoke plan with parameters: {profile: embedded}>)"""
    load_plan(_plan(scratch, "profile: smoke\nparameters: {profile: embedded}\nnotebooks: [01_setup]\n"))


@case("cli-study-late-validation", "05_target", "unknown task 'nosuch'", "valid tasks")
def _cli_late_validation(scratch: Path) -> None:
    """python -m helpers.study run <plan: 01_setup, then 05_target with task: nosuch>: nothing runs"""
    cli("helpers.study", "run", _plan(scratch, "profile: smoke\nnotebooks:\n  - 01_setup\n"
                                               "  - {notebook: 05_target, parameters: {task: nosuch}}\n"))


@case("papermill-target-retrieval-task", "task tatoeba has no training data", "valid tasks for 05_target",
      "xnli, panx, xquad")
def _pm_target_tatoeba(scratch: Path) -> None:
    """papermill notebooks/05_target.ipynb -p task tatoeba (a task without training)"""
    notebook("05_target", scratch, profile="smoke", task="tatoeba")


@case("papermill-intermediate-direct-arm", "arm direct has no intermediate phase", "valid arms: mnli")
def _pm_intermediate_direct(scratch: Path) -> None:
    """papermill notebooks/04_intermediate.ipynb -p arm direct"""
    notebook("04_intermediate", scratch, profile="smoke", arm="direct")


@case("papermill-tradeoff-empty-results", "zero_shot.csv", "06_zero_shot", "run it first")
def _pm_tradeoff_empty(scratch: Path) -> None:
    """papermill notebooks/09_tradeoff.ipynb on empty results: names the chapter that writes the table"""
    notebook("09_tradeoff", scratch, profile="smoke")


@case("seed-too-large", "4294967295", "4294967296")
def _seed_too_large(scratch: Path) -> None:
    """configure(seed=2**32): numpy's seeds end at 2**32 - 1"""
    configure(profile="smoke", seed=2**32)


@case("plan-seed-too-large", "'seed'", "at most 4294967295")
def _plan_seed_too_large(scratch: Path) -> None:
    """study.load_plan(<a plan with seed: 4294967296>)"""
    load_plan(_plan(scratch, "profile: smoke\nseed: 4294967296\nnotebooks: [01_setup]\n"))


@case("cli-sweep-seed-too-large", "--seed", "at most 4294967295", "4294967296")
def _cli_sweep_seed_too_large(scratch: Path) -> None:
    """python -m studytools.sweep ... --seed 1,4294967296"""
    cli("studytools.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli", "--arm", "direct", "--seed", "1,4294967296", "--dry-run")


@case("plan-duplicate-notebook", "05_target is listed twice", "list each notebook once")
def _plan_duplicate(scratch: Path) -> None:
    """study.load_plan(<05_target twice, with different parameters>)"""
    load_plan(_plan(scratch, "profile: smoke\nnotebooks:\n  - {notebook: 05_target, parameters: {task: xnli}}\n"
                             "  - {notebook: 05_target, parameters: {task: panx}}\n"))


@case("cli-study-plan-is-directory", "is a directory", "give a YAML plan file")
def _cli_plan_directory(scratch: Path) -> None:
    """python -m helpers.study run <a directory>"""
    (scratch / "plans").mkdir()
    cli("helpers.study", "run", str(scratch / "plans"))


@case("cli-sweep-gpus-on-a-cpu-machine", "--gpus-per-node", "GPUs on this machine", "--executor slurm")
def _cli_sweep_gpus(scratch: Path) -> None:
    """python -m studytools.sweep ... --executor local --gpus-per-node 4 --dry-run (more GPUs than this machine has)"""
    import torch

    gpus = max(4, (torch.cuda.device_count() if torch.cuda.is_available() else 0) + 1)
    cli("studytools.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup", "--task", "xnli",
        "--arm", "direct", "--seed", "1", "--executor", "local", "--gpus-per-node", str(gpus), "--dry-run")


@case("cli-sweep-job-spec-env", "PYTHONSTARTUP", "a spec may set only")
def _cli_sweep_spec_env(scratch: Path) -> None:
    """python -m studytools.sweep job --spec <a spec that sets PYTHONSTARTUP>"""
    spec = {"notebook": "01_setup", "parameters": {"profile": "smoke", "task": "", "arm": "", "seed": 1},
            "output": str(scratch / "out" / "job.ipynb"), "env": {"PYTHONSTARTUP": str(scratch / "startup.py")},
            "gpus": 0}
    cli("studytools.sweep", "job", "--spec", str(write(scratch / "job.json", _json.dumps(spec))))


@case("sweep-debug-failing-job-no-terminal", behaviour=True, allow_writes=True)
def _sweep_debug_no_terminal(scratch: Path) -> str:
    """python -m studytools.sweep --executor debug ... < /dev/null, a job that fails: reported, no (Pdb) prompt"""
    plan = _plan(scratch, "name: dbg\nprofile: smoke\nnotebooks: [09_tradeoff]\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC_DIR), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    proc = subprocess.run(
        [sys.executable, "-m", "studytools.sweep", "--plan", plan, "--notebook", "09_tradeoff", "--task", "xnli",
         "--arm", "direct", "--seed", "1", "--executor", "debug"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=str(runs.PROJECT_ROOT), timeout=300,
    )
    out = proc.stdout + proc.stderr
    if "(Pdb)" in out:
        raise NotClear("the debug executor opened a (Pdb) prompt with no terminal attached")
    failed = [ln for ln in proc.stdout.splitlines() if ln.startswith("failed 09_tradeoff")]
    if proc.returncode != 1 or not failed or "06_zero_shot" not in failed[0]:
        raise NotClear(f"exit {proc.returncode}, expected 1 with a 'failed' line naming 06_zero_shot: "
                       f"{' | '.join(out.strip().splitlines()[-3:])}")
    return f"exit 1, no debugger prompt: {failed[0]}"


# --- issue 15, part C: data files (encodings, BOM, labels, JSON depth, missing task files) -------------
def xtreme_dir(scratch: Path, files: dict[str, bytes]) -> Path:
    """An xtreme-dir folder under ``scratch`` holding ``files`` (relative path -> raw bytes)."""
    root = scratch / "xtreme"
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _copa_line(label: str) -> bytes:
    return (b'{"premise": "Das Glas fiel.", "choice1": "Es zerbrach.", "choice2": "Es sang.", '
            b'"question": "effect", "idx": 1, "label": ' + label.encode() + b"}\n")


@case("data-file-latin1", "test-de.tsv", "line 1", "not UTF-8")
def _data_latin1(scratch: Path) -> None:
    """printf 'a\\xe4\\tb\\tentailment\\n' > xnli/test-de.tsv; python -m helpers.baselines --source xtreme-dir ..."""
    root = xtreme_dir(scratch, {"xnli/test-de.tsv": b"a\xe4\tb\tentailment\n",
                                "xnli/train-en.tsv": b"a\tb\tentailment\n"})
    cli("helpers.baselines", "--source", "xtreme-dir", "--root", str(root), "--task", "xnli")


@case("data-file-latin1-tatoeba", "tatoeba.deu-eng.deu", "line 2", "not UTF-8")
def _data_latin1_tatoeba(scratch: Path) -> None:
    """sources.load_retrieval('tatoeba', 'de', <xtreme-dir whose tatoeba.deu-eng.deu line 2 is Latin-1>)"""
    root = xtreme_dir(scratch, {"tatoeba/v1/tatoeba.deu-eng.deu": b"Hallo.\nGr\xfc\xdfe.\n",
                                "tatoeba/v1/tatoeba.deu-eng.eng": b"Hello.\nGreetings.\n"})
    load_retrieval("tatoeba", "de", get_source("xtreme-dir", str(root)))


@case("data-file-utf16", "test-de.tsv", "line 1", "UTF-16")
def _data_utf16(scratch: Path) -> None:
    """sources.load_examples('panx', 'test', 'de', <panx/test-de.tsv saved as UTF-16>)"""
    root = xtreme_dir(scratch, {"panx/test-de.tsv": "Anna\tB-PER\nlebt\tO\n".encode("utf-16")})
    load_examples("panx", "test", "de", get_source("xtreme-dir", str(root)))


@case("data-file-bom-first-token", behaviour=True)
def _data_bom_token(scratch: Path) -> str:
    """sources.read_tagging(<panx/test-de.tsv starting with a UTF-8 BOM>): the first token has no U+FEFF"""
    root = xtreme_dir(scratch, {"panx/test-de.tsv": "\ufeffAnna\tB-PER\nlebt\tO\n".encode()})
    tokens = read_tagging(root / "panx/test-de.tsv")[0]["tokens"]
    if tokens != ["Anna", "lebt"]:
        raise NotClear(f"the first sentence's tokens are {tokens!r}, expected ['Anna', 'lebt'] (BOM kept)")
    return "a UTF-8 BOM before the first token is dropped: tokens ['Anna', 'lebt']"


@case("data-file-bom-first-text", behaviour=True)
def _data_bom_text(scratch: Path) -> str:
    """load_examples('xnli') and load_retrieval('tatoeba') on files starting with a UTF-8 BOM: texts have no U+FEFF"""
    bom = "\ufeff".encode()
    root = xtreme_dir(scratch, {"xnli/test-de.tsv": bom + "Ein Hund bellt.\tEin Tier bellt.\tentailment\n".encode(),
                                "tatoeba/v1/tatoeba.deu-eng.deu": bom + b"Hallo.\n",
                                "tatoeba/v1/tatoeba.deu-eng.eng": bom + b"Hello.\n"})
    source = get_source("xtreme-dir", str(root))
    first = load_examples("xnli", "test", "de", source)[0]["text_a"]
    rs = load_retrieval("tatoeba", "de", source)
    got = [first, rs.queries[0], rs.candidates[0]]
    if got != ["Ein Hund bellt.", "Hallo.", "Hello."]:
        raise NotClear(f"first texts {got!r} keep the byte-order mark")
    return "a UTF-8 BOM is dropped from the first XNLI premise and both Tatoeba sides"


@case("xcopa-label-float", "test-et.jsonl", "line 2", "1.7", "valid labels: 0, 1")
def _xcopa_label_float(scratch: Path) -> None:
    """sources.load_examples('xcopa', 'test', 'et', <xcopa/test-et.jsonl line 2 has label 1.7>)"""
    root = xtreme_dir(scratch, {"xcopa/test-et.jsonl": _copa_line("0") + _copa_line("1.7")})
    load_examples("xcopa", "test", "et", get_source("xtreme-dir", str(root)))


@case("xcopa-label-true", "test-et.jsonl", "line 1", "True", "valid labels: 0, 1")
def _xcopa_label_true(scratch: Path) -> None:
    """sources.load_examples('xcopa', 'test', 'et', <xcopa/test-et.jsonl line 1 has label true>)"""
    root = xtreme_dir(scratch, {"xcopa/test-et.jsonl": _copa_line("true") + _copa_line("0")})
    load_examples("xcopa", "test", "et", get_source("xtreme-dir", str(root)))


@case("cosmosqa-label-not-integer", "valid.csv", "line 2", "'true'", "valid labels: 0, 1, 2, 3")
def _cosmosqa_label(scratch: Path) -> None:
    """sources.load_examples('cosmosqa', 'dev', 'en', <cosmosqa/valid.csv with label 'true'>)"""
    root = xtreme_dir(scratch, {"cosmosqa/valid.csv": b"id,context,question,answer0,answer1,answer2,answer3,label\n"
                                                      b"c1,ctx,q,a,b,c,d,true\n"})
    load_examples("cosmosqa", "dev", "en", get_source("xtreme-dir", str(root)))


@case("deeply-nested-json", "xquad.de.json", "line 2", "nested too deeply")
def _deep_json(scratch: Path) -> None:
    """sources.load_examples('xquad', 'test', 'de', <xquad.de.json nested 100000 levels deep>)"""
    deep = b'{"data": [\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n]}"
    root = xtreme_dir(scratch, {"xquad/xquad.de.json": deep})
    load_examples("xquad", "test", "de", get_source("xtreme-dir", str(root)))


@case("deeply-nested-jsonl", "test-et.jsonl", "line 2", "nested too deeply")
def _deep_jsonl(scratch: Path) -> None:
    """sources.load_examples('xcopa', 'test', 'et', <line 2 of xcopa/test-et.jsonl nested 100000 levels deep>)"""
    root = xtreme_dir(scratch, {"xcopa/test-et.jsonl": _copa_line("0") + b"[" * 100_000 + b"]" * 100_000 + b"\n"})
    load_examples("xcopa", "test", "et", get_source("xtreme-dir", str(root)))


@case("verify-data-latin1", behaviour=True)
def _verify_data_latin1(scratch: Path) -> str:
    """python -m studytools.verify_data --root <a folder with one Latin-1 XNLI file>: a FAILED row naming the line"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(SRC_DIR), os.environ.get("PYTHONPATH", "")) if p))
    root = xtreme_dir(scratch, {"xnli/dev-de.tsv": b"a\tb\tentailment\na\xe4\tb\tneutral\n",
                                "pawsx/dev-de.tsv": b"a\tb\t1\n"})
    proc = subprocess.run([sys.executable, "-m", "studytools.verify_data", "--root", str(root)], capture_output=True,
                          text=True, env=env, cwd=str(runs.PROJECT_ROOT), timeout=120)
    out = proc.stdout.strip().splitlines()
    row = [line for line in out if line.startswith("xnli/dev-de.tsv")]
    if proc.returncode != 1 or "Traceback" in proc.stderr or not out or out[-1] != "files=2 parsed=0 failed=2":
        raise NotClear(f"exit {proc.returncode}, last lines {out[-1:]} {proc.stderr.strip().splitlines()[-1:]}")
    if not row or "FAILED" not in row[0] or "line 2: byte 0xe4" not in row[0]:
        raise NotClear(f"the Latin-1 file's row does not name line 2 and the byte: {row}")
    return "verify_data lists the Latin-1 file as FAILED (line 2: byte 0xe4 ... is not UTF-8) and checks the rest"


@case("xtreme-dir-no-task-files", "has no test files for", "xnli/test-<lang>.tsv", "no test file of any")
def _xtreme_dir_no_task_files(scratch: Path) -> None:
    """papermill notebooks/02_data.ipynb -p profile xtreme-dir -p data_dir <a folder without task files>"""
    root = xtreme_dir(scratch, {"notes/README.txt": b"my notes, no data yet\n"})
    notebook("02_data", scratch, profile="xtreme-dir", data_dir=str(root))
