"""Write the reference trajectories that tests/test_modern.py compares learnlr.optimizers with.

The optimizers of ``learnlr.optimizers.MODERN`` follow their authors' PyTorch packages:

* Lion: ``lion_pytorch.Lion`` (lucidrains/lion-pytorch);
* Schedule-Free SGD and AdamW: ``schedulefree.SGDScheduleFree`` and
  ``schedulefree.AdamWScheduleFree`` (facebookresearch/schedule_free), and the same
  package's simpler ``...Reference`` classes, which keep the averaged sequence ``x``
  explicitly (so it can be stored after every update);
* Prodigy: ``prodigyopt.Prodigy`` (konstmish/prodigy).

This script runs those classes once and stores what they did as JSON in
``tests/reference/modern.json``, so the tests run without PyTorch. Each case stores the
points the optimizer's parameters took (``x``: for the schedule-free methods the points ``y``
where the gradient is taken), their losses, and per method: ``x_avg`` (the schedule-free
averaged sequence after every update, from the reference class, and ``x_ref``, that class's
``y``) and ``x_eval`` (the main class's ``optimizer.eval()`` point after the last update);
``d`` (Prodigy's estimate after every update). A rate schedule, where a case has one, is
written into ``param_groups[0]["lr"]`` before every update.

The problems are re-written here in PyTorch (autograd gives the gradients); this script does
not import learnlr, so the two sides are independent. Every run must stay finite and must not
amplify rounding errors: its ``sensitivity``, the largest change of the trajectory when ``x0``
is moved by a relative 1e-10, divided by the change of ``x0``, is measured and stored. Lion's
sign makes a run jump when an interpolated momentum ``c`` is near 0, so for Lion the smallest
``|c|`` relative to the size of its two terms (``sign_margin``) is stored too and must exceed
1e-6.

Run it from the repository root in an environment with the four packages (CPU, float64)::

    pip install torch==2.13.0 lion-pytorch==0.2.5 schedulefree==1.4.1 prodigyopt==1.1.2
    python scripts/make_reference_modern.py          # (re)write tests/reference/modern.json
    python scripts/make_reference_modern.py --out DIR
    python scripts/make_reference_modern.py --check  # regenerate and compare with the stored
                                                     # file (exit 1 if a value differs by more
                                                     # than CHECK_RTOL = 1e-10 relative)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import json
import math
import sys
from pathlib import Path

import lion_pytorch
import prodigyopt
import schedulefree
import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "reference"
STEPS = 100
PERTURBATION = 1e-10
MAX_SENSITIVITY = 1e5
MIN_SIGN_MARGIN = 1e-6
# --check: largest relative difference allowed between two generations. Another CPU or BLAS
# changes the last bits (about 1e-16) of a step, and a run may amplify that by up to
# MAX_SENSITIVITY (1e5): a regeneration on another machine differed by 3.6e-12 in one value.
CHECK_RTOL = 1e-16 * MAX_SENSITIVITY * 10
PACKAGES = ("torch", "lion-pytorch", "schedulefree", "prodigyopt")

torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------
def _rotated_quadratic() -> list[list[float]]:
    """A = R diag(1, 50) R^T, R the rotation by pi/6, made exactly symmetric."""
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    R = torch.tensor([[c, -s], [s, c]])
    A = R @ torch.diag(torch.tensor([1.0, 50.0])) @ R.T
    return ((A + A.T) / 2).tolist()


PROBLEMS = {
    "quadratic": {
        "name": "quadratic",
        "A": _rotated_quadratic(),
        "b": [0.0, 0.0],
        "x0": [-2.0, 1.5],
    },
    "quadratic5": {
        "name": "quadratic",
        "A": torch.diag(torch.tensor([1.0, 3.0, 10.0, 30.0, 100.0])).tolist(),
        "b": [1.0, -1.0, 0.5, 2.0, -0.5],
        "x0": [2.0, -2.0, 3.0, -1.0, 0.5],
    },
    "rosenbrock": {"name": "rosenbrock", "a": 1.0, "b": 100.0, "x0": [-1.5, 2.0]},
}


def loss_function(spec: dict):
    if spec["name"] == "quadratic":
        A, b = torch.tensor(spec["A"]), torch.tensor(spec["b"])
        return lambda x: 0.5 * (x @ (A @ x)) - b @ x
    a, b = spec["a"], spec["b"]
    return lambda x: (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2


# ---------------------------------------------------------------------------------------
# Rate schedules, written into the parameter group before every update
# ---------------------------------------------------------------------------------------
def schedule_value(sched: dict | None, base: float, k: int) -> float:
    """The rate of update k: learnlr's cosine_annealing or a linear warmup from 0."""
    if sched is None:
        return base
    if sched["name"] == "cosine_annealing":
        return base * (1 + math.cos(math.pi * k / sched["T_max"])) / 2
    if sched["name"] == "warmup_from_zero":  # learnlr: warmup_stable_decay(base, W, ...)
        return base * min(1.0, k / sched["warmup_steps"])
    raise ValueError(sched)


