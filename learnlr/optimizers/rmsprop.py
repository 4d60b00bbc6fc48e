r"""RMSProp (Tieleman & Hinton 2012): AdaGrad with a moving average of squared gradients.

``torch.optim.RMSprop``'s update, with its ``centered`` and ``momentum`` options. NumPy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    as_real_array,
    check_bool,
    check_interval,
    check_nonnegative,
    check_rate,
    check_step,
)
from learnlr.optimizers.base import Optimizer, StepInfo, fmt, hyperparams, rate_at

__all__ = ["RMSpropState", "rmsprop"]


# ---------------------------------------------------------------------------------------
# RMSProp
# ---------------------------------------------------------------------------------------
class RMSpropState(NamedTuple):
    count: int  # updates done so far
    v: np.ndarray  # moving average of g^2 ("square_avg" in PyTorch)
    g_avg: np.ndarray  # moving average of g (used when centered)
    b: np.ndarray  # momentum buffer (used when momentum > 0)


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    r"""RMSProp: divide by a moving root-mean-square of recent gradients (``torch.optim.RMSprop``).

    With :math:`\eta` = ``lr``, :math:`\alpha` = ``alpha``, :math:`\epsilon` = ``eps``,
    :math:`\mu` = ``momentum``:

    .. math::
        g &\leftarrow g + \lambda x \\
        v &\leftarrow \alpha v + (1 - \alpha) g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1 - \alpha) g \quad \text{(centered only)} \\
        s &= \sqrt{v - \bar g^2} + \epsilon \ \text{(centered)}, \quad
             s = \sqrt{v} + \epsilon \ \text{(otherwise)} \\
        b &\leftarrow \mu b + g / s, \quad x \leftarrow x - \eta b \quad (\mu > 0) \\
        x &\leftarrow x - \frac{\eta}{s} g \quad (\mu = 0)

    With ``momentum=0``: ``direction = g``, ``eff_lr = lr / s``; with momentum:
    ``direction = b``, ``eff_lr = lr``. ``info.terms`` holds ``g``, ``g2`` (:math:`g^2`),
    ``s`` and ``g_s`` (:math:`g / s` with momentum, else None).

    Args:
        lr: :math:`\eta` (number >= 0 or schedule). Default ``1e-2``.
        alpha: smoothing constant in [0, 1); memory of about :math:`1/(1-\alpha)` steps.
            Default 0.99.
        eps: :math:`\epsilon \ge 0`, added *outside* the square root. Default ``1e-8``.
        weight_decay: L2 penalty :math:`\lambda \ge 0`. Default 0.
        momentum: :math:`\mu \ge 0`. Default 0.
        centered: subtract the squared mean gradient (an estimate of the variance).

    Example:
        >>> import numpy as np
        >>> opt = rmsprop(lr=0.01)
        >>> x1, s, info = opt.step(np.array([1.0]), np.array([3.0]), opt.init(np.zeros(1)))
        >>> x1.round(6)   # v = 0.01 * 9, so the step is 0.01 * 3 / 0.3 = 0.1
        array([0.9])

    Tieleman & Hinton (2012), Coursera lecture 6.5; centered form from Graves (2013),
    arXiv:1308.0850. Frameworks differ: PyTorch adds eps outside the root,
    :math:`\sqrt{v} + \epsilon`, with ``alpha=0.99, eps=1e-8``; Keras (``rho=0.9,
    epsilon=1e-7``), TensorFlow 1 and optax (``eps_in_sqrt=True``, its default) put it
    inside, :math:`\sqrt{v + \epsilon}`. None of them bias-corrects :math:`v`, so the
    first step is :math:`1/\sqrt{1-\alpha}` = 10 times larger than later steps of the
    same gradient (chapter 4 measures both effects).
    """
    name = "rmsprop"
    check_rate(name, "lr", lr)
    alpha = check_interval(name, "alpha", alpha, 0.0, 1.0)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    momentum = check_nonnegative(name, "momentum", momentum)
    centered = check_bool(name, "centered", centered)

    def init(x):
        x = as_real_array(name, "x", x)
        return RMSpropState(
            count=0, v=np.zeros(x.shape), g_avg=np.zeros(x.shape), b=np.zeros(x.shape)
        )

    def step(x, g, state):
        x, g = check_step(name, x, g, state, RMSpropState)
        lr_t = rate_at(lr, state.count, name)
        if weight_decay != 0:
            g = g + weight_decay * x
        g2 = g * g
        v = alpha * state.v + (1 - alpha) * g2
        g_avg = state.g_avg
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            s = np.sqrt(v - g_avg * g_avg) + eps
        else:
            s = np.sqrt(v) + eps
        b = state.b
        if momentum > 0:
            g_s = g / s
            b = momentum * b + g_s
            eff_lr, d = np.full_like(x, lr_t, dtype=float), b
        else:
            g_s, eff_lr, d = None, lr_t / s, g
        info = StepInfo(lr_t, eff_lr, d, dict(g=g, g2=g2, s=s, g_s=g_s))
        return x - eff_lr * d, RMSpropState(state.count + 1, v, g_avg, b), info

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        rows = [f"g = grad f(x) = {fmt(g)}"]
        if weight_decay:
            rows.append(f"g = g + weight_decay * x = {fmt(T['g'])}")
        rows.append(
            f"v = alpha * v + (1 - alpha) * g^2 = {fmt(alpha)} * {fmt(state.v)} + "
            f"{fmt(1 - alpha)} * {fmt(T['g2'])} = {fmt(new.v)}"
        )
        if centered:
            rows.append(f"g_avg = alpha * g_avg + (1 - alpha) * g = {fmt(new.g_avg)}")
        rows.append(f"s = {'sqrt(v - g_avg^2)' if centered else 'sqrt(v)'} + eps = {fmt(T['s'])}")
        if momentum:
            rows.append(
                f"b = momentum * b + g / s = {fmt(momentum)} * {fmt(state.b)} + "
                f"{fmt(T['g_s'])} = {fmt(new.b)}"
            )
            rows.append(f"x_new = x - lr * b = {fmt(x)} - {fmt(info.lr)} * {fmt(new.b)}")
        else:
            rows.append(f"eff_lr = lr / s = {fmt(info.lr)} / {fmt(T['s'])} = {fmt(info.eff_lr)}")
            rows.append(f"x_new = x - eff_lr * g = {fmt(x)} - {fmt(info.eff_lr)} * {fmt(T['g'])}")
        rows[-1] += f" = {fmt(x_new)}"
        return rows

    return Optimizer(name, init, step, hyperparams(rmsprop, locals()), explain)
