"""One name per idea in the package's public signatures (CONTRIBUTING.md, "One vocabulary").

* ``opt`` is an optimizer, already built; ``make_opt`` is a function ``lr -> optimizer``;
  ``factory`` is an optimizer's own factory function, called with its hyper-parameters by
  keyword, and appears only where that is what a function takes;
* a function that takes a problem and an optimizer takes the problem first, as ``run`` does;
* rates are ``lr``, ``base_lr``, ``max_lr`` (and PyTorch's ``eta_min``, ``min_lr``, and
  ``final_lr``), with no synonyms;
* the decoupled weight decay option is ``decoupled_weight_decay`` in every optimizer;
* schedules and the plateau controller use the optimizers' names: ``hyperparams``,
  ``init``/``step``.

The signatures are read from the source (no module is imported for it), so a new public
function is checked as soon as it is written.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import learnlr
from learnlr import optimizers, run, schedules
from learnlr.optimizers.base import Optimizer
from learnlr.problems import online

PACKAGE = Path(learnlr.__file__).resolve().parent

# The functions whose `factory` is an optimizer's own factory function (hyper-parameters by
# keyword), not a function of the rate alone.
FACTORY_USERS = {
    "learnlr.optimizers.base.hyperparams",  # reads the factory's signature
    "learnlr.viz.widgets.optimizer_demo",  # one slider per hyper-parameter; titled by name
}
# Names that once meant what make_opt, base_lr, max_lr or decoupled_weight_decay mean.
SYNONYMS = {
    "factories": "make_opts",
    "opt_factory": "make_opt",
    "optimizer_factory": "make_opt",
    "make_optimizer": "make_opt",
    "peak_lr": "max_lr",
    "init_lr": "base_lr",
    "initial_lr": "base_lr",
    "learning_rate": "lr",
    "decouple": "decoupled_weight_decay",
    "params": "hyperparams",
}


def _public_functions():
    """(qualified name, ast node) of every public function and method of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        if any(part.startswith("_") for part in module.split(".")[1:]):
            continue  # a private module (learnlr._checks, course._worker)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        todo = [(module, node) for node in tree.body]
        while todo:
            prefix, node = todo.pop()
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                todo += [(f"{prefix}.{node.name}", child) for child in node.body]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not node.name.startswith("_") or node.name == "__init__":
                    yield f"{prefix}.{node.name}", node


def _arguments(node) -> list[str]:
    a = node.args
    return [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg not in ("self", "cls")]


FUNCTIONS = list(_public_functions())


def test_the_survey_sees_the_package():
    names = {name for name, _ in FUNCTIONS}
    assert {
        "learnlr.trace.run",
        "learnlr.finder.lr_find",
        "learnlr.schedules.Schedule.__init__",
        "learnlr.problems.online.run_online",
    } <= names
    assert len(names) > 200


def test_factory_is_only_an_optimizers_own_factory_and_make_opt_a_function_of_the_rate():
    wrong = [
        name
        for name, node in FUNCTIONS
        if "factory" in _arguments(node) and name not in FACTORY_USERS
    ]
    assert not wrong, (
        "a function lr -> optimizer is called make_opt; factory means an optimizer's own "
        f"factory function, taken only by {sorted(FACTORY_USERS)}: {wrong}"
    )
    for name in FACTORY_USERS:
        assert any(n == name and "factory" in _arguments(f) for n, f in FUNCTIONS), name


def test_no_synonym_is_left_in_a_signature():
    found = [
        f"{name}({arg}): say {SYNONYMS[arg]}"
        for name, node in FUNCTIONS
        for arg in _arguments(node)
        if arg in SYNONYMS
    ]
    assert not found, "\n".join(found)


def test_an_opt_argument_is_an_optimizer_never_called_to_make_one():
    called = []
    for name, node in FUNCTIONS:
        if "opt" not in _arguments(node):
            continue
        for sub in ast.walk(node):
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Name)
                and sub.func.id == "opt"
            ):
                called.append(name)
    assert not called, f"opt(...) is called, so it is a make_opt: {called}"


def test_the_problem_comes_before_the_optimizer_as_in_run():
    assert list(inspect.signature(run).parameters)[:3] == ["problem", "opt", "steps"]
    assert list(inspect.signature(online.run_online).parameters)[:3] == [
        "problem",
        "opt",
        "steps",
    ]
    wrong = []
    for name, node in FUNCTIONS:
        args = _arguments(node)
        for first in ("problem", "problems"):
            for second in ("opt", "make_opt"):
                if first in args and second in args and args.index(first) > args.index(second):
                    wrong.append(name)
    assert not wrong, f"the optimizer comes before the problem: {wrong}"


def test_run_online_refuses_the_old_order_naming_the_new_one():
    with pytest.raises(TypeError, match=r"the order is run_online\(problem, opt, steps\)"):
        online.run_online(optimizers.sgd(), online.reddi_problem(), 3)


@pytest.mark.parametrize("name", sorted(optimizers.REGISTRY))
def test_the_decoupled_weight_decay_option_has_one_name(name):
    arguments = inspect.signature(optimizers.REGISTRY[name]).parameters
    decoupling = [a for a in arguments if "decoupl" in a]
    assert decoupling in ([], ["decoupled_weight_decay"]), (name, decoupling)


def test_schedules_and_the_plateau_controller_use_the_optimizers_names():
    opt = optimizers.adam()
    assert isinstance(opt, Optimizer) and callable(opt.init) and callable(opt.step)
    s = schedules.cosine_annealing(base_lr=0.1, T_max=10)
    assert s.hyperparams == {"base_lr": 0.1, "T_max": 10, "eta_min": 0.0}
    assert not hasattr(s, "params")
    ctl = schedules.reduce_on_plateau(base_lr=0.1)
    assert ctl._fields == ("init", "step", "hyperparams")
    assert ctl.step(ctl.init(), 1.0).lr == 0.1
