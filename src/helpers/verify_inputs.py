"""The bad-input suite: every bad input is one clear line, before any compute.

``python -m helpers.verify_inputs`` (``make verify-inputs``) feeds one bad input
per case to a real public entry point -- a helper function, a command line, a
notebook executed by papermill -- and checks that the answer is a
:class:`helpers.errors.StudyError` whose message

- is one line (no traceback),
- names what is valid (the word "valid", "expected", "must ...", or the list
  of choices the case pins), and contains the case's pinned fragments,

and that it came before any compute: each case runs with ``STUDY_RESULTS_DIR``,
``STUDY_RUNS_DIR``, ``STUDY_CACHE_DIR`` and ``STUDY_BOOK_DIR`` pointing at fresh
empty directories that must still be empty afterwards, and (in-process) no
``torch.nn.Module`` may have been built. It prints one line per case, then
exactly ``cases=<n> clear_errors=<n>``, and exits 1 when any case is not a
clear error. ``--case NAME`` (repeatable) runs only some cases; ``--list``
names them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from . import runs
from .errors import StudyError, run_cli

ENV_DIRS = {
    "STUDY_RESULTS_DIR": "results",
    "STUDY_RUNS_DIR": "runs",
    "STUDY_CACHE_DIR": "cache",
    "STUDY_BOOK_DIR": "book",
}
VALID_WORDS = re.compile(r"\bvalid\b|\bexpected\b|\bmust\b|\bone of\b|\bneeds\b|\bgive\b", re.IGNORECASE)
SRC_DIR = Path(__file__).resolve().parents[1]


class NotClear(Exception):
    """A case's entry point answered, but not with a clear one-line error."""


class Pending(Exception):
    """The public API a case needs has not landed yet (counted as not clear)."""


@dataclass(frozen=True)
class Case:
    name: str
    func: Callable[[Path], None]
    expect: tuple[str, ...] = ()  # fragments the message must contain (the bad value, the choices)
    allow_model: bool = False  # loading a checkpoint may build the model before reading weights
    description: str = ""
    prepare: Callable[[], None] | None = None  # warms a re-creatable cache before the snapshot
    behaviour: bool = False  # the right answer is correct behaviour, not an error (see ``case``)
    allow_writes: bool = False  # a behaviour case may write into the study directories it owns


@dataclass
class Outcome:
    name: str
    clear: bool
    message: str
    reason: str = ""
    seconds: float = 0.0
    pending: str = ""  # a helpers module the case needs has not landed


CASES: list[Case] = []


def case(name: str, *expect: str, allow_model: bool = False, prepare: Callable[[], None] | None = None,
         behaviour: bool = False, allow_writes: bool = False):
    """Register a case: a function of a scratch directory that triggers one bad input.

    Most cases must end in a clear :class:`StudyError`. A ``behaviour`` case is
    an input whose right answer is not an error (a user's folder left intact, a
    result stored under its own key): its function checks the behaviour itself,
    raises :class:`NotClear` when it is wrong, and returns one line saying what
    it observed. ``allow_writes`` lets it write into the study directories.
    """

    def register(func: Callable[[Path], None]) -> Callable[[Path], None]:
        if any(c.name == name for c in CASES):
            raise RuntimeError(f"duplicate case {name}")
        doc = (func.__doc__ or "").strip().splitlines()
        CASES.append(Case(name, func, tuple(expect), allow_model, doc[0] if doc else "", prepare,
                          behaviour, allow_writes))
        return func

    return register


# --------------------------------------------------------------------------- checks
def problems_with_message(message: str, expect: tuple[str, ...] = ()) -> list[str]:
    """Why ``message`` is not a clear error line ([] when it is)."""
    out = []
    if not message.strip():
        out.append("empty message")
    if "\n" in message:
        out.append("more than one line")
    if "Traceback" in message:
        out.append("contains a traceback")
    if len(message) > 600:
        out.append(f"{len(message)} characters long")
    missing = [e for e in expect if e not in message]
    if missing:
        out.append(f"does not mention {missing}")
    if not VALID_WORDS.search(message) and not expect:
        out.append("does not name what is valid")
    return out


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())


