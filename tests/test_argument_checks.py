"""The shared argument checks of ``learnlr/_checks.py``: one spelling of each refusal.

A function that takes a problem or an optimizer checks it with ``check_problem`` /
``check_optimizer``, so every such error reads the same and names the calling function,
the argument and the value it got.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import learnlr
from learnlr import optimizers as O
from learnlr import problems as P
from learnlr._checks import check_batch_size
from learnlr.optimizers.base import check_optimizer
from learnlr.problems.functions import check_problem
from learnlr.problems.mlp import MLPProblem
from learnlr.problems.online import OnlineProblem

PACKAGE = Path(learnlr.__file__).resolve().parent


def test_check_problem_returns_a_problem_and_names_function_argument_and_value():
    bowl = P.quadratic2d()
    assert check_problem("f", bowl) is bowl
    with pytest.raises(TypeError, match=r"^f: problem must be a learnlr Problem, got 'bowl'$"):
        check_problem("f", "bowl")
    with pytest.raises(TypeError, match=r"^f: target must be a learnlr Problem, got None$"):
        check_problem("f", None, name="target")


def test_check_problem_can_ask_for_a_kind_of_problem():
    with pytest.raises(
        TypeError, match=r"^train: problem must be an MLPProblem, got <Problem quadr"
    ):
        check_problem("train", P.quadratic2d(), MLPProblem)
    with pytest.raises(TypeError, match=r"^run_online: problem must be an OnlineProblem, got 1$"):
        check_problem("run_online", 1, OnlineProblem)
    with pytest.raises(
        TypeError, match=r"^g: problem must be a StochasticProblem, got <Problem quad"
    ):
        check_problem("g", P.quadratic2d(), P.StochasticProblem)


def test_check_optimizer_names_function_argument_and_value():
    opt = O.adam()
    assert check_optimizer("run", opt) is opt
    with pytest.raises(TypeError, match=r"^run: opt must be a learnlr optimizer, got 'adam'$"):
        check_optimizer("run", "adam")
    # a factory passed where an optimizer is wanted: the message says what was passed
    with pytest.raises(TypeError, match=r"^run: opt must be a learnlr optimizer, got <function"):
        check_optimizer("run", O.adam)


def test_check_optimizer_names_the_factory_whose_result_is_wrong():
    with pytest.raises(
        TypeError, match=r"^sweep: make_opt\(0\.1\) must return a learnlr optimizer, got 0\.1$"
    ):
        check_optimizer("sweep", 0.1, made_by="make_opt(0.1)")


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(TypeError) as info:
        check_optimizer("run", list(range(1000)))
    assert len(str(info.value)) < 140 and str(info.value).endswith("...")


def test_check_batch_size():
    assert check_batch_size("f", None, 10) is None
    assert check_batch_size("f", np.int64(10), 10) == 10
    with pytest.raises(ValueError, match=r"^f: batch_size must be <= n_samples=10, got 11$"):
        check_batch_size("f", 11, 10)
    with pytest.raises(ValueError, match=r"^f: batch_size must be an integer >= 1, got 0$"):
        check_batch_size("f", 0, 10)


_MESSAGE = re.compile(
    r"must (?:be|return) an? (?:learnlr )?(?:optimizer|Problem)\b(?! state| factory)"
)


def test_only_the_shared_checks_spell_the_problem_and_optimizer_refusals():
    # one place says "must be a learnlr optimizer / Problem": every caller uses it
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_checks.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _MESSAGE.search(line) and ("raise" in line or 'f"' in line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "copies of the shared refusal:\n" + "\n".join(offenders)


def test_lr_find_refuses_a_start_where_the_loss_overflows():
    from learnlr import finder

    p = P.least_squares(batch_size=10, seed=0)
    x0 = np.full(p.dim, 1e200)
    with pytest.raises(ValueError, match=r"lr_find: the loss at x0 must be finite, got inf"):
        finder.lr_find(p, O.sgd, x0=x0)
