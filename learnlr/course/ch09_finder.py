r"""Chapter 9's helpers: the finder's pieces written out, and the finder checked against reality.

The learning-rate finder (:func:`learnlr.finder.lr_find`) reads a rate off one short run.
This module holds what the chapter needs to take that run apart and to test its answer:

* :func:`sweep_rates` -- the geometric sweep of rates the finder uses;
* :func:`smooth_losses` -- the debiased moving average of the losses it plots;
* :func:`rule_marks` -- what each suggestion rule looked at on the curve (for a figure);
* :func:`final_loss`, :func:`lr_grid` -- full training runs over a grid of fixed rates,
  averaged over seeds, which *measure* the best rate for a budget of updates;
* :func:`compare` -- each suggestion beside the measured best rate, as a table;
* :func:`smoothing_mistakes`, :func:`steep_mistakes` -- typical wrong answers to the
  chapter's exercises, so that a check can say which mistake it recognises.

Everything here is NumPy only; the chapter draws the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    check_int,
    check_interval,
    check_make_opt,
    check_positive,
    check_vector,
)
from learnlr.finder import FinderResult, sweep_rates, trim
from learnlr.trace import run
from learnlr.tuning import tune_rate

__all__ = [
    "sweep_rates",
    "smooth_losses",
    "RuleMark",
    "rule_marks",
    "final_loss",
    "LRGrid",
    "lr_grid",
    "Comparison",
    "compare",
    "smoothing_mistakes",
    "steep_mistakes",
]


def smooth_losses(losses, beta: float = 0.98) -> np.ndarray:
    r"""The debiased exponential moving average of a sequence of losses.

    .. math::
        a_k = \beta a_{k-1} + (1 - \beta)\,\ell_k \quad (a_{-1} = 0), \qquad
        \bar\ell_k = \frac{a_k}{1 - \beta^{k+1}}

    Dividing by :math:`1 - \beta^{k+1}` (the total weight of the terms so far) removes the
    pull towards the starting value 0: :math:`\bar\ell_0 = \ell_0`, and a constant
    sequence stays constant. It is the bias correction Adam applies to its moments.

    Args:
        losses: the raw losses :math:`\ell_0, \ell_1, \dots` (1-D).
        beta: :math:`\beta` in [0, 1); 0 returns the losses unchanged.

    Example:
        >>> smooth_losses([1.0, 2.0, 3.0], beta=0.5)
        array([1.        , 1.66666667, 2.42857143])

    The same smoothing as fast.ai's ``AvgSmoothLoss`` (``beta=0.98``).
    """
    name = "smooth_losses"
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 1:
        raise ValueError(f"{name}: losses must be 1-D, got shape {losses.shape}")
    beta = check_interval(name, "beta", beta, 0.0, 1.0)
    out = np.empty_like(losses)
    avg = 0.0
    for k, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        out[k] = avg / (1 - beta ** (k + 1))
    return out


class RuleMark(NamedTuple):
    """How one suggestion rule read the curve."""

    lr: float  # the rate it suggests (the same as learnlr.finder's rule)
    span: tuple  # (lr_a, lr_b): the stretch of the curve the rule is based on
    text: str  # one sentence with the numbers


def rule_marks(lrs, losses, num_it: int) -> dict:
    """What each of the four suggestion rules looked at, with the numbers.

    Works on the same trimmed curve as :mod:`learnlr.finder` (first ``num_it // 10`` and
    last 5 points dropped) and returns ``{rule: RuleMark}`` whose ``lr`` equals
    ``learnlr.finder.SUGGESTIONS[rule](lrs, losses, num_it)``.

    Example:
        >>> import numpy as np
        >>> lrs = np.geomspace(1e-4, 1.0, 30)
        >>> losses = 1 + (np.log10(lrs) + 1) ** 2      # a clean valley, lowest at 0.1
        >>> marks = rule_marks(lrs, losses, num_it=30)
        >>> marks["minimum"].text
        'lowest loss 1.001 at lr 0.108; suggestion = 0.108 / 10 = 0.0108'
        >>> print(marks["valley"].text)  # doctest: +NORMALIZE_WHITESPACE
        longest decreasing run: 20 points, lr 0.000259 to 0.108; suggestion = point 8 of it,
        lr 0.00329
    """
    name = "rule_marks"
    lrs = check_vector(name, "lrs", lrs)
    losses = check_vector(name, "losses", losses)
    if lrs.shape != losses.shape or lrs.ndim != 1 or lrs.size < 3:
        raise ValueError(
            f"{name}: lrs and losses must be 1-D of the same length >= 3, "
            f"got shapes {lrs.shape} and {losses.shape}"
        )
    num_it = check_int(name, "num_it", num_it, 1)
    lrs, losses = trim(lrs, losses, num_it)
    n = len(losses)
    marks = {}

    i = int(np.argmin(losses))
    marks["minimum"] = RuleMark(
        float(lrs[i] / 10),
        (float(lrs[i] / 10), float(lrs[i])),
        f"lowest loss {losses[i]:.4g} at lr {lrs[i]:.3g}; "
        f"suggestion = {lrs[i]:.3g} / 10 = {lrs[i] / 10:.3g}",
    )

    slopes = np.diff(losses) / np.diff(np.log(lrs))
    j = int(np.argmin(slopes))
    marks["steep"] = RuleMark(
        float(lrs[j]),
        (float(lrs[j]), float(lrs[j + 1])),
        f"steepest fall {slopes[j]:.3g} per unit of ln(lr), between lr {lrs[j]:.3g} and "
        f"{lrs[j + 1]:.3g}; suggestion = {lrs[j]:.3g}",
    )

    # valley: the longest decreasing subsequence, and a point about half-way along it
    lds = [1] * n
    max_start, max_end = 0, 0
    for a in range(1, n):
        for b in range(a):
            if losses[a] < losses[b] and lds[a] < lds[b] + 1:
                lds[a] = lds[b] + 1
            if lds[max_end] < lds[a]:
                max_end = a
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    lo = max(max_start, 0)
    marks["valley"] = RuleMark(
        float(lrs[idx]),
        (float(lrs[lo]), float(lrs[max_end])),
        f"longest decreasing run: {lds[max_end]} points, lr {lrs[lo]:.3g} to "
        f"{lrs[max_end]:.3g}; suggestion = point {idx - lo} of it, lr {lrs[idx]:.3g}",
    )

    grad = np.gradient(losses)
    lr_diff = min(15, n - 1)
    r_idx, l_idx = -1, -1 - lr_diff
    local = lrs[l_idx]
    while l_idx >= -n and abs(grad[r_idx] - grad[l_idx]) > 0.005:
        local = lrs[l_idx]
        r_idx -= 1
        l_idx -= 1
    if l_idx >= -n:
        span = (float(lrs[l_idx]), float(lrs[r_idx]))
        text = (
            f"slope change over {lr_diff} points first <= 0.005 between lr {lrs[l_idx]:.3g} "
            f"and {lrs[r_idx]:.3g}; suggestion = {local:.3g}"
        )
    else:  # the window reached the left end without the slopes settling
        span = (float(lrs[0]), float(lrs[r_idx + 1]))
        text = f"slope change over {lr_diff} points never <= 0.005; suggestion = {local:.3g}"
    marks["slide"] = RuleMark(float(local), span, text)
    return marks


def final_loss(problem, opt, steps: int) -> float:
    """Run ``steps`` updates of ``opt`` from ``problem.x0``; return the full loss at the end.

    The updates use ``problem.batch_grad(x, k)`` (minibatches for stochastic problems);
    the returned loss is over all the data. It is ``learnlr.run(problem, opt, steps,
    record_every=None)``: nothing is recorded, so a grid of runs is cheap, and a run that
    diverges by run's rule (parameters not finite, or a final loss not finite or above
    ``1e8 * max(1, |f(x0)|)``) returns ``inf``.

    Example:
        >>> from learnlr import optimizers, problems
        >>> p = problems.quadratic1d(a=1.0, x0=2.0)
        >>> final_loss(p, optimizers.gd(lr=0.5), steps=3)   # x = 2 * 0.5**3 = 0.25
        0.03125
        >>> final_loss(p, optimizers.gd(lr=2.5), steps=2000)
        inf
    """
    tr = run(problem, opt, steps, record_every=None, caller="final_loss")
    return np.inf if tr.diverged else tr.loss_final


class LRGrid:
    """Final losses of full training runs over a grid of fixed rates (see :func:`lr_grid`).

    A :class:`~learnlr.tuning.TunedRate` of mean final losses would hold the rates and the
    means; this type also keeps every seed's loss and what made them (``make_problem``,
    ``make_opt``, ``steps``, ``seeds``), so ``loss_at`` can run another rate the same way.

    Attributes:
        lrs: the rates tried, shape ``(n,)``.
        losses: final full loss of each rate and seed, shape ``(n, len(seeds))``.
        mean: the mean over seeds (``inf`` if any seed diverged).
        best_lr, best_loss: the rate with the lowest mean final loss, and that loss.
        edge: None when ``best_lr`` has a tried rate on each side, else "low" or "high".
        steps, seeds: the budget of updates and the seeds used.
    """

    def __init__(self, make_problem, make_opt, lrs, losses, steps, seeds, edge=None):
        self.make_problem = make_problem
        self.make_opt = make_opt
        self.lrs = lrs
        self.losses = losses
        self.mean = losses.mean(axis=1)
        i = int(np.argmin(self.mean))
        self.best_lr = float(lrs[i])
        self.best_loss = float(self.mean[i])
        self.steps = steps
        self.seeds = tuple(seeds)
        self.edge = edge  # None: the best rate is interior; "low"/"high": still on that edge

    def loss_at(self, lr: float) -> float:
        """Mean final loss of a run at rate ``lr``, with the grid's budget and seeds."""
        lr = check_positive("LRGrid.loss_at", "lr", lr)
        return _mean_final_loss(self.make_problem, self.make_opt, lr, self.steps, self.seeds)

    def good_range(self, tol: float = 0.1) -> tuple[float, float]:
        """Smallest and largest grid rate whose mean loss is within ``tol`` of the best."""
        tol = check_positive("LRGrid.good_range", "tol", tol)
        good = self.lrs[self.mean <= (1 + tol) * self.best_loss]
        return float(good.min()), float(good.max())

    def __repr__(self) -> str:
        return (
            f"<LRGrid: {len(self.lrs)} rates, {self.steps} updates, {len(self.seeds)} seeds; "
            f"best lr {self.best_lr:.3g}{'' if self.edge is None else f' ({self.edge} edge)'}, "
            f"final loss {self.best_loss:.4g}>"
        )