@contextlib.contextmanager
def study_dirs(base: Path) -> Iterator[dict[str, Path]]:
    """Point the four study directories at fresh empty ones under ``base``."""
    old = {k: os.environ.get(k) for k in ENV_DIRS}
    dirs = {}
    for var, sub in ENV_DIRS.items():
        d = base / sub
        d.mkdir(parents=True, exist_ok=True)
        dirs[var] = d
        os.environ[var] = str(d)
    try:
        yield dirs
    finally:
        for var, value in old.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


@contextlib.contextmanager
def count_modules() -> Iterator[list[int]]:
    """Count ``torch.nn.Module`` constructions inside the block."""
    import torch

    counter = [0]
    original = torch.nn.Module.__init__

    def counting(self, *args, **kwargs):
        counter[0] += 1
        return original(self, *args, **kwargs)

    torch.nn.Module.__init__ = counting
    try:
        yield counter
    finally:
        torch.nn.Module.__init__ = original


def run_case(c: Case) -> Outcome:
    """Run one case in fresh directories and judge its answer."""
    base = Path(tempfile.mkdtemp(prefix=f"verify-{c.name}-"))
    scratch = base / "scratch"
    scratch.mkdir()
    start = time.perf_counter()
    message, reasons, pending = "", [], ""
    try:
        with study_dirs(base / "study") as dirs:
            if c.prepare is not None:  # caches that exist before the bad input are allowed
                c.prepare()
            before = {var: _files_under(d) for var, d in dirs.items()}
            with count_modules() as built:
                try:
                    observed = c.func(scratch)
                    if c.behaviour:
                        message = str(observed or "").split("\n")[0]
                        if not message:
                            reasons.append("behaviour case returned no observation")
                    else:
                        reasons.append("no error raised")
                except StudyError as exc:
                    message = str(exc)
                    if c.behaviour:
                        reasons.append("raised StudyError where correct behaviour was expected")
                    else:
                        reasons += problems_with_message(message, c.expect)
                except NotClear as exc:
                    message = str(exc)
                    reasons.append("wrong behaviour" if c.behaviour else "not a clear error")
                except ModuleNotFoundError as exc:
                    if not (exc.name or "").startswith("helpers."):
                        raise
                    pending = exc.name
                    message = f"pending: {exc.name} has not landed"
                    reasons.append(message)
                except Pending as exc:
                    pending = str(exc)
                    message = f"pending: {exc}"
                    reasons.append(message)
                except Exception as exc:  # the wrong kind of error is a finding, not a crash
                    message = f"{type(exc).__name__}: {exc}".split("\n")[0]
                    reasons.append(f"raised {type(exc).__name__}, not StudyError")
            if built[0] and not c.allow_model:
                reasons.append(f"built {built[0]} torch modules before failing")
            for var, d in dirs.items():
                if c.allow_writes:
                    break
                new = sorted(set(_files_under(d)) - set(before[var]))
                if new:
                    reasons.append(f"wrote {len(new)} files under {var} ({', '.join(new[:3])})")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return Outcome(c.name, not reasons, message, "; ".join(reasons), time.perf_counter() - start, pending)


