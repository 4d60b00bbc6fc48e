"""The chapters' own widget demos, each one call: ``demos.warmup_demo(rosen)``.

Each function returns a :class:`learnlr.viz.widgets.Demo`, so the chapter shows it the usual
way: ``demo.widget()`` for live controls, ``demo.figure(**values)`` for the static figure,
``demo.to_html(grid)`` for the rendered book's kernel-free version. The widget wiring
(artists, fixed axis limits, titles, the moving parts listed for blitting) lives here; the
runs a chapter measures are passed in when the chapter's text is about them (the finder's
grids, the network's runs, the sweeps), or made here when they are cheap and the chapter
shows the same computation beside the demo.

Every demo refuses control values outside its controls' ranges (a dropdown's value must be
one of its options; a slider's value may lie half a step beyond an end, as an arrow-key
neighbour or a rounded grid value can) with a ``ValueError`` naming the demo, the control
and the allowed range.

============================  =======  ===============================================
demo                          chapter  what it shows
============================  =======  ===============================================
:func:`amsgrad_demo`          6        Reddi et al.'s problem: Adam against AMSGrad
:func:`warmup_demo`           8        gradient descent with and without warmup
:func:`finder_demo`           9        the finder's sweep against fixed-rate runs
:func:`training_runs_demo`    10       the network's training runs, one at a time
:func:`good_range_demo`       11       the good range of rates for a tolerance
============================  =======  ===============================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np

from learnlr import optimizers, schedules
from learnlr._checks import check_int, check_interval, check_make_opt
from learnlr.course import claims
from learnlr.course.ch07_schedules import gd_many
from learnlr.finder import lr_find
from learnlr.problems import Problem, online
from learnlr.problems.functions import check_problem
from learnlr.viz.plots import COLORS
from learnlr.viz.widgets import Choice, Demo, LogSlider, Slider

__all__ = [
    "amsgrad_demo",
    "warmup_demo",
    "warmup_outcome",
    "finder_demo",
    "training_runs_demo",
    "good_range_demo",
]


# --------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------
def _range_text(spec) -> str:
    if isinstance(spec, Choice):
        return f"one of {list(spec.options)}"
    if isinstance(spec, LogSlider):
        return f"in [1e{spec.min_exp:g}, 1e{spec.max_exp:g}]"
    return f"in [{spec.min:g}, {spec.max:g}]"


def _check_control(func: str, name: str, spec, value):
    """``value`` if the control ``spec`` (a Slider, LogSlider or Choice) can show it, else raise.

    A slider's value may lie up to half a step beyond either end (the tolerance of
    ``Slider.near``); a dropdown's must be one of its options.
    """
    if isinstance(spec, Choice):
        return _check_option(func, name, value, spec.options)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{func}: {name} must be a real number, got {value!r}")
    if isinstance(spec, LogSlider):
        inside = value > 0 and (
            spec.min_exp - spec.step / 2 <= np.log10(value) <= spec.max_exp + spec.step / 2
        )
    else:
        inside = spec.min - spec.step / 2 <= value <= spec.max + spec.step / 2
    if not (np.isfinite(value) and inside):
        raise ValueError(f"{func}: {name} must be {_range_text(spec)}, got {value!r}")
    return value


def _check_option(func: str, name: str, value, options: tuple):
    if isinstance(value, str) and value in options:
        return value
    raise ValueError(f"{func}: {name} must be one of {list(options)}, got {value!r}")


def _checked(func: str, controls: dict, update: Callable) -> Callable:
    """``update`` that first checks every control value it is given (see ``_check_control``)."""

    def checked(handles, **values):
        for name, value in values.items():
            _check_control(func, name, controls[name], value)
        return update(handles, **values)

    return checked


def _title(ax, fontsize):
    """A text in the title's place that a frame can change (the title itself reserves room)."""
    ax.set_title(" ", fontsize=fontsize)
    return ax.text(0.5, 1.02, "", transform=ax.transAxes, ha="center", fontsize=fontsize)


def _check_mapping(func: str, name: str, value) -> dict:
    if not isinstance(value, Mapping) or not value:
        raise TypeError(f"{func}: {name} must be a non-empty dict, got {value!r}")
    return dict(value)


