r"""NAdam (Dozat 2016): Adam with a Nesterov look-ahead and a momentum schedule.

``torch.optim.NAdam``'s update. NumPy only.
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

__all__ = ["NAdamState", "nadam"]


# ---------------------------------------------------------------------------------------
# NAdam
# ---------------------------------------------------------------------------------------
class NAdamState(NamedTuple):
    count: int  # updates done so far
    m: np.ndarray  # first moment ("exp_avg")
    v: np.ndarray  # second moment ("exp_avg_sq")
    mu_product: float  # product of the momentum coefficients mu_1 ... mu_t


def nadam(
    lr=2e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
):
    r"""NAdam: Adam with Nesterov's look-ahead momentum, as ``torch.optim.NAdam``.

    With :math:`t = k + 1` and :math:`\psi` = ``momentum_decay``, the momentum coefficient
    warms up as :math:`\mu_t = \beta_1 (1 - \tfrac12 \cdot 0.96^{t\psi})`:

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \quad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \Pi_t &= \prod_{i \le t} \mu_i, \quad \hat v = v / (1 - \beta_2^t) \\
        d &= \frac{1 - \mu_t}{1 - \Pi_t}\, g + \frac{\mu_{t+1}}{1 - \Pi_t \mu_{t+1}}\, m \\
        x &\leftarrow x - \frac{\eta}{\sqrt{\hat v} + \epsilon}\, d

    ``direction = d`` (plus :math:`\eta\lambda x / \text{eff\_lr}` with decoupled decay),
    ``eff_lr`` :math:`= \eta / (\sqrt{\hat v} + \epsilon)`; ``info.terms`` holds ``t``,
    ``g``, ``mu_t``, ``mu_next`` (:math:`\mu_{t+1}`), ``d`` and ``decay``.

    Args:
        lr: :math:`\eta`. Default ``2e-3``.
        betas, eps: as :func:`adam`.
        weight_decay: :math:`\lambda \ge 0`, added to the gradient (or, with
            ``decoupled_weight_decay=True``, applied as AdamW does). Default 0.
        momentum_decay: :math:`\psi \ge 0`. Default ``4e-3``.
        decoupled_weight_decay: see ``weight_decay``.

    Example:
        >>> import numpy as np
        >>> opt = nadam(lr=0.1)
        >>> x1, s, info = opt.step(np.array([1.0]), np.array([2.0]), opt.init(np.zeros(1)))
        >>> float(x1[0].round(4))   # larger than Adam's 0.1: the look-ahead counts g twice
        0.8944

    Dozat (2016), "Incorporating Nesterov momentum into Adam", ICLR workshop. Keras 3's
    Nadam differs: its :math:`\mu_t` uses :math:`0.96^{t}` (no ``momentum_decay``
    factor; tf.keras 2 used :math:`0.96^{0.004 t}`) and it adds ``epsilon=1e-7`` to
    :math:`\sqrt{\hat v}`.
    """
    name = "nadam"
    check_rate(name, "lr", lr)
    betas = beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    momentum_decay = check_nonnegative(name, "momentum_decay", momentum_decay)
    decoupled_weight_decay = check_bool(name, "decoupled_weight_decay", decoupled_weight_decay)
    decoupled = decoupled_weight_decay and weight_decay != 0

    def mu(t):
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))

    def init(x):
        x = as_real_array(name, "x", x)
        return NAdamState(count=0, m=np.zeros(x.shape), v=np.zeros(x.shape), mu_product=1.0)

    def step(x, g, state):
        x, g = check_step(name, x, g, state, NAdamState)
        t = state.count + 1
        lr_t = rate_at(lr, state.count, name)
        decay = 1 - lr_t * weight_decay if decoupled else 1.0
        if weight_decay != 0 and not decoupled:
            g = g + weight_decay * x
        mu_t, mu_next = mu(t), mu(t + 1)
        mu_product = state.mu_product * mu_t
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * (g * g)
        s = np.sqrt(v / (1 - beta2**t)) + eps
        d = (1 - mu_t) / (1 - mu_product) * g + mu_next / (1 - mu_product * mu_next) * m
        eff_lr = lr_t / s
        x_new = (x * decay if decoupled else x) - eff_lr * d
        direction = d + (weight_decay * s) * x if decoupled else d
        terms = dict(t=t, g=g, mu_t=mu_t, mu_next=mu_next, d=d, decay=decay)
        return x_new, NAdamState(t, m, v, mu_product), StepInfo(lr_t, eff_lr, direction, terms)

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        rows = [f"t = k + 1 = {T['t']}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decoupled:
            rows.append(f"g = g + weight_decay * x = {fmt(T['g'])}")
        return rows + [
            f"mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)) = {fmt(T['mu_t'], 6)}, "
            f"mu_(t+1) = {fmt(T['mu_next'], 6)}",
            f"Pi_t = Pi_(t-1) * mu_t = {fmt(new.mu_product, 6)}",
            f"m = {fmt(new.m)}, v = {fmt(new.v)}",
            f"d = (1 - mu_t)/(1 - Pi_t) * g + mu_(t+1)/(1 - Pi_t mu_(t+1)) * m = {fmt(T['d'])}",
            f"eff_lr = lr / (sqrt(v / (1 - beta2^t)) + eps) = {fmt(info.eff_lr)}",
            f"x_new = {fmt(x_new)}",
        ]

    return Optimizer(name, init, step, hyperparams(nadam, locals()), explain)
