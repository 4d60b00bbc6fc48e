r"""Chapter 2's helpers: gradient noise, tuned momentum, and measured convergence rates.

Chapter 2 measures two things and compares them with theory: the *noise floor* at which
SGD with a fixed rate stops improving, and the per-step contraction of gradient descent,
heavy-ball momentum and Nesterov momentum on quadratics. This module holds the pieces a
reader need not see live:

* :func:`minibatch_covariance` -- the covariance :math:`\Sigma_B` of a minibatch gradient,
  from the per-sample gradients (the first-order noise floor is
  :math:`\eta\,\mathrm{tr}\,\Sigma_B / 4`);
* :func:`spread_quadratic` -- a rotated quadratic whose curvatures fill :math:`[\mu, L]`;
* :func:`gd_tuning`, :func:`heavy_ball_tuning`, :func:`nesterov_tuning` -- the classical
  best fixed hyper-parameters on a quadratic with curvatures in :math:`[\mu, L]`, as keyword
  arguments for :func:`learnlr.optimizers.sgd`;
* :func:`contraction_rate` -- the measured rate: the geometric mean of
  :math:`\|x_{k+1} - x^*\| / \|x_k - x^*\|` over the tail of a run;
* :data:`MOMENTUM_STEP_CASES` and :data:`MOMENTUM_STEP_MISTAKES` -- the visible cases and
  the typical mistakes for the chapter's exercise on one momentum step (PyTorch's form); its
  reference lives in the grader's hidden tests of the chapter notebook, not here.

NumPy only; the chapter draws the figures.
"""

from __future__ import annotations

import numpy as np

from learnlr._checks import (
    check_int,
    check_interval,
    check_positive,
    check_real,
    check_vector,
)
from learnlr.optimizers import SGDState, sgd
from learnlr.problems import Problem, StochasticProblem, quadratic
from learnlr.problems.functions import check_problem
from learnlr.trace import Trace

__all__ = [
    "minibatch_covariance",
    "spread_quadratic",
    "gd_tuning",
    "heavy_ball_tuning",
    "nesterov_tuning",
    "contraction_rate",
    "MOMENTUM_STEP_CASES",
    "MOMENTUM_STEP_MISTAKES",
]


# --------------------------------------------------------------------------------------
# Gradient noise
# --------------------------------------------------------------------------------------
def minibatch_covariance(problem: StochasticProblem, x=None, batch_size=None) -> np.ndarray:
    r"""Covariance of the minibatch gradient at ``x`` (default: the minimiser ``x_min``).

    With :math:`g_i(x)` the gradient of sample :math:`i`, :math:`\bar g = \frac1n\sum_i g_i`
    the full gradient and :math:`B` the batch size, a batch of :math:`B` distinct samples
    drawn uniformly *without* replacement (as every batch of an epoch is) has mean
    :math:`\bar g` and covariance

    .. math::
        \Sigma_1 = \frac1n \sum_{i=1}^n (g_i - \bar g)(g_i - \bar g)^\top, \qquad
        \Sigma_B = \frac{\Sigma_1}{B}\,\frac{n - B}{n - 1}

    (the second factor is the finite-population correction; it makes :math:`\Sigma_n = 0`:
    the full batch has no noise). At a minimiser :math:`\bar g = 0`.

    Args:
        problem: a :class:`~learnlr.problems.StochasticProblem` (finite sum of samples).
        x: the point, shape ``(dim,)``; default ``problem.x_min``.
        batch_size: :math:`B` in ``[1, n]``; default the problem's own batch size.

    Returns:
        :math:`\Sigma_B`, shape ``(dim, dim)``.

    Example:
        >>> from learnlr import problems
        >>> p = problems.least_squares(n_samples=1000, batch_size=10, seed=0)
        >>> S10 = minibatch_covariance(p)
        >>> S40 = minibatch_covariance(p, batch_size=40)
        >>> round(float(np.trace(S10)), 4), round(float(np.trace(S40)), 4)
        (1.0001, 0.2424)

    Bottou, Curtis & Nocedal (2018), SIAM Review 60(2), arXiv:1606.04838, section 4.
    """
    name = "minibatch_covariance"
    check_problem(name, problem, StochasticProblem)
    if x is None:
        if problem.x_min is None:
            raise ValueError(f"{name}: problem {problem.name!r} has no known x_min; pass x")
        x = problem.x_min
    x = check_vector(name, "x", x)
    if x.shape != (problem.dim,):
        raise ValueError(f"{name}: x must have shape ({problem.dim},), got {x.shape}")
    n = problem.n
    B = problem.batch_size if batch_size is None else check_int(name, "batch_size", batch_size, 1)
    if B > n:
        raise ValueError(f"{name}: batch_size must be <= n_samples={n}, got {B}")
    X, y = problem.X, problem.y
    G = np.stack([problem._sample_grad(x, X[i : i + 1], y[i : i + 1]) for i in range(n)])
    D = G - G.mean(axis=0)
    sigma1 = D.T @ D / n
    if n == 1:
        return np.zeros_like(sigma1)
    return sigma1 / B * (n - B) / (n - 1)


