"""Tests for learnlr.optimizers.

What is checked, and how each expectation is derived (never copied from the code's output):

* first (and some second) steps of every optimizer, worked out by hand from the update rule
  written in a comment next to the numbers;
* the shared identity ``x_new == x - info.eff_lr * info.direction`` for every optimizer, with
  all options on, over random gradient sequences (a hypothesis property);
* purity: read-only inputs and read-only state are accepted and left unchanged;
* equivalences that teach: SGD without momentum is GD, Adam with beta1 = 0 is bias-corrected
  RMSProp, AdamW without decay is Adam, NAdam with beta1 = 0 is Adam with beta1 = 0, ...;
* the step-numbering rule: a schedule passed as ``lr`` is called with ``k = state.count``;
* argument checks: every bad value is refused at the door with a message naming the function,
  the argument and the value.
"""

import inspect
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from learnlr import optimizers as O
from learnlr import schedules as S
from learnlr.optimizers.base import Optimizer, StepInfo

REGISTRY = O.TORCH

# Every option switched on, per optimizer. A test below fails when a registry entry is missing
# here, so a new optimizer is exercised with its options, not only with its defaults.
OPTIONS = {
    "gd": [dict(lr=0.1)],
    "sgd": [
        dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
        dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
    ],
    "adagrad": [dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1)],
    "rmsprop": [
        dict(lr=0.01, alpha=0.9, weight_decay=0.01, momentum=0.9, centered=True),
        dict(lr=0.01, weight_decay=0.01, centered=True),
    ],
    "adadelta": [dict(lr=0.5, rho=0.95, weight_decay=0.01)],
    "adam": [
        dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.01, amsgrad=True),
        dict(lr=0.05, weight_decay=0.1, amsgrad=True, decoupled_weight_decay=True),
    ],
    "adamw": [dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)],
    "nadam": [
        dict(lr=0.05, weight_decay=0.01, momentum_decay=0.01),
        dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    ],
    # beta2 = 0.9 reaches rho_t > 5 (the adaptive branch) at t = 6
    "radam": [
        dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.01),
        dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True),
    ],
}

# (name, kwargs): the defaults plus every "all options" configuration, for each registry entry.
CASES = [
    (name, kwargs)
    for name in REGISTRY
    for kwargs in [{}] + OPTIONS.get(name, [])  # a missing entry is reported by a test below
]
CASE_IDS = [
    f"{name}-{'defaults' if not kwargs else 'options' + str(OPTIONS[name].index(kwargs) + 1)}"
    for name, kwargs in CASES
]


def _make(name, kwargs, **override):
    return REGISTRY[name](**{**kwargs, **override})


def _run(opt, x, grads):
    """Feed a fixed gradient sequence; return the list of (x_new, state, info) after each step."""
    state = opt.init(x)
    out = []
    for g in grads:
        x, state, info = opt.step(x, np.asarray(g, dtype=float), state)
        out.append((x, state, info))
    return out


def _xs(opt, x0, grads):
    return [x for x, _, _ in _run(opt, np.asarray(x0, dtype=float), grads)]


RNG_GRADS = np.random.default_rng(20240611).standard_normal((12, 3)) * np.array([1.0, 0.01, 5.0])
X0 = np.array([0.5, -1.0, 2.0])


# --------------------------------------------------------------------------------------
# The registry and the Optimizer shape
# --------------------------------------------------------------------------------------
def test_every_registry_entry_has_an_options_row():
    missing = sorted(set(REGISTRY) - set(OPTIONS))
    assert not missing, f"add 'all options on' settings to OPTIONS for {missing}"


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_factory_returns_an_optimizer_of_pure_functions(name, kwargs):
    opt = _make(name, kwargs)
    assert isinstance(opt, Optimizer)
    assert opt.name == name
    state = opt.init(X0)
    # the state is a small NamedTuple whose first field counts the updates done
    assert state._fields[0] == "count" and state.count == 0
    x1, state1, info = opt.step(X0, RNG_GRADS[0], state)
    assert type(state1) is type(state)
    assert state1.count == 1
    assert isinstance(info, StepInfo)
    assert x1.shape == X0.shape
    assert np.shape(info.eff_lr) == X0.shape and np.shape(info.direction) == X0.shape
    assert isinstance(info.lr, float)
    assert np.all(np.isfinite(x1))


def test_stepinfo_keeps_its_three_positional_fields_and_terms_default_to_empty():
    info = StepInfo(0.1, np.ones(2), np.zeros(2))
    lr, eff_lr, direction = info[:3]
    assert lr == 0.1 and eff_lr.shape == direction.shape == (2,)
    assert dict(info.terms) == {}
    with pytest.raises(TypeError):
        info.terms["m_hat"] = 1.0  # the shared default is read-only


# The keys each optimizer's step hands to its explain (documented in its docstring).
TERMS = {
    "gd": set(),
    "sgd": {"g"},
    "adagrad": {"t", "g", "g2", "sqrt_G"},
    "rmsprop": {"g", "g2", "s", "g_s"},
    "adadelta": {"g", "rms_u", "rms_v", "delta"},
    "adam": {"t", "g", "g2", "c1", "c2", "m_hat", "v_hat", "sqrt_v_hat", "decay"},
    "adamw": {"t", "g", "g2", "c1", "c2", "m_hat", "v_hat", "sqrt_v_hat", "decay"},
    "nadam": {"t", "g", "mu_t", "mu_next", "d", "decay"},
    "radam": {"t", "g", "m_hat", "rho_t", "decay"},
    "lion": {"c", "sign_c", "decay"},
    "schedule_free_sgd": {"warm", "s", "gn", "weight", "c"},
    "schedule_free_adamw": {"warm", "s", "gn", "weight", "c"},
    "prodigy": {"g", "s_norm", "d_hat"},
}


@pytest.mark.parametrize("name", O.REGISTRY)
def test_step_hands_its_intermediates_to_explain_in_terms(name):
    assert set(TERMS) == set(O.REGISTRY)
    opt = O.REGISTRY[name](lr=0.05)
    x, state = X0, opt.init(X0)
    for g in RNG_GRADS[:3]:
        x, state, info = opt.step(x, g, state)
    assert set(info.terms) == TERMS[name]


