"""Tests of learnlr.course.ch09_finder: the finder's pieces and the grid of training runs."""

import functools

import numpy as np
import pytest

from learnlr import optimizers, problems, run
from learnlr.course import checks
from learnlr.course.ch09_finder import (
    LRGrid,
    compare,
    final_loss,
    lr_grid,
    rule_marks,
    smooth_losses,
    smoothing_mistakes,
    steep_mistakes,
    sweep_rates,
)
from learnlr.finder import SUGGESTIONS, lr_find


# ---------------------------------------------------------------------------------------
# sweep_rates and smooth_losses agree with what lr_find records
# ---------------------------------------------------------------------------------------
def test_sweep_rates_are_the_finder_s_rates():
    res = lr_find(problems.logistic_regression(), optimizers.sgd, num_it=100)
    assert not res.stopped_early
    np.testing.assert_allclose(sweep_rates(1e-7, 10.0, 100), res.lrs, rtol=1e-13)


def test_sweep_rates_closed_form():
    lrs = sweep_rates(1e-6, 1e2, 9)
    np.testing.assert_allclose(lrs, 10.0 ** np.arange(-6, 3), rtol=1e-13)
    assert lrs[0] == 1e-6 and lrs[-1] == pytest.approx(1e2, rel=1e-14)


@pytest.mark.parametrize("beta", [0.0, 0.6, 0.98])
def test_smooth_losses_is_what_the_finder_plots(beta):
    res = lr_find(problems.least_squares(batch_size=10), optimizers.sgd, beta=beta)
    np.testing.assert_allclose(smooth_losses(res.losses, beta), res.smoothed, rtol=1e-12)


def test_smooth_losses_by_hand():
    # a_0 = 0.5 * 1 = 0.5 -> 0.5 / 0.5 = 1; a_1 = 0.25 + 1 = 1.25 -> 1.25 / 0.75 = 5/3
    np.testing.assert_allclose(smooth_losses([1.0, 2.0], beta=0.5), [1.0, 5 / 3])
    np.testing.assert_allclose(smooth_losses(np.full(50, 3.0), beta=0.98), 3.0)
    np.testing.assert_array_equal(smooth_losses([4.0, 1.0, 9.0], beta=0.0), [4.0, 1.0, 9.0])


def test_smooth_losses_does_not_modify_its_input():
    losses = np.array([3.0, 2.0, 1.0])
    losses.flags.writeable = False
    smooth_losses(losses)


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        ((1e-7, 10, 1), ValueError, r"sweep_rates: num_it must be an integer >= 2, got 1"),
        ((0.0, 10, 10), ValueError, r"sweep_rates: start_lr must be > 0, got 0\.0"),
        ((1.0, 0.5, 10), ValueError, r"sweep_rates: end_lr must be > start_lr"),
    ],
)
def test_sweep_rates_validation(args, error, pattern):
    with pytest.raises(error, match=pattern):
        sweep_rates(*args)


def test_smooth_losses_validation():
    with pytest.raises(ValueError, match=r"smooth_losses: beta must be in \[0, 1\), got 1\.0"):
        smooth_losses([1.0, 2.0], beta=1.0)
    with pytest.raises(ValueError, match=r"smooth_losses: losses must be 1-D, got shape \(2, 2\)"):
        smooth_losses(np.ones((2, 2)))


# ---------------------------------------------------------------------------------------
# rule_marks says what the finder's rules did
# ---------------------------------------------------------------------------------------
def _curves():
    lrs = 10.0 ** np.linspace(-7, 1, 81)
    yield lrs, 1.0 + (np.log10(lrs) + 2) ** 2, 81
    yield lrs, 10.0 - 0.5 * np.log10(lrs), 81
    yield lrs, 0.01 * (1.0 + (np.log10(lrs) + 2) ** 2), 81
    rng = np.random.default_rng(1)
    yield lrs, 1.0 + (np.log10(lrs) + 3) ** 2 + rng.standard_normal(81), 81
    for problem, make_opt in [
        (problems.least_squares(batch_size=10), optimizers.sgd),
        (problems.least_squares(batch_size=1), optimizers.sgd),
        (problems.quadratic2d(kappa=100), optimizers.gd),
        (problems.logistic_regression(), optimizers.adam),
    ]:
        res = lr_find(problem, make_opt)
        yield res.lrs, res.smoothed, res.num_it


