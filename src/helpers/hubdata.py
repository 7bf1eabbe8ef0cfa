"""The ``hub`` source: each task's Hugging Face dataset -> canonical examples.

The schema -> canonical mapping is the pure function :func:`hub_row_to_canonical`,
dispatched through :data:`HUB_ROWS` by the registry's
:attr:`helpers.tasks.TaskSpec.hub_row` and tested on local rows of each hub
schema. The loaders need the network (the ``full`` profile) and are not run by
the tests.
"""

from __future__ import annotations

from typing import Callable, Iterable

from .errors import StudyError
from .readers import (
    _int_label,
    copa_row_to_canonical,
    cosmosqa_row_to_canonical,
    csqa_row_to_canonical,
    exact_int,
    glue_row_to_canonical,
    hellaswag_row_to_canonical,
    siqa_row_to_canonical,
)
from .retrieval_sets import _SENT_END, QUERY_PREFIX, RetrievalSet, _sentence_at, lareqa_set
from .tasks import TATOEBA_ISO3, UD_LANGUAGE_NAMES, TaskSpec, get_data_spec

SPLITS = ("train", "dev", "test")


def _hub_tags(labels: tuple[str, ...], values: Iterable) -> list[str]:
    """Hub tag columns hold class indices (ClassLabel) or tag names; an index must be exactly one of ``labels``."""
    out = []
    for t in values:
        if isinstance(t, str) and t in labels:
            out.append(t)
            continue
        i = exact_int(t)
        if i is None or not 0 <= i < len(labels):
            raise ValueError(f"tag {t!r} is not a tag index; valid tags: 0..{len(labels) - 1} ({', '.join(labels[:3])}, ...)")
        out.append(labels[i])
    return out


def _nli_row(spec: TaskSpec, row: dict, index: int) -> dict:
    return glue_row_to_canonical(spec.name, dict(row, id=row.get("uid", row.get("idx", index))), index)


def _pawsx_row(spec: TaskSpec, row: dict, index: int) -> dict:
    return {"id": str(row.get("id", index)), "text_a": row["sentence1"], "text_b": row["sentence2"],
            "label": _int_label(row.get("label"), 2)}


def _squad_row(spec: TaskSpec, row: dict, index: int) -> dict:
    answers = row["answers"]
    return {"id": str(row["id"]), "context": row["context"], "question": row["question"],
            "answers": {"text": [t for t in answers["text"] if t != ""],
                        "answer_start": [int(s) for t, s in zip(answers["text"], answers["answer_start"]) if t != ""]}}


def _tags_row(column: str) -> Callable[[TaskSpec, dict, int], dict]:
    def convert(spec: TaskSpec, row: dict, index: int) -> dict:
        tags = _hub_tags(spec.labels, row[column])
        return {"id": str(row.get("id", index)), "tokens": list(row["tokens"]), "tags": tags}
    return convert


def _plain(convert: Callable[[dict, int], dict]) -> Callable[[TaskSpec, dict, int], dict]:
    return lambda spec, row, index: convert(row, index)


#: ``TaskSpec.hub_row`` -> the mapping of one hub row to a canonical example.
HUB_ROWS: dict[str, Callable[[TaskSpec, dict, int], dict]] = {
    "nli": _nli_row,
    "paws-row": _pawsx_row,
    "glue": lambda spec, row, index: glue_row_to_canonical(spec.name, row, index),
    "copa-row": _plain(copa_row_to_canonical),
    "siqa-row": _plain(siqa_row_to_canonical),
    "cosmosqa-row": _plain(cosmosqa_row_to_canonical),
    "hellaswag-row": _plain(hellaswag_row_to_canonical),
    "csqa-row": _plain(csqa_row_to_canonical),
    "tags:pos_tags": _tags_row("pos_tags"),
    "tags:ner_tags": _tags_row("ner_tags"),
    "squad-row": _squad_row,
}