def test_adam_terms_are_the_equations_values():
    opt = O.adam(lr=0.1, betas=(0.8, 0.9), amsgrad=True, weight_decay=0.1)
    x, state = X0, opt.init(X0)
    for g in RNG_GRADS[:3]:
        x_new, new, info = opt.step(x, g, state)
        t = info.terms
        assert np.array_equal(t["g"], g + 0.1 * x)  # the L2 penalty is in g
        assert t["c1"] == 1 - 0.8 ** t["t"] and t["c2"] == 1 - 0.9 ** t["t"]
        assert np.array_equal(t["m_hat"], new.m / t["c1"])
        assert np.array_equal(t["v_hat"], new.v_max / t["c2"])
        assert np.allclose(info.eff_lr, 0.1 / (t["sqrt_v_hat"] + 1e-8), rtol=1e-15)
        x, state = x_new, new


@pytest.mark.parametrize(
    "name, kwargs, own",
    [
        ("adamw", dict(weight_decay=0.3), "m_hat"),
        ("adam", dict(weight_decay=0.3, decoupled_weight_decay=True), "m_hat"),
        ("nadam", dict(weight_decay=0.3, decoupled_weight_decay=True), "d"),
        ("radam", dict(weight_decay=0.3, decoupled_weight_decay=True), "m_hat"),
        ("lion", dict(weight_decay=0.3), "sign_c"),
    ],
)
def test_decoupled_decay_is_the_decay_term_and_direction_keeps_the_identity(name, kwargs, own):
    opt = O.REGISTRY[name](lr=0.05, **kwargs)
    x, state = X0, opt.init(X0)
    for g in RNG_GRADS[:8]:  # radam's adaptive branch (rho_t > 5) starts later
        x_new, state, info = opt.step(x, g, state)
        decay = info.terms["decay"]
        assert decay == 1 - 0.05 * 0.3
        # the decay shrinks x; the algorithm's own direction is in terms
        assert np.allclose(x_new, decay * x - info.eff_lr * info.terms[own], rtol=1e-13)
        # and direction still includes the decay, so that the shared identity holds
        assert np.allclose(x_new, x - info.eff_lr * info.direction, rtol=1e-12, atol=1e-15)
        assert not np.allclose(info.direction, info.terms[own])
        x = x_new


def _public_params(factory) -> list[str]:
    # The deliberate rule: a factory's hyper-parameters are its arguments except private
    # keyword-only ones (adam's _name, with which adamw calls adam); those start with "_".
    params = inspect.signature(factory).parameters
    private = [p for name, p in params.items() if name.startswith("_")]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in private), private
    return [name for name in params if not name.startswith("_")]


def test_adamw_is_adam_with_the_decoupled_decay_under_its_own_name():
    assert list(inspect.signature(O.adam).parameters)[-1] == "_name"
    assert repr(O.adamw(lr=0.1)) == (
        "adamw(lr=0.1, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)"
    )
    x, g = np.array([1.0, -2.0]), np.array([0.5, 0.1])
    a, w = (
        O.adam(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True),
        O.adamw(lr=0.1, weight_decay=0.1),
    )
    xa, sa, ia = a.step(x, g, a.init(x))
    xw, sw, iw = w.step(x, g, w.init(x))
    assert np.array_equal(xa, xw) and np.array_equal(sa.v, sw.v)
    assert np.array_equal(ia.direction, iw.direction)
    with pytest.raises(ValueError, match=r"^adamw: eps must be >= 0, got -1.0"):
        O.adamw(eps=-1)


@pytest.mark.parametrize("name", REGISTRY)
def test_hyperparams_are_the_factory_arguments_and_repr_shows_them(name):
    factory = REGISTRY[name]
    opt = factory()
    params = _public_params(factory)
    assert list(opt.hyperparams) == params
    text = repr(opt)
    assert text.startswith(f"{name}(") and text.endswith(")")
    for p in params:
        assert f"{p}=" in text, f"{p} missing from {text}"


def test_repr_shows_values_and_schedule_labels():
    assert repr(O.sgd(lr=0.05, momentum=0.9)) == (
        "sgd(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)"
    )
    assert "betas=(0.8, 0.99)" in repr(O.adam(betas=(0.8, 0.99)))
    sched = S.cosine_annealing(base_lr=0.1, T_max=10)
    assert f"lr={sched.label}" in repr(O.adam(lr=sched))

    def warm(k):
        return 0.1

    assert repr(O.gd(lr=warm)) == "gd(lr=warm)"


# --------------------------------------------------------------------------------------
# Hand-computed steps
# --------------------------------------------------------------------------------------
def test_gd_first_step():
    # x1 = x0 - lr * g = [1, -2] - 0.1 * [0.5, 3] = [0.95, -2.3]
    (x1,) = _xs(O.gd(lr=0.1), [1.0, -2.0], [[0.5, 3.0]])
    np.testing.assert_allclose(x1, [0.95, -2.3], rtol=1e-15)


G1, G2 = np.array([1.0, -2.0]), np.array([0.5, 0.5])


def test_sgd_momentum_two_steps():
    # b1 = g1 (the first update copies the gradient), x1 = x0 - lr b1 = -0.1 [1, -2]
    # b2 = mu b1 + g2 = 0.9 [1, -2] + [0.5, 0.5] = [1.4, -1.3]
    # x2 = x1 - lr b2 = [-0.1, 0.2] - 0.1 [1.4, -1.3] = [-0.24, 0.33]
    (x1, s1, i1), (x2, s2, i2) = _run(O.sgd(lr=0.1, momentum=0.9), np.zeros(2), [G1, G2])
    np.testing.assert_allclose(x1, [-0.1, 0.2], rtol=1e-14)
    np.testing.assert_allclose(s2.b, [1.4, -1.3], rtol=1e-14)
    np.testing.assert_allclose(x2, [-0.24, 0.33], rtol=1e-14)


def test_sgd_dampening_applies_from_the_second_update():
    # PyTorch: b1 = g1 (not damped); b2 = mu b1 + (1 - tau) g2 = 0.9 [1, -2] + 0.5 [0.5, 0.5]
    #        = [1.15, -1.55]; x2 = -0.1 g1 - 0.1 b2 = [-0.215, 0.355]
    (x1, s1, _), (x2, s2, _) = _run(
        O.sgd(lr=0.1, momentum=0.9, dampening=0.5), np.zeros(2), [G1, G2]
    )
    np.testing.assert_allclose(s1.b, G1, rtol=0)
    np.testing.assert_allclose(s2.b, [1.15, -1.55], rtol=1e-14)
    np.testing.assert_allclose(x2, [-0.215, 0.355], rtol=1e-14)


