"""tune_rate: the grid grows on the side where the best rate sits, until it is interior."""

import math

import numpy as np
import pytest

from learnlr import optimizers, problems, run
from learnlr.tuning import tune_rate


def bowl(center):
    """A score with its minimum at the rate ``center``, in log10 units."""
    return lambda lr: (math.log10(lr) - math.log10(center)) ** 2


def test_interior_best_is_found_after_extending_upwards():
    calls = []

    def score(lr):
        calls.append(lr)
        return bowl(50.0)(lr)

    t = tune_rate(score, [0.1, 1.0, 10.0])
    assert t.lr == pytest.approx(100.0)  # log10(50) = 1.7 is nearer 2 than 1 or 3
    assert t.edge is None and t.interior and t.stopped == "interior"
    assert t.extensions == 2
    np.testing.assert_allclose(t.lrs, [0.1, 1.0, 10.0, 100.0, 1000.0])
    assert len(calls) == 5  # every rate scored once
    np.testing.assert_allclose(t.scores, [bowl(50.0)(r) for r in t.lrs])


def test_interior_best_is_found_after_extending_downwards_with_the_edge_spacing():
    t = tune_rate(bowl(0.02), [0.3, 1.0, 3.0, 10.0])
    # the low side's spacing is 1/0.3: 0.09, then 0.027, then 0.0081
    np.testing.assert_allclose(t.lrs[:3], [0.0081, 0.027, 0.09], rtol=1e-12)
    assert t.lr == pytest.approx(0.027)
    assert t.interior and t.extensions == 3


def test_an_interior_best_needs_no_extension():
    t = tune_rate(bowl(1.0), [0.1, 1.0, 10.0])
    assert t.lr == 1.0 and t.extensions == 0 and t.stopped == "interior"


def test_the_edge_is_reported_when_the_limit_is_hit():
    t = tune_rate(bowl(1e-6), [0.1, 1.0, 10.0], max_extend=2)
    assert t.edge == "low" and not t.interior and t.stopped == "max_extend"
    assert t.lr == pytest.approx(1e-3) and t.extensions == 2
    assert t.describe() == "0.001 (low edge)"
    t0 = tune_rate(bowl(1e6), [0.1, 1.0, 10.0], max_extend=0)
    assert (t0.lr, t0.edge, t0.stopped, t0.extensions) == (10.0, "high", "max_extend", 0)


def test_a_hard_bound_stops_the_extension():
    t = tune_rate(bowl(1e6), [0.1, 1.0, 10.0], max_extend=10, lr_max=500.0)
    assert t.lr == 100.0 and t.edge == "high" and t.stopped == "lr_max"
    t = tune_rate(bowl(1e-6), [0.1, 1.0, 10.0], max_extend=10, lr_min=0.05)
    assert t.lr == 0.1 and t.edge == "low" and t.stopped == "lr_min"


def test_diverged_scores_lose_and_a_diverged_neighbour_makes_the_best_interior():
    # lower is better up to lr = 2, where the run diverges (NaN or inf)
    def score(lr):
        if lr > 2.0:
            return math.nan if lr < 50 else math.inf
        return 1.0 / lr

    t = tune_rate(score, [0.01, 0.1, 1.0])
    assert t.lr == 1.0 and t.interior and t.extensions == 1
    assert t.scores[-1] == math.inf  # NaN is stored as inf
    t = tune_rate(score, [0.01, 0.1, 1.0, 10.0, 100.0])
    assert t.lr == 1.0 and t.extensions == 0


def test_when_every_rate_diverges_the_grid_grows_downwards():
    def score(lr):  # diverges above 0.05; below, best at 0.01
        return math.inf if lr > 0.05 else bowl(0.01)(lr)

    t = tune_rate(score, [1.0, 10.0, 100.0], max_extend=5)
    np.testing.assert_allclose(t.lrs[:4], [0.001, 0.01, 0.1, 1.0])
    assert t.lr == pytest.approx(0.01) and t.interior and t.extensions == 3


def test_a_real_tuning_of_gradient_descent():
    # GD on a x^2/2 with a = 1: the fewest steps at lr = 1; lr > 2 diverges
    p = problems.quadratic1d(a=1.0)

    def steps(lr):
        hit = run(p, optimizers.gd(lr=lr), 200, stop_at_gap=1e-8).steps_to(1e-8)
        return math.inf if hit is None else hit

    t = tune_rate(steps, [0.01, 0.03, 0.1, 0.3])
    # the grid grows by its spacing 3: 0.9 (the best, near 1), then 2.7 > 2 diverges
    assert t.lr == pytest.approx(0.9) and t.interior and t.extensions == 2
    assert t.scores[-1] == math.inf


def test_bad_arguments_are_refused_at_the_door():
    f = bowl(1.0)
    with pytest.raises(TypeError, match="tune_rate: score must be a function of the rate"):
        tune_rate(0.1, [0.1, 1.0])
    for bad in ([0.1], [1.0, 0.1], [0.0, 1.0], [0.1, 0.1], [0.1, np.inf], [[0.1, 1.0]]):
        with pytest.raises(ValueError, match="tune_rate: lrs must be at least 2 finite rates > 0"):
            tune_rate(f, bad)
    with pytest.raises(TypeError, match="tune_rate: lrs must be a list of rates, got 'ab'"):
        tune_rate(f, "ab")
    with pytest.raises(ValueError, match="tune_rate: max_extend must be an integer >= 0, got -1"):
        tune_rate(f, [0.1, 1.0], max_extend=-1)
    with pytest.raises(TypeError, match="tune_rate: max_extend must be an integer, got 1.5"):
        tune_rate(f, [0.1, 1.0], max_extend=1.5)
    with pytest.raises(ValueError, match="tune_rate: lr_max must be > 0, got 0"):
        tune_rate(f, [0.1, 1.0], lr_max=0)
    with pytest.raises(ValueError, match=r"tune_rate: lr_min must be <= lr_max, got 2.0 > 1.0"):
        tune_rate(f, [0.1, 1.0], lr_min=2.0, lr_max=1.0)
    with pytest.raises(TypeError, match=r"tune_rate: score\(0.1\) must return a real number"):
        tune_rate(lambda lr: "x", [0.1, 1.0])
