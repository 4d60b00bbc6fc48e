r"""Test functions with exact gradients and known minima, and the :class:`Problem` type.

A :class:`Problem` has ``loss(x)`` and ``grad(x)`` (both accept a single point of shape
``(dim,)`` or a stack of points of shape ``(..., dim)``, so a contour plot is one call),
a starting point ``x0``, the minimiser ``x_min`` and value ``f_min`` where known, and
``bounds`` for plotting 2-D problems. ``batch_grad(x, k)`` is the gradient an optimizer sees
at update ``k``: here the exact gradient. NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from learnlr._checks import (
    check_int,
    check_positive,
    check_real,
    check_vector,
    short_repr,
)

__all__ = [
    "Problem",
    "quadratic",
    "quadratic1d",
    "quadratic2d",
    "rosenbrock",
    "beale",
    "saddle",
    "quadratic_saddle",
    "himmelblau",
    "wells",
    "curve_net",
]


class Problem:
    """A differentiable function to minimise, with what is known about it.

    Attributes:
        name: short name used in plots.
        dim: number of parameters.
        x0: default starting point (a fresh copy each time it is read).
        x_min: a minimiser (or ``None`` if unknown); ``f_min`` its value.
        L, mu: largest and smallest curvature (Hessian eigenvalue) where constant, else None.
        bounds: ``((xlo, xhi), (ylo, yhi))`` for contour plots of 2-D problems.
    """

    stochastic = False

    def __init__(
        self,
        name: str,
        loss: Callable,
        grad: Callable,
        x0,
        x_min=None,
        f_min=None,
        bounds=None,
        L=None,
        mu=None,
        log_scale=False,
    ):
        self.name = name
        self._loss = loss
        self._grad = grad
        self._x0 = np.array(x0, dtype=float)
        self.dim = self._x0.size
        self.x_min = None if x_min is None else np.array(x_min, dtype=float)
        self.f_min = f_min
        self.bounds = bounds
        self.L = L
        self.mu = mu
        self.log_scale = log_scale  # contour levels are better spaced logarithmically

    @property
    def x0(self) -> np.ndarray:
        return self._x0.copy()

    def loss(self, x) -> float | np.ndarray:
        """f(x) for one point (returns a float) or a stack of points (returns an array)."""
        x = np.asarray(x, dtype=float)
        value = self._loss(x)
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, x) -> np.ndarray:
        """The exact gradient at ``x`` (same shape as ``x``)."""
        return self._grad(np.asarray(x, dtype=float))

    def batch_grad(self, x, k: int) -> np.ndarray:
        """The gradient the optimizer sees at update ``k`` (exact for this problem)."""
        return self._grad(x)

    def __repr__(self) -> str:
        return f"<Problem {self.name}, dim={self.dim}>"


def check_problem(func: str, value, kind=None, name: str = "problem"):
    """``value`` if it is a learnlr problem (of the class ``kind``, by default any
    :class:`~learnlr.problems.Problem`); otherwise a ``TypeError`` naming ``func``, the
    argument ``name`` and the value, e.g. ``run: problem must be a learnlr Problem, got 'q'``.
    """
    kind = Problem if kind is None else kind
    if not isinstance(value, kind):
        what = "a learnlr Problem" if kind.__name__ == "Problem" else _article(kind.__name__)
        raise TypeError(f"{func}: {name} must be {what}, got {short_repr(value)}")
    return value


def _article(noun: str) -> str:
    return ("an " if noun[0] in "AEIOUM" else "a ") + noun  # "an MLPProblem"


# --------------------------------------------------------------------------------------
# Quadratics
# --------------------------------------------------------------------------------------
def quadratic(A, b=None, c=0.0, x0=None, name="quadratic") -> Problem:
    r"""The quadratic :math:`f(x) = \tfrac12 x^\top A x - b^\top x + c` in any dimension.

    ``A`` must be symmetric positive definite; the minimiser solves :math:`A x = b`, and
    gradient descent with a fixed rate :math:`\eta` converges exactly when
    :math:`0 < \eta < 2/L`, :math:`L = \lambda_{max}(A)`.
    """
    fname = "quadratic"
    A = np.array(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{fname}: A must be a square matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{fname}: A must contain only finite numbers")
    if not np.allclose(A, A.T):
        raise ValueError(f"{fname}: A must be symmetric, got {A.tolist()}")
    eig = np.linalg.eigvalsh(A)
    if eig.min() <= 0:
        raise ValueError(
            f"{fname}: A must be positive definite, got smallest eigenvalue {eig.min():.3g}"
        )
    n = A.shape[0]
    b = np.zeros(n) if b is None else check_vector(fname, "b", b)
    if b.shape != (n,):
        raise ValueError(f"{fname}: b must have shape ({n},), got {b.shape}")
    c = check_real(fname, "c", c)
    x_min = np.linalg.solve(A, b)
    f_min = float(-0.5 * b @ x_min + c)
    if x0 is None:
        x0 = x_min + np.where(np.arange(n) % 2 == 0, -2.0, 1.5)
    x0 = check_vector(fname, "x0", x0)

    def loss(x):
        return 0.5 * np.einsum("...i,ij,...j->...", x, A, x) - x @ b + c

    def grad(x):
        return x @ A - b  # A is symmetric, so x A = A x

    bounds = None
    if n == 2:
        r = 1.25 * max(np.abs(x0 - x_min).max(), 1.0)
        bounds = ((x_min[0] - r, x_min[0] + r), (x_min[1] - r, x_min[1] + r))
    prob = Problem(name, loss, grad, x0, x_min, f_min, bounds, L=eig.max(), mu=eig.min())
    prob.A, prob.b = A.copy(), b.copy()  # the Hessian and linear term, for the reader
    return prob


def quadratic1d(a=1.0, x0=2.0) -> Problem:
    r"""The parabola :math:`f(x) = \tfrac{a}{2} x^2`: curvature ``a``, minimum at 0."""
    a = check_positive("quadratic1d", "a", a)
    return quadratic([[a]], x0=[check_real("quadratic1d", "x0", x0)], name=f"parabola a={a:g}")


def quadratic2d(kappa=10.0, mu=1.0, angle=0.0, x0=None) -> Problem:
    r"""A 2-D quadratic bowl with condition number ``kappa``, rotated by ``angle`` radians.

    Hessian eigenvalues are :math:`\mu` and :math:`L = \kappa\mu`, so gradient descent is
    stable for :math:`\eta < 2/L` and the best fixed rate is :math:`2/(\mu + L)`.
    """
    kappa = check_real("quadratic2d", "kappa", kappa)
    if kappa < 1:
        raise ValueError(f"quadratic2d: kappa must be >= 1, got {kappa!r}")
    mu = check_positive("quadratic2d", "mu", mu)
    angle = check_real("quadratic2d", "angle", angle)
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    A = R @ np.diag([mu, kappa * mu]) @ R.T
    A = (A + A.T) / 2
    if x0 is None:
        x0 = [-2.0, 1.5]
    return quadratic(A, x0=x0, name=f"quadratic kappa={kappa:g}")


# --------------------------------------------------------------------------------------
# Classic 2-D test functions
# --------------------------------------------------------------------------------------
def rosenbrock(a=1.0, b=100.0, x0=(-1.5, 2.0)) -> Problem:
    r"""Rosenbrock's banana valley :math:`f = (a - x)^2 + b (y - x^2)^2`, minimum at (a, a²)."""
    a = check_real("rosenbrock", "a", a)
    b = check_positive("rosenbrock", "b", b)

    def loss(p):
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p):
        x, y = p[..., 0], p[..., 1]
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)], axis=-1)

    return Problem(
        "rosenbrock",
        loss,
        grad,
        check_vector("rosenbrock", "x0", x0),
        [a, a * a],
        0.0,
        ((-2.0, 2.0), (-1.0, 3.0)),
        log_scale=True,
    )