def test_sgd_nesterov_two_steps():
    # d1 = g1 + mu b1 = 1.9 g1 -> x1 = -0.19 [1, -2] = [-0.19, 0.38]
    # b2 = 0.9 g1 + g2 = [1.4, -1.3];  d2 = g2 + mu b2 = [0.5 + 1.26, 0.5 - 1.17] = [1.76, -0.67]
    # x2 = x1 - 0.1 d2 = [-0.366, 0.447]
    (x1, _, i1), (x2, _, i2) = _run(
        O.sgd(lr=0.1, momentum=0.9, nesterov=True), np.zeros(2), [G1, G2]
    )
    np.testing.assert_allclose(x1, [-0.19, 0.38], rtol=1e-14)
    np.testing.assert_allclose(i2.direction, [1.76, -0.67], rtol=1e-14)
    np.testing.assert_allclose(x2, [-0.366, 0.447], rtol=1e-14)


def test_sgd_weight_decay_adds_lambda_x_to_the_gradient():
    # g <- g + lambda x = [0.5, 3] + 0.1 [1, -2] = [0.6, 2.8];  x1 = x0 - 0.1 g = [0.94, -2.28]
    (x1,) = _xs(O.sgd(lr=0.1, weight_decay=0.1), [1.0, -2.0], [[0.5, 3.0]])
    np.testing.assert_allclose(x1, [0.94, -2.28], rtol=1e-14)


def test_adagrad_first_step_is_lr_times_sign():
    # G = g^2, x1 = x0 - lr g / (|g| + eps) ~= x0 - lr sign(g), whatever the gradient's size
    g = np.array([2.0, -0.5, 1e-3, 0.0])
    (x1,) = _xs(O.adagrad(lr=0.1), np.ones(4), [g])
    np.testing.assert_allclose(x1, 1 - 0.1 * g / (np.abs(g) + 1e-10), rtol=1e-15)
    np.testing.assert_allclose(x1, [0.9, 1.1, 0.9, 1.0], rtol=1e-6)


def test_adagrad_second_step_with_lr_decay():
    # g1 = [3, -4], g2 = [4, 3]: G = [9 + 16, 16 + 9] = [25, 25], sqrt(G) = 5
    # lr_2 = lr / (1 + (t - 1) delta) = 0.1 / 1.5;  x2 = x1 - lr_2 * g2 / 5
    # x1 ~= -0.1 sign(g1) = [-0.1, 0.1];  x2 = [-0.1 - 0.4/7.5, 0.1 - 0.3/7.5] = [-0.15333, 0.06]
    (x1, _, i1), (x2, s2, i2) = _run(
        O.adagrad(lr=0.1, lr_decay=0.5), np.zeros(2), [[3.0, -4.0], [4.0, 3.0]]
    )
    np.testing.assert_allclose(s2.G, [25.0, 25.0], rtol=0)
    assert i1.lr == 0.1
    assert i2.lr == pytest.approx(0.1 / 1.5, rel=1e-15)
    np.testing.assert_allclose(x2, [-0.1 - 0.4 / 7.5, 0.1 - 0.3 / 7.5], rtol=1e-9)


def test_adagrad_initial_accumulator_value():
    # G = a + g^2 = 0.1 + 0.09 = 0.19;  x1 = -lr * 0.3 / sqrt(0.19)
    (x1,) = _xs(O.adagrad(lr=0.1, initial_accumulator_value=0.1), [0.0], [[0.3]])
    np.testing.assert_allclose(x1, [-0.1 * 0.3 / (np.sqrt(0.19) + 1e-10)], rtol=1e-14)


def test_rmsprop_first_and_second_steps():
    # v1 = (1 - alpha) g^2 -> step 1 = lr g / (sqrt(1 - alpha) |g| + eps)   (= 10 lr sign(g))
    # same g again: v2 = alpha (1 - alpha) g^2 + (1 - alpha) g^2 = (1 - alpha^2) g^2
    #            -> step 2 = lr g / (sqrt(1 - alpha^2) |g| + eps)
    lr, alpha, eps = 0.01, 0.99, 1e-8
    g = np.array([3.0, -0.2])
    (x1, _, _), (x2, _, _) = _run(O.rmsprop(lr=lr, alpha=alpha, eps=eps), np.zeros(2), [g, g])
    step1 = lr * g / (np.sqrt(1 - alpha) * np.abs(g) + eps)
    step2 = lr * g / (np.sqrt(1 - alpha**2) * np.abs(g) + eps)
    np.testing.assert_allclose(x1, -step1, rtol=1e-12)
    np.testing.assert_allclose(x1, [-0.1, 0.1], rtol=1e-6)  # 10 times lr, the warning
    np.testing.assert_allclose(x2, -step1 - step2, rtol=1e-12)


def test_rmsprop_centered_first_step():
    # v = (1 - a) g^2, g_avg = (1 - a) g, v - g_avg^2 = a (1 - a) g^2
    # step = lr g / (sqrt(a (1 - a)) |g| + eps)
    lr, a = 0.01, 0.9
    g = np.array([2.0, -1.0])
    (x1,) = _xs(O.rmsprop(lr=lr, alpha=a, centered=True), np.zeros(2), [g])
    np.testing.assert_allclose(x1, -lr * g / (np.sqrt(a * (1 - a)) * np.abs(g) + 1e-8), rtol=1e-12)


def test_rmsprop_momentum_accumulates_the_plain_steps():
    # With the same gradients, v (hence s) does not depend on momentum, and
    # b_k = mu b_{k-1} + g_k / s_k  ->  step_k(momentum) = mu step_{k-1}(momentum) + step_k(plain)
    mu = 0.8
    plain = _xs(O.rmsprop(lr=0.01), X0, RNG_GRADS)
    heavy = _xs(O.rmsprop(lr=0.01, momentum=mu), X0, RNG_GRADS)
    d_plain = np.diff(np.vstack([X0] + plain), axis=0)
    d_heavy = np.diff(np.vstack([X0] + heavy), axis=0)
    np.testing.assert_allclose(d_heavy[0], d_plain[0], rtol=1e-13)
    np.testing.assert_allclose(d_heavy[1:], mu * d_heavy[:-1] + d_plain[1:], rtol=1e-9, atol=1e-15)


