r"""Learning-rate schedules as closed-form functions of the update number.

The step-numbering rule, stated once: ``s(k)`` is the rate used by update ``k``, with
``k = 0`` the first update. In PyTorch terms, ``s(k)`` is what
``scheduler.get_last_lr()`` returns after ``k`` calls of ``scheduler.step()`` (one call
per update). In Keras terms, it is ``schedule(optimizer.iterations)``.

Every schedule accepts one step number (an int, a NumPy integer, an integral float or a 0-d
array; it returns a float) or an integer array (it returns a float array of the same shape),
so plotting a schedule is one call. Steps are checked at the door: negative, non-integral or
larger than ``2**53`` (where float64 stops telling ``k`` from ``k + 1``) is an error naming the
schedule::

    >>> import numpy as np
    >>> s = cosine_annealing(base_lr=0.1, T_max=100)
    >>> s(0), s(100)
    (0.1, 0.0)
    >>> s(np.arange(3)).round(6)
    array([0.1     , 0.099975, 0.099901])

Argument names and defaults follow ``torch.optim.lr_scheduler``; where PyTorch takes the
starting rate from the optimizer, the schedule here takes it as ``base_lr``. The package's
tests compare every schedule with PyTorch's over 300 steps.

The names of the rates, one per idea:

=============  ======================================================  =========================
name           meaning                                                 PyTorch
=============  ======================================================  =========================
``lr``         an optimizer's rate (a number or a schedule);           ``lr``
               :func:`constant`'s one rate
``base_lr``    the rate a schedule starts from and multiplies          the optimizer's ``lr``
               (:func:`step_lr`, :func:`cosine_annealing`, ...);       (``scheduler.base_lrs``);
               the low end of :func:`cyclic_lr` and the start of       ``CyclicLR``'s
               :func:`warmup_stable_decay`'s warmup                    ``base_lr``
``max_lr``     the peak: :func:`cyclic_lr`, :func:`one_cycle`,         ``CyclicLR``,
               :func:`warmup_stable_decay`                             ``OneCycleLR``: ``max_lr``
``eta_min``    where a cosine ends (:func:`cosine_annealing`,          ``eta_min``
               :func:`cosine_annealing_warm_restarts`)
``final_lr``   where :func:`warmup_stable_decay`'s decay ends          (not in PyTorch)
``min_lr``     the floor of :func:`reduce_on_plateau`                  ``min_lr``
=============  ======================================================  =========================

A schedule that mirrors a PyTorch scheduler keeps PyTorch's names (a test compares them);
``eta_min`` and ``min_lr`` are both PyTorch's, for two schedulers. PyTorch's schedulers are
stateful and compute each rate from the previous one; these closed forms agree with them
to rounding. :func:`reduce_on_plateau`, which depends on the loss, is the one stateful
controller, with the optimizers' ``init``/``step`` shape: ``ctl.step(state, metric)``, as
PyTorch's ``ReduceLROnPlateau.step(metrics)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    check_bool,
    check_choice,
    check_int,
    check_interval,
    check_nonnegative,
    check_positive,
    check_real,
    check_steps,
)

__all__ = [
    "Schedule",
    "constant",
    "step_lr",
    "multistep_lr",
    "exponential_lr",
    "polynomial_lr",
    "linear_lr",
    "cosine_annealing",
    "cosine_annealing_warm_restarts",
    "cyclic_lr",
    "one_cycle",
    "sequential",
    "piecewise_constant",
    "warmup_stable_decay",
    "reduce_on_plateau",
    "PlateauState",
    "REGISTRY",
]


class Schedule:
    """A learning-rate schedule: call it with a step number or an integer array of them.

    ``label`` is a short description used in plots and reprs; ``hyperparams`` holds the
    arguments it was built with (the name an optimizer's ``hyperparams`` has);
    ``max_steps`` is the last step it is defined for (``None`` when unbounded).
    """

    def __init__(
        self,
        name: str,
        fn: Callable[[np.ndarray], np.ndarray],
        hyperparams: dict,
        max_steps: int | None = None,
    ):
        self.name = name
        self._fn = fn
        self.hyperparams = hyperparams
        self.max_steps = max_steps
        args = ", ".join(f"{k}={_param_repr(v)}" for k, v in hyperparams.items())
        self.label = f"{name}({args})"

    def __call__(self, k):
        k, one = check_steps(self.name, k)
        if self.max_steps is not None and np.max(k, initial=0) > self.max_steps:
            raise ValueError(
                f"{self.name}: step must be <= {self.max_steps} (the schedule covers steps 0 "
                f"to {self.max_steps}), "
                f"got {int(np.max(k))}"
            )
        values = np.asarray(self._fn(k.reshape(-1)), dtype=float)
        return float(values[0]) if one else values.reshape(k.shape)

    def __repr__(self) -> str:
        return self.label


def _param_repr(value) -> str:
    if isinstance(value, Schedule):
        return value.label
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_param_repr(v) for v in value)
        return f"[{inner}]"
    return repr(value)


# --------------------------------------------------------------------------------------
# Simple schedules
# --------------------------------------------------------------------------------------
def constant(lr=0.1) -> Schedule:
    r"""The same rate at every step: :math:`\eta_k = \eta`."""
    lr = check_nonnegative("constant", "lr", lr)
    return Schedule("constant", lambda k: np.full(k.shape, lr), {"lr": lr})


def step_lr(base_lr, step_size, gamma=0.1) -> Schedule:
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps, as ``StepLR``.

    .. math:: \eta_k = \eta_0\, \gamma^{\lfloor k / \text{step\_size} \rfloor}

    Example:
        >>> step_lr(base_lr=1.0, step_size=10, gamma=0.5)([0, 9, 10, 25])
        array([1.  , 1.  , 0.5 , 0.25])
    """
    name = "step_lr"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    step_size = check_int(name, "step_size", step_size, 1)
    gamma = check_nonnegative(name, "gamma", gamma)
    return Schedule(
        name,
        lambda k: base_lr * gamma ** (k // step_size).astype(float),
        {"base_lr": base_lr, "step_size": step_size, "gamma": gamma},
    )


def multistep_lr(base_lr, milestones, gamma=0.1) -> Schedule:
    r"""Multiply the rate by ``gamma`` at each milestone, as ``MultiStepLR``.

    .. math:: \eta_k = \eta_0\, \gamma^{\#\{m \in \text{milestones} : m \le k\}}

    Example:
        >>> multistep_lr(base_lr=1.0, milestones=[3, 5], gamma=0.1)([0, 2, 3, 4, 5])
        array([1.  , 1.  , 0.1 , 0.1 , 0.01])
    """
    name = "multistep_lr"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    # a repeated milestone applies gamma once per repeat, as in PyTorch
    milestones = sorted(_check_increasing(name, "milestones", milestones, strict=False))
    gamma = check_nonnegative(name, "gamma", gamma)
    ms = np.array(milestones, dtype=np.int64)
    return Schedule(
        name,
        lambda k: base_lr * gamma ** np.searchsorted(ms, k, side="right").astype(float),
        {"base_lr": base_lr, "milestones": list(milestones), "gamma": gamma},
    )


def exponential_lr(base_lr, gamma) -> Schedule:
    r"""Multiply the rate by ``gamma`` at every step, as ``ExponentialLR``: :math:`\eta_0\gamma^k`.

    Example:
        >>> exponential_lr(base_lr=1.0, gamma=0.5)([0, 1, 2])
        array([1.  , 0.5 , 0.25])
    """
    name = "exponential_lr"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    gamma = check_nonnegative(name, "gamma", gamma)
    return Schedule(
        name, lambda k: base_lr * gamma ** k.astype(float), {"base_lr": base_lr, "gamma": gamma}
    )


def polynomial_lr(base_lr, total_iters=5, power=1.0) -> Schedule:
    r"""Decay to 0 over ``total_iters`` steps along a polynomial, as ``PolynomialLR``.

    .. math:: \eta_k = \eta_0 \left(1 - \frac{\min(k, T)}{T}\right)^{p}

    Example:
        >>> polynomial_lr(base_lr=1.0, total_iters=4, power=2.0)([0, 2, 4, 9])
        array([1.  , 0.25, 0.  , 0.  ])
    """
    name = "polynomial_lr"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    total_iters = check_int(name, "total_iters", total_iters, 1)
    power = check_nonnegative(name, "power", power)
    return Schedule(
        name,
        lambda k: base_lr * (1.0 - np.minimum(k, total_iters) / total_iters) ** power,
        {"base_lr": base_lr, "total_iters": total_iters, "power": power},
    )


def linear_lr(base_lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5) -> Schedule:
    r"""Move the factor linearly from ``start_factor`` to ``end_factor``, as ``LinearLR``.

    Used for linear warmup (``start_factor`` small, ``end_factor=1``).

    .. math:: \eta_k = \eta_0 \left(s + (e - s) \frac{\min(k, T)}{T}\right)

    Example:
        >>> linear_lr(base_lr=1.0, start_factor=0.25, total_iters=3)([0, 1, 3, 7])
        array([0.25, 0.5 , 1.  , 1.  ])
    """
    name = "linear_lr"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    start_factor = check_interval(name, "start_factor", start_factor, 0.0, 1.0, "(]")
    end_factor = check_interval(name, "end_factor", end_factor, 0.0, 1.0, "[]")
    total_iters = check_int(name, "total_iters", total_iters, 1)
    return Schedule(
        name,
        lambda k: (
            base_lr
            * (
                start_factor
                + (end_factor - start_factor) * np.minimum(k, total_iters) / total_iters
            )
        ),
        {
            "base_lr": base_lr,
            "start_factor": start_factor,
            "end_factor": end_factor,
            "total_iters": total_iters,
        },
    )


def cosine_annealing(base_lr, T_max, eta_min=0.0) -> Schedule:
    r"""Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` steps.

    .. math:: \eta_k = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi k / T_{max}))

    As in PyTorch's ``CosineAnnealingLR``, the formula keeps going past ``T_max``: the
    rate climbs back up along the cosine (use :func:`sequential` or a constant tail if
    you want it to stay at ``eta_min``). Loshchilov & Hutter (2017), arXiv:1608.03983.

    Example:
        >>> cosine_annealing(base_lr=1.0, T_max=4)([0, 2, 4])
        array([1. , 0.5, 0. ])
    """
    name = "cosine_annealing"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    T_max = check_int(name, "T_max", T_max, 1)
    eta_min = check_nonnegative(name, "eta_min", eta_min)

    def fn(k):
        # reducing k modulo the period keeps the angle small, so cos is exact at k = T_max
        c = np.cos(np.pi * (k % (2 * T_max)) / T_max)
        return eta_min + (base_lr - eta_min) * (1 + c) / 2

    return Schedule(name, fn, {"base_lr": base_lr, "T_max": T_max, "eta_min": eta_min})


def cosine_annealing_warm_restarts(base_lr, T_0, T_mult=1, eta_min=0.0) -> Schedule:
    r"""Cosine annealing restarted at ``base_lr``; cycle i lasts :math:`T_0 T_{mult}^i` steps.

    With :math:`T_{cur}` the steps since the last restart and :math:`T_i` the current
    cycle's length:

    .. math:: \eta_k = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi T_{cur}/T_i))

    Matches ``CosineAnnealingWarmRestarts`` stepped once per update without an epoch
    argument. Loshchilov & Hutter (2017), ICLR, arXiv:1608.03983.

    Example:
        >>> cosine_annealing_warm_restarts(base_lr=1.0, T_0=2, T_mult=2)([0, 1, 2, 3, 4, 6])
        array([1.        , 0.5       , 1.        , 0.85355339, 0.5       ,
               1.        ])
    """
    name = "cosine_annealing_warm_restarts"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    T_0 = check_int(name, "T_0", T_0, 1)
    T_mult = check_int(name, "T_mult", T_mult, 1)
    eta_min = check_nonnegative(name, "eta_min", eta_min)

    def fn(k):
        k = k.astype(float)
        if T_mult == 1:
            T_i = np.full(k.shape, float(T_0))
            T_cur = k % T_0
        else:
            # cycle n starts at T_0 (T_mult^n - 1) / (T_mult - 1)
            n = np.floor(np.log(k / T_0 * (T_mult - 1) + 1) / np.log(T_mult))
            start = T_0 * (T_mult**n - 1) / (T_mult - 1)
            # guard against rounding in the logarithm at cycle boundaries
            n = np.where(k < start, n - 1, n)
            start = T_0 * (T_mult**n - 1) / (T_mult - 1)
            T_i = T_0 * T_mult**n
            n = np.where(k - start >= T_i, n + 1, n)
            start = T_0 * (T_mult**n - 1) / (T_mult - 1)
            T_i = T_0 * T_mult**n
            T_cur = k - start
        return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * T_cur / T_i)) / 2

    return Schedule(
        name, fn, {"base_lr": base_lr, "T_0": T_0, "T_mult": T_mult, "eta_min": eta_min}
    )


