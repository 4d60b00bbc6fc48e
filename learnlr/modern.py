r"""Optimizers from after Adam: Lion, Schedule-Free SGD and AdamW, and Prodigy.

Each factory returns an :class:`~learnlr._base.Optimizer` with the same interface as those
of :mod:`learnlr.optimizers`: ``init(x) -> state`` and
``step(x, g, state) -> (x_new, state_new, info)``, pure (inputs are never modified), with
``x_new == x - info.eff_lr * info.direction`` and an ``explain`` that writes one step out.
``lr`` may be a number or a schedule (a function of the update number ``k``).

* :func:`lion`: the sign of an interpolation between momentum and gradient (Chen et al.
  2023). Every coordinate moves by exactly ``lr`` per update.
* :func:`schedule_free_sgd`, :func:`schedule_free_adamw`: a base sequence ``z``, a running
  average ``x`` of it, and the gradient taken at a point ``y`` between the two (Defazio et
  al. 2024). The model is *evaluated* at ``x``: see :func:`eval_point`.
* :func:`prodigy`: Adam whose rate ``d * lr`` is estimated on the way, so ``lr=1.0`` needs
  no tuning (Mishchenko & Defazio 2023).

Hyper-parameter names and defaults are those of the authors' PyTorch packages
(``lion-pytorch``, ``schedulefree``, ``prodigyopt``); the tests compare trajectories with
stored runs of those packages (``tests/reference/modern.json``).

:func:`eval_point`, :func:`eval_points` and :func:`run_eval` give the point at which a model
should be evaluated, which for the schedule-free methods is not the point whose gradient the
optimizer takes.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from learnlr._base import Optimizer, StepInfo, fmt, rate_at
from learnlr._checks import (
    as_real_array,
    check_betas,
    check_bool,
    check_int,
    check_interval,
    check_nonnegative,
    check_optimizer,
    check_positive,
    check_problem,
    check_rate,
    check_start_loss,
    check_step,
    check_vector,
)
from learnlr.trace import Trace

__all__ = [
    "lion",
    "schedule_free_sgd",
    "schedule_free_adamw",
    "prodigy",
    "eval_point",
    "eval_points",
    "run_eval",
    "EvalRun",
    "REGISTRY",
]


def _closed_betas(func, betas):
    """A pair of coefficients, each in [0, 1] (Lion allows the end points)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{func}: betas must be a pair (beta1, beta2), got {betas!r}")
    b1 = check_interval(func, "betas[0]", betas[0], 0.0, 1.0, "[]")
    b2 = check_interval(func, "betas[1]", betas[1], 0.0, 1.0, "[]")
    return b1, b2


# ---------------------------------------------------------------------------------------
# Lion
# ---------------------------------------------------------------------------------------
class LionState(NamedTuple):
    count: int  # updates done so far
    m: np.ndarray  # momentum, a moving average of g with factor beta2 ("exp_avg")


