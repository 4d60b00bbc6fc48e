r"""Optimizers written from scratch in NumPy, each a pair of pure functions, one module per family.

====================  =======================================================  ================
module                optimizers                                               follows
====================  =======================================================  ================
``sgd.py``            :func:`gd`, :func:`sgd` (momentum, Nesterov)             ``torch.optim``
``adagrad.py``        :func:`adagrad`                                          ``torch.optim``
``rmsprop.py``        :func:`rmsprop`                                          ``torch.optim``
``adadelta.py``       :func:`adadelta`                                         ``torch.optim``
``adam.py``           :func:`adam`, :func:`adamw` (AMSGrad)                    ``torch.optim``
``nadam.py``          :func:`nadam`                                            ``torch.optim``
``radam.py``          :func:`radam`                                            ``torch.optim``
``lion.py``           :func:`lion`                                             ``lion-pytorch``
``schedule_free.py``  :func:`schedule_free_sgd`, :func:`schedule_free_adamw`   ``schedulefree``
``prodigy.py``        :func:`prodigy`                                          ``prodigyopt``
``inplace.py``        :class:`~learnlr.optimizers.inplace.InPlace`: Adam and
                      SGD updating arrays in place, for a million parameters
``base.py``           the types every optimizer shares:
                      :class:`~learnlr.optimizers.base.Optimizer`, StepInfo
====================  =======================================================  ================

Every factory returns an :class:`~learnlr.optimizers.base.Optimizer` with

* ``init(x) -> state``: the starting state, a small ``NamedTuple`` holding ``count`` (updates
  done so far) and the algorithm's buffers;
* ``step(x, g, state) -> (x_new, state_new, info)``: one update from the gradient ``g``.
  Inputs are never modified. ``info`` is a :class:`~learnlr.optimizers.base.StepInfo` with the rate
  ``lr`` used, a per-parameter ``eff_lr`` and a ``direction`` such that
  ``x_new == x - info.eff_lr * info.direction``, and ``terms``, the step's intermediates
  (``m_hat``, ``v_hat``, ...) by name;
* ``explain(x, g, state, x_new, state_new, info) -> list[str]``: the update written out with
  its numbers, formatted from ``info.terms`` (see :func:`learnlr.trace.explain`).

The factory's arguments, once checked, are ``opt.hyperparams`` (and ``repr(opt)``).

Hyper-parameter names and defaults are those of ``torch.optim`` (PyTorch 2.13) for
:data:`TORCH`, so code moves to PyTorch without translation, and those of the authors'
packages for :data:`MODERN`; the tests compare every optimizer with stored trajectories of
the package it follows. ``lr`` may be a number or a schedule (a function of the update
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

from learnlr.optimizers.adadelta import AdadeltaState, adadelta
from learnlr.optimizers.adagrad import AdagradState, adagrad
from learnlr.optimizers.adam import AdamState, adam, adamw
from learnlr.optimizers.base import Optimizer as Optimizer
from learnlr.optimizers.base import StepInfo as StepInfo
from learnlr.optimizers.inplace import InPlace as InPlace
from learnlr.optimizers.lion import LionState, lion
from learnlr.optimizers.nadam import NAdamState, nadam
from learnlr.optimizers.prodigy import ProdigyState, prodigy
from learnlr.optimizers.radam import RAdamState, radam
from learnlr.optimizers.rmsprop import RMSpropState, rmsprop
from learnlr.optimizers.schedule_free import (
    ScheduleFreeState,
    schedule_free_adamw,
    schedule_free_sgd,
)
from learnlr.optimizers.sgd import GDState, SGDState, gd, sgd

#: The optimizers that follow ``torch.optim``, by name (compared with stored PyTorch runs).
TORCH = {
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
#: The optimizers from after Adam, by name, that follow their authors' packages.
MODERN = {
    "lion": lion,
    "schedule_free_sgd": schedule_free_sgd,
    "schedule_free_adamw": schedule_free_adamw,
    "prodigy": prodigy,
}
#: Every optimizer factory by name, for tests and demos that loop over all of them.
REGISTRY = {**TORCH, **MODERN}

__all__ = [
    *REGISTRY,
    "REGISTRY",
    "TORCH",
    "MODERN",
    "GDState",
    "SGDState",
    "AdagradState",
    "RMSpropState",
    "AdadeltaState",
    "AdamState",
    "NAdamState",
    "RAdamState",
    "LionState",
    "ScheduleFreeState",
    "ProdigyState",
]
