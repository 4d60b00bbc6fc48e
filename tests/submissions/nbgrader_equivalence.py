"""Check that learnlr's student copies cut the same cells as nbgrader does.

nbgrader is not a dependency of learnlr, so this is a script, not part of ``make test``.
It runs nbgrader's own ``ClearSolutions`` and ``ClearHiddenTests`` preprocessors on every
notebook given (default: notebooks/) and on a few awkward cells made here, and compares the
result with ``learnlr.course.coursework.student_notebook(nb, stubs="nbgrader")``: every cell must
have the same type, id, nbgrader metadata and source. (With the default learnlr stubs the
copies differ only inside the stubs: a message naming the exercise, and ``name = None`` in
place of a raise at top level.) Outputs are not compared: nbgrader clears all of them.

    python -m venv /tmp/nbg && /tmp/nbg/bin/pip install nbgrader==0.9.6 numpy
    PYTHONPATH=. /tmp/nbg/bin/python tests/submissions/nbgrader_equivalence.py [notebook ...]

Exit status 0 when every notebook agrees.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from learnlr.course import coursework

ROOT = Path(__file__).resolve().parent.parent.parent


def _meta(solution: bool, grade: bool, grade_id: str) -> dict:
    meta = {"solution": solution, "grade": grade, "grade_id": grade_id, "schema_version": 3}
    return {"nbgrader": {**meta, "locked": not solution, **({"points": 1} if grade else {})}}


def awkward_cells():
    """Cells that exercise the corner cases: regions at every level, whole cells, markdown."""
    code = [
        "def f(x):\n    y = x\n    ### BEGIN SOLUTION\n    y = 2 * x\n    ### END SOLUTION\n"
        "    return y",
        "a = ...\n### BEGIN SOLUTION\na = 1\n### END SOLUTION\nprint(a)",
        "if True:\n    ### BEGIN SOLUTION\n    b = 2\n    ### END SOLUTION\nc = 3",
        "### BEGIN SOLUTION\ndef g(k):\n    return k\n### END SOLUTION\n"
        "x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION",
        "whole = 'cell'",
    ]
    cells = [new_markdown_cell("# 99. Awkward cells")]
    cells += [
        new_code_cell(src, metadata=_meta(True, False, f"ch99-ex{i}")) for i, src in enumerate(code)
    ]
    cells.append(
        new_markdown_cell(
            "### BEGIN SOLUTION\nText.\n### END SOLUTION", metadata=_meta(True, False, "ch99-md")
        )
    )
    cells.append(
        new_code_cell(
            'checks.check_value("99.1", a, 1)\n### BEGIN HIDDEN TESTS\n'
            'checks.check_value("99.1", a + 0, 1)\n### END HIDDEN TESTS',
            metadata=_meta(False, True, "ch99-tests"),
        )
    )
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def nbgrader_copy(nb):
    nb = copy.deepcopy(nb)
    resources: dict = {}
    nb, resources = ClearSolutions().preprocess(nb, resources)
    nb, resources = ClearHiddenTests().preprocess(nb, resources)
    return nb


def compare(name: str, nb) -> list[str]:
    theirs = nbgrader_copy(nb)
    ours = coursework.student_notebook(nb, stubs="nbgrader", name=name)
    problems = []
    if len(theirs.cells) != len(ours.cells):
        return [f"{name}: {len(theirs.cells)} cells from nbgrader, {len(ours.cells)} from learnlr"]
    for i, (a, b) in enumerate(zip(theirs.cells, ours.cells, strict=True)):
        for key in ("cell_type", "id", "source"):
            if a.get(key) != b.get(key):
                problems.append(f"{name}, cell {i}: {key} differs:\n{a.get(key)!r}\n{b.get(key)!r}")
        if a.metadata.get("nbgrader") != b.metadata.get("nbgrader"):
            problems.append(f"{name}, cell {i}: nbgrader metadata differs")
    return problems


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    notebooks = [("awkward cells", awkward_cells())]
    notebooks += [(str(p), nbformat.read(p, as_version=4)) for p in paths]
    failed = 0
    for name, nb in notebooks:
        regions = sum(
            len(coursework.solution_regions(c.source)) or coursework._is_solution(c)
            for c in nb.cells
        )
        problems = compare(name, nb)
        failed += bool(problems)
        print(f"{'DIFFERS' if problems else 'same'}: {name} ({regions} solution regions)")
        for problem in problems:
            print("   ", problem)
    print(
        f"{len(notebooks) - failed} of {len(notebooks)} notebooks give the same cells as nbgrader"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
