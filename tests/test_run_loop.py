"""Tests of learnlr.run as the one training loop, and of the loops built on it.

* ``state=``: a run resumed from ``trace.final_state`` is the uninterrupted run, bit for bit
  (minibatch k and rate k included), its ``k`` continuing from the state's count; explain on a
  resumed trace equals explain on the uninterrupted one;
* ``eval_every``/``metric``: the evaluation grid (start, every N-th update, the last), the
  values against the full loss computed here, the schedule-free evaluation point;
* ``record_every=None``: only the start and the final point, the same final point;
* ``controller``: a controller's optimizer is used from the update it names;
* one divergence rule: the same "diverged at step k" from every loop built on run;
* bad arguments give errors naming the function, the argument and the value.
"""

import numpy as np
import pytest

from learnlr import explain, optimizers, problems, run, run_eval, schedules
from learnlr.course import ch03_adaptive, ch07_schedules, ch09_finder
from learnlr.trace import Controller, plateau_control


def _noisy():
    # a stochastic problem, so that the minibatch of update k matters
    return problems.least_squares(n_samples=60, n_features=3, batch_size=6, seed=4)


def _make(name):
    # every optimizer, on a rate schedule where it takes one (the rate of update k matters)
    lr = schedules.cosine_annealing(0.05, T_max=40)
    if name in ("adadelta", "prodigy"):
        return optimizers.REGISTRY[name]()
    return optimizers.REGISTRY[name](lr=lr)


# ---- resuming from a state -------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(optimizers.REGISTRY))
def test_a_resumed_run_is_the_uninterrupted_run_bit_for_bit(name):
    p, opt = _noisy(), _make(name)
    whole = run(p, opt, 30)
    first = run(p, opt, 12)
    rest = run(p, opt, 18, x0=first.x_final, state=first.final_state)
    assert first.final_state.count == 12 and rest.final_state.count == 30
    np.testing.assert_array_equal(rest.k, np.arange(12, 31))
    for field in ("x", "loss", "grad", "lr", "eff_lr", "update"):
        np.testing.assert_array_equal(getattr(rest, field), getattr(whole, field)[12:])
    for key in whole.state:
        np.testing.assert_array_equal(rest.state[key], whole.state[key][12:])
    for a, b in zip(rest.final_state, whole.final_state, strict=True):
        np.testing.assert_array_equal(a, b)
    assert rest.n_updates == 18 and rest.status == "ran 18 steps"


def test_resuming_does_not_change_the_state_it_was_given():
    p, opt = _noisy(), optimizers.adam(lr=0.05)
    first = run(p, opt, 5)
    m = first.final_state.m.copy()
    run(p, opt, 5, x0=first.x_final, state=first.final_state)
    np.testing.assert_array_equal(first.final_state.m, m)


@pytest.mark.parametrize(
    "opt",
    [
        optimizers.adam(lr=0.05, amsgrad=True),
        optimizers.adagrad(lr=0.3, lr_decay=0.01),
        optimizers.sgd(lr=0.01, momentum=0.9, nesterov=True),
        optimizers.rmsprop(lr=0.01, centered=True, momentum=0.5),
    ],
    ids=lambda o: o.name,
)
def test_explain_on_a_resumed_trace_equals_explain_on_the_uninterrupted_one(opt):
    p = _noisy()
    whole = run(p, opt, 20)
    first = run(p, opt, 8)
    rest = run(p, opt, 12, x0=first.x_final, state=first.final_state)
    for k in (8, 9, 15, 19):  # 8: the first update of the resumed run, from its start state
        assert str(explain(rest, k)) == str(explain(whole, k))
    with pytest.raises(ValueError, match=r"^explain: k must be an update of the trace, from 8"):
        explain(rest, 7)
    with pytest.raises(ValueError, match=r"from 8 to 19, got 20"):
        explain(rest, 20)


def test_steps_to_counts_the_updates_of_a_resumed_run():
    p = problems.quadratic2d(kappa=10)
    opt = optimizers.gd(lr=0.1)
    first = run(p, opt, 10)
    rest = run(p, opt, 200, x0=first.x_final, state=first.final_state, stop_at_gap=1e-6)
    whole = run(p, opt, 210, stop_at_gap=1e-6)
    assert rest.steps_to(1e-6) == whole.steps_to(1e-6) - 10
    assert rest.status == f"reached loss - f_min <= 1e-06 after {rest.n_updates} steps"
    assert rest.k[-1] == whole.k[-1]


