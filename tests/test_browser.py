"""The real-browser check (studytools.browser): exact reports on tiny fixture pages,
then the built book itself when `make html` has produced _build/html."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from studytools import browser
from studytools.browser import PageReport, check_site, discover_pages
from helpers.errors import StudyError

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "browser"
# STUDY_BOOK_HTML points the check at another build (the screenshot goes beside it).
BOOK_HTML = Path(os.environ.get("STUDY_BOOK_HTML", REPO / "_build" / "html"))
ANSWER_PAGE = "book/10_answer.html"
ANSWER_SHOT = BOOK_HTML.parent / "screenshots" / "answer.png"
FIXTURE_PAGES = [
    "broken_image.html",
    "error_output.html",
    "good.html",
    "index.html",
    "js_error.html",
    "text_traceback.html",
]

needs_chromium = pytest.mark.skipif(
    browser.find_chromium() is None,
    reason="chromium is absent (install it with `make browser-deps`): the browser check needs it",
)


def png_info(path: Path) -> tuple[int, int]:
    """Width and height of a PNG after checking its signature and IHDR checksum."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    ihdr = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF
    assert data.endswith(b"IEND\xaeB`\x82"), f"{path} is truncated"
    return struct.unpack(">II", ihdr[:8])


def assert_shows_a_page(path: Path, min_bytes: int) -> None:
    """A decodable PNG, at least the viewport, not one flat colour."""
    assert path.stat().st_size >= min_bytes, f"{path}: only {path.stat().st_size} bytes"
    width, height = png_info(path)
    assert width == browser.VIEWPORT[0] and height >= browser.VIEWPORT[1], (width, height)
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        lo_hi = img.convert("L").getextrema()
    assert lo_hi[1] - lo_hi[0] > 100, f"{path} looks blank (grey levels {lo_hi})"


# --------------------------------------------------------------------------- no browser needed
def test_discover_pages_skips_static_folders_and_index_pages():
    assert discover_pages(FIXTURES) == FIXTURE_PAGES  # not _static/not_a_page.html, not genindex.html


def test_redirect_stub_is_recognised():
    assert browser._is_redirect_stub(FIXTURES / "index.html") == "good.html"
    assert browser._is_redirect_stub(FIXTURES / "good.html") is None