@pytest.mark.parametrize("lrs, losses, num_it", list(_curves()))
def test_rule_marks_agree_with_the_finder_rules(lrs, losses, num_it):
    marks = rule_marks(lrs, losses, num_it)
    assert sorted(marks) == sorted(SUGGESTIONS)
    for rule, fn in SUGGESTIONS.items():
        mark = marks[rule]
        assert mark.lr == fn(lrs, losses, num_it), rule
        lo, hi = mark.span
        assert lo <= mark.lr * (1 + 1e-12) and mark.lr <= hi * (1 + 1e-12), rule
        assert isinstance(mark.text, str) and f"{mark.lr:.3g}" in mark.text, rule


def test_rule_marks_validation():
    with pytest.raises(ValueError, match=r"rule_marks: lrs and losses must be 1-D of the same"):
        rule_marks([1e-3, 1e-2, 1e-1], [1.0, 2.0], 10)


# ---------------------------------------------------------------------------------------
# final_loss, lr_grid, compare
# ---------------------------------------------------------------------------------------
def test_final_loss_by_hand_and_divergence():
    p = problems.quadratic1d(a=2.0, x0=1.0)
    # x_k = (1 - 0.1 * 2)^k, f = x^2
    assert final_loss(p, optimizers.gd(lr=0.1), 5) == pytest.approx(0.8**10)
    assert final_loss(p, optimizers.gd(lr=0.1), 0) == pytest.approx(1.0)
    assert final_loss(p, optimizers.gd(lr=1.5), 5000) == np.inf


def test_final_loss_validation():
    p = problems.quadratic1d()
    with pytest.raises(TypeError, match=r"final_loss: opt must be a learnlr optimizer"):
        final_loss(p, optimizers.gd, 5)  # a factory, not an optimizer
    with pytest.raises(TypeError, match=r"final_loss: problem must be a learnlr Problem"):
        final_loss("p", optimizers.gd(lr=0.1), 5)
    with pytest.raises(ValueError, match=r"final_loss: steps must be an integer >= 0, got -1"):
        final_loss(p, optimizers.gd(lr=0.1), -1)


def test_final_loss_is_run_s_final_loss():
    p = problems.least_squares(batch_size=10, seed=2)
    opt = optimizers.sgd(lr=0.02, momentum=0.5)
    assert final_loss(p, opt, 150) == pytest.approx(run(p, opt, 150).loss_final, rel=1e-12)


MAKE = functools.partial(problems.least_squares, batch_size=10)


def test_lr_grid_measures_and_averages_over_seeds():
    rates = [0.003, 0.01, 0.03, 0.3]
    grid = lr_grid(MAKE, optimizers.sgd, rates, steps=100, seeds=(0, 4))
    assert isinstance(grid, LRGrid)
    assert grid.losses.shape == (4, 2)
    for i, lr in enumerate(rates):
        for j, seed in enumerate((0, 4)):
            expected = final_loss(MAKE(seed=seed), optimizers.sgd(lr=lr), 100)
            assert grid.losses[i, j] == expected
    np.testing.assert_allclose(grid.mean, grid.losses.mean(axis=1))
    i = int(np.argmin(grid.mean))
    assert grid.best_lr == rates[i] and grid.best_loss == grid.mean[i]
    assert grid.loss_at(rates[1]) == pytest.approx(grid.mean[1], rel=1e-14)
    lo, hi = grid.good_range(tol=0.1)
    good = np.array(rates)[grid.mean <= 1.1 * grid.best_loss]
    assert (lo, hi) == (good.min(), good.max())
    assert "best lr" in repr(grid)


