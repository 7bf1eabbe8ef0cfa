"""The real-browser check of the built Jupyter Book HTML.

Every page of ``_build/html`` is served from a local HTTP server on
127.0.0.1 and loaded in headless Chromium (Debian's ``/usr/bin/chromium``,
driven through playwright; playwright's own browser downloads are not used).
For each page the check reports the HTTP status, the document title, the
``<img>`` elements and how many of them rendered (``complete && naturalWidth >
0``), the error outputs a notebook left in the page, stderr outputs, uncaught
JavaScript exceptions / ``console.error`` calls and failed sub-resource
requests; selected pages can be captured as full-page PNG screenshots.

What counts as an error output (what myst-nb 1.4 / jupyter-book 1.0.4 emit):

* an ``error`` output of a cell -> ``<div class="output traceback highlight-ipythontb">``
  inside ``<div class="cell_output">`` (older myst-nb: ``output error``);
* a docutils/Sphinx problem rendered into the page -> ``div.system-message``;
* papermill's failure banner -> ``#papermill-error-cell`` /
  "An Exception was encountered at";
* any other "Traceback (most recent call last)" text outside code inputs.

A stderr stream output (``<div class="output stderr">``) is counted separately
(``stderr_outputs``): warnings on stderr are not failures by themselves.

Command line::

    python -m studytools.browser [_build/html] [--page PAGE ...] [--screenshot PAGE=OUT.png ...]

prints one row per page and a final line
``pages=<n> ok=<n> images=<n> broken_images=<n> error_outputs=<n>``; the exit
status is 1 when any page failed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from helpers.errors import StudyError, run_cli
from helpers.runs import atomic_write_bytes

#: Chromium flags: quiet on this machine's closed network (see also :func:`sandbox_flags`);
#: playwright adds the headless switches itself.
CHROMIUM_FLAGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)
#: Executables tried in order when ``STUDY_CHROMIUM`` is not set.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Files and folders of a Sphinx build that are not pages of the book.
NON_PAGES = frozenset({"genindex.html", "search.html", "py-modindex.html"})
#: The selectors of error outputs (see the module docstring).
ERROR_SELECTOR = (
    ".output.traceback, .output.error, .cell_output .traceback, "
    "div.system-message, #papermill-error-cell"
)
STDERR_SELECTOR = ".output.stderr"
#: Text that marks an error even when no known element carries it.
ERROR_TEXTS = ("Traceback (most recent call last)", "An Exception was encountered at")
#: Console errors of the book's theme stack itself, not of the study's pages: reported in
#: ``ignored_js`` but not failures. Each entry: (substring of the message, why).
KNOWN_JS_NOISE = (
    ("Identifier 'THEBE_JS_URL' has already been declared",
     "sphinx-thebe 0.3.1 adds its inline config script twice under jupyter-book 1.0.4"),
    ("Got invalid theme mode: . Resetting to auto",
     "pydata-sphinx-theme with an empty localStorage (fresh profile) and no "
     "html_context.default_mode; self-correcting"),
)
VIEWPORT = (1280, 900)
MAX_SCREENSHOT_HEIGHT = 16384
#: Prefix of the switch that marks the Chromium processes of one check (see :func:`marked_processes`).
MARKER_FLAG = "--study-browser-check="


@dataclass
class PageReport:
    """What the browser saw on one page."""

    page: str  # path relative to the HTML folder, e.g. "book/10_answer.html"
    url: str
    status: int | None = None  # HTTP status of the document (None: no response)
    title: str = ""
    images: int = 0  # <img> elements
    images_rendered: int = 0  # complete && naturalWidth > 0
    broken_images: list[str] = field(default_factory=list)  # their src (shortened)
    error_outputs: int = 0  # error outputs / tracebacks / system messages
    error_snippets: list[str] = field(default_factory=list)
    stderr_outputs: int = 0  # stderr stream outputs (reported, not a failure)
    js_errors: list[str] = field(default_factory=list)  # uncaught exceptions, console.error
    ignored_js: list[str] = field(default_factory=list)  # KNOWN_JS_NOISE seen (not failures)
    failed_requests: list[str] = field(default_factory=list)  # "404 /_static/x.css"
    load_error: str | None = None  # navigation failure or timeout
    redirect: str | None = None  # a meta-refresh stub: its target (not loaded)
    screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        """True when the page loaded with 200 and showed nothing broken."""
        return (
            self.status == 200
            and self.load_error is None
            and not self.broken_images
            and self.images_rendered == self.images
            and self.error_outputs == 0
            and not self.js_errors
            and not self.failed_requests
        )

    def problems(self) -> list[str]:
        """One short phrase per failed check (empty when ``ok``)."""
        out = []
        if self.load_error:
            out.append(f"load: {self.load_error}")
        if self.status != 200:
            out.append(f"status {self.status}")
        if self.broken_images or self.images_rendered != self.images:
            out.append(f"{self.images - self.images_rendered} of {self.images} images not rendered: "
                       + ", ".join(self.broken_images))
        if self.error_outputs:
            out.append(f"{self.error_outputs} error output(s): " + " | ".join(self.error_snippets))
        if self.js_errors:
            out.append("js: " + " | ".join(self.js_errors))
        if self.failed_requests:
            out.append("requests: " + ", ".join(self.failed_requests))
        return out


# --------------------------------------------------------------------------- pages
def _is_redirect_stub(path: Path) -> str | None:
    """The target of a Sphinx/jupyter-book meta-refresh stub (``index.html``), else None."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:600]
    except OSError:
        return None
    low = head.lower()
    if "http-equiv" in low and "refresh" in low and "<body" not in low and "url=" in low:
        target = head[low.index("url=") + 4 :]
        return target.split('"')[0].split("'")[0].strip()
    return None