def cyclic_lr(
    base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0
) -> Schedule:
    r"""Cycle between ``base_lr`` and ``max_lr`` (Smith 2017's CLR), as ``CyclicLR``.

    A cycle is ``step_size_up`` steps up then ``step_size_down`` steps down (default: the
    same). With :math:`c` the 1-based cycle number and :math:`h \in [0, 1]` the height of
    the triangle at step ``k``:

    .. math:: \eta_k = \eta_{base} + (\eta_{max} - \eta_{base})\, h\, \text{scale}

    where scale is 1 (``"triangular"``), :math:`1/2^{c-1}` (``"triangular2"``, the height
    halves each cycle) or :math:`\gamma^k` (``"exp_range"``).

    Smith (2017), WACV, arXiv:1506.01186. PyTorch also cycles momentum by default
    (``cycle_momentum=True``); this schedule covers the rate only.

    Example:
        >>> cyclic_lr(base_lr=0.0, max_lr=1.0, step_size_up=2)([0, 1, 2, 3, 4])
        array([0. , 0.5, 1. , 0.5, 0. ])
    """
    name = "cyclic_lr"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    max_lr = check_nonnegative(name, "max_lr", max_lr)
    step_size_up = check_int(name, "step_size_up", step_size_up, 1)
    if step_size_down is None:
        step_size_down = step_size_up
    step_size_down = check_int(name, "step_size_down", step_size_down, 1)
    mode = check_choice(name, "mode", mode, ("triangular", "triangular2", "exp_range"))
    gamma = check_positive(name, "gamma", gamma)
    total = float(step_size_up + step_size_down)
    step_ratio = step_size_up / total

    def fn(k):
        k = k.astype(float)
        cycle = np.floor(1 + k / total)
        x = 1.0 + k / total - cycle
        scale_factor = np.where(x <= step_ratio, x / step_ratio, (x - 1) / (step_ratio - 1))
        height = (max_lr - base_lr) * scale_factor
        if mode == "triangular":
            return base_lr + height
        if mode == "triangular2":
            return base_lr + height / 2.0 ** (cycle - 1)
        return base_lr + height * gamma**k

    return Schedule(
        name,
        fn,
        {
            "base_lr": base_lr,
            "max_lr": max_lr,
            "step_size_up": step_size_up,
            "step_size_down": step_size_down,
            "mode": mode,
            "gamma": gamma,
        },
    )


