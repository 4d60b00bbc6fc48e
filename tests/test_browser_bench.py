"""benchmarks/browser.py's parts that need no browser: finding each chapter's demo."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


browser = _load("browser_bench", "benchmarks/browser.py")
static = _load("add_static_demos", "scripts/add_static_demos.py")


def test_every_chapter_with_a_demo_is_benchmarked():
    demos = browser.main_demos(static.DEMOS)
    assert sorted(demos) == sorted(static.DEMOS)
    assert demos["13_off_the_bowl"] == "demo"


def _entries(stem):
    entries = static.DEMOS[stem]
    return [entries] if isinstance(entries, tuple) else entries


@pytest.mark.parametrize("stem", sorted(static.DEMOS))
def test_each_demo_has_one_widget_cell_and_its_kernel_free_cell(stem):
    # every demo listed (make bench times each) is shown live and kernel-free
    import nbformat

    cells = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4).cells
    for var, _grid in _entries(stem):
        index = browser.demo_cell(stem, var)
        assert index > 0
        kernel_free = [
            i
            for i, c in enumerate(cells)
            if static.MARK in c.source and f"{var}.to_html(" in c.source
        ]
        assert len(kernel_free) == 1 and kernel_free[0] > index, (stem, var, kernel_free)


def test_a_missing_demo_is_reported():
    with pytest.raises(RuntimeError, match="0 cells end with nothing_here.widget()"):
        browser.demo_cell("01_gradient_update", "nothing_here")


def test_readouts_with_a_unicode_minus_are_read():
    assert browser._number("\u22120.200") == -0.2
    assert browser._number(" 3.5 ") == 3.5
