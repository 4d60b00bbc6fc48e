r"""Problems whose gradient is noisy: added noise, and minibatches of a finite sum.

``batch_grad(x, k)`` is the gradient an optimizer sees at update ``k``: a minibatch gradient,
seeded, so every run with the same seed sees the same batches. NumPy only.
"""

from __future__ import annotations

import numpy as np

from learnlr._checks import (
    check_batch_size,
    check_int,
    check_nonnegative,
    check_positive,
    check_real,
)
from learnlr.problems.functions import Problem, check_problem

__all__ = [
    "NoisyProblem",
    "noisy",
    "StochasticProblem",
    "least_squares",
    "logistic_regression",
    "sparse_logistic_regression",
]


class NoisyProblem(Problem):
    """A problem whose optimizer sees the gradient plus seeded Gaussian noise (:func:`noisy`)."""

    stochastic = True

    def __init__(self, base: Problem, sigma: float, seed: int):
        super().__init__(
            f"{base.name} + noise {sigma:g}",
            base._loss,
            base._grad,
            base.x0,
            base.x_min,
            base.f_min,
            base.bounds,
            base.L,
            base.mu,
            base.log_scale,
        )
        self.base, self.sigma, self.seed = base, sigma, seed
        if hasattr(base, "minima"):
            self.minima = base.minima

    def batch_grad(self, x, k: int) -> np.ndarray:
        g = self._grad(x)
        return g + self.sigma * np.random.default_rng([self.seed, k]).standard_normal(g.shape)


def noisy(problem: Problem, sigma, seed=0) -> Problem:
    r"""``problem`` with gradient noise: update ``k`` sees :math:`\nabla f(x) + \sigma \xi_k`.

    :math:`\xi_k \sim N(0, I)` is drawn from ``seed`` and ``k`` (the same for every run with
    that seed), one independent draw per coordinate and per point of a stack, so a stack of
    identical starts gives independent noisy runs. ``loss`` and ``grad`` stay exact. A model
    of minibatch noise, and the perturbation of Jin et al. (2017), arXiv:1703.00887.
    """
    check_problem("noisy", problem)
    sigma = check_nonnegative("noisy", "sigma", sigma)
    seed = check_int("noisy", "seed", seed, 0)
    return NoisyProblem(problem, sigma, seed)


