"""Self-checking exercises: compare a student's answer with learnlr's reference.

Each check runs the student's code on several inputs (edge cases included), compares every
returned quantity with the reference and reports the *first* wrong one with its expected
value, e.g. ``your G is [0.3]; expected [0.09] -- did you square the gradient?``. Known
mistakes are recognised by running a deliberately wrong version of the reference
(``mistakes={"did you square the gradient?": wrong_fn}``) and seeing whether the student's
answer matches it.

Bad student code never stops or hangs the notebook. The student's function runs in a forked
copy of the process (where the platform has ``os.fork``), which is killed past the time
limit, so no ``except:`` in the student's code can swallow the limit; the copy sends back
only numbers, so a returned object whose ``__array__`` or ``__repr__`` raises, or that
modifies the check's own lists, cannot reach the comparison. An exception of any type
(``KeyboardInterrupt`` excepted: it still stops the cell), ``exit()``, ``None``, text or a
boolean where a number belongs, the wrong shape, NaN, an integer too large for a float,
modifying an input in place, or running past the time limit each gives a clear message. An
unfinished exercise (``raise NotImplementedError``) is reported as "not done yet".

A check whose expected values must not be on the student's page compares with *sealed*
answers (:func:`seal`, :func:`check_sealed`): SHA-256 digests of the values rounded to a few
significant digits, so the page shows neither the value nor the formula.

Every result is also recorded in :data:`RESULTS` (exercise id, passed, message); these are
the student's own self-checks. Marks come from the grader (:mod:`learnlr.course.grader`), which does
not read them. Checks return a :class:`CheckResult`, which displays as one line in a
notebook; they never print.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import io
import json
import numbers
import os
import select
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from learnlr.optimizers.base import fmt

__all__ = [
    "CheckResult",
    "RESULTS",
    "Remote",
    "check_choice",
    "check_function",
    "check_value",
    "check_schedule",
    "check_sealed",
    "check_function_sealed",
    "results",
    "seal",
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


#: Every check result of this session, in order (the student's own record).
RESULTS: list[CheckResult] = []


def results() -> list[CheckResult]:
    """A copy of the results recorded so far."""
    return list(RESULTS)


def _record(exercise, passed, message) -> CheckResult:
    res = CheckResult(exercise, bool(passed), message)
    RESULTS.append(res)
    return res


# --------------------------------------------------------------------------------------
# Reading what a student returned, without trusting it
# --------------------------------------------------------------------------------------


def _type_name(obj) -> str:
    try:
        return str(type.__getattribute__(type(obj), "__name__"))
    except Exception:
        return "object"


def _safe_text(obj, limit: int = 60) -> str:
    """``repr(obj)`` cut to ``limit`` characters; a stand-in if its ``__repr__`` fails."""
    try:
        text = repr(obj)
        if not isinstance(text, str):
            raise TypeError
    except Exception:
        return f"<a {_type_name(obj)} that cannot be shown>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value, depth: int = 0):
    """``value`` as a float array, or a text saying why it is not a number (strict types).

    A boolean, text, a complex number or an object is not a number; an integer too large for
    a float becomes +-inf; a list or tuple of numbers is an array. Nothing of the student's
    class is called except ``float``/``int`` conversions of number subclasses.
    """
    if isinstance(value, (bool, np.bool_)):
        return f"a boolean ({_safe_text(value)}), not a number"
    if isinstance(value, (str, bytes)):
        return f"text ({_safe_text(value)}), not a number"
    if isinstance(value, np.ndarray):
        arr = np.ndarray.view(value, np.ndarray)
        kind = arr.dtype.kind
        if kind in "iuf":
            return arr.astype(float)
        what = {"b": "booleans", "U": "text", "S": "text", "c": "complex numbers"}
        return f"an array of {what.get(kind, str(arr.dtype))}, not of numbers"
    if isinstance(value, (np.integer, np.floating)):
        return np.asarray(value, dtype=float)
    if isinstance(value, int):
        number = int.__int__(value)
        try:
            return np.asarray(float(number))
        except OverflowError:
            return np.asarray(np.inf if number > 0 else -np.inf)
    if isinstance(value, float):
        return np.asarray(float.__float__(value))
    if isinstance(value, numbers.Real):  # Fraction and the like
        try:
            return np.asarray(float(value))
        except OverflowError:
            return np.asarray(np.inf if value > 0 else -np.inf)
    if isinstance(value, (list, tuple)) and depth < 32:
        items = [_number(v, depth + 1) for v in value]
        for item in items:
            if isinstance(item, str):
                return f"a {_type_name(value)} holding {item}"
        try:
            return np.array(items, dtype=float) if items else np.zeros(0)
        except ValueError:
            return f"a {_type_name(value)} of pieces with different shapes"
    return f"a {_type_name(value)} ({_safe_text(value)}), not a number or array"


def _encode(value) -> dict:
    """A JSON-able form of one returned quantity: its numbers, or why it has none."""
    arr = _number(value)
    if isinstance(arr, str):
        return {"bad": arr}
    return {"shape": list(arr.shape), "data": arr.ravel().tolist()}


def _decode(item: dict):
    if "bad" in item:
        return str(item["bad"])
    return np.asarray(item["data"], dtype=float).reshape(item["shape"])


def _as_tuple(out, n):
    if n == 1:
        return (out,)
    if type(out) not in (tuple, list) or len(out) != n:
        return None
    return tuple(out)


def _changed(before, after) -> bool:
    """Whether ``after`` differs from ``before`` anywhere inside (NaN equals NaN)."""
    if isinstance(before, np.ndarray):
        return not (
            type(after) is np.ndarray
            and before.shape == after.shape
            and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
        )
    if isinstance(before, (list, tuple)):
        return (
            type(after) is not type(before)
            or len(before) != len(after)
            or any(map(_changed, before, after))
        )
    if isinstance(before, dict):
        return before.keys() != after.keys() or any(_changed(before[k], after[k]) for k in before)
    if type(after) is not type(before):
        return True
    try:
        return not (before == after or (before != before and after != after))  # NaN == NaN
    except Exception:  # values that cannot be compared
        return False


def _outcome(student, case: dict, n: int) -> list:
    """Call ``student(**case)`` on a copy of ``case``; describe what happened as JSON data.

    ``["ok", [encoded outputs]]``, ``["not done"]``, ``["exit"]``, ``["interrupted"]``,
    ``["raised", type name, message]``, ``["changed", argument, shown]``, ``["none"]`` or
    ``["count", type name, shown]``.
    """
    args, before = copy.deepcopy(case), copy.deepcopy(case)
    try:
        with np.errstate(all="ignore"):
            got = student(**args)
    except NotImplementedError:
        return ["not done"]
    except SystemExit:
        return ["exit"]
    except KeyboardInterrupt:
        return ["interrupted"]
    except BaseException as err:  # the student's code may raise anything
        return ["raised", _type_name(err), _safe_text(_message(err), 200)[1:-1]]
    for k in before:
        if _changed(before[k], args.get(k)):
            v = args.get(k)
            shown = (
                f" (from {fmt(before[k])} to {fmt(v)})"
                if type(v) is np.ndarray and v.shape == before[k].shape and v.dtype.kind in "iuf"
                else ""
            )
            return ["changed", k, shown]
    if got is None:
        return ["none"]
    got_t = _as_tuple(got, n)
    if got_t is None:
        return ["count", _type_name(got), _safe_text(got, 80)]
    return ["ok", [_encode(v) for v in got_t]]


def _message(err) -> str:
    try:
        text = str(err)
        return text if isinstance(text, str) else ""
    except Exception:
        return ""


# --------------------------------------------------------------------------------------
# Running student code where its time limit cannot be caught
# --------------------------------------------------------------------------------------


class Remote:
    """A student's function that lives in another process (the grader's sandbox).

    A subclass implements :meth:`outcomes`; checks then never call the function here.
    """

    def outcomes(self, cases: Sequence[dict], n: int, time_limit: float) -> list[list]:
        """One outcome list per case (``["timeout"]`` past the limit; then stop)."""
        raise NotImplementedError


class _Sink(io.TextIOBase):
    """Where a forked check's prints go: counted and dropped."""

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        return len(text) if isinstance(text, str) else 0