def test_compare_trains_at_each_suggestion():
    res = lr_find(MAKE(seed=0), optimizers.sgd)
    grid = lr_grid(MAKE, optimizers.sgd, np.geomspace(1e-3, 1.0, 7), steps=100, seeds=(0, 1))
    table = compare(res, grid, tol=0.05)
    assert [r.rule for r in table.rows] == list(res.suggestions)
    for row in table.rows:
        assert row.lr == res.suggestions[row.rule]
        assert row.ratio == pytest.approx(row.lr / grid.best_lr)
        assert row.loss == pytest.approx(grid.loss_at(row.lr))
        assert row.excess == pytest.approx(row.loss / grid.best_loss - 1)
    text = str(table)
    assert text.startswith(f"measured best rate {grid.best_lr:.3g}")
    assert len(text.splitlines()) == 2 + len(table.rows)
    assert "within 5%?" in text
    assert table["minimum"].rule == "minimum"
    with pytest.raises(KeyError):
        table["nope"]


def test_lr_grid_and_compare_validation():
    with pytest.raises(ValueError, match=r"lr_grid: lrs must be a 1-D array of rates > 0"):
        lr_grid(MAKE, optimizers.sgd, [0.1, 0.0], steps=10)
    with pytest.raises(ValueError, match=r"lr_grid: steps must be an integer >= 1, got 0"):
        lr_grid(MAKE, optimizers.sgd, [0.1], steps=0)
    with pytest.raises(ValueError, match=r"lr_grid: seeds must hold at least one seed"):
        lr_grid(MAKE, optimizers.sgd, [0.1], steps=10, seeds=())
    with pytest.raises(TypeError, match=r"lr_grid: make_opt must be a function lr -> optimizer"):
        lr_grid(MAKE, optimizers.sgd(lr=0.1), [0.1], steps=10)
    with pytest.raises(TypeError, match=r"compare: result must be a FinderResult"):
        compare("res", None)


# ---------------------------------------------------------------------------------------
# The exercises' mistake models are recognised by the checks
# ---------------------------------------------------------------------------------------
def _smoothing_cases():
    rng = np.random.default_rng(9)
    return [
        {"losses": rng.uniform(1.0, 2.0, 30), "beta": 0.98},
        {"losses": rng.uniform(1.0, 2.0, 20), "beta": 0.5},
        {"losses": np.full(10, 3.0), "beta": 0.9},
    ]


def _steep_cases():
    lrs = 10.0 ** np.linspace(-7, 1, 81)
    rng = np.random.default_rng(2)
    return [
        {"lrs": lrs, "losses": 2.0 - np.tanh(2.0 * (np.log10(lrs) + 2.95)), "num_it": 81},
        {"lrs": lrs, "losses": 1.0 + (np.log10(lrs) + 2) ** 2 + rng.random(81), "num_it": 81},
        {"lrs": lrs[:60], "losses": 3.0 - np.tanh(np.log10(lrs[:60]) + 4.0), "num_it": 81},
    ]


@pytest.mark.parametrize(
    "reference, mistakes, cases",
    [
        (smooth_losses, smoothing_mistakes(), _smoothing_cases()),
        (SUGGESTIONS["steep"], steep_mistakes(), _steep_cases()),
    ],
)
def test_check_function_names_each_mistake(reference, mistakes, cases):
    assert checks.check_function("t", reference, reference, cases).passed
    for hint, wrong in mistakes.items():
        result = checks.check_function("t", wrong, reference, cases, mistakes=mistakes)
        assert not result.passed, hint
        assert result.message.endswith(hint), (hint, result.message)


def test_lr_grid_extends_a_grid_whose_best_rate_is_on_an_edge():
    # least squares, batch 10, 200 updates: the best rate is near 0.03 (the doctest's grid)
    make = functools.partial(problems.least_squares, batch_size=10)
    low = lr_grid(make, optimizers.sgd, [0.001, 0.002], steps=200, max_extend=2)
    assert low.edge == "high" and len(low.lrs) == 4 and low.best_lr == low.lrs[-1]
    assert "(high edge)" in repr(low)
    grown = lr_grid(make, optimizers.sgd, [0.003, 0.01], steps=200, max_extend=4)
    assert grown.edge is None and 0.01 < grown.best_lr < grown.lrs[-1]
    assert grown.losses.shape == (len(grown.lrs), 3)
    with pytest.raises(ValueError, match="lr_grid: max_extend must be an integer >= 0"):
        lr_grid(make, optimizers.sgd, [0.003, 0.01], steps=5, max_extend=-1)
