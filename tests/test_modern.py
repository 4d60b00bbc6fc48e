"""Tests for learnlr.optimizers: Lion, Schedule-Free SGD and AdamW, Prodigy, and evaluation points.

What is checked, and where each expected number comes from (worked out by hand in a comment
next to it, never copied from the code's output):

* first and second steps of every method, including the averaging weights of Schedule-Free
  under warmup and Prodigy's estimate ``d``;
* the shared identity ``x_new == x - info.eff_lr * info.direction``, with every option on,
  over random gradient sequences (a hypothesis property);
* purity: read-only inputs and read-only state are accepted and left unchanged;
* equivalences: Lion with betas (0, 0) is sign descent, Schedule-Free SGD with momentum 0
  evaluates its gradient on plain gradient descent's path, its first step is an SGD (or
  Adam) step, momentum 1 gives ``y = x``;
* agreement with the reference PyTorch packages on stored runs (``tests/reference/modern.json``,
  written by ``scripts/make_reference_modern.py``): the authors' own for Schedule-Free and
  Prodigy, the third-party ``lion-pytorch`` for Lion; and that learnlr's argument names and
  defaults are theirs;
* argument checks, :func:`eval_point`, :func:`eval_points`, :func:`run_eval` and ``explain``.
"""

import inspect
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from learnlr import explain, optimizers, problems, run, schedules
from learnlr.optimizers.base import Optimizer, StepInfo
from learnlr.trace import eval_point, eval_points, run_eval

REGISTRY = optimizers.MODERN
REFERENCE = Path(__file__).resolve().parent / "reference" / "modern.json"
RTOL, FLOOR = 1e-6, 1e-8  # the tolerance rule of tests/test_reference.py

OPTIONS = {
    "lion": [dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.3)],
    "schedule_free_sgd": [
        dict(lr=0.05, momentum=0.7, weight_decay=0.1, warmup_steps=3, r=1.0, weight_lr_power=1.0)
    ],
    "schedule_free_adamw": [
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, warmup_steps=3, r=0.5)
    ],
    "prodigy": [
        dict(weight_decay=0.1, use_bias_correction=True, d0=1e-3, d_coef=0.7, beta3=0.9),
        dict(
            weight_decay=0.1, decoupled_weight_decay=False, safeguard_warmup=True, growth_rate=1.2
        ),
        dict(betas=(0.0, 0.99), weight_decay=0.1),
    ],
}
CASES = [(name, kw) for name in REGISTRY for kw in [{}] + OPTIONS.get(name, [])]
CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]

RNG_GRADS = np.random.default_rng(7).standard_normal((15, 3)) * np.array([1.0, 0.01, 5.0])
X0 = np.array([0.5, -1.0, 2.0])


def _run(opt, x, grads):
    state = opt.init(np.asarray(x, dtype=float))
    out = []
    for g in grads:
        x, state, info = opt.step(np.asarray(x, dtype=float), np.asarray(g, dtype=float), state)
        out.append((x, state, info))
    return out


# --------------------------------------------------------------------------------------
# The registry and the Optimizer shape
# --------------------------------------------------------------------------------------
def test_every_registry_entry_has_an_options_row():
    assert set(OPTIONS) == set(REGISTRY)


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_factory_returns_an_optimizer_of_pure_functions(name, kwargs):
    opt = REGISTRY[name](**kwargs)
    assert isinstance(opt, Optimizer) and opt.name == name
    state = opt.init(X0)
    assert state._fields[0] == "count" and state.count == 0
    x1, state1, info = opt.step(X0, RNG_GRADS[0], state)
    assert type(state1) is type(state) and state1.count == 1
    assert isinstance(info, StepInfo) and isinstance(info.lr, float)
    assert x1.shape == X0.shape == np.shape(info.eff_lr) == np.shape(info.direction)
    assert list(opt.hyperparams) == list(inspect.signature(REGISTRY[name]).parameters)