def _child(task, write_fd: int) -> None:
    """In the forked copy: run ``task`` (yielding JSON-able lines), send them, exit."""
    import sys

    try:
        os.setpgid(0, 0)  # its own group, so processes it starts are killed with it
        sys.stdout = sys.stderr = _Sink()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for item in task():
            data = (json.dumps(item) + "\n").encode()
            while data:
                data = data[os.write(write_fd, data) :]
    except BaseException:  # nothing may escape the copy
        pass
    finally:
        os._exit(0)


def _forked(task, count: int, time_limit: float) -> list[list]:
    """Lines of ``task()`` computed in a forked process, ``time_limit`` s for each.

    A line that does not come in time ends the list with ``["timeout"]`` (the process is
    killed); a process that dies early ends it with ``["died", how]``.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (runs in the child)
        os.close(read_fd)
        _child(task, write_fd)
    os.close(write_fd)
    child = pid
    lines: list[list] = []
    buffer = b""
    deadline = time.monotonic() + time_limit
    try:
        while len(lines) < count:
            left = deadline - time.monotonic()
            ready = select.select([read_fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                lines.append(["timeout"])
                break
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                _, status = os.waitpid(pid, 0)
                pid = 0
                lines.append(["died", _how_it_ended(status)])
                break
            buffer += chunk
            while b"\n" in buffer and len(lines) < count:
                line, buffer = buffer.split(b"\n", 1)
                lines.append(json.loads(line))
                deadline = time.monotonic() + time_limit
    finally:
        os.close(read_fd)
        for kill in (os.killpg, os.kill):
            try:
                kill(child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if pid:
            os.waitpid(pid, 0)
    return lines


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.WEXITSTATUS(status)}"


def _outcomes(student, cases: list[dict], n: int, time_limit: float) -> list[list]:
    """What ``student`` did on each case, the call run where its limit cannot be caught."""
    if issubclass(type(student), Remote):
        return student.outcomes(cases, n, time_limit)

    def task():
        for case in cases:
            yield _outcome(student, case, n)

    if hasattr(os, "fork"):
        return _forked(task, len(cases), time_limit)
    out = []  # no fork (Windows): no wall-clock bound
    for case in cases:
        out.append(_outcome(student, case, n))
        if out[-1][0] != "ok":
            break
    return out


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def _same(a, b, rtol, atol) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _signature_problem(student, case: dict) -> str:
    """Why ``student(**case)`` cannot be called, or ""."""
    if issubclass(type(student), Remote):
        return ""
    if not callable(student):
        return f"{_safe_text(student, 40)} is not a function"
    try:
        inspect.signature(student).bind(**case)
    except TypeError as err:
        return f"your function must take the arguments ({', '.join(case)}): {err}"
    except Exception:  # no signature to inspect (a builtin, an odd object): just call it
        pass
    return ""


def _describe_case(args: dict) -> str:
    parts = []
    for k, v in args.items():
        numeric = isinstance(v, (np.ndarray, float, int)) and not isinstance(v, bool)
        parts.append(f"{k}={fmt(v)}" if numeric else f"{k}={v!r}")
    return ", ".join(parts)


def _problem(outcome: list, i: int, case: dict, time_limit: float, outputs) -> str:
    """The feedback for an outcome other than "ok", or ""."""
    kind = outcome[0]
    where = f"on case {i + 1} ({_describe_case(case)})"
    if kind == "ok":
        return ""
    if kind == "not done":
        return "not done yet (the function still raises NotImplementedError)"
    if kind == "exit":
        return f"your function called exit() on case {i + 1}"
    if kind == "interrupted":  # in the grader's sandbox: it stops only the student's call
        return f"your function raised KeyboardInterrupt {where}"
    if kind == "raised":
        return f"your function raised {outcome[1]}: {outcome[2]} {where}"
    if kind == "timeout":
        return f"your function ran longer than {time_limit:g} s {where}; is there an endless loop?"
    if kind == "died":
        return f"your function stopped the process {where}: it {outcome[1]}"
    if kind == "changed":
        return (
            f"your function changed its input {outcome[1]!r} in place{outcome[2]}; compute a "
            "new array instead (e.g. x - lr * g, not x -= lr * g)"
        )
    if kind == "none":
        return "your function returned None; did you forget the return statement?"
    if kind == "count":
        return (
            f"your function should return {len(outputs)} values ({', '.join(outputs)}), "
            f"got {outcome[1]} {outcome[2]}"
        )
    return f"the check could not read your function's answer {where}"


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
        cases: keyword-argument dicts. They are copied before the student's code runs, and
            every call gets its own copy, so nothing the student does changes them; a
            student function that modifies its input is reported.
        outputs: names of the returned quantities, used in the feedback.
        mistakes: ``{hint: wrong_fn}``; when the student's answer matches ``wrong_fn``'s,
            the hint is added to the feedback.
        rtol, atol: tolerances of the comparison.
        time_limit: seconds allowed per call (wall clock).
    """
    n = len(outputs)
    cases = [copy.deepcopy(dict(case)) for case in cases]
    if not cases:
        raise ValueError(f"check_function: cases must not be empty (exercise {exercise})")
    if student is None or student is Ellipsis:
        return _record(exercise, False, "not done yet (no function given)")
    problem = _signature_problem(student, cases[0])
    if problem:
        return _record(exercise, False, problem)
    expected = [_as_tuple(reference(**copy.deepcopy(case)), n) for case in cases]
    for i, outcome in enumerate(_outcomes(student, cases, n, time_limit)):
        case = cases[i]
        problem = _problem(outcome, i, case, time_limit, outputs)
        if outcome[0] == "interrupted" and not issubclass(type(student), Remote):
            raise KeyboardInterrupt  # the user stopped the cell
        if problem:
            return _record(exercise, False, problem)
        got_t = [_decode(item) for item in outcome[1]]
        message = _first_difference(got_t, expected[i], case, i, outputs, mistakes, rtol, atol)
        if message:
            return _record(exercise, False, message)
    return _record(exercise, True, f"all {len(cases)} cases agree with the reference")


