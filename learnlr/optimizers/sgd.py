r"""Gradient descent and stochastic gradient descent with momentum: ``gd``, ``sgd``.

``gd`` is the plain update of chapter 1; ``sgd`` is ``torch.optim.SGD`` (momentum, dampening,
Nesterov, weight decay), the heavy ball of chapter 2. NumPy only.
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

__all__ = ["GDState", "gd", "SGDState", "sgd"]


# ---------------------------------------------------------------------------------------
# Plain gradient descent
# ---------------------------------------------------------------------------------------
class GDState(NamedTuple):
    count: int  # updates done so far


def gd(lr=1e-1):
    r"""Plain gradient descent: step against the gradient, scaled by one rate.

    With :math:`\eta` the learning rate ``lr`` and :math:`g = \nabla f(x)`:

    .. math::
        x \leftarrow x - \eta\, g

    Args:
        lr: learning rate :math:`\eta` (a number >= 0 or a schedule). Default ``0.1``, not
            :func:`sgd`'s ``1e-3``: ``gd`` is the course's textbook method on its test
            functions (``0.1`` is stable on the default bowl, whose :math:`2/L` is ``0.2``),
            while ``sgd`` mirrors ``torch.optim.SGD`` and keeps PyTorch's default.

    Example:
        >>> import numpy as np
        >>> opt = gd(lr=0.1)
        >>> x1, state, info = opt.step(np.array([1.0]), np.array([2.0]), opt.init(np.zeros(1)))
        >>> x1
        array([0.8])

    Equal to :func:`sgd` with ``momentum=0``. Cauchy (1847) is the usual reference.
    """
    check_rate("gd", "lr", lr)

    def init(x):
        as_real_array("gd", "x", x)
        return GDState(count=0)

    def step(x, g, state):
        x, g = check_step("gd", x, g, state, GDState)
        lr_t = rate_at(lr, state.count, "gd")
        eff_lr = np.full_like(x, lr_t, dtype=float)
        return x - lr_t * g, GDState(state.count + 1), StepInfo(lr_t, eff_lr, g)

    def explain(x, g, state, x_new, new_state, info):
        return [
            f"g = grad f(x) = {fmt(g)}",
            f"x_new = x - lr * g = {fmt(x)} - {fmt(info.lr)} * {fmt(g)} = {fmt(x_new)}",
        ]

    return Optimizer("gd", init, step, hyperparams(gd, locals()), explain)


# ---------------------------------------------------------------------------------------
# SGD with momentum (PyTorch's form)
# ---------------------------------------------------------------------------------------
class SGDState(NamedTuple):
    count: int  # updates done so far
    b: np.ndarray  # momentum buffer (zeros until the first update fills it)


def sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    With :math:`\eta` = ``lr``, :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``,
    :math:`\lambda` = ``weight_decay`` and :math:`b` the momentum buffer:

    .. math::
        g &\leftarrow g + \lambda x \\
        b &\leftarrow \begin{cases} g & \text{first update} \\
                     \mu b + (1 - \tau) g & \text{afterwards} \end{cases} \\
        d &= \begin{cases} g + \mu b & \text{nesterov} \\ b & \text{otherwise} \end{cases}
             \quad (d = g \text{ if } \mu = 0) \\
        x &\leftarrow x - \eta\, d

    Args:
        lr: learning rate :math:`\eta` (number >= 0 or schedule). Default ``1e-3``,
            PyTorch's, as every default here (:func:`gd`, the course's textbook method and
            not a PyTorch optimizer, defaults to ``0.1``).
        momentum: :math:`\mu \ge 0`. Default 0.
        dampening: :math:`\tau` in [0, 1]. Default 0.
        weight_decay: L2 penalty :math:`\lambda \ge 0` added to the gradient. Default 0.
        nesterov: use Nesterov's look-ahead form (needs momentum > 0, dampening = 0).

    Example:
        >>> import numpy as np
        >>> opt = sgd(lr=0.1, momentum=0.9)
        >>> x, s = np.array([1.0]), opt.init(np.array([1.0]))
        >>> x, s, _ = opt.step(x, np.array([1.0]), s)
        >>> x, s, _ = opt.step(x, np.array([1.0]), s)
        >>> x.round(4), s.b
        (array([0.71]), array([1.9]))

    Frameworks differ: PyTorch keeps the rate *outside* the buffer (as here); Sutskever et
    al. (2013) and Keras put it inside, :math:`v \leftarrow \mu v - \eta g`,
    :math:`x \leftarrow x + v`. The two agree for a constant rate and differ once the rate
    changes, because the old buffer then carries the old rate. Polyak (1964); Sutskever,
    Martens, Dahl & Hinton (2013), ICML.
    """
    name = "sgd"
    check_rate(name, "lr", lr)
    momentum = check_nonnegative(name, "momentum", momentum)
    dampening = check_interval(name, "dampening", dampening, 0.0, 1.0, "[]")
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    nesterov = check_bool(name, "nesterov", nesterov)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"sgd: nesterov=True needs momentum > 0 and dampening = 0, "
            f"got momentum={momentum!r}, dampening={dampening!r}"
        )

    def init(x):
        return SGDState(count=0, b=np.zeros_like(as_real_array(name, "x", x), dtype=float))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, SGDState)
        lr_t = rate_at(lr, state.count, name)
        if weight_decay != 0:
            g = g + weight_decay * x
        b = state.b
        if momentum != 0:
            b = g.copy() if state.count == 0 else momentum * b + (1 - dampening) * g
            d = g + momentum * b if nesterov else b
        else:
            d = g
        eff_lr = np.full_like(x, lr_t, dtype=float)
        info = StepInfo(lr_t, eff_lr, d, {"g": g})
        return x - lr_t * d, SGDState(state.count + 1, b), info

    def explain(x, g, state, x_new, new, info):
        rows = [f"g = grad f(x) = {fmt(g)}"]
        g, d = info.terms["g"], fmt(info.direction)
        if weight_decay:
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        if momentum and state.count == 0:
            rows.append(f"b = g (first update) = {fmt(new.b)}")
        elif momentum:
            rows.append(
                f"b = momentum * b + (1 - dampening) * g = {fmt(momentum)} * {fmt(state.b)}"
                f" + {fmt(1 - dampening)} * {fmt(g)} = {fmt(new.b)}"
            )
        d_is = "g + momentum * b" if nesterov else "b" if momentum else "g"
        rows.append(f"d = {d_is} = {d}")
        rows.append(f"x_new = x - lr * d = {fmt(x)} - {fmt(info.lr)} * {d} = {fmt(x_new)}")
        return rows

    return Optimizer(name, init, step, hyperparams(sgd, locals()), explain)
