r"""The learning-rate finder (Smith 2017's "LR range test", as popularised by fast.ai).

Train for ``num_it`` updates while the rate grows exponentially from ``start_lr`` to
``end_lr``, record the training loss of each update, smooth it, and stop once it blows up.
Then read a rate off the curve with one of the suggestion rules.

The recipe, for update :math:`k = 0, \dots, n-1`:

.. math::
    \eta_k &= \eta_{start} (\eta_{end} / \eta_{start})^{k / (n - 1)} \\
    a_k &= \beta a_{k-1} + (1 - \beta)\, \ell_k, \quad
    \bar\ell_k = a_k / (1 - \beta^{k+1}) \qquad (a_{-1} = 0)

where :math:`\ell_k` is the loss of the (mini)batch used by update ``k``, measured before
the update. The sweep stops after update ``k`` when :math:`\bar\ell_k` exceeds the best
smoothed loss so far by more than ``(stop_factor - 1)`` times its size, i.e. exceeds
``stop_factor`` times the best for a positive loss, or is not finite. The rule assumes a
loss whose scale is meaningful (near 0 at the optimum); ``slide``'s threshold is in loss
units too.

Deliberate differences from fast.ai 2.8, each tested against its recorded output:

* the sweep's exponent: fast.ai uses :math:`k/n`, so its last rate falls short of
  ``end_lr``; here the last rate is ``end_lr``;
* a NaN loss stops the sweep here; fast.ai does not stop on NaN (its comparisons with NaN
  are false) and runs the remaining updates. The suggestions are the same, because fast.ai
  cuts its record at the first NaN;
* a negative loss: fast.ai's test :math:`\bar\ell_k > 4\,\bar\ell_{best}` is true at once
  for a negative best, so it stops after one update and its rules then raise
  ``IndexError``; learnlr's form of the test is the same for a positive loss and
  meaningful for a negative one;
* where a rule cannot be read (too few points), fast.ai raises and learnlr leaves the rule
  out of ``suggestions``.

Suggestion rules (each a function of the recorded rates and smoothed losses). Each reads
the points fast.ai's ``lr_find`` hands to its rules: the record without its first
``num_it // 10`` and last 5 points, cut at the first NaN. Where fast.ai's rule raises an
error (too few points kept: a sweep that stopped early, or ``slide`` with fewer than 16
points), learnlr's rule raises :class:`TooFewPoints` and :func:`lr_find` leaves that rule
out of its suggestions. ``tests/test_finder_fastai.py`` compares every case with fastai's
own output (``tests/reference/fastai_finder.json``).

* ``minimum``: the rate at the lowest smoothed loss, divided by 10;
* ``steep``: the rate where the smoothed loss falls fastest per unit of :math:`\log\eta`;
* ``valley``: the longest strictly decreasing subsequence of the loss (not necessarily
  contiguous), from index :math:`s` to :math:`e`; the rate at index
  :math:`s + \lfloor (e-s)/3 \rfloor + \lfloor (e-s)/6 \rfloor`, about half-way along
  (fast.ai's default since 2021, with its arithmetic, where :math:`s` is one before the
  first point);
* ``slide``: walk left from the end while the loss slope changes by more than ``thresh``
  between points ``lr_diff`` apart; the rate where it settles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    check_int,
    check_interval,
    check_make_opt,
    check_positive,
    check_start_loss,
    check_vector,
)
from learnlr.optimizers.base import check_optimizer
from learnlr.problems import Problem
from learnlr.problems.functions import check_problem

__all__ = [
    "lr_find",
    "sweep_rates",
    "FinderResult",
    "TooFewPoints",
    "SUGGESTIONS",
    "minimum",
    "steep",
    "valley",
    "slide",
]


class FinderResult(NamedTuple):
    """What :func:`lr_find` recorded: one entry per update actually run.

    Not a :class:`~learnlr.trace.Trace`: the sweep is its own loop, and its record is the
    minibatch loss before each update, smoothed, with the rules' suggestions. It is drawn by
    :func:`learnlr.viz.plots.finder_curve` (the math layer draws nothing).
    """

    lrs: np.ndarray  # rate of each update
    losses: np.ndarray  # raw (mini)batch loss before each update
    smoothed: np.ndarray  # debiased exponential moving average of the losses
    suggestions: dict  # rule name -> suggested rate
    stopped_early: bool  # True if the loss blew up before num_it updates
    num_it: int  # updates asked for


class TooFewPoints(ValueError):
    """A suggestion rule was given fewer kept points than it needs (fast.ai raises here)."""


def trim(lrs, losses, num_it):
    """The points fast.ai's ``lr_find`` hands to its rules, from a learnlr record.

    fast.ai drops the first ``num_it // 10`` and the last 5 recorded points, whatever the
    record's length (a short record can leave nothing), and then cuts at the first NaN. It
    does not stop on a NaN loss but runs all ``num_it`` updates, so its record of a sweep
    that turned NaN at update ``j`` is ``num_it`` long and the points kept end at
    ``min(j, num_it - 5)``. learnlr stops at the NaN (its record ends there), so the end is
    computed from ``num_it``. An infinite loss stops both; the last 5 points, the ``inf``
    among them, are dropped.
    """
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    start = num_it // 10
    nan = np.flatnonzero(np.isnan(losses))
    end = min(int(nan[0]), num_it - 5) if nan.size else len(losses) - 5
    return lrs[start : max(start, end)], losses[start : max(start, end)]


def _need(rule, losses, count):
    if len(losses) < count:
        raise TooFewPoints(
            f"{rule}: needs at least {count} points after dropping the first num_it // 10 and "
            f"the last 5, got {len(losses)}"
        )


def minimum(lrs, losses, num_it):
    """The rate of the lowest loss, divided by 10.

    Raises :class:`TooFewPoints` when no point is kept (fast.ai raises ``IndexError``).
    """
    lrs, losses = trim(lrs, losses, num_it)
    _need("minimum", losses, 1)
    return float(lrs[np.argmin(losses)] / 10)


def steep(lrs, losses, num_it):
    """The rate at which the loss falls fastest with respect to log(lr).

    Raises :class:`TooFewPoints` with fewer than 2 kept points (fast.ai raises
    ``IndexError`` or ``RuntimeError``).
    """
    lrs, losses = trim(lrs, losses, num_it)
    _need("steep", losses, 2)
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[np.argmin(slopes)])


def valley(lrs, losses, num_it):
    """fast.ai's valley rule: about half-way along the longest decreasing stretch of the curve.

    The stretch is the longest strictly decreasing subsequence of the (trimmed) losses,
    ending at index ``end`` with length ``m``; ``start = end - m`` (one before its first
    point, fast.ai's arithmetic). With ``third = (end - start) / 3`` the rule picks index
    ``start + int(third) + int(third / 2)``: a third plus a sixth of the way, i.e. about
    half-way along it, exactly as fast.ai's ``valley`` does.

    Raises :class:`TooFewPoints` when no point is kept (fast.ai raises ``IndexError``).
    """
    lrs, losses = trim(lrs, losses, num_it)
    _need("valley", losses, 1)
    n = len(losses)
    lds = np.ones(n, dtype=int)  # length of the longest decreasing subsequence ending at i
    for i in range(1, n):
        higher = losses[:i] > losses[i]
        if higher.any():
            lds[i] = lds[:i][higher].max() + 1
    max_end = int(np.argmax(lds))
    max_start = max_end - int(lds[max_end]) if lds[max_end] > 1 else 0
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


def slide(lrs, losses, num_it, lr_diff=15, thresh=0.005, adjust_value=1.0):
    """fast.ai's slide rule: move left from the end until the slope stops changing.

    Needs ``lr_diff + 1`` kept points (16 by default), as fast.ai's does: with fewer, fast.ai
    raises ``IndexError`` (``ValueError`` with a single point) and this raises
    :class:`TooFewPoints`. A sweep of ``num_it`` updates that runs to the end keeps
    ``num_it - num_it // 10 - 5`` points, so slide needs ``num_it >= 23``.
    """
    lrs, losses = trim(lrs, losses, num_it)
    _need("slide", losses, max(lr_diff + 1, 2))
    grad = np.gradient(losses)
    r_idx = -1
    l_idx = r_idx - lr_diff
    local_min_lr = lrs[l_idx]
    while l_idx >= -len(losses) and abs(grad[r_idx] - grad[l_idx]) > thresh:
        local_min_lr = lrs[l_idx]
        r_idx -= 1
        l_idx -= 1
    return float(local_min_lr * adjust_value)


#: The suggestion rules by name.
SUGGESTIONS: dict[str, Callable] = {
    "minimum": minimum,
    "steep": steep,
    "valley": valley,
    "slide": slide,
}


def sweep_rates(start_lr: float, end_lr: float, num_it: int) -> np.ndarray:
    r"""The finder's rates: ``num_it`` values growing geometrically from ``start_lr`` to ``end_lr``.

    .. math::
        \eta_k = \eta_{start}\,(\eta_{end}/\eta_{start})^{k/(n-1)}, \qquad k = 0, \dots, n-1

    so each rate is the previous one times :math:`(\eta_{end}/\eta_{start})^{1/(n-1)}`.

    Args:
        start_lr, end_lr: first and last rate, ``0 < start_lr < end_lr``.
        num_it: number of rates ``n`` (>= 2).

    Example:
        >>> sweep_rates(1e-3, 1.0, 4)
        array([0.001, 0.01 , 0.1  , 1.   ])

    fast.ai's ``LRFinder`` uses the exponent :math:`k/n` instead, so its last rate is
    :math:`\eta_{end}(\eta_{start}/\eta_{end})^{1/n}`, just short of ``end_lr``.
    """
    name = "sweep_rates"
    start_lr = check_positive(name, "start_lr", start_lr)
    end_lr = check_positive(name, "end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(
            f"{name}: end_lr must be > start_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}"
        )
    num_it = check_int(name, "num_it", num_it, 2)
    k = np.arange(num_it)
    return start_lr * (end_lr / start_lr) ** (k / (num_it - 1))


def lr_find(
    problem: Problem,
    make_opt: Callable,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_it: int = 100,
    beta: float = 0.98,
    stop_factor: float = 4.0,
    x0=None,
) -> FinderResult:
    """Run the learning-rate range test of the optimizer ``make_opt`` makes, on ``problem``.

    The sweep is its own loop, not :func:`learnlr.run`: it reads the minibatch loss
    *before* each update (the loss the rate of that update is judged by), smooths it, and
    stops on the smoothed loss leaving its best by ``stop_factor``, which is the
    measurement, not a divergence.

    Args:
        problem: a :class:`~learnlr.problems.Problem`; stochastic problems are swept on
            their minibatches (``batch_grad``/``batch_loss`` of update ``k``).
        make_opt: a function ``lr -> optimizer`` (e.g. ``optimizers.sgd`` or
            ``functools.partial(optimizers.sgd, momentum=0.9)``); it is called once, as
            ``make_opt(lr=sweep)``, with the exponential sweep as its schedule.
        start_lr, end_lr: the first and last rate of the sweep (``0 < start < end``).
        num_it: number of updates in the sweep (>= 10).
        beta: smoothing factor of the moving average, in [0, 1).
        stop_factor: stop when the smoothed loss exceeds this multiple of its best (> 1).
        x0: starting point (default ``problem.x0``); the sweep always starts afresh.

    Returns:
        A :class:`FinderResult` with the rates, raw and smoothed losses and suggestions.

    Example:
        >>> from learnlr import optimizers, problems
        >>> res = lr_find(problems.quadratic2d(kappa=10), optimizers.gd, num_it=100)
        >>> res.stopped_early, len(res.lrs) < 100
        (True, True)
        >>> sorted(res.suggestions)
        ['minimum', 'slide', 'steep', 'valley']

    Smith (2017), "Cyclical learning rates for training neural networks", WACV,
    arXiv:1506.01186, section 3.3; Howard & Gugger (2020), "Fastai: a layered API for deep
    learning", Information 11(2):108, doi:10.3390/info11020108.
    """
    name = "lr_find"
    check_problem(name, problem)
    check_make_opt(name, make_opt)
    start_lr = check_positive(name, "start_lr", start_lr)
    end_lr = check_positive(name, "end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(
            f"{name}: end_lr must be > start_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}"
        )
    num_it = check_int(name, "num_it", num_it, 10)
    beta = check_interval(name, "beta", beta, 0.0, 1.0)
    stop_factor = check_positive(name, "stop_factor", stop_factor)
    if stop_factor <= 1:
        raise ValueError(f"{name}: stop_factor must be > 1, got {stop_factor!r}")
    x = problem.x0 if x0 is None else check_vector(name, "x0", x0)
    if x.shape != (problem.dim,):
        raise ValueError(f"{name}: x0 must have shape ({problem.dim},), got {x.shape}")
    with np.errstate(all="ignore"):  # an overflow at x0 is reported by check_start_loss
        loss0 = problem.loss(x)
    check_start_loss(name, loss0, None)  # a sweep must start where the loss is finite

    rates = sweep_rates(start_lr, end_lr, num_it)
    optimizer = check_optimizer(name, make_opt(lr=lambda k: rates[k]), made_by="make_opt(lr=sweep)")
    state = optimizer.init(x)
    lrs, losses, smoothed = np.zeros(num_it), np.zeros(num_it), np.zeros(num_it)
    avg, best = 0.0, np.inf
    n = 0
    stopped = False
    with np.errstate(all="ignore"):
        for k in range(num_it):
            loss = problem.batch_loss(x, k) if problem.stochastic else problem.loss(x)
            avg = beta * avg + (1 - beta) * loss
            smooth = avg / (1 - beta ** (k + 1))
            lrs[k], losses[k], smoothed[k] = rates[k], loss, smooth
            n = k + 1
            if not np.isfinite(smooth) or smooth - best > (stop_factor - 1) * abs(best):
                stopped = True
                break
            best = min(best, smooth)
            x, state, _ = optimizer.step(x, problem.batch_grad(x, k), state)
    lrs, losses, smoothed = lrs[:n], losses[:n], smoothed[:n]
    suggestions = {}
    for rule, fn in SUGGESTIONS.items():
        try:
            suggestions[rule] = fn(lrs, smoothed, num_it)
        except TooFewPoints:  # fast.ai raises an error here; learnlr leaves the rule out
            continue
    return FinderResult(lrs, losses, smoothed, suggestions, stopped, num_it)
