"""learnlr.plots helpers for notebooks: glue_text stores a value for the prose."""

import sys

import pytest

from learnlr import plots


def _captured(monkeypatch, *, myst):
    """The display calls glue_text makes, with or without myst-nb importable."""
    import IPython.display

    calls = []

    def display(*objs, **kwargs):
        calls.append((objs, kwargs))

    monkeypatch.setattr(IPython.display, "display", display)
    if myst:
        glue_module = pytest.importorskip("myst_nb.ext.glue")
        monkeypatch.setattr(glue_module, "ipy_display", display)
    else:
        monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb -> ImportError
    plots.glue_text("ratio", 0.25)
    plots.glue_text("verdict", "contradicted")
    return calls


def test_glue_text_without_myst_nb_writes_what_myst_nb_writes(monkeypatch):
    without = _captured(monkeypatch, myst=False)
    monkeypatch.undo()
    with_myst = _captured(monkeypatch, myst=True)
    assert without == with_myst
    (data,), kwargs = without[0]
    assert data == {"application/papermill.record/text/plain": "'0.25'"}
    assert kwargs == {
        "raw": True,
        "metadata": {
            "scrapbook": {"name": "ratio", "mime_prefix": "application/papermill.record/"}
        },
    }
    assert without[1][0][0] == {"application/papermill.record/text/plain": "'contradicted'"}


@pytest.mark.parametrize("name", ["", None, 3])
def test_glue_text_refuses_a_bad_name(name):
    with pytest.raises(TypeError, match="glue_text: name must be a non-empty string"):
        plots.glue_text(name, 1)
