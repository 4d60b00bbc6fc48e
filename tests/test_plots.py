"""learnlr.viz.plots helpers for notebooks: glue_text stores a value for the prose."""

import sys

import pytest

from learnlr.viz import plots


def _display_calls(monkeypatch, glue):
    """The display calls that ``glue(name, value)`` makes for a number and a word."""
    import IPython.display

    calls = []

    def display(*objs, **kwargs):
        calls.append((objs, kwargs))

    monkeypatch.setattr(IPython.display, "display", display)
    glue_module = pytest.importorskip("myst_nb.ext.glue")
    monkeypatch.setattr(glue_module, "ipy_display", display)
    glue("ratio", 0.25)
    glue("verdict", "contradicted")
    return calls


def test_glue_text_writes_what_myst_nb_glue_writes(monkeypatch):
    # myst-nb is a tool of the book, installed with the development environment (where this
    # runs in make test) but not with the package's minimum versions (make test-min).
    glue = pytest.importorskip("myst_nb").glue

    ours = _display_calls(monkeypatch, plots.glue_text)
    theirs = _display_calls(monkeypatch, lambda name, v: glue(name, str(v), display=False))
    assert ours == theirs
    (data,), kwargs = ours[0]
    assert data == {"application/papermill.record/text/plain": "'0.25'"}
    assert kwargs == {
        "raw": True,
        "metadata": {
            "scrapbook": {"name": "ratio", "mime_prefix": "application/papermill.record/"}
        },
    }
    assert ours[1][0][0] == {"application/papermill.record/text/plain": "'contradicted'"}


def test_glue_text_does_not_need_myst_nb(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb -> ImportError
    assert len(_display_calls_without_myst(monkeypatch)) == 1


def _display_calls_without_myst(monkeypatch):
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *o, **k: calls.append((o, k)))
    plots.glue_text("ratio", 0.25)
    return calls


@pytest.mark.parametrize("name", ["", None, 3])
def test_glue_text_refuses_a_bad_name(name):
    with pytest.raises(TypeError, match="glue_text: name must be a non-empty string"):
        plots.glue_text(name, 1)