# --------------------------------------------------------------------------- drivers used by the cases
def cli(*args: str, timeout: float = 300) -> None:
    """Run ``python -m <args>``; a clear error (exit 2, one ``error:`` line) is re-raised as StudyError."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC_DIR), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(runs.PROJECT_ROOT),
        timeout=timeout,
    )
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    if proc.returncode != 2:
        raise NotClear(f"exit status {proc.returncode}, expected 2; stderr: {' | '.join(err[-3:])}")
    if "Traceback" in proc.stderr or len(err) != 1 or not err[0].startswith("error: "):
        raise NotClear(f"stderr is not one 'error: ...' line: {' | '.join(err[-3:])}")
    raise StudyError(err[0][len("error: "):])


def notebook(name: str, scratch: Path, **parameters: object) -> None:
    """Execute ``notebooks/<name>.ipynb`` with ``parameters`` through papermill.

    A clear error is a ``StudyError`` raised in the validation cell (the one
    after the injected parameters), shown as the single line
    ``StudyError: ...``, with no later cell executed; it is re-raised here.
    """
    import nbformat
    import papermill as pm

    source = runs.project_path("notebooks", f"{name}.ipynb")
    out = scratch / f"{name}.ipynb"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        pm.execute_notebook(
            str(source), str(out), parameters=parameters, kernel_name="python3",
            progress_bar=False, cwd=str(scratch),
        )
    except pm.PapermillExecutionError as exc:
        nb = nbformat.read(str(out), as_version=4)
        cells = nb.cells
        injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.metadata.get("tags", [])]
        failed = [i for i, c in enumerate(cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        if exc.ename != "StudyError":
            raise NotClear(f"{name} failed with {exc.ename}: {exc.evalue}".split("\n")[0]) from None
        after = [i for i, c in enumerate(cells) if injected and i > injected[0] and c.cell_type == "code"]
        if not injected or not after or failed != after[:1]:
            raise NotClear(f"{name} failed in cell {failed}, not in the validation cell after the parameters")
        if "configure(" not in cells[failed[0]].source:
            raise NotClear(f"{name}: the failing cell does not call configure(...)")
        error = [o for o in cells[failed[0]].outputs if o.get("output_type") == "error"][0]
        if list(error.get("traceback", [])) != [f"StudyError: {exc.evalue}"]:
            raise NotClear(f"{name}: the error is not rendered as one 'StudyError: ...' line")
        later = [i for i, c in enumerate(cells) if i > failed[0] and c.cell_type == "code" and c.get("execution_count")]
        if later:
            raise NotClear(f"{name}: cells {later} ran after the validation cell failed")
        raise StudyError(exc.evalue) from None
    raise NotClear(f"{name} ran to the end with parameters {parameters}")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def small_plan(scratch: Path) -> str:
    """A valid smoke plan of the setup chapter only (independent of the other notebooks)."""
    return str(write(scratch / "small.yaml", "name: small\nprofile: smoke\nseed: 1\nnotebooks: [01_setup]\n"))


# =========================================================================== the cases
# --- parameters through configure -------------------------------------------------------------
@case("unknown-profile", "'nosuch'", "valid profiles: smoke, embedded, xtreme-dir, full")
def _unknown_profile(scratch: Path) -> None:
    """configure(profile='nosuch')"""
    from .config import configure

    configure(profile="nosuch")


@case("unknown-task", "'nosuch'", "valid tasks:", "xnli")
def _unknown_task(scratch: Path) -> None:
    """configure(profile='smoke', task='nosuch')"""
    from .config import configure

    configure(profile="smoke", task="nosuch")


@case("unknown-task-registry", "'nosuch'", "valid tasks:", "xnli", "tatoeba")
def _unknown_task_registry(scratch: Path) -> None:
    """tasks.get_task('nosuch')"""
    from .tasks import get_task

    get_task("nosuch")


@case("unknown-arm", "'qqp'", "valid arms: direct, mnli")
def _unknown_arm(scratch: Path) -> None:
    """configure(profile='smoke', arm='qqp')"""
    from .config import configure

    configure(profile="smoke", arm="qqp")


@case("unknown-model-preset", "'xlmr-huge'", "xlmr-large", "tiny")
def _unknown_model(scratch: Path) -> None:
    """configure(model='xlmr-huge') -> models.get_preset"""
    from .config import configure

    configure(profile="smoke", model="xlmr-huge")


@case("unknown-model-preset-load", "'xlmr-huge'", "xlmr-base", "e5-small")
def _unknown_model_load(scratch: Path) -> None:
    """models.load_model('xlmr-huge')"""
    from .models import load_model

    load_model("xlmr-huge")


@case("negative-seed", "seed", "-3")
def _negative_seed(scratch: Path) -> None:
    """configure(seed=-3)"""
    from .config import configure

    configure(profile="smoke", seed=-3)


@case("wrong-type-eval-limit", "eval_limit", "int")
def _eval_limit_type(scratch: Path) -> None:
    """configure(eval_limit='ten')"""
    from .config import configure

    configure(profile="smoke", eval_limit="ten")


# --- languages ----------------------------------------------------------------------------------
@case("unknown-language", "'xx'", "valid", "de", "sw")
def _unknown_language(scratch: Path) -> None:
    """tasks.check_language('xnli', 'xx')"""
    from .tasks import check_language

    check_language("xnli", "xx")


def _embedded_source() -> None:
    from .sources import get_source

    get_source("embedded")


# --- training hyper-parameters (recipes) -----------------------------------------------------------
def override_recipe(**changes: object):
    """The smoke xnli target recipe with ``changes``, through the public override API.

    That is ``helpers.training.override_recipe(recipe, ["FIELD=VALUE", ...])``,
    what ``python -m helpers.training ... --set FIELD=VALUE`` calls; a recipe
    must refuse a value that cannot train (``Recipe.validate()`` is called too
    where it exists).
    """
    import json as _json

    from .recipes import get_recipe
    from .training import override_recipe as override

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
    from .recipes import get_recipe

    get_recipe("smoke", "tatoeba", "target")


@case("retrieval-task-training", "tatoeba", "trainable tasks", "xnli", prepare=_embedded_source)
def _retrieval_training(scratch: Path) -> None:
    """training.train_target('tatoeba', 'direct', 'tiny', profile='smoke', ...)"""
    from .sources import get_source
    from .training import train_target

    train_target("tatoeba", "direct", "tiny", profile="smoke", source=get_source("embedded"), seed=1)


# --- data directories -------------------------------------------------------------------------------
@case("missing-data-dir", "data_dir", "/nonexistent/xtreme-data")
def _missing_data_dir(scratch: Path) -> None:
    """configure(profile='xtreme-dir', data_dir='/nonexistent/xtreme-data')"""
    from .config import configure

    configure(profile="xtreme-dir", data_dir="/nonexistent/xtreme-data")


@case("empty-data-dir", "is empty", "xnli/")
def _empty_data_dir(scratch: Path) -> None:
    """configure(profile='xtreme-dir', data_dir=<an empty directory>)"""
    from .config import configure

    empty = scratch / "xtreme-empty"
    empty.mkdir()
    configure(profile="xtreme-dir", data_dir=str(empty))


@case("xtreme-dir-without-data-dir", "needs data_dir")
def _no_data_dir(scratch: Path) -> None:
    """configure(profile='xtreme-dir') without data_dir"""
    from .config import configure

    configure(profile="xtreme-dir")


# --- data files ---------------------------------------------------------------------------------------
@case("truncated-squad-json", "xquad.de.json", "line ")
def _truncated_squad(scratch: Path) -> None:
    """sources.load_examples('xquad', 'test', 'de', <xtreme-dir with xquad.de.json cut in half>)"""
    import json as _json

    from .sources import get_source, load_examples

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
    from .sources import get_source, load_examples

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
    """training.load_model(<a run dir whose model.safetensors is cut in half>, 'sequence-classification')"""
    from .training import load_model

    run = tiny_run_dir(scratch / "direct___xnli" / "seed1")
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    load_model(run, "sequence-classification", 3)


# --- plans --------------------------------------------------------------------------------------------
@case("plan-bad-yaml", "not valid YAML", "at line 5")
def _plan_bad_yaml(scratch: Path) -> None:
    """study.load_plan(<a plan with an unclosed bracket>)"""
    from .study import load_plan

    load_plan(write(scratch / "bad.yaml", "name: bad\nprofile: smoke\nnotebooks: [01_setup, \n  02_data\nseed: [\n"))


@case("plan-unknown-key", "unknown keys ['notebook']", "valid keys")
def _plan_unknown_key(scratch: Path) -> None:
    """study.load_plan(<a plan with 'notebook:' for 'notebooks:'>)"""
    from .study import load_plan

    load_plan(write(scratch / "typo.yaml", "profile: smoke\nnotebook: [01_setup]\nnotebooks: [01_setup]\n"))


@case("plan-unknown-notebook", "'05_targets'", "valid notebooks", "01_setup")
def _plan_unknown_notebook(scratch: Path) -> None:
    """study.load_plan(<a plan naming notebook 05_targets>)"""
    from .study import load_plan

    load_plan(write(scratch / "nb.yaml", "profile: smoke\nnotebooks: [01_setup, 05_targets]\n"))


@case("plan-unknown-profile", "'tiny'", "valid profiles")
def _plan_unknown_profile(scratch: Path) -> None:
    """study.load_plan(<a plan with profile: tiny>)"""
    from .study import load_plan

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
    """python -m helpers.sweep ... --task xnli,nosuch"""
    cli("helpers.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli,nosuch", "--arm", "direct", "--seed", "1")


@case("cli-sweep-unknown-executor", "'kubernetes'", "valid executors: local, slurm, debug, auto")
def _cli_sweep_executor(scratch: Path) -> None:
    """python -m helpers.sweep ... --executor kubernetes"""
    cli("helpers.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli", "--arm", "direct", "--seed", "1", "--executor", "kubernetes")


@case("cli-sweep-bad-seed", "--seed", "'one'")
def _cli_sweep_seed(scratch: Path) -> None:
    """python -m helpers.sweep ... --seed 1,one"""
    cli("helpers.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli", "--arm", "direct", "--seed", "1,one")


@case("cli-sweep-notebook-not-in-plan", "'07_nosuch'", "valid notebooks: 01_setup")
def _cli_sweep_notebook(scratch: Path) -> None:
    """python -m helpers.sweep --notebook 07_nosuch ..."""
    cli("helpers.sweep", "--plan", small_plan(scratch), "--notebook", "07_nosuch",
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


# --- issue 15, part A: outputs a command does not own, results keys, training values -------------------
# (cases for --data-dir / --run-dir refusal, results keys, non-finite values, seeds, model messages)


# --- issue 15, part B: plans, notebook parameters, the driver and sweeps ------------------------------
# (cases for misspelled parameters, plan/profile conflicts, whole-plan validation, duplicate notebooks)


# --- issue 15, part C: data files (encodings, BOM, labels, JSON depth, missing task files) -------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.verify_inputs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", default=[], help="run only this case (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", default=None, help="also write the outcomes to this JSON file")
    args = parser.parse_args(argv)
    names = [c.name for c in CASES]
    if args.list:
        for c in CASES:
            print(f"{c.name}: {c.description}")
        return 0
    for name in args.case:
        if name not in names:
            raise StudyError(f"unknown case {name!r}; valid cases: {', '.join(names)}")
    chosen = [c for c in CASES if not args.case or c.name in args.case]
    outcomes = []
    for c in chosen:
        o = run_case(c)
        outcomes.append(o)
        mark = "ok     " if o.clear else ("PENDING" if o.pending else "UNCLEAR")
        print(f"{mark} {o.name}: {o.message}" + ("" if o.clear else f"  [{o.reason}]"), flush=True)
    if args.json:
        runs.atomic_write_json(args.json, [o.__dict__ for o in outcomes])
    clear = sum(o.clear for o in outcomes)
    print(f"cases={len(outcomes)} clear_errors={clear}")
    return 0 if clear == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