def _pieces(k, bounds, pieces, bound_starts_next=True) -> np.ndarray:
    """A schedule made of pieces: ``pieces[i](k)`` for the steps between two bounds.

    The pieces meet at ``bounds`` (one fewer than the pieces, non-decreasing). A step equal
    to a bound belongs to the later piece when ``bound_starts_next`` (PyTorch's milestones:
    the new schedule starts *at* the milestone) and to the earlier one otherwise (the phase
    ends of :func:`one_cycle` are the last steps of their phases). Each piece is a function
    of the steps' array and is called only with the steps that fall in it. Shared by
    :func:`sequential`, :func:`one_cycle` and :func:`warmup_stable_decay`.
    """
    side = "right" if bound_starts_next else "left"
    which = np.searchsorted(np.asarray(bounds, dtype=float), k, side=side)
    out = np.empty(k.shape)
    for i, piece in enumerate(pieces):
        mask = which == i
        if mask.any():
            out[mask] = piece(k[mask])
    return out


def _anneal(start, end, pct, strategy):
    if strategy == "cos":
        return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle(
    max_lr,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
) -> Schedule:
    r"""The one-cycle policy (Smith & Topin 2018), as ``OneCycleLR``.

    Starts at :math:`\eta_{max}/\text{div\_factor}`, rises to ``max_lr`` over the first
    ``pct_start`` of the steps, then anneals to
    :math:`\eta_{max}/(\text{div\_factor}\cdot\text{final\_div\_factor})`. With
    ``three_phase=True`` it comes back down to the initial rate symmetrically before the
    final annealing. Phase boundaries are PyTorch's: phase 1 ends at step
    :math:`\text{pct\_start}\cdot T - 1`, the last at :math:`T - 1`.

    Defined for ``0 <= k < total_steps``: a run of ``total_steps`` updates uses exactly
    these. PyTorch also returns a rate after ``total_steps`` calls of ``step()``, an
    extrapolation of the last phase that is never used for an update (and is negative for
    ``anneal_strategy="linear"``); learnlr refuses that step.

    Smith & Topin (2018), arXiv:1708.07120. PyTorch's defaults ``div_factor=25``,
    ``final_div_factor=1e4``; fast.ai's ``fit_one_cycle`` uses ``div=25``,
    ``div_final=1e5`` and ``pct_start=0.25``.

    Example:
        >>> s = one_cycle(max_lr=1.0, total_steps=10)
        >>> s([0, 2, 9])
        array([4.e-02, 1.e+00, 4.e-06])
    """
    name = "one_cycle"
    max_lr = check_nonnegative(name, "max_lr", max_lr)
    total_steps = check_int(name, "total_steps", total_steps, 2)
    pct_start = check_interval(name, "pct_start", pct_start, 0.0, 1.0, "[]")
    anneal_strategy = check_choice(name, "anneal_strategy", anneal_strategy, ("cos", "linear"))
    div_factor = check_positive(name, "div_factor", div_factor)
    final_div_factor = check_positive(name, "final_div_factor", final_div_factor)
    three_phase = check_bool(name, "three_phase", three_phase)
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
            (total_steps - 1.0, initial_lr, min_lr),
        ]
    else:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (total_steps - 1.0, max_lr, min_lr),
        ]
    ends = [p[0] for p in phases]
    starts = [0.0] + ends[:-1]  # each phase starts where the one before ends
    if any(end <= start for start, end in zip(starts, ends, strict=True)):
        # Every phase must end after the previous one (the first after step 0):
        # p T - 1 > 0 gives p > 1 / T; two phases: T - 1 > p T - 1 gives p < 1; three
        # phases: T - 1 > 2 p T - 2 gives p < (T + 1) / (2 T). Both ranges are open.
        low = 1 / total_steps
        high = (total_steps + 1) / (2 * total_steps) if three_phase else 1.0
        raise ValueError(
            f"one_cycle: pct_start={pct_start!r} with total_steps={total_steps} gives an empty "
            f"phase (phase ends at steps {[round(e, 6) for e in ends]}); use a pct_start "
            f"strictly between {low:.4g} and {high:.4g}"
        )

    def phase(start, end, lr_a, lr_b):  # anneal from lr_a at step start to lr_b at step end
        return lambda k: _anneal(lr_a, lr_b, (k - start) / (end - start), anneal_strategy)

    pieces = [phase(start, *p) for start, p in zip(starts, phases, strict=True)]

    def fn(k):  # a phase's end is its last step
        return _pieces(k.astype(float), ends[:-1], pieces, bound_starts_next=False)

    return Schedule(
        name,
        fn,
        {
            "max_lr": max_lr,
            "total_steps": total_steps,
            "pct_start": pct_start,
            "anneal_strategy": anneal_strategy,
            "div_factor": div_factor,
            "final_div_factor": final_div_factor,
            "three_phase": three_phase,
        },
        max_steps=total_steps - 1,
    )


