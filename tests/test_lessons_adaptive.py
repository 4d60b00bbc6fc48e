"""Tests of learnlr.course.ch03_adaptive: chosen gradients, resumed runs, tuned rates, exercises.

Expectations are derived by hand from the update rules (written next to the numbers), or
from an independent computation (one long run against two resumed halves), never copied
from the code's output.
"""

import exercise_references as refs
import numpy as np
import pytest

from learnlr import optimizers, problems, run
from learnlr.course import ch03_adaptive as la
from learnlr.course import checks


# ---- gradient_sequence ---------------------------------------------------------------
def test_adagrad_on_constant_gradients_has_rate_lr_over_c_sqrt_t():
    # G_t = t c^2, so eff_lr_t = lr / (c sqrt(t) + eps), t = k + 1.
    c, lr, eps, n = 3.0, 0.2, 1e-3, 50
    tr = run(la.gradient_sequence(np.full(n, c)), optimizers.adagrad(lr=lr, eps=eps), n)
    t = np.arange(1, n + 1)
    np.testing.assert_allclose(tr.state["G"][:, 0], t * c * c, rtol=1e-14)
    np.testing.assert_allclose(tr.eff_lr[:, 0], lr / (c * np.sqrt(t) + eps), rtol=1e-14)
    np.testing.assert_array_equal(tr.loss, 0.0)


def test_rmsprop_average_follows_a_step_change_geometrically():
    # v starts at 0; g = 1 for m steps, then 2: v_m = 1 - a^m, v_{m+n} = 4 - (4 - v_m) a^n.
    a, m, n = 0.9, 30, 40
    grads = np.r_[np.ones(m), 2.0 * np.ones(n)]
    tr = run(la.gradient_sequence(grads), optimizers.rmsprop(alpha=a), m + n)
    v = tr.state["v"][:, 0]
    assert v[m - 1] == pytest.approx(1 - a**m, rel=1e-12)
    np.testing.assert_allclose(v[m:], 4 - (4 - (1 - a**m)) * a ** np.arange(1, n + 1), rtol=1e-12)


def test_gradient_sequence_shapes_copies_and_limits():
    seq = la.gradient_sequence([[1.0, -2.0], [3.0, 4.0]], name="two")
    assert (seq.dim, seq.n_grads, seq.name) == (2, 2, "two")
    g = seq.batch_grad(np.zeros(2), 1)
    np.testing.assert_array_equal(g, [3.0, 4.0])
    g[0] = 99.0  # the caller's copy, not the stored gradient
    np.testing.assert_array_equal(seq.batch_grad(np.zeros(2), 1), [3.0, 4.0])
    assert seq.loss(np.zeros(2)) == 0.0
    assert seq.loss(np.zeros((5, 2))).shape == (5,)
    assert la.gradient_sequence(np.arange(3.0)).dim == 1
    with pytest.raises(ValueError, match=r"batch_grad: k must be < 2 .*got 2"):
        seq.batch_grad(np.zeros(2), 2)
    with pytest.raises(ValueError, match="has no objective"):
        seq.grad(np.zeros(2))
    with pytest.raises(ValueError, match=r"batch_grad: k must be < 2"):
        run(seq, optimizers.gd(), steps=3)


def test_gradient_sequence_does_not_share_the_callers_array():
    grads = np.ones((3, 2))
    seq = la.gradient_sequence(grads)
    grads[0] = 7.0
    np.testing.assert_array_equal(seq.batch_grad(np.zeros(2), 0), [1.0, 1.0])


@pytest.mark.parametrize(
    "grads, error, match",
    [
        ([], ValueError, r"gradient_sequence: grads must have shape \(steps,\)"),
        (np.ones((2, 2, 2)), ValueError, "got shape"),
        ([1.0, np.nan], ValueError, "gradient_sequence: grads must contain only finite"),
        ("abc", TypeError, "gradient_sequence: grads must be an array of numbers"),
    ],
)
def test_gradient_sequence_rejects_bad_gradients(grads, error, match):
    with pytest.raises(error, match=match):
        la.gradient_sequence(grads)


def test_gradient_sequence_rejects_a_bad_name():
    with pytest.raises(TypeError, match="gradient_sequence: name must be a string, got 3"):
        la.gradient_sequence([1.0], name=3)