def test_adadelta_first_two_steps():
    # u0 = 0:  v1 = (1 - rho) g1^2,  Delta1 = sqrt(eps) / sqrt(v1 + eps) * g1,  x1 = x0 - lr Delta1
    #          u1 = (1 - rho) Delta1^2
    # step 2:  v2 = rho v1 + (1 - rho) g2^2,  Delta2 = sqrt(u1 + eps) / sqrt(v2 + eps) * g2
    rho, eps, lr = 0.9, 1e-6, 1.0
    g1, g2 = np.array([1.0, -3.0]), np.array([0.5, 2.0])
    (x1, s1, i1), (x2, s2, i2) = _run(O.adadelta(lr=lr, rho=rho, eps=eps), np.zeros(2), [g1, g2])
    v1 = (1 - rho) * g1**2
    d1 = np.sqrt(eps) / np.sqrt(v1 + eps) * g1
    u1 = (1 - rho) * d1**2
    v2 = rho * v1 + (1 - rho) * g2**2
    d2 = np.sqrt(u1 + eps) / np.sqrt(v2 + eps) * g2
    np.testing.assert_allclose(x1, -lr * d1, rtol=1e-13)
    np.testing.assert_allclose(s1.u, u1, rtol=1e-13)
    np.testing.assert_allclose(x2, -lr * d1 - lr * d2, rtol=1e-13)
    # the documented example: eff_lr of the first step is sqrt(1e-6) / sqrt(0.1 + 1e-6)
    assert i1.eff_lr[0] == pytest.approx(np.sqrt(1e-6) / np.sqrt(0.1 + 1e-6), rel=1e-13)


