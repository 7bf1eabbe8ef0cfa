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

Every per-task fact is declared here once and looked up by the other modules:
its files in the xtreme-dir layout and their reader (:mod:`helpers.sources`,
:mod:`helpers.readers`, :mod:`helpers.retrieval_sets`), its hub mapping
(:mod:`helpers.hubdata`), its generated-benchmark writer
(:mod:`helpers.generate`), its training data and recipe family
(:mod:`helpers.recipes`, :func:`target_stages`), the models it shares and
the sizes the full-study extrapolation uses (:mod:`helpers.scaling`). Adding a
task is one entry here (plus a reader when its file format is new); the task
lists the other modules need come from :func:`target_tasks`,
:func:`intermediate_tasks`, :func:`tasks_in_group`, :func:`tasks_with_format`,
:func:`retrieval_tasks`, :func:`trainable_targets`, :func:`own_model_targets`,
:func:`shared_models`, :func:`target_training_tasks` and :data:`SUBSETS`.
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

#: The recipe family of each format (helpers.recipes keys its recipes by family).
FAMILY_OF_FORMAT: dict[str, str] = {
    "pair-classification": "classification",
    "single-classification": "classification",
    "multiple-choice": "multiple-choice",
    "tagging": "tagging",
    "span-qa": "qa",
    "retrieval": "retrieval",
}

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
    #: The file reader of the xtreme-dir layout (a key of ``helpers.readers.READERS``).
    reader: str = ""
    #: Where the xtreme-dir layout keeps a file, per split (``"*"``: any split); the first that exists
    #: wins (placeholders: see :meth:`layout_paths`). A ``"train"`` entry of a task that trains on
    #: another task's data names a training file of its own that is read instead when present
    #: (XNLI-MT's ``xnli/train-en.tsv`` before MNLI).
    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    split_names: Mapping[str, str] = field(default_factory=dict)
    #: The task whose English dev split stands in for this one's (XQuAD has none: SQuAD's).
    dev_source: str | None = None
    #: The task holding this one's English dev/test data (XCOPA's English is COPA).
    english_source: str | None = None
    #: The metric normalises answers by the evaluation language (MLQA's own script).
    language_aware_metric: bool = False
    #: Targets evaluated with another target's fine-tuned model (MLQA: XQuAD's SQuAD model).
    shared_model: str | None = None

    #: How one row of the hub dataset maps to a canonical example (helpers.hubdata.HUB_ROWS; "": none).
    hub_row: str = ""
    #: The recipe key when the task has a recipe of its own (XTREME-R's LAReQA and Mewsli-X scripts).
    recipe: str = ""
    #: The writer of the generated benchmark (helpers.generate.GENERATORS; "": not generated) and the
    #: splits it writes (test: in every generated language of a target).
    generator: str = ""
    generated: tuple[str, ...] = ()
    #: Full-study extrapolation (helpers.scaling): the public size of the task's own English training
    #: set; the task whose real sample file measures its tokens per example, and that file's
    #: (split, language) in ../shared/realdata; the generated task standing in when that folder is
    #: absent; the task whose full recipe sets the measured length when it has none of its own.
    train_examples: int | None = None
    token_sample: str | None = None
    realdata_sample: tuple[str, str] | None = None
    generated_proxy: str | None = None
    length_recipe: str | None = None
    #: A shorter name for tables (SQuAD for SQuAD v1.1); :attr:`label` falls back to the display name.
    short_name: str = ""
    #: Files the task's data is split into (ANLI's rounds), each read and concatenated in order.
    parts: tuple[str, ...] = ()
    #: Further tasks whose English training data is appended (ANLI+ = ANLI + MNLI + SNLI).
    train_mixture: tuple[str, ...] = ()

    def layout_paths(self, split: str, lang: str, part: str = "", iso3: str | None = None) -> list[str]:
        """The relative paths, in order, where the xtreme-dir layout keeps ``split`` in ``lang``.

        Placeholders of :attr:`files`: ``{split}``, ``{s}`` (the layout's split name), ``{lang}``,
        ``{iso3}`` (Tatoeba's ISO 639-3 file code of ``lang``) and ``{part}``.
        """
        templates = self.files.get(split) or self.files.get("*") or ()
        s = self.split_names.get(split, split)
        iso3 = TATOEBA_ISO3.get(lang, lang) if iso3 is None else iso3
        return [t.format(split=split, s=s, lang=lang, iso3=iso3, part=part) for t in templates]

    @property
    def label(self) -> str:
        return self.short_name or self.display_name

    @property
    def recipe_key(self) -> str:
        """The key of this task's recipe in :mod:`helpers.recipes`: its own :attr:`recipe`, else its family."""
        return self.recipe or self.family

    @property
    def family(self) -> str:
        """The recipe family: classification, multiple-choice, tagging, qa or retrieval."""
        return FAMILY_OF_FORMAT[self.format]

    @property
    def train_tasks(self) -> tuple[str, ...]:
        """The tasks whose English training data trains this one (``siqa+copa`` -> siqa, copa)."""
        return tuple(self.train_source.split("+")) if self.train_source else ()

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
        token_sample="xnli", realdata_sample=("dev", "en"),
        generator="nli", generated=("dev", "test"), hub_row="nli", reader="pair-tsv",
        files={"*": ("xnli/{split}-{lang}.tsv",), "train": ("xnli/train-{lang}.tsv",)},
    ),
    "xcopa": _spec(
        name="xcopa", display_name="XCOPA", group="classification", format="multiple-choice",
        languages=XTREME_R_TASK2LANGS["xcopa"], metric="accuracy", labels=("choice1", "choice2"),
        train_source="siqa+copa",
        hub={"id": "cambridgeltl/xcopa", "config": "{lang}", "test": "test", "dev": "validation"},
        generator="cause-effect", generated=("test",), hub_row="copa-row", reader="copa-jsonl",
        files={"*": ("xcopa/{s}-{lang}.jsonl", "xcopa/{lang}/{s}.{lang}.jsonl")}, split_names={"dev": "val"},
        english_source="copa",
    ),
    "udpos": _spec(
        name="udpos", display_name="UD-POS", group="structured-prediction", format="tagging",
        languages=XTREME_R_TASK2LANGS["udpos"], metric="f1", labels=UPOS_TAGS, train_source="udpos",
        hub={"id": "google/xtreme", "config": "udpos.{language_name}", "train": "train",
             "dev": "validation", "test": "test"},
        train_examples=21_253, token_sample="udpos", realdata_sample=("test", "en"),
        generator="upos-tags", generated=("train", "dev", "test"), hub_row="tags:pos_tags", reader="tagging",
        files={"*": ("udpos/{split}-{lang}.tsv",)},
    ),
    "panx": _spec(
        name="panx", display_name="WikiANN (PAN-X)", group="structured-prediction", format="tagging",
        languages=XTREME_R_TASK2LANGS["panx"], metric="f1", labels=NER_TAGS, train_source="panx",
        hub={"id": "unimelb-nlp/wikiann", "config": "{lang}", "train": "train", "dev": "validation", "test": "test"},
        train_examples=20_000, token_sample="panx", realdata_sample=("dev", "en"),
        generator="bio-tags", generated=("train", "dev", "test"), hub_row="tags:ner_tags", reader="tagging",
        files={"*": ("panx/{split}-{lang}.tsv",)},
    ),
    "xquad": _spec(
        name="xquad", display_name="XQuAD", group="question-answering", format="span-qa",
        languages=XTREME_R_TASK2LANGS["xquad"], metric="f1", labels=None, train_source="squad",
        hub={"id": "google/xquad", "config": "xquad.{lang}", "test": "validation"},
        token_sample="xquad", realdata_sample=("test", "en"),
        generator="span-qa", generated=("test",), hub_row="squad-row", reader="squad-json",
        files={"*": ("xquad/xquad.{lang}.json", "xquad/test-{lang}.json")}, dev_source="squad",
    ),
    "mlqa": _spec(
        name="mlqa", display_name="MLQA", group="question-answering", format="span-qa",
        languages=XTREME_R_TASK2LANGS["mlqa"], metric="f1", labels=None, train_source="squad",
        hub={"id": "facebook/mlqa", "config": "mlqa.{lang}.{lang}", "test": "test", "dev": "validation"},
        generator="span-qa", generated=("dev", "test"), hub_row="squad-row", reader="squad-json",
        shared_model="xquad", language_aware_metric=True,
        files={"*": ("mlqa/MLQA_V1/{split}/{split}-context-{lang}-question-{lang}.json",
                     "mlqa/{split}-context-{lang}-question-{lang}.json")},
    ),
    "tydiqa": _spec(
        name="tydiqa", display_name="TyDiQA-GoldP", group="question-answering", format="span-qa",
        languages=XTREME_R_TASK2LANGS["tydiqa"], metric="f1", labels=None, train_source="tydiqa",
        hub={"id": "google/xtreme", "config": "tydiqa", "train": "train", "test": "validation",
             "dev": "validation", "filter": "id-prefix-language"},
        train_examples=3_696, token_sample="tydiqa", realdata_sample=("train", "sw"),
        generator="span-qa", generated=("train", "test"), hub_row="squad-row", reader="squad-json",
        split_names={"test": "dev"},
        files={"*": ("tydiqa/tydiqa-goldp-v1.1-{s}/tydiqa.goldp.{lang}.{s}.json",
                     "tydiqa/tydiqa.goldp.{lang}.{s}.json", "tydiqa/tydiqa-goldp-v1.1-{s}/tydiqa.{lang}.{s}.json")},
    ),
    "mewslix": _spec(
        name="mewslix", display_name="Mewsli-X", group="retrieval", format="retrieval",
        languages=XTREME_R_TASK2LANGS["mewslix"], metric="map@20", labels=None, train_source="mewslix",
        hub={"id": "izhx/mewsli-x", "config": "{lang}", "test": "test", "dev": "validation"},
        generator="entity-linking", generated=("train", "dev", "test"), reader="mewslix-jsonl",
        recipe="retrieval-entity",
        files={"test": ("mewslix/wikinews_mentions-test.jsonl",), "dev": ("mewslix/wikinews_mentions-dev.jsonl",),
               "train": ("mewslix/wikipedia_pairs-train.jsonl",),
               "entities": ("mewslix/candidate_set_entities.jsonl",)},
    ),
    "lareqa": _spec(
        name="lareqa", display_name="LAReQA", group="retrieval", format="retrieval",
        languages=XTREME_R_TASK2LANGS["lareqa"], metric="map@20", labels=None, train_source="squad",
        hub={"id": "google-research-datasets/xquad_r", "config": "{lang}", "test": "validation"},
        generator="xquad-r", generated=("test",), hub_row="squad-row", reader="xquad-r", recipe="retrieval-qa",
        files={"*": ("lareqa/xquad-r/{lang}.json", "lareqa/{lang}.json")},
    ),
    "tatoeba": _spec(
        name="tatoeba", display_name="Tatoeba", group="retrieval", format="retrieval",
        languages=XTREME_R_TASK2LANGS["tatoeba"], metric="accuracy", labels=None, train_source=None,
        hub={"id": "mteb/tatoeba-bitext-mining", "config": "{iso3}-eng", "test": "test"}, trainable=False,
        generator="bitext", generated=("test",), reader="tatoeba-pairs",
        files={"*": ("tatoeba/v1/tatoeba.{iso3}-eng.{iso3}", "tatoeba/tatoeba.{iso3}-eng.{iso3}")},
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
        train_examples=162_865, token_sample="anli", realdata_sample=("dev", "en"), generated_proxy="xnli",
        generator="nli-rounds", generated=("train", "dev", "test"), hub_row="nli", reader="anli-jsonl",
        files={"*": ("anli/{part}/{split}.jsonl", "anli_v1.0/{part}/{split}.jsonl")},
        parts=("R1", "R2", "R3"), train_mixture=("mnli", "snli"),
    ),
    "mnli": _spec(
        name="mnli", display_name="MNLI", group="classification", format="pair-classification",
        languages=_EN, metric="accuracy", labels=NLI_LABELS, train_source="mnli", nine=True,
        hub={"id": "nyu-mll/glue", "config": "mnli", "train": "train", "dev": "validation_matched"},
        train_examples=392_702, token_sample="xnli", generated_proxy="xnli",
        generator="nli", generated=("train", "dev"), hub_row="nli", reader="glue-tsv",
        split_names={"dev": "dev_matched", "test": "test_matched"},
        files={"*": ("mnli/{s}.tsv", "MNLI/{s}.tsv"), "train": ("mnli/{s}.tsv", "MNLI/{s}.tsv", "xnli/train-en.tsv")},
    ),
    "qqp": _spec(
        name="qqp", display_name="QQP", group="classification", format="pair-classification",
        languages=_EN, metric="accuracy", labels=("not_duplicate", "duplicate"), train_source="qqp", nine=True,
        hub={"id": "nyu-mll/glue", "config": "qqp", "train": "train", "dev": "validation"},
        train_examples=363_846, token_sample="pawsx", generated_proxy="xnli",
        generator="question-pairs", generated=("train", "dev"), hub_row="glue", reader="glue-tsv",
        files={"*": ("qqp/{split}.tsv", "QQP/{split}.tsv")},
    ),
    "squad": _spec(
        name="squad", display_name="SQuAD v1.1", group="question-answering", format="span-qa",
        languages=_EN, metric="f1", labels=None, train_source="squad", nine=True,
        hub={"id": "rajpurkar/squad", "train": "train", "dev": "validation"},
        train_examples=87_599, token_sample="xquad", length_recipe="xquad", short_name="SQuAD",
        generator="span-qa", generated=("train", "dev"), hub_row="squad-row", reader="squad-json",
        files={"*": ("squad/{split}-v1.1.json",)},
    ),
    "sst2": _spec(
        name="sst2", display_name="SST-2", group="classification", format="single-classification",
        languages=_EN, metric="accuracy", labels=("negative", "positive"), train_source="sst2", nine=True,
        hub={"id": "nyu-mll/glue", "config": "sst2", "train": "train", "dev": "validation"},
        train_examples=67_349, token_sample="sst2", realdata_sample=("test", "en"), generated_proxy="xnli",
        generator="sentiment", generated=("train", "dev"), hub_row="glue", reader="glue-tsv",
        files={"*": ("sst2/{split}.tsv", "SST-2/{split}.tsv")},
    ),
    "ccg": _spec(
        name="ccg", display_name="CCG supertagging", group="structured-prediction", format="tagging",
        languages=_EN, metric="accuracy", labels=None, train_source="ccg", nine=True,
        hub={},  # CCGbank is LDC-licensed: not on the hub
        train_examples=39_604, token_sample="udpos", generated_proxy="udpos",
        generator="ccg-tags", generated=("train", "dev"), reader="tagging",
        files={"*": ("ccg/{split}.tsv", "ccg/{split}-en.tsv")},
    ),
    "cosmosqa": _spec(
        name="cosmosqa", display_name="CosmosQA", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("answer0", "answer1", "answer2", "answer3"),
        train_source="cosmosqa", nine=True, hub={"id": "allenai/cosmos_qa", "train": "train", "dev": "validation"},
        train_examples=25_262, token_sample="cosmosqa", realdata_sample=("dev", "en"), generated_proxy="xcopa",
        generator="reading-csv", generated=("train", "dev"), hub_row="cosmosqa-row", reader="cosmosqa-csv",
        split_names={"dev": "valid"}, files={"*": ("cosmosqa/{s}.csv",)},
    ),
    "hellaswag": _spec(
        name="hellaswag", display_name="HellaSwag", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("ending0", "ending1", "ending2", "ending3"),
        train_source="hellaswag", nine=True, hub={"id": "Rowan/hellaswag", "train": "train", "dev": "validation"},
        train_examples=39_905, token_sample="hellaswag", realdata_sample=("dev", "en"), generated_proxy="xcopa",
        generator="endings", generated=("train", "dev"), hub_row="hellaswag-row", reader="hellaswag-jsonl",
        split_names={"dev": "val"}, files={"*": ("hellaswag/hellaswag_{s}.jsonl",)},
    ),
    "commonsenseqa": _spec(
        name="commonsenseqa", display_name="CommonsenseQA", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("A", "B", "C", "D", "E"), train_source="commonsenseqa",
        nine=True, hub={"id": "tau/commonsense_qa", "train": "train", "dev": "validation"},
        train_examples=9_741, token_sample="commonsenseqa", realdata_sample=("dev", "en"), generated_proxy="xcopa",
        generator="concept-qa", generated=("train", "dev"), hub_row="csqa-row", reader="csqa-jsonl",
        files={"*": ("commonsenseqa/{split}_rand_split.jsonl",)},
    ),
    "siqa": _spec(
        name="siqa", display_name="Social IQa", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("A", "B", "C"), train_source="siqa",
        hub={"id": "allenai/social_i_qa", "train": "train", "dev": "validation"},
        train_examples=33_410, token_sample="siqa", realdata_sample=("dev", "en"), generated_proxy="xcopa",
        generator="social", generated=("train", "dev"), hub_row="siqa-row", reader="siqa-jsonl",
        split_names={"train": "trn", "test": "tst"},
        files={"*": ("siqa/socialIQa_v1.4_{s}.jsonl", "siqa/{split}.jsonl")},
    ),
    "copa": _spec(
        name="copa", display_name="COPA", group="classification", format="multiple-choice",
        languages=_EN, metric="accuracy", labels=("choice1", "choice2"), train_source="copa",
        hub={"id": "aps/super_glue", "config": "copa", "train": "train", "dev": "validation", "test": "test"},
        train_examples=400, token_sample="copa", realdata_sample=("train", "en"), generated_proxy="xcopa",
        generator="cause-effect", generated=("train", "dev", "test"), hub_row="copa-row", reader="copa-jsonl",
        split_names={"dev": "val"}, files={"*": ("copa/{s}-en.jsonl", "xcopa/{s}-en.jsonl")},
    ),
}

