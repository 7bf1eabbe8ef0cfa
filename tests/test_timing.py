"""helpers.timing on tiny XLM-R-shaped models and a tokenizer trained in the test (no timed assertions)."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
import torch

from tiny_models import FALLBACK_SENTENCES, train_tokenizer, xlmr_shaped_model
from helpers.errors import StudyError
from helpers import devices, interleave, peaks, sweeps, timing
from helpers.runs import read_table

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=140)
TEXTS = list(FALLBACK_SENTENCES) + ["Ja.", "Oui, bien sûr, demain matin si tu veux bien venir avec nous à la gare."]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machine is shared: one thread is fastest and deterministic
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=120)


@pytest.fixture(scope="module")
def tiny(tok):
    return xlmr_shaped_model(vocab_size=len(tok), seed=0, **TINY)


def unpadded(batches):
    return [tuple(ids[mask.bool()].tolist()) for b in batches for ids, mask in zip(b["input_ids"], b["attention_mask"])]


# --------------------------------------------------------------------------- batches
def test_bucketed_batches_hold_exactly_the_input_sentences(tok):
    batches = timing.make_batches(tok, TEXTS, batch_size=4, max_length=16)
    expected = Counter(tuple(ids) for ids in tok(TEXTS, truncation=True, max_length=16)["input_ids"])
    assert Counter(unpadded(batches)) == expected
    assert [b["input_ids"].shape[0] for b in batches] == [4, 4, 4, 2]
    lengths = [int(m.sum()) for b in batches for m in b["attention_mask"]]
    assert lengths == sorted(lengths)  # bucketed: sorted by length
    for b in batches:  # each padded only to its own longest
        assert b["input_ids"].shape[1] == int(b["attention_mask"].sum(1).max())


def test_naive_batches_pad_to_max_length_in_input_order(tok):
    batches = timing.make_batches(tok, TEXTS, batch_size=5, max_length=16, bucketed=False)
    assert all(b["input_ids"].shape[1] == 16 for b in batches)
    assert unpadded(batches) == [tuple(ids) for ids in tok(TEXTS, truncation=True, max_length=16)["input_ids"]]


def test_synthetic_batches_are_full():
    (b,) = timing.synthetic_batches(3, 7, vocab_size=50)
    assert b["input_ids"].shape == (3, 7) and timing.real_tokens([b]) == 21


# --------------------------------------------------------------------------- the timer
def test_schedule_alternates_and_random_is_a_seeded_permutation():
    assert interleave.schedule(2, 4) == [[0, 1], [1, 0], [0, 1], [1, 0]]
    assert interleave.schedule(3, 2, "fixed") == [[0, 1, 2], [0, 1, 2]]
    rnd = interleave.schedule(3, 5, "random", seed=1)
    assert all(sorted(s) == [0, 1, 2] for s in rnd) and rnd == interleave.schedule(3, 5, "random", seed=1)


def test_williams_square_pinned_and_balanced():
    assert interleave.williams_square(4) == [[0, 1, 3, 2], [1, 2, 0, 3], [2, 3, 1, 0], [3, 0, 2, 1]]
    assert interleave.williams_square(2) == [[0, 1], [1, 0]]
    assert interleave.williams_square(3)[3:] == [[2, 1, 0], [0, 2, 1], [1, 0, 2]]  # odd n: mirrored rows added
    for n in (2, 3, 4, 5, 6):
        rows = interleave.williams_square(n)
        assert len(rows) == (n if n % 2 == 0 else 2 * n)
        per_position = Counter((pos, x) for row in rows for pos, x in enumerate(row))
        assert set(per_position.values()) == {len(rows) // n}  # every entry in every position equally often
        follows = Counter((row[i], row[i + 1]) for row in rows for i in range(n - 1))
        assert len(follows) == n * (n - 1) and len(set(follows.values())) == 1  # every ordered pair equally often


def test_balanced_schedule_gives_every_arm_every_position_equally_often():
    # 6 arms (five of the embedded profile and direct-aa), 12 repetitions: two Williams blocks
    plan = interleave.schedule(6, 12, "balanced", seed=3)
    assert plan == interleave.schedule(6, 12, "balanced", seed=3) and plan != interleave.schedule(6, 12, "balanced", seed=4)
    assert all(sorted(row) == list(range(6)) for row in plan)
    assert set(Counter((pos, x) for row in plan for pos, x in enumerate(row)).values()) == {2}
    # the old alternating order never puts arm 0 in the middle: the imbalance this replaces
    alt = Counter((pos, x) for row in interleave.schedule(6, 12) for pos, x in enumerate(row))
    assert alt[(0, 0)] == 6 and alt[(2, 0)] == 0
    with pytest.raises(StudyError, match="balanced"):
        interleave.schedule(2, 2, "latin")


def test_time_arms_interleaves_and_counts_real_tokens(tok, tiny):
    batches = timing.make_batches(tok, TEXTS, batch_size=4, max_length=16)
    other = xlmr_shaped_model(vocab_size=len(tok), seed=1, **TINY)
    rows = timing.time_arms({"direct": tiny, "mnli": other}, batches, warmup=0, repeats=4, device="cpu")
    assert [r["arm"] for r in rows] == ["direct", "mnli", "mnli", "direct", "direct", "mnli", "mnli", "direct"]
    assert [r["repetition"] for r in rows] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [r["position"] for r in rows] == [0, 1] * 4
    real = sum(len(ids) for ids in tok(TEXTS, truncation=True, max_length=16)["input_ids"])
    padded = sum(b["input_ids"].numel() for b in batches)
    assert real < padded
    for r in rows:
        assert r["tokens"] == real and r["padded_tokens"] == padded
        assert r["sequences"] == len(TEXTS) and r["batches"] == 4 and r["dtype"] == "fp32"
        assert r["tokens_per_s"] == pytest.approx(real / r["seconds"])
        assert r["sequences_per_s"] == pytest.approx(len(TEXTS) / r["seconds"])


def test_time_arms_rejects_bad_input(tok, tiny):
    batches = timing.make_batches(tok, TEXTS[:2], batch_size=2, max_length=8)
    with pytest.raises(StudyError, match="valid dtypes"):
        timing.time_arms({"a": tiny}, batches, dtype="int4")
    with pytest.raises(StudyError, match="valid devices"):
        timing.time_arms({"a": tiny}, batches, device="tpu")
    with pytest.raises(StudyError):
        timing.time_arms({}, batches)
    with pytest.raises(StudyError, match="repeats"):
        timing.time_arms({"a": tiny}, batches, repeats=0)
    with pytest.raises(StudyError):
        timing.make_batches(tok, [], 2, 8)
    if not torch.cuda.is_available():
        with pytest.raises(StudyError, match="no CUDA GPU"):
            devices.resolve_device("cuda")


# --------------------------------------------------------------------------- precision
def test_quantize_int8_keeps_outputs_close_and_leaves_the_original(tok):
    model = xlmr_shaped_model(vocab_size=len(tok), seed=0, **dict(TINY, hidden_size=64, intermediate_size=128))
    (batch,) = timing.make_batches(tok, TEXTS, batch_size=len(TEXTS), max_length=16)
    with torch.inference_mode():
        ref = model(**batch).last_hidden_state
        q = devices.quantize_int8(model)
        out = q(**batch).last_hidden_state
    mask = batch["attention_mask"].bool()
    cos = torch.nn.functional.cosine_similarity(ref[mask], out[mask], dim=-1)
    assert float(cos.min()) > 0.99
    assert devices.dtype_label(q) == "int8" and devices.dtype_label(model) == "fp32"
    assert type(model.encoder.layer[0].intermediate.dense) is torch.nn.Linear


def _tiny_classifier(vocab_size, kind="bert"):
    """A 2-layer sequence classifier: BERT (the converted e5-small) or XLM-R (its head has two Linear layers)."""
    import transformers

    torch.manual_seed(0)
    shape = dict(TINY, vocab_size=vocab_size, num_labels=3)
    if kind == "bert":
        return transformers.BertForSequenceClassification(transformers.BertConfig(**shape)).eval()
    return transformers.XLMRobertaForSequenceClassification(transformers.XLMRobertaConfig(**shape)).eval()


def _precisions(model):
    """{module name: 'int8' | 'fp32'} for every module that holds weights."""
    out = {}
    for name, module in model.named_modules():
        if "quantized" in type(module).__module__ and hasattr(module, "weight"):
            out[name] = "int8"
        elif list(module.parameters(recurse=False)):
            out[name] = {torch.float32: "fp32"}.get(next(module.parameters(recurse=False)).dtype, "other")
    return out


@pytest.mark.parametrize("kind", ["bert", "xlmr"])
def test_quantize_int8_quantizes_every_linear_and_the_head_but_not_embeddings_or_layernorm(tok, kind):
    model = _tiny_classifier(len(tok), kind)
    q = devices.quantize_int8(model)
    prec = _precisions(q)
    int8 = sorted(n for n, p in prec.items() if p == "int8")
    fp32 = sorted(n for n, p in prec.items() if p == "fp32")
    # 2 layers x (q, k, v, attention output, FFN in, FFN out) + the head's Linear layers
    head = ["bert.pooler.dense", "classifier"] if kind == "bert" else ["classifier.dense", "classifier.out_proj"]
    assert len(int8) == 12 + 2 and set(head) <= set(int8)
    assert all("LayerNorm" in n or "embeddings" in n for n in fp32)
    assert sum("LayerNorm" in n for n in fp32) == 1 + 2 * 2  # embedding LN + two per layer
    assert sum(n.endswith("_embeddings") for n in fp32) == 3  # word, position, token type
    assert set(_precisions(model).values()) == {"fp32"}  # the original is left untouched


def test_quantize_int8_keeps_named_linear_layers_in_fp32(tok):
    model = _tiny_classifier(len(tok))
    keep = ["bert.encoder.layer.0.output.dense", "classifier"]
    prec = _precisions(devices.quantize_int8(model, keep_fp32=keep))
    assert prec["bert.encoder.layer.0.output.dense"] == "fp32" and prec["classifier"] == "fp32"
    assert prec["bert.encoder.layer.0.attention.output.dense"] == "int8" and prec["bert.pooler.dense"] == "int8"
    assert sum(p == "int8" for p in prec.values()) == 14 - 2
    with pytest.raises(StudyError, match="keep_fp32 names no Linear module.*valid"):
        devices.quantize_int8(model, keep_fp32=["bert.encoder.layer.0.output.LayerNorm"])


def test_cast_bf16(tok):
    model = xlmr_shaped_model(vocab_size=len(tok), **TINY)
    assert devices.dtype_label(devices.cast(model, "bf16")) == "bf16"


# --------------------------------------------------------------------------- FLOPs and peaks
def test_flops_per_token_pinned_including_attention():
    model = xlmr_shaped_model(vocab_size=100, **TINY)
    ids = torch.randint(5, 100, (2, 10), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # 17 real tokens
    # per layer: linears 2*B*S*(4*H*H + 2*H*F) = 2*20*(4096 + 4096) = 327680;
    # attention QK^T and AV: 2 * (2*B*S*S*H) = 2 * 12800 = 25600; two layers -> 706560
    got = peaks.flops_per_token(model, {"input_ids": ids, "attention_mask": mask})
    assert got == pytest.approx(706560 / 17)
    assert model.config._attn_implementation == "sdpa"  # restored after counting


def test_matmul_peak_and_utilisation():
    peak = peaks.measure_matmul_peak("fp32", "cpu", n=64, min_seconds=0.01)
    assert peak > 0
    u = peaks.utilisation(1e6, 1e3, 4e9)
    assert u["achieved_flops"] == 1e9 and u["fraction_of_peak"] == 0.25
    assert peaks.datasheet_peak("NVIDIA H100 80GB HBM3", "bf16") == 989e12
    assert peaks.datasheet_peak("NVIDIA H100 PCIe", "bf16") is None
    assert peaks.datasheet_peak("NVIDIA H100 80GB HBM3", "fp32") is None


def test_filled_texts_are_real_sentences_exactly_at_length(tok):
    out = sweeps.filled_texts(tok, TEXTS, 24, 3)
    assert len(out) == 3 and out[0].startswith(TEXTS[0] + " " + TEXTS[1])
    for text in out:
        assert len(tok(text, truncation=True, max_length=24)["input_ids"]) == 24
    with pytest.raises(StudyError):
        sweeps.filled_texts(tok, ["", "  "], 8, 1)


def test_batch_latency_percentiles_pinned(monkeypatch):
    times = iter([0.5, 0.001, 0.002, 0.003, 0.004, 0.010])  # one warm-up, then five requests
    monkeypatch.setattr(timing, "timed_pass", lambda model, batches, device: next(times))
    lat = timing.batch_latency(None, [{"input_ids": torch.ones(1, 2)}] * 5, warmup=1)
    assert lat["n"] == 5 and lat["p50_ms"] == pytest.approx(3.0) and lat["mean_ms"] == pytest.approx(4.0)
    assert lat["p90_ms"] == pytest.approx(7.6) and lat["p99_ms"] == pytest.approx(9.76)  # linear interpolation


def test_latency_and_memory_report_their_fields(tok, tiny):
    lat = timing.latency_percentiles(tiny, tok, TEXTS[:6], max_length=16, warmup=1)
    assert lat["n"] == 6 and lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"]



class _Allocates(torch.nn.Module):
    """A model whose forward pass holds ``mib`` MiB of activations for a moment (then frees them)."""

    def __init__(self, mib: int):
        super().__init__()
        self.mib = mib

    def forward(self, input_ids, attention_mask):
        import time

        held = torch.ones(self.mib * 2**20 // 4)  # float32: 4 bytes each, every page written
        time.sleep(0.05)  # long enough for the 2 ms sampler to see it
        return held.sum()


def test_peak_memory_measures_what_the_pass_adds():
    ids = torch.ones(1, 4, dtype=torch.long)
    batch = [{"input_ids": ids, "attention_mask": ids}]
    # 128 MiB held during the pass (above glibc's largest mmap threshold, so freed back to the OS afterwards):
    # the peak is at least that and well below the process's whole resident size (the model has no weights)
    peak = timing.peak_memory_mb(_Allocates(128), batch)
    assert 120.0 <= peak <= 200.0
    assert timing.peak_memory_mb(_Allocates(0), batch) < 60.0



class _Chunks(torch.nn.Module):
    """Holds ``mib`` MiB of activations in 64 KiB tensors for a moment: below glibc's mmap threshold, so once freed
    they stay in the heap and a later pass reuses them without growing the resident set."""

    def __init__(self, mib: int):
        super().__init__()
        self.mib = mib

    def forward(self, input_ids, attention_mask):
        import time

        held = [torch.ones(2**14) for _ in range(self.mib * 16)]
        time.sleep(0.05)
        return len(held)


def test_peak_memory_of_warm_passes_still_counts_their_activations():
    # the chapter measures after its timed passes: freed heap memory used to be reused unseen (0 MiB)
    batch = [{"input_ids": torch.ones(1, 4, dtype=torch.long), "attention_mask": torch.ones(1, 4, dtype=torch.long)}]
    model = _Chunks(64)
    peaks = [timing.peak_memory_mb(model, batch) for _ in range(4)]
    assert all(60.0 <= p <= 100.0 for p in peaks), peaks


class _Weights(torch.nn.Module):
    """64 MiB of fp32 weights and a forward pass that needs almost nothing on top."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(16 * 2**20))

    def forward(self, input_ids, attention_mask):
        return self.weight[:4].sum()


