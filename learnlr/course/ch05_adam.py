r"""Helpers for the chapters on Adam and its relatives, which a reader need not see live.

* :func:`adam_step_bounds` -- the bound on Adam's step that Kingma & Ba state, and the
  true worst case (larger: the bound does not hold for a gradient that keeps growing);
* :func:`noisy_quadratic` -- a separable quadratic whose gradients carry Gaussian noise of a
  different size in each coordinate: where Adam with L2 and AdamW part ways;
* the visible cases and typical mistakes of the exercises on one Adam, AMSGrad and AdamW
  step (``*_CASES`` and ``*_MISTAKES`` for :func:`learnlr.course.checks.check_function`). The
  references live in the grader's hidden tests of the chapter notebooks, not here.

NumPy only; the chapters draw the figures.
"""

from __future__ import annotations

import numpy as np

from learnlr._checks import check_int, check_interval, check_vector
from learnlr.problems import Problem

__all__ = [
    "adam_step_bounds",
    "NoisyQuadratic",
    "noisy_quadratic",
    "ADAM_STEP_CASES",
    "ADAM_STEP_MISTAKES",
    "AMSGRAD_STEP_CASES",
    "AMSGRAD_STEP_MISTAKES",
    "ADAMW_STEP_CASES",
    "ADAMW_STEP_MISTAKES",
]


# --------------------------------------------------------------------------------------
# How large can one Adam step be?
# --------------------------------------------------------------------------------------
def adam_step_bounds(beta1=0.9, beta2=0.999) -> tuple[float, float]:
    r"""Kingma & Ba's bound on :math:`|\Delta| / \eta` and the true supremum, for large t.

    Adam's step is :math:`\Delta = \eta\, \hat m / \sqrt{\hat v}` (with :math:`\epsilon = 0`).
    Kingma & Ba (2015, section 2.1) state :math:`|\Delta| \le \eta (1 - \beta_1) /
    \sqrt{1 - \beta_2}` when :math:`1 - \beta_1 > \sqrt{1 - \beta_2}` and
    :math:`|\Delta| \le \eta` otherwise. That is the step right after a single non-zero
    gradient. Long after the start (bias corrections near 1), with
    :math:`m = (1-\beta_1)\sum_j \beta_1^j g_{t-j}` and
    :math:`v = (1-\beta_2)\sum_j \beta_2^j g_{t-j}^2`, the Cauchy--Schwarz inequality gives

    .. math::
        \frac{|m|}{\sqrt v} \le \frac{1 - \beta_1}{\sqrt{1 - \beta_2}}
        \sqrt{\sum_{j \ge 0} \Big(\frac{\beta_1^2}{\beta_2}\Big)^j}
        = \frac{1 - \beta_1}{\sqrt{1 - \beta_2}} \frac{1}{\sqrt{1 - \beta_1^2/\beta_2}}
        \quad (\beta_1^2 < \beta_2),

    with equality for gradients growing geometrically, :math:`g_{t-j} \propto
    (\beta_1/\beta_2)^j`. For :math:`\beta_1^2 \ge \beta_2` the sum diverges: no bound
    independent of :math:`t`.

    Args:
        beta1, beta2: Adam's betas, each in [0, 1).

    Returns:
        ``(paper, sup)``: the paper's bound :math:`\max(1, (1-\beta_1)/\sqrt{1-\beta_2})`
        and the supremum above (``inf`` when :math:`\beta_1^2 \ge \beta_2`).

    Example:
        >>> paper, sup = adam_step_bounds(0.9, 0.999)
        >>> round(paper, 4), round(sup, 4)
        (3.1623, 7.2703)
    """
    beta1 = check_interval("adam_step_bounds", "beta1", beta1, 0.0, 1.0)
    beta2 = check_interval("adam_step_bounds", "beta2", beta2, 0.0, 1.0)
    if beta2 == 0:
        raise ValueError("adam_step_bounds: beta2 must be > 0, got 0.0")
    paper = max(1.0, (1 - beta1) / np.sqrt(1 - beta2))
    r = beta1**2 / beta2
    sup = (1 - beta1) / np.sqrt(1 - beta2) / np.sqrt(1 - r) if r < 1 else np.inf
    return float(paper), float(sup)


