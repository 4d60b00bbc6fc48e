r"""A small multilayer perceptron in NumPy, as a learnlr problem, on the bundled digits.

Chapter 10 trains a real network with every optimizer of the course. The network is a
learnlr :class:`~learnlr.problems.StochasticProblem` whose parameter vector ``w`` is the flat
concatenation of its layers' weights and biases, so :func:`learnlr.run`, every optimizer,
every schedule and the learning-rate finder work on it unchanged.

The model, for an input row :math:`x` (64 pixel values in [0, 1]) and layers
:math:`l = 1, \dots, L`:

.. math::
    h_0 = x, \quad z_l = h_{l-1} W_l + b_l, \quad h_l = \phi(z_l) \ (l < L), \quad
    \text{logits} = z_L

with :math:`\phi` = ReLU or tanh. The loss of a batch of :math:`B` rows with labels
:math:`y_i \in \{0, \dots, 9\}` is the mean softmax cross-entropy plus an optional L2
penalty on the weights (not the biases):

.. math::
    p_{ic} = \frac{e^{z_{ic}}}{\sum_{c'} e^{z_{ic'}}}, \qquad
    f(w) = -\frac1B \sum_i \log p_{i y_i} + \frac{l_2}{2} \sum_l \lVert W_l \rVert^2 .

Backpropagation starts from :math:`\partial f / \partial z_L = (p - Y) / B` (:math:`Y` the
one-hot labels, :func:`dlogits`) and applies the chain rule layer by layer:
:math:`\partial W_l = h_{l-1}^\top \delta_l + l_2 W_l`,
:math:`\partial b_l = \sum_i \delta_{l,i}`,
:math:`\delta_{l-1} = (\delta_l W_l^\top) \odot \phi'(z_{l-1})`.
:func:`gradient_check` compares the result with central finite differences. Backpropagation:
Rumelhart, Hinton & Williams (1986), Nature 323, 533-536.

The data: :func:`load_digits_split` reads scikit-learn's bundled copy of the UCI optical
recognition of handwritten digits test set (1,797 images of 8x8 pixels, Alpaydin & Kaynak
1998); nothing is downloaded, and scikit-learn is not imported: the function reads the
file that ``sklearn.datasets.load_digits`` reads.

NumPy only (plus the data file that comes with scikit-learn); the chapters draw the figures.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    check_batch_size,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_start_loss,
    check_vector,
)
from learnlr.optimizers.base import Optimizer, check_optimizer
from learnlr.problems.functions import check_problem
from learnlr.problems.stochastic import StochasticProblem
from learnlr.trace import run

__all__ = [
    "DigitsSplit",
    "load_digits_split",
    "softmax",
    "cross_entropy",
    "dlogits",
    "accuracy",
    "init_params",
    "MLPProblem",
    "mlp_problem",
    "TrainResult",
    "train",
    "train_seeds",
    "gradient_check",
]

ACTIVATIONS = ("relu", "tanh")
SPLITS = ("train", "val", "test")


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------
class DigitsSplit(NamedTuple):
    """Images (rows of 64 values in [0, 1]) and labels (0-9) of the three splits."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_digits_split(seed=0, n_val=360, n_test=360) -> DigitsSplit:
    r"""The 1,797 bundled 8x8 digit images, shuffled and split into train / validation / test.

    Pixel values (0 to 16 in the file) are divided by 16. The order is a permutation drawn
    from ``seed``; the first ``n_test`` images are the test set, the next ``n_val`` the
    validation set, the rest (1,077 by default) the training set.

    Args:
        seed: seed of the shuffle (an integer >= 0).
        n_val, n_test: sizes of the validation and test sets (>= 1 each, leaving at least
            one training image).

    Example:
        >>> data = load_digits_split(seed=0)
        >>> data.X_train.shape, data.X_val.shape, data.X_test.shape
        ((1077, 64), (360, 64), (360, 64))
        >>> float(data.X_train.max()), sorted(set(data.y_test.tolist())) == list(range(10))
        (1.0, True)

    The data are the test part of the UCI "Optical Recognition of Handwritten Digits" set
    (Alpaydin & Kaynak 1998), as shipped with scikit-learn (``sklearn.datasets.load_digits``,
    read from disk, no download).
    """
    name = "load_digits_split"
    seed = check_int(name, "seed", seed, 0)
    n_val = check_int(name, "n_val", n_val, 1)
    n_test = check_int(name, "n_test", n_test, 1)
    table = _bundled_digits()
    X = table[:, :-1] / 16.0
    y = table[:, -1].astype(np.int64)
    n = X.shape[0]
    if n_val + n_test >= n:
        raise ValueError(
            f"{name}: n_val + n_test must leave training images (< {n}), "
            f"got n_val={n_val}, n_test={n_test}"
        )
    perm = np.random.default_rng(seed).permutation(n)
    test, val, train = np.split(perm, [n_test, n_test + n_val])
    return DigitsSplit(X[train], y[train], X[val], y[val], X[test], y[test])


