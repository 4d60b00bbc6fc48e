"""Beside nbval's cells, one more test per chapter: its student copy runs to the end.

The test is collected under the notebook's own path (``notebooks/NN.ipynb::student copy``),
so that ``pytest -n 2 --dist loadfile`` keeps it with that chapter's cells and shares the
thirteen chapters out over the workers. (Written as a test function in tests/, all thirteen
runs would queue on the one worker that has that file: the longest part of ``make test``.)
``-m "not student_copy"`` leaves it out, as the second numerical environment does: it runs
no stored output comparison.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent / "notebooks"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "student_copy: a chapter's student copy run to the end (conftest.py)"
    )


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and file_path.parent == NOTEBOOK_DIR:
        return StudentCopyFile.from_parent(parent, path=file_path)
    return None


class StudentCopyFile(pytest.File):
    def collect(self):
        item = StudentCopyItem.from_parent(self, name="student copy")
        item.add_marker(pytest.mark.student_copy)
        yield item


class StudentCopyItem(pytest.Item):
    """One kernel: the student copy as it is, then the instructor's exercise cells again.

    Every unfinished exercise must report "not done yet", and with the instructor's
    solutions put back every exercise must pass.
    """

    def runtest(self):
        import nbformat

        from learnlr import coursework

        path, name = self.path, self.path.stem
        nb = nbformat.read(path, as_version=4)
        student = coursework.student_notebook(nb, name=name)
        found = coursework.exercises(nb)
        solution_ids = {cid for ex in found for cid in ex.solution_cells}
        first = min(
            (i for i, c in enumerate(nb.cells) if c.id in solution_ids), default=len(nb.cells)
        )
        n = len(student.cells)
        student.cells += copy.deepcopy(nb.cells[first:])  # the solutions put back, re-run
        run = coursework.run_notebook(student, timeout=120, cwd=path.parent)

        def where(index):
            part = "student copy" if index < n else "solutions put back"
            return f"cell {index if index < n else first + index - n} ({part})"

        problems = [f"{where(c.index)} {c.status}: {c.detail}" for c in run.errors()]
        assert not problems, f"{name}:\n" + "\n".join(problems)
        as_given = {res.exercise: res for index, res in run.results if index < n}
        put_back = {res.exercise: res for index, res in run.results if index >= n}
        for ex in found:
            assert ex.id in as_given, f"{name}: exercise {ex.id} was not checked"
            res = as_given[ex.id]
            assert not res.passed and res.message.startswith("not done yet"), (
                f"{name}: unfinished exercise {ex.id} reported as {res!r}"
            )
            assert ex.id in put_back and put_back[ex.id].passed, (
                f"{name}: with the instructor's solution, {put_back.get(ex.id)!r}"
            )

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: student copy"


# Longest first: pytest-xdist hands out whole files in the order they were collected, so a
# long file collected last keeps one worker busy while the other has nothing left to do.
# The order below was measured (make test on 2 cores): the chapters, the slowest first, then
# the slow test files. It only changes which file starts when, never the order inside a file.
SLOW_FIRST = (
    "notebooks/11_",
    "notebooks/12_",
    "notebooks/",
    "tests/test_grader.py",
    "tests/test_grading_scale.py",
    "tests/test_coursework.py",
    "tests/test_widgets.py",
    "tests/test_release.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return next((i for i, p in enumerate(SLOW_FIRST) if path.startswith(p)), len(SLOW_FIRST))

    items.sort(key=rank)  # a stable sort: each file keeps its items together and in order
