"""The demos of learnlr.viz.widgets, driven without a browser, with ipywidgets 7.7 or 8.

Colab ships ipywidgets 7.7 and Binder installs 8, so every demo must work with both:
``make check-widgets7`` runs this module in an environment with ipywidgets 7.7.x. Each
ready-made demo is built, its live view (``widget()``) must hold one control per slider,
and moving a control programmatically (``control.value = ...``, as a reader's drag does)
must change the data drawn. The static figure, the PNG and the kernel-free HTML are
checked too.
"""

import io
import threading

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from learnlr import optimizers, problems, run
from learnlr.viz import widgets

IPYWIDGETS_MAJOR = int(ipywidgets.__version__.split(".")[0])


def _bowl():
    return problems.quadratic2d(kappa=10, angle=np.pi / 6)


def _lr_demo():
    return widgets.lr_demo(_bowl(), steps=30)


def _optimizer_demo():
    controls = {
        "lr": widgets.LogSlider(-3, 0, 0.1),
        "alpha": widgets.Slider(0.5, 0.99, 0.01, 0.9),
    }
    return widgets.optimizer_demo(_bowl(), optimizers.rmsprop, controls, steps=40)


def _race_demo():
    entries = {
        "gd": (optimizers.gd, {"lr": 0.1}),
        "momentum": (optimizers.sgd, {"lr": 0.05, "momentum": 0.9}),
        "adam": (optimizers.adam, {"lr": 0.1}),
    }
    return widgets.race_demo(_bowl(), entries, steps=40)


def _escape_demo():
    return widgets.escape_demo(steps=200)


def _basin_demo():
    return widgets.basin_demo(n=12, steps=300)


DEMOS = {
    "lr_demo": _lr_demo,
    "optimizer_demo": _optimizer_demo,
    "race_demo": _race_demo,
    "escape_demo": _escape_demo,
    "basin_demo": _basin_demo,
}


def _drawn(fig):
    """Everything the figure's lines, texts and images show, as plain Python data."""
    data = []
    for ax in fig.axes:
        data += [np.asarray(line.get_xydata()).round(12).tolist() for line in ax.get_lines()]
        data += [text.get_text() for text in ax.texts]
        data += [np.asarray(image.get_array()).tolist() for image in ax.images]
    return data


def _controls(view):
    """The value widgets (sliders, dropdowns) anywhere inside a widget tree."""
    found = []
    for child in getattr(view, "children", ()):
        if isinstance(child, ipywidgets.ValueWidget) and not isinstance(
            child, (ipywidgets.HTML, ipywidgets.Label, ipywidgets.Image)
        ):
            found.append(child)
        found += _controls(child)
    return found


def _another_value(control):
    if isinstance(control, ipywidgets.Dropdown):
        options = [o if isinstance(o, str) else o[0] for o in control.options]
        return next(o for o in options if o != control.value)
    if isinstance(control, ipywidgets.FloatLogSlider):
        return control.base ** ((control.min + control.max) / 2 + control.step)
    return control.max if control.value != control.max else control.min


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", DEMOS)
def test_widget_has_a_control_per_slider(name):
    demo = DEMOS[name]()
    view = demo.widget()
    assert isinstance(view, ipywidgets.VBox)
    controls = _controls(view)
    assert len(controls) == len(demo.controls)
    assert {c.description for c in controls} == {
        spec.description or key for key, spec in demo.controls.items()
    }
    (image,) = [c for c in view.children if isinstance(c, ipywidgets.Image)]
    assert image.format == "png" and bytes(image.value).startswith(b"\x89PNG"), "no figure"


@pytest.mark.parametrize("name", DEMOS)
def test_moving_a_control_redraws_the_figure(name):
    demo = DEMOS[name]()
    view = demo.widget()
    fig = demo.figure()  # the figure the view draws into; now at the default values
    for control in _controls(view):
        before = _drawn(fig)
        control.value = _another_value(control)
        assert demo.wait(), f"{name}: no frame drawn within 10 s"
        assert _drawn(fig) != before, f"{name}: moving {control.description} changed nothing"