def _bundled_digits() -> np.ndarray:
    """scikit-learn's ``digits.csv.gz`` (64 pixels and the label per row), read directly.

    This is the file ``sklearn.datasets.load_digits`` reads; locating it without importing
    scikit-learn saves a few seconds of imports (SciPy and more) in every chapter that loads
    the digits. ``tests/test_mlp.py`` checks that the values are ``load_digits()``'s.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "load_digits_split: the digits ship with scikit-learn, which learnlr's notebooks "
            "extra installs: pip install 'learnlr[notebooks]' (or pip install scikit-learn)"
        )
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
    with gzip.open(path, "rt") as f:
        return np.loadtxt(f, delimiter=",")


# --------------------------------------------------------------------------------------
# Softmax cross-entropy and its gradient
# --------------------------------------------------------------------------------------
def softmax(logits) -> np.ndarray:
    r"""Row-wise softmax :math:`p_{ic} = e^{z_{ic} - m_i} / \sum_{c'} e^{z_{ic'} - m_i}`.

    Subtracting each row's maximum :math:`m_i` changes nothing mathematically and keeps
    ``exp`` from overflowing.

    Example:
        >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(4)
        array([[0.5, 0.5],
               [1. , 0. ]])
    """
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _labels(func, y, logits):
    """Integer class labels, one per row of ``logits`` (integral floats are accepted)."""
    y = np.asarray(y)
    if y.dtype.kind == "f" and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu" or y.shape != logits.shape[:1]:
        raise ValueError(
            f"{func}: y must hold one integer label per row of logits "
            f"({logits.shape[0]} rows), got {y.dtype} array of shape {y.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= logits.shape[1]):
        raise ValueError(
            f"{func}: labels must be in [0, {logits.shape[1]}), got {y.min()} to {y.max()}"
        )
    return y


def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def cross_entropy(logits, y) -> float:
    r"""Mean softmax cross-entropy :math:`-\frac1B \sum_i \log p_{i y_i}` of integer labels ``y``.

    Computed as a log-sum-exp, so large logits give no overflow.

    Example:
        >>> round(cross_entropy(np.zeros((3, 10)), np.array([0, 5, 9])), 6)  # log 10
        2.302585
    """
    z = np.asarray(logits, dtype=float)
    y = _labels("cross_entropy", y, z)
    return float(-np.mean(_log_softmax(z)[np.arange(z.shape[0]), y]))


def dlogits(logits, y) -> np.ndarray:
    r"""Gradient of :func:`cross_entropy` with respect to the logits: :math:`(p - Y) / B`.

    :math:`Y` is the one-hot matrix of the labels and :math:`B` the number of rows. Each row
    of the result sums to zero.

    Example:
        >>> dlogits(np.zeros((2, 2)), np.array([0, 1]))
        array([[-0.25,  0.25],
               [ 0.25, -0.25]])
    """
    z = np.asarray(logits, dtype=float)
    y = _labels("dlogits", y, z)
    g = softmax(z)
    g[np.arange(z.shape[0]), y] -= 1.0
    return g / z.shape[0]


def accuracy(logits, y) -> float:
    """Fraction of rows whose largest logit is the label (ties go to the smallest class).

    Example:
        >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 0.0]]), np.array([0, 1, 1]))
        0.6666666666666666
    """
    z = np.asarray(logits, dtype=float)
    y = _labels("accuracy", y, z)
    return float(np.mean(np.argmax(z, axis=-1) == y))


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
def _shapes(sizes):
    return [((a, b), (b,)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def _n_params(sizes) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def _unflatten(w, sizes):
    layers, i = [], 0
    for (a, b), _ in _shapes(sizes):
        W = w[i : i + a * b].reshape(a, b)
        i += a * b
        layers.append((W, w[i : i + b]))
        i += b
    return layers


def init_params(sizes, activation="relu", seed=0) -> np.ndarray:
    r"""Seeded starting parameters, flattened: He init for ReLU, Glorot for tanh, zero biases.

    Weights of layer :math:`l` (fan-in :math:`a`, fan-out :math:`b`) are normal with standard
    deviation :math:`\sqrt{2/a}` (He et al. 2015, for ReLU layers) or
    :math:`\sqrt{2/(a + b)}` (Glorot & Bengio 2010, for tanh layers); the output layer uses
    the Glorot scale in both cases. The flat order is ``W_1`` (row-major), ``b_1``, ``W_2``,
    ``b_2``, ...

    Example:
        >>> w = init_params([64, 32, 10], seed=0)
        >>> w.shape, float(w[64 * 32 : 64 * 32 + 32].max())   # b_1 is zero
        ((2410,), 0.0)
    """
    name = "init_params"
    sizes = _check_sizes(name, sizes)
    activation = check_choice(name, "activation", activation, ACTIVATIONS)
    seed = check_int(name, "seed", seed, 0)
    rng = np.random.default_rng(seed)
    parts = []
    n_layers = len(sizes) - 1
    for i, ((a, b), _) in enumerate(_shapes(sizes)):
        last = i == n_layers - 1
        std = np.sqrt(2.0 / a) if (activation == "relu" and not last) else np.sqrt(2.0 / (a + b))
        parts += [rng.standard_normal(a * b) * std, np.zeros(b)]
    return np.concatenate(parts)


def _check_sizes(func, sizes):
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise TypeError(f"{func}: sizes must be a list of >= 2 layer widths, got {sizes!r}")
    return [check_int(func, f"sizes[{i}]", s, 1) for i, s in enumerate(sizes)]


# --------------------------------------------------------------------------------------
# Forward and backward
# --------------------------------------------------------------------------------------
#: Rows per matrix product. Large data sets are processed in blocks of this many rows: the
#: result is the same, and each product stays small enough for the BLAS library to run it
#: on one thread, which is faster for a network this small (and much faster on a busy
#: machine, where waiting for a second thread can cost ten times the product itself).
CHUNK = 128


def _forward(w, X, sizes, activation, keep=False):
    """Logits of the rows of X; with keep=True also the layer inputs h and pre-activations z."""
    layers = _unflatten(w, sizes)
    h, hs, zs = X, [X], []
    for i, (W, b) in enumerate(layers):
        z = h @ W + b
        if i == len(layers) - 1:
            return (z, hs, zs) if keep else z
        zs.append(z)
        h = np.maximum(z, 0.0) if activation == "relu" else np.tanh(z)
        hs.append(h)
    raise AssertionError("unreachable")  # pragma: no cover


def _logits(w, X, sizes, activation):
    if X.shape[0] <= CHUNK:
        return _forward(w, X, sizes, activation)
    return np.concatenate(
        [_forward(w, X[s : s + CHUNK], sizes, activation) for s in range(0, X.shape[0], CHUNK)]
    )


def _loss(w, X, y, sizes, activation, l2):
    w = np.asarray(w, dtype=float)
    if w.ndim == 2:  # a stack of parameter vectors: one loss each
        return np.array([_loss(wi, X, y, sizes, activation, l2) for wi in w])
    value = cross_entropy(_logits(w, X, sizes, activation), y)
    if l2:
        value += 0.5 * l2 * sum(float(np.sum(W * W)) for W, _ in _unflatten(w, sizes))
    return value


def _grad(w, X, y, sizes, activation, l2):
    w = np.asarray(w, dtype=float)
    layers = _unflatten(w, sizes)
    out = np.zeros_like(w)
    grads = _unflatten(out, sizes)  # views into out, accumulated layer by layer
    n = X.shape[0]
    for s in range(0, n, CHUNK):
        Xc, yc = X[s : s + CHUNK], y[s : s + CHUNK]
        z_out, hs, zs = _forward(w, Xc, sizes, activation, keep=True)
        delta = dlogits(z_out, yc) * (Xc.shape[0] / n)  # d f / d z_L, rows of this block
        for i in range(len(layers) - 1, -1, -1):
            gW, gb = grads[i]
            gW += hs[i].T @ delta
            gb += delta.sum(axis=0)
            if i > 0:
                dh = delta @ layers[i][0].T
                z = zs[i - 1]
                delta = dh * (z > 0) if activation == "relu" else dh * (1.0 - np.tanh(z) ** 2)
    if l2:
        for (W, _), (gW, _) in zip(layers, grads, strict=True):
            gW += l2 * W
    return out


# --------------------------------------------------------------------------------------
# The problem
# --------------------------------------------------------------------------------------
class MLPProblem(StochasticProblem):
    """A multilayer perceptron on a train / validation / test split, as a learnlr problem.

    ``loss``/``grad`` use the whole training set, ``batch_grad(w, k)`` the minibatch of
    update ``k`` (seeded, one pass over the training set per epoch). Build it with
    :func:`mlp_problem`. Extra attributes: ``sizes`` (layer widths), ``activation``, ``l2``,
    ``data`` (the :class:`DigitsSplit`).
    """

    def unflatten(self, w) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[(W_1, b_1), (W_2, b_2), ...]`` as views into ``w`` (no copy)."""
        w = self.check_w("MLPProblem.unflatten", w)
        return _unflatten(w, self.sizes)

    def logits(self, w, split="test") -> np.ndarray:
        """The network's logits on every row of a split (``"train"``, ``"val"``, ``"test"``)."""
        X, _ = self._split("MLPProblem.logits", split)
        return _logits(self.check_w("MLPProblem.logits", w), X, self.sizes, self.activation)

    def accuracy(self, w, split="test"):
        """Classification accuracy on a split; for a stack of vectors (``trace.x``), an array."""
        X, y = self._split("MLPProblem.accuracy", split)
        w = np.asarray(w, dtype=float)
        if w.ndim == 2:
            return np.array([self.accuracy(wi, split) for wi in w])
        w = self.check_w("MLPProblem.accuracy", w)
        return accuracy(_logits(w, X, self.sizes, self.activation), y)

    def split_loss(self, w, split="val"):
        """The loss (cross-entropy plus penalty) on a split; an array for a stack of vectors."""
        X, y = self._split("MLPProblem.split_loss", split)
        return _loss(np.asarray(w, dtype=float), X, y, self.sizes, self.activation, self.l2)

    def _split(self, func, split):
        split = check_choice(func, "split", split, SPLITS)
        d = self.data
        return {
            "train": (d.X_train, d.y_train),
            "val": (d.X_val, d.y_val),
            "test": (d.X_test, d.y_test),
        }[split]

    def check_w(self, func, w):
        """``w`` as a float vector of this network's ``dim`` weights, or a ``ValueError``
        naming ``func``."""
        w = np.asarray(w, dtype=float)
        if w.shape != (self.dim,):
            raise ValueError(f"{func}: w must have shape ({self.dim},), got {w.shape}")
        return w

    def __repr__(self) -> str:
        return f"<MLPProblem {self.name}, dim={self.dim}, n_train={self.n}>"