# --------------------------------------------------------------------------------------
# Lion
# --------------------------------------------------------------------------------------
def test_lion_first_step_moves_every_coordinate_by_lr():
    # m = 0: c = (1 - 0.9) g, sign(c) = sign(g) = [1, -1, 0]
    # x1 = x (1 - lr wd) - lr sign(c) = [1, -2, 0.5] * 0.95 - 0.1 [1, -1, 0]
    #    = [0.85, -1.8, 0.475];  m = (1 - 0.99) g = [0.003, -0.04, 0]
    opt = optimizers.lion(lr=0.1, weight_decay=0.5)
    [(x1, s1, info)] = _run(opt, [1.0, -2.0, 0.5], [[0.3, -4.0, 0.0]])
    np.testing.assert_allclose(x1, [0.85, -1.8, 0.475], rtol=1e-15)
    np.testing.assert_allclose(s1.m, [0.003, -0.04, 0.0], rtol=1e-15)
    np.testing.assert_allclose(info.direction, [1 + 0.5, -1 - 1.0, 0.25], rtol=1e-15)


def test_lion_direction_uses_the_old_momentum_and_beta1():
    # state m = 1, g = -20: c = 0.9 * 1 + 0.1 * (-20) = -1.1 < 0, so x moves UP by lr,
    # while the updated momentum 0.99 * 1 + 0.01 * (-20) = 0.79 > 0 would move it down
    opt = optimizers.lion(lr=0.1)
    state = optimizers.LionState(count=1, m=np.array([1.0]))
    x1, s1, _ = opt.step(np.array([0.0]), np.array([-20.0]), state)
    np.testing.assert_allclose(x1, [0.1], rtol=1e-15)
    np.testing.assert_allclose(s1.m, [0.79], rtol=1e-14)


def test_lion_with_zero_betas_is_sign_descent():
    out = _run(optimizers.lion(lr=0.1, betas=(0.0, 0.0)), X0, RNG_GRADS)
    x = X0.copy()
    for g, (x_new, _, _) in zip(RNG_GRADS, out, strict=True):
        x = x - 0.1 * np.sign(g)
        np.testing.assert_allclose(x_new, x, rtol=1e-14)


def test_lion_ignores_the_scale_of_the_gradient():
    a = _run(optimizers.lion(lr=0.1), X0, RNG_GRADS)[-1][0]
    b = _run(optimizers.lion(lr=0.1), X0, 1000.0 * RNG_GRADS)[-1][0]
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# Schedule-Free
# --------------------------------------------------------------------------------------
def test_schedule_free_sgd_two_steps_by_hand():
    # step 1: z = 1 - 0.1 * 2 = 0.8; c_1 = 1 -> x = z = 0.8, y = 0.8
    # step 2 (g = 2 at y = 0.8): z = 0.6; c_2 = 1/2 -> x = (0.8 + 0.6)/2 = 0.7;
    #         y = 0.1 * 0.6 + 0.9 * 0.7 = 0.69
    (y1, s1, i1), (y2, s2, i2) = _run(optimizers.schedule_free_sgd(lr=0.1), [1.0], [[2.0], [2.0]])
    np.testing.assert_allclose([y1[0], s1.z[0], s1.x_avg[0]], [0.8, 0.8, 0.8], rtol=1e-15)
    np.testing.assert_allclose([y2[0], s2.z[0], s2.x_avg[0]], [0.69, 0.6, 0.7], rtol=1e-14)
    # eff_lr = lr (1 - beta (1 - c)) = 0.1 * (1 - 0.9 * 0.5) = 0.055
    np.testing.assert_allclose(i2.eff_lr, [0.055], rtol=1e-14)


def _weights_c(states):
    ws = np.array([0.0] + [s.weight_sum for _, s, _ in states])
    return np.diff(ws) / ws[1:]


