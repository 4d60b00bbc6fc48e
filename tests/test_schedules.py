"""Tests for learnlr.schedules.

* the calling convention shared by every schedule in the registry: an int gives a float, an
  integer array (any shape) gives a float array of that shape with the same values, bad step
  numbers are refused with a message naming the schedule;
* bounds that hold for any arguments (hypothesis): cosine stays in [eta_min, base_lr], cyclic in
  [base_lr, max_lr], one-cycle in [min_lr, max_lr], step/multistep/exponential never increase for
  gamma <= 1, warmup-stable-decay stays in [min(init, final), peak];
* values at the boundaries, worked out by hand (restarts, peaks, the one-step difference between
  multistep_lr and piecewise_constant, triangular2 halving, ...);
* joining: sequential equals its pieces shifted; warmup_stable_decay equals the sequential
  schedule its docstring names;
* reduce_on_plateau: patience, cooldown, thresholds, mode, floor and eps, on hand-traced runs;
* argument checks with messages naming function, argument and value.
"""

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnlr import schedules as S

REGISTRY = S.REGISTRY
SETTINGS = settings(max_examples=50, deadline=None)

# Example arguments for every schedule in the registry (a test fails when one is missing).
# All are defined at least for steps 0..30.
EXAMPLES = {
    "constant": dict(lr=0.1),
    "step_lr": dict(base_lr=0.1, step_size=7, gamma=0.5),
    "multistep_lr": dict(base_lr=0.1, milestones=[5, 12], gamma=0.3),
    "exponential_lr": dict(base_lr=0.1, gamma=0.95),
    "polynomial_lr": dict(base_lr=0.1, total_iters=20, power=2.0),
    "linear_lr": dict(base_lr=0.1, start_factor=0.25, total_iters=10),
    "cosine_annealing": dict(base_lr=0.1, T_max=15, eta_min=0.001),
    "cosine_annealing_warm_restarts": dict(base_lr=0.1, T_0=5, T_mult=2, eta_min=0.001),
    "cyclic_lr": dict(
        base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6, mode="triangular2"
    ),
    "one_cycle": dict(max_lr=0.1, total_steps=31),
    "sequential": dict(
        schedules=[
            S.linear_lr(0.1, start_factor=0.1, total_iters=5),
            S.cosine_annealing(0.1, T_max=25),
        ],
        milestones=[5],
    ),
    "piecewise_constant": dict(boundaries=[5, 10], values=[0.1, 0.05, 0.01]),
    "warmup_stable_decay": dict(
        max_lr=0.1, warmup_steps=5, stable_steps=10, decay_steps=10, decay_shape="cosine"
    ),
}
N = 30  # every example is defined on 0..N


def _example(name):
    return REGISTRY[name](**EXAMPLES[name])


# --------------------------------------------------------------------------------------
# The calling convention
# --------------------------------------------------------------------------------------
def test_every_registry_entry_has_example_arguments():
    missing = sorted(set(REGISTRY) - set(EXAMPLES))
    assert not missing, f"add example arguments to EXAMPLES for {missing}"


@pytest.mark.parametrize("name", REGISTRY)
def test_an_int_gives_a_float(name):
    s = _example(name)
    for k in [0, 1, 4, 5, 17, N]:
        value = s(k)
        assert type(value) is float
        assert math.isfinite(value) and value >= 0
        # numpy integer scalars are step numbers too
        for kind in (np.int64, np.int32, np.uint16):
            other = s(kind(k))
            assert type(other) is float and other == value


@pytest.mark.parametrize("name", REGISTRY)
def test_an_array_gives_a_float_array_of_the_same_shape_and_values(name):
    s = _example(name)
    ks = np.arange(N).reshape(5, 6)
    values = s(ks)
    assert isinstance(values, np.ndarray)
    assert values.shape == (5, 6) and values.dtype == np.float64
    for (i, j), k in np.ndenumerate(ks):
        assert values[i, j] == s(int(k)), f"array and int paths differ at k={k}"
    # 1-D arrays, lists, unsigned integers, 0-d arrays and empty arrays
    np.testing.assert_array_equal(s(list(range(N))), values.ravel())
    np.testing.assert_array_equal(s(np.arange(N, dtype=np.uint32)), values.ravel())
    zero_d = s(np.array(7))
    assert type(zero_d) is float and zero_d == s(7)
    empty = s(np.arange(0))
    assert empty.shape == (0,) and empty.dtype == np.float64


@pytest.mark.parametrize("name", REGISTRY)
def test_a_schedule_is_a_pure_function_of_k(name):
    s = _example(name)
    first = s(np.arange(N))
    s(np.array([N, 3, 0, 11]))  # other calls in between change nothing
    s(2)
    np.testing.assert_array_equal(s(np.arange(N)), first)
    np.testing.assert_array_equal(s(np.arange(N)[::-1]), first[::-1])


@pytest.mark.parametrize("name", REGISTRY)
def test_negative_steps_are_refused(name):
    s = _example(name)
    with pytest.raises(ValueError, match=rf"^{name}: .*>= 0.*-1"):
        s(-1)
    with pytest.raises(ValueError, match=rf"^{name}: .*>= 0.*-2"):
        s(np.array([3, -2, 5]))


@pytest.mark.parametrize("name", REGISTRY)
@pytest.mark.parametrize(
    "k", [2.5, np.float64(0.5), np.array([1.0, 1.5]), float("nan"), "3", True, None]
)
def test_non_integer_steps_are_refused(name, k):
    s = _example(name)
    with pytest.raises(TypeError, match=rf"^{name}: step must be an integer"):
        s(k)