def beale(x0=(1.0, 1.5)) -> Problem:
    r"""Beale's function, flat plateaus and a narrow valley; minimum 0 at (3, 0.5)."""

    def loss(p):
        x, y = p[..., 0], p[..., 1]
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2

    def grad(p):
        x, y = p[..., 0], p[..., 1]
        t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
        dx = 2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1)
        dy = 2 * t1 * x + 2 * t2 * 2 * x * y + 2 * t3 * 3 * x * y**2
        return np.stack([dx, dy], axis=-1)

    return Problem(
        "beale",
        loss,
        grad,
        check_vector("beale", "x0", x0),
        [3.0, 0.5],
        0.0,
        ((-4.5, 4.5), (-4.5, 4.5)),
        log_scale=True,
    )


def saddle(x0=(1.0, 1e-3)) -> Problem:
    r"""A saddle at the origin, :math:`f = \tfrac12 (x^2 - y^2) + \tfrac14 y^4`.

    Minima at :math:`(0, \pm 1)` with :math:`f = -\tfrac14`; a start with small ``y``
    lingers near the saddle before escaping.
    """

    def loss(p):
        x, y = p[..., 0], p[..., 1]
        return 0.5 * (x**2 - y**2) + 0.25 * y**4

    def grad(p):
        x, y = p[..., 0], p[..., 1]
        return np.stack([x, -y + y**3], axis=-1)

    prob = Problem(
        "saddle",
        loss,
        grad,
        check_vector("saddle", "x0", x0),
        [0.0, 1.0],
        -0.25,
        ((-1.5, 1.5), (-1.5, 1.5)),
    )
    prob.minima = np.array([[0.0, 1.0], [0.0, -1.0]])
    return prob