# ---------------------------------------------------------------------------------------
# Cases: (method, label, kwargs, lr per problem or None for the default, schedule)
# ---------------------------------------------------------------------------------------
def _lr(quadratic, quadratic5, rosenbrock):
    return {"quadratic": quadratic, "quadratic5": quadratic5, "rosenbrock": rosenbrock}


COSINE = {"name": "cosine_annealing", "T_max": STEPS}
WARMUP = {"name": "warmup_from_zero", "warmup_steps": 10}

SETTINGS = [
    ("lion", "lr", {}, _lr(0.02, 0.02, 0.005), None),
    (
        "lion",
        "betas_weight_decay",
        {"betas": [0.95, 0.98], "weight_decay": 0.1},
        _lr(0.02, 0.02, 0.005),
        None,
    ),
    ("lion", "cosine", {}, _lr(0.05, 0.05, 0.01), COSINE),
    ("schedule_free_sgd", "lr", {}, _lr(0.02, 0.01, 5e-4), None),
    (
        "schedule_free_sgd",
        "warmup_decay_r",
        {"warmup_steps": 10, "weight_decay": 0.05, "r": 1.0, "weight_lr_power": 1.0},
        _lr(0.02, 0.01, 5e-4),
        None,
    ),
    ("schedule_free_sgd", "momentum", {"momentum": 0.5}, _lr(0.02, 0.01, 5e-4), None),
    ("schedule_free_adamw", "lr", {}, _lr(0.05, 0.05, 0.02), None),
    (
        "schedule_free_adamw",
        "warmup_decay_r",
        {"warmup_steps": 10, "weight_decay": 0.1, "r": 0.5},
        _lr(0.05, 0.05, 0.02),
        None,
    ),
    (
        "schedule_free_adamw",
        "betas_eps",
        {"betas": [0.5, 0.99], "eps": 1e-6},
        _lr(0.05, 0.05, 0.02),
        None,
    ),
    ("prodigy", "defaults", {}, None, None),
    ("prodigy", "decoupled_decay", {"weight_decay": 0.1}, None, None),
    ("prodigy", "coupled_decay", {"weight_decay": 0.1, "decouple": False}, None, None),
    ("prodigy", "bias_correction", {"use_bias_correction": True}, None, None),
    ("prodigy", "safeguard_warmup", {"safeguard_warmup": True}, None, WARMUP),
    ("prodigy", "beta1_zero", {"betas": [0.0, 0.999]}, None, None),
    (
        "prodigy",
        "growth_d_coef_beta3",
        {"growth_rate": 1.1, "d_coef": 0.5, "beta3": 0.9},
        None,
        None,
    ),
    ("prodigy", "cosine", {}, None, COSINE),
]

CLASSES = {
    "lion": lion_pytorch.Lion,
    "schedule_free_sgd": schedulefree.SGDScheduleFree,
    "schedule_free_adamw": schedulefree.AdamWScheduleFree,
    "prodigy": prodigyopt.Prodigy,
}
REFERENCE_CLASSES = {
    "schedule_free_sgd": schedulefree.SGDScheduleFreeReference,
    "schedule_free_adamw": schedulefree.AdamWScheduleFreeReference,
}


def _torch_kwargs(kwargs: dict) -> dict:
    out = dict(kwargs)
    if "betas" in out:
        out["betas"] = tuple(out["betas"])
    return out


def run_torch(cls, kwargs: dict, sched: dict | None, spec: dict, x0: list, method: str) -> dict:
    """One run: points, losses and the method's extra quantities."""
    loss_fn = loss_function(spec)
    x = torch.tensor(x0, requires_grad=True)
    opt = cls([x], **_torch_kwargs(kwargs))
    base_lr = opt.param_groups[0]["lr"]
    if hasattr(opt, "train"):
        opt.train()
    out = {"x": [], "loss": [], "x_avg": [list(map(float, x0))], "d": [], "margin": math.inf}
    for k in range(STEPS):
        opt.param_groups[0]["lr"] = schedule_value(sched, base_lr, k)
        opt.zero_grad()
        loss = loss_fn(x)
        out["x"].append(x.detach().tolist())
        out["loss"].append(loss.item())
        loss.backward()
        if method == "lion":  # how close the interpolation c is to changing sign
            b1 = opt.param_groups[0]["betas"][0]
            m = opt.state[x]["exp_avg"] if opt.state[x] else torch.zeros_like(x)
            c = b1 * m + (1 - b1) * x.grad
            size = b1 * m.abs() + (1 - b1) * x.grad.abs()
            out["margin"] = min(out["margin"], (c.abs() / size.clamp(min=1e-300)).min().item())
        opt.step()
        if method == "prodigy":
            out["d"].append(float(opt.param_groups[0]["d"]))
        if cls in REFERENCE_CLASSES.values():
            out["x_avg"].append(opt.state[x]["x"].tolist())
    with torch.no_grad():
        out["x"].append(x.detach().tolist())
        out["loss"].append(loss_fn(x).item())
    if method.startswith("schedule_free") and cls is CLASSES[method]:
        opt.eval()
        out["x_eval"] = x.detach().tolist()
    return out