@pytest.mark.parametrize("name", REGISTRY)
def test_every_single_step_number_gives_a_float(name):
    # a step number is one number whatever its type: the answer is a float, as for an int
    s = _example(name)
    value = s(2)
    for k in (2.0, np.float64(2.0), np.array(2), np.array(2.0), np.uint64(2), np.int8(2)):
        got = s(k)
        assert type(got) is float and got == value, f"s({k!r}) = {got!r}"


@pytest.mark.parametrize("name", REGISTRY)
@pytest.mark.parametrize(
    "k",
    [
        1e19,
        10**20,
        2**63,
        np.uint64(2**64 - 1),
        np.array([3, 2**63], dtype=np.uint64),
        np.array([0.0, 1e19]),
        2**53 + 1,
    ],
    ids=["1e19", "10**20", "2**63", "uint64-max", "uint64-array", "float-array", "2**53+1"],
)
def test_steps_too_large_to_count_are_refused_by_name(name, k):
    # int64 wraps around past 2**63 and float64 cannot tell k from k + 1 past 2**53
    s = _example(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            ValueError, match=rf"^{name}: step must be <= 2\*\*53 = 9007199254740992, got "
        ):
            s(k)


def test_the_largest_step_still_gives_a_rate():
    s = S.exponential_lr(1.0, gamma=1.0)
    assert s(2**53) == 1.0 and s(np.array([2**53], dtype=np.uint64)).tolist() == [1.0]


def test_an_infinite_step_is_refused_as_a_non_integer_without_warnings():
    s = S.cosine_annealing(0.1, T_max=10)
    for k in [float("inf"), np.array([1.0, np.inf])]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(TypeError, match=r"^cosine_annealing: step must be an integer"):
                s(k)


@pytest.mark.parametrize("name", REGISTRY)
def test_repr_is_the_label_and_names_the_schedule(name):
    s = _example(name)
    assert repr(s) == s.label
    assert s.label.startswith(f"{name}(")
    for arg in EXAMPLES[name]:
        assert f"{arg}=" in s.label


# --------------------------------------------------------------------------------------
# Bounds, for any arguments
# --------------------------------------------------------------------------------------
rates = st.floats(0.0, 10.0, allow_subnormal=False)
fractions = st.floats(0.0, 1.0, allow_subnormal=False)


def _within(values, low, high, what):
    tol = 1e-12 * max(1.0, abs(high))
    assert values.min() >= low - tol, f"{what}: {values.min()} < {low}"
    assert values.max() <= high + tol, f"{what}: {values.max()} > {high}"


@SETTINGS
@given(base=rates, frac=fractions, T_max=st.integers(1, 500))
def test_cosine_stays_between_eta_min_and_base_lr(base, frac, T_max):
    eta_min = frac * base
    s = S.cosine_annealing(base, T_max=T_max, eta_min=eta_min)
    _within(s(np.arange(3 * T_max + 1)), eta_min, base, "cosine_annealing")


