r"""Prodigy (Mishchenko & Defazio 2024): Adam whose rate ``d * lr`` is estimated on the way.

So ``lr=1.0`` needs no tuning. Names and defaults are those of the authors' ``prodigyopt``
package; the tests compare with stored runs of it. NumPy only.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    as_real_array,
    check_betas,
    check_bool,
    check_interval,
    check_nonnegative,
    check_positive,
    check_rate,
    check_step,
)
from learnlr.optimizers.base import Optimizer, StepInfo, fmt, hyperparams, rate_at

__all__ = ["ProdigyState", "prodigy"]


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
    decoupled_weight_decay=True,
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
    ``info.terms`` holds ``g``, ``s_norm`` (:math:`\lVert s \rVert_1`, 0 for an update that
    does not move) and ``d_hat``.

    Args:
        lr: :math:`\eta`, a multiplier of the estimated rate (number >= 0 or schedule).
            Default 1.0: leave it, or use it for a schedule (e.g. cosine from 1 to 0).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1). Default ``(0.9, 0.999)``.
        beta3: :math:`\beta_3` in [0, 1), or None for :math:`\sqrt{\beta_2}`.
        eps: :math:`\epsilon \ge 0`, multiplied by :math:`d`. Default ``1e-8``.
        weight_decay: :math:`\lambda \ge 0`. Default 0.
        decoupled_weight_decay: AdamW-style decay (True, default) or added to the gradient
            (the option of :func:`adam`, :func:`nadam` and :func:`radam`, under the same
            name; ``prodigyopt.Prodigy`` calls it ``decouple``).
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
    betas = beta1, beta2 = check_betas(name, betas)
    if beta3 is None:
        b3 = math.sqrt(beta2)
    else:
        b3 = check_interval(name, "beta3", beta3, 0.0, 1.0)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    decoupled_weight_decay = check_bool(name, "decoupled_weight_decay", decoupled_weight_decay)
    decoupled = decoupled_weight_decay
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
        if weight_decay and not decoupled:
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
            return x.copy(), new_state, StepInfo(0.0, zeros, zeros, dict(g=g, s_norm=s_norm))
        d_hat = d_coef * r / s_norm
        d_new = max(d, d_hat) if d == d0 else d  # as the reference (matters with growth_rate)
        d_max = max(state.d_max, d_hat)
        d_new = min(d_max, d_new * growth_rate)
        denom = np.sqrt(v) + d_new * eps
        x_dec = x - (weight_decay * dlr) * x if (weight_decay and decoupled) else x
        u = m if beta1 > 0 else d_new * g
        eff_lr = dlr / denom
        x_new = x_dec - eff_lr * u
        direction = u + (weight_decay * denom) * x if (weight_decay and decoupled) else u
        new_state = ProdigyState(k + 1, m, v, s, state.x0, r, d_new, d_max)
        terms = dict(g=g, s_norm=s_norm, d_hat=d_hat)
        return x_new, new_state, StepInfo(dlr, eff_lr, direction, terms)

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        rows = [f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decoupled:
            rows.append(f"g = g + weight_decay * x = {fmt(T['g'])}")
        if T["s_norm"] == 0.0:
            return rows + ["lr = 0 or ||s||_1 = 0: nothing to estimate from, no update"]
        rows += [
            f"d = {fmt(state.d, 6)}, delta = d * lr = {fmt(info.lr, 6)}",
            f"m = beta1 * m + (1 - beta1) * d * g = {fmt(new.m)}",
            f"v = beta2 * v + (1 - beta2) * d^2 * g^2 = {fmt(new.v)}",
            f"r = beta3 * r + (d / d0) * delta * <g, x0 - x> = {fmt(new.r, 6)}",
            f"s = beta3 * s + (d / d0) * delta * g = {fmt(new.s)}, ||s||_1 = {fmt(T['s_norm'], 6)}",
            f"d_hat = d_coef * r / ||s||_1 = {fmt(T['d_hat'], 6)}, "
            f"d = max(d, d_hat) = {fmt(new.d, 6)}",
            f"eff_lr = delta / (sqrt(v) + d * eps) = {fmt(info.eff_lr)}",
        ]
        if weight_decay and decoupled:
            return rows + [f"x_new = x * (1 - delta * weight_decay) - eff_lr * m = {fmt(x_new)}"]
        u = "m" if beta1 > 0 else "d * g"
        return rows + [
            f"x_new = x - eff_lr * {u} = {fmt(x)} - {fmt(info.eff_lr)} * "
            f"{fmt(info.direction)} = {fmt(x_new)}"
        ]

    return Optimizer(name, init, step, hyperparams(prodigy, locals()), explain)
