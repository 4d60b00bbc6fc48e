"""Interactive demos: sliders that re-run an optimizer and redraw (ipywidgets + matplotlib).

A demo is defined once, as a :class:`Demo`: a set of controls and a function from their
values to a drawn figure. The same definition gives

* ``demo.widget()``: live ipywidgets controls in a notebook (needs a kernel);
* ``demo.figure(**values)``: the static figure for given values, for the rendered book;
* ``demo.time_update(**values)``: how long one slider move takes (recompute + redraw).

The figure is built once; each update only changes the data of existing artists and
re-renders, which keeps a slider move well under 100 ms. Works with ipywidgets 7.6+ and 8.
"""

from __future__ import annotations

import collections
import hashlib
import io
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

from learnlr import optimizers as _optimizers
from learnlr._checks import check_make_opt, check_start_loss
from learnlr.problems import Problem
from learnlr.trace import run
from learnlr.viz.plots import COLORS, contour

__all__ = [
    "Slider",
    "LogSlider",
    "Choice",
    "Demo",
    "lr_demo",
    "optimizer_demo",
    "race_demo",
    "escape_demo",
    "basin_demo",
]


@dataclass(frozen=True)
class Slider:
    """A linear slider from ``min`` to ``max``."""

    min: float
    max: float
    step: float
    value: float
    description: str = ""

    def make(self, name):
        import ipywidgets as w

        cls = (
            w.IntSlider
            if all(float(v).is_integer() for v in (self.min, self.max, self.step, self.value))
            else w.FloatSlider
        )
        kwargs = {} if cls is w.IntSlider else {"readout_format": ".3g"}
        return cls(
            min=self.min,
            max=self.max,
            step=self.step,
            value=self.value,
            description=self.description or name,
            continuous_update=True,
            **kwargs,
        )

    def grid(self, n=None):
        return np.arange(self.min, self.max + self.step / 2, self.step)

    def near(self, value, direction: int):
        """The value ``direction`` steps from ``value`` (an arrow key's), or None past an end."""
        v = value + direction * self.step
        if not self.min - self.step / 2 <= v <= self.max + self.step / 2:
            return None
        return int(round(v)) if isinstance(value, int) else float(v)


@dataclass(frozen=True)
class LogSlider:
    """A slider over powers of ten, from ``10**min_exp`` to ``10**max_exp``."""

    min_exp: float
    max_exp: float
    value: float
    step: float = 0.05
    description: str = ""

    def make(self, name):
        import ipywidgets as w

        return w.FloatLogSlider(
            min=self.min_exp,
            max=self.max_exp,
            step=self.step,
            value=self.value,
            base=10,
            description=self.description or name,
            readout_format=".3g",
            continuous_update=True,
        )

    def grid(self, n=None):
        return 10.0 ** np.arange(self.min_exp, self.max_exp + self.step / 2, self.step)

    def near(self, value, direction: int):
        """The value ``direction`` steps from ``value`` (an arrow key's), or None past an end."""
        e = np.log10(value) + direction * self.step
        if not self.min_exp - self.step / 2 <= e <= self.max_exp + self.step / 2:
            return None
        return float(10.0**e)


@dataclass(frozen=True)
class Choice:
    """A dropdown over ``options`` (a list of strings)."""

    options: tuple
    value: str
    description: str = ""

    def make(self, name):
        import ipywidgets as w

        return w.Dropdown(
            options=list(self.options), value=self.value, description=self.description or name
        )

    def grid(self, n=None):
        return list(self.options)

    def near(self, value, direction: int):
        """The option ``direction`` places from ``value``, or None past an end."""
        i = list(self.options).index(value) + direction
        return self.options[i] if 0 <= i < len(self.options) else None


