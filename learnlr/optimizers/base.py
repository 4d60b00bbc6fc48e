"""The small types every optimizer shares: ``Optimizer``, ``StepInfo`` and ``rate_at``.

Step numbering, stated once for the whole package: updates are counted from 0. Update k
(``k = 0`` is the first) uses the rate ``schedule(k)``; an optimizer's state carries
``count``, the number of updates already done, so update k sees ``state.count == k``;
Adam-style bias corrections use ``t = k + 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from learnlr._checks import check_scheduled_rate


class StepInfo(NamedTuple):
    """What one update did, in the terms every optimizer shares.

    For every optimizer ``x_new == x - eff_lr * direction`` (to rounding).
    """

    lr: float  # the scalar rate used by this update (after schedule and decay)
    eff_lr: np.ndarray  # per-parameter factor multiplying the direction
    direction: np.ndarray  # the vector the update moves against


@dataclass(frozen=True)
class Optimizer:
    """An optimizer as a pair of pure functions.

    ``init(x) -> state`` builds the starting state for parameters ``x``;
    ``step(x, g, state) -> (x_new, new_state, info)`` performs one update from the
    gradient ``g``. Neither modifies its inputs. ``hyperparams`` lists the arguments
    the factory was called with; ``explain`` turns one recorded step into text.
    """

    name: str
    init: Callable[[np.ndarray], Any]
    step: Callable[[np.ndarray, np.ndarray, Any], tuple]
    hyperparams: dict = field(default_factory=dict)
    explain: Callable | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_short_repr(v)}" for k, v in self.hyperparams.items())
        return f"{self.name}({args})"


def _short_repr(value) -> str:
    if callable(value):
        return getattr(value, "label", None) or getattr(value, "__name__", "schedule")
    return repr(value)


def rate_at(lr, k: int, func: str = "optimizer") -> float:
    """The rate for update ``k``: ``lr`` itself, or ``lr(k)`` when ``lr`` is a schedule.

    A schedule's value is checked at every call (a finite number >= 0); anything else is
    refused with an error naming the optimizer ``func`` and the step ``k``.
    """
    if callable(lr):
        value = lr(k)
        if type(value) is float and 0.0 <= value < math.inf:
            return value
        return check_scheduled_rate(func, value, k)
    return float(lr)


def fmt(value, digits: int = 4) -> str:
    """Format a number or a small array for an explanation, ``digits`` significant digits."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.{digits}g}"
    if arr.size > 6:
        inner = ", ".join(f"{v:.{digits}g}" for v in arr.ravel()[:6])
        return f"[{inner}, ...]"
    return "[" + ", ".join(f"{v:.{digits}g}" for v in arr.ravel()) + "]"