# ---- evaluations -----------------------------------------------------------------------
def test_eval_every_evaluates_at_the_start_every_n_updates_and_at_the_last():
    p, opt = _noisy(), optimizers.adam(lr=0.05)
    full = run(p, opt, 10)
    tr = run(p, opt, 10, eval_every=4, metric=lambda x: float(x[0]))
    np.testing.assert_array_equal(tr.eval_k, [0, 4, 8, 10])
    np.testing.assert_array_equal(tr.eval_loss, [p.loss(full.x[k]) for k in (0, 4, 8, 10)])
    np.testing.assert_array_equal(tr.eval_metric, full.x[[0, 4, 8, 10], 0])
    np.testing.assert_array_equal(tr.x_eval, full.x_final)
    # an exact multiple is evaluated once
    np.testing.assert_array_equal(run(p, opt, 8, eval_every=4).eval_k, [0, 4, 8])
    # without a metric, NaN; a metric may give several numbers
    assert np.isnan(tr.eval_metric).sum() == 0
    assert np.all(np.isnan(run(p, opt, 8, eval_every=4).eval_metric))
    two = run(p, opt, 8, eval_every=4, metric=lambda x: (x[0], x[1]))
    np.testing.assert_array_equal(two.eval_metric, full.x[[0, 4, 8]][:, :2])


def test_a_resumed_run_evaluates_on_the_grid_of_its_own_updates():
    p, opt = _noisy(), optimizers.adam(lr=0.05)
    first = run(p, opt, 5)
    rest = run(p, opt, 10, x0=first.x_final, state=first.final_state, eval_every=4)
    np.testing.assert_array_equal(rest.eval_k, [5, 9, 13, 15])


def test_schedule_free_is_evaluated_at_the_averaged_iterate():
    p = _noisy()
    opt = optimizers.schedule_free_sgd(lr=0.05)
    full = run(p, opt, 6)
    tr = run(p, opt, 6, eval_every=3, record_every=None)
    x_avg = full.state["x_avg"]
    np.testing.assert_array_equal(tr.x_eval, x_avg[-1])
    np.testing.assert_array_equal(tr.eval_loss, [p.loss(p.x0), p.loss(x_avg[2]), p.loss(x_avg[5])])
    assert tr.loss_final == p.loss(full.x_final) != tr.eval_loss[-1]


# ---- record_every=None -----------------------------------------------------------------
def test_record_every_none_keeps_only_the_start_and_the_final_point():
    p, opt = _noisy(), optimizers.rmsprop(lr=0.01)
    full = run(p, opt, 25)
    tr = run(p, opt, 25, record_every=None)
    np.testing.assert_array_equal(tr.k, [0, 25])
    np.testing.assert_array_equal(tr.x, full.x[[0, -1]])
    np.testing.assert_array_equal(tr.loss, full.loss[[0, -1]])
    assert tr.grad.shape == (0, 3) and tr.lr.shape == (0,) and tr.update.shape == (0, 3)
    assert all(v.shape[0] == 0 for v in tr.state.values())
    assert tr.status == "ran 25 steps" and tr.n_updates == 25
    for a, b in zip(tr.final_state, full.final_state, strict=True):
        np.testing.assert_array_equal(a, b)
    empty = run(p, opt, 0, record_every=None)
    assert empty.k.tolist() == [0] and empty.x.shape == (1, 3)
    with pytest.raises(ValueError, match=r"^explain: needs .*record_every=1, got None"):
        explain(tr, 0)


# ---- controllers -----------------------------------------------------------------------
class HalveAt(Controller):
    """Halves the rate of gd before update ``at``."""

    def __init__(self, at, lr):
        self.at, self.lr = at, lr
        self.seen = []

    def before(self, k, opt):
        return optimizers.gd(lr=self.lr / 2) if k == self.at else opt

    def after(self, k, loss, opt):
        self.seen.append((k, loss))
        return opt


def test_a_controller_changes_the_rate_from_the_update_it_names():
    p = problems.quadratic2d(kappa=10)
    ctl = HalveAt(5, 0.1)
    tr = run(p, optimizers.gd(lr=0.1), 10, eval_every=3, controller=ctl)
    np.testing.assert_array_equal(tr.lr, [0.1] * 5 + [0.05] * 5)
    assert tr.changes == [5]
    # the same updates as a schedule with that step
    same = run(p, optimizers.gd(lr=lambda k: 0.1 if k < 5 else 0.05), 10)
    np.testing.assert_array_equal(tr.x, same.x)
    # after(k, loss, opt) after each evaluation, with the loss evaluated there
    assert ctl.seen == [(k - 1, float(same.loss[k])) for k in (3, 6, 9, 10)]
    with pytest.raises(ValueError, match=r"^explain: a controller changed the optimizer"):
        explain(tr, 0)