# --------------------------------------------------------------------------------------
# Chapter 6: Adam against AMSGrad on Reddi et al.'s problem
# --------------------------------------------------------------------------------------
def amsgrad_demo(rounds: int = 400, alpha: float = 0.5) -> Demo:
    r"""Chapter 6's demo: Adam and AMSGrad on Reddi et al.'s online problem, for any C and beta2.

    Both run :func:`learnlr.problems.online.run_online` on
    :func:`learnlr.problems.online.reddi_problem` (the gradient is :math:`C` once every three
    rounds and :math:`-1` otherwise, on :math:`[-1, 1]`, best point :math:`-1`) with
    ``betas=(0, beta2)`` and the step size :math:`\alpha_t = \alpha/\sqrt t` of
    :func:`learnlr.problems.online.inverse_sqrt`. Left: the point :math:`x_t` of each, with
    the best point dotted; right: the average regret
    :math:`R_T/T` on log axes (shown from ``1e-3``). The titles give :math:`C`,
    :math:`\beta_2`, the large gradient's share of the rounds' squared gradients
    :math:`1/(1 + C^2)`, and the mean of each one's last three points.

    Controls: ``C`` (2.5 to 10), the large gradient; ``beta2`` (0 to 0.99), the memory of
    :math:`v`. The axes never move.

    Args:
        rounds: rounds of each run (an integer >= 1).
        alpha: :math:`\alpha > 0` of the step size.

    Example:
        >>> from learnlr.viz import demos
        >>> demo = demos.amsgrad_demo(rounds=60)
        >>> sorted(demo.controls)
        ['C', 'beta2']
        >>> demo.figure(C=3.0, beta2=0.1).axes[1].texts[0].get_text()
        'final x: Adam +0.97, AMSGrad -0.98'
    """
    func = "amsgrad_demo"
    rounds = check_int(func, "rounds", rounds, 1)
    alpha = check_interval(func, "alpha", alpha, 0.0, np.inf, "()")
    controls = {"C": Slider(2.5, 10.0, 0.5, 3.0), "beta2": Slider(0.0, 0.99, 0.01, 0.1)}

    def setup():
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        t = np.arange(1, rounds + 2)  # x_t for t = 1 .. rounds + 1
        T = np.arange(1, rounds + 1)  # R_T / T for T = 1 .. rounds
        lines, regrets = [], []
        for name, color in (("Adam", "C0"), ("AMSGrad", "C1")):
            lines.append(axes[0].semilogx(t, np.zeros(t.size), color=color, label=name)[0])
            regrets.append(axes[1].loglog(T, np.ones(T.size), color=color, label=name)[0])
        axes[0].axhline(-1, color="k", lw=0.8, ls=":")
        axes[0].set_ylim(-1.1, 1.1)
        axes[0].set_xlabel("round t")
        axes[0].set_ylabel("$x_t$")
        axes[1].set_ylim(1e-3, 10)
        axes[1].set_xlabel("round T")
        axes[1].set_ylabel("$R_T / T$")
        for ax in axes:
            ax.legend(fontsize=8, loc="lower left")
        titles = [_title(ax, fontsize=9) for ax in axes]
        return fig, {
            "lines": lines,
            "regrets": regrets,
            "titles": titles,
            "animated": [*lines, *regrets, *titles],
        }

    @functools.lru_cache(maxsize=256)  # a slider dragged back shows runs already made
    def runs(C, beta2):
        problem = online.reddi_problem(C)
        return [
            online.run_online(
                problem,
                optimizers.adam(lr=online.inverse_sqrt(alpha), betas=(0.0, beta2), amsgrad=a),
                rounds,
            )
            for a in (False, True)
        ]

    def update(h, C, beta2):
        finals = []
        for i, tr in enumerate(runs(float(C), float(beta2))):
            h["lines"][i].set_ydata(tr.x[:, 0])
            h["regrets"][i].set_ydata(np.maximum(tr.avg_regret, 1e-3))
            finals.append(tr.x[-3:, 0].mean())
        h["titles"][0].set_text(
            f"C = {C:g}, beta2 = {beta2:g}  (1/(1 + C^2) = {1 / (1 + C * C):.3g})"
        )
        h["titles"][1].set_text(f"final x: Adam {finals[0]:+.2f}, AMSGrad {finals[1]:+.2f}")

    return Demo(
        controls,
        setup,
        _checked(func, controls, update),
        title="Reddi et al.'s problem: Adam vs AMSGrad",
    )


