"""What a reader feels: each chapter's main demo in a real JupyterLab, timed in Chromium.

``make bench-browser`` (called by ``make bench``) starts a JupyterLab server on 127.0.0.1
over copies of the notebooks, opens every chapter in headless Chromium (Debian's
``/usr/bin/chromium`` driven by Playwright's Python client; no browser is downloaded), runs
all cells from the Run menu and then works the chapter's main demo (the ``VAR.widget()``
cell named in ``scripts/add_static_demos.py``) as a reader would:

* **keyboard**: each slider's handle is focused and the arrow keys pressed, one press at a
  time; each dropdown is stepped with the arrow keys (where the browser's closed
  dropdown ignores them, each option is chosen in turn, as a click would);
* **mouse drag**: each slider's handle is dragged across its track in small moves, 16 ms
  apart (a 60 Hz pointer), faster than frames can come back; each dropdown's options are
  gone through 16 ms apart.

For every key press the time from the ``keydown`` event to the new figure being painted is
measured in the page: the figure is an ``<img>`` whose ``src`` the widget replaces; once
that image has decoded, the clock stops right after the next frame is produced
(``requestAnimationFrame``, then a task posted from it, which runs once that frame's
rendering is done: the usual way to time "until painted" from a page, as the ``afterframe``
package does). The time until the frame after that (two animation frames, an upper bound)
is kept too and printed beside it. The demo records when each change reached the kernel,
when its frame began and when its PNG was sent (``Demo.frame_times``), so each press is
split into legs: to the kernel, queued behind a frame, drawn, the message to the page (until
the image's ``src`` changes), decode, and paint.

After each drag, once no frame has come for 1.5 s, the figure must be the one for the
slider's final value, checked without redrawing anything: the bytes the page shows must
be the PNG the kernel's Image widget holds, that PNG must have been drawn for the values
the controls hold in the kernel (``Demo.shown``), and those must be the values the
page's slider readouts show. The kernel is asked over a second client of the notebook's
kernel, silently (``user_expressions``). Frames painted per drag (fewer than the pointer
moves: stale values are skipped by design) and console errors are reported.

Targets on 2 cores: median <= 100 ms and p95 <= 200 ms from key press to painted figure,
the final frame always correct, no console errors. Prints one table and writes
``benchmarks/results/browser.json``.

Usage::

    .venv/bin/python benchmarks/browser.py [--chapters 01,05] [--presses 10]
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "learnlr-bench"

# The demo's cell is found by its place in the notebook (every cell is in the page, see
# start_lab): its text may not be, since the editor draws only the lines in view.
FIND_JS = """(index) => {
  const cell = document.querySelectorAll(".jp-Notebook .jp-Cell")[index];
  if (!cell) return "no cell number " + index + " in the page";
  cell.scrollIntoView();
  const img = cell.querySelector(".jp-OutputArea img.widget-image, .jp-OutputArea img");
  return img && img.complete && img.naturalWidth > 0 ? "" : "no image in the demo's output";
}"""

INSTALL_JS = """(index) => {
  const cell = document.querySelectorAll(".jp-Notebook .jp-Cell")[index];
  const img = cell.querySelector(".jp-OutputArea img.widget-image, .jp-OutputArea img");
  cell.scrollIntoView();
  cell.setAttribute("data-bench", "demo");
  window.__bench = {inputs: [], frames: []};
  const mark = (e) => window.__bench.inputs.push([e.type, performance.now()]);
  for (const type of ["keydown", "pointermove", "pointerdown", "pointerup"]) {
    cell.addEventListener(type, mark, true);
  }
  new MutationObserver(() => {
    const changed = performance.now(), src = img.src;
    img.decode().catch(() => null).then(() => {
      const decoded = performance.now();
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          const painted = performance.now();
          requestAnimationFrame(() => window.__bench.frames.push(
            {changed, decoded, painted, next_frame: performance.now(), src}));
        };
        channel.port2.postMessage(null);
      });
    });
  }).observe(img, {attributes: true, attributeFilter: ["src"]});
  return "";
}"""

IMAGE_SHA_JS = """async () => {
  const img = document.querySelector('[data-bench="demo"] .jp-OutputArea img');
  const buf = await (await fetch(img.src)).arrayBuffer();
  const sha = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  return Array.from(sha, (b) => b.toString(16).padStart(2, "0")).join("");
}"""

READOUTS_JS = """() => Array.from(
  document.querySelectorAll('[data-bench="demo"] .jp-OutputArea .widget-readout'),
  (r) => r.value !== undefined && r.tagName === "INPUT" ? r.value : r.textContent)"""

CHOICES_JS = """() => Array.from(
  document.querySelectorAll('[data-bench="demo"] .jp-OutputArea select'),
  (s) => s.options[s.selectedIndex] ? s.options[s.selectedIndex].textContent : null)"""

# What the kernel holds (asked over a second client of the notebook's kernel, silently):
# the PNG in the demo's Image widget, the values it was drawn for, the controls' values,
# and each frame's (received, started, sent) times.
KERNEL_STATE = (
    "__import__('json').dumps({{'idle': {var}.wait(10), 'shown': {var}.shown,"
    " 'controls': {{n: c.value for n, c in {var}._ctrls.items()}},"
    " 'sha': __import__('hashlib').sha256(bytes({var}._image.value)).hexdigest(),"
    " 'times': list({var}.frame_times)}}, default=str)"
)


class Kernel:
    """A second client of a notebook's kernel that evaluates expressions silently."""

    def __init__(self, runtime: Path, kernel_id: str):
        from jupyter_client import BlockingKernelClient

        self.client = BlockingKernelClient(
            connection_file=str(runtime / f"kernel-{kernel_id}.json")
        )
        self.client.load_connection_file()
        self.client.start_channels()

    def eval(self, expr: str, timeout=60):
        """The value of ``expr``, a JSON text, decoded."""
        msg_id = self.client.execute(
            "", silent=True, store_history=False, user_expressions={"r": expr}
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                r = reply["content"]["user_expressions"]["r"]
                if r["status"] != "ok":
                    raise RuntimeError(f"kernel: {r.get('ename')}: {r.get('evalue')}")
                return json.loads(ast.literal_eval(r["data"]["text/plain"]))
        raise TimeoutError(expr)

    def close(self):
        self.client.stop_channels()


def kernel_of(base: str, stem: str, runtime: Path) -> Kernel:
    with urllib.request.urlopen(f"{base}api/sessions?token={TOKEN}", timeout=10) as r:
        sessions = json.load(r)
    kids = [
        x["kernel"]["id"]
        for x in sessions
        if (x.get("path") or "").endswith(f"{stem}.ipynb") and x.get("kernel")
    ]
    if len(kids) != 1:
        raise RuntimeError(f"{stem}: {len(kids)} kernels in the server's sessions, not one")
    kid = kids[0]
    return Kernel(runtime, kid)


def shut_down(base: str, stem: str) -> None:
    """End the server's sessions (and kernels) of the notebook ``stem``."""
    with urllib.request.urlopen(f"{base}api/sessions?token={TOKEN}", timeout=10) as r:
        sessions = json.load(r)
    for x in sessions:
        if (x.get("path") or "").endswith(f"{stem}.ipynb"):
            req = urllib.request.Request(
                f"{base}api/sessions/{x['id']}?token={TOKEN}", method="DELETE"
            )
            urllib.request.urlopen(req, timeout=30).close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(root: Path, port: int, runtime: Path, log) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("jupyter-lab")
    # JupyterLab's default windowing ("contentVisibility", as a reader has it): every cell
    # is in the DOM, so the demo's cell can be found by its place, and the browser skips
    # painting the cells out of view. The widget's view may appear after the notebook is
    # idle, so find_demo waits for it.
    settings = root.parent / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "contentVisibility"}')
    # Workspaces too are kept apart: the user's saved workspace (shared by every JupyterLab
    # on the machine) reopens every notebook it last had open, each with its widgets, and a
    # page then takes minutes to load or never shows the chapter asked for.
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(root.parent / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root.parent / "lab-workspaces"),
        "JUPYTER_RUNTIME_DIR": str(runtime),  # the kernels' connection files, for Kernel
    }
    proc = subprocess.Popen(
        [
            str(exe),
            "--no-browser",
            "--allow-root",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=root,
        env=env,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=2)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("JupyterLab did not start within 120 s")


def run_all(page) -> float:
    t0 = time.perf_counter()
    # The notebook must be the active panel or the menu's command does nothing; a click
    # that started nothing (no prompt turns to [*] or a number) is tried again.
    started = """() => Array.from(document.querySelectorAll(".jp-CodeCell .jp-InputPrompt"))
                   .some((p) => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
    for attempt in range(3):
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(started, timeout=30_000, polling=200)
            break
        except Exception:
            if attempt == 2:
                raise RuntimeError("Run All Cells started no cell") from None
    page.wait_for_timeout(1000)
    page.wait_for_function(
        """() => {
          const prompts = Array.from(document.querySelectorAll(".jp-InputPrompt"));
          const status = document.querySelector(".jp-Notebook-ExecutionIndicator");
          const busy = status && status.getAttribute("data-status") === "busy";
          return prompts.length > 0 && !busy && !prompts.some((p) => p.textContent.includes("*"));
        }""",
        timeout=300_000,
        polling=500,
    )
    return time.perf_counter() - t0


def main_demos(table: dict) -> dict:
    """Chapter -> its main demo's variable, from ``scripts/add_static_demos.py``'s DEMOS.

    A chapter with several demos lists them as pairs; its main demo comes first.
    """
    return {
        stem: (entry if isinstance(entry, tuple) else entry[0])[0]
        for stem, entry in sorted(table.items())
    }


def demo_cell(stem: str, var: str) -> int:
    """The index of the cell of ``notebooks/{stem}.ipynb`` that ends with ``var.widget()``."""
    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
    found = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and "".join(c["source"]).rstrip().endswith(f"{var}.widget()")
    ]
    if len(found) != 1:
        raise RuntimeError(f"{stem}: {len(found)} cells end with {var}.widget(), not one")
    return found[0]


def find_demo(page, index: int, timeout_s=120):
    """Wait until cell number ``index`` shows its demo's image."""
    deadline = time.perf_counter() + timeout_s
    problem = ""
    while time.perf_counter() < deadline:
        problem = page.evaluate(FIND_JS, index)
        if not problem:
            return
        page.wait_for_timeout(500)
    raise RuntimeError(problem)


def frame_after(page, t_input: float, timeout_ms=3000):
    """The first frame painted after ``t_input`` (page clock), or None."""
    deadline = time.perf_counter() + timeout_ms / 1000
    while time.perf_counter() < deadline:
        frames = page.evaluate("() => window.__bench.frames")
        later = [f for f in frames if f["changed"] >= t_input]
        if later:
            return later[0]
        page.wait_for_timeout(10)
    return None


def settle(page, quiet_ms=1500, timeout_ms=15000):
    """Wait until no new frame has come for ``quiet_ms``."""
    deadline = time.perf_counter() + timeout_ms / 1000
    n = -1
    while time.perf_counter() < deadline:
        count = page.evaluate("() => window.__bench.frames.length")
        if count == n:
            return
        n = count
        page.wait_for_timeout(quiet_ms)


def press(page, key) -> tuple[float, float] | None:
    """Press ``key``; (keydown, painted) on the page's clock in ms, or None: no new frame.

    Only a frame whose image changed after the keydown counts (a late frame of the press
    before is not this one's).
    """
    t = page.evaluate("() => performance.now()")
    page.keyboard.press(key)
    keydowns = [e[1] for e in page.evaluate("() => window.__bench.inputs") if e[0] == "keydown"]
    down = max([k for k in keydowns if k >= t] or [t])
    frame = frame_after(page, down)
    return None if frame is None else (down, frame)


def breakdown(presses: list, origin_ms: float, frame_times: list) -> dict:
    """Median ms of each leg of a key press, from the keydown to the painted figure.

    In the kernel: to the kernel, queued behind a frame, drawn (update and PNG); then in
    the browser: the message (kernel to server to page, until the image's ``src`` is
    replaced), decoding the PNG, and painting it (until the frame that shows it is done).
    ``presses`` are (input time, frame) on the page's clock (``origin_ms`` is its epoch);
    ``frame_times`` the kernel's (received, started, sent) epoch seconds per frame. Each
    press is matched with the first frame the kernel received after its input.
    """
    names = ("to_kernel", "queued", "drawn", "message", "decode", "paint")
    legs = {leg: [] for leg in names}
    for down, frame in presses:
        down_s = (origin_ms + down) / 1e3
        changed_s, decoded_s, painted_s = (
            (origin_ms + frame[key]) / 1e3 for key in ("changed", "decoded", "painted")
        )
        match = [f for f in frame_times if down_s <= f[0] <= painted_s]
        if not match:
            continue
        received, started, sent = match[0]
        times = (down_s, received, started, sent, changed_s, decoded_s, painted_s)
        for leg, a, b in zip(names, times[:-1], times[1:], strict=True):
            legs[leg].append((b - a) * 1e3)
    return {leg: round(float(np.median(v)), 1) if v else None for leg, v in legs.items()}


def bench_chapter(context, base: str, stem: str, var: str, presses: int, runtime: Path) -> dict:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    out = {"chapter": stem, "demo": f"{var}.widget()", "keyboard_ms": [], "drags": []}
    kernel = None
    try:
        # a workspace of its own, empty (reset): only this chapter's notebook is opened
        page.goto(
            f"{base}lab/workspaces/bench-{stem[:2]}/tree/notebooks/{stem}.ipynb"
            f"?reset&token={TOKEN}",
            timeout=300_000,
        )
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=300_000)
        page.wait_for_function(
            """() => { const s = document.querySelector(".jp-Notebook-ExecutionIndicator");
                       return !s || s.getAttribute("data-status") === "idle"; }""",
            timeout=300_000,
        )
        out["run_all_s"] = round(run_all(page), 1)
        index = demo_cell(stem, var)
        find_demo(page, index)
        page.evaluate(INSTALL_JS, index)
        kernel = kernel_of(base, stem, runtime)
        origin = page.evaluate("() => performance.timeOrigin")
        demo = page.locator('[data-bench="demo"] .jp-OutputArea')
        handles = demo.locator(".noUi-handle, .ui-slider-handle")
        selects = demo.locator("select")
        timed = []

        def keys(seq):
            for key in seq:
                t = press(page, key)
                if t is not None:
                    timed.append(t)
                    out["keyboard_ms"].append(t[1]["painted"] - t[0])
                    out.setdefault("next_frame_ms", []).append(t[1]["next_frame"] - t[0])

        for i in range(handles.count()):
            handle = handles.nth(i)
            handle.focus()
            keys(["ArrowRight"] * presses + ["ArrowLeft"] * presses)
            out["drags"].append(drag(page, handle, kernel, var))
        for i in range(selects.count()):
            select = selects.nth(i)
            options = select.locator("option").all_inner_texts()
            select.focus()
            n = len(out["keyboard_ms"])
            keys(["ArrowDown", "ArrowUp"] * max(1, min(presses, len(options) - 1) // 2))
            if len(out["keyboard_ms"]) == n:  # the browser's arrow keys did not change it
                for option in options[1:] + options[:1]:
                    t = choose(page, select, option)
                    if t is not None:
                        timed.append(t)
                        out["choice_ms"] = [*out.get("choice_ms", []), t[1]["painted"] - t[0]]
                        out.setdefault("next_frame_ms", []).append(t[1]["next_frame"] - t[0])
            out["drags"].append(flip(page, select, options, kernel, var))
        state = kernel.eval(KERNEL_STATE.format(var=var))
        out["legs_ms"] = breakdown(timed, origin, state["times"])
    except Exception as err:
        where = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == __file__][-1]
        out["error"] = (
            f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:200]}"
            f" (browser.py line {where.lineno})"
        )
    finally:
        out["console_errors"] = errors
        if kernel is not None:
            kernel.close()
        page.close()
        shut_down(base, stem)  # its kernel would hold memory and wake for the next chapters
    return out