@pytest.mark.parametrize("coalesce", [True, False])
def test_a_fast_drag_ends_on_the_final_frame(coalesce):
    # A drag faster than the frames: with coalescing, values that arrive while a frame is
    # drawn are skipped, but the image shown at the end is the last value's, exactly.
    demo = _lr_demo()
    view = demo.widget(coalesce=coalesce)
    (image,) = [c for c in view.children if isinstance(c, ipywidgets.Image)]
    (lr,) = [c for c in _controls(view) if isinstance(c, ipywidgets.FloatLogSlider)]
    values = np.geomspace(0.01, 0.2, 30)
    for v in values:
        lr.value = float(v)
    assert demo.wait()
    shown = _pixels(bytes(image.value))
    reference = _lr_demo()
    reference.update(lr=lr.value)
    np.testing.assert_array_equal(shown, _pixels(reference.render_png()))
    assert demo.shown == {"lr": lr.value, "steps": 30}  # what the figure shown was drawn for
    if coalesce:
        latest = demo._latest
        assert latest.done + latest.skipped == len(values) and latest.done >= 1


def test_arrow_key_neighbours_stop_at_the_ends():
    s, log = widgets.Slider(0, 10, 2, 4), widgets.LogSlider(-3, -1, 0.01, step=0.5)
    assert s.near(4, 1) == 6 and s.near(10, 1) is None and s.near(0, -1) is None
    assert isinstance(s.near(4, 1), int) and s.near(0.5, 1) == 2.5
    assert log.near(0.01, 1) == pytest.approx(10**-1.5) and log.near(0.1, 1) is None
    choice = widgets.Choice(("a", "b", "c"), "b")
    assert (choice.near("b", 1), choice.near("a", -1), choice.near("c", 2)) == ("c", None, None)


def test_frames_drawn_ahead_are_the_frames_a_move_would_draw():
    # After a move, the worker draws ahead the next arrow-key values; a move to one of
    # them is answered with that frame, which must be exactly the one drawn afresh.
    demo = _lr_demo()
    view = demo.widget()
    (image,) = [c for c in view.children if isinstance(c, ipywidgets.Image)]
    (lr,) = [c for c in _controls(view) if isinstance(c, ipywidgets.FloatLogSlider)]
    spec = demo.controls["lr"]
    lr.value = float(spec.near(lr.value, 1))
    assert demo.wait()
    ahead = float(spec.near(lr.value, 1))  # one step further the same way: drawn first
    assert demo._key({"lr": ahead, "steps": 30}) in demo._frames

    def no_drawing(values):
        raise AssertionError(f"drew {values} again")

    demo._frame = no_drawing  # the move below must be answered without drawing
    lr.value = ahead * (1 + 1e-15)  # the browser's value may differ in the last bit
    assert demo.wait()
    # the frame shown is the one drawn for the value equal to 10 digits (a last-bit change of
    # the rate may move a few anti-aliased pixels by one level, so the reference uses it)
    reference = _lr_demo()
    reference.update(lr=ahead)
    np.testing.assert_array_equal(_pixels(bytes(image.value)), _pixels(reference.render_png()))
    assert demo.shown["lr"] == lr.value


def test_before_any_move_the_frames_one_step_away_are_drawn_ahead():
    demo = _lr_demo()
    view = demo.widget()
    assert demo.wait()
    start = demo.defaults()
    for name, spec in demo.controls.items():
        for steps in (1, -1):
            value = spec.near(start[name], steps)
            if value is not None:
                assert demo._key({**start, name: value}) in demo._frames, (name, steps)
    drawn = len(demo._frames)

    def no_drawing(values):
        raise AssertionError(f"drew {values} again")

    demo._frame = no_drawing  # the first move is answered with a frame drawn ahead
    (lr,) = [c for c in _controls(view) if isinstance(c, ipywidgets.FloatLogSlider)]
    lr.value = float(demo.controls["lr"].near(lr.value, -1))
    assert demo.wait() and len(demo._frames) >= drawn


