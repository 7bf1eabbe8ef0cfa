import pytest

from helpers import config
from helpers.errors import StudyError


def test_profiles_and_arms():
    assert set(config.PROFILES) == {"smoke", "embedded", "xtreme-dir", "full"}
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
        ({"profile": "nosuch"}, "unknown profile 'nosuch'; valid profiles: smoke, embedded, xtreme-dir, full"),
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