class Demo:
    """Controls plus a figure that an ``update`` function redraws.

    Args:
        controls: ``{name: Slider | LogSlider | Choice}``.
        setup: ``setup() -> (fig, handles)`` builds the figure once (contours, empty lines).
        update: ``update(handles, **values)`` recomputes and changes the artists' data.
        title: shown above the controls.
    """

    def __init__(self, controls: dict, setup: Callable, update: Callable, title: str = ""):
        self.controls = controls
        self._setup = setup
        self._update = update
        self.title = title
        self._fig = None
        self._handles = None
        # the figure is drawn by the live widget's worker thread and by the caller's
        # (figure, time_update): one at a time, and one demo at a time (matplotlib and
        # the FreeType library it shares between threads are not made for concurrent use)
        self._lock = _DRAWING
        # the last frames drawn (PNG bytes), by control values (see _key)
        self._frames = _Recent(lambda values: self._frame(values), size=64, key=self._key)
        self._ahead: list = []  # values the live widget may draw ahead, in order
        self._hold = False  # no drawing ahead while a caller uses the figure

    def defaults(self) -> dict:
        return {name: c.value for name, c in self.controls.items()}

    def _ensure(self):
        if self._fig is None:
            self._fig, self._handles = self._setup()
            self._base_dpi = self._fig.dpi
            plt.close(self._fig)  # shown explicitly, never by the inline backend
            self._background = None
            self._changed_axes = []
        return self._fig, self._handles

    def figure(self, **values):
        """The figure for ``values`` (defaults for any not given): the static version."""
        self._check_values("Demo.figure", values)
        self._hold = True  # the live widget draws no frame ahead until its controls move
        with self._lock:
            fig = self._change(values)
            if fig.dpi != self._base_dpi:  # render_png draws at a lower resolution
                fig.set_dpi(self._base_dpi)
        return fig

    def update(self, **values):
        """Recompute for ``values`` and change the figure's artists (what a slider move does)."""
        self._check_values("Demo.update", values)
        with self._lock:
            return self._change(values)

    def _check_values(self, func, values):
        unknown = set(values) - set(self.controls)
        if unknown:
            raise TypeError(
                f"{func}: unknown control(s) {sorted(unknown)}; "
                f"the controls are {sorted(self.controls)}"
            )

    def _change(self, values):
        fig, handles = self._ensure()
        changed = self._update(handles, **{**self.defaults(), **values})
        if changed is True:
            self._background = None  # the next render redraws everything
        elif changed:  # a background for the new limits is needed
            self._changed_axes += [ax for ax in changed if ax not in self._changed_axes]
        return fig

    def render_png(self, dpi=72) -> bytes:
        """The current figure as PNG bytes.

        Artists listed in ``handles["animated"]`` are redrawn over a cached background
        (blitting); everything else is drawn once. ``update`` returns ``True`` when the
        whole background must be redrawn, or a list of the axes whose limits changed, or
        nothing. The static part of the figure then depends only on the resolution and the
        axes' limits, so backgrounds are kept per resolution and set of limits: a slider
        dragged back over ranges it has already shown costs no redraw at all, nor does the
        first frame after :meth:`figure` drew the figure at its own resolution. For limits
        not seen yet only the axes whose limits changed are drawn again, over the
        background (the contour plot beside them is not).
        """
        with self._lock:
            return self._render(dpi)

    def _render(self, dpi):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig, handles = self._ensure()
        animated = handles.get("animated", []) if isinstance(handles, dict) else []
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        if fig.dpi != dpi:
            fig.set_dpi(dpi)
        canvas = fig.canvas
        _cache_glyphs(canvas.get_renderer())  # the renderer every draw below uses
        if not animated:
            canvas.draw()
        else:
            if self._background is None:
                self._backgrounds = {}  # the static part changed: start afresh
                self._draw_background(canvas, animated)
                fig.set_layout_engine("none")  # keep the layout found by the first draw
            elif self._changed_axes or self._background_dpi != fig.dpi:
                limits = self._limits()
                if limits in self._backgrounds:
                    self._background, extents = self._backgrounds[limits]
                    self._extents = dict(extents)
                elif self._background_dpi != fig.dpi:  # e.g. after figure(): at 72 dpi again
                    self._draw_background(canvas, animated)
                else:
                    self._redraw_axes(canvas, animated, self._changed_axes)
            self._changed_axes = []
            canvas.restore_region(self._background)
            renderer = canvas.get_renderer()
            for a in animated:
                a.draw(renderer)
        return _png(np.asarray(canvas.buffer_rgba())[..., :3])

    def _limits(self):
        """What a kept background depends on: the resolution and every axes' limits."""
        return (self._fig.dpi,) + tuple(
            (ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale())
            for ax in self._fig.axes
        )

    def _draw_background(self, canvas, animated):
        """Draw everything but the animated artists, and keep it for these axes limits."""
        for a in animated:
            a.set_animated(True)
        canvas.draw()
        for a in animated:
            a.set_animated(False)
        renderer = canvas.get_renderer()
        self._extents = {ax: ax.get_tightbbox(renderer) for ax in self._fig.axes}
        self._keep_background(canvas)

    def _redraw_axes(self, canvas, animated, axes):
        """Draw again only ``axes`` (their limits changed) over the current background.

        The region each one covers (its tick labels included), before and after the
        change, is filled with the figure's colour and the axes drawn into it, as a full
        draw would. Axes whose region touches one of those are drawn again too (a pixel
        column can hold the edges of two), so the result is the full draw's, pixel for
        pixel; the contour plot beside a loss curve is usually left alone.
        """
        from matplotlib.patches import Rectangle
        from matplotlib.transforms import Bbox

        fig = self._fig
        renderer = canvas.get_renderer()
        canvas.restore_region(self._background)
        for a in animated:
            a.set_animated(True)
        try:
            extent = {}
            for ax in fig.axes:
                old = self._extents.get(ax)
                # an axes whose limits did not change covers the region it covered (finding
                # a tight box lays out every tick label: half the cost of a redraw)
                new = old if ax not in axes and old is not None else ax.get_tightbbox(renderer)
                self._extents[ax] = new
                box = Bbox.union([b for b in (old, new) if b is not None])
                x0, y0 = np.floor([box.x0, box.y0]) - 1
                x1, y1 = np.ceil([box.x1, box.y1]) + 1
                extent[ax] = Bbox([[max(x0, 0), max(y0, 0)], [min(x1, fig.bbox.x1), y1]])
            redraw = [ax for ax in fig.axes if ax in axes]
            grown = True
            while grown:  # add the axes whose region overlaps one being redrawn
                near = [
                    ax
                    for ax in fig.axes
                    if ax not in redraw and any(extent[ax].overlaps(extent[r]) for r in redraw)
                ]
                redraw += near
                grown = bool(near)
            redraw = [ax for ax in fig.axes if ax in redraw]  # the figure's drawing order
            for ax in redraw:
                box = extent[ax]
                blank = Rectangle(
                    (box.x0, box.y0),
                    box.width,
                    min(box.y1, fig.bbox.y1) - box.y0,
                    transform=None,
                    facecolor=fig.get_facecolor(),
                    edgecolor="none",
                    antialiased=False,
                )
                blank.set_figure(fig)
                blank.draw(renderer)
            for ax in redraw:
                ax.draw(renderer)
            self.redrawn_axes = len(redraw)
        finally:
            for a in animated:
                a.set_animated(False)
        self._keep_background(canvas)

    def _keep_background(self, canvas):
        self._background = canvas.copy_from_bbox(self._fig.bbox)
        self._background_dpi = self._fig.dpi
        if len(self._backgrounds) >= 16:  # about 1 MB each at 72 dpi
            self._backgrounds.pop(next(iter(self._backgrounds)))
        # the regions the axes cover in this background, for the next partial redraw
        self._backgrounds[self._limits()] = (self._background, dict(self._extents))

    def time_update(self, repeats=5, **values) -> float:
        """Median seconds for one control change: recompute, redraw and render to PNG."""
        times = []
        self._hold = True
        with self._lock:
            for _ in range(repeats):
                t0 = time.perf_counter()
                self.update(**values)
                self.render_png()
                times.append(time.perf_counter() - t0)
        return float(np.median(times))

    def widget(self, coalesce: bool = True):
        """Live controls; each change recomputes and redraws the figure below them.

        The figure is an ``ipywidgets.Image`` whose PNG bytes are replaced on each change:
        one binary message per frame, not an Output widget's clear-and-display messages
        with the PNG in base64. With ``coalesce`` (the default) frames are drawn on a worker
        thread from the newest values only: values that arrive while a frame is being drawn
        are skipped, except the last, so a fast drag never queues stale frames and the
        figure shown when the drag ends is the final value's. ``coalesce=False`` draws every
        change in the event handler, in order.

        With ``coalesce``, once a frame is shown and no change is waiting, the worker draws
        ahead the frames a reader is most likely to ask for next: one and two arrow-key
        steps further in the direction the control last moved (and, before any control has
        moved, one step either way on each control). A change to one of those
        values, or back to one shown before, is then answered with the frame already
        drawn. The last 64 frames are kept (about 3 MB); values equal to 10 significant
        digits share a frame (a slider's value computed in the browser can differ from
        Python's in the last bit). Calling :meth:`figure` or
        :meth:`time_update` stops the drawing ahead until a control moves again.

        After each frame, ``demo.shown`` holds the control values the figure on display was
        drawn for, and ``demo.frame_times`` ends with ``(received, started, sent)``: when
        the change reached the kernel, when its drawing began and when its PNG was handed
        to the widget (``time.time()`` seconds; for benchmarks).
        """
        import ipywidgets as w

        if not isinstance(coalesce, bool):
            raise TypeError(f"Demo.widget: coalesce must be True or False, got {coalesce!r}")
        ctrls = {name: c.make(name) for name, c in self.controls.items()}
        image = w.Image(value=self._cached_frame(self.defaults()), format="png")
        self.shown = self.defaults()
        self._image, self._ctrls = image, ctrls  # the newest view, for benchmarks
        self.frame_times = collections.deque(maxlen=1000)

        def show(job):
            values, received = job
            started = time.time()
            image.value = self._cached_frame(values)
            self._ahead = self._likely_next(values, self.shown)
            self.shown = values
            self.frame_times.append((received, started, time.time()))

        _hold_during_cells()
        self._latest = _Latest(show, spare=self._draw_ahead) if coalesce else None
        if self._latest is not None:  # before the first change: one step each way
            self._ahead = self._first_ahead(self.shown)
            self._latest.prepare()

        def on_change(change):
            job = ({name: c.value for name, c in ctrls.items()}, time.time())
            self._hold = False
            if self._latest is None:
                show(job)
            else:
                self._latest.submit(job)

        for c in ctrls.values():
            c.observe(on_change, names="value")
        header = [w.HTML(f"<b>{self.title}</b>")] if self.title else []
        return w.VBox(
            header + [w.HBox(list(ctrls.values()), layout=w.Layout(flex_flow="row wrap")), image]
        )

    def _frame(self, values) -> bytes:
        with self._lock:
            self.update(**values)
            return self.render_png()

    @staticmethod
    def _key(values: dict) -> tuple:
        return tuple(
            (n, float(f"{v:.10g}") if isinstance(v, float) else v) for n, v in values.items()
        )

    def _cached_frame(self, values) -> bytes:
        """The PNG for ``values``: drawn ahead already, or drawn now (and kept)."""
        with self._lock:  # the cache too is shared by the worker and the caller
            return self._frames(values)

    def _likely_next(self, values: dict, before: dict) -> list:
        """The values a reader may ask for after ``values`` (reached from ``before``).

        One and two arrow-key steps further the way the control moved: going back needs
        nothing, since the frames just shown are kept. Drawing more would keep the worker
        busy when the next value arrives, and its drawing holds Python's lock that the
        kernel needs to receive that value and send the frame.
        """
        moved = [n for n in values if values[n] != before.get(n)]
        if not moved:
            return []
        name, spec = moved[0], self.controls[moved[0]]
        if isinstance(spec, Choice):
            way = 1 if spec.options.index(values[name]) > spec.options.index(before[name]) else -1
        else:
            way = 1 if values[name] > before[name] else -1
        ahead = []
        for steps in (way, 2 * way):
            v = spec.near(values[name], steps)
            if v is not None:
                ahead.append({**values, name: v})
        return ahead

    def _first_ahead(self, values: dict) -> list:
        """The values one step away from ``values`` on each control, either way: what a
        reader may ask for first, before any control has moved."""
        ahead = []
        for name, spec in self.controls.items():
            for steps in (1, -1):
                v = spec.near(values[name], steps)
                if v is not None:
                    ahead.append({**values, name: v})
        return ahead

    def _draw_ahead(self) -> bool:
        """Draw the next likely frame not drawn yet; False when there is none (or on hold)."""
        while self._ahead and not self._hold:
            values = self._ahead.pop(0)
            if self._key(values) not in self._frames:
                self._cached_frame(values)
                return True
        return False

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until the live widget has drawn the last change and the frames ahead of it.

        False on timeout. The figure is then free for the caller to read.
        """
        latest = getattr(self, "_latest", None)
        return True if latest is None else latest.wait(timeout)

    # ---- the kernel-free version, for the rendered book ----------------------------------
    def to_html(self, grid: dict | None = None, dpi: int = 72, max_frames: int = 400) -> str:
        """A self-contained HTML figure whose controls work without Python.

        Every combination of control values in ``grid`` (default: each control's own
        grid, see ``Slider.grid``) is computed now; the page keeps the figure's static
        part as one image and the moving artists (lines, markers, texts, and images such as a
        basin map, whose colours are stored as a palette and one index per cell) as data, and a
        few lines of JavaScript draw the frame a control selects on a canvas over the image.
        Without JavaScript the page shows the figure for the default values.

        The axes limits are fixed to the union of the limits over all frames, so one
        background serves every frame.
        """
        import html
        import itertools
        import json

        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig, handles = self._setup()  # a fresh figure: the export never depends on history
        plt.close(fig)
        animated = handles.get("animated", []) if isinstance(handles, dict) else []
        if not animated:
            raise ValueError(
                "Demo.to_html: the demo's setup must list its moving artists in handles['animated']"
            )
        names = list(self.controls)
        if grid is None:
            # every option of a dropdown; the frames left are shared by the sliders
            choices = [n for n in names if isinstance(self.controls[n], Choice)]
            sliders = [n for n in names if n not in choices]
            n_choice = int(np.prod([len(self.controls[n].options) for n in choices]))
            budget = max_frames // max(n_choice, 1)
            per_slider = max(2, int(budget ** (1 / max(len(sliders), 1))) - 1)
            grid = {n: list(self.controls[n].options) for n in choices}
            for n in sliders:
                grid[n] = _thin(self.controls[n].grid(), per_slider, self.controls[n].value)
        unknown = set(grid) - set(names)
        if unknown:
            raise TypeError(
                f"Demo.to_html: unknown control(s) {sorted(unknown)} in grid; "
                f"the controls are {names}"
            )
        axes_values = [list(grid.get(n, [self.controls[n].value])) for n in names]
        n_frames = int(np.prod([len(v) for v in axes_values]))
        if n_frames > max_frames:
            raise ValueError(
                f"Demo.to_html: {n_frames} frames exceed max_frames={max_frames};"
                f" pass a coarser grid"
            )
        defaults = self.defaults()
        default_index = [
            int(np.argmin([_distance(v, defaults[n]) for v in vals]))
            for n, vals in zip(names, axes_values, strict=True)
        ]
        # pass 1: compute every frame, keep the artists' data and the axes' limits
        frames_data, limits = [], {}
        for combo in itertools.product(*axes_values):
            self._update(handles, **dict(zip(names, combo, strict=True)))
            for ax in fig.axes:
                (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
                lo = limits.setdefault(ax, [x0, x1, y0, y1])
                lo[:] = [min(lo[0], x0), max(lo[1], x1), min(lo[2], y0), max(lo[3], y1)]
            frames_data.append([_artist_data(a) for a in animated])
        for ax, (x0, x1, y0, y1) in limits.items():
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
        # the background: everything but the moving artists, drawn once
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        for a in animated:
            a.set_animated(True)
        fig.canvas.draw()
        background = _png_base64(fig)
        for a in animated:
            a.set_animated(False)
        width, height = fig.canvas.get_width_height()
        # pass 2: data coordinates -> pixels with the final transforms
        frames = [
            [_to_pixels(a, d, height) for a, d in zip(animated, fd, strict=True)]
            for fd in frames_data
        ]
        styles = [_artist_style(a, dpi, height) for a in animated]
        # the no-JavaScript fallback: the default frame drawn in full
        self._update(handles, **{n: axes_values[i][default_index[i]] for i, n in enumerate(names)})
        for ax, (x0, x1, y0, y1) in limits.items():
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
        fig.canvas.draw()
        fallback = _png_base64(fig)
        payload = {
            "names": names,
            "labels": [self.controls[n].description or n for n in names],
            "values": [[_label(v) for v in vals] for vals in axes_values],
            "start": default_index,
            "styles": styles,
            "frames": frames,
            "width": width,
            "height": height,
        }
        text = json.dumps(payload, separators=(",", ":"))
        uid = "lldemo" + hashlib.sha1(text.encode()).hexdigest()[:10]
        return _HTML_TEMPLATE.format(
            uid=uid,
            template=TEMPLATE_ID,
            title=html.escape(self.title),
            width=width,
            height=height,
            fallback=fallback,
            background=background,
            payload=text,
            cell_codes=_CELL_CODES,
        )


class _Latest:
    """Calls ``fn`` on a worker thread with the newest submitted value only.

    A value submitted while ``fn`` runs waits; if another arrives before ``fn`` is free,
    the waiting one is dropped (counted in ``skipped``). The last value submitted is
    always the last one ``fn`` sees. One worker thread serves every value and then waits
    for the next: matplotlib keeps its fonts per thread, so a new thread per value would
    load them again for every frame.

    ``spare``, if given, is called on the same thread whenever nothing is waiting, one
    piece of work per call after a pause of ``pause`` seconds, until it returns False; a
    newly submitted value is served before the next piece. It is for work that may help
    the next value (drawing the frames a reader is likely to ask for next); its errors are
    dropped, since it only ever prepares what ``fn`` would otherwise compute itself.
    """

    #: seconds to wait before each piece of spare work
    pause = 0.03

    def __init__(self, fn, spare=None):
        self._fn, self._spare_fn = fn, spare
        self._wake = threading.Condition()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = None
        self._has_pending = False
        self._spare = False  # spare work may be done
        self._thread = None
        self.skipped = 0
        self.done = 0
        self.error = None

    def submit(self, value):
        with self._wake:
            if self._has_pending:
                self.skipped += 1
            self._pending, self._has_pending = value, True
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, daemon=True)
                self._thread.start()
            self._wake.notify()

    def _serve(self):
        while True:
            with self._wake:
                while not self._has_pending and not self._spare:
                    self._idle.set()
                    self._wake.wait()
                if not self._has_pending:
                    # a pause first, without the GIL, so that the frame just handed over
                    # leaves the kernel (the I/O thread sends it) before spare work runs; a
                    # new value ends the pause
                    self._wake.wait(self.pause)
                job = self._has_pending
                if job:
                    value, self._pending, self._has_pending = self._pending, None, False
            if job:
                try:
                    self._fn(value)
                except Exception as err:  # shown by wait(), never lost in the thread
                    self.error = err
                self.done += 1
                more = self._spare_fn is not None
            else:
                try:
                    more = bool(self._spare_fn())
                except Exception:
                    more = False
            with self._wake:
                if not self._has_pending:
                    self._spare = more

    def prepare(self):
        """Start the spare work now, before any value is submitted (a view just shown)."""
        if self._spare_fn is None:
            return
        with self._wake:
            self._spare = True
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, daemon=True)
                self._thread.start()
            self._wake.notify()

    def wait(self, timeout):
        """Wait until the last value is served and the spare work done; False on timeout."""
        finished = self._idle.wait(timeout)
        if self.error is not None:
            err, self.error = self.error, None
            raise err
        return finished


class _Recent:
    """``fn`` with its last ``size`` results kept, by argument values.

    A reader drags a slider back over values just shown, or presses an arrow key and then
    the opposite one: the runs (and the frames) behind those values are taken from here
    instead of being computed again. ``key`` turns the arguments into the lookup key (default:
    the arguments themselves, which must then be hashable). ``fn``'s results must not be
    changed by whoever uses them.
    """

    def __init__(self, fn: Callable, size: int = 256, key: Callable | None = None):
        self._fn, self._size = fn, size
        self._key = key if key is not None else (lambda *args: args)
        self._kept: collections.OrderedDict = collections.OrderedDict()

    def __call__(self, *args):
        key = self._key(*args)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        result = self._kept[key] = self._fn(*args)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return result

    def __contains__(self, key) -> bool:
        """Whether the result for ``key`` (a key as ``key`` makes it) is kept."""
        return key in self._kept

    def __len__(self) -> int:
        return len(self._kept)


#: Held while a demo's figure is updated or drawn: one figure at a time in the process.
#: In a kernel the main thread also holds it while a cell runs (see _hold_during_cells).
_DRAWING = threading.RLock()
_CELLS = {"held": 0}  # how many times the running cell's thread holds _DRAWING


def _hold_during_cells() -> None:
    """In an IPython kernel: no frame is drawn ahead while a cell runs.

    A live widget draws its likely next frames on a worker thread. matplotlib is not made
    for two threads drawing at once: drawn beside a cell's own figure (a plot, or another
    demo's static copy), a first draw's layout came out wrong. So the kernel's thread
    takes the drawing lock when a cell starts and lets go when the cell has finished and
    its figures have been shown (IPython's ``pre_execute`` and ``post_execute`` events,
    registered after the inline backend's own). The worker draws between cells, where
    the reader's slider moves arrive anyway. The cell running now holds it too.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets needs IPython
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_learnlr_holds_drawing", False):
        return

    def cell_starts(*_):
        _DRAWING.acquire()
        _CELLS["held"] += 1

    def cell_ends(*_):
        if _CELLS["held"]:  # (a cell that failed before it ran has not taken it)
            _CELLS["held"] -= 1
            _DRAWING.release()

    shell.events.register("pre_execute", cell_starts)
    shell.events.register("post_execute", cell_ends)
    shell._learnlr_holds_drawing = True
    cell_starts()


#: Rendered glyphs, shared by every demo: (font file, size, dpi, glyph, hinting, mode, the
#: position's sub-pixel part) -> (coverage bitmap, its offset from the whole-pixel position).
_GLYPHS: dict = {}


def _cache_glyphs(renderer) -> None:
    """Let ``renderer`` (a matplotlib ``RendererAgg``) reuse glyphs it has rendered before.

    A demo's titles and notes change on every frame, and matplotlib (3.11) asks FreeType
    to render each of their glyphs again each time: the texts cost more than the lines.
    A glyph's bitmap depends only on the font, size, glyph, hinting and the sub-pixel part
    of its position (a whole-pixel move shifts the bitmap), so each is rendered once and
    later drawn from the cache with Agg's own call: the pixels are the ones matplotlib
    draws (tests/test_widgets.py compares them). Rotated or slanted text, and matplotlib
    versions without these internals, are drawn as usual.
    """
    from matplotlib import ft2font

    draw = getattr(type(renderer), "_draw_text_glyphs_and_boxes", None)
    if (
        draw is None
        or getattr(renderer, "_learnlr_glyphs", False)
        or not hasattr(ft2font.FT2Font, "_render_glyph")
        or not hasattr(ft2font.FT2Font, "_set_transform")
        or not hasattr(ft2font, "RenderMode")
    ):
        return
    from matplotlib.backends.backend_agg import get_hinting_flag

    identity = np.array([[0x10000, 0], [0, 0x10000]])

    def cached(gc, x, y, angle, glyphs, boxes):
        glyphs = list(glyphs)
        if angle != 0 or any(g[3] != 0 or g[4] != 1 for g in glyphs):
            return draw(renderer, gc, x, y, angle, glyphs, boxes)
        flags = get_hinting_flag()
        aa = gc.get_antialiased()
        mode = ft2font.RenderMode.NORMAL if aa else ft2font.RenderMode.MONO
        height = int(renderer.height)
        placed = []  # every glyph's bitmap first: nothing is drawn if one cannot be made
        for font, size, index, _slant, _extend, dx, dy in glyphs:
            # the position in FreeType's 26.6 fixed point, y upwards, as matplotlib sets it
            px, py = round(0x40 * (x + dx)), round(0x40 * (renderer.height - y + dy))
            key = (font.fname, size, renderer.dpi, index, flags, aa, px & 63, py & 63)
            hit = _GLYPHS.get(key)
            if hit is None:
                try:
                    font.set_size(size, renderer.dpi)
                    font._set_transform(identity, [px & 63, py & 63])
                    bitmap = font._render_glyph(index, flags, mode)
                except RuntimeError:  # FreeType refused: matplotlib's own path draws it all
                    return draw(renderer, gc, x, y, angle, glyphs, boxes)
                buffer = np.array(bitmap.buffer, dtype=np.uint8)
                if not aa:
                    buffer *= 0xFF
                if len(_GLYPHS) > 20_000:
                    _GLYPHS.clear()
                hit = _GLYPHS[key] = (buffer, bitmap.left, bitmap.top)
            placed.append((hit, px, py))
        for (buffer, left, top), px, py in placed:
            top += py >> 6
            renderer._renderer.draw_text_image(
                buffer, left + (px >> 6), height - top + buffer.shape[0], 0, gc
            )
        if boxes:
            draw(renderer, gc, x, y, angle, [], boxes)

    renderer._draw_text_glyphs_and_boxes = cached
    renderer._learnlr_glyphs = True


def _png(rgb: np.ndarray) -> bytes:
    """An RGB image (height x width x 3, uint8) as PNG bytes, quickly.

    Rows unfiltered and deflated at zlib's fastest level: a plot's large flat areas
    compress about as well as with Pillow's per-row filter search, at half its time.
    """
    height, width, _ = rgb.shape
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = 0  # filter type 0 (None) for every row
    rows[:, 1:] = rgb.reshape(height, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def _thin(values, n, keep):
    """At most ``n`` of ``values``, evenly spread, always including ``keep``'s nearest."""
    values = list(values)
    if len(values) <= n:
        return values
    idx = set(np.linspace(0, len(values) - 1, n).round().astype(int).tolist())
    idx.add(int(np.argmin([_distance(v, keep) for v in values])))
    return [values[i] for i in sorted(idx)]


def _distance(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return 0.0 if a == b else 1.0
    return abs(np.log(abs(a) + 1e-300) - np.log(abs(b) + 1e-300)) if a > 0 and b > 0 else abs(a - b)


def _label(v):
    return v if isinstance(v, str) else float(f"{float(v):.4g}")


def _png_base64(fig) -> str:
    import base64

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3]).save(
        buf, format="png", optimize=True
    )
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _artist_data(artist):
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    if isinstance(artist, Line2D):
        return (
            np.asarray(artist.get_xdata(), dtype=float).copy(),
            np.asarray(artist.get_ydata(), dtype=float).copy(),
        )
    if isinstance(artist, Text):
        return artist.get_text()
    if isinstance(artist, AxesImage):
        return _image_cells(artist)
    raise TypeError(
        f"Demo.to_html: cannot export a moving {type(artist).__name__};"
        " use lines, texts and images (imshow)"
    )


_CELL_CODES = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _image_cells(artist) -> dict:
    """An image's colours as a palette and one palette index (a character) per cell.

    Rows run from the top of the drawn image down, whatever the image's ``origin``; the
    extent is kept in data coordinates until the final transforms are known.
    """
    rgba = np.asarray(artist.to_rgba(artist.get_array(), bytes=True))
    if artist.origin == "lower":
        rgba = rgba[::-1]
    ny, nx = rgba.shape[:2]
    colors, index = np.unique(rgba.reshape(-1, 4), axis=0, return_inverse=True)
    if len(colors) > len(_CELL_CODES):
        raise ValueError(
            f"Demo.to_html: a moving image may use at most {len(_CELL_CODES)} colours,"
            f" this one uses {len(colors)}; use a ListedColormap"
        )
    cells = "".join(_CELL_CODES[i] for i in np.ravel(index))
    return {
        "extent": [float(v) for v in artist.get_extent()],
        "nx": nx,
        "ny": ny,
        "palette": colors.tolist(),
        "cells": cells,
    }


def _to_pixels(artist, data, height):
    """Line data as a flat list of pixel coordinates (None breaks the line), or the text.

    An image becomes its box in pixels (left, top, width, height) with its cells."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        x0, x1, y0, y1 = data["extent"]
        (px0, py0), (px1, py1) = artist.axes.transData.transform([[x0, y0], [x1, y1]])
        box = [min(px0, px1), height - max(py0, py1), abs(px1 - px0), abs(py1 - py0)]
        keep = ("nx", "ny", "palette", "cells")
        return {"box": [round(float(v), 1) for v in box], **{k: data[k] for k in keep}}
    x, y = data
    pts = artist.get_transform().transform(np.column_stack([x, y])) if x.size else np.zeros((0, 2))
    ok = np.all(np.isfinite(pts), axis=1)
    pts = np.clip(pts, -5000, 5000)
    out, last = [], None
    for (px, py), good in zip(pts, ok, strict=True):
        if not good:
            if out and out[-1] is not None:
                out.append(None)
            last = None
            continue
        p = (round(float(px), 1), round(float(height - py), 1))
        if last is not None and abs(p[0] - last[0]) < 0.4 and abs(p[1] - last[1]) < 0.4:
            continue
        out.extend(p)
        last = p
    return out


def _artist_style(artist, dpi, height):
    from matplotlib.colors import to_hex
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D

    scale = dpi / 72
    if isinstance(artist, AxesImage):
        bbox = artist.axes.bbox
        return {"kind": "image", "clip": [bbox.x0, height - bbox.y1, bbox.width, bbox.height]}
    if isinstance(artist, Line2D):
        bbox = artist.axes.bbox if artist.axes is not None else None
        clip = None if bbox is None else [bbox.x0, height - bbox.y1, bbox.width, bbox.height]
        ls = artist.get_linestyle()
        return {
            "kind": "line",
            "color": to_hex(artist.get_color()),
            "lw": 0.0 if ls in ("None", "none", "") else artist.get_linewidth() * scale,
            "marker": artist.get_marker() not in (None, "None", "none", ""),
            "ms": artist.get_markersize() * scale / 2,
            "clip": clip,
        }
    x, y = artist.get_transform().transform(artist.get_position())
    return {
        "kind": "text",
        "color": to_hex(artist.get_color()),
        "size": artist.get_fontsize() * scale,
        "x": float(x),
        "y": float(height - y),
        "ha": artist.get_ha(),
        "va": artist.get_va(),
    }


_HTML_TEMPLATE = """<div class="learnlr-demo" id="{uid}" data-template="{template}"
 style="max-width:100%;overflow-x:auto">
<div class="learnlr-demo-controls" style="display:flex;flex-wrap:wrap;gap:0.3em 1.2em;
margin-bottom:0.4em;font-size:0.9em"><b>{title}</b></div>
<div style="position:relative;width:{width}px;height:{height}px">
<img class="learnlr-demo-figure" alt="{title}" width="{width}" height="{height}"
 src="data:image/png;base64,{fallback}" style="position:absolute;left:0;top:0">
<canvas width="{width}" height="{height}" role="img" aria-label="{title}"
 style="position:absolute;left:0;top:0"></canvas>
</div>
<script type="application/json" class="learnlr-demo-data">{payload}</script>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var d = JSON.parse(root.querySelector(".learnlr-demo-data").textContent);
  var img = root.querySelector("img"), canvas = root.querySelector("canvas");
  var ctx = canvas.getContext("2d"), idx = d.start.slice(), strides = [], s = 1;
  var title = canvas.getAttribute("aria-label");
  for (var i = d.names.length - 1; i >= 0; i--) {{ strides[i] = s; s *= d.values[i].length; }}
  var codes = "{cell_codes}", cellCanvas = document.createElement("canvas");
  function drawImage(st, v) {{  // one pixel per cell, scaled up without smoothing
    cellCanvas.width = v.nx; cellCanvas.height = v.ny;
    var cctx = cellCanvas.getContext("2d"), im = cctx.createImageData(v.nx, v.ny);
    for (var c = 0; c < v.cells.length; c++) {{
      var rgba = v.palette[codes.indexOf(v.cells.charAt(c))];
      for (var q = 0; q < 4; q++) im.data[4 * c + q] = rgba[q];
    }}
    cctx.putImageData(im, 0, 0);
    ctx.save();
    ctx.beginPath(); ctx.rect(st.clip[0], st.clip[1], st.clip[2], st.clip[3]); ctx.clip();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(cellCanvas, v.box[0], v.box[1], v.box[2], v.box[3]);
    ctx.restore();
  }}
  function draw() {{
    var t0 = performance.now(), f = 0;
    for (var i = 0; i < idx.length; i++) f += idx[i] * strides[i];
    var frame = d.frames[f];
    ctx.clearRect(0, 0, d.width, d.height);
    for (var a = 0; a < d.styles.length; a++) {{
      var st = d.styles[a], v = frame[a];
      if (st.kind === "image") {{ drawImage(st, v); continue; }}
      ctx.fillStyle = st.color; ctx.strokeStyle = st.color;
      if (st.kind === "text") {{
        ctx.font = st.size + "px sans-serif";
        ctx.textAlign = {{center: "center", left: "left", right: "right"}}[st.ha] || "left";
        ctx.textBaseline = {{top: "top", bottom: "bottom", center: "middle",
                            baseline: "alphabetic"}}[st.va] || "alphabetic";
        var lines = String(v).split("\\n"), lh = 1.2 * st.size;  // a text may have several lines
        var up = {{top: 0, center: (lines.length - 1) / 2}}[st.va];
        if (up === undefined) up = lines.length - 1;  // bottom, baseline: the last line at y
        for (var j = 0; j < lines.length; j++) ctx.fillText(lines[j], st.x, st.y + (j - up) * lh);
        continue;
      }}
      ctx.save();
      if (st.clip) {{ ctx.beginPath(); ctx.rect(st.clip[0], st.clip[1], st.clip[2], st.clip[3]);
                      ctx.clip(); }}
      ctx.lineWidth = st.lw; ctx.beginPath();
      var pen = false;
      for (var k = 0; k < v.length; ) {{
        if (v[k] === null) {{ pen = false; k += 1; continue; }}
        if (pen) ctx.lineTo(v[k], v[k + 1]); else ctx.moveTo(v[k], v[k + 1]);
        pen = true; k += 2;
      }}
      if (st.lw > 0) ctx.stroke();
      if (st.marker) {{
        for (var k = 0; k < v.length; ) {{
          if (v[k] === null) {{ k += 1; continue; }}
          ctx.beginPath(); ctx.arc(v[k], v[k + 1], st.ms, 0, 2 * Math.PI); ctx.fill(); k += 2;
        }}
      }}
      ctx.restore();
    }}
    root.setAttribute("data-frame", f);
    root.setAttribute("data-draw-ms", (performance.now() - t0).toFixed(2));
    canvas.setAttribute("aria-label", title + ": " + d.names.map(function (n, i) {{
      return d.labels[i] + " = " + d.values[i][idx[i]]; }}).join(", "));
  }}
  var bar = root.querySelector(".learnlr-demo-controls");
  d.names.forEach(function (name, i) {{
    if (d.values[i].length < 2) return;  // a control fixed in this export
    var label = document.createElement("label"), out = document.createElement("span");
    label.textContent = d.labels[i] + " ";
    var vals = d.values[i], input;
    if (typeof vals[0] === "string") {{
      input = document.createElement("select");
      vals.forEach(function (v, j) {{ var o = document.createElement("option");
        o.value = j; o.textContent = v; input.appendChild(o); }});
      input.value = idx[i];
    }} else {{
      input = document.createElement("input"); input.type = "range";
      input.min = 0; input.max = vals.length - 1; input.step = 1; input.value = idx[i];
      out.textContent = " " + vals[idx[i]];
      input.setAttribute("aria-valuetext", String(vals[idx[i]]));
    }}
    input.setAttribute("data-control", name);
    input.addEventListener("input", function () {{
      idx[i] = parseInt(input.value, 10);
      if (input.type === "range") {{
        out.textContent = " " + vals[idx[i]];
        input.setAttribute("aria-valuetext", String(vals[idx[i]]));
      }}
      draw();
    }});
    label.appendChild(input); label.appendChild(out); bar.appendChild(label);
  }});
  img.src = "data:image/png;base64,{background}";
  draw();
}})();
</script>
</div>"""


# --------------------------------------------------------------------------------------
# Ready-made demos
# --------------------------------------------------------------------------------------
def _status_text(tr, problem):
    if tr.diverged:
        return f"diverged at step {tr.diverged_at}"
    gap = tr.loss_final - (problem.f_min or 0.0)
    return f"after {tr.n_updates} steps: f - f* = {gap:.2e}"


def set_log_limits(ax, lo, hi, xmax, widen_only=False) -> bool:
    """Keep a log y-range that holds ``[lo, hi]``, and an x-range ``[0, nice_ceiling(xmax)]``.

    The y-range only changes when the data leave it or fill less than a thousandth of it;
    it is then set a decade wider than needed on each side, rounded to whole decades. The
    x-range ends at :func:`nice_ceiling` of ``xmax`` (10, 20, 50, 100, ...). So while
    a slider moves, the axes (and the demo's cached background) rarely need a redraw.
    With ``widen_only`` the range never shrinks (for data that swing over many decades).
    Returns True when the limits changed.
    """
    lo, hi = max(float(lo), 1e-300), max(float(hi), 1e-300)
    y0, y1 = ax.get_ylim()
    xmax = nice_ceiling(xmax)
    x_same = np.isclose(ax.get_xlim()[1], xmax)
    inside = y0 > 0 and y0 <= lo and hi <= y1
    fits = inside and (widen_only or (y1 / y0) <= 1e5 * max(hi / lo, 10.0))
    if fits and x_same:
        return False
    if not fits and widen_only and y0 > 0 and y1 > y0 and ax.get_ylim() != (1.0, 1.0):
        lo, hi = min(lo, y0 * 10), max(hi, y1 / 10)
    if not fits:
        ax.set_ylim(10.0 ** (np.floor(np.log10(lo)) - 1), 10.0 ** (np.ceil(np.log10(hi)) + 1))
    ax.set_xlim(0, xmax)
    return True


def nice_ceiling(n) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``n`` (n > 0).

    A steps slider dragged from 10 to 500 in steps of 10 then shows 6 different x-ranges,
    not 50, and the data still fill at least two fifths of the axis. Each new range is a
    redraw of the axes (the slowest frame a reader sees); with 1, 2, 3, 5 there were 8.
    """
    n = float(n)
    if n <= 1:
        return 1.0
    decade = 10.0 ** np.floor(np.log10(n))
    return float(next(m * decade for m in (1, 2, 5, 10) if m * decade >= n * (1 - 1e-12)))


def _apart(figsize):
    """A contour panel and a curve panel side by side, with a gap between them wider than a
    partial redraw's margin (:meth:`Demo._redraw_axes`): a new range on the right then
    redraws that panel alone, not the contour beside it."""
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    fig.get_layout_engine().set(wspace=0.08)
    return fig, axes


def _title(ax, fontsize=10):
    """A text artist in the title position that a demo can change without a full redraw."""
    # reserves the space in the layout; a fixed y (where matplotlib puts a title over axes
    # without top tick labels anyway) spares each draw the search for overlapping labels
    ax.set_title(" ", fontsize=fontsize, y=1.0)
    return ax.text(
        0.5, 1.02, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=fontsize
    )


def lr_demo(problem: Problem, steps=40, lr=None, make_opt=_optimizers.gd, lr_range=(-3, 0.5)):
    """Chapter 1's demo: a learning-rate slider re-running ``make_opt(lr=lr)`` on a 2-D problem.

    Left: the path on the contours; right: ``f - f*`` per step on a log scale. The titles
    report ``2/L`` (when the problem knows ``L``) and whether the run diverged.
    """
    if problem.dim != 2:
        raise ValueError(f"lr_demo: needs a 2-D problem, {problem.name} has dim={problem.dim}")
    check_make_opt("lr_demo", make_opt)
    default = lr if lr is not None else (1.0 / problem.L if problem.L else 1e-2)
    controls = {
        "lr": LogSlider(lr_range[0], lr_range[1], default, step=0.02),
        "steps": Slider(5, 200, 5, steps),
    }

    def setup():
        fig, (ax0, ax1) = _apart(figsize=(9.5, 3.8))
        contour(problem, ax=ax0)
        (path,) = ax0.plot([], [], "-o", color=COLORS[0], ms=3, lw=1.2)
        ax0.plot(*problem.x0, "o", color=COLORS[0], ms=7)
        (curve,) = ax1.semilogy([1], [1], color=COLORS[0])
        ax1.set_xlabel("step k")
        ax1.set_ylabel("$f(x_k) - f^*$")
        ax1.grid(True, which="major", alpha=0.3)
        t0, t1 = _title(ax0), _title(ax1)
        return fig, {
            "ax1": ax1,
            "path": path,
            "curve": curve,
            "t0": t0,
            "t1": t1,
            "animated": [path, curve, t0, t1],
        }

    runs = _Recent(lambda lr, steps: run(problem, make_opt(lr=lr), steps))

    def update(h, lr, steps):
        tr = runs(lr, int(steps))
        h["path"].set_data(tr.x[:, 0], tr.x[:, 1])
        gap = np.maximum(tr.gap(), 1e-16)
        h["curve"].set_data(tr.k, gap)
        bound = f", 2/L = {2 / problem.L:.3g}" if problem.L else ""
        h["t0"].set_text(f"lr = {lr:.3g}{bound}")
        h["t1"].set_text(_status_text(tr, problem))
        # fixed y-range (from 1e-16 to 1e6 times the starting gap): a slider move then
        # never changes the axes, so only the lines are redrawn
        changed = set_log_limits(h["ax1"], 1e-16, gap[0] * 1e6, max(int(steps), 1))
        return [h["ax1"]] if changed else None

    return Demo(controls, setup, update, title=f"Gradient descent on {problem.name}")


def optimizer_demo(problem: Problem, factory: Callable, controls: dict, steps=100, title: str = ""):
    """Sliders for any optimizer's hyper-parameters: path, loss and per-coordinate eff_lr.

    ``factory`` is an optimizer factory of :mod:`learnlr.optimizers` (e.g.
    ``optimizers.adam``): it is called with every slider's value by keyword, and its name
    titles the figure, so it is the factory itself and not a ``make_opt`` (a function
    ``lr -> optimizer``, which takes the rate alone). ``controls`` maps the factory's
    argument names to sliders, e.g.
    ``{"lr": LogSlider(-3, 0, 0.1), "alpha": Slider(0.5, 0.999, 0.001, 0.9)}``; the
    special name ``"steps"`` sets the number of updates instead.
    """
    controls = dict(controls)
    controls.setdefault("steps", Slider(10, 500, 10, steps))

    def setup():
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
        contour(problem, ax=axes[0])
        (path,) = axes[0].plot([], [], "-o", color=COLORS[0], ms=2.5, lw=1.2)
        (curve,) = axes[1].semilogy([1], [1], color=COLORS[0])
        axes[1].set_xlabel("step k")
        axes[1].set_ylabel("$f(x_k) - f^*$")
        eff = [
            axes[2].semilogy([1], [1], color=COLORS[j + 1], label=f"$x_{j + 1}$")[0]
            for j in range(problem.dim)
        ]
        axes[2].set_xlabel("step k")
        axes[2].set_ylabel("effective learning rate")
        axes[2].legend(fontsize=8, loc="upper right")
        t0, t1 = _title(axes[0], fontsize=8), _title(axes[1])
        return fig, {
            "axes": axes,
            "path": path,
            "curve": curve,
            "eff": eff,
            "t0": t0,
            "t1": t1,
            "animated": [path, curve, *eff, t0, t1],
        }

    runs = _Recent(lambda steps, *kwargs: run(problem, factory(**dict(kwargs)), steps))
    eff_span = []  # the effective rates' range over the runs at each slider's two ends

    def eff_range(tr):
        e = tr.eff_lr[np.isfinite(tr.eff_lr) & (tr.eff_lr > 0)]
        return [e.min(), e.max()] if e.size else []

    def ends(steps, kwargs):
        """Runs with each slider at its two ends (the others as given): the eff_lr range."""
        span = eff_range(runs(steps, *sorted(kwargs.items())))
        for name, spec in controls.items():
            if name != "steps" and isinstance(spec, (Slider, LogSlider)):
                for v in (spec.grid()[0], spec.grid()[-1]):
                    span += eff_range(runs(steps, *sorted({**kwargs, name: float(v)}.items())))
        return [min(span), max(span)] if span else []

    def update(h, steps, **kwargs):
        tr = runs(int(steps), *sorted(kwargs.items()))
        if not eff_span:
            eff_span.extend(ends(int(steps), kwargs))
        axes = h["axes"]
        h["path"].set_data(tr.x[:, 0], tr.x[:, 1])
        gap = np.maximum(tr.gap(), 1e-16)
        h["curve"].set_data(tr.k, gap)
        shown = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in kwargs.items()
        )
        h["t0"].set_text(f"{factory.__name__}({shown})")
        h["t1"].set_text(_status_text(tr, problem))
        # Axes that stay put while a slider moves, so a frame only redraws the lines: the
        # loss from 1e-16 to 1e4 times the starting gap (the same for every run; a
        # diverging run leaves through the top), and the effective rates over the range
        # that the runs at each slider's two ends span, widened if a run leaves it.
        changed = []
        if set_log_limits(axes[1], 1e-16, gap[0] * 1e4, int(steps)):
            changed.append(axes[1])
        for j, line in enumerate(h["eff"]):
            line.set_data(tr.k[:-1], np.maximum(tr.eff_lr[:, j], 1e-300))
        e = eff_range(tr) + eff_span
        if e and set_log_limits(axes[2], min(e), max(e), int(steps), widen_only=True):
            changed.append(axes[2])
        return changed

    return Demo(controls, setup, update, title=title or f"{factory.__name__} on {problem.name}")


