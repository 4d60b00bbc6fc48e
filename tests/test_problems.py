"""Tests for learnlr.problems.

* every problem in the registry: the gradient agrees with central finite differences of the
  loss at seeded random points; the gradient vanishes at ``x_min`` and ``loss(x_min) == f_min``
  where they are known, and ``x_min`` is a local minimum;
* loss and grad accept a stack of points of shape ``(..., dim)``, as the module promises, and
  agree with point-by-point evaluation;
* the stochastic problems: seeded minibatches (same seed and k, same batch; another k, another
  batch), one epoch of minibatch gradients averages to the full gradient, full batches are the
  full gradient, ``with_batch_size`` keeps the data;
* the quadratics: argument checks, curvatures L and mu, the exact minimiser;
* the sparse problem's feature frequencies.
"""

import numpy as np
import pytest

from learnlr import problems as P

REGISTRY = P.REGISTRY
NAMES = list(REGISTRY)
PROBLEMS = {name: factory() for name, factory in REGISTRY.items()}
STOCHASTIC = [name for name, p in PROBLEMS.items() if p.stochastic]
TWO_D = [name for name, p in PROBLEMS.items() if p.dim == 2]


def _points(problem, n, seed):
    """n seeded points near the start (inside the plotting box for 2-D problems)."""
    rng = np.random.default_rng(seed)
    if problem.bounds is not None:
        (xlo, xhi), (ylo, yhi) = problem.bounds
        return np.column_stack([rng.uniform(xlo, xhi, n), rng.uniform(ylo, yhi, n)])
    return problem.x0 + rng.standard_normal((n, problem.dim))


def _fd_grad(loss, x, h):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (loss(x + e) - loss(x - e)) / (2 * h)
    return g


def _fd_hessian(grad, x, h=1e-4):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((grad(x + e) - grad(x - e)) / (2 * h))
    H = np.column_stack(cols)
    return (H + H.T) / 2