def test_schedule_free_averaging_weights_under_warmup():
    # warmup_steps = 4, lr = 1: lr_t = 0.25, 0.5, 0.75, 1, 1; weights lr_max^2:
    # 0.0625, 0.25, 0.5625, 1, 1 -> c = 1, 0.25/0.3125 = 0.8, 0.5625/0.875 = 0.642857...,
    # 1/1.875 = 0.5333..., 1/2.875
    opt = optimizers.schedule_free_sgd(lr=1.0, warmup_steps=4)
    out = _run(opt, [0.0], [[1e-3]] * 5)
    np.testing.assert_allclose(
        _weights_c(out), [1, 0.8, 0.5625 / 0.875, 1 / 1.875, 1 / 2.875], rtol=1e-14
    )
    np.testing.assert_allclose([i.lr for _, _, i in out], [0.25, 0.5, 0.75, 1, 1], rtol=0)


def test_schedule_free_weights_use_the_largest_rate_so_far():
    # lr = 0.1 then 0.05: weights max(lr)^2 = 0.01, 0.01, 0.01 -> c = 1, 1/2, 1/3
    # (weights lr_t^2 would give 0.01, 0.0025 -> c_2 = 0.2)
    opt = optimizers.schedule_free_sgd(lr=schedules.piecewise_constant([1], [0.1, 0.05]))
    out = _run(opt, X0, RNG_GRADS[:3])
    np.testing.assert_allclose(_weights_c(out), [1, 1 / 2, 1 / 3], rtol=1e-14)


def test_schedule_free_constant_rate_is_the_plain_average_and_r_tilts_it():
    # r = 0: c_t = 1/t, so x_avg is the mean of z_1 .. z_t
    out = _run(optimizers.schedule_free_sgd(lr=0.1), X0, RNG_GRADS)
    np.testing.assert_allclose(_weights_c(out), 1 / np.arange(1, 16), rtol=1e-14)
    zs = np.array([s.z for _, s, _ in out])
    np.testing.assert_allclose(out[-1][1].x_avg, zs.mean(axis=0), rtol=1e-12)
    # r = 1, weight_lr_power = 0: weights t, c_t = t / (t (t + 1) / 2) = 2 / (t + 1)
    out = _run(optimizers.schedule_free_sgd(lr=0.1, r=1.0, weight_lr_power=0.0), X0, RNG_GRADS)
    np.testing.assert_allclose(_weights_c(out), 2 / np.arange(2, 17), rtol=1e-14)


def test_schedule_free_sgd_with_momentum_zero_takes_gradients_on_the_gd_path():
    prob = problems.quadratic2d(kappa=10.0)
    tr_sf = run(prob, optimizers.schedule_free_sgd(lr=0.05, momentum=0.0), 30)
    tr_gd = run(prob, optimizers.gd(lr=0.05), 30)
    np.testing.assert_allclose(tr_sf.x, tr_gd.x, rtol=1e-12, atol=1e-14)
    # ... and evaluates at the running mean of that path
    np.testing.assert_allclose(eval_points(tr_sf)[-1], tr_gd.x[1:].mean(axis=0), rtol=1e-12)


def test_schedule_free_momentum_one_takes_gradients_at_the_average():
    out = _run(optimizers.schedule_free_sgd(lr=0.1, momentum=1.0), X0, RNG_GRADS)
    for y, s, _ in out:
        np.testing.assert_allclose(y, s.x_avg, rtol=1e-12, atol=1e-15)


def test_schedule_free_adamw_first_step_is_adams():
    g = np.array([5.0, -0.01, 1e-3])
    [(y1, s1, _)] = _run(optimizers.schedule_free_adamw(lr=0.1), X0, [g])
    [(xa, _, _)] = _run(optimizers.adam(lr=0.1), X0, [g])
    np.testing.assert_allclose(y1, xa, rtol=1e-14)
    np.testing.assert_allclose(s1.x_avg, xa, rtol=1e-14)


def test_schedule_free_adamw_weight_decay_is_not_divided_by_the_scale():
    # z1 = x0 - lr (g / s + wd x0), s = |g| + eps: with g = [4], x0 = [2], lr = 0.1, wd = 0.5:
    # z1 = 2 - 0.1 * (4 / (4 + 1e-8) + 1) = 1.8 (to 1e-9)
    [(y1, s1, _)] = _run(optimizers.schedule_free_adamw(lr=0.1, weight_decay=0.5), [2.0], [[4.0]])
    np.testing.assert_allclose(s1.z, [1.8], rtol=1e-9)