def test_adam_first_step_is_about_lr_times_sign():
    # m = (1 - b1) g, v = (1 - b2) g^2  ->  m_hat = g, v_hat = g^2,  step = lr g / (|g| + eps)
    g = np.array([5.0, -0.01, 1e-4])
    (x1, _, info) = _run(O.adam(lr=0.1), np.ones(3), [g])[0]
    np.testing.assert_allclose(info.direction, g, rtol=1e-14)  # direction = m_hat = g
    np.testing.assert_allclose(x1, 1 - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(x1, [0.9, 1.1, 0.9], rtol=1e-4)
    # scale invariance: 1000 times the gradient gives the same first step (up to eps)
    (y1,) = _xs(O.adam(lr=0.1), np.ones(3), [1000 * g])
    np.testing.assert_allclose(y1, x1, rtol=0, atol=2e-5)


def test_adam_second_step():
    # m2 = b1 (1 - b1) g1 + (1 - b1) g2,  m_hat = m2 / (1 - b1^2)
    # v2 = b2 (1 - b2) g1^2 + (1 - b2) g2^2,  v_hat = v2 / (1 - b2^2)
    # x2 = x1 - lr m_hat / (sqrt(v_hat) + eps)
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    g1, g2 = np.array([1.0, -2.0]), np.array([3.0, 1.0])
    (x1, _, _), (x2, s2, i2) = _run(O.adam(lr=lr), np.zeros(2), [g1, g2])
    m2 = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v2 = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    m_hat, v_hat = m2 / (1 - b1**2), v2 / (1 - b2**2)
    np.testing.assert_allclose(s2.m, m2, rtol=1e-14)
    np.testing.assert_allclose(s2.v, v2, rtol=1e-14)
    np.testing.assert_allclose(i2.direction, m_hat, rtol=1e-14)
    np.testing.assert_allclose(x2 - x1, -lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-12)


def test_amsgrad_uses_the_largest_v_seen():
    # g1 = 10 then g2 = 0.1: v1 = (1 - b2) 100 = 0.1, v2 = b2 v1 + (1 - b2) 0.01 = 0.09991 < v1,
    # so v_max = v1 and the second step is lr m_hat / (sqrt(v1 / (1 - b2^2)) + eps), smaller
    # than Adam's (which divides by the smaller sqrt(v2 / (1 - b2^2)))
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    grads = [[10.0], [0.1]]
    (_, _, _), (x2, s2, _) = _run(O.adam(lr=lr, amsgrad=True), np.zeros(1), grads)
    (_, _, _), (y2, _, _) = _run(O.adam(lr=lr), np.zeros(1), grads)
    v1 = (1 - b2) * 100.0
    np.testing.assert_allclose(s2.v_max, [v1], rtol=1e-15)
    m_hat = (b1 * (1 - b1) * 10 + (1 - b1) * 0.1) / (1 - b1**2)
    x1 = -lr * 10 / (10 + eps)
    np.testing.assert_allclose(
        x2, [x1 - lr * m_hat / (np.sqrt(v1 / (1 - b2**2)) + eps)], rtol=1e-12
    )
    assert abs(x2[0] - x1) < abs(y2[0] - x1)


def test_amsgrad_equals_adam_when_gradients_grow():
    # if |g| never decreases, v never decreases (v is an average of past g^2 <= the current g^2),
    # so v_max == v and AMSGrad takes Adam's steps
    grads = np.outer(np.arange(1.0, 9.0), [1.0, -2.0, 0.5])
    a = _xs(O.adam(lr=0.05, amsgrad=True), X0, grads)
    b = _xs(O.adam(lr=0.05), X0, grads)
    np.testing.assert_array_equal(np.array(a), np.array(b))


def test_adamw_first_step_decays_then_steps():
    # x1 = x0 (1 - lr lambda) - lr g / (|g| + eps)
    lr, lam = 0.1, 0.5
    x0, g = np.array([2.0, -1.0]), np.array([0.0, 4.0])
    (x1,) = _xs(O.adamw(lr=lr, weight_decay=lam), x0, [g])
    np.testing.assert_allclose(x1, x0 * (1 - lr * lam) - lr * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert x1[0] == pytest.approx(1.9, rel=1e-15)  # zero gradient: only the decay, 2 * 0.95


def test_nadam_first_step():
    # t = 1: mu_1 = b1 (1 - 0.5 * 0.96^psi), mu_2 = b1 (1 - 0.5 * 0.96^(2 psi)), Pi_1 = mu_1
    # m = (1 - b1) g, v_hat = g^2, so
    # d = (1 - mu_1)/(1 - Pi_1) g + mu_2/(1 - Pi_1 mu_2) m = g (1 + mu_2 (1 - b1)/(1 - mu_1 mu_2))
    # x1 = x0 - lr d / (|g| + eps)
    lr, b1, psi, eps = 0.1, 0.9, 4e-3, 1e-8
    g = np.array([2.0, -0.5])
    (x1, s1, info) = _run(O.nadam(lr=lr), np.ones(2), [g])[0]
    mu1 = b1 * (1 - 0.5 * 0.96**psi)
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    d = g * (1 + mu2 * (1 - b1) / (1 - mu1 * mu2))
    np.testing.assert_allclose(info.direction, d, rtol=1e-13)
    np.testing.assert_allclose(x1, 1 - lr * d / (np.abs(g) + eps), rtol=1e-12)
    assert s1.mu_product == pytest.approx(mu1, rel=1e-15)
    # the documented example: about 0.8944 for x0 = 1, g = 2
    assert x1[0] == pytest.approx(0.8944, abs=5e-5)


def _rho(t, b2):
    rho_inf = 2 / (1 - b2) - 1
    return rho_inf - 2 * t * b2**t / (1 - b2**t)


def test_radam_first_steps_are_unadapted_momentum_steps():
    # rho_t = rho_inf - 2 t b2^t / (1 - b2^t), rho_inf = 2/(1 - b2) - 1; with b2 = 0.999
    # rho_1..rho_5 <= 5, so x_t = x_{t-1} - lr m_hat_t with m_hat = m / (1 - b1^t)
    lr, b1, b2 = 0.1, 0.9, 0.999
    assert [_rho(t, b2) <= 5 for t in range(1, 7)] == [True] * 5 + [False]
    grads = RNG_GRADS[:5]
    x, m = X0.copy(), np.zeros(3)
    outs = _run(O.radam(lr=lr), X0, grads)
    for t, (g, (x_new, _, info)) in enumerate(zip(grads, outs, strict=True), start=1):
        m = b1 * m + (1 - b1) * g
        m_hat = m / (1 - b1**t)
        x = x - lr * m_hat
        np.testing.assert_allclose(info.direction, m_hat, rtol=1e-13)
        np.testing.assert_allclose(info.eff_lr, lr, rtol=0)
        np.testing.assert_allclose(x_new, x, rtol=1e-13)
    # the first step is lr * g exactly (m_hat = g): the documented example 1 - 0.1 * 2 = 0.8
    (y1,) = _xs(O.radam(lr=0.1), [1.0], [[2.0]])
    assert y1[0] == pytest.approx(0.8, rel=1e-15)


def test_radam_sixth_step_is_rectified():
    # t = 6 with b2 = 0.999: rho_6 > 5, step = lr r_6 sqrt(1 - b2^6) / (sqrt(v) + eps) m_hat,
    # r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    grads = RNG_GRADS[:6]
    outs = _run(O.radam(lr=lr), X0, grads)
    m = v = np.zeros(3)
    for g in grads:
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
    rho_inf, rho6 = 2 / (1 - b2) - 1, _rho(6, b2)
    r6 = np.sqrt((rho6 - 4) * (rho6 - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho6))
    step = lr * r6 * np.sqrt(1 - b2**6) / (np.sqrt(v) + eps) * m / (1 - b1**6)
    np.testing.assert_allclose(outs[5][0] - outs[4][0], -step, rtol=1e-10)


# --------------------------------------------------------------------------------------
# The shared identity x_new = x - eff_lr * direction
# --------------------------------------------------------------------------------------
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False)
vectors = hnp.arrays(np.float64, 3, elements=finite)


def _assert_identity(x, x_new, info):
    predicted = x - info.eff_lr * info.direction
    scale = 1.0 + np.abs(x) + np.abs(info.eff_lr * info.direction)
    np.testing.assert_allclose(x_new, predicted, rtol=0, atol=1e-12 * scale.max())


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
@settings(max_examples=30, deadline=None)
@given(
    x=vectors,
    grads=st.lists(vectors, min_size=1, max_size=12),
    lr=st.floats(1e-4, 1.0),
)
def test_x_new_is_x_minus_eff_lr_times_direction(name, kwargs, x, grads, lr):
    opt = _make(name, kwargs, lr=lr)
    state = opt.init(x)
    for g in grads:
        x_new, state, info = opt.step(x, g, state)
        assert np.all(np.isfinite(x_new))
        assert np.all(np.isfinite(info.eff_lr)) and np.all(np.isfinite(info.direction))
        _assert_identity(x, x_new, info)
        x = x_new


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_a_rate_that_reaches_zero_freezes_x_and_keeps_the_identity(name, kwargs):
    # polynomial_lr(total_iters=3) gives rates 0.05, 0.033, 0.017, then 0 from update 3 on.
    # With lr = 0 nothing moves (decoupled decay x (1 - lr lambda) included), and info must
    # still be finite with x_new == x - eff_lr * direction; no floating-point warnings.
    opt = _make(name, kwargs, lr=S.polynomial_lr(0.05, total_iters=3))
    x, state = X0.copy(), opt.init(X0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k, g in enumerate(RNG_GRADS[:6]):
            x_new, state, info = opt.step(x, g, state)
            assert np.all(np.isfinite(info.eff_lr)), f"eff_lr not finite at k={k}"
            assert np.all(np.isfinite(info.direction)), f"direction not finite at k={k}"
            _assert_identity(x, x_new, info)
            if k >= 3:
                assert info.lr == 0.0
                np.testing.assert_array_equal(x_new, x)
            x = x_new


# --------------------------------------------------------------------------------------
# Purity
# --------------------------------------------------------------------------------------
def _read_only(state):
    for value in state:
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return state


def _copy(state):
    return [np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in state]


def _assert_same_state(state, copy):
    for field, now, before in zip(state._fields, state, copy, strict=True):
        np.testing.assert_array_equal(now, before, err_msg=f"state.{field} was modified")


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_step_does_not_modify_its_inputs(name, kwargs):
    opt = _make(name, kwargs)
    x = X0.copy()
    x.setflags(write=False)
    init_x_copy = x.copy()
    state = _read_only(opt.init(x))
    np.testing.assert_array_equal(x, init_x_copy)  # init does not touch x either
    for g in RNG_GRADS[:4]:
        g = g.copy()
        g.setflags(write=False)
        x_copy, g_copy, state_copy = x.copy(), g.copy(), _copy(state)
        x_new, new_state, _ = opt.step(x, g, state)  # raises if it writes to a read-only array
        np.testing.assert_array_equal(x, x_copy)
        np.testing.assert_array_equal(g, g_copy)
        _assert_same_state(state, state_copy)
        assert new_state is not state
        assert not np.shares_memory(x_new, x)
        x_new.setflags(write=False)
        x, state = x_new, _read_only(new_state)


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_step_is_deterministic(name, kwargs):
    # the same inputs give the same outputs: nothing is remembered between calls
    opt = _make(name, kwargs)
    run1 = _xs(opt, X0, RNG_GRADS)
    run2 = _xs(opt, X0, RNG_GRADS)
    np.testing.assert_array_equal(np.array(run1), np.array(run2))


# --------------------------------------------------------------------------------------
# Equivalences
# --------------------------------------------------------------------------------------
def test_sgd_without_momentum_is_gd():
    a = _xs(O.sgd(lr=0.07), X0, RNG_GRADS)
    b = _xs(O.gd(lr=0.07), X0, RNG_GRADS)
    np.testing.assert_array_equal(np.array(a), np.array(b))


def test_adam_with_beta1_zero_is_bias_corrected_rmsprop():
    # hand-written bias-corrected RMSProp: v = b2 v + (1 - b2) g^2,
    # x <- x - lr g / (sqrt(v / (1 - b2^t)) + eps)
    lr, b2, eps = 0.05, 0.99, 1e-8
    got = _xs(O.adam(lr=lr, betas=(0.0, b2), eps=eps), X0, RNG_GRADS)
    x, v = X0.copy(), np.zeros(3)
    for t, g in enumerate(RNG_GRADS, start=1):
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * g / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(got[t - 1], x, rtol=1e-13, atol=1e-15)


def test_nadam_with_beta1_zero_is_adam_with_beta1_zero():
    # b1 = 0: mu_t = 0 and Pi_t = 0, so d = g and NAdam's step is Adam's (= RMSProp's)
    a = _xs(O.nadam(lr=0.05, betas=(0.0, 0.99)), X0, RNG_GRADS)
    b = _xs(O.adam(lr=0.05, betas=(0.0, 0.99)), X0, RNG_GRADS)
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-13)


def test_adamw_without_decay_is_adam():
    a = _xs(O.adamw(lr=0.05, weight_decay=0.0), X0, RNG_GRADS)
    b = _xs(O.adam(lr=0.05), X0, RNG_GRADS)
    np.testing.assert_array_equal(np.array(a), np.array(b))


def test_adamw_is_adam_on_the_decayed_point():
    # one AdamW step from x = shrink x by (1 - lr lambda), then take Adam's step
    lr, lam = 0.05, 0.3
    adamw, adam = O.adamw(lr=lr, weight_decay=lam), O.adam(lr=lr)
    sw, sa, x = adamw.init(X0), adam.init(X0), X0.copy()
    for g in RNG_GRADS:
        x_w, sw, _ = adamw.step(x, g, sw)
        x_a, sa, _ = adam.step(x, g, sa)
        np.testing.assert_allclose(x_w, x * (1 - lr * lam) + (x_a - x), rtol=1e-13, atol=1e-15)
        x = x_w


def test_adam_with_decoupled_weight_decay_is_adamw():
    # adam(..., decoupled_weight_decay=True) equals adamw, as in PyTorch
    kw = dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.3, amsgrad=True)
    a = _xs(O.adam(decoupled_weight_decay=True, **kw), X0, RNG_GRADS)
    b = _xs(O.adamw(**kw), X0, RNG_GRADS)
    np.testing.assert_array_equal(np.array(a), np.array(b))