def sequential(schedules: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
    r"""Join schedules at milestones, as ``SequentialLR``: each restarts its own count.

    With milestones :math:`m_1 < m_2 < \dots`, schedule :math:`i` runs on
    :math:`m_i \le k < m_{i+1}` and is called with :math:`k - m_i` (:math:`m_0 = 0`).

    Example: linear warmup for 5 steps, then cosine decay over 95:
        >>> s = sequential([linear_lr(1.0, start_factor=0.2, total_iters=5),
        ...                 cosine_annealing(1.0, T_max=95)], milestones=[5])
        >>> s([0, 4, 5, 100]).round(3)
        array([0.2 , 0.84, 1.  , 0.  ])
    """
    name = "sequential"
    if isinstance(schedules, (str, bytes)) or not isinstance(schedules, Sequence):
        raise TypeError(f"{name}: schedules must be a list of schedules, got {schedules!r}")
    for i, s in enumerate(schedules):
        if not callable(s):
            raise TypeError(f"{name}: schedules[{i}] must be a schedule, got {s!r}")
    milestones = _check_increasing(name, "milestones", milestones)
    if len(milestones) != len(schedules) - 1:
        raise ValueError(
            f"{name}: needs one milestone fewer than schedules, got {len(schedules)} schedules "
            f"and {len(milestones)} milestones"
        )
    starts = np.array([0] + list(milestones), dtype=np.int64)
    # schedule i, called with the steps counted from its own start
    pieces = [
        lambda k, s=s, start=start: s(k - start) for s, start in zip(schedules, starts, strict=True)
    ]

    def fn(k):
        return _pieces(k, milestones, pieces)

    return Schedule(name, fn, {"schedules": list(schedules), "milestones": list(milestones)})


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    r"""Keras's ``PiecewiseConstantDecay``: ``values[i]`` between consecutive boundaries.

    .. math:: \eta_k = v_0 \ (k \le b_0), \quad v_1 \ (b_0 < k \le b_1), \quad \dots,
              \quad v_n \ (k > b_{n-1})

    Note the boundary itself belongs to the *earlier* piece (Keras tests
    ``step <= boundary``), whereas :func:`multistep_lr` switches *at* the milestone: the
    same numbers give schedules one step apart.

    Example:
        >>> piecewise_constant(boundaries=[2], values=[1.0, 0.1])([0, 2, 3])
        array([1. , 1. , 0.1])
    """
    name = "piecewise_constant"
    boundaries = _check_increasing(name, "boundaries", boundaries)
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name}: values must be a list of numbers, got {values!r}")
    values = [check_nonnegative(name, f"values[{i}]", v) for i, v in enumerate(values)]
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"{name}: needs one value more than boundaries, got {len(boundaries)} boundaries "
            f"and {len(values)} values"
        )
    b = np.array(boundaries, dtype=np.int64)
    v = np.array(values, dtype=float)
    return Schedule(
        name,
        lambda k: v[np.searchsorted(b, k, side="left")],
        {"boundaries": list(boundaries), "values": list(values)},
    )


