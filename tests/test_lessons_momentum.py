"""Tests of learnlr.course.ch02_momentum: gradient noise, tuned momentum, measured rates."""

import exercise_references as refs
import numpy as np
import pytest

from learnlr import optimizers, problems, run
from learnlr.course import ch02_momentum as lm
from learnlr.course import checks


# ---- minibatch_covariance ------------------------------------------------------------
def test_minibatch_covariance_matches_the_batches_the_problem_draws():
    # Monte Carlo over the problem's own (reshuffled, without replacement) batches.
    p = problems.least_squares(n_samples=60, n_features=3, batch_size=6, seed=1)
    x = p.x_min + np.array([0.3, -0.2, 0.1])  # away from the minimum: the mean is not 0
    G = np.array([p.batch_grad(x, k) for k in range(60 * 400 // 6)])
    S = lm.minibatch_covariance(p, x)
    np.testing.assert_allclose(G.mean(axis=0), p.grad(x), atol=1e-12)  # epochs are exact
    np.testing.assert_allclose(np.cov(G.T, bias=True), S, rtol=0.1, atol=0.05 * np.trace(S))
    assert np.trace(np.cov(G.T, bias=True)) == pytest.approx(np.trace(S), rel=0.05)


def test_minibatch_covariance_full_batch_is_zero_and_single_sample_is_population():
    p = problems.least_squares(n_samples=50, n_features=4, batch_size=5, seed=2)
    np.testing.assert_allclose(lm.minibatch_covariance(p, batch_size=50), 0.0, atol=1e-15)
    r = p.X @ p.x_min - p.y
    G = p.X * r[:, None]  # per-sample gradients of 0.5 (x_i.w - y_i)^2
    np.testing.assert_allclose(lm.minibatch_covariance(p, batch_size=1), G.T @ G / 50, rtol=1e-9)
    S5 = lm.minibatch_covariance(p)  # the problem's own batch size, 5
    np.testing.assert_allclose(S5, G.T @ G / 50 / 5 * 45 / 49, rtol=1e-9)


def test_minibatch_covariance_rejects_bad_arguments():
    p = problems.least_squares(n_samples=20, batch_size=5)
    with pytest.raises(TypeError, match="minibatch_covariance: problem"):
        lm.minibatch_covariance(problems.quadratic2d())
    with pytest.raises(ValueError, match="batch_size must be <= n_samples=20, got 21"):
        lm.minibatch_covariance(p, batch_size=21)
    with pytest.raises(ValueError, match="x must have shape"):
        lm.minibatch_covariance(p, x=np.zeros(3))
    with pytest.raises(ValueError, match="has no known x_min"):
        lm.minibatch_covariance(problems.logistic_regression(n_samples=20, batch_size=5))


# ---- quadratics and tunings ----------------------------------------------------------
def test_spread_quadratic_has_the_curvatures_asked_for():
    p = lm.spread_quadratic(kappa=50, dim=6, mu=0.5, seed=3)
    A = p.grad(np.eye(6))  # rows are A e_j (b = 0)
    np.testing.assert_allclose(A, A.T, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), np.linspace(0.5, 25.0, 6), rtol=1e-12)
    assert (p.mu, p.L, p.f_min) == (0.5, 25.0, 0.0)
    np.testing.assert_array_equal(p.x_min, np.zeros(6))
    with pytest.raises(ValueError, match="spread_quadratic: kappa must be >= 1, got 0.5"):
        lm.spread_quadratic(kappa=0.5)


def _radius(opt_kwargs, lam):
    """Spectral radius of one update of sgd(**opt_kwargs) on curvature lam (state (x, x_prev))."""
    lr, beta = opt_kwargs["lr"], opt_kwargs.get("momentum", 0.0)
    if opt_kwargs.get("nesterov"):
        # x+ = y - lr f'(y), y = x + beta (x - x_prev), f'(y) = lam y
        a = (1 + beta) * (1 - lr * lam)
        M = np.array([[a, -beta * (1 - lr * lam)], [1.0, 0.0]])
    else:
        M = np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])
    return max(abs(np.linalg.eigvals(M)))


@pytest.mark.parametrize("kappa", [4.0, 10.0, 100.0, 1000.0])
def test_tunings_give_the_classical_rates(kappa):
    lams = np.linspace(1.0, kappa, 101)
    sk = np.sqrt(kappa)
    cases = [
        (lm.gd_tuning(1.0, kappa), (kappa - 1) / (kappa + 1)),
        (lm.heavy_ball_tuning(1.0, kappa), (sk - 1) / (sk + 1)),
        (lm.nesterov_tuning(1.0, kappa), 1 - 1 / sk),
    ]
    for kwargs, rate in cases:
        worst = max(_radius(kwargs, lam) for lam in lams)
        # double roots at the ends: eigvals is accurate to about sqrt(machine epsilon)
        assert worst == pytest.approx(rate, abs=1e-7)


def test_heavy_ball_tuning_is_the_best_fixed_setting():
    kappa = 100.0
    lams = np.linspace(1.0, kappa, 201)
    best = lm.heavy_ball_tuning(1.0, kappa)
    best_rate = max(_radius(best, lam) for lam in lams)
    for dlr, dbeta in [(1.05, 1.0), (0.95, 1.0), (1.0, 1.02), (1.0, 0.98)]:
        other = {"lr": best["lr"] * dlr, "momentum": best["momentum"] * dbeta}
        assert max(_radius(other, lam) for lam in lams) > best_rate + 1e-4


