r"""Chapters 3 and 4's helpers: feeding chosen gradients, resuming a run, power laws.

The chapters on AdaGrad, RMSProp and Adadelta measure how an optimizer's per-parameter rate
responds to the gradients it sees. This module holds the pieces a reader need not see live:

* :func:`gradient_sequence` -- a "problem" that hands update ``k`` a gradient chosen in
  advance (constant, a step change, noise with a mean), so the optimizer's response can be
  recorded by :func:`learnlr.run` like any other run;
* :func:`resume` -- continue a finished run, with the optimizer's state (AdaGrad's sum
  :math:`G`, RMSProp's average :math:`v`) carried over, possibly on another problem;
* :func:`loglog_slope` -- the exponent :math:`p` of a power law :math:`y \propto t^p`;
* visible cases and typical mistakes for the exercises on one AdaGrad, RMSProp and Adadelta
  step (:data:`ADAGRAD_STEP_CASES`, :data:`ADAGRAD_STEP_MISTAKES`, and the same for
  ``rmsprop`` and ``adadelta``). The references live in the grader's hidden tests of the
  chapter notebooks, not here.

NumPy only; the chapters draw the figures.
"""

from __future__ import annotations

import numpy as np

from learnlr._checks import check_int, check_vector
from learnlr.optimizers import AdadeltaState, adadelta
from learnlr.problems import Problem
from learnlr.problems.functions import check_problem
from learnlr.trace import Trace, run

__all__ = [
    "GradientSequence",
    "gradient_sequence",
    "resume",
    "loglog_slope",
    "ADAGRAD_STEP_CASES",
    "ADAGRAD_STEP_MISTAKES",
    "RMSPROP_STEP_CASES",
    "RMSPROP_STEP_MISTAKES",
    "ADADELTA_STEP_CASES",
    "ADADELTA_STEP_MISTAKES",
]


# --------------------------------------------------------------------------------------
# Gradients chosen in advance
# --------------------------------------------------------------------------------------
class GradientSequence(Problem):
    """A problem whose update ``k`` sees the gradient ``grads[k]``, wherever ``x`` is.

    It has no objective: ``loss`` is 0 everywhere and ``grad`` is not defined. What a run on
    it records is the optimizer's *response*: ``trace.eff_lr``, ``trace.update`` and the
    state (``trace.state["G"]``, ``trace.state["v"]``, ...). Build it with
    :func:`gradient_sequence`.
    """

    def __init__(self, name: str, grads: np.ndarray):
        self.grads = grads
        self.n_grads = grads.shape[0]

        def loss(x):
            return np.zeros(np.shape(x)[:-1])

        def grad(x):
            raise ValueError(
                f"GradientSequence.grad: {name!r} has no objective; the gradient of update k "
                "is batch_grad(x, k)"
            )

        super().__init__(name, loss, grad, np.zeros(grads.shape[1]))

    def batch_grad(self, x, k: int) -> np.ndarray:
        """``grads[k]`` (a copy); ``k`` must be below the number of gradients given."""
        k = check_int("GradientSequence.batch_grad", "k", k, 0)
        if k >= self.n_grads:
            raise ValueError(
                f"GradientSequence.batch_grad: k must be < {self.n_grads} (the number of "
                f"gradients given), got {k}"
            )
        return self.grads[k].copy()

    def __repr__(self) -> str:
        return f"<GradientSequence {self.name}, {self.n_grads} gradients, dim={self.dim}>"


