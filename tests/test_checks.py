"""The exercise checks never crash or hang, and compare types strictly.

Each case here is something a student's code can return or do; the check must answer with a
clear "not yet" (or pass, for a right answer), never raise or block.
"""

import time

import numpy as np
import pytest

from learnlr.course import checks


def square(x):
    return x * x


CASES = [{"x": np.array([2.0])}, {"x": np.array([-3.0, 0.5])}]


def check(student, cases=CASES, **kw):
    return checks.check_function("t", student, square, cases, outputs=("y",), **kw)


def test_a_right_function_passes_and_a_wrong_one_names_the_quantity():
    assert check(square).passed
    res = check(lambda x: x + x)
    assert not res.passed and "your y is [4]; expected [4]" not in res.message
    assert "case 2" in res.message


@pytest.mark.parametrize(
    "returned, says",
    [
        ("4", "text"),
        (b"4", "text"),
        (True, "boolean"),
        (np.array([True]), "booleans"),
        (np.array(["4"]), "text"),
        (np.array([4 + 0j]), "complex"),
        (["4.0"], "text"),
        (object(), "not a number"),
    ],
)
def test_text_booleans_and_objects_are_not_numbers(returned, says):
    res = check(lambda x: returned)
    assert not res.passed and says in res.message


def test_strings_that_parse_as_the_right_number_do_not_pass():
    res = checks.check_function("t", lambda k: "22", lambda k: 22, [{"k": 1}])
    assert not res.passed and "text" in res.message
    assert not checks.check_function("t", lambda k: True, lambda k: 1, [{"k": 1}]).passed
    assert not checks.check_value("t", "22", 22.0).passed
    assert not checks.check_value("t", True, 1.0).passed
    assert not checks.check_value("t", np.True_, 1.0).passed


def test_a_one_element_array_is_a_number_for_check_value():
    assert checks.check_value("3.2", np.array([0.0025]), 0.0025).passed
    assert checks.check_value("3.2", np.array([[0.0025]]), 0.0025).passed
    res = checks.check_value("3.2", np.array([0.0025, 0.0025]), 0.0025)
    assert not res.passed and "shape (2,)" in res.message


def test_huge_integers_are_wrong_not_an_overflow():
    res = checks.check_function("t", lambda k: 10**400, lambda k: 22, [{"k": 1}])
    assert not res.passed and "inf" in res.message
    assert not checks.check_value("t", 10**400, 22.0).passed
    assert not checks.check_value("t", -(10**400), 22.0).passed


class Hostile:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array for you")

    def __repr__(self):
        raise RuntimeError("no repr for you")

    def __float__(self):
        raise RuntimeError("no float for you")

    def __eq__(self, other):
        raise RuntimeError("no comparison for you")

    __hash__ = object.__hash__


def test_objects_whose_array_and_repr_raise_are_reported():
    res = check(lambda x: Hostile())
    assert not res.passed and "Hostile" in res.message
    res = checks.check_value("t", Hostile(), 1.0)
    assert not res.passed and "Hostile" in res.message


class StudentError(BaseException):
    pass


@pytest.mark.parametrize(
    "error, says",
    [
        (ValueError("bad"), "ValueError: bad"),
        (StudentError("odd"), "StudentError: odd"),
        (GeneratorExit(), "GeneratorExit"),
        (RecursionError(), "RecursionError"),
        (MemoryError(), "MemoryError"),
        (SystemExit(3), "exit()"),
        (NotImplementedError(), "not done yet"),
    ],
)
def test_any_exception_is_reported(error, says):
    def student(x):
        raise error

    res = check(student)
    assert not res.passed and says in res.message


def test_keyboard_interrupt_still_stops_the_cell():
    def student(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check(student)


def test_an_exception_whose_str_raises_is_reported():
    class Odd(Exception):
        def __str__(self):
            raise RuntimeError

    def student(x):
        raise Odd

    res = check(student)
    assert not res.passed and "Odd" in res.message


def test_a_bare_except_around_an_endless_loop_cannot_swallow_the_limit():
    def student(x):
        while True:
            try:
                while True:
                    pass
            except:  # noqa: E722 -- what a student may write
                continue

    t0 = time.perf_counter()
    res = check(student, time_limit=0.5)
    assert not res.passed and "longer than 0.5 s" in res.message
    assert time.perf_counter() - t0 < 10


def test_sleep_and_ignored_signals_cannot_swallow_the_limit():
    import signal

    def student(x):
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)

    res = check(student, time_limit=0.5)
    assert not res.passed and "longer than" in res.message


def test_a_student_that_clears_the_case_list_still_faces_every_case():
    cases = [dict(c) for c in CASES]

    def cheat(x):
        cases.clear()
        return x * x

    assert check(cheat, cases=cases).passed  # right on both cases
    cases = [dict(c) for c in CASES]

    def cheat_wrong(x):
        cases.clear()
        return x

    res = check(cheat_wrong, cases=cases)
    assert not res.passed and "0 cases" not in res.message
    assert len(cases) == 2  # the check's copy, not the caller's list, was what it used


def test_a_student_that_patches_the_checks_or_numpy_does_not_change_this_check():
    def cheat(x):
        np.allclose = lambda *a, **k: True
        checks._same = lambda *a, **k: True
        return x

    real_allclose, real_same = np.allclose, checks._same
    res = check(cheat)
    assert not res.passed
    assert np.allclose is real_allclose and checks._same is real_same