def test_schedule_free_zero_rate_does_not_move_and_keeps_the_identity():
    opt = optimizers.schedule_free_sgd(lr=schedules.piecewise_constant([2], [0.1, 0.0]))
    out = _run(opt, X0, RNG_GRADS[:5])
    x = X0
    for x_new, _, info in out:
        np.testing.assert_allclose(x_new, x - info.eff_lr * info.direction, rtol=1e-12, atol=1e-15)
        x = x_new
    # with rate 0, z stops, and x_avg too (the weight of a new z is lr_max^2 > 0, but z = old z)
    assert np.array_equal(out[-1][1].z, out[2][1].z)


# --------------------------------------------------------------------------------------
# Prodigy
# --------------------------------------------------------------------------------------
def test_prodigy_first_two_steps_by_hand():
    b2, eps, d0 = 0.999, 1e-8, 1e-6
    b3 = math.sqrt(b2)
    opt = optimizers.prodigy()
    x0, g0 = np.array([1.0]), np.array([2.0])
    x1, s1, i1 = opt.step(x0, g0, opt.init(x0))
    # step 1: delta = d0 * lr = 1e-6; r = delta * <g, x0 - x0> = 0 -> d_hat = 0, d stays d0
    # m = d0 (1 - 0.9) g = 2e-7, v = d0^2 (1 - b2) g^2 = 4e-15, s = (d0/d0) delta g = 2e-6
    # x1 = x0 - delta m / (sqrt(v) + d eps)
    assert s1.d == d0 and s1.r == 0.0
    np.testing.assert_allclose(s1.m, [2e-7], rtol=1e-15)
    np.testing.assert_allclose(s1.v, [4e-15], rtol=1e-14)
    np.testing.assert_allclose(s1.s, [2e-6], rtol=1e-15)
    step1 = 1e-6 * 2e-7 / (math.sqrt(4e-15) + d0 * eps)
    np.testing.assert_allclose(x1, [1.0 - step1], rtol=1e-15)
    # step 2 at x1 with g = 2 x1: r = delta g (x0 - x1) = 1e-6 * 2 x1 * step1
    # s = b3 * 2e-6 + 1e-6 * 2 x1;  d_hat = r / |s|;  d = max(d0, d_hat)
    g1 = 2 * x1
    x2, s2, i2 = opt.step(x1, g1, s1)
    r = 1e-6 * g1[0] * (x0 - x1)[0]  # (x0 - x1) = step1, to the rounding of 1 - step1
    s = b3 * 2e-6 + 1e-6 * g1[0]
    d_hat = r / s
    np.testing.assert_allclose(s2.r, r, rtol=1e-12)
    np.testing.assert_allclose(s2.d, max(d0, d_hat), rtol=1e-12)
    # the step still uses the old d in delta and in m, v; the new d next to eps
    m = 0.9 * 2e-7 + d0 * 0.1 * g1[0]
    v = b2 * 4e-15 + d0**2 * (1 - b2) * g1[0] ** 2
    np.testing.assert_allclose(x2, x1 - d0 * m / (math.sqrt(v) + s2.d * eps), rtol=1e-14)
    np.testing.assert_allclose(i2.lr, d0, rtol=0)


def test_prodigy_estimate_grows_and_never_shrinks():
    tr = run(problems.quadratic2d(kappa=10.0), optimizers.prodigy(), 200)
    d = tr.state["d"]
    assert np.all(np.diff(d) >= 0)
    assert d[0] == 1e-6 and d[-1] > 0.1  # five orders of magnitude from d0
    np.testing.assert_allclose(tr.lr, np.r_[1e-6, d[:-1]], rtol=1e-15)  # delta_k = d_k * lr


def test_prodigy_growth_rate_bounds_the_ratio():
    tr = run(problems.quadratic2d(kappa=10.0), optimizers.prodigy(growth_rate=1.1), 100)
    d = np.r_[1e-6, tr.state["d"]]
    # the reference lets the first move away from d0 jump straight to d_hat (here 1.58 d0);
    # every later step grows by at most the factor 1.1
    first = np.flatnonzero(d > 1e-6)[0]
    assert d[first] / 1e-6 > 1.1
    assert np.all(d[first + 1 :] / d[first:-1] <= 1.1 * (1 + 1e-12))