def test_a_static_figure_stops_the_drawing_ahead():
    demo = _lr_demo()
    view = demo.widget()
    (lr,) = [c for c in _controls(view) if isinstance(c, ipywidgets.FloatLogSlider)]
    demo.figure(lr=0.05)  # a later cell's static figure: the live view must not redraw it
    demo._ahead = [{"lr": 0.07, "steps": 30}]
    assert demo._draw_ahead() is False and demo._ahead
    lr.value = float(demo.controls["lr"].near(lr.value, 1))  # the reader moves a control
    assert demo.wait() and len(demo._frames) > 2


def test_one_worker_thread_draws_every_frame():
    # matplotlib keeps fonts per thread: a thread per frame would load them for every frame
    import threading

    threads = set()
    latest = widgets._Latest(lambda v: threads.add(threading.get_ident()))
    for v in range(5):
        latest.submit(v)
        assert latest.wait(5)
    assert len(threads) == 1 and threading.get_ident() not in threads and latest.done == 5


def test_png_encoder_is_lossless():
    from PIL import Image

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    png = widgets._png(rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), rgb)


def test_latest_only_skips_stale_values_and_keeps_the_last():
    import threading

    seen, gate = [], threading.Event()

    def slow(value):
        gate.wait(5)
        seen.append(value)

    latest = widgets._Latest(slow)
    for v in range(10):
        latest.submit(v)
    gate.set()
    assert latest.wait(5)
    assert seen[-1] == 9 and len(seen) < 10 and latest.skipped == 10 - len(seen)
    with pytest.raises(ZeroDivisionError):
        failing = widgets._Latest(lambda v: 1 / 0)
        failing.submit(1)
        failing.wait(5)


@pytest.mark.parametrize("name", DEMOS)
def test_static_figure_png_and_html(name):
    demo = DEMOS[name]()
    defaults = _drawn(demo.figure())
    key, spec = next(iter(demo.controls.items()))
    other = spec.grid()[0] if spec.grid()[0] != spec.value else spec.grid()[-1]
    assert _drawn(demo.figure(**{key: other})) != defaults
    png = demo.render_png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    grid = {k: list(s.grid())[:2] for k, s in demo.controls.items()}
    page = demo.to_html(grid=grid)
    assert 'class="learnlr-demo"' in page and "<canvas" in page
    # time_update reports a duration; how long it may take is a benchmark's business (make
    # bench), not a test's: a loaded machine must not fail the suite.
    seconds = demo.time_update(repeats=1)
    assert isinstance(seconds, float) and 0 < seconds < float("inf")


def test_a_dropdown_control():
    # Choice makes a Dropdown; a custom Demo redraws from its string value.
    def setup():
        fig, ax = plt.subplots()
        (line,) = ax.plot([0, 1], [0, 0])
        return fig, {"line": line, "animated": [line]}

    def update(h, shape):
        h["line"].set_ydata([0, 1] if shape == "up" else [1, 0])

    demo = widgets.Demo({"shape": widgets.Choice(("up", "down"), "up")}, setup, update)
    view = demo.widget()
    (dropdown,) = _controls(view)
    assert isinstance(dropdown, ipywidgets.Dropdown)
    fig = demo.figure()
    dropdown.value = "down"
    assert demo.wait()
    assert _drawn(fig)[0] == [[0.0, 1.0], [1.0, 0.0]]


def test_ipywidgets_version_is_supported():
    # pyproject.toml allows ipywidgets >= 7.6; these tests run with 8 and (make
    # check-widgets7) with 7.7.
    assert IPYWIDGETS_MAJOR in (7, 8)


def _pixels(png):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png))).astype(int)


@pytest.mark.parametrize("name", DEMOS)
def test_blitted_frames_equal_a_full_redraw(name):
    # A drag that changes the axes' limits (steps moves the x-range), goes back to ranges
    # already shown (their backgrounds come from the cache) and moves every control.
    blitted, reference = DEMOS[name](), DEMOS[name]()
    blitted.render_png()
    reference.render_png()  # the same first layout, which both then keep
    moves = [{"steps": s} for s in (10, 200, 40, 10, 200)]
    moves += [{key: spec.grid()[0]} for key, spec in blitted.controls.items()]
    moves += [{key: spec.grid()[-1], "steps": 90} for key, spec in blitted.controls.items()]
    for values in moves:
        blitted.update(**values)
        fast = _pixels(blitted.render_png())
        reference.update(**values)
        reference._background = None  # draw everything from scratch
        slow = _pixels(reference.render_png())
        np.testing.assert_array_equal(fast, slow, err_msg=f"{name} after {values}")