def quadratic_saddle(a=1.0, b=1.0, x0=(1.0, 1e-3)) -> Problem:
    r"""The quadratic saddle :math:`f = \tfrac12 (a x^2 - b y^2)`: curvature ``a`` and ``-b``.

    Unbounded below (no minimum). Gradient descent multiplies :math:`y` by exactly
    :math:`1 + \eta b` per step, so the time to leave the saddle has a closed form
    (:func:`learnlr.landscape.predicted_escape_steps`).
    """
    a = check_positive("quadratic_saddle", "a", a)
    b = check_positive("quadratic_saddle", "b", b)

    def loss(p):
        return 0.5 * (a * p[..., 0] ** 2 - b * p[..., 1] ** 2)

    def grad(p):
        return np.stack([a * p[..., 0], -b * p[..., 1]], axis=-1)

    return Problem(
        f"quadratic saddle a={a:g} b={b:g}",
        loss,
        grad,
        check_vector("quadratic_saddle", "x0", x0),
        bounds=((-1.5, 1.5), (-1.5, 1.5)),
    )


def himmelblau(x0=(0.0, 0.0)) -> Problem:
    r"""Himmelblau's function :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`: four minima of value 0.

    ``x_min`` is the one at (3, 2); the others are near (-2.805, 3.131), (-3.779, -3.283)
    and (3.584, -1.848).
    """

    def loss(p):
        x, y = p[..., 0], p[..., 1]
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def grad(p):
        x, y = p[..., 0], p[..., 1]
        a, b = x**2 + y - 11, x + y**2 - 7
        return np.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b], axis=-1)

    prob = Problem(
        "himmelblau",
        loss,
        grad,
        check_vector("himmelblau", "x0", x0),
        [3.0, 2.0],
        0.0,
        ((-5.0, 5.0), (-5.0, 5.0)),
        log_scale=True,
    )
    # all four minima, polished by Newton's method from their 6-digit values
    prob.minima = _newton_polish(
        grad,
        _himmelblau_hessian,
        [[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]],
    )
    return prob


def _himmelblau_hessian(p):
    x, y = p
    a, b = x**2 + y - 11, x + y**2 - 7
    return np.array([[4 * a + 8 * x**2 + 2, 4 * x + 4 * y], [4 * x + 4 * y, 2 + 4 * b + 8 * y**2]])


def _newton_polish(grad, hess, points, iters=8):
    """Newton steps x <- x - H(x)^-1 grad(x) from each point (near a minimum already)."""
    out = []
    for p in np.array(points, dtype=float):
        for _ in range(iters):
            p = p - np.linalg.solve(hess(p), grad(p))
        out.append(p)
    return np.array(out)


def wells(widths=(0.25, 1.0), depths=(1.0, 1.0), separation=3.0, bowl=0.05, x0=(0.0, 1.0)):
    r"""Two Gaussian wells, a narrow one and a wide one, in a shallow bowl.

    With centres :math:`c_{1,2} = (\mp d/2, 0)` (:math:`d` = ``separation``), widths
    :math:`s_i`, depths :math:`a_i` and bowl curvature :math:`\kappa`:

    .. math::
        f(p) = \tfrac{\kappa}{2}\lVert p \rVert^2
               - \sum_i a_i \exp\Big(-\frac{\lVert p - c_i \rVert^2}{2 s_i^2}\Big)

    A well of depth :math:`a` and width :math:`s` has curvature about
    :math:`a / s^2 + \kappa` at its bottom, so with the defaults the left (narrow) minimum
    has curvature near 16 and the right (wide) one near 1: gradient descent can settle in
    the narrow one only with :math:`\eta` below about 2/16. The bowl brings runs that leave
    both wells back. ``minima`` holds both minima (narrow first); ``x_min`` is the lower.
    """
    name = "wells"
    s = [
        check_positive(name, f"widths[{i}]", w) for i, w in enumerate(_pair(name, "widths", widths))
    ]
    a = [
        check_positive(name, f"depths[{i}]", w) for i, w in enumerate(_pair(name, "depths", depths))
    ]
    d = check_positive(name, "separation", separation)
    kappa = check_positive(name, "bowl", bowl)
    c = np.array([[-d / 2, 0.0], [d / 2, 0.0]])

    def loss(p):
        value = 0.5 * kappa * np.sum(p**2, axis=-1)
        for ci, si, ai in zip(c, s, a, strict=True):
            value = value - ai * np.exp(-np.sum((p - ci) ** 2, axis=-1) / (2 * si**2))
        return value

    def grad(p):
        g = kappa * p
        for ci, si, ai in zip(c, s, a, strict=True):
            e = ai * np.exp(-np.sum((p - ci) ** 2, axis=-1) / (2 * si**2))
            g = g + (e / si**2)[..., None] * (p - ci)
        return g

    def hess(p):
        H = kappa * np.eye(2)
        for ci, si, ai in zip(c, s, a, strict=True):
            r = p - ci
            e = ai * np.exp(-(r @ r) / (2 * si**2))
            H = H + e * (np.eye(2) / si**2 - np.outer(r, r) / si**4)
        return H

    minima = _newton_polish(grad, hess, c, iters=30)
    f = loss(minima)
    lower = int(np.argmin(f))
    prob = Problem(
        name,
        loss,
        grad,
        check_vector(name, "x0", x0),
        minima[lower],
        float(f[lower]),
        ((-d, d), (-d * 2 / 3, d * 2 / 3)),
    )
    prob.minima = minima
    return prob


