"""Data sources: the Hugging Face hub, an XTREME-layout directory, the generated benchmark.

Three sources sit behind one interface and share the same preprocessing:

* ``hub``: the datasets of every task on the Hugging Face hub (the ``full``
  profile). The schema -> canonical mapping is the pure function
  :func:`hub_row_to_canonical`, tested on local rows of each hub schema.
* ``xtreme-dir``: a directory in the layout XTREME's download script writes
  (``xnli/{train-en,dev-<l>,test-<l>}.tsv``, ``udpos/`` and ``panx/`` token/tag
  files, SQuAD JSON for QA, ``tatoeba/v1/tatoeba.<xxx>-eng.{xxx,eng}``, XCOPA
  jsonl, XQuAD-R json, Mewsli-X jsonl) plus the English intermediate tasks in
  their native formats. Where the real sample data (``../shared/realdata``)
  keeps a file under a flatter name, that name is accepted too.
* ``embedded``: the generated benchmark (:mod:`helpers.generate`), written once
  into ``cache_root()/data/embedded-<seed>-<hash>`` in exactly the xtreme-dir
  layout and read back through the xtreme-dir reader.

Canonical examples (see ARCHITECTURE.md): pair/single classification
``{"id", "text_a", "text_b", "label"}``; multiple choice ``{"id", "context",
"question", "choices", "label"}``; tagging ``{"id", "tokens", "tags"}``; span QA
``{"id", "context", "question", "answers": {"text", "answer_start"}}``.
Unlabelled files (XTREME's test sets) give ``label``/``tags`` ``None`` and empty
answer lists. Training data of a retrieval task (``load_examples(task, "train",
"en")``) is a list of ``{"id", "query", "candidate"}`` positive pairs.

A malformed file raises :class:`StudyError` naming the file and the line; a
missing file or directory raises one naming it. Nothing is cached from a load.
Every reader goes through :func:`read_data_text`: files are strict UTF-8 (a
Latin-1 or UTF-16 file is one error naming file, line and byte), a leading
byte-order mark is dropped, JSON too deeply nested to parse is one error, and
labels must be exactly integers (``1.7`` or ``true`` is refused, naming the
valid labels). :func:`check_task_files` refuses, before any compute, an
xtreme-dir folder that holds no test file of a configured task.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import numbers
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import StudyError, check_choice, check_positive, invalid_choice
from .tasks import (
    ISO3_TO_ISO1,
    NLI_LABELS,
    TATOEBA_ISO3,
    UD_LANGUAGE_NAMES,
    check_language,
    get_task,
)

SOURCE_KINDS = ("hub", "xtreme-dir", "embedded")
SPLITS = ("train", "dev", "test")

# E5-style prefixes (the embedded profile's encoder); evaluation may ignore them for XLM-R.
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


@dataclass(frozen=True)
class Source:
    """Where the data comes from: ``kind`` and, for directories, ``root``."""

    kind: str
    root: Path | None = None

    def describe(self) -> str:
        return f"{self.kind}" + (f" ({self.root})" if self.root else "")


@dataclass(frozen=True)
class RetrievalSet:
    """Queries, a candidate pool and, per query, the set of gold candidate indices."""

    queries: list[str]
    candidates: list[str]
    gold: list[frozenset[int]]
    query_prefix: str = ""
    candidate_prefix: str = ""
    query_ids: list[str] = field(default_factory=list)
    candidate_ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.queries)


# --------------------------------------------------------------------------- locations
def realdata_root() -> Path | None:
    """The shared real sample data: ``STUDY_REALDATA`` or ``<repo>/../shared/realdata``; None if absent."""
    env = os.environ.get("STUDY_REALDATA")
    if env:
        path = Path(env)
    else:
        from .runs import PROJECT_ROOT

        path = PROJECT_ROOT.parent / "shared" / "realdata"
    return path if path.is_dir() else None


def get_source(kind: str, root: str | Path | None = None) -> Source:
    """A data source: ``hub``, ``xtreme-dir`` (needs ``root``) or ``embedded``.

    For ``embedded`` the benchmark is generated on first use (seed 13, default
    sizes) under ``cache_root()/data``; ``root`` overrides that directory, and
    must then be new, empty or a benchmark the study generated there before:
    a folder of the user's (real files, say) is refused, never replaced.
    """
    check_choice("data source", kind, SOURCE_KINDS)
    if kind == "hub":
        return Source("hub", None)
    if kind == "xtreme-dir":
        if root is None:
            raise StudyError("the xtreme-dir source needs a data directory (root); none was given")
        path = Path(root)
        if not path.is_dir():
            raise StudyError(f"data directory {path} does not exist")
        return Source("xtreme-dir", path)
    from .generate import embedded_root

    if root is not None:
        from .runs import check_replaceable, is_owned

        if Path(root).is_dir() and not is_owned(root):
            try:
                check_replaceable(root, "data directory")
            except StudyError:
                raise StudyError(f"data directory {root} holds files the study did not generate; the embedded "
                                 f"source writes its generated benchmark there and never replaces a user's folder: "
                                 f"to read these files use the xtreme-dir source (profile xtreme-dir), or give a "
                                 f"new or empty folder; nothing was written") from None
    return Source("embedded", embedded_root(Path(root) if root else None))


# --------------------------------------------------------------------------- file readers
BOM = "\ufeff"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _line_of_offset(data: bytes, offset: int) -> tuple[int, int]:
    """(line, column), both from 1, of byte ``offset``; lines end at \\n, \\r\\n or \\r as in text mode."""
    head = data[:offset]
    line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
    start = max(head.rfind(b"\n"), head.rfind(b"\r")) + 1
    return line, offset - start + 1


def read_data_text(path: Path) -> str:
    """The text of a data file: strict UTF-8, a leading byte-order mark (U+FEFF) removed.

    Every reader of this module goes through here. A file that is not UTF-8
    (Latin-1, UTF-16, binary) raises one :class:`StudyError` naming the file,
    the line and the column of the first bad byte.
    """
    path = Path(path)
    if path.is_dir():
        raise StudyError(f"data file {path} is a directory; expected a file")
    if not path.is_file():
        raise StudyError(f"data file {path} does not exist")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_of_offset(data, exc.start)
        utf16 = data.startswith(_UTF16_BOMS)
        hint = " (it starts with a UTF-16 byte-order mark)" if utf16 else ""
        raise _bad(path, line, f"byte 0x{data[exc.start]:02x} at byte {column} of the line is not UTF-8{hint}; "
                               f"data files must be UTF-8 (re-encode it, e.g. iconv -f {'utf-16' if utf16 else 'latin1'} "
                               "-t utf-8)") from None
    return text[1:] if text.startswith(BOM) else text


def _open_text(path: Path) -> io.StringIO:
    """A text handle over :func:`read_data_text` (newline="" semantics, as ``csv`` needs)."""
    return io.StringIO(read_data_text(path), newline="")


def _bad(path: Path, line: int, what: str) -> StudyError:
    return StudyError(f"malformed data file {path}, line {line}: {what}")


def _nesting_line(text: str, limit: int) -> int:
    """The line where JSON ``text`` first nests deeper than ``limit`` (strings skipped); 1 if it never does."""
    depth, line, in_string, escaped = 0, 1, False, False
    for ch in text:
        if ch == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth -= 1
    return 1


#: Nesting levels a data file may use; the deepest real format (Mewsli-X, XQuAD-R) needs 6.
MAX_JSON_DEPTH = 100


def _parse_json(text: str, path: Path, line: int | None = None) -> object:
    """``json.loads`` whose failures are one line naming ``path`` and the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, line or exc.lineno, f"invalid JSON ({exc.msg})") from None
    except RecursionError:
        where = line or _nesting_line(text, MAX_JSON_DEPTH)
        raise _bad(path, where, f"JSON nested too deeply to parse (deeper than {MAX_JSON_DEPTH} levels of [ and {{ "
                                "from this line on); expected a few levels, as the task's format has") from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-blank line of a JSON-lines file."""
    with _open_text(path) as handle:
        for no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            rec = _parse_json(line, path, no)
            if not isinstance(rec, dict):
                raise _bad(path, no, "expected a JSON object")
            yield no, rec


def read_json(path: Path) -> object:
    """A whole JSON file; errors (invalid, too deeply nested, not UTF-8) name the file and line."""
    return _parse_json(read_data_text(path), path)


def _nli_label(value: str, path: Path, no: int) -> int:
    v = value.strip().lower()
    v = {"contradictory": "contradiction", "e": "entailment", "n": "neutral", "c": "contradiction"}.get(v, v)
    if v not in NLI_LABELS:
        raise _bad(path, no, f"unknown label {value!r}; valid labels: {', '.join(NLI_LABELS)}")
    return NLI_LABELS.index(v)


def read_pair_tsv(path: Path, task: str) -> list[dict]:
    """XTREME's ``text_a<TAB>text_b[<TAB>label]`` files (XNLI, PAWS-X); no header.

    A third column is the label (XNLI names, PAWS-X 0/1); two columns mean the
    labels were removed (``label`` None). A header line ``premise\\thypo\\tlabel``
    (XNLI-MT's English train file) is skipped.
    """
    labels = get_task(task).labels
    out: list[dict] = []
    ncols = None
    with _open_text(path) as handle:
        for no, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            cols = line.split("\t")
            if no == 1 and [c.lower() for c in cols[:2]] in (["premise", "hypo"], ["premise", "hypothesis"],
                                                               ["sentence1", "sentence2"]):
                continue
            if len(cols) not in (2, 3):
                raise _bad(path, no, f"expected 2 or 3 tab-separated columns, found {len(cols)}")
            if ncols is not None and len(cols) != ncols:
                raise _bad(path, no, f"expected {ncols} columns like the lines before, found {len(cols)}")
            ncols = len(cols)
            label = None
            if len(cols) == 3:
                if task in ("xnli", "mnli", "anli"):
                    label = _nli_label(cols[2], path, no)
                else:
                    if cols[2].strip() not in labels:
                        raise _bad(path, no, f"unknown label {cols[2]!r}; valid labels: {', '.join(labels)}")
                    label = labels.index(cols[2].strip())
            out.append({"id": f"{path.stem}-{len(out)}", "text_a": cols[0], "text_b": cols[1], "label": label})
    return out


def read_header_tsv(path: Path, task: str) -> list[dict]:
    """GLUE-style TSV with a header: SST-2 (``sentence, label``), MNLI, QQP, SNLI."""
    out: list[dict] = []
    with _open_text(path) as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        for no, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) != len(header):
                raise _bad(path, no, f"expected {len(header)} tab-separated columns, found {len(cols)}")
            row = dict(zip(header, cols))
            try:
                ex = glue_row_to_canonical(task, row, len(out))
            except KeyError as exc:
                raise _bad(path, no, f"missing column {exc}; header is {header}") from None
            except ValueError as exc:
                raise _bad(path, no, str(exc)) from None
            out.append(ex)
    if not header or header == [""]:
        raise _bad(path, 1, "empty file: expected a header line")
    return out


def glue_row_to_canonical(task: str, row: dict, index: int) -> dict:
    """A GLUE row (file header names or hub feature names) -> canonical example."""
    rid = str(row.get("idx", row.get("id", row.get("index", index))))
    if task == "sst2":
        label = _int_label(row.get("label"), 2)
        return {"id": f"sst2-{rid}", "text_a": row["sentence"].strip(), "text_b": None, "label": label}
    if task == "qqp":
        label = _int_label(row.get("label", row.get("is_duplicate")), 2)
        return {"id": f"qqp-{rid}", "text_a": row["question1"], "text_b": row["question2"], "label": label}
    if task in ("mnli", "anli", "xnli", "snli"):
        a = row.get("premise", row.get("sentence1", row.get("context")))
        b = row.get("hypothesis", row.get("sentence2"))
        if a is None or b is None:
            raise KeyError("premise/sentence1")
        raw = row.get("label", row.get("gold_label"))
        if raw is None or raw == "" or raw == -1 or raw == "-1" or raw == "-":
            label = None
        elif isinstance(raw, bool) or exact_int(raw) is not None or isinstance(raw, float):
            label = _int_label(raw, 3)
        else:
            label = NLI_LABELS.index(_norm_nli(raw))
        return {"id": f"{task}-{rid}", "text_a": a, "text_b": b, "label": label}
    raise ValueError(f"no GLUE mapping for task {task}")


def _norm_nli(raw: str) -> str:
    v = {"e": "entailment", "n": "neutral", "c": "contradiction", "contradictory": "contradiction"}.get(
        str(raw).strip().lower(), str(raw).strip().lower())
    if v not in NLI_LABELS:
        raise ValueError(f"unknown label {raw!r}; valid labels: {', '.join(NLI_LABELS)}")
    return v


_INT_TEXT = re.compile(r"[+-]?[0-9]+")


def exact_int(raw: object) -> int | None:
    """``raw`` as an int when it is exactly one, else None.

    Integers, integral floats (``1.0``) and decimal digit strings (``" 2"``)
    qualify; booleans, ``1.7``, ``"1.7"``, ``"true"`` and ``"one"`` do not (``int()``
    would silently turn ``True`` and ``1.7`` into 1).
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, numbers.Integral):
        return int(raw)
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if isinstance(raw, str) and _INT_TEXT.fullmatch(raw.strip()):
        return int(raw.strip())
    return None


