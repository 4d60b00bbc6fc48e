"""learnlr.finder against fast.ai's own learning-rate finder, case by case.

tests/reference/fastai_finder.json holds what fastai 2.8's ``Learner.lr_find`` recorded and
suggested for scripted loss records (scripts/make_finder_reference.py regenerates it with
fastai installed). Each test feeds the same losses to learnlr and checks that it either
matches fastai or differs exactly as finder.py documents.
"""

import json
import pathlib

import numpy as np
import pytest

from learnlr import optimizers
from learnlr.finder import SUGGESTIONS, TooFewPoints, lr_find
from learnlr.problems import Problem

REFERENCE = json.loads(
    (pathlib.Path(__file__).parent / "reference" / "fastai_finder.json").read_text()
)
CASES = {case["name"]: case for case in REFERENCE["cases"]}
LR_FIND = [name for name, case in CASES.items() if case["kind"] == "lr_find"]
DIRECT = [name for name, case in CASES.items() if case["kind"] == "direct"]
REL = 1e-6  # fastai keeps losses and rates as float32 tensors


class Scripted(Problem):
    """A problem whose minibatch loss at update k is ``losses[k]``, whatever the parameters."""

    stochastic = True

    def __init__(self, losses):
        self.script = np.array(losses, dtype=float)
        super().__init__("scripted", lambda x: 0.0, lambda x: np.zeros(1), x0=[0.0])

    def batch_loss(self, x, k):
        return self.script[k]

    def batch_grad(self, x, k):
        return np.zeros(1)


def learnlr_record(case):
    """learnlr's sweep on the case's losses: number of points and smoothed losses."""
    return lr_find(Scripted(case["losses"]), optimizers.sgd, num_it=case["num_it"])


def fastai_points(case):
    """The part of fastai's record learnlr also records (learnlr stops at a NaN)."""
    smoothed = np.array(case["recorded_smoothed"], dtype=float)
    nan = np.flatnonzero(np.isnan(smoothed))
    n = int(nan[0]) + 1 if nan.size else len(smoothed)
    return np.array(case["recorded_lrs"])[:n], smoothed[:n]


def test_the_reference_was_made_by_fastai_and_covers_every_case():
    assert REFERENCE["fastai"].startswith("2.8")
    assert {"short_stop", "nan", "inf", "negative", "num_it_20_slide"} <= set(CASES)
    # the cases show what the course says about fastai
    assert CASES["nan"]["updates_run"] == CASES["nan"]["num_it"]  # no stop on NaN
    assert CASES["inf"]["updates_run"] < CASES["inf"]["num_it"]  # a stop on inf
    assert CASES["negative"]["updates_run"] == 1
    assert set(CASES["negative"]["suggestions"].values()) <= {"IndexError", "ValueError"}
    assert CASES["num_it_20_slide"]["suggestions"]["slide"] == "IndexError"
    assert isinstance(CASES["num_it_26_slide"]["suggestions"]["slide"], float)


@pytest.mark.parametrize("name", [n for n in LR_FIND if n != "negative"])
def test_same_stop_and_same_smoothed_losses_as_fastai(name):
    case = CASES[name]
    res = learnlr_record(case)
    lrs, smoothed = fastai_points(case)
    assert len(res.smoothed) == len(smoothed)
    np.testing.assert_allclose(res.smoothed, smoothed, rtol=1e-5, equal_nan=True)
    if name == "nan":  # the one difference: learnlr stops at the NaN, fastai runs on
        assert res.stopped_early and len(res.lrs) < case["updates_run"]


@pytest.mark.parametrize("name", LR_FIND)
@pytest.mark.parametrize("rule", list(SUGGESTIONS))
def test_each_rule_on_fastai_records_matches_or_is_left_out_where_fastai_raises(name, rule):
    # learnlr's rule on fastai's record (its rates, k/n exponent, and its smoothed losses,
    # cut where learnlr would have stopped): the same rate, or TooFewPoints where fastai raises
    case = CASES[name]
    lrs, smoothed = fastai_points(case)
    expected = case["suggestions"][rule]
    if isinstance(expected, str):
        assert expected in ("IndexError", "ValueError", "RuntimeError")
        with pytest.raises(TooFewPoints, match=rf"{rule}: needs at least"):
            SUGGESTIONS[rule](lrs, smoothed, case["num_it"])
    else:
        assert SUGGESTIONS[rule](lrs, smoothed, case["num_it"]) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("name", [n for n in LR_FIND if n != "negative"])
def test_lr_find_suggests_exactly_the_rules_fastai_can_answer(name):
    # lr_find's own sweep (k/(n-1) exponent) on the same losses: the same set of rules
    case = CASES[name]
    res = learnlr_record(case)
    answered = {rule for rule, v in case["suggestions"].items() if not isinstance(v, str)}
    assert set(res.suggestions) == answered


def test_a_negative_loss_stops_fastai_at_once_but_not_learnlr():
    case = CASES["negative"]
    res = learnlr_record(case)
    losses = np.array(case["losses"])
    assert losses[0] < 0 and losses.min() < 0  # negative until the blow-up
    assert len(res.lrs) > 10 * case["updates_run"]
    # learnlr stops at the first point whose smoothed loss exceeds the best before it by
    # more than 3 |best|, and not before
    best = np.minimum.accumulate(res.smoothed[:-1])
    assert res.smoothed[-1] - best[-1] > 3 * abs(best[-1])
    assert np.all(res.smoothed[1:-1] - best[:-1] <= 3 * np.abs(best[:-1]))
    assert set(res.suggestions) == set(SUGGESTIONS)


def test_inf_keeps_as_many_points_as_fastai():
    # the inf stops both; the last 5 points (inf among them) are dropped, no more
    case = CASES["inf"]
    res = learnlr_record(case)
    assert len(res.lrs) == case["updates_run"] and np.isinf(res.smoothed[-1])
    lrs, smoothed = fastai_points(case)
    assert SUGGESTIONS["minimum"](lrs, smoothed, 100) == pytest.approx(
        case["suggestions"]["minimum"], rel=REL
    )


@pytest.mark.parametrize("name", DIRECT)
@pytest.mark.parametrize("rule", list(SUGGESTIONS))
def test_each_rule_equals_fastais_function_on_a_noisy_curve(name, rule):
    # fastai's functions receive the trimmed curve; learnlr's trim it themselves, so pad it
    # with the num_it // 10 points in front and 5 behind that trimming removes
    case = CASES[name]
    num_it = case["num_it"]
    lrs, losses = np.array(case["lrs"]), np.array(case["losses"])
    pad_lrs = np.concatenate([np.full(num_it // 10, 1e-9), lrs, np.full(5, 1e3)])
    pad_losses = np.concatenate([np.full(num_it // 10, 9.0), losses, np.full(5, 9.0)])
    got = SUGGESTIONS[rule](pad_lrs, pad_losses, num_it)
    assert got == pytest.approx(case["suggestions"][rule], rel=REL)
