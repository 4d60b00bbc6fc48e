r"""Adam (Kingma & Ba 2015), AdamW (Loshchilov & Hutter 2019) and AMSGrad (Reddi et al. 2018).

``torch.optim.Adam`` and ``torch.optim.AdamW``: one factory, with the weight decay either
added to the gradient (L2, ``adam``) or applied to the parameters (decoupled, ``adamw``).
NumPy only.
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
from learnlr.optimizers.base import Optimizer, StepInfo, fmt, rate_at

__all__ = ["AdamState", "adam", "adamw"]


# ---------------------------------------------------------------------------------------
# Adam and AdamW
# ---------------------------------------------------------------------------------------
class AdamState(NamedTuple):
    count: int  # updates done so far (t - 1)
    m: np.ndarray  # first moment, moving average of g ("exp_avg")
    v: np.ndarray  # second moment, moving average of g^2 ("exp_avg_sq")
    v_max: np.ndarray | None = None  # running maximum of v (AMSGrad only; None otherwise)


def _adam_factory(name, lr, betas, eps, weight_decay, amsgrad, decoupled):
    check_rate(name, "lr", lr)
    beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    amsgrad = check_bool(name, "amsgrad", amsgrad)

    def init(x):
        x = as_real_array(name, "x", x)
        return AdamState(
            count=0,
            m=np.zeros(x.shape),
            v=np.zeros(x.shape),
            v_max=np.zeros(x.shape) if amsgrad else None,
        )

    def step(x, g, state):
        x, g = check_step(name, x, g, state, AdamState)
        if amsgrad and state.v_max is None:
            raise ValueError(
                f"{name}: state.v_max is None (a state made without AMSGrad); this optimizer "
                "has amsgrad=True and needs the state its own init makes"
            )
        t = state.count + 1
        lr_t = rate_at(lr, state.count, name)
        x_decayed = x
        if weight_decay != 0:
            if decoupled:
                x_decayed = x * (1 - lr_t * weight_decay)
            else:
                g = g + weight_decay * x
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * (g * g)
        v_max = np.maximum(state.v_max, v) if amsgrad else None
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        s = np.sqrt(v_hat) + eps
        eff_lr = lr_t / s
        x_new = x_decayed - eff_lr * m_hat
        direction = m_hat + (weight_decay * s) * x if (decoupled and weight_decay) else m_hat
        return x_new, AdamState(t, m, v, v_max), StepInfo(lr_t, eff_lr, direction)

    def explain(x, g, state, x_new, new_state, info):
        t = state.count + 1
        rows = [f"t = k + 1 = {t}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decoupled:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        c1, c2 = 1 - beta1**t, 1 - beta2**t
        rows += [
            f"m = beta1 * m + (1 - beta1) * g = {fmt(beta1)} * {fmt(state.m)} + "
            f"{fmt(1 - beta1)} * {fmt(g)} = {fmt(new_state.m)}",
            f"v = beta2 * v + (1 - beta2) * g^2 = {fmt(beta2)} * {fmt(state.v)} + "
            f"{fmt(1 - beta2)} * {fmt(g * g)} = {fmt(new_state.v)}",
        ]
        v_used = new_state.v
        if amsgrad:
            rows.append(f"v_max = max(v_max, v) = {fmt(new_state.v_max)}")
            v_used = new_state.v_max
        m_hat, v_hat = new_state.m / c1, v_used / c2
        rows += [
            f"m_hat = m / (1 - beta1^t) = {fmt(new_state.m)} / {fmt(c1)} = {fmt(m_hat)}",
            f"v_hat = {'v_max' if amsgrad else 'v'} / (1 - beta2^t) = {fmt(v_used)} / {fmt(c2)}"
            f" = {fmt(v_hat)}",
            f"eff_lr = lr / (sqrt(v_hat) + eps) = {fmt(info.lr)} / ({fmt(np.sqrt(v_hat))} + "
            f"{fmt(eps)}) = {fmt(info.eff_lr)}",
        ]
        if decoupled and weight_decay:
            rows.append(
                f"x_new = x * (1 - lr * weight_decay) - eff_lr * m_hat = {fmt(x)} * "
                f"{fmt(1 - info.lr * weight_decay)} - {fmt(info.eff_lr)} * {fmt(m_hat)}"
                f" = {fmt(x_new)}"
            )
        else:
            rows.append(
                f"x_new = x - eff_lr * m_hat = {fmt(x)} - {fmt(info.eff_lr)} * {fmt(m_hat)}"
                f" = {fmt(x_new)}"
            )
        return rows

    hp = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    if name == "adam":
        hp["decoupled_weight_decay"] = decoupled
    return Optimizer(name, init, step, hp, explain)


def adam(
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    decoupled_weight_decay=False,
):
    r"""Adam: momentum on the gradient, RMSProp on its scale, both bias-corrected.

    With :math:`t = k + 1`, :math:`\eta` = ``lr``, :math:`(\beta_1, \beta_2)` = ``betas``,
    :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay``:

    .. math::
        g &\leftarrow g + \lambda x \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        v_{max} &\leftarrow \max(v_{max}, v) \quad \text{(amsgrad; then } v_{max}
            \text{ replaces } v \text{ below)} \\
        \hat m &= m / (1 - \beta_1^t), \quad \hat v = v / (1 - \beta_2^t) \\
        x &\leftarrow x - \frac{\eta}{\sqrt{\hat v} + \epsilon}\, \hat m

    ``direction = m_hat``, ``eff_lr`` :math:`= \eta / (\sqrt{\hat v} + \epsilon)`.

    Args:
        lr: :math:`\eta` (number >= 0 or schedule). Default ``1e-3``.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1). Default ``(0.9, 0.999)``.
        eps: :math:`\epsilon \ge 0`. Default ``1e-8``.
        weight_decay: L2 penalty added to the *gradient* (see :func:`adamw` for the
            decoupled form). Default 0.
        amsgrad: use the running maximum of :math:`v` (Reddi, Kale & Kumar 2018).
        decoupled_weight_decay: apply the decay to the parameters as :func:`adamw` does
            (``adam(..., decoupled_weight_decay=True)`` equals ``adamw``, as in PyTorch).

    Example:
        >>> import numpy as np
        >>> opt = adam(lr=0.1)
        >>> x1, s, info = opt.step(np.array([1.0, 1.0]), np.array([5.0, -0.01]),
        ...                        opt.init(np.zeros(2)))
        >>> x1.round(6)   # the first step is about lr * sign(g)
        array([0.9, 1.1])

    Kingma & Ba (2015), arXiv:1412.6980. Where eps goes differs: PyTorch (and this code)
    add it to :math:`\sqrt{\hat v}`; the paper's Algorithm 1 is the same. Keras's
    ``epsilon`` (default ``1e-7``) is the paper's "epsilon hat" of section 2's efficient
    form, :math:`x \leftarrow x - \eta_t m / (\sqrt{v} + \hat\epsilon)` with
    :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`, which equals
    :math:`\epsilon = \hat\epsilon / \sqrt{1 - \beta_2^t}` here: a larger eps early on.

    For a million parameters and more, :class:`learnlr.optimizers.inplace.InPlace` runs this same
    update in place, several times faster and equal to it bit for bit.
    """
    decoupled = check_bool("adam", "decoupled_weight_decay", decoupled_weight_decay)
    return _adam_factory("adam", lr, betas, eps, weight_decay, amsgrad, decoupled=decoupled)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    r"""AdamW: Adam with weight decay applied to the parameters, not the gradient.

    As :func:`adam`, except that the decay shrinks :math:`x` directly before the Adam step:

    .. math::
        x &\leftarrow x (1 - \eta \lambda) \\
        x &\leftarrow x - \frac{\eta}{\sqrt{\hat v} + \epsilon}\, \hat m

    so the decay is not divided by :math:`\sqrt{\hat v}`. ``eff_lr`` is Adam's
    :math:`\eta / (\sqrt{\hat v} + \epsilon)`, and ``direction`` is
    :math:`\hat m + \lambda(\sqrt{\hat v} + \epsilon)\, x` so that
    ``x_new == x - eff_lr * direction`` still holds.

    Args:
        lr, betas, eps, amsgrad: as :func:`adam`.
        weight_decay: :math:`\lambda \ge 0`. Default ``1e-2`` (PyTorch's; Keras's AdamW
            uses ``0.004``; optax's ``1e-4``).

    Example:
        >>> import numpy as np
        >>> opt = adamw(lr=0.1, weight_decay=0.5)
        >>> x1, s, info = opt.step(np.array([2.0]), np.array([0.0]), opt.init(np.zeros(1)))
        >>> x1   # zero gradient: only the decay acts, 2 * (1 - 0.1 * 0.5)
        array([1.9])

    Loshchilov & Hutter (2019), ICLR, arXiv:1711.05101. PyTorch multiplies the decay by
    the current ``lr`` (as here); the paper uses a separate schedule multiplier.
    """
    return _adam_factory("adamw", lr, betas, eps, weight_decay, amsgrad, decoupled=True)
