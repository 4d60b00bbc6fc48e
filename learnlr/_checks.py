"""Argument checks shared by every public factory.

Each check raises a ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind,
outside the allowed range) whose message names the function, the argument, the value and
what is allowed, e.g. ``adam: betas[0] must be in [0, 1), got 1.2``.
"""

from __future__ import annotations

import numbers

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


def check_steps(func: str, k) -> np.ndarray | int:
    """Validate a step number or an integer array of them (all >= 0)."""
    if isinstance(k, (bool, np.bool_)):
        raise TypeError(f"{func}: step must be an integer or an integer array, got {k!r}")
    if isinstance(k, numbers.Integral):
        k = int(k)
        if k < 0:
            raise ValueError(f"{func}: step must be >= 0, got {k}")
        return k
    arr = np.asarray(k)
    if arr.dtype.kind not in "iu":
        if (
            arr.dtype.kind == "f"
            and arr.size
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{func}: step must be an integer or an integer array, got {_short(k)}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{func}: steps must be >= 0, got a minimum of {int(arr.min())}")
    return arr


def check_vector(func: str, name: str, value) -> np.ndarray:
    """A finite float array (a copy, never a view of the caller's data)."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{func}: {name} must be an array of numbers, got {_short(value)}"
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{func}: {name} must contain only finite numbers, got {_short(arr)}")
    return arr


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
