r"""Adadelta (Zeiler 2012): RMSProp whose rate is a moving average of past steps.

``torch.optim.Adadelta``'s update. NumPy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    as_real_array,
    check_interval,
    check_nonnegative,
    check_rate,
    check_step,
)
from learnlr.optimizers.base import Optimizer, StepInfo, fmt, hyperparams, rate_at

__all__ = ["AdadeltaState", "adadelta"]


# ---------------------------------------------------------------------------------------
# Adadelta
# ---------------------------------------------------------------------------------------
class AdadeltaState(NamedTuple):
    count: int  # updates done so far
    v: np.ndarray  # moving average of g^2 ("square_avg")
    u: np.ndarray  # moving average of squared updates ("acc_delta")


def adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    r"""Adadelta: a step whose units match the parameters', as ``torch.optim.Adadelta``.

    With :math:`\rho` = ``rho``, :math:`\epsilon` = ``eps``, :math:`\eta` = ``lr``:

    .. math::
        g &\leftarrow g + \lambda x \\
        v &\leftarrow \rho v + (1 - \rho) g^2 \\
        \Delta &= \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g \\
        u &\leftarrow \rho u + (1 - \rho) \Delta^2 \\
        x &\leftarrow x - \eta \Delta

    ``direction = g``, ``eff_lr`` :math:`= \eta \sqrt{u_{old} + \epsilon} / \sqrt{v + \epsilon}`.

    Args:
        lr: :math:`\eta`, a plain multiplier; Zeiler's method has none (``lr=1.0``, the
            default, reproduces it).
        rho: decay :math:`\rho` in [0, 1]. Default 0.9.
        eps: :math:`\epsilon \ge 0`, *inside* both square roots. Default ``1e-6``.
        weight_decay: L2 penalty :math:`\lambda \ge 0`. Default 0.

    Example:
        >>> import numpy as np
        >>> opt = adadelta()
        >>> x1, s, info = opt.step(np.array([1.0]), np.array([1.0]), opt.init(np.zeros(1)))
        >>> float(info.eff_lr[0].round(6))   # sqrt(1e-6) / sqrt(0.1 + 1e-6)
        0.003162

    Zeiler (2012), arXiv:1212.5701. Keras uses ``learning_rate=0.001, rho=0.95,
    epsilon=1e-7``; Zeiler's paper uses ``rho=0.95, eps=1e-6``.
    """
    name = "adadelta"
    check_rate(name, "lr", lr)
    rho = check_interval(name, "rho", rho, 0.0, 1.0, "[]")
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)

    def init(x):
        x = as_real_array(name, "x", x)
        return AdadeltaState(count=0, v=np.zeros(x.shape), u=np.zeros(x.shape))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, AdadeltaState)
        lr_t = rate_at(lr, state.count, name)
        if weight_decay != 0:
            g = g + weight_decay * x
        v = rho * state.v + (1 - rho) * (g * g)
        rms_u, rms_v = np.sqrt(state.u + eps), np.sqrt(v + eps)
        delta = rms_u / rms_v * g
        u = rho * state.u + (1 - rho) * delta * delta
        terms = dict(g=g, rms_u=rms_u, rms_v=rms_v, delta=delta)
        info = StepInfo(lr_t, lr_t * (rms_u / rms_v), g, terms)
        return x - lr_t * delta, AdadeltaState(state.count + 1, v, u), info

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        rows = [f"g = grad f(x) = {fmt(g)}"]
        if weight_decay:
            rows.append(f"g = g + weight_decay * x = {fmt(T['g'])}")
        return rows + [
            f"v = rho * v + (1 - rho) * g^2 = {fmt(new.v)}",
            f"delta = sqrt(u + eps) / sqrt(v + eps) * g = {fmt(T['rms_u'])}"
            f" / {fmt(T['rms_v'])} * {fmt(T['g'])} = {fmt(T['delta'])}",
            f"u = rho * u + (1 - rho) * delta^2 = {fmt(new.u)}",
            f"x_new = x - lr * delta = {fmt(x)} - {fmt(info.lr)} * {fmt(T['delta'])}"
            f" = {fmt(x_new)}",
        ]

    return Optimizer(name, init, step, hyperparams(adadelta, locals()), explain)