NINE_INTERMEDIATE: tuple[str, ...] = tuple(n for n, s in INTERMEDIATE_TASKS.items() if s.nine)

# Original-XTREME tasks that XTREME-R dropped; kept so their real files can be parsed and checked.
EXTRA_TASKS: dict[str, TaskSpec] = {
    "pawsx": _spec(
        name="pawsx", display_name="PAWS-X", group="classification", format="pair-classification",
        languages=_langs("de,en,es,fr,ja,ko,zh"), metric="accuracy", labels=("0", "1"), train_source="pawsx",
        hub={"id": "google-research-datasets/paws-x", "config": "{lang}", "test": "test", "dev": "validation"},
        realdata_sample=("dev", "en"), generated_proxy="xnli",
        hub_row="paws-row", reader="pair-tsv", files={"*": ("pawsx/{split}-{lang}.tsv",)},
    ),
}

ALL_TASKS: dict[str, TaskSpec] = {**TASKS, **INTERMEDIATE_TASKS, **EXTRA_TASKS}

# Data that only enters as part of another task (SNLI in ANLI+): readable, not a task of its own.
COMPONENTS: dict[str, TaskSpec] = {
    "snli": _spec(
        name="snli", display_name="SNLI", group="classification", format="pair-classification",
        train_examples=550_152, token_sample="xnli", generated_proxy="xnli", length_recipe="mnli",
        generator="nli", generated=("train",), reader="snli-files", hub_row="nli",
        files={"*": ("snli/{split}.tsv", "snli/snli_1.0_{split}.jsonl")},
        languages=_EN, metric="accuracy", labels=NLI_LABELS, train_source="snli",
        hub={"id": "stanfordnlp/snli", "train": "train"},
    ),
}


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