def mlp_problem(
    hidden=(32,),
    data=None,
    activation="relu",
    batch_size=64,
    seed=0,
    l2=0.0,
) -> MLPProblem:
    r"""A seeded MLP classifier of the digits (64 inputs, ``hidden`` layers, 10 outputs).

    Args:
        hidden: widths of the hidden layers, e.g. ``(32,)`` (2,410 parameters) or ``()``
            for multinomial logistic regression.
        data: a :class:`DigitsSplit` (default ``load_digits_split(seed=0)``).
        activation: ``"relu"`` or ``"tanh"``.
        batch_size: rows per minibatch (``None`` for full batches).
        seed: seeds both the starting point :func:`init_params` and the minibatch order.
        l2: L2 penalty :math:`l_2 \ge 0` on the weights (not the biases).

    Example:
        >>> from learnlr import optimizers, run
        >>> net = mlp_problem(hidden=(32,), seed=0)
        >>> net.dim, net.n, net.batches_per_epoch
        (2410, 1077, 17)
        >>> tr = run(net, optimizers.adam(lr=0.01), steps=3 * net.batches_per_epoch,
        ...          record_every=net.batches_per_epoch)
        >>> bool(tr.loss[-1] < tr.loss[0] / 4), float(net.accuracy(tr.x_final)) > 0.85
        (True, True)
    """
    name = "mlp_problem"
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__len__"):
        raise TypeError(f"{name}: hidden must be a tuple of layer widths, got {hidden!r}")
    hidden = [check_int(name, f"hidden[{i}]", h, 1) for i, h in enumerate(hidden)]
    data = load_digits_split() if data is None else data
    if not isinstance(data, DigitsSplit):
        raise TypeError(f"{name}: data must be a DigitsSplit (load_digits_split()), got {data!r}")
    activation = check_choice(name, "activation", activation, ACTIVATIONS)
    seed = check_int(name, "seed", seed, 0)
    l2 = check_nonnegative(name, "l2", l2)
    n_in = data.X_train.shape[1]
    n_out = int(max(data.y_train.max(), data.y_val.max(), data.y_test.max())) + 1
    sizes = [n_in, *hidden, n_out]
    batch_size = check_batch_size(name, batch_size, data.X_train.shape[0])

    def sample_loss(w, Xb, yb):
        return _loss(w, Xb, yb, sizes, activation, l2)

    def sample_grad(w, Xb, yb):
        return _grad(w, Xb, yb, sizes, activation, l2)

    label = "mlp " + "-".join(str(s) for s in sizes) + f" {activation}"
    prob = MLPProblem(
        label,
        data.X_train,
        data.y_train,
        sample_loss,
        sample_grad,
        batch_size,
        seed,
        x0=init_params(sizes, activation, seed),
    )
    prob.sizes, prob.activation, prob.l2, prob.data = sizes, activation, l2, data
    return prob