# --------------------------------------------------------------------------------------
# Quadratics and tuned hyper-parameters
# --------------------------------------------------------------------------------------
def spread_quadratic(kappa=100.0, dim=20, mu=1.0, seed=0) -> Problem:
    r"""A rotated quadratic :math:`\tfrac12 x^\top A x` whose curvatures fill :math:`[\mu, L]`.

    :math:`A = Q\,\mathrm{diag}(\lambda_1, \dots, \lambda_d)\,Q^\top` with the
    :math:`\lambda_j` evenly spaced from :math:`\mu` to :math:`L = \kappa\mu` (both ends
    included) and :math:`Q` a random rotation drawn from ``seed``. The minimiser is
    :math:`x^* = 0` with :math:`f^* = 0`; the start is the default of
    :func:`learnlr.problems.quadratic`, which has a component along every eigenvector.

    Args:
        kappa: condition number :math:`\kappa = L/\mu \ge 1`.
        dim: dimension ``d >= 2``.
        mu: smallest curvature :math:`\mu > 0`.
        seed: seed of the rotation.

    Example:
        >>> p = spread_quadratic(kappa=100, dim=5)
        >>> float(p.mu), float(p.L), p.x_min
        (1.0, 100.0, array([0., 0., 0., 0., 0.]))
    """
    name = "spread_quadratic"
    kappa = check_real(name, "kappa", kappa)
    if kappa < 1:
        raise ValueError(f"{name}: kappa must be >= 1, got {kappa!r}")
    dim = check_int(name, "dim", dim, 2)
    mu = check_positive(name, "mu", mu)
    seed = check_int(name, "seed", seed, 0)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    lam = np.linspace(mu, kappa * mu, dim)
    A = (Q * lam) @ Q.T
    p = quadratic((A + A.T) / 2, name=f"quadratic kappa={kappa:g}, d={dim}")
    # the eigenvalues are known exactly; keep them rather than eigvalsh's rounded ones
    p.mu, p.L = mu, kappa * mu
    p.x_min = np.zeros(dim)
    return p


def _mu_L(func, mu, L):
    mu = check_positive(func, "mu", mu)
    L = check_positive(func, "L", L)
    if L < mu:
        raise ValueError(f"{func}: L must be >= mu, got mu={mu!r}, L={L!r}")
    return mu, L


def gd_tuning(mu, L) -> dict:
    r"""The best fixed rate of gradient descent for curvatures in :math:`[\mu, L]`.

    .. math::
        \eta = \frac{2}{\mu + L}, \qquad
        \text{rate} = \max_{\lambda \in [\mu, L]} |1 - \eta\lambda| = \frac{\kappa - 1}{\kappa + 1}

    Returns ``{"lr": eta}``, keyword arguments for :func:`learnlr.optimizers.sgd` (or
    ``gd``).

    Example:
        >>> gd_tuning(1.0, 9.0)
        {'lr': 0.2}
    """
    mu, L = _mu_L("gd_tuning", mu, L)
    return {"lr": 2.0 / (mu + L)}