# --------------------------------------------------------------------------------------
# Chapter 8: warmup on Rosenbrock
# --------------------------------------------------------------------------------------
def warmup_outcome(loss, diverged_at) -> str:
    """One run's outcome in words: where it diverged, or its spike and its final loss.

    The spike is the largest loss over the first, ``max(loss) / loss[0]`` (``1x``: the loss
    never rose above its start).

    Args:
        loss: the run's loss at every point, the start first (a column of
            :func:`learnlr.course.ch07_schedules.gd_many`'s ``loss``).
        diverged_at: the update after which the run blew up, or a negative number if it
            did not (``gd_many``'s ``diverged_at``).

    Example:
        >>> warmup_outcome([4.0, 10.0, 1e-3], -1)
        'spike 2.5x, end 1.0e-03'
        >>> warmup_outcome([4.0, 1e9, float("nan")], 1)
        'diverged at step 1'
    """
    if diverged_at >= 0:
        return f"diverged at step {diverged_at}"
    loss = np.asarray(loss, dtype=float)
    return f"spike {np.max(loss) / loss[0]:.3g}x, end {loss[-1]:.1e}"


def warmup_demo(
    problem: Problem, steps: int = 1200, start_factor: float = 0.01, peak: LogSlider | None = None
) -> Demo:
    r"""Chapter 8's demo: gradient descent with and without a linear warmup, for a peak rate.

    Two runs of plain gradient descent from ``problem.x0``, together
    (:func:`learnlr.course.ch07_schedules.gd_many`): one at the constant rate ``peak``, one
    whose rate climbs linearly from ``start_factor * peak`` to ``peak`` over the first
    ``warmup`` updates (:func:`learnlr.schedules.linear_lr`) and stays there. The figure
    shows :math:`f(x_k) - f^*` of both on a log axis fixed from ``1e-8`` to ``1e6`` (values
    beyond are drawn at the edge); the title gives each run's outcome in the words of
    :func:`warmup_outcome`. The curves are drawn at every step up to 100, then at every 4th.

    Controls: ``peak`` (default: a log slider from ``10**-3.2`` to ``10**-2.6``, chapter
    8's range on Rosenbrock) and ``warmup``, the length of the warmup (0 to 1000 steps;
    0 means none).

    Args:
        problem: a deterministic 2-D problem whose gradient takes a stack of points (the
            test functions do), with ``f_min``.
        steps: updates of each run (an integer >= 1).
        start_factor: the warmup's first rate as a fraction of ``peak``, in (0, 1].
        peak: a :class:`~learnlr.viz.widgets.LogSlider` for the peak rate (default as above).

    Example:
        >>> from learnlr import problems
        >>> from learnlr.viz import demos
        >>> demo = demos.warmup_demo(problems.rosenbrock(), steps=200)
        >>> fig = demo.figure(peak=2.1e-3, warmup=0)
        >>> fig.axes[0].texts[0].get_text()
        'no warmup: diverged at step 6  |  warmup: diverged at step 6'
        >>> fig.axes[0].get_ylim() == (1e-8, 1e6)  # fixed, whatever the runs do
        True
    """
    func = "warmup_demo"
    check_problem(func, problem)
    if problem.f_min is None:
        raise ValueError(f"{func}: {problem.name} needs f_min")
    steps = check_int(func, "steps", steps, 1)
    start_factor = check_interval(func, "start_factor", start_factor, 0.0, 1.0, "(]")
    peak = (
        LogSlider(-3.2, -2.6, 1.95e-3, step=0.01, description="peak lr") if peak is None else peak
    )
    if not isinstance(peak, LogSlider):
        raise TypeError(f"{func}: peak must be a LogSlider, got {peak!r}")
    controls = {"peak": peak, "warmup": Slider(0, 1000, 50, 800, description="warmup steps")}
    k = np.arange(steps)
    shown = np.r_[0 : min(100, steps + 1), 100 : steps + 1 : 4]  # fewer points: faster redraw

    def setup():
        fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
        lines = [
            ax.semilogy([1], [1], lw=1, color=COLORS[i], label=label)[0]
            for i, label in enumerate(["no warmup", "with warmup"])
        ]
        ax.set_xlim(0, steps)
        ax.set_ylim(1e-8, 1e6)
        ax.set_xlabel("step k")
        ax.set_ylabel("$f(x_k) - f^*$")
        ax.legend(fontsize=8, loc="lower left")
        ax.set_title(" ")  # reserves the room; the text below changes
        title = ax.text(0.5, 1.02, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=9)
        return fig, {"lines": lines, "title": title, "animated": [*lines, title]}

    def update(h, peak, warmup):
        rates = np.stack([np.full(steps, peak), np.full(steps, peak)])
        if warmup > 0:
            rates[1] = schedules.linear_lr(
                peak, start_factor=start_factor, total_iters=int(warmup)
            )(k)
        res = gd_many(problem, rates)
        text = []
        for r, line in enumerate(h["lines"]):
            gap = res.loss[:, r] - problem.f_min
            line.set_data(shown, np.clip(gap[shown], 1e-8, 1e6))
            text.append(warmup_outcome(res.loss[:, r], res.diverged_at[r]))
        h["title"].set_text(f"no warmup: {text[0]}  |  warmup: {text[1]}")

    return Demo(
        controls,
        setup,
        _checked(func, controls, update),
        title=f"Gradient descent on {problem.name.capitalize()}, with and without warmup",
    )