def discover_pages(html_dir: Path) -> list[str]:
    """Every page of the book: each ``.html`` under ``html_dir`` outside ``_*`` folders,
    except genindex/search/py-modindex; sorted, relative, with ``/`` separators."""
    html_dir = Path(html_dir)
    pages = []
    for path in html_dir.rglob("*.html"):
        rel = path.relative_to(html_dir)
        if any(part.startswith((".", "_")) for part in rel.parts[:-1]):
            continue
        if rel.name in NON_PAGES and len(rel.parts) == 1:
            continue
        pages.append(rel.as_posix())
    return sorted(pages)


def sandbox_flags(euid: int | None = None) -> tuple[str, ...]:
    """``--no-sandbox`` only when running as root, where Chromium refuses to start sandboxed.

    Any other user keeps Chromium's sandbox: the pages it opens are the built
    book's, but a sandbox costs nothing there.
    """
    euid = os.geteuid() if euid is None else euid
    return ("--no-sandbox",) if euid == 0 else ()


def find_chromium() -> str | None:
    """The Chromium executable: ``STUDY_CHROMIUM`` or the first of CHROMIUM_NAMES on PATH."""
    env = os.environ.get("STUDY_CHROMIUM")
    if env:
        return env if (Path(env).is_file() and os.access(env, os.X_OK)) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def marked_processes(marker: str) -> list[int]:
    """Pids of running (not zombie) processes whose command line carries ``marker`` (Linux /proc)."""
    needle = marker.encode()
    alive = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if needle in cmdline and stat[stat.rindex(")") + 2 :].split()[0] not in ("Z", "X"):
            alive.append(int(entry.name))
    return alive