def warmup_stable_decay(
    max_lr,
    warmup_steps,
    stable_steps,
    decay_steps,
    base_lr=0.0,
    final_lr=0.0,
    decay_shape="linear",
) -> Schedule:
    r"""Warmup-stable-decay (WSD): rise linearly, hold, then decay (Hu et al. 2024, MiniCPM).

    Phases, with :math:`W, S, D` = ``warmup_steps``, ``stable_steps``, ``decay_steps``:

    1. :math:`0 \le k < W`: linear from ``base_lr`` to ``max_lr``,
       :math:`\eta_k = \eta_{base} + (\eta_{max} - \eta_{base})\, k / W`;
    2. :math:`W \le k < W + S`: hold ``max_lr``;
    3. :math:`W + S \le k`: decay from ``max_lr`` to ``final_lr`` over ``D`` steps
       (``"linear"``, ``"cosine"`` or ``"sqrt"``: :math:`1 - \sqrt{p}`), then stay there.

    The rates are named as in :func:`cyclic_lr`, which also rises from ``base_lr`` to
    ``max_lr``. ``final_lr`` is where the decay ends, not a floor (the warmup may start
    below it); cosine annealing's ``eta_min`` is PyTorch's name for the same end point.

    Not a PyTorch scheduler; it equals :func:`sequential` of :func:`linear_lr`,
    :func:`constant` and a decay. Hu et al. (2024), arXiv:2404.06395.

    Example:
        >>> s = warmup_stable_decay(1.0, warmup_steps=2, stable_steps=2, decay_steps=2)
        >>> s([0, 1, 2, 3, 4, 5, 6])
        array([0. , 0.5, 1. , 1. , 1. , 0.5, 0. ])
    """
    name = "warmup_stable_decay"
    max_lr = check_nonnegative(name, "max_lr", max_lr)
    warmup_steps = check_int(name, "warmup_steps", warmup_steps, 0)
    stable_steps = check_int(name, "stable_steps", stable_steps, 0)
    decay_steps = check_int(name, "decay_steps", decay_steps, 1)
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    final_lr = check_nonnegative(name, "final_lr", final_lr)
    decay_shape = check_choice(name, "decay_shape", decay_shape, ("linear", "cosine", "sqrt"))
    W, S, D = warmup_steps, stable_steps, decay_steps

    def warmup(k):  # 1.
        return base_lr + (max_lr - base_lr) * k / max(W, 1)

    def stable(k):  # 2.
        return np.full(k.shape, max_lr)

    def decay(k):  # 3., p = the fraction of the decay done
        p = np.minimum((k - W - S) / D, 1.0)
        if decay_shape == "linear":
            frac = 1 - p
        elif decay_shape == "cosine":
            frac = (1 + np.cos(np.pi * p)) / 2
        else:
            frac = 1 - np.sqrt(p)
        return final_lr + (max_lr - final_lr) * frac

    def fn(k):
        return _pieces(k.astype(float), [W, W + S], [warmup, stable, decay])

    return Schedule(
        name,
        fn,
        {
            "max_lr": max_lr,
            "warmup_steps": W,
            "stable_steps": S,
            "decay_steps": D,
            "base_lr": base_lr,
            "final_lr": final_lr,
            "decay_shape": decay_shape,
        },
    )


