"""Retrieval scoring as XTREME scores it: Tatoeba's direction, per-query items, the layouts read."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import retrieval
from helpers.errors import StudyError
from helpers.retrieval_sets import RETRIEVAL_LOADERS, RetrievalSet
from helpers.tasks import get_task


# --------------------------------------------------------------------------- Tatoeba's direction
def test_bitext_predictions_follow_xtreme_similarity_search():
    # similarity[i, j]: non-English sentence i vs English line j; the identity with column 1 raised by 1.5
    sim = np.eye(3)
    sim[:, 1] += 1.5
    # XTREME: the index holds the non-English sentences, each English line searches it -> column argmax
    en2x = retrieval.bitext_predictions(sim, "en2x")
    assert en2x.tolist() == [0, 1, 2]
    assert 100.0 * np.mean(en2x == np.arange(3)) == 100.0
    # the old direction (one search per non-English sentence): English line 1 is every row's nearest
    x2en = retrieval.bitext_predictions(sim, "x2en")
    assert x2en.tolist() == [1, 1, 1]
    assert 100.0 * np.mean(x2en == np.arange(3)) == pytest.approx(33.333333, abs=1e-4)
    assert retrieval.bitext_predictions(np.ones((2, 2)), "en2x").tolist() == [0, 0]  # ties: lower index
    with pytest.raises(StudyError, match="valid"):
        retrieval.bitext_predictions(sim, "both")
    with pytest.raises(StudyError, match="2-D"):
        retrieval.bitext_predictions(np.ones(3))


def test_invert_gold_and_scoring_view():
    assert retrieval.invert_gold([frozenset({1}), frozenset({1, 2})], 3) == [frozenset(), frozenset({0, 1}),
                                                                             frozenset({1})]
    with pytest.raises(StudyError, match="outside the 2 candidates"):
        retrieval.invert_gold([frozenset({2})], 2)
    rset = RetrievalSet(["hallo", "welt"], ["hello", "world"], [frozenset({0}), frozenset({1})], "q: ", "p: ",
                        ["deu-0", "deu-1"], ["eng-0", "eng-1"])
    view = retrieval.scoring_view("tatoeba", rset)
    assert view.queries == ["hello", "world"] and view.candidates == ["hallo", "welt"]
    assert view.query_prefix == "p: " and view.query_ids == ["eng-0", "eng-1"]
    assert view.gold == [frozenset({0}), frozenset({1})]
    assert retrieval.scoring_view("lareqa", rset) is rset
    assert retrieval.is_bitext("tatoeba") and not retrieval.is_bitext("mewslix")


def _fake_embed(vectors: dict[str, list[float]]):
    def embed(model, tokenizer, texts, *, layer, max_length, batch_size=64, prefix="", cache=None):
        return np.asarray([vectors[prefix + t] for t in texts], dtype=np.float32)

    return embed


def test_evaluate_retrieval_tatoeba_direction_and_items(monkeypatch):
    # English line "e1" is a hub: every non-English sentence's nearest English line (x2en 1 of 3 right), yet each
    # English line's nearest non-English sentence is its own translation (XTREME's direction: 3 of 3)
    c = 2.0
    vectors = {"x0": [1, 0, 0, c], "x1": [0, 1, 0, 2 * c], "x2": [0, 0, 1, c],
               "e0": [1, 0, 0, 0], "e1": [0, 0, 0, 1], "e2": [0, 0, 1, 0]}
    monkeypatch.setattr(retrieval, "embed", _fake_embed(vectors))
    rset = RetrievalSet(["x0", "x1", "x2"], ["e0", "e1", "e2"], [frozenset({i}) for i in range(3)])
    items: list = []
    out = retrieval.evaluate_retrieval(None, None, rset, layer=1, max_length=8, task="tatoeba", lang="de",
                                       items=items)
    assert out["accuracy"] == 100.0  # ranking per non-English sentence gave 33.33
    assert out[retrieval.X2EN_METRIC] == pytest.approx(100 / 3)
    assert list(out) == ["accuracy", "accuracy_x2en"]
    assert items == [{"item": 0, "hit": 1.0}, {"item": 1, "hit": 1.0}, {"item": 2, "hit": 1.0}]
    # a miss in the primary direction is a 0.0 item
    vectors["e2"] = [0, 1, 0, 0]
    items = []
    out = retrieval.evaluate_retrieval(None, None, rset, layer=1, max_length=8, task="tatoeba", items=items)
    assert out["accuracy"] == pytest.approx(200 / 3) and items[2] == {"item": 2, "hit": 0.0}
    assert retrieval.evaluate_retrieval(None, None, rset, layer=1, max_length=8, task="tatoeba") == out  # no items


def test_evaluate_retrieval_map_items(monkeypatch):
    vectors = {"a": [1, 0], "b": [0, 1], "p": [1, 0.1], "r": [0.1, 1]}
    monkeypatch.setattr(retrieval, "embed", _fake_embed(vectors))
    # query a ranks p, r: gold p at rank 1 (AP 1); query b ranks r, p: gold p at rank 2 (AP 1/2)
    rset = RetrievalSet(["a", "b"], ["p", "r"], [frozenset({0}), frozenset({0})])
    items: list = []
    out = retrieval.evaluate_retrieval(None, None, rset, layer=1, max_length=8, task="lareqa", items=items)
    assert out == {"map@20": 75.0}
    assert items == [{"item": 0, "ap": 100.0}, {"item": 1, "ap": 50.0}]
    assert math.isclose(np.mean([i["ap"] for i in items]), out["map@20"])


# --------------------------------------------------------------------------- the Tatoeba layouts read
def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_xtreme_tatoeba_download_layout_is_one_clear_line(tmp_path):
    _write(tmp_path / "tatoeba/de-en.de", "Hallo.\nWelt.\n")
    _write(tmp_path / "tatoeba/de-en.en", "Hello.\nWorld.\n")
    load = RETRIEVAL_LOADERS["tatoeba-pairs"]
    with pytest.raises(StudyError) as err:
        load(tmp_path, get_task("tatoeba"), "de", "test", None)
    msg = str(err.value)
    assert "\n" not in msg
    assert "tatoeba/v1/tatoeba.deu-eng.deu does not exist with tatoeba.deu-eng.eng beside it" in msg
    assert "LASER's aligned tatoeba.<iso3>-eng.{<iso3>,eng}" in msg and "tatoeba/tatoeba.deu-eng.deu" in msg
    assert "found XTREME's download layout (de-en.de, de-en.en), which cannot be scored" in msg
    assert "English side is sorted" in msg and "withheld" in msg
    # nothing at all: the same line names what is read and that XTREME's layout is not
    with pytest.raises(StudyError, match=r"does not exist .*LASER's aligned .*XTREME's download layout \(tatoeba/<l2>"):
        load(tmp_path, get_task("tatoeba"), "fr", "test", None)
    # LASER's layout reads as before
    _write(tmp_path / "tatoeba/tatoeba.deu-eng.deu", "Hallo.\nWelt.\n")
    _write(tmp_path / "tatoeba/tatoeba.deu-eng.eng", "Hello.\nWorld.\n")
    rset = load(tmp_path, get_task("tatoeba"), "de", "test", None)
    assert rset.queries == ["Hallo.", "Welt."] and rset.candidates == ["Hello.", "World."]
