"""Everything that draws: figures (``plots``), live demos (``widgets``: the ``Demo`` machinery
and the general demos; ``demos``: the chapters' own) and the class figure of a grading run
(``grade_plots``).

Only this folder imports matplotlib and ipywidgets; the math below it imports NumPy only
(``tests/test_layers.py`` checks both rules). Import the modules themselves:
``from learnlr.viz import plots, widgets``.

matplotlib and ipywidgets come with the extra ``notebooks`` (``pip install
"learnlr[notebooks]"``); ``pip install learnlr`` alone installs the NumPy core.
"""

import importlib.util as _util

_missing = [name for name in ("matplotlib", "ipywidgets") if _util.find_spec(name) is None]
if _missing:
    raise ImportError(
        f"learnlr.viz draws with matplotlib and ipywidgets; not installed: {', '.join(_missing)}. "
        "Install them with: pip install 'learnlr[notebooks]'"
    )