@pytest.mark.parametrize("name", ["race_demo", "lr_demo"])
def test_the_frame_after_the_static_figure_reuses_the_background(name):
    # A notebook shows the live widget (72 dpi), then the static figure at the figure's
    # own resolution: the widget's next frame must not draw its background again (a
    # full draw, the slowest frame a reader would see) and must equal a full redraw.
    demo, reference = DEMOS[name](), DEMOS[name]()
    demo.render_png()
    reference.render_png()
    fig = demo.figure()
    fig.set_dpi(100)  # as a chapter does for the book's sharper copy
    fig.canvas.draw()  # as the notebook displays it
    full = []
    draw_background = demo._draw_background
    demo._draw_background = lambda *args: (full.append(1), draw_background(*args))
    key, spec = next(iter(demo.controls.items()))
    value = spec.grid()[1] if isinstance(spec, widgets.Choice) else spec.value
    demo.update(**{key: value})
    fast = _pixels(demo.render_png())
    assert full == []
    reference.update(**{key: value})
    reference._background = None
    np.testing.assert_array_equal(fast, _pixels(reference.render_png()))


def test_a_range_shown_before_is_not_drawn_again():
    demo = _lr_demo()  # its y-range is fixed: only the steps slider moves the axes
    demo.update()  # the defaults, as the live widget starts: steps = 30
    demo.render_png()  # the x-axis ends at 30
    draws = []
    redraw_axes = demo._redraw_axes
    demo._redraw_axes = lambda *args: (draws.append(1), redraw_axes(*args))
    for steps in (10, 200, 9, 190, 30, 10):
        demo.update(steps=steps)
        demo.render_png()
    # 10 and 200 are drawn once; 9 and 190 share their ranges (the axis ends at 10 and
    # 200), and 30 and 10 come back from the cache
    assert len(draws) == 2


def test_escape_demo_reports_the_measured_escape_time():
    from learnlr import landscape, problems

    demo = widgets.escape_demo(radius=0.5, steps=300)
    for method, opt in [("GD", optimizers.gd(lr=0.2)), ("Adam", optimizers.adam(lr=0.2))]:
        fig = demo.figure(distance=1e-5, lr=0.2, method=method)
        k = landscape.escape_steps(problems.saddle(), opt, [1.0, 1e-5], 0.5, max_steps=300)
        titles = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(f"escaped after {k} steps" in t for t in titles), titles


