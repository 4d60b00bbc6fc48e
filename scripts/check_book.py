"""Check the built book in a real browser: headless Chromium driven by Playwright.

Serves ``_build/html`` on 127.0.0.1 and opens every page of ``_toc.yml`` (and the root
``index.html``) in Debian's Chromium. For each page it checks that

* the page loads with HTTP 200 and without console errors, uncaught exceptions or failed
  requests;
* every image in the page's content has loaded with a non-zero size, and every chapter
  (a notebook) shows at least one figure;
* every math element was typeset by MathJax (an ``mjx-container`` inside each ``.math``
  element, no ``mjx-merror``), and none holds prose (three words in a row outside
  ``\\text{}``: dollar signs paired wrongly);
* every stored widget view was rendered, if the page loads a widget manager (the book
  loads none: a widget needs a kernel, see ``_config.yml``);
* every internal link points at a file of the build, and its ``#fragment`` at an id there;
* the launch buttons of a chapter are well-formed: Binder and Colab links for the
  repository, branch and notebook path of ``_config.yml``, and the notebook exists;
* the sidebar lists every page of the table of contents, and the landing page links to
  every chapter;
* a chapter's first code cell installs learnlr's release (else the repository's code) when
  in Colab, is tagged ``remove-cell`` and does not appear on the page;
* every arXiv id and DOI in a chapter's References section is in ``book/references.bib``
  (which the Bibliography page renders);
* every kernel-free demo (``div.learnlr-demo``, from ``learnlr.viz.widgets.Demo.to_html``)
  responds: each control is moved (value set, ``input`` dispatched), the root's
  ``data-frame`` must change and the canvas pixels with it; the time from the event to the
  redraw and the page's own ``data-draw-ms`` are recorded, with a screenshot before and
  after. A chapter must show as many demos as its notebook has kernel-free cells. A demo page
  generated here (``lr_demo``, drawn with lines and texts, and ``basin_demo``, whose basin map
  is an image drawn cell by cell) is checked the same way, so the demo check is exercised
  whatever the chapters embed. The controls are also worked by keyboard alone (focus, then an
  arrow key must redraw), and each has a label and a spoken value;
* the page looks right, checked by looking at where things are, at 1,000, 1,366 and 1,920
  px wide and on a phone-sized screen (390 x 844): exactly one visible search field, the
  book's title visible and not covered (on a phone, once the menu is opened), the header,
  sidebars and article not overlapping one another, nothing covering the search field or
  the page's first heading, and no sideways scrolling of the whole page on a phone;
* every image has a text alternative, and none is a file name;
* an accessibility scan with axe-core (the ``axe-playwright-python`` package ships it)
  finds no serious or critical violation, and none of the moderate ones ``region``,
  ``landmark-one-main`` and ``empty-table-header``; the other findings are reported. Every
  rule runs on the whole page except color-contrast, which runs on one element per look of
  text (colour, size, weight and the backgrounds behind it): its verdict depends on nothing
  else, and on every element it would be most of the check's time;

It saves a full-page screenshot of every page in ``_build/screenshots/`` (chapters in light
and in dark mode, ``NAME.jpg`` and ``NAME--dark.jpg``) and writes ``report.json`` there,
including each chapter's page weight (its HTML, its images and the other files that no
other page loads). Exit status 0 when every check passed.

The book must work offline: every request that leaves 127.0.0.1 is blocked and fails the
check, so MathJax (served from the book's ``_static/mathjax``, see book/learnlr_book.py)
and anything else a page needs must come from the build itself.

Usage (after ``make book``; ``make check-book`` does both)::

    .venv/bin/python scripts/check_book.py [--html _build/html] [--out _build/screenshots]

Chromium: ``/usr/bin/chromium`` (Debian's package; ``--chromium`` to change). No browser is
downloaded.
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import json
import posixpath
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
VIEWPORTS = {"1000": (1000, 900), "1366": (1366, 900), "1920": (1920, 1080), "phone": (390, 844)}
# axe-core rules that fail the check whatever their impact (moderate ones seen on these pages)
AXE_REQUIRED = {"region", "landmark-one-main", "empty-table-header"}

# Marks one element per look of text (data-contrast-sample): its colour, size, weight, shadow,
# filter and opacity, and the backgrounds behind it up to the first opaque one, which is all
# that axe's color-contrast rule reads. Returns how many it marked.
CONTRAST_SAMPLE_JS = """() => {
  const seen = new Map();
  const look = (el) => {
    const parts = [];
    let opacity = 1;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const s = getComputedStyle(node);
      opacity *= parseFloat(s.opacity);
      parts.push(s.backgroundColor + "|" + s.backgroundImage + "|" + s.mixBlendMode);
      if (s.backgroundImage !== "none") break;
      const m = s.backgroundColor.match(/rgba?\\(([^)]*)\\)/);
      if (m) {
        const v = m[1].split(",").map(Number);
        if (v.length < 4 || v[3] === 1) break;
      }
    }
    const s = getComputedStyle(el);
    return [s.color, s.fontSize, s.fontWeight, s.textShadow, s.filter, opacity, ...parts].join(";");
  };
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some(
      (n) => n.nodeType === 3 && n.textContent.trim() !== "");
    if (own) {
      const key = look(el);
      if (!seen.has(key)) seen.set(key, el);
    }
  }
  for (const el of seen.values()) el.setAttribute("data-contrast-sample", "");
  return seen.size;
}"""


# --------------------------------------------------------------------------------------
# What the book should contain
# --------------------------------------------------------------------------------------
@dataclass
class Book:
    html: Path
    docs: list[str]  # every TOC entry, in order, without suffix (root first)
    root: str
    repo_url: str
    branch: str
    path_to_book: str
    binder_url: str
    colab_url: str
    interface: str

    def is_chapter(self, doc: str) -> bool:
        return (ROOT / f"{doc}.ipynb").exists()


def read_book(html_dir: Path) -> Book:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    docs = [_strip(toc["root"])]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(_strip(entry["file"]))
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    repo = config.get("repository", {})
    launch = config.get("launch_buttons", {})
    return Book(
        html=html_dir,
        docs=docs,
        root=docs[0],
        repo_url=repo.get("url", "").rstrip("/"),
        branch=repo.get("branch", "main"),
        path_to_book=(repo.get("path_to_book") or "").strip("/"),
        binder_url=(launch.get("binderhub_url") or "").rstrip("/"),
        colab_url=(launch.get("colab_url") or "").rstrip("/"),
        interface=launch.get("notebook_interface", "classic"),
    )


def _strip(entry: str) -> str:
    return re.sub(r"\.(md|ipynb)$", "", entry)


# --------------------------------------------------------------------------------------
# Serving the build
# --------------------------------------------------------------------------------------
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A page closed while a request was in flight (the browser's favicon, say).
        if not isinstance(sys.exc_info()[1], (ConnectionError, FileNotFoundError)):
            super().handle_error(request, client_address)


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# --------------------------------------------------------------------------------------
# The checks of one page
# --------------------------------------------------------------------------------------
@dataclass
class PageResult:
    doc: str
    url: str
    kind: str  # "chapter", "page" or "fixture"
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    images: int = 0
    figures: int = 0
    math: int = 0
    widgets: int = 0
    links: int = 0
    launch: dict = field(default_factory=dict)
    demos: list = field(default_factory=list)
    wide_tables: list = field(default_factory=list)  # [table width, column width] in px
    resources: dict = field(default_factory=dict)  # url -> (kind, bytes)
    screenshot: str = ""
    load_ms: float = 0.0
    phase_ms: dict = field(default_factory=dict)  # time spent in each part of the check
    layout: dict = field(default_factory=dict)  # viewport -> what was measured
    axe: dict = field(default_factory=dict)  # impact -> [rule ids]
    blocked: list = field(default_factory=list)  # requests that tried to leave the machine

    @property
    def ok(self) -> bool:
        return not self.errors


IMAGES_JS = """() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const images = Array.from(article.querySelectorAll("img"));
  return images.map((img) => {
    const box = img.getBoundingClientRect();
    return {
      src: img.currentSrc || img.src,
      complete: img.complete,
      natural: [img.naturalWidth, img.naturalHeight],
      box: [box.width, box.height],
      figure: !!img.closest(".cell_output, .output, figure"),
    };
  });
}"""

MATH_JS = """() => {
  const nodes = Array.from(document.querySelectorAll("article.bd-article .math"));
  const typeset = nodes.filter((n) => n.querySelector("mjx-container")).length;
  const merrors = Array.from(document.querySelectorAll("mjx-merror"));
  const errors = merrors.length;
  const messages = merrors.slice(0, 3).map((e) => {
    const math = e.closest(".math");
    return (e.getAttribute("data-mjx-error") || e.textContent).slice(0, 80) + " in "
      + (math ? math.textContent.slice(0, 80) : "?");
  });
  const raw = nodes.filter((n) => !n.querySelector("mjx-container"))
                   .slice(0, 3).map((n) => n.textContent.slice(0, 60));
  return {count: nodes.length, typeset, errors, messages, raw,
          mathjax: typeof window.MathJax === "object" && !!window.MathJax.startup};
}"""

LINKS_JS = """() => Array.from(document.querySelectorAll("a[href]")).map((a) => ({
  href: a.href, raw: a.getAttribute("href"), text: a.textContent.trim().slice(0, 60),
  sidebar: !!a.closest("nav.bd-docs-nav"),
  title: a.getAttribute("title") || "",
}))"""

WIDE_JS = """() => Array.from(document.querySelectorAll("article.bd-article table"))
  .filter((t) => t.scrollWidth > t.parentElement.clientWidth + 1)
  .map((t) => [t.scrollWidth, t.parentElement.clientWidth])"""

WIDGETS_JS = """() => {
  const views = document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]').length;
  const manager = Array.from(document.scripts).some(
    (s) => /html-manager|embed-amd/.test(s.src || ""));
  const rendered = document.querySelectorAll(".jupyter-widgets").length;
  return {views, manager, rendered};
}"""

DEMO_MOVE_JS = """async ([index, name]) => {
  const root = document.querySelectorAll("div.learnlr-demo")[index];
  const el = root.querySelector(`[data-control="${name}"]`);
  const canvas = root.querySelector("canvas");
  const pixels = () => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0;
    for (let i = 0; i < data.length; i += 1) h = (h * 31 + data[i]) | 0;
    return h;
  };
  const before = {frame: root.getAttribute("data-frame"), pixels: pixels(), value: el.value};
  let target;
  if (el.tagName === "SELECT") {
    target = String((el.selectedIndex + 1) % el.options.length);
    target = el.options[Number(target)].value;
  } else {
    const lo = Number(el.min), hi = Number(el.max), v = Number(el.value);
    target = String(v < hi ? hi : lo);
  }
  let redrawn = null;
  const observer = new MutationObserver(() => {
    if (redrawn === null) redrawn = performance.now();
  });
  observer.observe(root, {attributes: true, attributeFilter: ["data-frame", "data-draw-ms"]});
  const t0 = performance.now();
  el.value = target;
  el.dispatchEvent(new Event("input", {bubbles: true}));
  const handled = performance.now();
  const deadline = t0 + 2000;
  while (redrawn === null && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const painted = performance.now();
  observer.disconnect();
  return {
    control: name, tag: el.tagName.toLowerCase(), from: before.value, to: target,
    frame_before: before.frame, frame_after: root.getAttribute("data-frame"),
    pixels_changed: pixels() !== before.pixels,
    draw_ms: Number(root.getAttribute("data-draw-ms")),
    event_to_redraw_ms: redrawn === null ? null : redrawn - t0,
    handler_ms: handled - t0,
    event_to_paint_ms: painted - t0,
  };
}"""


LAYOUT_JS = """() => {
  const W = window.innerWidth, H = window.innerHeight;
  const shown = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (r.width < 1 || r.height < 1) return false;
    if (cs.visibility === "hidden" || cs.display === "none" || Number(cs.opacity) === 0) {
      return false;
    }
    if (el.closest("dialog:not([open])")) return false;
    return r.right > 0 && r.bottom > 0 && r.left < W && r.top < H;
  };
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];
  };
  const name = (el) => el.id ? "#" + el.id
    : el.tagName.toLowerCase() + "." + String(el.className).trim().split(/\\s+/)[0];
  // on top: the element itself (or something inside it) is hit at its corners and centre
  const onTop = (el) => {
    const r = el.getBoundingClientRect();
    const pts = [[(r.left + r.right) / 2, (r.top + r.bottom) / 2],
                 [r.left + 3, r.top + 3], [r.right - 3, r.bottom - 3]];
    return pts.filter(([x, y]) => x >= 0 && y >= 0 && x < W && y < H).every(([x, y]) => {
      const hit = document.elementFromPoint(x, y);
      return !!hit && (el.contains(hit) || hit.contains(el));
    });
  };
  const selector = 'input[type="search"], .search-button-field, .search-button__button, '
    + 'form.bd-search';
  let search = Array.from(document.querySelectorAll(selector)).filter(shown);
  search = search.filter((el) => !search.some((o) => o !== el && o.contains(el)));
  const title = Array.from(document.querySelectorAll(".logo__title, .navbar-brand"))
    .filter(shown)[0] || null;
  const regions = [".bd-header", ".bd-sidebar-primary", ".bd-header-article",
                   "article.bd-article", ".bd-sidebar-secondary"]
    .map((s) => document.querySelector(s)).filter(shown);
  const overlaps = [];
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i].getBoundingClientRect(), b = regions[j].getBoundingClientRect();
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      // more than 4 px: a border or the edge of the phone menu parked off-screen may touch
      if (w > 4 && h > 4) {
        overlaps.push(`${name(regions[i])} ${box(regions[i])} and ${name(regions[j])} `
                      + `${box(regions[j])} overlap by ${Math.round(w)} x ${Math.round(h)} px`);
      }
    }
  }
  const heading = Array.from(document.querySelectorAll("article.bd-article h1"))
    .filter(shown)[0] || null;
  const covered = [...search, heading].filter((el) => shown(el) && !onTop(el)).map(
    (el) => `${name(el)} ${box(el)} is covered by ${name(document.elementFromPoint(
      ...(() => { const r = el.getBoundingClientRect();
                  return [(r.left + r.right) / 2, (r.top + r.bottom) / 2]; })()) || el)}`);
  return {
    width: W, height: H,
    search: search.map((el) => [name(el), box(el)]),
    title: title ? {text: title.textContent.trim().slice(0, 80), box: box(title),
                    on_top: onTop(title)} : null,
    regions: regions.map((el) => [name(el), box(el)]),
    overlaps, covered,
    page_width: document.documentElement.scrollWidth,
  };
}"""

ALT_JS = """() => Array.from(document.querySelectorAll("main img, article img")).map((img) => ({
  src: (img.getAttribute("src") || "").slice(0, 80),
  alt: img.getAttribute("alt"),
  hidden: img.getAttribute("aria-hidden") === "true" || img.getAttribute("role") === "presentation",
}))"""

DARK_JS = """() => { document.documentElement.dataset.theme = "dark";
  document.documentElement.dataset.mode = "dark"; }"""
LIGHT_JS = """() => { document.documentElement.dataset.theme = "light";
  document.documentElement.dataset.mode = "light"; }"""

DEMO_KEY_JS = """([index, name]) => {
  const root = document.querySelectorAll("div.learnlr-demo")[index];
  const el = root.querySelector(`[data-control="${name}"]`);
  const label = el.closest("label") || document.querySelector(`label[for="${el.id}"]`);
  return {frame: root.getAttribute("data-frame"), value: el.value,
          tag: el.tagName.toLowerCase(),
          tabbable: el.tabIndex >= 0 && !el.disabled,
          label: label ? label.textContent.trim().slice(0, 60)
                       : (el.getAttribute("aria-label") || ""),
          valuetext: el.getAttribute("aria-valuetext") || "",
          canvas_label: root.querySelector("canvas").getAttribute("aria-label") || "",
          canvas_role: root.querySelector("canvas").getAttribute("role") || "",
          last: el.tagName === "SELECT" ? el.selectedIndex === el.options.length - 1
                                        : Number(el.value) >= Number(el.max)};
}"""


class Checker:
    def __init__(self, book: Book, out: Path, chromium: str):
        self.book = book
        self.out = out
        self.chromium = chromium
        self.blocked: list[str] = []
        self.base = ""
        self._ids: dict[Path, set[str]] = {}

    # ---- the browser ----------------------------------------------------------------
    def run(self, fixture: Path | None, jobs: int = 1) -> list[PageResult]:
        """Check every page; with ``jobs`` > 1, in that many browsers at once.

        Most of a page's time is waiting (for MathJax, for the sidebar to slide at each
        width), so two browsers on two cores take about half the time of one. Each runs in
        its own process with its own server and returns its pages' results.
        """
        pages = [("index", "page")] + [
            (doc, "chapter" if self.book.is_chapter(doc) else "page") for doc in self.book.docs
        ]
        if fixture is not None:
            pages.append((fixture.stem, "fixture"))
        jobs = max(1, min(jobs, len(pages)))
        if jobs == 1:
            return self.run_pages(pages)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        shards = [pages[i::jobs] for i in range(jobs)]
        spawn = multiprocessing.get_context("spawn")  # no forking a process with threads
        with ProcessPoolExecutor(jobs, mp_context=spawn) as pool:
            parts = list(pool.map(self.run_pages, shards))
        done = {(r.doc, r.kind): r for part in parts for r in part}
        return [done[page] for page in pages]

    def run_pages(self, pages: list[tuple[str, str]]) -> list[PageResult]:
        from playwright.sync_api import sync_playwright

        server, self.base = serve(self.book.html)
        results = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=self.chromium, args=CHROMIUM_ARGS)
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, device_scale_factor=1
                )
                context.route("**/*", self._route)
                for doc, kind in pages:
                    results.append(self.check_page(context, doc, kind))
                browser.close()
        finally:
            server.shutdown()
        return results

    def _route(self, route):
        """Local files only: the book must work with no network (see the module docstring)."""
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
            return
        self.blocked.append(url)
        route.abort("blockedbyclient")

    def url_of(self, doc: str, kind: str) -> str:
        if kind == "fixture":
            return urljoin(self.base, f"_check_book/{doc}.html")
        return urljoin(self.base, "index.html" if doc == "index" else f"{doc}.html")

    def check_page(self, context, doc: str, kind: str) -> PageResult:
        url = self.url_of(doc, kind)
        res = PageResult(doc=doc, url=url, kind=kind)
        page = context.new_page()
        page.on("console", lambda m: self._console(res, m))
        page.on("pageerror", lambda e: res.errors.append(f"uncaught exception: {e}"))
        pending: set = set()
        page.on("request", lambda r: pending.add(r))
        page.on("requestfinished", lambda r: pending.discard(r))
        page.on("requestfailed", lambda r: (pending.discard(r), self._failed(res, r)))
        page.on("response", lambda r: self._response(res, r))
        t0 = time.perf_counter()
        try:
            response = page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
            if response is None or response.status != 200:
                res.errors.append(f"HTTP {response.status if response else '?'} for {url}")
            if doc == "index":
                self._check_redirect(page, res)
                page.close()
                return res
            self._wait_for_math(page, res)
            self._wait_for_widgets(page, res)
            self._wait_for_requests(page, pending, res)
            res.load_ms = round((time.perf_counter() - t0) * 1000, 1)
            phase = _Phases(res.phase_ms, "load", t0)
            self._check_images(page, res)
            self._check_math(page, res)
            res.wide_tables = page.evaluate(WIDE_JS)
            self._check_links(page, res, doc, kind)
            self._check_alt_text(page, res)
            phase("content")
            self._check_demos(page, res, doc)
            phase("demos")
            if kind == "chapter":
                bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
                for ref in missing_references(ROOT / f"{doc}.ipynb", bib):
                    res.errors.append(f"cites {ref}, which book/references.bib does not have")
                source = self.book.html / f"{doc}.html"
                for problem in colab_cell_problems(
                    ROOT / f"{doc}.ipynb", self.book.repo_url, source.read_text(encoding="utf-8")
                ):
                    res.errors.append(problem)
            # JPEG: a chapter is some 27,000 px tall, and Chromium writes that as a PNG in
            # about 1.6 times the time of a JPEG (these are for looking at, not measuring)
            shot = self.out / f"{_slug(doc)}.jpg"
            page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=85)
            res.screenshot = shot.name
            if kind == "chapter":
                page.evaluate(DARK_JS)
                page.wait_for_timeout(200)
                dark = self.out / f"{_slug(doc)}--dark.jpg"
                page.screenshot(path=str(dark), full_page=True, type="jpeg", quality=85)
                page.evaluate(LIGHT_JS)
            phase("screenshots")
            if kind != "fixture":
                self._check_axe(page, res)
                phase("axe")
                self._check_layout(page, res)  # last: on a phone it opens the menu
                phase("layout")
        except Exception as err:  # a timeout or a browser error is a failed check
            res.errors.append(f"{type(err).__name__}: {str(err).splitlines()[0]}")
        finally:
            page.close()
        return res

    # ---- events ---------------------------------------------------------------------
    @staticmethod
    def _console(res: PageResult, message) -> None:
        if message.type in ("error", "assert"):
            text = f"console.{message.type}: {message.text}"
            res.console.append(text)
            res.errors.append(text)
        elif message.type == "warning":
            res.console.append(f"console.warning: {message.text}")

    @staticmethod
    def _failed(res: PageResult, request) -> None:
        if "blockedbyclient" in (request.failure or "").lower():
            res.blocked.append(request.url)
            res.errors.append(f"request leaves the machine (blocked): {request.url[:160]}")
        else:
            res.errors.append(f"request failed: {request.url[:160]} ({request.failure})")

    def _response(self, res: PageResult, response) -> None:
        url = response.url
        if response.status >= 400:
            referer = response.request.headers.get("referer", "")
            res.errors.append(f"HTTP {response.status} for {url[:160]} (from {referer[:100]})")
            return
        size = self._size_of(url)
        if size is not None:
            res.resources[url] = (response.request.resource_type, size)

    def _size_of(self, url: str) -> int | None:
        if url.startswith(self.base):
            path = self.book.html / unquote(urlsplit(url).path.lstrip("/"))
            if path.is_dir():
                path = path / "index.html"
            return path.stat().st_size if path.is_file() else None
        return None

    # ---- checks ---------------------------------------------------------------------
    def _check_redirect(self, page, res: PageResult) -> None:
        try:
            page.wait_for_url(f"**/{self.book.root}.html", timeout=10_000)
        except Exception:
            res.errors.append(f"index.html does not lead to {self.book.root}.html: {page.url}")

    @staticmethod
    def _wait_for_math(page, res: PageResult) -> None:
        count = page.evaluate("() => document.querySelectorAll('article.bd-article .math').length")
        if not count:
            return
        try:
            page.wait_for_function(
                "() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
                timeout=TIMEOUT_MS,
            )
            page.evaluate("() => window.MathJax.startup.promise.then(() => true)")
        except Exception as err:
            res.errors.append(f"MathJax did not start: {str(err).splitlines()[0]}")

    @staticmethod
    def _wait_for_requests(page, pending: set, res: PageResult) -> None:
        """Wait until no request of the page is in flight (fonts MathJax asked for, say)."""
        deadline = time.perf_counter() + TIMEOUT_MS / 1000
        while pending and time.perf_counter() < deadline:
            page.wait_for_timeout(100)
        if pending:
            urls = sorted(r.url[:120] for r in pending)[:5]
            res.errors.append(f"requests still pending after {TIMEOUT_MS} ms: {urls}")

    @staticmethod
    def _wait_for_widgets(page, res: PageResult) -> None:
        info = page.evaluate(WIDGETS_JS)
        if not info["views"] or not info["manager"]:
            return
        try:
            page.wait_for_function(
                """(n) => document.querySelectorAll(
                    'script[type="application/vnd.jupyter.widget-view+json"]').length === 0
                    || document.querySelectorAll('.jupyter-widgets').length >= n""",
                arg=info["views"],
                timeout=TIMEOUT_MS,
            )
        except Exception:
            pass  # _check_images reports views that did not render

    def _check_images(self, page, res: PageResult) -> None:
        page.evaluate(
            """async () => { await Promise.all(Array.from(document.images).map(
                 (img) => img.decode().catch(() => null))); }"""
        )
        for img in page.evaluate(IMAGES_JS):
            res.images += 1
            res.figures += img["figure"]
            name = img["src"][:100]
            if not img["complete"] or min(img["natural"]) <= 0:
                res.errors.append(f"image did not load: {name}")
            elif min(img["box"]) <= 0:
                res.errors.append(f"image has zero size on the page: {name}")
        if res.kind == "chapter" and res.figures == 0:
            res.errors.append("chapter shows no figure (no image in a cell output)")
        # A stored widget view is drawn only if the page loads a widget manager; the book
        # loads none (_config.yml), and then the view is simply not shown.
        widgets = page.evaluate(WIDGETS_JS)
        res.widgets = widgets["views"]
        if widgets["views"] and widgets["manager"] and not widgets["rendered"]:
            res.errors.append(f"{widgets['views']} widget view(s) stored but none rendered")

    def _check_math(self, page, res: PageResult) -> None:
        info = page.evaluate(MATH_JS)
        res.math = info["count"]
        if info["count"] and info["typeset"] < info["count"]:
            res.errors.append(
                f"math not rendered: {info['count'] - info['typeset']} of {info['count']}"
                f" elements, e.g. {info['raw']}"
            )
        if info["errors"]:
            res.errors.append(
                f"MathJax reported {info['errors']} error(s) (mjx-merror): {info['messages']}"
            )
        source = self.book.html / unquote(urlsplit(res.url).path.lstrip("/"))
        prose = prose_in_math(source.read_text(encoding="utf-8")) if source.is_file() else []
        for words, tex in prose[:5]:
            res.errors.append(
                f"text typeset as math ({words!r} in {tex!r}): dollar signs paired wrongly,"
                " e.g. a $$ block not separated from the paragraph by blank lines?"
            )

    def _check_links(self, page, res: PageResult, doc: str, kind: str) -> None:
        links = page.evaluate(LINKS_JS)
        sidebar = set()
        for link in links:
            href = link["href"]
            if href.startswith(self.base):
                res.links += 1
                problem = self._internal_target(href)
                if problem:
                    res.errors.append(f"broken link {link['raw']!r} ({link['text']!r}): {problem}")
                if link["sidebar"]:
                    sidebar.add(urlsplit(href).path.lstrip("/"))
        if kind == "fixture":
            return
        listed = {f"{d}.html" for d in self.book.docs if d != self.book.root}
        missing = sorted(listed - sidebar)
        if missing:
            res.errors.append(f"sidebar does not list: {missing}")
        if doc == self.book.root:
            linked = {urlsplit(li["href"]).path.lstrip("/") for li in links if not li["sidebar"]}
            chapters = [d for d in self.book.docs if self.book.is_chapter(d)]
            unlinked = [d for d in chapters if f"{d}.html" not in linked]
            if unlinked:
                res.errors.append(f"the landing page's chapter map does not link: {unlinked}")
        self._check_launch(links, res, doc, kind)

    def _internal_target(self, href: str) -> str:
        parts = urlsplit(href)
        path = self.book.html / unquote(parts.path.lstrip("/"))
        if parts.path.endswith("/"):
            path = path / "index.html"
        if not path.is_file():
            return "no such file in the build"
        if parts.fragment and path.suffix == ".html":
            if unquote(parts.fragment) not in self._ids_of(path):
                return f"no element with id {parts.fragment!r} in {path.name}"
        return ""

    def _ids_of(self, path: Path) -> set[str]:
        if path not in self._ids:
            text = path.read_text(encoding="utf-8", errors="replace")
            self._ids[path] = {html.unescape(m) for m in re.findall(r'\bid="([^"]+)"', text)}
        return self._ids[path]

    def _check_launch(self, links, res: PageResult, doc: str, kind: str) -> None:
        book = self.book
        hrefs = [li["href"] for li in links]
        repo = [h for h in hrefs if h.rstrip("/") == book.repo_url]
        issues = [h for h in hrefs if h.startswith(f"{book.repo_url}/issues/new?")]
        if not repo:
            res.errors.append(f"no repository button linking {book.repo_url}")
        if not issues:
            res.errors.append("no issues button")
        if kind != "chapter":
            return
        source = posixpath.join(book.path_to_book, f"{doc}.ipynb") if book.path_to_book else ""
        source = source or f"{doc}.ipynb"
        m = re.match(r"https://github\.com/([^/]+)/([^/]+)$", book.repo_url)
        if not m:
            res.errors.append(f"repository url {book.repo_url} is not a GitHub repository")
            return
        org, name = m.groups()
        urlpath = "lab/tree" if book.interface == "jupyterlab" else "tree"
        expected = {
            "binder": f"{book.binder_url}/v2/gh/{org}/{name}/{book.branch}?urlpath={urlpath}/"
            f"{source}",
            "colab": f"{book.colab_url}/github/{org}/{name}/blob/{book.branch}/{source}",
        }
        prefixes = {"binder": f"{book.binder_url}/", "colab": f"{book.colab_url}/"}
        for service, want in expected.items():
            found = [h for h in hrefs if h.startswith(prefixes[service]) and h != prefixes[service]]
            res.launch[service] = found[0] if found else None
            if not found:
                res.errors.append(f"no {service} launch button")
            elif want not in found:
                res.errors.append(f"{service} launch link is {found[0]}, expected {want}")
        if not (ROOT / source).is_file():
            res.errors.append(f"the launch buttons open {source}, which is not in the repository")
        download = [h for h in hrefs if h.endswith(f"_sources/{doc}.ipynb")]
        res.launch["download"] = download[0] if download else None
        if not download:
            res.errors.append("no download link for the notebook")

    def _check_layout(self, page, res: PageResult) -> None:
        """Where things are, at each viewport width (see the module docstring)."""
        original = page.viewport_size
        try:
            for label, (width, height) in VIEWPORTS.items():
                page.set_viewport_size({"width": width, "height": height})
                page.evaluate(
                    """() => { window.scrollTo({top: 0, left: 0, behavior: "instant"});
                      for (const el of document.querySelectorAll(".bd-sidebar-primary")) {
                        el.scrollTop = 0;  // the theme scrolls it to the current page's link
                      } }"""
                )
                page.wait_for_timeout(600)  # the sidebar slides when the width changes
                info = page.evaluate(LAYOUT_JS)
                where = f"layout at {label} ({width} px)"
                if label == "phone" and not (info["title"] and info["title"]["on_top"]):
                    # on a phone the title sits in the menu: open it, look, close it
                    toggle = page.query_selector(".primary-toggle, label.sidebar-toggle")
                    if toggle is not None and toggle.is_visible():
                        toggle.click()
                        page.wait_for_timeout(400)
                        opened = page.evaluate(LAYOUT_JS)
                        info["title"] = opened["title"]
                        info["title_in_menu"] = True
                        page.keyboard.press("Escape")
                        if page.evaluate(LAYOUT_JS)["title"]:
                            toggle.click(force=True)
                        page.wait_for_timeout(300)
                res.layout[label] = info
                if len(info["search"]) != 1:
                    res.errors.append(
                        f"{where}: {len(info['search'])} visible search fields, expected 1:"
                        f" {info['search']}"
                    )
                if not info["title"]:
                    res.errors.append(f"{where}: the book's title is not visible")
                elif not info["title"]["on_top"]:
                    res.errors.append(f"{where}: the book's title {info['title']} is covered")
                for problem in info["overlaps"] + info["covered"]:
                    res.errors.append(f"{where}: {problem}")
                if label == "phone" and info["page_width"] > width + 1:
                    res.errors.append(
                        f"{where}: the page is {info['page_width']} px wide (scrolls sideways)"
                    )
        finally:
            page.set_viewport_size(original)
            page.wait_for_timeout(100)

    @staticmethod
    @staticmethod
    def _check_demo_keyboard(page, root, index, name, entry, res) -> None:
        """Focus the control as Tab would, press an arrow key: the frame must change."""
        before = page.evaluate(DEMO_KEY_JS, [index, name])
        what = f"demo {index}, control {name!r}"
        if not before["tabbable"]:
            res.errors.append(f"{what}: cannot be reached with Tab")
        if not before["label"]:
            res.errors.append(f"{what}: has no label")
        if before["canvas_role"] != "img" or not before["canvas_label"]:
            res.errors.append(f"{what}: the canvas has no role=img and aria-label")
        root.query_selector(f'[data-control="{name}"]').focus()
        select = before["tag"] == "select"
        forward, back = ("ArrowDown", "ArrowUp") if select else ("ArrowRight", "ArrowLeft")
        page.keyboard.press(back if before["last"] else forward)
        page.wait_for_timeout(50)
        after = page.evaluate(DEMO_KEY_JS, [index, name])
        entry.setdefault("keyboard", []).append(
            {
                "control": name,
                "label": before["label"],
                "valuetext": after["valuetext"],
                "frame_before": before["frame"],
                "frame_after": after["frame"],
            }
        )
        if after["frame"] == before["frame"]:
            res.errors.append(f"{what}: an arrow key did not redraw the demo")

    @staticmethod
    def _check_alt_text(page, res: PageResult) -> None:
        for img in page.evaluate(ALT_JS):
            alt = (img["alt"] or "").strip()
            if img["hidden"]:
                continue
            if not alt:
                res.errors.append(f"image without a text alternative: {img['src']}")
            elif re.search(r"\.(png|jpe?g|gif|svg|webp)$|_images/|^data:", alt, re.I):
                res.errors.append(f"image whose text alternative is a file name: {alt[:80]!r}")

    @staticmethod
    def _check_axe(page, res: PageResult) -> None:
        from axe_playwright_python.sync_playwright import Axe

        # preload off: axe would fetch each stylesheet's @import relative to the page instead
        # of the stylesheet (a 404 that no reader sees); only css-orientation-lock uses it
        options = {"resultTypes": ["violations"], "preload": False}
        axe = Axe()
        # color-contrast is most of axe's time (it works out the backgrounds behind each of
        # a chapter's ~10,000 elements, every highlighted code token among them), and its
        # verdict depends only on how a text looks. So it runs on one element per look
        # (CONTRAST_SAMPLE_JS: a few dozen per page), the other rules on the whole page.
        rest = {**options, "rules": {"color-contrast": {"enabled": False}}}
        found = axe.run(page, options=rest).response.get("violations", [])
        if page.evaluate(CONTRAST_SAMPLE_JS):
            only = {**options, "runOnly": {"type": "rule", "values": ["color-contrast"]}}
            sample = {"include": [["[data-contrast-sample]"]]}
            found += axe.run(page, context=sample, options=only).response.get("violations", [])
        for v in found:
            impact = v.get("impact") or "minor"
            res.axe.setdefault(impact, []).append(v["id"])
            if impact in ("serious", "critical") or v["id"] in AXE_REQUIRED:
                targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])[:3]]
                res.errors.append(
                    f"axe {impact} {v['id']}: {v.get('help', '')} "
                    f"({len(v.get('nodes', []))} element(s), e.g. {targets})"
                )

    def _check_demos(self, page, res: PageResult, doc: str) -> None:
        roots = page.query_selector_all("div.learnlr-demo")
        expected = kernel_free_cells(ROOT / f"{doc}.ipynb")
        if expected is not None and len(roots) != expected:
            res.errors.append(
                f"{len(roots)} kernel-free demo(s) on the page, {expected} in the notebook"
            )
        for i, root in enumerate(roots):
            root.scroll_into_view_if_needed()
            controls = root.eval_on_selector_all(
                "[data-control]", "els => els.map(e => e.getAttribute('data-control'))"
            )
            entry = {"index": i, "controls": controls, "moves": [], "screenshots": []}
            if root.get_attribute("data-frame") is None:
                res.errors.append(f"demo {i}: no data-frame after loading (not drawn)")
            before = self.out / f"{_slug(doc)}--demo{i}-before.png"
            root.screenshot(path=str(before))
            entry["screenshots"].append(before.name)
            if not controls:
                res.errors.append(f"demo {i}: no controls ([data-control])")
            for name in controls:
                move = page.evaluate(DEMO_MOVE_JS, [i, name])
                entry["moves"].append(move)
                what = f"demo {i}, control {name!r} ({move['from']} -> {move['to']})"
                if move["frame_after"] == move["frame_before"]:
                    res.errors.append(f"{what}: data-frame did not change")
                if not move["pixels_changed"]:
                    res.errors.append(f"{what}: the canvas did not change")
                if move["event_to_redraw_ms"] is None:
                    res.errors.append(f"{what}: no redraw within 2 s")
                self._check_demo_keyboard(page, root, i, name, entry, res)
            after = self.out / f"{_slug(doc)}--demo{i}-after.png"
            root.screenshot(path=str(after))
            entry["screenshots"].append(after.name)
            res.demos.append(entry)


_MATH_NODE = re.compile(r'<(span|div) class="math[^"]*">(.*?)</\1>', re.S)
_TEXT_COMMANDS = re.compile(r"\\(?:text\w*|math(?:rm|it|bf|sf|tt)|operatorname|mbox)\s*\{[^{}]*\}")
_PROSE = re.compile(r"\b[a-z]{2,}[,.;:]? [a-z]{2,}[,.;:]? [a-z]{2,}\b")


class _Phases:
    """Records into ``into`` the milliseconds since the previous call, under a name."""

    def __init__(self, into: dict, first: str, t0: float):
        self.into, self.t = into, time.perf_counter()
        into[first] = round((self.t - t0) * 1000, 1)

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round((now - self.t) * 1000, 1)
        self.t = now


def prose_in_math(page_html: str) -> list[tuple[str, str]]:
    """Math elements whose TeX holds three English words in a row outside \\text{}."""
    found = []
    for m in _MATH_NODE.finditer(page_html):
        tex = html.unescape(re.sub(r"<[^>]+>", "", m.group(2)))
        bare = re.sub(r"\\[A-Za-z]+", " ", _TEXT_COMMANDS.sub(" ", tex))
        hit = _PROSE.search(bare)
        if hit:
            found.append((hit.group(0), " ".join(tex.split())[:70]))
    return found


_REFERENCES = re.compile(r"^#+\s*References\b", re.MULTILINE)
_ARXIV = re.compile(r"arXiv[: ]\s*(\d{4}\.\d{4,5})", re.IGNORECASE)
_DOI = re.compile(r"(?:doi[: ]\s*|doi\.org/)(10\.\d{4,9}/[^\s,;]+)", re.IGNORECASE)


def missing_references(notebook: Path, bib: str) -> list[str]:
    """arXiv ids and DOIs in a chapter's References section that references.bib lacks."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    text = ""
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        found = _REFERENCES.search(source) if cell["cell_type"] == "markdown" else None
        if found:
            text += source[found.start() :]
    ids = _ARXIV.findall(text) + [d.rstrip(".)") for d in _DOI.findall(text)]
    return [i for i in ids if i.lower() not in bib.lower()]


