import pytest

from helpers import config
from helpers.errors import StudyError


def test_profiles_and_arms():
    assert set(config.PROFILES) == {"smoke", "embedded", "xtreme-dir", "full", "realdata"}
    emb = config.get_profile("embedded")
    assert emb.model == "e5-small" and emb.source == "embedded"
    assert emb.arms == ("direct", "mnli", "squad", "hellaswag", "multi")
    assert len(config.get_profile("full").intermediates) == 9
    assert len(emb.tasks) == 10


def test_configure_defaults_and_subsets():
    cfg = config.configure(profile="embedded", task="xnli, panx", arm="direct,mnli", seed=3)
    assert cfg.tasks == ("xnli", "panx")
    assert cfg.arms == ("direct", "mnli")
    assert cfg.intermediates == ("mnli",)
    assert cfg.seed == 3 and cfg.model == "e5-small" and cfg.eval_limit == 16
    with pytest.raises(dataclasses_frozen_error()):
        cfg.seed = 4


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"profile": "nosuch"}, "unknown profile 'nosuch'; valid profiles: smoke, embedded, xtreme-dir, full, realdata"),
        ({"task": "nosuch"}, "unknown task 'nosuch'; valid tasks: xnli, panx, xquad, tatoeba"),
        ({"arm": "qqp"}, "unknown arm 'qqp'; valid arms: direct, mnli"),
        ({"seed": "1"}, "parameter seed must be int, got str '1'"),
        ({"seed": True}, "parameter seed must be int, got bool True"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"eval_limit": -5}, "eval_limit must be 0"),
        ({"data_dir": "/tmp"}, "data_dir is only used by profile xtreme-dir"),
        ({"profile": "xtreme-dir"}, "profile xtreme-dir needs data_dir"),
        ({"profile": "xtreme-dir", "data_dir": "/nonexistent/xtreme"}, "is not a directory"),
    ],
)
def test_bad_parameters_fail_with_one_line(kwargs, message):
    with pytest.raises(StudyError) as info:
        config.configure(**kwargs)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_empty_data_dir_is_refused(tmp_path):
    with pytest.raises(StudyError, match="is empty"):
        config.configure(profile="xtreme-dir", data_dir=str(tmp_path))


def test_study_error_renders_one_line_in_ipython():
    err = StudyError("unknown task 'x';\n valid tasks: a, b")
    assert err._render_traceback_() == ["StudyError: unknown task 'x'; valid tasks: a, b"]


# ----------------------------------------------------------------------------- issue 15, part B
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seed": 2**32}, "seed must be at most 4294967295 (the seed range of numpy), got 4294967296"),
        ({"phase": "target", "task": "tatoeba"},
         "task tatoeba has no training data: retrieval tasks use each arm's encoder as it is (see 06_zero_shot); "
         "valid tasks for 05_target (phase iii): xnli, panx, xquad"),
        ({"phase": "target", "task": "xnli,tatoeba"}, "task tatoeba has no training data"),
        ({"phase": "intermediate", "arm": "direct"},
         "arm direct has no intermediate phase; 04_intermediate (phase ii) trains the STILTs arms, valid arms: mnli"),
        ({"phase": "tradeoff", "arm": "mnli"},
         "09_tradeoff compares every arm with direct: arm must include direct, got 'mnli'"),
        ({"phase": "nosuch"}, "unknown phase 'nosuch'; valid phases:"),
    ],
)
def test_seed_range_and_phase_checks(kwargs, message):
    with pytest.raises(StudyError) as info:
        config.configure(**kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_phase_checks_accept_the_defaults_and_good_subsets():
    assert config.configure(seed=2**32 - 1).seed == 2**32 - 1
    assert config.configure(phase="target").tasks == ("xnli", "panx", "xquad", "tatoeba")  # the chapter skips tatoeba
    assert config.configure(phase="target", task="xquad").tasks == ("xquad",)
    assert config.configure(phase="intermediate").arms == ("direct", "mnli")
    assert config.configure(phase="intermediate", arm="mnli").arms == ("mnli",)
    assert config.configure(phase="tradeoff", arm="direct,mnli").arms == ("direct", "mnli")


def test_injected_unknown_parameters():
    history = ["", 'profile = "smoke"  # p\nseed = 1  # s\ntask = ""  # t\n',
               '# Parameters\nprofile = "smoke"\ntasks = "xnli"\n', "cfg = configure(profile=profile)"]
    assert config.injected_unknown_parameters(history, ("x",)) == (["tasks"], ["profile", "seed", "task"])
    history[2] = '# Parameters\nprofile = "embedded"\ntask = "xnli"\n'
    assert config.injected_unknown_parameters(history, ("x",)) == ([], ["profile", "seed", "task"])
    assert config.injected_unknown_parameters(["", "a = 1", "configure()"], ("x",)) == ([], [])
    # injected at the top (no parameters cell before it): the fallback names are the declared ones
    assert config.injected_unknown_parameters(["", '# Parameters\nprofil = "smoke"\n'], ("profile",)) == (
        ["profil"], ["profile"])


def test_configure_refuses_an_injected_parameter_in_ipython(monkeypatch):
    """What a papermill kernel sees: configure reads the shell's input history."""
    import sys
    import types

    shell = types.SimpleNamespace(history_manager=types.SimpleNamespace(input_hist_raw=[
        "", 'profile = "smoke"  # p\nseed = 1  # s\ntask = ""  # t\narm = ""  # a\n',
        '# Parameters\ntasks = "xnli"\n', "cfg = configure(profile=profile)"]))
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    with pytest.raises(StudyError) as info:
        config.configure(profile="smoke")
    assert str(info.value) == "unknown parameter 'tasks'; valid parameters: profile, seed, task, arm"


def _write_table(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))


