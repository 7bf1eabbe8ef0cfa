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
    from .sources import get_source

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
    from .generate import generate_benchmark

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
    from .costs import read_training_cost, record_training_cost, training_cost_row

    common = dict(profile="smoke", arm="direct", phase="target", task="xnli", seed=1, examples=12, tokens=100,
                  steps=3, wall_s=1.0, flops=10, peak_mem_mb=1.0, device="cpu", model="tiny", source="embedded")
    record_training_cost(training_cost_row(**common, recipe="aaaaaaaaaaaa"))
    record_training_cost(training_cost_row(**dict(common, steps=8), recipe="bbbbbbbbbbbb"))
    rows = read_training_cost()
    if sorted(r["steps"] for r in rows) != ["3", "8"]:
        raise NotClear(f"the second recipe's row replaced the first: steps {[r['steps'] for r in rows]}")
    return "two recipes of one run give two training-cost rows (steps 3 and 8)"


def _smoke_xnli_direct(**params: object):
    from .config import configure

    return configure(profile="smoke", task="xnli", arm="direct", **params)


@case("zero-shot-eval-limit-own-key", behaviour=True, allow_writes=True, allow_model=True, prepare=_embedded_source)
def _zero_shot_key(scratch: Path) -> str:
    """pipeline.run_zero_shot_phase (06_zero_shot) with the profile's eval_limit, then -p eval_limit 4: both kept"""
    from .pipeline import run_zero_shot_phase

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
    from .pipeline import target_run
    from .training import target_run_dir

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
    before = {p.name: p.read_bytes() for p in committed.glob("*")} if committed.is_dir() else {}
    saved = os.environ.pop("STUDY_RESULTS_DIR", None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        pm.execute_notebook(str(runs.project_path("notebooks", "05_target.ipynb")), str(scratch / "out.ipynb"),
                            parameters={"profile": "smoke", "task": "xnli", "arm": "direct"},
                            kernel_name="python3", progress_bar=False, cwd=str(scratch))
    finally:
        if saved is not None:
            os.environ["STUDY_RESULTS_DIR"] = saved
        after = {p.name: p.read_bytes() for p in committed.glob("*")} if committed.is_dir() else {}
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
    from .study import load_plan

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
    from .study import load_plan

    load_plan(_plan(scratch, "profile: smoke\nnotebooks:\n  - notebook: 05_target\n    parameter: {task: xnli}\n"))


@case("plan-undeclared-parameter", "unknown parameter 'tasks' for 01_setup", "valid parameters: profile, seed, task")
def _plan_undeclared(scratch: Path) -> None:
    """study.load_plan(<a plan with parameters: {tasks: xnli}>)"""
    from .study import load_plan

    load_plan(_plan(scratch, "profile: smoke\nparameters: {tasks: xnli}\nnotebooks: [01_setup]\n"))


@case("plan-profile-in-parameters", "'profile'", "top level", "profile: smoke")
def _plan_profile_override(scratch: Path) -> None:
    """study.load_plan(<a smoke plan with parameters: {profile: embedded}>)"""
    from .study import load_plan

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
    from .config import configure

    configure(profile="smoke", seed=2**32)


@case("plan-seed-too-large", "'seed'", "at most 4294967295")
def _plan_seed_too_large(scratch: Path) -> None:
    """study.load_plan(<a plan with seed: 4294967296>)"""
    from .study import load_plan

    load_plan(_plan(scratch, "profile: smoke\nseed: 4294967296\nnotebooks: [01_setup]\n"))


@case("cli-sweep-seed-too-large", "--seed", "at most 4294967295", "4294967296")
def _cli_sweep_seed_too_large(scratch: Path) -> None:
    """python -m helpers.sweep ... --seed 1,4294967296"""
    cli("helpers.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup",
        "--task", "xnli", "--arm", "direct", "--seed", "1,4294967296", "--dry-run")


@case("plan-duplicate-notebook", "05_target is listed twice", "list each notebook once")
def _plan_duplicate(scratch: Path) -> None:
    """study.load_plan(<05_target twice, with different parameters>)"""
    from .study import load_plan

    load_plan(_plan(scratch, "profile: smoke\nnotebooks:\n  - {notebook: 05_target, parameters: {task: xnli}}\n"
                             "  - {notebook: 05_target, parameters: {task: panx}}\n"))


@case("cli-study-plan-is-directory", "is a directory", "give a YAML plan file")
def _cli_plan_directory(scratch: Path) -> None:
    """python -m helpers.study run <a directory>"""
    (scratch / "plans").mkdir()
    cli("helpers.study", "run", str(scratch / "plans"))


@case("cli-sweep-gpus-on-a-cpu-machine", "--gpus-per-node", "GPUs on this machine", "--executor slurm")
def _cli_sweep_gpus(scratch: Path) -> None:
    """python -m helpers.sweep ... --executor local --gpus-per-node 4 --dry-run (more GPUs than this machine has)"""
    import torch

    gpus = max(4, (torch.cuda.device_count() if torch.cuda.is_available() else 0) + 1)
    cli("helpers.sweep", "--plan", small_plan(scratch), "--notebook", "01_setup", "--task", "xnli",
        "--arm", "direct", "--seed", "1", "--executor", "local", "--gpus-per-node", str(gpus), "--dry-run")


@case("cli-sweep-job-spec-env", "PYTHONSTARTUP", "a spec may set only")
def _cli_sweep_spec_env(scratch: Path) -> None:
    """python -m helpers.sweep job --spec <a spec that sets PYTHONSTARTUP>"""
    import json as _json

    spec = {"notebook": "01_setup", "parameters": {"profile": "smoke", "task": "", "arm": "", "seed": 1},
            "output": str(scratch / "out" / "job.ipynb"), "env": {"PYTHONSTARTUP": str(scratch / "startup.py")},
            "gpus": 0}
    cli("helpers.sweep", "job", "--spec", str(write(scratch / "job.json", _json.dumps(spec))))


@case("sweep-debug-failing-job-no-terminal", behaviour=True, allow_writes=True)
def _sweep_debug_no_terminal(scratch: Path) -> str:
    """python -m helpers.sweep --executor debug ... < /dev/null, a job that fails: reported, no (Pdb) prompt"""
    plan = _plan(scratch, "name: dbg\nprofile: smoke\nnotebooks: [09_tradeoff]\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC_DIR), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.sweep", "--plan", plan, "--notebook", "09_tradeoff", "--task", "xnli",
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
    from .sources import get_source, load_retrieval

    root = xtreme_dir(scratch, {"tatoeba/v1/tatoeba.deu-eng.deu": b"Hallo.\nGr\xfc\xdfe.\n",
                                "tatoeba/v1/tatoeba.deu-eng.eng": b"Hello.\nGreetings.\n"})
    load_retrieval("tatoeba", "de", get_source("xtreme-dir", str(root)))


@case("data-file-utf16", "test-de.tsv", "line 1", "UTF-16")
def _data_utf16(scratch: Path) -> None:
    """sources.load_examples('panx', 'test', 'de', <panx/test-de.tsv saved as UTF-16>)"""
    from .sources import get_source, load_examples

    root = xtreme_dir(scratch, {"panx/test-de.tsv": "Anna\tB-PER\nlebt\tO\n".encode("utf-16")})
    load_examples("panx", "test", "de", get_source("xtreme-dir", str(root)))


@case("data-file-bom-first-token", behaviour=True)
def _data_bom_token(scratch: Path) -> str:
    """sources.read_tagging(<panx/test-de.tsv starting with a UTF-8 BOM>): the first token has no U+FEFF"""
    from .sources import read_tagging

    root = xtreme_dir(scratch, {"panx/test-de.tsv": "\ufeffAnna\tB-PER\nlebt\tO\n".encode()})
    tokens = read_tagging(root / "panx/test-de.tsv")[0]["tokens"]
    if tokens != ["Anna", "lebt"]:
        raise NotClear(f"the first sentence's tokens are {tokens!r}, expected ['Anna', 'lebt'] (BOM kept)")
    return "a UTF-8 BOM before the first token is dropped: tokens ['Anna', 'lebt']"


@case("data-file-bom-first-text", behaviour=True)
def _data_bom_text(scratch: Path) -> str:
    """load_examples('xnli') and load_retrieval('tatoeba') on files starting with a UTF-8 BOM: texts have no U+FEFF"""
    from .sources import get_source, load_examples, load_retrieval

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
    from .sources import get_source, load_examples

    root = xtreme_dir(scratch, {"xcopa/test-et.jsonl": _copa_line("0") + _copa_line("1.7")})
    load_examples("xcopa", "test", "et", get_source("xtreme-dir", str(root)))


@case("xcopa-label-true", "test-et.jsonl", "line 1", "True", "valid labels: 0, 1")
def _xcopa_label_true(scratch: Path) -> None:
    """sources.load_examples('xcopa', 'test', 'et', <xcopa/test-et.jsonl line 1 has label true>)"""
    from .sources import get_source, load_examples

    root = xtreme_dir(scratch, {"xcopa/test-et.jsonl": _copa_line("true") + _copa_line("0")})
    load_examples("xcopa", "test", "et", get_source("xtreme-dir", str(root)))


@case("cosmosqa-label-not-integer", "valid.csv", "line 2", "'true'", "valid labels: 0, 1, 2, 3")
def _cosmosqa_label(scratch: Path) -> None:
    """sources.load_examples('cosmosqa', 'dev', 'en', <cosmosqa/valid.csv with label 'true'>)"""
    from .sources import get_source, load_examples

    root = xtreme_dir(scratch, {"cosmosqa/valid.csv": b"id,context,question,answer0,answer1,answer2,answer3,label\n"
                                                      b"c1,ctx,q,a,b,c,d,true\n"})
    load_examples("cosmosqa", "dev", "en", get_source("xtreme-dir", str(root)))


@case("deeply-nested-json", "xquad.de.json", "line 2", "nested too deeply")
def _deep_json(scratch: Path) -> None:
    """sources.load_examples('xquad', 'test', 'de', <xquad.de.json nested 100000 levels deep>)"""
    from .sources import get_source, load_examples

    deep = b'{"data": [\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n]}"
    root = xtreme_dir(scratch, {"xquad/xquad.de.json": deep})
    load_examples("xquad", "test", "de", get_source("xtreme-dir", str(root)))


@case("deeply-nested-jsonl", "test-et.jsonl", "line 2", "nested too deeply")
def _deep_jsonl(scratch: Path) -> None:
    """sources.load_examples('xcopa', 'test', 'et', <line 2 of xcopa/test-et.jsonl nested 100000 levels deep>)"""
    from .sources import get_source, load_examples

    root = xtreme_dir(scratch, {"xcopa/test-et.jsonl": _copa_line("0") + b"[" * 100_000 + b"]" * 100_000 + b"\n"})
    load_examples("xcopa", "test", "et", get_source("xtreme-dir", str(root)))


@case("verify-data-latin1", behaviour=True)
def _verify_data_latin1(scratch: Path) -> str:
    """python -m helpers.verify_data --root <a folder with one Latin-1 XNLI file>: a FAILED row naming the line"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(SRC_DIR), os.environ.get("PYTHONPATH", "")) if p))
    root = xtreme_dir(scratch, {"xnli/dev-de.tsv": b"a\tb\tentailment\na\xe4\tb\tneutral\n",
                                "pawsx/dev-de.tsv": b"a\tb\t1\n"})
    proc = subprocess.run([sys.executable, "-m", "helpers.verify_data", "--root", str(root)], capture_output=True,
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