def test_peak_memory_includes_the_weights():
    batch = [{"input_ids": torch.ones(1, 4, dtype=torch.long), "attention_mask": torch.ones(1, 4, dtype=torch.long)}]
    model = _Weights()
    assert timing.model_bytes(model) == 64 * 2**20
    timing.peak_memory_mb(model, batch)  # warm
    assert 64.0 <= timing.peak_memory_mb(model, batch) <= 100.0
    q = devices.quantize_int8(torch.nn.Sequential(torch.nn.Linear(256, 128)))
    assert timing.model_bytes(q) == 256 * 128 + 128 * 4  # int8 weights packed outside parameters(), fp32 bias

# --------------------------------------------------------------------------- early exit
def test_truncate_layers_equals_the_hidden_state_of_that_layer(tok):
    model = xlmr_shaped_model(vocab_size=len(tok), **dict(TINY, num_hidden_layers=4)).eval()
    (batch,) = timing.make_batches(tok, TEXTS[:3], batch_size=3, max_length=16)
    short = sweeps.truncate_layers(model, 2)
    with torch.inference_mode():
        full = model(**batch, output_hidden_states=True).hidden_states
        early = short(**batch).last_hidden_state
    assert torch.allclose(early, full[2], atol=1e-5)
    assert len(model.encoder.layer) == 4 and len(short.encoder.layer) == 2
    assert short.encoder.layer[0] is model.encoder.layer[0]  # weights shared
    assert sweeps.retrieval_layer(24) == 14 and sweeps.retrieval_layer(12) == 7
    with pytest.raises(StudyError, match="from 1 to 4"):
        sweeps.truncate_layers(model, 5)