def _final_losses(make_problem, make_opt, lr, steps, seeds) -> list:
    """The final full loss of one run per seed at rate ``lr``."""
    return [final_loss(make_problem(seed=s), make_opt(lr=lr), steps) for s in seeds]


def _mean_final_loss(make_problem, make_opt, lr, steps, seeds):
    return float(np.mean(_final_losses(make_problem, make_opt, lr, steps, seeds)))


def lr_grid(
    make_problem: Callable,
    make_opt: Callable,
    lrs,
    steps: int,
    seeds: Sequence[int] = (0, 1, 2),
    max_extend: int = 3,
) -> LRGrid:
    """Measure the best fixed rate: one full training run per rate and seed.

    The rates are tuned with :func:`learnlr.tuning.tune_rate`: while the best mean loss sits
    on an edge of the grid, a rate is added beyond that edge (at most ``max_extend``); the
    result's ``edge`` says whether the best is still on one.

    Args:
        make_problem: builds the problem for a seed, ``make_problem(seed=s)``, e.g.
            ``functools.partial(problems.logistic_regression, batch_size=20)``; for the
            stochastic problems the seed sets the data and the order of the minibatches.
        make_opt: a function ``lr -> optimizer`` (e.g. ``optimizers.sgd``), called as
            ``make_opt(lr=rate)``.
        lrs: the rates to try (positive).
        steps: the budget, in updates, of every run.
        seeds: the seeds to average over.
        max_extend: the most rates added beyond the grid (0: the grid only).

    Example:
        >>> import functools
        >>> from learnlr import optimizers, problems
        >>> make = functools.partial(problems.least_squares, batch_size=10)
        >>> grid = lr_grid(make, optimizers.sgd, [0.003, 0.01, 0.03, 0.1, 0.3], steps=200)
        >>> grid
        <LRGrid: 5 rates, 200 updates, 3 seeds; best lr 0.03, final loss 0.1211>
        >>> grid.mean.round(3)   # lr = 0.3 blows up
        array([0.713, 0.14 , 0.121, 0.15 ,   inf])
    """
    name = "lr_grid"
    if not callable(make_problem):
        raise TypeError(f"{name}: make_problem must be callable as make_problem(seed=s)")
    check_make_opt(name, make_opt)
    lrs = check_vector(name, "lrs", lrs)
    if lrs.ndim != 1 or np.any(lrs <= 0):
        raise ValueError(f"{name}: lrs must be a 1-D array of rates > 0, got {lrs!r}")
    steps = check_int(name, "steps", steps, 1)
    seeds = [check_int(name, "seeds[i]", s, 0) for s in seeds]
    if not seeds:
        raise ValueError(f"{name}: seeds must hold at least one seed, got {seeds!r}")
    max_extend = check_int(name, "max_extend", max_extend, 0)
    runs = {}

    def mean_final_loss(lr):
        runs[lr] = _final_losses(make_problem, make_opt, lr, steps, seeds)
        return float(np.mean(runs[lr]))

    tuned = tune_rate(mean_final_loss, lrs, max_extend=max_extend)
    losses = np.array([runs[float(lr)] for lr in tuned.lrs])
    return LRGrid(make_problem, make_opt, tuned.lrs, losses, steps, seeds, edge=tuned.edge)


