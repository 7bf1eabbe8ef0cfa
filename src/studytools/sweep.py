"""Scale-out: one job per (task x arm x seed) of a phase notebook, on submitit.

Usage::

    python -m studytools.sweep --plan plans/smoke.yaml --notebook 05_target \\
        --task xnli,panx --arm direct,mnli --seed 1,2 \\
        [--executor local|slurm|debug|auto] [--partition gpu] [--gpus-per-node 4] \\
        [--cpus-per-task 8] [--timeout-min 240] [--max-parallel 16] [--name NAME] [--dry-run]

Every job is a papermill execution of ``notebooks/<notebook>.ipynb`` with the
plan's parameters for that notebook, overridden by the job's ``task``, ``arm``
and ``seed``. Its executed notebook goes to
``runs/sweeps/<name>/<notebook>/task-<task>__arm-<arm>__seed<seed>.ipynb``,
written to a temporary name and renamed (a killed job leaves no half file);
submitit's own logs go to ``runs/sweeps/<name>/logs/``. All combinations are
validated (plan, notebook, profile, task, arm, seed, the notebook's parameter
names, and the values through the notebook's own ``configure(...)`` call)
before anything is submitted: a bad one is one ``error:`` line, exit 2. The
``local`` and ``debug`` executors run on this machine, so ``--gpus-per-node``
cannot ask for more GPUs than it has.

Trust: submitit unpickles the files in ``runs/sweeps/<name>/logs/`` (created
private, mode 0700; a logs folder that other users can write to is refused),
and ``sweep job --spec FILE`` runs the notebook with the spec's parameters and
environment, so a spec is code: only the variables in :data:`PASSED_ENV` are
accepted from it (``PYTHONPATH`` among them). The debug executor opens a
debugger on a failing job only when a terminal is attached; otherwise the
failure is reported like the other executors' failures.

Jobs share the results tables: each notebook writes its rows through
:func:`helpers.runs.upsert_rows`, which rewrites a table under an exclusive
``fcntl`` lock and renames it into place, so concurrent jobs never lose or
corrupt a row (the lock needs a file system with working ``flock``, as the
usual cluster file systems -- NFSv4, Lustre, GPFS -- have). The study
directories (``STUDY_RESULTS_DIR``, ``STUDY_RUNS_DIR``, ``STUDY_CACHE_DIR``,
``STUDY_BOOK_DIR``) and ``HF_HUB_OFFLINE`` of the submitting shell are passed
to every job explicitly, so a job on another node writes where the submitter
reads.

Executors (``submitit.AutoExecutor``):

- ``local``: one process per job on this machine (what the tests use);
- ``slurm``: ``sbatch`` arrays, one task per node; ``--partition``,
  ``--gpus-per-node``, ``--cpus-per-task``, ``--timeout-min``,
  ``--max-parallel`` (the array's parallelism) are passed through;
- ``debug``: in this process, one after the other (for a debugger);
- ``auto``: Slurm when ``sbatch`` is available, else local.

Several GPUs per job: with ``--gpus-per-node N`` (N > 1) a job does not run
papermill itself but launches one process per GPU through Accelerate::

    accelerate launch --multi_gpu --num_processes N -m studytools.sweep job --spec <job.json>

Each process runs the notebook with papermill; the kernel inherits
Accelerate's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR`` variables,
so the ``transformers.Trainer`` inside ``helpers.training`` trains data-parallel
over the N GPUs. Only rank 0 publishes the executed notebook; the other ranks'
copies are discarded. The same command works by hand, e.g. inside an
interactive ``srun --gpus-per-node 4 --pty bash``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import papermill as pm

from helpers import runs
from helpers.errors import MAX_SEED, StudyError, check_choice, check_positive, run_cli
from helpers.study import check_parameters, load_plan

EXECUTORS = ("local", "slurm", "debug", "auto")
SWEPT = ("task", "arm", "seed")
PASSED_ENV = (
    "STUDY_RESULTS_DIR",
    "STUDY_RUNS_DIR",
    "STUDY_CACHE_DIR",
    "STUDY_BOOK_DIR",
    "HF_HUB_OFFLINE",
    "PYTHONHASHSEED",
    "TOKENIZERS_PARALLELISM",
    "PYTHONPATH",
)


@dataclass(frozen=True)
class SweepJob:
    """One papermill execution of a phase notebook with swept parameters."""

    notebook: str
    parameters: dict
    output: str  # the executed notebook (absolute path)
    env: dict = field(default_factory=dict)
    gpus: int = 0

    @property
    def label(self) -> str:
        p = self.parameters
        return f"{self.notebook} task={p['task']} arm={p['arm']} seed={p['seed']}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "SweepJob":
        return cls(**json.loads(text))


def load_spec(path: str | os.PathLike) -> SweepJob:
    """A job spec written by :func:`run_job`, refused (one line) unless it is one the sweep could write.

    A spec is code (it names the notebook and sets the environment of the
    process that runs it), so only the variables of :data:`PASSED_ENV` and a
    notebook of ``notebooks/`` are accepted.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        job = SweepJob(**data)
    except OSError as exc:
        raise StudyError(f"job spec {path} cannot be read: {exc.strerror}; it must be a file that run_job wrote") from None
    except (ValueError, TypeError) as exc:
        raise StudyError(f"job spec {path} is not a sweep job ({exc}); it must be a file that run_job wrote") from None
    unknown = sorted(set(job.env) - set(PASSED_ENV))
    if unknown:
        raise StudyError(f"job spec {path} sets environment variable {unknown[0]!r}; a spec may set only "
                         f"{', '.join(PASSED_ENV)}")
    available = sorted(p.stem for p in runs.project_path("notebooks").glob("*.ipynb"))
    if job.notebook not in available:
        raise StudyError(f"job spec {path} names notebook {job.notebook!r}; valid notebooks: {', '.join(available)}")
    return job