# --------------------------------------------------------------------------------------
# A quadratic with per-coordinate gradient noise
# --------------------------------------------------------------------------------------
class NoisyQuadratic(Problem):
    r"""A separable quadratic whose minibatch gradient carries Gaussian noise.

    :math:`f(x) = \tfrac12 \sum_i a_i (x_i - c_i)^2`; the gradient of update ``k`` is
    :math:`a \odot (x - c) + \sigma \odot \xi_k` with :math:`\xi_k \sim N(0, I)` drawn from
    ``seed`` and ``k`` (in blocks of ``BLOCK`` updates), so a run is reproducible and
    every optimizer sees the same noise. ``loss`` and ``grad`` are the exact ones.
    """

    stochastic = True
    BLOCK = 4096

    def __init__(self, a, c, sigma, seed, x0, name):
        self.a, self.c, self.sigma, self.seed = a, c, sigma, seed

        def loss(x):
            return 0.5 * np.sum(a * (x - c) ** 2, axis=-1)

        def grad(x):
            return a * (x - c)

        super().__init__(name, loss, grad, x0, x_min=c, f_min=0.0, L=a.max(), mu=a.min())
        self._block, self._noise = -1, None

    def noise(self, k: int) -> np.ndarray:
        """:math:`\\sigma \\odot \\xi_k`, the noise added to the gradient of update ``k``."""
        block, j = divmod(k, self.BLOCK)
        if block != self._block:
            rng = np.random.default_rng([self.seed, block])
            self._noise = rng.standard_normal((self.BLOCK, self.dim)) * self.sigma
            self._block = block
        return self._noise[j]

    def batch_grad(self, x, k: int) -> np.ndarray:
        return self.a * (x - self.c) + self.noise(k)


def noisy_quadratic(a, c, sigma, seed=0, x0=None, name="noisy quadratic") -> NoisyQuadratic:
    r"""The quadratic :math:`\tfrac12\sum_i a_i(x_i - c_i)^2` with gradient noise :math:`\sigma_i`.

    Args:
        a: curvatures, all > 0 (the dimension is their number).
        c: the minimiser, same shape.
        sigma: standard deviation of each coordinate's gradient noise, all >= 0.
        seed: seed of the noise (an integer >= 0).
        x0: starting point; default zeros.
        name: a short name.

    Example:
        >>> p = noisy_quadratic(a=[1.0, 1.0], c=[1.0, 1.0], sigma=[10.0, 0.1], seed=0)
        >>> p.grad(np.zeros(2)), p.batch_grad(np.zeros(2), 0).round(3)
        (array([-1., -1.]), array([ 0.257, -1.013]))
    """
    fname = "noisy_quadratic"
    a = check_vector(fname, "a", a)
    c = check_vector(fname, "c", c)
    sigma = check_vector(fname, "sigma", sigma)
    if np.any(a <= 0):
        raise ValueError(f"{fname}: a must be > 0 in every coordinate, got {a.tolist()}")
    if np.any(sigma < 0):
        raise ValueError(f"{fname}: sigma must be >= 0 in every coordinate, got {sigma.tolist()}")
    if not a.shape == c.shape == sigma.shape or a.ndim != 1:
        raise ValueError(
            f"{fname}: a, c and sigma must be vectors of the same length, got shapes "
            f"{a.shape}, {c.shape}, {sigma.shape}"
        )
    seed = check_int(fname, "seed", seed, 0)
    x0 = np.zeros_like(a) if x0 is None else check_vector(fname, "x0", x0)
    if x0.shape != a.shape:
        raise ValueError(f"{fname}: x0 must have shape {a.shape}, got {x0.shape}")
    return NoisyQuadratic(a, c, sigma, seed, x0, name)


