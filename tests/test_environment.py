"""The pins: requirements.txt is the single source of truth; environment.yml must agree."""

import re
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        out[re.sub(r"[-_.]+", "-", name.lower())] = version
    return out


def requirement_pins():
    return _pins((REPO / "requirements.txt").read_text().splitlines())


def test_every_requirement_is_pinned_exactly():
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+]*", line), line


def test_environment_yml_matches_requirements():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == requirement_pins()
    assert "python=3.11" in env["dependencies"]


def test_key_pins_hold_the_documented_constraints():
    pins = requirement_pins()
    assert pins["torch"] == "2.13.0"
    assert pins["transformers"].split(".")[0] == "5"
    assert int(pins["jupyter-book"].split(".")[0]) < 2


def test_installed_versions_match_pins():
    for name, version in requirement_pins().items():
        installed = metadata.version(name)
        assert installed.split("+")[0] == version, f"{name}: installed {installed}, pinned {version}"
