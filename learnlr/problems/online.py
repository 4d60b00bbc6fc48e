r"""Online convex optimisation: a stream of losses, a feasible set, and the regret.

In the online setting (Zinkevich 2003) a learner chooses a point :math:`x_k` in a feasible
set :math:`\mathcal F`, then a convex loss :math:`f_k` is revealed, the learner pays
:math:`f_k(x_k)` and updates. Its *regret* after :math:`T` rounds compares what it paid with
the best single point chosen in hindsight:

.. math::
    R_T = \sum_{k=0}^{T-1} f_k(x_k) - \min_{x \in \mathcal F} \sum_{k=0}^{T-1} f_k(x).

A method "converges" in this sense when the average regret :math:`R_T / T` tends to 0.
Reddi, Kale & Kumar (2018) built a one-dimensional online problem on which Adam's average
regret does *not* tend to 0 (:func:`reddi_problem`); AMSGrad repairs it.

:func:`run_online` runs any :mod:`learnlr.optimizers` optimizer on an
:class:`OnlineProblem`: each update is the optimizer's own step followed by the projection
back onto the feasible box (:func:`project`). Updates are numbered from ``k = 0`` as in the
rest of the package; the papers' round number is :math:`t = k + 1`.

NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from learnlr._checks import (
    check_int,
    check_positive,
    check_real,
    check_vector,
    short_repr,
)
from learnlr.optimizers.base import Optimizer, check_optimizer
from learnlr.problems.functions import check_problem
from learnlr.schedules import Schedule

__all__ = [
    "OnlineProblem",
    "OnlineTrace",
    "reddi_problem",
    "linear_problem",
    "project",
    "inverse_sqrt",
    "run_online",
]


@dataclass(frozen=True)
class OnlineProblem:
    """A sequence of losses :math:`f_k` on a feasible box, with a comparator for the regret.

    Attributes:
        name: short name for plots.
        grad: ``grad(x, k)``, the gradient of :math:`f_k` at ``x`` (shape ``(dim,)``).
        loss: ``loss(x, k)``, the value :math:`f_k(x)` (a float).
        x0: default starting point.
        bounds: ``(lo, hi)``: the feasible set is the box :math:`[lo, hi]^{dim}`; ``None``
            means unconstrained.
        x_star: the comparator of the regret (the best fixed point in hindsight when it
            is known), or ``None``.
        horizon: the number of losses defined (``None``: unbounded).
    """

    name: str
    grad: Callable[[np.ndarray, int], np.ndarray]
    loss: Callable[[np.ndarray, int], float]
    x0: np.ndarray
    bounds: tuple[float, float] | None = None
    x_star: np.ndarray | None = None
    horizon: int | None = None

    @property
    def dim(self) -> int:
        return int(np.size(self.x0))


def project(x, bounds) -> np.ndarray:
    r"""Euclidean projection onto the box :math:`[lo, hi]^d`: clip every coordinate.

    .. math:: \Pi_{\mathcal F}(y) = \arg\min_{x \in \mathcal F} \|x - y\|_2
              = \min(\max(y, lo), hi) \text{ coordinate-wise}.

    Reddi et al. project Adam's iterate in the norm weighted by :math:`\sqrt{\hat v}`,
    :math:`\arg\min_{x \in \mathcal F} \|\hat V^{1/4}(x - y)\|_2`; on a box the weights
    only scale each coordinate's distance, so the minimiser is the same clipped point.

    Example:
        >>> project(np.array([-3.0, 0.2, 1.5]), (-1.0, 1.0))
        array([-1. ,  0.2,  1. ])
    """
    if bounds is None:
        return np.asarray(x, dtype=float)
    lo, hi = _check_bounds("project", bounds)
    return np.clip(x, lo, hi)


def inverse_sqrt(alpha) -> Schedule:
    r"""The step size of the online analyses, :math:`\alpha_t = \alpha / \sqrt t`, with t = k + 1.

    Used by Kingma & Ba's and Reddi et al.'s regret bounds (and by Reddi et al.'s
    counterexample). Pass it as an optimizer's ``lr``.

    Example:
        >>> s = inverse_sqrt(0.5)
        >>> s(0), s(3), s
        (0.5, 0.25, inverse_sqrt(alpha=0.5))
    """
    alpha = check_positive("inverse_sqrt", "alpha", alpha)
    return Schedule("inverse_sqrt", lambda k: alpha / np.sqrt(k + 1.0), {"alpha": alpha})


def _check_bounds(func, bounds):
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"{func}: bounds must be a pair (lo, hi) or None, got {bounds!r}")
    lo = check_real(func, "bounds[0]", bounds[0])
    hi = check_real(func, "bounds[1]", bounds[1])
    if not lo < hi:
        raise ValueError(f"{func}: bounds must satisfy lo < hi, got {bounds!r}")
    return lo, hi


def reddi_problem(C=3.0, x0=0.0) -> OnlineProblem:
    r"""Reddi, Kale & Kumar's online problem on which Adam fails: :math:`\mathcal F = [-1, 1]`,

    .. math::
        f_t(x) = \begin{cases} C x & t \bmod 3 = 1 \\ -x & \text{otherwise} \end{cases}
        \qquad (t = k + 1,\; C > 2),

    so the gradient is :math:`C` at updates ``k = 0, 3, 6, ...`` and :math:`-1` at the others.
    Over every three rounds the losses add up to :math:`(C - 2)x`, so the best fixed point
    is :math:`x^* = -1` and the worst is :math:`+1`. A learner that sits at :math:`+1` pays
    :math:`2(C - 2)` more than :math:`x^*` every three rounds: average regret
    :math:`2(C - 2)/3`. The paper shows Adam with :math:`\beta_1 = 0`,
    :math:`\beta_2 = 1/(1 + C^2)` and :math:`\alpha_t = \alpha/\sqrt t` ends there.

    Args:
        C: the large gradient, a number > 2. Default 3.
        x0: starting point in [-1, 1]. Default 0.

    Example:
        >>> p = reddi_problem(C=3.0)
        >>> [float(p.grad(np.zeros(1), k)[0]) for k in range(6)]
        [3.0, -1.0, -1.0, 3.0, -1.0, -1.0]
        >>> p.bounds, p.x_star
        ((-1.0, 1.0), array([-1.]))

    Reddi, Kale & Kumar (2018), "On the convergence of Adam and beyond", ICLR,
    arXiv:1904.09237, section 3.
    """
    C = check_real("reddi_problem", "C", C)
    if C <= 2:
        raise ValueError(f"reddi_problem: C must be > 2 (else x = -1 is not optimal), got {C!r}")
    x0 = check_vector("reddi_problem", "x0", x0)
    if x0.shape != (1,) or not -1 <= x0[0] <= 1:
        raise ValueError(f"reddi_problem: x0 must be one number in [-1, 1], got {x0.tolist()}")
    big, small = np.array([C]), np.array([-1.0])
    big.setflags(write=False)
    small.setflags(write=False)

    def grad(x, k):
        return big if k % 3 == 0 else small

    def loss(x, k):
        return float((C if k % 3 == 0 else -1.0) * x[0])

    return OnlineProblem(
        name=f"reddi C={C:g}",
        grad=grad,
        loss=loss,
        x0=x0,
        bounds=(-1.0, 1.0),
        x_star=np.array([-1.0]),
    )


def linear_problem(grads, bounds=None, x0=None, x_star=None, name="linear") -> OnlineProblem:
    r"""The linear losses :math:`f_k(x) = g_k^\top x` for a given gradient sequence.

    Feeding an optimizer a gradient sequence chosen in advance shows how its step reacts
    to it (e.g. a gradient that is tiny for a long time, then large), whatever the point.

    Args:
        grads: the gradients, shape ``(T,)`` (one parameter) or ``(T, dim)``.
        bounds: feasible box ``(lo, hi)`` or ``None`` (unconstrained, the default).
        x0: starting point; default zeros.
        x_star: comparator for the regret; default ``None`` (no regret recorded).
        name: a short name.

    Example:
        >>> from learnlr import optimizers
        >>> p = linear_problem([1.0, 1.0, -2.0])
        >>> tr = run_online(p, optimizers.sgd(lr=0.5), steps=3)
        >>> tr.x[:, 0]
        array([ 0. , -0.5, -1. ,  0. ])
    """
    g = check_vector("linear_problem", "grads", grads)
    if g.ndim == 1:
        g = g[:, None]
    if g.ndim != 2 or g.shape[0] == 0:
        raise ValueError(
            f"linear_problem: grads must have shape (T,) or (T, dim) with T >= 1, got {g.shape}"
        )
    d = g.shape[1]
    x0 = np.zeros(d) if x0 is None else check_vector("linear_problem", "x0", x0)
    if x0.shape != (d,):
        raise ValueError(f"linear_problem: x0 must have shape ({d},), got {x0.shape}")
    if bounds is not None:
        bounds = _check_bounds("linear_problem", bounds)
    if x_star is not None:
        x_star = check_vector("linear_problem", "x_star", x_star)
        if x_star.shape != (d,):
            raise ValueError(f"linear_problem: x_star must have shape ({d},), got {x_star.shape}")
    g.setflags(write=False)

    def grad(x, k):
        return g[k]

    def loss(x, k):
        return float(g[k] @ x)

    return OnlineProblem(name, grad, loss, x0, bounds, x_star, horizon=g.shape[0])


class OnlineTrace:
    r"""What :func:`run_online` recorded.

    Not a :class:`~learnlr.trace.Trace`: round ``k`` has its own loss :math:`f_k` (there is
    no full loss, no divergence rule and no evaluation), each step is projected, and the
    record that matters is the regret.

    Per point (``steps + 1`` rows): ``k`` and ``x`` (after projection). Per update
    (``steps`` rows): ``grad`` (the gradient seen), ``loss`` (:math:`f_k(x_k)`),
    ``eff_lr`` (the optimizer's per-parameter rate), ``update`` (``x[k+1] - x[k]``, after
    projection), ``projected`` (True where the projection moved the point). When the
    problem has a comparator :math:`x^*`: ``regret[T - 1]`` is
    :math:`\sum_{k<T} f_k(x_k) - f_k(x^*)` for ``T = 1 .. steps`` (the regret :math:`R_T`
    whenever :math:`x^*` is the best fixed point for the first :math:`T` losses, as in
    :func:`reddi_problem`) and ``avg_regret`` is that divided by :math:`T`; otherwise both
    are ``None``.
    """

    def __init__(self, problem, optimizer, steps, d):
        self.problem = problem
        self.optimizer = optimizer
        self.steps = steps
        self.k = np.arange(steps + 1)
        self.x = np.zeros((steps + 1, d))
        self.grad = np.zeros((steps, d))
        self.loss = np.zeros(steps)
        self.eff_lr = np.zeros((steps, d))
        self.update = np.zeros((steps, d))
        self.projected = np.zeros((steps, d), dtype=bool)
        self.regret: np.ndarray | None = None
        self.avg_regret: np.ndarray | None = None

    @property
    def x_final(self) -> np.ndarray:
        return self.x[-1].copy()

    def __repr__(self) -> str:
        tail = ""
        if self.avg_regret is not None and self.steps:
            tail = f", average regret {self.avg_regret[-1]:.4g}"
        x = np.array2string(self.x[-1], precision=4)
        return (
            f"<OnlineTrace {self.optimizer!r} on {self.problem.name}: "
            f"{self.steps} steps, final x {x}{tail}>"
        )


def run_online(problem: OnlineProblem, opt: Optimizer, steps: int, x0=None) -> OnlineTrace:
    r"""Run ``opt`` on an online problem: an optimizer step, then projection, every round.

    The arguments come in :func:`learnlr.run`'s order: the problem, the optimizer, the
    number of updates.

    Round ``k``: the learner is at :math:`x_k`; it pays :math:`f_k(x_k)`, receives
    :math:`g_k = \nabla f_k(x_k)`, takes the optimizer's step and projects:

    .. math:: x_{k+1} = \Pi_{\mathcal F}\big(\text{opt.step}(x_k, g_k)\big)

    (:func:`project`: clipping to the box). The optimizer's state (``m``, ``v``, ...) is
    never projected, as in the paper's algorithms.

    This is its own loop, not :func:`learnlr.run`: round ``k`` has its own loss
    :math:`f_k` (there is no full loss to evaluate or to judge divergence by), each step is
    followed by a projection, and what is recorded is the regret.

    Args:
        problem: an :class:`OnlineProblem`.
        opt: an optimizer from :mod:`learnlr.optimizers`.
        steps: number of rounds (>= 0; at most ``problem.horizon``).
        x0: starting point; default ``problem.x0``. Must lie in the feasible box.

    Returns:
        An :class:`OnlineTrace`.

    Example:
        >>> from learnlr import optimizers
        >>> p = reddi_problem(C=3.0)
        >>> tr = run_online(p, optimizers.sgd(lr=0.1), steps=3)
        >>> tr.x[:, 0].round(6), tr.regret.round(6)
        (array([ 0. , -0.3, -0.2, -0.1]), array([3. , 2.3, 1.5]))
    """
    if isinstance(problem, Optimizer):  # the order run_online(opt, problem, steps) of old
        raise TypeError(
            f"run_online: problem must be an OnlineProblem, got the optimizer "
            f"{short_repr(problem)}; the order is run_online(problem, opt, steps), as in run"
        )
    check_problem("run_online", problem, OnlineProblem)
    check_optimizer("run_online", opt)
    steps = check_int("run_online", "steps", steps, 0)
    if problem.horizon is not None and steps > problem.horizon:
        raise ValueError(
            f"run_online: steps must be <= the problem's horizon ({problem.horizon}), got {steps}"
        )
    d = problem.dim
    x = problem.x0.astype(float) if x0 is None else check_vector("run_online", "x0", x0)
    if x.shape != (d,):
        raise ValueError(f"run_online: x0 must have shape ({d},), got {x.shape}")
    lo, hi = (-np.inf, np.inf) if problem.bounds is None else problem.bounds
    if np.any(x < lo) or np.any(x > hi):
        raise ValueError(
            f"run_online: x0 must lie in the feasible box {problem.bounds}, got {x.tolist()}"
        )
    tr = OnlineTrace(problem, opt, steps, d)
    star = problem.x_star
    loss_star = np.zeros(steps) if star is not None else None
    state = opt.init(x)
    tr.x[0] = x
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            g = problem.grad(x, k)
            tr.loss[k] = problem.loss(x, k)
            if star is not None:
                loss_star[k] = problem.loss(star, k)
            y, state, info = opt.step(x, g, state)
            x_new = np.minimum(np.maximum(y, lo), hi)  # projection onto the box
            tr.grad[k] = g
            tr.eff_lr[k] = info.eff_lr
            tr.projected[k] = x_new != y
            tr.update[k] = x_new - x
            tr.x[k + 1] = x_new
            x = x_new
    if star is not None:
        tr.regret = np.cumsum(tr.loss - loss_star)
        tr.avg_regret = tr.regret / np.arange(1, steps + 1)
    return tr