# --------------------------------------------------------------------------- planning
def parse_list(what: str, text: str, *, integer: bool = False) -> tuple:
    """``"a,b"`` -> ``("a", "b")`` (ints when ``integer``); empty or malformed is a StudyError."""
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise StudyError(f"--{what} needs at least one value, comma-separated (e.g. --{what} {'1,2' if integer else 'a,b'})")
    if integer:
        out = []
        for item in items:
            try:
                value = int(item)
            except ValueError:
                raise StudyError(f"--{what} values must be non-negative integers, got {item!r}") from None
            if value < 0:
                raise StudyError(f"--{what} values must be non-negative integers, got {value}")
            if value > MAX_SEED:
                raise StudyError(f"--{what} values must be at most {MAX_SEED} (the seed range of numpy), got {value}")
            out.append(value)
        items = out
    if len(set(items)) != len(items):
        raise StudyError(f"--{what} lists a value twice: {text!r}; give each value once")
    return tuple(items)


def notebook_parameter_names(path: Path) -> tuple[str, ...]:
    """Names assigned in the notebook's cell tagged ``parameters`` (``papermill.inspect_notebook``; no kernel)."""
    nb = nbformat.read(str(path), as_version=4)
    if not any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells if cell.cell_type == "code"):
        raise StudyError(f"notebook {path.name} has no cell tagged 'parameters'; a sweep needs one with {', '.join(SWEPT)}")
    try:
        return tuple(pm.inspect_notebook(str(path)))
    except ValueError as exc:  # papermill needs the kernel to pick its translator
        raise StudyError(f"notebook {path.name} cannot be inspected ({exc}); it must name its kernel, "
                         "e.g. python3, in metadata.kernelspec") from None


def sweep_dir(name: str) -> Path:
    return runs.runs_root() / "sweeps" / name


def plan_sweep(
    plan_path: str | os.PathLike,
    notebook: str,
    tasks: tuple[str, ...],
    arms: tuple[str, ...],
    seeds: tuple[int, ...],
    *,
    name: str | None = None,
    gpus: int = 0,
) -> list[SweepJob]:
    """Validate every combination and return the jobs; nothing runs or is written."""
    plan = load_plan(plan_path)
    steps = {s.notebook: s for s in plan.steps}
    if notebook not in steps:
        raise StudyError(
            f"notebook {notebook!r} is not in plan {plan.name}; valid notebooks: {', '.join(steps)}"
        )
    step = steps[notebook]
    declared = notebook_parameter_names(step.source)
    missing = [p for p in SWEPT if p not in declared]
    if missing:
        raise StudyError(
            f"notebook {notebook} has no parameter {', '.join(missing)}; sweepable notebooks declare "
            f"{', '.join(SWEPT)} (its parameters: {', '.join(declared)})"
        )
    name = name or f"{plan.name}-{notebook}"
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise StudyError(f"sweep name {name!r} must be letters, digits, '-', '_' or '.'")
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    for var, root in (
        ("STUDY_RESULTS_DIR", runs.results_root()),
        ("STUDY_RUNS_DIR", runs.runs_root()),
        ("STUDY_CACHE_DIR", runs.cache_root()),
    ):
        env[var] = str(Path(root).resolve())
    src = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    out_dir = sweep_dir(name).resolve() / notebook
    jobs = []
    for task, arm, seed in itertools.product(tasks, arms, seeds):
        params = {**step.parameters, "task": task, "arm": arm, "seed": seed}
        check_parameters(notebook, params, where=None)  # one StudyError line on a bad combination, before any compute
        out = out_dir / f"task-{task}__arm-{arm}__seed{seed}.ipynb"
        jobs.append(SweepJob(notebook=notebook, parameters=params, output=str(out), env=env, gpus=gpus))
    return jobs


