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

3. MathJax is served by the book itself, so that formulas render offline and in a saved copy
of the site. Sphinx's default ``mathjax_path`` is a CDN address; here the ``mathjax`` npm
package (version ``MATHJAX_VERSION``) is fetched with ``npm pack`` on the first build, kept
in ``_build/offline/`` and copied into ``_static/mathjax/``; ``mathjax_path`` points there.
Only what ``tex-mml-chtml.js`` loads is copied (its fonts, the TeX extensions it autoloads,
the menu and the accessibility components), not the package's other bundles.

4. Every figure has a text alternative that says what it shows. An image a notebook cell
outputs has no ``alt`` of its own, and Sphinx then writes its file name
(``../_images/2874df49....png``), which a screen reader reads aloud as a hash. In a kernel
that imported ``learnlr.viz.plots``, every figure's PNG carries a ``Description`` text field
(:func:`learnlr.viz.plots.describe`: its titles, axis labels and legend, or the text given with
``plots.set_alt``); :func:`_figure_alt` copies it into the image's ``alt``. An image without
one gets a generic "Figure drawn by the code cell above", never a file name.

5. The primary sidebar is a navigation landmark. The theme puts the book's title and the
search field in a plain ``<div>`` beside the ``<nav>`` of the table of contents, so an
accessibility scan (axe-core's ``region`` rule) finds content outside every landmark, which
screen-reader users skip when they jump between landmarks. The built pages get
``role="navigation"`` on that ``<div>``.
"""

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

MATHJAX_VERSION = "3.2.2"
# What tex-mml-chtml.js loads at run time, relative to the package's es5/ folder.
_MATHJAX_PARTS = [
    "tex-mml-chtml.js",
    "input",
    "output/chtml",
    "ui",
    "a11y",
    "sre",
    "adaptors",
]

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


def _offline_mathjax(app, config):
    """Serve MathJax from ``_static/mathjax`` (see 3. above); fetch it with npm if needed."""
    if "://" in (config.mathjax_path or "") and not config.mathjax_path.startswith(
        "https://cdn.jsdelivr.net/npm/mathjax@3"
    ):
        return  # a MathJax chosen in _config.yml is left alone
    cache = Path(app.confdir) / "_build" / "offline"
    static = cache / f"mathjax-{MATHJAX_VERSION}"
    if not (static / "mathjax" / "tex-mml-chtml.js").is_file():
        _fetch_mathjax(static / "mathjax")
    config.html_static_path = [*config.html_static_path, str(static)]
    config.mathjax_path = "mathjax/tex-mml-chtml.js"


def _fetch_mathjax(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "learnlr_book: npm is needed once to fetch MathJax for the book "
            "(apt-get install npm, or `make book`, which installs it)"
        )
    spec = f"mathjax@{MATHJAX_VERSION}"
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [npm, "pack", spec, "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            check=False,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise RuntimeError(f"learnlr_book: npm pack {spec} failed: {done.stderr[-500:]}")
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(tmp, filter="data")
        es5 = Path(tmp) / "package" / "es5"
        staging = Path(tmp) / "mathjax"
        for part in _MATHJAX_PARTS:
            src, dst = es5 / part, staging / part
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
        shutil.copy2(Path(tmp) / "package" / "LICENSE", staging / "LICENSE")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(staging), target)


def _figure_alt(app, doctree, docname):
    """Set each image's ``alt`` from its PNG's ``Description`` field (see 4. above)."""
    from docutils import nodes
    from PIL import Image

    for node in doctree.findall(nodes.image):
        if node.get("alt"):
            continue
        path = Path(app.srcdir) / node["uri"]
        text = ""
        if path.suffix.lower() == ".png" and path.is_file():
            with Image.open(path) as image:
                text = (getattr(image, "text", {}) or {}).get("Description", "")
        node["alt"] = text or "Figure drawn by the code cell above."


def _sidebar_landmark(app, exception):
    """Make the primary sidebar a navigation landmark (see 5. above)."""
    if exception is not None or app.builder.format != "html":
        return
    fixes = [
        (
            '<div class="bd-sidebar-primary bd-sidebar">',
            '<div class="bd-sidebar-primary bd-sidebar" role="navigation" aria-label="Book">',
        ),
        # docutils marks bibliography entries role="doc-biblioentry" (deprecated) inside a
        # role="list", which then has no list items (axe: aria-required-children, critical)
        ('role="doc-biblioentry"', 'role="listitem"'),
    ]
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for old, new in fixes:
            fixed = fixed.replace(old, new)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    # On config-inited, so that values from _config.yml (if any) are kept and extended.
    app.connect("config-inited", _add_ignores)
    app.connect("config-inited", _offline_mathjax)
    app.connect("doctree-resolved", _figure_alt)
    app.connect("build-finished", _sidebar_landmark)
    app.connect("html-page-context", _one_script_each)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