# ---- resume --------------------------------------------------------------------------
OPTS = [
    optimizers.adagrad(lr=0.3, lr_decay=0.01, initial_accumulator_value=0.1),
    optimizers.rmsprop(lr=0.01, alpha=0.9, momentum=0.5, centered=True),
    optimizers.adadelta(rho=0.95),
    optimizers.adam(lr=0.05),
    optimizers.sgd(lr=1e-4, momentum=0.9),
]


@pytest.mark.parametrize("opt", OPTS, ids=lambda o: o.name)
def test_two_resumed_halves_equal_one_long_run(opt):
    p = problems.rosenbrock()
    whole = run(p, opt, 40)
    first = run(p, opt, 25)
    second = la.resume(first, steps=15)
    # the same run, bit for bit, with the update numbering continued
    np.testing.assert_array_equal(second.k, whole.k[25:])
    np.testing.assert_array_equal(second.x, whole.x[25:])
    np.testing.assert_array_equal(second.eff_lr, whole.eff_lr[25:])
    for name in whole.state:
        np.testing.assert_array_equal(second.state[name], whole.state[name][25:])
    assert repr(second.optimizer) == repr(opt)


@pytest.mark.parametrize("name", sorted(optimizers.TORCH))
def test_resume_continues_every_optimizer_of_the_registry(name):
    # defaults, except a small rate for the plain gradient methods on Rosenbrock's walls
    opt = optimizers.TORCH[name](**({"lr": 1e-4} if name in ("gd", "sgd") else {}))
    p = problems.rosenbrock()
    whole, first = run(p, opt, 30), run(p, opt, 12)
    np.testing.assert_allclose(la.resume(first, steps=18).x, whole.x[12:], rtol=1e-13, atol=0)


def test_resume_on_another_problem_keeps_the_memory():
    # AdaGrad: G after the first run is the sum of its squared gradients; the resumed first
    # step on the new problem divides by sqrt(G + g^2) with that G.
    p1, p2 = problems.quadratic2d(kappa=10), problems.quadratic2d(kappa=10, angle=1.0)
    first = run(p1, optimizers.adagrad(lr=0.5), 20)
    G = np.sum(first.grad**2, axis=0)
    second = la.resume(first, p2, steps=1)
    g = p2.grad(first.x_final)
    np.testing.assert_allclose(second.x_final, first.x_final - 0.5 * g / np.sqrt(G + g * g))
    fresh = run(p2, optimizers.adagrad(lr=0.5), 1, x0=first.x_final)
    assert not np.allclose(fresh.x_final, second.x_final)


def test_resume_after_zero_steps_is_a_fresh_run():
    p = problems.quadratic2d()
    empty = run(p, optimizers.rmsprop(lr=0.1), 0)
    np.testing.assert_array_equal(
        la.resume(empty, steps=5).x, run(p, optimizers.rmsprop(lr=0.1), 5).x
    )


def test_resume_continues_a_trace_that_kept_every_third_update():
    # the final state is kept whatever record_every was
    p = problems.quadratic2d(kappa=10)
    opt = optimizers.sgd(lr=0.05, momentum=0.9)
    sparse = run(p, opt, 10, record_every=3)
    np.testing.assert_array_equal(la.resume(sparse, steps=5).x_final, run(p, opt, 15).x_final)


def test_resume_refuses_what_it_cannot_continue():
    p = problems.quadratic2d(kappa=10)
    with pytest.raises(TypeError, match="resume: trace must be a Trace"):
        la.resume("trace")
    with pytest.raises(ValueError, match="resume: steps must be"):
        la.resume(run(p, optimizers.gd(lr=0.1), 3), steps=-1)
    diverged = run(p, optimizers.gd(lr=0.5), 200)
    with pytest.raises(ValueError, match="resume: the trace diverged"):
        la.resume(diverged)
    ok = run(p, optimizers.gd(lr=0.1), 3)
    with pytest.raises(ValueError, match="resume: problem must have dim=2"):
        la.resume(ok, problems.quadratic1d())
    with pytest.raises(TypeError, match="resume: problem must be a learnlr Problem"):
        la.resume(ok, "p")


