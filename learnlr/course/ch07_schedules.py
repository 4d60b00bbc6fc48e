r"""Helpers for the chapters on schedules, warmup and reduce-on-plateau (NumPy only).

The helpers, each a sentence of those chapters that a reader need not see built:

* training loops whose rate is set *while training runs*:
  :func:`run_with_plateau` (a :func:`~learnlr.schedules.reduce_on_plateau` controller
  reads the loss every ``eval_every`` updates) and :func:`run_with_epoch_schedule`
  (a Keras-style ``schedule(epoch, lr) -> lr`` called at the start of every epoch, as
  ``keras.callbacks.LearningRateScheduler`` does). Both return a :class:`ControlledRun`,
  which records the rate of every update and the points where it changed;
* :func:`gallery_schedule`: every schedule of :data:`learnlr.schedules.REGISTRY` built from
  the same two generic knobs (a *strength* and a *period*), for a gallery widget;
* :func:`sharpness`, the largest Hessian eigenvalue, which sets the stable rate
  :math:`2/\lambda_{max}` and so decides whether warmup can help;
* :func:`gd_many`: plain gradient descent for several rate sequences at once, fast enough
  for a slider.

Both are :func:`learnlr.run` with a :class:`~learnlr.trace.Controller`. The optimizer's
state survives a change of rate: the controller builds a new optimizer with
``make_opt(lr)`` and run carries the old state over, exactly as a framework callback
changes ``optimizer.lr`` without resetting the momentum or Adam buffers. Update numbering is the
package's: update ``k`` counts from 0, and ``lr[k]`` is the rate it used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from learnlr import schedules as _schedules
from learnlr._checks import (
    check_choice,
    check_int,
    check_interval,
    check_make_opt,
    check_positive,
    check_start_loss,
    check_vector,
)
from learnlr.optimizers.base import Optimizer, check_optimizer
from learnlr.problems import Problem
from learnlr.problems.functions import check_problem
from learnlr.trace import Controller, plateau_control, run

__all__ = [
    "ControlledRun",
    "run_with_plateau",
    "run_with_epoch_schedule",
    "gallery_schedule",
    "GALLERY_KNOBS",
    "sharpness",
    "ManyRuns",
    "gd_many",
]


class ControlledRun(NamedTuple):
    """A run whose rate was set during training, with the decisions that set it.

    The points and rates come from the :class:`~learnlr.trace.Trace` of the run; the
    decisions (what the controller read, the rate it set) are the controller's, which a
    Trace does not hold: this type puts the two side by side, for either controller of this
    module (a plateau rule or an epoch schedule).

    Per point (``n + 1`` rows for ``n`` updates done): ``k`` (updates done), ``x``,
    ``loss``. Per update (``n`` rows): ``lr``, the rate update ``k`` used.
    Per decision: ``eval_k`` (updates done when the controller was consulted),
    ``metric`` (what it read there; NaN if it read nothing), ``eval_lr`` (the rate it
    set for the updates that follow). ``changes`` lists the update counts ``c`` at which
    the rate changed: updates ``c, c + 1, ...`` use the new rate.
    """

    problem: Problem
    k: np.ndarray
    x: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    eval_k: np.ndarray
    metric: np.ndarray
    eval_lr: np.ndarray
    changes: list
    status: str
    diverged_at: int | None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def loss_final(self) -> float:
        return float(self.loss[-1])

    def gap(self) -> np.ndarray:
        """``loss - f_min`` per point (needs a problem with a known ``f_min``)."""
        if self.problem.f_min is None:
            raise ValueError(f"ControlledRun.gap: problem {self.problem.name!r} has no f_min")
        return self.loss - self.problem.f_min

    def __repr__(self) -> str:
        return (
            f"<ControlledRun on {self.problem.name}: {self.status}; "
            f"{len(self.changes)} rate change(s) at {self.changes}; "
            f"final loss {self.loss_final:.6g}>"
        )


def _check_common(func, problem, make_opt, steps, x0, max_loss):
    check_problem(func, problem)
    check_make_opt(func, make_opt)
    steps = check_int(func, "steps", steps, 0)
    x = problem.x0 if x0 is None else check_vector(func, "x0", x0)
    if x.shape != (problem.dim,):
        raise ValueError(f"{func}: x0 must have shape ({problem.dim},), got {x.shape}")
    if max_loss is not None:
        max_loss = check_positive(func, "max_loss", max_loss)
    return steps, x, max_loss


def _make(func, make_opt, lr):
    return check_optimizer(func, make_opt(lr), made_by=f"make_opt({lr!r})")


def _controlled(problem, tr, eval_k, metric, eval_lr, changes) -> ControlledRun:
    return ControlledRun(
        problem,
        tr.k,
        tr.x,
        tr.loss,
        tr.lr,
        np.array(eval_k, dtype=np.int64),
        np.array(metric, dtype=float),
        np.array(eval_lr, dtype=float),
        changes,
        tr.status,
        tr.diverged_at,
    )


def run_with_plateau(
    problem: Problem,
    make_opt: Callable[[float], Optimizer],
    controller,
    steps: int,
    eval_every: int = 1,
    x0=None,
    max_loss: float | None = None,
) -> ControlledRun:
    r"""Train while a reduce-on-plateau controller sets the rate from the loss.

    Every ``eval_every`` updates the controller reads the full loss :math:`f(x)` (the
    "validation metric") and may cut the rate; the next update uses
    ``controller``'s new rate. In PyTorch terms: ``scheduler.step(val_loss)`` once per
    evaluation, after ``optimizer.step()``.

    Args:
        problem: a :class:`~learnlr.problems.Problem`.
        make_opt: ``lr -> optimizer``, e.g. ``lambda lr: optimizers.sgd(lr=lr)``; called
            again at each cut, and the optimizer state carries over.
        controller: from :func:`learnlr.schedules.reduce_on_plateau`; its ``base_lr`` is
            the starting rate.
        steps: number of updates.
        eval_every: updates between two evaluations (an "epoch").
        x0: starting point (default ``problem.x0``).
        max_loss: stop and report divergence above this (default
            ``1e8 * max(1, |f(x0)|)``).

    Returns:
        A :class:`ControlledRun`; ``changes`` holds the update counts at which the rate
        was cut.

    Example:
        >>> from learnlr import optimizers, problems, schedules
        >>> ctl = schedules.reduce_on_plateau(base_lr=0.2, patience=2, factor=0.1)
        >>> r = run_with_plateau(problems.quadratic1d(a=10.0, x0=1.0),
        ...                      lambda lr: optimizers.gd(lr=lr), ctl, steps=8)
        >>> r.changes, r.lr
        ([4], array([0.2 , 0.2 , 0.2 , 0.2 , 0.02, 0.02, 0.02, 0.02]))

    With ``lr = 0.2 = 2/a`` gradient descent bounces between 1 and -1 on this parabola
    and the loss never improves. The first evaluation sets the baseline; after
    ``patience + 1 = 3`` more evaluations without improvement the rate is cut, so
    update 4 is the first to use ``0.02``.
    """
    func = "run_with_plateau"
    steps, x, max_loss = _check_common(func, problem, make_opt, steps, x0, max_loss)
    if not (hasattr(controller, "init") and hasattr(controller, "step")):
        raise TypeError(
            f"{func}: controller must come from schedules.reduce_on_plateau, got {controller!r}"
        )
    eval_every = check_int(func, "eval_every", eval_every, 1)
    ctl = plateau_control(make_opt, controller, every=eval_every)
    tr = run(
        problem,
        _make(func, make_opt, ctl.lr),
        steps,
        x0=x,
        max_loss=max_loss,
        eval_every=eval_every,
        controller=ctl,
        caller=func,
    )
    return _controlled(problem, tr, ctl.eval_k, ctl.metric, ctl.eval_lr, tr.changes)


def run_with_epoch_schedule(
    problem: Problem,
    make_opt: Callable[[float], Optimizer],
    schedule: Callable[[int, float], float],
    base_lr: float,
    epochs: int,
    steps_per_epoch: int,
    x0=None,
    max_loss: float | None = None,
) -> ControlledRun:
    r"""Train with a Keras-style ``schedule(epoch, lr) -> lr`` called at each epoch start.

    This is what ``keras.callbacks.LearningRateScheduler(schedule)`` does: at the
    beginning of epoch ``e`` (counted from 0) it calls ``schedule(e, lr)`` with the
    current rate and uses the result for every update of that epoch. The rate starts at
    ``base_lr`` (the optimizer's ``learning_rate`` in Keras).

    Args:
        problem, make_opt, x0, max_loss: as in :func:`run_with_plateau`.
        schedule: ``(epoch, lr) -> new lr``, a number >= 0.
        base_lr: the rate before the first call.
        epochs: number of epochs.
        steps_per_epoch: updates per epoch.

    Returns:
        A :class:`ControlledRun` with ``eval_k`` the update count at each epoch start,
        ``eval_lr`` the rate the schedule returned there and ``metric`` the loss at that
        moment.

    Example:
        >>> from learnlr import optimizers, problems
        >>> halve_every_2 = lambda epoch, lr: lr / 2 if epoch > 0 and epoch % 2 == 0 else lr
        >>> r = run_with_epoch_schedule(problems.quadratic1d(), lambda lr: optimizers.gd(lr=lr),
        ...                             halve_every_2, base_lr=0.4, epochs=5, steps_per_epoch=2)
        >>> r.lr, r.changes
        (array([0.4, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1]), [4, 8])
    """
    func = "run_with_epoch_schedule"
    epochs = check_int(func, "epochs", epochs, 0)
    steps_per_epoch = check_int(func, "steps_per_epoch", steps_per_epoch, 1)
    steps, x, max_loss = _check_common(
        func, problem, make_opt, epochs * steps_per_epoch, x0, max_loss
    )
    if not callable(schedule):
        raise TypeError(f"{func}: schedule must be a function (epoch, lr) -> lr, got {schedule!r}")
    base_lr = check_interval(func, "base_lr", base_lr, 0.0, math.inf, "[)")
    ctl = _EpochSchedule(func, make_opt, schedule, base_lr, steps_per_epoch)
    tr = run(
        problem,
        _make(func, make_opt, base_lr),
        steps,
        x0=x,
        max_loss=max_loss,
        controller=ctl,
        caller=func,
    )
    metric = tr.loss[ctl.eval_k]  # the loss at the start of each epoch
    changes = [c for c in tr.changes if c > 0]  # the first epoch's rate is no change
    return _controlled(problem, tr, ctl.eval_k, metric, ctl.eval_lr, changes)


class _EpochSchedule(Controller):
    """Keras's ``LearningRateScheduler`` as a :class:`~learnlr.trace.Controller` of run."""

    def __init__(self, func, make_opt, schedule, base_lr, steps_per_epoch):
        self.func, self.make_opt, self.schedule = func, make_opt, schedule
        self.lr, self.steps_per_epoch = base_lr, steps_per_epoch
        self.eval_k: list[int] = []  # the update count at each epoch start
        self.eval_lr: list[float] = []  # the rate the schedule returned there

    def before(self, k, opt):
        if k % self.steps_per_epoch:
            return opt
        epoch, lr = k // self.steps_per_epoch, self.lr
        new = self.schedule(epoch, lr)
        try:
            new = float(new)
        except (TypeError, ValueError):
            raise TypeError(
                f"{self.func}: schedule({epoch}, {lr!r}) must return a number, got {new!r}"
            ) from None
        if not np.isfinite(new) or new < 0:
            raise ValueError(
                f"{self.func}: schedule({epoch}, {lr!r}) returned {new!r}; a learning rate "
                "must be a finite number >= 0"
            )
        self.eval_k.append(k)
        self.eval_lr.append(new)
        if new == lr:
            return opt
        self.lr = new
        return _make(self.func, self.make_opt, new)


#: What the two generic knobs of :func:`gallery_schedule` mean for each schedule.
GALLERY_KNOBS = {
    "constant": ("ignored", "ignored"),
    "step_lr": ("gamma = 1 - s", "step_size = P"),
    "multistep_lr": ("gamma = 1 - s", "milestones = [P, 2P]"),
    "exponential_lr": ("gamma = (1 - s)^(1/P)", "loses the fraction s every P steps"),
    "polynomial_lr": ("power = 1 + 4s", "total_iters = P"),
    "linear_lr": ("start_factor = 1 - s", "total_iters = P"),
    "cosine_annealing": ("eta_min = (1 - s) peak", "T_max = P"),
    "cosine_annealing_warm_restarts": ("eta_min = (1 - s) peak", "T_0 = P"),
    "cyclic_lr": ("base_lr = (1 - s) peak", "one cycle = P (step_size_up = P/2)"),
    "one_cycle": ("div_factor = 1/(1 - s)", "pct_start = P/steps"),
    "sequential": ("warmup start_factor = 1 - s", "warmup P, then cosine"),
    "piecewise_constant": ("values = peak (1 - s)^i", "boundaries = [P, 2P]"),
    "warmup_stable_decay": ("final_lr = (1 - s) peak", "warmup = decay = P"),
}


def gallery_schedule(name: str, steps: int = 300, max_lr: float = 0.1, strength=0.5, period=100):
    r"""The schedule ``name`` of ``schedules.REGISTRY`` built from two generic knobs.

    A gallery widget needs the same two sliders for every schedule. ``strength``
    :math:`s \in (0, 1)` is *how much of the rate is taken away* and ``period``
    :math:`P` is *the number of steps over which it happens*; :data:`GALLERY_KNOBS` says
    what each becomes (e.g. ``step_lr``: ``gamma = 1 - s``, ``step_size = P``;
    ``cosine_annealing``: ``eta_min = (1 - s) * peak``, ``T_max = P``). Every schedule
    peaks at ``max_lr``.

    Args:
        name: a key of :data:`learnlr.schedules.REGISTRY`.
        steps: length of the plot (``one_cycle`` and ``sequential`` span it).
        max_lr: the largest rate (the peak).
        strength: :math:`s`, in (0, 1).
        period: :math:`P`, an integer in [2, steps].

    Example:
        >>> gallery_schedule("step_lr", strength=0.5, period=100)
        step_lr(base_lr=0.1, step_size=100, gamma=0.5)
        >>> gallery_schedule("cosine_annealing", strength=0.9, period=300)([0, 300]).round(4)
        array([0.1 , 0.01])
    """
    func = "gallery_schedule"
    name = check_choice(func, "name", name, tuple(_schedules.REGISTRY))
    steps = check_int(func, "steps", steps, 4)
    peak = check_positive(func, "max_lr", max_lr)
    s = check_interval(func, "strength", strength, 0.0, 1.0, "()")
    P = check_int(func, "period", period, 2)
    if P > steps:
        raise ValueError(f"{func}: period must be <= steps={steps}, got {P}")
    S = _schedules

    def r(v):  # 12 significant digits, so that labels read 0.01, not 0.009999999999999998
        return float(f"{v:.12g}")

    low, keep = r((1.0 - s) * peak), r(1.0 - s)
    within = [m for m in (P, 2 * P) if m < steps] or [P]
    if name == "constant":
        return S.constant(peak)
    if name == "step_lr":
        return S.step_lr(peak, step_size=P, gamma=keep)
    if name == "multistep_lr":
        return S.multistep_lr(peak, milestones=within, gamma=keep)
    if name == "exponential_lr":
        return S.exponential_lr(peak, gamma=r(keep ** (1.0 / P)))
    if name == "polynomial_lr":
        return S.polynomial_lr(peak, total_iters=P, power=r(1.0 + 4.0 * s))
    if name == "linear_lr":
        return S.linear_lr(peak, start_factor=keep, end_factor=1.0, total_iters=P)
    if name == "cosine_annealing":
        return S.cosine_annealing(peak, T_max=P, eta_min=low)
    if name == "cosine_annealing_warm_restarts":
        return S.cosine_annealing_warm_restarts(peak, T_0=P, eta_min=low)
    if name == "cyclic_lr":
        return S.cyclic_lr(low, peak, step_size_up=max(P // 2, 1), step_size_down=P - P // 2)
    if name == "one_cycle":
        pct = min(max(P / steps, 2.5 / steps), 1.0 - 1.5 / steps)
        return S.one_cycle(peak, total_steps=steps, pct_start=r(pct), div_factor=r(1.0 / keep))
    if name == "sequential":
        warm = S.linear_lr(peak, start_factor=keep, total_iters=P)
        return S.sequential([warm, S.cosine_annealing(peak, T_max=max(steps - P, 1))], [P])
    if name == "piecewise_constant":
        return S.piecewise_constant(within, [r(peak * keep**i) for i in range(len(within) + 1)])
    # warmup_stable_decay
    return S.warmup_stable_decay(
        peak, warmup_steps=P, stable_steps=max(steps - 2 * P, 0), decay_steps=P, final_lr=low
    )


def sharpness(problem: Problem, x, h: float = 1e-4) -> float | np.ndarray:
    r"""The largest eigenvalue :math:`\lambda_{max}` of the Hessian of ``problem`` at ``x``.

    Gradient descent with rate :math:`\eta` is locally stable where
    :math:`\eta\,\lambda_{max} < 2`. The Hessian is built from central differences of
    the exact gradient, :math:`H_{:,i} \approx (\nabla f(x + h e_i) - \nabla f(x - h
    e_i)) / 2h`, and symmetrised. ``x`` may be one point (returns a float) or a stack of
    shape ``(n, dim)`` (returns an array of ``n`` values).

    Example:
        >>> from learnlr import problems
        >>> round(sharpness(problems.quadratic2d(kappa=10.0), [0.3, -1.0]), 6)
        10.0
        >>> sharpness(problems.rosenbrock(), [[1.0, 1.0], [-1.5, 2.0]]).round(1)
        array([1001.6, 2092.2])
    """
    func = "sharpness"
    check_problem(func, problem)
    h = check_positive(func, "h", h)
    pts = check_vector(func, "x", x)
    single = pts.ndim == 1
    pts = pts.reshape(-1, problem.dim) if pts.size % problem.dim == 0 else None
    if pts is None or (not single and np.ndim(x) != 2):
        raise ValueError(
            f"{func}: x must have shape ({problem.dim},) or (n, {problem.dim}), got {np.shape(x)}"
        )
    eye = np.eye(problem.dim) * h
    out = np.empty(len(pts))
    for j, p in enumerate(pts):
        H = np.stack([(problem.grad(p + e) - problem.grad(p - e)) / (2 * h) for e in eye], 1)
        out[j] = np.linalg.eigvalsh((H + H.T) / 2)[-1]
    return float(out[0]) if single else out


class ManyRuns(NamedTuple):
    """Several gradient-descent runs done together: ``x[k, r]``, ``loss[k, r]`` for run ``r``.

    Its own type because :func:`gd_many` steps every run as one array, which a
    :class:`~learnlr.trace.Trace` of one run cannot hold.

    ``diverged_at[r]`` is the update after which run ``r`` blew up (``-1`` if it did not);
    its later rows hold NaN.
    """

    x: np.ndarray
    loss: np.ndarray
    diverged_at: np.ndarray


def gd_many(problem: Problem, lrs, x0=None, max_loss: float | None = None) -> ManyRuns:
    r"""Plain gradient descent for several rate sequences at once, vectorised over runs.

    Run ``r`` performs :math:`x_{k+1} = x_k - \eta_{r,k}\nabla f(x_k)` with the rates
    ``lrs[r, k]``; all runs step together, so an interactive demo can redraw several
    curves in a few milliseconds. The result equals ``run(problem, optimizers.gd(lr=...))``
    run by run (the tests check it). Needs a problem whose ``grad`` accepts a stack of
    points (the 2-D test functions and quadratics do).

    Args:
        problem: a deterministic :class:`~learnlr.problems.Problem`.
        lrs: array of shape ``(runs, steps)``: the rate of every update of every run.
        x0: common starting point (default ``problem.x0``).
        max_loss: a run whose loss exceeds this is stopped (default
            ``1e8 * max(1, |f(x0)|)``).

    Example:
        >>> import numpy as np
        >>> from learnlr import problems
        >>> rates = np.array([[0.5, 0.5, 0.5], [2.5, 2.5, 2.5]])
        >>> r = gd_many(problems.quadratic1d(a=1.0, x0=2.0), rates)
        >>> r.x[:, :, 0], r.diverged_at
        (array([[ 2.  ,  2.  ],
               [ 1.  , -3.  ],
               [ 0.5 ,  4.5 ],
               [ 0.25, -6.75]]), array([-1, -1]))
    """
    func = "gd_many"
    check_problem(func, problem)
    if problem.stochastic:
        raise ValueError(f"{func}: needs a deterministic problem, {problem.name} is stochastic")
    lrs = np.array(lrs, dtype=float)
    if lrs.ndim != 2 or not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        raise ValueError(
            f"{func}: lrs must be a (runs, steps) array of finite rates >= 0, got shape {lrs.shape}"
        )
    x = problem.x0 if x0 is None else check_vector(func, "x0", x0)
    if x.shape != (problem.dim,):
        raise ValueError(f"{func}: x0 must have shape ({problem.dim},), got {x.shape}")
    runs, steps = lrs.shape
    with np.errstate(all="ignore"):  # an overflow at x0 is reported by check_start_loss
        f0 = problem.loss(x)
    max_loss = check_start_loss(func, f0, max_loss)
    xs = np.empty((steps + 1, runs, problem.dim))
    xs[0] = x
    cur = np.repeat(x[None, :], runs, axis=0)
    with np.errstate(all="ignore"):
        for k in range(steps):
            cur = cur - lrs[:, k, None] * problem.grad(cur)
            xs[k + 1] = cur
        loss = np.asarray(problem.loss(xs.reshape(-1, problem.dim))).reshape(steps + 1, runs)
    bad = ~np.isfinite(loss) | (loss > max_loss) | ~np.all(np.isfinite(xs), axis=2)
    diverged_at = np.where(bad.any(axis=0), bad.argmax(axis=0) - 1, -1)
    for r, d in enumerate(diverged_at):
        if d >= 0:
            xs[d + 2 :, r] = np.nan
            loss[d + 2 :, r] = np.nan
    return ManyRuns(xs, loss, diverged_at)