# --------------------------------------------------------------------------------------
# Chapter 9: the finder against the training runs it should predict
# --------------------------------------------------------------------------------------
#: The marker of each of the finder's suggestion rules.
FINDER_MARKERS = {"minimum": "v", "steep": "o", "valley": "s", "slide": "D"}


def finder_demo(
    problems: dict,
    grids: dict,
    batch: str | None = None,
    make_opt: Callable = optimizers.sgd,
    xlim=(1e-7, 10.0),
    ylim=(0.05, 3e3),
) -> Demo:
    """Chapter 9's demo: the finder's sweep (left) beside the fixed-rate runs it should predict.

    Left: :func:`learnlr.finder.lr_find` of ``make_opt`` on ``problems[batch]``: the batch losses
    (grey), the smoothed loss, and a marker for each suggestion rule (``minimum``, ``steep``,
    ``valley``, ``slide``; a rule with too few points left has none). Right: the mean final
    loss of the training runs ``grids[batch]`` (a :class:`learnlr.course.ch09_finder.LRGrid`)
    at each fixed rate, their best rate as a star, and each suggestion as a dashed line.
    Both panels keep the log axes ``xlim`` by ``ylim``; the titles say where the sweep
    stopped and which rate the runs found best.

    Controls: ``num_it`` (20 to 300), the sweep's number of updates; ``batch``, the
    minibatch size (the keys of ``problems``); ``beta`` (0 to 0.99), the smoothing of the
    loss.

    Args:
        problems: ``{batch label: problem}`` that the finder sweeps.
        grids: ``{batch label: LRGrid}`` measured with the same batch sizes, one per key of
            ``problems``, all with the same number of updates.
        batch: the label shown first (default: the first key).
        make_opt: the function ``lr -> optimizer`` the finder sweeps (``lr_find``'s
            ``make_opt``).
        xlim, ylim: the panels' fixed ranges (rates, losses).
    """
    func = "finder_demo"
    check_make_opt(func, make_opt)
    problems = _check_mapping(func, "problems", problems)
    grids = _check_mapping(func, "grids", grids)
    if list(grids) != list(problems):
        raise ValueError(
            f"{func}: grids must have the keys of problems, {list(problems)}, got {list(grids)}"
        )
    for label, problem in problems.items():
        check_problem(func, problem, name=f"problems[{label!r}]")
    budgets = {grid.steps for grid in grids.values()}
    if len(budgets) != 1:
        raise ValueError(f"{func}: every grid must have one budget of updates, got {budgets}")
    (budget,) = budgets
    labels = tuple(str(label) for label in problems)
    batch = labels[0] if batch is None else batch
    if batch not in labels:
        raise ValueError(f"{func}: batch must be one of {list(labels)}, got {batch!r}")
    controls = {
        "num_it": Slider(20, 300, 10, 100),
        "batch": Choice(labels, batch, description="batch size"),
        "beta": Slider(0.0, 0.99, 0.01, 0.98),
    }

    def setup():
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        raw = ax0.plot([], [], color="0.75", lw=0.8, label="batch loss")[0]
        smooth = ax0.plot([], [], color="C0", label="smoothed loss")[0]
        dots = {
            rule: ax0.plot([], [], m, color=f"C{i + 1}", ms=8, label=rule)[0]
            for i, (rule, m) in enumerate(FINDER_MARKERS.items())
        }
        label = f"final loss after {budget} updates"
        curve = ax1.plot([], [], "-o", color="k", ms=3, label=label)[0]
        star = ax1.plot([], [], "*", color="C3", ms=12, label="measured best")[0]
        vlines = {
            rule: ax1.plot([], [], "--", color=f"C{i + 1}", lw=1.2)[0]
            for i, rule in enumerate(FINDER_MARKERS)
        }
        for ax, xlabel, ylabel in (
            (ax0, "learning rate (sweep)", "loss"),
            (ax1, "fixed learning rate", "final loss"),
        ):
            ax.set(xscale="log", yscale="log", xlim=xlim, ylim=ylim, xlabel=xlabel, ylabel=ylabel)
            ax.legend(fontsize=7, loc="upper left" if ax is ax1 else "lower left")
        t0, t1 = _title(ax0, fontsize=9), _title(ax1, fontsize=9)
        handles = dict(
            raw=raw, smooth=smooth, dots=dots, curve=curve, star=star, vlines=vlines, t0=t0, t1=t1
        )
        handles["animated"] = [raw, smooth, *dots.values(), curve, star, *vlines.values(), t0, t1]
        return fig, handles

    # losses beyond the axes are drawn a decade or so past them (finite, on the log scale)
    floor = 10.0 ** (np.floor(np.log10(ylim[0])) - 1)
    ceiling = 10.0 ** np.ceil(np.log10(ylim[1]))

    def update(h, num_it, batch, beta):
        r = lr_find(problems[batch], make_opt, num_it=int(num_it), beta=beta)
        g = grids[batch]
        h["raw"].set_data(r.lrs, np.maximum(r.losses, floor))
        h["smooth"].set_data(r.lrs, r.smoothed)
        h["curve"].set_data(g.lrs, np.minimum(g.mean, ceiling))
        h["star"].set_data([g.best_lr], [g.best_loss])
        for rule in FINDER_MARKERS:
            lr = r.suggestions.get(rule)
            y = [] if lr is None else [np.interp(np.log(lr), np.log(r.lrs), r.smoothed)]
            h["dots"][rule].set_data([] if lr is None else [lr], y)
            h["vlines"][rule].set_data([] if lr is None else [lr, lr], [] if lr is None else ylim)
        stop = f"stopped at lr {r.lrs[-1]:.2g}" if r.stopped_early else "ran to end_lr"
        h["t0"].set_text(f"sweep: batch {batch}, {int(num_it)} updates, beta {beta:g}; {stop}")
        h["t1"].set_text(f"training runs, batch {batch}: best rate {g.best_lr:.2g}")

    return Demo(
        controls,
        setup,
        _checked(func, controls, update),
        title="The finder's curve (left) and the training runs it should predict (right)",
    )