def _first_difference(got_t, expected, case, i, outputs, mistakes, rtol, atol) -> str:
    """The message about the first returned quantity that differs from the expected, or ""."""
    n = len(outputs)
    where = f"(case {i + 1}: {_describe_case(case)})"
    for name, g, e in zip(outputs, got_t, expected, strict=True):
        e_arr = np.asarray(e, dtype=float)
        if isinstance(g, str):
            return f"your {name} is {g}; expected {fmt(e_arr)} {where}"
        if _same(g, e_arr, rtol, atol):
            continue
        if g.shape != e_arr.shape:
            return f"your {name} has shape {g.shape}; expected shape {e_arr.shape} (case {i + 1})"
        if not np.all(np.isfinite(g)):
            return f"your {name} contains NaN or inf: {fmt(g)}; expected {fmt(e_arr)} {where}"
        hint = ""
        for text, wrong in (mistakes or {}).items():
            try:
                w = _as_tuple(wrong(**copy.deepcopy(case)), n)
            except Exception:  # a mistake model that does not apply to this case
                continue
            if w is not None and all(
                not isinstance(a, str) and _same(a, np.asarray(b, dtype=float), rtol, atol)
                for a, b in zip(got_t, w, strict=True)
            ):
                hint = f" -- {text}"
                break
        return f"your {name} is {fmt(g)}; expected {fmt(e_arr)} {where}{hint}"
    return ""


