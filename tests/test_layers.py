"""The layering rule: the math imports NumPy only; plots and widgets sit on top.

``learnlr``, ``learnlr.optimizers``, ``learnlr.schedules``, ``learnlr.problems`` and
``learnlr.trace`` must import neither matplotlib nor ipywidgets, so the math runs (and is
tested) without a display stack. Only the plotting and widget modules may import them.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

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


#: Display modules whose name says neither "plot" nor "widget": the chapters' demos.
DISPLAY_MODULES = {"demos"}


def _may_import_display(path: Path) -> bool:
    return "plot" in path.stem or "widget" in path.stem or path.stem in DISPLAY_MODULES


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
    # every module of the package except the plot/widget ones, so a new module is covered
    modules = [
        "learnlr." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.stem != "__init__" and not _may_import_display(path)
    ]
    assert set(MATH_MODULES) - {"learnlr"} <= set(modules)
    _imports_no_display(modules)


def test_only_plot_and_widget_modules_mention_display_imports():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if _may_import_display(path):
            continue
        for match in IMPORT.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}: {match.group(0).strip()}")
    assert not offenders, "display imports outside plots/widgets:\n" + "\n".join(offenders)


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
#: The math layer: optimizers, schedules, problems, the run loops and the finder.
MATH = {
    "learnlr",
    "learnlr._base",
    "learnlr._checks",
    "learnlr.optimizers",
    "learnlr.modern",
    "learnlr.inplace",
    "learnlr.schedules",
    "learnlr.problems",
    "learnlr.mlp",
    "learnlr.online",
    "learnlr.trace",
    "learnlr.finder",
}
#: Imports from the math layer into the display layer that are known and waiting for the
#: layout change (each with its reason). A pair that disappears must leave this list.
KNOWN_UPWARD = {
    ("learnlr.finder", "learnlr.plots"): "FinderResult.plot draws itself (chapter 9 calls it)",
}


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
                if module == "learnlr" and alias.name in _SUBMODULES:
                    yield f"learnlr.{alias.name}", None  # from learnlr import optimizers
                else:
                    yield module, alias.name


_SUBMODULES = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}


def _package_files():
    return sorted(PACKAGE.rglob("*.py"))


def test_the_math_layer_lists_only_existing_modules():
    assert MATH <= {_module_name(path) for path in _package_files()}


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


def test_the_import_scan_sees_lazy_relative_and_aliased_imports():
    source = (
        "from learnlr import optimizers as _o\n"
        "def f():\n"
        "    from learnlr.plots import finder_curve\n"
        "    from .problems import _check_batch\n"
        "    import learnlr.widgets\n"
    )
    got = list(_learnlr_imports_text(source, "learnlr.finder"))
    assert got == [
        ("learnlr.optimizers", None),
        ("learnlr.plots", "finder_curve"),
        ("learnlr.problems", "_check_batch"),
        ("learnlr.widgets", None),
    ]
