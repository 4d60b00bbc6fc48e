"""Figures for traces, problems and schedules (matplotlib, on top of the math layer).

Each function draws into an ``ax`` you pass (or a new one) and returns what it drew, so
notebooks compose them freely. Diverged runs are drawn up to the step where they
diverged and labelled ``diverged at step k`` instead of producing NaN plots.

Lines are told apart by more than colour: the colours are Okabe and Ito's palette, which
stays distinct under the common colour-vision deficiencies, and the i-th line also gets the
i-th of ``LINESTYLES`` and ``MARKERS``.

Every figure shown in a notebook carries a text alternative (:func:`describe`): its titles,
axis labels and legend entries, or a text given with :func:`set_alt`. It is stored in the
PNG's ``Description`` field, and the book uses it as the image's ``alt`` text.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from learnlr.problems import Problem
from learnlr.trace import Trace

__all__ = [
    "COLORS",
    "LINESTYLES",
    "MARKERS",
    "describe",
    "set_alt",
    "contour",
    "trajectory",
    "loss_curve",
    "eff_lr_curve",
    "schedule_curve",
    "overview",
    "finder_curve",
    "label_of",
    "glue_text",
]

# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, vermillion,
# reddish purple, sky blue, black, yellow (last: pale on white).
COLORS = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#000000",
    "#F0E442",
]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def _style(i, colors=None):
    """Colour, line style and marker of the i-th line (``colors`` overrides the palette)."""
    palette = colors or COLORS
    return {
        "color": palette[i % len(palette)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def set_alt(fig, text: str):
    """Give ``fig`` a text alternative (what it shows, for a reader who cannot see it)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"set_alt: text must be a non-empty string, got {text!r}")
    fig._learnlr_alt = text.strip()
    return fig


def describe(fig) -> str:
    """A text alternative for ``fig``: the one given by :func:`set_alt`, or one read off it.

    Read off the figure: its title, then per panel the title, what is plotted against what
    (axis labels, log scales) and the legend's entries.

    >>> fig, ax = plt.subplots()
    >>> _ = ax.semilogy([0, 1], [1, 0.1], label="adam")
    >>> _ = ax.set(xlabel="step k", ylabel="loss", title="Adam on a quadratic")
    >>> _ = ax.legend()
    >>> describe(fig)
    'Figure: Adam on a quadratic: loss (log scale) against step k; lines: adam.'
    >>> plt.close(fig)
    """
    given = getattr(fig, "_learnlr_alt", None)
    if given:
        return given
    panels = []
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    for ax in axes:
        parts = []
        title = " ".join(ax.get_title(loc).strip() for loc in ("left", "center", "right"))
        title = " ".join(title.split())
        y, x = _tex_free(ax.get_ylabel()), _tex_free(ax.get_xlabel())
        if ax.get_yscale() == "log" and y:
            y += " (log scale)"
        if ax.get_xscale() == "log" and x:
            x += " (log scale)"
        what = f"{y} against {x}" if x and y else (y or x)
        parts = [p for p in (title, what) if p]
        legend = ax.get_legend()
        if legend is not None:
            labels = [_tex_free(t.get_text()) for t in legend.get_texts()]
            if labels:
                parts.append("lines: " + ", ".join(labels))
        if parts:
            panels.append(": ".join(parts[:2]) + "".join(f"; {p}" for p in parts[2:]))
    suptitle = fig._suptitle.get_text().strip() if getattr(fig, "_suptitle", None) else ""
    if not panels and not suptitle:
        return "Figure without titles or labels."
    body = (
        " | ".join(panels)
        if len(panels) <= 1
        else " | ".join(f"panel {i + 1}: {p}" for i, p in enumerate(panels))
    )
    head = f"Figure: {suptitle}" if suptitle else "Figure"
    return f"{head}: {body}." if body else f"{head}."


def _tex_free(text: str) -> str:
    """Axis text without TeX markup: ``$f(x_k) - f^*$`` -> ``f(x_k) - f^*``."""
    return " ".join(text.replace("$", "").replace("\\", "").split())


def _describe_inline_figures():
    """In an IPython kernel with the inline backend, put :func:`describe` into each PNG.

    The inline backend turns a figure into PNG bytes with a display formatter; wrapping it
    adds a ``Description`` text field to the PNG (the book reads it as the ``alt`` text).
    The backend is activated here, before the wrapper is installed, because it registers
    its own formatter on activation.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or "inline" not in plt.get_backend():
        return
    from matplotlib.figure import Figure

    plt.switch_backend(plt.get_backend())  # activates the inline backend now
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        png = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if getattr(png, "_learnlr_describes", False):
        return

    def png_with_description(fig):
        return png(fig, metadata={"Description": describe(fig)})

    png_with_description._learnlr_describes = True
    formatter.for_type(Figure, png_with_description)


_describe_inline_figures()


GLUE_PREFIX = "application/papermill.record/"  # myst-nb's mark for a glued value


def glue_text(name: str, value) -> None:
    """Store ``str(value)`` under ``name`` for the prose (``{glue:text}`name```); shows nothing.

    Writes the display message that ``myst_nb.glue(name, str(value), display=False)`` writes
    and the book build reads (``tests/test_plots.py`` compares the two), without importing
    myst-nb: Colab installs only learnlr, and myst-nb's glue module loads Sphinx, which costs
    seconds per notebook.

    Args:
        name: the key the markdown refers to (a non-empty string).
        value: anything; its ``str`` is stored (format numbers before, e.g. ``f"{x:.2f}"``).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"glue_text: name must be a non-empty string, got {name!r}")
    from IPython.display import display

    metadata = {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}
    display({GLUE_PREFIX + "text/plain": repr(str(value))}, raw=True, metadata=metadata)


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
        style = _style(i, colors)
        color = style["color"]
        label = labels[i] if labels else label_of(tr)
        (line,) = ax.plot(
            tr.x[:, 0],
            tr.x[:, 1],
            color=color,
            linestyle=style["linestyle"],
            lw=1.5,
            label=label,
            marker=style["marker"] if markers else None,
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
        style = _style(i, colors)
        color = style["color"]
        y = tr.gap() if gap else tr.loss
        if log:
            y = np.where(y > 0, y, np.nan)  # an exact 0 (the minimum hit) is not drawn
        (line,) = ax.plot(
            tr.k,
            y,
            color=color,
            linestyle=style["linestyle"],
            label=labels[i] if labels else label_of(tr),
        )
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
    for i, j in enumerate(coords):
        style = _style(i)
        (line,) = ax.plot(
            trace.k[:-1],
            trace.eff_lr[:, j],
            color=style["color"],
            linestyle=style["linestyle"],
            label=f"$x_{{{j + 1}}}$",
        )
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
        mode = getattr(s, "hyperparams", {}).get("mode")
        if mode and not labels:
            label = f"{label} ({mode})"
        style = _style(i)
        (line,) = ax.plot(k, s(k), color=style["color"], linestyle=style["linestyle"], label=label)
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