def colab_cell_problems(notebook: Path, repo_url: str, page_html: str) -> list[str]:
    """The first code cell installs learnlr in Colab only, and the book hides it."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code:
        return ["no code cell"]
    first = code[0]
    source = "".join(first["source"])
    problems = []
    if "remove-cell" not in first.get("metadata", {}).get("tags", []):
        problems.append("the first code cell (Colab set-up) is not tagged remove-cell")
    if '"google.colab" in sys.modules' not in source or '"pip", "install"' not in source:
        problems.append("the first code cell does not install learnlr when in Colab")
    elif "learnlr[notebooks]==" not in source:
        problems.append("the Colab cell does not install a release of learnlr[notebooks]")
    elif f"git+{repo_url}" not in source:
        problems.append(f"the Colab cell does not fall back to {repo_url}")
    if "google.colab" in page_html:
        problems.append("the Colab set-up cell is shown on the page")
    return problems


def kernel_free_cells(notebook: Path) -> int | None:
    """How many kernel-free demo cells (scripts/add_static_demos.py) a notebook has."""
    if not notebook.is_file():
        return None
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    mark = "# Kernel-free version for the rendered book"
    return sum(c["cell_type"] == "code" and mark in "".join(c["source"]) for c in cells)


def _slug(doc: str) -> str:
    return doc.replace("/", "--")


# --------------------------------------------------------------------------------------
# A page with a demo, so that the demo check runs before the chapters embed demos
# --------------------------------------------------------------------------------------
def write_fixture(html_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from learnlr import problems
    from learnlr.viz import widgets

    demo = widgets.lr_demo(problems.quadratic2d(kappa=10, angle=0.5), steps=40)
    body = demo.to_html(grid={"lr": [0.02, 0.1, 0.19, 0.21], "steps": [20, 40]})
    basins = widgets.basin_demo(n=12, steps=300)
    body += basins.to_html(grid={"lr": [0.005, 0.021], "method": ["GD", "Adam"], "steps": [300]})
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>learnlr demo fixture</title></head><body>"
        "<h1>Kernel-free demo (fixture made by scripts/check_book.py)</h1>"
        f"{body}</body></html>\n"
    )
    folder = html_dir / "_check_book"
    folder.mkdir(exist_ok=True)
    path = folder / "demo.html"
    path.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------
def page_weights(results: list[PageResult]) -> tuple[dict, int]:
    """Per page: bytes of its HTML, its images, other files no other page loads; shared."""
    book_pages = [r for r in results if r.kind != "fixture" and r.doc != "index"]
    users: dict[str, int] = {}
    for r in book_pages:
        for url in r.resources:
            users[url] = users.get(url, 0) + 1
    weights, shared = {}, {}
    for r in book_pages:
        w = {"html": 0, "images": 0, "n_images": 0, "other_own": 0, "shared": 0}
        for url, (kind, size) in r.resources.items():
            if url.split("#")[0] == r.url:
                w["html"] += size
            elif kind == "image" and users[url] == 1:
                w["images"] += size
                w["n_images"] += 1
            elif users[url] == 1:
                w["other_own"] += size
            else:
                w["shared"] += size
                shared[url] = size
        w["page_total"] = w["html"] + w["images"] + w["other_own"]
        weights[r.doc] = w
    return weights, sum(shared.values())


def report(results: list[PageResult], out: Path, seconds: float) -> bool:
    weights, shared = page_weights(results)
    kb = 1024
    print(
        f"{'page':<34} {'ok':<4} {'img':>4} {'fig':>4} {'math':>5} {'links':>5} "
        f"{'html kB':>8} {'img kB':>7} {'own kB':>7} {'load ms':>8}  screenshot"
    )
    for r in results:
        w = weights.get(r.doc, {})
        print(
            f"{r.doc:<34} {'ok' if r.ok else 'FAIL':<4} {r.images:>4} {r.figures:>4} "
            f"{r.math:>5} {r.links:>5} {w.get('html', 0) / kb:>8.0f} "
            f"{w.get('images', 0) / kb:>7.0f} {w.get('page_total', 0) / kb:>7.0f} "
            f"{r.load_ms:>8.0f}  {r.screenshot}"
        )
    print(f"\nfiles shared by several pages (theme, fonts, MathJax): {shared / kb:.0f} kB")
    for r in results:
        for d in r.demos:
            for m in d["moves"]:
                print(
                    f"demo {r.doc}#{d['index']} {m['control']}: frame {m['frame_before']} -> "
                    f"{m['frame_after']}, pixels changed: {m['pixels_changed']}, "
                    f"draw {m['draw_ms']:.2f} ms, event to redraw "
                    f"{m['event_to_redraw_ms']:.2f} ms, to paint {m['event_to_paint_ms']:.1f} ms"
                )
    for r in results:
        if r.axe:
            found = ", ".join(
                f"{impact}: {' '.join(sorted(set(rules)))}" for impact, rules in r.axe.items()
            )
            print(f"axe {r.doc}: {found or 'no violations'}")
    for r in results:
        if r.wide_tables:
            print(
                f"note: {r.doc} has {len(r.wide_tables)} table(s) wider than the text "
                f"(scrolls sideways): {r.wide_tables}"
            )
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"\nFAILED {r.doc} ({r.url}):")
        for e in r.errors[:25]:
            print(f"  - {e}")
        if len(r.errors) > 25:
            print(f"  ... and {len(r.errors) - 25} more")
    data = {
        "seconds": round(seconds, 1),
        "shared_bytes": shared,
        "pages": [
            {
                "doc": r.doc,
                "kind": r.kind,
                "url": r.url,
                "ok": r.ok,
                "errors": r.errors,
                "console": r.console,
                "images": r.images,
                "figures": r.figures,
                "math_elements": r.math,
                "widget_views": r.widgets,
                "internal_links": r.links,
                "launch": r.launch,
                "demos": r.demos,
                "wide_tables": r.wide_tables,
                "weight": weights.get(r.doc),
                "load_ms": r.load_ms,
                "phase_ms": r.phase_ms,
                "screenshot": r.screenshot,
                "layout": r.layout,
                "axe": r.axe,
                "blocked_requests": r.blocked,
            }
            for r in results
        ],
    }
    (out / "report.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    n_ok = sum(r.ok for r in results)
    print(f"\n{n_ok} passed, {len(failed)} failed")
    print(f"screenshots and report.json in {out}")
    return not failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--no-fixture", action="store_true", help="skip the generated demo page")
    parser.add_argument(
        "--jobs", type=int, default=2, help="browsers checking pages at once (default 2)"
    )
    parser.add_argument(
        "--pages", default="", help="only the pages whose name contains one of these (a,b)"
    )
    args = parser.parse_args(argv)

    if not (args.html / "index.html").is_file():
        print(f"no book in {args.html}: run `make book` first", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 2
    book = read_book(args.html)
    if args.pages:
        wanted = [w for w in args.pages.split(",") if w]
        book.docs = [d for d in book.docs if d == book.root or any(w in d for w in wanted)]
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    fixture = None if args.no_fixture else write_fixture(args.html)
    t0 = time.perf_counter()
    try:
        results = Checker(book, args.out, args.chromium).run(fixture, jobs=args.jobs)
    finally:
        if fixture is not None:
            shutil.rmtree(fixture.parent, ignore_errors=True)
    ok = report(results, args.out, time.perf_counter() - t0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
