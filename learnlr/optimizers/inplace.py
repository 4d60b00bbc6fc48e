r"""The same updates, computed in place: for parameter vectors of a million entries and more.

The step functions in :mod:`learnlr.optimizers` are written to be read: each line is one
equation, and every call returns new arrays, so nothing a student holds on to changes
behind their back. For a vector of a million parameters that clarity has three costs:

1. every expression allocates a fresh 8 MB array, and the operating system hands out
   fresh memory one page fault at a time;
2. every expression is one full pass over memory, and at this size memory, not
   arithmetic, sets the speed (an Adam step is about a dozen passes);
3. NumPy runs each pass on one core.

:class:`InPlace` removes all three without changing one rounding: it keeps the state in
buffers allocated once, works through the vector in blocks small enough to stay in the
core's cache while the dozen operations run over them, and gives the blocks to a pool of
threads (NumPy releases Python's global lock inside its loops). Each block performs
*exactly* the operations of the readable step, in the same order, on the same numbers,
so the parameters and the state agree with ``opt.step`` bit for bit; the tests check
this for every option of each supported optimizer.

Supported: :func:`~learnlr.optimizers.adam` (all options), :func:`~learnlr.optimizers.adamw`
and :func:`~learnlr.optimizers.sgd` (momentum, dampening, Nesterov, weight decay), with a
constant rate or a schedule. The engine only updates; it records no trace (use
:func:`learnlr.run` for that).

Example:
    >>> import numpy as np
    >>> from learnlr import optimizers
    >>> from learnlr.optimizers.inplace import InPlace
    >>> opt = optimizers.adam(lr=0.1)
    >>> x, g = np.array([1.0, 1.0]), np.array([5.0, -0.01])
    >>> fast = InPlace(opt, x)
    >>> fast.step(x, g)          # x itself is updated
    >>> x.round(6)
    array([0.9, 1.1])
    >>> x_ref, state, _ = opt.step(np.array([1.0, 1.0]), g, opt.init(x))
    >>> bool(np.array_equal(x, x_ref) and np.array_equal(fast.state.v, state.v))
    True
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from learnlr._checks import check_int
from learnlr.optimizers.adam import AdamState
from learnlr.optimizers.base import Optimizer, rate_at
from learnlr.optimizers.sgd import SGDState

SUPPORTED = ("adam", "adamw", "sgd")

BLOCK_SIZE = {"one thread": 32_768, "threads": 131_072}
"""Entries per block, by whether threads share the work.

With one thread, 32 Ki float64 entries are 256 KB per array, so the six arrays a block
touches (x, g, m, v and two scratch arrays) stay in a core's 2 MB cache. With several
threads, every ufunc call takes Python's global lock back for a moment, and with small
blocks the threads queue for it, so fewer, larger blocks win. Measured for Adam on 1M
entries on a 2-core x86_64 machine (benchmarks/run.py): one thread 4.6 ms per step at
32 Ki against 5.7 ms at 128 Ki; two threads 3.8 ms at 32 Ki, 3.2 ms at 128 Ki and 6.4 ms
at 8 Ki.
"""

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _shared_pool(workers: int) -> ThreadPoolExecutor:
    """One process-wide pool, grown on demand, so engines do not each start threads."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool_size < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="learnlr")
            _pool_size = workers
        return _pool


def _check_float64_array(name: str, value, shape=None, writeable=False) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"InPlace: {name} must be a NumPy array, got {type(value).__name__}")
    if value.dtype != np.float64:
        raise TypeError(
            f"InPlace: {name} must have dtype float64, got {value.dtype} "
            f"(convert once with np.asarray({name}, dtype=float))"
        )
    if shape is not None and value.shape != shape:
        raise ValueError(
            f"InPlace: {name} has shape {value.shape}; this engine was built for shape {shape}"
        )
    if not value.flags.c_contiguous:
        raise ValueError(
            f"InPlace: {name} must be C-contiguous (np.ascontiguousarray({name}) makes a copy)"
        )
    if writeable and not value.flags.writeable:
        raise ValueError(f"InPlace: {name} is read-only; the engine updates it in place")
    return value


