"""Tests for learnlr.landscape and the problems chapter 13 adds.

* Hessian-vector products against exact Hessians (a quadratic, Himmelblau's function in
  closed form, the wells problem);
* power iteration against ``numpy.linalg.eigvalsh`` on random symmetric matrices, positive
  definite and indefinite, with and without a diagonal preconditioner;
* the escape time from a quadratic saddle against its closed form, for gradient descent
  (exact) and heavy-ball momentum (within a few steps), and the effect of noise;
* basin maps on Himmelblau's function: the four known minima, and the rate rule
  ``eta < 2 / lambda``;
* the edge of stability on a quadratic (sharpness constant) and the Adam preconditioner;
* argument validation: each bad argument raises with the function, argument and value.
"""

import numpy as np
import pytest

from learnlr import landscape as L
from learnlr import optimizers, problems
from learnlr.problems import Problem


def _quadratic_grad(A):
    return lambda x: A @ x


def _random_symmetric(n, seed, definite):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = rng.uniform(0.5, 5.0, n) if definite else rng.uniform(-5.0, 5.0, n)
    return (Q * lam) @ Q.T


def _himmelblau_hessian(p):
    x, y = p
    return np.array(
        [
            [12 * x**2 + 4 * y - 42, 4 * x + 4 * y],
            [4 * x + 4 * y, 4 * x + 12 * y**2 - 26],
        ]
    )


