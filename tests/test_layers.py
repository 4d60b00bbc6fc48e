"""The layering rule, a rule on folders: the math imports NumPy only; ``viz/`` and ``course/``
sit on top.

Only modules in ``learnlr/viz/`` may import matplotlib or ipywidgets, so the math runs (and is
tested) without a display stack. The math (every module outside ``viz/`` and ``course/``:
``optimizers/``, ``schedules``, ``problems/``, ``trace``, ``finder``, ``tuning``,
``landscape``) imports neither ``viz`` nor ``course``, not even lazily inside a function.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import learnlr

PACKAGE = Path(learnlr.__file__).resolve().parent
MATH_MODULES = [
    "learnlr",
    "learnlr.optimizers",
    "learnlr.schedules",
    "learnlr.problems",
    "learnlr.trace",
]
DISPLAY = ("matplotlib", "ipywidgets")
IMPORT = re.compile(r"^\s*(?:import|from)\s+(matplotlib|ipywidgets)\b", re.MULTILINE)


#: The folders above the math: what draws, and the course's machinery.
DISPLAY_FOLDER, UPPER_FOLDERS = "viz", ("viz", "course")


def _folder(path: Path) -> str | None:
    """The sub-package a file of learnlr lies in (``"viz"``), or None at the top."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _may_import_display(path: Path) -> bool:
    return _folder(path) == DISPLAY_FOLDER


def _imports_no_display(modules):
    code = (
        "import sys\n"
        f"import {', '.join(modules)}\n"
        f"loaded = [m for m in {DISPLAY!r} if m in sys.modules]\n"
        "assert not loaded, f'imported {loaded}'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent
    )
    assert result.returncode == 0, result.stderr


def test_importing_the_math_loads_no_display_library():
    _imports_no_display(MATH_MODULES)


def test_importing_any_other_non_display_module_loads_no_display_library():
    # every module of the package outside viz/, so a new module is covered
    modules = sorted(
        ".".join(("learnlr",) + path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(
            ".__init__"
        )
        for path in PACKAGE.rglob("*.py")
        if not _may_import_display(path)
    )
    assert set(MATH_MODULES) <= set(modules)
    _imports_no_display(modules)


@pytest.mark.parametrize("library", ["matplotlib", "ipywidgets"])
def test_the_core_runs_without_the_notebooks_extra_and_viz_names_it(library):
    # pip install learnlr (no extra) has NumPy only: the math runs, and learnlr.viz refuses
    # with the command that installs what it needs (a None in sys.modules hides a library)
    code = (
        f"import sys; sys.modules[{library!r}] = None\n"
        "from learnlr import optimizers, problems, run\n"
        "run(problems.quadratic2d(kappa=10), optimizers.adam(lr=0.1), 5)\n"
        "try:\n    import learnlr.viz\n"
        "except ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent
    )
    assert result.returncode == 0, result.stderr
    assert library in result.stdout and "pip install 'learnlr[notebooks]'" in result.stdout


def test_only_plot_and_widget_modules_mention_display_imports():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if _may_import_display(path):
            continue
        for match in IMPORT.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}: {match.group(0).strip()}")
    assert not offenders, "display imports outside learnlr/viz/:\n" + "\n".join(offenders)


def test_the_static_check_would_catch_an_import():
    # the pattern matches top-level, indented and from-imports, and nothing else
    for line in [
        "import matplotlib.pyplot as plt",
        "    import ipywidgets as w",
        "from matplotlib import cm",
        "from ipywidgets import interact",
    ]:
        assert IMPORT.search(line), line
    for line in [
        "# matplotlib is imported by plots",
        "import numpy as np",
        "x = 'import matplotlib'",
        "import matplotlibx",
    ]:
        assert not IMPORT.search(line), line


# ---------------------------------------------------------------------------------------
# Imports inside the package: the math never reaches up into the display or the course,
# not even lazily inside a function, and no module borrows another's private name.
# ---------------------------------------------------------------------------------------
#: The math layer: every module outside viz/ and course/ (a new module is covered).
MATH = {
    ".".join(
        ("learnlr",)
        + path.relative_to(PACKAGE).with_suffix("").parts[: -1 if path.stem == "__init__" else None]
    )
    for path in PACKAGE.rglob("*.py")
    if _folder(path) not in UPPER_FOLDERS
}
#: Imports from the math layer into the display layer, each with its reason: none (the
#: finder's result is drawn by viz.plots.finder_curve, not by a method of its own). A pair
#: added here must give its reason; one that disappears must leave.
KNOWN_UPWARD: dict = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _learnlr_imports(path: Path):
    return _learnlr_imports_text(path.read_text(encoding="utf-8"), _module_name(path))


