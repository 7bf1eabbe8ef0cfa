"""Shared test setup: offline, private result/run/cache directories per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]


def realdata_dir() -> Path | None:
    """../shared/realdata beside the checkout (as CI lays it out), or STUDY_REALDATA."""
    env = os.environ.get("STUDY_REALDATA")
    path = Path(env) if env else REPO.parent / "shared" / "realdata"
    return path if path.is_dir() else None


@pytest.fixture(autouse=True)
def _private_outputs(tmp_path_factory, monkeypatch):
    """Unit tests never write into the project's results/ or runs/ (nor nbval's scratch copy)."""
    base = tmp_path_factory.getbasetemp() / "study-outputs"
    monkeypatch.setenv("STUDY_RESULTS_DIR", str(base / "results"))
    monkeypatch.setenv("STUDY_RUNS_DIR", str(base / "runs"))
    monkeypatch.setenv("STUDY_BOOK_DIR", str(base / "book"))


@pytest.fixture
def realdata() -> Path:
    path = realdata_dir()
    if path is None:
        pytest.skip("../shared/realdata is absent: real-file checks need the shared sample data")
    return path


@pytest.fixture
def isolated_results(tmp_path, monkeypatch) -> Path:
    """Point results/ and runs/ at a temporary directory for one test."""
    monkeypatch.setenv("STUDY_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("STUDY_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path
