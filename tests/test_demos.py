"""The chapters' demos of learnlr.viz.demos: they build, draw, refuse bad values, and keep still.

Each demo is built small (a few rounds, a tiny network, a synthetic sweep). For each: a
few control values draw and change what is drawn; a value outside a control's range is
refused with an error naming the demo and the control; the frame for a value is the same
whatever was shown before (the cached backgrounds and frames drawn ahead are exact); the
axes do not move while the controls do; and what the demo shows is the quantity it claims
to show, recomputed here from the package's math.
"""

import functools
import io

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from learnlr import optimizers, problems, schedules
from learnlr.course import claims
from learnlr.course.ch07_schedules import gd_many
from learnlr.course.ch09_finder import lr_grid
from learnlr.finder import lr_find
from learnlr.problems import mlp, online
from learnlr.viz import demos
from learnlr.viz.widgets import Choice, LogSlider


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---- the demos, built small -----------------------------------------------------------
def _amsgrad():
    return demos.amsgrad_demo(rounds=60)


def _warmup():
    return demos.warmup_demo(problems.rosenbrock(), steps=300)


@functools.cache
def _finder_inputs():
    sizes = {"1": 1, "full": None}
    make = functools.partial(problems.least_squares, n_samples=40)  # small: quick sweeps
    sweep_problems = {b: make(batch_size=bs, seed=0) for b, bs in sizes.items()}
    grids = {
        b: lr_grid(
            functools.partial(make, batch_size=bs),
            optimizers.sgd,
            [0.01, 0.03, 0.1],
            steps=40,
            seeds=(0,),
            max_extend=0,
        )
        for b, bs in sizes.items()
    }
    return sweep_problems, grids


def _finder():
    sweep_problems, grids = _finder_inputs()
    return demos.finder_demo(sweep_problems, grids, batch="full")


EPOCHS = 2


@functools.cache
def _network_runs():
    net = mlp.mlp_problem(hidden=(8,), seed=0)
    steps = EPOCHS * net.batches_per_epoch
    runs = {}
    for name, make_opt in {"SGD": optimizers.sgd, "Adam": optimizers.adam}.items():
        lr = 0.1 if name == "SGD" else 0.01
        runs[name] = {
            "lr x 1": (lr, mlp.train(net, make_opt(lr=lr), EPOCHS)),
            "lr x 1000": (lr * 1000, mlp.train(net, make_opt(lr=lr * 1000), EPOCHS)),
            "cosine": (
                lr,
                mlp.train(net, make_opt(lr=schedules.cosine_annealing(lr, T_max=steps)), EPOCHS),
            ),
        }
    return runs, net.batches_per_epoch


def _training_runs():
    runs, batches = _network_runs()
    return demos.training_runs_demo(runs, batches, EPOCHS, scheduled={"cosine"})


LRS = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0])
SWEEPS = {
    "bowl": (
        LRS,
        {
            "SGD": np.array([5.0, 0.3, 0.2, 0.35, np.inf]),
            "Adam": np.array([0.25, 0.22, 0.2, 0.3, 0.5]),
            "AdaGrad": np.array([9.0, 1.0, 0.4, 0.2, 0.3]),
        },
    ),
    "valley": (
        LRS[1:],
        {
            "SGD": np.array([0.1, 0.05, np.inf, np.inf]),
            "Adam": np.array([0.2, 0.02, 0.03, 0.5]),
            "AdaGrad": np.array([0.04, 0.05, 0.5, np.inf]),
        },
    ),
}


def _good_range():
    return demos.good_range_demo(SWEEPS, adaptive=["Adam", "AdaGrad"], problem="valley")


DEMOS = {
    "amsgrad_demo": _amsgrad,
    "warmup_demo": _warmup,
    "finder_demo": _finder,
    "training_runs_demo": _training_runs,
    "good_range_demo": _good_range,
}


