r"""RAdam (Liu et al. 2020): Adam whose adaptive rate is switched on once its variance is bounded.

``torch.optim.RAdam``'s update. NumPy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    as_real_array,
    check_betas,
    check_bool,
    check_nonnegative,
    check_rate,
    check_step,
)
from learnlr.optimizers.base import Optimizer, StepInfo, fmt, hyperparams, rate_at

__all__ = ["RAdamState", "radam"]


# ---------------------------------------------------------------------------------------
# RAdam
# ---------------------------------------------------------------------------------------
class RAdamState(NamedTuple):
    count: int  # updates done so far
    m: np.ndarray  # first moment ("exp_avg")
    v: np.ndarray  # second moment ("exp_avg_sq")


def radam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
    r"""RAdam: Adam whose adaptive rate is switched on only once its variance is tractable.

    With :math:`t = k + 1`, :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t)`:

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \quad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad \hat m = m / (1 - \beta_1^t) \\
        x &\leftarrow x - \eta\, r_t \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v} + \epsilon}\,
             \hat m \quad \text{if } \rho_t > 5, \qquad
        x \leftarrow x - \eta\, \hat m \quad \text{otherwise} \\
        r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                          {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}

    ``direction = m_hat``; ``eff_lr`` is the factor in front of it; ``info.terms`` holds
    ``t``, ``g``, ``m_hat``, ``rho_t`` and ``decay``. With the default
    :math:`\beta_2 = 0.999` the first 5 updates are plain momentum SGD steps.

    Args:
        lr, betas, eps: as :func:`adam` (note eps is added to :math:`\sqrt{v}`, *before*
            the bias correction, as PyTorch does).
        weight_decay, decoupled_weight_decay: as :func:`nadam`.

    Example:
        >>> import numpy as np
        >>> opt = radam(lr=0.1)
        >>> x1, s, info = opt.step(np.array([1.0]), np.array([2.0]), opt.init(np.zeros(1)))
        >>> x1   # rho_1 = 1 <= 5: an un-adapted step of lr * m_hat = 0.1 * 2
        array([0.8])

    Liu et al. (2020), ICLR, arXiv:1908.03265.
    """
    name = "radam"
    check_rate(name, "lr", lr)
    betas = beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    decoupled_weight_decay = check_bool(name, "decoupled_weight_decay", decoupled_weight_decay)
    decoupled = decoupled_weight_decay and weight_decay != 0
    rho_inf = 2 / (1 - beta2) - 1

    def init(x):
        x = as_real_array(name, "x", x)
        return RAdamState(count=0, m=np.zeros(x.shape), v=np.zeros(x.shape))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, RAdamState)
        t = state.count + 1
        lr_t = rate_at(lr, state.count, name)
        decay = 1 - lr_t * weight_decay if decoupled else 1.0
        if weight_decay != 0 and not decoupled:
            g = g + weight_decay * x
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * (g * g)
        m_hat = m / (1 - beta1**t)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 5.0:
            r_t = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            c = r_t * np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)  # the adaptive factor
        else:
            c = np.ones_like(x, dtype=float)  # variance not yet tractable: no adaptation
        eff_lr = lr_t * c
        x_new = (x * decay if decoupled else x) - eff_lr * m_hat
        direction = m_hat + (weight_decay / c) * x if decoupled else m_hat
        terms = dict(t=t, g=g, m_hat=m_hat, rho_t=rho_t, decay=decay)
        return x_new, RAdamState(t, m, v), StepInfo(lr_t, eff_lr, direction, terms)

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        rows = [f"t = k + 1 = {T['t']}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decoupled:
            rows.append(f"g = g + weight_decay * x = {fmt(T['g'])}")
        rows += [
            f"m = {fmt(new.m)}, v = {fmt(new.v)}",
            f"m_hat = m / (1 - beta1^t) = {fmt(T['m_hat'])}",
            f"rho_inf = {fmt(rho_inf, 6)}, rho_t = {fmt(T['rho_t'], 6)}",
            f"rho_t > 5: eff_lr = lr * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps) = "
            f"{fmt(info.eff_lr)}"
            if T["rho_t"] > 5.0
            else f"rho_t <= 5: no adaptive rate, eff_lr = lr = {fmt(info.lr)}",
        ]
        xd = "x * (1 - lr * weight_decay)" if decoupled else "x"
        return rows + [f"x_new = {xd} - eff_lr * m_hat = {fmt(x_new)}"]

    return Optimizer(name, init, step, hyperparams(radam, locals()), explain)
