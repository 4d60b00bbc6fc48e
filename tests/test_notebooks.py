"""Checks on the stored notebooks that nbval cannot make by itself.

nbval re-runs each notebook and compares the fresh outputs with the stored ones, but it only
compares outputs that are stored: a notebook saved without outputs passes while checking
nothing. These tests make sure every notebook was saved after a clean run from top to bottom
(`make execute`), and that the book's table of contents and notebooks/ agree.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
TOC = ROOT / "_toc.yml"

NOTEBOOKS = sorted(
    path for path in NOTEBOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts
)

FIX = "re-run it from the top and save it: make execute"


def _name(path):
    return path.relative_to(ROOT).as_posix()


def _read(path):
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _code_cells(nb):
    # nbconvert and Jupyter do not execute a code cell that holds only whitespace.
    return [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]


def _toc_files():
    """The `root:` and `- file:` entries of _toc.yml, without suffix."""
    text = TOC.read_text(encoding="utf-8")
    pattern = re.compile(r"^\s*(?:-\s*)?(?:root|file)\s*:\s*['\"]?([^'\"#\s]+)", re.MULTILINE)
    return {re.sub(r"\.(ipynb|md)$", "", entry) for entry in pattern.findall(text)}


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {_name(NOTEBOOK_DIR)}/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_is_valid_and_cells_have_ids(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5), (
        f"{_name(path)} is nbformat {nb.nbformat}.{nb.nbformat_minor}; cell ids need 4.5: {FIX}"
    )
    missing = [i for i, cell in enumerate(nb.cells) if not cell.get("id")]
    assert not missing, f"{_name(path)}: cells {missing} have no id"
    ids = [cell.id for cell in nb.cells]
    assert len(ids) == len(set(ids)), f"{_name(path)}: duplicate cell ids"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_starts_with_a_title(path):
    # Jupyter Book takes the page title from the first heading; without one, -W fails.
    cells = _read(path).cells
    first = cells[0] if cells else None
    assert first is not None and first.cell_type == "markdown", (
        f"{_name(path)}: the first cell must be a markdown cell with a '# Title'"
    )
    assert first.source.lstrip().startswith("# "), (
        f"{_name(path)}: the first cell must start with a level-1 heading '# Title'"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_was_run_in_order(path):
    cells = _code_cells(_read(path))
    counts = [cell.execution_count for cell in cells]
    not_run = [i for i, count in enumerate(counts) if count is None]
    assert not not_run, f"{_name(path)}: code cells {not_run} were never executed; {FIX}"
    assert counts == list(range(1, len(cells) + 1)), (
        f"{_name(path)}: execution counts {counts} are not 1, 2, 3, ...: the notebook was not "
        f"saved after one clean run; {FIX}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_has_outputs_and_no_errors(path):
    cells = _code_cells(_read(path))
    if cells:
        assert any(cell.outputs for cell in cells), (
            f"{_name(path)}: no outputs stored, nbval would check nothing; {FIX}"
        )
    errors = [
        (i, output.get("ename"))
        for i, cell in enumerate(cells)
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, f"{_name(path)}: error outputs in code cells (index, error): {errors}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_every_exercise_check_stores_a_pass(path):
    # nbval re-runs the instructor's solutions and compares each check's output with the
    # stored one; this makes that stored output a pass, so the comparison proves that every
    # exercise passes with its solution (conftest.py runs the unfinished student copy)
    from learnlr.course import coursework

    nb = nbformat.read(path, as_version=4)
    by_id = {cell.get("id"): cell for cell in nb.cells}
    for ex in coursework.exercises(nb):
        cell = by_id.get(ex.check_cell)
        assert cell is not None, f"{_name(path)}: exercise {ex.id} has no check cell"
        shown = "".join(
            o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs
        )
        assert f"[{ex.id}] PASSED" in shown, (
            f"{_name(path)}: the check of exercise {ex.id} stores {shown!r}, not a pass"
        )


def test_toc_lists_every_notebook_and_nothing_else():
    on_disk = {_name(path.with_suffix("")) for path in NOTEBOOKS}
    in_toc = {entry for entry in _toc_files() if entry.startswith("notebooks/")}
    unlisted, missing = sorted(on_disk - in_toc), sorted(in_toc - on_disk)
    assert not unlisted, f"notebooks not listed in _toc.yml: {unlisted}"
    assert not missing, f"_toc.yml lists notebooks that do not exist: {missing}"


def test_toc_pages_exist():
    for entry in _toc_files():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(path.exists() for path in candidates), f"_toc.yml lists {entry}, not found"


# A measured quantity printed in scientific notation with an exponent of -10 or below and more
# than one significant digit ("f - f* = 6.5e-15") is almost always rounding noise: its digits
# change with the CPU, the BLAS kernel, the thread count or a patch release, and the stored
# output then fails on the next machine. CONTRIBUTING.md's rule: print the fact instead
# ("< 1e-12: True"), or the order of magnitude alone (f"{x:.0e}") where it is the point.
# Exempt: a bound after a comparison ("< 1e-12") and a hyper-parameter in a repr ("eps=1e-10").
_TINY = re.compile(r"(?<![\w.])([-+]?\d+\.\d+)[eE]-(\d+)\b")


def _noise_tokens(text):
    found = []
    for match in _TINY.finditer(text):
        if int(match.group(2)) < 10:
            continue
        before = text[: match.start()].rstrip()
        if before.endswith(("<", ">", "<=", ">=", "=")) and not before.endswith(" ="):
            # "< 1e-12", ">= 1e-10" and "eps=1e-10" state a bound or a setting, not a result
            continue
        found.append(text[max(0, match.start() - 50) : match.end()].replace("\n", " | "))
    return found


def test_noise_detector_flags_results_and_spares_bounds():
    assert _noise_tokens("final f - f* = 5.94e-43")
    assert _noise_tokens("norm of their mean 7.8e-15\n")
    assert not _noise_tokens("largest |difference| < 1e-15, f - f* < 1.0e-12")
    assert not _noise_tokens("adagrad(lr=0.5, eps=1e-10), loss 2.72e+09, gap 3.5e-05")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_no_rounding_noise_in_stored_outputs(path):
    cells = _code_cells(_read(path))
    noise = []
    for i, cell in enumerate(cells):
        for output in cell.outputs:
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            noise += [f"code cell {i}: ...{token}" for token in _noise_tokens(text)]
    assert not noise, (
        f"{_name(path)} prints values whose digits are rounding noise (print a comparison such "
        "as '< 1e-12: True', or f'{x:.0e}'; see CONTRIBUTING.md):\n  " + "\n  ".join(noise)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_kernel_free_demos_were_made_with_the_current_template(path):
    """The book renders stored outputs, and nbval ignores a kernel-free demo's output (its
    PNG bytes depend on the machine): without this check a demo made with an older template
    would reach the book unnoticed."""
    from learnlr.viz.widgets import TEMPLATE_ID

    stale = []
    for index, cell in enumerate(_read(path).cells):
        for output in cell.get("outputs", []):
            page = output.get("data", {}).get("text/html", "")
            page = "".join(page) if isinstance(page, list) else page
            if 'class="learnlr-demo"' in page and f'data-template="{TEMPLATE_ID}"' not in page:
                stale.append(index)
    assert not stale, f"{_name(path)}: cells {stale} hold demos from an older template; {FIX}"