# ---- helpers -------------------------------------------------------------------------
def _drawn(fig):
    """Everything the figure's lines and texts show, as plain Python data."""
    data = []
    for ax in fig.axes:
        data += [np.asarray(line.get_xydata()).round(12).tolist() for line in ax.get_lines()]
        data += [text.get_text() for text in ax.texts]
    return data


def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png))).astype(int)


def _limits(fig):
    return [(ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale()) for ax in fig.axes]


def _values(demo):
    """A few values of every control: its default, its two ends, and one between."""
    moves = []
    for name, spec in demo.controls.items():
        grid = list(spec.grid())
        for v in (grid[0], grid[len(grid) // 2], grid[-1]):
            moves.append({name: v.item() if isinstance(v, np.generic) else v})
    return moves


def _outside(spec):
    """Values the control cannot show."""
    if isinstance(spec, Choice):
        return ["no such option", 3]
    if isinstance(spec, LogSlider):
        return [10.0 ** (spec.max_exp + 1), 10.0 ** (spec.min_exp - 1), 0.0, -1.0, np.nan]
    span = spec.max - spec.min
    return [spec.max + span, spec.min - span, np.inf, np.nan]


# ---- every demo ----------------------------------------------------------------------
@pytest.mark.parametrize("name", DEMOS)
def test_each_control_value_draws_and_changes_the_figure(name):
    demo = DEMOS[name]()
    defaults = _drawn(demo.figure())
    assert demo.render_png().startswith(b"\x89PNG")
    changed = set()
    for values in _values(demo):
        drawn = _drawn(demo.figure(**values))
        assert demo.render_png().startswith(b"\x89PNG")
        if drawn != defaults:
            changed |= set(values)
    assert changed == set(demo.controls), f"{name}: {set(demo.controls) - changed} changed nothing"


@pytest.mark.parametrize("name", DEMOS)
def test_a_value_outside_a_controls_range_is_refused(name):
    demo = DEMOS[name]()
    for control, spec in demo.controls.items():
        for value in _outside(spec):
            with pytest.raises(ValueError, match=rf"^{name}: {control} must be"):
                demo.figure(**{control: value})
        if not isinstance(spec, Choice):
            with pytest.raises(TypeError, match=rf"^{name}: {control} must be a real number"):
                demo.figure(**{control: "0.1"})
    # the kernel-free export refuses them too
    control, spec = next(iter(demo.controls.items()))
    with pytest.raises(ValueError, match=rf"^{name}: {control} must be"):
        demo.to_html(grid={control: [_outside(spec)[0]]})


@pytest.mark.parametrize("name", DEMOS)
def test_the_errors_say_what_is_allowed(name):
    demo = DEMOS[name]()
    for control, spec in demo.controls.items():
        bad = _outside(spec)[0]
        with pytest.raises(ValueError) as err:
            demo.figure(**{control: bad})
        message = str(err.value)
        assert repr(bad) in message
        if isinstance(spec, Choice):
            assert all(repr(o) in message for o in spec.options)
        else:
            assert " in [" in message


@pytest.mark.parametrize("name", DEMOS)
def test_a_frame_is_the_same_whatever_was_shown_before(name):
    # one demo walks through every control's values (cached backgrounds, partial redraws);
    # the frame it shows for each must be exactly the one a full redraw gives, and the last
    # one exactly a fresh demo's (whose layout was found with those values)
    walked, reference = DEMOS[name](), DEMOS[name]()
    walked.render_png()
    reference.render_png()
    for values in _values(walked):  # each with the other controls at their defaults
        walked.update(**values)
        reference.update(**values)
        reference._background = None  # draw everything from scratch
        np.testing.assert_array_equal(
            _pixels(walked.render_png()),
            _pixels(reference.render_png()),
            err_msg=f"{name} after {values}",
        )
    fresh = DEMOS[name]()
    fresh.update(**values)
    np.testing.assert_array_equal(_pixels(walked.render_png()), _pixels(fresh.render_png()))


@pytest.mark.parametrize("name", DEMOS)
def test_the_axes_stay_put_while_the_controls_move(name):
    demo = DEMOS[name]()
    fig = demo.figure()
    before = _limits(fig)
    for values in _values(demo):
        demo.update(**values)
        assert _limits(fig) == before, f"{name}: {values} moved the axes"
    # and the kernel-free export needs only the one background
    page = demo.to_html(grid={k: list(s.grid())[:2] for k, s in demo.controls.items()})
    assert 'class="learnlr-demo"' in page and "<canvas" in page
    assert _limits(fig) == before


@pytest.mark.parametrize("name", DEMOS)
def test_frames_drawn_ahead_are_the_frames_a_move_draws(name):
    demo = DEMOS[name]()
    view = demo.widget()
    (image,) = [c for c in view.children if isinstance(c, ipywidgets.Image)]
    # a control with two arrow-key steps left above its default
    control, spec = next(
        (k, s)
        for k, s in demo.controls.items()
        if s.near(s.value, 1) is not None and s.near(s.near(s.value, 1), 1) is not None
    )
    (slider,) = [
        c
        for row in view.children
        for c in getattr(row, "children", ())
        if getattr(c, "description", None) == (spec.description or control)
    ]
    slider.value = spec.near(slider.value, 1)
    assert demo.wait()
    ahead = {**demo.shown, control: spec.near(slider.value, 1)}
    assert demo._key(ahead) in demo._frames, f"{name}: the next value was not drawn ahead"

    def no_drawing(values):
        raise AssertionError(f"drew {values} again")

    demo._frame = no_drawing  # the move below must be answered with the frame drawn ahead
    slider.value = ahead[control]
    assert demo.wait()
    fresh = DEMOS[name]()
    fresh.update(**ahead)
    np.testing.assert_array_equal(_pixels(bytes(image.value)), _pixels(fresh.render_png()))


# ---- what each demo shows ------------------------------------------------------------
def test_amsgrad_demo_shows_the_runs_of_run_online():
    demo = demos.amsgrad_demo(rounds=90, alpha=0.3)
    fig = demo.figure(C=5.0, beta2=0.2)
    p = online.reddi_problem(5.0)
    for i, amsgrad in enumerate((False, True)):
        opt = optimizers.adam(lr=online.inverse_sqrt(0.3), betas=(0.0, 0.2), amsgrad=amsgrad)
        tr = online.run_online(p, opt, 90)
        np.testing.assert_array_equal(fig.axes[0].get_lines()[i].get_ydata(), tr.x[:, 0])
        np.testing.assert_array_equal(
            fig.axes[1].get_lines()[i].get_ydata(), np.maximum(tr.avg_regret, 1e-3)
        )
    assert fig.axes[0].texts[0].get_text() == "C = 5, beta2 = 0.2  (1/(1 + C^2) = 0.0385)"


def test_amsgrad_demo_arguments_are_checked():
    with pytest.raises(ValueError, match=r"^amsgrad_demo: rounds must be an integer >= 1, got 0"):
        demos.amsgrad_demo(rounds=0)
    with pytest.raises(ValueError, match=r"^amsgrad_demo: alpha must be in \(0, inf\)"):
        demos.amsgrad_demo(alpha=0.0)


def test_warmup_demo_shows_both_runs_and_their_outcome():
    rosen = problems.rosenbrock()
    demo = demos.warmup_demo(rosen, steps=300, start_factor=0.05)
    fig = demo.figure(peak=2e-3, warmup=200)
    k = np.arange(300)
    rates = np.stack(
        [np.full(300, 2e-3), schedules.linear_lr(2e-3, start_factor=0.05, total_iters=200)(k)]
    )
    res = gd_many(rosen, rates)
    no, warm = fig.axes[0].get_lines()[:2]
    assert no.get_xdata()[-1] == 300 and np.all(np.diff(no.get_xdata()) > 0)
    shown = no.get_xdata()
    for line, r in ((no, 0), (warm, 1)):
        expect = np.clip(res.loss[shown, r] - rosen.f_min, 1e-8, 1e6)
        np.testing.assert_array_equal(line.get_ydata(), expect)
    outcomes = [demos.warmup_outcome(res.loss[:, r], res.diverged_at[r]) for r in (0, 1)]
    assert fig.axes[0].texts[0].get_text() == f"no warmup: {outcomes[0]}  |  warmup: {outcomes[1]}"
    # warmup 0 is no warmup: both curves are the same run
    fig = demo.figure(peak=2e-3, warmup=0)
    no, warm = fig.axes[0].get_lines()[:2]
    np.testing.assert_array_equal(no.get_ydata(), warm.get_ydata())


def test_warmup_outcome_reads_the_spike_and_the_end():
    assert demos.warmup_outcome(np.array([2.0, 3.0, 1.0, 0.5]), -1) == "spike 1.5x, end 5.0e-01"
    assert demos.warmup_outcome([2.0, 1.0], -1) == "spike 1x, end 1.0e+00"
    assert demos.warmup_outcome([2.0, 1e12, np.nan], 1) == "diverged at step 1"


def test_warmup_demo_arguments_are_checked():
    rosen = problems.rosenbrock()
    with pytest.raises(ValueError, match=r"^warmup_demo: steps must be an integer >= 1"):
        demos.warmup_demo(rosen, steps=0)
    with pytest.raises(ValueError, match=r"^warmup_demo: start_factor must be in \(0, 1\]"):
        demos.warmup_demo(rosen, start_factor=0.0)
    with pytest.raises(TypeError, match=r"^warmup_demo: peak must be a LogSlider"):
        demos.warmup_demo(rosen, peak=0.002)
    with pytest.raises(TypeError, match=r"^warmup_demo: problem must be"):
        demos.warmup_demo("rosenbrock")


def test_finder_demo_shows_the_sweep_and_the_grid():
    sweep_problems, grids = _finder_inputs()
    demo = _finder()
    fig = demo.figure(num_it=60, batch="1", beta=0.9)
    r = lr_find(sweep_problems["1"], optimizers.sgd, num_it=60, beta=0.9)
    ax0, ax1 = fig.axes
    lines0 = ax0.get_lines()
    np.testing.assert_array_equal(lines0[1].get_xydata(), np.column_stack([r.lrs, r.smoothed]))
    star = ax1.get_lines()[1]
    assert star.get_xydata().tolist() == [[grids["1"].best_lr, grids["1"].best_loss]]
    markers = dict(zip(demos.FINDER_MARKERS, lines0[2:6], strict=True))
    for rule, line in markers.items():
        expected = [r.suggestions[rule]] if rule in r.suggestions else []
        assert list(line.get_xdata()) == expected, rule
    assert ax1.texts[0].get_text() == f"training runs, batch 1: best rate {grids['1'].best_lr:.2g}"


def test_finder_demo_arguments_are_checked():
    sweep_problems, grids = _finder_inputs()
    with pytest.raises(ValueError, match=r"^finder_demo: grids must have the keys of problems"):
        demos.finder_demo(sweep_problems, {"1": grids["1"]})
    with pytest.raises(ValueError, match=r"^finder_demo: batch must be one of \['1', 'full'\]"):
        demos.finder_demo(sweep_problems, grids, batch="32")
    with pytest.raises(TypeError, match=r"^finder_demo: problems must be a non-empty dict"):
        demos.finder_demo([], grids)


def test_training_runs_demo_shows_the_chosen_run_over_the_others():
    runs, batches = _network_runs()
    demo = _training_runs()
    fig = demo.figure(optimizer="SGD", run_label="cosine")
    lr, r = runs["SGD"]["cosine"]
    ax0, ax1 = fig.axes
    loss, acc = ax0.get_lines()[-1], ax1.get_lines()[-1]
    np.testing.assert_array_equal(loss.get_xdata(), r.k / batches)
    np.testing.assert_array_equal(loss.get_ydata(), r.train_loss)
    np.testing.assert_array_equal(acc.get_ydata(), r.test_acc)
    assert ax0.texts[0].get_text() == f"SGD, cosine: peak {lr:.3g}"
    ghosts = ax0.get_lines()[:-1]
    assert len(ghosts) == 3
    np.testing.assert_array_equal(ghosts[1].get_ydata(), runs["SGD"]["lr x 1000"][1].train_loss)
    fig = demo.figure(optimizer="Adam", run_label="lr x 1")
    assert fig.axes[0].texts[0].get_text() == f"Adam, lr x 1: lr {runs['Adam']['lr x 1'][0]:.3g}"


def test_training_runs_demo_arguments_are_checked():
    runs, batches = _network_runs()
    uneven = {"SGD": runs["SGD"], "Adam": dict(list(runs["Adam"].items())[:2])}
    with pytest.raises(ValueError, match=r"^training_runs_demo: every optimizer needs the runs"):
        demos.training_runs_demo(uneven, batches, EPOCHS)
    with pytest.raises(ValueError, match=r"^training_runs_demo: scheduled must name runs among"):
        demos.training_runs_demo(runs, batches, EPOCHS, scheduled=["warmup"])
    with pytest.raises(ValueError, match=r"^training_runs_demo: optimizer must be one of"):
        demos.training_runs_demo(runs, batches, EPOCHS, optimizer="Lion")
    with pytest.raises(ValueError, match=r"^training_runs_demo: epochs must be an integer >= 1"):
        demos.training_runs_demo(runs, batches, 0)


def test_good_range_demo_shows_claims_good_range():
    demo = _good_range()
    for problem, tol in (("bowl", 2.0), ("bowl", 10.0), ("valley", 1.5)):
        fig = demo.figure(problem=problem, tol=tol)
        lrs, finals = SWEEPS[problem]
        bars = fig.axes[1].get_lines()
        widths = {n: claims.good_range(lrs, f, tol).width for n, f in finals.items()}
        assert [bar.get_xdata()[1] for bar in bars] == list(widths.values())
        adaptive = max(widths["Adam"], widths["AdaGrad"])
        assert fig.axes[1].texts[0].get_text() == (
            f"widest adaptive {adaptive:.2f}, widest other {widths['SGD']:.2f} decades"
        )
    # the axes hold every sweep: the rates' whole span, and the widest range it allows
    ax0, ax1 = fig.axes
    assert ax0.get_xlim() == pytest.approx((LRS[0] / 2, LRS[-1] * 2))
    assert ax1.get_xlim() == pytest.approx((0.0, 4.0))


def test_good_range_demo_arguments_are_checked():
    with pytest.raises(ValueError, match=r"^good_range_demo: adaptive must name some but not all"):
        demos.good_range_demo(SWEEPS, adaptive=["SGD", "Adam", "AdaGrad"])
    with pytest.raises(ValueError, match=r"^good_range_demo: adaptive must name some but not all"):
        demos.good_range_demo(SWEEPS, adaptive=["Lion"])
    with pytest.raises(ValueError, match=r"^good_range_demo: tol must be in \[1e0, 1e3\]"):
        demos.good_range_demo(SWEEPS, adaptive=["Adam"], tol=0.5)
    uneven = {**SWEEPS, "other": (LRS, {"SGD": LRS})}
    with pytest.raises(ValueError, match=r"^good_range_demo: every sweep needs the optimizers"):
        demos.good_range_demo(uneven, adaptive=["Adam"])
    with pytest.raises(TypeError, match=r"^good_range_demo: sweeps\['x'\] must be a pair"):
        demos.good_range_demo({"x": LRS}, adaptive=["Adam"])
