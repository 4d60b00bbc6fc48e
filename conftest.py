"""Beside nbval's cells, one more test per chapter: its student copy runs to the end.

A chapter's student copy (``coursework.student_notebook``) is the instructor's notebook with
the exercise cells cut; every cell before the first exercise is the same code. So the check
needs no kernel of its own: it runs inside nbval's kernel for the chapter, as an item
(``notebooks/NN.ipynb::student copy``) placed just before the first exercise cell. There it
runs the student copy's exercise cells, in the state a student's kernel has at that point,
and requires that each cell runs without an error and every exercise reports "not done yet".
nbval's own items for the instructor's exercise cells follow in the same kernel: the
solutions put back, whose stored outputs (every check "PASSED", a test in
tests/test_notebooks.py) must come out again. The chapter is run once, not twice.

``-m "not student_copy"`` leaves the item out, as the second numerical environment does:
nbval then runs the instructor's notebook alone.
"""

from __future__ import annotations

import functools
from pathlib import Path
from queue import Empty

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent / "notebooks"
CELL_TIMEOUT = 120  # seconds a student-copy cell may run


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "student_copy: a chapter's student copy run to the end (conftest.py)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    found = yield
    if file_path.suffix != ".ipynb" or file_path.parent != NOTEBOOK_DIR:
        return found
    from nbval.plugin import IPyNbFile

    return [
        _chapter_file().from_parent(parent, path=file_path) if type(f) is IPyNbFile else f
        for f in found
    ]


@functools.cache
def _chapter_file():
    # nbval is imported when a chapter is collected, not when conftest.py is read
    from nbval.plugin import IPyNbFile

    class ChapterFile(IPyNbFile):
        """nbval's items for one chapter, with the student-copy item before the exercises."""

        def collect(self):
            import nbformat

            from learnlr.course import coursework

            nb = nbformat.read(self.path, as_version=4)
            found = coursework.exercises(nb)
            solution_ids = {cid for ex in found for cid in ex.solution_cells}
            first = next((c.id for c in nb.cells if c.id in solution_ids), None)
            for item in super().collect():
                if first is not None and item.cell.get("id") == first:
                    student = StudentCopyItem.from_parent(self, name="student copy")
                    student.nb, student.found, student.first = nb, found, first
                    student.add_marker(pytest.mark.student_copy)
                    yield student
                yield item

    return ChapterFile


def _run_cell(kernel, source: str, timeout: float) -> tuple[str, str]:
    """Run ``source`` in nbval's kernel: (its printed text, its error or "")."""
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    try:
        kernel.await_reply(msg_id, timeout=timeout)
    except Empty:
        kernel.interrupt()
        return "", f"ran longer than {timeout} s and was interrupted"
    text, error = [], ""
    while True:
        msg = kernel.get_message(stream="iopub", timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return "".join(text), error
        if kind == "stream":
            text.append(content["text"])
        elif kind == "error":
            error = f"{content['ename']}: {content['evalue']}"


class StudentCopyItem(pytest.Item):
    """The student copy's exercise cells, run in the chapter's kernel after its lesson cells.

    Every cell must run without an error and every exercise must report "not done yet".
    """

    nb = found = first = None  # the chapter, its exercises, the id of its first solution cell

    def runtest(self):
        from learnlr.course import coursework

        kernel, name, nb = self.parent.kernel, self.path.stem, self.nb
        if kernel is None or not kernel.is_alive():
            raise RuntimeError(f"{name}: the chapter's kernel is not running")
        student = coursework.student_notebook(nb, name=name)
        first = next(i for i, c in enumerate(nb.cells) if c.id == self.first)
        same = [(a.cell_type, a.source) for a in student.cells[:first]] == [
            (b.cell_type, b.source) for b in nb.cells[:first]
        ]
        assert same, (
            f"{name}: the student copy changes a cell before the first exercise (cell {first}),"
            " so it cannot share the chapter's kernel"
        )
        text, _ = _run_cell(kernel, coursework.results_probe(0), 30)
        start = len(coursework.read_results(text))
        problems = []
        for index in range(first, len(student.cells)):
            cell = student.cells[index]
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            _, error = _run_cell(kernel, cell.source, CELL_TIMEOUT)
            if error:
                problems.append(f"cell {index} of the student copy: {error}")
        text, _ = _run_cell(kernel, coursework.results_probe(start), 30)
        results = {res.exercise: res for res in coursework.read_results(text)}
        assert not problems, f"{name}:\n" + "\n".join(problems)
        for ex in self.found:
            assert ex.id in results, f"{name}: exercise {ex.id} was not checked"
            res = results[ex.id]
            assert not res.passed and res.message.startswith("not done yet"), (
                f"{name}: unfinished exercise {ex.id} reported as {res!r}"
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
