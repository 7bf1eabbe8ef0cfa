"""Safe loading: checkpoints are safetensors, nothing unpickles, no remote code.

A static scan of ``src/helpers/*.py`` (by syntax tree, so comments and strings
do not count) refuses:

- ``torch.load(...)`` without ``weights_only=True``;
- ``trust_remote_code=True`` anywhere;
- pickle-style loading: ``pickle.load/loads``, ``pickle.Unpickler``,
  ``cloudpickle``/``dill``/``joblib`` loads, ``numpy.load(..., allow_pickle=True)``;
- saving or loading that opts out of safetensors: ``safe_serialization=False``,
  ``use_safetensors=False``.

The scanner itself is tested on snippets with pinned findings, and a tiny
training run through ``helpers.training`` must leave ``model.safetensors`` and
no ``pytorch_model.bin``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1] / "src" / "helpers"

PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "cloudpickle", "dill", "joblib", "shelve"}
PICKLE_FUNCS = {"load", "loads", "Unpickler", "open"}


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, '' otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _kw_is(call: ast.Call, name: str, value: object) -> bool:
    return any(
        kw.arg == name and isinstance(kw.value, ast.Constant) and kw.value.value is value for kw in call.keywords
    )


def _has_kw(call: ast.Call, name: str) -> bool:
    return any(kw.arg == name for kw in call.keywords)


def scan_source(source: str, filename: str = "<src>") -> list[str]:
    """Findings ``file:line: what`` for unsafe loading in one Python source."""
    tree = ast.parse(source, filename=filename)
    # names bound by imports: alias -> module or module.attr
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    findings = []

    def resolve(name: str) -> str:
        head, _, rest = name.partition(".")
        full = aliases.get(head, head)
        return f"{full}.{rest}" if rest else full

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{filename}:{node.lineno}"
        name = resolve(_dotted(node.func))
        if name == "torch.load" and not _kw_is(node, "weights_only", True):
            findings.append(f"{where}: torch.load without weights_only=True")
        module, _, func = name.rpartition(".")
        if module.split(".")[0] in PICKLE_MODULES and func in PICKLE_FUNCS:
            findings.append(f"{where}: pickle-style loading ({name})")
        if name in ("numpy.load", "np.load") and _kw_is(node, "allow_pickle", True):
            findings.append(f"{where}: numpy.load with allow_pickle=True")
        for kw in node.keywords:
            if kw.arg == "trust_remote_code" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                findings.append(f"{where}: trust_remote_code is not False")
            if kw.arg in ("safe_serialization", "use_safetensors") and not (
                isinstance(kw.value, ast.Constant) and kw.value.value is True
            ):
                findings.append(f"{where}: {kw.arg} is not True")
    # ``trust_remote_code=True`` smuggled through a dict literal
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if (
                    isinstance(k, ast.Constant)
                    and k.value == "trust_remote_code"
                    and isinstance(v, ast.Constant)
                    and v.value is True
                ):
                    findings.append(f"{filename}:{node.lineno}: trust_remote_code is not False")
    return findings


# ----------------------------------------------------------------------------- the scanner works
@pytest.mark.parametrize(
    "source, expected",
    [
        ("import torch\nstate = torch.load(path)\n", ["t.py:2: torch.load without weights_only=True"]),
        ("import torch\nstate = torch.load(path, weights_only=False)\n", ["t.py:2: torch.load without weights_only=True"]),
        ("import torch\nstate = torch.load(path, map_location='cpu', weights_only=True)\n", []),
        ("from torch import load\nstate = load(path)\n", ["t.py:2: torch.load without weights_only=True"]),
        ("import torch as T\n\nT.load(p)\n", ["t.py:3: torch.load without weights_only=True"]),
        ("import pickle\nx = pickle.load(f)\n", ["t.py:2: pickle-style loading (pickle.load)"]),
        ("from pickle import loads\nx = loads(b)\n", ["t.py:2: pickle-style loading (pickle.loads)"]),
        ("import joblib\nm = joblib.load('m.pkl')\n", ["t.py:2: pickle-style loading (joblib.load)"]),
        ("import numpy as np\na = np.load(p, allow_pickle=True)\n", ["t.py:2: numpy.load with allow_pickle=True"]),
        ("import numpy as np\na = np.load(p)\n", []),
        ("m = M.from_pretrained(p, trust_remote_code=True)\n", ["t.py:1: trust_remote_code is not False"]),
        ("m = M.from_pretrained(p, trust_remote_code=flag)\n", ["t.py:1: trust_remote_code is not False"]),
        ("m = M.from_pretrained(p, trust_remote_code=False)\n", []),
        ("kw = {'trust_remote_code': True}\n", ["t.py:1: trust_remote_code is not False"]),
        ("m.save_pretrained(d, safe_serialization=False)\n", ["t.py:1: safe_serialization is not True"]),
        ("m = M.from_pretrained(d, use_safetensors=False)\n", ["t.py:1: use_safetensors is not True"]),
        ("# torch.load(path)\ns = 'pickle.load(f)'\n", []),
        ("from safetensors.torch import load_file\nsd = load_file(p)\n", []),
    ],
)
def test_scanner_pins(source, expected):
    assert scan_source(source, "t.py") == expected


# ----------------------------------------------------------------------------- the helpers are clean
def test_helpers_package_has_no_unsafe_loading():
    files = sorted(HELPERS.glob("*.py")) + sorted((HELPERS.parent / "studytools").glob("*.py"))  # library and tools
    assert len(files) >= 5, f"expected the helpers package under {HELPERS}"
    findings = []
    for file in files:
        findings += scan_source(file.read_text(encoding="utf-8"), f"src/{file.parent.name}/{file.name}")
    assert findings == [], "unsafe loading in the helpers:\n" + "\n".join(findings)


# ----------------------------------------------------------------------------- real checkpoints
def test_training_run_dir_holds_safetensors_only(tmp_path, monkeypatch):
    """A tiny real training run (smoke profile, xnli, direct arm) publishes safetensors, no pickles."""
    training = pytest.importorskip("helpers.training", reason="helpers.training has not landed yet")
    pytest.importorskip("helpers.models", reason="helpers.models (the tiny preset) has not landed yet")
    from safetensors import safe_open

    from helpers.sources import get_source

    for var, sub in (("STUDY_RESULTS_DIR", "results"), ("STUDY_RUNS_DIR", "runs"), ("STUDY_CACHE_DIR", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    result = training.train_target("xnli", "direct", "tiny", profile="smoke", source=get_source("embedded"), seed=1)
    run_dir = Path(result.run_dir)
    assert run_dir.is_relative_to(tmp_path / "runs")
    files = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    assert "model.safetensors" in files, files
    pickled = [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt"))]
    assert pickled == [], f"pickled files in the published run dir: {pickled}"
    with safe_open(str(run_dir / "model.safetensors"), framework="pt") as handle:
        assert any(k.endswith("classifier.out_proj.weight") for k in handle.keys())
    # the work directory with the Trainer's (pickled) optimizer/RNG checkpoints is gone
    assert not Path(str(run_dir) + ".work").exists()
