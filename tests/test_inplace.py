"""learnlr.optimizers.inplace: the in-place engine reproduces the readable step bit for bit."""

import numpy as np
import pytest

from learnlr import optimizers, schedules
from learnlr.optimizers.inplace import InPlace

CASES = {
    "adam": optimizers.adam(lr=0.01),
    "adam betas": optimizers.adam(lr=0.003, betas=(0.5, 0.9), eps=1e-3),
    "adam l2": optimizers.adam(lr=0.01, weight_decay=0.1),
    "adam amsgrad": optimizers.adam(lr=0.01, amsgrad=True),
    "adam decoupled": optimizers.adam(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "adam scheduled": optimizers.adam(lr=schedules.cosine_annealing(0.05, T_max=7)),
    "adamw": optimizers.adamw(lr=0.01),
    "adamw amsgrad": optimizers.adamw(lr=0.01, weight_decay=0.3, amsgrad=True),
    "sgd": optimizers.sgd(lr=0.05),
    "sgd l2": optimizers.sgd(lr=0.05, weight_decay=0.1),
    "sgd momentum": optimizers.sgd(lr=0.05, momentum=0.9),
    "sgd dampening": optimizers.sgd(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "sgd nesterov": optimizers.sgd(lr=0.05, momentum=0.9, nesterov=True),
    "sgd nesterov l2": optimizers.sgd(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.2),
    "sgd scheduled": optimizers.sgd(lr=schedules.step_lr(0.1, 3, 0.5), momentum=0.5),
}


def _gradients(shape, steps, seed):
    rng = np.random.default_rng(seed)
    # magnitudes over many decades, so eps, sqrt and the divisions all round differently
    return [rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 3, shape) for _ in range(steps)]


def _readable(opt, x, grads, state=None):
    state = opt.init(x) if state is None else state
    for g in grads:
        x, state, _ = opt.step(x, g, state)
    return x, state


def _assert_same_state(fast_state, state):
    assert type(fast_state) is type(state)
    assert fast_state.count == state.count
    for name, value in state._asdict().items():
        if name != "count":
            np.testing.assert_array_equal(getattr(fast_state, name), value, err_msg=name)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize(
    ("shape", "block_size", "threads"),
    [((1000,), 64, 2), ((1000,), 1000, 1), ((37, 11), 100, 3), ((5,), 2, 2)],
)
def test_matches_the_readable_step_bit_for_bit(name, shape, block_size, threads):
    opt = CASES[name]
    x0 = np.random.default_rng(1).standard_normal(shape)
    grads = _gradients(shape, 12, seed=2)
    x_ref, state_ref = _readable(opt, x0, grads)

    x = x0.copy()
    fast = InPlace(opt, x, block_size=block_size, threads=threads)
    for g in grads:
        assert fast.step(x, g) is None
    np.testing.assert_array_equal(x, x_ref)  # equal, not close: the same roundings
    _assert_same_state(fast.state, state_ref)


@pytest.mark.parametrize("name", ["adam amsgrad", "sgd nesterov", "adam scheduled"])
def test_continues_from_a_readable_state_and_back(name):
    opt = CASES[name]
    x0 = np.random.default_rng(3).standard_normal(300)
    grads = _gradients(300, 9, seed=4)
    x_ref, state_ref = _readable(opt, x0, grads)

    x, state = _readable(opt, x0, grads[:3])  # readable for 3 steps
    fast = InPlace(opt, x, state=state, block_size=50)  # in place for 3
    for g in grads[3:6]:
        fast.step(x, g)
    x, state = _readable(opt, x, grads[6:], fast.state)  # readable again
    np.testing.assert_array_equal(x, x_ref)
    _assert_same_state(state, state_ref)


def test_touches_neither_the_gradient_nor_the_callers_state():
    opt = optimizers.adam(lr=0.1, weight_decay=0.1)
    x = np.ones(10)
    state = opt.step(x, np.ones(10), opt.init(x))[1]
    m_before = state.m.copy()
    g = np.linspace(-1, 1, 10)
    g.flags.writeable = False  # any write to g would raise
    fast = InPlace(opt, x, state=state, block_size=3)
    fast.step(x, g)
    np.testing.assert_array_equal(state.m, m_before)
    snapshot = fast.state
    fast.step(x, g)
    assert snapshot.count == 2 and fast.state.count == 3
    assert not np.array_equal(snapshot.m, fast.state.m)  # state returns a copy


def test_large_vector_uses_every_thread_and_still_agrees():
    opt = optimizers.adamw(lr=1e-3)
    x0 = np.random.default_rng(5).standard_normal(300_000)
    grads = _gradients(x0.shape, 3, seed=6)
    x = x0.copy()
    fast = InPlace(opt, x, threads=2)  # default block size: several blocks per thread
    assert fast.threads == 2 and len(fast._blocks) > 2
    for g in grads:
        fast.step(x, g)
    np.testing.assert_array_equal(x, _readable(opt, x0, grads)[0])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: InPlace(optimizers.rmsprop(), np.zeros(3)), "opt must be one of"),
        (lambda: InPlace("adam", np.zeros(3)), "got str"),
        (lambda: InPlace(optimizers.adam(), [0.0, 1.0]), "x must be a NumPy array, got list"),
        (lambda: InPlace(optimizers.adam(), np.zeros(3, np.float32)), "dtype float64, got float32"),
        (lambda: InPlace(optimizers.adam(), np.zeros(3), block_size=0), "block_size"),
        (lambda: InPlace(optimizers.adam(), np.zeros(3), threads=0), "threads must be"),
        (lambda: InPlace(optimizers.adam(), np.zeros((4, 4))[:, 0]), "C-contiguous"),
        (
            lambda: InPlace(
                optimizers.adam(), np.zeros(3), state=optimizers.sgd().init(np.zeros(3))
            ),
            "state must be adam's AdamState .* got SGDState",
        ),
        (
            lambda: InPlace(
                optimizers.sgd(), np.zeros(3), state=optimizers.sgd().init(np.zeros(4))
            ),
            r"state.b has shape \(4,\); x has shape \(3,\)",
        ),
    ],
)
def test_bad_construction_names_the_argument(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_bad_step_arguments_name_the_argument():
    x = np.zeros(4)
    fast = InPlace(optimizers.sgd(lr=0.1), x)
    with pytest.raises(ValueError, match=r"g has shape \(3,\); .* shape \(4,\)"):
        fast.step(x, np.zeros(3))
    with pytest.raises(ValueError, match="g must not share memory with x"):
        fast.step(x, x)
    frozen = np.zeros(4)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="x is read-only"):
        fast.step(frozen, np.zeros(4))
    with pytest.raises(TypeError, match="g must have dtype float64"):
        fast.step(x, np.zeros(4, dtype=int))
    assert fast.count == 0  # nothing was counted for the refused calls