def gradient_sequence(grads, name: str = "given gradients") -> GradientSequence:
    r"""A "problem" that feeds update ``k`` the gradient ``grads[k]``.

    Args:
        grads: shape ``(steps, dim)``, or ``(steps,)`` for one parameter; finite numbers.
        name: a label for plots.

    Returns:
        A :class:`GradientSequence`; ``run(seq, opt, steps)`` needs ``steps <= len(grads)``.

    Example:
        AdaGrad fed the same gradient :math:`c = 2` four times: :math:`G = t c^2`, so the
        effective rate is :math:`\eta / (c\sqrt t)`:

        >>> from learnlr import optimizers, run
        >>> seq = gradient_sequence(np.full(4, 2.0))
        >>> tr = run(seq, optimizers.adagrad(lr=0.1, eps=0.0), steps=4)
        >>> tr.state["G"][:, 0], tr.eff_lr[:, 0].round(4)
        (array([ 4.,  8., 12., 16.]), array([0.05  , 0.0354, 0.0289, 0.025 ]))
    """
    arr = check_vector("gradient_sequence", "grads", grads)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"gradient_sequence: grads must have shape (steps,) or (steps, dim) with steps, "
            f"dim >= 1, got shape {np.shape(grads)}"
        )
    if not isinstance(name, str):
        raise TypeError(f"gradient_sequence: name must be a string, got {name!r}")
    arr.setflags(write=False)
    return GradientSequence(name, arr)


# --------------------------------------------------------------------------------------
# Continuing a run with the optimizer's memory
# --------------------------------------------------------------------------------------
def resume(
    trace: Trace,
    problem: Problem | None = None,
    steps: int = 100,
    record_every: int = 1,
    max_loss: float | None = None,
    stop_at_gap: float | None = None,
) -> Trace:
    r"""Continue ``trace``'s run for ``steps`` more updates, keeping the optimizer's state.

    The new run starts at ``trace``'s final point with the state the optimizer had after its
    last update (AdaGrad's :math:`G`, RMSProp's :math:`v`, the update count), on ``problem``
    (default: the same problem). Compared with a fresh run from the same point, the only
    difference is this memory, which is what makes it the right tool to measure what a
    history of large gradients does to AdaGrad's later steps.

    It is one call of :func:`learnlr.run` with ``x0=trace.x_final`` and
    ``state=trace.final_state``, so the update numbering continues from the first run:
    ``trace.k`` of the new run starts at the first run's count, ``problem.batch_grad``
    sees the minibatch numbers the uninterrupted run would use, and a schedule or AdaGrad's
    ``lr_decay`` carries on where it was.

    Args:
        trace: a finished run that did not diverge.
        problem: where to continue; default ``trace.problem``. Must have the same dimension.
        steps, record_every, max_loss, stop_at_gap: as :func:`learnlr.run`.

    Returns:
        The new :class:`~learnlr.trace.Trace`, with ``trace``'s optimizer.

    Example:
        Two runs of 3 updates, the second resumed, equal one run of 6:

        >>> from learnlr import optimizers, problems, run
        >>> p = problems.quadratic2d(kappa=10)
        >>> first = run(p, optimizers.adagrad(lr=0.5), steps=3)
        >>> second = resume(first, steps=3)
        >>> second.k
        array([3, 4, 5, 6])
        >>> bool(np.array_equal(second.x_final, run(p, optimizers.adagrad(lr=0.5), 6).x_final))
        True
    """
    name = "resume"
    if not isinstance(trace, Trace):
        raise TypeError(f"{name}: trace must be a Trace from learnlr.run, got {trace!r}")
    if trace.diverged:
        raise ValueError(f"{name}: the trace diverged ({trace.status}); there is nothing to resume")
    problem = trace.problem if problem is None else problem
    check_problem(name, problem)
    if problem.dim != trace.x.shape[1]:
        raise ValueError(
            f"{name}: problem must have dim={trace.x.shape[1]} like the trace, "
            f"got {problem.name} with dim={problem.dim}"
        )
    return run(
        problem,
        trace.optimizer,
        steps,
        x0=trace.x_final,
        record_every=record_every,
        max_loss=max_loss,
        stop_at_gap=stop_at_gap,
        state=trace.final_state,
        caller=name,
    )


