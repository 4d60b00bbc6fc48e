r"""Lion (Chen et al. 2023): the sign of an interpolation between momentum and gradient.

Every coordinate moves by exactly ``lr`` per update. Names and defaults are those of the
``lion-pytorch`` package (a third-party implementation; the tests compare with stored runs of
it, ``tests/reference/modern.json``). NumPy only.
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

__all__ = ["LionState", "lion"]


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
    :math:`\operatorname{sign}(c) + \lambda x` and ``eff_lr`` is :math:`\eta`;
    ``info.terms`` holds ``c``, ``sign_c`` and ``decay`` (:math:`1 - \eta\lambda`).

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
    betas = beta1, beta2 = _closed_betas(name, betas)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)

    def init(x):
        return LionState(count=0, m=np.zeros(as_real_array(name, "x", x).shape))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, LionState)
        lr_t = rate_at(lr, state.count, name)
        decay = 1 - lr_t * weight_decay
        c = beta1 * state.m + (1 - beta1) * g
        sign_c = np.sign(c)
        x_new = x * decay - lr_t * sign_c if weight_decay else x - lr_t * sign_c
        m = beta2 * state.m + (1 - beta2) * g
        direction = sign_c + weight_decay * x if weight_decay else sign_c
        eff_lr = np.full_like(x, lr_t, dtype=float)
        info = StepInfo(lr_t, eff_lr, direction, dict(c=c, sign_c=sign_c, decay=decay))
        return x_new, LionState(state.count + 1, m), info

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        lr, sign_c = fmt(info.lr), fmt(T["sign_c"])
        xd = "x * (1 - lr * weight_decay)" if weight_decay else "x"
        xd_value = f"{fmt(x)} * {fmt(T['decay'])}" if weight_decay else fmt(x)
        return [
            f"g = grad f(x) = {fmt(g)}",
            f"c = beta1 * m + (1 - beta1) * g = {fmt(beta1)} * {fmt(state.m)} + "
            f"{fmt(1 - beta1)} * {fmt(g)} = {fmt(T['c'])}",
            f"sign(c) = {sign_c}",
            f"x_new = {xd} - lr * sign(c) = {xd_value} - {lr} * {sign_c} = {fmt(x_new)}",
            f"m = beta2 * m + (1 - beta2) * g = {fmt(beta2)} * {fmt(state.m)} + "
            f"{fmt(1 - beta2)} * {fmt(g)} = {fmt(new.m)}",
        ]

    return Optimizer(name, init, step, hyperparams(lion, locals()), explain)