def test_prodigy_zero_gradient_or_zero_rate_does_nothing():
    opt = optimizers.prodigy()
    x1, s1, info = opt.step(X0, np.zeros(3), opt.init(X0))
    np.testing.assert_array_equal(x1, X0)
    assert s1.d == 1e-6 and s1.count == 1
    assert np.all(info.eff_lr * info.direction == 0)
    opt = optimizers.prodigy(lr=0.0)
    x1, s1, _ = opt.step(X0, RNG_GRADS[0], opt.init(X0))
    np.testing.assert_array_equal(x1, X0)
    np.testing.assert_array_equal(s1.v, 0.0)


# --------------------------------------------------------------------------------------
# Properties shared by all
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_identity_x_new_is_x_minus_eff_lr_times_direction(name, kwargs):
    opt = REGISTRY[name](**kwargs)
    x, state = X0.copy(), opt.init(X0)
    for g in RNG_GRADS:
        x_new, state, info = opt.step(x, g, state)
        np.testing.assert_allclose(x_new, x - info.eff_lr * info.direction, rtol=1e-10, atol=1e-14)
        x = x_new


@settings(max_examples=40, deadline=None)
@given(
    grads=hnp.arrays(np.float64, (6, 2), elements=st.floats(-100, 100)),
    name=st.sampled_from(sorted(REGISTRY)),
    option=st.integers(0, 3),
)
def test_identity_holds_for_any_gradients(grads, name, option):
    rows = [{}] + OPTIONS[name]
    opt = REGISTRY[name](**rows[option % len(rows)])
    x, state = np.array([0.3, -0.7]), opt.init(np.array([0.3, -0.7]))
    for g in grads:
        x_new, state, info = opt.step(x, g, state)
        scale = np.abs(x) + np.abs(x_new) + 1e-12
        assert np.all(np.abs(x_new - (x - info.eff_lr * info.direction)) <= 1e-9 * scale)
        x = x_new


def _read_only(value):
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.setflags(write=False)
    return value


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_steps_do_not_modify_their_inputs(name, kwargs):
    opt = REGISTRY[name](**kwargs)
    x, state = X0.copy(), opt.init(X0)
    for g in RNG_GRADS[:4]:
        frozen = type(state)(*[_read_only(v) for v in state])
        copies = [np.copy(v) for v in state]
        x_ro, g_ro = _read_only(x), _read_only(g)
        x_new, state, _ = opt.step(x_ro, g_ro, frozen)  # would raise if written to
        for before, after in zip(copies, frozen, strict=True):
            np.testing.assert_array_equal(before, after)
        assert x_new is not x_ro
        x = x_new


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_schedule_is_read_at_the_update_number(name):
    seen = []

    def lr(k):
        seen.append(k)
        return 0.01

    _run(REGISTRY[name](lr=lr), X0, RNG_GRADS[:4])
    assert seen == [0, 1, 2, 3]


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_explain_writes_out_every_recorded_step(name, kwargs):
    tr = run(problems.quadratic2d(kappa=5.0), REGISTRY[name](**kwargs), 4)
    for k in range(4):
        text = str(explain(tr, k))
        assert f"step k = {k}" in text and "g = grad f" in text


def test_explain_shows_the_method_specific_quantities():
    tr = run(problems.quadratic2d(kappa=5.0), optimizers.lion(lr=0.1), 3)
    assert "sign(c)" in str(explain(tr, 1))
    tr = run(problems.quadratic2d(kappa=5.0), optimizers.schedule_free_sgd(lr=0.1), 3)
    text = str(explain(tr, 1))
    assert "c = " in text and "0.5" in text and "y_new = (1 - beta) * z + beta * x" in text
    tr = run(problems.quadratic2d(kappa=5.0), optimizers.prodigy(), 3)
    assert "d_hat" in str(explain(tr, 2))