class InPlace:
    """Run ``opt``'s update in place on a large float64 vector.

    Args:
        opt: an optimizer made by :func:`~learnlr.optimizers.adam`,
            :func:`~learnlr.optimizers.adamw` or :func:`~learnlr.optimizers.sgd`; its
            hyperparameters (already checked by the factory) are used as they are.
        x: the parameters (a C-contiguous float64 array); fixes the shape.
        state: the state to start from (default ``opt.init(x)``); it is copied.
        block_size: entries per block (default from :data:`BLOCK_SIZE`).
        threads: threads to spread the blocks over (default: the number of CPUs).

    ``step(x, g)`` updates ``x`` (and the engine's state) in place and returns ``None``;
    ``state`` returns a copy of the state in the optimizer's own type, so
    ``InPlace(opt, x).state`` can be compared with, or handed to, ``opt.step``.
    """

    def __init__(self, opt, x, state=None, block_size=None, threads=None):
        if not isinstance(opt, Optimizer) or opt.name not in SUPPORTED:
            got = opt.name if isinstance(opt, Optimizer) else type(opt).__name__
            raise ValueError(
                f"InPlace: opt must be one of the optimizers {', '.join(SUPPORTED)} "
                f"(from learnlr.optimizers), got {got}"
            )
        x = _check_float64_array("x", x)
        if threads is None:
            threads = os.cpu_count() or 1
        threads = check_int("InPlace", "threads", threads, minimum=1)
        if block_size is None:
            block_size = BLOCK_SIZE["one thread" if threads == 1 else "threads"]
        block_size = check_int("InPlace", "block_size", block_size, minimum=1)
        self.opt = opt
        self.shape = x.shape
        self.hp = dict(opt.hyperparams)
        # adamw, or adam(decoupled_weight_decay=True): the decay shrinks x, not the gradient
        self._decoupled = opt.name == "adamw" or self.hp.get("decoupled_weight_decay", False)
        state_type = SGDState if opt.name == "sgd" else AdamState
        state = opt.init(x) if state is None else state
        if not isinstance(state, state_type):
            raise TypeError(
                f"InPlace: state must be {opt.name}'s {state_type.__name__} "
                f"(from opt.init or opt.step), got {type(state).__name__}"
            )
        if opt.name == "sgd":
            self._names = ("b",)
        else:
            self._names = ("m", "v", "v_max") if self.hp["amsgrad"] else ("m", "v")
        for name in self._names:
            if np.shape(getattr(state, name)) != x.shape:
                raise ValueError(
                    f"InPlace: state.{name} has shape {np.shape(getattr(state, name))}; "
                    f"x has shape {x.shape}"
                )
        self.count = int(state.count)
        # The state arrays, flat, owned by the engine (copies: the caller's stay untouched).
        self._buffers = {
            name: np.array(getattr(state, name), dtype=float).reshape(-1) for name in self._names
        }
        n = x.size
        block_size = min(block_size, max(n, 1))
        # Each block: its slice, and views of the state buffers over the same entries.
        self._blocks = [
            (
                slice(lo, lo + block_size),
                [self._buffers[name][lo : lo + block_size] for name in self._names]
                + ([None] if self._names == ("m", "v") else []),  # no v_max without amsgrad
            )
            for lo in range(0, max(n, 1), block_size)
        ]
        self.threads = min(threads, len(self._blocks))
        # Each thread takes one contiguous run of blocks and has its own two scratch arrays.
        runs = np.array_split(np.arange(len(self._blocks)), self.threads)
        self._runs = [
            (self._blocks[r[0] : r[-1] + 1], np.empty(block_size), np.empty(block_size))
            for r in runs
        ]
        if opt.name == "sgd":
            self._constants, self._update_block = self._sgd_constants, _sgd_block
        else:
            self._constants, self._update_block = self._adam_constants, _adam_block

    # ----------------------------------------------------------------------------------
    @property
    def state(self):
        """A copy of the current state, as the readable ``opt.step`` would hold it."""
        arrays = {name: buf.reshape(self.shape).copy() for name, buf in self._buffers.items()}
        if self.opt.name == "sgd":
            return SGDState(self.count, arrays["b"])
        return AdamState(self.count, arrays["m"], arrays["v"], arrays.get("v_max"))

    def step(self, x, g) -> None:
        """One update of ``x`` from the gradient ``g``, in place.

        Floating-point trouble is handled as by the readable step, by the caller's
        ``np.errstate`` (NumPy keeps it per thread; the engine hands it to every worker):
        warnings by default, silence under ``"ignore"``, a ``FloatingPointError`` under
        ``"raise"``. An update that raises leaves ``x``, the state and ``count`` as they were:
        when an error may raise, the engine keeps a copy to restore.
        """
        x = _check_float64_array("x", x, self.shape, writeable=True).reshape(-1)
        g = _check_float64_array("g", g, self.shape).reshape(-1)
        if np.may_share_memory(x, g):
            raise ValueError("InPlace: g must not share memory with x (x is overwritten)")
        constants = self._constants(rate_at(self.hp["lr"], self.count, self.opt.name))
        # the caller's error modes (per thread in NumPy), handed to every worker
        modes = np.geterr()
        call = np.geterrcall() if {"call", "log"} & set(modes.values()) else None
        strict = "raise" in modes.values() or "call" in modes.values()
        saved = (x.copy(), [buf.copy() for buf in self._buffers.values()]) if strict else None
        try:
            if self.threads == 1:  # the caller's own thread: its errstate applies as it is
                self._run(self._runs[0], x, g, constants)
            else:
                pool = _shared_pool(self.threads)
                futures = [
                    pool.submit(self._run, run, x, g, constants, modes, call)
                    for run in self._runs[1:]
                ]
                errors = []
                try:
                    self._run(self._runs[0], x, g, constants)
                except Exception as error:  # wait for the other threads before restoring
                    errors.append(error)
                for future in futures:
                    if future.exception() is not None:
                        errors.append(future.exception())
                if errors:
                    raise errors[0]
        except Exception:
            if saved is not None:  # undo the blocks that were done: all or nothing
                x[...] = saved[0]
                for buf, old in zip(self._buffers.values(), saved[1], strict=True):
                    buf[...] = old
            raise
        self.count += 1

    def _run(self, run, x, g, constants, modes=None, call=None):
        """Update one thread's run of blocks; ``modes``: the errstate to use in a worker."""
        if modes is not None:
            errstate = np.errstate(**modes) if call is None else np.errstate(call=call, **modes)
            with errstate:
                return self._run(run, x, g, constants)
        blocks, a, b = run
        update = self._update_block
        for where, state in blocks:
            xb = x[where]
            n = len(xb)
            update(xb, g[where], *state, a[:n], b[:n], *constants)

    # The scalars of one update, computed once and shared by all blocks.
    def _adam_constants(self, lr_t):
        hp = self.hp
        beta1, beta2 = hp["betas"]
        t = self.count + 1
        weight_decay = hp["weight_decay"] if hp["weight_decay"] != 0 else None
        # the factor of the decoupled decay, or the L2 coefficient added to the gradient;
        # None for the form not in use
        decay = (1 - lr_t * weight_decay) if (self._decoupled and weight_decay) else None
        l2 = weight_decay if not self._decoupled else None
        return (lr_t, beta1, beta2, 1 - beta1**t, 1 - beta2**t, hp["eps"], decay, l2)

    def _sgd_constants(self, lr_t):
        hp = self.hp
        wd = hp["weight_decay"] if hp["weight_decay"] != 0 else None
        first = self.count == 0
        return (lr_t, hp["momentum"], hp["dampening"], hp["nesterov"], wd, first)