class TrainResult(NamedTuple):
    """What :func:`train` measured, one entry per evaluation (the first before any update).

    An :class:`~learnlr.trace.EvalRun` with the network's four curves named (training and
    validation loss, validation and test accuracy) instead of one ``metric`` column:
    chapters 10 and 11 read them by name, and chapter 11 keeps them in a file by name.
    """

    k: np.ndarray  # updates done at each evaluation: 0, every, 2 * every, ...
    train_loss: np.ndarray  # full training loss (cross-entropy + penalty)
    val_loss: np.ndarray
    val_acc: np.ndarray
    test_acc: np.ndarray
    x_final: np.ndarray  # parameters after the last update
    diverged_at: int | None  # the update after which training was stopped, if it was
    status: str

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def train(problem: MLPProblem, opt: Optimizer, epochs: int, every=None, x0=None, max_loss=None):
    r"""Train ``problem`` with ``opt`` for ``epochs`` passes, evaluating every ``every`` updates.

    This is :func:`learnlr.run` with ``record_every=None`` and ``eval_every=every``: the
    updates are exactly those of a recorded run (update ``k`` uses the minibatch
    ``problem.batch_grad(x, k)`` and the rate ``lr(k)``), so the final point is the same.
    What differs is the bookkeeping: a recorded run evaluates the full training loss after
    every update (a pass over the whole training set for each minibatch update) and keeps
    every update's arrays; ``train`` evaluates training loss, validation loss, validation
    accuracy and test accuracy only every ``every`` updates (default: once per epoch, as
    deep-learning code does), at :func:`learnlr.trace.eval_point` (the averaged iterate of
    a schedule-free optimizer), and keeps nothing else.

    Training stops as diverged by :func:`learnlr.run`'s rule: when the parameters stop being
    finite (checked after every update) or an evaluated training loss is not finite or
    exceeds ``max_loss`` (default ``1e8 * max(1, f(x0))``).

    Args:
        problem: an :class:`MLPProblem`.
        opt: an optimizer from :mod:`learnlr.optimizers`.
        epochs: number of passes over the training set (>= 1); the number of updates is
            ``epochs * problem.batches_per_epoch``.
        every: updates between evaluations (default ``problem.batches_per_epoch``).
        x0: starting point (default ``problem.x0``).
        max_loss: divergence threshold on the training loss, as in :func:`learnlr.run`.

    Returns:
        A :class:`TrainResult`.

    Example:
        >>> from learnlr import optimizers
        >>> net = mlp_problem(hidden=(32,), seed=0)
        >>> res = train(net, optimizers.adam(lr=0.01), epochs=3)
        >>> res.k.tolist(), res.status
        ([0, 17, 34, 51], 'ran 51 steps')
        >>> bool(res.test_acc[-1] > 0.85), bool(res.train_loss[-1] < res.train_loss[0] / 4)
        (True, True)
    """
    name = "train"
    check_problem(name, problem, MLPProblem)
    check_optimizer(name, opt)
    epochs = check_int(name, "epochs", epochs, 1)
    every = problem.batches_per_epoch if every is None else check_int(name, "every", every, 1)
    if x0 is not None:
        x0 = problem.check_w(name, check_vector(name, "x0", x0))
    d = problem.data

    def validation_and_test(x):  # one forward pass for the validation loss and accuracy
        z_val = problem.logits(x, "val")
        val_loss = cross_entropy(z_val, d.y_val)
        if problem.l2:
            val_loss += (
                0.5 * problem.l2 * sum(float(np.sum(W * W)) for W, _ in problem.unflatten(x))
            )
        return val_loss, accuracy(z_val, d.y_val), problem.accuracy(x, "test")

    tr = run(
        problem,
        opt,
        epochs * problem.batches_per_epoch,
        x0=x0,
        record_every=None,
        max_loss=max_loss,
        eval_every=every,
        metric=validation_and_test,
        caller=name,
    )
    m = tr.eval_metric
    return TrainResult(
        tr.eval_k, tr.eval_loss, m[:, 0], m[:, 1], m[:, 2], tr.x_final, tr.diverged_at, tr.status
    )