# --------------------------------------------------------------------------------------
# Exercise: one Adam step
# --------------------------------------------------------------------------------------
def _adam_variant(
    x, g, m, v, t, lr, beta1, beta2, eps, c1=None, c2=None, square=True, inside=False
):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * (g * g if square else g)
    c1 = 1 - beta1**t if c1 is None else c1
    c2 = 1 - beta2**t if c2 is None else c2
    m_hat, v_hat = m / c1, v / c2
    denom = np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps
    return x - lr * m_hat / denom, m, v


def _adam_stale(x, g, m, v, t, lr, beta1, beta2, eps):
    # steps with the old moments, then updates them
    step = lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return (
        x - step,
        beta1 * m + (1 - beta1) * g,
        beta2 * v + (1 - beta2) * g * g,
    )


#: Typical mistakes of the Adam-step exercise, as ``{hint: wrong version}``.
ADAM_STEP_MISTAKES = {
    "missing bias correction? use m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t)": (
        lambda x, g, m, v, t, lr, beta1, beta2, eps: _adam_variant(
            x, g, m, v, t, lr, beta1, beta2, eps, c1=1.0, c2=1.0
        )
    ),
    "off by one? t is the number of this update (1 for the first): use beta**t, "
    "not beta**(t - 1)": (
        lambda x, g, m, v, t, lr, beta1, beta2, eps: _adam_variant(
            x, g, m, v, t, lr, beta1, beta2, eps, c1=1 - beta1 ** (t - 1), c2=1 - beta2 ** (t - 1)
        )
    ),
    "eps goes outside the square root: sqrt(v_hat) + eps": (
        lambda x, g, m, v, t, lr, beta1, beta2, eps: _adam_variant(
            x, g, m, v, t, lr, beta1, beta2, eps, inside=True
        )
    ),
    "did you square the gradient in v?": (
        lambda x, g, m, v, t, lr, beta1, beta2, eps: _adam_variant(
            x, g, m, v, t, lr, beta1, beta2, eps, square=False
        )
    ),
    "m needs its bias correction too: m_hat = m / (1 - beta1**t)": (
        lambda x, g, m, v, t, lr, beta1, beta2, eps: _adam_variant(
            x, g, m, v, t, lr, beta1, beta2, eps, c1=1.0
        )
    ),
    "v needs its bias correction too: v_hat = v / (1 - beta2**t)": (
        lambda x, g, m, v, t, lr, beta1, beta2, eps: _adam_variant(
            x, g, m, v, t, lr, beta1, beta2, eps, c2=1.0
        )
    ),
    "update m and v first, then step with the new ones": _adam_stale,
}

#: Cases of the Adam-step exercise (the first one tells every mistake apart).
ADAM_STEP_CASES = [
    dict(x=np.array([1.0, -2.0]), g=np.array([0.5, 0.2]), m=np.array([0.1, -0.05]),
         v=np.array([2e-4, 1e-4]), t=3, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-3),
    dict(x=np.array([0.5]), g=np.array([-3.0]), m=np.zeros(1), v=np.zeros(1), t=1, lr=1e-3,
         beta1=0.9, beta2=0.999, eps=1e-8),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([2.0, -1.0, 0.05]),
         m=np.array([0.4, -0.3, 0.0]), v=np.array([0.5, 0.2, 1e-3]), t=10, lr=0.01,
         beta1=0.8, beta2=0.99, eps=1e-8),
    dict(x=np.array([4.0, -4.0]), g=np.array([-1e-3, 1e-3]), m=np.array([0.02, -0.01]),
         v=np.array([1e-4, 4e-4]), t=1000, lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8),
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Exercise: one AMSGrad step
# --------------------------------------------------------------------------------------
def _amsgrad_variant(
    x, g, m, v, v_max, t, lr, beta1, beta2, eps, mode="ref", correct=True, use_max=True
):
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g * g
    c1 = 1 - beta1**t if correct else 1.0
    c2 = 1 - beta2**t if correct else 1.0
    if mode == "max_of_v_hat":
        v_max_new = np.maximum(v_max, v_new / c2)
        v_used = v_max_new
    else:
        v_max_new = np.maximum(v_max, v if mode == "old_v" else v_new)
        v_used = (v_max_new if use_max else v_new) / c2
    x_new = x - lr * (m_new / c1) / (np.sqrt(v_used) + eps)
    return x_new, m_new, v_new, v_max_new