@SETTINGS
@given(base=rates, frac=fractions, T_0=st.integers(1, 50), T_mult=st.integers(1, 4))
def test_warm_restarts_stay_between_eta_min_and_base_lr(base, frac, T_0, T_mult):
    eta_min = frac * base
    s = S.cosine_annealing_warm_restarts(base, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    _within(s(np.arange(2000)), eta_min, base, "cosine_annealing_warm_restarts")


@SETTINGS
@given(
    a=rates,
    b=rates,
    up=st.integers(1, 50),
    down=st.integers(1, 50),
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    gamma=st.floats(0.5, 1.0),
)
def test_cyclic_stays_between_base_lr_and_max_lr(a, b, up, down, mode, gamma):
    base, top = min(a, b), max(a, b)
    s = S.cyclic_lr(base, top, step_size_up=up, step_size_down=down, mode=mode, gamma=gamma)
    _within(s(np.arange(5 * (up + down))), base, top, "cyclic_lr")


@st.composite
def one_cycle_args(draw):
    total = draw(st.integers(6, 400))
    three_phase = draw(st.booleans())
    # the first phase ends at pct_start * total - 1: keep every phase non-empty
    last = (total - 1) // 2 if three_phase else total - 2
    j = draw(st.integers(2, last))
    return dict(
        max_lr=draw(st.floats(1e-3, 10.0)),
        total_steps=total,
        pct_start=(j + 0.25) / total,  # phase ends at j - 0.75 (and 2 j - 1.5): all non-empty
        anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
        div_factor=draw(st.floats(1.0, 1e3)),
        final_div_factor=draw(st.floats(1.0, 1e5)),
        three_phase=three_phase,
    )


@SETTINGS
@given(args=one_cycle_args())
def test_one_cycle_stays_between_min_lr_and_max_lr(args):
    s = S.one_cycle(**args)
    min_lr = args["max_lr"] / args["div_factor"] / args["final_div_factor"]
    values = s(np.arange(args["total_steps"]))  # the phases cover 0 .. total_steps - 1
    _within(values, min_lr, args["max_lr"], "one_cycle")


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_at_total_steps_is_a_valid_rate_or_refused(strategy):
    # s(k) is the rate of update k, so a total_steps-long run uses k = 0 .. total_steps - 1.
    # k = total_steps may be refused; if it is accepted, the value must still be a rate
    # between min_lr and max_lr (the linear extrapolation of the last phase is negative)
    max_lr, total = 1.0, 10
    s = S.one_cycle(max_lr, total_steps=total, anneal_strategy=strategy)
    min_lr = max_lr / 25 / 1e4
    try:
        value = s(total)
    except ValueError as error:
        assert f"got {total}" in str(error)
    else:
        assert min_lr - 1e-12 <= value <= max_lr, f"one_cycle({strategy})({total}) = {value}"


@pytest.mark.parametrize("factory", ["step_lr", "multistep_lr", "exponential_lr"])
@SETTINGS
@given(base=rates, gamma=fractions, step_size=st.integers(1, 20))
def test_decaying_schedules_never_increase_for_gamma_at_most_one(factory, base, gamma, step_size):
    if factory == "step_lr":
        s = S.step_lr(base, step_size=step_size, gamma=gamma)
    elif factory == "multistep_lr":
        s = S.multistep_lr(base, milestones=[step_size, 2 * step_size, 5 * step_size], gamma=gamma)
    else:
        s = S.exponential_lr(base, gamma=gamma)
    values = s(np.arange(300))
    assert values[0] == base
    assert np.all(np.diff(values) <= 1e-15 * base), factory


@SETTINGS
@given(
    peak=rates,
    init_frac=fractions,
    final_frac=fractions,
    W=st.integers(0, 30),
    S_=st.integers(0, 30),
    D=st.integers(1, 30),
    shape=st.sampled_from(["linear", "cosine", "sqrt"]),
)
def test_warmup_stable_decay_stays_between_its_ends_and_peak(
    peak, init_frac, final_frac, W, S_, D, shape
):
    init, final = init_frac * peak, final_frac * peak
    s = S.warmup_stable_decay(peak, W, S_, D, base_lr=init, final_lr=final, decay_shape=shape)
    values = s(np.arange(W + S_ + D + 10))
    _within(values, min(init, final), peak, "warmup_stable_decay")
    assert values[W] == pytest.approx(peak, rel=1e-12)  # the warmup reaches the peak at k = W
    assert values[-1] == pytest.approx(final, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------------------
# Values at the boundaries, by hand
# --------------------------------------------------------------------------------------
def test_step_lr_switches_at_multiples_of_step_size():
    # base gamma^floor(k / step_size): 0.8 for k = 0..3, 0.4 for 4..7, 0.2 from 8
    s = S.step_lr(base_lr=0.8, step_size=4, gamma=0.5)
    assert [s(3), s(4), s(7), s(8)] == [0.8, 0.4, 0.4, 0.2]


def test_multistep_and_piecewise_constant_are_one_step_apart():
    # multistep_lr switches AT a milestone (k >= m); piecewise_constant switches AFTER a
    # boundary (k > b): with the same numbers, multistep(k) == piecewise(k + 1)
    multi = S.multistep_lr(1.0, milestones=[3, 7], gamma=0.5)
    piece = S.piecewise_constant(boundaries=[3, 7], values=[1.0, 0.5, 0.25])
    assert multi(2) == 1.0 and multi(3) == 0.5 and multi(7) == 0.25
    assert piece(3) == 1.0 and piece(4) == 0.5 and piece(7) == 0.5 and piece(8) == 0.25
    ks = np.arange(20)
    np.testing.assert_array_equal(multi(ks), piece(ks + 1))


def test_multistep_repeated_and_unsorted_milestones_as_pytorch():
    # PyTorch counts milestones: a milestone given twice applies gamma twice, order is ignored
    twice = S.multistep_lr(1.0, milestones=[3, 3], gamma=0.5)
    assert [twice(2), twice(3), twice(10)] == [1.0, 0.25, 0.25]
    ks = np.arange(12)
    np.testing.assert_array_equal(
        S.multistep_lr(1.0, [7, 3], gamma=0.5)(ks), S.multistep_lr(1.0, [3, 7], gamma=0.5)(ks)
    )


def test_exponential_polynomial_and_linear_by_hand():
    assert S.exponential_lr(0.8, gamma=0.5)(3) == 0.1  # 0.8 * 0.5^3
    poly = S.polynomial_lr(1.0, total_iters=4, power=2.0)
    # (1 - min(k, 4)/4)^2: 1, 0.5625, 0.25, 0.0625, 0, then 0
    np.testing.assert_allclose(poly([0, 1, 2, 3, 4, 9]), [1, 0.5625, 0.25, 0.0625, 0, 0])
    lin = S.linear_lr(2.0, start_factor=0.25, end_factor=1.0, total_iters=3)
    # 2 (0.25 + 0.75 min(k, 3)/3): 0.5, 1.0, 1.5, 2.0, 2.0
    np.testing.assert_allclose(lin([0, 1, 2, 3, 10]), [0.5, 1.0, 1.5, 2.0, 2.0], rtol=1e-15)


def test_cosine_annealing_by_hand():
    base, eta_min, T = 0.5, 0.1, 8
    s = S.cosine_annealing(base, T_max=T, eta_min=eta_min)
    assert s(0) == pytest.approx(base, rel=1e-15)
    assert s(T) == eta_min  # cos(pi) = -1 exactly: the bottom is exact
    assert s(T // 2) == pytest.approx((base + eta_min) / 2, rel=1e-15)
    # eta_min + (base - eta_min)(1 + cos(pi k / T)) / 2 at k = 2: cos(pi/4) = sqrt(2)/2
    assert s(2) == pytest.approx(0.1 + 0.4 * (1 + math.sqrt(0.5)) / 2, rel=1e-14)
    # past T_max the formula climbs back, as PyTorch's CosineAnnealingLR does
    assert s(2 * T) == pytest.approx(base, rel=1e-14)
    assert s(T + 2) == pytest.approx(s(T - 2), rel=1e-14)


def test_warm_restarts_restart_at_T0_and_T0_plus_T0_Tmult():
    # T_0 = 5, T_mult = 2: cycles [0, 5), [5, 15), [15, 35), [35, 75)
    base, eta_min = 1.0, 0.0
    s = S.cosine_annealing_warm_restarts(base, T_0=5, T_mult=2, eta_min=eta_min)
    for start in [0, 5, 15, 35, 75]:
        assert s(start) == base, f"no restart at {start}"
    assert s(4) == pytest.approx((1 + math.cos(math.pi * 4 / 5)) / 2, rel=1e-14)
    assert s(14) == pytest.approx((1 + math.cos(math.pi * 9 / 10)) / 2, rel=1e-14)
    assert s(10) == pytest.approx(0.5, rel=1e-14)  # halfway through the 10-step cycle
    assert s(25) == pytest.approx(0.5, rel=1e-14)  # halfway through the 20-step cycle
    # T_mult = 1: period T_0
    s1 = S.cosine_annealing_warm_restarts(base, T_0=7)
    ks = np.arange(50)
    np.testing.assert_array_equal(s1(ks), s1(ks + 7))


@pytest.mark.parametrize("T_mult", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("T_0", [1, 2, 3, 5, 10])
def test_warm_restarts_restart_exactly_at_every_cycle_start(T_0, T_mult):
    # cycle starts are T_0 (T_mult^n - 1) / (T_mult - 1); the logarithm used to find n must
    # not round a start into the previous cycle (or the step before into the next one)
    s = S.cosine_annealing_warm_restarts(1.0, T_0=T_0, T_mult=T_mult)
    starts, start, length = [], 0, T_0
    while start < 10**12:
        starts.append(start)
        start, length = start + length, length * T_mult
    starts = np.array(starts)
    np.testing.assert_array_equal(s(starts), 1.0)
    before = s(starts[1:] - 1)  # the last step of each cycle: T_cur = T_i - 1
    lengths = T_0 * T_mult ** np.arange(len(starts) - 1, dtype=float)
    np.testing.assert_allclose(
        before, (1 + np.cos(np.pi * (lengths - 1) / lengths)) / 2, atol=1e-12
    )


def _restart_reference(k, T_0, T_mult):
    """Steps since the last restart and the current cycle's length, by walking the cycles."""
    start, length = 0, T_0
    while k >= start + length:
        start, length = start + length, length * T_mult
    return k - start, length


@SETTINGS
@given(T_0=st.integers(1, 30), T_mult=st.integers(1, 5), k=st.integers(0, 10**6))
def test_warm_restarts_match_walking_the_cycles(T_0, T_mult, k):
    s = S.cosine_annealing_warm_restarts(1.0, T_0=T_0, T_mult=T_mult)
    T_cur, T_i = _restart_reference(k, T_0, T_mult)
    assert s(k) == pytest.approx((1 + math.cos(math.pi * T_cur / T_i)) / 2, abs=1e-12)


def test_one_cycle_by_hand():
    # max_lr 1, total 10, pct_start 0.3: phase 1 ends at 0.3 * 10 - 1 = 2, phase 2 at 9
    s = S.one_cycle(1.0, total_steps=10)
    initial, final = 1.0 / 25, 1.0 / 25 / 1e4
    assert s(0) == pytest.approx(initial, rel=1e-15)
    assert s(2) == pytest.approx(1.0, rel=1e-12)  # the peak at pct_start * total - 1
    assert s(1) < s(2) and s(3) < s(2)
    assert s(9) == pytest.approx(final, rel=1e-9)
    # halfway up the cosine: initial + (1 - initial) / 2
    assert s(1) == pytest.approx(initial + (1 - initial) / 2, rel=1e-12)
    lin = S.one_cycle(1.0, total_steps=10, anneal_strategy="linear")
    assert lin(1) == pytest.approx(initial + (1 - initial) / 2, rel=1e-12)
    # phase 2, linear: from 1 at k = 2 to final at k = 9, so k = 4 is 2/7 of the way
    assert lin(4) == pytest.approx(1 + (final - 1) * 2 / 7, rel=1e-12)


def test_one_cycle_three_phase_by_hand():
    # total 20, pct_start 0.25: up to k = 4, back down to the initial rate at k = 8, then to
    # min_lr at k = 19
    s = S.one_cycle(2.0, total_steps=20, pct_start=0.25, three_phase=True)
    initial = 2.0 / 25
    assert s(0) == pytest.approx(initial, rel=1e-15)
    assert s(4) == pytest.approx(2.0, rel=1e-12)
    assert s(8) == pytest.approx(initial, rel=1e-12)
    assert s(19) == pytest.approx(initial / 1e4, rel=1e-9)
    assert s(6) == pytest.approx((2.0 + initial) / 2, rel=1e-12)  # halfway down phase 2


def test_one_cycle_refuses_steps_past_total_steps():
    # a run of total_steps updates uses k = 0 .. total_steps - 1
    s = S.one_cycle(0.1, total_steps=10)
    s(9)
    with pytest.raises(ValueError, match=r"^one_cycle: .*<= 9.*got 10"):
        s(10)
    with pytest.raises(ValueError, match=r"^one_cycle: .*got 12"):
        s(np.array([0, 12, 3]))


def test_cyclic_triangular_modes_by_hand():
    # base 0, max 1, 2 steps up and 2 down: peaks at k = 2, 6, 10, troughs at 0, 4, 8
    tri = S.cyclic_lr(0.0, 1.0, step_size_up=2)
    np.testing.assert_allclose(tri(np.arange(9)), [0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0])
    # triangular2: the amplitude halves each cycle
    tri2 = S.cyclic_lr(0.0, 1.0, step_size_up=2, mode="triangular2")
    assert [tri2(2), tri2(6), tri2(10)] == [1.0, 0.5, 0.25]
    assert [tri2(4), tri2(8)] == [0.0, 0.0]
    # exp_range: the height is scaled by gamma^k
    exp = S.cyclic_lr(0.0, 1.0, step_size_up=2, mode="exp_range", gamma=0.9)
    assert exp(2) == pytest.approx(0.9**2, rel=1e-14)
    assert exp(6) == pytest.approx(0.9**6, rel=1e-14)
    assert exp(1) == pytest.approx(0.5 * 0.9, rel=1e-14)
    # base 0.1, max 0.5: unequal sides, 2 steps up and 4 down, cycle length 6
    uneq = S.cyclic_lr(0.1, 0.5, step_size_up=2, step_size_down=4)
    np.testing.assert_allclose(uneq([0, 2, 3, 4, 6]), [0.1, 0.5, 0.4, 0.3, 0.1], rtol=1e-14)


def test_sequential_is_the_pieces_shifted():
    a = S.linear_lr(1.0, start_factor=0.1, total_iters=4)
    b = S.constant(0.7)
    c = S.cosine_annealing(0.7, T_max=20)
    s = S.sequential([a, b, c], milestones=[4, 10])
    for k in range(40):
        expected = a(k) if k < 4 else b(k - 4) if k < 10 else c(k - 10)
        assert s(k) == expected, k
    # each piece restarts its own count at its milestone
    assert s(10) == c(0) == 0.7


def test_warmup_stable_decay_is_sequential_of_linear_constant_and_decay():
    # the docstring's claim: linear warmup (init -> peak over W), constant peak for S,
    # then a linear decay to 0 over D (polynomial_lr with power 1), then 0
    peak, init, W, S_, D = 0.1, 0.01, 5, 7, 9
    wsd = S.warmup_stable_decay(peak, W, S_, D, base_lr=init)
    joined = S.sequential(
        [
            S.linear_lr(peak, start_factor=init / peak, end_factor=1.0, total_iters=W),
            S.constant(peak),
            S.polynomial_lr(peak, total_iters=D, power=1.0),
        ],
        milestones=[W, W + S_],
    )
    ks = np.arange(W + S_ + D + 5)
    np.testing.assert_allclose(wsd(ks), joined(ks), rtol=1e-12, atol=1e-15)


def test_warmup_stable_decay_shapes_by_hand():
    # decay over D = 4 steps after W + S = 4: p = (k - 4) / 4, at k = 5 p = 1/4
    for shape, frac in [
        ("linear", 0.75),
        ("cosine", (1 + math.cos(math.pi / 4)) / 2),
        ("sqrt", 0.5),
    ]:
        s = S.warmup_stable_decay(1.0, 2, 2, 4, decay_shape=shape)
        assert s(5) == pytest.approx(frac, rel=1e-14), shape
        assert s(8) == 0.0 and s(100) == 0.0
        assert [s(0), s(1), s(2), s(3)] == [0.0, 0.5, 1.0, 1.0]


# --------------------------------------------------------------------------------------
# reduce_on_plateau
# --------------------------------------------------------------------------------------
def _trace(ctl, metrics):
    state = ctl.init()
    lrs, reduced = [], []
    for m in metrics:
        state = ctl.step(state, m)
        lrs.append(state.lr)
        reduced.append(state.reduced)
    return lrs, reduced, state


def test_plateau_drops_on_the_patience_plus_one_th_bad_check():
    # patience 2: check 1 sets best (inf -> 1); checks 2, 3, 4 are bad (counts 1, 2, 3);
    # 3 > patience at check 4, so the rate drops there, and the count restarts
    ctl = S.reduce_on_plateau(1.0, patience=2, factor=0.5)
    lrs, reduced, state = _trace(ctl, [1.0] * 7)
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    assert reduced == [False, False, False, True, False, False, True]
    assert state.last_epoch == 7 and state.best == 1.0


def test_plateau_patience_zero_drops_on_every_bad_check():
    ctl = S.reduce_on_plateau(1.0, patience=0, factor=0.5)
    lrs, _, _ = _trace(ctl, [3.0, 2.0, 2.0, 1.0, 1.5])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_plateau_cooldown_ignores_bad_checks_after_a_drop():
    # patience 0, cooldown 2: drop at check 2; checks 3 and 4 are in the cooldown (their bad
    # count is reset); check 5 is bad again and drops
    ctl = S.reduce_on_plateau(1.0, patience=0, cooldown=2, factor=0.1)
    lrs, reduced, _ = _trace(ctl, [1.0] * 6)
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.1, 0.01, 0.01], rel=1e-15)
    assert reduced == [False, True, False, False, True, False]


def test_plateau_relative_and_absolute_thresholds():
    # best = 10, threshold 0.1: "rel" needs < 10 (1 - 0.1) = 9; "abs" needs < 10 - 0.1 = 9.9
    rel = S.reduce_on_plateau(1.0, patience=0, threshold=0.1, threshold_mode="rel")
    ab = S.reduce_on_plateau(1.0, patience=0, threshold=0.1, threshold_mode="abs")
    _, reduced_rel, s_rel = _trace(rel, [10.0, 9.5])
    _, reduced_abs, s_abs = _trace(ab, [10.0, 9.5])
    assert reduced_rel == [False, True] and s_rel.best == 10.0
    assert reduced_abs == [False, False] and s_abs.best == 9.5
    # 8.9 is better under both
    assert _trace(rel, [10.0, 8.9])[1] == [False, False]


def test_plateau_mode_max():
    ctl = S.reduce_on_plateau(1.0, mode="max", patience=1, factor=0.5)
    lrs, _, state = _trace(ctl, [0.1, 0.2, 0.3, 0.4])  # accuracy keeps rising: no drop
    assert lrs == [1.0] * 4 and state.best == 0.4
    lrs, _, _ = _trace(ctl, [0.5, 0.4, 0.3, 0.2, 0.1])  # falling: drop at the 2nd bad check
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_plateau_min_lr_is_a_floor():
    # 1 -> 0.1 -> max(0.01, 0.05) = 0.05, then stuck at the floor with reduced False
    ctl = S.reduce_on_plateau(1.0, patience=0, factor=0.1, min_lr=0.05)
    lrs, reduced, _ = _trace(ctl, [1.0] * 5)
    assert lrs == pytest.approx([1.0, 0.1, 0.05, 0.05, 0.05], rel=1e-15)
    assert reduced == [False, True, True, False, False]


def test_plateau_skips_changes_smaller_than_eps():
    # lr 1e-9 -> 1e-10 changes it by 9e-10 < eps = 1e-8: skipped, but the bad count restarts
    ctl = S.reduce_on_plateau(1e-9, patience=1, factor=0.1, eps=1e-8)
    lrs, reduced, state = _trace(ctl, [1.0, 1.0, 1.0])
    assert lrs == [1e-9] * 3 and not any(reduced)
    assert state.num_bad_epochs == 0


def test_plateau_hand_traced_sequence():
    # patience 1, factor 0.5, threshold 0 (rel), cooldown 1
    # check  metric  better?  bad  cooldown  lr
    #   1     5.0     yes      0     0       1
    #   2     4.0     yes      0     0       1
    #   3     4.5     no       1     0       1
    #   4     4.2     no       2>1   -> 1    0.5  (drop, cooldown starts, bad 0)
    #   5     4.1     no       1->0  1->0    0.5  (in cooldown)
    #   6     3.0     yes      0     0       0.5
    #   7     3.5     no       1     0       0.5
    #   8     3.5     no       2>1   -> 1    0.25
    ctl = S.reduce_on_plateau(1.0, patience=1, factor=0.5, threshold=0.0, cooldown=1)
    lrs, reduced, state = _trace(ctl, [5.0, 4.0, 4.5, 4.2, 4.1, 3.0, 3.5, 3.5])
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert reduced == [False, False, False, True, False, False, False, True]
    assert state.best == 3.0 and state.cooldown_counter == 1


def test_plateau_state_is_immutable_and_update_is_pure():
    ctl = S.reduce_on_plateau(1.0, patience=0)
    s0 = ctl.init()
    s1 = ctl.step(s0, 1.0)
    s2a = ctl.step(s1, 1.0)
    s2b = ctl.step(s1, 1.0)
    assert s2a == s2b  # same input state and metric, same result
    assert s0 == ctl.init()  # the old states are unchanged
    assert s1.lr == 1.0 and s2a.lr == pytest.approx(0.1)


def test_plateau_repr_lists_its_arguments():
    text = repr(S.reduce_on_plateau(0.5, patience=3))
    assert text.startswith("reduce_on_plateau(") and "base_lr=0.5" in text
    assert "patience=3" in text


@pytest.mark.parametrize(
    "metric, error, piece",
    [(float("nan"), ValueError, "nan"), ("low", TypeError, "'low'"), (None, TypeError, "None")],
)
def test_plateau_refuses_a_bad_metric(metric, error, piece):
    ctl = S.reduce_on_plateau(1.0)
    with pytest.raises(error, match=r"^reduce_on_plateau: metric") as info:
        ctl.step(ctl.init(), metric)
    assert piece in str(info.value)


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------
A = S.constant(0.1)
BAD = [
    # (factory, args, kwargs, exception, pieces the message must contain)
    ("constant", (), dict(lr=-1), ValueError, ["constant", "lr", "-1"]),
    ("step_lr", (0.1,), dict(step_size=0), ValueError, ["step_lr: step_size", ">= 1", "got 0"]),
    ("step_lr", (0.1,), dict(step_size=2.5), TypeError, ["step_lr", "step_size", "2.5"]),
    ("step_lr", (-0.1, 5), {}, ValueError, ["step_lr", "base_lr", "-0.1"]),
    ("step_lr", (0.1, 5), dict(gamma=-1), ValueError, ["step_lr", "gamma", "-1"]),
    ("step_lr", ("0.1", 5), {}, TypeError, ["step_lr", "base_lr", "'0.1'"]),
    ("multistep_lr", (0.1, 5), {}, TypeError, ["multistep_lr", "milestones", "5"]),
    ("multistep_lr", (0.1, [-1, 3]), {}, ValueError, ["multistep_lr", "milestones[0]", "-1"]),
    ("multistep_lr", (0.1, [1, 2.5]), {}, TypeError, ["multistep_lr", "milestones[1]", "2.5"]),
    ("exponential_lr", (0.1,), dict(gamma=-0.5), ValueError, ["exponential_lr", "gamma", "-0.5"]),
    ("polynomial_lr", (0.1,), dict(total_iters=0), ValueError, ["polynomial_lr", "total_iters"]),
    ("polynomial_lr", (0.1,), dict(power=-1), ValueError, ["polynomial_lr", "power", "-1"]),
    (
        "linear_lr",
        (0.1,),
        dict(start_factor=0),
        ValueError,
        ["linear_lr", "start_factor", "(0, 1]", "0"],
    ),
    ("linear_lr", (0.1,), dict(end_factor=1.5), ValueError, ["linear_lr", "end_factor", "1.5"]),
    ("cosine_annealing", (0.1,), dict(T_max=0), ValueError, ["cosine_annealing", "T_max", "0"]),
    (
        "cosine_annealing",
        (0.1,),
        dict(T_max=10.0),
        TypeError,
        ["cosine_annealing", "T_max", "10.0"],
    ),
    (
        "cosine_annealing",
        (0.1, 10),
        dict(eta_min=-1),
        ValueError,
        ["cosine_annealing", "eta_min", "-1"],
    ),
    (
        "cosine_annealing_warm_restarts",
        (0.1,),
        dict(T_0=0),
        ValueError,
        ["cosine_annealing_warm_restarts", "T_0", "0"],
    ),
    (
        "cosine_annealing_warm_restarts",
        (0.1, 5),
        dict(T_mult=1.5),
        TypeError,
        ["cosine_annealing_warm_restarts", "T_mult", "1.5"],
    ),
    (
        "cyclic_lr",
        (0.01, 0.1),
        dict(mode="triangle"),
        ValueError,
        ["cyclic_lr", "mode", "'triangle'", "'triangular2'"],
    ),
    ("cyclic_lr", (0.01, 0.1), dict(gamma=0), ValueError, ["cyclic_lr", "gamma", "> 0", "0"]),
    ("cyclic_lr", (0.01, 0.1), dict(step_size_up=0), ValueError, ["cyclic_lr", "step_size_up"]),
    (
        "cyclic_lr",
        (0.01, 0.1),
        dict(step_size_down=-2),
        ValueError,
        ["cyclic_lr", "step_size_down", "-2"],
    ),
    (
        "one_cycle",
        (0.1, 10),
        dict(pct_start=0.1),
        ValueError,
        ["one_cycle", "pct_start=0.1", "empty phase"],
    ),
    ("one_cycle", (0.1, 10), dict(pct_start=1.0), ValueError, ["one_cycle", "pct_start=1.0"]),
    ("one_cycle", (0.1, 10), dict(pct_start=1.5), ValueError, ["one_cycle", "pct_start", "[0, 1]"]),
    ("one_cycle", (0.1, 1), {}, ValueError, ["one_cycle", "total_steps", "1"]),
    (
        "one_cycle",
        (0.1, 10),
        dict(anneal_strategy="cosine"),
        ValueError,
        ["one_cycle", "anneal_strategy", "'cosine'"],
    ),
    ("one_cycle", (0.1, 10), dict(div_factor=0), ValueError, ["one_cycle", "div_factor", "0"]),
    (
        "one_cycle",
        (0.1, 10),
        dict(three_phase="no"),
        TypeError,
        ["one_cycle", "three_phase", "'no'"],
    ),
    (
        "sequential",
        ([A, A], [5, 10]),
        {},
        ValueError,
        ["sequential", "2 schedules", "2 milestones"],
    ),
    ("sequential", (A, [5]), {}, TypeError, ["sequential", "schedules"]),
    ("sequential", ([A, 0.1], [5]), {}, TypeError, ["sequential", "schedules[1]", "0.1"]),
    ("sequential", ([A, A, A], [5, 2]), {}, ValueError, ["sequential", "milestones", "[5, 2]"]),
    (
        "piecewise_constant",
        ([5], [0.1]),
        {},
        ValueError,
        ["piecewise_constant", "1 boundaries", "1 values"],
    ),
    (
        "piecewise_constant",
        ([5], [0.1, -0.1]),
        {},
        ValueError,
        ["piecewise_constant", "values[1]", "-0.1"],
    ),
    ("piecewise_constant", ([5, 5], [1, 2, 3]), {}, ValueError, ["piecewise_constant", "[5, 5]"]),
    (
        "warmup_stable_decay",
        (0.1, 5, 5, 5),
        dict(decay_shape="exp"),
        ValueError,
        ["warmup_stable_decay", "decay_shape", "'exp'"],
    ),
    (
        "warmup_stable_decay",
        (0.1, 5, 5, 0),
        {},
        ValueError,
        ["warmup_stable_decay", "decay_steps", "0"],
    ),
    (
        "warmup_stable_decay",
        (0.1, -1, 5, 5),
        {},
        ValueError,
        ["warmup_stable_decay", "warmup_steps", "-1"],
    ),
]
PLATEAU_BAD = [
    (dict(factor=1.0), ValueError, ["reduce_on_plateau: factor must be in [0, 1), got 1.0"]),
    (dict(factor=-0.1), ValueError, ["reduce_on_plateau", "factor", "-0.1"]),
    (dict(mode="mean"), ValueError, ["reduce_on_plateau", "mode", "'mean'", "'min'", "'max'"]),
    (dict(patience=-1), ValueError, ["reduce_on_plateau", "patience", "-1"]),
    (dict(patience=1.5), TypeError, ["reduce_on_plateau", "patience", "1.5"]),
    (dict(threshold=-1e-4), ValueError, ["reduce_on_plateau", "threshold", "-0.0001"]),
    (dict(threshold_mode="relative"), ValueError, ["reduce_on_plateau", "threshold_mode"]),
    (dict(cooldown=-1), ValueError, ["reduce_on_plateau", "cooldown", "-1"]),
    (dict(min_lr=-1), ValueError, ["reduce_on_plateau", "min_lr", "-1"]),
    (dict(eps=-1), ValueError, ["reduce_on_plateau", "eps", "-1"]),
    (dict(base_lr=-1), ValueError, ["reduce_on_plateau", "base_lr", "-1"]),
]


@pytest.mark.parametrize(
    "name, args, kwargs, error, pieces",
    BAD,
    ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)],
)
def test_bad_schedule_arguments_are_refused_with_a_message_naming_them(
    name, args, kwargs, error, pieces
):
    with pytest.raises(error) as info:
        REGISTRY[name](*args, **kwargs)
    message = str(info.value)
    for piece in pieces:
        assert piece in message, f"{piece!r} not in {message!r}"