def lion(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
    r"""Lion: step by the sign of an interpolation between momentum and gradient.

    With :math:`\eta` = ``lr``, :math:`(\beta_1, \beta_2)` = ``betas``, :math:`\lambda` =
    ``weight_decay`` and :math:`m` the momentum (zero at the start):

    .. math::
        c &= \beta_1 m + (1 - \beta_1)\, g \\
        x &\leftarrow x - \eta\, \big(\operatorname{sign}(c) + \lambda x\big)
             \;=\; x (1 - \eta\lambda) - \eta \operatorname{sign}(c) \\
        m &\leftarrow \beta_2 m + (1 - \beta_2)\, g

    The direction uses :math:`\beta_1` and the *old* momentum; the momentum kept for later
    uses :math:`\beta_2`, a longer memory. Every coordinate moves by exactly :math:`\eta`
    (plus the decay), whatever the size of its gradient. ``direction`` is
    :math:`\operatorname{sign}(c) + \lambda x` and ``eff_lr`` is :math:`\eta`.

    Args:
        lr: :math:`\eta` (number >= 0 or schedule). Default ``1e-4``; Chen et al. suggest a
            rate 3 to 10 times smaller than AdamW's, and a decay 3 to 10 times larger.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1]. Default ``(0.9, 0.99)``.
        weight_decay: decoupled decay :math:`\lambda \ge 0`, multiplied by the rate as in
            AdamW. Default 0.

    Example:
        >>> import numpy as np
        >>> opt = lion(lr=0.1)
        >>> x, s = np.array([1.0, 1.0]), opt.init(np.zeros(2))
        >>> x, s, info = opt.step(x, np.array([5.0, -0.01]), s)
        >>> x, s.m     # each coordinate moved by lr; m = (1 - 0.99) g
        (array([0.9, 1.1]), array([ 0.05  , -0.0001]))
        >>> x, s, info = opt.step(x, np.array([-0.2, -0.01]), s)
        >>> x          # c = 0.9 * 0.05 + 0.1 * (-0.2) > 0: the first still moves down
        array([0.8, 1.2])

    Chen et al. (2023), "Symbolic discovery of optimization algorithms", NeurIPS,
    arXiv:2302.06675, Algorithm 2. Matches ``lion_pytorch.Lion`` (lucidrains), whose
    ``decoupled_weight_decay=True`` divides the decay by the initial rate instead; optax's
    ``lion`` uses the same update with ``b1=0.9, b2=0.99`` and ``weight_decay=1e-3``.
    """
    name = "lion"
    check_rate(name, "lr", lr)
    beta1, beta2 = _closed_betas(name, betas)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)

    def init(x):
        return LionState(count=0, m=np.zeros(as_real_array(name, "x", x).shape))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, LionState)
        lr_t = rate_at(lr, state.count, name)
        c = beta1 * state.m + (1 - beta1) * g
        u = np.sign(c)
        x_new = x * (1 - lr_t * weight_decay) - lr_t * u if weight_decay else x - lr_t * u
        m = beta2 * state.m + (1 - beta2) * g
        direction = u + weight_decay * x if weight_decay else u
        eff_lr = np.full_like(x, lr_t, dtype=float)
        return x_new, LionState(state.count + 1, m), StepInfo(lr_t, eff_lr, direction)

    def explain(x, g, state, x_new, new_state, info):
        c = beta1 * state.m + (1 - beta1) * g
        rows = [
            f"g = grad f(x) = {fmt(g)}",
            f"c = beta1 * m + (1 - beta1) * g = {fmt(beta1)} * {fmt(state.m)} + "
            f"{fmt(1 - beta1)} * {fmt(g)} = {fmt(c)}",
            f"sign(c) = {fmt(np.sign(c))}",
        ]
        if weight_decay:
            rows.append(
                f"x_new = x * (1 - lr * weight_decay) - lr * sign(c) = {fmt(x)} * "
                f"{fmt(1 - info.lr * weight_decay)} - {fmt(info.lr)} * {fmt(np.sign(c))}"
                f" = {fmt(x_new)}"
            )
        else:
            rows.append(
                f"x_new = x - lr * sign(c) = {fmt(x)} - {fmt(info.lr)} * {fmt(np.sign(c))}"
                f" = {fmt(x_new)}"
            )
        rows.append(
            f"m = beta2 * m + (1 - beta2) * g = {fmt(beta2)} * {fmt(state.m)} + "
            f"{fmt(1 - beta2)} * {fmt(g)} = {fmt(new_state.m)}"
        )
        return rows

    hp = dict(lr=lr, betas=(beta1, beta2), weight_decay=weight_decay)
    return Optimizer(name, init, step, hp, explain)


# ---------------------------------------------------------------------------------------
# Schedule-Free SGD and AdamW
# ---------------------------------------------------------------------------------------
class ScheduleFreeState(NamedTuple):
    count: int  # updates done so far
    z: np.ndarray  # the base sequence, moved by the (normalised) gradient steps
    x_avg: np.ndarray  # the weighted average of z: the point to evaluate the model at
    v: np.ndarray  # moving average of g^2 (AdamW only; stays 0 for SGD)
    lr_max: float  # largest rate used so far (weights the average during warmup)
    weight_sum: float  # sum of the averaging weights so far


