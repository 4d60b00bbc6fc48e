"""Tests for learnlr.course.ch07_schedules: controlled training loops, the gallery, measurements."""

import doctest

import numpy as np
import pytest

from learnlr import optimizers, problems, run, schedules
from learnlr.course import ch07_schedules as lessons


def test_doctests():
    failures, tried = doctest.testmod(lessons, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0


# --------------------------------------------------------------------------------------
# run_with_plateau
# --------------------------------------------------------------------------------------
def _noisy_problem(seed=0):
    return problems.least_squares(n_samples=200, n_features=5, noise=1.0, batch_size=5, seed=seed)


def test_plateau_run_matches_a_hand_written_loop_with_state_carried_over():
    p = _noisy_problem()
    make = lambda lr: optimizers.sgd(lr=lr, momentum=0.9)  # noqa: E731
    ctl = schedules.reduce_on_plateau(base_lr=0.02, patience=1, factor=0.5)
    res = lessons.run_with_plateau(p, make, ctl, steps=600, eval_every=50)
    assert res.changes, "the test needs at least one cut to mean anything"

    # the same thing written out: one optimizer per rate, one state throughout
    x, lr, s = p.x0, 0.02, ctl.init()
    opt = make(lr)
    state = opt.init(x)
    lrs = []
    for k in range(600):
        x, state, _ = opt.step(x, p.batch_grad(x, k), state)
        lrs.append(lr)
        if (k + 1) % 50 == 0:
            s = ctl.step(s, p.loss(x))
            if s.lr != lr:
                lr, opt = s.lr, make(s.lr)
    np.testing.assert_array_equal(res.lr, lrs)
    np.testing.assert_allclose(res.x[-1], x, rtol=0, atol=0)


def test_plateau_run_would_differ_if_the_momentum_buffer_were_reset():
    p = _noisy_problem()
    make = lambda lr: optimizers.sgd(lr=lr, momentum=0.9)  # noqa: E731
    ctl = schedules.reduce_on_plateau(base_lr=0.02, patience=1, factor=0.5)
    res = lessons.run_with_plateau(p, make, ctl, steps=600, eval_every=50)
    x, lr, s = p.x0, 0.02, ctl.init()
    opt = make(lr)
    state = opt.init(x)
    for k in range(600):
        x, state, _ = opt.step(x, p.batch_grad(x, k), state)
        if (k + 1) % 50 == 0:
            s = ctl.step(s, p.loss(x))
            if s.lr != lr:
                lr, opt = s.lr, make(s.lr)
                state = opt.init(x)  # the mistake: fresh buffers at every cut
    assert not np.allclose(res.x[-1], x)


def test_plateau_decisions_replay_from_the_recorded_metrics():
    p = _noisy_problem(1)
    ctl = schedules.reduce_on_plateau(base_lr=0.05, patience=2, factor=0.3)
    res = lessons.run_with_plateau(p, lambda lr: optimizers.sgd(lr=lr), ctl, 3000, eval_every=100)
    np.testing.assert_array_equal(res.eval_k, np.arange(100, 3001, 100))
    np.testing.assert_allclose(res.metric, res.loss[res.eval_k])
    s, cuts = ctl.init(), []
    for k, m in zip(res.eval_k, res.metric, strict=True):
        s = ctl.step(s, m)
        if s.reduced:
            cuts.append(int(k))
    assert cuts == res.changes
    # every update used the rate in force: the rate changes exactly at the recorded steps
    steps_where_rate_changes = list(np.flatnonzero(np.diff(res.lr)) + 1)
    assert steps_where_rate_changes == [c for c in res.changes if c < len(res.lr)]


def test_plateau_rates_are_the_rates_gd_used():
    p = problems.quadratic2d(kappa=10.0)
    ctl = schedules.reduce_on_plateau(base_lr=0.19, patience=0, factor=0.5)
    res = lessons.run_with_plateau(p, lambda lr: optimizers.gd(lr=lr), ctl, steps=40)
    for k in range(40):
        np.testing.assert_allclose(res.x[k + 1], res.x[k] - res.lr[k] * p.grad(res.x[k]))


def test_plateau_run_reports_divergence():
    p = problems.quadratic1d(a=1.0, x0=1.0)
    ctl = schedules.reduce_on_plateau(base_lr=3.0, patience=100)
    res = lessons.run_with_plateau(p, lambda lr: optimizers.gd(lr=lr), ctl, steps=500)
    assert res.diverged
    assert res.status.startswith(f"diverged at step {res.diverged_at}")
    assert len(res.loss) == res.diverged_at + 2 and len(res.lr) == res.diverged_at + 1
    tr = run(p, optimizers.gd(lr=3.0), 500)
    assert tr.diverged_at == res.diverged_at


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(problem="quadratic"), TypeError, "problem must be a learnlr Problem"),
        (dict(make_opt=0.1), TypeError, "make_opt must be a function"),
        (dict(make_opt=lambda lr: lr), TypeError, "must return a learnlr optimizer"),
        (dict(controller=schedules.constant(0.1)), TypeError, "reduce_on_plateau"),
        (dict(eval_every=0), ValueError, "eval_every must be an integer >= 1"),
        (dict(steps=-1), ValueError, "steps must be an integer >= 0"),
        (dict(x0=[1.0, 2.0, 3.0]), ValueError, "x0 must have shape (2,)"),
    ],
)
def test_plateau_run_validates_its_arguments(kwargs, error, text):
    args = dict(
        problem=problems.quadratic2d(),
        make_opt=lambda lr: optimizers.gd(lr=lr),
        controller=schedules.reduce_on_plateau(base_lr=0.1),
        steps=5,
    )
    args.update(kwargs)
    with pytest.raises(
        error, match="run_with_plateau: .*" + text.replace("(", r"\(").replace(")", r"\)")
    ):
        lessons.run_with_plateau(**args)


