"""Coursework: student copies of the chapter notebooks, and grading of submitted ones.

Instructors assign the chapter notebooks the way nbgrader users expect, without a server or
a database::

    python -m learnlr.course.coursework list                    # exercise ids per notebook
    python -m learnlr.course.coursework student [--src notebooks] [--out student]
    python -m learnlr.course.coursework grade SUBMISSIONS [--out grades] [--timeout 60]
                                         [--src notebooks] [--jobs 1] [--scheduler URL]

(``make student`` and ``make grade SUBMISSIONS=dir`` call the last two.)

How an exercise is marked (nbgrader's conventions)
--------------------------------------------------
* The solution sits between a ``### BEGIN SOLUTION`` and a ``### END SOLUTION`` line, in a
  cell with the metadata ``{"nbgrader": {"solution": true, "grade": false, "grade_id":
  "chNN-exM", "locked": false, "schema_version": 3}}``. A solution cell without markers is a
  solution as a whole. A marker in a cell without that metadata is an error (nbgrader refuses
  it too), and so are nested, unclosed or stray markers.
* A later cell checks it with :mod:`learnlr.course.checks`: ``checks.check_function("N.M", ...)``,
  ``checks.check_value("N.M", ...)``, ... The string is the exercise id; the solution cells
  since the previous check belong to it. Without a check, the id comes from the grade_id
  (``ch02-ex3`` is ``2.3``).
* Tests that students must not see go between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS`` in a cell marked as an nbgrader grade cell
  (``{"nbgrader": {"grade": true, "grade_id": ..., "locked": true, "points": 1,
  "solution": false, "schema_version": 3}}``).

How a student copy is made
--------------------------
* A solution region *inside a function body* becomes, at the region's indentation::

      # YOUR CODE HERE
      raise NotImplementedError("Exercise N.M: write your code here")

  and the check reports the exercise as "not done yet".
* A solution region *at top level* (also inside a top-level ``if``/``for``/``with``) must not
  raise, or the notebook would stop there. Each name it assigns becomes ``name = None``
  (``check_value`` reports ``None`` as "not done yet"), followed by ``# YOUR CODE HERE``. A
  name the cell has already set to ``None`` or ``...`` before the region is not repeated. A
  function defined in the region keeps its signature and gets the raising body above.
  Imports in the region are dropped. Names are found with :mod:`ast`.
* So code *after* a top-level region, and every later cell, must run when those names are
  ``None``: print an answer as ``{answer}``, not ``{answer:.4f}``, and do not compute with it
  outside the check. A student copy that stops with an error fails the test suite.
* Hidden-test regions are removed. Outputs are cleared in solution cells, check cells and
  every cell that uses a name the solution defines (they would show the answer or PASSED);
  the lesson's other outputs stay. All execution counts are reset. Cell ids and metadata are
  kept, so nbgrader can still grade the copies.

How a submission is graded
--------------------------
Each submitted notebook (``SUBMISSIONS/<student>.ipynb``, or
``SUBMISSIONS/<student>/<chapter>.ipynb``) runs in a sandbox process of its own
(:mod:`learnlr.course.grader`): bounded CPU time, memory, file sizes and wall time per cell and per
submission; where the platform allows, no network, the instructor's files and the other
submissions hidden, and the rights of ``nobody``. Check cells edited by the student (and
nbgrader grade or locked cells) are put back to the instructor's version before the run, as
nbgrader does, without their hidden tests. A cell that runs too long or ends the process is
skipped and the cells run again without it.

The marks come from the instructor's tests, run in the grader's own process: each
``### BEGIN HIDDEN TESTS`` region, and the visible check of an exercise that has none. The
student's names they use are proxies into the sandbox, which receives inputs and returns
only numbers; the student's kernel never sees a hidden test, and nothing it records counts.

The grader writes ``grades.csv`` (student, exercise, result, message), ``summary.csv``
(exercise, n_pass, n_total), ``runs.csv`` (how each notebook ran), ``canvas.csv`` and
``moodle.csv`` (gradebook imports), ``feedback/<student>.md``, ``summary.md`` and
``grades.png`` (:func:`write_results`), and prints the tables. ``--jobs N`` grades N
submissions at once; ``--scheduler tcp://host:8786`` grades them on a Dask cluster.

This module imports nbformat and nbclient only inside the functions that need them.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import json
import math
import re
import sys
import textwrap
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from learnlr.course import checks

__all__ = [
    "Exercise",
    "CellRun",
    "NotebookRun",
    "Grade",
    "Grading",
    "exercises",
    "solution_regions",
    "student_notebook",
    "make_student",
    "list_exercises",
    "run_notebook",
    "results_probe",
    "read_results",
    "grade",
    "write_results",
    "feedback",
    "gradebook",
    "main",
]

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_HERE = "# YOUR CODE HERE"
ANSWER_HERE = "YOUR ANSWER HERE"
NBGRADER_CODE_STUB = [CODE_HERE, "raise NotImplementedError()"]
CHECK_FUNCTIONS = frozenset(name for name in checks.__all__ if name.startswith("check_"))
DEFAULT_TIMEOUT = 60
RESULTS_TAG = "LEARNLR-RESULTS"
_COLLECT = (
    "print({tag!r}, __import__('json').dumps([[str(r[0]), bool(r[1]), str(r[2])] for r in "
    "__import__('learnlr.course.checks', fromlist=['RESULTS']).RESULTS[{start}:]]))"
)


def results_probe(start: int) -> str:
    """Code that prints, in a kernel, the check results recorded from number ``start`` on.

    Run after every cell (without a history entry); :func:`read_results` reads its output.
    """
    return _COLLECT.format(tag=RESULTS_TAG, start=start)


def read_results(text: str) -> list[checks.CheckResult]:
    """The check results in the printed output of :func:`results_probe`."""
    return [
        checks.CheckResult(ex, passed, message)
        for line in text.splitlines()
        if line.startswith(RESULTS_TAG + " ")
        for ex, passed, message in json.loads(line[len(RESULTS_TAG) + 1 :])
    ]


class Exercise(NamedTuple):
    """One exercise of a notebook: its id, nbgrader grade_id and the cells that make it."""

    id: str  # "1.2", the id its check records
    grade_id: str | None  # nbgrader grade_id of its (first) solution cell
    solution_cells: tuple[str, ...]  # ids of its solution cells
    check_cell: str | None  # id of the cell that checks it


# --------------------------------------------------------------------------------------
# Reading cells
# --------------------------------------------------------------------------------------


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_solution(cell) -> bool:
    return bool(_nbgrader(cell).get("solution"))


def _is_grade(cell) -> bool:
    return bool(_nbgrader(cell).get("grade"))


def _is_locked(cell) -> bool:
    return bool(_nbgrader(cell).get("locked")) and not _is_solution(cell)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _mask_magics(source: str) -> str:
    """The source with IPython-only lines (%magic, !shell, help?) made ``pass``."""
    out = []
    for line in source.split("\n"):
        s = line.strip()
        if s.startswith(("%", "!")) or (s.endswith("?") and not s.startswith("#")):
            out.append(_indent(line) + "pass")
        else:
            out.append(line)
    return "\n".join(out)


def _parse(source: str) -> ast.Module | None:
    """Parse a code cell (IPython magics masked); None if it is not valid Python."""
    from learnlr.course.grader import parse_python  # one lock for every parse (see there)

    for text in (source, _mask_magics(source)):
        try:
            return parse_python(text)
        except (SyntaxError, ValueError):
            continue
    return None


def solution_regions(source: str, begin=BEGIN_SOLUTION, end=END_SOLUTION, where="a cell"):
    """Line ranges ``(begin_line, end_line)`` (0-based, marker lines) of marked regions.

    A marker is any line containing the delimiter text, as in nbgrader. Raises ``ValueError``
    for a nested, unclosed or stray marker.
    """
    regions, start = [], None
    for i, line in enumerate(source.split("\n")):
        if begin in line:
            if start is not None:
                raise ValueError(f"{where}: nested '{begin}' on line {i + 1}")
            start = i
        elif end in line:
            if start is None:
                raise ValueError(f"{where}: '{end}' on line {i + 1} without '{begin}'")
            regions.append((start, i))
            start = None
    if start is not None:
        raise ValueError(f"{where}: '{begin}' on line {start + 1} is never closed by '{end}'")
    return regions


def _check_ids(source: str) -> list[str]:
    """Exercise ids of the ``checks.check_*("N.M", ...)`` calls in a code cell, in order."""
    if "check_" not in source:  # most cells: nothing to parse
        return []
    tree = _parse(source)
    if tree is None:
        pattern = r"\b(?:checks\.)?(check_\w+)\(\s*(?:exercise\s*=\s*)?(['\"])(.*?)\2"
        return [m.group(3) for m in re.finditer(pattern, source) if m.group(1) in CHECK_FUNCTIONS]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            ok = func.value.id == "checks" and func.attr.startswith("check_")
        else:
            ok = isinstance(func, ast.Name) and func.id in CHECK_FUNCTIONS
        if not ok:
            continue
        arg = node.args[0] if node.args else None
        for kw in node.keywords:
            if kw.arg == "exercise":
                arg = kw.value
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append((node.lineno, node.col_offset, arg.value))
    return [ex for _, _, ex in sorted(found)]


def _id_from_grade_id(grade_id: str | None, fallback: str) -> str:
    match = re.fullmatch(r"ch(\d+)-ex(\d+)", grade_id or "")
    if match:
        return f"{int(match.group(1))}.{int(match.group(2))}"
    return grade_id or fallback


def exercises(nb) -> list[Exercise]:
    """The exercises of a notebook, in order (see the module docstring for the rules)."""
    found: dict[str, Exercise] = {}
    pending: list = []
    for cell in nb.cells:
        if _is_solution(cell):
            pending.append(cell)
        ids = _check_ids(cell.source) if cell.cell_type == "code" else []
        for n, ex_id in enumerate(dict.fromkeys(ids)):
            if ex_id in found:
                continue
            own = pending if n == 0 else []
            grade_id = _nbgrader(own[0]).get("grade_id") if own else None
            cells = tuple(c.get("id", "") for c in own)
            found[ex_id] = Exercise(ex_id, grade_id, cells, cell.get("id"))
        if ids:
            pending = []
    for cell in pending:  # solutions that no check follows
        grade_id = _nbgrader(cell).get("grade_id")
        ex_id = _id_from_grade_id(grade_id, cell.get("id", "?"))
        if ex_id not in found:
            found[ex_id] = Exercise(ex_id, grade_id, (cell.get("id", ""),), None)
    return list(found.values())


# --------------------------------------------------------------------------------------
# Student copies
# --------------------------------------------------------------------------------------


def _bound_names(tree: ast.AST) -> list:
    """Names a block binds at its own level: assignments, loop targets, defs, classes."""
    names: list = []

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp)):
            return
        if isinstance(node, (ast.GeneratorExp, ast.Import, ast.ImportFrom)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    seen, unique = set(), []
    for item in names:
        key = item if isinstance(item, str) else item.name
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _placeholders_before(tree: ast.Module | None, line: int) -> set:
    """Names set to None or ... by top-level statements that end before ``line`` (1-based)."""
    names = set()
    for node in tree.body if tree else []:
        if node.end_lineno >= line or not isinstance(node, ast.Assign):
            continue
        if isinstance(node.value, ast.Constant) and node.value.value in (None, Ellipsis):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _enclosing_function(tree: ast.Module | None, line: int, indent: int):
    """The outermost def whose body holds 1-based ``line`` (at a deeper indent), or None."""
    for node in ast.walk(tree) if tree else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.lineno < line <= node.end_lineno and indent > node.col_offset:
                return node
    return None


def _raise_stub(exercise: str) -> list[str]:
    return [CODE_HERE, f'raise NotImplementedError("Exercise {exercise}: write your code here")']


def _def_stub(node, exercise: str) -> list[str]:
    keyword = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    head = f"{keyword} {node.name}({ast.unparse(node.args)}){returns}:"
    return [head] + ["    " + line for line in _raise_stub(exercise)]


def _top_level_stub(body: str, skip: set, exercise: str) -> list[str]:
    tree = _parse(textwrap.dedent(body))
    bound = _bound_names(tree) if tree else []
    lines = [f"{name} = None" for name in bound if isinstance(name, str) and name not in skip]
    defs = [node for node in bound if not isinstance(node, str)]
    for node in defs:
        if isinstance(node, ast.ClassDef):
            lines.append(f"{node.name} = None")
    funcs = [node for node in defs if not isinstance(node, ast.ClassDef)]
    if not funcs:
        return lines + [CODE_HERE]
    for node in funcs:
        lines += _def_stub(node, exercise)
    return lines


def _student_code(source: str, exercise: str, stubs: str, where: str) -> str:
    lines = source.split("\n")
    regions = solution_regions(source, where=where)
    whole = not regions
    if whole:  # a solution cell without markers is a solution as a whole
        regions = [(-1, len(lines))]
    tree = _parse(source)

    def build(add_pass: bool) -> str:
        out, pos = [], 0
        for begin, end in regions:
            out += lines[pos : max(begin, 0)]
            indent = "" if whole else _indent(lines[begin])
            body = "\n".join(lines[begin + 1 : end])
            if stubs == "nbgrader":
                stub = list(NBGRADER_CODE_STUB)
            elif _enclosing_function(tree, begin + 2, len(indent)) is not None:
                stub = _raise_stub(exercise)
            else:
                skip = _placeholders_before(tree, begin + 1)
                stub = _top_level_stub(body, skip, exercise)
                if add_pass and stub == [CODE_HERE]:
                    stub.append("pass")
            out += [indent + line if line else line for line in stub]
            pos = end + 1
        out += lines[pos:]
        return "\n".join(out)

    new = build(add_pass=False)
    if stubs != "nbgrader" and tree is not None and _parse(new) is None:
        new = build(add_pass=True)  # a region that was the only statement of a block
    return new


def _remove_hidden_tests(source: str, where: str) -> tuple[str, bool]:
    regions = solution_regions(source, BEGIN_HIDDEN, END_HIDDEN, where=where)
    if not regions:
        return source, False
    lines = source.split("\n")
    drop = {i for begin, end in regions for i in range(begin, end + 1)}
    return "\n".join(line for i, line in enumerate(lines) if i not in drop), True


def _loaded_names(source: str) -> set:
    tree = _parse(source)
    if tree is None:
        return set(re.findall(r"[A-Za-z_]\w*", source))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _solution_names(source: str) -> set:
    """Names whose value shows the solution: what its regions bind, or the function they fill."""
    tree = _parse(source)
    lines = source.split("\n")
    try:
        regions = solution_regions(source) or [(-1, len(lines))]
    except ValueError:
        return set()
    names = set()
    for begin, end in regions:
        indent = len(_indent(lines[begin])) if begin >= 0 else 0
        func = _enclosing_function(tree, begin + 2, indent)
        if func is not None:
            names.add(func.name)
            continue
        body = _parse(textwrap.dedent("\n".join(lines[begin + 1 : end])))
        for item in _bound_names(body) if body else []:
            names.add(item if isinstance(item, str) else item.name)
    return names


def _clear_outputs(cell) -> None:
    cell.outputs = []
    cell.execution_count = None


def student_notebook(nb, *, stubs: str = "learnlr", name: str = "notebook"):
    """A student copy of an instructor notebook (a new notebook; ``nb`` is not changed).

    ``stubs="learnlr"`` writes the stubs described in the module docstring;
    ``stubs="nbgrader"`` writes nbgrader's own (``# YOUR CODE HERE`` /
    ``raise NotImplementedError()`` for every region), for a comparison with nbgrader.
    ``name`` is used in error messages. Raises ``ValueError`` for a badly marked cell.
    """
    if stubs not in ("learnlr", "nbgrader"):
        raise ValueError(f"student_notebook: stubs must be 'learnlr' or 'nbgrader', got {stubs!r}")
    nb = copy.deepcopy(nb)
    exercise_of = {}
    for ex in exercises(nb):
        for cell_id in ex.solution_cells:
            exercise_of[cell_id] = ex.id
    hidden_names: set = set()
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index} (id {cell.get('id')!r})"
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = None
        if _is_solution(cell):
            if cell.cell_type == "code":
                hidden_names |= _solution_names(cell.source)
                exercise = exercise_of.get(cell.get("id"), "")
                cell.source = _student_code(cell.source, exercise, stubs, where)
                _clear_outputs(cell)
            else:
                regions = solution_regions(cell.source, where=where)
                lines, out, pos = cell.source.split("\n"), [], 0
                for begin, end in regions:
                    out += lines[pos:begin] + [ANSWER_HERE]
                    pos = end + 1
                cell.source = "\n".join(out + lines[pos:]) if regions else ANSWER_HERE
            continue
        if solution_regions(cell.source, where=where):
            raise ValueError(
                f"{where}: a '### {BEGIN_SOLUTION}' region in a cell without nbgrader solution "
                'metadata; add {"nbgrader": {"solution": true, "grade": false, "grade_id": '
                '"chNN-exM", "locked": false, "schema_version": 3}} to the cell'
            )
        if cell.cell_type != "code":
            continue
        cell.source, had_hidden = _remove_hidden_tests(cell.source, where)
        if had_hidden and not _is_grade(cell):
            raise ValueError(
                f"{where}: a '### {BEGIN_HIDDEN}' region in a cell that is not an nbgrader "
                'grade cell; add {"nbgrader": {"grade": true, "grade_id": "chNN-exM-tests", '
                '"locked": true, "points": 1, "solution": false, "schema_version": 3}}'
            )
        if had_hidden or _check_ids(cell.source) or _loaded_names(cell.source) & hidden_names:
            _clear_outputs(cell)
    return nb


def _notebooks(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.relative_to(folder).parts
    )


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def make_student(src="notebooks", out="student") -> list[Path]:
    """Write a student copy of every notebook in ``src`` to ``out``; return their paths.

    Raises ``ValueError`` naming every badly marked notebook, after writing the others.
    """
    import nbformat

    src, out = Path(src), Path(out)
    written, problems = [], []
    for path in _notebooks(src):
        target = out / path.relative_to(src)
        try:
            nb = student_notebook(_read(path), name=str(path))
        except ValueError as err:
            problems.append(str(err))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
    if problems:
        raise ValueError("\n".join(problems))
    return written


def list_exercises(src="notebooks") -> dict[str, list[Exercise]]:
    """``{notebook path: its exercises}`` for every notebook in ``src``."""
    src = Path(src)
    return {str(path): exercises(_read(path)) for path in _notebooks(src)}


# --------------------------------------------------------------------------------------
# Running a notebook
# --------------------------------------------------------------------------------------


class CellRun(NamedTuple):
    """How one code cell ran: ``status`` is "ok", "error", "timeout" or "not run"."""

    index: int
    cell_id: str | None
    status: str
    detail: str  # "NameError: name 'x' is not defined", ...


class NotebookRun(NamedTuple):
    """One execution of a notebook in a fresh kernel."""

    nb: Any  # the executed notebook, with its outputs
    cells: list[CellRun]  # one per non-empty code cell
    results: list[tuple[int, checks.CheckResult]]  # (cell index, result), in order
    stopped: str  # "" if every cell ran; else why the run stopped early
    seconds: float

    def errors(self) -> list[CellRun]:
        return [c for c in self.cells if c.status != "ok"]

    def last_results(self) -> dict[str, checks.CheckResult]:
        return {res.exercise: res for _, res in self.results}


def _error_text(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            value = str(output.get("evalue", "")).strip().splitlines()
            value = value[0] if value else ""
            text = f"{output.get('ename', 'Error')}: {value}" if value else output.get("ename", "")
            return text if len(text) <= 120 else text[:117] + "..."
    return ""


def run_notebook(nb, *, timeout: float = DEFAULT_TIMEOUT, cwd=None) -> NotebookRun:
    """Execute ``nb`` (a copy is run) in a fresh kernel, cell by cell, and collect its checks.

    Each cell may run ``timeout`` seconds; then the kernel is interrupted and the next cell
    runs. If the kernel does not answer after the interrupt, or dies, the run stops there.
    Nothing raised by the notebook's code stops the run.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = copy.deepcopy(nb)
    limit = max(1, math.ceil(timeout))  # nbclient counts whole seconds
    timed_out = f"ran longer than {limit} s and was interrupted"
    replies: list = []
    # On a timeout nbclient interrupts the kernel and, with error_on_timeout, goes on with
    # that reply; it then stops listening for the cell's outputs after iopub_timeout. (A raised
    # CellTimeoutError would leave its output reader running, and it would swallow the outputs
    # of the cells after it.)
    client = NotebookClient(
        nb,
        timeout=limit,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "TimeoutError",
            "evalue": f"the cell {timed_out}",
            "traceback": [],
        },
        allow_errors=True,
        kernel_name="python3",
        record_timing=False,
        shutdown_kernel="immediate",
        iopub_timeout=min(4, limit),
        resources={"metadata": {"path": str(cwd or Path.cwd())}},
        on_cell_executed=lambda cell, cell_index, execute_reply: replies.append(execute_reply),
    )
    cells: list[CellRun] = []
    results: list[tuple[int, checks.CheckResult]] = []
    stopped = ""
    t0 = time.perf_counter()

    def was_interrupted() -> bool:
        reply = replies[-1] if replies else None
        return bool(reply) and reply.get("content", {}).get("evalue") == f"the cell {timed_out}"

    def collect(index: int) -> bool:
        """Read new check results; False if the kernel did not answer in time."""
        probe = nbformat.v4.new_code_cell(results_probe(len(results)))
        cell = nb.cells[index]
        try:
            client.execute_cell(probe, index, store_history=False)
        finally:
            nb.cells[index] = cell  # nbclient puts the executed probe into the notebook
        if was_interrupted():
            return False
        # a long line may arrive split over several stream messages: join them first
        text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
        results.extend((index, res) for res in read_results(text))
        return True

    code_cells = [
        (i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
    ]
    current = None
    try:
        with client.setup_kernel():
            for index, cell in code_cells:
                current = index
                client.execute_cell(cell, index)
                if was_interrupted():
                    cell.outputs.append(
                        nbformat.v4.new_output(
                            "error",
                            ename="TimeoutError",
                            evalue=f"the cell {timed_out}",
                            traceback=[],
                        )
                    )
                    cells.append(CellRun(index, cell.get("id"), "timeout", timed_out))
                else:
                    error = _error_text(cell)
                    cells.append(CellRun(index, cell.get("id"), "error" if error else "ok", error))
                if not collect(index):
                    stopped = (
                        f"the kernel did not respond after cell {index} was interrupted; "
                        "the cells after it were not run"
                    )
                    break
                current = None
    except DeadKernelError:
        stopped = "the kernel died" + (f" in cell {current}" if current is not None else "")
    except Exception as err:  # the grader must survive anything the kernel does
        stopped = f"the run stopped at cell {current}: {type(err).__name__}: {err}"
    done = {c.index for c in cells}
    for index, cell in code_cells:
        if index not in done:
            status = "error" if index == current and "died" in stopped else "not run"
            cells.append(CellRun(index, cell.get("id"), status, stopped))
    return NotebookRun(nb, cells, results, stopped, time.perf_counter() - t0)


# --------------------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------------------


class Grade(NamedTuple):
    student: str
    exercise: str
    passed: bool
    message: str


class Grading(NamedTuple):
    grades: list[Grade]  # one per student and exercise
    summary: list[tuple[str, int, int]]  # (exercise, n_pass, n_total)
    runs: list[tuple[str, str, float, str]]  # (student, notebook, seconds, how it ran)


class _Source(NamedTuple):
    path: Path
    nb: Any
    exercises: list[Exercise]
    cell_ids: set
    imports: str = ""  # its import statements (_imports)
    regions: Any = ()  # its tests (_test_regions), or the ValueError they raised


_SOURCES: dict[tuple, list[_Source]] = {}


def _sources(src) -> list[_Source]:
    """The instructor notebooks in ``src``, read and analysed once per version of the files
    (every submission, and every Dask task on a worker, uses them)."""
    folder = Path(src)
    paths = _notebooks(folder) if folder.is_dir() else []
    key = (str(folder.resolve()), *((str(p), *_stamp(p)) for p in paths))
    if key in _SOURCES:
        return _SOURCES[key]
    found = []
    for path in paths:
        try:
            nb = _read(path)
            source = _Source(path, nb, exercises(nb), {c.get("id") for c in nb.cells})
        except Exception:  # an instructor notebook being edited must not stop grading
            continue
        try:
            regions = _test_regions(source)
        except ValueError as err:  # badly marked hidden tests: reported for each submission
            regions = err
        found.append(source._replace(imports=_imports(nb), regions=regions))
    _SOURCES.clear()  # keep only the newest version
    _SOURCES[key] = found
    return found


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


def _match(nb, path: Path, sources: Sequence[_Source]) -> _Source | None:
    """The instructor notebook a submission was made from: most shared cell ids, or name."""
    ids = {c.get("id") for c in nb.cells} - {None} if nb is not None else set()
    best, overlap = None, 0
    for source in sources:
        shared = len(ids & source.cell_ids)
        if shared > overlap or (shared == overlap and best and source.path.name == path.name):
            best, overlap = source, shared
    if best is not None:
        return best
    return next((s for s in sources if s.path.name == path.name), None)


def _restore_cells(nb, source: _Source) -> list[str]:
    """Put back edited check cells and nbgrader grade/locked cells; return notes."""
    by_id = {c.get("id"): c for c in source.nb.cells}
    by_grade_id = {
        _nbgrader(c)["grade_id"]: c
        for c in source.nb.cells
        if (_is_grade(c) or _is_locked(c)) and _nbgrader(c).get("grade_id")
    }
    check_ids = {ex.check_cell for ex in source.exercises}
    notes = []
    for cell in nb.cells:
        original = None
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in by_grade_id and not _is_solution(cell):
            original = by_grade_id[grade_id]
        elif cell.get("id") in check_ids:
            original = by_id[cell.get("id")]
        if original is None or original.cell_type != cell.cell_type:
            continue
        if original.source != cell.source:
            student_view, _ = _remove_hidden_tests(original.source, "instructor cell")
            if student_view != cell.source:
                notes.append(f"cell {cell.get('id')} was edited; graded with the original")
            cell.source = original.source
    return notes


def _not_reached(exercise: str, run: NotebookRun | None) -> str:
    """Why an exercise has no result, e.g. "not reached: its check cell raised ..."."""
    if run is None:
        return "not reached: the notebook could not be read or run"
    status = {c.index: c for c in run.cells}
    for index, cell in enumerate(run.nb.cells):
        if cell.cell_type == "code" and exercise in _check_ids(cell.source):
            cell_run = status.get(index)
            if cell_run is None:
                break
            if cell_run.detail == run.stopped:
                return f"not reached: {run.stopped}"
            if cell_run.status == "error":
                return f"not reached: its check cell raised {cell_run.detail}"
            if cell_run.status == "timeout":
                return f"not reached: its check cell {cell_run.detail}"
            return "not reached: its check cell ran but recorded no result"
    return "not reached: its check cell is missing from the notebook"


def _solution_trouble(ex: Exercise, run: NotebookRun) -> str:
    """What went wrong in an exercise's solution cells, e.g. "its solution cell raised ..."."""
    for cell_run in run.cells:
        if cell_run.cell_id in ex.solution_cells and cell_run.status in ("error", "timeout"):
            if cell_run.detail == run.stopped:
                return ""
            if cell_run.status == "timeout":
                return f"its solution cell {cell_run.detail}"
            return f"its solution cell raised {cell_run.detail}"
    return ""


def _describe_run(run: NotebookRun | None, notes: list[str], error: str = "") -> str:
    if run is None:
        return error
    parts = []
    bad = [c for c in run.cells if c.status in ("error", "timeout") and c.detail != run.stopped]
    if bad:
        parts.append(
            "; ".join(
                f"cell {c.index} " + (c.detail if c.status == "timeout" else f"raised {c.detail}")
                for c in bad
            )
        )
    parts.append(f"stopped: {run.stopped}" if run.stopped else "ran to the end")
    return "; ".join(notes + parts)


def _submissions(folder: Path) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: ``folder/<student>.ipynb`` or ``folder/<student>/*.ipynb``."""
    pairs = []
    for path in _notebooks(folder):
        rel = path.relative_to(folder)
        student = rel.parts[0] if len(rel.parts) > 1 else path.stem
        pairs.append((student, path))
    return pairs


def _natural(ex_id: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", ex_id)]


def _imports(nb) -> str:
    """The top-level import statements of a notebook's code cells, one per line."""
    lines = []
    for cell in nb.cells:
        code = cell.cell_type == "code" and "import" in cell.source
        tree = _parse(cell.source) if code else None
        for node in tree.body if tree else []:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                lines.append(ast.unparse(node))
    return "\n".join(dict.fromkeys(lines))


def _test_regions(source: _Source) -> list[tuple[str, list[str]]]:
    """``(code, exercise ids)`` the grader runs: each hidden-test region of the instructor's
    notebook, and the visible check of every exercise that has no hidden tests."""
    regions, covered = [], set()
    for index, cell in enumerate(source.nb.cells):
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        where = f"{source.path}, cell {index}"
        for begin, end in solution_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, where=where):
            code = textwrap.dedent("\n".join(lines[begin + 1 : end]))
            ids = list(dict.fromkeys(_check_ids(code)))
            regions.append((code, ids))
            covered.update(ids)
    by_id = {c.get("id"): c for c in source.nb.cells}
    for ex in source.exercises:
        if ex.id in covered or ex.check_cell not in by_id:
            continue
        visible, _ = _remove_hidden_tests(by_id[ex.check_cell].source, str(source.path))
        regions.append((_mask_magics(visible), [ex.id]))
    return regions


class _Marked(NamedTuple):
    source: _Source | None
    marks: dict  # exercise id -> grader.ExerciseMark
    notes: list[str]  # how the run went
    seconds: float


def _grade_one(student: str, path: Path, sources, limits: dict, hide: Sequence) -> _Marked:
    """Run one submission in its sandbox and mark it with the instructor's tests."""
    from learnlr.course import grader

    t0 = time.perf_counter()
    try:
        nb = _read(path)
    except Exception as err:
        source = _match(None, path, sources)
        return _Marked(source, {}, [f"could not read the notebook: {err}"], 0.0)
    source = _match(nb, path, sources)
    if source is None:
        return _Marked(None, {}, ["no instructor notebook matches it"], 0.0)
    try:
        notes = _restore_cells(nb, source)
        cells = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.source.strip():
                code, _ = _remove_hidden_tests(cell.source, f"{path}, cell {index}")
                cells.append((index, _mask_magics(code)))
    except ValueError as err:  # badly marked hidden tests in the submission
        return _Marked(source, {}, [f"could not grade the notebook: {err}"], 0.0)
    if isinstance(source.regions, ValueError):
        return _Marked(source, {}, [f"could not grade the notebook: {source.regions}"], 0.0)
    marks: dict = {}
    with grader.Session(cells, hide=hide, limits=limits) as session:
        session.start()
        for code, ids in source.regions:
            marks.update(grader.run_tests(code, source.imports, session, ids))
    status = session.status
    for ex in source.exercises:
        mark = marks.get(ex.id)
        if mark is None or mark.passed:
            continue
        for index, cell in enumerate(nb.cells):
            if cell.get("id") in ex.solution_cells and status.get(index, ("ok",))[0] != "ok":
                what = status[index]
                verb = "raised" if what[0] == "error" else ""
                marks[ex.id] = mark._replace(
                    message=f"{mark.message}; its solution cell {verb} {what[1]}".replace("  ", " ")
                )
                break
    errors = [
        f"cell {i} raised {detail}"
        for i, (state, detail) in sorted(status.items())
        if state == "error"
    ]
    run_notes = notes + session.warnings + errors + session.notes
    run_notes.append("isolation: " + (", ".join(session.isolation) or "none"))
    return _Marked(source, marks, run_notes, time.perf_counter() - t0)


def grade(
    submissions,
    *,
    src="notebooks",
    out=None,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = 1,
    limits: dict | None = None,
    scheduler: str | None = None,
) -> Grading:
    """Grade every notebook in ``submissions``; write the result files to ``out`` if given.

    The instructor notebooks in ``src`` tell which exercises each submission should have
    (matched by cell ids, else by file name) and hold the tests that mark them. Each
    submission runs in its own bounded process (``timeout`` seconds per cell; ``limits`` as
    in :data:`learnlr.course.grader.LIMITS`); ``jobs`` submissions run at once on this machine, or
    on a Dask cluster when ``scheduler`` is its address (``tcp://host:8786``). A student who
    did not submit a notebook that others did gets "not submitted" for its exercises.
    """
    folder = Path(submissions)
    if not folder.is_dir():
        raise ValueError(f"grade: submissions must be a directory, got {str(submissions)!r}")
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"grade: jobs must be an int >= 1, got {jobs!r}")
    limits = {**(limits or {}), "cell_s": float(timeout)}
    sources = _sources(src)
    pairs = _submissions(folder)
    hide = [str(Path(src).resolve()), str(folder.resolve())]
    if out is not None:
        hide.append(str(Path(out).resolve()))
    if scheduler:
        outcomes = _on_dask(scheduler, pairs, src, limits, hide)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outcomes = list(pool.map(lambda p: _grade_one(*p, sources, limits, hide), pairs))
    result = _tabulate(folder, sources, pairs, outcomes)
    if out is not None:
        write_results(result, out)
    return result


def _grade_on_worker(student: str, path: str, src: str, limits: dict, hide: list) -> tuple:
    """One submission, graded where a Dask worker runs it (the same code as locally)."""
    marked = _grade_one(student, Path(path), _sources(src), limits, hide)
    return (
        str(marked.source.path) if marked.source else None,
        {k: tuple(v) for k, v in marked.marks.items()},
        marked.notes,
        marked.seconds,
    )


def _on_dask(scheduler: str, pairs, src, limits: dict, hide: list) -> list[_Marked]:
    from dask.distributed import Client

    from learnlr.course import grader

    sources = {str(s.path): s for s in _sources(src)}
    with Client(scheduler) as client:
        futures = [
            client.submit(_grade_on_worker, student, str(path), str(src), limits, hide, pure=False)
            for student, path in pairs
        ]
        done = client.gather(futures)
    return [
        _Marked(
            sources.get(path),
            {k: grader.ExerciseMark(*v) for k, v in marks.items()},
            notes,
            seconds,
        )
        for path, marks, notes, seconds in done
    ]


def _tabulate(folder: Path, sources, pairs, outcomes: list[_Marked]) -> Grading:
    order: dict[str, int] = {}
    for source in sources:
        for ex in source.exercises:
            order.setdefault(ex.id, len(order))
    assigned = {o.source.path for o in outcomes if o.source is not None}
    students = sorted({student for student, _ in pairs})
    table: dict[tuple[str, str], Grade] = {}
    runs = []
    for (student, path), marked in zip(pairs, outcomes, strict=True):
        rel = str(path.relative_to(folder))
        runs.append((student, rel, round(marked.seconds, 1), "; ".join(marked.notes)))
        expected = [ex.id for ex in marked.source.exercises] if marked.source else []
        for ex_id in expected:
            mark = marked.marks.get(ex_id)
            message = mark.message if mark else "not graded: " + "; ".join(marked.notes[:1])
            table[student, ex_id] = Grade(student, ex_id, bool(mark and mark.passed), message)
    for source in sources:
        if source.path not in assigned:
            continue
        for student in students:
            for ex in source.exercises:
                if (student, ex.id) not in table:
                    table[student, ex.id] = Grade(student, ex.id, False, "not submitted")
    grades = sorted(
        table.values(), key=lambda g: (g.student, order[g.exercise], _natural(g.exercise))
    )
    exercise_ids = sorted({g.exercise for g in grades}, key=lambda e: (order[e], _natural(e)))
    summary = [
        (
            ex_id,
            sum(g.passed for g in grades if g.exercise == ex_id),
            sum(g.exercise == ex_id for g in grades),
        )
        for ex_id in exercise_ids
    ]
    return Grading(grades, summary, runs)


def write_results(result: Grading, out, figure: bool = True) -> list[Path]:
    """Write what instructors and students receive to the folder ``out``; return the paths.

    * ``grades.csv`` (student, exercise, result, message), ``summary.csv`` (exercise,
      n_pass, n_total), ``runs.csv`` (how each submission ran);
    * ``canvas.csv`` and ``moodle.csv``: one row per student, one column per chapter (the
      number of its exercises passed) and the total, in the layouts the Canvas and Moodle
      gradebook imports read (students matched by login / username);
    * ``feedback/<student>.md``: each exercise, pass or fail, and the first wrong quantity;
    * ``summary.md`` and, with ``figure``, ``grades.png``: the class's marks per exercise and
      the distribution of totals.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / name for name in ("grades.csv", "summary.csv", "runs.csv")]
    _write_csv(written[0], ["student", "exercise", "result", "message"], result.grades)
    _write_csv(written[1], ["exercise", "n_pass", "n_total"], result.summary)
    _write_csv(written[2], ["student", "notebook", "seconds", "run"], result.runs)
    chapters, totals = gradebook(result)
    students = sorted(totals)
    possible = _possible(result)
    canvas = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]]
    canvas[0] += [f"Chapter {c}" for c in chapters] + ["learnlr total"]
    canvas.append(["Points Possible", "", "", "", ""] + [possible[c] for c in chapters])
    canvas[-1].append(sum(possible.values()))
    moodle = [["Username"] + [f"Chapter {c}" for c in chapters] + ["learnlr total"]]
    for student in students:
        marks = [totals[student].get(c, 0) for c in chapters]
        canvas.append([student, "", "", student, ""] + marks + [sum(marks)])
        moodle.append([student] + marks + [sum(marks)])
    for name, rows in (("canvas.csv", canvas), ("moodle.csv", moodle)):
        written.append(out / name)
        _write_csv(written[-1], rows[0], rows[1:])
    runs = {student: text for student, _, _, text in result.runs}
    for student in students:
        target = out / "feedback" / f"{student}.md"
        target.parent.mkdir(exist_ok=True)
        target.write_text(feedback(result, student, runs.get(student, "")), encoding="utf-8")
        written.append(target)
    written.append(out / "summary.md")
    written[-1].write_text(_summary_markdown(result, figure), encoding="utf-8")
    if figure:
        from learnlr.viz import grade_plots

        _, totals = gradebook(result)
        written.append(grade_plots.save_class_figure(result.summary, totals, out / "grades.png"))
    return written


def _chapter(exercise: str) -> str:
    return exercise.split(".")[0]


def _possible(result: Grading) -> dict[str, int]:
    possible: dict[str, int] = {}
    for ex_id, _, _ in result.summary:
        possible[_chapter(ex_id)] = possible.get(_chapter(ex_id), 0) + 1
    return possible


def gradebook(result: Grading) -> tuple[list[str], dict[str, dict[str, int]]]:
    """(chapters in order, ``{student: {chapter: exercises passed}}``)."""
    chapters = list(dict.fromkeys(_chapter(ex_id) for ex_id, _, _ in result.summary))
    totals: dict[str, dict[str, int]] = {}
    for g in result.grades:
        marks = totals.setdefault(g.student, {})
        marks[_chapter(g.exercise)] = marks.get(_chapter(g.exercise), 0) + int(g.passed)
    return chapters, totals


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def feedback(result: Grading, student: str, run: str = "") -> str:
    """A student's feedback in Markdown: each exercise, pass or fail, what was found."""
    mine = [g for g in result.grades if g.student == student]
    lines = [
        f"# Feedback for {student}",
        "",
        f"Exercises passed: {sum(g.passed for g in mine)} of {len(mine)}.",
        "",
        "| exercise | result | what the grader found |",
        "|---|---|---|",
    ]
    for g in mine:
        lines.append(f"| {g.exercise} | {'pass' if g.passed else 'fail'} | {_cell(g.message)} |")
    if run:
        lines += ["", "## How your notebook ran", ""]
        lines += [f"- {_cell(part)}" for part in run.split("; ")]
    return "\n".join(lines) + "\n"


def _summary_markdown(result: Grading, figure: bool) -> str:
    chapters, totals = gradebook(result)
    lines = ["# Class summary", "", f"Students: {len(totals)}.", ""]
    lines += ["| exercise | passed | of |", "|---|---|---|"]
    lines += [f"| {ex} | {n} | {total} |" for ex, n, total in result.summary]
    counts: dict[int, int] = {}
    for marks in totals.values():
        counts[sum(marks.values())] = counts.get(sum(marks.values()), 0) + 1
    lines += ["", "| exercises passed | students |", "|---|---|"]
    lines += [f"| {k} | {counts[k]} |" for k in sorted(counts)]
    if figure:
        lines += ["", "![marks per exercise and distribution of totals](grades.png)"]
    return "\n".join(lines) + "\n"


def _write_csv(path: Path, header: list[str], rows: Iterable) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            if isinstance(row, Grade):
                row = (row.student, row.exercise, "pass" if row.passed else "fail", row.message)
            writer.writerow(row)


def _format_table(rows: Sequence[Sequence], header: Sequence[str], width: int = 0) -> str:
    """A plain-text table; ``width`` > 0 cuts the last column to fit that many characters."""
    rows = [[str(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = []
    for row in [list(header)] + rows:
        cells = [v.ljust(w) for v, w in zip(row[:-1], widths[:-1], strict=True)] + [row[-1]]
        line = "  ".join(cells)
        if width and len(line) > width:
            line = line[: width - 3] + "..."
        lines.append(line.rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m learnlr.course.coursework {list,student,grade} ...``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m learnlr.course.coursework",
        description="Student copies of the chapter notebooks, and grading of submissions.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="exercise ids per notebook")
    listing.add_argument("--src", default="notebooks", help="instructor notebooks (notebooks)")
    student = commands.add_parser("student", help="write student copies without solutions")
    student.add_argument("--src", default="notebooks", help="instructor notebooks (notebooks)")
    student.add_argument("--out", default="student", help="where to write them (student)")
    grading = commands.add_parser("grade", help="grade submitted notebooks")
    grading.add_argument("submissions", help="<student>.ipynb files or <student>/ folders")
    grading.add_argument("--out", default="grades", help="where to write the CSV files (grades)")
    grading.add_argument("--src", default="notebooks", help="instructor notebooks (notebooks)")
    grading.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per cell (60)"
    )
    grading.add_argument("--jobs", type=int, default=1, help="notebooks run at once (1)")
    grading.add_argument(
        "--scheduler", default=None, help="grade on a Dask cluster: tcp://host:8786"
    )
    args = parser.parse_args(argv)

    if args.command == "list":
        total = 0
        for path, found in list_exercises(args.src).items():
            total += len(found)
            print(f"{path}: {' '.join(ex.id for ex in found) or '(no exercises)'}")
        print(f"{total} exercises")
        return 0
    if args.command == "student":
        try:
            written = make_student(args.src, args.out)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        for path in written:
            found = exercises(_read(path))
            print(f"wrote {path} ({len(found)} exercises)")
        return 0
    try:
        result = grade(
            args.submissions,
            src=args.src,
            out=args.out,
            timeout=args.timeout,
            jobs=args.jobs,
            scheduler=args.scheduler,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = [
        (g.student, g.exercise, "pass" if g.passed else "fail", g.message) for g in result.grades
    ]
    print(_format_table(rows, ["student", "exercise", "result", "message"], width=120))
    print()
    print(_format_table(result.summary, ["exercise", "n_pass", "n_total"]))
    print()
    print(_format_table(result.runs, ["student", "notebook", "seconds", "run"], width=160))
    print(
        f"\nwrote {Path(args.out) / 'grades.csv'}, summary.csv, runs.csv, canvas.csv, "
        "moodle.csv, summary.md, grades.png and feedback/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
