"""Training on a tiny XLM-R-shaped encoder: complete run dirs, caching, determinism,
STILTs transfer, multi-task mixing, resume after SIGKILL, 2-process CPU training."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "training"
sys.path.insert(0, str(FIXTURES))

import tiny  # noqa: E402

from helpers import costs, distributed, models, multitask, recipes, runs, tasks, trainer, training  # noqa: E402
from helpers.errors import StudyError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# A few more steps than the smoke recipe so that something is learnt and checkpoints exist.
RECIPE = dataclasses.replace(recipes.get_recipe("smoke", "xnli", "target"), max_steps=None, epochs=2, eval_every=3)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> str:
    return tiny.write_pretrained(tmp_path_factory.mktemp("pre") / "tiny")


def _weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(run_dir / "model.safetensors"))


def test_target_run_is_complete_cached_and_deterministic(pretrained, isolated_results):
    src = tiny.FakeSource()
    a = training.train_target("xnli", "direct", pretrained, profile="smoke", source=src, seed=1, recipe=RECIPE)
    assert a.run_dir == isolated_results / "runs" / "smoke" / "direct___xnli" / "seed1"
    names = sorted(p.name for p in a.run_dir.iterdir())
    for required in ("model.safetensors", "config.json", "tokenizer.json", "params.json", "versions.json",
                     "metrics.json", "cost.json"):
        assert required in names
    assert not any(n.endswith((".bin", ".pt", ".pth")) or n.startswith(("checkpoint", "optimizer")) for n in names)
    assert not Path(str(a.run_dir) + ".work").exists()  # checkpoints deleted after success
    assert a.best_step in (3, 6) and a.cost["steps"] == 6 and a.cost["examples"] == 12
    assert a.cost["tokens"] > 0 and a.cost["flops"] > 0
    assert set(a.metrics) == {"accuracy", "loss"}
    params = json.loads((a.run_dir / "params.json").read_text())
    assert params["recipes"][0]["learning_rate"] == RECIPE.learning_rate and params["init"] == pretrained
    (row,) = costs.read_training_cost()
    assert (row["profile"], row["arm"], row["phase"], row["task"], row["seed"]) == ("smoke", "direct", "target", "xnli", "1")

    cached = training.train_target("xnli", "direct", pretrained, profile="smoke", source=src, seed=1, recipe=RECIPE)
    assert cached.cached and cached.metrics == a.metrics and cached.best_step == a.best_step

    # the same run elsewhere gives the same metrics and bit-identical weights (CPU determinism)
    b = training.train_target("xnli", "direct", pretrained, profile="smoke", source=src, seed=1, recipe=RECIPE,
                              run_dir=isolated_results / "again")
    assert not b.cached and b.metrics == a.metrics
    wa, wb = _weights(a.run_dir), _weights(b.run_dir)
    assert wa.keys() == wb.keys() and all((wa[k] == wb[k]).all() for k in wa)

    # a run directory written by other training code (another code digest) is trained again, not reused
    assert params["code"] == runs.code_digest()
    params["code"] = "0" * 64
    (a.run_dir / "params.json").write_text(json.dumps(params))
    redone = training.train_target("xnli", "direct", pretrained, profile="smoke", source=src, seed=1, recipe=RECIPE)
    assert not redone.cached and redone.metrics == a.metrics
    assert json.loads((a.run_dir / "params.json").read_text())["code"] == runs.code_digest()


def test_stilts_transfer_keeps_the_encoder_and_adds_a_new_head(pretrained, isolated_results):
    src = tiny.FakeSource()
    inter = training.train_intermediate("mnli", profile="smoke", source=src, seed=1, init=pretrained, recipe=RECIPE)
    assert inter.run_dir == isolated_results / "runs" / "smoke" / "mnli" / "seed1"
    enc = _weights(inter.run_dir)
    assert not any("classifier" in k for k in enc)  # the encoder only
    assert any(k.endswith("word_embeddings.weight") for k in enc)
    model = models.load_trainable(inter.run_dir, "token-classification", 7)
    state = model.state_dict()
    key = next(k for k in enc if k.endswith("encoder.layer.0.attention.self.query.weight"))
    assert (state["roberta." + key.removeprefix("roberta.")] == enc[key]).all()
    out = training.train_target("panx", "mnli", str(inter.run_dir), profile="smoke", source=src, seed=1, recipe=RECIPE)
    assert out.run_dir == isolated_results / "runs" / "smoke" / "mnli___panx" / "seed1"
    assert set(out.metrics) == {"f1", "loss"}


def test_mlqa_shares_the_squad_model_and_retrieval_is_refused(pretrained, isolated_results):
    assert training.target_run_dir("mnli", "mlqa", 2) == training.target_run_dir("mnli", "xquad", 2)
    assert training.target_stages("xcopa", "embedded") == (("copa", "train", "dev"),)
    assert training.target_stages("xcopa", "full")[0][0] == "siqa"
    for task in ("tatoeba", "lareqa", "mewslix"):
        with pytest.raises(StudyError, match="retrieval task and is not trained.*xnli, xcopa, udpos, panx, xquad, mlqa, tydiqa$"):
            training.train_target(task, "direct", pretrained, profile="smoke", source=tiny.FakeSource(), seed=1)
    with pytest.raises(StudyError, match="valid profiles"):
        training.train_target("xnli", "direct", pretrained, profile="huge", source=tiny.FakeSource(), seed=1)
    assert not (isolated_results / "runs").exists()  # refused before any compute


def test_target_stages_cover_the_registry_targets():
    """Every target the registry trains a model for has its stages, and only those; the task lists
    of training are the registry's."""
    assert set(training.TARGET_DATA) == set(tasks.own_model_targets())
    assert training.SHARED_TARGET == {"mlqa": "xquad"}
    assert set(training.RETRIEVAL) == {"tatoeba", "lareqa", "mewslix"}
    for target in tasks.trainable_targets():
        stages = training.target_stages(target, "full")
        assert all(tasks.get_task(data_task) and split == "train" for data_task, split, _ in stages)
    assert training.target_stages("tydiqa", "smoke") == (("tydiqa", "train", None),)