# --------------------------------------------------------------------------------------
# Evaluation points
# --------------------------------------------------------------------------------------
def test_eval_point_is_the_average_for_schedule_free_only():
    opt = optimizers.schedule_free_adamw(lr=0.1)
    y, s, _ = opt.step(X0, RNG_GRADS[0], opt.init(X0))
    y, s, _ = opt.step(y, RNG_GRADS[1], s)
    np.testing.assert_array_equal(eval_point(y, s), s.x_avg)
    assert not np.allclose(y, s.x_avg)
    st_adam = optimizers.adam().init(X0)
    np.testing.assert_array_equal(eval_point(X0, st_adam), X0)


def test_eval_points_and_run_eval_agree():
    prob = problems.quadratic2d(kappa=20.0)
    tr = run(prob, optimizers.schedule_free_sgd(lr=0.05), 30)
    pts = eval_points(tr)
    assert pts.shape == tr.x.shape
    np.testing.assert_array_equal(pts[0], prob.x0)
    res = run_eval(prob, optimizers.schedule_free_sgd(lr=0.05), 30, every=7)
    assert res.k.tolist() == [0, 7, 14, 21, 28, 30]
    np.testing.assert_allclose(res.loss, prob.loss(pts[res.k]), rtol=1e-13)
    np.testing.assert_allclose(res.x_eval, pts[-1], rtol=1e-13)
    # for an ordinary optimizer the evaluation point is the iterate
    res = run_eval(prob, optimizers.adam(lr=0.1), 30, every=10, metric=lambda x: x[0])
    tr = run(prob, optimizers.adam(lr=0.1), 30)
    np.testing.assert_allclose(res.loss, tr.loss[[0, 10, 20, 30]], rtol=1e-13)
    np.testing.assert_allclose(res.metric, tr.x[[0, 10, 20, 30], 0], rtol=1e-13)
    np.testing.assert_array_equal(eval_points(tr), tr.x)


@pytest.mark.parametrize("name", sorted(REGISTRY) + ["adam"])
def test_run_eval_resumed_from_a_checkpoint_is_the_same_run(name):
    prob = problems.least_squares(n_samples=50, n_features=3, batch_size=5, seed=1)
    factory = REGISTRY.get(name, optimizers.adam)
    opt = factory(lr=schedules.cosine_annealing(0.01, T_max=40))
    whole = run_eval(prob, opt, 40, every=10)
    first = run_eval(prob, opt, 20, every=10)
    rest = run_eval(prob, opt, 20, every=10, x0=first.x, state=first.state)
    assert rest.k.tolist() == [20, 30, 40]
    np.testing.assert_array_equal(rest.loss, whole.loss[2:])
    np.testing.assert_array_equal(rest.x, whole.x)
    np.testing.assert_array_equal(rest.x_eval, whole.x_eval)


def test_a_decay_branched_off_a_constant_run_equals_the_wsd_run():
    # warmup-stable-decay for 30 updates = 20 updates at the peak, then a 10-update decay
    prob = problems.least_squares(n_samples=50, n_features=3, batch_size=5, seed=2)
    wsd = schedules.warmup_stable_decay(0.05, 5, 15, 10)
    stable = schedules.warmup_stable_decay(0.05, 5, 10**6, 1)
    whole = run_eval(prob, optimizers.adam(lr=wsd), 30, every=30)
    trunk = run_eval(prob, optimizers.adam(lr=stable), 20, every=20)
    branch = run_eval(prob, optimizers.adam(lr=wsd), 10, x0=trunk.x, state=trunk.state)
    np.testing.assert_array_equal(branch.x, whole.x)
    with pytest.raises(TypeError, match="run_eval: state must be an optimizer state"):
        run_eval(prob, optimizers.adam(), 3, state=(1, 2))


def test_run_eval_reports_divergence():
    res = run_eval(problems.quadratic2d(kappa=10.0), optimizers.gd(lr=0.5), 200, every=5)
    assert res.diverged_at is not None and res.status.startswith("diverged at step")
    assert np.all(np.isfinite(res.loss))