# --------------------------------------------------------------------------------------
# Power laws
# --------------------------------------------------------------------------------------
def loglog_slope(t, y) -> float:
    r"""The exponent :math:`p` of the power law :math:`y \approx C t^p` that fits best.

    The least-squares slope of :math:`\log y` against :math:`\log t`.

    Args:
        t, y: arrays of the same shape, at least two points, all entries > 0, ``t`` not all
            equal.

    Example:
        >>> t = np.arange(1, 101)
        >>> round(loglog_slope(t, 0.1 / np.sqrt(t)), 12)
        -0.5
    """
    name = "loglog_slope"
    t, y = check_vector(name, "t", t), check_vector(name, "y", y)
    if t.shape != y.shape or t.size < 2:
        raise ValueError(
            f"{name}: t and y must have the same shape with at least 2 points, "
            f"got {t.shape} and {y.shape}"
        )
    if np.any(t <= 0) or np.any(y <= 0):
        raise ValueError(f"{name}: t and y must be > 0 (their logarithms are fitted)")
    lt, ly = np.log(t), np.log(y)
    if np.ptp(lt) == 0:
        raise ValueError(f"{name}: t must not be all equal")
    return float(np.polyfit(lt, ly, 1)[0])


# --------------------------------------------------------------------------------------
# Exercise: one AdaGrad step
# --------------------------------------------------------------------------------------
def _ag_not_squared(x, g, G, lr, eps):
    G_new = G + g
    with np.errstate(invalid="ignore"):
        return x - lr * g / (np.sqrt(G_new) + eps), G_new


def _ag_eps_inside(x, g, G, lr, eps):
    G_new = G + g * g
    return x - lr * g / np.sqrt(G_new + eps), G_new


def _ag_no_sqrt(x, g, G, lr, eps):
    G_new = G + g * g
    return x - lr * g / (G_new + eps), G_new


def _ag_old_G(x, g, G, lr, eps):
    return x - lr * g / (np.sqrt(G) + eps), G + g * g


#: Typical mistakes in the AdaGrad-step exercise, as ``{hint: wrong_function}``.
ADAGRAD_STEP_MISTAKES = {
    "did you square the gradient? G adds g**2, not g": _ag_not_squared,
    "eps goes outside the square root here (PyTorch): sqrt(G) + eps, not sqrt(G + eps)": (
        _ag_eps_inside
    ),
    "the rate divides by the square root of G, not by G itself": _ag_no_sqrt,
    "add g**2 to G first, then divide by the square root of the new G": _ag_old_G,
}

#: Test cases of the AdaGrad-step exercise; the large eps values make "eps inside the root"
#: tell itself apart from the right answer.
ADAGRAD_STEP_CASES = [
    dict(x=np.array([1.0, -2.0]), g=np.array([0.5, 3.0]), G=np.zeros(2), lr=0.1, eps=1e-10),
    dict(x=np.array([1.0, -2.0]), g=np.array([0.2, 1.5]), G=np.array([0.25, 9.0]), lr=0.1,
         eps=1e-10),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([2.0, -0.1, 0.0]), G=np.array([1.0, 0.5, 2.0]),
         lr=0.5, eps=0.1),
    dict(x=np.array([4.0]), g=np.array([-0.02]), G=np.array([0.01]), lr=1.0, eps=0.05),
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Exercise: one RMSProp step
# --------------------------------------------------------------------------------------
def _rp_swapped(x, g, v, lr, alpha, eps):
    v_new = (1 - alpha) * v + alpha * g * g
    return x - lr * g / (np.sqrt(v_new) + eps), v_new


def _rp_eps_inside(x, g, v, lr, alpha, eps):
    v_new = alpha * v + (1 - alpha) * g * g
    return x - lr * g / np.sqrt(v_new + eps), v_new


def _rp_not_squared(x, g, v, lr, alpha, eps):
    v_new = alpha * v + (1 - alpha) * g
    with np.errstate(invalid="ignore"):
        return x - lr * g / (np.sqrt(v_new) + eps), v_new


def _rp_no_sqrt(x, g, v, lr, alpha, eps):
    v_new = alpha * v + (1 - alpha) * g * g
    return x - lr * g / (v_new + eps), v_new


def _rp_old_v(x, g, v, lr, alpha, eps):
    return x - lr * g / (np.sqrt(v) + eps), alpha * v + (1 - alpha) * g * g


#: Typical mistakes in the RMSProp-step exercise, as ``{hint: wrong_function}``.
RMSPROP_STEP_MISTAKES = {
    "alpha and (1 - alpha) are swapped: the old average keeps the weight alpha": _rp_swapped,
    "eps goes outside the square root in PyTorch: sqrt(v) + eps": _rp_eps_inside,
    "did you square the gradient? v averages g**2": _rp_not_squared,
    "divide by the square root of v, not by v": _rp_no_sqrt,
    "update v first, then divide by the square root of the new v": _rp_old_v,
}

