"""Coursework: student copies of the notebooks, and grading of submissions.

Small notebooks built here pin down the rules of :mod:`learnlr.course.coursework`. Then, for every
chapter in notebooks/: no solution line reaches its student copy. (That the student copy runs
to the end with every exercise "not done yet", and that the instructor's solutions then pass,
is tested inside each chapter's nbval run, by conftest.py at the root.) Last,
the grader runs on the synthetic submissions in tests/submissions/ (perfect, partly done,
broken) and on kernels that die or hang.
"""

import ast
import copy
import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from learnlr.course import coursework

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
SUBMISSIONS = ROOT / "tests" / "submissions"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb"))
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _name(path):
    return path.relative_to(ROOT).as_posix()


def _solution_cell(source, grade_id="ch09-ex1"):
    meta = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3}
    return new_code_cell(source, metadata={"nbgrader": {**meta, "solution": True}})


def _grade_cell(source, grade_id="ch09-ex1-tests"):
    meta = {"grade": True, "grade_id": grade_id, "locked": True, "points": 1}
    return new_code_cell(
        source, metadata={"nbgrader": {**meta, "solution": False, "schema_version": 3}}
    )


def _stubbed(source, check='checks.check_value("9.1", None, 1.0)'):
    nb = new_notebook(cells=[_solution_cell(source), new_code_cell(check)])
    return coursework.student_notebook(nb).cells[0].source


def _run_cell(source):
    """Execute a stubbed cell (with np available); return its namespace."""
    namespace = {"np": __import__("numpy")}
    exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


# --------------------------------------------------------------------------------------
# The rules of a student copy
# --------------------------------------------------------------------------------------


def test_a_region_in_a_function_body_becomes_a_raise_that_names_the_exercise():
    source = (
        "def step(x, g, lr):\n"
        "    y = 2 * x\n"
        "    ### BEGIN SOLUTION\n"
        "    z = y - lr * g\n"
        "    ### END SOLUTION\n"
        "    return z"
    )
    stub = _stubbed(source, check='checks.check_function("9.1", step, ref, cases)')
    assert stub == (
        "def step(x, g, lr):\n"
        "    y = 2 * x\n"
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Exercise 9.1: write your code here")\n'
        "    return z"
    )
    with pytest.raises(NotImplementedError, match="Exercise 9.1: write your code here"):
        _run_cell(stub)["step"](1.0, 1.0, 0.1)


def test_a_top_level_region_sets_what_it_assigns_to_none_and_keeps_signatures():
    source = (
        "L = 4.0\n"
        "answer = ...  # a number\n"
        "### BEGIN SOLUTION\n"
        "import math\n"
        "a, (b, c) = 1, (2, 3)\n"
        "answer = 2 / L\n"
        "total = 0\n"
        "for k in range(3):\n"
        "    total += k\n"
        "def helper(x, *, scale: float = 2.0) -> float:\n"
        "    return scale * math.sqrt(x)\n"
        "class Model:\n"
        "    pass\n"
        "### END SOLUTION\n"
        'print(f"answer: {answer}")'
    )
    stub = _stubbed(source)
    assert stub == (
        "L = 4.0\n"
        "answer = ...  # a number\n"
        "a = None\n"
        "b = None\n"
        "c = None\n"
        "total = None\n"
        "k = None\n"
        "Model = None\n"
        "def helper(x, *, scale: float=2.0) -> float:\n"
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Exercise 9.1: write your code here")\n'
        'print(f"answer: {answer}")'
    )
    namespace = _run_cell(stub)  # runs without an error
    assert namespace["answer"] is Ellipsis and namespace["total"] is None
    with pytest.raises(NotImplementedError, match="Exercise 9.1"):
        namespace["helper"](4.0)


def test_a_region_that_binds_nothing_leaves_a_comment_and_pass_where_python_needs_it():
    assert _stubbed("x = 1\n### BEGIN SOLUTION\nprint(x)\n### END SOLUTION") == (
        "x = 1\n# YOUR CODE HERE"
    )
    source = "if True:\n    ### BEGIN SOLUTION\n    print(1)\n    ### END SOLUTION\nx = 2"
    stub = _stubbed(source)
    assert stub == "if True:\n    # YOUR CODE HERE\n    pass\nx = 2"
    assert _run_cell(stub)["x"] == 2