#: Task subsets the small profiles use (helpers.config): one target per format group that the
#: smoke encoder handles, and the paper's three best intermediate tasks (one per format family).
SUBSETS: dict[str, tuple[str, ...]] = {
    "one-per-group": ("xnli", "panx", "xquad", "tatoeba"),
    "three-intermediates": ("mnli", "squad", "hellaswag"),
    # The realdata profile (helpers.realsplits, helpers.config): the targets with real labelled files
    # in ../shared/realdata (Mewsli-X has none), the intermediate tasks of Phang et al.'s nine (and
    # SIQA) whose real English files it holds, the two it trains as arms (an NLI task for XNLI; SIQA,
    # which XTREME-R's XCOPA recipe trains on first), the data tasks of the targets' training stages
    # (XQuAD's "squad" stage, XCOPA's "copa" stage) and the two cheap targets trained with extra seeds.
    "realdata-targets": ("xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa", "lareqa", "tatoeba"),
    "realdata-intermediates": ("anli", "siqa", "cosmosqa", "commonsenseqa", "sst2"),
    "realdata-arms": ("anli", "siqa"),
    "realdata-stages": ("squad", "copa"),
    "realdata-seed-tasks": ("xcopa", "panx"),
}

#: Intermediate tasks whose one real English file (relative to the realdata folder) is split into a
#: training and a dev block by helpers.realsplits (ANLI has dev and test files of its own).
REALDATA_SPLIT_FILES: dict[str, str] = {
    "siqa": "siqa/socialIQa_v1.4_dev.jsonl",
    "cosmosqa": "cosmosqa/valid.csv",
    "commonsenseqa": "commonsenseqa/dev_rand_split.jsonl",
    "sst2": "sst2/test.tsv",
}