def test_eval_points_needs_every_step_of_a_schedule_free_trace():
    tr = run(problems.quadratic2d(), optimizers.schedule_free_sgd(lr=0.05), 10, record_every=2)
    with pytest.raises(ValueError, match="record_every=1"):
        eval_points(tr)
    with pytest.raises(TypeError, match="eval_points: trace"):
        eval_points("trace")


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------
BAD = [
    (optimizers.lion, dict(lr=-1.0), ValueError, "lion: lr must be >= 0, got -1.0"),
    (optimizers.lion, dict(betas=(0.9, 1.5)), ValueError, r"lion: betas\[1\] must be in \[0, 1\]"),
    (optimizers.lion, dict(betas=0.9), TypeError, "lion: betas must be a pair"),
    (optimizers.lion, dict(weight_decay="0.1"), TypeError, "lion: weight_decay must be a real"),
    (optimizers.schedule_free_sgd, dict(momentum=1.1), ValueError, "schedule_free_sgd: momentum"),
    (
        optimizers.schedule_free_sgd,
        dict(warmup_steps=2.5),
        TypeError,
        "warmup_steps must be an int",
    ),
    (
        optimizers.schedule_free_sgd,
        dict(warmup_steps=-1),
        ValueError,
        "warmup_steps must be an int",
    ),
    (optimizers.schedule_free_sgd, dict(r=-0.5), ValueError, "schedule_free_sgd: r must be >= 0"),
    (optimizers.schedule_free_adamw, dict(betas=(1.0, 0.9)), ValueError, r"betas\[0\] must be in"),
    (optimizers.schedule_free_adamw, dict(eps=-1e-8), ValueError, "schedule_free_adamw: eps"),
    (optimizers.schedule_free_adamw, dict(weight_lr_power=-2), ValueError, "weight_lr_power"),
    (optimizers.prodigy, dict(d0=0.0), ValueError, "prodigy: d0 must be > 0, got 0.0"),
    (optimizers.prodigy, dict(d_coef=-1), ValueError, "prodigy: d_coef must be > 0"),
    (optimizers.prodigy, dict(beta3=1.0), ValueError, r"prodigy: beta3 must be in \[0, 1\)"),
    (optimizers.prodigy, dict(growth_rate=0.5), ValueError, r"growth_rate must be in \[1, inf\)"),
    (
        optimizers.prodigy,
        dict(decoupled_weight_decay=1),
        TypeError,
        "prodigy: decoupled_weight_decay must be True or False",
    ),
    (optimizers.prodigy, dict(lr=float("nan")), ValueError, "prodigy: lr must be finite"),
]


@pytest.mark.parametrize("factory, kwargs, error, message", BAD)
def test_bad_arguments_are_refused_with_a_clear_message(factory, kwargs, error, message):
    with pytest.raises(error, match=message):
        factory(**kwargs)


def test_run_eval_checks_its_arguments():
    prob = problems.quadratic2d()
    with pytest.raises(TypeError, match="run_eval: problem"):
        run_eval("p", optimizers.lion(), 3)
    with pytest.raises(TypeError, match="run_eval: opt"):
        run_eval(prob, "adam", 3)
    with pytest.raises(ValueError, match="run_eval: every"):
        run_eval(prob, optimizers.lion(), 3, every=0)
    with pytest.raises(ValueError, match=r"run_eval: x0 must have shape \(2,\)"):
        run_eval(prob, optimizers.lion(), 3, x0=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="run_eval: metric"):
        run_eval(prob, optimizers.lion(), 3, metric=3)


def test_prodigy_accepts_an_unbounded_growth_rate():
    assert optimizers.prodigy(growth_rate=math.inf).hyperparams["growth_rate"] == math.inf


# --------------------------------------------------------------------------------------
# Agreement with the reference PyTorch packages (Lion's is third-party: lion-pytorch)
# --------------------------------------------------------------------------------------
DATA = json.loads(REFERENCE.read_text())
# arguments of the PyTorch classes that learnlr leaves out (engineering, not the algorithm)
TORCH_ONLY = {
    "lion": {"use_triton", "decoupled_weight_decay"},
    "schedule_free_sgd": {"foreach"},
    "schedule_free_adamw": {"foreach"},
    "prodigy": {"fsdp_in_use", "slice_p"},
}
# arguments learnlr names as its other optimizers do (one name per option), not as the
# reference package: {method: {reference's name: learnlr's name}}
RENAMED = {"prodigy": {"decouple": "decoupled_weight_decay"}}


