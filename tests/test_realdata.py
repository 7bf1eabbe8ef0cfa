"""Where the real files come from: resolution order, the sha256-checked download, the manifest.

Downloads are tested offline against a loopback ``http.server`` in a thread that
serves a tiny fake manifest of three files from ``tmp_path``, with modes that
misbehave: another body (checksum), a shorter body (truncated), a connection
closed mid-body (interrupted), 404.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
from pathlib import Path

import pytest

from helpers import realdata, sources, study
from helpers.errors import StudyError, run_cli
from helpers.realdata import ManifestEntry
from studytools import realdata_manifest

FILES = {
    "xnli/dev-en.tsv": b"premise\thypothesis\tneutral\n",
    "tatoeba/tatoeba.deu-eng.deu": "Ich bin hier.\nDas ist gut.\n".encode(),
    "xcopa/et/test.et.jsonl": b'{"premise": "x", "label": 0}\n' * 40,
}
SHA = {path: hashlib.sha256(body).hexdigest() for path, body in FILES.items()}


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; ``server.modes[path]`` makes it misbehave for one path."""

    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.lstrip("/")
        self.server.requests.append(path)
        body, mode = self.server.files.get(path), self.server.modes.get(path)
        if body is None or mode == "404":
            self.send_error(404)
            return
        if mode == "corrupt":
            body = bytes([body[0] ^ 1]) + body[1:]
        sent = body[: len(body) // 2] if mode in ("truncated", "interrupted") else body
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) if mode == "interrupted" else len(sent)))
        self.end_headers()
        self.wfile.write(sent)  # interrupted: the connection closes after half the promised bytes

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.modes, httpd.requests = dict(FILES), {}, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No STUDY_REALDATA, no ../shared/realdata, a private cache; proxies off for the loopback server."""
    monkeypatch.delenv("STUDY_REALDATA", raising=False)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(realdata, "SHARED_ROOT", tmp_path / "no-shared" / "realdata")
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "realdata"


def fake_entries(base: str) -> tuple[ManifestEntry, ...]:
    return tuple(ManifestEntry(p, f"{base}/{p}", SHA[p], len(b)) for p, b in FILES.items())


def leftovers(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --------------------------------------------------------------------------- download
def test_download_lands_every_file_checked_and_a_second_call_fetches_nothing(server, offline):
    entries = fake_entries(server.base)
    assert realdata.resolve_root(download=True, entries=entries) == offline
    assert leftovers(offline) == sorted(FILES)
    assert all((offline / p).read_bytes() == FILES[p] for p in FILES)
    assert realdata.verify(offline, entries) == []
    assert sorted(server.requests) == sorted(FILES)
    # complete now: found without downloading, and without download=True too
    assert realdata.resolve_root(download=True, entries=entries) == offline
    assert realdata.resolve_root(entries=entries) == offline
    assert len(server.requests) == 3


def test_base_url_override_replaces_each_entry_url(server, offline):
    entries = tuple(ManifestEntry(e.path, "https://example.invalid/" + e.path, e.sha256, e.bytes)
                    for e in fake_entries(server.base))
    assert realdata.fetch_missing(offline, entries, base_url=server.base + "/", quiet=True) == list(FILES)
    assert leftovers(offline) == sorted(FILES)


@pytest.mark.parametrize("mode, reason", [
    ("corrupt", f"sha256 {hashlib.sha256(bytes([FILES['xnli/dev-en.tsv'][0] ^ 1]) + FILES['xnli/dev-en.tsv'][1:]).hexdigest()}, "
                f"expected {SHA['xnli/dev-en.tsv']} (the file at the source changed)"),
    ("truncated", "got 13 bytes, expected 27 (truncated)"),
    ("interrupted", "the connection closed after 13 of the 27 bytes the server announced (interrupted)"),
    ("404", "HTTP 404 Not Found"),
])
def test_a_bad_download_is_one_line_and_leaves_nothing(server, offline, mode, reason):
    server.modes["xnli/dev-en.tsv"] = mode
    entries = fake_entries(server.base)
    url = f"{server.base}/xnli/dev-en.tsv"
    with pytest.raises(StudyError) as info:
        realdata.resolve_root(download=True, entries=entries)
    message = str(info.value)
    assert message == (f"download of realdata file xnli/dev-en.tsv from {url} failed: {reason}; "
                       f"nothing was kept, run make realdata again")
    assert "\n" not in message
    # the files before it in the manifest order are whole; the bad one and every temp file are gone
    assert leftovers(offline) == []  # xnli/dev-en.tsv is the first entry
    # once the server behaves, the next call fetches what is missing and the folder is complete
    del server.modes["xnli/dev-en.tsv"]
    assert realdata.resolve_root(download=True, entries=entries) == offline
    assert realdata.verify(offline, entries) == []


def test_a_failure_after_good_files_keeps_them_whole(server, offline):
    server.modes["xcopa/et/test.et.jsonl"] = "interrupted"
    with pytest.raises(StudyError, match="xcopa/et/test.et.jsonl .*interrupted"):
        realdata.resolve_root(download=True, entries=fake_entries(server.base))
    assert leftovers(offline) == ["tatoeba/tatoeba.deu-eng.deu", "xnli/dev-en.tsv"]


def test_an_unreachable_server_is_one_line(offline):
    entries = (ManifestEntry("a/b.txt", "http://127.0.0.1:9/a/b.txt", "0" * 64, 3),)  # port 9: discard, closed
    with pytest.raises(StudyError, match=r"^download of realdata file a/b.txt from http://127.0.0.1:9/a/b.txt "
                                         r"failed: cannot reach the server"):
        realdata.resolve_root(download=True, entries=entries, timeout=5)
    assert leftovers(offline) == []


def test_verify_names_missing_resized_and_changed_files(tmp_path):
    entries = fake_entries("https://example.invalid")
    for path, body in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(body)
    (tmp_path / "xnli/dev-en.tsv").write_bytes(b"x" * 27)  # same size, other bytes
    (tmp_path / "tatoeba/tatoeba.deu-eng.deu").write_bytes(b"short")
    (tmp_path / "xcopa/et/test.et.jsonl").unlink()
    assert realdata.verify(tmp_path, entries) == [
        f"xnli/dev-en.tsv: sha256 {hashlib.sha256(b'x' * 27).hexdigest()}, expected {SHA['xnli/dev-en.tsv']}",
        "tatoeba/tatoeba.deu-eng.deu: 5 bytes, expected 27",
        "xcopa/et/test.et.jsonl: missing",
    ]


def test_make_realdata_command_verifies_the_copy_it_finds(tmp_path, monkeypatch, capsys):
    """``python -m helpers.realdata`` (make realdata): exit 0 when every checksum matches, else 2 listing them."""
    entries = fake_entries("https://example.invalid")
    for path, body in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(body)
    monkeypatch.setenv("STUDY_REALDATA", str(tmp_path))
    monkeypatch.setattr(realdata, "load_manifest", lambda: entries)
    assert run_cli(realdata.main, []) == 0
    assert capsys.readouterr().out == f"realdata: 3 files verified (size and sha256) in {tmp_path}\n"
    (tmp_path / "xnli/dev-en.tsv").write_bytes(b"x" * 27)
    assert run_cli(realdata.main, []) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("  xnli/dev-en.tsv: sha256 ")
    assert err[1].startswith(f"error: 1 of the 3 realdata files in {tmp_path} are missing or differ from the manifest")


# --------------------------------------------------------------------------- resolution order
def test_study_realdata_wins_and_a_missing_one_is_an_error(tmp_path, monkeypatch):
    shared = tmp_path / "shared" / "realdata"
    shared.mkdir(parents=True)
    monkeypatch.setattr(realdata, "SHARED_ROOT", shared)
    copy = tmp_path / "copy"
    copy.mkdir()
    monkeypatch.setenv("STUDY_REALDATA", str(copy))
    assert realdata.resolve_root() == copy
    assert sources.realdata_root() == copy
    monkeypatch.setenv("STUDY_REALDATA", str(tmp_path / "nowhere"))
    with pytest.raises(StudyError, match=r"^STUDY_REALDATA=\S+nowhere is not a directory; set it to a copy"):
        realdata.resolve_root()
    assert sources.realdata_root() is None
    monkeypatch.delenv("STUDY_REALDATA")
    assert realdata.resolve_root() == shared


def test_shared_folder_comes_before_the_cache(tmp_path, monkeypatch, offline):
    entries = fake_entries("https://example.invalid")
    for path, body in FILES.items():
        (offline / path).parent.mkdir(parents=True, exist_ok=True)
        (offline / path).write_bytes(body)
    assert realdata.resolve_root(entries=entries) == offline
    shared = tmp_path / "shared2"
    shared.mkdir()
    monkeypatch.setattr(realdata, "SHARED_ROOT", shared)
    assert realdata.resolve_root(entries=entries) == shared


def test_offline_without_the_files_is_one_line_naming_the_ways(offline):
    entries = fake_entries("https://example.invalid")
    with pytest.raises(StudyError) as info:
        realdata.resolve_root(entries=entries)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("the real XTREME-R files are not here (not in $STUDY_REALDATA, ")
    assert "set STUDY_REALDATA to a copy of them, or run make realdata on a machine with internet" in message
    assert message.endswith("offline, the stand-in is make book PLAN=plans/embedded.yaml")
    # a partial cache (one of three files, another with the wrong size) is not used, and is named
    (offline / "xnli").mkdir(parents=True)
    (offline / "xnli/dev-en.tsv").write_bytes(FILES["xnli/dev-en.tsv"])
    (offline / "tatoeba").mkdir()
    (offline / "tatoeba/tatoeba.deu-eng.deu").write_bytes(b"short")
    with pytest.raises(StudyError, match=r"realdata, which holds 1 of the 3 files\): set STUDY_REALDATA"):
        realdata.resolve_root(entries=entries)


def test_realdata_root_is_none_offline(offline):
    """sources.realdata_root keeps its contract: None when the files are nowhere (tests skip on it)."""
    assert sources.realdata_root() is None


# --------------------------------------------------------------------------- the driver's check
def _realdata_plan(tmp_path: Path) -> Path:
    path = tmp_path / "realdata.yaml"
    path.write_text("profile: realdata\nnotebooks: [01_setup]\n", encoding="utf-8")
    return path


def test_a_realdata_plan_without_the_files_stops_before_any_chapter(tmp_path, offline, capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(study, "execute", lambda *a, **k: ran.append(a) or 0.0)
    plan = _realdata_plan(tmp_path)
    with pytest.raises(StudyError, match=r"^the real XTREME-R files are not here"):
        study.load_plan(plan)
    assert run_cli(study.main, ["run", str(plan)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the real XTREME-R files are not here") and err.count("\n") == 1
    assert "Traceback" not in err and ran == []


def test_the_realdata_check_is_keyed_on_the_plan_profile(tmp_path, monkeypatch):
    """With the files found, the check passes and the plan goes on to the profile's validation."""
    copy = tmp_path / "copy"
    copy.mkdir()
    monkeypatch.setenv("STUDY_REALDATA", str(copy))
    seen = []
    monkeypatch.setattr(realdata, "resolve_root", lambda download=False: seen.append(download) or copy)
    try:
        study.load_plan(_realdata_plan(tmp_path))
    except StudyError:  # the empty copy may fail later, in the profile's own validation; not in this check
        pass
    assert seen and not any(seen)  # resolved (the driver's check, then the data source), never downloading
    count = len(seen)
    smoke = tmp_path / "smoke.yaml"
    smoke.write_text("profile: smoke\nnotebooks: [01_setup]\n", encoding="utf-8")
    study.load_plan(smoke)
    assert len(seen) == count  # other profiles do not look for the files


