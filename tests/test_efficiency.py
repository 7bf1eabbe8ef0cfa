"""helpers.efficiency: the pooled, A/A-calibrated arm comparison, on tiny models and hand-made rows."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from helpers import efficiency
from helpers.bench import FALLBACK_SENTENCES, train_tokenizer, xlmr_shaped_model
from helpers.config import configure
from helpers.errors import StudyError
from helpers.timing import make_batches

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=140)


def _row(arm, task, rep, seconds, tokens=100, position=0, **extra):
    return {"sweep": "arms", "profile": "smoke", "arm": arm, "task": task, "repetition": rep, "position": position,
            "seconds": seconds, "tokens": tokens, "padded_tokens": tokens + 10, "sequences": 4, "batches": 1,
            "batch": 4, "length": 16, "device": "cpu", "dtype": "fp32", "threads": 2, "tokens_per_s": tokens / seconds,
            **extra}


def test_pooled_rows_sum_each_arm_and_repetition_over_tasks():
    rows = [_row("direct", "xnli", 0, 1.0), _row("direct", "panx", 0, 2.0, tokens=300, length=32),
            _row("direct", "xnli", 1, 1.5), _row("direct", "panx", 1, 2.5, tokens=300)]
    pooled = {r["repetition"]: r for r in efficiency.pooled_rows(rows)}
    assert pooled[0]["seconds"] == 3.0 and pooled[0]["tokens"] == 400 and pooled[0]["padded_tokens"] == 420
    assert pooled[0]["tokens_per_s"] == pytest.approx(400 / 3.0) and pooled[1]["seconds"] == 4.0
    assert pooled[0]["sweep"] == "pooled" and pooled[0]["task"] == "all" and pooled[0]["length"] == 32
    assert pooled[0]["sequences"] == 8 and pooled[0]["device"] == "cpu" and pooled[0]["threads"] == 2


def test_ratio_table_puts_the_aa_control_first_and_judges_at_one_percent():
    rows = []
    for rep in range(12):
        wobble = 1.0 + 0.002 * (-1) ** rep
        rows += [_row("direct", "xnli", rep, 1.0), _row("mnli", "xnli", rep, 1.0 / 1.03),
                 _row(efficiency.AA_ARM, "xnli", rep, wobble)]
    table = efficiency.ratio_table(rows, by=("sweep",))
    assert list(table["arm"]) == ["direct-aa", "mnli"]
    aa, mnli = table.iloc[0], table.iloc[1]
    assert aa["verdict"] == "equivalent" and 0.99 < aa["ci_lo"] < aa["ci_hi"] < 1.01
    assert mnli["verdict"] == "different" and mnli["ratio"] == pytest.approx(1.03)


def test_position_effects_relative_to_the_repetition_median():
    # position 2 is always 10 % slower than the other two (which sit at the median)
    rows = []
    for rep in range(4):
        for pos, arm in enumerate(["direct", "mnli", "direct-aa"]):
            rows.append(_row(arm, "xnli", rep, 1.1 if pos == 2 else 1.0, position=pos))
    table = efficiency.position_effects(rows)
    assert list(table.index) == [0, 1, 2] and list(table["passes"]) == [4, 4, 4]
    assert table.loc[2, "relative time"] == pytest.approx(1.1) and table.loc[0, "relative time"] == pytest.approx(1.0)
    assert table.loc[2, "half_width_95"] == pytest.approx(0.0)


def test_subnormal_by_arm_sums_task_models():
    import pandas as pd

    sub = pd.DataFrame([{"arm": "direct", "task": "xnli", "values": 1000, "subnormal": 1, "zero": 3},
                        {"arm": "direct", "task": "panx", "values": 1000, "subnormal": 3, "zero": 0},
                        {"arm": "mnli", "task": "xnli", "values": 2000, "subnormal": 0, "zero": 0}])
    out = efficiency.subnormal_by_arm(sub)
    assert out.loc["direct", "subnormal"] == 4 and out.loc["direct", "subnormal per million"] == 2000.0
    assert list(out.index) == ["direct", "mnli"]


@pytest.fixture
def tiny_arms(monkeypatch):
    """Every arm of the smoke profile is a tiny model (one per arm and task); inputs from a trained tokenizer."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    tok = train_tokenizer(list(FALLBACK_SENTENCES), vocab_size=120)
    loaded = []

    def load(cfg, arm, task):
        loaded.append((arm, task))
        return xlmr_shaped_model(vocab_size=len(tok), seed=0 if arm in ("direct", "direct-aa") else 1, **TINY)

    monkeypatch.setattr(efficiency, "load_arm_model", load)
    monkeypatch.setattr("helpers.models.load_tokenizer", lambda preset: tok)
    monkeypatch.setattr(efficiency, "task_inputs", lambda cfg, task, tokenizer, examples, batch_size:
                        make_batches(tok, list(FALLBACK_SENTENCES)[:examples], batch_size, 16))
    yield loaded
    torch.set_num_threads(before)


def test_time_arms_pooled_times_the_aa_copy_in_a_balanced_order(tiny_arms):
    cfg = configure(profile="smoke", task="xnli,panx", arm="direct,mnli")
    got = efficiency.time_arms_pooled(cfg, repeats=6, min_seconds=0.02, examples=8, batch_size=4)
    # the direct model is loaded twice per task: once as direct, once (independently) as direct-aa
    assert Counter(tiny_arms) == Counter({(a, t): 1 for a in ("direct", "mnli", "direct-aa") for t in ("xnli", "panx")})
    assert {r["arm"] for r in got.rows} == {"direct", "mnli", "direct-aa"} and len(got.rows) == 2 * 3 * 6
    for task in ("xnli", "panx"):  # 3 arms, 6 repetitions: one odd Williams block, each arm twice in each position
        mine = [r for r in got.rows if r["task"] == task]
        assert set(Counter((r["arm"], r["position"]) for r in mine).values()) == {2}
    assert len(got.pooled) == 3 * 6 and {r["sweep"] for r in got.pooled} == {"pooled"}
    cal = got.calibration.set_index("task")
    for p in got.pooled:
        parts = [r for r in got.rows if r["arm"] == p["arm"] and r["repetition"] == p["repetition"]]
        assert p["seconds"] == pytest.approx(sum(r["seconds"] for r in parts))
    for r in got.rows:  # every pass holds its task's inputs `copies` times
        assert r["batches"] == cal.loc[r["task"], "batches"] * cal.loc[r["task"], "copies"]
    assert list(got.latency["arm"]) == ["direct", "mnli", "direct-aa"] and set(got.latency["task"]) == {"xnli"}
    assert (got.latency["p50_ms"] <= got.latency["p99_ms"]).all() and (got.latency["n"] == 8).all()
    assert list(got.subnormal["arm"]).count("direct-aa") == 2 and (got.subnormal["subnormal"] == 0).all()
    with pytest.raises(StudyError, match="direct"):
        efficiency.time_arms_pooled(cfg, arms=["mnli"], repeats=2)
    with pytest.raises(StudyError, match="repeats"):
        efficiency.time_arms_pooled(cfg, repeats=1)