def race_demo(problem: Problem, entries: dict, steps=150, lr_scale=(-1.0, 1.0)):
    """Several optimizers on one surface; one slider scales all their rates together.

    ``entries`` maps a label to ``(factory, kwargs)``, an optimizer factory of
    :mod:`learnlr.optimizers` and its hyper-parameters (as in :func:`optimizer_demo`); the
    entry runs ``factory(**kwargs)`` with the slider multiplying its ``lr`` by
    ``10**scale``, which shows how robust each method is to the rate.
    """
    controls = {
        "scale": Slider(lr_scale[0], lr_scale[1], 0.1, 0.0, description="log10 lr ×"),
        "steps": Slider(10, 500, 10, steps),
    }
    names = list(entries)

    with np.errstate(all="ignore"):  # an overflow at x0 is reported by check_start_loss
        loss0 = problem.loss(problem.x0)
    max_loss = check_start_loss("race_demo", loss0, None)  # run's default threshold

    def run_entry(name, scale):
        factory, kwargs = entries[name]
        kw = dict(kwargs)
        kw["lr"] = kw.get("lr", 1e-3) * 10.0**scale
        return _Growing(problem, factory(**kw), max_loss)

    # one run per optimizer and rate, grown as the steps slider asks for more (a longer run
    # continues from the end of the shorter one: the same updates, not computed again)
    growing = _Recent(run_entry, size=4 * 64)

    def runs(name, scale, steps):
        return growing(name, scale).first(steps)

    def setup():
        fig, (ax0, ax1) = _apart(figsize=(10, 4))
        contour(problem, ax=ax0)
        paths, curves, notes = [], [], []
        for i, name in enumerate(names):
            paths.append(ax0.plot([], [], "-", color=COLORS[i], lw=1.4, label=name)[0])
            curves.append(ax1.semilogy([1], [1], color=COLORS[i], label=name)[0])
            notes.append(
                ax1.text(
                    0.98,
                    0.97 - 0.07 * i,
                    "",
                    transform=ax1.transAxes,
                    ha="right",
                    va="top",
                    color=COLORS[i],
                    fontsize=8,
                )
            )
        ax0.legend(fontsize=8, loc="lower right")
        ax1.set_xlabel("step k")
        ax1.set_ylabel("$f(x_k) - f^*$")
        t1 = _title(ax1)
        return fig, {
            "ax1": ax1,
            "paths": paths,
            "curves": curves,
            "notes": notes,
            "t1": t1,
            "animated": [*paths, *curves, *notes, t1],
        }

    def update(h, scale, steps):
        hi = 0.0
        for i, name in enumerate(names):
            tr = runs(name, scale, int(steps))
            h["paths"][i].set_data(tr.x[:, 0], tr.x[:, 1])
            gap = np.maximum(tr.gap, 1e-16)
            h["curves"][i].set_data(tr.k, gap)
            h["notes"][i].set_text(
                f"{name}: "
                + (f"diverged at step {tr.diverged_at}" if tr.diverged else f"{gap[-1]:.1e}")
            )
            hi = max(hi, gap[0] * 1e4)
        h["t1"].set_text(f"every lr × {10.0**scale:.3g}")
        # a fixed range, from 1e-16 to 1e4 times the starting gap (a diverging run leaves
        # through the top): the axes stay put while the slider moves
        changed = set_log_limits(h["ax1"], 1e-16, hi, int(steps))
        return [h["ax1"]] if changed else None

    return Demo(controls, setup, update, title=f"Race on {problem.name}")


