r"""Running an optimizer on a problem and recording what every update did.

``trace = run(problem, opt, steps)`` performs ``steps`` updates and returns a
:class:`Trace` of preallocated NumPy arrays. :func:`run` is the package's one training
loop: :func:`run_eval`, :func:`learnlr.problems.mlp.train`, chapter 3's ``resume``, chapter
7's ``run_with_plateau`` and ``run_with_epoch_schedule`` and chapter 9's ``final_loss`` are
calls of it. Two kinds of rows:

* per *point* (``steps + 1`` rows when every step is recorded): ``k`` (the number of
  updates done), ``x`` and ``loss``; the last row is the final point;
* per *update* (one row fewer): ``grad`` (the gradient the update saw), ``lr``,
  ``eff_lr``, ``direction``, ``update`` (``x_new - x``) and ``state[name]``, the
  optimizer's buffers *after* the update.

Row ``i`` of the per-update arrays belongs to update ``k[i]``, which started from
``x[i]``. With ``record_every=1`` it moved ``x[i]`` to ``x[i + 1]``; with
``record_every=r`` only every r-th update is kept (``update`` is still that single
update's step) and the final point is always kept; with ``record_every=None`` no update is
kept, only the start and the final point, so a long run on a network stays cheap.

What else a run can do:

* resume: ``run(problem, opt, n, x0=trace.x_final, state=trace.final_state)`` continues
  ``trace``'s run; the update numbering goes on from ``state.count`` (update ``k`` uses
  minibatch ``k`` and rate ``k``, and ``trace.k`` starts at the count), so two resumed
  halves are the uninterrupted run, bit for bit. ``trace.start_state`` is the state before
  the first update, from which :func:`explain` works out a resumed run's first step;
* evaluate: with ``eval_every=N`` the full loss (and an optional ``metric``) is computed at
  :func:`eval_point` at the start, every N updates and after the last one
  (``trace.eval_k``, ``trace.eval_loss``, ``trace.eval_metric``, ``trace.x_eval``);
* change the rate while it runs: a :class:`Controller` (e.g. :func:`plateau_control`, a
  reduce-on-plateau rule) may hand back another optimizer before an update or after an
  evaluation; the optimizer state carries over and ``trace.changes`` lists where.

One divergence rule, for every loop: a run stops as diverged after update ``k`` when the
parameters stop being finite (checked after every update) or when a loss it computes is not
finite or exceeds ``max_loss``, by default ``1e8 * max(1, |f(x0)|)``. The loss is computed
after every update when updates are recorded or ``stop_at_gap`` is given, and otherwise at
the evaluations and after the last update. ``trace.diverged_at`` is ``k``,
``trace.status`` says ``"diverged at step k: ..."`` (why: the parameters or the loss are not
finite, or the loss exceeds ``max_loss``), the diverged point is the last row and is not an
evaluation; no overflow warnings are printed. The threshold is generous on purpose: a run
is stopped when it has blown up, not when it is merely bad (a network at too large a rate
that ends at a loss of a few hundred has not diverged; its accuracy says it failed).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from learnlr._checks import (
    check_int,
    check_make_opt,
    check_positive,
    check_start_loss,
    check_vector,
    short_repr,
)
from learnlr.optimizers.base import Optimizer, check_optimizer, fmt
from learnlr.problems import Problem
from learnlr.problems.functions import check_problem

__all__ = [
    "run",
    "Trace",
    "Controller",
    "PlateauControl",
    "plateau_control",
    "Explanation",
    "explain",
    "run_eval",
    "EvalRun",
    "eval_point",
    "eval_points",
]


class Trace:
    """Everything recorded by :func:`run`. See the module docstring for the layout.

    The package's one record of a run of :func:`run`, whatever its options: per point, per
    update, per evaluation and the controller's changes. Other result types exist only
    where a run is not a call of :func:`run` (the finder, the online learner, the stacked
    and vectorised runs) or where a caller wants only a table of evaluations
    (:class:`EvalRun`, :class:`~learnlr.problems.mlp.TrainResult`).
    """

    def __init__(self, problem, optimizer, x0, steps, record_every, d, state_fields, n_rec):
        self.problem = problem
        self.optimizer = optimizer
        self.x0 = x0
        self.steps = steps
        self.record_every = record_every
        # per point
        self.k = np.zeros(n_rec + 1, dtype=np.int64)
        self.x = np.zeros((n_rec + 1, d))
        self.loss = np.zeros(n_rec + 1)
        # per update
        self.grad = np.zeros((n_rec, d))
        self.lr = np.zeros(n_rec)
        self.eff_lr = np.zeros((n_rec, d))
        self.direction = np.zeros((n_rec, d))
        self.update = np.zeros((n_rec, d))
        self.state = {name: np.zeros((n_rec,) + np.shape(v)) for name, v in state_fields}
        self.state_type = None
        self.start_state = None  # the optimizer state before the first update
        self.final_state = None  # the optimizer state after the last update (to resume)
        # per evaluation (with eval_every)
        self.eval_k = np.zeros(0, dtype=np.int64)
        self.eval_loss = np.zeros(0)
        self.eval_metric = np.zeros(0)
        self.x_eval = None  # the evaluation point of the last evaluation
        self.changes: list[int] = []  # update counts from which a controller's optimizer ran
        self.diverged_at: int | None = None
        self.stopped_at: int | None = None  # update after which a stopping rule fired
        self.status = ""
        self.caller = "run"  # the function named in error messages

    # ---- what a reader asks of a run -------------------------------------------------
    @property
    def n_updates(self) -> int:
        """Number of updates this run performed (fewer than ``steps`` if stopped early)."""
        return int(self.k[-1] - self.k[0])

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def x_final(self) -> np.ndarray:
        return self.x[-1].copy()

    @property
    def loss_final(self) -> float:
        return float(self.loss[-1])

    def gap(self) -> np.ndarray:
        """``loss - f_min`` per recorded point (needs a problem with a known ``f_min``)."""
        if self.problem.f_min is None:
            raise ValueError(f"Trace.gap: problem {self.problem.name!r} has no known f_min")
        return self.loss - self.problem.f_min

    def steps_to(self, target: float) -> int | None:
        """Updates of this run after which ``loss - f_min <= target`` first (None if never).

        Counted from the run's start, also for a resumed run (whose ``k`` starts at the
        state's count)."""
        hit = np.flatnonzero(self.gap() <= target)
        return int(self.k[hit[0]] - self.k[0]) if hit.size else None

    def explain(self, k: int) -> Explanation:
        """Step ``k``'s equations with the numbers filled in; see :func:`explain`."""
        return explain(self, k)

    def __repr__(self) -> str:
        return (
            f"<Trace {self.optimizer!r} on {self.problem.name}: {self.status}; "
            f"final loss {fmt(self.loss_final, 6)}>"
        )

    # ---- used by run() ---------------------------------------------------------------
    def _truncate(self, n_points: int, n: int) -> None:
        self.k = self.k[:n_points]
        self.x = self.x[:n_points]
        self.loss = self.loss[:n_points]
        self.grad, self.lr, self.eff_lr = self.grad[:n], self.lr[:n], self.eff_lr[:n]
        self.direction, self.update = self.direction[:n], self.update[:n]
        self.state = {name: v[:n] for name, v in self.state.items()}