def _stack_layers(ws, sizes):
    """``[(W_1, b_1), ...]`` of a stack of parameter vectors: W is (S, a, b), b is (S, 1, b)."""
    layers, i, S = [], 0, ws.shape[0]
    for (a, b), _ in _shapes(sizes):
        W = ws[:, i : i + a * b].reshape(S, a, b)
        i += a * b
        layers.append((W, ws[:, None, i : i + b]))
        i += b
    return layers


def _forward_stack(ws, X, sizes, activation):
    """Logits (S, rows, classes) of S networks; X is (rows, in) or one block per net."""
    layers = _stack_layers(ws, sizes)
    h, hs, zs = X, [X], []
    for i, (W, b) in enumerate(layers):
        z = np.matmul(h, W) + b
        if i == len(layers) - 1:
            return z, hs, zs, layers
        zs.append(z)
        h = np.maximum(z, 0.0) if activation == "relu" else np.tanh(z)
        hs.append(h)
    raise AssertionError("unreachable")  # pragma: no cover


def _penalty_stack(ws, sizes, l2):
    if not l2:
        return np.zeros(ws.shape[0])
    return 0.5 * l2 * sum(np.sum(W * W, axis=(1, 2)) for W, _ in _stack_layers(ws, sizes))


def _eval_stack(ws, X, y, sizes, activation, l2):
    """Loss (cross-entropy plus penalty) and accuracy of each of S networks on (X, y).

    The rows are processed in blocks of CHUNK, for the reason given at CHUNK.
    """
    nll, hits = np.zeros(ws.shape[0]), np.zeros(ws.shape[0])
    for s in range(0, X.shape[0], CHUNK):
        Xc, yc = X[s : s + CHUNK], y[s : s + CHUNK]
        z = _forward_stack(ws, Xc, sizes, activation)[0]
        idx = np.broadcast_to(yc[None, :, None], (*z.shape[:2], 1))
        nll -= np.take_along_axis(_log_softmax(z), idx, 2)[..., 0].sum(axis=1)
        hits += np.sum(np.argmax(z, axis=-1) == yc, axis=1)
    return nll / X.shape[0] + _penalty_stack(ws, sizes, l2), hits / X.shape[0]


