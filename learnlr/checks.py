"""Self-checking exercises: compare a student's answer with learnlr's reference.

Each check runs the student's code on several inputs (edge cases included), compares every
returned quantity with the reference and reports the *first* wrong one with its expected
value, e.g. ``your G is [0.3]; expected [0.09] -- did you square the gradient?``. Known
mistakes are recognised by running a deliberately wrong version of the reference
(``mistakes={"did you square the gradient?": wrong_fn}``) and seeing whether the student's
answer matches it.

Bad student code never stops the notebook: an exception, ``None``, the wrong shape, NaN,
modifying an input in place, or running past the time limit each gives a clear message. An
unfinished exercise (``raise NotImplementedError``) is reported as "not done yet".

Every result is also recorded in :data:`RESULTS` (exercise id, passed, message) so a
grading script can collect them. Checks return a :class:`CheckResult`, which displays as
one line in a notebook; they never print.
"""

from __future__ import annotations

import copy
import inspect
import numbers
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from learnlr._base import fmt

__all__ = [
    "CheckResult",
    "RESULTS",
    "check_function",
    "check_value",
    "check_schedule",
    "results",
]


class CheckResult(NamedTuple):
    exercise: str
    passed: bool
    message: str

    def __repr__(self) -> str:
        mark = "PASSED" if self.passed else "NOT YET"
        return f"[{self.exercise}] {mark}: {self.message}"

    def __bool__(self) -> bool:
        return self.passed


#: Every check result of this session, in order (the record a grader reads).
RESULTS: list[CheckResult] = []


def results() -> list[CheckResult]:
    """A copy of the results recorded so far."""
    return list(RESULTS)


def _record(exercise, passed, message) -> CheckResult:
    res = CheckResult(exercise, bool(passed), message)
    RESULTS.append(res)
    return res


class _Timeout(BaseException):
    """Raised into student code past the time limit; not an Exception, so that a student's
    ``except Exception`` cannot swallow it."""


def _call_with_limit(fn, args: dict, time_limit: float):
    """Call ``fn(**args)``; raise _Timeout past ``time_limit`` seconds (main thread only).

    The alarm fires again every 50 ms until the call ends, so a student's bare ``except:``
    that catches one _Timeout gets the next one.
    """
    use_alarm = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if not use_alarm:
        with np.errstate(all="ignore"):
            return fn(**args)
    armed = [True]

    def handler(signum, frame):
        if armed[0]:
            raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, time_limit, 0.05)
    try:
        with np.errstate(all="ignore"):
            return fn(**args)
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _as_tuple(out, n):
    if n == 1:
        return (out,)
    if not isinstance(out, (tuple, list)) or len(out) != n:
        return None
    return tuple(out)


def _copy_args(args: dict) -> dict:
    """A deep copy (arrays inside lists, tuples and states too), so no call changes a case."""
    return copy.deepcopy(dict(args))


def _changed(before, after) -> bool:
    """Whether ``after`` differs from ``before`` anywhere inside (NaN equals NaN)."""
    if isinstance(before, np.ndarray):
        return not (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
        )
    if isinstance(before, (list, tuple)):
        return len(before) != len(after) or any(map(_changed, before, after))
    if isinstance(before, dict):
        return before.keys() != after.keys() or any(_changed(before[k], after[k]) for k in before)
    try:
        return not (before == after or (before != before and after != after))  # NaN == NaN
    except Exception:  # values that cannot be compared
        return False


def _same(a, b, rtol, atol) -> bool:
    try:
        a = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        return False
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _signature_problem(student, case: dict) -> str:
    """Why ``student(**case)`` cannot be called, or ""."""
    if not callable(student):
        return f"{student!r:.40} is not a function"
    try:
        inspect.signature(student).bind(**case)
    except TypeError as err:
        return f"your function must take the arguments ({', '.join(case)}): {err}"
    except ValueError:  # no signature to inspect (a builtin): just call it
        pass
    return ""


