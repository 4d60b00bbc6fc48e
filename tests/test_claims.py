"""Tests of learnlr.course.claims: verdict rules, good ranges, tuned runs, Wilson et al.'s problem.

Expected values are derived by hand (written next to the numbers) or from closed forms of
gradient descent on quadratics, never copied from the code's output.
"""

from functools import partial

import numpy as np
import pytest

from learnlr import optimizers, problems, run
from learnlr.course import claims

STEPS = claims.Rule(lower_is_better=True, scale="ratio", margin=1.5)
ACC = claims.Rule(lower_is_better=False, scale="difference", margin=0.02, unit=" accuracy")


# ---- compare and verdict ----------------------------------------------------------------
def test_compare_picks_the_best_of_each_family_ratio():
    res = {"sgd": 300.0, "momentum": 120.0, "adagrad": 90.0, "adam": 60.0}
    c = claims.compare("bowl", res, ["adagrad", "adam"], STEPS)
    assert (c.adaptive_name, c.adaptive, c.baseline_name, c.baseline) == (
        "adam",
        60,
        "momentum",
        120,
    )
    assert c.advantage == pytest.approx(2.0) and c.outcome == "for"
    assert claims.compare("b", {"sgd": 100.0, "adam": 80.0}, ["adam"], STEPS).outcome == "tie"
    assert claims.compare("b", {"sgd": 100.0, "adam": 150.0}, ["adam"], STEPS).outcome == "against"
    # exactly at the margin counts: 1.5 is "a factor of 1.5"
    assert claims.compare("b", {"sgd": 150.0, "adam": 100.0}, ["adam"], STEPS).outcome == "for"


def test_compare_difference_and_direction():
    c = claims.compare("mlp", {"sgd": 0.95, "adam": 0.98}, ["adam"], ACC)
    assert c.advantage == pytest.approx(0.03) and c.outcome == "for"
    c = claims.compare("mlp", {"sgd": 0.95, "adam": 0.94}, ["adam"], ACC)
    assert c.advantage == pytest.approx(-0.01) and c.outcome == "tie"
    c = claims.compare("wil", {"sgd": 1.0, "adam": 0.6}, ["adam"], ACC)
    assert c.outcome == "against"
    # a difference exactly at the margin is not "more than" the margin
    margin = claims.Rule(False, "difference", 1.0)
    assert claims.compare("w", {"sgd": 1.0, "adam": 2.0}, ["adam"], margin).outcome == "tie"


def test_compare_with_never_and_not_measured():
    inf, nan = float("inf"), float("nan")
    assert claims.compare("a", {"sgd": inf, "adam": 10.0}, ["adam"], STEPS).outcome == "for"
    assert claims.compare("a", {"sgd": 10.0, "adam": inf}, ["adam"], STEPS).outcome == "against"
    c = claims.compare("a", {"sgd": inf, "adam": inf}, ["adam"], STEPS)
    assert (c.advantage, c.outcome) == (1.0, "tie")
    c = claims.compare("a", {"sgd": nan, "momentum": 50.0, "adam": 10.0}, ["adam"], STEPS)
    assert c.baseline_name == "momentum"


def test_in_margins():
    at = claims.compare("a", {"sgd": 150.0, "adam": 100.0}, ["adam"], STEPS)
    assert at.in_margins == pytest.approx(1.0)
    half = claims.compare("a", {"sgd": 0.95, "adam": 0.94}, ["adam"], ACC)
    assert half.in_margins == pytest.approx(-0.5)
    never = claims.compare("a", {"sgd": float("inf"), "adam": 1.0}, ["adam"], STEPS)
    assert never.in_margins == np.inf