def _grad_stack(ws, X, y, sizes, activation, l2):
    """Gradients (S, dim) of S networks, each on its own minibatch X[s], y[s]."""
    z_out, hs, zs, layers = _forward_stack(ws, X, sizes, activation)
    S, B = y.shape
    delta = softmax(z_out)
    delta[np.arange(S)[:, None], np.arange(B)[None, :], y] -= 1.0
    delta /= B
    parts = []
    for i in range(len(layers) - 1, -1, -1):
        gW = np.matmul(hs[i].transpose(0, 2, 1), delta)
        if l2:
            gW += l2 * layers[i][0]
        parts.append((gW.reshape(S, -1), delta.sum(axis=1)))
        if i > 0:
            dh = np.matmul(delta, layers[i][0].transpose(0, 2, 1))
            z = zs[i - 1]
            delta = dh * (z > 0) if activation == "relu" else dh * (1.0 - np.tanh(z) ** 2)
    return np.concatenate([a for pair in reversed(parts) for a in pair], axis=1)


def train_seeds(problems, opt: Optimizer, epochs: int, every=None) -> list[TrainResult]:
    r""":func:`train` for several seeds of one network at once; one :class:`TrainResult` each.

    ``problems`` are :class:`MLPProblem` instances that differ only in their seed (same
    layer widths, activation, penalty, batch size and data), e.g.
    ``[mlp_problem(seed=s) for s in range(5)]``. Network ``s`` makes exactly the updates of
    ``train(problems[s], opt, epochs, every)`` -- its own starting point, its own minibatches,
    the same optimizer settings -- but the S networks are stacked, so that each update and
    each evaluation is one batched matrix product for all of them instead of S small ones.
    The results agree with :func:`train` up to rounding (the batched products may round
    differently in the last bits); a network that diverges stops being recorded, the others
    go on. Every optimizer of :mod:`learnlr.optimizers` acts coordinate by coordinate, which
    is what makes the stacking exact; one that couples coordinates (Prodigy's
    :math:`\langle g, x_0 - x\rangle`) must be run with :func:`train`. It is the one loop of the
    package besides :func:`learnlr.run` because it updates S networks at once; it applies
    run's divergence rule seed by seed.

    Example:
        >>> from learnlr import optimizers
        >>> nets = [mlp_problem(hidden=(32,), seed=s) for s in (0, 1)]
        >>> res = train_seeds(nets, optimizers.adam(lr=0.01), epochs=2)
        >>> one = train(nets[1], optimizers.adam(lr=0.01), epochs=2)
        >>> bool(np.allclose(res[1].train_loss, one.train_loss, rtol=1e-9)), res[1].status
        (True, 'ran 34 steps')
    """
    name = "train_seeds"
    problems = list(problems)
    if not problems or not all(isinstance(p, MLPProblem) for p in problems):
        raise TypeError(
            f"{name}: problems must be a non-empty list of MLPProblem, got {problems!r}"
        )
    p0 = problems[0]
    for p in problems[1:]:
        same = (p.sizes, p.activation, p.l2, p.batch_size) == (
            p0.sizes,
            p0.activation,
            p0.l2,
            p0.batch_size,
        )
        same_data = p.data is p0.data or all(
            np.array_equal(a, b) for a, b in zip(p.data, p0.data, strict=True)
        )
        if not (same and same_data):
            raise ValueError(
                f"{name}: the problems must differ only in their seed (same sizes, activation, "
                f"l2, batch_size and data), got {p0!r} and {p!r}"
            )
    check_optimizer(name, opt)
    epochs = check_int(name, "epochs", epochs, 1)
    steps = epochs * p0.batches_per_epoch
    every = p0.batches_per_epoch if every is None else check_int(name, "every", every, 1)
    sizes, act, l2, d = p0.sizes, p0.activation, p0.l2, p0.data
    S = len(problems)
    x = np.stack([p.x0 for p in problems])
    n_eval = steps // every + 1 + (steps % every != 0)
    k_rec = np.zeros(n_eval, dtype=np.int64)
    rec = np.full((S, 4, n_eval), np.nan)
    n_rec = np.zeros(S, dtype=np.int64)
    diverged_at = [None] * S
    status = [f"ran {steps} steps"] * S
    alive = np.ones(S, dtype=bool)

    def evaluate(i, k, x):
        train_loss = _eval_stack(x, d.X_train, d.y_train, sizes, act, l2)[0]
        val_loss, val_acc = _eval_stack(x, d.X_val, d.y_val, sizes, act, l2)
        test_acc = _eval_stack(x, d.X_test, d.y_test, sizes, act, 0.0)[1]
        k_rec[i] = k
        return np.stack([train_loss, val_loss, val_acc, test_acc], axis=1)  # (S, 4)

    first = evaluate(0, 0, x)
    rec[:, :, 0] = first
    n_rec[:] = 1
    # the divergence rule of learnlr.run, seed by seed
    max_loss = np.array([check_start_loss(name, f, None) for f in first[:, 0]])
    state, i = opt.init(x), 1
    with np.errstate(all="ignore"):
        for k in range(steps):
            idx = np.stack([p.batch_indices(k) for p in problems])
            g = _grad_stack(x, d.X_train[idx], d.y_train[idx], sizes, act, l2)
            x, state, _ = opt.step(x, g, state)
            bad = alive & ~np.all(np.isfinite(x), axis=1)
            for s in np.flatnonzero(bad):
                diverged_at[s] = k
                status[s] = f"diverged at step {k}: parameters are not finite"
            alive &= ~bad
            if (k + 1) % every == 0 or k + 1 == steps:
                vals = evaluate(i, k + 1, x)
                for s in np.flatnonzero(alive):
                    loss = vals[s, 0]
                    if not np.isfinite(loss) or loss > max_loss[s]:
                        diverged_at[s] = k
                        why = (
                            "loss is not finite"
                            if not np.isfinite(loss)
                            else f"loss {loss:.3g} exceeds max_loss {max_loss[s]:.3g}"
                        )
                        status[s] = f"diverged at step {k}: {why}"
                        alive[s] = False
                        continue  # as run: a diverged point is not an evaluation
                    rec[s, :, i] = vals[s]
                    n_rec[s] = i + 1
                i += 1
            if not alive.any():
                break
    return [
        TrainResult(
            k_rec[: n_rec[s]].copy(),
            *(rec[s, j, : n_rec[s]].copy() for j in range(4)),
            x[s].copy(),
            diverged_at[s],
            status[s],
        )
        for s in range(S)
    ]