# --------------------------------------------------------------------------- server
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1 (a free port) in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="browser-check-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --------------------------------------------------------------------------- the browser
class Chromium:
    """Headless Chromium launched through playwright, closed (with its driver) on exit.

    Use as a context manager; :meth:`new_page` opens a tab in a fresh browser
    context (its own renderer), :meth:`close_page` closes it. Every Chromium
    process of this instance carries :attr:`marker` on its command line.
    """

    def __init__(self, executable: str | None = None, *, command_timeout: float = 30.0):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise StudyError(
                "chromium not found (tried $STUDY_CHROMIUM and "
                + ", ".join(CHROMIUM_NAMES)
                + "); install it with `make browser-deps`"
            )
        self.command_timeout = command_timeout
        self.marker = f"{MARKER_FLAG}{uuid.uuid4().hex}"
        self._playwright = None
        self.browser = None

    def __enter__(self) -> "Chromium":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._playwright = sync_playwright().start()
        try:
            self.browser = self._playwright.chromium.launch(
                executable_path=self.executable,
                headless=True,
                args=[*CHROMIUM_FLAGS, *sandbox_flags(), self.marker],
                chromium_sandbox=not sandbox_flags(),  # playwright itself adds --no-sandbox otherwise
                timeout=60_000,
            )
        except PlaywrightError as exc:
            raise StudyError(f"chromium ({self.executable}) did not start: {_short(exc.message, 200)}") from None

    def stop(self) -> None:
        """Close the browser and stop playwright's driver; always safe to call."""
        if self.browser is not None:
            with contextlib.suppress(Exception):
                self.browser.close()
            self.browser = None
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                self._playwright.stop()
            self._playwright = None
        deadline = time.monotonic() + 10  # the browser exits after close(); wait until it has
        while marked_processes(self.marker) and time.monotonic() < deadline:
            time.sleep(0.05)

    def new_page(self):
        """A blank tab at :data:`VIEWPORT` in a fresh context; every wait bounded by ``command_timeout``."""
        assert self.browser is not None, "Chromium is not started"
        context = self.browser.new_context(
            viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]}, device_scale_factor=1
        )
        context.set_default_timeout(self.command_timeout * 1000)
        return context.new_page()

    @staticmethod
    def close_page(page) -> None:
        """Close the tab and its context (best effort: a hung renderer is killed with it)."""
        with contextlib.suppress(PlaywrightError):
            page.context.close()


# --------------------------------------------------------------------------- the check
_INSPECT_JS = r"""
(async (imageTimeoutMs, errorSelector, stderrSelector, errorTexts) => {
  const short = (s) => (s || '').length > 80 ? s.slice(0, 77) + '...' : (s || '');
  const imgs = Array.from(document.images);
  for (const img of imgs) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(imgs.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
    setTimeout(done, imageTimeoutMs);
  })));
  const rendered = imgs.filter((img) => img.complete && img.naturalWidth > 0);
  const broken = imgs.filter((img) => !(img.complete && img.naturalWidth > 0))
                     .map((img) => short(img.getAttribute('src') || img.currentSrc || '(no src)'));
  // error elements, outermost only
  const matches = Array.from(document.querySelectorAll(errorSelector));
  const errors = matches.filter((el) => !matches.some((other) => other !== el && other.contains(el)));
  const snippet = (el) => short((el.innerText || el.textContent || '').trim().split('\n').filter(Boolean).pop());
  const snippets = errors.map(snippet);
  // error text outside code inputs and outside the elements already counted
  const body = document.body ? document.body.cloneNode(true) : null;
  let textHits = 0;
  if (body) {
    body.querySelectorAll(errorSelector + ', .cell_input, script, style, noscript, textarea')
        .forEach((el) => el.remove());
    const text = body.textContent || '';
    for (const needle of errorTexts) {
      let at = text.indexOf(needle);
      while (at >= 0) { textHits += 1; snippets.push(short(needle)); at = text.indexOf(needle, at + needle.length); }
    }
  }
  return {
    title: document.title || '',
    images: imgs.length,
    rendered: rendered.length,
    broken: broken,
    errors: errors.length + textHits,
    snippets: snippets,
    stderr: document.querySelectorAll(stderrSelector).length,
  };
})
"""


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _relative(url: str, base: str) -> str:
    return "/" + url[len(base):] if url.startswith(base) else _short(url, 100)


def _add_js(report: PageReport, text: str) -> None:
    if any(needle in text for needle, _why in KNOWN_JS_NOISE):
        report.ignored_js.append(text)
    else:
        report.js_errors.append(text)


