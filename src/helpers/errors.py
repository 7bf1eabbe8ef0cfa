"""User-facing errors: one clear line, no traceback, names what is valid."""

from __future__ import annotations

import sys
from typing import Iterable


class StudyError(ValueError):
    """An error caused by the user's input (parameters, files, plans).

    Its message is a single line that says what was wrong and what is valid.
    Command-line entry points print it without a traceback and exit with status 2.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))

    def _render_traceback_(self) -> list[str]:
        """IPython (and so papermill and nbval) shows this instead of a traceback."""
        return [f"StudyError: {self}"]


def invalid_choice(what: str, value: object, valid: Iterable[object]) -> StudyError:
    """Build the standard 'unknown X' error listing the valid values."""
    choices = ", ".join(str(v) for v in valid)
    return StudyError(f"unknown {what} {value!r}; valid {what}s: {choices}")


def check_choice(what: str, value: object, valid: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``valid``, else raise :class:`StudyError`."""
    valid = list(valid)
    if value not in valid:
        raise invalid_choice(what, value, valid)
    return value


def check_positive(what: str, value: object, *, integer: bool = False) -> object:
    """Return ``value`` if it is a positive number (an int when ``integer``)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        kind = "a positive integer" if integer else "a positive number"
        raise StudyError(f"{what} must be {kind}, got {value!r}")
    return value


#: The largest seed numpy's generators accept (``np.random.seed`` takes 0 .. 2**32 - 1).
MAX_SEED = 2**32 - 1


def check_seed(what: str, value: object) -> int:
    """Return ``value`` if it is a seed numpy accepts (an int from 0 to :data:`MAX_SEED`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StudyError(f"{what} must be a non-negative integer, got {value!r}")
    if value > MAX_SEED:
        raise StudyError(f"{what} must be at most {MAX_SEED} (the seed range of numpy), got {value}")
    return value


def run_cli(main, argv=None) -> int:
    """Run ``main(argv)``; print a StudyError as one line on stderr and return 2."""
    try:
        return int(main(argv) or 0)
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