def heavy_ball_tuning(mu, L) -> dict:
    r"""Polyak's best fixed rate and momentum for curvatures in :math:`[\mu, L]`.

    With :math:`\kappa = L/\mu`:

    .. math::
        \eta = \frac{4}{(\sqrt L + \sqrt\mu)^2}, \qquad
        \beta = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2, \qquad
        \text{rate} = \sqrt\beta = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}

    Returns ``{"lr": eta, "momentum": beta}`` for :func:`learnlr.optimizers.sgd`, whose
    iterates are Polyak's :math:`x_{k+1} = x_k - \eta\nabla f(x_k) + \beta(x_k - x_{k-1})`.

    Example:
        >>> heavy_ball_tuning(1.0, 9.0)
        {'lr': 0.25, 'momentum': 0.25}

    Polyak (1964), USSR Comput. Math. Math. Phys. 4(5), doi:10.1016/0041-5553(64)90137-5;
    Goh (2017), Distill, doi:10.23915/distill.00006.
    """
    mu, L = _mu_L("heavy_ball_tuning", mu, L)
    root_kappa = np.sqrt(L / mu)
    return {
        "lr": float(4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2),
        "momentum": float(((root_kappa - 1) / (root_kappa + 1)) ** 2),
    }


def nesterov_tuning(mu, L) -> dict:
    r"""Nesterov's constant-momentum setting for an :math:`L`-smooth, :math:`\mu`-convex function.

    .. math::
        \eta = \frac1L, \qquad \beta = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}

    On a quadratic with curvatures in :math:`[\mu, L]` the iteration's spectral radius is
    then exactly :math:`1 - 1/\sqrt\kappa` (a double root at :math:`\lambda = \mu`).
    Returns ``{"lr", "momentum", "nesterov": True}`` for :func:`learnlr.optimizers.sgd`.

    Example:
        >>> nesterov_tuning(1.0, 9.0)
        {'lr': 0.1111111111111111, 'momentum': 0.5, 'nesterov': True}

    Nesterov (1983), Soviet Math. Dokl. 27; Nesterov (2004), *Introductory Lectures on
    Convex Optimization*, section 2.2.
    """
    mu, L = _mu_L("nesterov_tuning", mu, L)
    root_kappa = np.sqrt(L / mu)
    return {"lr": 1.0 / L, "momentum": float((root_kappa - 1) / (root_kappa + 1)), "nesterov": True}


def contraction_rate(trace: Trace, tail: float = 0.5) -> float:
    r"""Measured convergence rate: geometric mean of the per-step contraction over the tail.

    With :math:`e_k = \|x_k - x^*\|` and the tail made of the last ``tail`` fraction of the
    :math:`K` recorded updates (from :math:`k_1 = K - \lfloor \text{tail}\cdot K\rfloor`):

    .. math::
        \hat r = \Big(\prod_{k=k_1}^{K-1} \frac{e_{k+1}}{e_k}\Big)^{1/(K - k_1)}
               = \Big(\frac{e_K}{e_{k_1}}\Big)^{1/(K - k_1)}

    The tail skips the start, where the fast-decaying components still dominate. When the
    error decays like :math:`k\,r^k` (a double root, as for tuned heavy-ball and Nesterov
    momentum), :math:`\hat r` exceeds :math:`r` by the factor
    :math:`(K/k_1)^{1/(K - k_1)}`, which tends to 1 for long runs.

    Args:
        trace: a :class:`~learnlr.trace.Trace` recorded with ``record_every=1`` on a problem
            with known ``x_min``.
        tail: fraction of the updates to use, in (0, 1].

    Example:
        >>> from learnlr import optimizers, problems, run
        >>> tr = run(problems.quadratic1d(a=1.0), optimizers.gd(lr=0.5), steps=10)
        >>> contraction_rate(tr)
        0.5
    """
    name = "contraction_rate"
    if not isinstance(trace, Trace):
        raise TypeError(f"{name}: trace must be a Trace from learnlr.run, got {trace!r}")
    tail = check_interval(name, "tail", tail, 0.0, 1.0, "(]")
    if trace.record_every != 1:
        raise ValueError(f"{name}: needs record_every=1, got {trace.record_every}")
    if trace.problem.x_min is None:
        raise ValueError(f"{name}: problem {trace.problem.name!r} has no known x_min")
    n = trace.n_updates
    span = int(tail * n)
    if span < 1:
        raise ValueError(f"{name}: the tail holds no update (run of {n} updates, tail={tail})")
    e = np.linalg.norm(trace.x - trace.problem.x_min, axis=1)
    if e[n - span] == 0:
        return 0.0
    return float((e[n] / e[n - span]) ** (1.0 / span))


