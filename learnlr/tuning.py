r"""Tuning a learning rate on a grid that grows until the best rate is inside it.

A best rate on the first or last point of a grid is not an optimum: it only says the optimum
is at most (or at least) that rate. :func:`tune_rate` evaluates a log-spaced grid and, while
the best rate sits on an edge, adds one more rate beyond that edge with the grid's own
spacing, until the best is interior, a limit of extensions is reached, or the next rate would
pass a hard bound. The result says which of these happened, so a text can say "at the edge"
when it is.

NumPy only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from learnlr._checks import check_int, check_positive, short_repr

__all__ = ["TunedRate", "tune_rate"]


class TunedRate(NamedTuple):
    """The result of :func:`tune_rate`.

    A search over rates, not a run: a score per rate and where the search stopped, for any
    score (a final loss, steps to a target).
    """

    lr: float  # the best rate evaluated (ties: the smallest)
    score: float  # its score (inf: every rate diverged)
    lrs: np.ndarray  # every rate evaluated, increasing
    scores: np.ndarray  # their scores; inf for a diverged run (NaN is read as inf)
    edge: str | None  # None if the best is interior, else "low" or "high"
    stopped: str  # "interior", "max_extend", "lr_min" or "lr_max": why the search stopped
    extensions: int  # rates added beyond the initial grid

    @property
    def interior(self) -> bool:
        """True when the best rate has an evaluated rate on each side."""
        return self.edge is None

    def describe(self) -> str:
        """``"0.3"`` for an interior best, ``"0.3 (low edge)"`` when it is still on an edge."""
        return f"{self.lr:g}" if self.edge is None else f"{self.lr:g} ({self.edge} edge)"


def tune_rate(
    score: Callable[[float], float],
    lrs: Sequence[float],
    max_extend: int = 3,
    lr_min: float | None = None,
    lr_max: float | None = None,
) -> TunedRate:
    r"""The rate with the lowest ``score``, on a grid extended until the best is interior.

    Every rate of ``lrs`` is scored. While the best rate is the smallest (or largest) one
    evaluated, one rate is added beyond that edge: the edge rate times (or divided by) the
    ratio of the two outermost rates on that side, so a log-spaced grid stays log-spaced.
    The search stops when the best is interior (``stopped == "interior"``), after
    ``max_extend`` added rates (``"max_extend"``), or when the next rate would be below
    ``lr_min`` or above ``lr_max`` (``"lr_min"``, ``"lr_max"``; e.g. a rate above which every
    run diverges). A score of NaN or inf counts as diverged: it loses to every finite score,
    and a diverged neighbour beyond the edge makes the best interior. Ties go to the smallest
    rate; so when every score is inf the grid grows downwards, where diverged runs recover
    (a score that is inf for rates too *small*, such as steps to a target never reached, needs
    a grid that starts low enough).

    Args:
        score: a function of the rate returning a real number, lower is better (a final loss,
            steps to a target); NaN or inf for a diverged run.
        lrs: the initial grid: at least 2 rates > 0, strictly increasing (log-spaced, e.g.
            ``np.geomspace(1e-3, 1, 7)``).
        max_extend: the most rates added beyond the grid, in total (0: the grid only).
        lr_min, lr_max: optional hard bounds for added rates (> 0).

    Returns:
        A :class:`TunedRate`: the best rate and its score, every rate and score evaluated,
        ``edge`` (None, "low" or "high") and ``stopped``.

    Example:
        >>> f = lambda lr: (math.log10(lr) + 1.0) ** 2   # best at lr = 0.1
        >>> t = tune_rate(f, [1.0, 10.0, 100.0])
        >>> t.describe(), t.stopped, t.extensions, [f"{r:g}" for r in t.lrs]
        ('0.1', 'interior', 2, ['0.01', '0.1', '1', '10', '100'])
        >>> t = tune_rate(f, [1.0, 10.0, 100.0], max_extend=1)
        >>> t.describe(), t.stopped
        ('0.1 (low edge)', 'max_extend')
    """
    name = "tune_rate"
    if not callable(score):
        raise TypeError(f"{name}: score must be a function of the rate, got {short_repr(score)}")
    grid = _check_grid(name, lrs)
    max_extend = check_int(name, "max_extend", max_extend, 0)
    if lr_min is not None:
        lr_min = check_positive(name, "lr_min", lr_min)
    if lr_max is not None:
        lr_max = check_positive(name, "lr_max", lr_max)
    if lr_min is not None and lr_max is not None and lr_min > lr_max:
        raise ValueError(f"{name}: lr_min must be <= lr_max, got {lr_min!r} > {lr_max!r}")

    rates = [float(r) for r in grid]
    values = [_score(name, score, r) for r in rates]
    extensions = 0
    while True:
        best = int(np.argmin(values))  # inf loses to every finite score; ties: smallest rate
        edge = "low" if best == 0 else "high" if best == len(rates) - 1 else None
        if edge is None:
            stopped = "interior"
            break
        if extensions >= max_extend:
            stopped = "max_extend"
            break
        if edge == "low":
            nxt = rates[0] * rates[0] / rates[1]
            if lr_min is not None and nxt < lr_min:
                stopped = "lr_min"
                break
            rates.insert(0, nxt)
            values.insert(0, _score(name, score, nxt))
        else:
            nxt = rates[-1] * rates[-1] / rates[-2]
            if lr_max is not None and nxt > lr_max:
                stopped = "lr_max"
                break
            rates.append(nxt)
            values.append(_score(name, score, nxt))
        extensions += 1
    return TunedRate(
        rates[best], values[best], np.array(rates), np.array(values), edge, stopped, extensions
    )


def _check_grid(name: str, lrs) -> np.ndarray:
    try:
        grid = np.array(lrs, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: lrs must be a list of rates, got {short_repr(lrs)}") from None
    if (
        grid.ndim != 1
        or grid.size < 2
        or not np.all(np.isfinite(grid))
        or np.any(grid <= 0)
        or np.any(np.diff(grid) <= 0)
    ):
        raise ValueError(
            f"{name}: lrs must be at least 2 finite rates > 0 in increasing order, "
            f"got {short_repr(lrs)}"
        )
    return grid


def _score(name: str, score, lr: float) -> float:
    value = score(lr)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: score({lr:g}) must return a real number, got {short_repr(value)}")
    value = float(value)
    return math.inf if math.isnan(value) else value