def test_compare_validation():
    with pytest.raises(ValueError, match="adaptive methods \\['adam'\\] have no result"):
        claims.compare("a", {"sgd": 1.0}, ["adam"], STEPS)
    with pytest.raises(ValueError, match="a ratio rule needs margin > 1"):
        claims.compare("a", {"sgd": 1.0, "adam": 1.0}, ["adam"], claims.Rule(True, "ratio", 0.5))
    with pytest.raises(ValueError, match="rule.scale must be one of"):
        claims.compare("a", {"sgd": 1.0, "adam": 1.0}, ["adam"], claims.Rule(True, "log", 2.0))
    with pytest.raises(TypeError, match="rule must be a claims.Rule"):
        claims.compare("a", {"sgd": 1.0, "adam": 1.0}, ["adam"], (True, "ratio", 2.0))
    with pytest.raises(ValueError, match="no measured value"):
        claims.compare("a", {"sgd": float("nan"), "adam": 1.0}, ["adam"], STEPS)
    with pytest.raises(TypeError, match="must be a number"):
        claims.compare("a", {"sgd": "fast", "adam": 1.0}, ["adam"], STEPS)


def _cmp(cond, sgd, adam):
    return claims.compare(cond, {"sgd": sgd, "adam": adam}, ["adam"], STEPS)


FOR, TIE, AGAINST = (10.0, 1.0), (1.0, 1.0), (1.0, 3.0)  # (sgd steps, adam steps)


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        ([FOR, FOR], "supported"),
        ([FOR, TIE, TIE], "supported"),  # ties do not weaken a claim with nothing against it
        ([AGAINST, AGAINST], "contradicted"),
        ([AGAINST, TIE], "contradicted"),
        ([FOR, AGAINST], "mixed"),
        ([FOR, TIE, AGAINST], "mixed"),
        ([TIE], "not supported (no difference found)"),
        ([TIE, TIE, TIE, TIE, TIE, TIE], "not supported (no difference found)"),  # not "refuted"
    ],
)
def test_verdict_four_outcomes(outcomes, expected):
    cs = [_cmp(f"c{i}", sgd, adam) for i, (sgd, adam) in enumerate(outcomes)]
    assert [c.outcome for c in cs] == [
        {FOR: "for", TIE: "tie", AGAINST: "against"}[o] for o in outcomes
    ]
    v = claims.verdict("claim", cs)
    assert v.verdict == expected and v.verdict in claims.VERDICTS


def test_verdict_what_it_depends_on():
    v = claims.verdict("c", [_cmp("a", 10.0, 1.0), _cmp("b", 3.0, 3.0), _cmp("z", 1.0, 3.0)])
    assert v.verdict == "mixed"
    assert v.depends_on == "ahead on a; level on b; behind on z"
    assert (v.count("for"), v.count("tie"), v.count("against")) == (1, 1, 1)
    assert v.key_number == "advantage x0.33 to x10"
    assert str(v).startswith("c: MIXED (1 for, 1 tie, 1 against")
    with pytest.raises(TypeError, match="non-empty list of Comparison"):
        claims.verdict("c", [])


# ---- the power of a comparison -----------------------------------------------------------
def test_one_run_detects_its_margin():
    c = _cmp("a", 10.0, 8.0)
    assert (c.n_seeds, c.detectable, c.interval) == (1, 1.5, (1.25, 1.25))
    assert c.power == "detects x1.5 (the margin; one run)"
    d = claims.compare("m", {"sgd": 0.95, "adam": 0.94}, ["adam"], ACC)
    assert d.detectable == 0.02 and d.power == "detects 0.02 accuracy (the margin; one run)"


def test_seeds_difference_interval_by_hand():
    # adam - sgd per seed: 0.04, 0.05, 0.06, 0.05, 0.05 -> mean 0.05, s = sqrt(0.0002 / 4),
    # half-width t(0.975, 4) * s / sqrt(5) = 2.7764 * 0.0070711 / 2.2361 = 0.0087797
    sgd = [0.90, 0.91, 0.92, 0.93, 0.94]
    adam = [0.94, 0.96, 0.98, 0.98, 0.99]
    c = claims.compare("net", {"sgd": sgd, "adam": adam}, ["adam"], ACC)
    assert c.n_seeds == 5 and c.advantage == pytest.approx(0.05)
    assert c.half_width == pytest.approx(2.7764 * np.sqrt(0.0002 / 4) / np.sqrt(5))
    assert c.outcome == "for" and c.detectable == pytest.approx(0.02 + c.half_width)
    # the mean is past the margin, but not the whole interval: a tie
    near = claims.compare("net", {"sgd": sgd, "adam": [a - 0.029 for a in adam]}, ["adam"], ACC)
    assert near.advantage == pytest.approx(0.021) and near.interval[0] < 0.02
    assert near.outcome == "tie"
    assert c.adaptive == pytest.approx(0.97) and c.baseline == pytest.approx(0.92)