# ---------------------------------------------------------------------------------------
# One block of each update. Every line mirrors one expression of the readable step in
# learnlr.optimizers (quoted on the right), in the same order and on the same numbers, so
# every rounding agrees. ``a`` and ``b`` are scratch arrays of the block's length.
def _adam_block(x, g, m, v, v_max, a, b, lr_t, beta1, beta2, c1, c2, eps, decay, l2):
    if decay is not None:
        x *= decay  # x_decayed = x * (1 - lr_t * weight_decay)
    if l2 is not None:
        np.multiply(l2, x, out=b)  # g = g + weight_decay * x
        g = np.add(g, b, out=b)
    m *= beta1  # m = beta1 * m + (1 - beta1) * g
    np.multiply(1 - beta1, g, out=a)
    m += a
    v *= beta2  # v = beta2 * v + (1 - beta2) * (g * g)
    np.multiply(g, g, out=a)
    np.multiply(1 - beta2, a, out=a)
    v += a
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)  # v_max = max(v_max, v)
        v = v_max
    np.divide(m, c1, out=b)  # m_hat = m / (1 - beta1**t)
    np.divide(v, c2, out=a)  # v_hat = v / (1 - beta2**t)
    np.sqrt(a, out=a)  # s = sqrt(v_hat) + eps
    a += eps
    np.divide(lr_t, a, out=a)  # eff_lr = lr_t / s
    a *= b  # x_new = x_decayed - eff_lr * m_hat
    x -= a


def _sgd_block(x, g, buf, a, b, lr_t, momentum, dampening, nesterov, wd, first):
    if wd is not None:
        np.multiply(wd, x, out=a)  # g = g + weight_decay * x
        g = np.add(g, a, out=a)
    d = g
    if momentum != 0:
        if first:
            buf[...] = g  # b = g (the first update)
        else:
            buf *= momentum  # b = momentum * b + (1 - dampening) * g
            np.multiply(1 - dampening, g, out=b)
            buf += b
        if nesterov:
            np.multiply(momentum, buf, out=b)  # d = g + momentum * b
            d = np.add(g, b, out=b)
        else:
            d = buf  # d = b
    step = b if d is a else a  # a scratch array d does not occupy
    np.multiply(lr_t, d, out=step)  # x_new = x - lr_t * d
    x -= step