def test_mixing_weights_and_schedule():
    w = multitask.mixing_weights({"mnli": 1000, "squad": 100, "copa": 10}, cap=100)
    assert w == pytest.approx({"mnli": 100 / 210, "squad": 100 / 210, "copa": 10 / 210})
    w2 = multitask.mixing_weights({"a": 400, "b": 100}, temperature=2.0)
    assert w2 == pytest.approx({"a": 20 / 30, "b": 10 / 30})
    s1 = multitask.mixture_schedule({"a": 5, "b": 3}, 2, 10, seed=3)
    assert s1 == multitask.mixture_schedule({"a": 5, "b": 3}, 2, 10, seed=3)
    assert all(len(idx) == 2 and all(0 <= i < {"a": 5, "b": 3}[t] for i in idx) for t, idx in s1)
    assert {t for t, _ in s1} == {"a", "b"}
    with pytest.raises(StudyError, match="temperature must be positive"):
        multitask.mixing_weights({"a": 1}, temperature=0)


def test_multitask_saves_a_shared_encoder(pretrained, isolated_results):
    src = tiny.FakeSource()
    res = multitask.train_multitask(["mnli", "squad", "hellaswag"], profile="smoke", source=src, seed=1,
                                   init=pretrained, recipe=RECIPE)
    assert res.run_dir == isolated_results / "runs" / "smoke" / "multi" / "seed1"
    assert set(res.metrics) == {"mnli", "squad", "hellaswag", "mean"}
    assert res.cost["steps"] == 18  # 2 epochs x 36 examples / batch 4
    assert not any("heads" in k for k in _weights(res.run_dir))
    cached = multitask.train_multitask(["mnli", "squad", "hellaswag"], profile="smoke", source=src, seed=1,
                                      init=pretrained, recipe=RECIPE)
    assert cached.cached and cached.metrics == res.metrics


def _cli(tmp: Path, pretrained: str, run_dir: Path, *prefix: str, sets: tuple[str, ...] = ()) -> list[str]:
    data = tiny.FakeSource().write_json(tmp / "data", ["xnli"])
    return [*prefix, "target", "--task", "xnli", "--arm", "direct", "--init", pretrained, "--profile", "smoke",
            "--source", f"json:{data}", "--seed", "1", "--run-dir", str(run_dir),
            "--set", "max_steps=8", "--set", "eval_every=2", "--set", "epochs=3",
            *[arg for item in sets for arg in ("--set", item)]]