def hub_row_to_canonical(task: str, row: dict, index: int = 0) -> dict:
    """Map one row of a task's hub dataset (its documented schema) to the canonical dict. Pure."""
    spec = get_data_spec(task)
    convert = HUB_ROWS.get(spec.hub_row)
    if convert is None:
        raise StudyError(f"task {task} has no hub mapping (its data is not on the hub); use the xtreme-dir source")
    return convert(spec, row, index)


_TYDI_NAMES = {"en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian",
               "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu"}


def hub_examples(task: str, split: str, lang: str) -> list[dict]:  # pragma: no cover - needs the network
    """Canonical examples of ``task`` / ``split`` / ``lang`` from the hub (the ``full`` profile)."""
    import datasets

    spec = get_data_spec(task)
    if split == "train" and spec.train_tasks and task not in spec.train_tasks:  # e.g. XNLI trains on MNLI
        return [ex for t in spec.train_tasks for ex in hub_examples(t, "train", "en")]
    hub = spec.hub
    if not hub or split not in hub:
        raise StudyError(f"{task} has no {split} split on the hub; splits: {', '.join(k for k in SPLITS if k in hub)}")
    config = hub.get("config")
    if config:
        config = config.format(lang=lang, language_name=UD_LANGUAGE_NAMES.get(lang, lang),
                               iso3=TATOEBA_ISO3.get(lang, lang))
    rows = []
    for hub_split in hub[split].split(","):
        try:
            ds = datasets.load_dataset(hub["id"], config, split=hub_split)
        except Exception as exc:
            raise StudyError(f"cannot load {hub['id']} {config or ''} {hub_split} from the hub: {exc}") from None
        rows.extend(ds)
    if hub.get("filter") == "id-prefix-language":
        rows = [r for r in rows if str(r["id"]).startswith(_TYDI_NAMES[lang])]
    out = [hub_row_to_canonical(task, r, i) for i, r in enumerate(rows)]
    if split == "train":
        for extra in spec.train_mixture:  # ANLI+ = ANLI + MNLI + SNLI
            ehub = get_data_spec(extra).hub
            ds = datasets.load_dataset(ehub["id"], ehub.get("config"), split=ehub["train"])
            out += [e for e in (hub_row_to_canonical(extra, r, i) for i, r in enumerate(ds)) if e["label"] is not None]
    return out


def hub_retrieval(spec: TaskSpec, lang: str, split: str, limit: int | None) -> RetrievalSet:  # pragma: no cover
    """The retrieval set of ``spec`` in ``lang`` from the hub (Tatoeba, LAReQA)."""
    import datasets

    if spec.reader == "tatoeba-pairs":
        ds = datasets.load_dataset(spec.hub["id"], f"{TATOEBA_ISO3[lang]}-eng", split="test")
        pairs = [(r["sentence1"], r["sentence2"]) for r in ds][: limit or None]
        return RetrievalSet([a for a, _ in pairs], [b for _, b in pairs], [frozenset([i]) for i in range(len(pairs))],
                            QUERY_PREFIX, QUERY_PREFIX)
    if spec.reader == "xquad-r":
        records = []
        for code in spec.languages:
            ds = datasets.load_dataset(spec.hub["id"], code, split="validation")
            for r in ds:
                ex = hub_row_to_canonical(spec.name, r)
                sentences = [s for s in _SENT_END.split(ex["context"]) if s]
                start = ex["answers"]["answer_start"][0]
                sent = _sentence_at(ex["context"], start)
                records.append({"lang": code, "qid": ex["id"], "question": ex["question"], "sentences": sentences,
                                "answer_sentence": sentences.index(sent) if sent in sentences else 0,
                                "paragraph": f"{code}_{hash(ex['context'])}"})
        return lareqa_set(records, lang, limit)
    raise StudyError(f"{spec.display_name} is not on the hub in XTREME-R's form; use the xtreme-dir source")
