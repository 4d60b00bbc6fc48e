"""Every example in learnlr's docstrings runs and prints what the docstring says."""

import doctest
import importlib
import pkgutil

import pytest

import learnlr

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(learnlr.__path__, "learnlr.")
    if m.name != "learnlr.viz.widgets"
) + ["learnlr"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_every_module_of_the_sub_packages_is_collected():
    assert {"learnlr.optimizers.adam", "learnlr.problems.mlp", "learnlr.course.checks"} <= set(
        MODULES
    )


def test_examples_exist():
    """The main modules document themselves with examples (so the test above checks something)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in [
        "learnlr.optimizers.sgd",
        "learnlr.optimizers.adam",
        "learnlr.optimizers.schedule_free",
        "learnlr.schedules",
        "learnlr.trace",
        "learnlr.finder",
    ]:
        tests = finder.find(importlib.import_module(name), name)
        assert sum(len(t.examples) for t in tests) >= 3, name
