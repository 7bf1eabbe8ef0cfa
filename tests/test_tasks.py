"""The registry: tasks, groups, language lists (pinned to XTREME-R's evaluate.py)."""

from __future__ import annotations

import pytest

from helpers.errors import StudyError
from helpers.tasks import (
    GROUPS, INTERMEDIATE_TASKS, NINE_INTERMEDIATE, TASKS, TATOEBA_ISO3, all_languages, get_task,
    task_languages, tasks_in_group, check_language,
)


def test_ten_targets_and_language_counts():
    assert len(TASKS) == 10
    counts = {n: len(s.languages) for n, s in TASKS.items()}
    assert counts == {"xnli": 15, "xcopa": 11, "udpos": 38, "panx": 48, "xquad": 12, "mlqa": 7, "tydiqa": 9,
                      "mewslix": 11, "lareqa": 11, "tatoeba": 41}
    assert len(all_languages()) == 50
    for spec in TASKS.values():
        assert len(set(spec.languages)) == len(spec.languages)


def test_groups_follow_xtreme_r():
    assert GROUPS == ("classification", "structured-prediction", "question-answering", "retrieval")
    assert tasks_in_group("classification") == ("xnli", "xcopa")
    assert tasks_in_group("structured-prediction") == ("udpos", "panx")
    assert tasks_in_group("question-answering") == ("xquad", "mlqa", "tydiqa")
    assert tasks_in_group("retrieval") == ("mewslix", "lareqa", "tatoeba")


def test_specific_entries():
    assert get_task("xnli").labels == ("entailment", "neutral", "contradiction")
    assert get_task("xnli").train_source == "mnli"
    assert get_task("xcopa").train_source == "siqa+copa"
    assert get_task("lareqa").train_source == "squad"
    assert get_task("tatoeba").train_source is None and not get_task("tatoeba").trainable
    assert len(get_task("udpos").labels) == 17
    assert get_task("panx").labels == ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
    assert get_task("mewslix").metric == "map@20" and get_task("mlqa").metric == "f1"
    assert "ro" in get_task("xquad").languages and "wo" in get_task("udpos").languages
    assert {"qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"} <= set(get_task("panx").languages)
    assert "en" not in get_task("tatoeba").languages
    assert set(get_task("tatoeba").languages) <= set(TATOEBA_ISO3)
    assert TATOEBA_ISO3["sw"] == "swh" and TATOEBA_ISO3["fa"] == "pes"


def test_intermediate_tasks():
    assert NINE_INTERMEDIATE == ("anli", "mnli", "qqp", "squad", "sst2", "ccg", "cosmosqa", "hellaswag",
                                 "commonsenseqa")
    assert set(INTERMEDIATE_TASKS) == set(NINE_INTERMEDIATE) | {"siqa", "copa"}
    assert not INTERMEDIATE_TASKS["siqa"].nine


def test_task_languages_intersection():
    assert task_languages("mlqa", ["zh", "en", "xx"]) == ("en", "zh")
    assert task_languages("mlqa") == ("en", "es", "de", "ar", "hi", "vi", "zh")


def test_unknown_task_and_language_messages():
    with pytest.raises(StudyError, match="unknown task 'xnil'; valid tasks: xnli, xcopa"):
        get_task("xnil")
    with pytest.raises(StudyError, match="unknown language 'fr' for mlqa; valid languages: en, es, de, ar, hi, vi, zh"):
        check_language("mlqa", "fr")
    with pytest.raises(StudyError, match="unknown group"):
        tasks_in_group("qa")


def test_target_stages_are_xtreme_r_training_data():
    from helpers.tasks import own_model_targets, target_stages

    assert {t: target_stages(t) for t in own_model_targets()} == {
        "xnli": (("xnli", "train", "dev"),),
        "xcopa": (("siqa", "train", "dev"), ("copa", "train", "dev")),
        "udpos": (("udpos", "train", "dev"),),
        "panx": (("panx", "train", "dev"),),
        "xquad": (("squad", "train", "dev"),),
        "tydiqa": (("tydiqa", "train", None),),
    }
    with pytest.raises(StudyError, match="valid own-model targets: xnli, xcopa"):
        target_stages("mlqa")


def test_registry_task_lists():
    from helpers.tasks import (intermediate_tasks, recipe_family, retrieval_tasks, shared_models, target_tasks,
                               target_training_tasks, trainable_targets)

    assert target_tasks() == tuple(TASKS) and intermediate_tasks() == NINE_INTERMEDIATE
    assert intermediate_tasks(nine=False)[-2:] == ("siqa", "copa")
    assert retrieval_tasks() == ("mewslix", "lareqa", "tatoeba")
    assert trainable_targets() == ("xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa")
    assert shared_models() == {"mlqa": "xquad"}
    assert target_training_tasks() == ("xnli", "xcopa", "siqa", "copa", "udpos", "panx", "xquad", "mlqa", "tydiqa",
                                       "mewslix", "lareqa")
    assert (recipe_family("sst2"), recipe_family("snli"), recipe_family("tydiqa")) == ("classification",) * 2 + ("qa",)


def test_only_mlqa_scores_with_the_answer_language():
    assert [n for n, s in TASKS.items() if s.language_aware_metric] == ["mlqa"]