def test_a_solution_cell_without_markers_is_a_solution_as_a_whole():
    assert _stubbed("rate = 2 / 10\nsteps = 5") == "rate = None\nsteps = None\n# YOUR CODE HERE"
    stub = _stubbed("def f(k):\n    return 0.1 * k")
    assert stub.startswith("def f(k):\n    # YOUR CODE HERE\n    raise NotImplementedError")


def test_nbgrader_stubs_replace_every_region_as_nbgrader_does():
    nb = new_notebook(
        cells=[
            _solution_cell("a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nc = 3"),
            _solution_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
            _solution_cell("x = 5"),
        ]
    )
    cells = coursework.student_notebook(nb, stubs="nbgrader").cells
    assert [c.source for c in cells] == [
        "a = 1\n# YOUR CODE HERE\nraise NotImplementedError()\nc = 3",
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "# YOUR CODE HERE\nraise NotImplementedError()",
    ]
    with pytest.raises(ValueError, match="stubs must be"):
        coursework.student_notebook(nb, stubs="other")


def test_a_markdown_solution_becomes_your_answer_here():
    cell = new_markdown_cell("Because\n### BEGIN SOLUTION\nit is convex.\n### END SOLUTION\n")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "ch09-ex2"}
    whole = new_markdown_cell("It diverges.", metadata=copy.deepcopy(cell.metadata))
    out = coursework.student_notebook(new_notebook(cells=[cell, whole])).cells
    assert out[0].source == "Because\nYOUR ANSWER HERE\n"
    assert out[1].source == "YOUR ANSWER HERE"


def test_hidden_tests_are_removed_from_grade_cells():
    check = (
        'checks.check_value("9.1", answer, 2.0)\n'
        "### BEGIN HIDDEN TESTS\n"
        'checks.check_value("9.1", answer * 1.0, 2.0)\n'
        "### END HIDDEN TESTS"
    )
    nb = new_notebook(cells=[_solution_cell("answer = 2.0"), _grade_cell(check)])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="PASSED")]
    out = coursework.student_notebook(nb).cells[1]
    assert out.source == 'checks.check_value("9.1", answer, 2.0)'
    assert out.outputs == [] and out.metadata == nb.cells[1].metadata


@pytest.mark.parametrize(
    "cell, message",
    [
        (_solution_cell("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1"), "nested"),
        (_solution_cell("### BEGIN SOLUTION\nx = 1"), "never closed"),
        (_solution_cell("x = 1\n### END SOLUTION"), "without"),
        (new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "solution metadata"),
        (new_code_cell("### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS"), "grade cell"),
    ],
    ids=["nested", "unclosed", "stray end", "no metadata", "hidden tests not in grade cell"],
)
def test_badly_marked_cells_are_errors_that_name_the_cell(cell, message):
    nb = new_notebook(cells=[new_markdown_cell("# 9. Title"), cell])
    with pytest.raises(ValueError, match=message) as info:
        coursework.student_notebook(nb, name="notebooks/09_demo.ipynb")
    assert "notebooks/09_demo.ipynb, cell 1" in str(info.value)


def test_outputs_that_would_show_the_answer_are_cleared_and_the_lesson_keeps_its_own():
    def with_output(cell, text):
        cell.execution_count = 7
        cell.outputs = [
            nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=7)
        ]
        return cell

    nb = new_notebook(
        cells=[
            with_output(new_code_cell("x0 = 3.0\nx0"), "3.0"),
            with_output(
                _solution_cell("answer = ...\n### BEGIN SOLUTION\nanswer = 0.5\n### END SOLUTION"),
                "0.5",
            ),
            with_output(new_code_cell('checks.check_value("9.1", answer, 0.5)'), "PASSED"),
            with_output(new_code_cell("answer * 2"), "1.0"),
            with_output(new_code_cell("x0 + 1"), "4.0"),
        ]
    )
    original = copy.deepcopy(nb)
    out = coursework.student_notebook(nb)
    assert nb == original, "the instructor notebook must not change"
    assert [len(c.outputs) for c in out.cells] == [1, 0, 0, 0, 1]
    assert all(c.execution_count is None for c in out.cells)
    assert out.cells[0].outputs[0].execution_count is None
    assert [c.id for c in out.cells] == [c.id for c in nb.cells]
    assert [c.metadata for c in out.cells] == [c.metadata for c in nb.cells]
    nbformat.validate(out)