def _schedule_free(name, lr, beta, eps, weight_decay, warmup_steps, r, weight_lr_power, adam):
    """The step shared by Schedule-Free SGD (``adam=False``) and AdamW (``adam=True``)."""
    beta2 = beta[1] if adam else None
    beta = beta[0] if adam else beta

    def init(x):
        x = as_real_array(name, "x", x)
        return ScheduleFreeState(
            0, np.array(x, float), np.array(x, float), np.zeros(x.shape), 0.0, 0.0
        )

    def rate(k):
        warm = (k + 1) / warmup_steps if k < warmup_steps else 1.0
        return rate_at(lr, k, name) * warm

    def step(y, g, state):
        y, g = check_step(name, y, g, state, ScheduleFreeState)
        k = state.count
        lr_t = rate(k)
        if adam:
            v = beta2 * state.v + (1 - beta2) * (g * g)
            denom = np.sqrt(v / (1 - beta2 ** (k + 1))) + eps
            gn = g / denom  # the normalised gradient
        else:
            v, denom, gn = state.v, 1.0, g
        if weight_decay:
            gn = gn + weight_decay * y
        lr_max = max(lr_t, state.lr_max)
        weight = (k + 1) ** r * lr_max**weight_lr_power
        weight_sum = state.weight_sum + weight
        c = weight / weight_sum if weight_sum > 0 else 0.0
        z = state.z - lr_t * gn
        x_avg = (1 - c) * state.x_avg + c * z
        # the new y = (1 - beta) z + beta x_avg, written from the old y as the reference
        # does: y_new = y - u with u = a gn - c (z_old - y)
        a = lr_t * (1 - beta * (1 - c))
        u = a * gn - c * (state.z - y)
        y_new = y - u
        if a > 0:
            eff_lr = a / denom if adam else np.full_like(y, a, dtype=float)
            direction = u / eff_lr
        else:  # no gradient step (rate 0): y only moves towards z
            eff_lr = np.full_like(y, c, dtype=float)
            direction = y - state.z
        new_state = ScheduleFreeState(k + 1, z, x_avg, v, lr_max, weight_sum)
        return y_new, new_state, StepInfo(lr_t, eff_lr, direction)

    def explain(y, g, state, y_new, new_state, info):
        k = state.count
        weight = new_state.weight_sum - state.weight_sum
        c = weight / new_state.weight_sum if new_state.weight_sum > 0 else 0.0
        rows = [f"g = grad f(y) = {fmt(g)}   (y, the trace's x, is where the gradient is taken)"]
        warm = f" * {(k + 1) / warmup_steps:.4g} (warmup)" if k < warmup_steps else ""
        rows.append(f"lr_t = lr{warm} = {fmt(info.lr)}")
        if adam:
            denom = np.sqrt(new_state.v / (1 - beta2 ** (k + 1))) + eps
            rows += [
                f"v = beta2 * v + (1 - beta2) * g^2 = {fmt(new_state.v)}",
                f"s = sqrt(v / (1 - beta2^t)) + eps = {fmt(denom)}",
            ]
            step_dir = g / denom
            what = "g / s"
        else:
            step_dir, what = g, "g"
        if weight_decay:
            step_dir = step_dir + weight_decay * y
            what += " + weight_decay * y"
        rows += [
            f"z = z - lr_t * ({what}) = {fmt(state.z)} - {fmt(info.lr)} * {fmt(step_dir)}"
            f" = {fmt(new_state.z)}",
            f"c = (k+1)^r * lr_max^{weight_lr_power:g} / sum of weights = {fmt(weight, 6)} / "
            f"{fmt(new_state.weight_sum, 6)} = {fmt(c, 6)}",
            f"x = (1 - c) * x + c * z = {fmt(state.x_avg)} -> {fmt(new_state.x_avg)}",
            f"y_new = (1 - beta) * z + beta * x = {fmt(1 - beta)} * {fmt(new_state.z)} + "
            f"{fmt(beta)} * {fmt(new_state.x_avg)} = {fmt(y_new)}",
        ]
        return rows

    return init, step, explain


