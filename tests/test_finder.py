"""Tests of learnlr.finder: the sweep, the smoothing, the stopping rule and the four rules.

Every expected value is computed here from the definition, independently of the module:
the sweep from its closed form, the smoothed loss from the weighted-sum form of the
debiased moving average, each suggestion rule on synthetic curves whose answer is known.
"""

import functools

import numpy as np
import pytest

from learnlr import optimizers, problems
from learnlr.finder import (
    SUGGESTIONS,
    FinderResult,
    TooFewPoints,
    lr_find,
    minimum,
    slide,
    steep,
    sweep_rates,
    valley,
)
from learnlr.problems import Problem

SKIP_END = 5  # the rules drop the last 5 points, and the first num_it // 10


def trimmed(lrs, losses, num_it):
    start = num_it // 10
    return lrs[start:-SKIP_END], losses[start:-SKIP_END]


def debiased_ema(losses, beta):
    """sum_i beta^(k-i) (1 - beta) l_i / (1 - beta^(k+1)): the closed form, not the recursion."""
    out = []
    for k in range(len(losses)):
        w = (1 - beta) * beta ** np.arange(k, -1, -1.0)
        out.append(np.sum(w * losses[: k + 1]) / (1 - beta ** (k + 1)))
    return np.array(out)


# ---------------------------------------------------------------------------------------
# Problems with a known answer
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("a", [1.0, 10.0, 100.0])
def test_minimum_rule_on_a_parabola_is_stable_and_near_the_best_rate(a):
    # f = a x^2 / 2: GD is stable for lr < 2/a, and lr = 1/a solves it in one step.
    res = lr_find(problems.quadratic1d(a=a), optimizers.gd)
    lr = res.suggestions["minimum"]
    assert lr < 2 / a
    assert 0.1 < lr / (1 / a) < 10


@pytest.mark.parametrize("kappa", [2.0, 10.0, 100.0, 1000.0])
@pytest.mark.parametrize("angle", [0.0, 0.7])
def test_minimum_rule_on_a_quadratic_is_stable_and_near_the_best_rate(kappa, angle):
    p = problems.quadratic2d(kappa=kappa, angle=angle)
    res = lr_find(p, optimizers.gd)
    lr = res.suggestions["minimum"]
    best = 2 / (p.mu + p.L)
    assert lr < 2 / p.L, f"suggestion {lr:.3g} is not stable (2/L = {2 / p.L:.3g})"
    assert 0.1 < lr / best < 10, f"suggestion {lr:.3g} vs best fixed rate {best:.3g}"
    # and the loss did blow up past 2/L: the sweep stopped, after crossing the limit
    assert res.stopped_early and res.lrs[-1] > 2 / p.L


def test_rotation_does_not_change_the_sweep():
    # GD is rotation invariant: rotate the bowl and the start together and the losses
    # (hence all suggestions) agree to rounding.
    c, s = np.cos(0.7), np.sin(0.7)
    x0 = np.array([[c, -s], [s, c]]) @ np.array([-2.0, 1.5])
    a = lr_find(problems.quadratic2d(kappa=10, angle=0.0), optimizers.gd)
    b = lr_find(problems.quadratic2d(kappa=10, angle=0.7, x0=x0), optimizers.gd)
    assert len(a.lrs) == len(b.lrs)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-9)


# ---------------------------------------------------------------------------------------
# The rules on synthetic curves, each against its definition
# ---------------------------------------------------------------------------------------
NUM_IT = 81
LRS = 10.0 ** np.linspace(-7, 1, NUM_IT)  # exponents -7, -6.9, ..., 1: exact grid points


def clean_valley(center=-2.0):
    """A valley in log-space, lowest exactly at lr = 10**center (a grid point)."""
    return 1.0 + (np.log10(LRS) - center) ** 2


def monotone_curve():
    """A loss that falls linearly in log(lr) over the whole sweep."""
    return 10.0 - 0.5 * (np.log10(LRS) + 7)


def cliff(center=-2.95):
    """A smooth drop whose steepest point is half-way between two grid points."""
    return 2.0 - np.tanh(2.0 * (np.log10(LRS) - center))