class Controller:
    """Something :func:`run` consults while it runs, that may change the optimizer's rate.

    ``run(..., controller=c)`` calls ``c.before(k, opt)`` before update ``k`` and
    ``c.after(k, loss, opt)`` after each evaluation (with ``eval_every``; ``k`` is the
    update just done and ``loss`` the full loss at the evaluation point). Each returns the
    optimizer for the updates that follow: ``opt`` itself to change nothing, or another
    optimizer (typically the same method built with another rate), which continues from
    the current optimizer state, as a framework callback sets ``optimizer.lr`` without
    resetting the momentum or Adam buffers. This class changes nothing; subclass it and
    override one or both methods. :func:`plateau_control` is one such controller.

    ``before`` and ``after`` are named for when :func:`run` calls them, as a framework
    callback's hooks are; they hand back an optimizer, not a state. A rule with a state of
    its own advances it with ``step``, as an optimizer does: :class:`PlateauControl`'s
    ``after`` calls the plateau rule's ``step(state, metric)``.
    """

    def before(self, k: int, opt: Optimizer) -> Optimizer:
        return opt

    def after(self, k: int, loss: float, opt: Optimizer) -> Optimizer:
        return opt


class PlateauControl(Controller):
    """Reduce-on-plateau inside :func:`run`; see :func:`plateau_control`."""

    def __init__(self, make_opt, plateau, every: int | None = None):
        self.make_opt = make_opt
        self.plateau = plateau
        self.every = every
        self.state = plateau.init()
        self.eval_k: list[int] = []  # updates done when the plateau rule read the loss
        self.metric: list[float] = []  # the loss it read
        self.eval_lr: list[float] = []  # the rate it set for the updates that follow

    @property
    def lr(self) -> float:
        """The rate the rule sets now (its ``base_lr`` before the first reading)."""
        return self.state.lr

    def first(self) -> Optimizer:
        """The optimizer of the first update: ``make_opt(base_lr)``."""
        return check_optimizer(
            "plateau_control", self.make_opt(self.lr), made_by=f"make_opt({self.lr!r})"
        )

    def after(self, k, loss, opt):
        done = k + 1
        if self.every is not None and done % self.every:
            return opt  # an evaluation that is not an epoch's end (the run's last update)
        lr = self.state.lr
        self.state = self.plateau.step(self.state, float(loss))
        self.eval_k.append(done)
        self.metric.append(float(loss))
        self.eval_lr.append(self.state.lr)
        if self.state.lr == lr:
            return opt
        made_by = f"make_opt({self.state.lr!r})"
        return check_optimizer("plateau_control", self.make_opt(self.state.lr), made_by=made_by)

    def __repr__(self) -> str:
        return f"plateau_control({self.plateau!r})"