def _check_schedule_free_common(name, lr, weight_decay, warmup_steps, r, weight_lr_power):
    check_rate(name, "lr", lr)
    return (
        check_nonnegative(name, "weight_decay", weight_decay),
        check_int(name, "warmup_steps", warmup_steps, 0),
        check_nonnegative(name, "r", r),
        check_nonnegative(name, "weight_lr_power", weight_lr_power),
    )


def schedule_free_sgd(
    lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0
):
    r"""Schedule-Free SGD: average the iterates instead of decaying the rate.

    Three sequences, all starting at :math:`x_0`: the base sequence :math:`z` takes plain
    SGD steps; :math:`x` is a weighted running average of :math:`z`; the gradient is taken
    at :math:`y`, between the two. With :math:`t = k + 1`, :math:`\eta_t` = ``lr`` times
    the linear warmup :math:`\min(1, t / T_w)`, :math:`\beta` = ``momentum``,
    :math:`\lambda` = ``weight_decay``:

    .. math::
        g &= \nabla f(y) + \lambda y \\
        z &\leftarrow z - \eta_t\, g \\
        w_t &= t^{\,r}\, (\max_{i \le t} \eta_i)^{p}, \qquad
            c_{t+1} = w_t \Big/ \sum_{i \le t} w_i \\
        x &\leftarrow (1 - c_{t+1})\, x + c_{t+1}\, z \\
        y &\leftarrow (1 - \beta)\, z + \beta\, x

    with :math:`p` = ``weight_lr_power``. With a constant rate and :math:`r = 0`,
    :math:`c_{t+1} = 1/t` and :math:`x` is the plain average of :math:`z_1, \dots, z_t`;
    during warmup the weights grow like :math:`\eta_t^2`. The first update is an SGD step
    (:math:`c_1 = 1`, so :math:`x = y = z`).

    **Which point is which.** In learnlr's interface the parameters the optimizer moves are
    :math:`y`: ``step(y, g, state)`` takes the gradient at :math:`y` and returns the next
    :math:`y`, so a trace's ``x`` column holds :math:`y` and its ``loss`` is
    :math:`f(y)`. The state carries :math:`z` (``state.z``) and the averaged
    :math:`x` (``state.x_avg``), *the point at which to evaluate the model*; use
    :func:`eval_point` (one step), :func:`eval_points` (a trace) or :func:`run_eval`. In
    the authors' PyTorch package the same switch is ``optimizer.eval()`` / ``.train()``.

    Written from the old :math:`y` (as the reference code does, and so that the identity
    below holds for any :math:`y`): :math:`y \leftarrow y + c_{t+1}(z_{old} - y) - a\, g`
    with :math:`a = \eta_t (1 - \beta(1 - c_{t+1}))`. So ``eff_lr`` is :math:`a` (the part
    of the gradient step that reaches :math:`y` at once) and ``direction`` is
    :math:`g + c_{t+1}(y - z_{old}) / a`; when :math:`a = 0` (rate 0), ``eff_lr`` is
    :math:`c_{t+1}` and ``direction`` is :math:`y - z_{old}`.

    Args:
        lr: :math:`\eta` (number >= 0 or schedule; the method is meant for a constant).
            Default 1.0, the package's (tune it: it is the only knob).
        momentum: :math:`\beta` in [0, 1]: 0 gives Polyak-Ruppert averaging (:math:`y = z`),
            1 primal averaging (:math:`y = x`). Default 0.9. The reference package needs
            0 < momentum < 1.
        weight_decay: :math:`\lambda \ge 0`, added to the gradient at :math:`y`. Default 0.
        warmup_steps: :math:`T_w`, updates of linear warmup (:math:`\eta_t = \eta\, t/T_w`).
            Default 0.
        r: :math:`r \ge 0`, polynomial weighting of later iterates. Default 0.
        weight_lr_power: :math:`p \ge 0`. Default 2.

    Example:
        >>> import numpy as np
        >>> opt = schedule_free_sgd(lr=0.1, momentum=0.9)
        >>> y, s = np.array([1.0]), opt.init(np.array([1.0]))
        >>> y, s, _ = opt.step(y, np.array([2.0]), s)
        >>> y, s.z, s.x_avg          # c = 1: the first update is an SGD step
        (array([0.8]), array([0.8]), array([0.8]))
        >>> y, s, _ = opt.step(y, np.array([2.0]), s)
        >>> s.z, s.x_avg, y.round(6)  # c = 1/2: x = (0.8 + 0.6) / 2, y = 0.1 z + 0.9 x
        (array([0.6]), array([0.7]), array([0.69]))

    Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky (2024), "The road less scheduled",
    NeurIPS, arXiv:2405.15682. Matches ``schedulefree.SGDScheduleFree`` (version 1.4).
    """
    name = "schedule_free_sgd"
    weight_decay, warmup_steps, r, weight_lr_power = _check_schedule_free_common(
        name, lr, weight_decay, warmup_steps, r, weight_lr_power
    )
    momentum = check_interval(name, "momentum", momentum, 0.0, 1.0, "[]")
    init, step, explain = _schedule_free(
        name, lr, momentum, 0.0, weight_decay, warmup_steps, r, weight_lr_power, adam=False
    )
    hp = dict(
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay,
        warmup_steps=warmup_steps,
        r=r,
        weight_lr_power=weight_lr_power,
    )
    return Optimizer(name, init, step, hp, explain)


