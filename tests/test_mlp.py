"""Tests of learnlr.problems.mlp: the data split, softmax cross-entropy, backpropagation, training.

Gradients are checked against central differences computed here (not with the module's own
gradient_check), and expected values are derived by hand next to the numbers.
"""

import re
import warnings

import numpy as np
import pytest

from learnlr import optimizers, run, schedules
from learnlr.problems import mlp


@pytest.fixture(scope="module")
def data():
    return mlp.load_digits_split(seed=0)


def central_differences(f, w, coords, h=1e-5):
    out = np.empty(len(coords))
    for i, j in enumerate(coords):
        e = np.zeros_like(w)
        e[j] = h
        out[i] = (f(w + e) - f(w - e)) / (2 * h)
    return out


# ---- data -------------------------------------------------------------------------------
def test_split_sizes_partition_and_scaling(data):
    assert data.X_train.shape == (1077, 64)
    assert data.X_val.shape == data.X_test.shape == (360, 64)
    X = np.vstack([data.X_train, data.X_val, data.X_test])
    y = np.concatenate([data.y_train, data.y_val, data.y_test])
    assert X.min() == 0.0 and X.max() == 1.0
    # every image of the data set is used exactly once: the splits are a permutation of it
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.lexsort(np.c_[digits.data / 16.0, digits.target].T)
    mine = np.lexsort(np.c_[X, y].T)
    np.testing.assert_array_equal(
        np.c_[X, y][mine], np.c_[digits.data / 16.0, digits.target][order]
    )


def test_split_is_seeded(data):
    again = mlp.load_digits_split(seed=0)
    other = mlp.load_digits_split(seed=1)
    np.testing.assert_array_equal(again.X_test, data.X_test)
    assert not np.array_equal(other.y_test, data.y_test)
    small = mlp.load_digits_split(seed=0, n_val=10, n_test=20)
    assert (small.X_val.shape[0], small.X_test.shape[0], small.X_train.shape[0]) == (10, 20, 1767)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"n_val": 0}, "n_val must be an integer >= 1"),
        ({"n_val": 1000, "n_test": 797}, "must leave training images"),
        ({"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_split_validation(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        mlp.load_digits_split(**kwargs)


# ---- softmax cross-entropy --------------------------------------------------------------
def test_softmax_and_cross_entropy_by_hand():
    z = np.array([[0.0, np.log(3.0)]])  # probabilities 1/4 and 3/4
    np.testing.assert_allclose(mlp.softmax(z), [[0.25, 0.75]])
    assert mlp.cross_entropy(z, [1]) == pytest.approx(-np.log(0.75))
    assert mlp.cross_entropy(np.zeros((4, 7)), [0, 1, 2, 6]) == pytest.approx(np.log(7))
    # shifting a row changes nothing; huge logits do not overflow
    assert mlp.cross_entropy(z + 1000.0, [1]) == pytest.approx(-np.log(0.75))
    big = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    assert np.isfinite(mlp.cross_entropy(big, [1, 0]))
    assert mlp.cross_entropy(big, [1, 0]) == pytest.approx(500.0)  # (1000 + 0) / 2
    np.testing.assert_allclose(mlp.softmax(big).sum(axis=1), 1.0)


def test_dlogits_matches_central_differences_and_rows_sum_to_zero():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, 3, 1, 2])
    g = mlp.dlogits(z, y)
    flat = z.ravel()

    def f(v):
        return mlp.cross_entropy(v.reshape(z.shape), y)

    fd = central_differences(f, flat, range(flat.size), h=1e-6).reshape(z.shape)
    np.testing.assert_allclose(g, fd, atol=1e-9)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)
    # (P - Y) / B at zero logits: 1/(C B) everywhere, minus 1/B at the labels
    g0 = mlp.dlogits(np.zeros((2, 4)), [1, 2])
    np.testing.assert_allclose(g0, np.array([[1, -3, 1, 1], [1, 1, -3, 1]]) / 8)