def drag(page, handle, kernel: Kernel, var: str) -> dict:
    """Drag ``handle`` across its track and back; is the figure shown the final value's?

    When no frame has come for a while, the bytes the page shows must be the kernel's
    image, drawn for the values the controls hold in the kernel, which must be the values
    the page's slider readouts show.
    """
    settle(page)
    track = handle.locator(
        "xpath=ancestor::*[contains(@class,'noUi-base') or contains(@class,'ui-slider')][1]"
    )
    handle.scroll_into_view_if_needed()
    box, hb = track.bounding_box(), handle.bounding_box()
    if box is None or hb is None:
        raise RuntimeError("a slider's handle or track is not visible: cannot drag it")
    x, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    n_before = page.evaluate("() => window.__bench.frames.length")
    page.mouse.move(x, y)
    page.mouse.down()
    moves = 0
    for tx in (
        np.linspace(x, box["x"] + box["width"] * 0.9, 25).tolist()
        + np.linspace(box["x"] + box["width"] * 0.9, box["x"] + box["width"] * 0.4, 15).tolist()
    ):
        page.mouse.move(tx, y)
        moves += 1
        page.wait_for_timeout(16)
    page.mouse.up()
    return final_frame(page, kernel, var, n_before, moves)


def choose(page, select, option) -> tuple[float, float] | None:
    """Choose ``option`` in a dropdown; (input, painted) on the page's clock, or None."""
    t = page.evaluate("() => performance.now()")
    select.select_option(label=option)
    frame = frame_after(page, t)
    return None if frame is None else (t, frame)