def plateau_control(make_opt, plateau, every: int | None = None) -> PlateauControl:
    """A :class:`Controller` that lets a reduce-on-plateau rule set the rate of :func:`run`.

    After each evaluation of the run (``eval_every``), the rule ``plateau`` (from
    :func:`learnlr.schedules.reduce_on_plateau`) reads the full loss; when it cuts the rate,
    the next update uses ``make_opt(new_rate)`` with the optimizer state carried over.
    ``every`` (optional) limits the readings to evaluations after a multiple of ``every``
    updates, so that the extra evaluation of a run's last update is not read. The
    controller keeps what it read (``eval_k``, ``metric``, ``eval_lr``); start the run with
    ``controller.first()``, the optimizer at the rule's ``base_lr``.

    Example:
        >>> from learnlr import optimizers, problems, schedules
        >>> ctl = plateau_control(lambda lr: optimizers.gd(lr=lr),
        ...                       schedules.reduce_on_plateau(base_lr=0.2, patience=2))
        >>> tr = run(problems.quadratic1d(a=10.0, x0=1.0), ctl.first(), 8, eval_every=1,
        ...          controller=ctl)
        >>> tr.lr, tr.changes
        (array([0.2 , 0.2 , 0.2 , 0.2 , 0.02, 0.02, 0.02, 0.02]), [4])
    """
    check_make_opt("plateau_control", make_opt)
    if not (hasattr(plateau, "init") and hasattr(plateau, "step")):
        raise TypeError(
            f"plateau_control: plateau must come from schedules.reduce_on_plateau, got {plateau!r}"
        )
    if every is not None:
        every = check_int("plateau_control", "every", every, 1)
    return PlateauControl(make_opt, plateau, every)


