"""The text of ``explain`` for every optimizer, compared with stored text.

``tests/reference/explanations.json`` holds, for every optimizer in the registry with its
defaults and with several options (weight decay, AMSGrad, Nesterov, centering, momentum,
schedules, warmup, the no-update step of Prodigy), the explanation of every update of a short
run, and of a few updates in eight dimensions (where :func:`~learnlr.optimizers.base.fmt`
shortens the arrays). Any change to an explanation's wording or numbers fails here; a
deliberate change is stored again with ``python tests/test_explain_text.py``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from learnlr import explain, optimizers, problems, run, schedules

STORED = Path(__file__).resolve().parent / "reference" / "explanations.json"


def _cosine(base_lr):
    # reaches 0 at update 10: the last updates of a 12-step run use a rate of 0
    return schedules.cosine_annealing(base_lr, T_max=10)


# (optimizer, keyword arguments) for every case; a schedule is built by _make.
CASES = {
    "gd": [{}, dict(lr=0.05), dict(lr=("cosine", 0.1))],
    "sgd": [
        {},
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
        dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
        dict(lr=("cosine", 0.05), weight_decay=0.1),
    ],
    "adagrad": [
        {},
        dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1),
        dict(lr=("cosine", 0.1)),
    ],
    "rmsprop": [
        {},
        dict(lr=0.01, alpha=0.9, weight_decay=0.01, momentum=0.9, centered=True),
        dict(lr=0.01, weight_decay=0.01, centered=True),
        dict(lr=0.01, momentum=0.5),
        dict(lr=("cosine", 0.01)),
    ],
    "adadelta": [{}, dict(lr=0.5, rho=0.95, weight_decay=0.01), dict(lr=("cosine", 1.0))],
    "adam": [
        {},
        dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.01, amsgrad=True),
        dict(lr=0.05, weight_decay=0.1, amsgrad=True, decoupled_weight_decay=True),
        dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
        dict(lr=0.05, weight_decay=0.1),
        dict(lr=("cosine", 0.05), amsgrad=True),
    ],
    "adamw": [
        {},
        dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
        dict(lr=0.05, weight_decay=0.0),
        dict(lr=("cosine", 0.05), weight_decay=0.1),
    ],
    "nadam": [
        {},
        dict(lr=0.05, weight_decay=0.01, momentum_decay=0.01),
        dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
        dict(lr=("cosine", 0.05)),
    ],
    "radam": [
        {},
        dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.01),
        dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True),
        dict(lr=("cosine", 0.05), betas=(0.9, 0.9)),
    ],
    "lion": [
        {},
        dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.3),
        dict(lr=("cosine", 0.05)),
    ],
    "schedule_free_sgd": [
        # the default rate, 1.0, averages its way onto this bowl's minimum within 10 updates,
        # after which every number the explanation prints is rounding noise: the defaults
        # but the rate
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.7, weight_decay=0.1, warmup_steps=3, r=1.0, weight_lr_power=1.0),
        dict(lr=("cosine", 0.05), momentum=0.5),
    ],
    "schedule_free_adamw": [
        {},
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, warmup_steps=3, r=0.5),
        dict(lr=("cosine", 0.05)),
    ],
    "prodigy": [
        {},
        dict(weight_decay=0.1, use_bias_correction=True, d0=1e-3, d_coef=0.7, beta3=0.9),
        dict(
            weight_decay=0.1, decoupled_weight_decay=False, safeguard_warmup=True, growth_rate=1.2
        ),
        dict(betas=(0.0, 0.99), weight_decay=0.1),
        dict(lr=("cosine", 1.0), d0=1e-2),  # a rate of 0 at the end: the no-update branch
    ],
}
STEPS = 12


def _make(name, kwargs):
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("lr"), tuple):
        kwargs["lr"] = _cosine(kwargs["lr"][1])
    return optimizers.REGISTRY[name](**kwargs)


def _case_id(name, i):
    return f"{name}-{i}"


def explanations(name, kwargs) -> dict:
    """Every update of a 12-step run in 2-D, and 3 direct steps in 8-D, written out."""
    opt = _make(name, kwargs)
    tr = run(problems.quadratic2d(kappa=10.0, angle=0.3), opt, STEPS, max_loss=1e300)
    in_2d = [str(explain(tr, k)) for k in range(tr.n_updates)]
    rng = np.random.default_rng(3)
    x = rng.standard_normal(8)
    state = opt.init(x)
    in_8d = []
    for _ in range(3):
        g = rng.standard_normal(8) * np.array([1, 0.01, 5, 1, 1, 1, 1, 100])
        x_new, new_state, info = opt.step(x, g, state)
        in_8d.append(opt.explain(x, g, state, x_new, new_state, info))
        x, state = x_new, new_state
    return {"repr": repr(opt), "2d": in_2d, "8d": in_8d}


def _all() -> dict:
    return {
        _case_id(name, i): explanations(name, kw)
        for name, rows in CASES.items()
        for i, kw in enumerate(rows)
    }


STORED_TEXT = json.loads(STORED.read_text()) if STORED.exists() else {}
IDS = [_case_id(name, i) for name, rows in CASES.items() for i in range(len(rows))]


def test_every_registry_optimizer_has_cases():
    assert set(CASES) == set(optimizers.REGISTRY)
    assert set(STORED_TEXT) == set(IDS), "store the explanations: python tests/test_explain_text.py"


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?inf|nan")


def same_text(got: str, want: str, rel: float = 1e-9) -> bool:
    """The same words, and the same numbers up to rounding noise on each line.

    A number may differ from the stored one by ``rel`` times the largest number on its line:
    a result that cancels to nearly zero (``0.9 * 0.5981 + 0.1 * -5.383``) is printed as
    ``2.6e-14`` on one machine and ``-3.7e-14`` on another (the last bits of a sum depend
    on the CPU and NumPy's build), and that noise is not the explanation's content.
    """
    got_lines, want_lines = got.splitlines(), want.splitlines()
    if len(got_lines) != len(want_lines):
        return False
    for g, w in zip(got_lines, want_lines, strict=True):
        if NUMBER.sub("#", g) != NUMBER.sub("#", w):
            return False  # the words differ, or the count of numbers
        a = np.array([float(t) for t in NUMBER.findall(g)])
        b = np.array([float(t) for t in NUMBER.findall(w)])
        finite = np.isfinite(b)
        scale = np.max(np.abs(b[finite]), initial=0.0)
        if not np.array_equal(np.isfinite(a), finite):
            return False
        if not np.array_equal(a[~finite], b[~finite], equal_nan=True):
            return False
        if np.any(np.abs(a[finite] - b[finite]) > rel * scale):
            return False
    return True


def test_same_text_forgives_rounding_noise_only():
    line = "x = 0.9 * [0.5981, -1.934] -> [2.587e-14, -2.087e-13]"
    assert same_text(line, line.replace("2.587e-14", "-3.675e-14"))
    assert not same_text(line, line.replace("0.5981", "0.5982"))
    assert not same_text(line, line.replace("x =", "y ="))
    assert not same_text(line, line.replace("-1.934]", "-1.934, 0]"))
    assert not same_text("d = inf", "d = 1e300") and not same_text("d = nan", "d = 0")


@pytest.mark.parametrize(
    "name, i", [(n, i) for n, rows in CASES.items() for i in range(len(rows))], ids=IDS
)
def test_explanation_text_is_the_stored_text(name, i):
    got = explanations(name, CASES[name][i])
    want = STORED_TEXT[_case_id(name, i)]
    assert got["repr"] == want["repr"]
    assert len(got["2d"]) == len(want["2d"]) == STEPS
    # the 8-D steps are explain's rows (lists of lines)
    got_all = got["2d"] + ["\n".join(rows) for rows in got["8d"]]
    want_all = want["2d"] + ["\n".join(rows) for rows in want["8d"]]
    assert len(got_all) == len(want_all)
    for k, (g, w) in enumerate(zip(got_all, want_all, strict=True)):
        assert same_text(g, w), f"update {k}:\n{g}\n-- stored --\n{w}"


# Terms a step hands on that no explanation shows (the decay factor appears only in the
# x_new value of NAdam and RAdam; Schedule-Free SGD's denominator is 1); every other term must
# be shown, by at least one case.
NOT_SHOWN = {"nadam": {"decay"}, "radam": {"decay"}, "schedule_free_sgd": {"s"}}


@pytest.mark.parametrize("name", list(CASES))
def test_explain_writes_the_terms_the_step_handed_on(name):
    # explain formats info.terms instead of computing the update again: a term changed
    # after the step changes the text, and every term is shown by some case
    rng = np.random.default_rng(5)
    handed, shown = set(), set()
    for kwargs in CASES[name]:
        opt = _make(name, kwargs)
        x = rng.standard_normal(3)
        state = opt.init(x)
        for _ in range(8):
            g = rng.standard_normal(3)
            x_new, new_state, info = opt.step(x, g, state)
            text = opt.explain(x, g, state, x_new, new_state, info)
            for key, value in info.terms.items():
                handed.add(key)
                if value is None:
                    continue
                changed = info._replace(terms={**info.terms, key: value + 1000})
                if opt.explain(x, g, state, x_new, new_state, changed) != text:
                    shown.add(key)
            x, state = x_new, new_state
    assert shown == handed - NOT_SHOWN.get(name, set()), (sorted(handed), sorted(shown))


if __name__ == "__main__":  # store the current text (after a deliberate change)
    STORED.write_text(json.dumps(_all(), indent=1) + "\n")
    sys.exit(0)