def flip(page, select, options, kernel: Kernel, var: str) -> dict:
    """Go through a dropdown's options faster than frames come back; the final frame?"""
    settle(page)
    n_before = page.evaluate("() => window.__bench.frames.length")
    for option in options[1:] + options[:1] + options[1:2]:
        select.select_option(label=option)
        page.wait_for_timeout(16)
    return final_frame(page, kernel, var, n_before, len(options) + 1)


def final_frame(page, kernel: Kernel, var: str, n_before: int, moves: int) -> dict:
    """Once no frame has come for a while: is the figure shown the controls' final one?"""
    settle(page)
    state = kernel.eval(KERNEL_STATE.format(var=var))  # waits until the kernel is idle
    # a frame may still be on its way to the page on a loaded machine: wait up to 10 s for
    # the page to show the kernel's image (a stale or lost final frame never does)
    deadline = time.perf_counter() + 10
    while (shown := page.evaluate(IMAGE_SHA_JS)) != state["sha"]:
        if time.perf_counter() > deadline:
            break
        page.wait_for_timeout(200)
    frames = page.evaluate("() => window.__bench.frames.length") - n_before
    readouts = page.evaluate(READOUTS_JS)
    numbers = [v for v in state["controls"].values() if not isinstance(v, str)]
    readouts_agree = len(readouts) == len(numbers) and all(
        np.isclose(_number(r), float(v), rtol=1e-2) for r, v in zip(readouts, numbers, strict=True)
    )
    choices = [v for v in state["controls"].values() if isinstance(v, str)]
    # ipywidgets 8 shows an option's spaces as no-break spaces
    page_choices = [c.replace("\xa0", " ") for c in page.evaluate(CHOICES_JS) if c is not None]
    checks = {
        "page_shows_kernel_image": shown == state["sha"],
        "image_is_for_controls": state["idle"] and state["shown"] == state["controls"],
        "controls_match_readouts": readouts_agree and page_choices == choices,
    }
    seen = {"page_readouts": readouts + page_choices, "kernel_controls": state["controls"]}
    return {
        "moves": moves,
        "frames": frames,
        "final_frame_correct": all(checks.values()),
        **checks,
        **({} if all(checks.values()) else seen),
    }


