"""File readers of the xtreme-dir layout: one data file -> canonical examples.

Every reader goes through :func:`read_data_text`: files are strict UTF-8 (a
Latin-1 or UTF-16 file is one error naming file, line and byte), a leading
byte-order mark is dropped, JSON too deeply nested to parse is one error, and
labels must be exactly integers (``1.7`` or ``true`` is refused, naming the
valid labels). A malformed file raises :class:`StudyError` naming the file and
the line. :data:`FILE_READERS` maps each registry reader name
(:attr:`helpers.tasks.TaskSpec.reader`) to the function that parses one file of
such a task; :func:`read_task_file` dispatches through it.
"""

from __future__ import annotations

import csv
import io
import json
import numbers
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import StudyError, invalid_choice
from .tasks import ALL_TASKS, COMPONENTS, NLI_LABELS, TaskSpec, get_data_spec

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
    labels = get_data_spec(task).labels
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
                if labels == NLI_LABELS:
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
    """A GLUE row (file header names or hub feature names) -> canonical example.

    NLI tasks (the registry's three NLI labels: MNLI, ANLI, XNLI, SNLI), single-sentence
    classification (SST-2) and the GLUE question pairs (QQP); ids are prefixed with ``task``.
    """
    spec = get_data_spec(task)
    rid = str(row.get("idx", row.get("id", row.get("index", index))))
    if spec.format == "single-classification":
        label = _int_label(row.get("label"), 2)
        return {"id": f"{task}-{rid}", "text_a": row["sentence"].strip(), "text_b": None, "label": label}
    if spec.labels == NLI_LABELS:
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
    if spec.reader == "glue-tsv":  # question pairs
        label = _int_label(row.get("label", row.get("is_duplicate")), 2)
        return {"id": f"{task}-{rid}", "text_a": row["question1"], "text_b": row["question2"], "label": label}
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


# --------------------------------------------------------------------------- dispatch
def _glue_file(path: Path, spec: TaskSpec) -> list[dict]:
    """GLUE TSV with a header; XNLI-MT's headerless English train file (MNLI's fallback) as a pair TSV."""
    if path.name.startswith("train-en"):
        return read_pair_tsv(path, spec.name)
    return read_header_tsv(path, spec.name)


def _snli_file(path: Path, spec: TaskSpec) -> list[dict]:
    """SNLI as GLUE TSV or as the original ``snli_1.0_<split>.jsonl``."""
    if path.suffix == ".tsv":
        return read_header_tsv(path, spec.name)
    return read_records(path, lambda r, i: glue_row_to_canonical(
        spec.name, {"premise": r["sentence1"], "hypothesis": r["sentence2"], "gold_label": r["gold_label"],
                    "id": r.get("pairID", i)}, i))


def _tagging_file(path: Path, spec: TaskSpec) -> list[dict]:
    return read_conllu(path) if path.suffix == ".conllu" else read_tagging(path, spec.labels)


#: ``TaskSpec.reader`` -> the parser of one file of that task (retrieval readers live in helpers.retrieval_sets).
FILE_READERS: dict[str, Callable[[Path, TaskSpec], list[dict]]] = {
    "pair-tsv": lambda path, spec: read_pair_tsv(path, spec.name),
    "glue-tsv": _glue_file,
    "snli-files": _snli_file,
    "tagging": _tagging_file,
    "squad-json": lambda path, spec: read_squad(path),
    "copa-jsonl": lambda path, spec: read_records(path, copa_row_to_canonical),
    "siqa-jsonl": lambda path, spec: read_records(path, siqa_row_to_canonical),
    "cosmosqa-csv": lambda path, spec: read_csv_records(path, cosmosqa_row_to_canonical),
    "hellaswag-jsonl": lambda path, spec: read_records(path, hellaswag_row_to_canonical),
    "csqa-jsonl": lambda path, spec: read_records(path, csqa_row_to_canonical),
    "anli-jsonl": lambda path, spec: read_records(path, anli_row_to_canonical),
}


def read_task_file(task: str, path: Path) -> list[dict]:
    """Parse one file of ``task`` (a task or a component such as SNLI) with its registry reader."""
    spec = get_data_spec(task)
    reader = FILE_READERS.get(spec.reader)
    if reader is None:
        valid = [n for n, s in {**ALL_TASKS, **COMPONENTS}.items() if s.reader in FILE_READERS]
        raise invalid_choice("task with a file reader", task, valid[:4] + ["..."])
    return reader(Path(path), spec)