def _int_label(raw, n: int, offset: int = 0) -> int | None:
    """A class index 0..n-1 from a label stored as ``offset``..``n - 1 + offset``; None/""/-1: unlabelled.

    Anything that is not exactly such an integer raises ``ValueError`` naming the valid labels.
    """
    if raw is None or raw == "":
        return None
    value = exact_int(raw)
    if value == -1:
        return None
    if value is None or not offset <= value < n + offset:
        valid = ", ".join(str(i) for i in range(offset, n + offset))
        raise ValueError(f"label {raw!r} is not an integer label; valid labels: {valid} (-1 or empty: unlabelled)")
    return value - offset


def read_tagging(path: Path, valid_tags: Iterable[str] | None = None) -> list[dict]:
    """``token<TAB>tag`` lines, blank line between sentences (XTREME's udpos/panx/ccg files).

    Token-only lines (XTREME's unlabelled test files) give ``tags`` None; a
    file must not mix the two.
    """
    valid = set(valid_tags) if valid_tags else None
    out: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []
    labelled: bool | None = None

    def flush():
        if tokens:
            out.append({"id": f"{path.stem}-{len(out)}", "tokens": list(tokens), "tags": list(tags) if labelled else None})
            tokens.clear()
            tags.clear()

    with _open_text(path) as handle:
        for no, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                flush()
                continue
            cols = line.split("\t")
            if len(cols) > 2:
                raise _bad(path, no, f"expected token<TAB>tag, found {len(cols)} columns")
            has_tag = len(cols) == 2
            if labelled is None:
                labelled = has_tag
            elif labelled != has_tag:
                raise _bad(path, no, "a token without a tag in a tagged file (or the reverse)")
            if has_tag:
                if valid is not None and cols[1] not in valid:
                    raise _bad(path, no, f"unknown tag {cols[1]!r}")
                tags.append(cols[1])
            tokens.append(cols[0])
        flush()
    return out