def _learnlr_imports_text(text: str, module_name: str):
    """Every ``(module, name)`` the code imports from learnlr, at any depth (a function's
    body included); ``name`` is None for a whole module (``import learnlr.x``,
    ``from learnlr import x``)."""
    tree = ast.parse(text)
    package = "learnlr" if module_name == "learnlr" else module_name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "learnlr":
                    yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from . import x, from .x import y
                module = ".".join(filter(None, [package, module]))
            if module.split(".")[0] != "learnlr":
                continue
            for alias in node.names:
                if f"{module}.{alias.name}" in _MODULES:
                    yield f"{module}.{alias.name}", None  # from learnlr.viz import plots
                else:
                    yield module, alias.name


#: Every module and sub-package of learnlr by dotted name (``from learnlr.viz import plots``
#: imports the module ``learnlr.viz.plots``).
_MODULES = {
    ".".join(("learnlr",) + path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(
        ".__init__"
    )
    for path in PACKAGE.rglob("*.py")
}


def _package_files():
    return sorted(PACKAGE.rglob("*.py"))


def test_the_math_layer_is_the_course_s_core():
    # the folders rule must not leave the core out by accident (a file moved into viz/ or
    # course/ would drop out of MATH silently)
    core = {
        "learnlr",
        "learnlr.optimizers",
        "learnlr.optimizers.base",
        "learnlr.optimizers.adam",
        "learnlr.optimizers.inplace",
        "learnlr.schedules",
        "learnlr.problems",
        "learnlr.problems.mlp",
        "learnlr.problems.online",
        "learnlr.trace",
        "learnlr.finder",
        "learnlr.tuning",
        "learnlr.landscape",
    }
    assert core <= MATH
    assert not {m for m in MATH if m.startswith(("learnlr.viz", "learnlr.course"))}


def test_the_math_imports_only_the_math_even_inside_functions():
    found, upward = set(), []
    for path in _package_files():
        module = _module_name(path)
        if module not in MATH:
            continue
        for target, _ in _learnlr_imports(path):
            if target not in MATH:
                found.add((module, target))
                if (module, target) not in KNOWN_UPWARD:
                    upward.append(f"{module} imports {target}")
    assert not upward, "the math layer imports display or course modules:\n" + "\n".join(upward)
    assert found == set(KNOWN_UPWARD), f"stale KNOWN_UPWARD entries: {set(KNOWN_UPWARD) - found}"


def test_no_module_imports_another_modules_private_name():
    offenders = [
        f"{_module_name(path)}: from {module} import {name}"
        for path in _package_files()
        for module, name in _learnlr_imports(path)
        if name is not None and name.startswith("_") and not name.startswith("__")
    ]
    assert not offenders, "private names imported across modules:\n" + "\n".join(offenders)


def test_the_shared_checks_import_nothing_from_learnlr():
    # every module imports learnlr._checks, so it must be a leaf: an import of learnlr from
    # it, even inside a function, is an import circle
    imports = list(_learnlr_imports(PACKAGE / "_checks.py"))
    assert imports == [], f"learnlr._checks imports {imports}"


def test_the_import_scan_sees_lazy_relative_and_aliased_imports():
    source = (
        "from learnlr import optimizers as _o\n"
        "def f():\n"
        "    from learnlr.viz.plots import finder_curve\n"
        "    from .problems import _check_batch\n"
        "    import learnlr.viz.widgets\n"
        "    from learnlr.viz import plots\n"
    )
    got = list(_learnlr_imports_text(source, "learnlr.finder"))
    assert got == [
        ("learnlr.optimizers", None),
        ("learnlr.viz.plots", "finder_curve"),
        ("learnlr.problems", "_check_batch"),
        ("learnlr.viz.widgets", None),
        ("learnlr.viz.plots", None),
    ]