@pytest.mark.parametrize("kwargs, error, pieces", PLATEAU_BAD, ids=lambda v: str(v))
def test_bad_plateau_arguments_are_refused_with_a_message_naming_them(kwargs, error, pieces):
    with pytest.raises(error) as info:
        S.reduce_on_plateau(**{"base_lr": 0.1, **kwargs})
    message = str(info.value)
    for piece in pieces:
        assert piece in message, f"{piece!r} not in {message!r}"


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("total", [2, 3, 4, 5, 10, 31])
def test_one_cycle_empty_phase_message_suggests_a_range_that_works(three_phase, total):
    # the message proposes "a pct_start strictly between a and b"; every value inside must
    # be accepted, and the rejected value must not be in it
    for bad in (0.0, 0.5 / total, 0.9 if three_phase else 1.0):
        with pytest.raises(ValueError, match="empty phase") as info:
            S.one_cycle(1.0, total_steps=total, pct_start=bad, three_phase=three_phase)
        low, high = map(
            float,
            re.search(r"strictly between ([\d.e+-]+) and ([\d.e+-]+)", str(info.value)).groups(),
        )
        assert low < high, f"the message suggests an empty range: {info.value}"
        assert not low < bad < high, f"the message suggests {low}..{high}, which contains {bad}"
        for pct in np.linspace(low, high, 9)[1:-1]:
            S.one_cycle(1.0, total_steps=total, pct_start=float(pct), three_phase=three_phase)


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("total", [2, 3, 7, 100])
def test_one_cycle_accepts_exactly_the_pct_start_giving_non_empty_phases(three_phase, total):
    # phase 1 ends at p T - 1 > 0, so p > 1 / T; two phases end at T - 1 > p T - 1, so p < 1;
    # three phases: the second ends at 2 p T - 2 < T - 1, so p < (T + 1) / (2 T)
    low, high = 1 / total, (total + 1) / (2 * total) if three_phase else 1.0
    for pct in (low + 1e-9, (low + high) / 2, high - 1e-9):
        S.one_cycle(1.0, total_steps=total, pct_start=pct, three_phase=three_phase)
    for pct in (low - 1e-9, high + 1e-9):
        if 0 <= pct <= 1:
            with pytest.raises(ValueError, match="empty phase"):
                S.one_cycle(1.0, total_steps=total, pct_start=pct, three_phase=three_phase)