def test_plateau_control_cuts_the_rate_like_run_with_plateau():
    p = _noisy()
    plateau = schedules.reduce_on_plateau(base_lr=0.05, factor=0.3, patience=1)
    ctl = plateau_control(lambda lr: optimizers.sgd(lr=lr), plateau, every=10)
    tr = run(p, ctl.first(), 200, eval_every=10, controller=ctl)
    ref = ch07_schedules.run_with_plateau(
        p, lambda lr: optimizers.sgd(lr=lr), plateau, 200, eval_every=10
    )
    assert tr.changes == ref.changes and len(ref.changes) >= 1
    np.testing.assert_array_equal(tr.lr, ref.lr)
    np.testing.assert_array_equal(ctl.eval_lr, ref.eval_lr)
    assert sorted(set(tr.lr.tolist()), reverse=True)[:2] == [0.05, 0.05 * 0.3]


# ---- one divergence rule ---------------------------------------------------------------
def test_every_loop_built_on_run_reports_divergence_the_same_way():
    p = problems.quadratic2d(kappa=10)
    expected = "diverged at step 13: loss 3.02e+09 exceeds max_loss 1.32e+09"
    assert run(p, optimizers.gd(lr=0.3), 500).status == expected
    assert run(p, optimizers.gd(lr=0.3), 500, record_every=None, eval_every=1).status == expected
    assert run_eval(p, optimizers.gd(lr=0.3), 500).status == expected
    plateau = schedules.reduce_on_plateau(base_lr=0.3, patience=1000)
    gd = lambda lr: optimizers.gd(lr=lr)  # noqa: E731
    assert ch07_schedules.run_with_plateau(p, gd, plateau, 500).status == expected
    keep = ch07_schedules.run_with_epoch_schedule(p, gd, lambda e, lr: lr, 0.3, 50, 10)
    assert keep.status == expected and keep.diverged_at == 13
    first = run(p, optimizers.gd(lr=0.3), 5)  # resumed, with the threshold of the whole run
    resumed = ch03_adaptive.resume(first, steps=500, max_loss=1e8 * p.loss(p.x0))
    assert resumed.status == expected
    assert ch09_finder.final_loss(p, optimizers.gd(lr=0.3), 500) == np.inf
    # parameters that overflow are caught after the update, whatever is recorded
    wild = problems.quadratic1d(a=1.0, x0=2.0)
    for kw in ({}, {"record_every": None}, {"record_every": None, "eval_every": 7}):
        tr = run(wild, optimizers.gd(lr=1e308), 10, **kw)
        assert tr.status == "diverged at step 0: parameters are not finite", kw


def test_record_every_none_checks_the_loss_only_where_it_is_computed():
    # a run that grows past max_loss without overflowing: caught at the final point
    p = problems.quadratic2d(kappa=10)
    tr = run(p, optimizers.gd(lr=0.3), 40, record_every=None)
    assert tr.diverged_at == 39 and tr.status.startswith("diverged at step 39: loss")


# ---- arguments -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(eval_every=0), ValueError, "run: eval_every must be an integer >= 1, got 0"),
        (dict(record_every=0), ValueError, "run: record_every must be an integer >= 1, got 0"),
        (dict(eval_every=2, metric="acc"), TypeError, "run: metric must be a function"),
        (dict(metric=lambda x: 0.0), ValueError, "run: metric needs eval_every"),
        (dict(controller="plateau"), TypeError, "run: controller must have before"),
        (dict(state=(1, 2)), TypeError, "run: state must be an optimizer state with a count"),
        (dict(state=optimizers.sgd().init(np.zeros(2))), TypeError, "run: state must be a state"),
        (dict(caller=3), TypeError, "run: caller must be a function name"),
    ],
)
def test_run_refuses_bad_arguments_naming_them(kwargs, error, text):
    with pytest.raises(error, match="^" + text.replace("(", r"\(").replace(")", r"\)")):
        run(problems.quadratic2d(), optimizers.adam(), 5, **kwargs)


def test_a_controller_must_hand_back_an_optimizer():
    class Bad(Controller):
        def before(self, k, opt):
            return 0.1 if k == 3 else opt

    with pytest.raises(TypeError, match=r"^run: controller.before\(3, opt\) must return a"):
        run(problems.quadratic2d(), optimizers.adam(), 5, controller=Bad())


def test_plateau_control_refuses_what_it_cannot_use():
    plateau = schedules.reduce_on_plateau(base_lr=0.1)
    with pytest.raises(TypeError, match="^plateau_control: make_opt must be a function"):
        plateau_control(0.1, plateau)
    with pytest.raises(TypeError, match="^plateau_control: plateau must come from"):
        plateau_control(lambda lr: optimizers.sgd(lr=lr), "plateau")
    with pytest.raises(ValueError, match="^plateau_control: every must be an integer >= 1"):
        plateau_control(lambda lr: optimizers.sgd(lr=lr), plateau, every=0)