class Row(NamedTuple):
    rule: str
    lr: float  # the suggestion
    ratio: float  # suggestion / measured best rate
    loss: float  # mean final loss of a run at the suggestion
    excess: float  # loss / best loss - 1


class Comparison:
    """Each suggestion beside the measured best rate; ``str()`` gives the table."""

    def __init__(self, rows, grid, tol):
        self.rows = rows
        self.grid = grid
        self.tol = tol

    def __getitem__(self, rule) -> Row:
        for row in self.rows:
            if row.rule == rule:
                return row
        raise KeyError(rule)

    def __str__(self) -> str:
        g = self.grid
        lines = [
            f"measured best rate {g.best_lr:.3g} (final loss {g.best_loss:.4g}; "
            f"{len(g.lrs)} rates, {g.steps} updates, {len(g.seeds)} seeds)",
            f"{'rule':<9}{'suggestion':>11}{'/ best':>9}{'final loss':>12}{'vs best':>10}"
            f"  within {self.tol:.0%}?",
        ]
        for r in self.rows:
            excess = f"{r.excess:+.1%}" if np.isfinite(r.excess) else "diverged"
            ok = "yes" if r.excess <= self.tol else "no"
            lines.append(
                f"{r.rule:<9}{r.lr:>11.3g}{r.ratio:>9.3g}{r.loss:>12.4g}{excess:>10}  {ok}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def compare(result: FinderResult, grid: LRGrid, tol: float = 0.1) -> Comparison:
    """Train at each of the finder's suggestions and compare with the grid's best rate.

    Each suggestion gets the grid's budget and seeds. A row says how far the suggestion is
    from the best rate (``ratio``) and how much worse its final loss is (``excess``, as a
    fraction of the best loss); ``tol`` is the excess called "within" in the table.

    Example:
        >>> import functools
        >>> from learnlr import optimizers, problems
        >>> from learnlr.finder import lr_find
        >>> make = functools.partial(problems.least_squares, batch_size=10)
        >>> res = lr_find(make(seed=0), optimizers.sgd)
        >>> grid = lr_grid(make, optimizers.sgd, [0.003, 0.01, 0.03, 0.1, 0.3], steps=200)
        >>> print(compare(res, grid))  # doctest: +NORMALIZE_WHITESPACE
        measured best rate 0.03 (final loss 0.1211; 5 rates, 200 updates, 3 seeds)
        rule      suggestion   / best  final loss   vs best  within 10%?
        minimum       0.0242    0.807        0.12     -0.9%  yes
        steep        8.7e-06  0.00029        29.3 +24101.4%  no
        valley       0.00705    0.235      0.1942    +60.4%  no
        slide         0.0148    0.495      0.1216     +0.5%  yes
    """
    if not isinstance(result, FinderResult):
        raise TypeError(f"compare: result must be a FinderResult from lr_find, got {result!r}")
    if not isinstance(grid, LRGrid):
        raise TypeError(f"compare: grid must be an LRGrid from lr_grid, got {grid!r}")
    tol = check_positive("compare", "tol", tol)
    rows = []
    for rule, lr in result.suggestions.items():
        loss = grid.loss_at(lr)
        rows.append(Row(rule, lr, lr / grid.best_lr, loss, loss / grid.best_loss - 1))
    return Comparison(rows, grid, tol)


# ---------------------------------------------------------------------------------------
# Typical mistakes, for the exercises' feedback
# ---------------------------------------------------------------------------------------
def smoothing_mistakes() -> dict:
    """Wrong versions of :func:`smooth_losses`, as ``{hint: function}`` for a check.

    Example:
        >>> wrong = smoothing_mistakes()
        >>> [hint.split(";")[0] for hint in wrong]
        ['no bias correction', 'beta and 1 - beta swapped', 'corrected value fed back']
        >>> wrong["no bias correction; divide by 1 - beta**(k + 1)"]([2.0, 2.0], 0.5)
        array([1. , 1.5])
    """

    def no_correction(losses, beta):
        losses = np.asarray(losses, dtype=float)
        return smooth_losses(losses, beta) * (1 - beta ** np.arange(1, len(losses) + 1))

    def swapped(losses, beta):
        out, avg = [], 0.0
        for k, loss in enumerate(np.asarray(losses, dtype=float)):
            avg = (1 - beta) * avg + beta * loss
            out.append(avg / (1 - beta ** (k + 1)))
        return np.array(out)

    def fed_back(losses, beta):
        out, avg = [], 0.0
        for k, loss in enumerate(np.asarray(losses, dtype=float)):
            avg = beta * avg + (1 - beta) * loss
            avg = avg / (1 - beta ** (k + 1))
            out.append(avg)
        return np.array(out)

    return {
        "no bias correction; divide by 1 - beta**(k + 1)": no_correction,
        "beta and 1 - beta swapped; the old average gets the weight beta": swapped,
        "corrected value fed back; keep the raw average a_k for the next step and "
        "only divide the value you return": fed_back,
    }


def steep_mistakes() -> dict:
    """Wrong versions of :func:`learnlr.finder.steep`, as ``{hint: function}`` for a check.

    Example:
        >>> len(steep_mistakes())
        4
    """

    def cut(lrs, losses, num_it):
        lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
        return trim(lrs, losses, num_it)

    def per_lr(lrs, losses, num_it):
        lrs, losses = cut(lrs, losses, num_it)
        return float(lrs[np.argmin(np.diff(losses) / np.diff(lrs))])

    def argmax(lrs, losses, num_it):
        lrs, losses = cut(lrs, losses, num_it)
        return float(lrs[np.argmax(np.diff(losses) / np.diff(np.log(lrs)))])

    def untrimmed(lrs, losses, num_it):
        lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
        return float(lrs[np.argmin(np.diff(losses) / np.diff(np.log(lrs)))])

    def right_end(lrs, losses, num_it):
        lrs, losses = cut(lrs, losses, num_it)
        return float(lrs[np.argmin(np.diff(losses) / np.diff(np.log(lrs))) + 1])

    return {
        "the slope is per unit of ln(lr), not of lr": per_lr,
        "the fastest fall is the most negative slope (argmin), not the largest": argmax,
        "drop the first num_it // 10 and the last 5 points first": untrimmed,
        "return the left end of the steepest segment, lrs[i], not lrs[i + 1]": right_end,
    }