# --------------------------------------------------------------------------- ratios and the table
def _rows(arm, seconds, tokens=100):
    return [{"arm": arm, "repetition": i, "seconds": s, "tokens": tokens, "tokens_per_s": tokens / s}
            for i, s in enumerate(seconds)]


def test_ratio_summary_pinned():
    rows = _rows("direct", [1.0, 1.2, 1.1, 0.9]) + _rows("mnli", [0.5, 0.6, 0.55, 0.45]) + _rows("same", [1.0, 1.2, 1.1, 0.9])
    out = {r["arm"]: r for r in interleave.ratio_summary(rows, by=())}
    assert out["mnli"]["ratio"] == pytest.approx(2.0) and out["mnli"]["ci_lo"] == pytest.approx(2.0)
    assert out["mnli"]["verdict"] == "different"
    assert out["same"]["ratio"] == 1.0 and out["same"]["verdict"] == "equivalent"
    assert out["direct"]["ratio"] == 1.0
    with pytest.raises(StudyError, match="valid arms"):
        interleave.ratio_summary(rows, baseline_arm="squad", by=())


def test_ratio_summary_is_a_geometric_mean_of_per_token_ratios_with_a_t_interval():
    # the arm's seconds per token are the baseline's divided by 1.0, 1.2, 0.9, 1.1 (geometric mean 1.0440087,
    # arithmetic 1.05); the arm does twice the tokens in each pass, so raw seconds would mislead
    base = _rows("direct", [2.0, 1.0, 2.0, 1.0])
    arm = _rows("mnli", [2 * s / r for s, r in zip([2.0, 1.0, 2.0, 1.0], [1.0, 1.2, 0.9, 1.1])], tokens=200)
    out = {r["arm"]: r for r in interleave.ratio_summary(base + arm, by=())}
    assert out["mnli"]["ratio"] == pytest.approx(1.0440087, rel=1e-7)
    assert (out["mnli"]["ci_lo"], out["mnli"]["ci_hi"]) == (pytest.approx(0.9024439, rel=1e-6),
                                                            pytest.approx(1.2077804, rel=1e-6))  # t, 3 df, 90 %
    assert out["mnli"]["ci95_hi"] == pytest.approx(1.2714015, rel=1e-6)
    assert out["mnli"]["verdict"] == "inconclusive" and out["mnli"]["margin"] == 0.01
    assert out["mnli"]["tokens_per_s"] == pytest.approx(statistics.median(r["tokens_per_s"] for r in arm))