def _env(tmp: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), HF_HUB_OFFLINE="1", STUDY_RESULTS_DIR=str(tmp / "results"),
               STUDY_RUNS_DIR=str(tmp / "runs"), TOKENIZERS_PARALLELISM="false")
    return env


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_metrics(pretrained, tmp_path):
    # With the embedding matrix frozen, as the embedded profile trains: checkpoints then leave it out
    # (CountingTrainer._save) and the resume must still end where the uninterrupted run ends.
    python = [sys.executable, "-m", "helpers.training"]
    frozen = ("freeze_embeddings=true",)
    whole = subprocess.run(_cli(tmp_path, pretrained, tmp_path / "whole", *python, sets=frozen), env=_env(tmp_path),
                           capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr[-2000:]
    expected = json.loads(whole.stdout.strip().splitlines()[-1])

    run_dir = tmp_path / "killed"
    checkpoints = Path(str(run_dir) + ".work") / "stage0-xnli" / "checkpoints"
    # the run to kill pauses 1 s after each checkpoint (fixtures/training/paused_checkpoints.py): on a fast
    # machine checkpoint-4 is otherwise rotated away ~30 ms after it is written, between two polls
    paused = [sys.executable, str(FIXTURES / "paused_checkpoints.py")]
    proc = subprocess.Popen(_cli(tmp_path, pretrained, run_dir, *paused, sets=frozen), env=_env(tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not (checkpoints / "checkpoint-4" / "trainer_state.json").exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (checkpoints / "checkpoint-4").exists() and not run_dir.exists()  # killed mid-run: no run dir
    # the killed run's checkpoint holds no embedding matrix
    from safetensors import safe_open

    with safe_open(str(checkpoints / "checkpoint-4" / "model.safetensors"), "pt") as saved:
        assert not any("word_embeddings" in key for key in saved.keys())
    resumed = subprocess.run(_cli(tmp_path, pretrained, run_dir, *python, sets=frozen), env=_env(tmp_path),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    got = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert got["metrics"] == expected["metrics"] and got["best_step"] == expected["best_step"] and got["steps"] == 8
    wa, wb = _weights(tmp_path / "whole"), _weights(run_dir)
    assert all((wa[k] == wb[k]).all() for k in wa)
    assert not checkpoints.parent.parent.exists()


@pytest.mark.slow
def test_accelerate_two_cpu_processes(pretrained, tmp_path):
    # accelerate 1.15's `launch --cpu --num_processes 2` starts ONE process (multi-CPU needs an mpirun
    # hostfile); `--multi_gpu` starts two via torchrun, and on a machine without CUDA the Trainer
    # (use_cpu=True) joins them over gloo.
    # The rendezvous stays on the loopback interface with a free port: a sandbox's hostname may resolve
    # to an address gloo cannot reach, and a fixed port may be held by another job.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = _cli(tmp_path, pretrained, tmp_path / "ddp", str(REPO / ".venv" / "bin" / "accelerate"), "launch",
               "--num_processes", "2", "--multi_gpu", "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1", "--main_process_port", str(port),
               "-m", "helpers.training")
    env = dict(_env(tmp_path), GLOO_SOCKET_IFNAME="lo", OMP_NUM_THREADS="1")
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=420)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"two-process training did not finish in 420 s; stderr tail: {str(err.stderr or '')[-2000:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    assert result["world_size"] == 2 and result["steps"] == 8  # max_steps wins over epochs
    assert 0 <= result["metrics"]["accuracy"] <= 100
    assert (tmp_path / "ddp" / "model.safetensors").exists()
    table = (tmp_path / "results" / "training_cost.csv").read_text().splitlines()
    assert len(table) == 2  # one row, written once by rank 0


def test_cli_refuses_bad_input(tmp_path):
    done = subprocess.run([sys.executable, "-m", "helpers.training", "target", "--task", "tatoeba", "--profile",
                           "smoke", "--source", f"json:{tmp_path}"], env=_env(tmp_path), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: task tatoeba is a retrieval task")


def test_corrupt_checkpoint_is_one_clear_line(tmp_path):
    run = Path(tiny.write_pretrained(tmp_path / "direct___xnli"))
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(StudyError, match=r"cannot load the checkpoint .*direct___xnli/model\.safetensors"):
        models.load_trainable(run, "sequence-classification", 3)


def test_freeze_layers_freezes_only_the_lowest_layers():
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    from helpers.errors import StudyError

    cfg = XLMRobertaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                           intermediate_size=32, max_position_embeddings=20, num_labels=2)
    model = XLMRobertaForSequenceClassification(cfg)
    trainer.freeze_layers(model, 2)
    frozen = [all(not p.requires_grad for p in layer.parameters()) for layer in model.roberta.encoder.layer]
    assert frozen == [True, True, False]
    assert all(p.requires_grad for p in model.classifier.parameters())
    with pytest.raises(StudyError, match="at most the 3 layers"):
        trainer.freeze_layers(model, 4)


def test_run_lock_is_taken_by_rank_zero_only(tmp_path, monkeypatch):
    """Ranks of one DDP job share a run: only rank 0 locks it (else rank 1 waits on rank 0 forever)."""
    import threading

    from helpers import runs

    run_dir = tmp_path / "run"
    entered = {}

    def enter(rank: str) -> None:
        monkeypatch.setenv("RANK", rank)
        done = threading.Event()

        def body():
            with distributed.run_lock(run_dir):
                done.set()

        worker = threading.Thread(target=body, daemon=True)
        worker.start()
        entered[rank] = done.wait(timeout=2.0)

    with runs.file_lock(run_dir):  # another job holds the run
        enter("1")
        enter("0")
    assert entered == {"1": True, "0": False}


def test_run_directories_leave_out_the_frozen_embedding_matrix(isolated_results):
    """A STILTs lineage from a local preset with the embedding matrix frozen: neither run directory
    stores the matrix, both name the preset it comes back from, and the target run trained from the
    intermediate one sees the preset's matrix unchanged."""
    import torch
    from safetensors import safe_open

    from helpers import models

    src = tiny.FakeSource()
    frozen = dataclasses.replace(RECIPE, freeze_embeddings=True)
    inter = training.train_intermediate("mnli", profile="smoke", source=src, seed=1, init="tiny", recipe=frozen)
    target = training.train_target("xnli", "mnli", str(inter.run_dir), profile="smoke", source=src, seed=1, recipe=frozen)
    preset = models.load_model("tiny").embeddings.word_embeddings.weight
    for run_dir, key in ((inter.run_dir, "embeddings.word_embeddings.weight"),
                         (target.run_dir, "roberta.embeddings.word_embeddings.weight")):
        with safe_open(str(run_dir / "model.safetensors"), framework="pt") as handle:
            assert key not in set(handle.keys())
        assert json.loads((run_dir / models.FROZEN_FILE).read_text())["preset"] == "tiny"
        assert torch.equal(models.read_weights(run_dir)[key], preset)
    model = models.load_model(str(target.run_dir), head="sequence-classification", keep_head=True)
    assert torch.equal(model.roberta.embeddings.word_embeddings.weight, preset)


# ----------------------------------------------------------------------------- issue 15
def test_a_diverging_loss_stops_the_run_and_publishes_nothing(pretrained, isolated_results):
    """--set learning_rate=1e30 once trained a NaN model, published it and exited 0."""
    huge = dataclasses.replace(RECIPE, learning_rate=1e30)
    with pytest.raises(StudyError, match=r"^training target xnli \(direct\) stopped at step 2: the loss is nan "
                                         r"\(not finite\), so nothing was published; the learning rate 1e\+30"):
        training.train_target("xnli", "direct", pretrained, profile="smoke", source=tiny.FakeSource(), seed=1,
                              recipe=huge)
    run_dir = training.target_run_dir("direct", "xnli", 1, profile="smoke")
    assert not run_dir.exists() and not Path(str(run_dir) + ".work").exists()
    assert costs.read_training_cost() == []


def test_a_users_run_dir_is_refused_before_anything_is_written(pretrained, tmp_path, isolated_results):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work\n")
    os.chmod(mine, 0o755)
    with pytest.raises(StudyError, match=r"run directory .*mine exists and was not created by the study"):
        training.train_target("xnli", "direct", pretrained, profile="smoke", source=tiny.FakeSource(), seed=1,
                              recipe=RECIPE, run_dir=mine)
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"] and mine.stat().st_mode & 0o777 == 0o755
    assert not Path(str(mine) + ".lock").exists() and not Path(str(mine) + ".work").exists()
    stray = tmp_path / "run.work"  # a folder of the user's where the work directory would go
    stray.mkdir()
    (stray / "keep.txt").write_text("x")
    with pytest.raises(StudyError, match=r"work directory .*run\.work of run directory .*run exists"):
        training.train_target("xnli", "direct", pretrained, profile="smoke", source=tiny.FakeSource(), seed=1,
                              recipe=RECIPE, run_dir=tmp_path / "run")
    assert [p.name for p in stray.iterdir()] == ["keep.txt"]


def test_init_that_is_neither_a_preset_nor_a_run_says_which(tmp_path):
    src = tiny.FakeSource()
    with pytest.raises(StudyError, match=r"^init /nonexistent does not exist: expected the run directory .*"
                                         r"or a model preset, one of xlmr-large, xlmr-base, e5-small, tiny$"):
        training.train_target("xnli", "direct", "/nonexistent", profile="smoke", source=src, seed=1)
    with pytest.raises(StudyError, match=r"init .*empty is not a saved run: expected the intermediate run of arm "
                                         r"mnli as a folder holding config.json"):
        (tmp_path / "empty").mkdir()
        training.train_target("xnli", "mnli", str(tmp_path / "empty"), profile="smoke", source=src, seed=1)
    with pytest.raises(StudyError, match="unknown model preset 'xlmr-huge'"):
        training.train_target("xnli", "direct", "xlmr-huge", profile="smoke", source=src, seed=1)


@pytest.mark.parametrize("argv, message", [
    (["--arm", "qqp"], r"arm qqp is not an arm of profile smoke \(its arms: direct, mnli\) and no --init was given"),
    (["--arm", "mnli"], r"arm mnli starts from its intermediate run .*smoke/mnli/seed1, which has not been trained: "
                        r"run python -m helpers.training intermediate --task mnli --profile smoke --seed 1 first"),
    (["--arm", "nosuch"], r"unknown arm 'nosuch'; valid arms: direct, anli, mnli"),
    (["--data-dir", "mydata"], r"--data-dir is read only by the xtreme-dir source; profile smoke uses the embedded"),
])
def test_cli_arguments_are_checked_before_any_data(argv, message, tmp_path, isolated_results, monkeypatch):
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(StudyError, match=message):
        training.main(["target", "--task", "xnli", "--profile", "smoke", *argv])
    assert not (tmp_path / "cache").exists()  # the benchmark was not even generated


def test_cost_rows_name_model_source_and_recipe(pretrained, isolated_results, tmp_path):
    from helpers.sources import Source

    src = tiny.FakeSource()
    training.train_target("xnli", "direct", pretrained, profile="smoke", source=src, seed=1, recipe=RECIPE)
    other = dataclasses.replace(RECIPE, learning_rate=1e-3)
    training.train_target("xnli", "direct", pretrained, profile="smoke", source=src, seed=1, recipe=other,
                          run_dir=tmp_path / "lr")
    rows = costs.read_training_cost()
    assert len(rows) == 2 and len({r["recipe"] for r in rows}) == 2  # an override gets its own row
    assert {r["source"] for r in rows} == {"fake"} and {r["model"] for r in rows} == {"tiny"}
    assert costs.source_identity(Source("embedded", tmp_path)) == "embedded"
    (tmp_path / "x" / "xnli").mkdir(parents=True)
    (tmp_path / "x" / "xnli" / "test-de.tsv").write_text("a\tb\tneutral\n")
    ident = costs.source_identity(Source("xtreme-dir", tmp_path / "x"))
    assert ident.startswith("xtreme-dir:") and len(ident) == len("xtreme-dir:") + 16
