r"""Adam (Kingma & Ba 2015), AdamW (Loshchilov & Hutter 2019) and AMSGrad (Reddi et al. 2018).

``torch.optim.Adam`` and ``torch.optim.AdamW``: one factory, ``adam``, with the weight decay
either added to the gradient (L2) or applied to the parameters (decoupled); ``adamw`` is
``adam`` with the decoupled decay. NumPy only.
"""

from __future__ import annotations

from dataclasses import replace
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

__all__ = ["AdamState", "adam", "adamw"]


# ---------------------------------------------------------------------------------------
# Adam and AdamW
# ---------------------------------------------------------------------------------------
class AdamState(NamedTuple):
    count: int  # updates done so far (t - 1)
    m: np.ndarray  # first moment, moving average of g ("exp_avg")
    v: np.ndarray  # second moment, moving average of g^2 ("exp_avg_sq")
    v_max: np.ndarray | None = None  # running maximum of v (AMSGrad only; None otherwise)


def adam(
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    decoupled_weight_decay=False,
    *,
    _name="adam",
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

    ``direction = m_hat``, ``eff_lr`` :math:`= \eta / (\sqrt{\hat v} + \epsilon)`;
    ``info.terms`` holds ``t``, ``g``, ``g2`` (:math:`g^2`), ``c1``, ``c2`` (the bias
    corrections :math:`1 - \beta_i^t`), ``m_hat``, ``v_hat``, ``sqrt_v_hat`` and ``decay``.

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
    update in place, several times faster and equal to it bit for bit. The keyword-only
    ``_name`` is private: :func:`adamw` calls ``adam`` with it, so that its errors and ``repr``
    say ``adamw``.
    """
    name = _name  # "adamw" when adamw calls: the errors and the repr name it
    check_rate(name, "lr", lr)
    betas = beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    amsgrad = check_bool(name, "amsgrad", amsgrad)
    decoupled_weight_decay = check_bool(name, "decoupled_weight_decay", decoupled_weight_decay)
    decoupled = decoupled_weight_decay and weight_decay != 0

    def init(x):
        x = as_real_array(name, "x", x)
        v_max = np.zeros(x.shape) if amsgrad else None
        return AdamState(count=0, m=np.zeros(x.shape), v=np.zeros(x.shape), v_max=v_max)

    def step(x, g, state):
        x, g = check_step(name, x, g, state, AdamState)
        if amsgrad and state.v_max is None:
            raise ValueError(
                f"{name}: state.v_max is None (a state made without AMSGrad); this optimizer "
                "has amsgrad=True and needs the state its own init makes"
            )
        t = state.count + 1
        lr_t = rate_at(lr, state.count, name)
        decay = 1 - lr_t * weight_decay if decoupled else 1.0
        if weight_decay != 0 and not decoupled:
            g = g + weight_decay * x
        g2 = g * g
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * g2
        v_max = np.maximum(state.v_max, v) if amsgrad else None
        c1, c2 = 1 - beta1**t, 1 - beta2**t
        m_hat = m / c1
        v_hat = (v_max if amsgrad else v) / c2
        sqrt_v_hat = np.sqrt(v_hat)
        s = sqrt_v_hat + eps
        eff_lr = lr_t / s
        x_new = (x * decay if decoupled else x) - eff_lr * m_hat
        direction = m_hat + (weight_decay * s) * x if decoupled else m_hat
        terms = dict(t=t, g=g, g2=g2, c1=c1, c2=c2, m_hat=m_hat, v_hat=v_hat, decay=decay)
        terms["sqrt_v_hat"] = sqrt_v_hat
        return x_new, AdamState(t, m, v, v_max), StepInfo(lr_t, eff_lr, direction, terms)

    def explain(x, g, state, x_new, new, info):
        T = info.terms
        rows = [f"t = k + 1 = {T['t']}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decoupled:
            rows.append(f"g = g + weight_decay * x = {fmt(T['g'])}")
        v = "v_max" if amsgrad else "v"
        rows += [
            f"m = beta1 * m + (1 - beta1) * g = {fmt(beta1)} * {fmt(state.m)} + "
            f"{fmt(1 - beta1)} * {fmt(T['g'])} = {fmt(new.m)}",
            f"v = beta2 * v + (1 - beta2) * g^2 = {fmt(beta2)} * {fmt(state.v)} + "
            f"{fmt(1 - beta2)} * {fmt(T['g2'])} = {fmt(new.v)}",
            *([f"v_max = max(v_max, v) = {fmt(new.v_max)}"] if amsgrad else []),
            f"m_hat = m / (1 - beta1^t) = {fmt(new.m)} / {fmt(T['c1'])} = {fmt(T['m_hat'])}",
            f"v_hat = {v} / (1 - beta2^t) = {fmt(getattr(new, v))} / {fmt(T['c2'])}"
            f" = {fmt(T['v_hat'])}",
            f"eff_lr = lr / (sqrt(v_hat) + eps) = {fmt(info.lr)} / ({fmt(T['sqrt_v_hat'])} + "
            f"{fmt(eps)}) = {fmt(info.eff_lr)}",
        ]
        xd = "x * (1 - lr * weight_decay)" if decoupled else "x"
        xd_value = f"{fmt(x)} * {fmt(T['decay'])}" if decoupled else fmt(x)
        rows.append(
            f"x_new = {xd} - eff_lr * m_hat = {xd_value} - {fmt(info.eff_lr)} * "
            f"{fmt(T['m_hat'])} = {fmt(x_new)}"
        )
        return rows

    return Optimizer(name, init, step, hyperparams(adam, locals()), explain)


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
    opt = adam(lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True, _name="adamw")
    return replace(opt, hyperparams=hyperparams(adamw, opt.hyperparams))