#: Typical mistakes of the AMSGrad-step exercise, as ``{hint: wrong version}``.
AMSGRAD_STEP_MISTAKES = {
    "keep the maximum of the raw v and apply the bias correction afterwards, as PyTorch and "
    "Keras do (section 6.2)": (lambda **kw: _amsgrad_variant(**kw, mode="max_of_v_hat")),
    "the step divides by the running maximum, not by the current v": (
        lambda **kw: _amsgrad_variant(**kw, use_max=False)
    ),
    "take the maximum with the new v (after its moving-average update)": (
        lambda **kw: _amsgrad_variant(**kw, mode="old_v")
    ),
    "that is Reddi et al.'s Algorithm 2, without bias correction; PyTorch corrects both moments": (
        lambda **kw: _amsgrad_variant(**kw, correct=False)
    ),
}

#: Cases of the AMSGrad-step exercise, with v_max above the new v in some coordinates only.
AMSGRAD_STEP_CASES = [
    dict(x=np.array([1.0, -2.0]), g=np.array([0.5, 2.0]), m=np.array([0.1, -0.05]),
         v=np.array([0.3, 0.1]), v_max=np.array([20.0, 0.1]), t=4, lr=0.1, beta1=0.9,
         beta2=0.99, eps=1e-8),
    dict(x=np.array([0.5]), g=np.array([-3.0]), m=np.zeros(1), v=np.zeros(1),
         v_max=np.zeros(1), t=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([0.2, -1.0, 0.05]),
         m=np.array([0.4, -0.3, 0.0]), v=np.array([0.5, 0.2, 1e-3]),
         v_max=np.array([2.0, 0.2, 1e-3]), t=20, lr=0.01, beta1=0.0, beta2=0.9, eps=1e-8),
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Exercise: one AdamW step
# --------------------------------------------------------------------------------------
def _adamw_variant(x, g, m, v, t, lr, beta1, beta2, eps, weight_decay, mode):
    if mode in ("l2", "both"):
        g = g + weight_decay * x
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    u = lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    if mode == "l2":
        return x - u, m, v
    if mode == "no_lr":
        return x * (1 - weight_decay) - u, m, v
    if mode == "after":
        return (x - u) * (1 - lr * weight_decay), m, v
    if mode == "both":
        return x * (1 - lr * weight_decay) - u, m, v
    raise ValueError(mode)


#: Typical mistakes of the AdamW-step exercise, as ``{hint: wrong version}``.
ADAMW_STEP_MISTAKES = {
    "the decay still goes into g, so m and v carry it and it is divided by sqrt(v_hat) with "
    "the rest: that is Adam + L2 (section 6.3)": (lambda **kw: _adamw_variant(**kw, mode="l2")),
    "PyTorch scales the decay by the rate (section 6.3, the frameworks' note)": (
        lambda **kw: _adamw_variant(**kw, mode="no_lr")
    ),
    "decay the x you started from, not the x after Adam's step": (
        lambda **kw: _adamw_variant(**kw, mode="after")
    ),
    "the decay now acts twice: once directly and once through g, m and v": (
        lambda **kw: _adamw_variant(**kw, mode="both")
    ),
}

#: Cases of the AdamW-step exercise.
ADAMW_STEP_CASES = [
    dict(x=np.array([1.0, -2.0]), g=np.array([0.5, 0.2]), m=np.array([0.1, -0.05]),
         v=np.array([0.02, 0.01]), t=3, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
         weight_decay=0.5),
    dict(x=np.array([2.0]), g=np.array([0.0]), m=np.zeros(1), v=np.zeros(1), t=1, lr=0.1,
         beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.5),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([2.0, -1.0, 0.05]),
         m=np.array([0.4, -0.3, 0.0]), v=np.array([0.5, 0.2, 1e-3]), t=10, lr=0.01,
         beta1=0.8, beta2=0.99, eps=1e-8, weight_decay=0.01),
]  # fmt: skip
