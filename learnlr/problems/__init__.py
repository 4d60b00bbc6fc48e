r"""Problems to optimize: test functions, noisy and minibatch problems, a network, online losses.

==================  ====================================================================
module              what it holds
==================  ====================================================================
``functions.py``    :class:`Problem` and the test functions with exact gradients and
                    known minima (quadratics, Rosenbrock, Beale, saddles, Himmelblau,
                    wells, a small curve-fitting net)
``stochastic.py``   noisy gradients and minibatch problems (least squares, logistic
                    regression): :class:`StochasticProblem`
``mlp.py``          the multilayer perceptron of chapters 10-12 on scikit-learn's digits
``online.py``       online convex problems, for regret (chapter 6)
==================  ====================================================================

A :class:`Problem` has ``loss(x)`` and ``grad(x)`` (both accept a single point of shape
``(dim,)`` or a stack of points of shape ``(..., dim)``, so a contour plot is one call),
a starting point ``x0``, the minimiser ``x_min`` and value ``f_min`` where known, and
``bounds`` for plotting 2-D problems. ``batch_grad(x, k)`` is the gradient an optimizer sees
at update ``k``: the exact gradient for deterministic problems, a minibatch gradient for the
stochastic ones (seeded, so every run with the same seed sees the same batches).

``from learnlr import problems`` loads the first two; ``from learnlr.problems import mlp,
online`` the others.
"""

from learnlr.problems.functions import (
    Problem,
    beale,
    curve_net,
    himmelblau,
    quadratic,
    quadratic1d,
    quadratic2d,
    quadratic_saddle,
    rosenbrock,
    saddle,
    wells,
)
from learnlr.problems.stochastic import (
    NoisyProblem,
    StochasticProblem,
    least_squares,
    logistic_regression,
    noisy,
    sparse_logistic_regression,
)

#: Every problem factory by name.
REGISTRY = {
    "quadratic2d": quadratic2d,
    "quadratic1d": quadratic1d,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "saddle": saddle,
    "quadratic_saddle": quadratic_saddle,
    "himmelblau": himmelblau,
    "wells": wells,
    "least_squares": least_squares,
    "logistic_regression": logistic_regression,
    "sparse_logistic_regression": sparse_logistic_regression,
}

__all__ = [
    "Problem",
    "NoisyProblem",
    "StochasticProblem",
    "quadratic",
    "quadratic1d",
    "quadratic2d",
    "rosenbrock",
    "beale",
    "saddle",
    "quadratic_saddle",
    "himmelblau",
    "wells",
    "noisy",
    "curve_net",
    "least_squares",
    "logistic_regression",
    "sparse_logistic_regression",
    "REGISTRY",
]