def test_the_driver_exits_2_without_a_traceback(tmp_path):
    """The real command line: a missing STUDY_REALDATA stops a realdata plan with one line, exit 2."""
    import subprocess
    import sys

    env = {**os.environ, "STUDY_REALDATA": str(tmp_path / "nowhere"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "helpers.study", "run", str(_realdata_plan(tmp_path))],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: STUDY_REALDATA={tmp_path / 'nowhere'} is not a directory")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- the manifest
def test_manifest_tool_pins_urls_sizes_and_checksums(tmp_path):
    root = tmp_path / "copy"
    sources_md = (b"deepmind/xquad @ 60cac411649156efb6aab9dd4c9cde787a2c0345\n"
                  b"cambridgeltl/xcopa @ e2e9d7f105a758ee869cd13e0fe251ef93a29840\n")
    for path, body in {"xquad/xquad.de.json": b"{}", "xcopa/et/val.et.jsonl": b"{}\n", "SOURCES.md": sources_md}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)
    rows = tuple(r for r in realdata_manifest.SOURCE_ROWS if r.pattern.startswith(("xquad/", "xcopa/")))
    manifest = realdata_manifest.build_manifest(root, rows)
    assert manifest["files"] == [
        {"path": "xcopa/et/val.et.jsonl", "bytes": 3,
         "sha256": "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356",
         "url": "https://raw.githubusercontent.com/cambridgeltl/xcopa/e2e9d7f105a758ee869cd13e0fe251ef93a29840/"
                "data/et/val.et.jsonl"},
        {"path": "xquad/xquad.de.json", "bytes": 2,
         "sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
         "url": "https://raw.githubusercontent.com/deepmind/xquad/60cac411649156efb6aab9dd4c9cde787a2c0345/"
                "xquad.de.json"},
    ]
    (root / "SOURCES.md").write_bytes(sources_md.replace(b"e2e9d7f", b"0000000"))
    with pytest.raises(StudyError, match=r"^source row xcopa/\*/\*\.jsonl: cambridgeltl/xcopa @ e2e9d7f\w+ is not named in"):
        realdata_manifest.build_manifest(root, rows)
    (root / "SOURCES.md").write_bytes(sources_md)
    (root / "stray.txt").write_bytes(b"?")
    with pytest.raises(StudyError, match=r"^stray.txt has no source row in studytools.realdata_manifest"):
        realdata_manifest.build_manifest(root, rows)
    (root / "stray.txt").unlink()
    (root / "xquad/xquad.de.json").unlink()
    with pytest.raises(StudyError, match=r"source rows match no file under .*: xquad/xquad\.\*\.json"):
        realdata_manifest.build_manifest(root, rows)