def _answer_number(exercise: str, answer, time_limit: float):
    """The answer as one float, or a CheckResult saying why it is not one."""
    if issubclass(type(answer), Remote):
        lines = answer.outcomes([{}], 1, time_limit)
    elif type(answer) in (float, int, np.float64) or _plain_array(answer):
        lines = [["ok", [_encode(answer)]]]  # nothing of the student's runs: no fork needed
    elif hasattr(os, "fork"):
        lines = _forked(lambda: iter([["ok", [_encode(answer)]]]), 1, time_limit)
    else:
        lines = [["ok", [_encode(answer)]]]
    outcome = lines[0] if lines else ["died", "sent nothing"]
    if outcome[0] == "none":
        return _record(exercise, False, "not done yet (no answer given)")
    if outcome[0] != "ok":
        return _record(exercise, False, "the check could not read your answer")
    value = _decode(outcome[1][0])
    if isinstance(value, str):
        return _record(exercise, False, f"your answer is {value}")
    if value.size != 1:
        return _record(exercise, False, f"your answer has shape {value.shape}; expected one number")
    return float(value.ravel()[0])


def _verdict(exercise: str, a: float, agrees: Callable, expected, mistakes, hint: str):
    """Record the verdict on a one-number answer ``a`` (for :func:`check_value` and
    :func:`check_sealed`): right when ``agrees(expected)``; else the hint of the first
    ``(key, hint)`` in ``mistakes`` with ``agrees(key)``; else ``hint``, if any."""
    if agrees(expected):
        return _record(exercise, True, f"{fmt(a, 6)} is right")
    found = next((text for key, text in mistakes if agrees(key)), hint)
    extra = f" -- {found}" if found else ""
    return _record(exercise, False, f"your answer {fmt(a, 6)} is not right{extra}")


