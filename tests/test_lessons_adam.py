"""Tests for learnlr.course.ch05_adam: step bounds, the noisy quadratic, exercise references.

The bounds are checked against runs of learnlr's Adam on chosen gradient sequences; the
exercise references against hand-computed steps; every listed mistake must fail its check
and be recognised by its own hint.
"""

import exercise_references as refs
import numpy as np
import pytest

from learnlr import optimizers
from learnlr.course import ch05_adam as L
from learnlr.course import checks
from learnlr.problems import online


# ---- step bounds ---------------------------------------------------------------------------
def test_adam_step_bounds_values():
    paper, sup = L.adam_step_bounds(0.9, 0.999)
    assert paper == pytest.approx(0.1 / np.sqrt(0.001))  # 3.1623
    assert sup == pytest.approx(0.1 / np.sqrt(0.001) / np.sqrt(1 - 0.81 / 0.999))  # 7.2703
    # (1 - beta1) <= sqrt(1 - beta2): the paper's bound is 1
    assert L.adam_step_bounds(0.99, 0.999)[0] == 1.0
    # beta1^2 >= beta2: no bound independent of t
    assert L.adam_step_bounds(0.99, 0.9)[1] == np.inf


def _ratios(grads, betas=(0.9, 0.999)):
    tr = online.run_online(
        online.linear_problem(grads), optimizers.adam(lr=1.0, betas=betas, eps=0.0), len(grads)
    )
    return np.abs(tr.update[:, 0])


def test_a_single_spike_after_a_long_quiet_start_approaches_the_paper_bound():
    paper, _ = L.adam_step_bounds()
    r = _ratios(np.r_[np.full(20000, 1e-12), 1.0])
    assert r[-1] == pytest.approx(paper, rel=1e-4)


def test_a_geometrically_growing_gradient_exceeds_the_paper_bound_and_nears_the_sup():
    paper, sup = L.adam_step_bounds()
    growth = (0.999 / 0.9) ** np.arange(300)
    r = _ratios(np.r_[np.full(20000, 1e-12), growth])
    assert r.max() > 2 * paper
    assert r.max() == pytest.approx(sup, rel=1e-3)
    assert r.max() <= sup * (1 + 1e-9)


def test_adam_step_bounds_rejects_bad_betas():
    with pytest.raises(ValueError, match=r"adam_step_bounds: beta1 must be in \[0, 1\)"):
        L.adam_step_bounds(1.0, 0.9)
    with pytest.raises(ValueError, match="adam_step_bounds: beta2 must be > 0"):
        L.adam_step_bounds(0.9, 0.0)


# ---- noisy quadratic -----------------------------------------------------------------------
def test_noisy_quadratic_noise_has_the_stated_mean_and_spread():
    p = L.noisy_quadratic(a=[1.0, 2.0], c=[1.0, -1.0], sigma=[3.0, 0.0], seed=1)
    x = np.array([0.5, 0.5])
    g = np.array([p.batch_grad(x, k) for k in range(20000)])
    exact = p.grad(x)  # a (x - c) = [-0.5, 3]
    np.testing.assert_allclose(exact, [-0.5, 3.0])
    assert abs(g[:, 0].mean() - exact[0]) < 4 * 3.0 / np.sqrt(20000)
    assert g[:, 0].std() == pytest.approx(3.0, rel=0.03)
    np.testing.assert_array_equal(g[:, 1], 3.0)  # sigma = 0: exact
    assert p.loss(p.x_min) == 0.0 and p.stochastic


def test_noisy_quadratic_is_reproducible_in_any_order():
    p = L.noisy_quadratic([1.0], [0.0], [1.0], seed=3)
    q = L.noisy_quadratic([1.0], [0.0], [1.0], seed=3)
    ks = [0, 5000, 1, 9000]
    forward = {k: p.batch_grad(np.zeros(1), k)[0] for k in ks}
    backward = {k: q.batch_grad(np.zeros(1), k)[0] for k in reversed(ks)}
    assert forward == backward
    other = L.noisy_quadratic([1.0], [0.0], [1.0], seed=4)
    assert other.batch_grad(np.zeros(1), 0)[0] != forward[0]


@pytest.mark.parametrize(
    "kwargs, text",
    [
        (dict(a=[0.0], c=[0.0], sigma=[1.0]), "noisy_quadratic: a must be > 0"),
        (dict(a=[1.0], c=[0.0], sigma=[-1.0]), "noisy_quadratic: sigma must be >= 0"),
        (dict(a=[1.0, 1.0], c=[0.0], sigma=[1.0, 1.0]), "must be vectors of the same length"),
        (dict(a=[1.0], c=[0.0], sigma=[1.0], x0=[1.0, 2.0]), "x0 must have shape"),
    ],
)
def test_noisy_quadratic_rejects_bad_arguments(kwargs, text):
    with pytest.raises(ValueError, match=text):
        L.noisy_quadratic(**kwargs)