def _pair(func, name, value):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{func}: {name} must be a pair (narrow, wide), got {value!r}")
    return value


def curve_net(width=20, depth=2, n_samples=40, seed=0) -> Problem:
    r"""A small tanh network fitted by least squares to a 1-D curve; it trains in seconds.

    Inputs :math:`t_i` are ``n_samples`` points evenly spaced on [-1, 1], targets
    :math:`y_i = \sin 3t_i + \tfrac12 \cos 7t_i`. The network has ``depth`` hidden tanh
    layers of ``width`` units and one linear output; with :math:`h_0 = t`,
    :math:`h_l = \tanh(h_{l-1} W_l + b_l)` and output :math:`o = h_L W + b`:

    .. math:: f(w) = \frac{1}{2n} \sum_i (o_i - y_i)^2

    The gradient is backpropagation. ``x0`` draws every weight from
    :math:`N(0, 1/\text{fan-in})` with zero biases, from ``seed`` (the data do not depend on
    it). ``loss`` and ``grad`` accept a stack of parameter vectors ``(..., dim)``, so many
    seeds train at once. With the defaults: 481 parameters.
    """
    name = "curve_net"
    width = check_int(name, "width", width, 1)
    depth = check_int(name, "depth", depth, 1)
    n = check_int(name, "n_samples", n_samples, 2)
    seed = check_int(name, "seed", seed, 0)
    t = np.linspace(-1.0, 1.0, n)[:, None]
    y = np.sin(3 * t[:, 0]) + 0.5 * np.cos(7 * t[:, 0])
    sizes = [1] + [width] * depth + [1]
    shapes = list(zip(sizes[:-1], sizes[1:], strict=True))
    dim = sum(a * b + b for a, b in shapes)

    def layers(w):  # w: (S, dim) -> [(W (S, a, b), b (S, 1, b)), ...]
        out, i = [], 0
        for a, b in shapes:
            W = w[:, i : i + a * b].reshape(-1, a, b)
            i += a * b
            out.append((W, w[:, None, i : i + b]))
            i += b
        return out

    def forward(w):
        hs, h = [], np.broadcast_to(t, (w.shape[0],) + t.shape)
        for W, b in layers(w)[:-1]:
            hs.append(h)
            h = np.tanh(h @ W + b)
        W, b = layers(w)[-1]
        hs.append(h)
        return (h @ W + b)[..., 0], hs

    def loss(w):
        flat = w.reshape(-1, dim)
        o, _ = forward(flat)
        value = 0.5 * np.mean((o - y) ** 2, axis=-1)
        return value.reshape(w.shape[:-1])

    def grad(w):
        flat = w.reshape(-1, dim)
        o, hs = forward(flat)
        delta = ((o - y) / n)[..., None]  # d f / d o, shape (S, n, 1)
        parts = []
        for l in range(len(shapes) - 1, -1, -1):  # noqa: E741
            W, _ = layers(flat)[l]
            h = hs[l]
            parts.append((np.swapaxes(h, 1, 2) @ delta, delta.sum(axis=1)))
            if l > 0:
                delta = (delta @ np.swapaxes(W, 1, 2)) * (1 - h * h)
        g = np.concatenate(
            [np.concatenate([gW.reshape(len(flat), -1), gb], axis=1) for gW, gb in parts[::-1]],
            axis=1,
        )
        return g.reshape(w.shape)

    rng = np.random.default_rng(seed)
    x0 = np.concatenate(
        [np.r_[rng.standard_normal(a * b) / np.sqrt(a), np.zeros(b)] for a, b in shapes]
    )
    prob = Problem(f"curve_net {'-'.join(map(str, sizes))} tanh", loss, grad, x0)
    prob.t, prob.y, prob.sizes = t[:, 0], y, sizes
    return prob
