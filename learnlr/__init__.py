"""learnlr: learning rates and adaptive optimizers, from scratch in NumPy.

The math layer (:mod:`learnlr.optimizers`, :mod:`learnlr.schedules`,
:mod:`learnlr.problems`, :mod:`learnlr.trace`) imports NumPy only; :mod:`learnlr.plots`
and :mod:`learnlr.widgets` add matplotlib and ipywidgets on top and are imported on demand.

Step numbering, once for the whole package: updates are counted from ``k = 0``;
``schedule(k)`` is the rate used by update ``k`` (PyTorch: ``get_last_lr()`` after ``k``
calls of ``scheduler.step()``); Adam's bias correction uses ``t = k + 1``.
"""

from learnlr import optimizers, problems, schedules
from learnlr._base import Optimizer, StepInfo
from learnlr.trace import Explanation, Trace, explain, run

__all__ = [
    "optimizers",
    "schedules",
    "problems",
    "run",
    "explain",
    "Trace",
    "Explanation",
    "Optimizer",
    "StepInfo",
]
__version__ = "0.1.0"