# --------------------------------------------------------------------------------------
# run_with_epoch_schedule
# --------------------------------------------------------------------------------------
def test_epoch_schedule_is_called_once_per_epoch_with_the_current_rate():
    calls = []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return lr * 0.5 if epoch in (2, 3) else lr

    p = problems.quadratic1d()
    res = lessons.run_with_epoch_schedule(
        p, lambda lr: optimizers.gd(lr=lr), schedule, base_lr=0.4, epochs=5, steps_per_epoch=3
    )
    assert calls == [(0, 0.4), (1, 0.4), (2, 0.4), (3, 0.2), (4, 0.1)]
    np.testing.assert_array_equal(res.lr, np.repeat([0.4, 0.4, 0.2, 0.1, 0.1], 3))
    assert res.changes == [6, 9]
    np.testing.assert_array_equal(res.eval_k, [0, 3, 6, 9, 12])
    np.testing.assert_allclose(res.metric, res.loss[res.eval_k])


def test_epoch_schedule_reproduces_the_keras_docs_example_and_the_closed_form():
    def schedule(epoch, lr):  # keras.callbacks.LearningRateScheduler docs
        return lr if epoch < 10 else lr * np.exp(-0.1)

    p = _noisy_problem()
    res = lessons.run_with_epoch_schedule(
        p, lambda lr: optimizers.sgd(lr=lr), schedule, base_lr=0.01, epochs=15, steps_per_epoch=7
    )
    assert round(float(res.lr[-1]), 5) == 0.00607
    closed = run(p, optimizers.sgd(lr=lambda k: 0.01 * np.exp(-0.1 * max(0, k // 7 - 9))), 105)
    np.testing.assert_allclose(res.lr, closed.lr, rtol=1e-14)
    np.testing.assert_allclose(res.x[-1], closed.x_final, rtol=1e-12)


def test_epoch_schedule_rejects_bad_rates_with_a_clear_message():
    p = problems.quadratic1d()
    with pytest.raises(
        ValueError, match=r"run_with_epoch_schedule: schedule\(1, 0.1\) returned -1"
    ):
        lessons.run_with_epoch_schedule(
            p,
            lambda lr: optimizers.gd(lr=lr),
            lambda e, lr: -1.0 if e else lr,
            base_lr=0.1,
            epochs=3,
            steps_per_epoch=2,
        )
    with pytest.raises(TypeError, match="must return a number"):
        lessons.run_with_epoch_schedule(
            p, lambda lr: optimizers.gd(lr=lr), lambda e, lr: "fast", 0.1, 2, 2
        )
    with pytest.raises(TypeError, match="schedule must be a function"):
        lessons.run_with_epoch_schedule(p, lambda lr: optimizers.gd(lr=lr), 0.1, 0.1, 2, 2)
    with pytest.raises(ValueError, match="base_lr must be in"):
        lessons.run_with_epoch_schedule(p, lambda lr: optimizers.gd(lr=lr), max, -0.1, 2, 2)


# --------------------------------------------------------------------------------------
# gallery_schedule
# --------------------------------------------------------------------------------------
def test_gallery_knobs_cover_the_registry():
    assert set(lessons.GALLERY_KNOBS) == set(schedules.REGISTRY)


@pytest.mark.parametrize("name", sorted(schedules.REGISTRY))
@pytest.mark.parametrize("strength", [0.05, 0.5, 0.95])
@pytest.mark.parametrize("period", [2, 37, 100, 300])
def test_every_gallery_schedule_peaks_at_the_peak_rate(name, strength, period):
    s = lessons.gallery_schedule(name, steps=300, max_lr=0.1, strength=strength, period=period)
    assert s.name == name
    r = s(np.arange(300))
    assert np.all(np.isfinite(r)) and r.min() >= 0
    assert r.max() <= 0.1 * (1 + 1e-12)
    if name not in ("one_cycle",) or period > 2:
        assert r.max() >= 0.1 * (1 - 0.02), f"{s.label} peaks at {r.max()}"


def test_gallery_knobs_mean_what_the_table_says():
    s, P, peak = 0.4, 50, 0.1
    g = lambda name: lessons.gallery_schedule(name, 300, peak, s, P)  # noqa: E731
    assert g("step_lr")(P) == pytest.approx(peak * (1 - s))
    assert g("exponential_lr")(P) == pytest.approx(peak * (1 - s))
    assert g("cosine_annealing")(P) == pytest.approx(peak * (1 - s))
    assert g("cosine_annealing_warm_restarts")(P) == pytest.approx(peak)  # restart
    assert g("cyclic_lr")(0) == pytest.approx(peak * (1 - s))
    assert g("cyclic_lr")(P) == pytest.approx(peak * (1 - s))  # one full cycle
    assert g("linear_lr")(0) == pytest.approx(peak * (1 - s))
    assert g("warmup_stable_decay")(299) > peak * (1 - s)
    assert g("warmup_stable_decay")(300) == pytest.approx(peak * (1 - s))
    assert g("piecewise_constant")(2 * P + 1) == pytest.approx(peak * (1 - s) ** 2)
    assert g("polynomial_lr").hyperparams["power"] == pytest.approx(1 + 4 * s)
    assert g("one_cycle").hyperparams["div_factor"] == pytest.approx(1 / (1 - s))


@pytest.mark.parametrize(
    "kwargs, text",
    [
        (dict(name="cosine"), "name must be one of"),
        (dict(strength=1.0), r"strength must be in \(0, 1\)"),
        (dict(strength=0.0), r"strength must be in \(0, 1\)"),
        (dict(period=301), "period must be <= steps=300"),
        (dict(period=1), "period must be an integer >= 2"),
        (dict(max_lr=0.0), "max_lr must be > 0"),
    ],
)
def test_gallery_schedule_validates(kwargs, text):
    args = dict(name="step_lr", steps=300, max_lr=0.1, strength=0.5, period=100)
    args.update(kwargs)
    with pytest.raises(ValueError, match="gallery_schedule: " + text):
        lessons.gallery_schedule(**args)


# --------------------------------------------------------------------------------------
# sharpness
# --------------------------------------------------------------------------------------
def test_sharpness_of_a_quadratic_is_its_largest_eigenvalue():
    p = problems.quadratic2d(kappa=25.0, mu=2.0, angle=0.7)
    assert lessons.sharpness(p, [3.0, -1.0]) == pytest.approx(50.0, rel=1e-7)


def test_sharpness_matches_rosenbrocks_analytic_hessian_at_many_points():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-2, 2, size=(20, 2))
    got = lessons.sharpness(problems.rosenbrock(), pts)
    for (x, y), value in zip(pts, got, strict=True):
        H = np.array([[1200 * x * x - 400 * y + 2, -400 * x], [-400 * x, 200.0]])
        assert value == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-6)


def test_sharpness_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="sharpness: x must have shape"):
        lessons.sharpness(problems.rosenbrock(), [1.0, 2.0, 3.0])


# --------------------------------------------------------------------------------------
# gd_many
# --------------------------------------------------------------------------------------
def test_gd_many_equals_run_gd_run_by_run_including_divergence():
    p = problems.rosenbrock()
    k = np.arange(400)
    warm = schedules.linear_lr(2.1e-3, start_factor=0.01, total_iters=300)
    rates = np.stack([np.full(400, 1.5e-3), np.full(400, 2.1e-3), warm(k)])
    res = lessons.gd_many(p, rates)
    for r, lr in enumerate([1.5e-3, 2.1e-3, warm]):
        tr = run(p, optimizers.gd(lr=lr), 400)
        n = len(tr.loss)
        np.testing.assert_allclose(res.x[:n, r], tr.x, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(res.loss[:n, r], tr.loss, rtol=1e-12)
        assert res.diverged_at[r] == (tr.diverged_at if tr.diverged else -1)
        assert np.all(np.isnan(res.loss[n:, r]))
    assert res.diverged_at[1] >= 0 and res.diverged_at[2] == -1


def test_gd_many_does_not_modify_its_inputs_and_validates():
    p = problems.quadratic2d()
    rates = np.full((2, 5), 0.1)
    rates.setflags(write=False)
    x0 = np.array([1.0, 1.0])
    x0.setflags(write=False)
    lessons.gd_many(p, rates, x0=x0)
    with pytest.raises(ValueError, match="gd_many: needs a deterministic problem"):
        lessons.gd_many(_noisy_problem(), rates)
    with pytest.raises(ValueError, match=r"gd_many: lrs must be a \(runs, steps\) array"):
        lessons.gd_many(p, [0.1, 0.1])
    with pytest.raises(ValueError, match=r"gd_many: lrs must be"):
        lessons.gd_many(p, [[0.1, -0.1]])


# A start whose loss overflows (f(1e160, 0) = inf) is refused naming x0, as learnlr.run does;
# before, these loops ran and reported a divergence at step 0 (or, for gd_many, none at all).
_OVERFLOW = r"the loss at x0 must be finite, got inf"


def test_run_with_plateau_refuses_a_start_whose_loss_overflows():
    bowl = problems.quadratic2d()
    with pytest.raises(ValueError, match=rf"^run_with_plateau: {_OVERFLOW}"):
        lessons.run_with_plateau(
            bowl,
            lambda lr: optimizers.gd(lr=lr),
            schedules.reduce_on_plateau(0.1),
            5,
            x0=[1e160, 0],
        )


def test_run_with_epoch_schedule_refuses_a_start_whose_loss_overflows():
    bowl = problems.quadratic2d()
    with pytest.raises(ValueError, match=rf"^run_with_epoch_schedule: {_OVERFLOW}"):
        lessons.run_with_epoch_schedule(
            bowl, lambda lr: optimizers.gd(lr=lr), lambda e, lr: lr, 0.1, 2, 3, x0=[1e160, 0]
        )


def test_gd_many_refuses_a_start_whose_loss_overflows():
    with pytest.raises(ValueError, match=rf"^gd_many: {_OVERFLOW}"):
        lessons.gd_many(problems.quadratic2d(), np.full((2, 3), 0.1), x0=[1e160, 0])
