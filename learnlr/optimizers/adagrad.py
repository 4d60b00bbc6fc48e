r"""AdaGrad (Duchi et al. 2011): a rate per coordinate from the sum of squared gradients.

``torch.optim.Adagrad``'s update, including ``lr_decay``. NumPy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    as_real_array,
    check_nonnegative,
    check_rate,
    check_step,
)
from learnlr.optimizers.base import Optimizer, StepInfo, fmt, hyperparams, rate_at

__all__ = ["AdagradState", "adagrad"]


# ---------------------------------------------------------------------------------------
# AdaGrad
# ---------------------------------------------------------------------------------------
class AdagradState(NamedTuple):
    count: int  # updates done so far
    G: np.ndarray  # running sum of squared gradients, one per parameter


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    r"""AdaGrad: each parameter's rate shrinks with the squared gradients it has seen.

    With :math:`t = k + 1` the update number, :math:`\eta` = ``lr``, :math:`\delta` =
    ``lr_decay``, :math:`\lambda` = ``weight_decay``, :math:`\epsilon` = ``eps``:

    .. math::
        g &\leftarrow g + \lambda x \\
        G &\leftarrow G + g^2 \\
        \eta_t &= \eta / (1 + (t - 1)\,\delta) \\
        x &\leftarrow x - \frac{\eta_t}{\sqrt{G} + \epsilon}\, g

    so ``direction = g`` and ``eff_lr`` :math:`= \eta_t / (\sqrt{G} + \epsilon)`;
    ``info.terms`` holds ``t``, ``g``, ``g2`` (:math:`g^2`) and ``sqrt_G``.

    Args:
        lr: base rate :math:`\eta` (number >= 0 or schedule). Default ``1e-2``.
        lr_decay: :math:`\delta \ge 0`. Default 0.
        weight_decay: L2 penalty :math:`\lambda \ge 0`. Default 0.
        initial_accumulator_value: starting value of :math:`G` (>= 0). Default 0.
        eps: :math:`\epsilon \ge 0`, added outside the square root. Default ``1e-10``.

    Example:
        >>> import numpy as np
        >>> opt = adagrad(lr=0.1)
        >>> x1, s, info = opt.step(np.array([1.0, 1.0]), np.array([2.0, 0.5]),
        ...                        opt.init(np.zeros(2)))
        >>> x1   # the first step is lr * sign(g) whatever the gradient's size
        array([0.9, 0.9])

    Duchi, Hazan & Singer (2011), JMLR 12. Matches ``torch.optim.Adagrad``. Keras starts
    :math:`G` at 0.1 (``initial_accumulator_value=0.1``) and, like optax, puts its
    ``epsilon=1e-7`` inside the root, :math:`\sqrt{G + \epsilon}`.
    """
    name = "adagrad"
    check_rate(name, "lr", lr)
    lr_decay = check_nonnegative(name, "lr_decay", lr_decay)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    initial_accumulator_value = check_nonnegative(
        name, "initial_accumulator_value", initial_accumulator_value
    )
    eps = check_nonnegative(name, "eps", eps)

    def init(x):
        x = as_real_array(name, "x", x)
        return AdagradState(count=0, G=np.full_like(x, initial_accumulator_value, dtype=float))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, AdagradState)
        t = state.count + 1
        if weight_decay != 0:
            g = g + weight_decay * x
        g2 = g * g
        G = state.G + g2
        lr_t = rate_at(lr, state.count, name) / (1 + (t - 1) * lr_decay)
        sqrt_G = np.sqrt(G)
        eff_lr = lr_t / (sqrt_G + eps)
        info = StepInfo(lr_t, eff_lr, g, dict(t=t, g=g, g2=g2, sqrt_G=sqrt_G))
        return x - eff_lr * g, AdagradState(t, G), info

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        rows = [f"t = {T['t']}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay:
            rows.append(f"g = g + weight_decay * x = {fmt(T['g'])}")
        return rows + [
            f"G = G + g^2 = {fmt(state.G)} + {fmt(T['g2'])} = {fmt(new.G)}",
            f"lr_t = lr / (1 + (t - 1) * lr_decay) = {fmt(info.lr)}",
            f"eff_lr = lr_t / (sqrt(G) + eps) = {fmt(info.lr)} / ({fmt(T['sqrt_G'])}"
            f" + {fmt(eps)}) = {fmt(info.eff_lr)}",
            f"x_new = x - eff_lr * g = {fmt(x)} - {fmt(info.eff_lr)} * {fmt(T['g'])}"
            f" = {fmt(x_new)}",
        ]

    return Optimizer(name, init, step, hyperparams(adagrad, locals()), explain)