def test_seeds_call_a_difference_only_when_the_interval_says_so():
    # the mean advantage is past the margin (0.04 > 0.02) but the seeds disagree in sign:
    # the interval reaches below the margin (even below 0), so the comparison is a tie
    sgd = [0.95] * 5
    adam = [1.05, 0.90, 1.04, 0.91, 1.05]
    c = claims.compare("net", {"sgd": sgd, "adam": adam}, ["adam"], ACC)
    assert c.advantage == pytest.approx(0.04)
    assert c.interval[0] < 0 < c.interval[1] and c.outcome == "tie"
    assert c.detectable == pytest.approx(0.02 + c.half_width) and c.half_width > 0.02
    # the same seeds, each ahead by 0.04: a clear "for"
    c = claims.compare("net", {"sgd": sgd, "adam": [0.99] * 5}, ["adam"], ACC)
    assert (c.half_width, c.outcome) == (0.0, "for")
    # behind on every seed by a factor of 2 (steps): "against", the interval a single factor
    c = claims.compare("net", {"sgd": [10.0] * 5, "adam": [20.0] * 5}, ["adam"], STEPS)
    assert c.advantage == pytest.approx(0.5) and c.half_width == pytest.approx(1.0)
    assert c.outcome == "against" and c.detectable == pytest.approx(1.5)


def test_seeds_validation():
    five = [1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="at least 5 seeds"):
        claims.compare("n", {"sgd": five[:4], "adam": five[:4]}, ["adam"], STEPS)
    with pytest.raises(ValueError, match="either every method or none"):
        claims.compare("n", {"sgd": 3.0, "adam": five}, ["adam"], STEPS)
    with pytest.raises(ValueError, match="the same seeds"):
        claims.compare("n", {"sgd": five + [6.0], "adam": five}, ["adam"], STEPS)
    with pytest.raises(ValueError, match="must all be finite"):
        claims.compare("n", {"sgd": [*five[:4], np.inf], "adam": five}, ["adam"], STEPS)


# ---- good ranges and sweeps -----------------------------------------------------------------
def test_good_range_by_hand():
    lrs = 10.0 ** np.arange(-3.0, 1.01, 0.5)  # 9 rates, half a decade apart
    final = np.array([9.0, 4.0, 1.5, 1.0, 1.2, 3.0, 50.0, np.inf, np.inf])
    g = claims.good_range(lrs, final, 2.0)  # good: 1.5, 1.0, 1.2 -> indices 2..4
    assert (g.best, g.width) == (3, 1.0)
    assert g.lo == pytest.approx(1e-2) and g.hi == pytest.approx(0.1)
    assert claims.good_range(lrs, final, 1.0).width == 0.0  # only the best
    assert claims.good_range(lrs, final, 100.0).width == 3.0  # 9.0 .. 50.0, not the inf
    # a good rate cut off from the best by a bad one does not count
    island = np.array([1.8, 5.0, 3.0, 1.0, 1.9, 2.0, 8.0, np.inf, np.inf])
    g = claims.good_range(lrs, island, 2.0)
    assert g.width == 1.0 and g.good[0]


