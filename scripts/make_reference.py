"""Write the PyTorch reference data that tests/test_reference.py compares learnlr with.

PyTorch is the numerical reference for learnlr: the same hyper-parameters, given to
``torch.optim`` and to ``learnlr.optimizers``, must give the same trajectory, and every
``learnlr.schedules`` schedule must give the rates of its ``torch.optim.lr_scheduler``
counterpart. This script runs the PyTorch side once and stores the results as compact JSON,
so the tests run without PyTorch installed:

* ``tests/reference/optimizers.json``: every optimizer of ``learnlr.optimizers.TORCH``
  (``gd`` is ``torch.optim.SGD`` without momentum) in several hyper-parameter settings, one of
  them with the rate given by a scheduler stepped once per update, on two problems: a rotated
  ill-conditioned 2-D quadratic and Rosenbrock's function. Each case stores the points
  ``x_0 .. x_100`` and their losses. The gradients come from autograd on problems re-written
  here in PyTorch: this script does not import learnlr, so the two sides are independent.
  Every run must stay finite and must not amplify rounding errors (its ``sensitivity`` to a
  tiny change of ``x0`` is measured and stored, see :func:`optimizer_case`), so that learnlr,
  which rounds differently, can be held to a tight tolerance.
* ``tests/reference/schedules.json``: each schedule that PyTorch has, in several settings,
  as ``scheduler.get_last_lr()[0]`` after ``k`` calls of ``scheduler.step()``,
  ``k = 0 .. 299`` (one-cycle cases with a shorter cycle stop where PyTorch raises).
* ``tests/reference/plateau.json``: ``ReduceLROnPlateau`` fed scripted metric sequences;
  after every ``scheduler.step(metric)`` the rate, ``best``, ``num_bad_epochs`` and
  ``cooldown_counter``.

Each file also records the defaults of PyTorch's signatures (``torch_defaults``), so the tests
can check that learnlr's defaults and argument names are PyTorch's.

Everything runs on the CPU in float64 (``torch.set_default_dtype(torch.float64)``) and is
deterministic; floats are written with ``repr`` precision.

Run it from the repository root, in an environment with PyTorch 2.13.0::

    pip install torch==2.13.0        # CPU wheel: add --index-url https://download.pytorch.org/whl/cpu
    python scripts/make_reference.py            # (re)write tests/reference/*.json
    python scripts/make_reference.py --check    # regenerate in a temporary directory and
                                                # compare with the stored files (exit 1 if not
                                                # the same cases or a relative difference > 1e-12)
    python scripts/make_reference.py --out DIR  # write somewhere else

After changing the cases here, regenerate the data and run
``pytest tests/test_reference.py``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

TORCH_VERSION = "2.13.0"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "reference"
FILES = ("optimizers.json", "schedules.json", "plateau.json")
STEPS = 100  # optimizer updates per case
SCHEDULE_STEPS = 300  # schedule values per case, k = 0 .. 299
CHECK_RTOL = 1e-12  # --check: largest relative difference allowed between two generations
PERTURBATION = 1e-10  # relative change of x0 used to measure a run's sensitivity
MAX_SENSITIVITY = 1e5  # so a rounding difference of 1e-16 stays below 1e-11

torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------------------------------
# Problems, re-implemented in PyTorch (autograd gives the gradients)
# ---------------------------------------------------------------------------------------
def _quadratic_matrix() -> list[list[float]]:
    """A = R diag(1, 50) R^T with R the rotation by pi/6, made exactly symmetric."""
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    R = torch.tensor([[c, -s], [s, c]])
    A = R @ torch.diag(torch.tensor([1.0, 50.0])) @ R.T
    return ((A + A.T) / 2).tolist()


PROBLEMS = {
    "quadratic": {"name": "quadratic", "A": _quadratic_matrix(), "x0": [-2.0, 1.5]},
    "rosenbrock": {"name": "rosenbrock", "a": 1.0, "b": 100.0, "x0": [-1.5, 2.0]},
}


def loss_function(spec: dict):
    """The loss of a problem spec as a function of a torch tensor of shape (2,)."""
    if spec["name"] == "quadratic":
        A = torch.tensor(spec["A"])
        return lambda x: 0.5 * (x @ (A @ x))
    if spec["name"] == "rosenbrock":
        a, b = spec["a"], spec["b"]
        return lambda x: (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2
    raise ValueError(f"unknown problem {spec['name']!r}")


# ---------------------------------------------------------------------------------------
# Optimizer cases
# ---------------------------------------------------------------------------------------
TORCH_OPTIMIZERS = {
    "gd": "SGD",  # learnlr's gd is SGD with momentum 0
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adadelta": "Adadelta",
    "adam": "Adam",
    "adamw": "AdamW",
    "nadam": "NAdam",
    "radam": "RAdam",
}


@dataclass
class Setting:
    """One hyper-parameter setting, run on both problems.

    ``lr`` gives the rate per problem (``{}``: the optimizer's default on both). With
    ``schedule`` (a learnlr schedule name and its arguments other than ``base_lr``) the rate
    is that schedule started at ``lr``, a PyTorch scheduler stepped once per update.
    """

    optimizer: str
    label: str
    kwargs: dict
    lr: dict = field(default_factory=dict)
    schedule: tuple[str, dict] | None = None


def _lr(quadratic: float, rosenbrock: float) -> dict:
    return {"quadratic": quadratic, "rosenbrock": rosenbrock}


SETTINGS = [
    # plain gradient descent (learnlr's default lr=0.1 is not SGD's, so lr is always given)
    Setting("gd", "lr", {}, _lr(0.03, 5e-4)),
    Setting("gd", "small_lr", {}, _lr(5e-3, 1e-4)),
    Setting("gd", "exponential_lr", {}, _lr(0.035, 8e-4), ("exponential_lr", {"gamma": 0.98})),
    # SGD
    Setting("sgd", "defaults", {}),
    Setting("sgd", "momentum", {"momentum": 0.9}, _lr(0.01, 2e-4)),
    Setting("sgd", "dampening", {"momentum": 0.9, "dampening": 0.5}, _lr(0.02, 3e-4)),
    Setting("sgd", "nesterov", {"momentum": 0.9, "nesterov": True}, _lr(0.01, 2e-4)),
    Setting("sgd", "weight_decay", {"weight_decay": 0.1}, _lr(0.02, 5e-4)),
    Setting("sgd", "step_lr", {"momentum": 0.9}, _lr(0.02, 3e-4), ("step_lr", {"step_size": 25})),
    # AdaGrad
    Setting("adagrad", "defaults", {}),
    Setting("adagrad", "lr_decay", {"lr_decay": 0.05}, _lr(0.5, 0.3)),
    Setting("adagrad", "weight_decay", {"weight_decay": 0.1}, _lr(0.5, 0.3)),
    Setting(
        "adagrad", "initial_accumulator_value", {"initial_accumulator_value": 0.1}, _lr(0.5, 0.3)
    ),
    Setting(
        "adagrad",
        "exponential_lr",
        {"lr_decay": 0.01},
        _lr(0.5, 0.3),
        ("exponential_lr", {"gamma": 0.98}),
    ),
    # RMSprop
    Setting("rmsprop", "defaults", {}),
    Setting("rmsprop", "centered", {"centered": True}, _lr(0.01, 5e-3)),
    Setting("rmsprop", "momentum", {"momentum": 0.9}, _lr(2e-3, 1e-3)),
    Setting("rmsprop", "weight_decay", {"weight_decay": 0.1, "alpha": 0.9}, _lr(0.01, 2e-3)),
    Setting("rmsprop", "centered_momentum", {"centered": True, "momentum": 0.5}, _lr(5e-3, 2e-3)),
    Setting(
        "rmsprop",
        "step_lr",
        {"momentum": 0.5},
        _lr(0.01, 5e-3),
        ("step_lr", {"step_size": 30, "gamma": 0.5}),
    ),
    # Adadelta
    Setting("adadelta", "defaults", {}),
    Setting("adadelta", "weight_decay", {"weight_decay": 0.1}, _lr(10.0, 2.0)),
    Setting("adadelta", "rho", {"rho": 0.5, "eps": 1e-4}, _lr(2.0, 1.0)),
    Setting("adadelta", "lr", {}, _lr(20.0, 2.0)),
    Setting("adadelta", "exponential_lr", {}, _lr(20.0, 3.0), ("exponential_lr", {"gamma": 0.99})),
    # Adam
    Setting("adam", "defaults", {}),
    Setting("adam", "lr", {}, _lr(0.05, 0.02)),
    Setting("adam", "amsgrad", {"amsgrad": True}, _lr(0.05, 0.02)),
    Setting("adam", "weight_decay", {"weight_decay": 0.1}, _lr(0.05, 0.02)),
    Setting("adam", "betas", {"betas": [0.5, 0.9], "eps": 1e-6}, _lr(0.05, 0.02)),
    Setting("adam", "exponential_lr", {}, _lr(0.1, 0.05), ("exponential_lr", {"gamma": 0.97})),
    # AdamW
    Setting("adamw", "defaults", {}),
    Setting("adamw", "default_weight_decay", {}, _lr(0.05, 0.02)),
    Setting("adamw", "weight_decay", {"weight_decay": 0.5}, _lr(0.05, 0.02)),
    Setting("adamw", "amsgrad", {"amsgrad": True}, _lr(0.05, 0.02)),
    Setting(
        "adamw",
        "step_lr",
        {"weight_decay": 0.5},
        _lr(0.1, 0.05),
        ("step_lr", {"step_size": 20, "gamma": 0.5}),
    ),
    # NAdam
    Setting("nadam", "defaults", {}),
    Setting("nadam", "momentum_decay", {"momentum_decay": 0.05}, _lr(0.05, 0.02)),
    Setting("nadam", "weight_decay", {"weight_decay": 0.1}, _lr(0.05, 0.02)),
    Setting(
        "nadam",
        "decoupled_weight_decay",
        {"weight_decay": 0.5, "decoupled_weight_decay": True},
        _lr(0.05, 0.02),
    ),
    Setting(
        "nadam",
        "exponential_lr",
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
        _lr(0.1, 0.05),
        ("exponential_lr", {"gamma": 0.97}),
    ),
    # RAdam
    Setting("radam", "defaults", {}),
    Setting("radam", "weight_decay", {"weight_decay": 0.1}, _lr(0.02, 1e-3)),
    Setting(
        "radam",
        "decoupled_weight_decay",
        {"weight_decay": 0.5, "decoupled_weight_decay": True},
        _lr(0.02, 1e-3),
    ),
    Setting("radam", "betas", {"betas": [0.9, 0.9]}, _lr(0.02, 1e-3)),
    Setting(
        "radam",
        "exponential_lr",
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
        _lr(0.03, 1.5e-3),
        ("exponential_lr", {"gamma": 0.97}),
    ),
]


def _torch_kwargs(kwargs: dict) -> dict:
    out = dict(kwargs)
    if "betas" in out:
        out["betas"] = tuple(out["betas"])
    return out


def run_torch(optimizer: str, kwargs: dict, lr_schedule: dict | None, spec: dict, x0: list):
    """Points x_0 .. x_STEPS and their losses of one torch.optim run."""
    loss_fn = loss_function(spec)
    x = torch.tensor(x0, requires_grad=True)
    opt_kwargs = _torch_kwargs(kwargs)
    if lr_schedule is not None:
        opt_kwargs["lr"] = _optimizer_lr(lr_schedule)
    opt = getattr(torch.optim, TORCH_OPTIMIZERS[optimizer])([x], **opt_kwargs)
    scheduler = None if lr_schedule is None else make_scheduler(opt, lr_schedule)
    xs, losses = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(x)
        xs.append(x.detach().tolist())
        losses.append(loss.item())
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
    with torch.no_grad():
        xs.append(x.detach().tolist())
        losses.append(loss_fn(x).item())
    return xs, losses


def _relative_change(new: list, old: list) -> float:
    """max |a - b| / max(|b|, 1e-8), the error measure of tests/test_reference.py."""
    a, b = torch.tensor(new), torch.tensor(old)
    return (a - b).abs().div(b.abs().clamp(min=1e-8)).max().item()


def optimizer_case(setting: Setting, problem: str) -> dict:
    """Run one setting on one problem with torch.optim and return the stored case.

    Besides being finite, a reference run must not amplify rounding errors: learnlr rounds
    differently from PyTorch, and in a run that is unstable (an oscillation that grows, say)
    a difference in the last bit can grow past the tests' tolerance. ``sensitivity`` measures
    this: the relative change of the trajectory when ``x0`` is moved by a relative
    ``PERTURBATION``, divided by ``PERTURBATION``. It must stay below ``MAX_SENSITIVITY``.
    """
    case_id = f"{setting.optimizer}-{setting.label}-{problem}"
    spec = PROBLEMS[problem]
    kwargs = dict(setting.kwargs)
    if problem in setting.lr:
        kwargs["lr"] = setting.lr[problem]
    lr_schedule = None
    if setting.schedule is not None:
        name, sched_kwargs = setting.schedule
        lr_schedule = {"name": name, "kwargs": {"base_lr": kwargs.pop("lr"), **sched_kwargs}}

    xs, losses = run_torch(setting.optimizer, kwargs, lr_schedule, spec, spec["x0"])
    values = [v for point in xs for v in point] + losses
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"{case_id}: the run is not finite; choose a smaller lr")
    if max(losses) > 1e4 * max(1.0, losses[0]):
        raise RuntimeError(f"{case_id}: the loss grows to {max(losses):.3g}; choose a smaller lr")
    x0_moved = [v * (1 + PERTURBATION) for v in spec["x0"]]
    xs_moved, _ = run_torch(setting.optimizer, kwargs, lr_schedule, spec, x0_moved)
    sensitivity = _relative_change(xs_moved, xs) / PERTURBATION
    if sensitivity > MAX_SENSITIVITY:
        raise RuntimeError(
            f"{case_id}: the run amplifies a change of x0 by {sensitivity:.3g} > "
            f"{MAX_SENSITIVITY:g}; choose a smaller lr"
        )
    return {
        "id": case_id,
        "optimizer": setting.optimizer,
        "setting": setting.label,
        "torch_class": TORCH_OPTIMIZERS[setting.optimizer],
        "kwargs": kwargs,
        "lr_schedule": lr_schedule,
        "problem": spec,
        "sensitivity": float(f"{sensitivity:.2g}"),
        "x": xs,
        "loss": losses,
    }


# ---------------------------------------------------------------------------------------
# Schedule cases
# ---------------------------------------------------------------------------------------
TORCH_SCHEDULERS = {
    "step_lr": "StepLR",
    "multistep_lr": "MultiStepLR",
    "exponential_lr": "ExponentialLR",
    "polynomial_lr": "PolynomialLR",
    "linear_lr": "LinearLR",
    "cosine_annealing": "CosineAnnealingLR",
    "cosine_annealing_warm_restarts": "CosineAnnealingWarmRestarts",
    "cyclic_lr": "CyclicLR",
    "one_cycle": "OneCycleLR",
    "sequential": "SequentialLR",
}
# PyTorch-only arguments: learnlr's schedules set the rate only, not the momentum.
TORCH_EXTRA = {"cyclic_lr": {"cycle_momentum": False}, "one_cycle": {"cycle_momentum": False}}


def make_scheduler(opt: torch.optim.Optimizer, spec: dict):
    """The torch scheduler for a learnlr schedule spec ``{"name": ..., "kwargs": {...}}``.

    learnlr's ``base_lr`` is the optimizer's rate in PyTorch (it must already be set);
    ``cyclic_lr`` passes it on as PyTorch's own ``base_lr``; ``sequential`` builds its parts
    on the same optimizer.
    """
    name, kwargs = spec["name"], dict(spec["kwargs"])
    cls = getattr(torch.optim.lr_scheduler, TORCH_SCHEDULERS[name])
    if name == "sequential":
        parts = [make_scheduler(opt, part) for part in kwargs["schedules"]]
        return cls(opt, schedulers=parts, milestones=kwargs["milestones"])
    if name not in ("cyclic_lr", "one_cycle"):
        base_lr = kwargs.pop("base_lr")
        group = opt.param_groups[0]  # a scheduler built earlier may have changed group["lr"]
        if group.get("initial_lr", group["lr"]) != base_lr:
            raise ValueError(f"{name}: base_lr {base_lr} is not the optimizer's lr")
    return cls(opt, **kwargs, **TORCH_EXTRA.get(name, {}))


def _sched(name: str, **kwargs) -> dict:
    return {"name": name, "kwargs": kwargs}


# (label, spec); every case runs SCHEDULE_STEPS steps or until PyTorch raises
SCHEDULE_CASES = [
    ("step_lr", "halve_every_30", _sched("step_lr", base_lr=0.1, step_size=30, gamma=0.5)),
    ("step_lr", "default_gamma", _sched("step_lr", base_lr=1.0, step_size=7)),
    (
        "multistep_lr",
        "three_milestones",
        _sched("multistep_lr", base_lr=0.1, milestones=[30, 80, 200]),
    ),
    (
        "multistep_lr",
        "early_milestones",
        _sched("multistep_lr", base_lr=1.0, milestones=[1, 2, 150], gamma=0.5),
    ),
    ("exponential_lr", "gamma_0.99", _sched("exponential_lr", base_lr=0.1, gamma=0.99)),
    ("exponential_lr", "gamma_0.9", _sched("exponential_lr", base_lr=1.0, gamma=0.9)),
    ("polynomial_lr", "defaults", _sched("polynomial_lr", base_lr=0.1)),
    ("polynomial_lr", "linear", _sched("polynomial_lr", base_lr=0.1, total_iters=100)),
    ("polynomial_lr", "power_2", _sched("polynomial_lr", base_lr=0.5, total_iters=250, power=2.0)),
    (
        "polynomial_lr",
        "power_0.5",
        _sched("polynomial_lr", base_lr=0.5, total_iters=120, power=0.5),
    ),
    ("linear_lr", "defaults", _sched("linear_lr", base_lr=0.05)),
    ("linear_lr", "warmup", _sched("linear_lr", base_lr=0.1, start_factor=0.1, total_iters=50)),
    (
        "linear_lr",
        "decay_to_zero",
        _sched("linear_lr", base_lr=0.1, start_factor=1.0, end_factor=0.0, total_iters=200),
    ),
    ("cosine_annealing", "past_T_max", _sched("cosine_annealing", base_lr=0.1, T_max=100)),
    (
        "cosine_annealing",
        "eta_min",
        _sched("cosine_annealing", base_lr=0.1, T_max=300, eta_min=1e-3),
    ),
    (
        "cosine_annealing",
        "eta_min_past_T_max",
        _sched("cosine_annealing", base_lr=1.0, T_max=50, eta_min=0.1),
    ),
    ("cosine_annealing", "many_periods", _sched("cosine_annealing", base_lr=0.1, T_max=30)),
    (
        "cosine_annealing_warm_restarts",
        "T_mult_1",
        _sched("cosine_annealing_warm_restarts", base_lr=0.1, T_0=50),
    ),
    (
        "cosine_annealing_warm_restarts",
        "T_mult_2",
        _sched("cosine_annealing_warm_restarts", base_lr=0.1, T_0=10, T_mult=2, eta_min=1e-3),
    ),
    (
        "cosine_annealing_warm_restarts",
        "T_0_1_T_mult_2",
        _sched("cosine_annealing_warm_restarts", base_lr=1.0, T_0=1, T_mult=2),
    ),
    (
        "cosine_annealing_warm_restarts",
        "T_mult_3",
        _sched("cosine_annealing_warm_restarts", base_lr=1.0, T_0=7, T_mult=3, eta_min=0.05),
    ),
    ("cyclic_lr", "triangular", _sched("cyclic_lr", base_lr=0.01, max_lr=0.1, step_size_up=20)),
    (
        "cyclic_lr",
        "triangular2",
        _sched("cyclic_lr", base_lr=0.01, max_lr=0.1, step_size_up=25, mode="triangular2"),
    ),
    (
        "cyclic_lr",
        "exp_range",
        _sched(
            "cyclic_lr", base_lr=0.01, max_lr=0.1, step_size_up=30, mode="exp_range", gamma=0.99
        ),
    ),
    (
        "cyclic_lr",
        "asymmetric",
        _sched("cyclic_lr", base_lr=0.001, max_lr=0.1, step_size_up=10, step_size_down=40),
    ),
    (
        "cyclic_lr",
        "asymmetric_triangular2",
        _sched(
            "cyclic_lr",
            base_lr=0.0,
            max_lr=1.0,
            step_size_up=7,
            step_size_down=3,
            mode="triangular2",
        ),
    ),
    ("one_cycle", "cos", _sched("one_cycle", max_lr=0.1, total_steps=300)),
    (
        "one_cycle",
        "linear",
        _sched("one_cycle", max_lr=0.1, total_steps=300, anneal_strategy="linear"),
    ),
    (
        "one_cycle",
        "three_phase",
        _sched("one_cycle", max_lr=0.1, total_steps=300, three_phase=True),
    ),
    (
        "one_cycle",
        "factors",
        _sched(
            "one_cycle",
            max_lr=1.0,
            total_steps=300,
            pct_start=0.25,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
    ),
    (
        "one_cycle",
        "fractional_phases",
        _sched("one_cycle", max_lr=0.1, total_steps=301, pct_start=0.33, three_phase=True),
    ),
    (
        "one_cycle",
        "until_torch_raises",
        _sched(
            "one_cycle",
            max_lr=1.0,
            total_steps=200,
            anneal_strategy="linear",
            three_phase=True,
        ),
    ),
    (
        "sequential",
        "warmup_cosine",
        _sched(
            "sequential",
            schedules=[
                _sched("linear_lr", base_lr=0.1, start_factor=0.1, total_iters=10),
                _sched("cosine_annealing", base_lr=0.1, T_max=290),
            ],
            milestones=[10],
        ),
    ),
    (
        "sequential",
        "exponential_step",
        _sched(
            "sequential",
            schedules=[
                _sched("exponential_lr", base_lr=0.1, gamma=0.98),
                _sched("step_lr", base_lr=0.1, step_size=50, gamma=0.5),
            ],
            milestones=[100],
        ),
    ),
    (
        "sequential",
        "three_parts",
        _sched(
            "sequential",
            schedules=[
                _sched("linear_lr", base_lr=0.2, start_factor=0.01, total_iters=50),
                _sched("exponential_lr", base_lr=0.2, gamma=0.99),
                _sched("cosine_annealing", base_lr=0.2, T_max=100, eta_min=0.01),
            ],
            milestones=[50, 150],
        ),
    ),
]


def _optimizer_lr(spec: dict) -> float:
    if spec["name"] == "sequential":
        return _optimizer_lr(spec["kwargs"]["schedules"][0])
    if spec["name"] == "one_cycle":
        return spec["kwargs"]["max_lr"]  # OneCycleLR sets the rate itself
    return spec["kwargs"]["base_lr"]


def schedule_case(schedule: str, label: str, spec: dict) -> dict:
    """Record get_last_lr()[0] after k scheduler steps, k = 0 .. SCHEDULE_STEPS - 1."""
    dummy = torch.zeros(1, requires_grad=True)  # no gradient: optimizer.step() leaves it alone
    opt = torch.optim.SGD([dummy], lr=_optimizer_lr(spec))
    scheduler = make_scheduler(opt, spec)
    lrs = [float(scheduler.get_last_lr()[0])]
    torch_raises_at = None
    for k in range(1, SCHEDULE_STEPS):
        opt.step()
        try:
            scheduler.step()
        except ValueError:
            torch_raises_at = k
            break
        lrs.append(float(scheduler.get_last_lr()[0]))
    if not all(math.isfinite(v) for v in lrs):
        raise RuntimeError(f"{schedule}-{label}: a rate is not finite")
    return {
        "id": f"{schedule}-{label}",
        "schedule": schedule,
        "spec": spec,
        "torch_class": TORCH_SCHEDULERS[schedule],
        "torch_extra": TORCH_EXTRA.get(schedule, {}),
        "torch_raises_at": torch_raises_at,
        "lr": lrs,
    }


# ---------------------------------------------------------------------------------------
# Reduce-on-plateau cases
# ---------------------------------------------------------------------------------------
def _loss_metrics() -> list[float]:
    """60 losses: fast progress, plateaus, gains below a 1e-4 relative threshold, bumps."""
    m = [1.0, 0.8, 0.7, 0.65, 0.64]  # improving
    m += [0.64] * 4  # flat
    m += [0.63999, 0.63998, 0.63997, 0.63996]  # tiny gains: < 1e-4 relative, > 1e-6 absolute
    m += [0.66, 0.7, 0.65, 0.645]  # worse
    m += [0.6, 0.55, 0.5]  # improving again
    m += [0.5, 0.51, 0.5, 0.499, 0.4995, 0.498, 0.5]  # a rough plateau
    m += [0.45, 0.44, 0.4399, 0.4398, 0.4397, 0.4396]  # small steady gains (2e-4 relative)
    m += [0.44, 0.45, 0.46, 0.47, 0.48, 0.49]  # getting worse
    m += [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]  # flat after a jump
    m += [0.29, 0.28, 0.27, 0.26] + [0.25] * 10  # slow gains, then a long final plateau
    assert len(m) == 60
    return m


def _accuracy_metrics() -> list[float]:
    """60 accuracies for mode="max": rising, plateauing, dipping."""
    m = [0.1, 0.3, 0.5, 0.6, 0.65, 0.65, 0.65, 0.65, 0.6501, 0.6502]
    m += [0.64, 0.63, 0.7, 0.72, 0.73, 0.73, 0.7301, 0.73, 0.71, 0.72]
    m += [0.75, 0.76, 0.761, 0.7611, 0.7612, 0.7613, 0.76, 0.75, 0.74, 0.8]
    m += [0.8] * 10
    m += [0.81, 0.82, 0.83, 0.8301, 0.83, 0.83, 0.85, 0.86, 0.86, 0.86]
    m += [0.87, 0.87, 0.87, 0.88, 0.88, 0.88, 0.88, 0.88, 0.89, 0.9]
    assert len(m) == 60
    return m


PLATEAU_CASES = [
    ("defaults", {"base_lr": 0.1}, "loss"),
    ("patience_2", {"base_lr": 0.1, "factor": 0.5, "patience": 2}, "loss"),
    ("cooldown", {"base_lr": 0.1, "factor": 0.5, "patience": 1, "cooldown": 3}, "loss"),
    ("patience_0_threshold_0", {"base_lr": 1.0, "patience": 0, "threshold": 0.0}, "loss"),
    (
        "abs_threshold",
        {"base_lr": 0.1, "factor": 0.5, "patience": 1, "threshold": 1e-6, "threshold_mode": "abs"},
        "loss",
    ),
    (
        "abs_threshold_large",
        {"base_lr": 0.1, "factor": 0.5, "patience": 2, "threshold": 0.01, "threshold_mode": "abs"},
        "loss",
    ),
    ("min_lr", {"base_lr": 0.1, "factor": 0.5, "patience": 0, "min_lr": 0.02}, "loss"),
    ("eps", {"base_lr": 0.1, "factor": 0.5, "patience": 0, "min_lr": 0.045, "eps": 0.01}, "loss"),
    ("max", {"base_lr": 0.1, "mode": "max", "factor": 0.5, "patience": 2}, "accuracy"),
    (
        "max_abs_cooldown",
        {
            "base_lr": 0.1,
            "mode": "max",
            "factor": 0.2,
            "patience": 1,
            "threshold": 0.005,
            "threshold_mode": "abs",
            "cooldown": 2,
        },
        "accuracy",
    ),
]


def plateau_case(label: str, kwargs: dict, metric_kind: str) -> dict:
    metrics = _loss_metrics() if metric_kind == "loss" else _accuracy_metrics()
    dummy = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([dummy], lr=kwargs["base_lr"])
    torch_kwargs = {k: v for k, v in kwargs.items() if k != "base_lr"}
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **torch_kwargs)
    out = {"lr": [], "best": [], "num_bad_epochs": [], "cooldown_counter": []}
    for metric in metrics:
        opt.step()
        scheduler.step(metric)
        out["lr"].append(float(opt.param_groups[0]["lr"]))
        out["best"].append(float(scheduler.best))
        out["num_bad_epochs"].append(int(scheduler.num_bad_epochs))
        out["cooldown_counter"].append(int(scheduler.cooldown_counter))
    return {"id": f"plateau-{label}", "kwargs": kwargs, "metrics": metrics, **out}


# ---------------------------------------------------------------------------------------
# PyTorch's defaults, for the tests that compare argument names and defaults
# ---------------------------------------------------------------------------------------
def _json_default(value):
    if isinstance(value, tuple):
        value = list(value)
    if value is None or isinstance(value, (bool, int, float, str, list)):
        return value
    return repr(value)


def signature_defaults(cls) -> dict:
    """Every argument of ``cls.__init__`` after the first two (self, params/optimizer).

    Arguments without a default map to ``"<required>"``.
    """
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]
    return {
        p.name: "<required>" if p.default is inspect.Parameter.empty else _json_default(p.default)
        for p in params
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


# ---------------------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------------------
def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def dump(header: dict, cases: list[dict]) -> str:
    """Compact JSON with one case per line (diffs stay readable)."""
    head = _compact(header)[:-1]
    body = ",\n".join(_compact(case) for case in cases)
    return f'{head},"cases":[\n{body}\n]}}\n'


def generate() -> dict[str, str]:
    """All reference files, as {file name: JSON text}."""
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        raise SystemExit(
            f"make_reference.py needs torch=={TORCH_VERSION}, found {torch.__version__}: "
            f"pip install torch=={TORCH_VERSION}"
        )
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    meta = {
        "generator": "scripts/make_reference.py",
        "torch": torch.__version__,
        "dtype": "float64",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt_cases = [optimizer_case(s, p) for s in SETTINGS for p in PROBLEMS]
        sched_cases = [schedule_case(*case) for case in SCHEDULE_CASES]
        plateau_cases = [plateau_case(*case) for case in PLATEAU_CASES]
    opt_defaults = {
        name: signature_defaults(getattr(torch.optim, cls))
        for name, cls in TORCH_OPTIMIZERS.items()
    }
    sched_defaults = {
        name: signature_defaults(getattr(torch.optim.lr_scheduler, cls))
        for name, cls in TORCH_SCHEDULERS.items()
    }
    plateau_defaults = signature_defaults(torch.optim.lr_scheduler.ReduceLROnPlateau)
    for cases in (opt_cases, sched_cases, plateau_cases):
        ids = [c["id"] for c in cases]
        if len(ids) != len(set(ids)):
            raise RuntimeError(f"duplicate case ids: {sorted(i for i in ids if ids.count(i) > 1)}")
    return {
        "optimizers.json": dump(
            {**meta, "steps": STEPS, "torch_defaults": opt_defaults}, opt_cases
        ),
        "schedules.json": dump(
            {**meta, "steps": SCHEDULE_STEPS, "torch_defaults": sched_defaults}, sched_cases
        ),
        "plateau.json": dump({**meta, "torch_defaults": plateau_defaults}, plateau_cases),
    }


def _differences(new, old, where: str, out: list[str]) -> float:
    """Largest relative difference between two JSON values; mismatches of shape go to out."""
    if isinstance(new, dict) and isinstance(old, dict):
        if new.keys() != old.keys():
            out.append(f"{where}: keys differ ({sorted(new.keys() ^ old.keys())})")
            return 0.0
        return max((_differences(new[k], old[k], f"{where}.{k}", out) for k in new), default=0.0)
    if isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            out.append(f"{where}: length {len(new)} != stored {len(old)}")
            return 0.0
        return max(
            (
                _differences(a, b, f"{where}[{i}]", out)
                for i, (a, b) in enumerate(zip(new, old, strict=True))
            ),
            default=0.0,
        )
    numbers = (int, float)
    if (
        isinstance(new, numbers)
        and isinstance(old, numbers)
        and not isinstance(new, bool)
        and not isinstance(old, bool)
    ):
        scale = max(abs(new), abs(old))
        return 0.0 if scale == 0 else abs(new - old) / scale
    if new != old:
        out.append(f"{where}: {new!r} != stored {old!r}")
    return 0.0


def check(stored_dir: Path) -> int:
    """Regenerate into a temporary directory and compare with the stored files."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        write(generate(), Path(tmp))
        for name in FILES:
            stored = stored_dir / name
            if not stored.exists():
                problems.append(f"{stored}: missing")
                continue
            new = json.loads((Path(tmp) / name).read_text())
            old = json.loads(stored.read_text())
            new_ids = [c["id"] for c in new["cases"]]
            old_ids = [c["id"] for c in old["cases"]]
            if new_ids != old_ids:
                problems.append(
                    f"{name}: the case list differs; new {sorted(set(new_ids) - set(old_ids))}, "
                    f"gone {sorted(set(old_ids) - set(new_ids))}, or a different order"
                )
                continue
            shape = []
            worst = _differences(new, old, name, shape)
            problems += shape[:10]
            if worst > CHECK_RTOL:
                problems.append(
                    f"{name}: largest relative difference {worst:.3g} exceeds {CHECK_RTOL:g}"
                )
            print(f"{name}: {len(new_ids)} cases, largest relative difference {worst:.3g}")
    if problems:
        print("The stored reference data differ from a fresh generation:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        print("Regenerate with: python scripts/make_reference.py", file=sys.stderr)
        return 1
    print(f"The stored reference data in {stored_dir} are up to date.")
    return 0


def write(files: dict[str, str], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default tests/reference)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate in a temporary directory and compare with the files in --out",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.check:
        status = check(args.out)
    else:
        files = generate()
        write(files, args.out)
        for name, text in files.items():
            n = len(json.loads(text)["cases"])
            print(f"{args.out / name}: {n} cases, {len(text) / 1024:.0f} KiB")
        status = 0
    print(f"done in {time.perf_counter() - start:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