def _engine_snapshot(fast):
    state = fast.state
    return fast.count, {f: np.copy(v) for f, v in state._asdict().items() if f != "count"}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("where", ["first half", "second half", "both halves"])
def test_an_error_raised_under_errstate_leaves_x_and_the_state_untouched(threads, where):
    # The caller asks NumPy to raise; the engine must raise too, in every thread, and an
    # update that raised must not have happened at all (not half of it).
    opt = optimizers.adam(lr=0.01)
    n = 1000
    x = np.random.default_rng(3).standard_normal(n)
    fast = InPlace(opt, x, block_size=100, threads=threads)
    fast.step(x, np.ones(n))  # one good update first, so m and v are not zeros
    g = np.ones(n)
    if where in ("first half", "both halves"):
        g[10] = np.inf
    if where in ("second half", "both halves"):
        g[-10] = np.inf
    x_before, (count, buffers) = x.copy(), _engine_snapshot(fast)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        fast.step(x, g)
    np.testing.assert_array_equal(x, x_before)
    count_after, buffers_after = _engine_snapshot(fast)
    assert count_after == count
    for name, value in buffers.items():
        np.testing.assert_array_equal(buffers_after[name], value, err_msg=name)
    # and the engine goes on as if the refused update had not been asked for
    x_ref, state_ref, _ = opt.step(x.copy(), np.ones(n), fast.state)
    fast.step(x, np.ones(n))
    np.testing.assert_array_equal(x, x_ref)
    _assert_same_state(fast.state, state_ref)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("mode", ["ignore", "warn"])
def test_every_thread_follows_the_callers_errstate_as_the_readable_step(threads, mode):
    # the readable step warns under "warn" and is silent under "ignore"; so is the engine, in
    # every thread; its NaNs and infinities sit where the readable step's do
    import warnings

    for name in ["adam", "adam amsgrad", "sgd nesterov l2"]:
        opt = CASES[name]
        n = 1000
        x0 = np.random.default_rng(4).standard_normal(n)
        g = np.ones(n)
        g[[5, 600]] = np.inf
        g[[7, 900]] = np.nan
        with warnings.catch_warnings(record=True) as readable_warnings, np.errstate(all=mode):
            warnings.simplefilter("always")
            x_ref, state_ref = _readable(opt, x0, [g, np.ones(n)])
        x = x0.copy()
        fast = InPlace(opt, x, block_size=100, threads=threads)
        with warnings.catch_warnings(record=True) as engine_warnings, np.errstate(all=mode):
            warnings.simplefilter("always")
            fast.step(x, g)
            fast.step(x, np.ones(n))
        np.testing.assert_array_equal(x, x_ref)
        _assert_same_state(fast.state, state_ref)
        kinds = {type(w.message) for w in readable_warnings}
        assert {type(w.message) for w in engine_warnings} == kinds, name
        assert bool(kinds) == (mode == "warn"), (name, kinds)


def test_the_state_of_plain_adam_has_no_v_max():
    x = np.zeros(3)
    assert InPlace(optimizers.adam(), x).state.v_max is None
    assert InPlace(optimizers.adam(amsgrad=True), x).state.v_max.shape == (3,)