def test_bad_input_is_one_clear_error_before_any_browser(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(StudyError, match="does not exist; build it with `make html`"):
        check_site(tmp_path / "missing")
    with pytest.raises(StudyError, match=r"no HTML pages"):
        check_site(tmp_path)
    with pytest.raises(StudyError, match=r"unknown page 'nope.html'.*valid pages: broken_image.html, "):
        check_site(FIXTURES, ["nope.html"])
    with pytest.raises(StudyError, match=r"cannot screenshot 'good.html'"):
        check_site(FIXTURES, ["error_output.html"], {"good.html": tmp_path / "x.png"})
    with pytest.raises(StudyError, match="page_timeout must be a positive number"):
        check_site(FIXTURES, ["good.html"], page_timeout=0)
    with pytest.raises(StudyError, match=r"chromium not found .*make browser-deps"):
        check_site(FIXTURES, ["good.html"])
    with pytest.raises(StudyError, match=r"--screenshot takes PAGE=OUT.png"):
        browser.main([str(FIXTURES), "--screenshot", "good.html"])


def test_ok_needs_every_check():
    good = PageReport(page="p.html", url="u", status=200, images=1, images_rendered=1)
    assert good.ok and good.problems() == []
    for change in (
        {"status": 404},
        {"images_rendered": 0},
        {"error_outputs": 1},
        {"js_errors": ["Error: x"]},
        {"failed_requests": ["404 /x.css"]},
        {"load_error": "timed out"},
    ):
        bad = PageReport(**{**good.__dict__, **change})
        assert not bad.ok and len(bad.problems()) >= 1, change
    noisy = PageReport(**{**good.__dict__, "ignored_js": ["SyntaxError: THEBE_JS_URL"], "stderr_outputs": 2})
    assert noisy.ok


# --------------------------------------------------------------------------- fixture pages
@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    if browser.find_chromium() is None:
        pytest.skip("chromium is absent (install it with `make browser-deps`)")
    shot = tmp_path_factory.mktemp("shots") / "good.png"
    reports = check_site(FIXTURES, screenshot={"good.html": shot}, page_timeout=30)
    return {r.page: r for r in reports}, shot


@needs_chromium
def test_fixture_reports_are_exact(fixture_run):
    reports, shot = fixture_run
    assert sorted(reports) == FIXTURE_PAGES

    def fields(r: PageReport) -> tuple:
        return (r.status, r.title, r.images, r.images_rendered, r.broken_images, r.error_outputs,
                r.stderr_outputs, r.js_errors, r.failed_requests, r.load_error, r.ok)

    assert fields(reports["good.html"]) == (200, "Good page", 1, 1, [], 0, 0, [], [], None, True)
    assert fields(reports["broken_image.html"]) == (
        200, "Broken image", 2, 1, ["_images/missing.png"], 0, 0, [],
        ["404 /_images/missing.png"], None, False,
    )
    assert fields(reports["error_output.html"]) == (200, "Error output", 0, 0, [], 1, 1, [], [], None, False)
    assert reports["error_output.html"].error_snippets == ["ZeroDivisionError: division by zero"]
    assert fields(reports["text_traceback.html"]) == (
        200, "Text traceback", 0, 0, [], 1, 0, [], [], None, False,
    )
    assert fields(reports["js_error.html"]) == (200, "JS error", 0, 0, [], 0, 0, ["Error: boom"], [], None, False)
    assert reports["js_error.html"].ignored_js == [
        "SyntaxError: Identifier 'THEBE_JS_URL' has already been declared"
    ]
    stub = reports["index.html"]
    assert (stub.redirect, stub.status, stub.ok) == ("good.html", 200, True)
    assert reports["good.html"].screenshot == shot
    assert_shows_a_page(shot, min_bytes=2_000)


@needs_chromium
def test_summary_line_counts(fixture_run):
    reports, _ = fixture_run
    ordered = [reports[p] for p in FIXTURE_PAGES]
    assert browser.summary_line(ordered) == "pages=6 ok=2 images=3 broken_images=1 error_outputs=2"


@needs_chromium
def test_cli_exit_status_and_last_line(capsys, tmp_path):
    assert browser.main([str(FIXTURES), "--page", "good.html", "--page", "index.html"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "pages=2 ok=2 images=1 broken_images=0 error_outputs=0"
    assert browser.main([str(FIXTURES), "--page", "error_output.html"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "pages=1 ok=0 images=0 broken_images=0 error_outputs=1"
    assert "FAIL error_output.html: 1 error output(s): ZeroDivisionError: division by zero" in out


@needs_chromium
def test_chromium_is_closed_even_when_the_check_raises():
    with pytest.raises(RuntimeError, match="mid-check"):
        with browser.Chromium() as chrome:
            chrome.new_page()
            assert browser.marked_processes(chrome.marker)  # alive while in use
            raise RuntimeError("mid-check")
    assert browser.marked_processes(chrome.marker) == []  # no Chromium process of this check still runs
    assert chrome.browser is None and chrome._playwright is None


def test_marked_processes_finds_only_the_marker(tmp_path):
    import subprocess
    import sys

    marker = browser.MARKER_FLAG + "unit-test-" + tmp_path.name
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        assert browser.marked_processes(marker) == [proc.pid]
    finally:
        proc.kill()
        proc.wait()
    assert browser.marked_processes(marker) == []


@needs_chromium
def test_a_hung_page_is_bounded_and_the_next_page_still_checked(tmp_path):
    (tmp_path / "a_slow.html").write_text(
        "<title>slow</title><script>const t = Date.now(); while (Date.now() - t < 30000) {}</script>"
    )
    (tmp_path / "b_fine.html").write_text("<title>fine</title><p>fine</p>")
    reports = check_site(tmp_path, page_timeout=3)
    assert [r.page for r in reports] == ["a_slow.html", "b_fine.html"]
    assert not reports[0].ok and "timed out" in reports[0].load_error
    assert reports[1].ok and reports[1].title == "fine"


# --------------------------------------------------------------------------- the built book
@pytest.mark.slow  # ~17 s for the 15 pages of the skeleton book on this machine
@needs_chromium
@pytest.mark.skipif(
    not (BOOK_HTML / "index.html").is_file(),
    reason="_build/html is absent: `make test` builds it first (or run `make html`)",
)
def test_built_book_renders_in_a_real_browser():
    pages = discover_pages(BOOK_HTML)
    assert ANSWER_PAGE in pages, f"{ANSWER_PAGE} was not built; pages: {pages}"
    if ANSWER_SHOT.exists():
        ANSWER_SHOT.unlink()
    reports = check_site(BOOK_HTML, screenshot={ANSWER_PAGE: ANSWER_SHOT}, page_timeout=60)
    print("\n" + browser.format_table(reports) + "\n" + browser.summary_line(reports))
    failed = {r.page: r.problems() for r in reports if not r.ok}
    assert not failed, f"pages with problems: {failed}"
    for r in reports:
        assert r.redirect or r.status == 200, r.page
        assert r.images_rendered == r.images, (r.page, r.broken_images)
        assert r.error_outputs == 0, (r.page, r.error_snippets)
        assert r.redirect or r.title, f"{r.page} has no title"
    answer = next(r for r in reports if r.page == ANSWER_PAGE)
    assert answer.screenshot == ANSWER_SHOT
    assert_shows_a_page(ANSWER_SHOT, min_bytes=20_000)


def test_no_sandbox_only_as_root():
    """Chromium keeps its sandbox unless it runs as root, where it refuses to start sandboxed."""
    assert "--no-sandbox" not in browser.CHROMIUM_FLAGS
    assert browser.sandbox_flags(0) == ("--no-sandbox",)
    assert browser.sandbox_flags(1000) == ()
    assert browser.sandbox_flags() == (("--no-sandbox",) if os.geteuid() == 0 else ())