def _payload(page):
    import json
    import re

    match = re.search(r'class="learnlr-demo-data">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_basin_demo_html_holds_each_frames_basin_map():
    # The kernel-free basin map: each frame's image is stored as a palette and one character
    # per cell, rows from the top; decoded, it must be the basin map of that rate and method.
    from learnlr import landscape
    from learnlr.viz.widgets import _CELL_CODES

    him = problems.himmelblau()
    demo = widgets.basin_demo(him, n=12, steps=300)
    rates = [0.005, 0.021]
    payload = _payload(demo.to_html(grid={"lr": rates, "method": ["GD", "Adam"], "steps": [300]}))
    image = payload["styles"].index({"kind": "image", "clip": payload["styles"][0]["clip"]})
    assert image == 0  # drawn first, under the stars and texts
    grid = np.linspace(-5.0, 5.0, 12)
    frame = 0
    for lr in rates:
        for opt in [optimizers.gd(lr=lr), optimizers.adam(lr=lr)]:
            cells = payload["frames"][frame][image]
            labels = landscape.basin_map(him, opt, grid, grid, 300).labels
            colors = np.array(cells["palette"])[[_CELL_CODES.index(ch) for ch in cells["cells"]]]
            colors = colors.reshape(cells["ny"], cells["nx"], 4)[::-1]  # bottom row first
            expected = np.array(
                [[255, 255, 255, 255]]
                + [
                    [int(plots_hex[i : i + 2], 16) for i in (1, 3, 5)] + [255]
                    for plots_hex in widgets.COLORS[:4]
                ]
            )[labels + 1]
            np.testing.assert_array_equal(colors, expected, err_msg=f"lr {lr}, {opt.name}")
            frame += 1
    x, y, w, h = cells["box"]
    assert w > 100 and h > 100 and x >= 0 and y >= 0


def test_moving_image_with_too_many_colours_is_refused():
    def setup():
        fig, ax = plt.subplots()
        image = ax.imshow(np.zeros((2, 2)), vmin=0, vmax=1)
        return fig, {"image": image, "animated": [image]}

    def update(h, seed):
        h["image"].set_data(np.random.default_rng(int(seed)).random((10, 10)))

    demo = widgets.Demo({"seed": widgets.Slider(0, 1, 1, 0)}, setup, update)
    with pytest.raises(ValueError, match="at most 62 colours"):
        demo.to_html()


def _texts_figure():
    fig = plt.figure(figsize=(4, 2), dpi=72)
    ax = fig.add_axes((0.1, 0.2, 0.8, 0.6))
    ax.plot([0, 1], [0, 1])
    for i, (text, props) in enumerate(
        [
            ("after 137 steps: f - f* = 1.23e-04", {"fontsize": 10}),
            ("adam: diverged at step 12", {"fontsize": 8, "color": "C1"}),
            ("$f(x_k) - f^*$ bold", {"fontsize": 9, "fontweight": "bold"}),
            ("rotated", {"rotation": 30}),
        ]
    ):
        # positions with different sub-pixel parts
        ax.text(0.013 + 0.071 * i, 0.1 + 0.2237 * i, text, transform=ax.transAxes, **props)
    return fig


def test_cached_glyphs_draw_matplotlibs_pixels():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    plain, cached = _texts_figure(), _texts_figure()
    FigureCanvasAgg(plain).draw()
    canvas = FigureCanvasAgg(cached)
    widgets._GLYPHS.clear()
    widgets._cache_glyphs(canvas.get_renderer())
    canvas.draw()  # renders the glyphs and keeps them
    canvas.draw()  # draws them from the cache
    if hasattr(canvas.get_renderer(), "_learnlr_glyphs"):  # matplotlib with these internals
        assert len(widgets._GLYPHS) > 20
    np.testing.assert_array_equal(
        np.asarray(canvas.buffer_rgba()), np.asarray(plain.canvas.buffer_rgba())
    )
    plt.close(plain)
    plt.close(cached)


def test_cached_glyphs_fall_back_to_matplotlib_when_freetype_refuses():
    # FreeType can refuse a glyph now and then ("invalid outline"); the text is then drawn
    # by matplotlib's own path, whole, and looks the same
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    plain, cached = _texts_figure(), _texts_figure()
    FigureCanvasAgg(plain).draw()
    canvas = FigureCanvasAgg(cached)
    renderer = canvas.get_renderer()
    widgets._GLYPHS.clear()
    widgets._cache_glyphs(renderer)
    if not hasattr(renderer, "_learnlr_glyphs"):
        pytest.skip("this matplotlib has no glyph internals to cache (drawn as usual)")
    refusals = []

    class Refusing:  # the real font, except that its first render fails
        def __init__(self, font):
            self._font = font

        def __getattr__(self, name):
            return getattr(self._font, name)

        def _render_glyph(self, *args):
            if not refusals:
                refusals.append(args)
                raise RuntimeError("FT_Load_Glyph failed with error 0x14: invalid outline")
            return self._font._render_glyph(*args)

    inner = renderer._draw_text_glyphs_and_boxes

    def with_refusing_fonts(gc, x, y, angle, glyphs, boxes):
        glyphs = [(Refusing(g[0]),) + tuple(g[1:]) for g in glyphs]
        return inner(gc, x, y, angle, glyphs, boxes)

    renderer._draw_text_glyphs_and_boxes = with_refusing_fonts
    canvas.draw()
    assert len(refusals) == 1
    np.testing.assert_array_equal(
        np.asarray(canvas.buffer_rgba()), np.asarray(plain.canvas.buffer_rgba())
    )
    plt.close(plain)
    plt.close(cached)


def test_demos_draw_one_at_a_time():
    # every demo's drawing holds the same lock: matplotlib and FreeType are not made for
    # two threads drawing at once (a live widget's worker and another demo's, say)
    first, second = DEMOS["race_demo"](), DEMOS["race_demo"]()
    assert first._lock is second._lock
    seen = []

    def draw_elsewhere():
        seen.append(first._lock.acquire(timeout=0.05))

    with second._lock:
        worker = threading.Thread(target=draw_elsewhere)
        worker.start()
        worker.join()
    assert seen == [False]


def test_no_frame_is_drawn_ahead_while_a_cell_runs(monkeypatch):
    # In a kernel the cell's thread holds the drawing lock from pre_execute to post_execute
    # (the cell that makes the widget too), so a frame drawn ahead never runs beside a
    # cell's own plotting; between cells the worker draws.
    import IPython
    from IPython.core.events import EventManager, available_events

    class Shell:
        pass

    shell = Shell()
    shell.events = EventManager(shell, available_events)
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)

    def free():  # whether another thread (a live widget's worker) may draw now
        got = []

        def try_to_draw():
            got.append(widgets._DRAWING.acquire(timeout=0.05))
            if got[0]:
                widgets._DRAWING.release()

        worker = threading.Thread(target=try_to_draw)
        worker.start()
        worker.join()
        return got[0]

    demo = _lr_demo()
    demo.widget(coalesce=False)  # in the cell that makes it (no worker: the lock alone)
    assert not free()
    shell.events.trigger("post_execute")
    assert free()
    shell.events.trigger("pre_execute")  # the next cell
    assert not free()
    demo.update(lr=0.05)  # the cell's own thread still draws
    demo.render_png()
    shell.events.trigger("post_execute")
    shell.events.trigger("post_execute")  # one more (a cell that failed before it ran)
    assert free()
    _lr_demo().widget(coalesce=False)  # the hooks are registered once
    shell.events.trigger("post_execute")
    assert len(shell.events.callbacks["pre_execute"]) == 1
    assert free()


