r"""Schedule-Free SGD and AdamW (Defazio et al. 2024): averaging in place of a schedule.

A base sequence ``z``, a running average ``x`` of it, and the gradient taken at a point ``y``
between the two. The model is *evaluated* at ``x`` (see :func:`learnlr.trace.eval_point`).
Names and defaults are those of the authors' ``schedulefree`` package; the tests compare with
stored runs of it. NumPy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    as_real_array,
    check_betas,
    check_int,
    check_interval,
    check_nonnegative,
    check_rate,
    check_step,
)
from learnlr.optimizers.base import Optimizer, StepInfo, fmt, hyperparams, rate_at

__all__ = ["ScheduleFreeState", "schedule_free_sgd", "schedule_free_adamw"]


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


def _schedule_free(name, lr, beta, beta2, eps, weight_decay, warmup_steps, r, weight_lr_power):
    """The optimizer shared by Schedule-Free SGD (``beta2=None``) and AdamW; ``beta`` is
    SGD's ``momentum`` or AdamW's ``betas[0]``. ``info.terms`` holds ``warm``
    (the warmup factor), ``s`` (AdamW's denominator, 1.0 for SGD), ``gn`` (the step of
    ``z`` divided by the rate), ``weight`` and ``c``."""
    adam = beta2 is not None

    def init(x):
        x = as_real_array(name, "x", x)
        return ScheduleFreeState(
            0, np.array(x, float), np.array(x, float), np.zeros(x.shape), 0.0, 0.0
        )

    def step(y, g, state):
        y, g = check_step(name, y, g, state, ScheduleFreeState)
        k = state.count
        warm = (k + 1) / warmup_steps if k < warmup_steps else 1.0
        lr_t = rate_at(lr, k, name) * warm
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
        terms = dict(warm=warm, s=denom, gn=gn, weight=weight, c=c)
        return y_new, new_state, StepInfo(lr_t, eff_lr, direction, terms)

    def explain(y, g, state, y_new, new, info):
        T = info.terms
        rows = [f"g = grad f(y) = {fmt(g)}   (y, the trace's x, is where the gradient is taken)"]
        warm = f" * {T['warm']:.4g} (warmup)" if state.count < warmup_steps else ""
        rows.append(f"lr_t = lr{warm} = {fmt(info.lr)}")
        if adam:
            rows += [
                f"v = beta2 * v + (1 - beta2) * g^2 = {fmt(new.v)}",
                f"s = sqrt(v / (1 - beta2^t)) + eps = {fmt(T['s'])}",
            ]
        what = ("g / s" if adam else "g") + (" + weight_decay * y" if weight_decay else "")
        return rows + [
            f"z = z - lr_t * ({what}) = {fmt(state.z)} - {fmt(info.lr)} * {fmt(T['gn'])}"
            f" = {fmt(new.z)}",
            f"c = (k+1)^r * lr_max^{weight_lr_power:g} / sum of weights = {fmt(T['weight'], 6)}"
            f" / {fmt(new.weight_sum, 6)} = {fmt(T['c'], 6)}",
            f"x = (1 - c) * x + c * z = {fmt(state.x_avg)} -> {fmt(new.x_avg)}",
            f"y_new = (1 - beta) * z + beta * x = {fmt(1 - beta)} * {fmt(new.z)} + "
            f"{fmt(beta)} * {fmt(new.x_avg)} = {fmt(y_new)}",
        ]

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
    :func:`~learnlr.trace.eval_point` (one step), :func:`~learnlr.trace.eval_points` (a
    trace) or :func:`~learnlr.trace.run_eval`. In the authors' PyTorch package the same
    switch is ``optimizer.eval()`` / ``.train()``.

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
        name, lr, momentum, None, 0.0, weight_decay, warmup_steps, r, weight_lr_power
    )
    return Optimizer(name, init, step, hyperparams(schedule_free_sgd, locals()), explain)


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

    **Evaluate at** ``state.x_avg`` (:func:`~learnlr.trace.eval_point`); a trace's ``x`` is
    :math:`y`.

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
    betas = beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    init, step, explain = _schedule_free(
        name, lr, beta1, beta2, eps, weight_decay, warmup_steps, r, weight_lr_power
    )
    return Optimizer(name, init, step, hyperparams(schedule_free_adamw, locals()), explain)