def test_accuracy_and_label_checks():
    z = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 0.0], [1.0, 1.0]])
    assert mlp.accuracy(z, [0, 1, 1, 0]) == 0.75  # the tie goes to class 0
    assert mlp.accuracy(z, np.array([0.0, 1.0, 1.0, 0.0])) == 0.75  # integral floats are labels
    with pytest.raises(ValueError, match="one integer label per row"):
        mlp.cross_entropy(z, [0, 1])
    with pytest.raises(ValueError, match="one integer label per row"):
        mlp.dlogits(z, [0.5, 1, 1, 0])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        mlp.accuracy(z, [0, 1, 2, 0])


# ---- parameters and the problem -----------------------------------------------------------
def test_init_scales_and_seeds():
    sizes = [64, 200, 10]
    w = mlp.init_params(sizes, "relu", seed=0)
    assert w.shape == (64 * 200 + 200 + 200 * 10 + 10,)
    W1, b1 = w[: 64 * 200], w[64 * 200 : 64 * 200 + 200]
    W2 = w[64 * 200 + 200 : -10]
    assert W1.std() == pytest.approx(np.sqrt(2 / 64), rel=0.03)  # He, 12,800 draws
    assert W2.std() == pytest.approx(np.sqrt(2 / 210), rel=0.05)  # Glorot for the output layer
    assert not b1.any() and not w[-10:].any()
    wt = mlp.init_params(sizes, "tanh", seed=0)
    assert wt[: 64 * 200].std() == pytest.approx(np.sqrt(2 / 264), rel=0.03)
    np.testing.assert_array_equal(mlp.init_params(sizes, seed=0), w)
    assert not np.array_equal(mlp.init_params(sizes, seed=1), w)
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp.init_params(sizes, "sigmoid")
    with pytest.raises(TypeError, match="sizes must be a list"):
        mlp.init_params([64])


def test_problem_layout_views_and_stacks(data):
    net = mlp.mlp_problem(hidden=(8, 5), data=data, seed=0)
    assert net.sizes == [64, 8, 5, 10]
    assert net.dim == 64 * 8 + 8 + 8 * 5 + 5 + 5 * 10 + 10
    assert (net.n, net.batch_size, net.batches_per_epoch) == (1077, 64, 17)
    w = net.x0
    layers = net.unflatten(w)
    assert [W.shape for W, _ in layers] == [(64, 8), (8, 5), (5, 10)]
    layers[1][1][:] = 7.0  # a view: writing to b_2 writes into w
    assert np.count_nonzero(w == 7.0) == 5
    stack = np.stack([net.x0, w])
    losses = net.loss(stack)
    assert losses.shape == (2,) and losses[0] == pytest.approx(net.loss(net.x0))
    accs = net.accuracy(stack, "val")
    assert accs.shape == (2,) and accs[0] == net.accuracy(net.x0, "val")
    with pytest.raises(ValueError, match="split must be one of"):
        net.accuracy(w, "dev")
    with pytest.raises(ValueError, match=r"w must have shape \(625,\)"):
        net.logits(np.zeros(3))


def test_starting_loss_is_near_log_10(data):
    for activation in ("relu", "tanh"):
        net = mlp.mlp_problem(data=data, activation=activation, seed=0)
        assert abs(net.loss(net.x0) - np.log(10)) < 0.15


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("hidden, l2", [((16,), 0.0), ((6, 5), 0.3), ((), 0.1)])
def test_gradient_matches_central_differences(data, activation, hidden, l2):
    net = mlp.mlp_problem(hidden=hidden, data=data, activation=activation, seed=2, l2=l2)
    rng = np.random.default_rng(0)
    w = net.x0 + 0.1 * rng.standard_normal(net.dim)  # away from the symmetric start
    X, y = data.X_train[:300], data.y_train[:300]  # 300 rows: three blocks of CHUNK rows

    def f(v):
        return net._sample_loss(v, X, y)

    coords = rng.choice(net.dim, size=40, replace=False)
    g = net._sample_grad(w, X, y)
    # h small enough that no ReLU kink lies within +-h of a pre-activation (the nearest is
    # about 5e-7 away for relu, (6, 5)); a wrong backward pass would miss by far more
    fd = central_differences(f, w, coords, h=1e-7)
    np.testing.assert_allclose(g[coords], fd, rtol=1e-5, atol=1e-7)


