"""Argument checks shared by every public factory.

Each check raises a ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind,
outside the allowed range) whose message names the function, the argument, the value and
what is allowed, e.g. ``adam: betas[0] must be in [0, 1), got 1.2``.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_real(func: str, name: str, value) -> float:
    """Return ``value`` as a finite float, or raise naming ``func`` and ``name``."""
    if not _is_real(value):
        raise TypeError(f"{func}: {name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{func}: {name} must be finite, got {value!r}")
    return value


def check_nonnegative(func: str, name: str, value) -> float:
    value = check_real(func, name, value)
    if value < 0:
        raise ValueError(f"{func}: {name} must be >= 0, got {value!r}")
    return value


def check_positive(func: str, name: str, value) -> float:
    value = check_real(func, name, value)
    if value <= 0:
        raise ValueError(f"{func}: {name} must be > 0, got {value!r}")
    return value


def check_interval(
    func: str, name: str, value, low: float, high: float, closed: str = "[)"
) -> float:
    """Check ``low <= value < high`` (or the closure given by ``closed``, e.g. ``"[]"``)."""
    value = check_real(func, name, value)
    ok_low = value >= low if closed[0] == "[" else value > low
    ok_high = value <= high if closed[1] == "]" else value < high
    if not (ok_low and ok_high):
        raise ValueError(
            f"{func}: {name} must be in {closed[0]}{low:g}, {high:g}{closed[1]}, got {value!r}"
        )
    return value


def check_int(func: str, name: str, value, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{func}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_bool(func: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(func: str, name: str, value, choices) -> str:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{func}: {name} must be one of {allowed}, got {value!r}")
    return value


def check_betas(func: str, value) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{func}: betas must be a pair (beta1, beta2), got {value!r}")
    beta1 = check_interval(func, "betas[0]", value[0], 0.0, 1.0)
    beta2 = check_interval(func, "betas[1]", value[1], 0.0, 1.0)
    return beta1, beta2


def check_rate(func: str, name: str, value):
    """A learning rate: a number >= 0, or a schedule (any callable of the step number)."""
    if callable(value):
        return value
    return check_nonnegative(func, name, value)


#: The largest step number a schedule accepts: 2**53, beyond which float64 cannot tell
#: k from k + 1 (and int64 wraps around soon after, at 2**63).
MAX_STEP = 2**53


def check_steps(func: str, k) -> tuple[np.ndarray, bool]:
    """Validate a step number or an array of them: integers in ``[0, 2**53]``.

    Returns the steps as an int64 array and whether ``k`` was one number (an int, an
    integral float, a NumPy scalar or a 0-d array), so that a schedule can answer one
    number with a float and an array with an array of the same shape.
    """
    if isinstance(k, (bool, np.bool_)):
        raise TypeError(f"{func}: step must be an integer or an integer array, got {k!r}")
    if isinstance(k, numbers.Integral):  # int and NumPy integer scalars: exact, any size
        k = int(k)
        if k < 0:
            raise ValueError(f"{func}: step must be >= 0, got {k}")
        if k > MAX_STEP:
            raise ValueError(f"{func}: step must be <= 2**53 = {MAX_STEP}, got {k}")
        return np.array(k, dtype=np.int64), True
    arr = np.asarray(k)
    if arr.dtype.kind not in "iu":
        if not (
            arr.dtype.kind == "f"
            and arr.size
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            raise TypeError(
                f"{func}: step must be an integer or an integer array, got {short_repr(k)}"
            )
    if arr.size:
        low, high = arr.min(), arr.max()  # compared in the array's own dtype: no wrap-around
        if low < 0:
            raise ValueError(
                f"{func}: steps must be >= 0, got a minimum of {short_repr(low.item())}"
            )
        if high > MAX_STEP:
            raise ValueError(
                f"{func}: step must be <= 2**53 = {MAX_STEP}, got {short_repr(high.item())}"
            )
    return arr.astype(np.int64), arr.ndim == 0


_FLOAT64 = np.dtype(np.float64)


def as_real_array(func: str, name: str, value) -> np.ndarray:
    """``value`` as an array of real numbers (float, or int converted to float); no copy
    when it already is a float array. Refuses strings, objects, booleans and complex
    numbers (``g * g`` is not :math:`|g|^2` for those) with a ``TypeError``."""
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return value
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "fiu":
        dtype = "" if arr is None else f" (dtype {arr.dtype})"
        raise TypeError(
            f"{func}: {name} must be an array of real numbers, got {short_repr(value)}{dtype}"
        )
    return arr if arr.dtype.kind == "f" else arr.astype(float)


def check_step(func: str, x, g, state, state_type) -> tuple[np.ndarray, np.ndarray]:
    """The door of every optimizer's ``step(x, g, state)``: real arrays of one shape, and a
    state of the optimizer's own type built for that shape (its first buffer is checked)."""
    if not isinstance(state, state_type):
        raise TypeError(
            f"{func}: state must be a {state_type.__name__} (from init or step of a {func} "
            f"optimizer), got {type(state).__name__}"
        )
    # the common case, float64 arrays, costs two identity tests (dtype.kind is slower)
    if type(x) is not np.ndarray or x.dtype is not _FLOAT64:
        x = as_real_array(func, "x", x)
    if type(g) is not np.ndarray or g.dtype is not _FLOAT64:
        g = as_real_array(func, "g", g)
    shape = x.shape
    if g.shape != shape:
        raise ValueError(f"{func}: g must have the shape of x, {shape}, got {g.shape}")
    # init builds every buffer with x's shape, so the first one (after count) stands for all:
    # checking every buffer would double the cost of this door
    if len(state) > 1 and type(state[1]) is np.ndarray and state[1].shape != shape:
        raise ValueError(
            f"{func}: state.{state._fields[1]} has shape {state[1].shape}; x has shape {shape} "
            f"(a state is built by init for one shape of parameters)"
        )
    return x, g