def test_one_cycle_three_steps_with_pct_start_one_half():
    s = S.one_cycle(1.0, total_steps=3, pct_start=0.5)  # phase ends at 0.5 and 2
    assert s(0) == pytest.approx(1 / 25, rel=1e-15)
    assert s(2) == pytest.approx(1 / 25 / 1e4, rel=1e-9)


def test_good_edge_values_are_accepted():
    S.linear_lr(0.1, start_factor=1.0, end_factor=0.0)
    S.warmup_stable_decay(0.1, warmup_steps=0, stable_steps=0, decay_steps=1)
    S.reduce_on_plateau(0.1, factor=0.0, patience=0)
    S.sequential([A], milestones=[])
    S.piecewise_constant(boundaries=[], values=[0.3])
    assert S.sequential([A], milestones=[])(5) == 0.1
    assert S.piecewise_constant(boundaries=[], values=[0.3])(np.arange(3)).tolist() == [0.3] * 3


def test_pieces_put_a_bound_in_the_piece_it_starts_or_ends():
    # one helper decides which piece of sequential, one_cycle and warmup_stable_decay a
    # step is in; a step on a bound goes to the later piece (a milestone starts the next
    # schedule) or, for one_cycle's phase ends, to the earlier one
    from learnlr.schedules import _pieces

    k = np.arange(7)
    pieces = [lambda k: 0.0 * k, lambda k: 1.0 + 0.0 * k, lambda k: 2.0 + 0.0 * k]
    np.testing.assert_array_equal(_pieces(k, [2, 4], pieces), [0, 0, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(
        _pieces(k, [2, 4], pieces, bound_starts_next=False), [0, 0, 0, 1, 1, 2, 2]
    )
    # an empty middle piece (warmup_stable_decay with stable_steps=0) is skipped
    np.testing.assert_array_equal(_pieces(k, [3, 3], pieces), [0, 0, 0, 2, 2, 2, 2])
    # each piece sees only its own steps
    seen = []
    _pieces(k, [2, 4], [lambda k, i=i: seen.append((i, k.tolist())) or k for i in range(3)])
    assert seen == [(0, [0, 1]), (1, [2, 3]), (2, [4, 5, 6])]
