"""Zero-shot evaluation: pinned QA post-processing, tag re-alignment, order restoration,
mean pooling, retrieval ranking and the zero_shot.csv rows, on tiny fixtures."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "training"))

from helpers import evaluation as ev  # noqa: E402
from helpers import retrieval  # noqa: E402
from helpers.errors import StudyError  # noqa: E402
from tiny import make_config, make_tokenizer  # noqa: E402

NER = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
UPOS = ("ADJ", "ADP", "NOUN", "VERB")


@pytest.fixture(scope="module")
def tok():
    return make_tokenizer()


def _tiny(cls_name: str, seed: int = 0, **config):
    import torch
    import transformers

    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(make_config(**config))
    return model.eval()


# --------------------------------------------------------------------------- span QA
WORDS = "alpha beta gamma delta epsilon zeta eta theta".split()
CONTEXT = " ".join(WORDS)
SPANS = []
_pos = 0
for _w in WORDS:
    SPANS.append([_pos, _pos + len(_w)])
    _pos += len(_w) + 1


def _window(example_id: str, words: range, question_tokens: int = 2) -> dict:
    """<s> q.. </s> </s> context words.. </s>: offsets None outside the context."""
    offsets = [None] * (1 + question_tokens + 2) + [list(SPANS[w]) for w in words] + [None]
    return {"example_id": example_id, "offset_mapping": offsets}


def _logits(n: int, values: dict[int, float]) -> np.ndarray:
    out = np.full(n, -10.0, dtype=np.float32)
    for k, v in values.items():
        out[k] = v
    return out


def test_qa_single_window_rules_pinned():
    # positions: 0 <s>, 1-2 question, 3-4 </s></s>, 5..12 the eight context words, 13 </s>
    feats = [_window("a", range(8))]
    start = [_logits(14, {1: 10, 13: 9, 5: -1, 7: 5, 9: 4})]
    end = [_logits(14, {1: 10, 6: 8, 8: 3, 10: 2})]
    ex = [{"id": "a", "context": CONTEXT}]
    # best valid: start gamma (5) + end delta (3) = 8; question/special tokens and end < start excluded
    assert ev.extract_answers(ex, feats, start, end) == {"a": "gamma delta"}
    # one-token answers only: beta (-10 + 8) beats gamma (5 - 10)
    assert ev.extract_answers(ex, feats, start, end, max_answer_length=1) == {"a": "beta"}
    # the single best start is a question token: nothing valid is left
    assert ev.extract_answers(ex, feats, start, end, n_best=1) == {"a": ""}
    # padding after the offsets is ignored
    padded = [np.concatenate([start[0], np.full(4, 99.0, np.float32)])]
    assert ev.extract_answers(ex, feats, padded, end) == {"a": "gamma delta"}


def test_qa_doc_stride_answer_across_window_boundary_pinned():
    # window 1 holds words 0-4, window 2 words 3-7 (two tokens of overlap); the gold
    # "epsilon zeta" (words 4-5) straddles window 1's end, so only window 2 can hold it.
    feats = [_window("b", range(0, 5)), _window("other", range(8)), _window("b", range(3, 8))]
    start = [
        _logits(11, {9: 8, 6: 2}),  # window 1: start at epsilon (position 9) = 8
        _logits(14, {5: 50}),
        _logits(11, {6: 5}),  # window 2: start at epsilon (position 6) = 5
    ]
    end = [
        _logits(11, {9: 3, 7: 2}),  # window 1: end at epsilon = 3 -> "epsilon" scores 11
        _logits(14, {5: 50}),
        _logits(11, {7: 4}),  # window 2: end at zeta = 4 -> "epsilon zeta" scores 9
    ]
    examples = [{"id": "b", "context": CONTEXT}, {"id": "other", "context": CONTEXT}, {"id": "none", "context": CONTEXT}]
    got = ev.extract_answers(examples, feats, start, end)
    # epsilon is window 1's last context token (no context to its right) but has context on
    # both sides in window 2: max context gives it to window 2, so window 1's span is skipped.
    assert got == {"b": "epsilon zeta", "other": "alpha", "none": ""}
    plain = ev.extract_answers(examples, feats, start, end, max_context=False)
    assert plain["b"] == "epsilon"


def test_qa_answer_only_in_second_window():
    feats = [_window("c", range(0, 5)), _window("c", range(3, 8))]
    start = [_logits(11, {5: 1}), _logits(11, {9: 6})]  # theta is position 9 of window 2
    end = [_logits(11, {5: 1}), _logits(11, {9: 6})]
    assert ev.extract_answers([{"id": "c", "context": CONTEXT}], feats, start, end) == {"c": "theta"}


def test_qa_misaligned_rows_are_an_error():
    with pytest.raises(StudyError, match="1 features but 2 start"):
        ev.extract_answers([], [_window("a", range(2))], [np.zeros(8)] * 2, [np.zeros(8)])


# --------------------------------------------------------------------------- tagging
def test_word_tag_alignment_pinned():
    word_ids = [-1, 0, 0, 1, 2, 2, -1, -1]
    preds = [4, 1, 2, 3, 4, 0, 0, 0]
    # first sub-word decides; word 3 never appears (cut off) -> "O"
    assert ev.align_word_tags(word_ids, preds, 4, NER) == ["B-PER", "B-LOC", "I-LOC", "O"]
    # a tag set without "O" falls back to its first tag
    assert ev.align_word_tags([None, 0, None], [3, 2, 3], 2, UPOS) == ["NOUN", "ADJ"]


def test_split_for_tagging_pinned(tok):
    ex = [
        {"id": "s", "tokens": ["the", "cat", "zebra", "sat", "on", "the", "mat"], "tags": list("abcdefg")},
        {"id": "t", "tokens": ["zebrazebra", "cat"]},
        {"id": "e", "tokens": []},
    ]
    # max_length 8 minus <s> </s> leaves 6 sub-words; zebra is 5 (▁z e b r a), zebrazebra 10 > 6 -> <unk>
    pieces, owners = ev.split_for_tagging(ex, tok, 8)
    assert [p["tokens"] for p in pieces] == [["the", "cat"], ["zebra", "sat"], ["on", "the", "mat"], ["<unk>", "cat"]]
    assert [p.get("tags") for p in pieces] == [["a", "b"], ["c", "d"], ["e", "f", "g"], None]
    assert owners == [0, 0, 0, 1]
    with pytest.raises(StudyError, match="no room"):
        ev.split_for_tagging(ex, tok, 2)


def test_predict_tagging_keeps_every_word(tok):
    import torch

    model = _tiny("XLMRobertaForTokenClassification", num_labels=len(NER))
    examples = [
        {"id": "s", "tokens": ["the", "cat", "zebra", "sat", "on", "the", "mat"], "tags": ["O"] * 7},
        {"id": "t", "tokens": ["john", "ran"], "tags": ["B-PER", "O"]},
    ]
    got = ev.predict(model, tok, "tagging", examples, max_length=8, batch_size=2, label_names=NER)
    assert [len(g) for g in got] == [7, 2]
    # manual: each piece alone, arg-max at the first sub-word of each word
    expected = []
    for words in (["the", "cat"], ["zebra", "sat"], ["on", "the", "mat"], ["john", "ran"]):
        enc = tok([words], is_split_into_words=True, return_tensors="pt")
        with torch.inference_mode():
            logits = model(**enc).logits[0]
        seen, tags = set(), []
        for pos, w in enumerate(enc.word_ids(0)):
            if w is not None and w not in seen:
                seen.add(w)
                tags.append(NER[int(logits[pos].argmax())])
        expected.append(tags)
    assert got == [expected[0] + expected[1] + expected[2], expected[3]]
    with pytest.raises(StudyError, match="label_names"):
        ev.predict(model, tok, "tagging", examples, max_length=8)


# --------------------------------------------------------------------------- order restoration
class _LengthModel:
    """A stand-in classifier whose predicted class is the number of real tokens."""

    def __init__(self, classes: int = 16, modulo: int | None = None):
        import torch

        self.classes = modulo or classes
        self.modulo = modulo
        self.training = False
        self._p = torch.nn.Parameter(torch.zeros(1))
        self.batches: list[tuple] = []

    def parameters(self):
        yield self._p

    def eval(self):
        return self

    def train(self, mode=True):
        self.training = mode
        return self

    def __call__(self, input_ids, attention_mask, **_):
        import torch

        self.batches.append(tuple(input_ids.shape))
        n = attention_mask.sum(-1)
        if n.dim() == 2:  # multiple choice: the logit of a choice is its length
            return types.SimpleNamespace(logits=n.float())
        if self.modulo:
            n = n % self.modulo
        return types.SimpleNamespace(logits=torch.nn.functional.one_hot(n, self.classes).float())


def test_classification_order_restored_after_length_sorting(tok):
    texts = ["the cat", "the cat sat on the mat", "the", "the cat sat"]  # 4, 8, 3, 5 tokens
    ex = [{"id": str(i), "text_a": t, "text_b": None, "label": 0} for i, t in enumerate(texts)]
    model = _LengthModel()
    assert ev.predict(model, tok, "single-classification", ex, max_length=32, batch_size=2) == [4, 8, 3, 5]
    # longest first, dynamic padding: batches of (8, 5) then (4, 3) tokens
    assert model.batches == [(2, 8), (2, 4)]
    pair = [{"id": "p", "text_a": "the cat", "text_b": "sat", "label": 1}]
    assert ev.predict(_LengthModel(), tok, "pair-classification", pair, max_length=32) == [7]  # <s> 2 </s></s> 1 </s>


def test_multiple_choice_order_restored(tok):
    ex = [
        {"id": "0", "context": "the", "question": "", "choices": ["a", "cat sat on the mat"], "label": 0},
        {"id": "1", "context": "the cat sat on the mat", "question": "what", "choices": ["red big", "no"], "label": 0},
        {"id": "2", "context": "", "question": "", "choices": ["no", "a", "the cat"], "label": 0},
    ]
    model = _LengthModel()
    # batches never mix 2- and 3-choice examples, whatever the lengths
    assert ev.predict(model, tok, "multiple-choice", ex, max_length=64, batch_size=2) == [1, 0, 2]
    assert [shape[:2] for shape in model.batches] == [(2, 2), (1, 3)]


def test_predict_bad_inputs(tok):
    with pytest.raises(StudyError, match="valid formats: pair-classification"):
        ev.predict(_LengthModel(), tok, "retrieval", [], max_length=8)
    with pytest.raises(StudyError, match="batch_size"):
        ev.predict(_LengthModel(), tok, "single-classification", [], max_length=8, batch_size=0)
    assert ev.predict(_LengthModel(), tok, "span-qa", [], max_length=8) == {}


def test_predict_span_qa_tiny_model(tok):
    model = _tiny("XLMRobertaForQuestionAnswering")
    context = "paris is the capital of france and berlin is the capital of germany and london is a city"
    ex = [
        {"id": "q1", "question": "what is the capital of germany", "context": context, "answers": {"text": ["berlin"], "answer_start": [35]}},
        {"id": "q2", "question": "who", "context": "john ran", "answers": {"text": ["john"], "answer_start": [0]}},
    ]
    got = ev.predict(model, tok, "span-qa", ex, max_length=24, doc_stride=6, batch_size=3)
    assert set(got) == {"q1", "q2"}
    assert got["q1"] and got["q1"] in context and len(got["q1"].split()) <= ev.MAX_ANSWER_LENGTH
    assert got["q2"] in "john ran"
    # bit-identical on a second run
    assert ev.predict(model, tok, "span-qa", ex, max_length=24, doc_stride=6, batch_size=3) == got


# --------------------------------------------------------------------------- embed / retrieve
def test_embed_is_masked_mean_of_layer_then_l2(tok):
    import torch

    model = _tiny("XLMRobertaModel", num_hidden_layers=3)
    texts = ["the cat sat on the mat", "no", "paris is a city"]
    got = retrieval.embed(model, tok, texts, layer=2, max_length=16, batch_size=2)
    assert got.shape == (3, 32) and got.dtype == np.float32
    for i, text in enumerate(texts):
        enc = tok(text, return_tensors="pt")
        with torch.inference_mode():
            h = model(**enc, output_hidden_states=True).hidden_states[2][0]
        v = h.mean(0).numpy()
        np.testing.assert_allclose(got[i], v / np.linalg.norm(v), atol=1e-5)
    # layer 0 is the embedding output (before any transformer layer)
    enc = tok(texts[1], return_tensors="pt")
    with torch.inference_mode():
        e = model.embeddings(input_ids=enc["input_ids"])[0].mean(0).numpy()
    np.testing.assert_allclose(retrieval.embed(model, tok, texts[1:2], layer=0, max_length=16)[0], e / np.linalg.norm(e), atol=1e-5)
    # prefix is prepended; a head model is pooled through its encoder
    np.testing.assert_array_equal(retrieval.embed(model, tok, ["cat"], layer=1, max_length=16, prefix="the "),
                                  retrieval.embed(model, tok, ["the cat"], layer=1, max_length=16))
    assert retrieval.embed(model, tok, [], layer=1, max_length=16).shape == (0, 32)
    with pytest.raises(StudyError, match="from 0 \\(embeddings\\) to 3"):
        retrieval.embed(model, tok, texts, layer=4, max_length=16)


def test_embed_cache_embeds_each_text_once(tok, monkeypatch):
    model = _tiny("XLMRobertaModel", num_hidden_layers=2)
    texts = ["the cat sat on the mat", "paris is a city", "no"]
    plain = retrieval.embed(model, tok, texts, layer=1, max_length=16, prefix="q: ")
    cache: dict = {}
    np.testing.assert_allclose(retrieval.embed(model, tok, texts, layer=1, max_length=16, prefix="q: ", cache=cache), plain,
                               atol=1e-6)
    assert sorted(cache) == ["q: no", "q: paris is a city", "q: the cat sat on the mat"]
    calls = []
    monkeypatch.setattr(retrieval, "run_batches", lambda *a, **k: calls.append(a) or [])
    again = retrieval.embed(model, tok, [texts[1], texts[1], texts[0]], layer=1, max_length=16, prefix="q: ", cache=cache)
    assert calls == []  # every text was in the cache: the model did not run
    np.testing.assert_array_equal(again, np.stack([cache["q: paris is a city"]] * 2 + [cache["q: the cat sat on the mat"]]))


def test_retrieve_ranks_by_cosine_pinned():
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    c = np.array([[0.0, 2.0], [3.0, 0.0], [1.0, 1.01], [-1.0, 0.0]])
    np.testing.assert_array_equal(retrieval.retrieve(q, c), [[1, 2, 0, 3], [0, 2, 1, 3], [2, 0, 1, 3]])
    np.testing.assert_array_equal(retrieval.retrieve(q, c, k=2), [[1, 2], [0, 2], [2, 0]])
    with pytest.raises(StudyError, match="equal widths"):
        retrieval.retrieve(q, np.zeros((2, 3)))


# --------------------------------------------------------------------------- retrieval scores
def _rset(queries, candidates, gold):
    from helpers.sources import RetrievalSet

    return RetrievalSet(list(queries), list(candidates), [frozenset(g) for g in gold], "", "")


def test_evaluate_retrieval_accuracy_and_map_pinned(tok):
    model = _tiny("XLMRobertaModel")
    texts = ["the cat sat on the mat", "paris is a city"]
    # each query's identical text ranks first; query 1's gold is the *other* candidate (rank 2)
    rset = _rset(texts, texts, [{0}, {0}])
    assert retrieval.evaluate_retrieval(model, tok, rset, layer=1, max_length=16, task="tatoeba", lang="de") == {"accuracy": 50.0, "accuracy_x2en": 50.0}
    assert retrieval.evaluate_retrieval(model, tok, rset, layer=1, max_length=16, task="lareqa", lang="de") == {"map@20": 75.0}
    both = _rset(texts, texts, [{0, 1}, {1}])  # AP = (1/1 + 2/2) / 2 and 1
    assert retrieval.evaluate_retrieval(model, tok, both, layer=2, max_length=16, task="mewslix", lang="de") == {"map@20": 100.0}
    with pytest.raises(StudyError, match="2 queries but 1 gold"):
        retrieval.evaluate_retrieval(model, tok, _rset(texts, texts, [{0}]), layer=1, max_length=16, task="tatoeba")


# --------------------------------------------------------------------------- zero-shot rows
def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A tiny benchmark in XTREME's download layout (en, de)."""
    import json

    root = tmp_path / "data"
    # xnli pairs are 7, 6, 10 (en) and 7, 6 (de) tokens long: see the _LengthModel test
    _write(root / "xnli/test-en.tsv", "the cat\tsat\tneutral\nthe\tno\tentailment\nthe cat sat\ton the mat\tcontradiction\n")
    _write(root / "xnli/test-de.tsv", "the cat\tno\tneutral\nparis\tberlin\tneutral\n")
    _write(root / "panx/test-en.tsv", "john\tB-PER\nran\tO\n\nmary\tB-PER\nwalked\tO\nin\tO\nlondon\tB-LOC\n")
    _write(root / "panx/test-de.tsv", "paris\tB-LOC\nis\tO\nbig\tO\n")
    for lang in ("en", "de"):
        context = "paris is the capital of france and berlin is the capital of germany"
        squad = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
            {"id": f"{lang}1", "question": "what is the capital of germany",
             "answers": [{"answer_start": context.index("berlin"), "text": "berlin"}]},
            {"id": f"{lang}2", "question": "what is the capital of france",
             "answers": [{"answer_start": 0, "text": "paris"}]},
        ]}]}]}
        _write(root / f"xquad/xquad.{lang}.json", json.dumps(squad))
    sentences = "the cat sat\nparis is a city\nmary ran\n"
    _write(root / "tatoeba/v1/tatoeba.deu-eng.deu", sentences)
    _write(root / "tatoeba/v1/tatoeba.deu-eng.eng", sentences)
    return root


