"""The references of the one-step exercises, for the package's tests only.

The chapters' hidden tests carry their own copies (in ``### BEGIN HIDDEN TESTS`` regions of
the notebooks); these live here, outside the installed package, so that a student's kernel
cannot import them. Each one calls the optimizer of :mod:`learnlr.optimizers` that the
package's tests compare with PyTorch.
"""

import numpy as np

from learnlr.optimizers import (
    AdadeltaState,
    AdagradState,
    AdamState,
    RMSpropState,
    SGDState,
    adadelta,
    adagrad,
    adam,
    adamw,
    rmsprop,
    sgd,
)


def momentum_step_reference(x, g, b, lr, momentum, dampening, first):
    """One step of SGD with momentum in PyTorch's form: ``(x_new, b_new)``."""
    opt = sgd(lr=lr, momentum=momentum, dampening=dampening)
    state = SGDState(count=0 if first else 1, b=np.asarray(b, dtype=float))
    x_new, new_state, _ = opt.step(np.asarray(x, dtype=float), np.asarray(g, dtype=float), state)
    return x_new, new_state.b


def adagrad_step_reference(x, g, G, lr, eps):
    """One AdaGrad step, PyTorch's form: ``(x_new, G_new)``."""
    state = AdagradState(count=1, G=np.asarray(G, dtype=float))
    x_new, new_state, _ = adagrad(lr=lr, eps=eps).step(x, g, state)
    return x_new, new_state.G


def rmsprop_step_reference(x, g, v, lr, alpha, eps):
    """One RMSProp step, PyTorch's form: ``(x_new, v_new)``."""
    zero = np.zeros_like(np.asarray(x, dtype=float))
    state = RMSpropState(count=1, v=np.asarray(v, dtype=float), g_avg=zero, b=zero)
    x_new, new_state, _ = rmsprop(lr=lr, alpha=alpha, eps=eps).step(x, g, state)
    return x_new, new_state.v


def adadelta_step_reference(x, g, v, u, rho, eps):
    """One Adadelta step as Zeiler (2012) wrote it (no rate): ``(x_new, v_new, u_new)``."""
    state = AdadeltaState(count=1, v=np.asarray(v, dtype=float), u=np.asarray(u, dtype=float))
    x_new, new_state, _ = adadelta(lr=1.0, rho=rho, eps=eps).step(x, g, state)
    return x_new, new_state.v, new_state.u


def adam_step_reference(x, g, m, v, t, lr, beta1, beta2, eps):
    """One Adam update, PyTorch's form (``t`` is 1 for the first): ``(x_new, m_new, v_new)``."""
    state = AdamState(count=t - 1, m=m, v=v, v_max=np.zeros_like(v))
    x_new, s, _ = adam(lr=lr, betas=(beta1, beta2), eps=eps).step(x, g, state)
    return x_new, s.m, s.v


def amsgrad_step_reference(x, g, m, v, v_max, t, lr, beta1, beta2, eps):
    """One AMSGrad update: ``(x_new, m_new, v_new, v_max_new)``."""
    opt = adam(lr=lr, betas=(beta1, beta2), eps=eps, amsgrad=True)
    x_new, s, _ = opt.step(x, g, AdamState(count=t - 1, m=m, v=v, v_max=v_max))
    return x_new, s.m, s.v, s.v_max


def adamw_step_reference(x, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    """One AdamW update, PyTorch's form: ``(x_new, m_new, v_new)``."""
    opt = adamw(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    state = AdamState(count=t - 1, m=m, v=v, v_max=np.zeros_like(v))
    x_new, s, _ = opt.step(x, g, state)
    return x_new, s.m, s.v