# ---- exercise references -------------------------------------------------------------------
def test_adam_step_reference_by_hand():
    # t = 2, beta1 = 0.5, beta2 = 0.75, eps = 0, lr = 0.1; m = 1, v = 1, g = 3:
    # m = 0.5 + 1.5 = 2, v = 0.75 + 0.25 * 9 = 3; m_hat = 2 / 0.75 = 8/3;
    # v_hat = 3 / (1 - 0.5625) = 6.857142...; x = 1 - 0.1 * (8/3) / sqrt(6.857142...)
    x, m, v = refs.adam_step_reference(
        np.array([1.0]), np.array([3.0]), np.ones(1), np.ones(1), 2, 0.1, 0.5, 0.75, 0.0
    )
    assert m[0] == 2.0 and v[0] == 3.0
    assert x[0] == pytest.approx(1 - 0.1 * (8 / 3) / np.sqrt(3 / 0.4375))


def test_amsgrad_step_reference_uses_the_max_of_raw_v_over_the_current_correction():
    # beta1 = 0, beta2 = 0.5, t = 2: v = 0.5 * 1 + 0.5 * 0.01 = 0.505 < v_max = 4
    # v_hat = 4 / (1 - 0.25); x = 1 - 0.1 * 0.1 / sqrt(16/3)
    x, m, v, vmax = refs.amsgrad_step_reference(
        np.array([1.0]), np.array([0.1]), np.zeros(1), np.ones(1), np.array([4.0]),
        2, 0.1, 0.0, 0.5, 0.0,
    )  # fmt: skip
    assert vmax[0] == 4.0 and v[0] == pytest.approx(0.505)
    assert x[0] == pytest.approx(1 - 0.01 / np.sqrt(4 / 0.75))


def test_adamw_step_reference_decays_then_steps():
    # t = 1: Adam's first step is lr * sign(g) (eps = 0); decay 2 * (1 - 0.1 * 0.5) = 1.9
    x, _, _ = refs.adamw_step_reference(
        np.array([2.0]), np.array([4.0]), np.zeros(1), np.zeros(1), 1, 0.1, 0.9, 0.999, 0.0, 0.5
    )
    assert x[0] == pytest.approx(1.9 - 0.1)


EXERCISES = [
    ("adam", refs.adam_step_reference, L.ADAM_STEP_CASES, L.ADAM_STEP_MISTAKES, 3),
    ("amsgrad", refs.amsgrad_step_reference, L.AMSGRAD_STEP_CASES, L.AMSGRAD_STEP_MISTAKES, 4),
    ("adamw", refs.adamw_step_reference, L.ADAMW_STEP_CASES, L.ADAMW_STEP_MISTAKES, 3),
]


@pytest.mark.parametrize("name, ref, cases, mistakes, n", EXERCISES, ids=[e[0] for e in EXERCISES])
def test_reference_passes_and_each_mistake_gets_its_own_hint(name, ref, cases, mistakes, n):
    outputs = tuple(f"out{i}" for i in range(n))
    assert checks.check_function(name, ref, ref, cases, outputs=outputs, mistakes=mistakes)
    for hint, wrong in mistakes.items():
        res = checks.check_function(name, wrong, ref, cases, outputs=outputs, mistakes=mistakes)
        assert not res.passed, hint
        assert res.message.endswith(f"-- {hint}"), (hint, res.message)


@pytest.mark.parametrize("name, ref, cases, mistakes, n", EXERCISES, ids=[e[0] for e in EXERCISES])
def test_the_first_case_tells_every_mistake_from_the_reference(name, ref, cases, mistakes, n):
    case = cases[0]
    expected = ref(**case)
    for hint, wrong in mistakes.items():
        got = wrong(**case)
        assert not all(np.allclose(a, b) for a, b in zip(got, expected, strict=True)), hint


def test_exercise_references_match_learnlr_adam_over_a_run():
    # chaining the one-step reference reproduces optimizers.adam on a gradient sequence
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((20, 2))
    opt = optimizers.adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    x, s = np.zeros(2), opt.init(np.zeros(2))
    xr, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, start=1):
        x, s, _ = opt.step(x, g, s)
        xr, m, v = refs.adam_step_reference(xr, g, m, v, t, 0.01, 0.8, 0.99, 1e-6)
    np.testing.assert_allclose(xr, x, rtol=0, atol=1e-15)