def _describe_case(args: dict) -> str:
    parts = []
    for k, v in args.items():
        numeric = isinstance(v, (np.ndarray, float, int)) and not isinstance(v, bool)
        parts.append(f"{k}={fmt(v)}" if numeric else f"{k}={v!r}")
    return ", ".join(parts)


def check_function(
    exercise: str,
    student: Callable,
    reference: Callable,
    cases: Sequence[dict],
    outputs: Sequence[str] = ("result",),
    mistakes: dict[str, Callable] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-12,
    time_limit: float = 2.0,
) -> CheckResult:
    """Compare ``student(**case)`` with ``reference(**case)`` for every case.

    Args:
        exercise: an id such as ``"1.1"`` (recorded with the result).
        student, reference: functions taking the same keyword arguments and returning
            one value, or a tuple of ``len(outputs)`` values.
        cases: keyword-argument dicts; arrays are copied, so neither side can change them,
            and a student function that modifies its input is reported.
        outputs: names of the returned quantities, used in the feedback.
        mistakes: ``{hint: wrong_fn}``; when the student's answer matches ``wrong_fn``'s,
            the hint is added to the feedback.
        rtol, atol: tolerances of the comparison.
        time_limit: seconds allowed per call.
    """
    n = len(outputs)
    if not cases:
        raise ValueError(f"check_function: cases must not be empty (exercise {exercise})")
    if student is None or student is Ellipsis:
        return _record(exercise, False, "not done yet (no function given)")
    problem = _signature_problem(student, cases[0])
    if problem:
        return _record(exercise, False, problem)
    for i, case in enumerate(cases):
        expected = _as_tuple(reference(**_copy_args(case)), n)
        args = _copy_args(case)
        before = _copy_args(args)
        t0 = time.perf_counter()
        try:
            got = _call_with_limit(student, args, time_limit)
        except NotImplementedError:
            return _record(
                exercise, False, "not done yet (the function still raises NotImplementedError)"
            )
        except SystemExit:
            return _record(exercise, False, f"your function called exit() on case {i + 1}")
        except _Timeout:
            return _record(
                exercise,
                False,
                f"your function ran longer than {time_limit:g} s "
                f"on case {i + 1} ({_describe_case(case)}); is there an endless loop?",
            )
        except Exception as err:  # the student's code may raise anything
            return _record(
                exercise,
                False,
                f"your function raised {type(err).__name__}: "
                f"{err} on case {i + 1} ({_describe_case(case)})",
            )
        elapsed = time.perf_counter() - t0
        if elapsed > time_limit:
            return _record(
                exercise,
                False,
                f"your function took {elapsed:.1f} s on case "
                f"{i + 1}; the limit is {time_limit:g} s",
            )
        for k, v in args.items():
            if _changed(before[k], v):
                shown = (
                    f" (from {fmt(before[k])} to {fmt(v)})"
                    if isinstance(v, np.ndarray) and v.shape == before[k].shape
                    else ""
                )
                return _record(
                    exercise,
                    False,
                    f"your function changed its input {k!r} in place{shown}; compute a new "
                    "array instead (e.g. x - lr * g, not x -= lr * g)",
                )
        if got is None:
            return _record(
                exercise, False, "your function returned None; did you forget the return statement?"
            )
        got_t = _as_tuple(got, n)
        if got_t is None:
            return _record(
                exercise,
                False,
                f"your function should return {n} values "
                f"({', '.join(outputs)}), got {type(got).__name__} {got!r:.80}",
            )
        for name, g, e in zip(outputs, got_t, expected, strict=True):
            if _same(g, e, rtol, atol):
                continue
            try:
                g_arr = np.asarray(g, dtype=float)
            except (TypeError, ValueError):
                return _record(
                    exercise,
                    False,
                    f"your {name} is {g!r:.60}, not a number or array; expected {fmt(e)}",
                )
            e_arr = np.asarray(e, dtype=float)
            if g_arr.shape != e_arr.shape:
                return _record(
                    exercise,
                    False,
                    f"your {name} has shape {g_arr.shape}; "
                    f"expected shape {e_arr.shape} (case {i + 1})",
                )
            if not np.all(np.isfinite(g_arr)):
                return _record(
                    exercise,
                    False,
                    f"your {name} contains NaN or inf: "
                    f"{fmt(g_arr)}; expected {fmt(e_arr)} (case {i + 1}: "
                    f"{_describe_case(case)})",
                )
            hint = ""
            for text, wrong in (mistakes or {}).items():
                try:
                    w = _as_tuple(wrong(**_copy_args(case)), n)
                except Exception:  # a mistake model that does not apply to this case
                    continue
                if w is not None and all(
                    _same(a, b, rtol, atol) for a, b in zip(got_t, w, strict=True)
                ):
                    hint = f" -- {text}"
                    break
            return _record(
                exercise,
                False,
                f"your {name} is {fmt(g_arr)}; expected "
                f"{fmt(e_arr)} (case {i + 1}: {_describe_case(case)}){hint}",
            )
    return _record(exercise, True, f"all {len(cases)} cases agree with the reference")