def test_tunings_match_their_formulas_and_check_arguments():
    assert lm.heavy_ball_tuning(0.5, 200.0)["momentum"] == pytest.approx((19 / 21) ** 2)
    assert lm.heavy_ball_tuning(0.5, 200.0)["lr"] == pytest.approx(
        4 / (np.sqrt(200) + np.sqrt(0.5)) ** 2
    )
    assert lm.gd_tuning(1.0, 1.0) == {"lr": 1.0}
    assert lm.nesterov_tuning(2.0, 2.0)["momentum"] == 0.0
    with pytest.raises(ValueError, match="heavy_ball_tuning: L must be >= mu"):
        lm.heavy_ball_tuning(2.0, 1.0)
    with pytest.raises(ValueError, match="gd_tuning: mu must be > 0, got 0.0"):
        lm.gd_tuning(0.0, 1.0)


# ---- contraction_rate ----------------------------------------------------------------
def test_contraction_rate_is_exact_for_gd_on_a_quadratic():
    p = lm.spread_quadratic(kappa=30, dim=8)
    tr = run(p, optimizers.sgd(**lm.gd_tuning(p.mu, p.L)), 400)
    assert lm.contraction_rate(tr) == pytest.approx(29 / 31, rel=1e-9)


def test_contraction_rate_uses_only_the_tail():
    # e_k = 0.5^k for 10 steps, then 0.9 per step: the last 10 of 20 steps give 0.9.
    p = problems.quadratic1d(a=1.0)
    rates = np.r_[np.full(10, 0.5), np.full(10, 0.1)]  # x <- (1 - lr) x
    tr = run(p, optimizers.gd(lr=lambda k: rates[k]), 20)
    assert lm.contraction_rate(tr, tail=0.5) == pytest.approx(0.9, rel=1e-12)
    assert lm.contraction_rate(tr, tail=1.0) == pytest.approx(np.sqrt(0.45), rel=1e-12)


def test_contraction_rate_rejects_bad_arguments():
    p = problems.quadratic1d()
    with pytest.raises(ValueError, match=r"contraction_rate: tail must be in \(0, 1\]"):
        lm.contraction_rate(run(p, optimizers.gd(lr=0.1), 10), tail=0.0)
    with pytest.raises(ValueError, match="needs record_every=1"):
        lm.contraction_rate(run(p, optimizers.gd(lr=0.1), 10, record_every=2))
    with pytest.raises(ValueError, match="the tail holds no update"):
        lm.contraction_rate(run(p, optimizers.gd(lr=0.1), 1), tail=0.5)
    with pytest.raises(TypeError, match="contraction_rate: trace"):
        lm.contraction_rate([1.0, 0.5])


# ---- the momentum-step exercise ------------------------------------------------------
def test_reference_matches_torch_with_dampening():
    # torch.optim.SGD(lr=0.1, momentum=0.9, dampening=0.5), float64, from x = [1, -2]:
    # gradients [1, 2] then [-0.5, 3] give x = [0.9, -2.2], b = [1, 2] (the first step is
    # not damped), then x = [0.835, -2.53], b = [0.65, 3.3].
    x, b = np.array([1.0, -2.0]), np.zeros(2)
    x, b = refs.momentum_step_reference(x, np.array([1.0, 2.0]), b, 0.1, 0.9, 0.5, True)
    np.testing.assert_allclose((x, b), ([0.9, -2.2], [1.0, 2.0]), rtol=1e-14)
    x, b = refs.momentum_step_reference(x, np.array([-0.5, 3.0]), b, 0.1, 0.9, 0.5, False)
    np.testing.assert_allclose((x, b), ([0.835, -2.53], [0.65, 3.3]), rtol=1e-14)


def test_reference_passes_its_own_check_and_every_mistake_is_caught_with_its_hint():
    ok = checks.check_function(
        "t", refs.momentum_step_reference, refs.momentum_step_reference, lm.MOMENTUM_STEP_CASES,
        outputs=("x_new", "b_new"), mistakes=lm.MOMENTUM_STEP_MISTAKES,
    )  # fmt: skip
    assert ok.passed
    for hint, wrong in lm.MOMENTUM_STEP_MISTAKES.items():
        res = checks.check_function(
            "t", wrong, refs.momentum_step_reference, lm.MOMENTUM_STEP_CASES,
            outputs=("x_new", "b_new"), mistakes=lm.MOMENTUM_STEP_MISTAKES,
        )  # fmt: skip
        assert not res.passed, hint
        assert hint in res.message


def test_first_step_rule_is_only_visible_with_dampening():
    # b starts at 0, so with dampening = 0 "b = g" and "b = momentum * b + g" agree.
    damped = lm.MOMENTUM_STEP_MISTAKES[
        "PyTorch's first step sets b = g, without the (1 - dampening) factor"
    ]
    for case in lm.MOMENTUM_STEP_CASES:
        same = all(
            np.allclose(a, r)
            for a, r in zip(damped(**case), refs.momentum_step_reference(**case), strict=True)
        )
        assert same == (not case["first"] or case["dampening"] == 0)
