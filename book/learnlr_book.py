"""Sphinx extension local to the learnlr book.

1. The book is built with ``-n`` (nitpicky): every cross-reference must resolve. Type names
from NumPy docstrings and annotations (``numpy.ndarray``, ``array_like``, ``optional``)
would need intersphinx, which needs the network, so they are listed here as known to be
unresolvable. This cannot go in ``_config.yml``: YAML gives lists, and Sphinx compares
``nitpick_ignore`` entries as tuples.

2. Each inline script is written once per page. sphinx-thebe (loaded by Jupyter Book even
with Thebe off) adds ``const THEBE_JS_URL = ...`` as an inline script after the HTML builder
has started; Sphinx 7.4 then lists it twice (once with the file name ``None``, once with
``""``), and the second copy throws "Identifier 'THEBE_JS_URL' has already been declared" in
the browser on every page (found by scripts/check_book.py).
"""

# Names as they appear in docstrings ("x : ndarray, optional") and in annotations.
_IGNORED_TYPES = [
    "numpy.ndarray",
    "np.ndarray",
    "ndarray",
    "numpy.typing.ArrayLike",
    "npt.ArrayLike",
    "ArrayLike",
    "array_like",
    "array-like",
    "array",
    "numpy.float64",
    "np.float64",
    "numpy.integer",
    "numpy.floating",
    "numpy.random.Generator",
    "np.random.Generator",
    "Generator",
    "optional",
    "callable",
    "Callable",
    "collections.abc.Callable",
    "collections.abc.Sequence",
    "collections.abc.Iterable",
    "typing.Callable",
    "NamedTuple",
    "typing.NamedTuple",
    "scalar",
    "float or ndarray",
    "int or ndarray",
    "matplotlib.axes.Axes",
    "matplotlib.axes._axes.Axes",
    "matplotlib.figure.Figure",
    "Axes",
    "Figure",
    "ipywidgets.Widget",
    "ipywidgets.widgets.widget.Widget",
]

# Anything from NumPy, matplotlib, ipywidgets or the standard library: their docs are not
# available offline.
_IGNORED_PATTERNS = [
    r"(numpy|np|npt)\..*",
    r"matplotlib\..*",
    r"ipywidgets\..*",
    r"(pathlib|ast|argparse|csv|concurrent|collections|typing)(\..*)?",
]


def _add_ignores(app, config):
    # tuple(): entries written in _config.yml arrive as lists, which Sphinx would not match.
    ignored = {tuple(entry) for entry in config.nitpick_ignore or ()}
    ignored_re = {tuple(entry) for entry in config.nitpick_ignore_regex or ()}
    for role in ("py:class", "py:obj", "py:data", "py:mod"):
        ignored.update((role, name) for name in _IGNORED_TYPES)
        ignored_re.update((role, pattern) for pattern in _IGNORED_PATTERNS)
    config.nitpick_ignore = ignored
    config.nitpick_ignore_regex = ignored_re


def _one_script_each(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        attributes = getattr(js, "attributes", {}) or {}
        key = (getattr(js, "filename", js) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app):
    # On config-inited, so that values from _config.yml (if any) are kept and extended.
    app.connect("config-inited", _add_ignores)
    app.connect("html-page-context", _one_script_each)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