def test_good_range_validation():
    with pytest.raises(ValueError, match="positive and increasing"):
        claims.good_range([1.0, 0.1], [1.0, 2.0])
    with pytest.raises(ValueError, match="every run diverged"):
        claims.good_range([0.1, 1.0], [np.inf, np.nan])
    with pytest.raises(ValueError, match="tol must be >= 1"):
        claims.good_range([0.1, 1.0], [1.0, 2.0], tol=0.5)
    with pytest.raises(ValueError, match="use excess losses"):
        claims.good_range([0.1, 1.0], [-1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        claims.good_range([0.1, 1.0], [1.0])


def test_first_below():
    assert claims.first_below([0, 17, 34], [2.3, 0.5, 0.05], 0.1) == 34
    assert claims.first_below([0, 17, 34], [2.3, 0.5, 0.2], 0.1) is None
    with pytest.raises(ValueError, match="differ in shape"):
        claims.first_below([0, 1], [1.0], 0.5)


def test_final_losses_match_the_closed_form():
    # gradient descent on f = a x^2 / 2 from x0: f_k = f_0 (1 - lr a)^(2k)
    a, x0, k = 2.0, 1.5, 7
    prob = problems.quadratic1d(a=a, x0=x0)
    lrs = np.array([0.1, 0.3, 0.9, 1.2])
    out = claims.final_losses(prob, optimizers.gd, lrs, k)
    f0 = a * x0**2 / 2
    expected = f0 * (1 - lrs * a) ** (2 * k)
    expected[-1] = np.inf if f0 * (1 - 1.2 * a) ** (2 * k) > 1e8 * f0 else expected[-1]
    np.testing.assert_allclose(out[:3], expected[:3], rtol=1e-12)
    assert out[3] == pytest.approx(f0 * 1.4 ** (2 * k))  # |1 - lr a| = 1.4: growing, not yet 1e8x
    assert claims.final_losses(prob, optimizers.gd, [5.0], 40)[0] == np.inf  # factor 9: diverged


def test_fastest_rate_matches_the_closed_form():
    # f_k / f_0 = (1 - lr a)^(2k) <= tol  <=>  k >= log(tol) / (2 log|1 - lr a|)
    a = 1.0
    prob = problems.quadratic1d(a=a, x0=2.0)
    lrs = np.array([0.1, 0.5, 0.8, 2.5])
    tol = 1e-6
    target = tol * prob.loss(prob.x0)
    res = claims.fastest_rate(prob, optimizers.gd, lrs, target, 500)
    k = {lr: int(np.ceil(np.log(tol) / (2 * np.log(abs(1 - lr * a))))) for lr in (0.5, 0.8)}
    assert res.lr == 0.8 and res.steps == k[0.8]  # |1 - 0.8| = 0.2 beats 0.5
    assert res.steps_per_lr[3] == np.inf  # diverges
    assert res.steps_per_lr[0] == np.inf  # 0.1 would need 66 steps, more than the best
    none = claims.fastest_rate(prob, optimizers.gd, [1e-4], target, 50)
    assert none.lr is None and none.steps is None
    with pytest.raises(ValueError, match="must have a known f_min"):
        claims.fastest_rate(problems.logistic_regression(), optimizers.gd, [0.1], 1e-3, 10)


# ---- problems -------------------------------------------------------------------------------
def test_multi_start_quadratic_runs_independent_copies():
    kappa, angle = 50.0, 0.3
    multi = claims.multi_start_quadratic(kappa=kappa, angle=angle, n_starts=3, radius=2.0, seed=4)
    assert multi.dim == 6 and multi.f_min == 0.0
    np.testing.assert_allclose(np.linalg.eigvalsh(multi.A), [1, 1, 1, kappa, kappa, kappa])
    starts = multi.x0.reshape(3, 2)
    np.testing.assert_allclose(np.linalg.norm(starts, axis=1), 2.0)
    tr = run(multi, optimizers.adam(lr=0.05), 40)
    total = 0.0
    for j, start in enumerate(starts):
        single = problems.quadratic2d(kappa=kappa, angle=angle, x0=start)
        one = run(single, optimizers.adam(lr=0.05), 40)
        np.testing.assert_allclose(tr.x_final[2 * j : 2 * j + 2], one.x_final, rtol=1e-12)
        total += one.loss_final
    assert tr.loss_final == pytest.approx(total, rel=1e-12)
    with pytest.raises(ValueError, match="kappa must be >= 1"):
        claims.multi_start_quadratic(kappa=0.5)


def test_wilson_features_by_hand():
    prob = claims.wilson_problem(n=8, p=0.6, n_test=50, seed=1)
    X, y = prob.X, prob.y
    assert X.shape == (8, 3 + 5 * 8) and prob.f_min == 0.0
    np.testing.assert_array_equal(X[:, 0], y)
    np.testing.assert_array_equal(X[:, 1:3], 1.0)
    own = X[:, 3:]
    np.testing.assert_array_equal(own.sum(axis=1), np.where(y > 0, 1, 5))  # 1 or 5 own features
    assert (own.sum(axis=0) <= 1).all()  # no two samples share one
    for i in range(8):
        assert own[i, 5 * i] == 1.0  # sample i's features start at column 4 + 5(i - 1)
    np.testing.assert_array_equal(prob.X_test[:, 0], prob.y_test)
    assert not prob.X_test[:, 3:].any()  # test samples' own features lie outside these columns


def test_wilson_solutions_and_their_test_errors():
    prob = claims.wilson_problem(n=40, p=0.6, n_test=500, seed=2)
    assert prob.y.sum() > 0  # more positive labels, as the construction needs
    u = np.sign(prob.X.T @ prob.y)
    np.testing.assert_allclose(prob.X @ u, 4 * prob.y)
    assert prob.test_error(u / 4) == pytest.approx(np.mean(prob.y_test < 0))
    assert prob.train_error(u / 4) == 0.0
    w_dagger = claims.min_norm_solution(prob.X, prob.y)
    np.testing.assert_allclose(prob.X @ w_dagger, prob.y, atol=1e-12)
    assert prob.test_error(w_dagger) == 0.0
    # gradient descent from 0 converges to the minimum-norm solution ...
    gd = run(prob, optimizers.gd(lr=0.5), 600, record_every=600)
    np.testing.assert_allclose(gd.x_final, w_dagger, atol=1e-8)
    # ... Adam stays on the sign vector from its first step
    adam = run(prob, optimizers.adam(lr=0.01), 300, record_every=50)
    for w in adam.x[1:]:
        assert w @ u / (np.linalg.norm(w) * np.linalg.norm(u)) == pytest.approx(1.0, abs=1e-9)
    assert prob.test_error(adam.x_final) == pytest.approx(np.mean(prob.y_test < 0))
    errors = prob.test_error(adam.x)
    assert errors.shape == (len(adam.x),)


def test_wilson_validation():
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\)"):
        claims.wilson_problem(p=1.0)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        claims.wilson_problem(n=1)
    with pytest.raises(ValueError, match="w must end in"):
        claims.wilson_problem(n=4, seed=1).test_error(np.zeros(3))


def test_min_norm_solution_is_in_the_row_space():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((3, 8)), rng.standard_normal(3)
    w = claims.min_norm_solution(X, y)
    np.testing.assert_allclose(w, X.T @ np.linalg.solve(X @ X.T, y))
    null = np.linalg.svd(X)[2][3:]  # rows spanning the null space of X
    np.testing.assert_allclose(null @ w, 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="need X of shape"):
        claims.min_norm_solution(X, y[:2])


def test_logistic_minimizer():
    prob = problems.sparse_logistic_regression(l2=1e-2, seed=1)
    w = claims.logistic_minimizer(prob, l2=1e-2)
    assert np.linalg.norm(prob.grad(w)) < 1e-10
    # a minimiser: no point nearby is lower
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert prob.loss(w + 1e-3 * rng.standard_normal(w.size)) > prob.loss(w)
    with pytest.raises(ValueError, match="is l2=0.5 the problem's penalty"):
        claims.logistic_minimizer(prob, l2=0.5)


# ---- several seeds ------------------------------------------------------------------------
def test_t_quantile_table_and_expansion():
    # t(0.975, df) from statistical tables: df = 1, 4, 9, 30, 60, 120
    assert claims.t_quantile(1) == pytest.approx(12.7062, abs=1e-4)
    assert claims.t_quantile(4) == pytest.approx(2.7764, abs=1e-4)
    assert claims.t_quantile(9) == pytest.approx(2.2622, abs=1e-4)
    assert claims.t_quantile(30) == pytest.approx(2.0423, abs=1e-4)
    assert claims.t_quantile(60) == pytest.approx(2.0003, abs=1e-3)
    assert claims.t_quantile(120) == pytest.approx(1.9799, abs=1e-3)
    # decreasing towards the normal quantile 1.96
    q = [claims.t_quantile(df) for df in range(1, 500)]
    assert all(a > b for a, b in zip(q, q[1:], strict=False)) and q[-1] > 1.95996
    with pytest.raises(ValueError, match="t_quantile: df"):
        claims.t_quantile(0)


def test_seed_summary_mean_interval_by_hand():
    # mean 3, s = sqrt(2.5), half-width t(0.975, 4) * s / sqrt(5) = 2.7764 * 0.70711 = 1.96323
    s = claims.seed_summary([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (s.n, s.mean, s.median, s.min, s.max, s.log) == (5, 3.0, 3.0, 1.0, 5.0, False)
    assert s.lo == pytest.approx(3 - 1.96323, abs=1e-4) and s.hi == pytest.approx(
        3 + 1.96323, abs=1e-4
    )
    # identical values: an interval of zero width
    z = claims.seed_summary([2.0, 2.0, 2.0])
    assert z.lo == z.mean == z.hi == 2.0


def test_seed_summary_log_scale_is_geometric():
    # log10 values -3, -2, -1: mean -2 (geometric mean 0.01), s = 1, half-width 4.3027 / sqrt(3)
    g = claims.seed_summary([0.001, 0.01, 0.1], log=True)
    half = 4.3027 / np.sqrt(3)
    assert g.mean == pytest.approx(0.01)
    assert g.lo == pytest.approx(10 ** (-2 - half), rel=1e-4)
    assert g.hi == pytest.approx(10 ** (-2 + half), rel=1e-4)
    assert (g.median, g.min, g.max) == (0.01, 0.001, 0.1)


def test_seed_summary_below_above_need_the_whole_interval():
    a = claims.seed_summary([1.0, 1.1, 0.9, 1.0, 1.05])
    b = claims.seed_summary([3.0, 3.2, 2.9, 3.1, 3.05])
    c = claims.seed_summary([0.5, 3.5, 1.0, 3.0, 1.5])  # overlaps both
    assert a.below(b) and b.above(a) and not a.above(b) and not b.below(a)
    assert not c.below(b) and not c.above(a)
    assert a.below(2.0) and not a.below(1.0) and b.above(2.0)


def test_seed_summary_errors():
    with pytest.raises(ValueError, match="seed_summary: values must be 1-D with at least 2"):
        claims.seed_summary([1.0])
    with pytest.raises(ValueError, match="seed_summary: values must be 1-D"):
        claims.seed_summary([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="log=True needs positive values"):
        claims.seed_summary([1.0, 0.0], log=True)
    with pytest.raises(ValueError, match="seed_summary: values must contain only finite"):
        claims.seed_summary([1.0, np.inf])
    with pytest.raises(TypeError, match="seed_summary: log must be True or False"):
        claims.seed_summary([1.0, 2.0], log="yes")


# ---- seed_runs: the network runs chapter 11 keeps in a file ------------------------------
def _small_nets():
    from learnlr.problems import mlp

    data = mlp.load_digits_split(seed=0)
    return [mlp.mlp_problem(hidden=(8,), data=data, seed=s) for s in range(2)]


def test_seed_runs_are_kept_read_back_and_trained_again_when_the_experiment_changes(tmp_path):
    from learnlr import optimizers

    nets, path = _small_nets(), tmp_path / "runs.json"
    make_opts = {"SGD": optimizers.sgd, "Adam": optimizers.adam}
    trained = claims.seed_runs(nets, make_opts, [0.01, 0.1], 1, path=path)
    assert path.exists() and trained["Adam"][1][0].x_final is not None
    read = claims.seed_runs(nets, make_opts, [0.01, 0.1], 1, path=path)
    assert read["Adam"][1][0].x_final is None  # read from the file, not trained
    for name in make_opts:
        for a_seeds, b_seeds in zip(trained[name], read[name], strict=True):
            for a, b in zip(a_seeds, b_seeds, strict=True):
                np.testing.assert_array_equal(a.k, b.k)
                for f in ("train_loss", "val_loss", "val_acc", "test_acc"):
                    np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
                assert (a.diverged_at, a.status) == (b.diverged_at, b.status)
    # anything the runs depend on changes the key: they are trained again, not read
    for changed in (
        dict(lrs=[0.01, 0.2]),
        dict(epochs=2),
        dict(make_opts={"SGD": optimizers.sgd, "Adam": partial(optimizers.adam, eps=1e-6)}),
        dict(nets=nets[:1]),
    ):
        args = dict(nets=nets, make_opts=make_opts, lrs=[0.01, 0.1], epochs=1) | changed
        again = claims.seed_runs(**args, path=tmp_path / "other.json")
        (tmp_path / "other.json").write_text(path.read_text())  # the old file, other key
        fresh = claims.seed_runs(**args, path=tmp_path / "other.json")
        assert fresh["Adam"][0][0].x_final is not None, changed
        np.testing.assert_array_equal(
            fresh["Adam"][0][0].train_loss, again["Adam"][0][0].train_loss
        )


def test_seed_runs_refuse_what_is_not_an_experiment():
    from learnlr import optimizers

    nets = _small_nets()
    with pytest.raises(TypeError, match="seed_runs: nets must be a non-empty list of MLPProblem"):
        claims.seed_runs([], {"SGD": optimizers.sgd}, [0.1], 1)
    with pytest.raises(TypeError, match="seed_runs: make_opts must be a dict mapping a method"):
        claims.seed_runs(nets, [optimizers.sgd], [0.1], 1)
    with pytest.raises(TypeError, match=r"seed_runs: make_opts\['SGD'\] must be a function lr"):
        claims.seed_runs(nets, {"SGD": optimizers.sgd(lr=0.1)}, [0.1], 1)
    with pytest.raises(ValueError, match="seed_runs: epochs"):
        claims.seed_runs(nets, {"SGD": optimizers.sgd}, [0.1], 0)


def test_chapter_11s_kept_network_runs_are_the_runs_the_code_makes_now():
    # the file beside chapter 11: its key is the chapter's experiment, and every method
    # trained again at one rate agrees with it (so a change to an optimizer or to the
    # network that changes the runs cannot leave the chapter reading old ones)
    import json
    from pathlib import Path

    from learnlr import optimizers
    from learnlr.problems import mlp

    path = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "ch11_network_runs.json"
    stored = json.loads(path.read_text())
    data = mlp.load_digits_split(seed=0)
    nets = [mlp.mlp_problem(hidden=(32,), data=data, seed=s) for s in range(5)]
    make_opts = {  # as the chapter's OPTIMIZERS
        "SGD": optimizers.sgd,
        "momentum": partial(optimizers.sgd, momentum=0.9),
        "AdaGrad": optimizers.adagrad,
        "RMSProp": optimizers.rmsprop,
        "Adam": optimizers.adam,
    }
    lrs = (10.0 ** np.arange(-3.5, 0.51, 0.5)).tolist()
    assert claims._runs_key(nets, make_opts, lrs, 20) == stored["key"]
    for name, make_opt in make_opts.items():
        i = 4  # lr 10**-1.5, inside every method's stable range
        fresh = mlp.train_seeds(nets, make_opt(lr=lrs[i]), 20)
        for seed, (a, b) in enumerate(zip(fresh, stored["runs"][name][i], strict=True)):
            assert a.k.tolist() == b["k"], (name, seed)
            np.testing.assert_allclose(a.train_loss, b["train_loss"], rtol=1e-6, err_msg=name)
            np.testing.assert_allclose(a.val_acc, b["val_acc"], atol=1.5 / 360, err_msg=name)