def _listen(page, report: PageReport, base: str) -> None:
    """Record this page's uncaught exceptions, console.error calls and failed requests in ``report``."""

    def on_page_error(error) -> None:
        first = (error.message or "exception").splitlines()[0]
        _add_js(report, _short(f"{error.name}: {first}" if error.name else first))

    def on_console(message) -> None:
        # "Failed to load resource" is the browser's own log of a failed request, listed in failed_requests
        if message.type in ("error", "assert") and not message.text.startswith("Failed to load resource:"):
            _add_js(report, _short(f"console.{message.type}: {message.text}"))

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            entry = f"{response.status} {_relative(response.url, base)}"
            if entry not in report.failed_requests:  # once per URL (Chrome may retry an image)
                report.failed_requests.append(entry)

    def on_request_failed(request) -> None:
        reason = request.failure or "failed"
        if request.resource_type == "document" or "ERR_ABORTED" in reason:
            return  # the document's own failure is the load error; aborted requests were cancelled
        if request.url.startswith("data:") or request.url.endswith("/favicon.ico"):
            return
        rel = _relative(request.url, base)
        if not any(f.endswith(" " + rel) for f in report.failed_requests):  # a 404 is already listed
            report.failed_requests.append(f"{reason} {rel}")

    page.on("pageerror", on_page_error)
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)


def _check_one(page, base: str, name: str, *, page_timeout: float, shot: Path | None) -> PageReport:
    url = base + quote(name)
    report = PageReport(page=name, url=url)
    _listen(page, report, base)
    try:
        response = page.goto(url, wait_until="load", timeout=page_timeout * 1000)
        report.status = response.status if response is not None else None
        value = page.evaluate(
            f"({_INSPECT_JS})({int(min(page_timeout, 15) * 1000)}, {json.dumps(ERROR_SELECTOR)}, "
            f"{json.dumps(STDERR_SELECTOR)}, {json.dumps(list(ERROR_TEXTS))})"
        )
        report.title = value["title"]
        report.images = int(value["images"])
        report.images_rendered = int(value["rendered"])
        report.broken_images = list(value["broken"])
        report.error_outputs = int(value["errors"])
        report.error_snippets = [_short(s, 80) for s in value["snippets"]]
        report.stderr_outputs = int(value["stderr"])
        page.wait_for_timeout(200)  # late console errors and sub-resource responses
        if shot is not None:
            report.screenshot = capture_screenshot(page, shot, timeout=page_timeout)
    except PlaywrightTimeout as exc:
        report.load_error = f"timed out after {page_timeout:g} s: {_short(exc.message.splitlines()[0], 100)}"
    except PlaywrightError as exc:
        report.load_error = _short(exc.message.splitlines()[0] if exc.message else "browser error")
    return report