def test_blocks_do_not_change_the_result(data, monkeypatch):
    net = mlp.mlp_problem(hidden=(16,), data=data, seed=0, l2=0.01)
    w = net.x0
    loss, grad = net.loss(w), net.grad(w)
    monkeypatch.setattr(mlp, "CHUNK", 10_000)  # one block for the whole training set
    assert net.loss(w) == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(net.grad(w), grad, rtol=1e-11, atol=1e-15)


def test_batch_grad_uses_the_minibatch(data):
    net = mlp.mlp_problem(data=data, seed=0)
    w = net.x0
    idx = net.batch_indices(20)
    np.testing.assert_array_equal(
        net.batch_grad(w, 20), net._sample_grad(w, net.X[idx], net.y[idx])
    )
    epoch = np.concatenate([net.batch_indices(k) for k in range(17, 34)])
    np.testing.assert_array_equal(np.sort(epoch), np.arange(net.n))  # each image once per epoch


def test_gradient_check_passes_and_catches_a_wrong_gradient(data):
    net = mlp.mlp_problem(hidden=(8,), data=data, seed=0)
    err, coords, g, fd = mlp.gradient_check(net, n_coords=25)
    assert err < 1e-8
    assert coords[0] == 0 and coords[-1] == net.dim - 1
    right = net._sample_grad
    net._sample_grad = lambda w, X, y: 2.0 * right(w, X, y)  # a factor-of-two bug
    err, *_ = mlp.gradient_check(net, n_coords=25)
    assert err == pytest.approx(1 / 3, rel=1e-5)  # |2g - g| / (|2g| + |g|)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"hidden": "32"}, TypeError, "hidden must be a tuple"),
        ({"hidden": (0,)}, ValueError, r"hidden\[0\] must be an integer >= 1"),
        ({"activation": "gelu"}, ValueError, "activation must be one of"),
        ({"l2": -1.0}, ValueError, "l2 must be >= 0"),
        ({"batch_size": 5000}, ValueError, "batch_size must be <= n_samples=1077"),
        ({"data": (1, 2)}, TypeError, "data must be a DigitsSplit"),
    ],
)
def test_problem_validation(data, kwargs, exc, match):
    kwargs = {"data": data} | kwargs
    with pytest.raises(exc, match=match):
        mlp.mlp_problem(**kwargs)


# ---- training ------------------------------------------------------------------------------
def test_train_makes_the_same_updates_as_run(data):
    net = mlp.mlp_problem(data=data, seed=0)
    sched = schedules.one_cycle(max_lr=0.05, total_steps=3 * 17)
    tr = run(net, optimizers.adam(lr=sched), steps=3 * 17, record_every=17)
    res = mlp.train(net, optimizers.adam(lr=sched), epochs=3)
    np.testing.assert_array_equal(res.x_final, tr.x_final)
    np.testing.assert_array_equal(res.k, [0, 17, 34, 51])
    np.testing.assert_allclose(res.train_loss, tr.loss, rtol=1e-14)
    np.testing.assert_allclose(res.test_acc, net.accuracy(tr.x, "test"))
    np.testing.assert_allclose(res.val_loss, net.split_loss(tr.x, "val"), rtol=1e-14)
    assert res.status == "ran 51 steps" and not res.diverged


def test_train_learns_the_digits(data):
    net = mlp.mlp_problem(data=data, seed=0)
    res = mlp.train(net, optimizers.sgd(lr=0.1, momentum=0.9), epochs=10)
    assert res.train_loss[-1] < 0.1 * res.train_loss[0]
    assert res.test_acc[-1] > 0.93
    assert res.val_acc[0] < 0.3  # it started near chance


