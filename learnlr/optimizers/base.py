"""The small types every optimizer shares: ``Optimizer``, ``StepInfo``, ``rate_at`` and
``hyperparams``.

Step numbering, stated once for the whole package: updates are counted from 0. Update k
(``k = 0`` is the first) uses the rate ``schedule(k)``; an optimizer's state carries
``count``, the number of updates already done, so update k sees ``state.count == k``;
Adam-style bias corrections use ``t = k + 1``.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from learnlr._checks import check_scheduled_rate, short_repr


class StepInfo(NamedTuple):
    r"""What one update did, in the terms every optimizer shares, and its own intermediates.

    For every optimizer ``x_new == x - eff_lr * direction`` (to rounding).

    ``terms`` holds what the step computed on its way, by the names of the optimizer's
    equations (Adam's ``m_hat``, ``v_hat``, bias corrections ``c1``, ``c2``, ...), so that the
    optimizer's ``explain`` writes them out without computing anything again; each
    optimizer's module lists its keys. ``terms["g"]``, where present, is the gradient after an
    L2 penalty. A hand-written optimizer may leave ``terms`` out (an empty, read-only mapping).

    Decoupled weight decay (AdamW, NAdam and RAdam with ``decoupled_weight_decay``, Lion)
    shrinks ``x`` by the factor ``terms["decay"]`` :math:`= 1 - \eta\lambda` before the
    algorithm's step, ``x_new = decay * x - eff_lr * d``, with the algorithm's own direction
    ``d`` in ``terms`` (``m_hat``, ``d``, ``sign_c``). ``direction`` still includes the decay,
    :math:`d + \eta\lambda x / \text{eff\_lr}`, so that the identity above, and a trace's
    ``direction`` column, mean the same for every optimizer.
    """

    lr: float  # the scalar rate used by this update (after schedule and decay)
    eff_lr: np.ndarray  # per-parameter factor multiplying the direction
    direction: np.ndarray  # the vector the update moves against
    terms: Mapping[str, Any] = MappingProxyType({})  # the step's intermediates, by name


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


def check_optimizer(func: str, value, name: str = "opt", made_by: str | None = None):
    """``value`` if it is a learnlr optimizer (an
    :class:`~learnlr.optimizers.base.Optimizer`, as the factories return); otherwise a
    ``TypeError`` naming ``func``, the argument and the value.
    ``made_by`` names the call that produced ``value`` when the user passed a ``make_opt``
    (``make_opt(0.1) must return a learnlr optimizer, got 0.1``)."""
    if not isinstance(value, Optimizer):
        what = f"{name} must be" if made_by is None else f"{made_by} must return"
        raise TypeError(f"{func}: {what} a learnlr optimizer, got {short_repr(value)}")
    return value


def _short_repr(value) -> str:
    if callable(value):
        return getattr(value, "label", None) or getattr(value, "__name__", "schedule")
    return repr(value)


@functools.cache
def _argument_names(factory: Callable) -> tuple[str, ...]:
    # A factory's hyper-parameters are its arguments, except a private keyword-only one
    # (``adam``'s ``_name``, with which ``adamw`` calls it): those start with "_".
    params = inspect.signature(factory).parameters
    return tuple(name for name in params if not name.startswith("_"))


def hyperparams(factory: Callable, values: Mapping[str, Any]) -> dict:
    """The hyper-parameters of an optimizer made by ``factory``, in its signature's order.

    ``factory`` is the optimizer's own factory function (``adam``, ``sgd``, ...), whose
    signature names the hyper-parameters; the package calls such a function a *factory*.
    It is not a ``make_opt``, the package's name for any function ``lr -> Optimizer`` that
    a sweep or a controller calls with a rate.

    ``values`` maps each argument name to its value after the factory's checks; a factory
    passes its ``locals()`` once they hold the checked values, so each hyper-parameter is
    named in the signature and in its check, and nowhere else.

    Example:
        >>> def demo(lr=0.1, betas=(0.9, 0.99), *, _name="demo"):
        ...     betas = tuple(float(b) for b in betas)
        ...     return hyperparams(demo, locals())
        >>> demo(betas=[0.5, 1])
        {'lr': 0.1, 'betas': (0.5, 1.0)}
    """
    return {name: values[name] for name in _argument_names(factory)}


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
