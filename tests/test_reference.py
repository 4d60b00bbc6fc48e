"""learnlr agrees with PyTorch: optimizer trajectories, schedules and reduce-on-plateau.

The reference data in ``tests/reference/`` were written by ``scripts/make_reference.py`` with
``torch==2.13.0`` in float64 (see that script for the cases and how to regenerate them). These
tests only read the JSON files, so they run without PyTorch:

* every optimizer case builds the learnlr optimizer from the stored arguments (``betas``
  lists become tuples; a stored ``lr_schedule`` becomes the learnlr schedule passed as
  ``lr``), builds the problem with :func:`learnlr.problems.quadratic` or
  :func:`learnlr.problems.rosenbrock`, runs ``learnlr.run(problem, opt, 100)`` and compares
  ``trace.x`` (101 points) and ``trace.loss`` with PyTorch's;
* every schedule case compares ``s(np.arange(n))`` with PyTorch's ``get_last_lr()[0]`` after
  ``k`` scheduler steps; where PyTorch raised after ``n - 1`` steps, learnlr must raise too;
* every plateau case feeds the stored metrics one by one to
  :func:`learnlr.schedules.reduce_on_plateau` and compares ``lr``, ``best``,
  ``num_bad_epochs`` and ``cooldown_counter`` after each one.

Tolerance rule. A learnlr value ``a`` agrees with the stored PyTorch value ``b`` when

    |a - b| <= RTOL * max(|b|, FLOOR),      RTOL = 1e-6,

with ``FLOOR = 1e-8`` for trajectories and losses (a coordinate near 0 must agree to 1e-14
absolutely) and ``FLOOR = 1e-6`` for schedule rates and plateau values (an absolute floor of
1e-12, for rates that are 0). The *error* of a case is the largest
``|a - b| / max(|b|, FLOOR)`` over its values, and must be <= RTOL. Counters must be equal.

``max_errors()`` reports the largest error of each kind over all cases::

    python tests/test_reference.py
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import learnlr
from learnlr import optimizers, problems, schedules

REFERENCE = Path(__file__).resolve().parent / "reference"
RTOL = 1e-6
FLOOR_TRAJECTORY = 1e-8
FLOOR_RATE = 1e-6  # with RTOL, an absolute floor of 1e-12

# Schedules that have a torch.optim.lr_scheduler counterpart, and the ones that do not; a new
# schedule in learnlr.schedules.REGISTRY must be added to one of the two.
TORCH_BACKED = {
    "step_lr",
    "multistep_lr",
    "exponential_lr",
    "polynomial_lr",
    "linear_lr",
    "cosine_annealing",
    "cosine_annealing_warm_restarts",
    "cyclic_lr",
    "one_cycle",
    "sequential",
}
NOT_IN_TORCH = {"constant", "piecewise_constant", "warmup_stable_decay"}

# learnlr argument names that deliberately differ from PyTorch's: {(schedule, ours): torch's}.
# sequential() joins schedules (functions), where SequentialLR joins scheduler objects.
RENAMED = {("sequential", "schedules"): "schedulers"}


def _load(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text())


OPT_DATA = _load("optimizers.json")
SCHED_DATA = _load("schedules.json")
PLATEAU_DATA = _load("plateau.json")


def _params(cases):
    return [pytest.param(case, id=case["id"]) for case in cases]


# ---------------------------------------------------------------------------------------
# Building learnlr objects from the stored specs
# ---------------------------------------------------------------------------------------
def build_schedule(spec: dict) -> schedules.Schedule:
    """The learnlr schedule of a spec ``{"name": ..., "kwargs": {...}}``."""
    kwargs = dict(spec["kwargs"])
    if spec["name"] == "sequential":
        kwargs["schedules"] = [build_schedule(part) for part in kwargs["schedules"]]
    return schedules.REGISTRY[spec["name"]](**kwargs)


def build_problem(spec: dict) -> problems.Problem:
    if spec["name"] == "quadratic":
        return problems.quadratic(spec["A"], x0=spec["x0"])
    if spec["name"] == "rosenbrock":
        return problems.rosenbrock(a=spec["a"], b=spec["b"], x0=spec["x0"])
    raise ValueError(f"unknown problem spec {spec!r}")


def build_optimizer(case: dict) -> learnlr.Optimizer:
    kwargs = {k: tuple(v) if k == "betas" else v for k, v in case["kwargs"].items()}
    if case["lr_schedule"] is not None:
        kwargs["lr"] = build_schedule(case["lr_schedule"])
    return optimizers.TORCH[case["optimizer"]](**kwargs)


# ---------------------------------------------------------------------------------------
# Errors, as defined in the module docstring
# ---------------------------------------------------------------------------------------
def rel_error(actual, expected, floor: float) -> float:
    """max |a - b| / max(|b|, floor); NaN if any value of ``actual`` is NaN."""
    a, b = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if a.shape != b.shape:
        raise AssertionError(f"shape {a.shape} != reference shape {b.shape}")
    if not np.all(np.isfinite(a)):
        return float("nan")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor), initial=0.0))


def optimizer_errors(case: dict) -> dict[str, float]:
    steps = OPT_DATA["steps"]
    trace = learnlr.run(build_problem(case["problem"]), build_optimizer(case), steps)
    if trace.n_updates != steps:
        raise AssertionError(f"{case['id']}: learnlr's run stopped early: {trace.status}")
    return {
        "x": rel_error(trace.x, case["x"], FLOOR_TRAJECTORY),
        "loss": rel_error(trace.loss, case["loss"], FLOOR_TRAJECTORY),
    }


def _used_steps(case: dict) -> int:
    """Number of stored rates that an update uses.

    For one-cycle that excludes the rate PyTorch returns after ``total_steps`` calls of
    ``step()``: no update of a ``total_steps``-update run uses it, and learnlr refuses it.
    """
    n = len(case["lr"])
    if case["spec"]["name"] == "one_cycle":
        n = min(n, case["spec"]["kwargs"]["total_steps"])
    return n


def schedule_error(case: dict) -> float:
    s = build_schedule(case["spec"])
    n = _used_steps(case)
    return rel_error(s(np.arange(n)), case["lr"][:n], FLOOR_RATE)


def plateau_run(case: dict) -> dict[str, list]:
    ctl = schedules.reduce_on_plateau(**case["kwargs"])
    state = ctl.init()
    out = {"lr": [], "best": [], "num_bad_epochs": [], "cooldown_counter": []}
    for metric in case["metrics"]:
        state = ctl.step(state, metric)
        for name in out:
            out[name].append(getattr(state, name))
    return out


def plateau_errors(case: dict) -> dict[str, float]:
    got = plateau_run(case)
    return {name: rel_error(got[name], case[name], FLOOR_RATE) for name in ("lr", "best")}


def _check(errors: dict[str, float], case_id: str) -> None:
    bad = {k: v for k, v in errors.items() if not v <= RTOL}
    assert not bad, f"{case_id}: error {bad} exceeds {RTOL:g} (|a - b| / max(|b|, floor))"


# ---------------------------------------------------------------------------------------
# Agreement with PyTorch
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", _params(OPT_DATA["cases"]))
def test_optimizer_matches_torch(case):
    _check(optimizer_errors(case), case["id"])


@pytest.mark.parametrize("case", _params(SCHED_DATA["cases"]))
def test_schedule_matches_torch(case):
    _check({"lr": schedule_error(case)}, case["id"])
    if case["torch_raises_at"] is not None:
        # PyTorch raised on the step that would give this rate; learnlr must refuse it too,
        # and (one-cycle) already the step after the last update, see _used_steps
        with pytest.raises(ValueError):
            build_schedule(case["spec"])(case["torch_raises_at"])
        with pytest.raises(ValueError):
            build_schedule(case["spec"])(_used_steps(case))


@pytest.mark.parametrize("case", _params(PLATEAU_DATA["cases"]))
def test_plateau_matches_torch(case):
    _check(plateau_errors(case), case["id"])
    got = plateau_run(case)
    for name in ("num_bad_epochs", "cooldown_counter"):
        assert got[name] == case[name], f"{case['id']}: {name} differs from PyTorch's"


# ---------------------------------------------------------------------------------------
# The reference data cover everything, and the defaults are PyTorch's
# ---------------------------------------------------------------------------------------
def test_reference_covers_every_optimizer():
    settings: dict[str, set] = {}
    scheduled = set()
    for case in OPT_DATA["cases"]:
        settings.setdefault(case["optimizer"], set()).add(case["setting"])
        if case["lr_schedule"] is not None:
            scheduled.add(case["optimizer"])
    assert set(settings) == set(optimizers.TORCH)
    assert scheduled == set(optimizers.TORCH), "every optimizer needs a case with a schedule"
    assert all(len(s) >= 3 for s in settings.values()), settings
    problems_used = {
        (c["optimizer"], c["setting"], c["problem"]["name"]) for c in OPT_DATA["cases"]
    }
    assert len(problems_used) == 2 * sum(len(s) for s in settings.values())


def test_reference_covers_every_torch_schedule():
    assert set(schedules.REGISTRY) == TORCH_BACKED | NOT_IN_TORCH
    counts: dict[str, int] = {}
    for case in SCHED_DATA["cases"]:
        counts[case["schedule"]] = counts.get(case["schedule"], 0) + 1
    assert set(counts) == TORCH_BACKED
    assert all(n >= 2 for n in counts.values()), counts
    assert len(PLATEAU_DATA["cases"]) >= 6


def _defaults(func) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(func).parameters.items()
        if p.default is not inspect.Parameter.empty and name[0] != "_"  # as below
    }


def _same_default(ours, torchs) -> bool:
    if isinstance(ours, tuple):
        ours = list(ours)
    return ours == torchs


@pytest.mark.parametrize("name", sorted(set(optimizers.TORCH) - {"gd"}))
def test_optimizer_arguments_are_torchs(name):
    # gd is SGD without momentum, not a PyTorch optimizer of its own (its default lr is 0.1)
    torch_args = OPT_DATA["torch_defaults"][name]
    # private keyword-only arguments (adam's _name, with which adamw calls adam) are not
    # hyper-parameters and have no PyTorch counterpart
    params = [p for p in inspect.signature(optimizers.TORCH[name]).parameters if p[0] != "_"]
    assert set(params) <= set(torch_args), f"not in torch.optim: {set(params) - set(torch_args)}"
    for arg, default in _defaults(optimizers.TORCH[name]).items():
        assert _same_default(default, torch_args[arg]), (arg, default, torch_args[arg])


@pytest.mark.parametrize("name", sorted(TORCH_BACKED))
def test_schedule_arguments_are_torchs(name):
    torch_args = SCHED_DATA["torch_defaults"][name]
    ours = inspect.signature(schedules.REGISTRY[name]).parameters
    for arg, p in ours.items():
        if arg == "base_lr" and name != "cyclic_lr":
            continue  # PyTorch takes the starting rate from the optimizer
        torch_arg = RENAMED.get((name, arg), arg)
        assert torch_arg in torch_args, f"{name}: {arg} is not an argument of PyTorch's"
        theirs = torch_args[torch_arg]
        if p.default is not inspect.Parameter.empty and theirs != "<required>":
            assert _same_default(p.default, theirs), (arg, p.default, theirs)


def test_plateau_arguments_are_torchs():
    torch_args = PLATEAU_DATA["torch_defaults"]
    ours = _defaults(schedules.reduce_on_plateau)
    assert set(ours) == set(torch_args)
    for arg, default in ours.items():
        assert _same_default(default, torch_args[arg]), (arg, default, torch_args[arg])


# ---------------------------------------------------------------------------------------
# A summary of how close learnlr is
# ---------------------------------------------------------------------------------------
def max_errors() -> dict[str, tuple[float, str]]:
    """The largest error of each kind over all cases, with the case it occurs in."""
    worst: dict[str, tuple[float, str]] = {}

    def note(kind, value, case_id):
        if kind not in worst or not value <= worst[kind][0]:
            worst[kind] = (value, case_id)

    for case in OPT_DATA["cases"]:
        for kind, value in optimizer_errors(case).items():
            note(f"optimizer {kind}", value, case["id"])
    for case in SCHED_DATA["cases"]:
        note("schedule lr", schedule_error(case), case["id"])
    for case in PLATEAU_DATA["cases"]:
        for kind, value in plateau_errors(case).items():
            note(f"plateau {kind}", value, case["id"])
    return worst


if __name__ == "__main__":
    counts = [len(d["cases"]) for d in (OPT_DATA, SCHED_DATA, PLATEAU_DATA)]
    print("cases: {} optimizer, {} schedule, {} plateau".format(*counts))
    for kind, (value, case_id) in max_errors().items():
        print(f"largest {kind} error: {value:.3g} ({case_id})")