# --------------------------------------------------------------------------------------
# Chapter 10: the network's training runs
# --------------------------------------------------------------------------------------
def training_runs_demo(
    runs: dict,
    batches_per_epoch: int,
    epochs: int,
    scheduled=(),
    optimizer: str | None = None,
    run_label: str | None = None,
) -> Demo:
    """Chapter 10's demo: one precomputed training run, over the optimizer's other runs.

    Left: the training loss per epoch (log axis, ``1e-4`` to ``10``); right: the test
    accuracy (0 to 1). The chosen run is drawn in colour, the optimizer's other runs in
    grey. The titles give the run's rate (``lr``, or ``peak`` for a schedule) and its final
    test accuracy, or its status when it diverged. Nothing is trained: a control change only
    redraws.

    Controls: ``optimizer`` (the keys of ``runs``) and ``run_label`` (shown as "run"; the
    keys of each optimizer's runs).

    Args:
        runs: ``{optimizer: {run label: (lr, result)}}``, where ``result`` is a
            :class:`learnlr.problems.mlp.TrainResult` evaluated once per epoch; every optimizer has
            the same run labels, in the same order.
        batches_per_epoch: updates per epoch (the network's ``batches_per_epoch``).
        epochs: the runs' length in epochs (the x-axes end there).
        scheduled: the run labels whose rate is a schedule's peak.
        optimizer, run_label: the run shown first (default: the first of each).
    """
    func = "training_runs_demo"
    runs = _check_mapping(func, "runs", runs)
    names = tuple(runs)
    labels = tuple(_check_mapping(func, f"runs[{names[0]!r}]", runs[names[0]]))
    for name in names:
        if tuple(_check_mapping(func, f"runs[{name!r}]", runs[name])) != labels:
            raise ValueError(
                f"{func}: every optimizer needs the runs {list(labels)}, "
                f"runs[{name!r}] has {list(runs[name])}"
            )
    batches_per_epoch = check_int(func, "batches_per_epoch", batches_per_epoch, 1)
    epochs = check_int(func, "epochs", epochs, 1)
    scheduled = set(scheduled)
    if not scheduled <= set(labels):
        raise ValueError(
            f"{func}: scheduled must name runs among {list(labels)}, got {sorted(scheduled)}"
        )
    optimizer = names[0] if optimizer is None else optimizer
    run_label = labels[0] if run_label is None else run_label
    controls = {
        "optimizer": Choice(names, _check_option(func, "optimizer", optimizer, names)),
        "run_label": Choice(
            labels, _check_option(func, "run_label", run_label, labels), description="run"
        ),
    }

    def setup():
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        ghosts = [
            (ax0.plot([], [], color="0.8", lw=1)[0], ax1.plot([], [], color="0.8", lw=1)[0])
            for _ in labels
        ]
        (loss_line,) = ax0.plot([], [], color=COLORS[0], lw=2)
        (acc_line,) = ax1.plot([], [], color=COLORS[0], lw=2)
        ax0.set_yscale("log")
        ax0.set_xlim(0, epochs)
        ax0.set_ylim(1e-4, 10)
        ax0.set_xlabel("epoch")
        ax0.set_ylabel("training loss")
        ax1.set_xlim(0, epochs)
        ax1.set_ylim(0.0, 1.0)
        ax1.set_xlabel("epoch")
        ax1.set_ylabel("test accuracy")
        t0, t1 = _title(ax0, fontsize=10), _title(ax1, fontsize=10)
        ghost_lines = [line for pair in ghosts for line in pair]
        return fig, {
            "ghosts": ghosts,
            "loss": loss_line,
            "acc": acc_line,
            "t0": t0,
            "t1": t1,
            "animated": [*ghost_lines, loss_line, acc_line, t0, t1],
        }

    def update(h, optimizer, run_label):
        for (g0, g1), label in zip(h["ghosts"], labels, strict=True):
            r = runs[optimizer][label][1]
            g0.set_data(r.k / batches_per_epoch, r.train_loss)
            g1.set_data(r.k / batches_per_epoch, r.test_acc)
        lr, r = runs[optimizer][run_label]
        h["loss"].set_data(r.k / batches_per_epoch, r.train_loss)
        h["acc"].set_data(r.k / batches_per_epoch, r.test_acc)
        rate = f"peak {lr:.3g}" if run_label in scheduled else f"lr {lr:.3g}"
        h["t0"].set_text(f"{optimizer}, {run_label}: {rate}")
        h["t1"].set_text(r.status if r.diverged else f"final test accuracy {r.test_acc[-1]:.3f}")

    return Demo(
        controls,
        setup,
        _checked(func, controls, update),
        title="Training runs of chapter 10 (precomputed)",
    )