def test_manifest_tool_refuses_to_write_with_an_unsourced_file(tmp_path):
    root = tmp_path / "copy"
    (root / "mystery").mkdir(parents=True)
    (root / "mystery/data.tsv").write_bytes(b"a\tb\n")
    out = tmp_path / "manifest.json"
    assert run_cli(realdata_manifest.main, ["--root", str(root), "--output", str(out)]) == 2
    assert not out.exists()


def test_every_source_row_names_one_local_pattern_and_a_pinned_commit():
    rows = realdata_manifest.SOURCE_ROWS
    assert len({r.pattern for r in rows}) == len(rows)
    assert all(len(r.commit) == 40 and int(r.commit, 16) >= 0 for r in rows)


def test_parse_manifest_refuses_paths_outside_the_root():
    bad = {"files": [{"path": "../etc/passwd", "url": "https://x/y", "sha256": "0" * 64, "bytes": 1}]}
    with pytest.raises(StudyError, match=r"must be relative inside the data folder"):
        realdata.parse_manifest(bad, "m.json")


@pytest.mark.realdata
def test_committed_manifest_matches_the_shared_files():
    """Every file of ../shared/realdata (SOURCES.md excepted) is listed, with its size and sha256."""
    shared = realdata.SHARED_ROOT
    if not shared.is_dir():
        pytest.skip(f"{shared} is absent: the committed manifest is checked against the shared copy")
    entries = realdata.load_manifest()
    assert [e.path for e in entries] == realdata_manifest.local_files(shared)
    assert realdata.verify(shared, entries) == []
    assert all(e.url.startswith("https://raw.githubusercontent.com/") for e in entries)
    assert json.loads(realdata.MANIFEST_PATH.read_text(encoding="utf-8")) == realdata_manifest.build_manifest(shared)