def test_recent_results_are_reused_and_bounded():
    calls = []
    recent = widgets._Recent(lambda a, b: calls.append((a, b)) or a + b, size=2)
    results = [recent(1, 2), recent(1, 2), recent(3, 4), recent(5, 6), recent(1, 2)]
    assert results == [3, 3, 7, 11, 3]
    # (1, 2) was computed once, then dropped when two newer pairs came
    assert calls == [(1, 2), (3, 4), (5, 6), (1, 2)]


def test_recent_results_by_a_key_share_one_entry():
    # the demo's frames: control values equal to 10 significant digits share one frame
    calls = []
    recent = widgets._Recent(
        lambda values: calls.append(values) or len(calls), size=3, key=widgets.Demo._key
    )
    first = recent({"lr": 0.1, "steps": 5})
    again = recent({"lr": 0.1 * (1 + 1e-12), "steps": 5})  # the same rate to 10 digits
    other = recent({"lr": 0.2, "steps": 5})
    assert (first, again, other) == (1, 1, 2) and len(calls) == 2
    assert widgets.Demo._key({"lr": 0.1, "steps": 5}) in recent and len(recent) == 2
    assert widgets.Demo._key({"lr": 0.3, "steps": 5}) not in recent


@pytest.mark.parametrize("lr", [0.05, 0.3])  # 0.3 diverges on this bowl
def test_a_growing_run_is_the_run_of_that_many_updates(lr):
    # the race demo grows one run per optimizer and rate as the steps slider moves; any
    # length asked for, in any order, must be exactly run(problem, opt, n)
    bowl = _bowl()
    opt = optimizers.adam(lr=lr) if lr == 0.05 else optimizers.gd(lr=lr)
    growing = widgets._Growing(bowl, opt, 1e8 * max(1.0, abs(float(bowl.loss(bowl.x0)))))
    for n in (10, 40, 20, 200, 7, 200, 350):
        path, tr = growing.first(n), run(bowl, opt, n)
        np.testing.assert_array_equal(path.k, tr.k)
        np.testing.assert_array_equal(path.x, tr.x)
        np.testing.assert_array_equal(path.gap, tr.gap())
        assert path.diverged_at == tr.diverged_at, n