def _check_increasing(func, name, values, strict=True) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{func}: {name} must be a list of integers, got {values!r}")
    out = [check_int(func, f"{name}[{i}]", v, 0) for i, v in enumerate(values)]
    if not strict:
        return out
    for a, b in zip(out[:-1], out[1:], strict=True):
        if b <= a:
            raise ValueError(f"{func}: {name} must be strictly increasing, got {out}")
    return out


# --------------------------------------------------------------------------------------
# Reduce on plateau: the one schedule that depends on the loss
# --------------------------------------------------------------------------------------
class PlateauState(NamedTuple):
    lr: float  # the rate to use from now on
    best: float  # best metric seen so far
    num_bad_epochs: int  # consecutive checks without improvement
    cooldown_counter: int  # checks left in the cooldown after a reduction
    last_epoch: int  # number of metrics seen
    reduced: bool  # whether this step cut the rate


class PlateauController(NamedTuple):
    """``init() -> state`` and ``step(state, metric) -> state``; see :func:`reduce_on_plateau`.

    The shape of an optimizer (``init``, then one ``step`` per observation, the state passed
    in and handed back), and the name of PyTorch's ``ReduceLROnPlateau.step(metrics)``.
    """

    init: Callable[[], PlateauState]
    step: Callable[[PlateauState, float], PlateauState]
    hyperparams: dict

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparams.items())
        return f"reduce_on_plateau({args})"