def test_require_results_names_the_chapter_that_writes_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_RESULTS_DIR", str(tmp_path))
    cfg = config.configure(profile="smoke")
    with pytest.raises(StudyError) as info:
        config.require_results(cfg, "zero_shot.csv", "training_cost.csv")
    assert str(info.value) == (
        f"results table zero_shot.csv has no rows for profile smoke, seed 1 (in {tmp_path}); the chapter "
        f"06_zero_shot writes it: run it first, e.g. python -m helpers.study run PLAN.yaml --only 06_zero_shot")
    _write_table(tmp_path / "zero_shot.csv", "profile,arm,seed", ["smoke,direct,1", "embedded,mnli,1", "smoke,mnli,2"])
    with pytest.raises(StudyError, match="^results table zero_shot.csv has no arm mnli for profile smoke, seed 1 "):
        config.require_results(cfg, "zero_shot.csv")
    _write_table(tmp_path / "zero_shot.csv", "profile,arm,seed", ["smoke,direct,1", "smoke,mnli,1"])
    config.require_results(cfg, "zero_shot.csv")
    with pytest.raises(StudyError, match="the chapters 04_intermediate and 05_target write it: .* --only 05_target$"):
        config.require_results(cfg, "zero_shot.csv", "training_cost.csv")
    with pytest.raises(StudyError, match="unknown results table 'x.csv'; valid results tables: zero_shot.csv"):
        config.require_results(cfg, "x.csv")


def test_model_override_carries_its_own_retrieval_layer_and_tokenizer():
    """configure(model=...) resolves the layer and tokenizer from that model, not from the profile's preset."""
    default = config.configure(profile="smoke")
    assert (default.model, default.retrieval_layer, default.tokenizer) == ("tiny", 1, "tiny")
    other = config.configure(profile="smoke", model="e5-small")
    assert (other.model, other.retrieval_layer, other.tokenizer) == ("e5-small", 7, "e5-small")
    large = config.configure(profile="embedded", model="xlmr-large")
    assert (large.retrieval_layer, large.tokenizer) == (14, "xlmr-large")


def test_profiles_take_their_task_lists_from_the_registry():
    from helpers.tasks import SUBSETS, intermediate_tasks, target_tasks

    assert config.get_profile("full").tasks == target_tasks() and len(target_tasks()) == 10
    assert config.get_profile("full").intermediates == intermediate_tasks()
    assert config.get_profile("smoke").tasks == ("xnli", "panx", "xquad", "tatoeba") == SUBSETS["one-per-group"]
    assert config.get_profile("smoke").intermediates == ("mnli",)
    assert config.get_profile("embedded").intermediates == ("mnli", "squad", "hellaswag")


# ----------------------------------------------------------------------------- issue 13: the realdata profile
def test_realdata_profile():
    from helpers import realsplits, recipes

    real = config.get_profile("realdata")
    assert (real.model, real.source, real.eval_limit, real.needs_data_dir) == ("e5-small", "realdata", None, False)
    assert real.tasks == realsplits.TARGETS and len(real.tasks) == 9
    assert real.arms == ("direct", "anli", "siqa")
    assert real.seed_tasks == ("xcopa", "panx") and real.extra_seeds == (2, 3)
    assert all(t in real.tasks and t not in ("lareqa", "tatoeba", "mlqa") for t in real.seed_tasks)
    for name in ("smoke", "embedded", "xtreme-dir", "full"):  # the other profiles keep one seed
        assert (config.get_profile(name).seed_tasks, config.get_profile(name).extra_seeds) == ((), ())
    # every run the profile trains has a recipe of its own profile
    assert recipes.get_recipe("realdata", "xnli", "target").max_train_examples == 128
    assert recipes.get_recipe("realdata", "anli", "intermediate").max_train_examples == 512
    assert recipes.get_recipe("realdata", "xquad", "target").max_length == 256


def test_realdata_configure_finds_the_files(monkeypatch):
    from helpers.sources import realdata_root

    root = realdata_root()
    if root is None:
        pytest.skip("the real XTREME-R files are absent (helpers.sources.realdata_root() is None)")
    cfg = config.configure(profile="realdata", task="xnli,tydiqa")
    assert cfg.source == "realdata" and cfg.data_dir == str(root) and cfg.eval_limit is None
    assert cfg.data_source().kind == "realdata"
    assert cfg.test_languages("tydiqa") == ("sw",)
    assert cfg.test_languages("xnli") == ("ar", "de", "en", "es", "fr", "hi", "ru", "sw", "tr", "ur", "vi", "zh")
    with pytest.raises(StudyError, match="^data_dir is only used by profile xtreme-dir, not realdata$"):
        config.configure(profile="realdata", data_dir=str(root))


def test_realdata_configure_without_files_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDY_REALDATA", str(tmp_path / "absent"))
    with pytest.raises(StudyError) as info:
        config.configure(profile="realdata")
    assert "STUDY_REALDATA" in str(info.value) and "\n" not in str(info.value)
