"""helpers.efficiency: the pooled, A/A-calibrated arm comparison, on tiny models and hand-made rows."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
import torch

from helpers import compression, deployed, efficiency
from tiny_models import FALLBACK_SENTENCES, train_tokenizer, xlmr_shaped_model
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


def test_position_effects_relative_to_the_repetition_mean():
    # position 2 is always 10 % slower than the other two: relative to the mean 3.1 / 3 of its repetition
    rows = []
    for rep in range(4):
        for pos, arm in enumerate(["direct", "mnli", "direct-aa"]):
            rows.append(_row(arm, "xnli", rep, 1.1 if pos == 2 else 1.0, position=pos))
    table = efficiency.position_effects(rows)
    assert list(table.index) == [0, 1, 2] and list(table["passes"]) == [4, 4, 4]
    assert table.loc[2, "relative time"] == pytest.approx(3.3 / 3.1) and table.loc[0, "relative time"] == pytest.approx(3 / 3.1)
    assert table.loc[2, "half_width_95"] == pytest.approx(0.0)


def test_position_effects_per_batch_from_the_batch_log():
    # the batch log of a batch-by-batch comparison: whichever arm runs first on a batch is 20 % slower,
    # while the batches themselves differ in length (1 s, 2 s): each is compared with its own mean
    log = []
    for rep in range(2):
        for j, base in enumerate([1.0, 2.0]):
            order = ["direct", "mnli"] if (rep + j) % 2 == 0 else ["mnli", "direct"]
            for pos, arm in enumerate(order):
                log.append({"arm": arm, "task": "xnli", "repetition": rep, "batch_index": j, "position": pos,
                            "seconds": base * (1.2 if pos == 0 else 1.0)})
    table = efficiency.position_effects(pd.DataFrame(log))
    assert list(table["batches"]) == [4, 4]
    assert table.loc[0, "relative time"] == pytest.approx(1.2 / 1.1) and table.loc[1, "relative time"] == pytest.approx(1 / 1.1)


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


@pytest.mark.parametrize("interleave", ["batch", "pass"])
def test_time_arms_pooled_times_the_aa_copy_in_a_balanced_order(tiny_arms, interleave):
    cfg = configure(profile="smoke", task="xnli,panx", arm="direct,mnli")
    got = efficiency.time_arms_pooled(cfg, repeats=6, min_seconds=0.02, examples=8, batch_size=4, interleave=interleave)
    # per task: first an untimed ballast copy of direct, then the timed models in a seeded order of their own
    # (pinned for seed 1): direct is not always the first timed model loaded, nor direct-aa the last
    assert tiny_arms == [("direct", "xnli"), ("mnli", "xnli"), ("direct-aa", "xnli"), ("direct", "xnli"),
                         ("direct", "panx"), ("mnli", "panx"), ("direct", "panx"), ("direct-aa", "panx")]
    assert list(got.calibration["load_order"]) == ["mnli direct-aa direct", "mnli direct direct-aa"]
    assert got.settings["ballast"] is True and got.settings["load_order"] == "seeded"
    assert set(got.subnormal["arm"]) == {"direct", "mnli", "direct-aa"}  # the ballast is never counted or timed
    assert {r["arm"] for r in got.rows} == {"direct", "mnli", "direct-aa"} and len(got.rows) == 2 * 3 * 6
    assert got.settings["interleave"] == interleave and got.settings["prime"] == (1 if interleave == "pass" else 0)
    if interleave == "pass":  # 3 arms, 6 repetitions: one odd Williams block, each arm twice in each position
        for task in ("xnli", "panx"):
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


def test_time_arms_pooled_gives_every_model_the_same_untimed_passes(tiny_arms, monkeypatch):
    # direct used to get one untimed pass more than the other models (it alone set the calibration):
    # now every timed model gets the same untimed passes, and the calibration is their median
    untimed, seen = Counter(), {}
    real_pass, real_entries = efficiency.timed_pass, efficiency.time_entries

    def counting_pass(model, batches, device):
        untimed[id(model)] += 1
        return real_pass(model, batches, device)

    def snapshot(entries, **kw):
        for labels, model, _ in entries:
            seen[(labels["task"], labels["arm"])] = untimed[id(model)]
        return real_entries(entries, **kw)

    monkeypatch.setattr(efficiency, "timed_pass", counting_pass)
    monkeypatch.setattr(efficiency, "time_entries", snapshot)
    cfg = configure(profile="smoke", task="xnli,panx", arm="direct,mnli")
    got = efficiency.time_arms_pooled(cfg, repeats=2, min_seconds=0.02, examples=8, batch_size=4)
    assert set(seen) == {(t, a) for t in ("xnli", "panx") for a in ("direct", "mnli", "direct-aa")}
    assert set(seen.values()) == {2}
    assert (got.calibration["calibration_s"] > 0).all()


# --------------------------------------------------------------------------- accuracy under compression
def _bert_classifier(layers=2):
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(**dict(TINY, num_hidden_layers=layers), vocab_size=50, num_labels=3)
    return transformers.BertForSequenceClassification(config).eval()


def test_ffn_linear_names_are_the_feed_forward_blocks_only():
    names = compression.ffn_linear_names(_bert_classifier())
    assert names == ["bert.encoder.layer.0.intermediate.dense", "bert.encoder.layer.0.output.dense",
                     "bert.encoder.layer.1.intermediate.dense", "bert.encoder.layer.1.output.dense"]


def test_compress_variants_and_module_precisions():
    model = _bert_classifier()
    table = {v: compression.module_precisions(compression.compress(model, v)) for v in ("fp32", "int8", "int8-mixed")}

    def count(variant, role, precision):
        t = table[variant]
        return int(t[(t["role"] == role) & (t["precision"] == precision)]["modules"].sum())

    assert count("int8", "task head", "int8") == 1 and count("int8", "task head (pooler)", "int8") == 1
    assert count("int8", "FFN out (4h -> hidden)", "int8") == 2 and count("int8", "LayerNorm", "fp32") == 5
    assert count("int8", "embeddings", "fp32") == 3 and count("int8", "attention q/k/v", "int8") == 6
    assert count("int8-mixed", "FFN out (4h -> hidden)", "fp32") == 2
    assert count("int8-mixed", "FFN in (hidden -> 4h)", "fp32") == 2 and count("int8-mixed", "attention output", "int8") == 2
    assert count("int8-mixed", "task head", "int8") == 1
    assert set(table["fp32"]["precision"]) == {"fp32"}
    assert compression.compress(model, "fp32") is model
    with pytest.raises(StudyError, match="valid compressions: fp32, bf16, int8, int8-mixed"):
        compression.compress(model, "int4")


class _OneLinear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 2)

    def forward(self, x, attention_mask):
        return self.proj(x)


def test_linear_input_outliers_pins_the_int8_step_and_the_zeroed_share():
    # one outlier dimension (100) in real tokens; the padded position's -20 widens the range int8 sees
    x = torch.tensor([[[100.0, 0.1, 0.2, -0.1], [0.3, 0.1, 0.1, 0.1], [-20.0, 0.0, 0.0, 0.0]]])
    table = compression.linear_input_outliers(_OneLinear(), [{"x": x, "attention_mask": torch.tensor([[1, 1, 0]])}])
    row = table.iloc[0]
    assert row["module"] == "proj" and row["max_abs"] == pytest.approx(100.0) and row["top_dim"] == 0
    assert row["outlier_dims"] == 1 and row["int8_step"] == pytest.approx(120.0 / 127)
    assert row["zeroed"] == pytest.approx(7 / 8)  # every real input but the outlier is below half a step
    assert row["median_abs"] == pytest.approx(0.1)
    summary = compression.outliers_by_role(table)
    assert summary.loc["other", "layers with outlier dims"] == 1


def test_mlperf_verdicts_at_99_percent_of_fp32():
    rows = [{"task": "xnli", "arm": "direct", "dtype": "fp32", "examples": 64, "value": 60.0},
            {"task": "xnli", "arm": "direct", "dtype": "int8", "examples": 64, "value": 59.4},
            {"task": "xnli", "arm": "direct", "dtype": "int8-mixed", "examples": 64, "value": 59.3},
            {"task": "xnli", "arm": "mnli", "dtype": "fp32", "examples": 64, "value": 50.0},
            {"task": "xnli", "arm": "mnli", "dtype": "int8", "examples": 64, "value": 51.0}]
    out = {(r["arm"], r["dtype"]): r for r in compression.mlperf_verdicts(rows)}
    assert out[("direct", "int8")]["mlperf_99"] == "keeps 99%" and out[("direct", "int8")]["keep"] == pytest.approx(0.99)
    assert out[("direct", "int8-mixed")]["mlperf_99"] == "loses" and out[("direct", "fp32")]["mlperf_99"] == "(reference)"
    assert out[("mnli", "int8")]["fp32_value"] == 50.0 and out[("mnli", "int8")]["mlperf_99"] == "keeps 99%"
    with pytest.raises(StudyError, match="no fp32 score"):
        compression.mlperf_verdicts(rows[1:2])


def test_compression_scores_score_every_example_and_record_a_keyed_table(monkeypatch, tmp_path):
    from helpers import evaluation, pipeline, sources
    from helpers.runs import read_table
    from helpers.devices import dtype_label

    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli")
    model = _bert_classifier()
    monkeypatch.setattr(deployed, "load_arm_model", lambda cfg, arm, task: model)
    monkeypatch.setattr(pipeline, "arm_model", lambda cfg, arm, task: ("x", f"runs/{arm}___{task}/seed1"))
    monkeypatch.setattr(pipeline, "source_id", lambda cfg: "embedded")
    monkeypatch.setattr("helpers.models.load_tokenizer", lambda preset: None)
    monkeypatch.setattr(sources, "load_examples", lambda task, split, lang, source, limit=None: [{}] * (limit or 7))
    seen = []

    def fake_eval(m, task, langs, source, *, arm, limit, items, **kw):
        seen.append(limit)
        mixed = type(m.bert.encoder.layer[0].output.dense) is torch.nn.Linear and dtype_label(m) == "int8"
        value = {"fp32": 60.0, "int8": 30.0}[dtype_label(m)] + (29.7 if mixed else 0.0) - (5 if arm == "mnli" else 0)
        # 1000 items per language: the first round(10 * value) correct, so the items give the same score
        items.extend({"language": lang, "item": i, "correct": int(i < round(10 * value))} for lang in langs
                     for i in range(1000))
        return [{"metric": "accuracy", "value": value, "language": lang} for lang in langs]

    monkeypatch.setattr(evaluation, "evaluate_zero_shot", fake_eval)
    frame = compression.compression_scores(cfg, ["xnli"])
    assert seen == [None] * 6 and set(frame["examples"]) == {7}
    got = frame.set_index(["arm", "dtype"])
    assert got.loc[("direct", "int8"), "keep"] == pytest.approx(0.5) and got.loc[("direct", "int8"), "mlperf_99"] == "loses"
    assert got.loc[("direct", "int8-mixed"), "value"] == pytest.approx(59.7)
    assert got.loc[("direct", "int8-mixed"), "mlperf_99"] == "keeps 99%"
    assert got.loc[("mnli", "int8-mixed"), "keep"] == pytest.approx(54.7 / 55.0)
    assert got.loc[("mnli", "int8-mixed"), "mlperf_99"] == "keeps 99%"  # 0.9945
    # the paired interval: int8 changes 300 of 1000 items per language from right to wrong, never the reverse
    assert got.loc[("direct", "int8"), "change"] == pytest.approx(-30.0)
    # normal approximation: 1.96 * 100 * sqrt(0.3 * 0.7 / 1000) per language, averaged over independent languages
    half = 1.96 * 100 * (0.3 * 0.7 / 1000) ** 0.5 / len(cfg.test_languages("xnli")) ** 0.5
    assert got.loc[("direct", "int8"), "change_lo"] == pytest.approx(-30.0 - half, abs=0.25)
    assert got.loc[("direct", "int8"), "change_hi"] == pytest.approx(-30.0 + half, abs=0.25)
    assert got.loc[("direct", "fp32"), ["change", "change_lo", "change_hi"]].tolist() == [0.0, 0.0, 0.0]
    # 3 of 1000 items per language, all from right to wrong: a small loss, and the interval stays below 0
    mixed = got.loc[("direct", "int8-mixed")]
    assert mixed["change"] == pytest.approx(-0.3) and -0.7 < mixed["change_lo"] < -0.3 < mixed["change_hi"] < 0
    path = compression.record_compression(frame, tmp_path / "compression.csv")
    compression.record_compression(frame, path)  # rerun: replaced, not duplicated
    table = read_table(path)
    assert len(table) == 6 and list(table[0])[:8] == list(compression.COMPRESSION_KEY)
    with pytest.raises(StudyError, match="must include fp32"):
        compression.compression_scores(cfg, ["xnli"], dtypes=("int8",))


def test_compression_source_reads_a_larger_test_split_of_the_same_benchmark(monkeypatch, tmp_path):
    from helpers import sources

    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path))
    cfg = configure(profile="embedded", task="xnli", arm="direct")
    ref = cfg.data_source()
    assert compression.compression_examples("embedded") == 128 and compression.compression_examples("smoke") is None
    assert compression.compression_source(cfg, "xnli", None) == (ref, None)
    assert compression.compression_source(cfg, "xnli", 50) == (ref, 50)  # the reference files hold 64
    larger, limit = compression.compression_source(cfg, "xnli", 100)
    assert limit is None and larger.root != ref.root
    for lang in ("en", "sw"):
        old = sources.load_examples("xnli", "test", lang, ref)
        new = sources.load_examples("xnli", "test", lang, larger)
        assert (len(old), len(new)) == (64, 100)
        assert {compression._example_key(e) for e in old} <= {compression._example_key(e) for e in new}
    # the models' training data is the same file, byte for byte
    assert (ref.root / "mnli" / "train.tsv").read_bytes() == (larger.root / "mnli" / "train.tsv").read_bytes()
    with pytest.raises(StudyError, match="per_language must be a positive integer"):
        compression.compression_source(cfg, "xnli", 0)


def test_compression_source_refuses_a_benchmark_whose_training_data_differs(monkeypatch, tmp_path):
    from helpers import sources

    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path))
    cfg = configure(profile="embedded", task="xnli", arm="direct")
    real_load = sources.load_examples

    def drifted(task, split, lang, source, limit=None):
        examples = real_load(task, split, lang, source, limit)
        return examples[1:] if split == "train" and "embedded-13-" in str(source.root) and source.root != cfg.data_source().root else examples

    monkeypatch.setattr(sources, "load_examples", drifted)
    with pytest.raises(StudyError, match="xnli train file differs from the one the runs trained on"):
        compression.compression_source(cfg, "xnli", 100)


def test_compression_scores_direct_only_variants(monkeypatch):
    from helpers import evaluation, pipeline, sources

    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli")
    monkeypatch.setattr(deployed, "load_arm_model", lambda cfg, arm, task: _bert_classifier())
    monkeypatch.setattr(pipeline, "arm_model", lambda cfg, arm, task: ("x", "runs/x"))
    monkeypatch.setattr(pipeline, "source_id", lambda cfg: "embedded")
    monkeypatch.setattr("helpers.models.load_tokenizer", lambda preset: None)
    monkeypatch.setattr(sources, "load_examples", lambda task, split, lang, source, limit=None: [{}] * 5)
    def fake_eval(m, task, langs, source, *, items, **kw):
        items.extend({"language": lang, "item": i, "correct": i % 2} for lang in langs for i in range(4))
        return [{"metric": "accuracy", "value": 50.0, "language": lang} for lang in langs]

    monkeypatch.setattr(evaluation, "evaluate_zero_shot", fake_eval)
    frame = compression.compression_scores(cfg, ["xnli"], dtypes=("fp32", "int8", "int8-mixed"), direct_only=("int8",))
    assert sorted(zip(frame["arm"], frame["dtype"])) == [("direct", "fp32"), ("direct", "int8"), ("direct", "int8-mixed"),
                                                         ("mnli", "fp32"), ("mnli", "int8-mixed")]