def _plain_array(value) -> bool:
    return type(value) is np.ndarray and value.dtype.kind in "iuf"


def check_value(
    exercise: str,
    answer: Any,
    expected: float,
    rtol: float = 1e-3,
    hint: str = "",
    mistakes: dict[str, float] | None = None,
    atol: float = 0.0,
    time_limit: float = 2.0,
) -> CheckResult:
    """Compare a numeric answer with the expected value (tolerances ``rtol`` and ``atol``).

    ``mistakes`` maps a hint to the value a known mistake produces (e.g.
    ``{"that is 1/L; the bound is 2/L": 1 / L}``); when the answer matches one, its hint
    is given. ``hint`` is given for any other wrong answer. ``atol`` > 0 is needed when the
    expected value is 0. Text and booleans are not numbers; an array with one element is
    its element.
    """
    if answer is None or answer is Ellipsis:
        return _record(exercise, False, "not done yet (no answer given)")
    a = _answer_number(exercise, answer, time_limit)
    if isinstance(a, CheckResult):
        return a
    known = [(wrong, text) for text, wrong in (mistakes or {}).items()]
    return _verdict(
        exercise, a, lambda v: bool(np.isclose(a, v, rtol=rtol, atol=atol)), expected, known, hint
    )


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


# --------------------------------------------------------------------------------------
# Sealed answers: the page shows a digest, not the value
# --------------------------------------------------------------------------------------


def _digest(value: float, digits: int) -> str:
    return hashlib.sha256(f"learnlr:{float(value):.{digits - 1}e}".encode()).hexdigest()[:16]


def _digests(value: float, digits: int) -> set:
    """Digests of ``value`` and of its neighbours, so rounding noise cannot flip a result."""
    value = float(value)
    if value == 0 or not np.isfinite(value):
        return {_digest(value, digits)}
    nudge = 10.0 ** -(digits + 2)
    return {_digest(value * f, digits) for f in (1 - nudge, 1, 1 + nudge)}


