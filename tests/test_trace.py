"""Tests for learnlr.trace: run, Trace and explain.

* the layout of a trace: steps + 1 points and steps updates, x[i + 1] == x[i] + update[i],
  loss[i] == problem.loss(x[i]), update == -eff_lr * direction, state rows = the optimizer's
  state after each update;
* record_every=r keeps every r-th update and always the final point, which is the full run's;
* divergence: stops at the step worked out by hand, says so in ``status``, emits no warnings,
  and leaves finite, truncated arrays; the lr = 2/L boundary oscillates without diverging;
* stop_at_gap stops at the first step that reaches the gap;
* explain(trace, k) writes step k's arithmetic with the numbers in it, for every optimizer, and
  refuses traces and steps it cannot explain.
"""

import math
import re
import warnings

import numpy as np
import pytest

from learnlr import Explanation, Trace, explain, run
from learnlr import optimizers as O
from learnlr import problems as P
from learnlr import schedules as S

REGISTRY = O.TORCH

# Every optimizer with its options on, as in test_optimizers (kept short here).
OPTIONS = {
    "gd": dict(lr=S.cosine_annealing(0.1, T_max=10)),
    "sgd": dict(lr=0.02, momentum=0.9, weight_decay=0.01, nesterov=True),
    "adagrad": dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": dict(lr=0.01, weight_decay=0.01, momentum=0.5, centered=True),
    "adadelta": dict(lr=0.5, weight_decay=0.01),
    "adam": dict(lr=0.05, weight_decay=0.01, amsgrad=True),
    "adamw": dict(lr=0.05, weight_decay=0.1, amsgrad=True),
    "nadam": dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "radam": dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True),
}
CASES = [(n, {}) for n in REGISTRY] + [(n, OPTIONS[n]) for n in REGISTRY if n in OPTIONS]
CASE_IDS = [f"{n}-{'options' if kw else 'defaults'}" for n, kw in CASES]


def _fmt(values):
    """Four significant digits, as an explanation prints a small array."""
    return "[" + ", ".join(f"{v:.4g}" for v in np.ravel(values)) + "]"


def test_every_optimizer_has_an_options_row():
    assert not set(REGISTRY) - set(OPTIONS), "add the new optimizer to OPTIONS"


# --------------------------------------------------------------------------------------
# The layout of a trace
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_trace_layout_and_identities(name, kwargs):
    problem = P.quadratic2d(kappa=10.0, angle=0.3)
    opt = REGISTRY[name](**kwargs)
    steps = 25
    tr = run(problem, opt, steps)
    assert isinstance(tr, Trace)
    assert tr.status == f"ran {steps} steps" and not tr.diverged and tr.n_updates == steps
    assert tr.x.shape == (steps + 1, 2) and tr.loss.shape == (steps + 1,)
    np.testing.assert_array_equal(tr.k, np.arange(steps + 1))
    for arr in (tr.grad, tr.eff_lr, tr.direction, tr.update):
        assert arr.shape == (steps, 2)
    assert tr.lr.shape == (steps,)
    np.testing.assert_array_equal(tr.x[0], problem.x0)
    # x[i + 1] = x[i] + update[i], loss[i] = f(x[i]), grad[i] = grad f(x[i])
    scale = 1e-12 * (1 + np.abs(tr.x).max())
    np.testing.assert_allclose(tr.x[1:], tr.x[:-1] + tr.update, rtol=0, atol=scale)
    np.testing.assert_array_equal(tr.loss, [problem.loss(x) for x in tr.x])
    np.testing.assert_array_equal(tr.grad, [problem.grad(x) for x in tr.x[:-1]])
    # the shared definition of the effective learning rate
    np.testing.assert_allclose(tr.update, -tr.eff_lr * tr.direction, rtol=1e-10, atol=scale)
    assert tr.x_final.tolist() == tr.x[-1].tolist() and tr.loss_final == tr.loss[-1]


def test_trace_records_the_state_after_each_update():
    problem = P.quadratic2d()
    opt = O.adam(lr=0.05, amsgrad=True)
    tr = run(problem, opt, 6)
    assert set(tr.state) == {"m", "v", "v_max"}
    x, state = problem.x0, opt.init(problem.x0)
    for i in range(6):
        x, state, info = opt.step(x, problem.grad(x), state)
        for field in ("m", "v", "v_max"):
            np.testing.assert_array_equal(tr.state[field][i], getattr(state, field))
        assert tr.lr[i] == info.lr
    assert tr.state_type is type(state)


