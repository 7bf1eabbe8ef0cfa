"""Data sources: the Hugging Face hub, an XTREME-layout directory, the generated benchmark.

Three sources sit behind one interface and share the same preprocessing:

* ``hub``: the datasets of every task on the Hugging Face hub (the ``full``
  profile), read by :mod:`helpers.hubdata`; the schema -> canonical mapping is
  the pure function :func:`hub_row_to_canonical`, tested on local rows of each
  hub schema.
* ``xtreme-dir``: a directory in the layout XTREME's download script writes
  (``xnli/{train-en,dev-<l>,test-<l>}.tsv``, ``udpos/`` and ``panx/`` token/tag
  files, SQuAD JSON for QA, ``tatoeba/v1/tatoeba.<xxx>-eng.{xxx,eng}``, XCOPA
  jsonl, XQuAD-R json, Mewsli-X jsonl) plus the English intermediate tasks in
  their native formats. Where the real sample data (``../shared/realdata``)
  keeps a file under a flatter name, that name is accepted too.
* ``embedded``: the generated benchmark (:mod:`helpers.generate`), written once
  into ``cache_root()/data/embedded-<seed>-<hash>`` in exactly the xtreme-dir
  layout and read back through the xtreme-dir reader.
* ``realdata``: the real XTREME-R files (``helpers.realdata.resolve_root``:
  ``$STUDY_REALDATA``, ``../shared/realdata`` or ``.cache/realdata``), read by
  the xtreme-dir readers into the leakage-free train/dev/test splits of
  :mod:`helpers.realsplits` (the ``realdata`` profile); its languages are those
  whose files the folder holds.

Canonical examples (see ARCHITECTURE.md): pair/single classification
``{"id", "text_a", "text_b", "label"}``; multiple choice ``{"id", "context",
"question", "choices", "label"}``; tagging ``{"id", "tokens", "tags"}``; span QA
``{"id", "context", "question", "answers": {"text", "answer_start"}}``.
Unlabelled files (XTREME's test sets) give ``label``/``tags`` ``None`` and empty
answer lists. Training data of a retrieval task (``load_examples(task, "train",
"en")``) is a list of ``{"id", "query", "candidate"}`` positive pairs.

Where each task's files lie, which reader parses them and which task's data
stands in (XNLI trains on MNLI, XQuAD's dev set is SQuAD's, XCOPA's English is
COPA) is declared once in :mod:`helpers.tasks`; this module only dispatches:
file readers in :mod:`helpers.readers` (strict UTF-8, errors naming file and
line), retrieval sets in :mod:`helpers.retrieval_sets`, the hub in
:mod:`helpers.hubdata`. A missing file or directory raises one error naming it.
Nothing is cached from a load. :func:`check_task_files` refuses, before any
compute, an xtreme-dir folder that holds no test file of a configured task.
"""


from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import StudyError, check_choice, check_positive, invalid_choice
from .generate import embedded_root
from .hubdata import hub_examples, hub_retrieval, hub_row_to_canonical
from .readers import (
    exact_int,
    read_conllu,
    read_data_text,
    read_pair_tsv,
    read_squad,
    read_tagging,
    read_task_file,
)
from .retrieval_sets import (
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    RETRIEVAL_LOADERS,
    RetrievalSet,
    _sentence_at,
    lareqa_set,
    mewslix_train_pairs,
    read_lareqa,
    read_tatoeba,
    resolve,
)
from . import realsplits
from .runs import check_replaceable, is_owned
from .tasks import ISO3_TO_ISO1, TASKS, check_language, get_data_spec, get_task, retrieval_tasks

SOURCE_KINDS = ("hub", "xtreme-dir", "embedded", "realdata")
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Source:
    """Where the data comes from: ``kind`` and, for directories, ``root``."""

    kind: str
    root: Path | None = None

    def describe(self) -> str:
        return f"{self.kind}" + (f" ({self.root})" if self.root else "")


# --------------------------------------------------------------------------- locations
def realdata_root() -> Path | None:
    """The real XTREME-R files (``STUDY_REALDATA``, ``<repo>/../shared/realdata`` or a complete
    ``.cache/realdata``: :func:`helpers.realdata.resolve_root`, never downloading); None if absent."""
    from .realdata import resolve_root  # noqa: PLC0415 (realdata imports runs only; no cycle either way)
    try:
        return resolve_root()
    except StudyError:
        return None


