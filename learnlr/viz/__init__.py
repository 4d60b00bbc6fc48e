"""Everything that draws: figures (``plots``), live demos (``widgets``: the ``Demo`` machinery
and the general demos; ``demos``: the chapters' own) and the class figure of a grading run
(``grade_plots``).

Only this folder imports matplotlib and ipywidgets; the math below it imports NumPy only
(``tests/test_layers.py`` checks both rules). Import the modules themselves:
``from learnlr.viz import plots, widgets``.
"""