# --------------------------------------------------------------------------- one job
def _rank() -> int:
    for var in ("RANK", "LOCAL_RANK"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def execute_job(job: SweepJob) -> dict:
    """Run the job's notebook with papermill into its output, atomically (rank 0 only)."""
    os.environ.update(job.env)
    source = runs.project_path("notebooks", f"{job.notebook}.ipynb")
    output = Path(job.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    rank = _rank()
    tmp = output.with_name(f".tmp-{output.name}.{os.getpid()}")
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(source),
            str(tmp),
            parameters=job.parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(output.parent),
        )
    except pm.PapermillExecutionError as exc:
        if rank == 0 and tmp.exists():  # keep the failed notebook beside, for reading
            os.replace(tmp, output.with_name(output.stem + ".failed.ipynb"))
        tmp.unlink(missing_ok=True)
        raise StudyError(f"{job.label} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if rank == 0:
        os.replace(tmp, output)
        output.with_name(output.stem + ".failed.ipynb").unlink(missing_ok=True)
    else:
        tmp.unlink(missing_ok=True)
    wall = time.perf_counter() - start
    return {"job": job.label, "output": str(output) if rank == 0 else "", "wall_s": round(wall, 1), "rank": rank}


def run_job(job: SweepJob) -> dict:
    """What a submitit job runs: papermill here, or one process per GPU through Accelerate."""
    os.environ.update(job.env)
    if job.gpus <= 1 or "LOCAL_RANK" in os.environ:
        return execute_job(job)
    spec = Path(job.output).with_suffix(".job.json")
    runs.atomic_write_text(spec, job.to_json())
    accelerate = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    cmd = [accelerate, "launch", "--multi_gpu", "--num_processes", str(job.gpus),
           "-m", "studytools.sweep", "job", "--spec", str(spec)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env={**os.environ, **job.env})
    spec.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise StudyError(f"{job.label}: accelerate launch exited {proc.returncode}; see the job's log")
    return {"job": job.label, "output": job.output, "wall_s": round(time.perf_counter() - start, 1), "rank": 0}


# --------------------------------------------------------------------------- submission
def executor_parameters(
    *,
    partition: str | None = None,
    gpus_per_node: int = 0,
    cpus_per_task: int | None = None,
    timeout_min: int = 240,
    max_parallel: int | None = None,
    name: str = "sweep",
) -> dict:
    """The ``AutoExecutor.update_parameters`` keywords of a sweep (one task per node)."""
    params: dict = {"timeout_min": int(timeout_min), "name": name, "tasks_per_node": 1, "nodes": 1}
    if gpus_per_node:
        params["gpus_per_node"] = int(gpus_per_node)
    if cpus_per_task:
        params["cpus_per_task"] = int(cpus_per_task)
    if partition:
        params["slurm_partition"] = partition
    if max_parallel:
        params["slurm_array_parallelism"] = int(max_parallel)
    return params


def make_executor(executor: str, folder: Path, **options):
    """A configured ``submitit.AutoExecutor`` for ``executor`` (see :func:`executor_parameters`)."""
    import submitit

    check_choice("executor", executor, EXECUTORS)
    ex = submitit.AutoExecutor(folder=str(folder), cluster=None if executor == "auto" else executor)
    ex.update_parameters(**executor_parameters(**options))
    return ex


def run_job_reporting(job: SweepJob) -> dict:
    """:func:`run_job`, with a failure returned as ``{"error": ...}`` instead of raised.

    What the debug executor runs when no terminal is attached: submitit's
    ``DebugJob`` opens ``pdb.post_mortem()`` on an exception, which would wait
    on a prompt nobody can answer.
    """
    try:
        return run_job(job)
    except Exception as exc:  # reported as the job's failure, like the other executors' failures
        return {"job": job.label, "error": str(exc) if isinstance(exc, StudyError) else f"{type(exc).__name__}: {exc}"}


def has_terminal() -> bool:
    """Whether a person can answer a debugger prompt (stdin and stdout are terminals)."""
    return sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()


def local_gpus() -> int:
    """CUDA devices visible on this machine (0 without torch's CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_local_gpus(executor: str, gpus_per_node: int) -> None:
    """Jobs of ``local`` and ``debug`` (and ``auto`` without Slurm) run here: refuse more GPUs than here."""
    here = executor in ("local", "debug") or (executor == "auto" and shutil.which("sbatch") is None)
    if not here or gpus_per_node <= 0:
        return
    found = local_gpus()
    if gpus_per_node > found:
        where = executor if executor != "auto" else "auto (local here: no sbatch)"
        raise StudyError(f"--gpus-per-node {gpus_per_node} needs {gpus_per_node} GPUs on this machine for the "
                         f"{where} executor, but it has {found}; give --gpus-per-node {found} or use --executor slurm")


def private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) or accept it when only this user can write to it.

    submitit unpickles what it finds in its logs folder: a folder that another
    user can write to would let them run code in the sweep.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = path.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise StudyError(f"sweep logs folder {path} is writable by other users (mode {oct(info.st_mode & 0o777)}, "
                         f"owner uid {info.st_uid}); submitit unpickles its files, so it must be yours alone "
                         f"(chmod go-w) or give another --name")
    return path


def submit(jobs: list[SweepJob], executor, func=None) -> list:
    """Submit every job (as one array where the executor supports it); returns submitit jobs."""
    with executor.batch():
        handles = [executor.submit(func or run_job, job) for job in jobs]
    return handles


def wait(handles: list, jobs: list[SweepJob]) -> list[tuple[SweepJob, str, str]]:
    """Wait for every job; returns (job, "done" | "failed", detail)."""
    out = []
    for handle, job in zip(handles, jobs):
        try:
            result = handle.result()
            if "error" in result:  # run_job_reporting's failure
                out.append((job, "failed", result["error"]))
                continue
            out.append((job, "done", f"{result['wall_s']} s"))
        except Exception as exc:  # a job's failure is reported, the others still count
            lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
            study = [ln for ln in lines if "StudyError" in ln]
            detail = (study or lines or [type(exc).__name__])[-1].strip()
            detail = detail.split("StudyError: ", 1)[-1]
            out.append((job, "failed", detail))
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["job"]:  # inside an accelerate-launched process
        p = argparse.ArgumentParser(prog="python -m studytools.sweep job")
        p.add_argument("--spec", required=True)
        args = p.parse_args(argv[1:])
        execute_job(load_spec(args.spec))
        return 0
    parser = argparse.ArgumentParser(prog="python -m studytools.sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", required=True, help="the plan whose parameters the notebook gets")
    parser.add_argument("--notebook", required=True, help="the phase notebook, e.g. 05_target")
    parser.add_argument("--task", required=True, help="comma-separated target tasks")
    parser.add_argument("--arm", required=True, help="comma-separated arms")
    parser.add_argument("--seed", required=True, help="comma-separated seeds")
    parser.add_argument("--executor", default="local", help=f"one of {', '.join(EXECUTORS)} (default local)")
    parser.add_argument("--partition", default=None, help="Slurm partition")
    parser.add_argument("--gpus-per-node", type=int, default=0, help="GPUs per job (>1: accelerate launch)")
    parser.add_argument("--cpus-per-task", type=int, default=None)
    parser.add_argument("--timeout-min", type=int, default=240)
    parser.add_argument("--max-parallel", type=int, default=None, help="Slurm array parallelism")
    parser.add_argument("--name", default=None, help="sweep name (default <plan>-<notebook>)")
    parser.add_argument("--dry-run", action="store_true", help="validate and list the jobs, submit nothing")
    args = parser.parse_args(argv)
    check_choice("executor", args.executor, EXECUTORS)
    if args.gpus_per_node < 0:
        raise StudyError(f"--gpus-per-node must be 0 or a positive integer, got {args.gpus_per_node}")
    check_local_gpus(args.executor, args.gpus_per_node)
    check_positive("--timeout-min", args.timeout_min, integer=True)
    if args.max_parallel is not None:
        check_positive("--max-parallel", args.max_parallel, integer=True)
    jobs = plan_sweep(
        args.plan,
        args.notebook,
        parse_list("task", args.task),
        parse_list("arm", args.arm),
        parse_list("seed", args.seed, integer=True),
        name=args.name,
        gpus=args.gpus_per_node,
    )
    name = Path(jobs[0].output).parent.parent.name
    for job in jobs:
        print(f"job {job.label} -> {job.output}", flush=True)
    if args.dry_run:
        print(f"sweep {name}: {len(jobs)} jobs (dry run, nothing submitted)")
        return 0
    executor = make_executor(
        args.executor,
        private_dir(sweep_dir(name) / "logs"),
        partition=args.partition,
        gpus_per_node=args.gpus_per_node,
        cpus_per_task=args.cpus_per_task,
        timeout_min=args.timeout_min,
        max_parallel=args.max_parallel,
        name=name,
    )
    start = time.perf_counter()
    quiet_debug = args.executor == "debug" and not has_terminal()
    handles = submit(jobs, executor, run_job_reporting if quiet_debug else run_job)
    print(f"sweep {name}: submitted {len(handles)} jobs to {args.executor} "
          f"({', '.join(str(h.job_id) for h in handles)})", flush=True)
    outcome = wait(handles, jobs)
    for job, state, detail in outcome:
        print(f"{state} {job.label}: {detail}", flush=True)
    failed = sum(state != "done" for _, state, _ in outcome)
    print(f"sweep {name}: {len(jobs)} jobs, {len(jobs) - failed} done, {failed} failed, "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