def test_trace_lr_is_the_schedule():
    sched = S.step_lr(0.1, step_size=3, gamma=0.5)
    tr = run(P.quadratic2d(), O.sgd(lr=sched, momentum=0.9), 10)
    np.testing.assert_array_equal(tr.lr, sched(np.arange(10)))


def test_stochastic_runs_record_the_minibatch_gradient():
    problem = P.least_squares(batch_size=20)
    tr = run(problem, O.sgd(lr=0.05), 12)
    for i in range(12):
        np.testing.assert_array_equal(tr.grad[i], problem.batch_grad(tr.x[i], i))
    assert not np.allclose(tr.grad[0], problem.grad(tr.x[0]))  # a minibatch, not the full one
    # seeded: a second run is identical
    np.testing.assert_array_equal(run(problem, O.sgd(lr=0.05), 12).x, tr.x)


def test_run_does_not_modify_its_inputs():
    problem = P.quadratic2d()
    x0 = np.array([1.0, -1.0])
    x0.setflags(write=False)
    tr = run(problem, O.adam(lr=0.1), 5, x0=x0)
    np.testing.assert_array_equal(x0, [1.0, -1.0])
    np.testing.assert_array_equal(problem.x0, [-2.0, 1.5])
    np.testing.assert_array_equal(tr.x[0], x0)
    np.testing.assert_array_equal(tr.x0, x0)


def test_zero_steps():
    problem = P.quadratic2d()
    tr = run(problem, O.gd(), 0)
    assert tr.x.shape == (1, 2) and tr.update.shape == (0, 2) and tr.n_updates == 0
    assert tr.status == "ran 0 steps"
    assert tr.loss_final == problem.loss(problem.x0)


@pytest.mark.parametrize("steps, r", [(20, 3), (21, 3), (20, 1), (20, 20), (5, 7)])
def test_record_every_keeps_every_rth_update_and_the_final_point(steps, r):
    problem = P.quadratic2d(angle=0.5)
    opt = O.adam(lr=0.1)
    full = run(problem, opt, steps)
    part = run(problem, opt, steps, record_every=r)
    n_rec = math.ceil(steps / r)
    assert part.update.shape == (n_rec, 2) and part.x.shape == (n_rec + 1, 2)
    kept = list(range(0, steps, r))
    assert part.k.tolist() == kept + [steps]
    np.testing.assert_array_equal(part.x[-1], full.x[-1])
    np.testing.assert_array_equal(part.x[:-1], full.x[kept])
    np.testing.assert_array_equal(part.loss[:-1], full.loss[kept])
    # each kept row describes that single update
    np.testing.assert_array_equal(part.update, full.update[kept])
    np.testing.assert_array_equal(part.eff_lr, full.eff_lr[kept])
    np.testing.assert_array_equal(part.state["m"], full.state["m"][kept])
    assert part.n_updates == steps and part.status == f"ran {steps} steps"


# --------------------------------------------------------------------------------------
# Divergence and stopping
# --------------------------------------------------------------------------------------
def _first_update_over(max_loss, lr, mu=1.0, L=10.0, x0=(-2.0, 1.5)):
    """GD on f = (mu x^2 + L y^2)/2: x_k = x0 (1 - lr mu)^k, y_k = y0 (1 - lr L)^k, by hand."""
    k = 0
    while True:
        x = x0[0] * (1 - lr * mu) ** (k + 1)
        y = x0[1] * (1 - lr * L) ** (k + 1)
        if 0.5 * (mu * x * x + L * y * y) > max_loss:
            return k
        k += 1


def test_gd_above_two_over_L_diverges_at_the_step_worked_out_by_hand():
    problem = P.quadratic2d(kappa=10.0, mu=1.0)
    lr = 0.3  # > 2/L = 0.2: the stiff direction is multiplied by 1 - 3 = -2 each update
    f0 = 0.5 * (1 * 4.0 + 10 * 2.25)  # f(x0) = 13.25
    expected = _first_update_over(1e8 * f0, lr)  # the default max_loss is 1e8 max(1, |f(x0)|)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(problem, O.gd(lr=lr), 500)
    assert tr.diverged and tr.diverged_at == expected
    assert tr.status.startswith(f"diverged at step {expected}:")
    assert "max_loss" in tr.status
    assert tr.n_updates == expected + 1
    assert tr.x.shape == (expected + 2, 2) and tr.update.shape == (expected + 1, 2)
    assert np.all(np.isfinite(tr.x)) and np.all(np.isfinite(tr.loss))
    assert tr.loss[-1] > 1e8 * f0 >= tr.loss[-2]
    assert f"diverged at step {expected}" in repr(tr)