class _Path(NamedTuple):
    """The first updates of a run: the points, their update counts and their gaps."""

    k: np.ndarray
    x: np.ndarray
    gap: np.ndarray  # loss - f_min at each point
    diverged_at: int | None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


class _Growing:
    """One optimizer's run on a problem, computed only as far as it has been asked for.

    ``first(n)`` is the run of ``n`` updates, exactly as ``run(problem, opt, n)`` gives it
    (same divergence rule and threshold): longer requests continue the trace from its last
    state with ``run(..., state=)``, shorter ones are its first rows.
    """

    def __init__(self, problem, opt, max_loss):
        self.problem, self.opt, self.max_loss = problem, opt, max_loss
        tr = run(problem, opt, 0, max_loss=max_loss)
        self.k, self.x, self.loss = tr.k, tr.x, tr.loss
        self.state, self.diverged_at = tr.final_state, None

    def first(self, n: int) -> _Path:
        done = int(self.k[-1])
        if n > done and self.diverged_at is None:
            more = run(
                self.problem,
                self.opt,
                n - done,
                x0=self.x[-1],
                state=self.state,
                max_loss=self.max_loss,
            )
            self.k = np.concatenate([self.k, more.k[1:]])
            self.x = np.concatenate([self.x, more.x[1:]])
            self.loss = np.concatenate([self.loss, more.loss[1:]])
            self.state, self.diverged_at = more.final_state, more.diverged_at
        end = int(np.searchsorted(self.k, n, side="right"))  # the points up to update n
        diverged = (
            self.diverged_at if self.diverged_at is not None and self.diverged_at < n else None
        )
        gap = self.loss[:end] - (self.problem.f_min or 0.0)
        return _Path(self.k[:end], self.x[:end], gap, diverged)