def test_adam_weight_decay_is_adam_on_g_plus_lambda_x():
    lr, lam = 0.05, 0.3
    coupled, plain = O.adam(lr=lr, weight_decay=lam), O.adam(lr=lr)
    sc, sp, x = coupled.init(X0), plain.init(X0), X0.copy()
    for g in RNG_GRADS:
        x_c, sc, _ = coupled.step(x, g, sc)
        x_p, sp, _ = plain.step(x, g + lam * x, sp)
        np.testing.assert_array_equal(x_c, x_p)
        x = x_c


@pytest.mark.parametrize("name", REGISTRY)
def test_a_constant_schedule_equals_the_constant(name):
    a = _xs(REGISTRY[name](lr=S.constant(0.03)), X0, RNG_GRADS)
    b = _xs(REGISTRY[name](lr=0.03), X0, RNG_GRADS)
    np.testing.assert_array_equal(np.array(a), np.array(b))


@pytest.mark.parametrize("name", REGISTRY)
def test_a_schedule_is_called_with_k_equal_to_state_count(name):
    calls = []

    def schedule(k):
        calls.append(k)
        return 0.01 * (k + 1)

    opt = REGISTRY[name](lr=schedule)
    state, x = opt.init(X0), X0.copy()
    for k, g in enumerate(RNG_GRADS[:4]):
        assert state.count == k
        x, state, info = opt.step(x, g, state)
        assert info.lr == pytest.approx(0.01 * (k + 1), rel=1e-15)
    assert calls == [0, 1, 2, 3]


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------
def _params(name):
    return inspect.signature(REGISTRY[name]).parameters