def _copy_state(state):
    """A copy of an optimizer state whose arrays are not shared with the caller's."""
    return type(state)(*(np.array(v) if isinstance(v, np.ndarray) else v for v in state))


def run(
    problem: Problem,
    opt: Optimizer,
    steps: int,
    x0=None,
    record_every: int | None = 1,
    max_loss: float | None = None,
    stop_at_gap: float | None = None,
    *,
    state=None,
    eval_every: int | None = None,
    metric=None,
    controller: Controller | None = None,
    caller: str = "run",
) -> Trace:
    """Run ``steps`` updates of ``opt`` on ``problem`` from ``x0`` and record them.

    Args:
        problem: a :class:`~learnlr.problems.Problem`; its ``batch_grad(x, k)`` gives the
            gradient of update ``k``.
        opt: an optimizer from :mod:`learnlr.optimizers`.
        steps: number of updates (>= 0).
        x0: starting point; default ``problem.x0``.
        record_every: keep every r-th update (and always the final point), to bound the
            memory of long runs; ``None`` keeps no update at all, only the start and the
            final point, and computes the full loss only where the run is evaluated.
        max_loss: stop and report divergence once a computed loss exceeds this; default
            ``1e8 * max(1, |f(x0)|)`` (the loss at ``x0`` itself must be finite).
        stop_at_gap: stop once ``loss - f_min <= stop_at_gap`` (for "steps to reach a
            target" measurements; needs a problem with known ``f_min``).
        state: an optimizer state to resume from (e.g. ``trace.final_state`` of an earlier
            run, with ``x0=trace.x_final``); default ``opt.init(x0)``. Updates continue the
            numbering from ``state.count``: update ``k`` uses minibatch ``k`` and rate
            ``k`` of the uninterrupted run, and ``trace.k`` starts at ``state.count``.
        eval_every: evaluate the full loss (and ``metric``) at :func:`eval_point` every
            ``eval_every`` updates, at the start and after the last update; the results are
            ``trace.eval_k``, ``trace.eval_loss``, ``trace.eval_metric`` and
            ``trace.x_eval`` (the last evaluation point).
        metric: a function of the evaluation point returning a number or a fixed-length
            sequence of numbers (e.g. a test accuracy); needs ``eval_every``.
        controller: a :class:`Controller` consulted before each update and after each
            evaluation; it may hand back an optimizer with another rate.
        caller: the function named in error messages (for functions built on ``run``).

    Returns:
        A :class:`Trace`; ``trace.final_state`` is the optimizer state after the last update.

    Example:
        >>> from learnlr import optimizers, problems
        >>> tr = run(problems.quadratic2d(kappa=10), optimizers.gd(lr=0.1), steps=3)
        >>> tr.status, tr.x.shape, tr.eff_lr.shape
        ('ran 3 steps', (4, 2), (3, 2))
        >>> run(problems.quadratic2d(kappa=10), optimizers.gd(lr=0.3), steps=500).status
        'diverged at step 13: loss 3.02e+09 exceeds max_loss 1.32e+09'

        Resuming from a trace's final point and state continues the same run:

        >>> p, adagrad = problems.quadratic2d(kappa=10), optimizers.adagrad(lr=0.5)
        >>> first = run(p, adagrad, 3)
        >>> rest = run(p, adagrad, 3, x0=first.x_final, state=first.final_state)
        >>> rest.k, bool(np.array_equal(rest.x_final, run(p, adagrad, 6).x_final))
        (array([3, 4, 5, 6]), True)
    """
    if not isinstance(caller, str):
        raise TypeError(f"run: caller must be a function name (a string), got {caller!r}")
    name = caller
    check_problem(name, problem)
    check_optimizer(name, opt)
    steps = check_int(name, "steps", steps, 0)
    if record_every is not None:
        record_every = check_int(name, "record_every", record_every, 1)
    if eval_every is not None:
        eval_every = check_int(name, "eval_every", eval_every, 1)
    if metric is not None:
        if not callable(metric):
            raise TypeError(f"{name}: metric must be a function of the parameters, got {metric!r}")
        if eval_every is None:
            raise ValueError(f"{name}: metric needs eval_every (the updates between evaluations)")
    if controller is not None and not (
        callable(getattr(controller, "before", None))
        and callable(getattr(controller, "after", None))
    ):
        raise TypeError(
            f"{name}: controller must have before(k, opt) and after(k, loss, opt) methods "
            f"(a learnlr.trace.Controller), got {controller!r}"
        )
    x = problem.x0 if x0 is None else check_vector(name, "x0", x0)
    if x.shape != (problem.dim,):
        raise ValueError(f"{name}: x0 must have shape ({problem.dim},), got {x.shape}")
    if stop_at_gap is not None:
        check_positive(name, "stop_at_gap", stop_at_gap)
        if problem.f_min is None:
            raise ValueError(
                f"{name}: stop_at_gap needs a problem with known f_min; {problem.name} has none"
            )
    if state is None:
        state = opt.init(x)
    else:
        count = getattr(state, "count", None)
        if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 0:
            raise TypeError(
                f"{name}: state must be an optimizer state with a count >= 0 (e.g. "
                f"trace.final_state), got {short_repr(state)}"
            )
        fresh = opt.init(x)
        if type(state) is not type(fresh):
            raise TypeError(
                f"{name}: state must be a state of {opt.name} ({type(fresh).__name__}), "
                f"got {type(state).__name__}"
            )
        state = _copy_state(state)
    start = int(state.count)
    x0_arr = x.copy()
    with np.errstate(all="ignore"):  # an overflow at x0 is reported by check_start_loss
        loss = problem.loss(x)
    max_loss = check_start_loss(name, loss, max_loss)

    # the state's fields, except the count and those the optimizer does not use (None)
    fields = [
        (f, v) for f, v in zip(state._fields, state, strict=True) if f != "count" and v is not None
    ]
    # None: no update recorded, but room for the start and the final point
    n_rec = min(steps, 1) if record_every is None else -(-steps // record_every)
    tr = Trace(problem, opt, x0_arr, steps, record_every, problem.dim, fields, n_rec)
    tr.state_type = type(state)
    tr.caller = name
    tr.start_state = _copy_state(state)
    state_names = [f for f, _ in fields]
    tr.x[0], tr.loss[0], tr.k[0] = x, loss, start

    # evaluations: at the start, every eval_every updates and after the last
    eval_k, eval_loss, eval_metric = [], [], []

    def evaluate(done, x, state, loss_at_x):
        x_eval = eval_point(x, state) if done else x.copy()
        if loss_at_x is not None and np.array_equal(x_eval, x):
            value = loss_at_x
        else:
            value = problem.loss(x_eval)
        return x_eval, value

    if eval_every is not None:
        tr.x_eval, value = evaluate(start, x, state, loss)
        eval_k.append(start)
        eval_loss.append(value)
        if metric is not None:
            eval_metric.append(metric(tr.x_eval))
    every_loss = record_every is not None or stop_at_gap is not None

    row = 0
    status, done = f"ran {steps} steps", steps
    with np.errstate(all="ignore"):
        for j in range(steps):
            k = start + j
            if controller is not None:
                opt = _swap(tr, opt, controller.before(k, opt), k, f"controller.before({k}, opt)")
            recorded = record_every is not None and j % record_every == 0
            if recorded:
                tr.x[row], tr.loss[row], tr.k[row] = x, loss, k
            g = problem.batch_grad(x, k)
            x_new, state, info = opt.step(x, g, state)
            if recorded:
                tr.grad[row] = g
                tr.lr[row] = info.lr
                tr.eff_lr[row] = info.eff_lr
                tr.direction[row] = info.direction
                tr.update[row] = x_new - x
                for f in state_names:
                    tr.state[f][row] = getattr(state, f)
                row += 1
            x = x_new
            last = j + 1 == steps
            evaluated = eval_every is not None and ((j + 1) % eval_every == 0 or last)
            computed = every_loss or evaluated or last
            loss = problem.loss(x) if computed else np.nan  # NaN: not computed
            # a finite sum is the fast test; a sum that overflows is checked entry by entry
            if not (math.isfinite(x.sum()) or np.all(np.isfinite(x))):
                why = "parameters are not finite"
            elif computed and not loss <= max_loss:  # NaN fails the comparison
                why = _too_large(loss, max_loss)
            else:
                why = None
            if why is None and evaluated:
                x_eval, value = evaluate(k + 1, x, state, loss)
                why = _too_large(value, max_loss)
                if why is None:
                    tr.x_eval = x_eval
                    eval_k.append(k + 1)
                    eval_loss.append(value)
                    if metric is not None:
                        eval_metric.append(metric(x_eval))
                    if controller is not None:
                        new = controller.after(k, float(value), opt)
                        opt = _swap(tr, opt, new, k + 1, f"controller.after({k}, loss, opt)")
            if why is not None:
                tr.diverged_at = k
                status, done = f"diverged at step {k}: {why}", j + 1
                break
            if stop_at_gap is not None and loss - problem.f_min <= stop_at_gap:
                tr.stopped_at = k
                status, done = f"reached loss - f_min <= {stop_at_gap:g} after {j + 1} steps", j + 1
                break
    if record_every is None:  # the start and the final point, no update
        row = 1 if done else 0
    tr.x[row], tr.loss[row], tr.k[row] = x, loss, start + done
    tr._truncate(row + 1, 0 if record_every is None else row)
    tr.final_state = state
    tr.eval_k = np.array(eval_k, dtype=np.int64)
    tr.eval_loss = np.array(eval_loss, dtype=float)
    tr.eval_metric = (
        np.array(eval_metric, dtype=float) if metric is not None else np.full(len(eval_k), np.nan)
    )
    tr.status = status
    return tr


def _too_large(loss, max_loss) -> str | None:
    """Why ``loss`` means the run diverged, or None if it does not."""
    if not np.isfinite(loss):
        return "loss is not finite"
    if loss > max_loss:
        return f"loss {loss:.3g} exceeds max_loss {max_loss:.3g}"
    return None


def _swap(tr, opt, new, k, made_by):
    """The optimizer a controller handed back; a new one is noted in ``tr.changes``."""
    if new is opt:
        return opt
    check_optimizer(tr.caller, new, made_by=made_by)
    tr.changes.append(k)
    return new


class Explanation:
    """The arithmetic of one update, as text (``str``) and as a notebook display."""

    def __init__(self, title: str, lines: list[str]):
        self.title = title
        self.lines = lines

    def __str__(self) -> str:
        return "\n".join([self.title] + ["  " + line for line in self.lines])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        body = "\n".join(html.escape(line) for line in self.lines)
        return f"<div><b>{html.escape(self.title)}</b><pre>{body}</pre></div>"


def explain(trace: Trace, k: int) -> Explanation:
    """Step ``k`` of ``trace`` written out: each equation with its numbers.

    Needs a trace recorded with ``record_every=1`` (so the state before step ``k`` is
    known). ``k`` counts updates from 0, as ``trace.k`` does (a resumed trace starts at
    its state's count; the state before its first update is ``trace.start_state``).

    Example:
        >>> from learnlr import optimizers, problems
        >>> tr = run(problems.quadratic1d(a=1.0, x0=2.0), optimizers.gd(lr=0.5), steps=2)
        >>> print(explain(tr, 1))
        gd(lr=0.5), step k = 1
          g = grad f(x) = [1]
          x_new = x - lr * g = [1] - 0.5 * [1] = [0.5]
    """
    if not isinstance(trace, Trace):
        raise TypeError(f"explain: trace must be a Trace from learnlr.run, got {trace!r}")
    if trace.record_every != 1:
        raise ValueError(
            f"explain: needs a trace recorded with record_every=1, got {trace.record_every}"
        )
    if trace.changes:
        raise ValueError(
            f"explain: a controller changed the optimizer of this trace at {trace.changes}; "
            "explain needs a trace run with one optimizer"
        )
    k = check_int("explain", "k", k, 0)
    first = int(trace.k[0])  # a resumed trace starts at its state's count
    if not first <= k < first + trace.n_updates:
        raise ValueError(
            f"explain: k must be an update of the trace, from {first} to "
            f"{first + trace.n_updates - 1}, got {k}"
        )
    i = k - first  # the row of update k
    opt = trace.optimizer
    x = trace.x[i]
    if i == 0:
        before = trace.start_state
    else:
        before = trace.state_type(k, **{name: v[i - 1] for name, v in trace.state.items()})
    after = trace.state_type(k + 1, **{name: v[i] for name, v in trace.state.items()})
    x_new, _, info = opt.step(x, trace.grad[i], before)
    lines = opt.explain(x, trace.grad[i], before, x_new, after, info)
    return Explanation(f"{opt!r}, step k = {k}", lines)


# ---------------------------------------------------------------------------------------
# Where to evaluate the model, and a run that evaluates there
# ---------------------------------------------------------------------------------------
def eval_point(x, state) -> np.ndarray:
    """The point at which to evaluate the model after an update.

    For the schedule-free optimizers this is the averaged sequence ``state.x_avg``, not
    ``x`` (the interpolation point ``y`` where the gradient is taken); for every other
    optimizer it is ``x`` itself.

    Example:
        >>> import numpy as np
        >>> from learnlr import optimizers
        >>> opt = optimizers.schedule_free_sgd(lr=0.1)
        >>> y, s = np.array([1.0]), opt.init(np.array([1.0]))
        >>> for _ in range(2):
        ...     y, s, _ = opt.step(y, np.array([2.0]), s)
        >>> y.round(6), eval_point(y, s)
        (array([0.69]), array([0.7]))
        >>> eval_point(np.array([3.0]), optimizers.adam().init(np.zeros(1)))
        array([3.])
    """
    return np.array(state.x_avg if hasattr(state, "x_avg") else x, dtype=float)


def eval_points(trace) -> np.ndarray:
    """The evaluation point of every recorded point of a trace, aligned with ``trace.x``.

    Row 0 is the start; row ``i + 1`` is the point after update ``i``. For a schedule-free
    trace these are the averaged iterates (``trace.state["x_avg"]``), for any other trace
    ``trace.x`` itself. A schedule-free trace must be recorded with ``record_every=1``.
    """
    if not isinstance(trace, Trace):
        raise TypeError(f"eval_points: trace must be a Trace from learnlr.run, got {trace!r}")
    if "x_avg" not in trace.state:
        return trace.x.copy()
    if trace.record_every != 1:
        raise ValueError(
            "eval_points: a schedule-free trace must be recorded with record_every=1, "
            f"got {trace.record_every}"
        )
    return np.concatenate([trace.x[:1], trace.state["x_avg"]], axis=0)


class EvalRun(NamedTuple):
    """What :func:`run_eval` measured, one entry per evaluation (the first before any update).

    Kept apart from :class:`Trace`, which holds the same evaluations as ``eval_k``,
    ``eval_loss``, ``eval_metric``: a run evaluated this way records no point and no update,
    so a Trace's ``x`` and ``loss`` would be two rows at ``x`` (for a schedule-free
    optimizer not the evaluation point), beside a table that is the whole result. Here
    ``loss`` is the evaluations' loss and ``x``, ``state`` resume the run.
    """

    k: np.ndarray  # updates done at each evaluation: start, start + every, ..., start + steps
    loss: np.ndarray  # problem.loss at the evaluation point
    metric: np.ndarray  # metric(evaluation point), or NaN without a metric
    x_eval: np.ndarray  # the evaluation point after the last update
    x: np.ndarray  # the optimizer's parameters after the last update (to resume from)
    state: Any  # the optimizer's state after the last update (to resume from)
    diverged_at: int | None  # the update after which the run was stopped, if it was
    status: str


def run_eval(
    problem, opt, steps, every=1, x0=None, state=None, metric=None, max_loss=None
) -> EvalRun:
    """Run ``opt`` on ``problem`` and evaluate at :func:`eval_point` every ``every`` updates.

    This is :func:`learnlr.run` with ``record_every=None`` and ``eval_every=every``, its
    evaluations returned as an :class:`EvalRun`: the updates are exactly those of
    :func:`learnlr.run` (update ``k`` uses ``problem.batch_grad(x, k)`` and the rate of
    update ``k``), but only ``loss`` (the full loss) and the optional ``metric`` are kept,
    at the evaluation point: the averaged iterate for schedule-free methods, the iterate
    itself for the others. So schedule-free and ordinary optimizers are compared on equal
    terms, and a long run on a network stays cheap.

    A run can be resumed from a checkpoint: pass the ``x`` and ``state`` of an earlier
    :class:`EvalRun` as ``x0`` and ``state``. The updates then continue the numbering
    (from ``state.count``), so the minibatches and the rates are those the uninterrupted run
    would have used; the optimizer may be another one of the same kind, e.g. the same
    method with a decaying schedule (a warmup-stable-decay branch).

    Args:
        problem: a :class:`~learnlr.problems.Problem`.
        opt: a learnlr optimizer.
        steps: number of updates (>= 0).
        every: updates between evaluations (>= 1); the last update is always evaluated.
        x0: starting point (default ``problem.x0``).
        state: the optimizer state to start from (default ``opt.init(x0)``).
        metric: a function of the parameters (e.g. a test accuracy), or None.
        max_loss: stop as diverged when an evaluated loss exceeds it (default
            ``1e8 * max(1, |f(x0)|)``) or is not finite, as :func:`learnlr.run` does.

    Example:
        >>> from learnlr import optimizers, problems
        >>> prob = problems.quadratic1d(a=1.0, x0=2.0)
        >>> opt = optimizers.schedule_free_sgd(lr=0.5)
        >>> res = run_eval(prob, opt, steps=4, every=2)
        >>> res.k, res.loss.round(4), res.status   # x_avg = 0.75 after 2 updates
        (array([0, 2, 4]), array([2.    , 0.2812, 0.0724]), 'ran 4 steps')
        >>> half = run_eval(prob, opt, steps=2)
        >>> rest = run_eval(prob, opt, steps=2, x0=half.x, state=half.state)
        >>> rest.k, bool(rest.loss[-1] == res.loss[-1])   # resumed: the same run
        (array([2, 3, 4]), True)
    """
    name = "run_eval"
    check_problem(name, problem)
    check_optimizer(name, opt)
    every = check_int(name, "every", every, 1)
    if metric is not None and not callable(metric):
        raise TypeError(f"{name}: metric must be a function of the parameters, got {metric!r}")
    tr = run(
        problem,
        opt,
        steps,
        x0=x0,
        record_every=None,
        max_loss=max_loss,
        state=state,
        eval_every=every,
        metric=metric,
        caller=name,
    )
    return EvalRun(
        tr.eval_k,
        tr.eval_loss,
        tr.eval_metric,
        tr.x_eval,
        tr.x_final,
        tr.final_state,
        tr.diverged_at,
        tr.status,
    )