class Counting(torch.nn.Module):
    """``inner`` under a name, appending ``(name, batch size, length)`` to ``calls`` on every forward pass."""

    def __init__(self, inner, name: str, calls: list):
        super().__init__()
        self.inner, self.name, self.calls = inner, name, calls

    def forward(self, **kw):
        self.calls.append((self.name, int(kw["input_ids"].shape[0]), int(kw["input_ids"].shape[1])))
        return self.inner(**kw)


def test_prime_runs_untimed_batches_before_each_pass(tiny, tok):
    calls = []
    batches = timing.make_batches(tok, TEXTS, batch_size=4, max_length=16)  # 4 batches
    entries = [({"arm": n}, Counting(tiny, n, calls), batches) for n in ("a", "b")]
    rows = timing.time_entries(entries, warmup=0, repeats=2, prime=1)
    # each pass: 1 untimed priming batch of the same model, then its 4 timed batches
    assert [c[0] for c in calls] == ["a"] * 5 + ["b"] * 5 + ["b"] * 5 + ["a"] * 5
    assert all(r["batches"] == 4 for r in rows)
    with pytest.raises(StudyError, match="prime"):
        timing.time_entries(entries, repeats=1, prime=-1)


def test_batch_interleave_takes_turns_batch_by_batch_in_balanced_orders(tiny, tok):
    calls = []
    batches = timing.make_batches(tok, TEXTS, batch_size=4, max_length=16)  # 4 batches
    names = ["a", "b", "c", "d"]
    entries = [({"arm": n}, Counting(tiny, n, calls), batches) for n in names]
    log = []
    rows = timing.time_entries(entries, warmup=0, repeats=2, interleave="batch", seed=3, batch_log=log)
    # 2 repetitions x 4 batches x 4 entries, every entry once per batch, batches in input order
    assert len(calls) == 32
    shapes = [tuple(b["input_ids"].shape) for b in batches]
    for k in range(8):
        turn = calls[4 * k:4 * k + 4]
        assert sorted(c[0] for c in turn) == names
        assert {c[1:] for c in turn} == {shapes[k % 4]}
    # 8 turns of 4 entries = two Williams blocks: each entry holds each position exactly twice
    positions = Counter((c[0], i % 4) for i, c in enumerate(calls))
    assert set(positions.values()) == {2}
    # the rows: one per entry and repetition, each with the seconds of its 4 batches and its first-turn place
    assert sorted((r["arm"], r["repetition"]) for r in rows) == [(n, k) for n in names for k in range(2)]
    first_turn = {r["arm"]: r["position"] for r in rows if r["repetition"] == 0}
    assert [n for n, _ in sorted(first_turn.items(), key=lambda kv: kv[1])] == [c[0] for c in calls[:4]]
    assert all(r["batches"] == 4 and r["seconds"] > 0 for r in rows)
    # the batch log: one record per timed batch, in running order, with the place it held on that batch
    assert [(r["arm"], r["repetition"], r["batch_index"], r["position"]) for r in log] == \
        [(c[0], i // 16, (i // 4) % 4, i % 4) for i, c in enumerate(calls)]
    for r in rows:  # a pass's seconds are the sum of its logged batches
        assert r["seconds"] == pytest.approx(sum(b["seconds"] for b in log
                                                 if (b["arm"], b["repetition"]) == (r["arm"], r["repetition"])))
    with pytest.raises(StudyError, match="batch_log records the batches of interleave='batch'"):
        timing.time_entries(entries, repeats=2, batch_log=[])


def test_batch_interleave_rejects_entries_of_different_lengths_and_unknown_settings(tiny, tok):
    batches = timing.make_batches(tok, TEXTS, batch_size=4, max_length=16)
    entries = [({"arm": "a"}, tiny, batches), ({"arm": "b"}, tiny, batches[:2])]
    with pytest.raises(StudyError, match="same number of batches"):
        timing.time_entries(entries, repeats=2, interleave="batch")
    with pytest.raises(StudyError, match="pass, batch"):
        timing.time_entries(entries[:1], repeats=2, interleave="token")


def test_timing_pauses_the_garbage_collector_and_restores_it(tiny, tok):
    import gc

    seen = []

    class Watching(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, **kw):
            seen.append(gc.isenabled())
            return self.inner(**kw)

    batches = timing.make_batches(tok, TEXTS, batch_size=4, max_length=16)
    assert gc.isenabled()
    for mode in timing.INTERLEAVES:
        seen.clear()
        timing.time_entries([({"arm": "a"}, Watching(tiny), batches)], warmup=0, repeats=1, interleave=mode)
        assert seen and not any(seen)
        assert gc.isenabled()


def test_count_subnormal_pinned():
    lin = torch.nn.Linear(2, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1e-39, 0.0], [-5e-40, 1.0], [1.2e-38, 1e-45]]))
        lin.bias.copy_(torch.tensor([0.0, 2.0, -1e-41]))
    # subnormal (0 < |x| < 1.1754944e-38): 1e-39, -5e-40, 1e-45, -1e-41; 1.2e-38 is normal
    assert peaks.count_subnormal(lin) == {"values": 9, "subnormal": 4, "zero": 2, "subnormal_fraction": 4 / 9}
    half = torch.nn.Linear(1, 1).to(torch.float16)
    with torch.no_grad():
        half.weight.fill_(1e-5)  # subnormal in fp16 (below 6.1e-5), normal in fp32
        half.bias.fill_(1.0)
    assert peaks.count_subnormal(half)["subnormal"] == 1


