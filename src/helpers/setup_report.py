"""Chapter logic of the setup (01) and encoder (03) chapters: the plan's facts, the encoder and its
tokenizer, the check against the wheel's engine and the tokenizer's fertility."""

from __future__ import annotations

import math
from typing import Callable

import pandas as pd

from . import fertility, models, runs, sources
from .config import StudyConfig

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

SAMPLE_SENTENCES = {
    "en": "The children were playing in the garden.", "de": "Die Kinder spielten im Garten.",
    "ru": "Дети играли в саду.", "ar": "كان الأطفال يلعبون في الحديقة.", "hi": "बच्चे बगीचे में खेल रहे थे।",
    "zh": "孩子们在花园里玩耍。", "sw": "Watoto walikuwa wakicheza bustanini.",
}
"""One sentence in each script of the benchmark ("the children were playing in the garden")."""

ENGINE_LANGUAGES = ("deu", "rus", "hin")
"""Tatoeba files of the quick check against the wheel's engine: three languages in three scripts."""


def setup_facts(cfg: StudyConfig, hardware: dict, plan: pd.DataFrame) -> dict:
    """Glued values of the setup chapter (``setup_*``): profile, model, device and the plan's size."""
    return {
        "setup_profile": cfg.profile,
        "setup_model": cfg.model,
        "setup_device": hardware["device"],
        "setup_n_tasks": len(cfg.tasks),
        "setup_n_arms": len(cfg.arms),
        "setup_n_languages": int(plan["languages"].sum()),
    }


def preset_table() -> pd.DataFrame:
    """Every model preset: description, hub id, shape and retrieval layer."""
    return pd.DataFrame([{"preset": p.name, "description": p.description, "hub id": p.hub_id or "",
                          "layers": p.num_layers, "hidden": p.hidden_size, "retrieval layer": p.retrieval_layer}
                         for p in models.PRESETS.values()]).set_index("preset")


def encoder_table(cfg: StudyConfig, tokenizer) -> pd.DataFrame:
    """The profile's pretrained encoder: parameters, word embeddings, shape, vocabulary and special ids."""
    enc = models.load_model(cfg.model, head="encoder")
    n_params = sum(p.numel() for p in enc.parameters())
    n_embed = enc.get_input_embeddings().weight.numel()
    return pd.DataFrame({"value": {
        "preset": cfg.model,
        "parameters (M)": round(n_params / 1e6, 1),
        "of which word embeddings (M)": round(n_embed / 1e6, 1),
        "layers": enc.config.num_hidden_layers,
        "hidden size": enc.config.hidden_size,
        "vocabulary": enc.config.vocab_size,
        "tokenizer pieces": len(tokenizer),
        f"special ids {' '.join(SPECIAL_TOKENS)}": " ".join(str(tokenizer.convert_tokens_to_ids(t))
                                                             for t in SPECIAL_TOKENS),
    }})


def tokenizer_samples(tokenizer, samples: dict[str, str] = SAMPLE_SENTENCES) -> pd.DataFrame:
    """Token count and pieces of one sentence per language."""
    return pd.DataFrame([{"language": lang, "tokens": len(tokenizer(text)["input_ids"]),
                          "pieces": " ".join(tokenizer.tokenize(text))}
                         for lang, text in samples.items()]).set_index("language")


def pair_template(tokenizer) -> str:
    """XLM-R's pair template, decoded from a premise/hypothesis pair."""
    return tokenizer.decode(tokenizer("premise", "hypothesis")["input_ids"])


def engine_check(cfg: StudyConfig, verify: Callable, *, languages=ENGINE_LANGUAGES, sample: int = 20):
    """The conversion against the wheel's engine on a few real Tatoeba files; prints the table and summary.

    ``verify`` is :func:`studytools.verify_encoder.verify` (the tool, which the
    library does not import). Returns its report, or (printed too) why there is
    nothing to check: another preset, or no ``../shared/realdata``.
    """
    if cfg.model != "e5-small":
        reason = f"the {cfg.model} preset is not converted from the wheel; nothing to check against the engine"
    elif sources.realdata_root() is None:
        reason = "../shared/realdata is absent: the check against the engine needs the real Tatoeba files"
    else:
        report = verify(sources.realdata_root() / "tatoeba", list(languages), sample=sample)
        print(report.table())
        print(report.summary_line())
        return report
    print(reason)
    return reason


def fertility_table() -> pd.DataFrame | None:
    """Tokens per word and character of the real XLM-R tokenizer per Tatoeba language, recorded in
    ``fertility.csv``; None (with a printed reason) without ``../shared/realdata``."""
    if sources.realdata_root() is None:
        print("../shared/realdata is absent: no real Tatoeba sentences to measure fertility on")
        return None
    fert = pd.DataFrame(fertility.fertility_rows(models.load_tokenizer("e5-small"), sources.realdata_root() / "tatoeba"))
    runs.upsert_rows(runs.results_root() / "fertility.csv", fert.to_dict("records"), key=("language",),
                     columns=fertility.COLUMNS)
    return fert.set_index("language")[["sentences", "tokens_per_word", "tokens_per_char"]].sort_values(
        "tokens_per_word").round(3)


def engine_sentence(engine) -> str:
    """What :func:`engine_check` found, as a phrase for the chapter's prose (or its reason for not checking)."""
    if isinstance(engine, str):
        return engine
    return (f"token counts that agree on {100 * engine.tokens_agree:.1f}% of {engine.sentences:,} sentences and "
            f"a cosine similarity of at least {cosine_floor(engine.cosines.min())} over {engine.embedded} embedded ones")


#: Decimals of the lowest cosine in the chapter's prose. The fifth decimal of a float32 cosine differs
#: between CPUs (0.99987 here, 0.99986 on the CI machine), so the chapter states a floor at four.
COSINE_DECIMALS = 4


def cosine_floor(value: float, decimals: int = COSINE_DECIMALS) -> str:
    """``value`` rounded down to ``decimals`` places, as text: a lower bound that stays true and stable
    when the last float32 digits move between machines (0.99987 and 0.99986 both give '0.9998')."""
    scale = 10 ** decimals
    return f"{math.floor(float(value) * scale + 1e-9) / scale:.{decimals}f}"


def encoder_facts(encoder: pd.DataFrame, engine, fert: pd.DataFrame | None) -> dict:
    """Glued values of the encoder chapter (``enc_*``); ``engine`` is :func:`engine_check`'s result."""
    values = encoder["value"]
    facts = {
        "enc_preset": values["preset"],
        "enc_params_m": values["parameters (M)"],
        "enc_embed_m": values["of which word embeddings (M)"],
        "enc_pieces": f"{values['tokenizer pieces']:,}",
        "enc_engine": engine_sentence(engine),
        "enc_fert_lowest": "not measured (no real Tatoeba files)",
        "enc_fert_highest": "not measured (no real Tatoeba files)",
    }
    if fert is not None and len(fert):
        lo, hi = fert.index[0], fert.index[-1]
        facts["enc_fert_lowest"] = f"{lo} ({fert.loc[lo, 'tokens_per_word']:.2f})"
        facts["enc_fert_highest"] = f"{hi} ({fert.loc[hi, 'tokens_per_word']:.2f})"
    return facts
