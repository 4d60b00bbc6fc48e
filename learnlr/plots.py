"""Figures for traces, problems and schedules (matplotlib, on top of the math layer).

Each function draws into an ``ax`` you pass (or a new one) and returns what it drew, so
notebooks compose them freely. Diverged runs are drawn up to the step where they
diverged and labelled ``diverged at step k`` instead of producing NaN plots.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from learnlr.problems import Problem
from learnlr.trace import Trace

__all__ = [
    "contour",
    "trajectory",
    "loss_curve",
    "eff_lr_curve",
    "schedule_curve",
    "overview",
    "finder_curve",
    "label_of",
]

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def label_of(trace: Trace) -> str:
    """A short legend label: optimizer name and rate, plus the divergence step if any."""
    lr = trace.optimizer.hyperparams.get("lr")
    rate = f"lr={lr:g}" if isinstance(lr, (int, float)) else "scheduled lr"
    text = f"{trace.optimizer.name}, {rate}"
    if trace.diverged:
        text += f" (diverged at step {trace.diverged_at})"
    return text


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def contour(problem: Problem, ax=None, bounds=None, n=120, levels=20, cmap="Greys_r"):
    """Contour lines of a 2-D problem, with its known minimum marked by a star."""
    if problem.dim != 2:
        raise ValueError(f"contour: needs a 2-D problem, {problem.name} has dim={problem.dim}")
    ax = _ax(ax)
    (x0, x1), (y0, y1) = bounds or problem.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    Z = problem.loss(np.stack([X, Y], axis=-1))
    if problem.log_scale:
        base = problem.f_min if problem.f_min is not None else Z.min()
        lv = np.geomspace(max(Z.min() - base, 1e-3), Z.max() - base, levels) + base
    else:
        lv = np.quantile(Z, np.linspace(0.0, 0.95, levels) ** 2)
        lv = np.unique(lv)
    cs = ax.contour(X, Y, Z, levels=lv, cmap=cmap, linewidths=0.7, alpha=0.8)
    if problem.x_min is not None:
        ax.plot(*problem.x_min, marker="*", color="k", ms=12, ls="none", zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return cs


def trajectory(traces, ax=None, labels=None, colors=None, contours=True, markers=True):
    """Paths of one or more 2-D traces on the problem's contours. Returns the line artists."""
    traces = [traces] if isinstance(traces, Trace) else list(traces)
    ax = _ax(ax)
    if contours:
        contour(traces[0].problem, ax=ax)
    lines = []
    for i, tr in enumerate(traces):
        color = (colors or COLORS)[i % len(colors or COLORS)]
        label = labels[i] if labels else label_of(tr)
        (line,) = ax.plot(
            tr.x[:, 0],
            tr.x[:, 1],
            "-",
            color=color,
            lw=1.5,
            label=label,
            marker="o" if markers else None,
            ms=2.5,
        )
        ax.plot(*tr.x[0], "o", color=color, ms=6)
        if tr.diverged:
            ax.annotate(
                f"diverged at step {tr.diverged_at}",
                xy=(0.02, 0.95 - 0.07 * i),
                xycoords="axes fraction",
                color=color,
                fontsize=9,
                va="top",
            )
        lines.append(line)
    ax.legend(loc="lower right", fontsize=8)
    return lines


def loss_curve(traces, ax=None, labels=None, gap=None, log=True, colors=None):
    """Loss (or ``loss - f_min`` when the minimum is known) against the update count."""
    traces = [traces] if isinstance(traces, Trace) else list(traces)
    ax = _ax(ax)
    if gap is None:
        gap = traces[0].problem.f_min is not None
    lines = []
    for i, tr in enumerate(traces):
        color = (colors or COLORS)[i % len(colors or COLORS)]
        y = tr.gap() if gap else tr.loss
        if log:
            y = np.where(y > 0, y, np.nan)  # an exact 0 (the minimum hit) is not drawn
        (line,) = ax.plot(tr.k, y, color=color, label=labels[i] if labels else label_of(tr))
        if tr.diverged:
            ax.plot(tr.k[-1], y[-1], "x", color=color, ms=9, mew=2)
        lines.append(line)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step k")
    ax.set_ylabel("$f(x_k) - f^*$" if gap else "$f(x_k)$")
    ax.legend(fontsize=8)
    return lines


def eff_lr_curve(trace: Trace, ax=None, coords=None, log=True):
    """The per-parameter effective learning rate ``eff_lr`` of each coordinate over time."""
    ax = _ax(ax)
    coords = range(trace.eff_lr.shape[1]) if coords is None else coords
    lines = []
    for j in coords:
        (line,) = ax.plot(trace.k[:-1], trace.eff_lr[:, j], label=f"$x_{{{j + 1}}}$")
        lines.append(line)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step k")
    ax.set_ylabel("effective learning rate")
    if len(lines) <= 10:
        ax.legend(fontsize=8)
    return lines


def schedule_curve(schedules, steps: int, ax=None, labels=None, log=False):
    """One or more schedules over ``range(steps)``, one call each on an array of steps."""
    if callable(schedules):
        schedules = [schedules]
    ax = _ax(ax)
    k = np.arange(steps)
    lines = []
    for i, s in enumerate(schedules):
        label = labels[i] if labels else getattr(s, "name", f"schedule {i}")
        mode = getattr(s, "params", {}).get("mode")
        if mode and not labels:
            label = f"{label} ({mode})"
        (line,) = ax.plot(k, s(k), label=label)
        lines.append(line)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step k")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    return lines


def overview(traces, labels=None, eff_lr=False, figsize=None):
    """Trajectory on contours beside the loss curve (and the effective rates if asked)."""
    traces = [traces] if isinstance(traces, Trace) else list(traces)
    ncols = 3 if eff_lr else 2
    fig, axes = plt.subplots(1, ncols, figsize=figsize or (4.6 * ncols, 4), layout="constrained")
    if traces[0].problem.dim == 2:
        trajectory(traces, ax=axes[0], labels=labels)
    else:
        axes[0].axis("off")
    loss_curve(traces, ax=axes[1], labels=labels)
    if eff_lr:
        eff_lr_curve(traces[0], ax=axes[2])
    return fig


def finder_curve(result, ax=None, rules=None, raw=True):
    """The learning-rate finder's smoothed loss against the rate, suggestions marked.

    ``result`` is a :class:`learnlr.finder.FinderResult`; ``rules`` picks which
    suggestions to mark (default: all).
    """
    ax = _ax(ax)
    if raw:
        ax.plot(result.lrs, result.losses, color="0.75", lw=0.8, label="batch loss")
    ax.plot(result.lrs, result.smoothed, color=COLORS[0], label="smoothed loss")
    markers = {"minimum": "v", "steep": "o", "valley": "s", "slide": "D"}
    for i, rule in enumerate(rules or list(result.suggestions)):
        lr = result.suggestions[rule]
        y = np.interp(np.log(lr), np.log(result.lrs), result.smoothed)
        ax.plot(
            lr,
            y,
            markers.get(rule, "o"),
            color=COLORS[(i + 1) % len(COLORS)],
            ms=8,
            label=f"{rule}: {lr:.2g}",
        )
    ax.set_xscale("log")
    finite = result.smoothed[np.isfinite(result.smoothed)]
    if finite.size:
        lo, hi = finite.min(), finite[: max(len(finite) // 10, 1)].max()
        ax.set_ylim(lo - 0.1 * (hi - lo + 1e-12), max(hi, lo) + 0.6 * (hi - lo + 1e-12))
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    return ax