def read_conllu(path: Path) -> list[dict]:
    """Raw CoNLL-U -> tagging examples with UPOS; multiword ranges and empty nodes skipped."""
    out: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []
    sent_id = None
    with _open_text(path) as handle:
        for no, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                if tokens:
                    out.append({"id": sent_id or f"{path.stem}-{len(out)}", "tokens": tokens, "tags": tags})
                tokens, tags, sent_id = [], [], None
                continue
            if line.startswith("#"):
                if line.startswith("# sent_id"):
                    sent_id = line.split("=", 1)[-1].strip()
                continue
            cols = line.split("\t")
            if len(cols) != 10:
                raise _bad(path, no, f"expected 10 tab-separated CoNLL-U columns, found {len(cols)}")
            if "-" in cols[0] or "." in cols[0]:
                continue
            if not cols[0].isdigit():
                raise _bad(path, no, f"token id {cols[0]!r} is not an integer")
            tokens.append(cols[1])
            tags.append(cols[3])
    if tokens:
        out.append({"id": sent_id or f"{path.stem}-{len(out)}", "tokens": tokens, "tags": tags})
    return out


def _offset(raw: object) -> int:
    """A character offset (``answer_start``): exactly a non-negative integer, else ``ValueError``."""
    value = exact_int(raw)
    if value is None or value < 0:
        raise ValueError(f"answer_start {raw!r} is not a valid character offset; expected an integer >= 0")
    return value


def _paragraphs(article: object, path: Path, a: int) -> list:
    """The ``paragraphs`` list of SQuAD article ``a``; anything else is one clear error."""
    paragraphs = article.get("paragraphs", []) if isinstance(article, dict) else None
    if not isinstance(paragraphs, list):
        raise StudyError(f"malformed data file {path}, article {a}: expected an object with a "
                         f"\"paragraphs\" list (SQuAD v1.1 JSON)")
    return paragraphs


