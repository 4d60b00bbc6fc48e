"""Smoke test of an installed learnlr: what a reader's first cells do, on the installed copy.

``scripts/release.py smoke`` installs the wheel into a fresh virtual environment outside the
repository and runs this file there with ``python -I`` from an empty folder, so the source
tree cannot be imported by accident. Each check prints one line; any failure raises.
"""

import importlib.metadata
import json
import sys
from pathlib import Path

import numpy as np

import learnlr
from learnlr import explain, optimizers, problems, run, schedules
from learnlr.viz.widgets import lr_demo

# 1. The installed copy, not a source tree, and one version.
where = Path(learnlr.__file__).resolve()
prefix = Path(sys.prefix).resolve()
assert prefix in where.parents, f"learnlr imported from {where}, outside {prefix}"
assert "site-packages" in where.parts, f"learnlr imported from {where}"
metadata_version = importlib.metadata.version("learnlr")
assert learnlr.__version__ == metadata_version, (learnlr.__version__, metadata_version)
print(f"installed: learnlr {learnlr.__version__} from {where.parent.name}/ in site-packages")

# 2. An optimizer step. Adam's first update moves each coordinate by lr * g / (|g| + eps),
#    i.e. by lr against the sign of g (bias correction makes m_hat = g and v_hat = g^2).
opt = optimizers.adam(lr=0.1)
x = np.array([1.0, -2.0])
g = np.array([0.5, -4.0])
x_new, state, info = opt.step(x, g, opt.init(x))
assert np.allclose(x_new, x - 0.1 * g / (np.abs(g) + 1e-8), rtol=0, atol=1e-15), x_new
assert np.allclose(x_new, x - info.eff_lr * info.direction, rtol=0, atol=1e-15)
assert state.count == 1, state
print(f"adam step: {x} -> {x_new}")

# 3. A schedule: cosine annealing from 0.1 to 0 over 100 updates, a closed form.
cosine = schedules.cosine_annealing(0.1, T_max=100)
rates = cosine(np.arange(101))
expected = 0.05 * (1 + np.cos(np.pi * np.arange(101) / 100))
assert np.allclose(rates, expected, rtol=0, atol=1e-15), rates[:3]
assert rates[0] == 0.1 and abs(rates[50] - 0.05) < 1e-15 and abs(rates[100]) < 1e-15
print(f"cosine_annealing: lr(0) = {rates[0]}, lr(50) = {rates[50]:.3f}, lr(100) = {rates[100]:.0e}")

# 4. explain: one step of a run written out with its numbers (the doctest of learnlr.explain).
trace = run(problems.quadratic1d(a=1.0, x0=2.0), optimizers.gd(lr=0.5), steps=2)
text = str(explain(trace, 1))
assert text.splitlines() == [
    "gd(lr=0.5), step k = 1",
    "  g = grad f(x) = [1]",
    "  x_new = x - lr * g = [1] - 0.5 * [1] = [0.5]",
], text
print("explain: " + " | ".join(line.strip() for line in text.splitlines()))

# 5. A kernel-free demo: chapter 1's learning-rate demo as a self-contained HTML page. Its
#    script builds the sliders from a JSON payload that holds one frame per grid point.
demo = lr_demo(problems.quadratic2d(kappa=10.0), steps=20)
page = demo.to_html(grid={"lr": [0.05, 0.1, 0.15], "steps": [5, 20]})
for needle in ("<canvas", "<script", "data:image/png;base64,"):
    assert needle in page, f"Demo.to_html: {needle!r} missing from the page"
payload, _ = json.JSONDecoder().raw_decode(page, page.index('{"names":'))
assert payload["names"] == ["lr", "steps"], payload["names"]
assert len(payload["frames"]) == 3 * 2, len(payload["frames"])
print(f"Demo.to_html: {len(page) / 1024:.0f} KiB of HTML, {len(payload['frames'])} frames")
print("smoke test passed")
