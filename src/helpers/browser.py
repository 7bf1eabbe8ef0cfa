"""The real-browser check of the built Jupyter Book HTML.

Every page of ``_build/html`` is served from a local HTTP server on
127.0.0.1 and loaded in headless Chromium, driven through a minimal Chrome
DevTools Protocol (CDP) client over one websocket (``websocket-client``). For
each page the check reports the HTTP status, the document title, the ``<img>``
elements and how many of them rendered (``complete && naturalWidth > 0``), the
error outputs a notebook left in the page, stderr outputs, uncaught JavaScript
exceptions / ``console.error`` calls and failed sub-resource requests; selected
pages can be captured as full-page PNG screenshots.

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

    python -m helpers.browser [_build/html] [--page PAGE ...] [--screenshot PAGE=OUT.png ...]

prints one row per page and a final line
``pages=<n> ok=<n> images=<n> broken_images=<n> error_outputs=<n>``; the exit
status is 1 when any page failed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote

from .errors import StudyError, run_cli

#: Chromium flags: headless and quiet on this machine's closed network (see also :func:`sandbox_flags`).
CHROMIUM_FLAGS = (
    "--headless",
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


def chromium_version(executable: str | None = None) -> str:
    """``chromium --version`` (one line), or '' when it cannot be run."""
    executable = executable or find_chromium()
    if not executable:
        return ""
    try:
        out = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""


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


# --------------------------------------------------------------------------- CDP
class CDPError(RuntimeError):
    """A DevTools command failed, timed out, or the browser went away."""


class CDPConnection:
    """One websocket to the browser endpoint; commands go to targets by ``sessionId``.

    Single-threaded: :meth:`send` reads messages until its answer arrives and
    keeps every event it sees in :attr:`events`, which :meth:`wait_event` searches.
    """

    def __init__(self, ws_url: str, timeout: float = 30.0):
        import websocket  # websocket-client

        self._ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self._next_id = 0
        self._answers: dict[int, dict] = {}
        self.events: list[dict] = []
        self.timeout = timeout

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ws.close()

    def _read_one(self, deadline: float) -> None:
        import websocket

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CDPError("timed out waiting for the browser")
        self._ws.settimeout(max(remaining, 0.05))
        try:
            raw = self._ws.recv()
        except websocket.WebSocketTimeoutException:
            raise CDPError("timed out waiting for the browser") from None
        except (websocket.WebSocketException, OSError) as exc:
            raise CDPError(f"lost the browser connection: {exc}") from None
        if not raw:
            return
        msg = json.loads(raw)
        if "id" in msg:
            self._answers[msg["id"]] = msg
        else:
            self.events.append(msg)

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict:
        """Run one CDP command and return its ``result`` (raise CDPError on error)."""
        self._next_id += 1
        mid = self._next_id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            self._ws.send(json.dumps(msg))
        except Exception as exc:  # noqa: BLE001 - any socket failure means the browser is gone
            raise CDPError(f"lost the browser connection: {exc}") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        while mid not in self._answers:
            self._read_one(deadline)
        answer = self._answers.pop(mid)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error'].get('message', answer['error'])}")
        return answer.get("result", {})

    def wait_event(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict:
        """The first buffered or incoming event ``method`` (of ``session``) matching ``predicate``."""
        deadline = time.monotonic() + (timeout or self.timeout)
        seen = 0
        while True:
            for event in self.events[seen:]:
                if (
                    event.get("method") == method
                    and (session is None or event.get("sessionId") == session)
                    and (predicate is None or predicate(event.get("params", {})))
                ):
                    return event
            seen = len(self.events)
            self._read_one(deadline)

    def drain(self, seconds: float) -> None:
        """Read incoming events for ``seconds`` (late console errors, requests)."""
        deadline = time.monotonic() + seconds
        with contextlib.suppress(CDPError):
            while time.monotonic() < deadline:
                self._read_one(deadline)


def live_group_members(pgid: int) -> list[int]:
    """Pids of the process group ``pgid`` that are still running (zombies excluded; Linux /proc)."""
    alive = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            alive.append(int(entry.name))
    return alive


class Chromium:
    """Headless Chromium with a DevTools endpoint, killed (its whole process group) on exit.

    Use as a context manager; :meth:`new_page` attaches a fresh tab.
    """

    def __init__(self, executable: str | None = None, *, start_timeout: float = 60.0,
                 command_timeout: float = 30.0):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise StudyError(
                "chromium not found (tried $STUDY_CHROMIUM and "
                + ", ".join(CHROMIUM_NAMES)
                + "); install it with `make browser-deps`"
            )
        self.start_timeout = start_timeout
        self.command_timeout = command_timeout
        self.proc: subprocess.Popen | None = None
        self.cdp: CDPConnection | None = None
        self._profile: tempfile.TemporaryDirectory | None = None
        self._targets: dict[str, str] = {}  # sessionId -> targetId

    # ---- lifecycle
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
        self._profile = tempfile.TemporaryDirectory(prefix="study-chromium-")
        profile = Path(self._profile.name)
        args = [
            self.executable,
            *CHROMIUM_FLAGS,
            *sandbox_flags(),
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
            "about:blank",
        ]
        self._log = open(profile.parent / f"{profile.name}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,  # its own process group: stop() kills every child
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.start_timeout
        while True:
            if port_file.is_file():
                lines = port_file.read_text().split()
                if len(lines) >= 2:
                    break
            if self.proc.poll() is not None:
                raise StudyError(
                    f"chromium exited with status {self.proc.returncode} at start: "
                    + self._log_tail()
                )
            if time.monotonic() > deadline:
                raise StudyError(f"chromium did not open its DevTools port in {self.start_timeout:.0f} s")
            time.sleep(0.05)
        port, path = lines[0], lines[1]
        self.cdp = CDPConnection(f"ws://127.0.0.1:{port}{path}", timeout=self.command_timeout)

    def _log_tail(self) -> str:
        with contextlib.suppress(Exception):
            self._log.flush()
            text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
            return " / ".join(text[-3:])
        return ""

    def stop(self) -> None:
        """Close the connection and kill Chromium's process group; always safe to call."""
        if self.cdp is not None:
            with contextlib.suppress(Exception):
                self.cdp.send("Browser.close", timeout=5)
            self.cdp.close()
            self.cdp = None
        proc = self.proc
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)  # after Browser.close it usually exits by itself
            # Signal the group we created at start while any of it still runs (a group id
            # is never reused while members exist): SIGTERM, then SIGKILL after 3 s.
            started = time.monotonic()
            while proc.poll() is None or live_group_members(proc.pid):
                waited = time.monotonic() - started
                if waited > 15:
                    break
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGTERM if waited < 3 else signal.SIGKILL)
                time.sleep(0.05)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if getattr(self, "_log", None) is not None:
            with contextlib.suppress(Exception):
                self._log.close()
                Path(self._log.name).unlink(missing_ok=True)
        if self._profile is not None:
            with contextlib.suppress(Exception):
                self._profile.cleanup()
            self._profile = None

    # ---- tabs
    def new_page(self) -> str:
        """Open a blank tab and return its flat-mode ``sessionId`` (domains enabled)."""
        assert self.cdp is not None, "Chromium is not started"
        target = self.cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.cdp.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        self._targets[session] = target
        for domain in ("Page", "Runtime", "Network"):
            self.cdp.send(f"{domain}.enable", session=session)
        self.cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        return session


    def close_page(self, session: str) -> None:
        """Close the tab of ``session`` (best effort: a hung renderer is killed with it)."""
        target = self._targets.pop(session, None)
        if target and self.cdp is not None:
            with contextlib.suppress(CDPError):
                self.cdp.send("Target.closeTarget", {"targetId": target}, timeout=5)


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