def read_squad(path: Path, lang: str | None = None) -> list[dict]:
    """SQuAD v1.1 JSON (XQuAD, MLQA, TyDiQA-GoldP, SQuAD, XQuAD-R) -> span-QA examples.

    Answers that are empty strings (XTREME's TyDiQA test files) are dropped, so
    such questions carry empty answer lists.
    """
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise _bad(path, 1, 'expected {"data": [...]} (SQuAD v1.1 JSON)')
    out: list[dict] = []
    for a, article in enumerate(data["data"]):
        for p, para in enumerate(_paragraphs(article, path, a)):
            try:
                context = para["context"]
                for qa in para["qas"]:
                    texts, starts = [], []
                    for ans in qa.get("answers", []):
                        if ans["text"] == "":
                            continue
                        start = _offset(ans["answer_start"])
                        if context[start:start + len(ans["text"])] != ans["text"]:
                            raise ValueError(f"answer {ans['text']!r} is not at offset {start}")
                        texts.append(ans["text"])
                        starts.append(start)
                    out.append({"id": str(qa["id"]), "context": context, "question": qa["question"],
                                "answers": {"text": texts, "answer_start": starts}})
            except (KeyError, TypeError, ValueError) as exc:
                raise StudyError(f"malformed data file {path}, article {a} paragraph {p}: {exc}") from None
    return out


def _row_label(value, n: int, path: Path, no: int) -> int:
    try:
        label = _int_label(value, n)
    except ValueError as exc:
        raise _bad(path, no, str(exc)) from None
    return label


def copa_row_to_canonical(row: dict, index: int) -> dict:
    """XCOPA / COPA row (jsonl and hub share the schema) -> multiple choice.

    The question (``cause`` / ``effect``) is kept as the question text; the
    preprocessing module phrases it ("What was the cause?").
    """
    label = _int_label(row.get("label"), 2)
    if row["question"] not in ("cause", "effect"):
        raise ValueError(f"question {row['question']!r} is not cause or effect")
    return {"id": f"copa-{row.get('idx', index)}", "context": row["premise"], "question": row["question"],
            "choices": [row["choice1"], row["choice2"]], "label": label}


def siqa_row_to_canonical(row: dict, index: int) -> dict:
    """Social IQa (inline ``correct`` A/B/C, or hub ``label`` "1".."3") -> multiple choice."""
    if "correct" in row:
        label = "ABC".index(row["correct"]) if row["correct"] in ("A", "B", "C") else None
        if label is None:
            raise ValueError(f"correct {row['correct']!r} is not a choice label; valid labels: A, B, C")
    else:
        label = _int_label(row.get("label"), 3, offset=1)
    return {"id": f"siqa-{index}", "context": row["context"], "question": row["question"],
            "choices": [row["answerA"], row["answerB"], row["answerC"]], "label": label}


def cosmosqa_row_to_canonical(row: dict, index: int) -> dict:
    label = _int_label(row.get("label"), 4)
    return {"id": str(row.get("id", index)), "context": row["context"], "question": row["question"],
            "choices": [row[f"answer{i}"] for i in range(4)], "label": label}


def hellaswag_row_to_canonical(row: dict, index: int) -> dict:
    label = _int_label(row.get("label"), 4)
    endings = row["endings"]
    if len(endings) != 4:
        raise ValueError(f"expected 4 endings, found {len(endings)}")
    ctx = row.get("ctx") or (row["ctx_a"] + " " + row.get("ctx_b", "")).strip()
    return {"id": str(row.get("ind", index)), "context": ctx, "question": row.get("activity_label", ""),
            "choices": list(endings), "label": label}


def csqa_row_to_canonical(row: dict, index: int) -> dict:
    """CommonsenseQA: hub-flat (``choices: {label, text}``) or original nested (``question: {stem, choices}``)."""
    q = row["question"]
    if isinstance(q, dict):  # original release
        stem = q["stem"]
        letters = [c["label"] for c in q["choices"]]
        texts = [c["text"] for c in q["choices"]]
    else:
        stem = q
        letters = list(row["choices"]["label"])
        texts = list(row["choices"]["text"])
    if letters != ["A", "B", "C", "D", "E"]:
        raise ValueError(f"choice labels {letters} are not A..E")
    key = row.get("answerKey")
    if key in (None, ""):
        label = None
    elif isinstance(key, str) and key.strip() in letters:
        label = letters.index(key.strip())
    else:
        raise ValueError(f"answerKey {key!r} is not a choice label; valid labels: {', '.join(letters)}")
    return {"id": str(row.get("id", index)), "context": "", "question": stem, "choices": texts, "label": label}


def anli_row_to_canonical(row: dict, index: int) -> dict:
    return glue_row_to_canonical("anli", {"premise": row.get("context", row.get("premise")),
                                          "hypothesis": row["hypothesis"], "label": row.get("label"),
                                          "id": row.get("uid", index)}, index)