def test_divergence_to_overflow_is_reported_without_warnings():
    # Rosenbrock's cubic gradient with a huge rate overflows within a few steps
    problem = P.rosenbrock()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(problem, O.gd(lr=10.0), 100, max_loss=1e300)
    assert tr.diverged
    assert re.fullmatch(
        rf"diverged at step {tr.diverged_at}: (parameters are|loss is) not finite", tr.status
    )
    assert tr.x.shape[0] == tr.diverged_at + 2
    # every point before the last one is finite
    assert np.all(np.isfinite(tr.x[:-1])) and np.all(np.isfinite(tr.loss[:-1]))


def test_gd_at_exactly_two_over_L_oscillates_without_diverging():
    problem = P.quadratic2d(kappa=10.0, mu=1.0)
    lr = 2.0 / problem.L  # the stiff coordinate is multiplied by 1 - 2 = -1: a 2-cycle
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(problem, O.gd(lr=lr), 300)
    assert not tr.diverged and tr.status == "ran 300 steps"
    np.testing.assert_allclose(tr.x[:, 1], 1.5 * (-1.0) ** np.arange(301), rtol=1e-10)
    np.testing.assert_allclose(tr.x[:, 0], -2.0 * 0.8 ** np.arange(301), rtol=1e-10, atol=1e-300)
    # the loss does not go below the stiff direction's share, 10 * 1.5^2 / 2
    assert tr.loss[-1] == pytest.approx(0.5 * 10 * 2.25, rel=1e-9)


def test_just_below_two_over_L_converges_and_just_above_diverges():
    problem = P.quadratic2d(kappa=10.0, mu=1.0)
    below = run(problem, O.gd(lr=0.19), 400)
    above = run(problem, O.gd(lr=0.21), 400)
    assert not below.diverged and below.loss_final < 1e-12
    assert above.diverged and above.diverged_at == _first_update_over(1e8 * 13.25, 0.21)


def test_stop_at_gap_stops_at_the_first_step_reaching_it():
    problem = P.quadratic2d(kappa=10.0)
    full = run(problem, O.gd(lr=0.1), 200)
    gap = 1e-3
    first = int(np.flatnonzero(full.loss[1:] - problem.f_min <= gap)[0])  # update index
    tr = run(problem, O.gd(lr=0.1), 200, stop_at_gap=gap)
    assert tr.stopped_at == first and not tr.diverged
    assert tr.n_updates == first + 1 and tr.x.shape[0] == first + 2
    assert tr.loss[-1] - problem.f_min <= gap < tr.loss[-2] - problem.f_min
    assert f"after {first + 1} steps" in tr.status
    assert tr.steps_to(gap) == first + 1 == full.steps_to(gap)
    np.testing.assert_array_equal(tr.gap(), tr.loss - problem.f_min)


def test_gap_needs_a_known_minimum():
    problem = P.logistic_regression()
    tr = run(problem, O.sgd(lr=0.1), 3)
    with pytest.raises(ValueError, match=r"Trace.gap: .*logistic_regression.*f_min"):
        tr.gap()
    with pytest.raises(ValueError, match=r"^run: stop_at_gap .*f_min"):
        run(problem, O.sgd(lr=0.1), 3, stop_at_gap=1e-3)