# --------------------------------------------------------------------------------------
# The exercise on one momentum step
# --------------------------------------------------------------------------------------
def _lr_inside(x, g, b, lr, momentum, dampening, first):
    b_new = lr * g if first else momentum * b + (1 - dampening) * lr * g
    return x - b_new, b_new


def _keras_form(x, g, b, lr, momentum, dampening, first):
    v = -lr * g if first else momentum * b - (1 - dampening) * lr * g
    return x + v, v


def _damped_first_step(x, g, b, lr, momentum, dampening, first):
    b_new = momentum * b + (1 - dampening) * g
    return x - lr * b_new, b_new


def _no_dampening(x, g, b, lr, momentum, dampening, first):
    b_new = g if first else momentum * b + g
    return x - lr * b_new, b_new


def _old_buffer(x, g, b, lr, momentum, dampening, first):
    opt = sgd(lr=lr, momentum=momentum, dampening=dampening)
    _, state, _ = opt.step(x, g, SGDState(count=0 if first else 1, b=b))
    return x - lr * b, state.b


#: Typical mistakes in the momentum-step exercise, as ``{hint: wrong_function}``.
MOMENTUM_STEP_MISTAKES = {
    "the rate went inside the buffer (Sutskever/Keras form); in PyTorch's form b collects "
    "gradients only and lr multiplies b when x moves": _lr_inside,
    "this is the Keras form v = momentum * v - lr * g, x = x + v; here b holds gradients "
    "and x moves by -lr * b": _keras_form,
    "PyTorch's first step sets b = g, without the (1 - dampening) factor": _damped_first_step,
    "after the first step the gradient is weighted by (1 - dampening)": _no_dampening,
    "update b first, then move x with the new buffer": _old_buffer,
}

#: Test cases of the momentum-step exercise. With ``dampening=0`` the first-step rule
#: ``b = g`` equals ``momentum * 0 + g``, so the damped cases are the ones that test it.
MOMENTUM_STEP_CASES = [
    dict(x=np.array([1.0, -2.0]), g=np.array([0.5, 1.0]), b=np.zeros(2), lr=0.1,
         momentum=0.9, dampening=0.0, first=True),
    dict(x=np.array([1.0, -2.0]), g=np.array([0.2, -0.4]), b=np.array([1.0, -0.5]), lr=0.05,
         momentum=0.9, dampening=0.0, first=False),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([2.0, -1.0, 0.5]), b=np.zeros(3), lr=0.2,
         momentum=0.5, dampening=0.5, first=True),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([2.0, -1.0, 0.5]),
         b=np.array([-0.4, 1.5, 0.25]), lr=0.2, momentum=0.5, dampening=0.5, first=False),
    dict(x=np.array([4.0]), g=np.array([-3.0]), b=np.array([2.0]), lr=0.01, momentum=0.99,
         dampening=0.0, first=False),
]  # fmt: skip
