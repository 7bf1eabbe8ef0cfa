"""The task registry: the one place that knows the benchmark.

Modelled on XTREME's own ``evaluate.py``: every task has a group, a format, its
evaluation languages, its official metric, its label set and its sources.
Language lists are XTREME-R's (google-research/xtreme ``evaluate.py``,
``XTREME_R_TASK2LANGS``): XNLI 15, XCOPA 11, UD-POS 38 (UD v2.7), WikiANN 48,
XQuAD 12 (adds ro), MLQA 7, TyDiQA-GoldP 9, Mewsli-X 11, LAReQA 11 (XQuAD-R),
Tatoeba 41; 50 distinct languages in all.

Groups follow XTREME-R: classification (XNLI, XCOPA), structured prediction
(UD-POS, WikiANN), question answering (XQuAD, MLQA, TyDiQA-GoldP), retrieval
(Mewsli-X, LAReQA, Tatoeba).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .errors import StudyError, invalid_choice

GROUPS: tuple[str, ...] = ("classification", "structured-prediction", "question-answering", "retrieval")
FORMATS: tuple[str, ...] = (
    "pair-classification",
    "single-classification",
    "multiple-choice",
    "tagging",
    "span-qa",
    "retrieval",
)

NLI_LABELS = ("entailment", "neutral", "contradiction")  # GLUE/HF order: 0, 1, 2
UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)
NER_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")  # WikiANN hub order

# Tatoeba files are named by ISO 639-3 codes; XTREME-R reports ISO 639-1.
TATOEBA_ISO3: dict[str, str] = {
    "af": "afr", "ar": "ara", "az": "aze", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell",
    "es": "spa", "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb",
    "hi": "hin", "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat",
    "kk": "kaz", "ko": "kor", "lt": "lit", "ml": "mal", "mr": "mar", "nl": "nld", "pl": "pol",
    "pt": "por", "ro": "ron", "ru": "rus", "sw": "swh", "ta": "tam", "te": "tel", "th": "tha",
    "tl": "tgl", "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "cmn",
}
ISO3_TO_ISO1: dict[str, str] = {v: k for k, v in TATOEBA_ISO3.items()}

# UD-POS hub configs of google/xtreme are named by English language names.
UD_LANGUAGE_NAMES: dict[str, str] = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kk": "Kazakh", "ko": "Korean",
    "lt": "Lithuanian", "mr": "Marathi", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "ta": "Tamil", "te": "Telugu", "th": "Thai",
    "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "wo": "Wolof", "yo": "Yoruba", "zh": "Chinese",
}


def _langs(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


XTREME_R_TASK2LANGS: dict[str, tuple[str, ...]] = {
    "xnli": _langs("ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh"),
    "xcopa": _langs("et,ht,id,it,qu,sw,ta,th,tr,vi,zh"),
    "udpos": _langs(
        "af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,lt,mr,nl,pl,pt,ro,ru,ta,te,"
        "th,tl,tr,uk,ur,vi,wo,yo,zh"
    ),
    "panx": _langs(
        "ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,"
        "ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu,qu,pl,uk,az,lt,pa,gu,ro"
    ),
    "xquad": _langs("ar,de,el,en,es,hi,ro,ru,th,tr,vi,zh"),
    "mlqa": _langs("en,es,de,ar,hi,vi,zh"),
    "tydiqa": _langs("en,ar,bn,fi,id,ko,ru,sw,te"),
    "mewslix": _langs("ar,de,en,es,fa,ja,pl,ro,ta,tr,uk"),
    "lareqa": _langs("ar,de,el,en,es,hi,ru,th,tr,vi,zh"),
    "tatoeba": _langs(
        "ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,ka,ko,th,"
        "sw,zh,kk,tr,et,fi,hu,az,lt,pl,uk,ro"
    ),
}


@dataclass(frozen=True)
class TaskSpec:
    """Everything the study needs to know about one task."""

    name: str
    display_name: str
    group: str
    format: str
    languages: tuple[str, ...]
    metric: str  # the primary metric: accuracy | f1 | map@20
    labels: tuple[str, ...] | None  # class names / tag set / choice names, where fixed
    train_source: str | None  # English training data, e.g. "mnli"; None: not trainable
    hub: Mapping[str, str] = field(default_factory=dict)  # hub dataset id, config template, splits
    trainable: bool = True
    nine: bool = False  # one of Phang et al.'s nine intermediate tasks
    display_metric: str = ""

    @property
    def num_labels(self) -> int | None:
        return len(self.labels) if self.labels else None


def _spec(**kw) -> TaskSpec:
    spec = TaskSpec(**kw)
    if spec.group not in GROUPS or spec.format not in FORMATS:
        raise AssertionError(spec)
    return spec


TASKS: dict[str, TaskSpec] = {
    "xnli": _spec(
        name="xnli", display_name="XNLI", group="classification", format="pair-classification",
        languages=XTREME_R_TASK2LANGS["xnli"], metric="accuracy", labels=NLI_LABELS,
        train_source="mnli", hub={"id": "facebook/xnli", "config": "{lang}", "test": "test", "dev": "validation"},
    ),
    "xcopa": _spec(
        name="xcopa", display_name="XCOPA", group="classification", format="multiple-choice",
        languages=XTREME_R_TASK2LANGS["xcopa"], metric="accuracy", labels=("choice1", "choice2"),
        train_source="siqa+copa",
        hub={"id": "cambridgeltl/xcopa", "config": "{lang}", "test": "test", "dev": "validation"},
    ),
    "udpos": _spec(
        name="udpos", display_name="UD-POS", group="structured-prediction", format="tagging",
        languages=XTREME_R_TASK2LANGS["udpos"], metric="f1", labels=UPOS_TAGS, train_source="udpos",
        hub={"id": "google/xtreme", "config": "udpos.{language_name}", "train": "train",
             "dev": "validation", "test": "test"},
    ),
    "panx": _spec(
        name="panx", display_name="WikiANN (PAN-X)", group="structured-prediction", format="tagging",
        languages=XTREME_R_TASK2LANGS["panx"], metric="f1", labels=NER_TAGS, train_source="panx",
        hub={"id": "unimelb-nlp/wikiann", "config": "{lang}", "train": "train", "dev": "validation", "test": "test"},
    ),
    "xquad": _spec(
        name="xquad", display_name="XQuAD", group="question-answering", format="span-qa",
        languages=XTREME_R_TASK2LANGS["xquad"], metric="f1", labels=None, train_source="squad",
        hub={"id": "google/xquad", "config": "xquad.{lang}", "test": "validation"},
    ),
    "mlqa": _spec(
        name="mlqa", display_name="MLQA", group="question-answering", format="span-qa",
        languages=XTREME_R_TASK2LANGS["mlqa"], metric="f1", labels=None, train_source="squad",
        hub={"id": "facebook/mlqa", "config": "mlqa.{lang}.{lang}", "test": "test", "dev": "validation"},
    ),
    "tydiqa": _spec(
        name="tydiqa", display_name="TyDiQA-GoldP", group="question-answering", format="span-qa",
        languages=XTREME_R_TASK2LANGS["tydiqa"], metric="f1", labels=None, train_source="tydiqa",
        hub={"id": "google/xtreme", "config": "tydiqa", "train": "train", "test": "validation",
             "dev": "validation", "filter": "id-prefix-language"},
    ),
    "mewslix": _spec(
        name="mewslix", display_name="Mewsli-X", group="retrieval", format="retrieval",
        languages=XTREME_R_TASK2LANGS["mewslix"], metric="map@20", labels=None, train_source="mewslix",
        hub={"id": "izhx/mewsli-x", "config": "{lang}", "test": "test", "dev": "validation"},
    ),
    "lareqa": _spec(
        name="lareqa", display_name="LAReQA", group="retrieval", format="retrieval",
        languages=XTREME_R_TASK2LANGS["lareqa"], metric="map@20", labels=None, train_source="squad",
        hub={"id": "google-research-datasets/xquad_r", "config": "{lang}", "test": "validation"},
    ),
    "tatoeba": _spec(
        name="tatoeba", display_name="Tatoeba", group="retrieval", format="retrieval",
        languages=XTREME_R_TASK2LANGS["tatoeba"], metric="accuracy", labels=None, train_source=None,
        hub={"id": "mteb/tatoeba-bitext-mining", "config": "{iso3}-eng", "test": "test"}, trainable=False,
    ),
}

_EN = ("en",)
INTERMEDIATE_TASKS: dict[str, TaskSpec] = {
    "anli": _spec(
        name="anli", display_name="ANLI+ (ANLI, MNLI, SNLI)", group="classification",
        format="pair-classification", languages=_EN, metric="accuracy", labels=NLI_LABELS,
        train_source="anli+mnli+snli", nine=True,
        hub={"id": "facebook/anli", "train": "train_r1,train_r2,train_r3", "dev": "dev_r1,dev_r2,dev_r3",
             "test": "test_r1,test_r2,test_r3", "extra_train": "nyu-mll/glue:mnli,stanfordnlp/snli"},
    ),
    "mnli": _spec(
        name="mnli", display_name="MNLI", group="classification", format="pair-classification",
        languages=_EN, metric="accuracy", labels=NLI_LABELS, train_source="mnli", nine=True,
        hub={"id": "nyu-mll/glue", "config": "mnli", "train": "train", "dev": "validation_matched"},
    ),
    "qqp": _spec(
        name="qqp", display_name="QQP", group="classification", format="pair-classification",
        languages=_EN, metric="accuracy", labels=("not_duplicate", "duplicate"), train_source="qqp", nine=True,
        hub={"id": "nyu-mll/glue", "config": "qqp", "train": "train", "dev": "validation"},
    ),
    "squad": _spec(
        name="squad", display_name="SQuAD v1.1", group="question-answering", format="span-qa",
        languages=_EN, metric="f1", labels=None, train_source="squad", nine=True,
        hub={"id": "rajpurkar/squad", "train": "train", "dev": "validation"},
    ),
    "sst2": _spec(
        name="sst2", display_name="SST-2", group="classification", format="single-classification",
        languages=_EN, metric="accuracy", labels=("negative", "positive"), train_source="sst2", nine=True,
        hub={"id": "nyu-mll/glue", "config": "sst2", "train": "train", "dev": "validation"},
    ),
    "ccg": _spec(
        name="ccg", display_name="CCG supertagging", group="structured-prediction", format="tagging",
        languages=_EN, metric="accuracy", labels=None, train_source="ccg", nine=True,
        hub={},  # CCGbank is LDC-licensed: not on the hub
    ),
    "cosmosqa": _spec(
        name="cosmosqa", display_name="CosmosQA", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("answer0", "answer1", "answer2", "answer3"),
        train_source="cosmosqa", nine=True, hub={"id": "allenai/cosmos_qa", "train": "train", "dev": "validation"},
    ),
    "hellaswag": _spec(
        name="hellaswag", display_name="HellaSwag", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("ending0", "ending1", "ending2", "ending3"),
        train_source="hellaswag", nine=True, hub={"id": "Rowan/hellaswag", "train": "train", "dev": "validation"},
    ),
    "commonsenseqa": _spec(
        name="commonsenseqa", display_name="CommonsenseQA", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("A", "B", "C", "D", "E"), train_source="commonsenseqa",
        nine=True, hub={"id": "tau/commonsense_qa", "train": "train", "dev": "validation"},
    ),
    "siqa": _spec(
        name="siqa", display_name="Social IQa", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("A", "B", "C"), train_source="siqa",
        hub={"id": "allenai/social_i_qa", "train": "train", "dev": "validation"},
    ),
    "copa": _spec(
        name="copa", display_name="COPA", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("choice1", "choice2"), train_source="copa",
        hub={"id": "aps/super_glue", "config": "copa", "train": "train", "dev": "validation", "test": "test"},
    ),
}

NINE_INTERMEDIATE: tuple[str, ...] = tuple(n for n, s in INTERMEDIATE_TASKS.items() if s.nine)

# Original-XTREME tasks that XTREME-R dropped; kept so their real files can be parsed and checked.
EXTRA_TASKS: dict[str, TaskSpec] = {
    "pawsx": _spec(
        name="pawsx", display_name="PAWS-X", group="classification", format="pair-classification",
        languages=_langs("de,en,es,fr,ja,ko,zh"), metric="accuracy", labels=("0", "1"), train_source="pawsx",
        hub={"id": "google-research-datasets/paws-x", "config": "{lang}", "test": "test", "dev": "validation"},
    ),
}

ALL_TASKS: dict[str, TaskSpec] = {**TASKS, **INTERMEDIATE_TASKS, **EXTRA_TASKS}


def get_task(name: str) -> TaskSpec:
    """The spec of a task (target, intermediate or extra); StudyError listing valid names."""
    try:
        return ALL_TASKS[name]
    except (KeyError, TypeError):
        raise invalid_choice("task", name, list(ALL_TASKS)) from None


def task_languages(name: str, available: Iterable[str] | None = None) -> tuple[str, ...]:
    """The task's evaluation languages, in registry order, optionally intersected with ``available``."""
    spec = get_task(name)
    if available is None:
        return spec.languages
    keep = set(available)
    return tuple(lang for lang in spec.languages if lang in keep)


def check_language(task: str, lang: str) -> str:
    """Return ``lang`` if ``task`` is evaluated in it (English always allowed for training data)."""
    spec = get_task(task)
    if lang == "en" or lang in spec.languages:
        return lang
    raise StudyError(f"unknown language {lang!r} for {task}; valid languages: {', '.join(spec.languages)}")


def tasks_in_group(group: str) -> tuple[str, ...]:
    if group not in GROUPS:
        raise invalid_choice("group", group, GROUPS)
    return tuple(n for n, s in TASKS.items() if s.group == group)


def all_languages() -> tuple[str, ...]:
    """The distinct evaluation languages of the ten XTREME-R targets (sorted)."""
    return tuple(sorted({lang for spec in TASKS.values() for lang in spec.languages}))


def require(condition: bool, message: str) -> None:
    if not condition:
        raise StudyError(message)