def _ours(method: str, kwargs: dict) -> dict:
    """The reference package's keyword arguments, under learnlr's names."""
    names = RENAMED.get(method, {})
    return {names.get(k, k): v for k, v in kwargs.items()}


def _build(case):
    spec = case["problem"]
    if spec["name"] == "quadratic":
        prob = problems.quadratic(spec["A"], b=spec["b"], x0=spec["x0"])
    else:
        prob = problems.rosenbrock(spec["a"], spec["b"], x0=spec["x0"])
    kw = _ours(case["method"], case["kwargs"])
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    sched = case["lr_schedule"]
    if sched is not None:
        base = kw.get("lr", inspect.signature(REGISTRY[case["method"]]).parameters["lr"].default)
        if sched["name"] == "cosine_annealing":
            kw["lr"] = schedules.cosine_annealing(base, T_max=sched["T_max"])
        else:  # a linear warmup from 0, then constant
            kw["lr"] = schedules.warmup_stable_decay(base, sched["warmup_steps"], 10**6, 1)
    return prob, REGISTRY[case["method"]](**kw)


def _error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), FLOOR)))


def case_errors(case) -> dict:
    """The error of each stored quantity of one case (see the tolerance rule above)."""
    prob, opt = _build(case)
    tr = run(prob, opt, DATA["steps"])
    errors = {"x": _error(tr.x, case["x"]), "loss": _error(tr.loss, case["loss"])}
    if "x_avg" in case:
        pts = eval_points(tr)
        errors["x_ref"] = _error(tr.x, case["x_ref"])
        errors["x_avg"] = _error(pts, case["x_avg"])
        errors["x_eval"] = _error(pts[-1], case["x_eval"])
    if "d" in case:
        errors["d"] = _error(tr.state["d"], case["d"])
    return errors


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["id"] for c in DATA["cases"]])
def test_agrees_with_the_reference_package(case):
    errors = case_errors(case)
    bad = {k: v for k, v in errors.items() if v > RTOL}
    assert not bad, f"{case['id']}: {bad} > {RTOL} (sensitivity {case['sensitivity']})"


def test_reference_covers_every_method_and_its_options():
    methods = {c["method"] for c in DATA["cases"]}
    assert methods == set(REGISTRY)
    settings_ = {(c["method"], c["setting"]) for c in DATA["cases"]}
    assert len(settings_) >= 15
    assert all(c["sensitivity"] <= 1e5 for c in DATA["cases"])


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_names_and_defaults_are_the_reference_packages(name):
    theirs = dict(DATA["defaults"][name])
    for key in TORCH_ONLY[name]:
        theirs.pop(key)
    theirs = _ours(name, theirs)
    ours = {
        k: (list(p.default) if isinstance(p.default, tuple) else p.default)
        for k, p in inspect.signature(REGISTRY[name]).parameters.items()
    }
    if "growth_rate" in ours:
        ours["growth_rate"] = "inf" if ours["growth_rate"] == math.inf else ours["growth_rate"]
    assert ours == theirs


def max_errors() -> dict:
    """The largest error of each quantity over all reference cases."""
    worst: dict = {}
    for case in DATA["cases"]:
        for key, value in case_errors(case).items():
            worst[key] = max(worst.get(key, 0.0), value)
    return worst


if __name__ == "__main__":
    print({k: f"{v:.1e}" for k, v in max_errors().items()})


def test_run_eval_refuses_a_start_whose_loss_overflows_naming_x0():
    prob = problems.quadratic2d()
    with pytest.raises(ValueError, match=r"^run_eval: the loss at x0 must be finite, got inf"):
        run_eval(prob, optimizers.lion(), 3, x0=[1e160, 0])