BAD = [
    # (factory, kwargs, exception, pieces the message must contain)
    ("adam", dict(betas=(1.2, 0.999)), ValueError, ["adam: betas[0] must be in [0, 1), got 1.2"]),
    ("adam", dict(betas=(0.9, 1.0)), ValueError, ["adam", "betas[1]", "1.0"]),
    ("adam", dict(betas=(-0.1, 0.999)), ValueError, ["adam", "betas[0]", "-0.1"]),
    ("adam", dict(betas=0.9), TypeError, ["adam", "betas", "0.9"]),
    ("adam", dict(betas=(0.9, 0.99, 0.9)), TypeError, ["adam", "betas"]),
    ("adam", dict(betas=("0.9", 0.99)), TypeError, ["adam", "betas[0]", "'0.9'"]),
    ("adamw", dict(betas=(0.9, 1.5)), ValueError, ["adamw", "betas[1]", "1.5"]),
    ("nadam", dict(betas=(1.0, 0.999)), ValueError, ["nadam", "betas[0]", "1.0"]),
    ("radam", dict(betas=(0.9, -0.5)), ValueError, ["radam", "betas[1]", "-0.5"]),
    ("adam", dict(amsgrad="yes"), TypeError, ["adam", "amsgrad", "'yes'"]),
    (
        "adam",
        dict(decoupled_weight_decay="yes"),
        TypeError,
        ["adam", "decoupled_weight_decay", "'yes'"],
    ),
    ("adamw", dict(amsgrad=1), TypeError, ["adamw", "amsgrad", "1"]),
    ("adam", dict(eps=float("nan")), ValueError, ["adam", "eps", "nan"]),
    ("adam", dict(lr=float("inf")), ValueError, ["adam", "lr", "inf"]),
    ("sgd", dict(momentum=-0.5), ValueError, ["sgd", "momentum", "-0.5"]),
    ("sgd", dict(nesterov=True), ValueError, ["sgd", "nesterov", "momentum", "0"]),
    (
        "sgd",
        dict(nesterov=True, momentum=0.9, dampening=0.5),
        ValueError,
        ["sgd", "nesterov", "dampening", "0.5"],
    ),
    ("sgd", dict(dampening=1.5), ValueError, ["sgd", "dampening", "1.5"]),
    ("sgd", dict(nesterov="yes"), TypeError, ["sgd", "nesterov", "'yes'"]),
    ("sgd", dict(momentum="0.9"), TypeError, ["sgd", "momentum", "'0.9'"]),
    ("rmsprop", dict(alpha=1.0), ValueError, ["rmsprop", "alpha", "1.0"]),
    ("rmsprop", dict(alpha=-0.1), ValueError, ["rmsprop", "alpha", "-0.1"]),
    ("rmsprop", dict(momentum=-0.9), ValueError, ["rmsprop", "momentum", "-0.9"]),
    ("rmsprop", dict(centered=1), TypeError, ["rmsprop", "centered", "1"]),
    ("adagrad", dict(lr_decay=-0.1), ValueError, ["adagrad", "lr_decay", "-0.1"]),
    (
        "adagrad",
        dict(initial_accumulator_value=-1),
        ValueError,
        ["adagrad", "initial_accumulator_value", "-1"],
    ),
    ("adadelta", dict(rho=1.5), ValueError, ["adadelta", "rho", "1.5"]),
    ("adadelta", dict(rho=-0.1), ValueError, ["adadelta", "rho", "-0.1"]),
    ("nadam", dict(momentum_decay=-1e-3), ValueError, ["nadam", "momentum_decay", "-0.001"]),
    (
        "nadam",
        dict(decoupled_weight_decay=None),
        TypeError,
        ["nadam", "decoupled_weight_decay", "None"],
    ),
    (
        "radam",
        dict(decoupled_weight_decay="no"),
        TypeError,
        ["radam", "decoupled_weight_decay", "'no'"],
    ),
]
# and for every optimizer, the arguments they share
for _name in REGISTRY:
    BAD += [
        (_name, dict(lr=-1), ValueError, [_name, "lr", "-1"]),
        (_name, dict(lr="0.1"), TypeError, [_name, "lr", "'0.1'"]),
        (_name, dict(lr=None), TypeError, [_name, "lr", "None"]),
        (_name, dict(lr=True), TypeError, [_name, "lr", "True"]),
    ]
    if "eps" in _params(_name):
        BAD.append((_name, dict(eps=-1), ValueError, [_name, "eps", "-1"]))
    if "weight_decay" in _params(_name):
        BAD.append((_name, dict(weight_decay=-0.1), ValueError, [_name, "weight_decay", "-0.1"]))
    if "momentum" in _params(_name):
        BAD.append((_name, dict(momentum=-0.5), ValueError, [_name, "momentum", "-0.5"]))
    if "betas" in _params(_name):
        BAD.append(
            (
                _name,
                dict(betas=(1.2, 0.999)),
                ValueError,
                [f"{_name}: betas[0] must be in [0, 1), got 1.2"],
            )
        )


@pytest.mark.parametrize(
    "name, kwargs, error, pieces",
    BAD,
    ids=[f"{n}-{sorted(kw)}-{i}" for i, (n, kw, _, _) in enumerate(BAD)],
)
def test_bad_arguments_are_refused_with_a_message_naming_them(name, kwargs, error, pieces):
    with pytest.raises(error) as info:
        REGISTRY[name](**kwargs)
    message = str(info.value)
    for piece in pieces:
        assert piece in message, f"{piece!r} not in {message!r}"


@pytest.mark.parametrize("name", REGISTRY)
def test_a_misspelt_argument_is_a_type_error(name):
    # no **kwargs: Python itself refuses the typo
    with pytest.raises(
        TypeError, match=rf"{name}\(\) got an unexpected keyword argument 'momentm'"
    ):
        REGISTRY[name](momentm=0.9)


def test_good_edge_values_are_accepted():
    # the closed ends of each allowed range
    O.sgd(momentum=0.0, dampening=1.0)
    O.rmsprop(alpha=0.0, eps=0.0)
    O.adadelta(rho=0.0)
    O.adadelta(rho=1.0)
    O.adam(betas=(0.0, 0.0), lr=0.0)
    O.gd(lr=np.float32(0.5))
    O.sgd(lr=0.1, momentum=0.9, nesterov=np.bool_(True))


# --------------------------------------------------------------------------------------
# The door: what init and step accept (every optimizer of the package, modern ones too)
# --------------------------------------------------------------------------------------
def _all_factories():
    return dict(O.REGISTRY)


ALL = _all_factories()
# options that add state fields (AMSGrad's v_max) or use every buffer (centered RMSProp)
ALL_CASES = [(name, {}) for name in ALL] + [
    ("adam", dict(amsgrad=True)),
    ("adamw", dict(amsgrad=True)),
    ("rmsprop", dict(momentum=0.9, centered=True)),
    ("sgd", dict(momentum=0.9)),
]
ALL_IDS = [f"{name}{'-options' if kw else ''}" for name, kw in ALL_CASES]


def _arrays(state):
    return {f: v for f, v in state._asdict().items() if isinstance(v, np.ndarray)}