def schedule_free_adamw(
    lr=0.0025,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    warmup_steps=0,
    r=0.0,
    weight_lr_power=2.0,
):
    r"""Schedule-Free AdamW: :func:`schedule_free_sgd` with Adam's per-parameter scale.

    As :func:`schedule_free_sgd`, with :math:`\beta_1` in the role of ``momentum`` and the
    base step divided by Adam's bias-corrected root-mean-square (there is no first-moment
    average: the interpolation :math:`y` plays its part):

    .. math::
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2, \qquad
            s = \sqrt{v / (1 - \beta_2^t)} + \epsilon \\
        z &\leftarrow z - \eta_t \big(g / s + \lambda y\big) \\
        x &\leftarrow (1 - c_{t+1})\, x + c_{t+1}\, z, \qquad
        y \leftarrow (1 - \beta_1)\, z + \beta_1 x

    with :math:`c_{t+1}` as in :func:`schedule_free_sgd` (weights
    :math:`t^r (\max_{i\le t}\eta_i)^p`). The decay is decoupled: it is not divided by
    :math:`s`. ``eff_lr`` is :math:`\eta_t(1 - \beta_1(1 - c_{t+1}))/s`.

    **Evaluate at** ``state.x_avg`` (:func:`eval_point`); a trace's ``x`` is :math:`y`.

    Args:
        lr: :math:`\eta` (number >= 0 or schedule). Default ``0.0025``.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1). Default ``(0.9, 0.999)``.
        eps: :math:`\epsilon \ge 0`, outside the root. Default ``1e-8``.
        weight_decay, warmup_steps, r, weight_lr_power: as :func:`schedule_free_sgd`.

    Example:
        >>> import numpy as np
        >>> opt = schedule_free_adamw(lr=0.1)
        >>> y = np.array([1.0, 1.0])
        >>> y, s, info = opt.step(y, np.array([5.0, -0.01]), opt.init(y))
        >>> y.round(6), s.x_avg.round(6)   # the first update is Adam's: lr * sign(g)
        (array([0.9, 1.1]), array([0.9, 1.1]))

    Defazio et al. (2024), arXiv:2405.15682, Algorithm 1. Matches
    ``schedulefree.AdamWScheduleFree`` (version 1.4), which bias-corrects :math:`v` inside
    the root as here. The paper's Algorithm 1 (and the package's ``AdamWScheduleFreePaper``)
    instead multiplies the rate by :math:`\sqrt{1 - \beta_2^t}` and adds :math:`\epsilon` to
    :math:`\sqrt{v}`, so its averaging weights also grow with that factor; the two differ
    only in the first few hundred updates.
    """
    name = "schedule_free_adamw"
    weight_decay, warmup_steps, r, weight_lr_power = _check_schedule_free_common(
        name, lr, weight_decay, warmup_steps, r, weight_lr_power
    )
    beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    init, step, explain = _schedule_free(
        name, lr, (beta1, beta2), eps, weight_decay, warmup_steps, r, weight_lr_power, adam=True
    )
    hp = dict(
        lr=lr,
        betas=(beta1, beta2),
        eps=eps,
        weight_decay=weight_decay,
        warmup_steps=warmup_steps,
        r=r,
        weight_lr_power=weight_lr_power,
    )
    return Optimizer(name, init, step, hp, explain)