# --------------------------------------------------------------------------------------
# Hessian-vector products
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_hvp_is_exact_on_a_quadratic(seed):
    A = _random_symmetric(6, seed, definite=False)
    rng = np.random.default_rng(seed + 10)
    x, v = rng.standard_normal(6), rng.standard_normal(6)
    np.testing.assert_allclose(L.hvp(_quadratic_grad(A), x, v), A @ v, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_hvp_and_hessian_match_himmelblau_in_closed_form(seed):
    him = problems.himmelblau()
    rng = np.random.default_rng(seed)
    for p in rng.uniform(-4, 4, (5, 2)):
        H = _himmelblau_hessian(p)
        v = rng.standard_normal(2)
        np.testing.assert_allclose(L.hvp(him, p, v), H @ v, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(L.hessian(him.grad, p), H, rtol=1e-6, atol=1e-6)


def test_hvp_of_zero_direction_is_zero_and_scales_linearly():
    him = problems.himmelblau()
    p, v = np.array([1.0, -2.0]), np.array([0.3, 0.7])
    assert np.array_equal(L.hvp(him.grad, p, np.zeros(2)), np.zeros(2))
    np.testing.assert_allclose(L.hvp(him.grad, p, 10 * v), 10 * L.hvp(him.grad, p, v), rtol=1e-9)


def test_hvp_does_not_modify_its_inputs():
    him = problems.himmelblau()
    x, v = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    x.flags.writeable = False
    v.flags.writeable = False
    L.hvp(him.grad, x, v)  # would raise if it wrote into x or v


# --------------------------------------------------------------------------------------
# Power iteration
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("definite", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_top_eigenvalue_matches_eigvalsh(definite, seed):
    A = _random_symmetric(8, seed, definite)
    top = L.top_eigenvalue(_quadratic_grad(A), np.zeros(8), max_iters=20_000, tol=1e-7, seed=seed)
    assert top.converged
    assert top.value == pytest.approx(np.linalg.eigvalsh(A).max(), rel=1e-8)
    np.testing.assert_allclose(A @ top.vector, top.value * top.vector, atol=1e-5)


def test_top_eigenvalue_finds_the_largest_not_the_largest_magnitude():
    A = np.diag([1.0, -10.0, 0.5])  # dominant in magnitude is -10; the largest is 1
    top = L.top_eigenvalue(_quadratic_grad(A), np.zeros(3), max_iters=5000, tol=1e-10)
    assert top.value == pytest.approx(1.0, rel=1e-6)


def test_top_eigenvalue_with_a_tie_of_opposite_signs():
    A = np.diag([2.0, -2.0, 1.0])  # plain power iteration never converges here
    top = L.top_eigenvalue(_quadratic_grad(A), np.zeros(3), max_iters=5000, tol=1e-10)
    assert top.value == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_preconditioned_top_eigenvalue_matches_eigvals_of_p_inverse_h(seed):
    A = _random_symmetric(6, seed, definite=True)
    p = np.random.default_rng(seed).uniform(0.1, 3.0, 6)
    top = L.top_eigenvalue(_quadratic_grad(A), np.zeros(6), precond=p, max_iters=5000, tol=1e-10)
    expected = np.linalg.eigvals(A / p[:, None]).real.max()  # P^-1 H
    assert top.value == pytest.approx(expected, rel=1e-6)


def test_curvatures_of_the_known_minima():
    him = problems.himmelblau()
    for m in him.minima:
        top = L.top_eigenvalue(him.grad, m, tol=1e-9, max_iters=1000)
        assert top.value == pytest.approx(np.linalg.eigvalsh(_himmelblau_hessian(m)).max(), 1e-6)


def test_adam_preconditioner_is_sqrt_v_hat_plus_eps():
    opt = optimizers.adam(lr=0.1, betas=(0.9, 0.99), eps=1e-3)
    x, state = np.zeros(3), opt.init(np.zeros(3))
    for g in ([1.0, -2.0, 0.5], [3.0, 0.0, -1.0]):
        x, state, info = opt.step(x, np.array(g), state)
    P = L.adam_preconditioner(opt, state)
    np.testing.assert_allclose(P, np.sqrt(state.v / (1 - 0.99**2)) + 1e-3)
    np.testing.assert_allclose(info.eff_lr, 0.1 / P)  # Adam's step is lr * P^-1 * m_hat


def test_sharpness_run_on_a_quadratic_is_its_curvature():
    bowl = problems.quadratic2d(kappa=25.0, mu=0.2)
    tr = L.sharpness_run(bowl, optimizers.gd(lr=0.05), steps=30, every=10, tol=1e-8, max_iters=500)
    assert tr.k.tolist() == [0, 10, 20, 30]
    np.testing.assert_allclose(tr.sharpness, 5.0, rtol=1e-6)
    assert tr.loss.shape == (31,) and np.all(np.diff(tr.loss) < 0)


def test_sharpness_run_reports_divergence():
    bowl = problems.quadratic2d(kappa=10.0)
    tr = L.sharpness_run(bowl, optimizers.gd(lr=0.5), steps=5000, every=100)
    assert tr.status.startswith("diverged")


def test_preconditioned_sharpness_of_adam_on_a_diagonal_quadratic():
    # with a diagonal Hessian and a preconditioner P, P^-1 H is diagonal: lambda_i / P_i
    bowl = problems.quadratic(np.diag([1.0, 100.0]), x0=[1.0, 1.0])
    opt = optimizers.adam(lr=0.01)
    tr = L.sharpness_run(bowl, opt, steps=3, every=1, preconditioned=True, tol=1e-10, max_iters=500)
    assert tr.k.tolist() == [1, 2, 3]  # no preconditioner before the first update
    x, state = bowl.x0, opt.init(bowl.x0)
    for _ in range(3):
        x, state, _ = opt.step(x, bowl.grad(x), state)
    P = L.adam_preconditioner(opt, state)
    assert tr.sharpness[-1] == pytest.approx(max(1.0 / P[0], 100.0 / P[1]), rel=1e-6)


# --------------------------------------------------------------------------------------
# Escaping a saddle
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lr", [0.03, 0.1, 0.45])
@pytest.mark.parametrize("b", [0.5, 2.0])
def test_escape_steps_on_a_quadratic_saddle_equal_the_closed_form(lr, b):
    flat = problems.quadratic_saddle(a=1.0, b=b)
    deltas = np.array([3e-2, 1.7e-4, 2.3e-7, 4.1e-10])
    starts = np.column_stack([np.ones_like(deltas), deltas])
    measured = L.escape_steps(flat, optimizers.gd(lr=lr), starts, radius=0.7, max_steps=10_000)
    predicted = L.predicted_escape_steps(deltas, lr, b, 0.7)
    assert np.array_equal(measured, np.ceil(predicted).astype(int))


def test_escape_with_momentum_follows_the_larger_root():
    flat = problems.quadratic_saddle()
    deltas = 10.0 ** -np.arange(2, 10)
    starts = np.column_stack([np.ones_like(deltas), deltas])
    measured = L.escape_steps(flat, optimizers.sgd(lr=0.1, momentum=0.9), starts, radius=1.0)
    predicted = L.predicted_escape_steps(deltas, 0.1, 1.0, 1.0, momentum=0.9)
    assert np.all(np.abs(measured - predicted) <= 3)
    # the slope against log(1/delta) is 1 / log z
    slope = np.polyfit(np.log(1 / deltas), measured, 1)[0]
    assert slope * np.log(L.escape_rate(0.1, 1.0, 0.9)) == pytest.approx(1.0, abs=0.02)


def test_escape_rate_closed_forms():
    assert L.escape_rate(0.2, 3.0) == pytest.approx(1.6)
    z = L.escape_rate(0.1, 1.0, momentum=0.5)
    assert z**2 - (1 + 0.1 + 0.5) * z + 0.5 == pytest.approx(0.0, abs=1e-12)
    assert z > 1.1


def test_gradient_descent_on_the_stable_manifold_never_escapes_but_noise_does():
    saddle = problems.saddle()
    start = np.array([[1.0, 0.0]])
    assert L.escape_steps(saddle, optimizers.gd(lr=0.1), start, 0.5, max_steps=500)[0] == -1
    starts = np.repeat(start, 10, axis=0)
    noisy = L.escape_steps(problems.noisy(saddle, 1e-3, seed=1), optimizers.gd(lr=0.1), starts, 0.5)
    assert np.all(noisy > 0) and len(set(noisy.tolist())) > 1  # each row has its own noise


def test_escape_direction_is_found_from_the_hessian():
    # the unstable direction of a rotated saddle is found without being given
    c, s = np.cos(0.4), np.sin(0.4)
    R = np.array([[c, -s], [s, c]])
    A = R @ np.diag([1.0, -1.0]) @ R.T
    rotated = Problem(
        "rotated saddle",
        lambda p: 0.5 * np.einsum("...i,ij,...j", p, A, p),
        lambda p: p @ A,
        [1.0, 0.0],
    )
    start = R @ np.array([1.0, 1e-4])
    k = L.escape_steps(rotated, optimizers.gd(lr=0.1), start, radius=0.5)
    assert k == int(np.ceil(L.predicted_escape_steps(1e-4, 0.1, 1.0, 0.5)))


def test_noisy_problem_is_reproducible_and_exact_in_loss_and_grad():
    base = problems.himmelblau()
    a, b = problems.noisy(base, 0.1, seed=3), problems.noisy(base, 0.1, seed=3)
    x = np.array([1.0, 1.0])
    assert np.array_equal(a.batch_grad(x, 7), b.batch_grad(x, 7))
    assert not np.array_equal(a.batch_grad(x, 7), a.batch_grad(x, 8))
    assert np.array_equal(a.grad(x), base.grad(x)) and a.loss(x) == base.loss(x)
    assert np.array_equal(problems.noisy(base, 0.0).batch_grad(x, 0), base.grad(x))


# --------------------------------------------------------------------------------------
# Basin maps
# --------------------------------------------------------------------------------------
def test_himmelblau_minima_are_the_four_known_ones():
    him = problems.himmelblau()
    known = [[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]]
    np.testing.assert_allclose(him.minima, known, atol=1e-6)
    assert np.abs(him.grad(him.minima)).max() < 1e-10
    assert np.all(him.loss(him.minima) < 1e-20)
    for m in him.minima:
        assert np.linalg.eigvalsh(_himmelblau_hessian(m)).min() > 0


def test_basin_map_on_himmelblau_reaches_the_four_minima():
    him = problems.himmelblau()
    grid = np.linspace(-5.0, 5.0, 21)
    bm = L.basin_map(him, optimizers.gd(lr=0.005), grid, grid, steps=1500)
    assert set(bm.labels.ravel().tolist()) == {0, 1, 2, 3}
    assert bm.labels.shape == (21, 21) and bm.fractions().sum() == pytest.approx(1.0)
    # every run ended at the minimum it is labelled with
    ends = bm.x_final.reshape(-1, 2)
    np.testing.assert_allclose(ends, him.minima[bm.labels.ravel()], atol=1e-6)
    # a start next to a minimum stays in its basin
    for i, m in enumerate(him.minima):
        one = L.basin_map(him, optimizers.gd(lr=0.005), [m[0] + 0.1], [m[1] - 0.1], steps=500)
        assert one.labels[0, 0] == i


def test_basin_map_agrees_with_separate_runs():
    from learnlr import run

    him = problems.himmelblau()
    xs, ys = np.array([-4.0, 0.5, 4.0]), np.array([-1.0, 4.5])
    opt = optimizers.adam(lr=0.05)
    bm = L.basin_map(him, opt, xs, ys, steps=400)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            tr = run(him, opt, 400, x0=[x, y])
            np.testing.assert_allclose(bm.x_final[j, i], tr.x_final, rtol=1e-12, atol=1e-12)


def test_the_rate_closes_the_minima_sharper_than_two_over_lr():
    him = problems.himmelblau()
    lam = np.array([np.linalg.eigvalsh(_himmelblau_hessian(m)).max() for m in him.minima])
    grid = np.linspace(-5.0, 5.0, 31)
    for lr in (0.017, 0.021):
        bm = L.basin_map(him, optimizers.gd(lr=lr), grid, grid, steps=1000)
        reached = set(bm.labels.ravel().tolist()) - {-1}
        assert reached == set(np.flatnonzero(lam < 2 / lr).tolist())


def test_wells_minima_and_their_curvatures():
    w = problems.wells()
    assert np.abs(w.grad(w.minima)).max() < 1e-10
    lam = [np.linalg.eigvalsh(L.hessian(w.grad, m)).max() for m in w.minima]
    assert lam[0] == pytest.approx(16.0, rel=0.05) and lam[1] == pytest.approx(1.05, rel=0.05)
    assert w.minima[0][0] < 0 < w.minima[1][0]
    assert w.f_min == pytest.approx(min(w.loss(m) for m in w.minima))


def test_run_stack_equals_separate_runs():
    from learnlr import run

    net = problems.curve_net(width=5, depth=1)
    x0 = np.stack([problems.curve_net(width=5, depth=1, seed=s).x0 for s in range(3)])
    res = L.run_stack(net, optimizers.sgd(lr=0.1, momentum=0.9), x0, steps=25, every=10)
    assert res.k.tolist() == [0, 10, 20, 25]
    for i in range(3):
        tr = run(net, optimizers.sgd(lr=0.1, momentum=0.9), 25, x0=x0[i])
        np.testing.assert_allclose(res.loss[:, i], tr.loss[[0, 10, 20, 25]], rtol=1e-10)


def test_curve_net_gradient_matches_finite_differences_and_stacks():
    net = problems.curve_net(width=6, depth=2, seed=2)
    w = net.x0 + 0.1
    g = net.grad(w)
    h = 1e-6
    fd = np.array([(net.loss(w + h * e) - net.loss(w - h * e)) / (2 * h) for e in np.eye(net.dim)])
    np.testing.assert_allclose(g, fd, atol=1e-8)
    stack = np.stack([w, net.x0])
    np.testing.assert_allclose(net.grad(stack)[1], net.grad(net.x0), rtol=1e-12)
    assert net.loss(stack).shape == (2,)
    assert not np.array_equal(net.x0, problems.curve_net(width=6, depth=2, seed=3).x0)


# --------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------
HIM = problems.himmelblau()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: L.hvp("grad", [0.0], [1.0]), TypeError, "hvp: grad must be a function"),
        (lambda: L.hvp(HIM, [0.0, 0.0], [1.0]), ValueError, "hvp: v must have shape (2,)"),
        (lambda: L.hvp(HIM, [0.0, 0.0], [1.0, 0.0], h=0.0), ValueError, "hvp: h must be > 0"),
        (lambda: L.hessian(HIM, [np.nan, 0.0]), ValueError, "hessian: x must contain only finite"),
        (
            lambda: L.top_eigenvalue(HIM, [0.0, 0.0], precond=[1.0, -1.0]),
            ValueError,
            "top_eigenvalue: precond must be positive",
        ),
        (
            lambda: L.top_eigenvalue(HIM, [0.0, 0.0], max_iters=0),
            ValueError,
            "top_eigenvalue: max_iters must be an integer >= 1, got 0",
        ),
        (
            lambda: L.top_eigenvalue(HIM, [0.0, 0.0], v0=[0.0, 0.0]),
            ValueError,
            "top_eigenvalue: v0 must not be the zero vector",
        ),
        (
            lambda: L.adam_preconditioner(optimizers.sgd(), None),
            ValueError,
            "adam_preconditioner: opt must be an adam or adamw optimizer",
        ),
        (
            lambda: L.adam_preconditioner(optimizers.adam(), optimizers.adam().init(np.zeros(2))),
            ValueError,
            "adam_preconditioner: state must come after at least one update, got count=0",
        ),
        (
            lambda: L.sharpness_run(HIM, optimizers.gd(), 10, preconditioned=True),
            ValueError,
            "sharpness_run: preconditioned=True needs adam or adamw, got gd",
        ),
        (lambda: L.sharpness_run(HIM, optimizers.gd(), 0), ValueError, "sharpness_run: steps"),
        (
            lambda: L.escape_rate(0.1, -1.0),
            ValueError,
            "escape_rate: curvature must be > 0, got -1.0",
        ),
        (
            lambda: L.escape_rate(0.1, 1.0, momentum=1.0),
            ValueError,
            "escape_rate: momentum must be in [0, 1), got 1.0",
        ),
        (
            lambda: L.predicted_escape_steps(0.0, 0.1, 1.0, 1.0),
            ValueError,
            "predicted_escape_steps: distance must be positive and finite, got 0.0",
        ),
        (
            lambda: L.escape_steps(HIM, optimizers.gd(), [1.0, 2.0, 3.0], 0.5),
            ValueError,
            "escape_steps: x0 must be finite, of shape (2,) or (n, 2), got shape (3,)",
        ),
        (
            lambda: L.escape_steps(HIM, optimizers.gd(), [1.0, 2.0], 0.5, saddle=[3.0, 2.0]),
            ValueError,
            "escape_steps: the Hessian at saddle=[3.0, 2.0] has no negative eigenvalue",
        ),
        (
            lambda: L.escape_steps(HIM, "gd", [1.0, 2.0], 0.5),
            TypeError,
            "escape_steps: opt must be a learnlr optimizer, got 'gd'",
        ),
        (
            lambda: L.basin_map(problems.quadratic(np.eye(3)), optimizers.gd(), [0.0], [0.0], 5),
            ValueError,
            "basin_map: needs a 2-D problem",
        ),
        (
            lambda: L.basin_map(problems.rosenbrock(), optimizers.gd(), [0.0], [0.0], 5),
            ValueError,
            "basin_map: rosenbrock lists no minima; pass minima=",
        ),
        (
            lambda: L.basin_map(HIM, optimizers.gd(), [0.0], [0.0], 5, minima=[1.0, 2.0]),
            ValueError,
            "basin_map: minima must have shape (m, 2), got (2,)",
        ),
        (
            lambda: L.run_stack(HIM, optimizers.gd(), [1.0, 2.0], 5),
            ValueError,
            "run_stack: x0 must be a finite stack of shape (n, 2), got shape (2,)",
        ),
        (lambda: problems.noisy(HIM, -1.0), ValueError, "noisy: sigma must be >= 0, got -1.0"),
        (lambda: problems.wells(widths=(1.0,)), TypeError, "wells: widths must be a pair"),
        (lambda: problems.wells(bowl=0.0), ValueError, "wells: bowl must be > 0, got 0.0"),
        (
            lambda: problems.quadratic_saddle(b=0.0),
            ValueError,
            "quadratic_saddle: b must be > 0, got 0.0",
        ),
        (
            lambda: problems.curve_net(width=0),
            ValueError,
            "curve_net: width must be an integer >= 1",
        ),
    ],
)
def test_bad_arguments_are_refused_at_the_door(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_sharpness_run_refuses_a_start_whose_loss_overflows():
    # f(1e160, 0) = inf: the start is the trouble, not a divergence at step 0
    with pytest.raises(ValueError, match=r"^sharpness_run: the loss at x0 must be finite, got inf"):
        L.sharpness_run(problems.quadratic2d(), optimizers.gd(lr=0.1), 5, x0=[1e160, 0])