def test_train_every_and_divergence(data):
    net = mlp.mlp_problem(data=data, seed=0)
    res = mlp.train(net, optimizers.sgd(lr=0.1), epochs=1, every=5)
    np.testing.assert_array_equal(res.k, [0, 5, 10, 15, 17])
    # learnlr.run's rule: a loss above 1e8 * max(1, f(x0)) ...
    bad = mlp.train(net, optimizers.sgd(lr=1e10), epochs=2)
    assert bad.diverged and re.match(
        r"diverged at step \d+: loss .* exceeds max_loss 2.3\de\+08", bad.status
    )
    assert len(bad.k) < 3
    # ... or above the max_loss given; a run at lr 1e3 ends finite but far above its start
    high = mlp.train(net, optimizers.sgd(lr=1e3), epochs=2)
    assert not high.diverged and high.train_loss[-1] > 100 * high.train_loss[0]
    capped = mlp.train(net, optimizers.sgd(lr=1e3), epochs=2, max_loss=100 * high.train_loss[0])
    assert capped.diverged and capped.status == (
        f"diverged at step 16: loss {high.train_loss[1]:.3g} exceeds max_loss "
        f"{100 * high.train_loss[0]:.3g}"
    )
    np.testing.assert_array_equal(capped.k, [0])  # the diverged point is not an evaluation
    with pytest.raises(TypeError, match="problem must be an MLPProblem"):
        mlp.train(object(), optimizers.sgd(lr=0.1), epochs=1)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        mlp.train(net, optimizers.sgd(lr=0.1), epochs=0)


# ---- several seeds at once ----------------------------------------------------------------
@pytest.mark.parametrize(
    "activation, hidden, l2, opt",
    [
        ("relu", (16,), 0.0, optimizers.adam(lr=0.01)),
        ("tanh", (8, 8), 0.01, optimizers.sgd(lr=0.3, momentum=0.9)),
        ("relu", (), 0.0, optimizers.rmsprop(lr=0.003)),
    ],
)
def test_train_seeds_matches_train_seed_by_seed(data, activation, hidden, l2, opt):
    nets = [
        mlp.mlp_problem(hidden=hidden, data=data, activation=activation, l2=l2, seed=s)
        for s in (0, 3, 7)
    ]
    stacked = mlp.train_seeds(nets, opt, epochs=2, every=5)
    for net, res in zip(nets, stacked, strict=True):
        one = mlp.train(net, opt, epochs=2, every=5)
        assert res.k.tolist() == one.k.tolist() and res.status == one.status
        for field in ("train_loss", "val_loss", "val_acc", "test_acc", "x_final"):
            np.testing.assert_allclose(getattr(res, field), getattr(one, field), rtol=1e-9)
    # the seeds really differ: other starting points and minibatches
    assert abs(stacked[0].train_loss[-1] - stacked[1].train_loss[-1]) > 1e-6


def test_train_seeds_divergence_is_per_seed(data):
    nets = [mlp.mlp_problem(hidden=(8,), data=data, seed=s) for s in (0, 1)]
    res = mlp.train_seeds(nets, optimizers.sgd(lr=1e10), epochs=2)
    one = [mlp.train(n, optimizers.sgd(lr=1e10), epochs=2) for n in nets]
    for r, o in zip(res, one, strict=True):
        assert r.diverged and r.diverged_at == o.diverged_at and r.status == o.status
        assert r.k.tolist() == o.k.tolist()


def test_train_seeds_validation(data):
    a = mlp.mlp_problem(hidden=(8,), data=data, seed=0)
    with pytest.raises(ValueError, match="train_seeds: the problems must differ only"):
        mlp.train_seeds([a, mlp.mlp_problem(hidden=(4,), data=data, seed=1)], optimizers.sgd(), 1)
    with pytest.raises(TypeError, match="train_seeds: problems must be a non-empty list"):
        mlp.train_seeds([], optimizers.sgd(), 1)
    with pytest.raises(TypeError, match="train_seeds: opt must be a learnlr optimizer"):
        mlp.train_seeds([a], "adam", 1)
    with pytest.raises(ValueError, match="train_seeds: epochs"):
        mlp.train_seeds([a], optimizers.sgd(), 0)


def test_train_refuses_a_start_whose_loss_overflows_without_a_warning():
    # weights of 1e160 make the L2 term overflow: the start is refused naming x0, where the
    # run used to go on and stop with "loss inf exceeds max_loss inf"
    net = mlp.mlp_problem(hidden=(8,), activation="tanh", l2=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^train: the loss at x0 must be finite, got inf"):
            mlp.train(net, optimizers.adam(), 1, x0=np.full(net.dim, 1e160))