def get_source(kind: str, root: str | Path | None = None) -> Source:
    """A data source: ``hub``, ``xtreme-dir`` (needs ``root``), ``embedded`` or ``realdata``.

    ``realdata`` reads ``root`` when given, else the folder
    :func:`helpers.realdata.resolve_root` finds (one StudyError line naming the
    ways to provide the files when there is none).

    For ``embedded`` the benchmark is generated on first use (seed 13, default
    sizes) under ``cache_root()/data``; ``root`` overrides that directory, and
    must then be new, empty or a benchmark the study generated there before:
    a folder of the user's (real files, say) is refused, never replaced.
    """
    check_choice("data source", kind, SOURCE_KINDS)
    if kind == "hub":
        return Source("hub", None)
    if kind == "realdata":
        if root is None:
            from .realdata import resolve_root  # noqa: PLC0415 (realdata imports no study module)

            root = resolve_root()
        path = Path(root)
        if not path.is_dir():
            raise StudyError(f"realdata folder {path} does not exist; set STUDY_REALDATA to a copy of the real "
                             f"XTREME-R files or leave root unset")
        return Source("realdata", path)
    if kind == "xtreme-dir":
        if root is None:
            raise StudyError("the xtreme-dir source needs a data directory (root); none was given")
        path = Path(root)
        if not path.is_dir():
            raise StudyError(f"data directory {path} does not exist")
        return Source("xtreme-dir", path)
    if root is not None:
        if Path(root).is_dir() and not is_owned(root):
            try:
                check_replaceable(root, "data directory")
            except StudyError:
                raise StudyError(f"data directory {root} holds files the study did not generate; the embedded "
                                 f"source writes its generated benchmark there and never replaces a user's folder: "
                                 f"to read these files use the xtreme-dir source (profile xtreme-dir), or give a "
                                 f"new or empty folder; nothing was written") from None
    return Source("embedded", embedded_root(Path(root) if root else None))


# --------------------------------------------------------------------------- xtreme-dir layout
def candidate_paths(task: str, split: str, lang: str) -> list[str]:
    """Relative paths where XTREME's layout (or the realdata copy) keeps a file; first existing wins."""
    paths = get_data_spec(task).layout_paths(split, lang)
    if not paths:
        valid = [n for n, s in TASKS.items() if s.files]
        raise invalid_choice("task with files", task, valid[:4] + ["..."])
    return paths


_resolve = resolve


def expected_test_files(task: str, lang: str) -> list[str]:
    """Relative paths where an xtreme-dir keeps the test data of target ``task`` in ``lang``."""
    spec = get_task(task)
    if spec.english_source and lang == "en":
        return candidate_paths(spec.english_source, "test", "en")
    return candidate_paths(task, "test", lang)


def languages_with_test_files(root: Path, task: str) -> list[str]:
    """The languages of target ``task`` whose test file exists under ``root`` (nothing is parsed)."""
    root = Path(root)
    return [lang for lang in get_task(task).languages
            if any((root / rel).is_file() for rel in expected_test_files(task, lang))]


def check_task_files(root: Path, tasks: Iterable[str]) -> None:
    """Refuse an xtreme-dir ``root`` that holds no test file of some of ``tasks``, before any compute.

    The message names the folder, the files expected for each such task and the
    target tasks the folder does hold (those ``task=`` may choose).
    """
    root = Path(root)
    tasks = list(tasks)
    missing = [t for t in tasks if not languages_with_test_files(root, t)]
    if not missing:
        return
    expected = []
    for t in missing[:4]:
        rel = get_task(t).layout_paths("test", "<lang>", iso3="<xxx>")[0]
        expected.append(rel)
    more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
    held = [t for t in TASKS if t not in missing and languages_with_test_files(root, t)]
    holds = (f"; it holds test files of: {', '.join(held)} (choose them with task=)" if held
             else "; it holds no test file of any XTREME-R task")
    raise StudyError(f"data_dir {str(root)!r} has no test files for {', '.join(missing)}: expected "
                     f"{', '.join(expected)}{more} (XTREME's download layout){holds}")


def _dir_examples(root: Path, task: str, split: str, lang: str) -> list[dict]:
    spec = get_data_spec(task)
    if spec.parts:  # ANLI+ = ANLI's rounds (+ MNLI + SNLI for training, Phang et al.)
        out = []
        for part in spec.parts:
            out += read_task_file(task, _resolve(root, spec.layout_paths(split, "en", part=part)))
        if split == "train":
            for extra in spec.train_mixture:
                out += read_task_file(extra, _resolve(root, candidate_paths(extra, "train", "en")))
        return out
    if spec.english_source and lang == "en" and split != "train":
        return _dir_examples(root, spec.english_source, split, "en")
    if split == "train" and spec.train_tasks and task not in spec.train_tasks:
        own = [rel for rel in spec.layout_paths("train", "en") if "train" in spec.files and (root / rel).is_file()]
        if own:  # a train file of the task's own (XNLI-MT's xnli/train-en.tsv)
            return read_task_file(task, root / own[0])
        return [ex for t in spec.train_tasks for ex in _dir_examples(root, t, "train", "en")]
    if spec.dev_source and split == "dev":
        return _dir_examples(root, spec.dev_source, "dev", "en")
    return read_task_file(task, _resolve(root, candidate_paths(task, split, lang)))


