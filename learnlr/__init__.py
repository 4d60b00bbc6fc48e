"""learnlr: learning rates and adaptive optimizers, from scratch in NumPy.

The package is laid out like the course:

==========================  ===================================================================
``learnlr.optimizers``      every optimizer, one module per family, and ``Optimizer``
``learnlr.schedules``       every learning-rate schedule, and reduce-on-plateau
``learnlr.problems``        test functions, noisy and minibatch problems, the network, online
``learnlr.trace``           ``run`` (a ``Trace`` of every update), ``explain``,
                            ``run_eval`` (evaluated where the model is evaluated)
``learnlr.finder``          the learning-rate finder
``learnlr.tuning``          tuning a rate on a grid that grows until the best is inside it
``learnlr.landscape``       curvature: Hessian eigenvalues, sharpness
``learnlr.viz``             figures and live demos (matplotlib, ipywidgets): only here
``learnlr.course``          self-checking exercises, grading, the chapters' helpers
==========================  ===================================================================

The math (``optimizers``, ``schedules``, ``problems``, ``trace``, ``finder``, ``tuning``,
``landscape``) imports NumPy only and never imports ``viz`` or ``course``;
``tests/test_layers.py`` checks it.

Step numbering, once for the whole package: updates are counted from ``k = 0``;
``schedule(k)`` is the rate used by update ``k`` (PyTorch: ``get_last_lr()`` after ``k``
calls of ``scheduler.step()``); Adam's bias correction uses ``t = k + 1``.
"""

from learnlr import optimizers, problems, schedules
from learnlr.optimizers.base import Optimizer, StepInfo
from learnlr.trace import Explanation, Trace, explain, run, run_eval

__all__ = [
    "optimizers",
    "schedules",
    "problems",
    "run",
    "run_eval",
    "explain",
    "Trace",
    "Explanation",
    "Optimizer",
    "StepInfo",
]
__version__ = "0.1.0"