def _source(root):
    from helpers.sources import get_source

    return get_source("xtreme-dir", root)


COMMON = dict(profile="smoke", seed=1, max_length=32)


def test_zero_shot_rows_have_exactly_the_columns_pinned(tok, data_dir):
    # _LengthModel(modulo=3) predicts (real tokens % 3): en 7, 6, 10 -> 1, 0, 1 vs gold 1, 0, 2;
    # de 7, 6 -> 1, 0 vs gold 1, 1
    from helpers.sources import source_fingerprint

    items = []
    rows = ev.evaluate_zero_shot(_LengthModel(modulo=3), "xnli", ["en", "de"], _source(data_dir), arm="mnli",
                                 intermediate="mnli", run_dir="runs/mnli___xnli/seed1", tokenizer=tok, items=items,
                                 **COMMON)
    assert [tuple(r) for r in rows] == [ev.ZERO_SHOT_COLUMNS] * 4
    source = "xtreme-dir:" + source_fingerprint(Path(data_dir))  # a digest of its files
    assert rows[0] == {"profile": "smoke", "arm": "mnli", "intermediate": "mnli", "target_task": "xnli",
                       "language": "en", "metric": "accuracy", "value": pytest.approx(200 / 3), "seed": 1,
                       "run_dir": "runs/mnli___xnli/seed1", "model": "", "eval_limit": "all",
                       "source": source, "examples": 3}
    # predictions 1, 0, 1 (en) and 1, 0 (de): the most frequent class is 2 of 3 and 1 of 2
    assert [(r["language"], r["metric"], r["value"], r["examples"]) for r in rows[1:]] == [
        ("en", "top_class_share", pytest.approx(200 / 3), 3), ("de", "accuracy", 50.0, 2),
        ("de", "top_class_share", 50.0, 2)]
    assert [(i["language"], i["item"], i["correct"]) for i in items] == [
        ("en", 0, 1), ("en", 1, 1), ("en", 2, 0), ("de", 0, 1), ("de", 1, 0)]
    assert items[0] == {"profile": "smoke", "arm": "mnli", "seed": 1, "target_task": "xnli", "language": "en",
                        "item": 0, "correct": 1, "model": "", "source": source, "eval_limit": "all"}
    direct = ev.evaluate_zero_shot(_LengthModel(modulo=3), "xnli", ["de"], _source(data_dir), arm="direct",
                                   intermediate=None, run_dir="r", tokenizer=tok, limit=1, **COMMON)
    assert direct[0]["intermediate"] == "" and direct[0]["value"] == 100.0  # limit keeps the first example
    assert direct[0]["eval_limit"] == 1 and direct[0]["examples"] == 1