# --------------------------------------------------------------------------- public API
def load_examples(task: str, split: str, lang: str, source: Source, limit: int | None = None) -> list[dict]:
    """Canonical examples of ``task`` / ``split`` / ``lang`` from ``source`` (first ``limit``)."""
    spec = get_task(task)
    check_choice("split", split, SPLITS)
    check_language(task, lang)
    if limit is not None:
        check_positive("limit", limit, integer=True)
    if not isinstance(source, Source):
        raise StudyError(f"source must be a helpers.sources.Source (from get_source), got {type(source).__name__}")
    if spec.format == "retrieval":
        if split != "train":
            raise StudyError(f"{task} is a retrieval task: use load_retrieval for its {split} split")
        if not spec.trainable or source.kind == "realdata":
            raise StudyError(f"{task} has no training data (the encoder is used as it is)")
        examples = _retrieval_train_pairs(task, source)
    elif source.kind == "hub":
        examples = hub_examples(task, split, lang)
    elif source.kind == "realdata":
        examples = realsplits.load(source.root, task, split, lang)
    else:
        examples = _dir_examples(source.root, task, split, lang)
    return examples[:limit] if limit else examples


def _squad_sentence_pairs(task: str, source: Source) -> list[dict]:
    """LAReQA's training pairs: each SQuAD question -> the sentence holding its answer."""
    out = []
    for t in get_task(task).train_tasks:
        for ex in load_examples(t, "train", "en", source):
            if not ex["answers"]["text"]:
                continue
            start = ex["answers"]["answer_start"][0]
            out.append({"id": ex["id"], "query": ex["question"], "candidate": _sentence_at(ex["context"], start)})
    return out


def _entity_pairs(task: str, source: Source) -> list[dict]:
    if source.kind == "hub":
        raise StudyError(f"{get_task(task).display_name} training pairs are not on the hub; "
                         "use the xtreme-dir source")
    return mewslix_train_pairs(source.root, get_task(task))


#: Retrieval reader -> its English training pairs ``{"id", "query", "candidate"}``.
_TRAIN_PAIRS = {"xquad-r": _squad_sentence_pairs, "mewslix-jsonl": _entity_pairs}


def _retrieval_train_pairs(task: str, source: Source) -> list[dict]:
    make = _TRAIN_PAIRS.get(get_task(task).reader)
    if make is None:
        raise StudyError(f"{task} has no training pairs")
    return make(task, source)


def load_retrieval(task: str, lang: str, source: Source, split: str = "test", limit: int | None = None) -> RetrievalSet:
    """The retrieval set of ``task`` in ``lang``: queries in ``lang``, a candidate pool, gold indices.

    Built by the task's retrieval reader (:data:`helpers.retrieval_sets.RETRIEVAL_LOADERS`,
    whose module describes each).
    """
    spec = get_task(task)
    if spec.format != "retrieval":
        raise invalid_choice("retrieval task", task, retrieval_tasks())
    check_choice("split", split, ("dev", "test"))
    check_language(task, lang)
    if limit is not None:
        check_positive("limit", limit, integer=True)
    if source.kind == "hub":
        return hub_retrieval(spec, lang, split, limit)  # pragma: no cover - needs the network
    if source.kind == "realdata":
        if split != "test":
            raise StudyError(f"{task} has no dev split in the realdata source (no retrieval task is trained); "
                             f"valid splits: test")
        return realsplits.load_retrieval(source.root, task, lang, limit)
    return RETRIEVAL_LOADERS[spec.reader](source.root, spec, lang, split, limit)


def dataset_sizes(source: Source, tasks: Iterable[str], splits: Iterable[str] = SPLITS,
                  languages: Iterable[str] | None = None) -> list[dict]:
    """Rows ``{task, split, language, examples}`` of what ``source`` holds (missing files skipped).

    English train/dev, and test in every task language (intersected with
    ``languages`` when given). Retrieval test rows count queries and add
    ``candidates``.
    """
    rows = []
    for task in tasks:
        spec = get_task(task)
        for split in splits:
            langs = ("en",) if split in ("train", "dev") else spec.languages
            if languages is not None:
                langs = tuple(l for l in langs if l in set(languages))
            for lang in langs:
                try:
                    if spec.format == "retrieval" and split != "train":
                        rs = load_retrieval(task, lang, source, split="test" if split == "test" else "dev")
                        rows.append({"task": task, "split": split, "language": lang, "examples": len(rs.queries),
                                     "candidates": len(rs.candidates)})
                    else:
                        n = len(load_examples(task, split, lang, source))
                        rows.append({"task": task, "split": split, "language": lang, "examples": n})
                except StudyError as exc:
                    if any(k in str(exc) for k in ("does not exist", "has no", "use load_retrieval", "unknown language")):
                        continue
                    raise
    return rows


def source_fingerprint(root: Path) -> str:
    """A short digest of the file names and sizes under ``root`` (for cache keys)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(root)}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:16]


__all__ = [
    "Source", "RetrievalSet", "SOURCE_KINDS", "SPLITS", "QUERY_PREFIX", "PASSAGE_PREFIX", "get_source",
    "realdata_root", "load_examples", "load_retrieval", "dataset_sizes", "hub_row_to_canonical", "read_task_file",
    "read_conllu", "read_tagging", "read_squad", "read_pair_tsv", "read_data_text", "read_tatoeba", "read_lareqa",
    "lareqa_set", "exact_int", "candidate_paths", "expected_test_files", "languages_with_test_files",
    "check_task_files", "source_fingerprint", "ISO3_TO_ISO1",
]
