"""The layering rule: the math imports NumPy only; plots and widgets sit on top.

``learnlr``, ``learnlr.optimizers``, ``learnlr.schedules``, ``learnlr.problems`` and
``learnlr.trace`` must import neither matplotlib nor ipywidgets, so the math runs (and is
tested) without a display stack. Only the plotting and widget modules may import them.
"""

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


def _may_import_display(path: Path) -> bool:
    return "plot" in path.stem or "widget" in path.stem


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