def _row_problem(exc: Exception) -> str:
    """What a row converter's exception says about the row, in words."""
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}; expected the fields of the task's format"
    if isinstance(exc, ValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def read_records(path: Path, convert: Callable[[dict, int], dict]) -> list[dict]:
    """A JSON-lines file through a row converter; errors name file and line."""
    out = []
    for no, rec in iter_jsonl(path):
        try:
            out.append(convert(rec, len(out)))
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(path, no, _row_problem(exc)) from None
    return out


def read_csv_records(path: Path, convert: Callable[[dict, int], dict]) -> list[dict]:
    out = []
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        try:
            for rec in reader:
                try:
                    out.append(convert(rec, len(out)))
                except (KeyError, TypeError, ValueError) as exc:
                    raise _bad(path, reader.line_num, _row_problem(exc)) from None
        except csv.Error as exc:
            raise _bad(path, reader.line_num, f"CSV error: {exc}") from None
    return out


def read_tatoeba(x_path: Path, eng_path: Path) -> list[tuple[str, str]]:
    """Aligned Tatoeba pairs: line i of ``.xxx`` with line i of ``.eng``."""
    with _open_text(x_path) as fx:
        xs = fx.read().split("\n")
    with _open_text(eng_path) as fe:
        es = fe.read().split("\n")
    if xs and xs[-1] == "":
        xs.pop()
    if es and es[-1] == "":
        es.pop()
    if len(xs) != len(es):
        line = min(len(xs), len(es)) + 1
        raise _bad(x_path, line, f"{len(xs)} lines but {eng_path.name} has {len(es)}: not aligned")
    for i, (a, b) in enumerate(zip(xs, es), start=1):
        if not a.strip():
            raise _bad(x_path, i, "empty sentence")
        if not b.strip():
            raise _bad(eng_path, i, "empty sentence")
    return [(a.rstrip("\r"), b.rstrip("\r")) for a, b in zip(xs, es)]


def read_lareqa(paths: dict[str, Path]) -> list[dict]:
    """XQuAD-R files (SQuAD JSON + ``sentences``/``sentence_breaks``) -> question records.

    Each record: ``{"lang", "qid", "question", "sentences": [...], "answer_sentence": i,
    "paragraph": key}``.
    """
    out = []
    for lang, path in paths.items():
        data = read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise _bad(path, 1, 'expected {"data": [...]} (XQuAD-R JSON)')
        n_par = 0
        for a, article in enumerate(data["data"]):
            for p, para in enumerate(_paragraphs(article, path, a)):
                n_par += 1
                try:
                    context = para["context"]
                    breaks = para["sentence_breaks"]
                    sentences = [context[s:e] for s, e in breaks]
                    for qa in para["qas"]:
                        start = _offset(qa["answers"][0]["answer_start"])
                        idx = next((i for i, (s, e) in enumerate(breaks) if s <= start < e), None)
                        if idx is None:
                            continue  # as XTREME: answer not inside one sentence -> skipped
                        out.append({"lang": lang, "qid": str(qa["id"]), "question": qa["question"],
                                    "sentences": sentences, "answer_sentence": idx,
                                    "paragraph": f"{lang}_{n_par}"})
                except (KeyError, TypeError, ValueError, IndexError) as exc:
                    raise StudyError(f"malformed data file {path}, article {a} paragraph {p}: {exc}") from None
    return out


def mewslix_query(record: dict) -> str:
    """XTREME-R's baseline mention string: ``mention: left { mention } right`` over its sentence."""
    ctx = record["context"]
    text = ctx["text"]
    span = record["mention"]["mention_span"]
    start, end = int(span["start"]), int(span["end"])
    s0, s1 = 0, len(text)
    for sp in ctx.get("sentence_spans", []):
        if sp["start"] <= start < sp["end"] and end <= sp["end"]:
            s0, s1 = sp["start"], sp["end"]
            break
    mention = span["text"]
    left, right = text[s0:start], text[end:s1]
    query = f"{mention}: {left} {{ {mention} }} {right}"
    return " ".join(" ".join(query.splitlines()).split())


def mewslix_entity_text(entity: dict) -> str:
    desc = entity["description"]
    spans = entity.get("sentence_spans") or [{"start": 0, "end": len(desc)}]
    text = " ".join(desc[s["start"]:s["end"]] for s in spans)
    return " ".join(" ".join(text.splitlines()).split())


# --------------------------------------------------------------------------- xtreme-dir layout
def _split_name(task: str, split: str) -> str:
    return {
        ("xcopa", "dev"): "val", ("copa", "dev"): "val", ("hellaswag", "dev"): "val",
        ("cosmosqa", "dev"): "valid", ("siqa", "dev"): "dev", ("siqa", "train"): "trn", ("siqa", "test"): "tst",
    }.get((task, split), split)


def candidate_paths(task: str, split: str, lang: str) -> list[str]:
    """Relative paths where XTREME's layout (or the realdata copy) keeps a file; first existing wins."""
    s = _split_name(task, split)
    if task in ("xnli", "pawsx"):
        return [f"{task}/{split}-{lang}.tsv"]
    if task in ("udpos", "panx"):
        return [f"{task}/{split}-{lang}.tsv"]
    if task == "ccg":
        return [f"ccg/{split}.tsv", f"ccg/{split}-en.tsv"]
    if task == "xquad":
        return [f"xquad/xquad.{lang}.json", f"xquad/test-{lang}.json"]
    if task == "mlqa":
        return [f"mlqa/MLQA_V1/{split}/{split}-context-{lang}-question-{lang}.json",
                f"mlqa/{split}-context-{lang}-question-{lang}.json"]
    if task == "tydiqa":
        t = "train" if split == "train" else "dev"  # XTREME evaluates on the GoldP dev set
        return [f"tydiqa/tydiqa-goldp-v1.1-{t}/tydiqa.goldp.{lang}.{t}.json", f"tydiqa/tydiqa.goldp.{lang}.{t}.json",
                f"tydiqa/tydiqa-goldp-v1.1-{t}/tydiqa.{lang}.{t}.json"]
    if task == "squad":
        return [f"squad/{split}-v1.1.json"]
    if task == "xcopa":
        return [f"xcopa/{s}-{lang}.jsonl", f"xcopa/{lang}/{s}.{lang}.jsonl"]
    if task == "copa":
        return [f"copa/{s}-en.jsonl", f"xcopa/{s}-en.jsonl"]
    if task == "siqa":
        return [f"siqa/socialIQa_v1.4_{s}.jsonl", f"siqa/{split}.jsonl"]
    if task == "cosmosqa":
        return [f"cosmosqa/{s}.csv"]
    if task == "hellaswag":
        return [f"hellaswag/hellaswag_{s}.jsonl"]
    if task == "commonsenseqa":
        return [f"commonsenseqa/{split}_rand_split.jsonl"]
    if task == "sst2":
        return [f"sst2/{split}.tsv", f"SST-2/{split}.tsv"]
    if task == "qqp":
        return [f"qqp/{split}.tsv", f"QQP/{split}.tsv"]
    if task == "mnli":
        name = {"train": "train", "dev": "dev_matched", "test": "test_matched"}[split]
        return [f"mnli/{name}.tsv", f"MNLI/{name}.tsv"] + (["xnli/train-en.tsv"] if split == "train" else [])
    if task == "snli":
        return [f"snli/{split}.tsv", f"snli/snli_1.0_{split}.jsonl"]
    raise invalid_choice("task with files", task, ["xnli", "pawsx", "udpos", "panx", "..."])


def _resolve(root: Path, rels: list[str]) -> Path:
    for rel in rels:
        if (root / rel).is_file():
            return root / rel
    raise StudyError(f"data file {root / rels[0]} does not exist" +
                     (f" (also looked for {', '.join(rels[1:])})" if len(rels) > 1 else ""))


def expected_test_files(task: str, lang: str) -> list[str]:
    """Relative paths where an xtreme-dir keeps the test data of target ``task`` in ``lang``."""
    if task == "tatoeba":
        x = TATOEBA_ISO3.get(lang, lang)
        return [f"tatoeba/v1/tatoeba.{x}-eng.{x}", f"tatoeba/tatoeba.{x}-eng.{x}"]
    if task == "lareqa":
        return [f"lareqa/xquad-r/{lang}.json", f"lareqa/{lang}.json"]
    if task == "mewslix":
        return ["mewslix/wikinews_mentions-test.jsonl"]
    if task == "xcopa" and lang == "en":
        return candidate_paths("copa", "test", "en")
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
        rel = expected_test_files(t, "LANG")[0]
        if t == "tatoeba":
            rel = "tatoeba/v1/tatoeba.<xxx>-eng.<xxx>"
        expected.append(rel.replace("LANG", "<lang>"))
    more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
    from .tasks import TASKS

    held = [t for t in TASKS if t not in missing and languages_with_test_files(root, t)]
    holds = (f"; it holds test files of: {', '.join(held)} (choose them with task=)" if held
             else "; it holds no test file of any XTREME-R task")
    raise StudyError(f"data_dir {str(root)!r} has no test files for {', '.join(missing)}: expected "
                     f"{', '.join(expected)}{more} (XTREME's download layout){holds}")


def read_task_file(task: str, path: Path) -> list[dict]:
    """Parse one file of ``task`` with the right reader into canonical examples."""
    spec = get_task("mnli" if task == "snli" else task)
    if task in ("xnli", "pawsx") or (task == "mnli" and path.name.startswith("train-en")):
        return read_pair_tsv(path, "xnli" if task == "mnli" else task)
    if task in ("sst2", "qqp", "mnli") or (task == "snli" and path.suffix == ".tsv"):
        return read_header_tsv(path, task)
    if task == "snli":
        return read_records(path, lambda r, i: glue_row_to_canonical(
            "snli", {"premise": r["sentence1"], "hypothesis": r["sentence2"], "gold_label": r["gold_label"],
                     "id": r.get("pairID", i)}, i))
    if task in ("udpos", "panx", "ccg"):
        if path.suffix == ".conllu":
            return read_conllu(path)
        return read_tagging(path, spec.labels)
    if spec.format == "span-qa":
        return read_squad(path)
    if task in ("xcopa", "copa"):
        return read_records(path, copa_row_to_canonical)
    if task == "siqa":
        return read_records(path, siqa_row_to_canonical)
    if task == "cosmosqa":
        return read_csv_records(path, cosmosqa_row_to_canonical)
    if task == "hellaswag":
        return read_records(path, hellaswag_row_to_canonical)
    if task == "commonsenseqa":
        return read_records(path, csqa_row_to_canonical)
    if task == "anli":
        return read_records(path, anli_row_to_canonical)
    raise invalid_choice("task with a file reader", task, ["xnli", "pawsx", "udpos", "panx", "..."])


def _dir_examples(root: Path, task: str, split: str, lang: str) -> list[dict]:
    if task == "anli":
        out = []
        for r in ("R1", "R2", "R3"):
            out += read_task_file("anli", _resolve(root, [f"anli/{r}/{split}.jsonl", f"anli_v1.0/{r}/{split}.jsonl"]))
        if split == "train":  # ANLI+ = ANLI + MNLI + SNLI (Phang et al.)
            out += read_task_file("mnli", _resolve(root, candidate_paths("mnli", "train", "en")))
            out += read_task_file("snli", _resolve(root, candidate_paths("snli", "train", "en")))
        return out
    if task == "xcopa" and lang == "en" and split != "train":
        return _dir_examples(root, "copa", split, "en")
    if split == "train" and task in ("xnli", "xquad", "mlqa", "lareqa", "xcopa"):
        source = get_task(task).train_source
        if source == "siqa+copa":
            return _dir_examples(root, "siqa", "train", "en") + _dir_examples(root, "copa", "train", "en")
        if task == "xnli" and (root / "xnli/train-en.tsv").is_file():
            return read_pair_tsv(root / "xnli/train-en.tsv", "xnli")
        return _dir_examples(root, source, "train", "en")
    if task == "xquad" and split == "dev":
        return _dir_examples(root, "squad", "dev", "en")
    path = _resolve(root, candidate_paths(task, split, lang))
    return read_task_file(task, path)


# --------------------------------------------------------------------------- hub
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


def hub_row_to_canonical(task: str, row: dict, index: int = 0) -> dict:
    """Map one row of a task's hub dataset (its documented schema) to the canonical dict. Pure."""
    spec = get_task(task)
    if task in ("xnli", "mnli", "anli", "snli"):
        return glue_row_to_canonical("anli" if task == "anli" else task, dict(row, id=row.get("uid", row.get("idx", index))), index)
    if task == "pawsx":
        return {"id": str(row.get("id", index)), "text_a": row["sentence1"], "text_b": row["sentence2"],
                "label": _int_label(row.get("label"), 2)}
    if task in ("sst2", "qqp"):
        return glue_row_to_canonical(task, row, index)
    if task in ("xcopa", "copa"):
        return copa_row_to_canonical(row, index)
    if task == "siqa":
        return siqa_row_to_canonical(row, index)
    if task == "cosmosqa":
        return cosmosqa_row_to_canonical(row, index)
    if task == "hellaswag":
        return hellaswag_row_to_canonical(row, index)
    if task == "commonsenseqa":
        return csqa_row_to_canonical(row, index)
    if task == "udpos":
        tags = _hub_tags(spec.labels, row["pos_tags"])
        return {"id": str(row.get("id", index)), "tokens": list(row["tokens"]), "tags": tags}
    if task == "panx":
        tags = _hub_tags(spec.labels, row["ner_tags"])
        return {"id": str(row.get("id", index)), "tokens": list(row["tokens"]), "tags": tags}
    if spec.format == "span-qa" or task == "lareqa":
        answers = row["answers"]
        return {"id": str(row["id"]), "context": row["context"], "question": row["question"],
                "answers": {"text": [t for t in answers["text"] if t != ""],
                            "answer_start": [int(s) for t, s in zip(answers["text"], answers["answer_start"]) if t != ""]}}
    raise StudyError(f"task {task} has no hub mapping (its data is not on the hub); use the xtreme-dir source")


_TYDI_NAMES = {"en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian",
               "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu"}


def _hub_examples(task: str, split: str, lang: str) -> list[dict]:  # pragma: no cover - needs the network
    os.environ.get("HF_HUB_OFFLINE")
    import datasets

    spec = get_task(task)
    if split == "train" and task in ("xnli", "xquad", "mlqa", "lareqa", "xcopa"):
        if spec.train_source == "siqa+copa":
            return _hub_examples("siqa", "train", "en") + _hub_examples("copa", "train", "en")
        return _hub_examples(spec.train_source, "train", "en")
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
    if task == "anli" and split == "train":
        for extra in ("mnli", "snli"):
            ds = datasets.load_dataset("nyu-mll/glue", "mnli", split="train") if extra == "mnli" else \
                datasets.load_dataset("stanfordnlp/snli", split="train")
            out += [e for e in (hub_row_to_canonical(extra, r, i) for i, r in enumerate(ds)) if e["label"] is not None]
    return out


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
        if not spec.trainable:
            raise StudyError(f"{task} has no training data (the encoder is used as it is)")
        examples = _retrieval_train_pairs(task, source)
    elif source.kind == "hub":
        examples = _hub_examples(task, split, lang)
    else:
        examples = _dir_examples(source.root, task, split, lang)
    return examples[:limit] if limit else examples


def _retrieval_train_pairs(task: str, source: Source) -> list[dict]:
    if task == "lareqa":  # SQuAD: question -> the sentence holding the answer
        squad = load_examples("squad", "train", "en", source)
        out = []
        for ex in squad:
            if not ex["answers"]["text"]:
                continue
            start = ex["answers"]["answer_start"][0]
            sentence = _sentence_at(ex["context"], start)
            out.append({"id": ex["id"], "query": ex["question"], "candidate": sentence})
        return out
    if task == "mewslix":
        if source.kind == "hub":
            raise StudyError("Mewsli-X training pairs are not on the hub; use the xtreme-dir source")
        path = _resolve(source.root, ["mewslix/wikipedia_pairs-train.jsonl"])
        out = []
        for no, rec in iter_jsonl(path):
            try:
                cm = rec["contextual_mention"]
                out.append({"id": cm["mention"]["example_id"], "query": mewslix_query(cm),
                            "candidate": mewslix_entity_text(rec["entity"])})
            except (KeyError, TypeError) as exc:
                raise _bad(path, no, f"{type(exc).__name__}: {exc}") from None
        return out
    raise StudyError(f"{task} has no training pairs")


_SENT_END = re.compile(r"(?<=[.!?。！？؟।])\s+")


def _sentence_at(context: str, offset: int) -> str:
    pos = 0
    for sent in _SENT_END.split(context):
        start = context.find(sent, pos)
        if start <= offset < start + len(sent):
            return sent
        pos = start + len(sent)
    return context


def load_retrieval(task: str, lang: str, source: Source, split: str = "test", limit: int | None = None) -> RetrievalSet:
    """The retrieval set of ``task`` in ``lang``: queries in ``lang``, a candidate pool, gold indices.

    * Tatoeba: queries are the ``lang`` sentences, candidates the aligned English
      ones (gold: the same line); ``limit`` keeps the first pairs.
    * LAReQA: queries are the ``lang`` questions; candidates every sentence of
      every available language's paragraphs (language-agnostic retrieval); gold:
      the answer sentences of the same question in all languages.
    * Mewsli-X: queries are the ``lang`` mentions in context, candidates the
      English entity descriptions of the candidate set.
    """
    spec = get_task(task)
    if spec.format != "retrieval":
        raise invalid_choice("retrieval task", task, ["mewslix", "lareqa", "tatoeba"])
    check_choice("split", split, ("dev", "test"))
    check_language(task, lang)
    if limit is not None:
        check_positive("limit", limit, integer=True)
    if source.kind == "hub":
        return _hub_retrieval(task, lang, split, limit)  # pragma: no cover - needs the network
    root = source.root
    if task == "tatoeba":
        if lang not in TATOEBA_ISO3:
            raise invalid_choice("language for tatoeba", lang, sorted(TATOEBA_ISO3))
        x = TATOEBA_ISO3[lang]
        base = [f"tatoeba/v1/tatoeba.{x}-eng", f"tatoeba/tatoeba.{x}-eng"]
        stem = next((b for b in base if (root / f"{b}.{x}").is_file()), base[0])
        pairs = read_tatoeba(root / f"{stem}.{x}", root / f"{stem}.eng")
        pairs = pairs[:limit] if limit else pairs
        return RetrievalSet([a for a, _ in pairs], [b for _, b in pairs], [frozenset([i]) for i in range(len(pairs))],
                            QUERY_PREFIX, QUERY_PREFIX, [f"{x}-{i}" for i in range(len(pairs))],
                            [f"eng-{i}" for i in range(len(pairs))])
    if task == "lareqa":
        paths = {}
        for code in spec.languages:
            for rel in (f"lareqa/xquad-r/{code}.json", f"lareqa/{code}.json"):
                if (root / rel).is_file():
                    paths[code] = root / rel
                    break
        if lang not in paths:
            raise StudyError(f"data file {root / f'lareqa/xquad-r/{lang}.json'} does not exist")
        return lareqa_set(read_lareqa(paths), lang, limit)
    if task == "mewslix":
        ents = _resolve(root, ["mewslix/candidate_set_entities.jsonl"])
        ments = _resolve(root, [f"mewslix/wikinews_mentions-{split}.jsonl"])
        entities = []
        index = {}
        for no, rec in iter_jsonl(ents):
            try:
                index[rec["entity_id"]] = len(entities)
                entities.append(mewslix_entity_text(rec))
            except (KeyError, TypeError) as exc:
                raise _bad(ents, no, f"{type(exc).__name__}: {exc}") from None
        queries, gold, qids = [], [], []
        for no, rec in iter_jsonl(ments):
            try:
                if rec["context"]["language"] != lang:
                    continue
                for m in rec["mentions"]:
                    single = {"context": rec["context"], "mention": m}
                    if m["entity_id"] not in index:
                        raise KeyError(f"entity {m['entity_id']} not in the candidate set")
                    queries.append(mewslix_query(single))
                    gold.append(frozenset([index[m["entity_id"]]]))
                    qids.append(m["example_id"])
            except (KeyError, TypeError) as exc:
                raise _bad(ments, no, f"{type(exc).__name__}: {exc}") from None
            if limit and len(queries) >= limit:
                break
        if not queries:
            raise StudyError(f"data file {ments} has no mentions in language {lang!r}")
        if limit:
            queries, gold, qids = queries[:limit], gold[:limit], qids[:limit]
        return RetrievalSet(queries, entities, gold, QUERY_PREFIX, PASSAGE_PREFIX, qids, list(index))
    raise invalid_choice("retrieval task", task, ["mewslix", "lareqa", "tatoeba"])


def lareqa_set(records: list[dict], lang: str, limit: int | None = None) -> RetrievalSet:
    """Build LAReQA's language-agnostic retrieval set from XQuAD-R question records."""
    queries = [r for r in records if r["lang"] == lang]
    if limit:
        queries = queries[:limit]
        keep = {r["qid"] for r in queries}
        paragraphs = {r["paragraph"] for r in records if r["qid"] in keep}
    else:
        paragraphs = {r["paragraph"] for r in records}
    cand_index: dict[tuple[str, int], int] = {}
    candidates: list[str] = []
    cand_ids: list[str] = []
    by_qid: dict[str, set[int]] = {}
    for r in records:
        if r["paragraph"] not in paragraphs:
            continue
        for i, sent in enumerate(r["sentences"]):
            key = (r["paragraph"], i)
            if key not in cand_index:
                cand_index[key] = len(candidates)
                candidates.append(sent)
                cand_ids.append(f"{r['paragraph']}_{i}")
        by_qid.setdefault(r["qid"], set()).add(cand_index[(r["paragraph"], r["answer_sentence"])])
    gold = [frozenset(by_qid[r["qid"]]) for r in queries]
    return RetrievalSet([r["question"] for r in queries], candidates, gold, QUERY_PREFIX, PASSAGE_PREFIX,
                        [r["qid"] for r in queries], cand_ids)


def _hub_retrieval(task: str, lang: str, split: str, limit: int | None) -> RetrievalSet:  # pragma: no cover
    import datasets

    spec = get_task(task)
    if task == "tatoeba":
        ds = datasets.load_dataset(spec.hub["id"], f"{TATOEBA_ISO3[lang]}-eng", split="test")
        pairs = [(r["sentence1"], r["sentence2"]) for r in ds][: limit or None]
        return RetrievalSet([a for a, _ in pairs], [b for _, b in pairs], [frozenset([i]) for i in range(len(pairs))],
                            QUERY_PREFIX, QUERY_PREFIX)
    if task == "lareqa":
        records = []
        for code in spec.languages:
            ds = datasets.load_dataset(spec.hub["id"], code, split="validation")
            for r in ds:
                ex = hub_row_to_canonical("lareqa", r)
                sentences = [s for s in _SENT_END.split(ex["context"]) if s]
                start = ex["answers"]["answer_start"][0]
                sent = _sentence_at(ex["context"], start)
                records.append({"lang": code, "qid": ex["id"], "question": ex["question"], "sentences": sentences,
                                "answer_sentence": sentences.index(sent) if sent in sentences else 0,
                                "paragraph": f"{code}_{hash(ex['context'])}"})
        return lareqa_set(records, lang, limit)
    raise StudyError("Mewsli-X is not on the hub in XTREME-R's form; use the xtreme-dir source")


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
    "Source", "RetrievalSet", "SOURCE_KINDS", "SPLITS", "get_source", "realdata_root", "load_examples",
    "load_retrieval", "dataset_sizes", "hub_row_to_canonical", "read_task_file", "read_conllu", "read_tatoeba",
    "read_lareqa", "lareqa_set", "candidate_paths", "ISO3_TO_ISO1",
]