# ---------------------------------------------------------------------------------------
# Prodigy
# ---------------------------------------------------------------------------------------
class ProdigyState(NamedTuple):
    count: int  # updates done so far
    m: np.ndarray  # moving average of d * g ("exp_avg")
    v: np.ndarray  # moving average of d^2 * g^2 ("exp_avg_sq")
    s: np.ndarray  # weighted, decayed sum of gradients (denominator of the estimate)
    x0: np.ndarray  # the starting point
    r: float  # weighted, decayed sum of <g, x0 - x> (numerator of the estimate)
    d: float  # the current estimate of the distance to the solution
    d_max: float  # the largest estimate so far


def _check_growth(name, value):
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    return check_interval(name, "growth_rate", value, 1.0, math.inf, "[)")


def prodigy(
    lr=1.0,
    betas=(0.9, 0.999),
    beta3=None,
    eps=1e-8,
    weight_decay=0.0,
    decouple=True,
    use_bias_correction=False,
    safeguard_warmup=False,
    d0=1e-6,
    d_coef=1.0,
    growth_rate=math.inf,
):
    r"""Prodigy: Adam whose learning rate :math:`d \cdot \eta` estimates itself.

    :math:`d` estimates the distance from the start :math:`x_0` to a solution; it starts
    tiny (:math:`d_0`) and can only grow. With :math:`\eta_k` = ``lr`` (a multiplier, 1 by
    default), :math:`\beta_3` = ``beta3`` (default :math:`\sqrt{\beta_2}`),
    :math:`\delta_k = d_k \eta_k` (times Adam's bias correction
    :math:`\sqrt{1-\beta_2^t}/(1-\beta_1^t)` if ``use_bias_correction``) and :math:`d_k`
    the estimate before update :math:`k`:

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, d_k\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, d_k^2\, g^2 \\
        r &\leftarrow \beta_3 r + \tfrac{d_k}{d_0} \delta_k \langle g, x_0 - x \rangle, \qquad
        s \leftarrow \beta_3 s + \tfrac{d_k}{d_0} \delta_k\, g \\
        \hat d &= c_d\, r / \lVert s \rVert_1, \qquad
        d_{k+1} = \max(d_k, \hat d) \\
        x &\leftarrow x - \delta_k\, \frac{m}{\sqrt{v} + d_{k+1}\epsilon}

    (:math:`c_d` = ``d_coef``). :math:`m` and :math:`\sqrt v` both carry a factor of about
    :math:`d`, so the step is Adam's with rate :math:`d_k \eta_k`. The numerator :math:`r`
    grows while the gradients keep pointing away from the start; :math:`\hat d` is then a
    lower bound on the distance still to go (in the paper's analysis). ``info.lr`` is
    :math:`\delta_k`, ``eff_lr`` is :math:`\delta_k / (\sqrt v + d_{k+1}\epsilon)` and
    ``direction`` is :math:`m` (plus :math:`\lambda(\sqrt v + d_{k+1}\epsilon) x` with
    decoupled decay, which shrinks :math:`x` by :math:`\delta_k \lambda x`). With
    ``betas[0] = 0`` the direction is :math:`d_{k+1} g`, as in the reference code.

    Args:
        lr: :math:`\eta`, a multiplier of the estimated rate (number >= 0 or schedule).
            Default 1.0: leave it, or use it for a schedule (e.g. cosine from 1 to 0).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1). Default ``(0.9, 0.999)``.
        beta3: :math:`\beta_3` in [0, 1), or None for :math:`\sqrt{\beta_2}`.
        eps: :math:`\epsilon \ge 0`, multiplied by :math:`d`. Default ``1e-8``.
        weight_decay: :math:`\lambda \ge 0`. Default 0.
        decouple: AdamW-style decay (True, default) or added to the gradient.
        use_bias_correction: include Adam's bias correction in :math:`\delta_k`. Default off.
        safeguard_warmup: use :math:`d_k` instead of :math:`\delta_k` in the sum :math:`s`
            (for warmup schedules that start at rate 0). Default off.
        d0: :math:`d_0 > 0`, the starting estimate. Default ``1e-6``.
        d_coef: :math:`c_d > 0`, scales the estimate (the package's tuning knob). Default 1.
        growth_rate: bound on :math:`d_{k+1}/d_k` (>= 1, or ``math.inf``, the default).
            As in the reference, the first move away from :math:`d_0` is not bounded.

    Example:
        >>> import numpy as np
        >>> opt = prodigy()
        >>> x, s = np.array([1.0]), opt.init(np.array([1.0]))
        >>> x, s, info = opt.step(x, np.array([2.0]), s)
        >>> float(s.d), float(info.lr)    # r = 0 at x0: d stays d0 and the step is tiny
        (1e-06, 1e-06)
        >>> for _ in range(40):
        ...     x, s, info = opt.step(x, 2 * x, s)     # f = x^2, from x = 1
        >>> bool(s.d > 0.1), bool(abs(x[0]) < 1)      # d grew by five orders of magnitude
        (True, True)

    Mishchenko & Defazio (2024), "Prodigy: an expeditiously adaptive parameter-free
    learner", ICML, arXiv:2306.06101, section 5 (Adam-like step sizes). Matches
    ``prodigyopt.Prodigy`` (version 1.1), which drops the paper's :math:`(1 - \beta_3)`
    factors (they cancel in :math:`r / \lVert s\rVert_1`), multiplies both sums by
    :math:`d_k/d_0` (which also cancels) and puts :math:`d_{k+1}` (not :math:`d_k`) next to
    :math:`\epsilon`. If :math:`\lVert s\rVert_1 = 0` (no gradient yet) the update leaves
    :math:`x`, :math:`r` and :math:`d` unchanged; the reference then does not advance its
    step counter either, which only matters with ``use_bias_correction``.
    """
    name = "prodigy"
    check_rate(name, "lr", lr)
    beta1, beta2 = check_betas(name, betas)
    if beta3 is None:
        b3 = math.sqrt(beta2)
    else:
        b3 = check_interval(name, "beta3", beta3, 0.0, 1.0)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    decouple = check_bool(name, "decouple", decouple)
    use_bias_correction = check_bool(name, "use_bias_correction", use_bias_correction)
    safeguard_warmup = check_bool(name, "safeguard_warmup", safeguard_warmup)
    d0 = check_positive(name, "d0", d0)
    d_coef = check_positive(name, "d_coef", d_coef)
    growth_rate = _check_growth(name, growth_rate)

    def init(x):
        x = as_real_array(name, "x", x)
        zeros = [np.zeros(x.shape) for _ in range(3)]  # m, v, s: one buffer each
        return ProdigyState(0, *zeros, np.array(x, dtype=float), 0.0, d0, d0)

    def step(x, g, state):
        x, g = check_step(name, x, g, state, ProdigyState)
        k = state.count
        lr_t = rate_at(lr, k, name)
        bc = math.sqrt(1 - beta2 ** (k + 1)) / (1 - beta1 ** (k + 1)) if use_bias_correction else 1
        d = state.d
        dlr = d * lr_t * bc
        if weight_decay and not decouple:
            g = g + weight_decay * x
        m, v, s, r = state.m, state.v, state.s, b3 * state.r
        if lr_t > 0:
            r = r + (d / d0) * dlr * float(np.dot(g, state.x0 - x))
            if beta1 > 0:
                m = beta1 * m + (d * (1 - beta1)) * g
            v = beta2 * v + (d * d * (1 - beta2)) * (g * g)
            s = b3 * s + ((d / d0) * (d if safeguard_warmup else dlr)) * g
        s_norm = float(np.abs(s).sum()) if lr_t > 0 else 0.0
        if s_norm == 0.0:  # nothing to estimate from yet: no update, as the reference
            zeros = np.zeros_like(x, dtype=float)
            new_state = ProdigyState(k + 1, m, v, s, state.x0, state.r, d, state.d_max)
            return x.copy(), new_state, StepInfo(0.0, zeros, zeros)
        d_hat = d_coef * r / s_norm
        d_new = max(d, d_hat) if d == d0 else d  # as the reference (matters with growth_rate)
        d_max = max(state.d_max, d_hat)
        d_new = min(d_max, d_new * growth_rate)
        denom = np.sqrt(v) + d_new * eps
        x_dec = x - (weight_decay * dlr) * x if (weight_decay and decouple) else x
        u = m if beta1 > 0 else d_new * g
        eff_lr = dlr / denom
        x_new = x_dec - eff_lr * u
        direction = u + (weight_decay * denom) * x if (weight_decay and decouple) else u
        new_state = ProdigyState(k + 1, m, v, s, state.x0, r, d_new, d_max)
        return x_new, new_state, StepInfo(dlr, eff_lr, direction)

    def explain(x, g, state, x_new, new_state, info):
        rows = [f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decouple:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        if new_state.d == state.d and new_state.r == state.r and np.array_equal(x_new, x):
            rows.append("lr = 0 or ||s||_1 = 0: nothing to estimate from, no update")
            return rows
        s_norm = float(np.abs(new_state.s).sum())
        rows += [
            f"d = {fmt(state.d, 6)}, delta = d * lr = {fmt(info.lr, 6)}",
            f"m = beta1 * m + (1 - beta1) * d * g = {fmt(new_state.m)}",
            f"v = beta2 * v + (1 - beta2) * d^2 * g^2 = {fmt(new_state.v)}",
            f"r = beta3 * r + (d / d0) * delta * <g, x0 - x> = {fmt(new_state.r, 6)}",
            f"s = beta3 * s + (d / d0) * delta * g = {fmt(new_state.s)}, "
            f"||s||_1 = {fmt(s_norm, 6)}",
            f"d_hat = d_coef * r / ||s||_1 = {fmt(d_coef * new_state.r / s_norm, 6)}, "
            f"d = max(d, d_hat) = {fmt(new_state.d, 6)}",
            f"eff_lr = delta / (sqrt(v) + d * eps) = {fmt(info.eff_lr)}",
        ]
        if weight_decay and decouple:
            rows.append(f"x_new = x * (1 - delta * weight_decay) - eff_lr * m = {fmt(x_new)}")
        else:
            what = "m" if beta1 > 0 else "d * g"
            rows.append(
                f"x_new = x - eff_lr * {what} = {fmt(x)} - {fmt(info.eff_lr)} * "
                f"{fmt(info.direction)} = {fmt(x_new)}"
            )
        return rows

    hp = dict(
        lr=lr,
        betas=(beta1, beta2),
        beta3=beta3,
        eps=eps,
        weight_decay=weight_decay,
        decouple=decouple,
        use_bias_correction=use_bias_correction,
        safeguard_warmup=safeguard_warmup,
        d0=d0,
        d_coef=d_coef,
        growth_rate=growth_rate,
    )
    return Optimizer(name, init, step, hp, explain)


# ---------------------------------------------------------------------------------------
# Where to evaluate the model
# ---------------------------------------------------------------------------------------
def eval_point(x, state) -> np.ndarray:
    """The point at which to evaluate the model after an update.

    For the schedule-free optimizers this is the averaged sequence ``state.x_avg``, not
    ``x`` (the interpolation point ``y`` where the gradient is taken); for every other
    optimizer it is ``x`` itself.

    Example:
        >>> import numpy as np
        >>> from learnlr import optimizers
        >>> opt = schedule_free_sgd(lr=0.1)
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
        >>> from learnlr import problems
        >>> prob, opt = problems.quadratic1d(a=1.0, x0=2.0), schedule_free_sgd(lr=0.5)
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


#: Every optimizer factory of this module by name.
REGISTRY = {
    "lion": lion,
    "schedule_free_sgd": schedule_free_sgd,
    "schedule_free_adamw": schedule_free_adamw,
    "prodigy": prodigy,
}
