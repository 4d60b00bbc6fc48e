r"""Optimizers written from scratch in NumPy, each a pair of pure functions.

Every factory returns an :class:`~learnlr._base.Optimizer` with

* ``init(x) -> state``: the starting state, a small ``NamedTuple`` holding ``count`` (updates
  done so far) and the algorithm's buffers;
* ``step(x, g, state) -> (x_new, state_new, info)``: one update from the gradient ``g``.
  Inputs are never modified. ``info`` is a :class:`~learnlr._base.StepInfo` with the rate
  ``lr`` used, a per-parameter ``eff_lr`` and a ``direction`` such that
  ``x_new == x - info.eff_lr * info.direction``.

Hyper-parameter names and defaults are those of ``torch.optim`` (PyTorch 2.13), so code moves
to PyTorch without translation; the package's tests compare every optimizer with stored
``torch.optim`` trajectories. ``lr`` may be a number or a schedule (a function of the update
number ``k``, see :mod:`learnlr.schedules`); update ``k`` uses ``lr(k)`` and Adam-style bias
corrections use ``t = k + 1``.

What the door checks (a ``TypeError`` or ``ValueError`` naming the optimizer, the argument
and the value): ``init(x)`` and ``step`` take arrays of real numbers (lists and integer
arrays are converted; strings, booleans and complex numbers are refused, since ``g * g`` is
not :math:`|g|^2` for complex ``g``); ``g`` must have the shape of ``x`` (no broadcasting of a
``(1,)`` or ``(n, 1)`` gradient); ``state`` must be the optimizer's own state type, with arrays
of ``x``'s shape; a schedule must give a finite rate >= 0 (the error names the step). Every
state field has its own buffer, and AMSGrad's ``v_max`` is ``None`` unless ``amsgrad=True``.

Floating-point trouble (an infinite gradient, an overflow) follows the caller's
``np.errstate``, as in any NumPy code: NumPy's default prints a ``RuntimeWarning``,
``np.errstate(all="ignore")`` silences it (:func:`learnlr.run` does so and reports the
divergence in ``trace.status``) and ``np.errstate(all="raise")`` stops at the first bad
operation. Unlike ``torch.optim``, which prints nothing, a step does not silence NumPy itself:
a hand-written loop should hear when its numbers stop being finite, and reading and
setting the error state would cost about a third of a small step's time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from learnlr._base import Optimizer, StepInfo, fmt, rate_at
from learnlr._checks import (
    as_real_array,
    check_betas,
    check_bool,
    check_interval,
    check_nonnegative,
    check_rate,
    check_step,
)

__all__ = [
    "gd",
    "sgd",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "nadam",
    "radam",
    "REGISTRY",
]


def _lines(*rows: str) -> list[str]:
    return [r for r in rows if r]


def _zeros(x: np.ndarray) -> np.ndarray:
    """A fresh float buffer of zeros shaped like ``x``: one per state field, never shared."""
    return np.zeros(x.shape)


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
        lr: learning rate :math:`\eta` (a number >= 0 or a schedule).

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
        return _lines(
            f"g = grad f(x) = {fmt(g)}",
            f"x_new = x - lr * g = {fmt(x)} - {fmt(info.lr)} * {fmt(g)} = {fmt(x_new)}",
        )

    return Optimizer("gd", init, step, {"lr": lr}, explain)


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
        lr: learning rate :math:`\eta` (number >= 0 or schedule). Default ``1e-3``.
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
        return x - lr_t * d, SGDState(state.count + 1, b), StepInfo(lr_t, eff_lr, d)

    def explain(x, g, state, x_new, new_state, info):
        rows = [f"g = grad f(x) = {fmt(g)}"]
        if weight_decay:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        if momentum:
            if state.count == 0:
                rows.append(f"b = g (first update) = {fmt(new_state.b)}")
            else:
                rows.append(
                    f"b = momentum * b + (1 - dampening) * g = {fmt(momentum)} * {fmt(state.b)}"
                    f" + {fmt(1 - dampening)} * {fmt(g)} = {fmt(new_state.b)}"
                )
            if nesterov:
                rows.append(f"d = g + momentum * b = {fmt(info.direction)}")
            else:
                rows.append(f"d = b = {fmt(info.direction)}")
        else:
            rows.append(f"d = g = {fmt(info.direction)}")
        rows.append(
            f"x_new = x - lr * d = {fmt(x)} - {fmt(info.lr)} * {fmt(info.direction)} = {fmt(x_new)}"
        )
        return rows

    hp = dict(
        lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov
    )
    return Optimizer(name, init, step, hp, explain)


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

    so ``direction = g`` and ``eff_lr`` :math:`= \eta_t / (\sqrt{G} + \epsilon)`.

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
        G = state.G + g * g
        lr_t = rate_at(lr, state.count, name) / (1 + (t - 1) * lr_decay)
        eff_lr = lr_t / (np.sqrt(G) + eps)
        return x - eff_lr * g, AdagradState(t, G), StepInfo(lr_t, eff_lr, g)

    def explain(x, g, state, x_new, new_state, info):
        t = state.count + 1
        rows = [f"t = {t}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        rows += [
            f"G = G + g^2 = {fmt(state.G)} + {fmt(g * g)} = {fmt(new_state.G)}",
            f"lr_t = lr / (1 + (t - 1) * lr_decay) = {fmt(info.lr)}",
            f"eff_lr = lr_t / (sqrt(G) + eps) = {fmt(info.lr)} / ({fmt(np.sqrt(new_state.G))}"
            f" + {fmt(eps)}) = {fmt(info.eff_lr)}",
            f"x_new = x - eff_lr * g = {fmt(x)} - {fmt(info.eff_lr)} * {fmt(g)} = {fmt(x_new)}",
        ]
        return rows

    hp = dict(
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        initial_accumulator_value=initial_accumulator_value,
        eps=eps,
    )
    return Optimizer(name, init, step, hp, explain)


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
    ``direction = b``, ``eff_lr = lr``.

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
        return RMSpropState(count=0, v=_zeros(x), g_avg=_zeros(x), b=_zeros(x))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, RMSpropState)
        lr_t = rate_at(lr, state.count, name)
        if weight_decay != 0:
            g = g + weight_decay * x
        v = alpha * state.v + (1 - alpha) * (g * g)
        g_avg = state.g_avg
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            s = np.sqrt(v - g_avg * g_avg) + eps
        else:
            s = np.sqrt(v) + eps
        b = state.b
        if momentum > 0:
            b = momentum * b + g / s
            eff_lr, d = np.full_like(x, lr_t, dtype=float), b
        else:
            eff_lr, d = lr_t / s, g
        new_state = RMSpropState(state.count + 1, v, g_avg, b)
        return x - eff_lr * d, new_state, StepInfo(lr_t, eff_lr, d)

    def explain(x, g, state, x_new, new_state, info):
        rows = [f"g = grad f(x) = {fmt(g)}"]
        if weight_decay:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        rows.append(
            f"v = alpha * v + (1 - alpha) * g^2 = {fmt(alpha)} * {fmt(state.v)} + "
            f"{fmt(1 - alpha)} * {fmt(g * g)} = {fmt(new_state.v)}"
        )
        if centered:
            rows.append(f"g_avg = alpha * g_avg + (1 - alpha) * g = {fmt(new_state.g_avg)}")
            s = np.sqrt(new_state.v - new_state.g_avg**2) + eps
            rows.append(f"s = sqrt(v - g_avg^2) + eps = {fmt(s)}")
        else:
            s = np.sqrt(new_state.v) + eps
            rows.append(f"s = sqrt(v) + eps = {fmt(s)}")
        if momentum:
            rows.append(
                f"b = momentum * b + g / s = {fmt(momentum)} * {fmt(state.b)} + "
                f"{fmt(g / s)} = {fmt(new_state.b)}"
            )
            rows.append(f"x_new = x - lr * b = {fmt(x)} - {fmt(info.lr)} * {fmt(new_state.b)}")
        else:
            rows.append(f"eff_lr = lr / s = {fmt(info.lr)} / {fmt(s)} = {fmt(info.eff_lr)}")
            rows.append(f"x_new = x - eff_lr * g = {fmt(x)} - {fmt(info.eff_lr)} * {fmt(g)}")
        rows[-1] += f" = {fmt(x_new)}"
        return rows

    hp = dict(
        lr=lr,
        alpha=alpha,
        eps=eps,
        weight_decay=weight_decay,
        momentum=momentum,
        centered=centered,
    )
    return Optimizer(name, init, step, hp, explain)


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
        return AdadeltaState(count=0, v=_zeros(x), u=_zeros(x))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, AdadeltaState)
        lr_t = rate_at(lr, state.count, name)
        if weight_decay != 0:
            g = g + weight_decay * x
        v = rho * state.v + (1 - rho) * (g * g)
        ratio = np.sqrt(state.u + eps) / np.sqrt(v + eps)
        delta = ratio * g
        u = rho * state.u + (1 - rho) * delta * delta
        eff_lr = lr_t * ratio
        return x - lr_t * delta, AdadeltaState(state.count + 1, v, u), StepInfo(lr_t, eff_lr, g)

    def explain(x, g, state, x_new, new_state, info):
        rows = [f"g = grad f(x) = {fmt(g)}"]
        if weight_decay:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        delta = info.eff_lr / info.lr * g if info.lr else np.zeros_like(g)
        rows += [
            f"v = rho * v + (1 - rho) * g^2 = {fmt(new_state.v)}",
            f"delta = sqrt(u + eps) / sqrt(v + eps) * g = {fmt(np.sqrt(state.u + eps))}"
            f" / {fmt(np.sqrt(new_state.v + eps))} * {fmt(g)} = {fmt(delta)}",
            f"u = rho * u + (1 - rho) * delta^2 = {fmt(new_state.u)}",
            f"x_new = x - lr * delta = {fmt(x)} - {fmt(info.lr)} * {fmt(delta)} = {fmt(x_new)}",
        ]
        return rows

    hp = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
    return Optimizer(name, init, step, hp, explain)


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
        return AdamState(count=0, m=_zeros(x), v=_zeros(x), v_max=_zeros(x) if amsgrad else None)

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

    For a million parameters and more, :class:`learnlr.inplace.InPlace` runs this same
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
    beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    momentum_decay = check_nonnegative(name, "momentum_decay", momentum_decay)
    decoupled = check_bool(name, "decoupled_weight_decay", decoupled_weight_decay)

    def mu(t):
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))

    def init(x):
        x = as_real_array(name, "x", x)
        return NAdamState(count=0, m=_zeros(x), v=_zeros(x), mu_product=1.0)

    def step(x, g, state):
        x, g = check_step(name, x, g, state, NAdamState)
        t = state.count + 1
        lr_t = rate_at(lr, state.count, name)
        x_decayed = x
        if weight_decay != 0:
            if decoupled:
                x_decayed = x * (1 - lr_t * weight_decay)
            else:
                g = g + weight_decay * x
        mu_t, mu_next = mu(t), mu(t + 1)
        mu_product = state.mu_product * mu_t
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * (g * g)
        s = np.sqrt(v / (1 - beta2**t)) + eps
        d = (1 - mu_t) / (1 - mu_product) * g + mu_next / (1 - mu_product * mu_next) * m
        eff_lr = lr_t / s
        x_new = x_decayed - eff_lr * d
        direction = d + (weight_decay * s) * x if (decoupled and weight_decay) else d
        return x_new, NAdamState(t, m, v, mu_product), StepInfo(lr_t, eff_lr, direction)

    def explain(x, g, state, x_new, new_state, info):
        t = state.count + 1
        rows = [f"t = k + 1 = {t}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decoupled:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        rows += [
            f"mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)) = {fmt(mu(t), 6)}, "
            f"mu_(t+1) = {fmt(mu(t + 1), 6)}",
            f"Pi_t = Pi_(t-1) * mu_t = {fmt(new_state.mu_product, 6)}",
            f"m = {fmt(new_state.m)}, v = {fmt(new_state.v)}",
            f"d = (1 - mu_t)/(1 - Pi_t) * g + mu_(t+1)/(1 - Pi_t mu_(t+1)) * m = "
            f"{fmt(info.direction)}",
            f"eff_lr = lr / (sqrt(v / (1 - beta2^t)) + eps) = {fmt(info.eff_lr)}",
            f"x_new = {fmt(x_new)}",
        ]
        return rows

    hp = dict(
        lr=lr,
        betas=(beta1, beta2),
        eps=eps,
        weight_decay=weight_decay,
        momentum_decay=momentum_decay,
        decoupled_weight_decay=decoupled,
    )
    return Optimizer(name, init, step, hp, explain)


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

    ``direction = m_hat``; ``eff_lr`` is the factor in front of it. With the default
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
    beta1, beta2 = check_betas(name, betas)
    eps = check_nonnegative(name, "eps", eps)
    weight_decay = check_nonnegative(name, "weight_decay", weight_decay)
    decoupled = check_bool(name, "decoupled_weight_decay", decoupled_weight_decay)
    rho_inf = 2 / (1 - beta2) - 1

    def rho(t):
        return rho_inf - 2 * t * beta2**t / (1 - beta2**t)

    def init(x):
        x = as_real_array(name, "x", x)
        return RAdamState(count=0, m=_zeros(x), v=_zeros(x))

    def step(x, g, state):
        x, g = check_step(name, x, g, state, RAdamState)
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
        m_hat = m / (1 - beta1**t)
        rho_t = rho(t)
        if rho_t > 5.0:
            r_t = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            c = r_t * np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)  # the adaptive factor
        else:
            c = np.ones_like(x, dtype=float)  # variance not yet tractable: no adaptation
        eff_lr = lr_t * c
        x_new = x_decayed - eff_lr * m_hat
        direction = m_hat
        if decoupled and weight_decay:
            direction = m_hat + (weight_decay / c) * x
        return x_new, RAdamState(t, m, v), StepInfo(lr_t, eff_lr, direction)

    def explain(x, g, state, x_new, new_state, info):
        t = state.count + 1
        rho_t = rho(t)
        rows = [f"t = k + 1 = {t}", f"g = grad f(x) = {fmt(g)}"]
        if weight_decay and not decoupled:
            g = g + weight_decay * x
            rows.append(f"g = g + weight_decay * x = {fmt(g)}")
        rows += [
            f"m = {fmt(new_state.m)}, v = {fmt(new_state.v)}",
            f"m_hat = m / (1 - beta1^t) = {fmt(new_state.m / (1 - beta1**t))}",
            f"rho_inf = {fmt(rho_inf, 6)}, rho_t = {fmt(rho_t, 6)}",
        ]
        if rho_t > 5.0:
            rows.append(
                f"rho_t > 5: eff_lr = lr * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps) = "
                f"{fmt(info.eff_lr)}"
            )
        else:
            rows.append(f"rho_t <= 5: no adaptive rate, eff_lr = lr = {fmt(info.lr)}")
        if decoupled and weight_decay:
            rows.append(f"x_new = x * (1 - lr * weight_decay) - eff_lr * m_hat = {fmt(x_new)}")
        else:
            rows.append(f"x_new = x - eff_lr * m_hat = {fmt(x_new)}")
        return rows

    hp = dict(
        lr=lr,
        betas=(beta1, beta2),
        eps=eps,
        weight_decay=weight_decay,
        decoupled_weight_decay=decoupled,
    )
    return Optimizer(name, init, step, hp, explain)


#: Every optimizer factory by name, for tests and demos that loop over all of them.
REGISTRY = {
    "gd": gd,
    "sgd": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adadelta": adadelta,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "radam": radam,
}
