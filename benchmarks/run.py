"""Performance benchmarks for learnlr: run with ``make bench`` (or ``python benchmarks/run.py``).

Prints one table (measure, value, target, ratio, pass/fail) and writes it as JSON to
``benchmarks/results/latest.json``. Timings are medians over repeats on this machine; where
a peer exists (a hand-fused NumPy step, torch.optim, an untraced loop) both are measured in
the same run and the ratio is what is judged. Benchmarks are not tests: nothing here runs in
the test suite.

Options: ``--quick`` skips the slow measures (test suite, book build, notebooks);
``--only NAME[,NAME]`` runs only the named groups (widgets, adam, trace, notebooks, tests,
book).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROWS: list[dict] = []


def record(measure, value, target, unit, ratio=None, ok=None, note=""):
    if ok is None and value is not None and target is not None:
        ok = (ratio if ratio is not None else value) <= target
    ROWS.append(
        dict(measure=measure, value=value, unit=unit, target=target, ratio=ratio, ok=ok, note=note)
    )
    shown = "-" if value is None else f"{value:.3g} {unit}"
    mark = {True: "pass", False: "FAIL", None: "-"}[ok]
    print(f"  {measure:<58} {shown:>14}  {mark}  {note}", flush=True)


def median_time(fn, repeats=15, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.percentile(times, 95))


# --------------------------------------------------------------------------------------
def bench_widgets():
    import matplotlib

    matplotlib.use("Agg")
    from learnlr import optimizers, problems, widgets

    demos = widgets.course_demos() if hasattr(widgets, "course_demos") else {}
    if not demos:
        quad = problems.quadratic2d(kappa=10, angle=0.5)
        demos = {
            "ch1 lr_demo": (widgets.lr_demo(quad), "lr", np.geomspace(0.01, 0.25, 40)),
        }
    demos = dict(demos)
    rosen = problems.rosenbrock()
    demos.setdefault(
        "adam optimizer_demo (rosenbrock)",
        (
            widgets.optimizer_demo(rosen, optimizers.adam, {"lr": widgets.LogSlider(-3, 0, 0.05)}),
            "lr",
            np.geomspace(0.003, 0.3, 40),
        ),
    )
    demos.setdefault(
        "race_demo (rosenbrock, 4 optimizers)",
        (
            widgets.race_demo(
                rosen,
                {
                    "sgd+momentum": (optimizers.sgd, {"lr": 1e-3, "momentum": 0.9}),
                    "adagrad": (optimizers.adagrad, {"lr": 0.3}),
                    "rmsprop": (optimizers.rmsprop, {"lr": 0.01}),
                    "adam": (optimizers.adam, {"lr": 0.05}),
                },
            ),
            "scale",
            np.linspace(-0.5, 0.5, 40),
        ),
    )
    for name, (demo, control, values) in demos.items():
        demo.render_png()  # first draw: layout and background, once per demo
        # a slider drag: consecutive values, as a reader moving the handle produces them
        times = []
        for _ in range(2):
            for v in values:
                t0 = time.perf_counter()
                demo.update(**{control: v})
                demo.render_png()
                times.append(time.perf_counter() - t0)
        med, p95 = float(np.median(times)) * 1e3, float(np.percentile(times, 95)) * 1e3
        record(f"widget {name}: median", med, 50, "ms")
        record(f"widget {name}: p95", p95, 100, "ms")


# --------------------------------------------------------------------------------------
def bench_adam():
    from learnlr import optimizers

    n = 1_000_000
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    g = rng.standard_normal(n)
    opt = optimizers.adam(lr=1e-3)
    state = opt.step(x, g, opt.init(x))[1]
    t_ours, _ = median_time(lambda: opt.step(x, g, state), repeats=21)

    m, v, xf, tmp = np.zeros(n), np.zeros(n), x.copy(), np.empty(n)
    count = [0]
    b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8

    def fused(m=m, v=v, xf=xf, tmp=tmp):
        # Adam in place with one scratch array: the fewest passes NumPy allows.
        count[0] += 1
        t = count[0]
        m *= b1
        np.multiply(g, 1 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1 / np.sqrt(1 - b2**t)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1 - b1**t)
        xf -= tmp

    t_fused, _ = median_time(fused, repeats=21)
    record("Adam step, 1M float64 params (learnlr)", t_ours * 1e3, None, "ms", ok=None)
    record("Adam step, hand-fused in-place NumPy", t_fused * 1e3, None, "ms", ok=None)
    record("Adam step: learnlr / fused NumPy", t_ours / t_fused, 1.5, "x", ratio=t_ours / t_fused)
    try:
        import torch
    except ImportError:
        record(
            "Adam step: learnlr / torch.optim.Adam (foreach)",
            None,
            2.0,
            "x",
            ok=None,
            note="skipped: torch not installed",
        )
        return
    torch.set_num_threads(os.cpu_count() or 1)
    p = torch.nn.Parameter(torch.from_numpy(x.copy()))
    p.grad = torch.from_numpy(g.copy())
    topt = torch.optim.Adam([p], lr=1e-3, foreach=True)
    topt.step()
    t_torch, _ = median_time(topt.step, repeats=21)
    record("Adam step, torch.optim.Adam foreach float64", t_torch * 1e3, None, "ms", ok=None)
    record(
        "Adam step: learnlr / torch.optim.Adam (foreach)",
        t_ours / t_torch,
        2.0,
        "x",
        ratio=t_ours / t_torch,
    )


# --------------------------------------------------------------------------------------
def bench_trace():
    from learnlr import optimizers, problems, run

    prob = problems.rosenbrock()
    opt = optimizers.adam(lr=1e-3)
    steps = 10_000

    def untraced():
        x, state = prob.x0, opt.init(prob.x0)
        for k in range(steps):
            x, state, _ = opt.step(x, prob.batch_grad(x, k), state)
            prob.loss(x)
        return x

    t_plain, _ = median_time(untraced, repeats=5, warmup=1)
    t_traced, _ = median_time(lambda: run(prob, opt, steps), repeats=5, warmup=1)
    record("run(): 1e4 Adam steps on Rosenbrock, traced", t_traced * 1e3, None, "ms", ok=None)
    record("run(): same loop untraced", t_plain * 1e3, None, "ms", ok=None)
    record(
        "trace overhead: traced / untraced", t_traced / t_plain, 2.0, "x", ratio=t_traced / t_plain
    )


# --------------------------------------------------------------------------------------
def bench_notebooks():
    import nbformat
    from nbclient import NotebookClient

    total = 0.0
    slowest = (0.0, "")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        t0 = time.perf_counter()
        client.execute()
        dt = time.perf_counter() - t0
        total += dt
        slowest = max(slowest, (dt, path.name))
        record(f"notebook {path.name} (fresh kernel)", dt, 30, "s")
    record(f"slowest notebook ({slowest[1]})", slowest[0], 30, "s")
    record("whole course, executed one after another", total, 180, "s")


def bench_tests():
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x"], cwd=ROOT, capture_output=True, text=True
    )
    dt = time.perf_counter() - t0
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    record("test suite incl. nbval (pytest)", dt, 360, "s", note=last[:60])


def bench_book():
    exe = Path(sys.executable).with_name("jupyter-book")
    with tempfile.TemporaryDirectory() as out:
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            subprocess.run(
                [str(exe), "build", str(ROOT), "--path-output", out, "-q"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - t0)
    record("book build, cold (fresh output dir)", times[0], 240, "s")
    record("book build, cached (second run)", times[1], 60, "s")


GROUPS = {
    "widgets": bench_widgets,
    "adam": bench_adam,
    "trace": bench_trace,
    "notebooks": bench_notebooks,
    "tests": bench_tests,
    "book": bench_book,
}
SLOW = {"notebooks", "tests", "book"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip notebooks, tests and book")
    parser.add_argument("--only", default="", help="comma-separated groups: " + ", ".join(GROUPS))
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(GROUPS)
    unknown = set(names) - set(GROUPS)
    if unknown:
        parser.error(f"--only: unknown group(s) {sorted(unknown)}; choose from {list(GROUPS)}")
    if args.quick:
        names = [n for n in names if n not in SLOW]
    print(
        f"learnlr benchmarks on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"  {'measure':<58} {'value':>14}  result")
    for name in names:
        GROUPS[name]()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(
        json.dumps({"machine": platform.machine(), "cores": os.cpu_count(), "rows": ROWS}, indent=1)
    )
    failed = [r["measure"] for r in ROWS if r["ok"] is False]
    print(
        f"\n{len(ROWS)} measures, {len(failed)} over target; table written to "
        f"{(out / 'latest.json').relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