def test_unknown_language_fails_before_any_compute(data_dir):
    with pytest.raises(StudyError, match=r"unknown language 'xx' for xnli; valid languages: ar, bg, de"):
        ev.evaluate_zero_shot("/nonexistent/run", "xnli", ["en", "xx"], _source(data_dir), arm="direct",
                              intermediate=None, run_dir="r", **COMMON)
    with pytest.raises(StudyError, match="for tatoeba; valid languages: ar, he, vi"):  # no English queries
        ev.evaluate_zero_shot("/nonexistent/run", "tatoeba", ["en"], _source(data_dir), arm="direct",
                              intermediate=None, run_dir="r", **COMMON)
    with pytest.raises(StudyError, match="unknown task 'xnly'"):
        ev.evaluate_zero_shot("/nonexistent/run", "xnly", ["en"], _source(data_dir), arm="direct",
                              intermediate=None, run_dir="r", **COMMON)
    with pytest.raises(StudyError, match="no saved model in"):
        ev.evaluate_zero_shot(data_dir, "xnli", ["en"], _source(data_dir), arm="direct",
                              intermediate=None, run_dir="r", **COMMON)


def _save(model, tok, path: Path) -> Path:
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_zero_shot_from_run_dirs_is_bit_identical(tok, data_dir, tmp_path):
    """Tagging, span QA and retrieval from saved directories: rows, metrics, and determinism."""
    src = _source(data_dir)
    panx = _save(_tiny("XLMRobertaForTokenClassification", num_labels=7), tok, tmp_path / "panx")
    squad = _save(_tiny("XLMRobertaForQuestionAnswering"), tok, tmp_path / "squad")
    encoder = _save(_tiny("XLMRobertaForSequenceClassification", num_labels=3), tok, tmp_path / "mnli")

    def run():
        items = []
        rows = ev.evaluate_zero_shot(panx, "panx", ["en", "de"], src, arm="direct", intermediate=None,
                                     run_dir=str(panx), items=items, **COMMON)
        rows += ev.evaluate_zero_shot(squad, "xquad", ["de"], src, arm="direct", intermediate=None,
                                      run_dir=str(squad), doc_stride=4, items=items, **dict(COMMON, max_length=16))
        # a STILTs arm's retrieval: the intermediate checkpoint's encoder, head dropped
        rows += ev.evaluate_zero_shot(encoder, "tatoeba", ["de"], src, arm="mnli", intermediate="mnli",
                                      run_dir=str(encoder), layer=1, items=items, **COMMON)
        return rows, items

    first, items = run()
    got = {(r["target_task"], r["language"], r["metric"]) for r in first}
    assert {("panx", "en", "f1"), ("panx", "en", "top_class_share"), ("panx", "de", "f1"),
            ("xquad", "de", "exact_match"), ("xquad", "de", "f1"), ("tatoeba", "de", "accuracy")} <= got
    assert {(r["target_task"], r["language"], r["examples"]) for r in first} == {
        ("panx", "en", 2), ("panx", "de", 1), ("xquad", "de", 2), ("tatoeba", "de", 3)}
    tatoeba = [r for r in first if r["target_task"] == "tatoeba" and r["metric"] == "accuracy"]
    assert tatoeba[0]["value"] == 100.0  # identical sentences on both sides
    assert all(0.0 <= r["value"] <= 100.0 for r in first)
    # every primary score is reproduced from its items (the paired bootstrap resamples them)
    from helpers.itemscores import score_from_items
    from helpers.metrics import primary_metric

    for r in first:
        if r["metric"] == primary_metric(r["target_task"]):
            mine = [i for i in items if (i["target_task"], i["language"]) == (r["target_task"], r["language"])]
            assert len(mine) == r["examples"]  # retrieval: from evaluate_retrieval(..., items=)
            assert score_from_items(r["target_task"], mine) == pytest.approx(r["value"], abs=1e-9)
    assert {(i["target_task"], i["language"]) for i in items} == {("panx", "en"), ("panx", "de"), ("xquad", "de"),
                                                                  ("tatoeba", "de")}
    assert run() == (first, items)  # bit-identical on CPU


