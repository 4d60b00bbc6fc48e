r"""Off the convex bowl: curvature, saddles and basins, measured with gradients only.

Chapter 13 leaves the quadratic bowl. What it measures, and what this module computes:

* **Curvature along a direction.** The Hessian-vector product :math:`Hv` from two gradients
  (:func:`hvp`), so that no Hessian is ever formed; the whole Hessian of a small problem
  (:func:`hessian`), one column per product.
* **Sharpness.** The largest Hessian eigenvalue :math:`\lambda_{max}` by power iteration on
  those products (:func:`top_eigenvalue`), also for a preconditioned Hessian
  :math:`P^{-1/2} H P^{-1/2}` (Adam's :math:`P = \mathrm{diag}(\sqrt{\hat v} + \epsilon)`,
  :func:`adam_preconditioner`), and tracked during training (:func:`sharpness_run`).
* **Saddles.** How fast a run leaves a saddle along its direction of negative curvature: the
  growth factor per step of gradient descent and heavy-ball momentum (:func:`escape_rate`),
  the predicted number of steps (:func:`predicted_escape_steps`) and the measured one
  (:func:`escape_steps`, for many starting points at once).
* **Basins.** Which minimum each start of a grid reaches (:func:`basin_map`).

The optimizers of :mod:`learnlr.optimizers` act coordinate by coordinate, and the 2-D problems
accept a stack of points, so :func:`basin_map` and :func:`escape_steps` run every start of a
grid at once, as one array of shape ``(n, dim)``.

NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    check_int,
    check_interval,
    check_positive,
    check_start_loss,
    check_vector,
)
from learnlr.optimizers.base import Optimizer, check_optimizer
from learnlr.problems import Problem
from learnlr.problems.functions import check_problem

__all__ = [
    "hvp",
    "hessian",
    "Eigen",
    "top_eigenvalue",
    "adam_preconditioner",
    "SharpnessTrace",
    "sharpness_run",
    "StackRun",
    "run_stack",
    "escape_rate",
    "predicted_escape_steps",
    "escape_steps",
    "BasinMap",
    "basin_map",
]


def _check_grad(func: str, grad) -> Callable:
    if isinstance(grad, Problem):
        return grad.grad
    if not callable(grad):
        raise TypeError(
            f"{func}: grad must be a function x -> gradient (or a learnlr Problem), got {grad!r}"
        )
    return grad


def _check_same_shape(func: str, name: str, value, shape) -> np.ndarray:
    arr = check_vector(func, name, value)
    if arr.shape != shape:
        raise ValueError(f"{func}: {name} must have shape {shape}, got {arr.shape}")
    return arr


# --------------------------------------------------------------------------------------
# Hessian-vector products
# --------------------------------------------------------------------------------------
def hvp(grad, x, v, h=1e-5) -> np.ndarray:
    r"""The Hessian-vector product :math:`H(x)\,v` from two gradients (central differences).

    With :math:`u = v / \lVert v \rVert` and the step length :math:`h` = ``h``:

    .. math::
        H v \approx \lVert v \rVert \, \frac{\nabla f(x + h u) - \nabla f(x - h u)}{2h}

    The error is :math:`O(h^2)` from the third derivatives and
    :math:`O(\epsilon_{mach} \lVert \nabla f \rVert / h)` from rounding; ``h = 1e-5`` keeps
    both near :math:`10^{-10}` relative for well-scaled problems. On a quadratic the
    difference is exact up to rounding. Costs two gradients, whatever the dimension.

    Args:
        grad: the gradient, a function ``x -> array`` (or a learnlr ``Problem``).
        x: the point (a vector).
        v: the direction (same shape as ``x``); ``v = 0`` gives 0.
        h: step length along the unit direction (> 0).

    Example:
        >>> import numpy as np
        >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
        >>> hvp(lambda x: A @ x, np.zeros(2), np.array([1.0, 0.0])).round(8)
        array([2., 1.])

    Pearlmutter (1994), Neural Computation 6(1), computes :math:`Hv` exactly by a second
    backward pass; the finite difference needs only the gradient a course already has.
    """
    func = "hvp"
    grad = _check_grad(func, grad)
    x = check_vector(func, "x", x)
    v = _check_same_shape(func, "v", v, x.shape)
    h = check_positive(func, "h", h)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(x)
    u = v / norm
    return norm * (grad(x + h * u) - grad(x - h * u)) / (2 * h)


def hessian(grad, x, h=1e-5) -> np.ndarray:
    r"""The whole Hessian at ``x``, one :func:`hvp` per coordinate, symmetrised.

    .. math:: H_{:, i} = H e_i, \qquad H \leftarrow (H + H^\top)/2

    For small problems only (``2 * dim`` gradients).

    Example:
        >>> from learnlr import problems
        >>> hessian(problems.himmelblau().grad, [3.0, 2.0]).round(4)
        array([[74., 20.],
               [20., 34.]])
    """
    func = "hessian"
    grad = _check_grad(func, grad)
    x = check_vector(func, "x", x)
    h = check_positive(func, "h", h)
    H = np.column_stack([hvp(grad, x, e, h) for e in np.eye(x.size)])
    return (H + H.T) / 2


# --------------------------------------------------------------------------------------
# Power iteration
# --------------------------------------------------------------------------------------
class Eigen(NamedTuple):
    """The result of :func:`top_eigenvalue`."""

    value: float  # the largest eigenvalue (of H, or of P^-1/2 H P^-1/2)
    vector: np.ndarray  # its unit eigenvector (in the preconditioned coordinates)
    iters: int  # products H v used
    converged: bool  # the residual test passed within max_iters


def top_eigenvalue(
    grad, x, precond=None, v0=None, max_iters=100, tol=1e-3, seed=0, h=1e-5
) -> Eigen:
    r"""The largest eigenvalue of the Hessian at ``x`` by power iteration on :func:`hvp`.

    With :math:`A = P^{-1/2} H P^{-1/2}` (:math:`P` = ``diag(precond)``, the identity by
    default) and a unit start :math:`v`:

    .. math::
        w = A v, \quad \rho = v^\top w, \quad v \leftarrow w / \lVert w \rVert
        \qquad \text{until} \quad \lVert w - \rho v \rVert \le \mathrm{tol}\, |\rho|

    Power iteration finds the eigenvalue of largest *magnitude*. When that one is negative
    (near a saddle), or two of opposite signs tie, a second pass runs on :math:`A + \sigma I`
    with :math:`\sigma` the magnitude found, whose largest eigenvalue
    :math:`\lambda_{max} + \sigma` is then the dominant one.

    :math:`P^{-1/2} H P^{-1/2}` has the eigenvalues of :math:`P^{-1} H`: for Adam, whose
    step is :math:`\eta P^{-1} \hat m`, that is the curvature the rate meets (Cohen et al.
    2022).

    Args:
        grad: the gradient (a function or a learnlr ``Problem``).
        x: the point.
        precond: the diagonal of :math:`P` (positive entries), or None.
        v0: a starting vector (e.g. the previous eigenvector, when tracking); default random.
        max_iters: products allowed per pass (>= 1).
        tol: relative residual at which a pass stops (> 0).
        seed: seed of the random start.
        h: the finite-difference step of :func:`hvp`.

    Returns:
        An :class:`Eigen` (value, vector, iters, converged).

    Example:
        >>> import numpy as np
        >>> A = np.diag([3.0, 1.0, -5.0])
        >>> top = top_eigenvalue(lambda x: A @ x, np.zeros(3), tol=1e-10, max_iters=500)
        >>> round(top.value, 6), top.converged
        (3.0, True)

    Power iteration: von Mises (1929); as a sharpness probe for networks, Cohen et al.
    (2021), arXiv:2103.00065.
    """
    func = "top_eigenvalue"
    grad = _check_grad(func, grad)
    x = check_vector(func, "x", x)
    n = x.size
    if precond is None:
        scale = np.ones(n)
    else:
        p = _check_same_shape(func, "precond", precond, x.shape)
        if np.any(p <= 0):
            raise ValueError(f"{func}: precond must be positive, got a minimum of {p.min():.3g}")
        scale = 1.0 / np.sqrt(p)
    max_iters = check_int(func, "max_iters", max_iters, 1)
    tol = check_positive(func, "tol", tol)
    seed = check_int(func, "seed", seed, 0)
    h = check_positive(func, "h", h)
    if v0 is None:
        v = np.random.default_rng(seed).standard_normal(n)
    else:
        v = _check_same_shape(func, "v0", v0, x.shape)
        if not np.any(v):
            raise ValueError(f"{func}: v0 must not be the zero vector")

    def A(u):
        return scale * hvp(grad, x, scale * u, h)

    def power(shift, v):
        v = v / np.linalg.norm(v)
        rho = 0.0
        for i in range(1, max_iters + 1):
            w = A(v) + shift * v
            rho = float(v @ w)
            size = float(np.linalg.norm(w))
            if size == 0.0:  # v is in the null space: the eigenvalue is `shift`
                return shift, v, i, True, 0.0
            if np.linalg.norm(w - rho * v) <= tol * abs(rho):
                return rho, w / size, i, True, size
            v = w / size
        return rho, v, max_iters, False, size

    rho, v, used, ok, size = power(0.0, v)
    if ok and rho >= 0:
        return Eigen(rho, v, used, True)
    sigma = max(size, abs(rho))  # about the largest magnitude: A + sigma I is >= 0, nearly
    rho2, v2, used2, ok2, _ = power(sigma, v + 1e-3 * np.random.default_rng(seed + 1).random(n))
    return Eigen(rho2 - sigma, v2, used + used2, ok2)


def adam_preconditioner(opt: Optimizer, state) -> np.ndarray:
    r"""Adam's diagonal :math:`P = \sqrt{\hat v} + \epsilon`: its step is :math:`\eta P^{-1}\hat m`.

    With :math:`t` the updates done (``state.count``) and :math:`\beta_2`, :math:`\epsilon`
    read from ``opt``:

    .. math:: P = \sqrt{v / (1 - \beta_2^t)} + \epsilon

    This is the preconditioner of the update just made; :func:`top_eigenvalue` with
    ``precond=P`` gives the preconditioned sharpness :math:`\lambda_{max}(P^{-1}H)`.

    Example:
        >>> import numpy as np
        >>> from learnlr import optimizers
        >>> opt = optimizers.adam(lr=0.1)
        >>> _, state, _ = opt.step(np.zeros(2), np.array([3.0, -0.5]), opt.init(np.zeros(2)))
        >>> adam_preconditioner(opt, state).round(6)   # |g| after one update
        array([3. , 0.5])
    """
    func = "adam_preconditioner"
    if not isinstance(opt, Optimizer) or opt.name not in ("adam", "adamw"):
        raise ValueError(f"{func}: opt must be an adam or adamw optimizer, got {opt!r}")
    count = getattr(state, "count", None)
    if not isinstance(count, int) or not hasattr(state, "v"):
        raise TypeError(f"{func}: state must be an AdamState (from opt.init or opt.step)")
    if count < 1:
        raise ValueError(f"{func}: state must come after at least one update, got count={count}")
    beta2, eps = opt.hyperparams["betas"][1], opt.hyperparams["eps"]
    v = state.v_max if opt.hyperparams["amsgrad"] else state.v
    return np.sqrt(v / (1 - beta2**count)) + eps


class SharpnessTrace(NamedTuple):
    """What :func:`sharpness_run` measured.

    Its own type because its measurement is the top Hessian eigenvalue every ``every``
    updates, which a :class:`~learnlr.trace.Trace` has no column for.
    """

    k: np.ndarray  # updates done at each sharpness measurement (0, every, 2 every, ...)
    sharpness: np.ndarray  # top eigenvalue of H (or of P^-1 H) at those points
    converged: np.ndarray  # whether each power iteration passed its residual test
    loss: np.ndarray  # full loss after every update, loss[0] at the start (steps + 1 values)
    x_final: np.ndarray
    status: str


def sharpness_run(
    problem: Problem,
    opt: Optimizer,
    steps: int,
    every: int = 10,
    preconditioned: bool = False,
    max_iters: int = 20,
    tol: float = 1e-3,
    x0=None,
    seed: int = 0,
) -> SharpnessTrace:
    r"""Full-batch training with the Hessian's top eigenvalue measured every ``every`` updates.

    Each update uses the full gradient ``problem.grad`` (not a minibatch). Every ``every``
    updates (and before the first), :func:`top_eigenvalue` measures :math:`\lambda_{max}(H)`,
    or with ``preconditioned=True`` (Adam only) :math:`\lambda_{max}(P^{-1}H)` with
    :func:`adam_preconditioner`; each measurement starts from the previous eigenvector, so a
    few products usually suffice. Gradient descent with rate :math:`\eta` is stable on a
    quadratic of curvature :math:`\lambda` only when :math:`\lambda < 2/\eta` (chapter 1);
    Cohen et al. (2021) found networks trained by full-batch gradient descent driving
    :math:`\lambda_{max}` up to that value and holding it there ("the edge of stability"),
    and Adam's preconditioned sharpness rising to :math:`(2 + 2\beta_1)/((1 - \beta_1)\eta)`
    (Cohen et al. 2022).

    A run whose loss stops being finite stops there (``status`` says so).

    Args:
        problem: any learnlr ``Problem``.
        opt: an optimizer (for ``preconditioned=True``, adam or adamw).
        steps: updates (>= 1); every: updates between measurements (>= 1).
        preconditioned: measure :math:`P^{-1}H` instead of :math:`H`.
        max_iters, tol: passed to :func:`top_eigenvalue` for each measurement.
        x0: start (default ``problem.x0``); seed: seed of the first power iteration.

    Returns:
        A :class:`SharpnessTrace`.

    Example:
        >>> from learnlr import optimizers, problems
        >>> bowl = problems.quadratic2d(kappa=10.0)
        >>> tr = sharpness_run(bowl, optimizers.gd(lr=0.1), steps=20, every=10)
        >>> tr.k.tolist(), tr.sharpness.round(4).tolist()
        ([0, 10, 20], [10.0, 10.0, 10.0])
    """
    func = "sharpness_run"
    check_problem(func, problem)
    check_optimizer(func, opt)
    steps = check_int(func, "steps", steps, 1)
    every = check_int(func, "every", every, 1)
    if not isinstance(preconditioned, bool):
        raise TypeError(f"{func}: preconditioned must be True or False, got {preconditioned!r}")
    if preconditioned and opt.name not in ("adam", "adamw"):
        raise ValueError(f"{func}: preconditioned=True needs adam or adamw, got {opt.name}")
    x = problem.x0 if x0 is None else _check_same_shape(func, "x0", x0, (problem.dim,))
    state = opt.init(x)
    ks, values, oks = [], [], []
    loss = np.full(steps + 1, np.nan)
    with np.errstate(all="ignore"):  # an overflow at x0 is reported by check_start_loss
        loss[0] = problem.loss(x)
    check_start_loss(func, loss[0], None)  # a start where the loss is not finite is refused
    v = None
    status = f"ran {steps} steps"

    def measure(k):
        nonlocal v
        precond = None
        if preconditioned:
            if state.count == 0:  # no preconditioner before the first update
                return
            precond = adam_preconditioner(opt, state)
        top = top_eigenvalue(problem.grad, x, precond, v, max_iters, tol, seed)
        v = top.vector
        ks.append(k)
        values.append(top.value)
        oks.append(top.converged)

    with np.errstate(all="ignore"):
        for k in range(steps):
            if k % every == 0:
                measure(k)
            x, state, _ = opt.step(x, problem.grad(x), state)
            loss[k + 1] = problem.loss(x)
            if not np.isfinite(loss[k + 1]):
                status = f"diverged at step {k}"
                break
        else:
            if steps % every == 0:
                measure(steps)
    return SharpnessTrace(
        np.array(ks, dtype=np.int64), np.array(values), np.array(oks), loss, x.copy(), status
    )


class StackRun(NamedTuple):
    """What :func:`run_stack` recorded.

    Its own type because :func:`run_stack` runs many starts as one stack (losses of shape
    ``(len(k), n)``), which a :class:`~learnlr.trace.Trace` of one run cannot hold.
    """

    k: np.ndarray  # updates done at each record: 0, every, 2 every, ..., steps
    loss: np.ndarray  # (len(k), n): the loss of every start at those points
    x_final: np.ndarray  # (n, dim)


def run_stack(problem: Problem, opt: Optimizer, x0, steps, every=None) -> StackRun:
    r"""Run ``opt`` from every row of ``x0`` at once; record the losses every ``every`` updates.

    One array of shape ``(n, dim)`` holds all the runs; each update is
    ``x, state = opt.step(x, problem.batch_grad(x, k), state)`` on the whole stack, which is
    the same, row by row, as ``n`` separate runs of :func:`learnlr.run` (the optimizers act
    coordinate by coordinate). Needs a problem whose ``loss`` and ``grad`` accept a stack.
    Records nothing else; use :func:`learnlr.run` to look inside one run.

    Example:
        >>> import numpy as np
        >>> from learnlr import optimizers, problems
        >>> bowl = problems.quadratic1d(a=1.0)
        >>> res = run_stack(bowl, optimizers.gd(lr=0.5), [[2.0], [4.0]], steps=2, every=1)
        >>> res.loss   # each step halves x, so quarters the loss
        array([[2.   , 8.   ],
               [0.5  , 2.   ],
               [0.125, 0.5  ]])
    """
    func = "run_stack"
    check_problem(func, problem)
    check_optimizer(func, opt)
    x = np.array(x0, dtype=float)
    if x.ndim != 2 or x.shape[1] != problem.dim or not np.all(np.isfinite(x)):
        raise ValueError(
            f"{func}: x0 must be a finite stack of shape (n, {problem.dim}), got shape "
            f"{np.shape(x0)}"
        )
    steps = check_int(func, "steps", steps, 1)
    every = steps if every is None else check_int(func, "every", every, 1)
    ks = list(range(0, steps + 1, every))
    if ks[-1] != steps:
        ks.append(steps)
    loss = np.empty((len(ks), x.shape[0]))
    state = opt.init(x)
    row = 0
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            if k == ks[row]:
                loss[row] = problem.loss(x)
                row += 1
            if k < steps:
                x, state, _ = opt.step(x, problem.batch_grad(x, k), state)
    return StackRun(np.array(ks), loss, x)


# --------------------------------------------------------------------------------------
# Escaping a saddle
# --------------------------------------------------------------------------------------
def escape_rate(lr, curvature, momentum=0.0) -> float:
    r"""Growth per step, along a direction of negative curvature :math:`-c`, of GD or momentum.

    Near a strict saddle the gradient along the unstable direction is :math:`-c\,y`, so
    gradient descent multiplies the distance :math:`y` from the stable manifold by
    :math:`1 + \eta c` each step. Heavy-ball momentum :math:`\beta` (PyTorch's form,
    :math:`b \leftarrow \beta b + g`, :math:`y \leftarrow y - \eta b`) obeys
    :math:`y_{k+1} = (1 + \eta c + \beta) y_k - \beta y_{k-1}`, whose growth is the larger
    root of :math:`z^2 - (1 + \eta c + \beta) z + \beta = 0`:

    .. math::
        z = \tfrac12\Big(1 + \eta c + \beta + \sqrt{(1 + \eta c + \beta)^2 - 4\beta}\Big)

    Example:
        >>> escape_rate(0.1, 1.0), round(escape_rate(0.1, 1.0, momentum=0.9), 4)
        (1.1, 1.3162)
    """
    func = "escape_rate"
    lr = check_positive(func, "lr", lr)
    c = check_positive(func, "curvature", curvature)
    beta = check_interval(func, "momentum", momentum, 0.0, 1.0)
    s = 1 + lr * c + beta
    return float((s + np.sqrt(s * s - 4 * beta)) / 2)


def predicted_escape_steps(distance, lr, curvature, radius, momentum=0.0):
    r"""Steps from ``distance`` to ``radius`` off the stable manifold; see :func:`escape_rate`.

    .. math:: k \approx \frac{\log(r / \delta)}{\log z}

    linear in :math:`\log(1/\delta)`. For gradient descent on a quadratic saddle the count
    is exact: the first :math:`k` with :math:`\delta z^k \ge r` is the ceiling of this
    number. With momentum the start (zero buffer) adds a few steps. ``distance`` may be an
    array.

    Example:
        >>> round(predicted_escape_steps(1e-6, lr=0.1, curvature=1.0, radius=1.0), 2)
        144.95
    """
    func = "predicted_escape_steps"
    d = np.asarray(distance, dtype=float)
    if d.size == 0 or not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ValueError(f"{func}: distance must be positive and finite, got {distance!r}")
    radius = check_positive(func, "radius", radius)
    z = escape_rate(lr, curvature, momentum)
    k = np.log(radius / d) / np.log(z)
    return float(k) if k.ndim == 0 else k


def escape_steps(
    problem: Problem, opt: Optimizer, x0, radius, saddle=None, direction=None, max_steps=1000
):
    r"""Updates needed to get ``radius`` away from a saddle's stable manifold, per start.

    With :math:`s` the saddle (``saddle``, default the origin) and :math:`u` the unit
    direction of negative curvature (``direction``, default: the eigenvector of the most
    negative eigenvalue of :func:`hessian` at :math:`s`), a run has escaped after update
    :math:`k` when :math:`|u^\top (x_{k+1} - s)| \ge r`. Every start (a row of ``x0``) runs
    at once, with the gradients ``problem.batch_grad(x, k)`` (so a noisy problem from
    :func:`learnlr.problems.noisy` gives each row its own noise).

    Args:
        problem: a learnlr ``Problem``; opt: an optimizer (applied to the stack of starts).
        x0: one start ``(dim,)`` or a stack ``(n, dim)``.
        radius: :math:`r > 0`.
        saddle, direction: see above.
        max_steps: updates allowed (>= 1).

    Returns:
        The number of updates (``k + 1``), or ``-1`` for a start that has not escaped
        within ``max_steps``: an int for one start, an array for a stack.

    Example:
        >>> from learnlr import optimizers, problems
        >>> flat = problems.quadratic_saddle(a=1.0, b=1.0)
        >>> int(escape_steps(flat, optimizers.gd(lr=0.1), [1.0, 1e-6], radius=1.0))
        145
    """
    func = "escape_steps"
    check_problem(func, problem)
    check_optimizer(func, opt)
    x = np.array(x0, dtype=float)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    if x.ndim != 2 or x.shape[1] != problem.dim or not np.all(np.isfinite(x)):
        raise ValueError(
            f"{func}: x0 must be finite, of shape ({problem.dim},) or (n, {problem.dim}), "
            f"got shape {np.shape(x0)}"
        )
    radius = check_positive(func, "radius", radius)
    s = np.zeros(problem.dim) if saddle is None else check_vector(func, "saddle", saddle)
    if s.shape != (problem.dim,):
        raise ValueError(f"{func}: saddle must have shape ({problem.dim},), got {s.shape}")
    if direction is None:
        lam, vecs = np.linalg.eigh(hessian(problem.grad, s))
        if lam[0] >= 0:
            raise ValueError(
                f"{func}: the Hessian at saddle={s.tolist()} has no negative eigenvalue "
                f"(smallest {lam[0]:.3g}); is it a saddle?"
            )
        u = vecs[:, 0]
    else:
        u = _check_same_shape(func, "direction", direction, (problem.dim,))
        if not np.any(u):
            raise ValueError(f"{func}: direction must not be the zero vector")
        u = u / np.linalg.norm(u)
    max_steps = check_int(func, "max_steps", max_steps, 1)
    out = np.full(x.shape[0], -1, dtype=np.int64)
    state = opt.init(x)
    with np.errstate(all="ignore"):
        for k in range(max_steps):
            x, state, _ = opt.step(x, problem.batch_grad(x, k), state)
            away = np.abs((x - s) @ u) >= radius
            out[(out < 0) & away] = k + 1
            if np.all(out >= 0):
                break
    return int(out[0]) if single else out


# --------------------------------------------------------------------------------------
# Basin maps
# --------------------------------------------------------------------------------------
class BasinMap(NamedTuple):
    """The minimum reached from each start of a grid (see :func:`basin_map`)."""

    labels: np.ndarray  # (len(ys), len(xs)): index into minima, or -1 (none reached)
    xs: np.ndarray
    ys: np.ndarray
    minima: np.ndarray  # (m, 2)
    x_final: np.ndarray  # (len(ys), len(xs), 2): where each run ended

    def fractions(self) -> np.ndarray:
        """Share of the starts that reached each minimum, then the share that reached none."""
        counts = np.bincount(self.labels.ravel() + 1, minlength=len(self.minima) + 1)
        return np.r_[counts[1:], counts[0]] / self.labels.size


def basin_map(problem: Problem, opt: Optimizer, xs, ys, steps, minima=None, tol=1e-2) -> BasinMap:
    r"""Run ``opt`` from every start of the grid ``xs`` x ``ys``; label each by the minimum reached.

    All starts run at once (an array of shape ``(len(ys) * len(xs), 2)``; the optimizers act
    coordinate by coordinate). A run is labelled :math:`i` when it has *settled* at
    ``minima[i]``: its last point is within ``tol`` of it and its last update moved less than
    ``tol``. It is labelled :math:`-1` otherwise: still moving, bouncing around a minimum it
    cannot settle in (a bounce may pass close to the minimum), or diverged.

    Args:
        problem: a 2-D learnlr ``Problem`` whose ``grad`` accepts a stack of points.
        opt: an optimizer (its schedule, if any, applies to every start).
        xs, ys: the grid's coordinates (1-D arrays).
        steps: updates per run (>= 1).
        minima: the candidate minima, shape ``(m, 2)``; default ``problem.minima``.
        tol: distance that counts as "reached" (> 0).

    Example:
        >>> import numpy as np
        >>> from learnlr import optimizers, problems
        >>> him = problems.himmelblau()
        >>> grid = np.linspace(-4.5, 4.5, 4)
        >>> bm = basin_map(him, optimizers.gd(lr=0.01), grid, grid, steps=300)
        >>> sorted(set(bm.labels.ravel().tolist()))   # all four minima are reached
        [0, 1, 2, 3]
    """
    func = "basin_map"
    check_problem(func, problem)
    if problem.dim != 2:
        raise ValueError(f"{func}: needs a 2-D problem, {problem.name} has dim={problem.dim}")
    check_optimizer(func, opt)
    xs, ys = check_vector(func, "xs", xs), check_vector(func, "ys", ys)
    if xs.ndim != 1 or ys.ndim != 1:
        raise ValueError(f"{func}: xs and ys must be 1-D arrays of coordinates")
    steps = check_int(func, "steps", steps, 1)
    if minima is None:
        minima = getattr(problem, "minima", None)
        if minima is None:
            raise ValueError(f"{func}: {problem.name} lists no minima; pass minima=[[x, y], ...]")
    minima = np.array(minima, dtype=float)
    if minima.ndim != 2 or minima.shape[1] != 2 or minima.shape[0] < 1:
        raise ValueError(f"{func}: minima must have shape (m, 2), got {minima.shape}")
    tol = check_positive(func, "tol", tol)
    X, Y = np.meshgrid(xs, ys)
    x = np.column_stack([X.ravel(), Y.ravel()])
    state = opt.init(x)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            x_last = x
            x, state, _ = opt.step(x, problem.grad(x), state)
        dist = np.linalg.norm(x[:, None, :] - minima[None, :, :], axis=-1)
        moved = np.linalg.norm(x - x_last, axis=1)
    nearest = np.argmin(np.where(np.isfinite(dist), dist, np.inf), axis=1)
    near = np.take_along_axis(dist, nearest[:, None], axis=1)[:, 0] <= tol
    reached = near & (moved < tol)
    labels = np.where(reached, nearest, -1).reshape(X.shape)
    return BasinMap(labels, xs, ys, minima, x.reshape(X.shape + (2,)))