def check_scheduled_rate(func: str, value, k) -> float:
    """The value a schedule gave for update ``k``, as a float: a finite number >= 0."""
    allowed = "a rate must be a finite number >= 0"
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        value = value.item()
    if not _is_real(value):
        raise TypeError(f"{func}: the schedule lr gave {short_repr(value)} for step {k}; {allowed}")
    rate = float(value)
    if not (0.0 <= rate < math.inf):
        raise ValueError(
            f"{func}: the schedule lr gave {short_repr(value)} for step {k}; {allowed}"
        )
    return rate


def check_start_loss(func: str, loss0, max_loss, factor: float = 1e8) -> float:
    """The divergence threshold of a run starting where the loss is ``loss0``.

    ``loss0`` must be finite (a start where the loss overflows is refused, naming x0);
    ``max_loss`` is checked if given, and otherwise is ``factor * max(1, |loss0|)``, capped
    at the largest float so that a huge but finite start does not overflow it.
    """
    loss0 = float(loss0)
    if not math.isfinite(loss0):
        raise ValueError(
            f"{func}: the loss at x0 must be finite, got {loss0!r} "
            "(start from a point where the problem's loss does not overflow)"
        )
    if max_loss is None:
        return min(factor * max(1.0, abs(loss0)), sys.float_info.max)
    return check_positive(func, "max_loss", max_loss)


def check_vector(func: str, name: str, value) -> np.ndarray:
    """A finite float array (a copy, never a view of the caller's data)."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{func}: {name} must be an array of numbers, got {short_repr(value)}"
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{func}: {name} must contain only finite numbers, got {short_repr(arr)}")
    return arr


def check_make_opt(func: str, value, name: str = "make_opt"):
    """``value`` if it can make an optimizer from a rate: a function ``lr -> Optimizer``.

    The package's one name for such a function is ``make_opt``: an optimizer factory itself
    (``optimizers.sgd``), a ``functools.partial`` of one, or ``lambda lr: ...``. An
    optimizer (``opt``, already built) or anything else not callable is refused with a
    ``TypeError`` naming ``func``, the argument and the value."""
    if not callable(value):
        raise TypeError(
            f"{func}: {name} must be a function lr -> optimizer (e.g. optimizers.sgd, or "
            f"lambda lr: optimizers.sgd(lr=lr, momentum=0.9)), got {short_repr(value)}"
        )
    return value


def check_batch_size(func: str, batch_size, n: int) -> int | None:
    """A minibatch size: None (the full batch) or an integer in ``[1, n]``."""
    if batch_size is None:
        return None
    batch_size = check_int(func, "batch_size", batch_size, 1)
    if batch_size > n:
        raise ValueError(f"{func}: batch_size must be <= n_samples={n}, got {batch_size}")
    return batch_size


def short_repr(value) -> str:
    """``repr(value)``, cut to 80 characters for an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