# ---- loglog_slope --------------------------------------------------------------------
@pytest.mark.parametrize("p", [-0.5, 0.5, 2.0])
def test_loglog_slope_recovers_the_exponent(p):
    t = np.geomspace(1, 1e4, 30)
    assert la.loglog_slope(t, 7.0 * t**p) == pytest.approx(p, abs=1e-12)


def test_loglog_slope_rejects_bad_input():
    with pytest.raises(ValueError, match="loglog_slope: t and y must be > 0"):
        la.loglog_slope([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="same shape with at least 2 points"):
        la.loglog_slope([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="t must not be all equal"):
        la.loglog_slope([2.0, 2.0], [1.0, 3.0])


# ---- exercise references -------------------------------------------------------------
def test_exercise_references_match_hand_computed_steps():
    # AdaGrad: G = 0.25 + 0.75^2... written out: G_new = G + g^2, x - lr g / (sqrt(G_new) + eps)
    x_new, G_new = refs.adagrad_step_reference(
        np.array([1.0]), np.array([-0.5]), np.array([0.75]), lr=0.2, eps=0.5
    )
    np.testing.assert_allclose(G_new, [1.0])  # 0.75 + 0.25
    np.testing.assert_allclose(x_new, [1.0 + 0.2 * 0.5 / 1.5])  # sqrt(1) + 0.5 = 1.5
    # RMSProp: v = 0.5 * 2 + 0.5 * 4 = 3; x - 0.1 * 2 / (sqrt(3) + 0.1)
    x_new, v_new = refs.rmsprop_step_reference(
        np.array([0.0]), np.array([2.0]), np.array([2.0]), lr=0.1, alpha=0.5, eps=0.1
    )
    np.testing.assert_allclose(v_new, [3.0])
    np.testing.assert_allclose(x_new, [-0.2 / (np.sqrt(3.0) + 0.1)])
    # Adadelta: v = 0.5 * 1 + 0.5 * 9 = 5; Delta = sqrt(0.03 + 0.01) / sqrt(5.01) * 3;
    # u = 0.5 * 0.03 + 0.5 * Delta^2
    x_new, v_new, u_new = refs.adadelta_step_reference(
        np.array([1.0]), np.array([3.0]), np.array([1.0]), np.array([0.03]), rho=0.5, eps=0.01
    )
    d = np.sqrt(0.04) / np.sqrt(5.01) * 3.0
    np.testing.assert_allclose(v_new, [5.0])
    np.testing.assert_allclose(x_new, [1.0 - d])
    np.testing.assert_allclose(u_new, [0.015 + 0.5 * d * d])


EXERCISES = [
    (refs.adagrad_step_reference, la.ADAGRAD_STEP_CASES, la.ADAGRAD_STEP_MISTAKES, 2),
    (refs.rmsprop_step_reference, la.RMSPROP_STEP_CASES, la.RMSPROP_STEP_MISTAKES, 2),
    (refs.adadelta_step_reference, la.ADADELTA_STEP_CASES, la.ADADELTA_STEP_MISTAKES, 3),
]


@pytest.mark.parametrize(
    "ref, cases, mistakes, n_out", EXERCISES, ids=["adagrad", "rmsprop", "adadelta"]
)
def test_each_mistake_is_caught_with_its_own_hint(ref, cases, mistakes, n_out):
    outputs = tuple(f"out{i}" for i in range(n_out))
    assert checks.check_function("t", ref, ref, cases, outputs=outputs).passed
    for hint, wrong in mistakes.items():
        res = checks.check_function("t", wrong, ref, cases, outputs=outputs, mistakes=mistakes)
        assert not res.passed
        assert res.message.endswith(f"-- {hint}"), (hint, res.message)


def test_a_mistake_that_modifies_its_input_is_reported():
    def in_place(x, g, G, lr, eps):
        G += g * g
        return x - lr * g / (np.sqrt(G) + eps), G

    res = checks.check_function(
        "t", in_place, refs.adagrad_step_reference, la.ADAGRAD_STEP_CASES, outputs=("x", "G")
    )
    assert not res.passed and "changed its input 'G' in place" in res.message