def test_exercises_take_their_id_from_the_check_or_else_from_the_grade_id():
    nb = new_notebook(
        cells=[
            _solution_cell("def f(k):\n    ### BEGIN SOLUTION\n    return k\n    ### END SOLUTION"),
            new_code_cell('checks.check_schedule("7.4", f, ref, steps=range(3))'),
            _solution_cell("a = 1", grade_id="ch07-ex5"),
            _solution_cell("b = 2", grade_id="ch07-ex6"),
            new_code_cell(
                "from learnlr.course.checks import check_value\n"
                'check_value(exercise="7.6", answer=b, expected=2)\nchecks.check_value("7.5", a, 1)'
            ),
            _solution_cell("c = 3", grade_id="ch07-ex7"),
        ]
    )
    found = coursework.exercises(nb)
    assert [(ex.id, ex.grade_id) for ex in found] == [
        ("7.4", "ch09-ex1"),
        ("7.6", "ch07-ex5"),  # the first check of a cell gets the solutions since the last
        ("7.5", None),  # the second check of that cell has no solution cells of its own
        ("7.7", "ch07-ex7"),  # no check: the id comes from the grade_id
    ]
    assert found[0].solution_cells == (nb.cells[0].id,)
    assert found[1].solution_cells == (nb.cells[2].id, nb.cells[3].id)
    assert found[0].check_cell == nb.cells[1].id and found[3].check_cell is None
    # the stubs name the exercise their check records
    assert "Exercise 7.4" in coursework.student_notebook(nb).cells[0].source