def _number(readout: str) -> float:
    """A slider's readout as a number (ipywidgets 8 writes minus as U+2212)."""
    return float(readout.strip().replace("\u2212", "-"))


def summarise(results: list[dict]) -> bool:
    print(
        f"  {'chapter':<24} {'presses':>7} {'median ms':>9} {'p95 ms':>7} {'drags':>5} "
        f"{'frames/moves':>12} {'final ok':>8} {'errors':>6}  result"
    )
    ok_all = True
    for r in results:
        ms = np.array(r["keyboard_ms"] + r.get("choice_ms", []))
        med = float(np.median(ms)) if ms.size else float("nan")
        p95 = float(np.percentile(ms, 95)) if ms.size else float("nan")
        drags = r["drags"]
        final = all(d["final_frame_correct"] for d in drags) and bool(drags)
        fm = ", ".join(f"{d['frames']}/{d['moves']}" for d in drags)
        ok = (
            ms.size > 0
            and med <= 100
            and p95 <= 200
            and final
            and not r["console_errors"]
            and "error" not in r
        )
        ok_all &= ok
        r.update(median_ms=med, p95_ms=p95, ok=ok)
        print(
            f"  {r['chapter']:<24} {ms.size:>7} {med:>9.0f} {p95:>7.0f} {len(drags):>5} "
            f"{fm:>12} {str(final):>8} {len(r['console_errors']):>6}  "
            f"{'pass' if ok else 'FAIL'} {r.get('error', '')}"
        )
    print("  where a key press's time goes (median ms): to the kernel, queued behind a frame,")
    print("  drawn (update + PNG); message to the page, PNG decode, paint")
    for r in results:
        legs = r.get("legs_ms") or {}
        later = r.get("next_frame_ms") or [float("nan")]
        print(
            f"  {r['chapter']:<24} "
            + "  ".join(f"{k} {v}" for k, v in legs.items())
            + f"  (to the next frame: {np.median(later):.0f})"
        )
    return ok_all


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chapters", default="", help="e.g. 01,05 (default: all)")
    parser.add_argument("--presses", type=int, default=8, help="arrow presses each way")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    spec = importlib.util.spec_from_file_location(
        "add_static_demos", ROOT / "scripts" / "add_static_demos.py"
    )
    static = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(static)
    wanted = [c for c in args.chapters.split(",") if c]
    demos = {
        stem: var
        for stem, var in main_demos(static.DEMOS).items()
        if not wanted or stem[:2] in wanted
    }
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lab"
        shutil.copytree(ROOT / "notebooks", root / "notebooks")
        port = free_port()
        runtime = Path(tmp) / "runtime"
        log = open(Path(tmp) / "lab.log", "w")  # noqa: SIM115 (closed in the finally below)
        lab = start_lab(root, port, runtime, log)
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"),
                    executable_path=args.chromium,
                    args=CHROMIUM_ARGS,
                    headless=True,
                    viewport={"width": 1400, "height": 1000},
                )
                base = f"http://127.0.0.1:{port}/"
                for stem, var in demos.items():
                    print(f"  {stem} ...", flush=True)
                    results.append(bench_chapter(context, base, stem, var, args.presses, runtime))
                    r = results[-1]  # a line per chapter as it finishes (a run takes long)
                    ms = r["keyboard_ms"] + r.get("choice_ms", []) or [float("nan")]
                    wrong = [d for d in r["drags"] if "page_readouts" in d]  # what differed
                    print(
                        f"    median {np.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
                        f"final frame {[d['final_frame_correct'] for d in r['drags']]} "
                        f"{[(d['page_readouts'], d['kernel_controls']) for d in wrong]}, "
                        f"{len(r['console_errors'])} console errors, legs {r.get('legs_ms')} "
                        f"{r.get('error', '')}",
                        flush=True,
                    )
                context.close()
        finally:
            lab.terminate()
            try:
                lab.wait(timeout=20)
            except subprocess.TimeoutExpired:
                lab.kill()
            log.close()
            if any("error" in r for r in results):  # the server's side of what went wrong
                tail = (Path(tmp) / "lab.log").read_text().splitlines()[-15:]
                print("  JupyterLab's log ends:\n    " + "\n    ".join(tail))
    print(f"learnlr browser benchmark: JupyterLab + Chromium, {os.cpu_count()} cores")
    ok = summarise(results)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "browser.json").write_text(
        json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "chapters": results}, indent=1)
    )
    print(
        f"targets (median <= 100 ms, p95 <= 200 ms, final frame right, no console errors): "
        f"{'all met' if ok else 'NOT all met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
