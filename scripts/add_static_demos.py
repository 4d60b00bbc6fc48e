"""Insert (or refresh) each chapter's kernel-free demo cell after its widget demo.

The cell shows ``demo.to_html(grid)``: the chapter's main widget demo precomputed over a
grid of control values, which the rendered book draws with JavaScript, without a kernel.
Adds the cell where it is missing (``--refresh`` also rewrites existing ones). Run after
editing a chapter's demo, then `ruff format notebooks` and re-execute the notebook
(``make execute``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MARK = "# Kernel-free version for the rendered book"

# notebook stem -> (demo variable, grid expression or None for the demo's own grid), or a
# list of such pairs for a chapter with several demos
DEMOS = {
    "01_gradient_update": (
        "demo",
        '{"lr": np.unique(np.r_[np.geomspace(0.005, 0.25, 46), 1.99 / bowl.L, 2.01 / bowl.L]),'
        ' "steps": [60]}',
    ),
    "02_momentum": (
        "demo",
        '{"lr": np.geomspace(1e-3, 10**-0.5, 10), "momentum": np.linspace(0.0, 0.95, 8),'
        ' "nesterov": ["no", "yes"]}',
    ),
    "03_adagrad": (
        "demo",
        '{"lr": np.geomspace(0.01, 10.0, 13), "initial_accumulator_value": [0.0, 1.0, 5.0, 20.0]}',
    ),
    "04_rmsprop_adadelta": (
        "demo",
        '{"lr": np.geomspace(1e-4, 0.1, 10), "alpha": [0.5, 0.9, 0.99, 0.999],'
        ' "centered": ["no", "yes"]}',
    ),
    "05_adam": ("race", '{"scale": np.round(np.arange(-1.0, 1.01, 0.1), 2)}'),
    "06_adam_relatives": (
        "reddi_demo",
        '{"C": [2.5, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0], "beta2": [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7,'
        " 0.9]}",
    ),
    "07_schedules": ("gallery_demo", None),
    "08_warmup_plateau": (
        "warmup_demo",
        '{"peak": np.round(10 ** np.arange(-3.2, -2.59, 0.05), 6),'
        ' "warmup": np.arange(0, 1001, 100)}',
    ),
    "09_lr_finder": ("demo", '{"num_it": [20, 50, 100, 200, 300], "beta": [0.0, 0.9, 0.98]}'),
    "10_real_network": ("demo", None),
    "12_beyond_adam": ("race", '{"scale": np.round(np.arange(-1.0, 1.01, 0.1), 2)}'),
    "13_off_the_bowl": (
        "demo",
        '{"distance": [1e-1, 1e-2, 1e-4, 1e-6, 1e-8], "lr": [0.05, 0.1, 0.3, 1.0],'
        ' "method": ["GD", "momentum 0.9", "Adam", "GD + noise"], "steps": [400]}',
    ),
    "11_claims_lab": (
        "demo",
        '{"problem": list(sweeps), "tol": np.round(10 ** np.arange(0.0, 3.01, 0.1), 4)}',
    ),
}


def cell_source(var: str, grid: str | None) -> str:
    call = f"{var}.to_html()" if grid is None else f"{var}.to_html(grid={grid})"
    return (
        f"{MARK}: the demo above, precomputed over a grid of\n"
        "# control values and drawn in the page by JavaScript (no Python needed). The output\n"
        "# embeds PNG images whose bytes depend on the matplotlib version, so nbval ignores it.\n"
        "from IPython.display import HTML\n\n"
        f"HTML({call})"
    )


def main() -> int:
    for stem, entries in DEMOS.items():
        if isinstance(entries, tuple):
            entries = [entries]
        path = ROOT / "notebooks" / f"{stem}.ipynb"
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        for var, grid in entries:
            if not add_demo(nb.cells, stem, var, grid):
                return 1
        if nbformat.writes(nb) != before:
            nbformat.write(nb, path)
    return 0


def add_demo(cells, stem: str, var: str, grid: str | None) -> bool:
    """Add (or, with --refresh, rewrite) the kernel-free cell of ``var``; False on error."""
    existing = [
        i
        for i, c in enumerate(cells)
        if c.cell_type == "code"
        and MARK in c.source
        and re.search(rf"\b{var}\.to_html\(", c.source)
    ]
    source = cell_source(var, grid)
    if existing:
        if "--refresh" in sys.argv:
            cells[existing[0]].source = source
            print(f"{stem}: kernel-free demo of {var} refreshed")
    else:
        widget = [
            i
            for i, c in enumerate(cells)
            if c.cell_type == "code" and f"{var}.widget()" in c.source
        ]
        if not widget:
            print(f"{stem}: no cell calls {var}.widget()", file=sys.stderr)
            return False
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["nbval-ignore-output", "remove-input"]
        # after the widget cell and the static figure that follows it
        cells.insert(widget[0] + 2, cell)
        print(f"{stem}: kernel-free demo of {var} added")
    return True


if __name__ == "__main__":
    sys.exit(main())
