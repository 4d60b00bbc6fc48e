r"""Running an optimizer on a problem and recording what every update did.

``trace = run(problem, opt, steps)`` performs ``steps`` updates and returns a
:class:`Trace` of preallocated NumPy arrays. Two kinds of rows:

* per *point* (``steps + 1`` rows when every step is recorded): ``k`` (the number of
  updates done), ``x`` and ``loss``; the last row is the final point;
* per *update* (one row fewer): ``grad`` (the gradient the update saw), ``lr``,
  ``eff_lr``, ``direction``, ``update`` (``x_new - x``) and ``state[name]``, the
  optimizer's buffers *after* the update.

Row ``i`` of the per-update arrays belongs to update ``k[i]``, which started from
``x[i]``. With ``record_every=1`` it moved ``x[i]`` to ``x[i + 1]``; with
``record_every=r`` only every r-th update is kept (``update`` is still that single
update's step) and the final point is always kept.

A run whose loss or parameters stop being finite, or whose loss grows past ``max_loss``,
stops there: ``trace.diverged_at`` is the update after which it happened and
``trace.status`` says ``"diverged at step k"``; no overflow warnings are printed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from learnlr._checks import (
    check_int,
    check_optimizer,
    check_positive,
    check_problem,
    check_start_loss,
    check_vector,
)
from learnlr.optimizers.base import Optimizer, fmt
from learnlr.problems import Problem

__all__ = [
    "run",
    "Trace",
    "Explanation",
    "explain",
    "run_eval",
    "EvalRun",
    "eval_point",
    "eval_points",
]


class Trace:
    """Everything recorded by :func:`run`. See the module docstring for the layout."""

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
        self.diverged_at: int | None = None
        self.stopped_at: int | None = None  # update after which a stopping rule fired
        self.status = ""

    # ---- what a reader asks of a run -------------------------------------------------
    @property
    def n_updates(self) -> int:
        """Number of updates actually performed (fewer than ``steps`` if stopped early)."""
        return int(self.k[-1])

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
        """First recorded update count at which ``loss - f_min <= target`` (None if never)."""
        hit = np.flatnonzero(self.gap() <= target)
        return int(self.k[hit[0]]) if hit.size else None

    def explain(self, k: int) -> Explanation:
        """Step ``k``'s equations with the numbers filled in; see :func:`explain`."""
        return explain(self, k)

    def __repr__(self) -> str:
        return (
            f"<Trace {self.optimizer!r} on {self.problem.name}: {self.status}; "
            f"final loss {fmt(self.loss_final, 6)}>"
        )

    # ---- used by run() ---------------------------------------------------------------
    def _truncate(self, n_points: int) -> None:
        self.k = self.k[:n_points]
        self.x = self.x[:n_points]
        self.loss = self.loss[:n_points]
        n = n_points - 1
        self.grad, self.lr, self.eff_lr = self.grad[:n], self.lr[:n], self.eff_lr[:n]
        self.direction, self.update = self.direction[:n], self.update[:n]
        self.state = {name: v[:n] for name, v in self.state.items()}