@pytest.mark.parametrize(("name", "kwargs"), ALL_CASES, ids=ALL_IDS)
def test_init_gives_every_state_field_its_own_buffer(name, kwargs):
    x = np.array([1.0, 2.0, 3.0])
    state = ALL[name](**kwargs).init(x)
    arrays = _arrays(state)
    for i, (f1, a1) in enumerate(arrays.items()):
        assert not np.shares_memory(a1, x), f"{name}: state.{f1} is a view of x"
        for f2, a2 in list(arrays.items())[i + 1 :]:
            assert not np.shares_memory(a1, a2), f"{name}: state.{f1} and state.{f2} share memory"
    # the bug this guards against: writing one field changed another
    for f, a in arrays.items():
        before = {g: b.copy() for g, b in arrays.items() if g != f}
        a[0] = 5.0
        for g, b in before.items():
            np.testing.assert_array_equal(getattr(state, g), b, err_msg=f"{f} -> {g}")


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_amsgrad_state_carries_v_max_only_when_used(name):
    x, g = np.array([1.0, -2.0]), np.array([0.5, 0.1])
    plain = REGISTRY[name]()
    state = plain.init(x)
    assert state.v_max is None
    _, state, _ = plain.step(x, g, state)
    assert state.v_max is None
    ams = REGISTRY[name](amsgrad=True)
    state = ams.init(x)
    np.testing.assert_array_equal(state.v_max, [0.0, 0.0])
    _, state, _ = ams.step(x, g, state)
    np.testing.assert_array_equal(state.v_max, state.v)
    # a state without v_max cannot feed AMSGrad
    with pytest.raises(ValueError, match=rf"^{name}: state\.v_max is None.*amsgrad=True"):
        ams.step(x, g, plain.init(x))


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("bad_shape", [(1,), (3, 1), (2,), (), (1, 3)])
def test_step_refuses_a_gradient_of_another_shape(name, bad_shape):
    opt = ALL[name]()
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(
        ValueError,
        match=rf"^{name}: g must have the shape of x, \(3,\), got {re.escape(str(bad_shape))}",
    ):
        opt.step(x, np.ones(bad_shape), opt.init(x))


@pytest.mark.parametrize(("name", "kwargs"), ALL_CASES, ids=ALL_IDS)
def test_step_refuses_a_state_built_for_another_shape(name, kwargs):
    opt = ALL[name](**kwargs)
    state = opt.init(np.zeros(2))
    if not _arrays(state):
        pytest.skip(f"{name}'s state holds no arrays")
    x = np.zeros(3)
    with pytest.raises(
        ValueError, match=rf"^{name}: state\.\w+ has shape \(2,\); x has shape \(3,\)"
    ):
        opt.step(x, np.ones(3), state)


@pytest.mark.parametrize("name", list(ALL))
def test_step_refuses_a_state_built_by_another_kind_of_optimizer(name):
    opt = ALL[name]()
    x = np.zeros(2)
    own = type(opt.init(x))
    other = next(f().init(x) for f in ALL.values() if type(f().init(x)) is not own)
    with pytest.raises(
        TypeError, match=rf"^{name}: state must be a {own.__name__} .*got {type(other).__name__}"
    ):
        opt.step(x, np.ones(2), other)


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize(
    "bad", ["abc", None, [1.0, "a"], np.array([True, False]), {"x": 1.0}], ids=repr
)
def test_init_refuses_what_is_not_an_array_of_real_numbers(name, bad):
    with pytest.raises(TypeError, match=rf"^{name}: x must be an array of real numbers, got "):
        ALL[name]().init(bad)


@pytest.mark.parametrize("name", list(ALL))
def test_complex_numbers_are_refused_at_init_and_step(name):
    # |g|^2 is not g * g for complex g: a silently wrong update, so refuse them
    opt = ALL[name]()
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=rf"^{name}: x must be .*real.*complex128"):
        opt.init(x + 1j)
    state = opt.init(x)
    with pytest.raises(TypeError, match=rf"^{name}: g must be .*real.*complex128"):
        opt.step(x, np.array([1.0 + 1j, 0.5]), state)
    with pytest.raises(TypeError, match=rf"^{name}: x must be .*real.*complex128"):
        opt.step(x.astype(complex), np.ones(2), state)


@pytest.mark.parametrize("name", list(ALL))
def test_step_accepts_lists_and_integer_arrays(name):
    opt = ALL[name]()
    x = np.array([1.0, 2.0])
    state = opt.init([1, 2])
    x_ref, _, _ = opt.step(x, np.array([1.0, -1.0]), opt.init(x))
    x_new, _, _ = opt.step([1, 2], [1, -1], state)
    np.testing.assert_array_equal(x_new, x_ref)


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize(
    ("value", "error", "shown"),
    [
        (-0.1, ValueError, "-0.1"),
        (float("nan"), ValueError, "nan"),
        (float("inf"), ValueError, "inf"),
        (None, TypeError, "None"),
        ("0.1", TypeError, "'0.1'"),
        (np.array([0.1, 0.2]), TypeError, r"array\(\[0\.1, 0\.2\]\)"),
    ],
    ids=["negative", "nan", "inf", "None", "str", "array"],
)
def test_a_schedule_giving_a_bad_rate_is_named_with_the_optimizer_and_step(
    name, value, error, shown
):
    def schedule(k):
        return 0.01 if k < 2 else value

    opt = ALL[name](lr=schedule)
    x, g = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    state = opt.init(x)
    for _ in range(2):
        x, state, _ = opt.step(x, g, state)
    with pytest.raises(
        error, match=rf"^{name}: the schedule lr gave {shown} for step 2; a rate must be a finite"
    ):
        opt.step(x, g, state)


@pytest.mark.parametrize("name", list(ALL))
def test_a_schedule_may_give_any_kind_of_real_number(name):
    x, g = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    results = []
    for kind in (float, np.float64, np.float32, np.array):
        opt = ALL[name](lr=lambda k, kind=kind: kind(0.25))
        results.append(opt.step(x, g, opt.init(x))[0])
    opt = ALL[name](lr=lambda k: 0)
    opt.step(x, g, opt.init(x))  # an int rate of 0 is a rate
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[3])


@pytest.mark.parametrize(("name", "kwargs"), ALL_CASES, ids=ALL_IDS)
def test_a_step_prints_nothing_of_its_own_under_errstate_ignore(name, kwargs):
    # The rule (CONTRIBUTING.md): floating-point trouble in a step is reported by NumPy as
    # the caller's np.errstate says, like any NumPy code; the step adds no warning of its own
    # and never hides one. Under "ignore" (as learnlr.run does) nothing is printed.
    opt = ALL[name](**kwargs)
    x = np.array([1.0, 2.0])
    state = opt.init(x)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error")
        for g in ([np.inf, 1.0], [np.nan, 1.0], [-np.inf, np.inf], [1e300, 1e-300]):
            opt.step(x, np.array(g), state)


def test_a_step_follows_the_callers_errstate():
    # NumPy's default warns; "raise" stops at the first bad operation (how to find it)
    opt = O.adam()
    x, g = np.array([1.0, 2.0]), np.array([np.inf, 1.0])
    with np.errstate(all="warn"), pytest.warns(RuntimeWarning, match="invalid value"):
        x_new, _, _ = opt.step(x, g, opt.init(x))
    assert np.isnan(x_new[0]) and np.isfinite(x_new[1])
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        opt.step(x, g, opt.init(x))