def test_flush_denormal_sweep_labels_and_restores(tiny, tok):
    batches = timing.make_batches(tok, TEXTS, batch_size=8, max_length=16)
    rows = sweeps.sweep_flush_denormal(tiny, batches, warmup=0, repeats=2, labels={"task": "xnli"})
    assert sorted({r["arm"] for r in rows}) == ["flush_denormal=off", "flush_denormal=on"]
    assert {r["sweep"] for r in rows} == {"flush_denormal"} and {r["task"] for r in rows} == {"xnli"}
    assert float(torch.tensor([1e-40]).mul(1.0)) != 0.0  # flushing is off again afterwards


def test_record_inference_is_an_idempotent_upsert(isolated_results):
    rows = _rows("direct", [1.0, 2.0]) + _rows("mnli", [1.5, 1.5])
    for r in rows:
        r.update(device="cpu", dtype="fp32", batch=32, length=128)
    path = timing.record_inference(rows, profile="smoke", task="tatoeba", language="de")
    timing.record_inference(rows, profile="smoke", task="tatoeba", language="de")
    table = read_table(path)
    assert len(table) == 4 and path.name == "inference.csv" and path.parent == isolated_results / "results"
    rows[0]["seconds"] = 4.0
    timing.record_inference(rows[:1], profile="smoke", task="tatoeba", language="de")
    table = read_table(path)
    assert len(table) == 4
    assert [r["seconds"] for r in table if r["arm"] == "direct" and r["repetition"] == "0"] == ["4.0"]
    timing.record_inference(rows[:1], profile="smoke", task="tatoeba", language="fr")
    assert len(read_table(path)) == 5