def _amplification(new: list, old: list, x0_new: list, x0_old: list) -> float:
    """Largest change of the trajectory divided by the change of the start."""
    a, b = torch.tensor(new), torch.tensor(old)
    da = (torch.tensor(x0_new) - torch.tensor(x0_old)).abs().max()
    return ((a - b).abs().max() / da).item()


def make_case(method, label, kwargs, lrs, sched, problem) -> dict:
    case_id = f"{method}-{label}-{problem}"
    spec = PROBLEMS[problem]
    kwargs = dict(kwargs)
    if lrs is not None:
        kwargs["lr"] = lrs[problem]
    cls = CLASSES[method]
    res = run_torch(cls, kwargs, sched, spec, spec["x0"], method)
    values = [v for p in res["x"] for v in p] + res["loss"]
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"{case_id}: the run is not finite")
    if max(res["loss"]) > 1e4 * max(1.0, abs(res["loss"][0])):
        raise RuntimeError(f"{case_id}: the loss grows to {max(res['loss']):.3g}")
    moved = [v * (1 + PERTURBATION) for v in spec["x0"]]
    res_moved = run_torch(cls, kwargs, sched, spec, moved, method)
    sensitivity = _amplification(res_moved["x"], res["x"], moved, spec["x0"])
    if sensitivity > MAX_SENSITIVITY:
        raise RuntimeError(f"{case_id}: sensitivity {sensitivity:.3g} > {MAX_SENSITIVITY:g}")
    case = {
        "id": case_id,
        "method": method,
        "setting": label,
        "torch_class": f"{cls.__module__}.{cls.__name__}",
        "kwargs": kwargs,
        "lr_schedule": sched,
        "problem": spec,
        "sensitivity": float(f"{sensitivity:.2g}"),
        "x": res["x"],
        "loss": res["loss"],
    }
    if method == "lion":
        if res["margin"] < MIN_SIGN_MARGIN:
            raise RuntimeError(f"{case_id}: a sign is decided by {res['margin']:.2g}")
        case["sign_margin"] = float(f"{res['margin']:.2g}")
    if method == "prodigy":
        case["d"] = res["d"]
    if method in REFERENCE_CLASSES:
        ref = run_torch(REFERENCE_CLASSES[method], kwargs, sched, spec, spec["x0"], method)
        case["reference_class"] = (
            f"{REFERENCE_CLASSES[method].__module__}.{REFERENCE_CLASSES[method].__name__}"
        )
        case["x_ref"] = ref["x"]
        case["x_avg"] = ref["x_avg"]
        case["x_eval"] = res["x_eval"]
    return case


def defaults() -> dict:
    """The signature defaults of each class (the tests compare learnlr's with them)."""
    out = {}
    for method, cls in CLASSES.items():
        sig = inspect.signature(cls.__init__)
        out[method] = {
            name: (list(p.default) if isinstance(p.default, tuple) else p.default)
            for name, p in sig.parameters.items()
            if name not in ("self", "params") and p.default is not inspect.Parameter.empty
        }
        for name, value in out[method].items():
            if isinstance(value, float) and math.isinf(value):
                out[method][name] = "inf"
    return out


def _differences(new, old, where="") -> list[str]:
    """Where two JSON values differ (numbers: by more than CHECK_RTOL relative)."""
    if isinstance(new, dict) and isinstance(old, dict):
        if set(new) != set(old):
            return [f"{where}: keys {sorted(set(new) ^ set(old))} differ"]
        return [d for k in new for d in _differences(new[k], old[k], f"{where}/{k}")]
    if isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            return [f"{where}: lengths {len(new)} and {len(old)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(new, old, strict=True))
            for d in _differences(a, b, f"{where}[{i}]")
        ]
    if isinstance(new, float) and isinstance(old, (int, float)) and not isinstance(old, bool):
        if abs(new - old) <= CHECK_RTOL * max(abs(old), 1e-300):
            return []
        return [f"{where}: {new!r} != {old!r}"]
    return [] if new == old else [f"{where}: {new!r} != {old!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate and compare with the stored file (exit 1 if they differ)",
    )
    args = parser.parse_args()
    cases = [make_case(*setting, problem) for setting in SETTINGS for problem in PROBLEMS]
    data = {
        "description": (
            "learnlr.optimizers.MODERN reference runs; written by scripts/make_reference_modern.py"
        ),
        "versions": {p: importlib.metadata.version(p) for p in PACKAGES},
        "steps": STEPS,
        "defaults": defaults(),
        "cases": cases,
    }
    path = args.out / "modern.json"
    if args.check:
        stored = json.loads(path.read_text())
        fresh = json.loads(json.dumps(data))
        diffs = _differences(fresh, stored)
        for line in diffs[:20]:
            print(line)
        print(f"{path}: {len(cases)} cases, {len(diffs)} difference(s)")
        sys.exit(1 if diffs else 0)
    args.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    worst = max(c["sensitivity"] for c in cases)
    print(f"wrote {len(cases)} cases to {path} (largest sensitivity {worst:.2g})")


if __name__ == "__main__":
    main()
