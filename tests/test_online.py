"""Tests for learnlr.problems.online: online problems, projection, regret, Reddi et al.'s example.

Expected numbers are worked out by hand in the comments (never copied from the code), and
the counterexample's outcome is checked against the paper's claim: Adam with beta1 = 0,
beta2 = 1/(1 + C^2) and alpha_t = alpha / sqrt(t) ends at the worst point x = +1 with
average regret 2(C - 2)/3, while AMSGrad approaches the best point x = -1.
"""

import numpy as np
import pytest

from learnlr import optimizers
from learnlr.problems import online


# ---- the problem -------------------------------------------------------------------------
def test_reddi_gradients_follow_t_mod_3():
    p = online.reddi_problem(C=4.0)
    # t = k + 1; f_t = C x when t mod 3 == 1, i.e. k = 0, 3, 6, ...
    got = [float(p.grad(np.zeros(1), k)[0]) for k in range(7)]
    assert got == [4.0, -1.0, -1.0, 4.0, -1.0, -1.0, 4.0]
    assert p.loss(np.array([0.5]), 0) == 2.0  # 4 * 0.5
    assert p.loss(np.array([0.5]), 1) == -0.5
    assert p.bounds == (-1.0, 1.0)
    np.testing.assert_array_equal(p.x_star, [-1.0])


def test_reddi_gradient_cannot_be_modified_by_a_caller():
    p = online.reddi_problem()
    g = p.grad(np.zeros(1), 0)
    with pytest.raises(ValueError):
        g[0] = 7.0


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(C=2.0), ValueError, "reddi_problem: C must be > 2"),
        (dict(C="3"), TypeError, "reddi_problem: C must be a real number"),
        (dict(C=3.0, x0=1.5), ValueError, "reddi_problem: x0 must be one number in [-1, 1]"),
        (dict(C=3.0, x0=[0.0, 0.0]), ValueError, "x0 must be one number"),
    ],
)
def test_reddi_problem_rejects_bad_arguments(kwargs, error, text):
    with pytest.raises(error, match=text.replace("[", r"\[").replace("]", r"\]")):
        online.reddi_problem(**kwargs)


# ---- projection --------------------------------------------------------------------------
def test_project_clips_each_coordinate():
    out = online.project(np.array([-3.0, 0.2, 1.5]), (-1.0, 1.0))
    np.testing.assert_array_equal(out, [-1.0, 0.2, 1.0])
    np.testing.assert_array_equal(online.project(np.array([5.0]), None), [5.0])


def test_weighted_projection_on_an_interval_is_the_clipped_point():
    # argmin_{x in [-1, 1]} w (x - y)^2 for any weight w > 0, by brute force on a grid
    grid = np.linspace(-1, 1, 20001)
    for y in [-2.5, -0.3, 0.7, 1.8]:
        for w in [0.01, 1.0, 50.0]:
            best = grid[np.argmin(w * (grid - y) ** 2)]
            assert abs(best - online.project(np.array([y]), (-1, 1))[0]) < 1e-4


@pytest.mark.parametrize(
    "bounds, error", [((1.0, -1.0), ValueError), ((0.0,), TypeError), ("ab", TypeError)]
)
def test_project_rejects_bad_bounds(bounds, error):
    with pytest.raises(error, match="project: bounds"):
        online.project(np.zeros(1), bounds)


# ---- the runner --------------------------------------------------------------------------
def test_run_online_regret_by_hand():
    # SGD, lr = 0.1, from x = 0 on C = 3:
    # k=0: pay 3*0 = 0, comparator pays 3*(-1) = -3 -> R_1 = 3;    x <- 0 - 0.3 = -0.3
    # k=1: pay -(-0.3) = 0.3, comparator pays 1  -> R_2 = 3 - 0.7 = 2.3; x <- -0.2
    # k=2: pay 0.2, comparator pays 1            -> R_3 = 2.3 - 0.8 = 1.5; x <- -0.1
    tr = online.run_online(online.reddi_problem(3.0), optimizers.sgd(lr=0.1), steps=3)
    np.testing.assert_allclose(tr.x[:, 0], [0.0, -0.3, -0.2, -0.1])
    np.testing.assert_allclose(tr.regret, [3.0, 2.3, 1.5])
    np.testing.assert_allclose(tr.avg_regret, [3.0, 1.15, 0.5])
    np.testing.assert_allclose(tr.loss, [0.0, 0.3, 0.2])
    assert "final x [-0.1]" in repr(tr)


def test_run_online_projects_every_step_and_flags_it():
    # lr = 1: the first step goes from 0 to -3 and is clipped to -1
    tr = online.run_online(online.reddi_problem(3.0), optimizers.sgd(lr=1.0), steps=4)
    assert np.all(np.abs(tr.x) <= 1.0)
    assert tr.projected[0, 0] and tr.x[1, 0] == -1.0
    np.testing.assert_allclose(tr.update[:, 0], np.diff(tr.x[:, 0]))