# --------------------------------------------------------------------------- sweeps (shape of the output only)
def test_sweeps_label_their_rows(tok, tiny):
    kw = dict(warmup=0, repeats=2)
    rows = sweeps.sweep_batch_size(tiny, tok, TEXTS, batch_sizes=(2, 8), max_length=16, **kw)
    assert sorted({r["batch"] for r in rows}) == [2, 8] and {r["sweep"] for r in rows} == {"batch_size"}
    rows = sweeps.sweep_length(tiny, tok, TEXTS, lengths=(8, 16), batch_size=4, **kw)
    assert sorted({r["length"] for r in rows}) == [8, 16]
    # every position is a real token: 4 filled sequences of exactly 8 and 16 tokens, no padding
    assert {(r["length"], r["tokens"], r["padded_tokens"]) for r in rows} == {(8, 32, 32), (16, 64, 64)}
    rows = sweeps.sweep_padding(tiny, tok, TEXTS, batch_size=4, max_length=64, **kw)
    by = {r["arm"]: r for r in rows}
    assert by["bucketed"]["tokens"] == by["naive"]["tokens"] and by["bucketed"]["padded_tokens"] < by["naive"]["padded_tokens"]
    model = xlmr_shaped_model(vocab_size=len(tok), **TINY)
    rows = sweeps.sweep_dtype(model, tok, TEXTS, dtypes=("fp32", "bf16", "int8"), batch_size=8, max_length=16, **kw)
    assert {r["arm"]: r["dtype"] for r in rows} == {"fp32": "fp32", "bf16": "bf16", "int8": "int8"}
    rows = sweeps.sweep_early_exit(tiny, tok, TEXTS, batch_size=8, max_length=16, **kw)
    assert sorted({r["arm"] for r in rows}) == ["layers=1", "layers=2"]
    langs = {"en": ["one two three", "four five"], "de": ["eins zwei", "drei"]}
    rows = sweeps.sweep_languages(tiny, tok, langs, batch_size=2, max_length=16, **kw)
    en = next(r for r in rows if r["language"] == "en")
    assert en["words"] == 5 and en["characters"] == len("one two three") + len("four five")
    assert en["words_per_s"] == pytest.approx(5 / en["seconds"])
    rows = sweeps.sweep_models({"a": (tiny, tok), "b": (model, tok)}, TEXTS, batch_size=8, max_length=16, **kw)
    assert {r["arm"] for r in rows} == {"a", "b"} and {r["layers"] for r in rows} == {2}