def get_data_spec(name: str) -> TaskSpec:
    """The spec of a task or of a component dataset (SNLI); StudyError listing valid names."""
    if name in COMPONENTS:
        return COMPONENTS[name]
    return get_task(name)


def target_tasks() -> tuple[str, ...]:
    """The ten XTREME-R target tasks, in registry order."""
    return tuple(TASKS)


def intermediate_tasks(nine: bool = True) -> tuple[str, ...]:
    """Phang et al.'s nine intermediate tasks (``nine=False``: every intermediate-task entry)."""
    return NINE_INTERMEDIATE if nine else tuple(INTERMEDIATE_TASKS)


def tasks_with_format(fmt: str, names: Iterable[str] | None = None) -> tuple[str, ...]:
    """The tasks (of ``names``, default every task) with format ``fmt``, in registry order."""
    if fmt not in FORMATS:
        raise invalid_choice("format", fmt, FORMATS)
    pool = ALL_TASKS if names is None else [n for n in ALL_TASKS if n in set(names)]
    return tuple(n for n in pool if ALL_TASKS[n].format == fmt)


def retrieval_tasks() -> tuple[str, ...]:
    """The retrieval targets (evaluated with each arm's encoder, never fine-tuned here)."""
    return tuple(n for n, s in TASKS.items() if s.format == "retrieval")


