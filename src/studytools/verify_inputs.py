"""The bad-input suite: every bad input is one clear line, before any compute.

``python -m studytools.verify_inputs`` (``make verify-inputs``) feeds one bad input
per case to a real public entry point -- a helper function, a command line, a
notebook executed by papermill -- and checks that the answer is a
:class:`helpers.errors.StudyError` whose message

- is one line (no traceback),
- names what is valid (the word "valid", "expected", "must ...", or the list
  of choices the case pins), and contains the case's pinned fragments,

and that it came before any compute: each case runs with ``STUDY_RESULTS_DIR``,
``STUDY_RUNS_DIR``, ``STUDY_CACHE_DIR`` and ``STUDY_BOOK_DIR`` pointing at fresh
empty directories that must still be empty afterwards, and (in-process) no
``torch.nn.Module`` may have been built. It prints one line per case, then
exactly ``cases=<n> clear_errors=<n>``, and exits 1 when any case is not a
clear error. ``--case NAME`` (repeatable) runs only some cases; ``--list``
names them.

The harness (how a case is run and judged) is :mod:`studytools.input_harness`; the cases are in
:mod:`studytools.input_cases_entry` and :mod:`studytools.input_cases_outputs`.
"""

from __future__ import annotations

import argparse
import sys

from helpers import runs
from helpers.errors import StudyError, run_cli
from studytools import input_cases_entry, input_cases_outputs  # noqa: F401 - registers the cases
from studytools.input_harness import CASES, ENV_DIRS, Case, Outcome, problems_with_message, run_case

__all__ = ["CASES", "ENV_DIRS", "Case", "Outcome", "main", "problems_with_message", "run_case"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studytools.verify_inputs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", default=[], help="run only this case (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", default=None, help="also write the outcomes to this JSON file")
    args = parser.parse_args(argv)
    names = [c.name for c in CASES]
    if args.list:
        for c in CASES:
            print(f"{c.name}: {c.description}")
        return 0
    for name in args.case:
        if name not in names:
            raise StudyError(f"unknown case {name!r}; valid cases: {', '.join(names)}")
    chosen = [c for c in CASES if not args.case or c.name in args.case]
    outcomes = []
    for c in chosen:
        o = run_case(c)
        outcomes.append(o)
        mark = "ok     " if o.clear else "UNCLEAR"
        print(f"{mark} {o.name}: {o.message}" + ("" if o.clear else f"  [{o.reason}]"), flush=True)
    if args.json:
        runs.atomic_write_json(args.json, [o.__dict__ for o in outcomes])
    clear = sum(o.clear for o in outcomes)
    print(f"cases={len(outcomes)} clear_errors={clear}")
    return 0 if clear == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