def gradient_check(problem: MLPProblem, w=None, n_coords=30, h=1e-5, seed=0, rows=64):
    r"""Compare backpropagation with central finite differences on a few coordinates.

    For coordinates :math:`j` drawn from ``seed`` (always including the first and last):

    .. math::
        \tilde g_j = \frac{f(w + h e_j) - f(w - h e_j)}{2h}, \qquad
        \text{error} = \frac{\lVert g - \tilde g \rVert}
                            {\lVert g \rVert + \lVert \tilde g \rVert}

    on the loss of the first ``rows`` training rows (:math:`g` the backpropagated gradient,
    both restricted to the chosen coordinates). Central differences have a truncation error
    :math:`O(h^2)` and a rounding error :math:`O(\epsilon_{mach}/h)`; with ``h = 1e-5`` a
    correct backward pass gives a relative error near 1e-9, a wrong one near 1 (a ReLU
    kink within ``h`` of a pre-activation can spoil a coordinate, rarely).

    Returns:
        ``(max_rel_error, coords, backprop, finite_diff)``.

    Example:
        >>> net = mlp_problem(hidden=(8,), activation="tanh", l2=0.1)
        >>> err, *_ = gradient_check(net, n_coords=20)
        >>> bool(err < 1e-8)
        True
    """
    name = "gradient_check"
    check_problem(name, problem, MLPProblem)
    w = problem.x0 if w is None else problem.check_w(name, w)
    n_coords = check_int(name, "n_coords", n_coords, 2)
    h = check_positive(name, "h", h)
    seed = check_int(name, "seed", seed, 0)
    rows = check_int(name, "rows", rows, 1)
    X, y = problem.X[:rows], problem.y[:rows]
    rng = np.random.default_rng(seed)
    middle = rng.choice(np.arange(1, problem.dim - 1), size=min(n_coords, problem.dim) - 2)
    coords = np.unique(np.r_[0, middle, problem.dim - 1])
    g = problem._sample_grad(w, X, y)[coords]
    fd = np.empty(coords.size)
    for i, j in enumerate(coords):
        e = np.zeros_like(w)
        e[j] = h
        fd[i] = (problem._sample_loss(w + e, X, y) - problem._sample_loss(w - e, X, y)) / (2 * h)
    rel = np.linalg.norm(g - fd) / max(np.linalg.norm(g) + np.linalg.norm(fd), 1e-300)
    return float(rel), coords, g, fd