def run(
    problem: Problem,
    opt: Optimizer,
    steps: int,
    x0=None,
    record_every: int = 1,
    max_loss: float | None = None,
    stop_at_gap: float | None = None,
) -> Trace:
    """Run ``steps`` updates of ``opt`` on ``problem`` from ``x0`` and record them.

    Args:
        problem: a :class:`~learnlr.problems.Problem`; its ``batch_grad(x, k)`` gives the
            gradient of update ``k``.
        opt: an optimizer from :mod:`learnlr.optimizers`.
        steps: number of updates (>= 0).
        x0: starting point; default ``problem.x0``.
        record_every: keep every r-th update (and always the final point), to bound the
            memory of long runs.
        max_loss: stop and report divergence once the loss exceeds this; default
            ``1e8 * max(1, |f(x0)|)`` (the loss at ``x0`` itself must be finite).
        stop_at_gap: stop once ``loss - f_min <= stop_at_gap`` (for "steps to reach a
            target" measurements; needs a problem with known ``f_min``).

    Returns:
        A :class:`Trace`.

    Example:
        >>> from learnlr import optimizers, problems
        >>> tr = run(problems.quadratic2d(kappa=10), optimizers.gd(lr=0.1), steps=3)
        >>> tr.status, tr.x.shape, tr.eff_lr.shape
        ('ran 3 steps', (4, 2), (3, 2))
        >>> run(problems.quadratic2d(kappa=10), optimizers.gd(lr=0.3), steps=500).status
        'diverged at step 13: loss 3.02e+09 exceeds max_loss 1.32e+09'
    """
    check_problem("run", problem)
    check_optimizer("run", opt)
    steps = check_int("run", "steps", steps, 0)
    record_every = check_int("run", "record_every", record_every, 1)
    x = problem.x0 if x0 is None else check_vector("run", "x0", x0)
    if x.shape != (problem.dim,):
        raise ValueError(f"run: x0 must have shape ({problem.dim},), got {x.shape}")
    if stop_at_gap is not None:
        check_positive("run", "stop_at_gap", stop_at_gap)
        if problem.f_min is None:
            raise ValueError(
                f"run: stop_at_gap needs a problem with known f_min; {problem.name} has none"
            )
    x0_arr = x.copy()
    with np.errstate(all="ignore"):  # an overflow at x0 is reported by check_start_loss
        loss = problem.loss(x)
    max_loss = check_start_loss("run", loss, max_loss)

    state = opt.init(x)
    # the state's fields, except the count and those the optimizer does not use (None)
    fields = [
        (f, v) for f, v in zip(state._fields, state, strict=True) if f != "count" and v is not None
    ]
    n_rec = -(-steps // record_every)
    tr = Trace(problem, opt, x0_arr, steps, record_every, problem.dim, fields, n_rec)
    tr.state_type = type(state)
    state_names = [f for f, _ in fields]
    tr.x[0], tr.loss[0], tr.k[0] = x, loss, 0

    row = 0
    status = f"ran {steps} steps"
    with np.errstate(all="ignore"):
        for k in range(steps):
            recorded = k % record_every == 0
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
                for name in state_names:
                    tr.state[name][row] = getattr(state, name)
                row += 1
            x = x_new
            loss = problem.loss(x)
            if not np.isfinite(loss) or not np.all(np.isfinite(x)) or loss > max_loss:
                tr.diverged_at = k
                if not np.all(np.isfinite(x)):
                    why = "parameters are not finite"
                elif not np.isfinite(loss):
                    why = "loss is not finite"
                else:
                    why = f"loss {loss:.3g} exceeds max_loss {max_loss:.3g}"
                status = f"diverged at step {k}: {why}"
                break
            if stop_at_gap is not None and loss - problem.f_min <= stop_at_gap:
                tr.stopped_at = k
                status = f"reached loss - f_min <= {stop_at_gap:g} after {k + 1} steps"
                break
    tr.x[row], tr.loss[row], tr.k[row] = x, loss, (steps if status.startswith("ran") else k + 1)
    tr._truncate(row + 1)
    tr.status = status
    return tr


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
    known). ``k`` counts updates from 0.

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
    k = check_int("explain", "k", k, 0)
    if k >= trace.n_updates:
        raise ValueError(
            f"explain: k must be < the number of updates recorded ({trace.n_updates}), got {k}"
        )
    opt = trace.optimizer
    x = trace.x[k]
    if k == 0:
        before = opt.init(x)
    else:
        before = trace.state_type(k, **{name: v[k - 1] for name, v in trace.state.items()})
    after = trace.state_type(k + 1, **{name: v[k] for name, v in trace.state.items()})
    x_new, _, info = opt.step(x, trace.grad[k], before)
    lines = opt.explain(x, trace.grad[k], before, x_new, after, info)
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
    """What :func:`run_eval` measured, one entry per evaluation (the first before any update)."""

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

    The updates are exactly those of :func:`learnlr.run` (update ``k`` uses
    ``problem.batch_grad(x, k)`` and the rate of update ``k``), but only ``loss`` (the full
    loss) and the optional ``metric`` are kept, at the evaluation point: the averaged iterate
    for schedule-free methods, the iterate itself for the others. So schedule-free and
    ordinary optimizers are compared on equal terms, and a long run on a network stays cheap.

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
            ``1e8 * max(1, |f(x0)|)``) or is not finite.

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
    steps = check_int(name, "steps", steps, 0)
    every = check_int(name, "every", every, 1)
    if metric is not None and not callable(metric):
        raise TypeError(f"{name}: metric must be a function of the parameters, got {metric!r}")
    x = problem.x0 if x0 is None else check_vector(name, "x0", x0)
    if x.shape != (problem.dim,):
        raise ValueError(f"{name}: x0 must have shape ({problem.dim},), got {x.shape}")
    if state is None:
        state = opt.init(x)
    elif not isinstance(getattr(state, "count", None), (int, np.integer)):
        raise TypeError(f"{name}: state must be an optimizer state (with a count), got {state!r}")
    start = int(state.count)
    x_eval = eval_point(x, state) if start else x.copy()
    with np.errstate(all="ignore"):  # an overflow at x0 is reported by check_start_loss
        loss0 = problem.loss(x_eval)
    max_loss = check_start_loss(name, loss0, max_loss)
    n_eval = steps // every + 1 + (steps % every != 0)
    ks = np.zeros(n_eval, dtype=np.int64)
    losses = np.full(n_eval, np.nan)
    metrics = np.full(n_eval, np.nan)
    ks[0], losses[0] = start, loss0
    if metric is not None:
        metrics[0] = metric(x_eval)
    i, diverged_at, status = 1, None, f"ran {steps} steps"
    with np.errstate(all="ignore"):
        for j in range(steps):
            k = start + j
            x, state, _ = opt.step(x, problem.batch_grad(x, k), state)
            if not np.all(np.isfinite(x)):
                diverged_at, status = k, f"diverged at step {k}: parameters are not finite"
                break
            if (j + 1) % every == 0 or j + 1 == steps:
                x_eval = eval_point(x, state)
                loss = problem.loss(x_eval)
                if not np.isfinite(loss) or loss > max_loss:
                    diverged_at = k
                    status = (
                        f"diverged at step {k}: loss {loss:.3g} exceeds max_loss {max_loss:.3g}"
                    )
                    break
                ks[i], losses[i] = k + 1, loss
                if metric is not None:
                    metrics[i] = metric(x_eval)
                i += 1
    return EvalRun(ks[:i], losses[:i], metrics[:i], x_eval, x, state, diverged_at, status)