# --------------------------------------------------------------------------------------
# Stochastic problems: finite sums with seeded minibatches
# --------------------------------------------------------------------------------------
class StochasticProblem(Problem):
    """A finite-sum problem :math:`f(x) = \\frac1n \\sum_i f_i(x)` with seeded minibatches.

    ``loss``/``grad`` use all ``n`` samples; ``batch_grad(x, k)`` uses the ``batch_size``
    samples of update ``k``: each epoch visits every sample once in an order drawn from
    ``seed`` and the epoch number, so runs are reproducible and independent of each other.
    ``X, y`` hold the data; ``batch_size=None`` means full batches.
    """

    stochastic = True

    def __init__(self, name, X, y, sample_loss, sample_grad, batch_size, seed, **kwargs):
        self.X, self.y = X, y
        self.n = X.shape[0]
        self._sample_loss = sample_loss  # (x, X, y) -> mean loss over the rows given
        self._sample_grad = sample_grad  # (x, X, y) -> mean gradient over the rows given
        self.batch_size = self.n if batch_size is None else batch_size
        self.seed = seed
        self._perm_epoch = -1
        self._perm = None
        super().__init__(
            name,
            lambda x: sample_loss(x, X, y),
            lambda x: sample_grad(x, X, y),
            **kwargs,
        )

    @property
    def batches_per_epoch(self) -> int:
        return -(-self.n // self.batch_size)

    def batch_indices(self, k: int) -> np.ndarray:
        """The sample indices used by update ``k``."""
        if self.batch_size >= self.n:
            return np.arange(self.n)
        epoch, j = divmod(k, self.batches_per_epoch)
        if epoch != self._perm_epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
            self._perm_epoch = epoch
        return self._perm[j * self.batch_size : (j + 1) * self.batch_size]

    def batch_grad(self, x, k: int) -> np.ndarray:
        if self.batch_size >= self.n:
            return self._grad(x)
        idx = self.batch_indices(k)
        return self._sample_grad(x, self.X[idx], self.y[idx])

    def batch_loss(self, x, k: int) -> float:
        idx = self.batch_indices(k)
        return float(self._sample_loss(np.asarray(x, dtype=float), self.X[idx], self.y[idx]))

    def with_batch_size(self, batch_size):
        """The same data and seed with another batch size."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.batch_size = (
            self.n if batch_size is None else check_batch_size(self.name, batch_size, self.n)
        )
        other._perm_epoch, other._perm = -1, None
        return other


def least_squares(n_samples=200, n_features=10, noise=0.5, kappa=10.0, batch_size=10, seed=0):
    r"""Linear least squares :math:`f(w) = \frac{1}{2n}\|Xw - y\|^2` on seeded synthetic data.

    The features are scaled so that the Hessian :math:`X^\top X / n` has condition number
    about ``kappa``; ``y = X w_true + noise * N(0, 1)``. ``x_min`` is the exact
    least-squares solution. With minibatches the gradient is noisy even at ``x_min``,
    which is what makes a fixed rate stall at a "noise floor".
    """
    name = "least_squares"
    n = check_int(name, "n_samples", n_samples, 2)
    d = check_int(name, "n_features", n_features, 1)
    noise = check_nonnegative(name, "noise", noise)
    kappa = check_real(name, "kappa", kappa)
    if kappa < 1:
        raise ValueError(f"{name}: kappa must be >= 1, got {kappa!r}")
    batch_size = check_batch_size(name, batch_size, n)
    seed = check_int(name, "seed", seed, 0)
    rng = np.random.default_rng(seed)
    scales = np.sqrt(np.geomspace(1.0, kappa, d)) if d > 1 else np.ones(1)
    X = rng.standard_normal((n, d)) * scales
    w_true = rng.standard_normal(d)
    y = X @ w_true + noise * rng.standard_normal(n)

    # w may be one point (d,) or a stack (..., d): sums run over the last axis
    def sample_loss(w, Xb, yb):
        r = np.asarray(w) @ Xb.T - yb
        return 0.5 * np.mean(r**2, axis=-1)

    def sample_grad(w, Xb, yb):
        return (np.asarray(w) @ Xb.T - yb) @ Xb / len(yb)

    H = X.T @ X / n
    x_min = np.linalg.solve(H, X.T @ y / n)
    eig = np.linalg.eigvalsh(H)
    prob = StochasticProblem(
        name,
        X,
        y,
        sample_loss,
        sample_grad,
        batch_size,
        seed,
        x0=np.zeros(d),
        x_min=x_min,
        f_min=float(sample_loss(x_min, X, y)),
        L=float(eig.max()),
        mu=float(eig.min()),
    )
    prob.w_true = w_true
    return prob


def _logistic(name, X, y, l2, batch_size, seed, extra=None):
    # w may be one point (d,) or a stack (..., d): sums run over the last axis
    def sample_loss(w, Xb, yb):
        w = np.asarray(w)
        z = w @ Xb.T
        # mean of log(1 + exp(-s z)) with s = 2y - 1, computed stably
        data = np.mean(np.logaddexp(0.0, -(2 * yb - 1) * z), axis=-1)
        return data + 0.5 * l2 * np.sum(w**2, axis=-1)

    def sample_grad(w, Xb, yb):
        w = np.asarray(w)
        p = 0.5 * (1 + np.tanh(0.5 * (w @ Xb.T)))  # the sigmoid, without overflow
        return (p - yb) @ Xb / len(yb) + l2 * w

    prob = StochasticProblem(
        name, X, y, sample_loss, sample_grad, batch_size, seed, x0=np.zeros(X.shape[1])
    )
    prob.l2 = l2
    for key, value in (extra or {}).items():
        setattr(prob, key, value)
    return prob


def logistic_regression(n_samples=500, n_features=10, l2=1e-3, batch_size=20, seed=0):
    r"""Logistic regression on seeded synthetic data, with an L2 penalty ``l2``.

    .. math:: f(w) = \frac1n \sum_i \log(1 + e^{-s_i x_i^\top w}) + \frac{l_2}{2}\|w\|^2,
              \quad s_i = 2 y_i - 1

    Labels are drawn from the logistic model with weights ``w_true``; the minimiser is
    not known in closed form (``x_min`` is ``None``).
    """
    name = "logistic_regression"
    n = check_int(name, "n_samples", n_samples, 2)
    d = check_int(name, "n_features", n_features, 1)
    l2 = check_nonnegative(name, "l2", l2)
    batch_size = check_batch_size(name, batch_size, n)
    seed = check_int(name, "seed", seed, 0)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) * 2
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    return _logistic(name, X, y, l2, batch_size, seed, {"w_true": w_true})


def sparse_logistic_regression(
    n_samples=1000, n_features=20, min_freq=0.01, max_freq=0.5, l2=1e-4, batch_size=10, seed=0
):
    r"""Logistic regression on sparse binary features, some common and some rare.

    Feature ``j`` is present (value 1) in a fraction ``feature_frequency[j]`` of the
    samples, log-spaced from ``max_freq`` (feature 0) down to ``min_freq`` (the last).
    Every feature matters equally in the true model (``w_true`` of size 2 with random
    signs). A plain SGD step moves a rare feature's weight only on the few minibatches
    that contain it; AdaGrad gives those weights larger rates, which is the case the
    sparse-gradient claim is about (Duchi et al. 2011).
    """
    name = "sparse_logistic_regression"
    n = check_int(name, "n_samples", n_samples, 2)
    d = check_int(name, "n_features", n_features, 1)
    min_freq = check_positive(name, "min_freq", min_freq)
    max_freq = check_positive(name, "max_freq", max_freq)
    if not min_freq <= max_freq <= 1:
        raise ValueError(
            f"{name}: need 0 < min_freq <= max_freq <= 1, got min_freq={min_freq!r}, "
            f"max_freq={max_freq!r}"
        )
    l2 = check_nonnegative(name, "l2", l2)
    batch_size = check_batch_size(name, batch_size, n)
    seed = check_int(name, "seed", seed, 0)
    rng = np.random.default_rng(seed)
    freq = np.geomspace(max_freq, min_freq, d)
    X = (rng.random((n, d)) < freq).astype(float)
    w_true = 2.0 * rng.choice([-1.0, 1.0], size=d)
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    return _logistic(
        name, X, y, l2, batch_size, seed, {"w_true": w_true, "feature_frequency": freq}
    )