def _js_error_text(params: dict) -> str:
    details = params.get("exceptionDetails", {})
    exc = details.get("exception") or {}
    text = exc.get("description") or details.get("text") or "exception"
    return _short(text.splitlines()[0] if text else "exception")


def _check_one(browser: Chromium, session: str, base: str, page: str, *,
               page_timeout: float, shot: Path | None) -> PageReport:
    cdp = browser.cdp
    assert cdp is not None
    url = base + quote(page)
    report = PageReport(page=page, url=url)
    cdp.events.clear()
    try:
        nav = cdp.send("Page.navigate", {"url": url}, session=session, timeout=page_timeout)
        if nav.get("errorText"):
            report.load_error = nav["errorText"]
            return report
        loader = nav.get("loaderId")
        cdp.wait_event("Page.loadEventFired", session=session, timeout=page_timeout)
        response = next(
            (e for e in cdp.events if e.get("sessionId") == session
             and e.get("method") == "Network.responseReceived"
             and e["params"].get("requestId") == loader),
            None,
        )
        if response is None:
            response = cdp.wait_event(
                "Network.responseReceived", lambda p: p.get("requestId") == loader,
                session=session, timeout=5,
            )
        report.status = int(response["params"]["response"]["status"])
        found = cdp.send(
            "Runtime.evaluate",
            {
                "expression": f"({_INSPECT_JS})({int(min(page_timeout, 15) * 1000)}, "
                f"{json.dumps(ERROR_SELECTOR)}, {json.dumps(STDERR_SELECTOR)}, "
                f"{json.dumps(list(ERROR_TEXTS))})",
                "awaitPromise": True,
                "returnByValue": True,
            },
            session=session,
            timeout=page_timeout,
        )
        if "exceptionDetails" in found:
            raise CDPError("page inspection failed: " + _js_error_text(found))
        value = found["result"]["value"]
        report.title = value["title"]
        report.images = int(value["images"])
        report.images_rendered = int(value["rendered"])
        report.broken_images = list(value["broken"])
        report.error_outputs = int(value["errors"])
        report.error_snippets = [_short(s, 80) for s in value["snippets"]]
        report.stderr_outputs = int(value["stderr"])
        cdp.drain(0.2)  # late console errors and sub-resource responses
        if shot is not None:
            report.screenshot = capture_screenshot(browser, session, shot, timeout=page_timeout)
    except CDPError as exc:
        report.load_error = str(exc)
    finally:
        _collect_events(report, cdp.events, session, base)
    return report