def test_run_online_without_bounds_is_the_plain_optimizer_loop():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((50, 3))
    opt = optimizers.adam(lr=0.05)
    tr = online.run_online(online.linear_problem(grads), opt, steps=50)
    x, state = np.zeros(3), opt.init(np.zeros(3))
    for g in grads:
        x, state, _ = opt.step(x, g, state)
    np.testing.assert_array_equal(tr.x_final, x)
    assert tr.regret is None and tr.avg_regret is None
    assert not tr.projected.any()


def test_run_online_leaves_the_problem_unchanged():
    p = online.reddi_problem(3.0, x0=0.25)
    online.run_online(p, optimizers.adam(lr=0.5), steps=10)
    np.testing.assert_array_equal(p.x0, [0.25])


@pytest.mark.parametrize(
    "args, error, text",
    [
        (("P", "adam", 3), TypeError, "run_online: problem must be an OnlineProblem"),
        ((None, "adam", 3), TypeError, "run_online: opt must be a learnlr optimizer"),
        ((None, None, -1), ValueError, "run_online: steps must be an integer >= 0"),
        ((None, None, 2.5), TypeError, "run_online: steps must be an integer"),
    ],
)
def test_run_online_rejects_bad_arguments(args, error, text):
    prob, opt, steps = args
    prob = online.reddi_problem() if prob is None else prob
    opt = optimizers.sgd(lr=0.1) if opt is None else opt
    with pytest.raises(error, match=text):
        online.run_online(prob, opt, steps)


def test_run_online_takes_the_problem_first_as_run_does():
    # the old order, an optimizer where the problem goes, is named in the error
    text = (
        r"^run_online: problem must be an OnlineProblem, got the optimizer sgd\(lr=0.1, "
        r".*\); the order is run_online\(problem, opt, steps\), as in run$"
    )
    with pytest.raises(TypeError, match=text):
        online.run_online(optimizers.sgd(lr=0.1), online.reddi_problem(), 3)


def test_run_online_rejects_a_start_outside_the_box_and_steps_past_the_horizon():
    with pytest.raises(ValueError, match="x0 must lie in the feasible box"):
        online.run_online(online.reddi_problem(), optimizers.sgd(lr=0.1), 3, x0=[2.0])
    with pytest.raises(ValueError, match="steps must be <= the problem's horizon"):
        online.run_online(online.linear_problem([1.0, 2.0]), optimizers.sgd(lr=0.1), 3)


def test_linear_problem_validates_its_arguments():
    with pytest.raises(ValueError, match="linear_problem: x0 must have shape"):
        online.linear_problem(np.ones((4, 2)), x0=[0.0])
    with pytest.raises(ValueError, match="linear_problem: bounds must satisfy lo < hi"):
        online.linear_problem([1.0], bounds=(1, 1))
    p = online.linear_problem([[1.0, -2.0]], x_star=[0.0, 0.0])
    assert p.dim == 2 and p.horizon == 1 and p.loss(np.array([1.0, 1.0]), 0) == -1.0


def test_inverse_sqrt_schedule():
    s = online.inverse_sqrt(0.5)
    assert s(0) == 0.5 and s(3) == 0.25  # alpha / sqrt(k + 1)
    np.testing.assert_allclose(s(np.array([0, 8])), [0.5, 0.5 / 3])
    with pytest.raises(ValueError, match="inverse_sqrt: alpha must be > 0"):
        online.inverse_sqrt(0.0)


# ---- the counterexample, as the paper states it ------------------------------------------
@pytest.mark.parametrize("C", [3.0, 5.0])
def test_adam_ends_at_the_worst_point_and_amsgrad_at_the_best(C):
    p = online.reddi_problem(C)
    kw = dict(lr=online.inverse_sqrt(0.5), betas=(0.0, 1 / (1 + C**2)))
    adam = online.run_online(p, optimizers.adam(**kw), steps=3000)
    ams = online.run_online(p, optimizers.adam(**kw, amsgrad=True), steps=3000)
    worst = 2 * (C - 2) / 3  # average regret of sitting at +1
    assert adam.x[-300:, 0].min() > 0.9
    assert abs(adam.avg_regret[-1] - worst) < 0.02 * worst
    assert ams.x[-300:, 0].max() < -0.9
    assert ams.avg_regret[-1] < 0.05 * worst


def test_adam_with_a_long_memory_of_v_does_not_fail_on_this_problem():
    # with beta2 = 0.999, v averages C^2 over many rounds and Adam finds x = -1
    p = online.reddi_problem(3.0)
    tr = online.run_online(
        p, optimizers.adam(lr=online.inverse_sqrt(0.5), betas=(0.0, 0.999)), 3000
    )
    assert tr.x[-300:, 0].max() < -0.9