def test_flops_per_token_of_the_xlmr_base_shape_matches_the_reported_figure():
    # REPORTED.md: about 0.175 GFLOP per token for XLM-R Base at length 128. Exactly, per token:
    # 12 * 2 * (4*768^2 + 2*768*3072) linears + 12 * 2 * 2 * 128 * 768 attention = 174,587,904.
    # The vocabulary is shrunk (an embedding lookup costs no FLOPs) and two of the twelve layers are
    # built (every layer costs the same), so this checks 2/12 of it: 29,097,984.
    model = xlmr_shaped_model(vocab_size=1000, hidden_size=768, num_hidden_layers=2, num_attention_heads=12,
                              intermediate_size=3072, max_position_embeddings=514)
    ids = torch.randint(5, 1000, (1, 128), generator=torch.Generator().manual_seed(0))
    got = peaks.flops_per_token(model, {"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    assert got == 29_097_984 == 174_587_904 * 2 / 12


def test_multiple_choice_batches_count_sequences_and_real_tokens(tiny):
    # [batch, choices, length] as the multiple-choice collator makes it: 2 x 3 sequences of length 5
    ids = torch.randint(5, 100, (2, 3, 5), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[:, :, 4] = 0
    flat = {"input_ids": ids.view(6, 5), "attention_mask": mask.view(6, 5)}
    (row,) = timing.time_entries([({"arm": "direct"}, tiny, [flat])], warmup=0, repeats=1)
    assert row["tokens"] == 24 and row["sequences"] == 6
    (row,) = timing.time_entries([({"arm": "direct"}, _FlattenMC(tiny), [{"input_ids": ids, "attention_mask": mask}])],
                                 warmup=0, repeats=1)
    assert row["tokens"] == 24 and row["sequences"] == 6 and row["batch"] == 2 and row["length"] == 5


class _FlattenMC(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, attention_mask):
        return self.inner(input_ids=input_ids.flatten(0, 1), attention_mask=attention_mask.flatten(0, 1))


def test_datasheet_peak_knows_the_h200_and_not_its_nvl_or_pcie_cousins():
    # REPORTED.md: H200 (SXM) = H100 SXM compute, 989 TFLOP/s dense bf16; CUDA calls it "NVIDIA H200"
    assert peaks.datasheet_peak("NVIDIA H200", "bf16") == 989e12
    assert peaks.datasheet_peak("NVIDIA H200", "fp16") == 989e12
    assert peaks.datasheet_peak("NVIDIA H200", "fp32") is None
    assert peaks.datasheet_peak("NVIDIA H200 NVL", "bf16") is None
    assert peaks.datasheet_peak("NVIDIA H100 NVL", "bf16") is None
    assert peaks.datasheet_peak("NVIDIA H100 80GB HBM3", "bf16") == 989e12


def test_own_storage_gives_every_tensor_its_own_aligned_storage_and_keeps_values(tiny, tok):
    import copy

    model = copy.deepcopy(tiny).eval()
    flat = torch.zeros(sum(p.numel() for p in model.parameters()) + 2)
    offset = 2  # every parameter a view into one buffer, 8 bytes off alignment, as safetensors loading leaves them
    with torch.no_grad():
        for p in model.parameters():
            view = flat[offset:offset + p.numel()].view_as(p)
            view.copy_(p)
            p.data = view
            offset += p.numel()
    assert len({p.untyped_storage().data_ptr() for p in model.parameters()}) == 1
    batch = timing.make_batches(tok, TEXTS[:4], batch_size=4, max_length=16)[0]
    with torch.inference_mode():
        before = model(**batch).last_hidden_state.clone()
    assert devices.own_storage(model) is model
    params = list(model.parameters())
    assert len({p.untyped_storage().data_ptr() for p in params}) == len(params)
    assert all(p.storage_offset() == 0 and p.data_ptr() % 64 == 0 for p in params)
    with torch.inference_mode():
        assert torch.equal(model(**batch).last_hidden_state, before)
    # a parameter shared by two modules stays one parameter
    shared = torch.nn.Linear(4, 4)
    pair = torch.nn.Sequential(shared, shared)
    devices.own_storage(pair)
    assert pair[0].weight is pair[1].weight