def check_value(
    exercise: str,
    answer: Any,
    expected: float,
    rtol: float = 1e-3,
    hint: str = "",
    mistakes: dict[str, float] | None = None,
    atol: float = 0.0,
) -> CheckResult:
    """Compare a numeric answer with the expected value (tolerances ``rtol`` and ``atol``).

    ``mistakes`` maps a hint to the value a known mistake produces (e.g.
    ``{"that is 1/L; the bound is 2/L": 1 / L}``); when the answer matches one, its hint
    is given. ``hint`` is given for any other wrong answer. ``atol`` > 0 is needed when the
    expected value is 0. Text and booleans are not numbers.
    """
    if answer is None or answer is Ellipsis:
        return _record(exercise, False, "not done yet (no answer given)")
    is_number = isinstance(answer, numbers.Real) or (
        isinstance(answer, np.ndarray) and answer.size == 1 and answer.dtype.kind in "iuf"
    )
    if not is_number or isinstance(answer, (bool, np.bool_)):
        return _record(exercise, False, f"your answer {answer!r:.60} is not a number")
    a = float(answer)
    if np.isclose(a, expected, rtol=rtol, atol=atol):
        return _record(exercise, True, f"{fmt(a, 6)} is right")
    for text, wrong in (mistakes or {}).items():
        if np.isclose(a, wrong, rtol=rtol, atol=atol):
            return _record(exercise, False, f"your answer {fmt(a, 6)} is not right -- {text}")
    extra = f" -- {hint}" if hint else ""
    return _record(exercise, False, f"your answer {fmt(a, 6)} is not right{extra}")


def check_schedule(
    exercise: str,
    student: Callable,
    reference: Callable,
    steps: Sequence[int],
    mistakes: dict[str, Callable] | None = None,
    rtol: float = 1e-6,
    time_limit: float = 2.0,
) -> CheckResult:
    """Compare a student's schedule ``student(k)`` with ``reference(k)`` step by step.

    Reports the first step where they differ; an off-by-one is recognised automatically.
    Step 0 is always checked, first.
    """
    mistakes = dict(mistakes or {})
    mistakes.setdefault(
        "off by one step? s(k) is the rate of update k, and k starts at 0",
        lambda k: reference(k + 1),
    )
    mistakes.setdefault("off by one step (one step late)?", lambda k: reference(max(k - 1, 0)))
    cases = [{"k": k} for k in dict.fromkeys([0, *(int(k) for k in steps)])]
    return check_function(
        exercise,
        student,
        lambda k: float(reference(k)),
        cases,
        outputs=("rate",),
        mistakes=mistakes,
        rtol=rtol,
        time_limit=time_limit,
    )