# --------------------------------------------------------------------------------------
# Chapter 11: the good range of learning rates for a tolerance
# --------------------------------------------------------------------------------------
def good_range_demo(sweeps: dict, adaptive, problem: str | None = None, tol: float = 2.0) -> Demo:
    """Chapter 11's demo: which rates count as good, and how wide that range is, for a tolerance.

    Left: each optimizer's final loss against the rate (log axes), the good rates of
    :func:`learnlr.course.claims.good_range` drawn thick; right: each optimizer's width of the good
    range in decades, as a bar. The title gives the widest range among the ``adaptive``
    optimizers and among the others. The axes hold every sweep, so switching problems moves
    none. Nothing is rerun: a control change only recomputes the ranges.

    Controls: ``problem`` (the keys of ``sweeps``) and ``tol`` (1 to 1000, log scale), the
    factor over the best final loss that still counts as good.

    Args:
        sweeps: ``{problem: (lrs, {optimizer: final losses})}``, the rates increasing and
            the final losses one per rate (``inf`` for a diverged run); every problem has
            the same optimizers, in the same order.
        adaptive: the optimizers counted as adaptive (at least one, not all).
        problem: the problem shown first (default: the first key).
        tol: the tolerance shown first.

    Example:
        >>> import numpy as np
        >>> from learnlr.viz import demos
        >>> lrs = np.array([0.01, 0.1, 1.0])
        >>> sweeps = {"toy": (lrs, {"SGD": np.array([1.0, 0.5, np.inf]),
        ...                         "Adam": np.array([0.6, 0.5, 0.7])})}
        >>> demo = demos.good_range_demo(sweeps, adaptive=["Adam"])
        >>> demo.figure(tol=2.0).axes[1].texts[0].get_text()
        'widest adaptive 2.00, widest other 1.00 decades'
    """
    func = "good_range_demo"
    sweeps = _check_mapping(func, "sweeps", sweeps)
    names = None
    for key, sweep in sweeps.items():
        if not (isinstance(sweep, tuple) and len(sweep) == 2):
            raise TypeError(f"{func}: sweeps[{key!r}] must be a pair (lrs, finals), got {sweep!r}")
        finals = _check_mapping(func, f"sweeps[{key!r}][1]", sweep[1])
        names = tuple(finals) if names is None else names
        if tuple(finals) != names:
            raise ValueError(
                f"{func}: every sweep needs the optimizers {list(names)}, "
                f"sweeps[{key!r}] has {list(finals)}"
            )
    adaptive = set(adaptive)
    if not adaptive or not adaptive < set(names):
        raise ValueError(
            f"{func}: adaptive must name some but not all of {list(names)}, got {sorted(adaptive)}"
        )
    problems = tuple(sweeps)
    problem = problems[0] if problem is None else problem
    controls = {
        "problem": Choice(problems, _check_option(func, "problem", problem, problems)),
        "tol": LogSlider(0.0, 3.0, tol, step=0.05, description="tol"),
    }
    _check_control(func, "tol", controls["tol"], tol)
    all_lrs = np.concatenate([np.asarray(lrs, dtype=float) for lrs, _ in sweeps.values()])
    finite = np.concatenate(
        [f[np.isfinite(f)] for _, fs in sweeps.values() for f in map(np.asarray, fs.values())]
    )

    def setup():
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        lines, goods = [], []
        for i, name in enumerate(names):
            color = COLORS[i]
            lines.append(ax0.plot([], [], "-", color=color, lw=1, label=name)[0])
            goods.append(ax0.plot([], [], "o-", color=color, lw=3, ms=4)[0])
        # each bar is a thick line from 0 to the width (lines redraw fast and export to HTML)
        bars = [
            ax1.plot([0, 0], [i, i], color=COLORS[i], lw=16, solid_capstyle="butt")[0]
            for i in range(len(names))
        ]
        ax0.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final excess loss")
        ax0.set(
            xlim=(all_lrs.min() / 2, all_lrs.max() * 2),
            ylim=(finite.min() / 3, finite.max() * 3),
        )
        ax0.legend(fontsize=8, loc="upper center")
        widest = np.log10(all_lrs.max() / all_lrs.min())  # the widest range a sweep can show
        ax1.set(
            xlim=(0, widest),
            ylim=(len(names) - 0.5, -0.5),
            xlabel="width of the good range (decades)",
        )
        ax1.set_yticks(range(len(names)), list(names))
        t0, t1 = _title(ax0, fontsize=10), _title(ax1, fontsize=10)
        return fig, {
            "lines": lines,
            "goods": goods,
            "bars": bars,
            "t0": t0,
            "t1": t1,
            "animated": [*lines, *goods, *bars, t0, t1],
        }

    def update(h, problem, tol):
        lrs, finals = sweeps[problem]
        lrs = np.asarray(lrs, dtype=float)
        widths = []
        for line, good, bar, final in zip(
            h["lines"], h["goods"], h["bars"], finals.values(), strict=True
        ):
            final = np.asarray(final, dtype=float)
            y = np.where(np.isfinite(final), final, np.nan)
            g = claims.good_range(lrs, final, tol)
            inside = (lrs >= g.lo) & (lrs <= g.hi)
            line.set_data(lrs, y)
            good.set_data(lrs[inside], y[inside])
            bar.set_xdata([0, g.width])
            widths.append(g.width)
        h["t0"].set_text(f"{problem}: good = within {tol:.3g}x of the best")
        best = {True: 0.0, False: 0.0}
        for name, width in zip(names, widths, strict=True):
            best[name in adaptive] = max(best[name in adaptive], width)
        h["t1"].set_text(
            f"widest adaptive {best[True]:.2f}, widest other {best[False]:.2f} decades"
        )

    return Demo(
        controls,
        setup,
        _checked(func, controls, update),
        title="Good range of learning rates (precomputed sweeps)",
    )