@pytest.mark.parametrize(
    "args, kwargs, error, pattern",
    [
        ((P.quadratic2d(), O.gd(), -1), {}, ValueError, r"^run: steps .*>= 0, got -1"),
        ((P.quadratic2d(), O.gd(), 2.5), {}, TypeError, r"^run: steps .*integer, got 2.5"),
        ((P.quadratic2d(), O.gd(), 5), dict(record_every=0), ValueError, r"^run: record_every"),
        ((P.quadratic2d(), O.gd(), 5), dict(x0=[1.0, 2.0, 3.0]), ValueError, r"\(2,\).*\(3,\)"),
        ((P.quadratic2d(), O.gd(), 5), dict(x0=[1.0, np.nan]), ValueError, r"^run: x0"),
        (("quadratic", O.gd(), 5), {}, TypeError, r"^run: problem .*'quadratic'"),
        ((P.quadratic2d(), O.gd, 5), {}, TypeError, r"^run: opt must be a learnlr optimizer"),
        ((P.quadratic2d(), O.gd(), 5), dict(stop_at_gap=-1.0), ValueError, r"stop_at_gap.*-1"),
        ((P.quadratic2d(), O.gd(), 5), dict(max_loss=0), ValueError, r"^run: max_loss.*0"),
    ],
)
def test_run_refuses_bad_arguments(args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        run(*args, **kwargs)


def test_trace_repr_mentions_optimizer_problem_and_status():
    problem = P.quadratic2d()
    tr = run(problem, O.gd(lr=0.1), 3)
    text = repr(tr)
    assert "ran 3 steps" in text and "gd(lr=0.1)" in text and problem.name in text


# --------------------------------------------------------------------------------------
# explain
# --------------------------------------------------------------------------------------
def test_explain_gd_by_hand():
    # f = x^2 / 2 from x0 = 2 with lr 0.5: x1 = 2 - 0.5 * 2 = 1, x2 = 1 - 0.5 * 1 = 0.5
    tr = run(P.quadratic1d(a=1.0, x0=2.0), O.gd(lr=0.5), steps=2)
    assert str(explain(tr, 1)) == (
        "gd(lr=0.5), step k = 1\n"
        "  g = grad f(x) = [1]\n"
        "  x_new = x - lr * g = [1] - 0.5 * [1] = [0.5]"
    )


def test_explain_adam_first_step_shows_t_and_m_hat_equal_to_g():
    tr = run(P.quadratic2d(), O.adam(lr=0.1), 3)
    text = str(explain(tr, 0))
    lines = text.splitlines()
    assert "t = k + 1 = 1" in text
    g = _fmt(tr.grad[0])  # [-2, 15]: grad of diag(1, 10) at (-2, 1.5)
    assert g == "[-2, 15]"
    m_hat = next(line for line in lines if line.strip().startswith("m_hat"))
    assert m_hat.endswith(f"= {g}")  # bias-corrected first moment of one gradient is g itself
    v_hat = next(line for line in lines if line.strip().startswith("v_hat"))
    assert v_hat.endswith("= [4, 225]")  # g^2
    assert "t = k + 1 = 3" in str(explain(tr, 2))


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_explain_works_for_every_optimizer_and_shows_the_numbers(name, kwargs):
    problem = P.quadratic2d(kappa=10.0, angle=0.3)
    opt = REGISTRY[name](**kwargs)
    tr = run(problem, opt, 8)
    for k in [0, 1, 7]:
        e = explain(tr, k)
        assert isinstance(e, Explanation)
        assert e is not None and e.title == f"{opt!r}, step k = {k}"
        assert tr.explain(k).lines == e.lines
        text = str(e)
        lines = text.splitlines()
        assert lines[0] == e.title and len(lines) >= 3
        # the gradient of this step and the point it leads to are written out
        assert _fmt(tr.grad[k]) in text, f"gradient {_fmt(tr.grad[k])} missing:\n{text}"
        assert lines[-1].endswith(f"= {_fmt(tr.x[k + 1])}"), text
        assert "<b>" in e._repr_html_()


def test_explain_refuses_what_it_cannot_explain():
    problem = P.quadratic2d()
    tr = run(problem, O.adam(), 5)
    with pytest.raises(
        ValueError, match=r"^explain: k must be an update of the trace, from 0 to 4, got 5"
    ):
        explain(tr, 5)
    with pytest.raises(ValueError, match=r"^explain: k .*>= 0, got -1"):
        explain(tr, -1)
    with pytest.raises(TypeError, match=r"^explain: k .*integer"):
        explain(tr, 1.0)
    sparse = run(problem, O.adam(), 6, record_every=2)
    with pytest.raises(ValueError, match=r"^explain: needs .*record_every=1, got 2"):
        explain(sparse, 0)
    with pytest.raises(TypeError, match=r"^explain: trace must be a Trace"):
        explain("trace", 0)


def test_explain_a_diverged_run_up_to_its_last_update():
    tr = run(P.quadratic2d(kappa=10.0), O.gd(lr=0.3), 500)
    last = tr.n_updates - 1
    assert explain(tr, last).lines[-1].endswith(f"= {_fmt(tr.x[-1])}")
    with pytest.raises(ValueError, match=rf"got {last + 1}"):
        explain(tr, last + 1)


def test_a_start_whose_loss_overflows_is_refused_naming_x0():
    # f(1e160, 0) overflows to inf; the message is about x0, not about max_loss, which the
    # caller never passed
    with pytest.raises(ValueError, match=r"^run: the loss at x0 must be finite, got inf") as info:
        run(P.quadratic2d(), O.adam(), 5, x0=[1e160, 0])
    assert "max_loss" not in str(info.value)


def test_a_huge_but_finite_start_loss_still_runs():
    # f = 0.5 * 1e306: 1e8 * f overflows, so the default max_loss is the largest float
    tr = run(P.quadratic1d(a=1.0, x0=2.0), O.gd(lr=0.5), 3, x0=[np.sqrt(2e306)])
    assert tr.status == "ran 3 steps" and tr.loss[0] == pytest.approx(1e306)