def trainable_targets() -> tuple[str, ...]:
    """Targets this study fine-tunes (every non-retrieval target; MLQA shares XQuAD's model)."""
    return tuple(n for n, s in TASKS.items() if s.format != "retrieval")


def own_model_targets() -> tuple[str, ...]:
    """Trainable targets that train a model of their own (not :attr:`TaskSpec.shared_model`)."""
    return tuple(n for n in trainable_targets() if TASKS[n].shared_model is None)


def shared_models() -> dict[str, str]:
    """``{target: the target whose model it is evaluated with}`` (MLQA -> XQuAD)."""
    return {n: s.shared_model for n, s in TASKS.items() if s.shared_model}


def target_training_tasks() -> tuple[str, ...]:
    """Every task trained in phase (iii): the targets with training data and their stages' tasks.

    Registry order of the targets, each followed by the English tasks its ``train_source``
    names that are not targets themselves (XCOPA: SIQA, COPA).
    """
    out: list[str] = []
    for name, spec in TASKS.items():
        if not spec.trainable:
            continue
        out.append(name)
        if "+" in (spec.train_source or ""):
            out += [t for t in spec.train_tasks if t not in out]
    return tuple(out)


def target_stages(name: str) -> tuple[tuple[str, str, str | None], ...]:
    """Phase (iii) training stages of a target with a model of its own: (data task, train split, dev split).

    One stage per task of its ``train_source`` (XCOPA: SIQA, then COPA), named by the target itself when
    it reads its own training data or keeps an own training file (XNLI: XNLI-MT's file, else MNLI);
    XQuAD trains on SQuAD. The dev split is ``None`` where the layout's dev set is the test set
    (TyDiQA-GoldP): the trainer then holds out a slice of the training data.
    """
    spec = get_task(name)
    if spec.format == "retrieval" or spec.shared_model or not spec.trainable:
        raise invalid_choice("own-model target", name, own_model_targets())
    dev = None if spec.split_names.get("test") == "dev" else "dev"
    own = name in spec.train_tasks or "train" in spec.files
    return tuple((t, "train", dev) for t in ((name,) if own else spec.train_tasks))


def recipe_family(name: str) -> str:
    """The recipe family of a task (see :data:`FAMILY_OF_FORMAT`)."""
    return get_data_spec(name).family


def require(condition: bool, message: str) -> None:
    if not condition:
        raise StudyError(message)