def capture_screenshot(page, out: Path, *, timeout: float = 30.0) -> Path:
    """A full-page PNG of the tab's current page (height capped at MAX_SCREENSHOT_HEIGHT)."""
    height = int(page.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
    height = max(VIEWPORT[1], min(height, MAX_SCREENSHOT_HEIGHT))
    # Grow the viewport to the whole page (a clip beyond the viewport can shift the
    # layout of sticky/fixed themes), shoot, then restore the normal viewport.
    page.set_viewport_size({"width": VIEWPORT[0], "height": height})
    try:
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        data = page.screenshot(type="png", timeout=max(timeout, 60.0) * 1000)
    finally:
        page.set_viewport_size({"width": VIEWPORT[0], "height": VIEWPORT[1]})
    path = atomic_write_bytes(Path(out), data)
    path.chmod(0o644)  # a published artefact, not a private temp file
    return path


def check_site(
    html_dir: Path,
    pages: list[str] | None = None,
    screenshot: dict[str, Path] | None = None,
    *,
    page_timeout: float = 30.0,
    executable: str | None = None,
) -> list[PageReport]:
    """Load every page of the built book in headless Chromium and report what it shows.

    ``pages``: paths relative to ``html_dir`` (default: :func:`discover_pages`).
    ``screenshot``: page -> PNG path for full-page screenshots (each page must be checked).
    Meta-refresh stubs (jupyter-book's ``index.html``) are not loaded: their report
    carries ``redirect`` and is ok when the target file exists.
    Chromium is always closed before this returns; every wait is bounded by ``page_timeout``.
    """
    html_dir = Path(html_dir)
    if not html_dir.is_dir():
        raise StudyError(f"HTML folder {str(html_dir)!r} does not exist; build it with `make html`")
    available = discover_pages(html_dir)
    if pages is None:
        pages = available
        if not pages:
            raise StudyError(f"no HTML pages under {str(html_dir)!r}; build the book with `make html`")
    else:
        pages = [str(p).replace(os.sep, "/").lstrip("/") for p in pages]
        for page in pages:
            if not (html_dir / page).is_file():
                raise StudyError(
                    f"unknown page {page!r} under {str(html_dir)!r}; valid pages: " + ", ".join(available)
                )
    screenshot = {str(k).replace(os.sep, "/").lstrip("/"): Path(v) for k, v in (screenshot or {}).items()}
    for page in screenshot:
        if page not in pages:
            raise StudyError(f"cannot screenshot {page!r}: it is not among the checked pages: " + ", ".join(pages))
    if page_timeout <= 0:
        raise StudyError(f"page_timeout must be a positive number, got {page_timeout!r}")

    reports: list[PageReport] = []
    to_load = []
    for page in pages:
        target = _is_redirect_stub(html_dir / page)
        if target is not None and page not in screenshot:
            rep = PageReport(page=page, url="", redirect=target)
            dest = (html_dir / page).parent / target.split("#")[0]
            rep.status = 200 if dest.is_file() else 404
            if not dest.is_file():
                rep.load_error = f"redirect target {target!r} does not exist"
            reports.append(rep)
        else:
            to_load.append(page)
            reports.append(None)  # type: ignore[arg-type]  # filled below, keeps the order
    if to_load:
        with serve_directory(html_dir) as base, Chromium(executable, command_timeout=page_timeout) as browser:
            done = []
            for page in to_load:
                tab = browser.new_page()  # a fresh tab and context per page: no listener or hung renderer carries over
                try:
                    done.append(_check_one(tab, base, page, page_timeout=page_timeout, shot=screenshot.get(page)))
                finally:
                    browser.close_page(tab)
            loaded = iter(done)
        reports = [r if r is not None else next(loaded) for r in reports]
    return reports


# --------------------------------------------------------------------------- CLI
def summary_line(reports: list[PageReport]) -> str:
    return (
        f"pages={len(reports)} ok={sum(r.ok for r in reports)} "
        f"images={sum(r.images for r in reports)} "
        f"broken_images={sum(r.images - r.images_rendered for r in reports)} "
        f"error_outputs={sum(r.error_outputs for r in reports)}"
    )


def format_table(reports: list[PageReport]) -> str:
    """A plain-text table: one row per page, then the problems of failed pages."""
    head = ("page", "status", "images", "errors", "stderr", "js", "ok", "title")
    rows = [head]
    for r in reports:
        rows.append((
            r.page,
            "redirect" if r.redirect else str(r.status),
            f"{r.images_rendered}/{r.images}",
            str(r.error_outputs),
            str(r.stderr_outputs),
            str(len(r.js_errors)),
            "ok" if r.ok else "FAIL",
            _short(r.title, 60) if not r.redirect else f"-> {r.redirect}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1] for row in rows]
    for r in reports:
        for problem in r.problems():
            lines.append(f"FAIL {r.page}: {problem}")
        if r.screenshot:
            lines.append(f"screenshot {r.page}: {r.screenshot}")
    noise: dict[str, int] = {}
    for r in reports:
        for text in dict.fromkeys(r.ignored_js):
            noise[text] = noise.get(text, 0) + 1
    for text, pages in noise.items():
        lines.append(f"note: known theme console noise ignored on {pages} page(s): {text}")
    return "\n".join(lines)


def _parse_screenshot(spec: str) -> tuple[str, Path]:
    page, sep, out = spec.partition("=")
    if not sep or not page or not out:
        raise StudyError(f"--screenshot takes PAGE=OUT.png, got {spec!r}")
    return page, Path(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m studytools.browser",
        description="Load every page of the built book in headless Chromium and report problems.",
    )
    parser.add_argument("html_dir", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--page", action="append", dest="pages", metavar="PAGE",
                        help="check only this page (relative to html_dir); repeatable")
    parser.add_argument("--screenshot", action="append", default=[], metavar="PAGE=OUT.png",
                        help="save a full-page PNG of PAGE; repeatable")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per page (default 30)")
    args = parser.parse_args(argv)
    shots = dict(_parse_screenshot(s) for s in args.screenshot)
    pages = args.pages
    if pages is not None:
        pages = pages + [p for p in shots if p not in pages]
    reports = check_site(args.html_dir, pages, shots, page_timeout=args.timeout)
    print(format_table(reports))
    print(summary_line(reports))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