def test_minimum_rule_is_the_lowest_point_over_ten():
    assert minimum(LRS, clean_valley(-2.0), NUM_IT) == pytest.approx(1e-3, rel=1e-9)
    assert minimum(LRS, clean_valley(-4.0), NUM_IT) == pytest.approx(1e-5, rel=1e-9)
    # monotone: the lowest point is the last one kept, 5 from the end
    assert minimum(LRS, monotone_curve(), NUM_IT) == pytest.approx(LRS[-1 - SKIP_END] / 10)


def test_minimum_rule_ignores_the_first_tenth_and_the_last_five_points():
    losses = clean_valley(-2.0)
    losses[NUM_IT // 10 - 1] = -100.0  # just before the kept range
    losses[-SKIP_END] = -100.0  # just after it
    assert minimum(LRS, losses, NUM_IT) == pytest.approx(1e-3, rel=1e-9)


def test_steep_rule_is_the_left_end_of_the_steepest_segment():
    # d loss / d log10(lr) is most negative at -2.95, inside the segment [-3.0, -2.9]
    assert steep(LRS, cliff(-2.95), NUM_IT) == pytest.approx(1e-3, rel=1e-9)
    # a parabola in log(lr) falls fastest at the left end of the kept range
    lrs, _ = trimmed(LRS, clean_valley(), NUM_IT)
    assert steep(LRS, clean_valley(), NUM_IT) == pytest.approx(lrs[0])


def test_steep_rule_measures_slope_per_unit_of_log_lr_not_of_lr():
    # Uneven spacing: the largest drop per unit of lr is not the largest per unit of log(lr).
    lrs = np.array([1e-3, 2e-3, 1e-2, 1.1e-2, 1e-1, 2e-1, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    losses = np.array([5.0, 4.0, 3.9, 3.5, 3.4, 3.3, 3.2, 3.1, 3.0, 2.9, 2.8, 2.7])
    # kept: lrs[1:-5] (num_it=10 drops 1 at the start); slopes per unit of ln(lr):
    kept_lr, kept_loss = lrs[1:-5], losses[1:-5]
    slopes = np.diff(kept_loss) / np.diff(np.log(kept_lr))
    assert steep(lrs, losses, 10) == kept_lr[np.argmin(slopes)] == 1e-2


def longest_decreasing_run(values):
    """Length and first end index of the longest strictly decreasing subsequence.

    Written as a recursion with memo (the module uses an iterative double loop).
    """
    memo = {}

    def ending_at(i):
        if i not in memo:
            memo[i] = 1 + max([ending_at(j) for j in range(i) if values[j] > values[i]] or [0])
        return memo[i]

    lengths = [ending_at(i) for i in range(len(values))]
    best = max(lengths)
    return best, lengths.index(best)


def valley_by_definition(lrs, losses, num_it):
    lrs, losses = trimmed(lrs, losses, num_it)
    length, end = longest_decreasing_run(list(losses))
    start = end - length  # fast.ai's index arithmetic: one before the run's first point
    sections = (end - start) / 3
    return lrs[start + int(sections) + int(sections / 2)]


@pytest.mark.parametrize(
    "curve", [clean_valley(-2.0), clean_valley(-4.0), monotone_curve(), cliff()]
)
def test_valley_rule_matches_its_definition(curve):
    assert valley(LRS, curve, NUM_IT) == valley_by_definition(LRS, curve, NUM_IT)


def test_valley_rule_on_noisy_curves_matches_its_definition():
    rng = np.random.default_rng(0)
    for _ in range(5):
        curve = clean_valley(-3.0) + 0.3 * rng.standard_normal(NUM_IT)
        assert valley(LRS, curve, NUM_IT) == valley_by_definition(LRS, curve, NUM_IT)


def test_valley_rule_without_any_decrease_returns_the_first_kept_rate():
    lrs, _ = trimmed(LRS, LRS, NUM_IT)
    assert valley(LRS, np.full(NUM_IT, 2.0), NUM_IT) == lrs[0]  # flat
    assert valley(LRS, np.log(LRS) + 20, NUM_IT) == lrs[0]  # rising


def test_valley_rule_picks_the_middle_of_a_decreasing_run():
    # The kept points fall from index 0 to the minimum at lr = 1e-2: the run spans
    # exponents -6.2 .. -2, and the pick is half-way along it in log(lr).
    lrs, losses = trimmed(LRS, clean_valley(-2.0), NUM_IT)
    first, last = np.log10(lrs[0]), -2.0
    got = np.log10(valley(LRS, clean_valley(-2.0), NUM_IT))
    assert abs(got - (first + last) / 2) <= 0.1 + 1e-9  # within one grid step of the middle


def slide_by_definition(lrs, losses, num_it, lr_diff=15, thresh=0.005):
    lrs, losses = trimmed(lrs, losses, num_it)
    grad = np.gradient(losses)
    n = len(losses)
    right = n - 1
    suggestion = lrs[right - lr_diff]
    while right - lr_diff >= 0 and abs(grad[right] - grad[right - lr_diff]) > thresh:
        suggestion = lrs[right - lr_diff]
        right -= 1
    return suggestion


@pytest.mark.parametrize(
    "curve",
    [clean_valley(-2.0), 0.03 * clean_valley(-2.0), monotone_curve(), cliff(), 0.01 * cliff()],
)
def test_slide_rule_matches_its_definition(curve):
    assert slide(LRS, curve, NUM_IT) == slide_by_definition(LRS, curve, NUM_IT)


def test_slide_rule_on_a_straight_line_stops_at_once():
    # constant slope: the slope never changes, so the answer is lr_diff points from the end
    lrs, _ = trimmed(LRS, monotone_curve(), NUM_IT)
    assert slide(LRS, monotone_curve(), NUM_IT) == lrs[-1 - 15]


def test_rules_that_ignore_the_loss_scale_and_the_one_that_does_not():
    base = clean_valley(-2.0) + 0.05 * np.sin(np.arange(NUM_IT))
    for rule in (minimum, steep, valley):
        assert rule(LRS, base, NUM_IT) == rule(LRS, 100 * base, NUM_IT), rule.__name__
        assert rule(LRS, base, NUM_IT) == rule(LRS, base + 7.0, NUM_IT), rule.__name__
    # slide compares slopes with an absolute threshold (0.005), so the scale matters
    curve = clean_valley(-2.0)
    assert slide(LRS, 0.01 * curve, NUM_IT) == slide_by_definition(LRS, 0.01 * curve, NUM_IT)
    assert slide(LRS, 0.01 * curve, NUM_IT) > 1e4 * slide(LRS, curve, NUM_IT)


def test_short_curves_are_trimmed_too_and_a_rule_without_enough_points_says_so():
    # as in fast.ai, a short record is trimmed all the same: 9 points, num_it = 10 keep
    # points 1 to 3; minimum, steep and valley read them, slide needs 16
    lrs = 10.0 ** np.arange(-8.0, 1.0)
    losses = np.array([9.0, 3.0, 2.5, 1.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    assert minimum(lrs, losses, 10) == pytest.approx(lrs[3] / 10)
    assert steep(lrs, losses, 10) == lrs[2]
    assert valley(lrs, losses, 10) in lrs[1:4]
    with pytest.raises(TooFewPoints, match=r"slide: needs at least 16 points .* got 3"):
        slide(lrs, losses, 10)
    with pytest.raises(TooFewPoints, match=r"steep: needs at least 2 points .* got 1"):
        steep(lrs[:7], losses[:7], 10)
    with pytest.raises(TooFewPoints, match=r"minimum: needs at least 1 points .* got 0"):
        minimum(lrs[:5], losses[:5], 10)


def test_a_nan_cuts_the_record_and_the_last_five_before_it_are_kept():
    # fast.ai runs on past a NaN and cuts its num_it-long record there, so the points just
    # before the NaN are read; learnlr's record ends at the NaN, with the same result
    lrs = sweep_rates(1e-7, 10.0, 100)
    losses = np.linspace(10.0, 1.0, 100)
    losses[60] = np.nan
    assert minimum(lrs[:61], losses[:61], 100) == pytest.approx(lrs[59] / 10)
    # an inf is the end of the record: the last 5 (inf among them) are dropped
    losses[60] = np.inf
    assert minimum(lrs[:61], losses[:61], 100) == pytest.approx(lrs[55] / 10)


# ---------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------
def test_sweep_is_geometric_from_start_to_end():
    # a parabola with 2/L = 2 > 1.5 = end_lr: the loss never blows up, the sweep runs out
    res = lr_find(problems.quadratic1d(a=1.0), optimizers.gd, start_lr=1e-4, end_lr=1.5, num_it=50)
    assert not res.stopped_early
    assert len(res.lrs) == len(res.losses) == len(res.smoothed) == res.num_it == 50
    assert res.lrs[0] == pytest.approx(1e-4, rel=1e-12)
    assert res.lrs[-1] == pytest.approx(1.5, rel=1e-12)
    ratios = res.lrs[1:] / res.lrs[:-1]
    np.testing.assert_allclose(ratios, (1.5 / 1e-4) ** (1 / 49), rtol=1e-12)


def test_update_k_uses_lrs_k_and_the_loss_is_measured_before_it():
    # f = x^2 / 2, GD: x_{k+1} = (1 - lr_k) x_k, so sqrt(l_{k+1} / l_k) = |1 - lr_k|.
    res = lr_find(problems.quadratic1d(a=1.0, x0=2.0), optimizers.gd, end_lr=1.9, num_it=30)
    assert res.losses[0] == pytest.approx(2.0)  # f(x0), before any update
    np.testing.assert_allclose(
        np.sqrt(res.losses[1:] / res.losses[:-1]), np.abs(1 - res.lrs[:-1]), rtol=1e-9
    )


def test_stochastic_sweep_records_the_loss_of_each_update_s_own_batch():
    p = problems.least_squares(batch_size=10, seed=3)
    res = lr_find(p, optimizers.sgd, num_it=40)
    x = p.x0
    opt = optimizers.sgd(lr=lambda k: res.lrs[k])
    state = opt.init(x)
    for k in range(len(res.lrs)):
        assert res.losses[k] == pytest.approx(p.batch_loss(x, k), rel=1e-12)
        x, state, _ = opt.step(x, p.batch_grad(x, k), state)


def test_sweep_starts_from_x0_when_given():
    p = problems.quadratic1d(a=1.0, x0=2.0)
    res = lr_find(p, optimizers.gd, x0=[4.0])
    assert res.losses[0] == pytest.approx(8.0)


# ---------------------------------------------------------------------------------------
# The smoothing
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98])
def test_smoothed_loss_is_the_debiased_moving_average(beta):
    p = problems.least_squares(batch_size=10, seed=0)
    res = lr_find(p, optimizers.sgd, beta=beta, num_it=60)
    assert res.smoothed[0] == res.losses[0]  # debiased: the first value is the raw loss
    np.testing.assert_allclose(res.smoothed, debiased_ema(res.losses, beta), rtol=1e-10)
    if beta == 0.0:
        np.testing.assert_array_equal(res.smoothed, res.losses)


def test_smoothing_a_constant_loss_gives_the_constant():
    # A flat loss stays flat only if the average is debiased (else it starts near 0).
    p = problems.quadratic1d(a=1.0, x0=2.0)
    res = lr_find(p, optimizers.gd, start_lr=1e-12, end_lr=1e-11, num_it=20)
    np.testing.assert_allclose(res.smoothed, 2.0, rtol=1e-9)


# ---------------------------------------------------------------------------------------
# The stopping rule
# ---------------------------------------------------------------------------------------
def scripted(losses, start_lr=1e-7, end_lr=10.0, num_it=100):
    """A problem on which GD sees the loss ``losses[k]`` before update ``k``.

    The gradient is -1 everywhere, so GD moves x to the sum of the rates so far; the loss
    looks up which update that sum belongs to.
    """
    rates = start_lr * (end_lr / start_lr) ** (np.arange(num_it) / (num_it - 1))
    positions = np.concatenate([[0.0], np.cumsum(rates)])[: len(losses)]
    values = np.asarray(losses, dtype=float)

    def loss(x):
        return values[np.argmin(np.abs(positions - x[..., 0]))]

    return Problem("scripted", loss, lambda x: -np.ones_like(x), [0.0])


def test_stops_exactly_when_the_loss_first_exceeds_the_multiple():
    # beta = 0, so smoothed = raw: best is 1 from update 1 on; 4.0 equals 4 x best (go on),
    # 4.0000001 exceeds it (stop, and record it).
    script = [2.0, 1.0, 1.5, 3.9, 4.0, 4.0000001] + [1.0] * 94
    res = lr_find(scripted(script), optimizers.gd, beta=0.0, stop_factor=4.0)
    np.testing.assert_array_equal(res.losses, script[:6])
    assert res.stopped_early and len(res.lrs) == 6
    res = lr_find(scripted(script), optimizers.gd, beta=0.0, stop_factor=4.0000002)
    assert not res.stopped_early and len(res.lrs) == 100


@pytest.mark.parametrize("stop_factor", [1.5, 4.0, 20.0])
def test_stops_when_the_smoothed_loss_first_exceeds_stop_factor_times_best(stop_factor):
    p = problems.quadratic2d(kappa=10)
    res = lr_find(p, optimizers.gd, stop_factor=stop_factor)
    s = res.smoothed
    n = len(s)
    assert res.stopped_early and n < res.num_it
    best_before = np.minimum.accumulate(s)  # best_before[k - 1]: best up to update k - 1
    for k in range(1, n - 1):
        assert s[k] <= stop_factor * best_before[k - 1], f"should have stopped at {k}"
    # the last point recorded is the one that broke the rule
    assert s[-1] > stop_factor * best_before[-2]


def test_a_larger_stop_factor_never_stops_earlier():
    p = problems.quadratic2d(kappa=10)
    factors = (1.1, 1.5, 2.0, 4.0, 20.0, 1e3, 1e6)
    lengths = [len(lr_find(p, optimizers.gd, stop_factor=f).lrs) for f in factors]
    assert lengths == sorted(lengths)
    assert lengths[0] < lengths[-1]


def test_stops_on_a_non_finite_loss():
    # A huge jump to inf in one update: lr far past 2/L on a stiff parabola.
    p = problems.quadratic1d(a=1e6, x0=1e150)
    res = lr_find(p, optimizers.gd, start_lr=1.0, end_lr=10.0, num_it=10)
    assert res.stopped_early
    assert not np.isfinite(res.smoothed[-1])
    assert np.all(np.isfinite(res.smoothed[:-1]))


def test_does_not_stop_when_the_loss_never_blows_up():
    # logistic loss grows at most linearly in the weights: no blow-up by lr = 10
    res = lr_find(problems.logistic_regression(batch_size=20), optimizers.sgd)
    assert not res.stopped_early
    assert len(res.lrs) == 100
    assert res.lrs[-1] == pytest.approx(10.0)


def test_stopping_right_away_leaves_no_suggestions():
    # Two points only (stop after update 1): too few to suggest anything.
    p = problems.quadratic1d(a=1e6, x0=1.0)
    res = lr_find(p, optimizers.gd, start_lr=1.0, end_lr=10.0, num_it=10)
    assert len(res.lrs) == 2 and res.stopped_early
    assert res.suggestions == {}


# ---------------------------------------------------------------------------------------
# Result, determinism, purity
# ---------------------------------------------------------------------------------------
def test_result_holds_every_rule_computed_on_the_finite_smoothed_curve():
    res = lr_find(problems.least_squares(batch_size=10), optimizers.sgd)
    assert isinstance(res, FinderResult)
    assert sorted(res.suggestions) == sorted(SUGGESTIONS)
    for rule, fn in SUGGESTIONS.items():
        assert res.suggestions[rule] == fn(res.lrs, res.smoothed, res.num_it)
        assert res.lrs[0] / 10 <= res.suggestions[rule] <= res.lrs[-1]


def test_deterministic_on_stochastic_problems():
    make = functools.partial(problems.logistic_regression, batch_size=5)
    a = lr_find(make(seed=1), optimizers.sgd)
    b = lr_find(make(seed=1), optimizers.sgd)
    p = make(seed=1)
    c, d = lr_find(p, optimizers.sgd), lr_find(p, optimizers.sgd)  # the same object twice
    for other in (b, c, d):
        np.testing.assert_array_equal(a.losses, other.losses)
        np.testing.assert_array_equal(a.smoothed, other.smoothed)
        assert a.suggestions == other.suggestions
    e = lr_find(make(seed=2), optimizers.sgd)
    assert not np.array_equal(a.losses, e.losses)


def test_sweep_never_modifies_x0():
    p = problems.least_squares(batch_size=10)
    before = p.x0
    lr_find(p, optimizers.adam)
    np.testing.assert_array_equal(p.x0, before)
    x0 = np.ones(p.dim)
    x0.flags.writeable = False  # any in-place write would raise
    lr_find(p, functools.partial(optimizers.sgd, momentum=0.9), x0=x0)
    np.testing.assert_array_equal(x0, 1.0)


def test_works_with_momentum_and_adaptive_optimizers():
    p = problems.quadratic2d(kappa=10)
    for make_opt in (
        functools.partial(optimizers.sgd, momentum=0.9),
        optimizers.adam,
        optimizers.rmsprop,
    ):
        res = lr_find(p, make_opt)
        assert sorted(res.suggestions) == sorted(SUGGESTIONS)


def test_plot_marks_every_suggestion():
    import matplotlib.pyplot as plt

    from learnlr.viz.plots import finder_curve

    res = lr_find(problems.quadratic2d(kappa=10), optimizers.gd)
    ax = finder_curve(res)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for rule, lr in res.suggestions.items():
        assert f"{rule}: {lr:.2g}" in labels
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)


# ---------------------------------------------------------------------------------------
# Argument validation: errors name the function, the argument and the value
# ---------------------------------------------------------------------------------------
P = problems.quadratic2d(kappa=10)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"start_lr": 0.0}, ValueError, r"lr_find: start_lr must be > 0, got 0\.0"),
        ({"start_lr": -1e-7}, ValueError, r"lr_find: start_lr must be > 0, got -1e-07"),
        ({"start_lr": "1e-7"}, TypeError, r"lr_find: start_lr must be a real number, got '1e-7'"),
        ({"end_lr": 1e-8}, ValueError, r"lr_find: end_lr must be > start_lr, got .*1e-07.*1e-08"),
        ({"end_lr": 1e-7}, ValueError, r"lr_find: end_lr must be > start_lr"),
        ({"num_it": 9}, ValueError, r"lr_find: num_it must be an integer >= 10, got 9"),
        ({"num_it": 50.0}, TypeError, r"lr_find: num_it must be an integer, got 50\.0"),
        ({"beta": 1.0}, ValueError, r"lr_find: beta must be in \[0, 1\), got 1\.0"),
        ({"beta": -0.1}, ValueError, r"lr_find: beta must be in \[0, 1\), got -0\.1"),
        ({"stop_factor": 1.0}, ValueError, r"lr_find: stop_factor must be > 1, got 1\.0"),
        ({"stop_factor": 0.5}, ValueError, r"lr_find: stop_factor must be > 1, got 0\.5"),
        ({"stop_factor": 0}, ValueError, r"lr_find: stop_factor must be > 0, got 0"),
        ({"x0": [np.nan, 1.0]}, ValueError, r"lr_find: x0 must contain only finite numbers"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        lr_find(P, optimizers.gd, **kwargs)


def test_make_opt_must_make_an_optimizer_from_a_rate():
    with pytest.raises(TypeError, match=r"^lr_find: make_opt must be a function lr -> optimizer"):
        lr_find(P, optimizers.gd(lr=0.1))  # an optimizer, not a function of the rate
    with pytest.raises(TypeError, match=r"^lr_find: make_opt must be .*got 'sgd'$"):
        lr_find(P, "sgd")
    with pytest.raises(TypeError, match=r"^lr_find: make_opt\(lr=sweep\) must return a learnlr"):
        lr_find(P, lambda lr: lr)


def test_problem_must_be_a_problem():
    with pytest.raises(TypeError, match=r"lr_find: problem must be a learnlr Problem, got 'q'"):
        lr_find("q", optimizers.gd)
    with pytest.raises(TypeError, match=r"lr_find: problem must be a learnlr Problem"):
        lr_find(lambda x: x**2, optimizers.gd)