def test_a_notebook_without_exercises_is_copied_with_its_outputs(tmp_path):
    cell = new_code_cell("print(1)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb = new_notebook(cells=[new_markdown_cell("# 9. Title"), cell])
    assert coursework.exercises(nb) == []
    out = coursework.student_notebook(nb)
    assert out.cells[1].outputs == cell.outputs and out.cells[1].execution_count is None


def test_the_command_line_writes_student_copies_and_lists_exercises(tmp_path, capsys):
    src, out = tmp_path / "notebooks", tmp_path / "student"
    src.mkdir()
    nb = new_notebook(
        cells=[
            _solution_cell("answer = 2"),
            new_code_cell('checks.check_value("9.1", answer, 2)'),
        ]
    )
    nbformat.write(nb, src / "09_demo.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# 10. Empty")]), src / "10_empty.ipynb")
    assert coursework.main(["student", "--src", str(src), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["09_demo.ipynb", "10_empty.ipynb"]
    assert nbformat.read(out / "09_demo.ipynb", 4).cells[0].source.startswith("answer = None")
    assert coursework.main(["list", "--src", str(src)]) == 0
    printed = capsys.readouterr().out
    assert "09_demo.ipynb: 9.1" in printed and "10_empty.ipynb: (no exercises)" in printed
    assert printed.rstrip().endswith("1 exercises")
    # a badly marked notebook: the others are still written, the error names the cell
    nbformat.write(new_notebook(cells=[new_code_cell("### END SOLUTION")]), src / "11_bad.ipynb")
    assert coursework.main(["student", "--src", str(src), "--out", str(out)]) == 1
    assert "11_bad.ipynb, cell 0" in capsys.readouterr().err


def test_the_module_imports_no_notebook_or_display_library():
    code = (
        "import sys, learnlr.course.coursework\n"
        "bad = [m for m in ('nbformat', 'nbclient', 'matplotlib', 'ipywidgets') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------
# Every chapter
# --------------------------------------------------------------------------------------


def _secret_and_public_lines(nb):
    """Stripped lines only in solutions or hidden tests, and all the other lines."""
    secret, public = set(), set()
    for cell in nb.cells:
        lines = cell.source.split("\n")
        regions = coursework.solution_regions(cell.source) + coursework.solution_regions(
            cell.source, coursework.BEGIN_HIDDEN, coursework.END_HIDDEN
        )
        inside = {i for begin, end in regions for i in range(begin, end + 1)}
        if coursework._is_solution(cell) and not coursework.solution_regions(cell.source):
            inside = set(range(len(lines)))
        for i, line in enumerate(lines):
            if line.strip() and not any(m in line for m in MARKERS):
                (secret if i in inside else public).add(line.strip())
    return secret - public, public


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_no_solution_reaches_the_student_copy(path):
    nb = nbformat.read(path, as_version=4)
    student = coursework.student_notebook(nb, name=_name(path))
    nbformat.validate(student)
    secret, _ = _secret_and_public_lines(nb)
    found = coursework.exercises(nb)
    if found:
        assert secret, f"{_name(path)} has exercises but no solution lines"
    student_lines = {line.strip() for c in student.cells for line in c.source.split("\n")}
    leaked = sorted(secret & student_lines)
    assert not leaked, f"{_name(path)}: solution lines in the student copy: {leaked}"
    markers = [c.id for c in student.cells if any(m in c.source for m in MARKERS)]
    assert not markers, f"{_name(path)}: solution or hidden-test markers in cells {markers}"
    outputs = json.dumps([c.get("outputs", []) for c in student.cells])
    shown = sorted(s for s in secret if len(s) >= 12 and s in outputs)
    assert not shown, f"{_name(path)}: solution lines shown in outputs: {shown}"
    exercise_cells = {cid for ex in found for cid in (*ex.solution_cells, ex.check_cell)}
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is None
            if cell.id in exercise_cells:
                assert cell.outputs == [], f"{_name(path)}: cell {cell.id} keeps its outputs"
            assert ast.parse(coursework._mask_magics(cell.source)) is not None


# The student copy of each chapter is run to the end inside the chapter's nbval run
# (conftest.py at the repository's root), in the same kernel: the chapter runs once.


# --------------------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------------------


def _load_make_submissions():
    spec = importlib.util.spec_from_file_location(
        "make_submissions", SUBMISSIONS / "make_submissions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grades")
    return coursework.grade(SUBMISSIONS, src=NOTEBOOK_DIR, out=out, timeout=10), out


def test_the_synthetic_submissions_are_up_to_date():
    made = _load_make_submissions().submissions()
    stored = sorted(p.relative_to(SUBMISSIONS).as_posix() for p in SUBMISSIONS.rglob("*.ipynb"))
    assert stored == sorted(made)
    for name, nb in made.items():
        on_disk = nbformat.read(SUBMISSIONS / name, as_version=4)
        assert [c.source for c in on_disk.cells] == [c.source for c in nb.cells], (
            f"tests/submissions/{name} no longer matches chapter 1: "
            "run .venv/bin/python tests/submissions/make_submissions.py"
        )


def test_grading_the_synthetic_submissions(graded):
    result, out = graded
    table = {(g.student, g.exercise): (g.passed, g.message) for g in result.grades}
    assert sorted(table) == [
        (s, e) for s in ("broken", "partial", "perfect") for e in "1.1 1.2 1.3".split()
    ]
    assert all(table["perfect", e][0] for e in ("1.1", "1.2", "1.3"))
    partial_11 = table["partial", "1.1"]
    assert partial_11[0] is False and partial_11[1].startswith("your x_new is [")
    assert partial_11[1].endswith("-- sign error: step against the gradient, x - lr * g")
    assert table["partial", "1.2"][0] is True
    assert table["partial", "1.3"][1].startswith("not done yet")
    assert table["broken", "1.1"] == (
        False,
        "your notebook does not define gd_step; its solution cell raised SyntaxError: "
        "unmatched ')' (<cell 3>, line 2)",
    )
    assert table["broken", "1.2"] == (
        False,
        "your notebook does not define chosen_lr; its solution cell ran longer than 10 s "
        "and was stopped",
    )
    # the hidden tests come from the instructor's notebook: deleting the check does not matter
    assert table["broken", "1.3"] == (True, "all 6 cases agree with the reference")
    assert result.summary == [("1.1", 1, 3), ("1.2", 2, 3), ("1.3", 2, 3)]
    runs = {student: text for student, _, _, text in result.runs}
    assert runs["perfect"].startswith("isolation: ")
    assert "SyntaxError" in runs["broken"] and "ran longer than 10 s" in runs["broken"]

    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "exercise", "result", "message"]
    assert rows[1:] == [
        [g.student, g.exercise, "pass" if g.passed else "fail", g.message] for g in result.grades
    ]
    with open(out / "summary.csv", newline="") as f:
        assert list(csv.reader(f)) == [
            ["exercise", "n_pass", "n_total"],
            ["1.1", "1", "3"],
            ["1.2", "2", "3"],
            ["1.3", "2", "3"],
        ]


def test_the_grade_command_prints_the_tables(tmp_path, capsys):
    # the command line on one readable and one unreadable submission (no kernel for that one)
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    (subs / "ann" / "01_gradient_update.ipynb").write_text("not a notebook")
    status = coursework.main(
        ["grade", str(subs), "--out", str(tmp_path / "g"), "--src", str(NOTEBOOK_DIR)]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "not graded: could not read the notebook" in printed
    assert "could not read the notebook" in printed
    assert (tmp_path / "g" / "grades.csv").exists()
    assert coursework.main(["grade", str(tmp_path / "missing")]) == 2


def _demo_source(folder):
    """An instructor notebook with a hidden test in a locked grade cell."""
    nb = new_notebook(
        cells=[
            new_markdown_cell("# 99. Demo"),
            new_code_cell("from learnlr.course import checks"),
            _solution_cell("answer = ...\n### BEGIN SOLUTION\nanswer = 2.0\n### END SOLUTION"),
            _grade_cell(
                'checks.check_value("99.1", answer, 2.0)\n'
                "### BEGIN HIDDEN TESTS\n"
                'checks.check_value("99.1 hidden", answer + 0.0, 2.0)\n'
                "### END HIDDEN TESTS"
            ),
        ]
    )
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "99_demo.ipynb")
    return nb


def test_grading_puts_back_edited_checks_and_hidden_tests_and_reports_what_is_missing(tmp_path):
    source = _demo_source(tmp_path / "src")
    alice = coursework.student_notebook(source)
    alice.cells[2].source = "answer = 3.0"
    alice.cells[3].source = 'checks.check_value("99.1", 2.0, 2.0)  # always passes'
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    nbformat.write(alice, tmp_path / "subs" / "alice" / "99_demo.ipynb")
    (tmp_path / "subs" / "carol").mkdir()
    nbformat.write(new_notebook(cells=[]), tmp_path / "subs" / "carol" / "notes.ipynb")
    result = coursework.grade(tmp_path / "subs", src=tmp_path / "src", timeout=30)
    table = {(g.student, g.exercise): (g.passed, g.message) for g in result.grades}
    assert table == {
        ("alice", "99.1"): (False, "your answer 3 is not right"),
        ("alice", "99.1 hidden"): (False, "your answer 3 is not right"),
        ("carol", "99.1"): (False, "not submitted"),
        ("carol", "99.1 hidden"): (False, "not submitted"),
    }
    runs = {student: text for student, _, _, text in result.runs}
    assert (
        runs["alice"].startswith("cell ")
        and "was edited; graded with the original" in runs["alice"]
    )


def test_a_kernel_that_dies_or_ignores_interrupts_is_graded_as_far_as_it_ran():
    first = new_code_cell('from learnlr.course import checks\nchecks.check_value("9.1", 2.0, 2.0)')
    last = new_code_cell('checks.check_value("9.2", 1.0, 1.0)')
    dies = new_code_cell("import os\nos._exit(1)")
    hangs = new_code_cell(
        "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n        pass"
    )
    for cell, stopped in [(dies, "the kernel died in cell 1"), (hangs, "did not respond")]:
        run = coursework.run_notebook(new_notebook(cells=[first, cell, last]), timeout=3)
        assert stopped in run.stopped
        assert [str(res) for _, res in run.results] == ["[9.1] PASSED: 2 is right"]
        assert [c.status for c in run.cells] == [
            "ok",
            "error" if cell is dies else "timeout",
            "not run",
        ]
        assert coursework._not_reached("9.2", run).startswith("not reached: ")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_student_copies_cut_the_same_cells_as_nbgrader(path):
    """nbgrader's own ClearSolutions + ClearHiddenTests give the same cells as ours."""
    nb = nbformat.read(path, as_version=4)
    theirs, res = ClearSolutions().preprocess(copy.deepcopy(nb), {})
    theirs, _ = ClearHiddenTests().preprocess(theirs, res)
    ours = coursework.student_notebook(nb, stubs="nbgrader")

    def key(c):
        return (c.cell_type, c.id, c.source, c.metadata.get("nbgrader"))

    assert [key(c) for c in ours.cells] == [key(c) for c in theirs.cells]