def test_unlabelled_test_data_is_a_clear_error(tok, data_dir):
    _write(data_dir / "xnli/test-en.tsv", "the cat\tsat\nthe\tno\n")
    with pytest.raises(StudyError, match="no gold labels"):
        ev.evaluate_zero_shot(_LengthModel(modulo=3), "xnli", ["en"], _source(data_dir), arm="direct",
                              intermediate=None, run_dir="r", tokenizer=tok, **COMMON)


def test_record_zero_shot_upserts(isolated_results):
    from helpers.runs import read_table, results_root

    row = {"profile": "smoke", "arm": "mnli", "intermediate": "mnli", "target_task": "xnli", "language": "de",
           "metric": "accuracy", "value": 50.0, "seed": 1, "run_dir": "runs/mnli___xnli/seed1", "model": "tiny",
           "source": "embedded", "eval_limit": 8, "examples": 16}
    path = ev.record_zero_shot([row, dict(row, language="en", value=25.0)])
    assert path == results_root() / "zero_shot.csv"
    assert path.read_text().splitlines()[0] == ",".join(ev.ZERO_SHOT_COLUMNS)
    ev.record_zero_shot([dict(row, value=75.0)])  # same key: replaced, not duplicated
    table = read_table(path)
    assert [(r["language"], r["value"]) for r in table] == [("de", "75.0"), ("en", "25.0")]
    with pytest.raises(StudyError, match="lacks columns run_dir"):
        ev.record_zero_shot([{k: v for k, v in row.items() if k != "run_dir"}])