def reduce_on_plateau(
    base_lr,
    mode="min",
    factor=0.1,
    patience=10,
    threshold=1e-4,
    threshold_mode="rel",
    cooldown=0,
    min_lr=0.0,
    eps=1e-8,
) -> PlateauController:
    r"""Cut the rate by ``factor`` when a metric stops improving, as ``ReduceLROnPlateau``.

    A stateful controller with the optimizers' shape: ``state = ctl.init()``, then after
    each evaluation ``state = ctl.step(state, metric)`` (PyTorch:
    ``scheduler.step(metrics)``); ``state.lr`` is the rate to use from then on. One step, in
    order (``mode="min"``):

    1. *better* means ``metric < best * (1 - threshold)`` (``threshold_mode="rel"``) or
       ``metric < best - threshold`` (``"abs"``); if better, ``best = metric`` and the bad
       count resets to 0, otherwise it grows by 1;
    2. during a cooldown, the cooldown counter drops by 1 and the bad count is reset to 0;
    3. if the bad count now *exceeds* ``patience`` (so ``patience + 1`` bad checks in a
       row), ``lr = max(lr * factor, min_lr)`` (skipped if that changes it by no more than
       ``eps``), the cooldown starts and the bad count resets.

    ``mode="max"`` flips the comparisons (``metric > best * (1 + threshold)``).

    Example:
        >>> ctl = reduce_on_plateau(base_lr=1.0, patience=1)
        >>> s = ctl.init()
        >>> for loss in [1.0, 1.0, 1.0, 1.0]:
        ...     s = ctl.step(s, loss)
        ...     print(s.lr, s.num_bad_epochs, s.reduced)
        1.0 0 False
        1.0 1 False
        0.1 0 True
        0.1 1 False
    """
    name = "reduce_on_plateau"
    base_lr = check_nonnegative(name, "base_lr", base_lr)
    mode = check_choice(name, "mode", mode, ("min", "max"))
    factor = check_interval(name, "factor", factor, 0.0, 1.0, "[)")
    patience = check_int(name, "patience", patience, 0)
    threshold = check_nonnegative(name, "threshold", threshold)
    threshold_mode = check_choice(name, "threshold_mode", threshold_mode, ("rel", "abs"))
    cooldown = check_int(name, "cooldown", cooldown, 0)
    min_lr = check_nonnegative(name, "min_lr", min_lr)
    eps = check_nonnegative(name, "eps", eps)

    def is_better(a, best):
        if mode == "min" and threshold_mode == "rel":
            return a < best * (1.0 - threshold)
        if mode == "min":
            return a < best - threshold
        if threshold_mode == "rel":
            return a > best * (threshold + 1.0)
        return a > best + threshold

    def init():
        best = math.inf if mode == "min" else -math.inf
        return PlateauState(base_lr, best, 0, 0, 0, False)

    def step(state, metric):
        metric = check_real(name, "metric", metric)
        best, bad, cool, lr = state.best, state.num_bad_epochs, state.cooldown_counter, state.lr
        if is_better(metric, best):
            best, bad = metric, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        reduced = False
        if bad > patience:
            new_lr = max(lr * factor, min_lr)
            if lr - new_lr > eps:
                lr, reduced = new_lr, True
            cool, bad = cooldown, 0
        return PlateauState(lr, best, bad, cool, state.last_epoch + 1, reduced)

    hyperparams = dict(
        base_lr=base_lr,
        mode=mode,
        factor=factor,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_lr=min_lr,
        eps=eps,
    )
    return PlateauController(init, step, hyperparams)


#: Every closed-form schedule factory by name.
REGISTRY = {
    "constant": constant,
    "step_lr": step_lr,
    "multistep_lr": multistep_lr,
    "exponential_lr": exponential_lr,
    "polynomial_lr": polynomial_lr,
    "linear_lr": linear_lr,
    "cosine_annealing": cosine_annealing,
    "cosine_annealing_warm_restarts": cosine_annealing_warm_restarts,
    "cyclic_lr": cyclic_lr,
    "one_cycle": one_cycle,
    "sequential": sequential,
    "piecewise_constant": piecewise_constant,
    "warmup_stable_decay": warmup_stable_decay,
}

__all__ += ["PlateauController"]
