"""Write the synthetic submissions that tests/test_coursework.py grades.

They are made from chapter 1 as a student would receive it (``learnlr.course.coursework``'s student
copy), cut down to the exercises and the cells they need, with the outputs cleared:

* ``perfect.ipynb``: the instructor's solutions put back;
* ``partial.ipynb``: exercise 1.1 with a known mistake (the sign of the step), 1.2 solved,
  1.3 not done (the stub left as it is);
* ``broken/01_gradient_update.ipynb`` (the other layout: one folder per student): a syntax
  error in the solution of 1.1, an endless loop in the solution cell of 1.2, and the check
  cell of 1.3 deleted (its solution is right).

Run it again when chapter 1's exercises change (and commit the result):

    .venv/bin/python tests/submissions/make_submissions.py

The notebooks here are broken on purpose, so pytest does not collect them (conftest.py) and
ruff does not lint them (ruff.toml).
"""

from __future__ import annotations

import ast
import builtins
import symtable
import sys
from pathlib import Path

import nbformat

from learnlr.course import coursework

HERE = Path(__file__).resolve().parent
CHAPTER = HERE.parent.parent / "notebooks" / "01_gradient_update.ipynb"

# What each synthetic student wrote, by exercise id; "stub" keeps the student copy's stub.
WRONG_SIGN = "def gd_step(x, g, lr):\n    return x + lr * g  # uphill: a known mistake"
SYNTAX_ERROR = "def gd_step(x, g, lr):\n    return x - lr * g)  # a syntax error"
ENDLESS_LOOP = (
    "A = np.array([[10.0, 6.0, 2.0], [6.0, 9.0, 3.0], [2.0, 3.0, 2.0]])\n"
    "x0 = np.array([1.0, -1.0, 1.0])\n"
    "chosen_lr = None  # a number\n"
    "while True:  # an endless loop: the grader interrupts the cell\n"
    "    pass"
)
STUDENTS = {
    "perfect.ipynb": {"answers": {}, "delete_checks": ()},
    "partial.ipynb": {"answers": {"1.1": WRONG_SIGN, "1.3": "stub"}, "delete_checks": ()},
    "broken/01_gradient_update.ipynb": {
        "answers": {"1.1": SYNTAX_ERROR, "1.2": ENDLESS_LOOP},
        "delete_checks": ("1.3",),
    },
}


def _binds(source: str) -> set:
    tree = ast.parse(coursework._mask_magics(source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _uses(source: str) -> set:
    """Global names a cell reads (function parameters and locals are not)."""
    table = symtable.symtable(coursework._mask_magics(source), "cell", "exec")
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced() and not s.is_assigned()}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        names |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
        stack += child.get_children()
    return names - set(dir(builtins))


def exercise_part(nb):
    """The title, each exercise's statement, solution and check cells, and what they use."""
    found = coursework.exercises(nb)
    keep_ids = {cid for ex in found for cid in ex.solution_cells} | {ex.check_cell for ex in found}
    keep = {i for i, c in enumerate(nb.cells) if c.get("id") in keep_ids}
    for i in sorted(keep):  # the statement: the markdown cell just before a solution cell
        if coursework._is_solution(nb.cells[i]) and nb.cells[i - 1].cell_type == "markdown":
            keep.add(i - 1)
    keep.add(0)
    # lesson code cells that define a name the kept cells use (and do not define), transitively
    code = [nb.cells[i].source for i in keep if nb.cells[i].cell_type == "code"]
    own = set().union(*map(_binds, code))
    needed = set().union(
        *(_uses(nb.cells[i].source) for i in keep if nb.cells[i].cell_type == "code")
    )
    for i in range(max(keep), -1, -1):
        cell = nb.cells[i]
        if i in keep or cell.cell_type != "code" or "remove-cell" in cell.metadata.get("tags", []):
            continue
        if _binds(cell.source) & (needed - own):
            keep.add(i)
            needed |= _uses(cell.source)
    new = nbformat.v4.new_notebook(metadata={"kernelspec": nb.metadata.get("kernelspec", {})})
    new.cells = [nb.cells[i] for i in sorted(keep)]
    return new


def submissions(chapter: Path = CHAPTER) -> dict:
    """{relative path: notebook} of the synthetic submissions made from ``chapter``."""
    instructor = exercise_part(nbformat.read(chapter, as_version=4))
    by_id = {c.get("id"): c for c in instructor.cells}
    made = {}
    for name, plan in STUDENTS.items():
        nb = coursework.student_notebook(instructor, name=name)
        cells = []
        for ex in coursework.exercises(instructor):
            answer = plan["answers"].get(ex.id)
            for cell_id in ex.solution_cells:
                cell = next(c for c in nb.cells if c.get("id") == cell_id)
                if answer is None:  # the instructor's solution, without the markers
                    lines = by_id[cell_id].source.split("\n")
                    cell.source = "\n".join(line for line in lines if "SOLUTION" not in line)
                elif answer != "stub":
                    cell.source = answer
        deleted = {
            ex.check_cell
            for ex in coursework.exercises(instructor)
            if ex.id in plan["delete_checks"]
        }
        for cell in nb.cells:
            if cell.get("id") in deleted:
                continue
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            cells.append(cell)
        nb.cells = cells
        made[name] = nb
    return made


def main() -> int:
    for name, nb in submissions().items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(HERE.parent.parent)} ({len(nb.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