def seal(value: float, digits: int = 4) -> str:
    """The digest a sealed check compares with: ``value`` rounded to ``digits`` significant
    digits and hashed (SHA-256). Use it when writing an exercise, not in the notebook.

    Example:
        >>> seal(0.5) == seal(0.50001)
        True
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"seal: value must be a real number, got {value!r}")
    if not (isinstance(digits, int) and 1 <= digits <= 15):
        raise ValueError(f"seal: digits must be an int in [1, 15], got {digits!r}")
    return _digest(float(value), digits)


def check_sealed(
    exercise: str,
    answer: Any,
    sealed: str,
    digits: int = 4,
    mistakes: dict[str, str] | None = None,
    hint: str = "",
    time_limit: float = 2.0,
) -> CheckResult:
    """Compare a numeric answer with a sealed expected value (see :func:`seal`).

    ``sealed`` is ``seal(expected, digits)``; ``mistakes`` maps the sealed value of a known
    mistake to its hint. The answer passes when it agrees with the expected value to
    ``digits`` significant digits. The message does not show the expected value.
    """
    if answer is None or answer is Ellipsis:
        return _record(exercise, False, "not done yet (no answer given)")
    a = _answer_number(exercise, answer, time_limit)
    if isinstance(a, CheckResult):
        return a
    found = _digests(a, digits)
    return _verdict(exercise, a, found.__contains__, sealed, (mistakes or {}).items(), hint)


def check_function_sealed(
    exercise: str,
    student: Callable,
    cases: Sequence[dict],
    sealed: Sequence[str],
    output: str = "result",
    mistakes: dict[str, Sequence[str]] | None = None,
    digits: int = 6,
    time_limit: float = 2.0,
) -> CheckResult:
    """Compare ``student(**case)`` (one number per case) with sealed expected values.

    ``sealed[i]`` is ``seal(expected_i, digits)``; ``mistakes`` maps a hint to the sealed
    values a known mistake gives on each case. Neither the values nor the formula that
    makes them appear on the page; the message does not show the expected value.
    """
    cases = [copy.deepcopy(dict(case)) for case in cases]
    if not cases or len(sealed) != len(cases):
        raise ValueError(
            f"check_function_sealed: need one sealed value per case (exercise {exercise}), "
            f"got {len(sealed)} for {len(cases)} cases"
        )
    if student is None or student is Ellipsis:
        return _record(exercise, False, "not done yet (no function given)")
    problem = _signature_problem(student, cases[0])
    if problem:
        return _record(exercise, False, problem)
    for i, outcome in enumerate(_outcomes(student, cases, 1, time_limit)):
        if outcome[0] == "interrupted" and not issubclass(type(student), Remote):
            raise KeyboardInterrupt  # the user stopped the cell
        problem = _problem(outcome, i, cases[i], time_limit, (output,))
        if problem:
            return _record(exercise, False, problem)
        got = _decode(outcome[1][0])
        where = f"(case {i + 1}: {_describe_case(cases[i])})"
        if isinstance(got, str):
            return _record(exercise, False, f"your {output} is {got} {where}")
        if got.size != 1:
            return _record(
                exercise, False, f"your {output} has shape {got.shape}; expected one number"
            )
        found = _digests(float(got.ravel()[0]), digits)
        if sealed[i] in found:
            continue
        hint = next(
            (f" -- {text}" for text, seals in (mistakes or {}).items() if seals[i] in found), ""
        )
        return _record(exercise, False, f"your {output} {fmt(got, 6)} is not right {where}{hint}")
    return _record(exercise, True, f"all {len(cases)} cases are right")


# --------------------------------------------------------------------------------------
# Chosen values: any answer that meets the criterion passes, checked by running it
# --------------------------------------------------------------------------------------


def check_choice(
    exercise: str,
    answer: Any,
    criterion: Callable[[float], tuple[bool, str]],
    hint: str = "",
    time_limit: float = 2.0,
) -> CheckResult:
    """Check a chosen number (a rate, a momentum) by running the experiment it is for.

    An exercise of the kind "choose a rate for this problem" has many right answers, so there
    is no expected value to seal or to copy: ``criterion(value)`` runs the experiment with the
    student's value and returns ``(met, what_happened)``, e.g. ``(False, "diverged at step
    12")``. The message names what happened, so the student learns from a wrong choice;
    ``hint`` is added when it fails. The answer is read as :func:`check_value` reads it
    (``None``, text, booleans and arrays of several numbers are reported); NaN and inf are
    reported without running the criterion. A value the experiment refuses (an optimizer's
    ``ValueError`` or ``TypeError`` for a negative rate, say) or that makes its arithmetic
    fail (``OverflowError``, ``ZeroDivisionError``) is reported with the error's message.
    Floating-point warnings are silenced while the criterion runs.

    Args:
        exercise: an id such as ``"4.3"`` (recorded with the result).
        answer: the student's number (a float, an int or an array with one element).
        criterion: the instructor's experiment, called with the answer as a float.
        hint: added to the message of a failed check.
        time_limit: seconds allowed to read the answer (wall clock).
    """
    if not callable(criterion):
        raise TypeError(f"check_choice: criterion must be callable, got {criterion!r}")
    if answer is None or answer is Ellipsis:
        return _record(exercise, False, "not done yet (no answer given)")
    a = _answer_number(exercise, answer, time_limit)
    if isinstance(a, CheckResult):  # the answer could not be read as one number
        return a
    if not np.isfinite(a):
        return _record(exercise, False, f"your answer {fmt(a, 6)} is not a finite number")
    try:
        with np.errstate(all="ignore"):
            met, what = criterion(a)
    except (ValueError, TypeError, ArithmeticError) as err:
        return _record(exercise, False, f"your answer {fmt(a, 6)} cannot be used: {err}")
    verdict = "meets" if met else "does not meet"
    extra = f" -- {hint}" if hint and not met else ""
    return _record(exercise, bool(met), f"{fmt(a, 6)} {verdict} the criterion: {what}{extra}")