def escape_demo(problem: Problem | None = None, radius=0.5, steps=400, noise=1e-3):
    r"""Chapter 13's demo: a start near a saddle and a rate -> the path and the escape time.

    The start is :math:`(1, \delta)` on ``problem`` (default
    :func:`learnlr.problems.saddle`, whose stable manifold is :math:`y = 0` and whose
    unstable direction is :math:`y`, curvature -1). Controls: ``distance`` :math:`\delta`
    (log scale), ``lr``, ``steps`` and ``method``: gradient descent, heavy-ball momentum 0.9,
    Adam, or gradient descent on gradients with Gaussian noise of size ``noise``. Left: the
    path on the contours; right: :math:`|y_k|` against the step, with the escape radius
    ``radius`` and the prediction :math:`\log(r/\delta)/\log(1 + \eta)` of
    :func:`learnlr.landscape.predicted_escape_steps` for gradient descent.
    """
    from learnlr import landscape, problems

    problem = problems.saddle() if problem is None else problem
    methods = {
        "GD": lambda lr: _optimizers.gd(lr=lr),
        "momentum 0.9": lambda lr: _optimizers.sgd(lr=lr, momentum=0.9),
        "Adam": lambda lr: _optimizers.adam(lr=lr),
        "GD + noise": lambda lr: _optimizers.gd(lr=lr),
    }
    noisy = problems.noisy(problem, noise, seed=0)
    controls = {
        "distance": LogSlider(-8, -1, 1e-6, step=0.5, description="distance δ"),
        "lr": LogSlider(-1.3, 0, 0.1, step=0.1),
        "method": Choice(tuple(methods), "GD"),
        "steps": Slider(50, 1000, 50, steps),
    }

    def setup():
        fig, (ax0, ax1) = _apart(figsize=(9.5, 3.8))
        contour(problem, ax=ax0)
        ax0.axhline(0.0, color="0.6", lw=0.8, ls=":")
        (path,) = ax0.plot([], [], "-", color=COLORS[0], lw=1.2)
        (start,) = ax0.plot([], [], "o", color=COLORS[0], ms=6)
        (curve,) = ax1.semilogy([], [], color=COLORS[0])
        ax1.axhline(radius, color="0.4", lw=0.8, ls="--")
        (marker,) = ax1.plot([], [], "o", color=COLORS[1], ms=6)
        ax1.set_ylim(1e-10, 3.0)
        ax1.set_xlabel("step k")
        ax1.set_ylabel(r"$|y_k|$, distance from the stable manifold")
        ax1.grid(True, which="major", alpha=0.3)
        t0, t1 = _title(ax0), _title(ax1)
        return fig, {
            "path": path,
            "start": start,
            "curve": curve,
            "marker": marker,
            "t0": t0,
            "t1": t1,
            "animated": [path, start, curve, marker, t0, t1],
        }

    def run_method(distance, lr, method, steps):
        prob = noisy if method == "GD + noise" else problem
        return run(prob, methods[method](lr), steps, x0=np.array([1.0, distance]))

    runs = _Recent(run_method)

    def update(h, distance, lr, method, steps):
        steps = int(steps)
        x0 = np.array([1.0, distance])
        tr = runs(distance, lr, method, steps)
        y = np.abs(tr.x[:, 1])
        h["path"].set_data(tr.x[:, 0], tr.x[:, 1])
        h["start"].set_data([x0[0]], [x0[1]])
        h["curve"].set_data(tr.k, np.maximum(y, 1e-300))
        out = np.flatnonzero(y >= radius)
        predicted = landscape.predicted_escape_steps(distance, lr, 1.0, radius)
        if out.size:
            h["marker"].set_data([tr.k[out[0]]], [y[out[0]]])
            h["t1"].set_text(
                f"{method}: escaped after {tr.k[out[0]]} steps (GD predicted {predicted:.0f})"
            )
        else:
            h["marker"].set_data([], [])
            h["t1"].set_text(
                f"{method}: not escaped in {steps} steps (GD predicted {predicted:.0f})"
            )
        h["t0"].set_text(f"start (1, {distance:.0e}), lr = {lr:.3g}")
        ax1 = h["curve"].axes
        if ax1.get_xlim() != (0.0, float(steps)):
            ax1.set_xlim(0, steps)
            return [ax1]
        return None

    return Demo(controls, setup, update, title=f"Escaping the saddle of {problem.name}")


