"""Sphinx extension local to the learnlr book.

The book is built with ``-n`` (nitpicky): every cross-reference must resolve. Type names
from NumPy docstrings and annotations (``numpy.ndarray``, ``array_like``, ``optional``)
would need intersphinx, which needs the network, so they are listed here as known to be
unresolvable. This cannot go in ``_config.yml``: YAML gives lists, and Sphinx compares
``nitpick_ignore`` entries as tuples.
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

# Anything from NumPy, matplotlib or ipywidgets: their docs are not available offline.
_IGNORED_PATTERNS = [
    r"(numpy|np|npt)\..*",
    r"matplotlib\..*",
    r"ipywidgets\..*",
]


def _add_ignores(app, config):
    # tuple(): entries written in _config.yml arrive as lists, which Sphinx would not match.
    ignored = {tuple(entry) for entry in config.nitpick_ignore or ()}
    ignored_re = {tuple(entry) for entry in config.nitpick_ignore_regex or ()}
    for role in ("py:class", "py:obj", "py:data"):
        ignored.update((role, name) for name in _IGNORED_TYPES)
        ignored_re.update((role, pattern) for pattern in _IGNORED_PATTERNS)
    config.nitpick_ignore = ignored
    config.nitpick_ignore_regex = ignored_re


def setup(app):
    # On config-inited, so that values from _config.yml (if any) are kept and extended.
    app.connect("config-inited", _add_ignores)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