def test_modifying_an_input_in_place_is_reported():
    def student(x):
        x *= x
        return x

    res = check(student)
    assert not res.passed and "in place" in res.message


def test_wrong_counts_none_and_bad_shapes_are_reported():
    assert "None" in check(lambda x: None).message
    res = checks.check_function("t", lambda x: x, lambda x: (x, x), CASES, outputs=("a", "b"))
    assert "should return 2 values" in res.message
    assert "shape" in check(lambda x: np.zeros(5)).message


def test_a_process_that_dies_is_reported():
    import os

    res = check(lambda x: os._exit(0))
    assert not res.passed and "stopped the process" in res.message


def test_sealed_values_pass_fail_and_hint_without_showing_the_value():
    sealed = checks.seal(2 / 5.0)
    assert checks.check_sealed("t", 0.4, sealed).passed
    assert checks.check_sealed("t", 0.40000001, sealed).passed
    assert checks.check_sealed("t", np.array([0.4]), sealed).passed
    res = checks.check_sealed("t", 0.2, sealed, mistakes={checks.seal(1 / 5.0): "that is 1/L"})
    assert not res.passed and "1/L" in res.message and "0.4" not in res.message
    assert not checks.check_sealed("t", "0.4", sealed).passed
    assert "not done" in checks.check_sealed("t", None, sealed).message
    with pytest.raises(TypeError, match="seal: value"):
        checks.seal("0.4")
    with pytest.raises(ValueError, match="seal: digits"):
        checks.seal(0.4, digits=0)


# --------------------------------------------------------------------------------------
# check_choice: a chosen value is checked by running the experiment it is for
# --------------------------------------------------------------------------------------


def _below_one(value):
    """A stand-in experiment: met when 0 < value < 1; refuses negative values like an
    optimizer does."""
    if value < 0:
        raise ValueError(f"demo: lr must be >= 0, got {value}")
    return 0 < value < 1, f"value {value:g}"


def test_check_choice_passes_any_value_that_meets_the_criterion():
    for good in (0.001, 0.5, 0.999, np.float64(0.3), np.array([0.2]), 1 / 3):
        res = checks.check_choice("t", good, _below_one)
        assert res.passed, res.message
        assert "meets the criterion" in res.message


def test_check_choice_reports_what_happened_for_a_value_that_fails():
    res = checks.check_choice("t", 2.0, _below_one)
    assert not res.passed
    assert "does not meet the criterion: value 2" in res.message


def test_check_choice_reports_bad_answers_without_running_the_criterion():
    calls = []

    def criterion(value):
        calls.append(value)
        return True, "ran"

    assert "not done yet" in checks.check_choice("t", None, criterion).message
    assert "not done yet" in checks.check_choice("t", ..., criterion).message
    for bad in (float("nan"), float("inf"), -np.inf):
        res = checks.check_choice("t", bad, criterion)
        assert not res.passed and "not a finite number" in res.message
    for bad in ("0.5", True, np.zeros(3), [0.5, 0.6], object()):
        res = checks.check_choice("t", bad, criterion)
        assert not res.passed, bad
    assert calls == []


def test_check_choice_reports_a_value_the_experiment_refuses():
    res = checks.check_choice("t", -1.0, _below_one)
    assert not res.passed
    assert "cannot be used: demo: lr must be >= 0, got -1.0" in res.message
    res = checks.check_choice("t", 0.0, lambda value: (1 / value > 0, "ran"))
    assert not res.passed and "cannot be used: float division by zero" in res.message


def test_check_choice_is_recorded_and_rejects_a_criterion_that_is_not_callable():
    res = checks.check_choice("t-rec", 0.5, _below_one)
    assert checks.results()[-1] == res
    with pytest.raises(TypeError, match="check_choice: criterion must be callable"):
        checks.check_choice("t", 0.5, "criterion")


# --- check_choice: any chosen value that meets the criterion passes -------------------------


def _used_below_one(value):
    return value < 1, f"the run used {value:g}"


def test_check_choice_passes_any_value_that_meets_the_criterion_and_fails_the_others():
    assert checks.check_choice("t.c", 0.3, _used_below_one).passed
    assert checks.check_choice("t.c", np.float64(0.9), _used_below_one).passed
    result = checks.check_choice("t.c", 3, _used_below_one, hint="try a smaller value")
    assert not result.passed
    assert result.message == "3 does not meet the criterion: the run used 3 -- try a smaller value"


@pytest.mark.parametrize(
    "answer, says",
    [
        (None, "not done yet"),
        (..., "not done yet"),
        ("0.3", "text"),
        (True, "your answer is"),
        (np.array([0.1, 0.2]), "expected one number"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
    ],
)
def test_check_choice_reports_what_is_not_a_number_without_running_the_judge(answer, says):
    ran = []
    result = checks.check_choice("t.c", answer, lambda v: ran.append(v) or (True, "ran"))
    assert not result.passed
    assert says in result.message
    assert ran == []


def test_check_choice_silences_floating_point_warnings_of_a_diverging_run():
    import warnings

    def diverging(value):
        x = np.array([value])
        for _ in range(2000):
            x = x * 1e10
        return bool(np.isfinite(x).all()), "diverged"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not checks.check_choice("t.c", 2.0, diverging).passed