#: Test cases of the RMSProp-step exercise.
RMSPROP_STEP_CASES = [
    dict(x=np.array([1.0, -2.0]), g=np.array([0.5, 3.0]), v=np.zeros(2), lr=0.01,
         alpha=0.99, eps=1e-8),
    dict(x=np.array([1.0, -2.0]), g=np.array([0.2, 1.5]), v=np.array([0.25, 9.0]), lr=0.01,
         alpha=0.9, eps=1e-8),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([2.0, -0.1, 0.0]),
         v=np.array([1.0, 0.5, 2.0]), lr=0.1, alpha=0.8, eps=0.1),
    dict(x=np.array([4.0]), g=np.array([-0.02]), v=np.array([0.01]), lr=1.0, alpha=0.5,
         eps=0.05),
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Exercise: one Adadelta step
# --------------------------------------------------------------------------------------
def _ad_eps_outside(x, g, v, u, rho, eps):
    v_new = rho * v + (1 - rho) * g * g
    d = (np.sqrt(u) + eps) / (np.sqrt(v_new) + eps) * g
    return x - d, v_new, rho * u + (1 - rho) * d * d


def _ad_u_first(x, g, v, u, rho, eps):
    v_new = rho * v + (1 - rho) * g * g
    u_new = rho * u + (1 - rho) * g * g
    d = np.sqrt(u_new + eps) / np.sqrt(v_new + eps) * g
    return x - d, v_new, u_new


def _ad_u_not_squared(x, g, v, u, rho, eps):
    v_new = rho * v + (1 - rho) * g * g
    d = np.sqrt(u + eps) / np.sqrt(v_new + eps) * g
    return x - d, v_new, rho * u + (1 - rho) * d


def _ad_old_v(x, g, v, u, rho, eps):
    d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
    return x - d, rho * v + (1 - rho) * g * g, rho * u + (1 - rho) * d * d


def _ad_plus(x, g, v, u, rho, eps):
    x_new, state, _ = adadelta(lr=1.0, rho=rho, eps=eps).step(x, g, AdadeltaState(1, v, u))
    return 2 * x - x_new, state.v, state.u


#: Typical mistakes in the Adadelta-step exercise, as ``{hint: wrong_function}``.
ADADELTA_STEP_MISTAKES = {
    "that is still the port's mistake: compare where eps goes with Zeiler's step (section "
    "4.5); at the start u = 0, so what eps does there sets the first steps": _ad_eps_outside,
    "u averages the squared *steps* Delta**2, computed after Delta, not the squared "
    "gradients": _ad_u_first,
    "u averages the squared steps: (1 - rho) * Delta**2": _ad_u_not_squared,
    "update v first, then divide by sqrt(v_new + eps)": _ad_old_v,
    "x moves against the gradient: x - Delta": _ad_plus,
}

#: Test cases of the Adadelta-step exercise (the first step from a zero state is the second
#: case: there several mistakes agree, so a case with a history comes first).
ADADELTA_STEP_CASES = [
    dict(x=np.array([1.0, -2.0]), g=np.array([0.2, 1.5]), v=np.array([0.25, 9.0]),
         u=np.array([1e-4, 4e-3]), rho=0.95, eps=1e-6),
    dict(x=np.array([1.0, -2.0]), g=np.array([0.5, -3.0]), v=np.zeros(2), u=np.zeros(2),
         rho=0.9, eps=1e-6),
    dict(x=np.array([0.3, 0.7, -1.1]), g=np.array([2.0, -0.1, 0.0]),
         v=np.array([1.0, 0.5, 2.0]), u=np.array([0.04, 0.01, 0.09]), rho=0.8, eps=0.01),
    dict(x=np.array([4.0]), g=np.array([-0.02]), v=np.array([0.01]), u=np.array([0.0025]),
         rho=0.5, eps=0.05),
]  # fmt: skip