def basin_demo(problem: Problem | None = None, lr=None, n=31, steps=600, tol=1e-2):
    r"""Chapter 13's basin map: a rate and a method -> which minimum each start settles in.

    Runs the method from every point of an ``n`` x ``n`` grid over ``problem.bounds`` at once
    (:func:`learnlr.landscape.basin_map`) and colours each start by the minimum of
    ``problem.minima`` it has settled in after ``steps`` updates (within ``tol``), white when
    it has settled in none. The minima are the black stars, numbered as in
    ``problem.minima``. Controls: ``lr`` (default a slider from 0.004 to 0.03, the range where
    Himmelblau's minima close one by one), ``method`` (gradient descent, heavy-ball momentum
    0.9, gradient descent whose rate drops tenfold after half the updates, Adam) and ``steps``.
    The title gives each minimum's share of the starts.

    Args:
        problem: a 2-D problem with ``minima`` and ``bounds`` (default
            :func:`learnlr.problems.himmelblau`).
        lr: a :class:`Slider` or :class:`LogSlider` for the rate (default as above).
        n: grid points per side (>= 2); the cost of a frame grows with ``n**2 * steps``.
        steps: the initial number of updates.
        tol: the distance that counts as settled (see ``basin_map``).
    """
    from matplotlib.colors import ListedColormap

    from learnlr import landscape, problems, schedules

    problem = problems.himmelblau() if problem is None else problem
    if not isinstance(problem, Problem) or problem.dim != 2:
        raise TypeError(f"basin_demo: problem must be a 2-D learnlr Problem, got {problem!r}")
    minima = getattr(problem, "minima", None)
    if minima is None or problem.bounds is None:
        raise ValueError(f"basin_demo: {problem.name} needs minima and bounds")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"basin_demo: n must be an integer >= 2, got {n!r}")
    lr = Slider(0.004, 0.03, 0.001, 0.017) if lr is None else lr
    if not isinstance(lr, (Slider, LogSlider)):
        raise TypeError(f"basin_demo: lr must be a Slider or LogSlider, got {lr!r}")
    minima = np.asarray(minima, dtype=float)
    methods = {
        "GD": lambda rate, k: _optimizers.gd(lr=rate),
        "momentum 0.9": lambda rate, k: _optimizers.sgd(lr=rate, momentum=0.9),
        "GD, rate / 10 after half": lambda rate, k: _optimizers.gd(
            lr=schedules.multistep_lr(rate, [max(k // 2, 1)], 0.1)
        ),
        "Adam": lambda rate, k: _optimizers.adam(lr=rate),
    }
    controls = {
        "lr": lr,
        "method": Choice(tuple(methods), "GD"),
        "steps": Slider(100, 2000, 100, steps),
    }
    (x_lo, x_hi), (y_lo, y_hi) = problem.bounds
    xs, ys = np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n)
    colors = ListedColormap(["white"] + [COLORS[i % 6] for i in range(len(minima))])
    half_x, half_y = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    extent = (xs[0] - half_x, xs[-1] + half_x, ys[0] - half_y, ys[-1] + half_y)

    def setup():
        fig, ax = plt.subplots(figsize=(5.6, 5.2), layout="constrained")
        image = ax.imshow(
            np.full((n, n), -1),
            cmap=colors,
            vmin=-1.5,
            vmax=len(minima) - 0.5,
            origin="lower",
            extent=extent,
            interpolation="nearest",
            aspect="auto",
        )
        (stars,) = ax.plot(*minima.T, "*", color="black", ms=11)
        labels = [
            ax.text(mx, my, f" {i}", fontsize=10, fontweight="bold", va="bottom")
            for i, (mx, my) in enumerate(minima)
        ]
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.set_xlabel("start x")
        ax.set_ylabel("start y")
        title = _title(ax)
        ax.set_title(" \n ", fontsize=10)  # room for the title's two lines
        return fig, {"image": image, "title": title, "animated": [image, stars, *labels, title]}

    maps = _Recent(
        lambda lr, method, steps: landscape.basin_map(
            problem, methods[method](lr, steps), xs, ys, steps, tol=tol
        ),
        size=32,
    )

    def update(h, lr, method, steps):
        steps = int(steps)
        bm = maps(lr, method, steps)
        h["image"].set_data(bm.labels)
        shares = bm.fractions()
        parts = [f"{i}: {share:.0%}" for i, share in enumerate(shares[:-1])]
        h["title"].set_text(
            f"{method}, lr = {lr:.3g}, {steps} steps\nsettled in "
            + ", ".join(parts)
            + f"; none: {shares[-1]:.0%}"
        )
        return None

    return Demo(controls, setup, update, title=f"Which minimum? Basin map of {problem.name}")


#: Names the template a kernel-free demo was made with. The book shows the notebooks' stored
#: outputs, and nbval does not compare a demo's output (its PNG bytes depend on the machine),
#: so tests/test_notebooks.py checks that every stored demo carries this id: a change to the
#: template fails the tests until the notebooks are re-run (``make execute``).
TEMPLATE_ID = hashlib.sha1(_HTML_TEMPLATE.encode()).hexdigest()[:10]