def test_zero_shot_rows_of_another_eval_limit_or_source_keep_their_own_key(isolated_results):
    """papermill 06_zero_shot -p eval_limit 64 once overwrote the profile's scores (issue 15)."""
    from helpers.runs import read_table, results_root

    row = {"profile": "embedded", "arm": "direct", "intermediate": "", "target_task": "xnli", "language": "de",
           "metric": "accuracy", "value": 50.0, "seed": 1, "run_dir": "r", "model": "e5-small",
           "source": "embedded", "eval_limit": 16, "examples": 16}
    ev.record_zero_shot([row])
    ev.record_zero_shot([dict(row, eval_limit=64, value=32.81)])
    ev.record_zero_shot([dict(row, source="xtreme-dir:0123456789abcdef", value=40.0)])
    ev.record_zero_shot([dict(row, model="xlmr-base", value=41.0)])
    values = sorted(r["value"] for r in read_table(results_root() / "zero_shot.csv"))
    assert values == ["32.81", "40.0", "41.0", "50.0"]


def test_zero_shot_rows_of_an_older_table_are_replaced_on_the_old_key(isolated_results):
    from helpers.runs import read_table, results_root, upsert_rows

    old_cols = ("profile", "arm", "intermediate", "target_task", "language", "metric", "value", "seed", "run_dir")
    old = {"profile": "smoke", "arm": "direct", "intermediate": "", "target_task": "xnli", "language": "de",
           "metric": "accuracy", "value": 10.0, "seed": 1, "run_dir": "r"}
    upsert_rows(results_root() / "zero_shot.csv", [old], key=ev.LEGACY_ZERO_SHOT_KEY, columns=old_cols)
    ev.record_zero_shot([dict(old, value=20.0, model="tiny", source="embedded", eval_limit=8, examples=8)])
    (row,) = read_table(results_root() / "zero_shot.csv")
    assert (row["value"], row["eval_limit"], row["source"]) == ("20.0", "8", "embedded")


def test_record_zero_shot_items_upserts_by_item(isolated_results):
    from helpers.runs import read_table, results_root

    item = {"profile": "smoke", "arm": "direct", "seed": 1, "target_task": "xnli", "language": "de", "item": 0,
            "correct": 1, "model": "tiny", "source": "embedded", "eval_limit": 8}
    path = ev.record_zero_shot_items([item, dict(item, item=1, correct=0)])
    assert path == results_root() / "zero_shot_items.csv"
    assert path.read_text().splitlines()[0] == ",".join(ev.ITEM_COLUMNS)
    ev.record_zero_shot_items([dict(item, correct=0), dict(item, seed=2)])  # item 0 replaced; seed 2 added
    table = read_table(path)
    assert [(r["seed"], r["item"], r["correct"], r["f1"]) for r in table] == [
        ("1", "0", "0", ""), ("1", "1", "0", ""), ("2", "0", "1", "")]
    with pytest.raises(StudyError, match="lacks columns item"):
        ev.record_zero_shot_items([{k: v for k, v in item.items() if k != "item"}])