# --------------------------------------------------------------------------------------
# Every problem
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_problem_basics(name):
    p = PROBLEMS[name]
    assert isinstance(p, P.Problem)
    assert p.dim == p.x0.shape[0] and p.x0.shape == (p.dim,)
    value = p.loss(p.x0)
    assert type(value) is float and np.isfinite(value)
    g = p.grad(p.x0)
    assert g.shape == (p.dim,) and np.all(np.isfinite(g))
    assert p.name in repr(p)
    # x0 is a fresh copy each time: changing it does not change the problem
    x0 = p.x0
    x0 += 1.0
    assert not np.array_equal(p.x0, x0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_central_finite_differences(name, seed):
    p = PROBLEMS[name]
    for x in _points(p, 4, seed):
        g = p.grad(x)
        h = 1e-5 * max(1.0, np.abs(x).max())
        fd = _fd_grad(p.loss, x, h)
        err = np.linalg.norm(fd - g) / max(np.linalg.norm(g), 1.0)
        assert err < 1e-6, f"{name} at {x}: relative error {err:.2e}"


@pytest.mark.parametrize("name", NAMES)
def test_grad_vanishes_at_x_min_and_loss_is_f_min(name):
    p = PROBLEMS[name]
    if p.x_min is None:
        # the minimiser is not known in closed form: then neither is the minimum
        assert p.f_min is None
        return
    assert p.x_min.shape == (p.dim,)
    scale = max(1.0, np.abs(p.grad(p.x0)).max())
    np.testing.assert_allclose(p.grad(p.x_min), 0.0, atol=1e-10 * scale)
    assert p.loss(p.x_min) == pytest.approx(p.f_min, rel=1e-12, abs=1e-12)
    # and it is a (local) minimum: small moves in random directions do not lower the loss
    rng = np.random.default_rng(0)
    for d in rng.standard_normal((20, p.dim)):
        assert p.loss(p.x_min + 1e-3 * d) >= p.f_min - 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_loss_and_grad_accept_a_stack_of_points(name):
    # the module docstring: loss and grad accept (dim,) or a stack (..., dim)
    p = PROBLEMS[name]
    pts = _points(p, 6, seed=3).reshape(2, 3, p.dim)
    losses = p.loss(pts)
    grads = p.grad(pts)
    assert np.shape(losses) == (2, 3)
    assert np.shape(grads) == (2, 3, p.dim)
    for i in range(2):
        for j in range(3):
            assert losses[i, j] == pytest.approx(p.loss(pts[i, j]), rel=1e-12)
            np.testing.assert_allclose(grads[i, j], p.grad(pts[i, j]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", TWO_D)
def test_two_d_problems_evaluate_a_grid_in_one_call(name):
    # what a contour plot does: a (ny, nx, 2) grid of points in, a (ny, nx) grid of losses out
    p = PROBLEMS[name]
    (xlo, xhi), (ylo, yhi) = p.bounds
    X, Y = np.meshgrid(np.linspace(xlo, xhi, 7), np.linspace(ylo, yhi, 5))
    Z = p.loss(np.stack([X, Y], axis=-1))
    assert Z.shape == (5, 7)
    assert Z[2, 3] == pytest.approx(p.loss([X[2, 3], Y[2, 3]]), rel=1e-14)
    assert p.bounds[0][0] <= p.x0[0] <= p.bounds[0][1]
    assert p.bounds[1][0] <= p.x0[1] <= p.bounds[1][1]


@pytest.mark.parametrize("name", [n for n in NAMES if n not in STOCHASTIC])
def test_deterministic_batch_grad_is_the_gradient(name):
    p = PROBLEMS[name]
    x = _points(p, 1, seed=5)[0]
    for k in [0, 1, 17]:
        np.testing.assert_array_equal(p.batch_grad(x, k), p.grad(x))


def test_known_minima_by_hand():
    # rosenbrock (a, a^2); beale (3, 0.5); himmelblau (3, 2); saddle minima (0, +-1), f = -1/4
    np.testing.assert_array_equal(P.rosenbrock(a=2.0).x_min, [2.0, 4.0])
    assert P.rosenbrock(a=2.0).loss([2.0, 4.0]) == 0.0
    assert P.beale().loss([3.0, 0.5]) == 0.0
    assert P.himmelblau().loss([3.0, 2.0]) == 0.0
    assert P.saddle().loss([0.0, -1.0]) == -0.25
    # the other three minima of Himmelblau's function, to the digits the docstring gives
    for x in [(-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]:
        assert P.himmelblau().loss(x) < 1e-9
    # the saddle point itself has a zero gradient but is not a minimum
    s = P.saddle()
    np.testing.assert_array_equal(s.grad([0.0, 0.0]), [0.0, 0.0])
    assert s.loss([0.0, 0.1]) < s.loss([0.0, 0.0]) < s.loss([0.1, 0.0])


# --------------------------------------------------------------------------------------
# Quadratics
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("angle", [0.0, 0.3, np.pi / 4, 2.0])
@pytest.mark.parametrize("kappa, mu", [(1.0, 1.0), (10.0, 1.0), (100.0, 0.5)])
def test_quadratic2d_curvatures_are_kappa_mu_and_mu(kappa, mu, angle):
    p = P.quadratic2d(kappa=kappa, mu=mu, angle=angle)
    assert p.L == pytest.approx(kappa * mu, rel=1e-12)
    assert p.mu == pytest.approx(mu, rel=1e-12)
    # independently: the eigenvalues of a finite-difference Hessian of the gradient
    eig = np.linalg.eigvalsh(_fd_hessian(p.grad, p.x0))
    np.testing.assert_allclose(eig, [mu, kappa * mu], rtol=1e-8)
    np.testing.assert_allclose(p.x_min, [0.0, 0.0], atol=1e-12)
    assert p.f_min == 0.0


def test_quadratic_solves_Ax_equals_b():
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    b = np.array([1.0, -2.0, 0.5])
    p = P.quadratic(A, b, c=0.7)
    np.testing.assert_allclose(A @ p.x_min, b, rtol=1e-13)
    # f(x) = 1/2 x^T A x - b^T x + c, by hand at x = (1, 0, 0): 1.5 - 1 + 0.7 = 1.2
    assert p.loss([1.0, 0.0, 0.0]) == pytest.approx(1.2, rel=1e-15)
    # f_min = c - 1/2 b^T x_min
    assert p.f_min == pytest.approx(0.7 - 0.5 * b @ np.linalg.solve(A, b), rel=1e-13)
    assert p.L == pytest.approx(np.linalg.eigvalsh(A).max(), rel=1e-13)


def test_quadratic1d_is_the_parabola():
    p = P.quadratic1d(a=4.0, x0=3.0)
    assert p.loss([3.0]) == 18.0  # a/2 x^2 = 2 * 9
    np.testing.assert_array_equal(p.grad([3.0]), [12.0])
    assert p.L == p.mu == 4.0 and p.dim == 1
    np.testing.assert_array_equal(p.x0, [3.0])


@pytest.mark.parametrize(
    "args, error, pieces",
    [
        (
            ([[1.0, 2.0], [0.0, 1.0]],),
            ValueError,
            ["quadratic", "symmetric", "[[1.0, 2.0], [0.0, 1.0]]"],
        ),
        (([[1.0, 0.0], [0.0, -1.0]],), ValueError, ["quadratic", "positive definite", "-1"]),
        (([[1.0, 0.0], [0.0, 0.0]],), ValueError, ["quadratic", "positive definite", "0"]),
        (
            ([[1.0, 0.0], [0.0, 1.0]], [1.0, 2.0, 3.0]),
            ValueError,
            ["quadratic", "b", "(2,)", "(3,)"],
        ),
        (([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],), ValueError, ["quadratic", "square", "(2, 3)"]),
        (([[1.0, np.nan], [np.nan, 1.0]],), ValueError, ["quadratic", "finite"]),
        (([[1.0, 0.0], [0.0, 1.0]], ["a", "b"]), TypeError, ["quadratic", "b"]),
    ],
)
def test_quadratic_refuses_bad_matrices(args, error, pieces):
    with pytest.raises(error) as info:
        P.quadratic(*args)
    for piece in pieces:
        assert piece in str(info.value), f"{piece!r} not in {info.value}"


@pytest.mark.parametrize(
    "factory, kwargs, error, pieces",
    [
        (P.quadratic2d, dict(kappa=0.5), ValueError, ["quadratic2d", "kappa", "0.5"]),
        (P.quadratic2d, dict(mu=0), ValueError, ["quadratic2d", "mu", "0"]),
        (P.quadratic1d, dict(a=-1), ValueError, ["quadratic1d", "a", "-1"]),
        (P.rosenbrock, dict(b=0), ValueError, ["rosenbrock", "b", "0"]),
        (P.least_squares, dict(batch_size=0), ValueError, ["least_squares", "batch_size", "0"]),
        (P.least_squares, dict(batch_size=201), ValueError, ["least_squares", "batch_size", "201"]),
        (P.least_squares, dict(kappa=0.5), ValueError, ["least_squares", "kappa", "0.5"]),
        (P.least_squares, dict(n_samples=1), ValueError, ["least_squares", "n_samples", "1"]),
        (P.logistic_regression, dict(l2=-1), ValueError, ["logistic_regression", "l2", "-1"]),
        (P.logistic_regression, dict(seed=1.5), TypeError, ["logistic_regression", "seed", "1.5"]),
        (
            P.sparse_logistic_regression,
            dict(min_freq=0.6, max_freq=0.5),
            ValueError,
            ["sparse_logistic_regression", "min_freq=0.6", "max_freq=0.5"],
        ),
    ],
)
def test_problem_factories_refuse_bad_arguments(factory, kwargs, error, pieces):
    with pytest.raises(error) as info:
        factory(**kwargs)
    for piece in pieces:
        assert piece in str(info.value), f"{piece!r} not in {info.value}"


# --------------------------------------------------------------------------------------
# Stochastic problems
# --------------------------------------------------------------------------------------
def test_least_squares_x_min_is_the_exact_solution():
    p = P.least_squares()
    w, *_ = np.linalg.lstsq(p.X, p.y, rcond=None)
    np.testing.assert_allclose(p.x_min, w, rtol=1e-10)
    # the normal equations hold: X^T (X w - y) = 0
    np.testing.assert_allclose(p.X.T @ (p.X @ p.x_min - p.y), 0.0, atol=1e-9)
    # L and mu are the extreme eigenvalues of the Hessian X^T X / n, here by finite differences
    eig = np.linalg.eigvalsh(_fd_hessian(p.grad, p.x0))
    assert eig.max() == pytest.approx(p.L, rel=1e-7)
    assert eig.min() == pytest.approx(p.mu, rel=1e-7)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_minibatches_are_seeded(name):
    p, q = REGISTRY[name](seed=3), REGISTRY[name](seed=3)
    x = p.x0 + 0.1
    # same seed, same k: the same batch, whatever was asked before
    for k in [0, 5, 1, 5, 40, 0]:
        np.testing.assert_array_equal(p.batch_grad(x, k), q.batch_grad(x, k))
    g5 = p.batch_grad(x, 5)
    p.batch_grad(x, 123)  # another epoch in between
    np.testing.assert_array_equal(p.batch_grad(x, 5), g5)
    # another k, another batch; another seed, other batches
    assert not np.array_equal(p.batch_grad(x, 0), p.batch_grad(x, 1))
    r = REGISTRY[name](seed=4)
    assert not np.array_equal(r.batch_indices(0), p.batch_indices(0))
    # the next epoch reshuffles
    bpe = p.batches_per_epoch
    assert not np.array_equal(p.batch_indices(0), p.batch_indices(bpe))


@pytest.mark.parametrize("name", STOCHASTIC)
def test_one_epoch_visits_every_sample_once_and_averages_to_the_full_gradient(name):
    p = PROBLEMS[name]
    assert p.n % p.batch_size == 0  # the defaults use batch sizes that divide n
    bpe = p.batches_per_epoch
    assert bpe == p.n // p.batch_size
    for epoch in [0, 3]:
        ks = range(epoch * bpe, (epoch + 1) * bpe)
        seen = np.concatenate([p.batch_indices(k) for k in ks])
        np.testing.assert_array_equal(np.sort(seen), np.arange(p.n))
        x = p.x0 + 0.3
        mean = np.mean([p.batch_grad(x, k) for k in ks], axis=0)
        np.testing.assert_allclose(mean, p.grad(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_full_batches_give_the_full_gradient(name):
    p = PROBLEMS[name]
    x = p.x0 - 0.2
    for full in (p.with_batch_size(None), p.with_batch_size(p.n), REGISTRY[name](batch_size=None)):
        assert full.batch_size == full.n
        for k in [0, 1, 7]:
            np.testing.assert_allclose(full.batch_grad(x, k), p.grad(x), rtol=1e-14)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_with_batch_size_keeps_the_data_and_the_original(name):
    p = PROBLEMS[name]
    original = p.batch_size
    q = p.with_batch_size(5)
    assert q is not p and q.batch_size == 5 and p.batch_size == original
    assert q.X is p.X and q.y is p.y and q.seed == p.seed and q.name == p.name
    x = p.x0 + 0.1
    assert q.loss(x) == p.loss(x)
    np.testing.assert_array_equal(q.grad(x), p.grad(x))
    # the batch is a gradient over 5 samples: computed here from the data by hand
    idx = q.batch_indices(0)
    assert idx.shape == (5,)
    fd = _fd_grad(lambda w: q.batch_loss(w, 0), x, 1e-5)
    np.testing.assert_allclose(q.batch_grad(x, 0), fd, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match=rf"{name}: batch_size must be <= n_samples"):
        p.with_batch_size(p.n + 1)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_a_last_partial_batch_is_kept(name):
    # n not divisible by the batch size: the last batch of an epoch is smaller
    p = PROBLEMS[name].with_batch_size(PROBLEMS[name].n // 3 + 1)
    bpe = p.batches_per_epoch
    sizes = [p.batch_indices(k).size for k in range(bpe)]
    assert sum(sizes) == p.n and sizes[-1] < sizes[0]


def test_least_squares_gradient_is_noisy_at_x_min():
    # the "noise floor": at the exact solution the full gradient is 0, the minibatch one is not
    p = P.least_squares(noise=0.5, batch_size=10)
    assert np.linalg.norm(p.batch_grad(p.x_min, 0)) > 1e-3
    assert np.linalg.norm(P.least_squares(noise=0.0).grad(P.least_squares(noise=0.0).x_min)) < 1e-10


def test_sparse_feature_frequencies_are_ordered():
    p = P.sparse_logistic_regression(n_samples=4000, n_features=12, min_freq=0.02, max_freq=0.5)
    freq = p.feature_frequency
    assert freq[0] == pytest.approx(0.5) and freq[-1] == pytest.approx(0.02)
    assert np.all(np.diff(freq) < 0)  # from common to rare
    # log-spaced: a constant ratio between neighbours
    np.testing.assert_allclose(freq[1:] / freq[:-1], (0.02 / 0.5) ** (1 / 11), rtol=1e-12)
    # the data follow them: each column's frequency within 5 standard errors
    observed = p.X.mean(axis=0)
    se = np.sqrt(freq * (1 - freq) / p.n)
    assert np.all(np.abs(observed - freq) < 5 * se)
    assert set(np.unique(p.X)) <= {0.0, 1.0}
    # common features appear in many more batches than rare ones
    assert observed[:3].mean() > 5 * observed[-3:].mean()