def _collect_events(report: PageReport, events: list[dict], session: str, base: str) -> None:
    """Uncaught exceptions, console.error calls and failed requests of this page."""
    urls: dict[str, str] = {}
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[params.get("requestId", "")] = params.get("request", {}).get("url", "")
        elif method == "Runtime.exceptionThrown":
            _add_js(report, _js_error_text(params))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args", [])
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in args)
            _add_js(report, _short(f"console.{params['type']}: " + text))
        elif method == "Network.responseReceived":
            status = int(params.get("response", {}).get("status", 0))
            rurl = params.get("response", {}).get("url", "")
            entry = f"{status} {_relative(rurl, base)}"
            if status >= 400 and not rurl.endswith("/favicon.ico") and entry not in report.failed_requests:
                report.failed_requests.append(entry)  # once per URL (Chrome may retry an image)
        elif method == "Network.loadingFailed":
            if params.get("canceled") or params.get("type") == "Document":
                continue
            rurl = urls.get(params.get("requestId", ""), "?")
            if rurl.startswith("data:") or rurl.endswith("/favicon.ico"):
                continue
            reason = params.get("blockedReason") or params.get("errorText", "failed")
            entry = f"{reason} {_relative(rurl, base)}"
            # a 404 is already listed from its response
            if not any(f.endswith(" " + _relative(rurl, base)) for f in report.failed_requests):
                report.failed_requests.append(entry)


def _add_js(report: PageReport, text: str) -> None:
    if any(needle in text for needle, _why in KNOWN_JS_NOISE):
        report.ignored_js.append(text)
    else:
        report.js_errors.append(text)


def _relative(url: str, base: str) -> str:
    return "/" + url[len(base):] if url.startswith(base) else _short(url, 100)


def capture_screenshot(browser: Chromium, session: str, out: Path, *, timeout: float = 30.0) -> Path:
    """A full-page PNG of the tab's current page (height capped at MAX_SCREENSHOT_HEIGHT)."""
    from .runs import atomic_write_bytes

    cdp = browser.cdp
    assert cdp is not None
    metrics = cdp.send("Page.getLayoutMetrics", session=session, timeout=timeout)
    size = metrics.get("cssContentSize") or metrics.get("contentSize")
    height = max(VIEWPORT[1], min(int(size["height"] + 0.999), MAX_SCREENSHOT_HEIGHT))
    # Grow the viewport to the whole page (a clip beyond the viewport can shift the
    # layout of sticky/fixed themes), shoot, then restore the normal viewport.
    metrics_override = {"width": VIEWPORT[0], "height": height, "deviceScaleFactor": 1, "mobile": False}
    cdp.send("Emulation.setDeviceMetricsOverride", metrics_override, session=session, timeout=timeout)
    try:
        cdp.send("Runtime.evaluate", {
            "expression": "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
            "awaitPromise": True}, session=session, timeout=timeout)
        shot = cdp.send("Page.captureScreenshot", {"format": "png"}, session=session,
                        timeout=max(timeout, 60.0))
    finally:
        cdp.send("Emulation.setDeviceMetricsOverride",
                 {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
                 session=session, timeout=timeout)
    path = atomic_write_bytes(Path(out), base64.b64decode(shot["data"]))
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
    Chromium is always killed before this returns; every wait is bounded by ``page_timeout``.
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
            session = browser.new_page()
            done = []
            for page in to_load:
                rep = _check_one(browser, session, base, page, page_timeout=page_timeout,
                                 shot=screenshot.get(page))
                done.append(rep)
                if rep.load_error:  # a hung or crashed tab: go on in a fresh one
                    browser.close_page(session)
                    session = browser.new_page()
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
        prog="python -m helpers.browser",
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
