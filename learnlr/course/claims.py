r"""Chapter 11's helpers: the four claims made for adaptive learning rates, as experiments.

The claims are that adaptive methods (AdaGrad, RMSProp, Adam) converge faster, generalize
better, are more robust to the choice of the learning rate, and handle sparse gradients.
Each is tested by comparing the best adaptive method with the best non-adaptive one (plain
SGD, SGD with momentum) under several *conditions* (problems, settings). This module holds
what the chapter needs besides the runs themselves:

* :class:`Rule`, :func:`compare`, :func:`verdict` -- the verdict rules: one comparison per
  condition gives ``"for"``, ``"tie"`` or ``"against"``, and states the smallest advantage it
  could have detected (its margin; for a measurement repeated over seeds, the margin widened by
  the half-width of the 95% confidence interval of the advantage, all of which must lie past
  the margin); a claim is *supported* when some
  comparisons are for it and none against, *contradicted* when some are against and none
  for, *mixed* when there are both, and *not supported (no difference found)* when every
  comparison is a tie (a tie is never evidence against a claim);
* :func:`good_range` -- the rates whose final loss is within a factor of the best, and the
  width of that range in decades;
* :func:`first_below`, :func:`fastest_rate`, :func:`final_losses` -- steps to a target,
  the fastest rate of a grid, final losses over a grid;
* :func:`multi_start_quadratic` -- a 2-D bowl started from several points at once;
* :func:`wilson_problem`, :func:`min_norm_solution` -- the separable least-squares problem of
  Wilson et al. (2017) on which adaptive methods generalize badly;
* :func:`logistic_minimizer` -- the exact minimiser of a logistic-regression problem (Newton);
* :func:`seed_summary`, :func:`t_quantile` -- a measurement repeated over several seeds,
  summarised by its mean with a confidence interval (optionally on a log scale), median and
  range: a network trained once is not a finding, since its last digits (and sometimes its
  first) change with the rounding of the machine.

NumPy only; the chapter draws the figures.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from learnlr._checks import (
    check_batch_size,
    check_choice,
    check_int,
    check_interval,
    check_make_opt,
    check_nonnegative,
    check_positive,
    check_real,
    check_vector,
    short_repr,
)
from learnlr.problems import Problem, StochasticProblem, mlp, quadratic
from learnlr.problems.functions import check_problem
from learnlr.trace import run

__all__ = [
    "Rule",
    "Comparison",
    "compare",
    "Verdict",
    "verdict",
    "GoodRange",
    "good_range",
    "first_below",
    "Fastest",
    "fastest_rate",
    "final_losses",
    "seed_runs",
    "multi_start_quadratic",
    "WilsonProblem",
    "wilson_problem",
    "min_norm_solution",
    "logistic_minimizer",
    "SeedSummary",
    "seed_summary",
    "t_quantile",
]

OUTCOMES = ("for", "tie", "against")
VERDICTS = ("supported", "contradicted", "mixed", "not supported (no difference found)")
#: The fewest seeds a measurement repeated over seeds may have (one run ranks nothing).
MIN_SEEDS = 5


# --------------------------------------------------------------------------------------
# Verdict rules
# --------------------------------------------------------------------------------------
class Rule(NamedTuple):
    """How one claim's measurements are compared.

    ``lower_is_better`` says which way is good (steps, errors: lower; widths, accuracy:
    higher). ``scale="ratio"`` compares by the factor between the two values and needs
    ``margin > 1`` (e.g. 1.5: a factor of 1.5 either way decides); ``scale="difference"``
    compares by their difference and needs ``margin > 0``, in ``unit``.
    """

    lower_is_better: bool
    scale: str  # "ratio" or "difference"
    margin: float
    unit: str = ""


def _check_rule(func, rule):
    if not isinstance(rule, Rule):
        raise TypeError(f"{func}: rule must be a claims.Rule, got {rule!r}")
    check_choice(func, "rule.scale", rule.scale, ("ratio", "difference"))
    if rule.scale == "ratio" and not rule.margin > 1:
        raise ValueError(f"{func}: a ratio rule needs margin > 1, got {rule.margin!r}")
    if rule.scale == "difference" and not rule.margin > 0:
        raise ValueError(f"{func}: a difference rule needs margin > 0, got {rule.margin!r}")
    return rule


class Comparison(NamedTuple):
    """The best adaptive and the best non-adaptive method under one condition."""

    condition: str
    adaptive_name: str
    adaptive: float
    baseline_name: str
    baseline: float
    advantage: float  # > 1 (ratio) or > 0 (difference) means the adaptive method is better
    outcome: str  # "for", "tie" or "against" the claim
    rule: Rule
    n_seeds: int = 1  # 1: one measurement per method; else paired seeds
    half_width: float = (
        0.0  # of the 95% interval of the advantage (a factor for ratios; 0: one run)
    )

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% confidence interval of the advantage (a single point with one run)."""
        if self.n_seeds == 1:
            return self.advantage, self.advantage
        if self.rule.scale == "ratio":
            return self.advantage / self.half_width, self.advantage * self.half_width
        return self.advantage - self.half_width, self.advantage + self.half_width

    @property
    def detectable(self) -> float:
        """The smallest advantage this comparison could call (the margin, widened by the interval).

        A difference is called only when the whole 95% interval of the advantage lies past
        the margin, so (for an interval of the same width) the mean must be past the margin
        by the half-width: margin + half-width, or for the ratio scale margin x factor. With
        one run the half-width is 0 and this is the margin.
        """
        if self.rule.scale == "ratio":
            return self.rule.margin * (self.half_width if self.n_seeds > 1 else 1.0)
        return self.rule.margin + self.half_width

    @property
    def power(self) -> str:
        """The detectable advantage in words, in the rule's units."""
        size = (
            f"x{self.detectable:.3g}"
            if self.rule.scale == "ratio"
            else f"{self.detectable:.3g}{self.rule.unit}"
        )
        if self.n_seeds == 1:
            return f"detects {size} (the margin; one run)"
        lo, hi = self.interval
        fmt = (lambda v: f"x{v:.3g}") if self.rule.scale == "ratio" else (lambda v: f"{v:+.3g}")
        return f"detects {size} ({self.n_seeds} seeds, 95% CI {fmt(lo)} to {fmt(hi)})"

    @property
    def in_margins(self) -> float:
        """The advantage in units of the margin (+1 or -1 exactly at the margin, 0 for equal)."""
        if self.rule.scale == "ratio":
            if self.advantage <= 0 or np.isinf(self.advantage):
                return float(np.sign(self.advantage - 1)) * np.inf
            return float(np.log(self.advantage) / np.log(self.rule.margin))
        return self.advantage / self.rule.margin

    def describe(self) -> str:
        """One line: condition, both values, the advantage and the outcome."""
        if self.rule.scale == "ratio":
            adv = f"adaptive advantage x{self.advantage:.3g}"
        else:
            adv = f"adaptive advantage {self.advantage:+.3g}{self.rule.unit}"
        return (
            f"{self.condition}: best adaptive {self.adaptive_name} {self.adaptive:.4g}, "
            f"best non-adaptive {self.baseline_name} {self.baseline:.4g}; {adv} -> {self.outcome}"
        )


def compare(condition: str, results: dict, adaptive: Sequence[str], rule: Rule) -> Comparison:
    r"""Compare the best adaptive method with the best other one under ``rule``.

    ``results`` maps each method's name to its measurement (``inf`` for "never reached",
    ``nan`` for "not measured", which is skipped), or, for a measurement repeated over seeds,
    to a sequence of one value per seed (at least ``MIN_SEEDS``, the same seeds for every
    method, so that the seeds pair up). The best of each family is the lowest value
    (``rule.lower_is_better``) or the highest, for seeds the lowest or highest mean. The
    *advantage* of the adaptive family:

    * ratio scale: :math:`a = b / a_{ad}` when lower is better, :math:`a_{ad} / b` otherwise
      (:math:`b` the baseline); ``"for"`` if :math:`a \ge` margin, ``"against"`` if
      :math:`a \le 1/\text{margin}`, else ``"tie"``; two ``inf`` values tie;
    * difference scale: :math:`b - a_{ad}` when lower is better, :math:`a_{ad} - b`
      otherwise; ``"for"`` if above the margin, ``"against"`` if below minus the margin.

    Over seeds the advantage is computed seed by seed (the log of the ratio, or the
    difference), and the comparison reports their mean (for ratios, the geometric mean) with
    the half-width :math:`h = t_{0.975,\,n-1}\, s/\sqrt n` of its 95% confidence interval (for
    ratios, the factor :math:`10^h`). The same rule then applies to the whole interval: a
    difference is called only when every advantage in it is past the margin; otherwise the
    comparison is a tie. (One run is an interval of a single point.)

    Example:
        >>> rule = Rule(lower_is_better=True, scale="ratio", margin=1.5)
        >>> c = compare("bowl", {"sgd": 300, "momentum": 120, "adam": 40}, ["adam"], rule)
        >>> c.baseline_name, c.advantage, c.outcome
        ('momentum', 3.0, 'for')
        >>> seeds = {"sgd": [90, 110, 100, 95, 105], "adam": [40, 110, 30, 120, 50]}
        >>> c = compare("net", seeds, ["adam"], rule)   # ahead on average, not on every seed
        >>> round(c.advantage, 2), c.outcome, c.power
        (1.66, 'tie', 'detects x3.16 (5 seeds, 95% CI x0.787 to x3.49)')
    """
    name = "compare"
    rule = _check_rule(name, rule)
    if not isinstance(results, dict):
        raise TypeError(f"{name}: results must be a dict of method -> value, got {results!r}")
    adaptive = list(adaptive)
    unknown = [a for a in adaptive if a not in results]
    if unknown:
        raise ValueError(f"{name}: adaptive methods {unknown} have no result in {list(results)}")
    seeded = {k: np.ndim(v) > 0 for k, v in results.items()}
    if any(seeded.values()):
        return _compare_seeds(condition, results, adaptive, rule, seeded)
    values = {k: float(_check_real_or_inf(name, f"results[{k!r}]", v)) for k, v in results.items()}
    (ad_name, ad), (base_name, base) = _best_of_families(condition, values, adaptive, rule)
    if rule.scale == "ratio":
        num, den = (base, ad) if rule.lower_is_better else (ad, base)
        with np.errstate(all="ignore"):
            adv = 1.0 if (np.isinf(num) and np.isinf(den)) else float(np.divide(num, den))
        if np.isnan(adv):
            adv = 1.0
    else:
        adv = (base - ad) if rule.lower_is_better else (ad - base)
        if np.isnan(adv):
            adv = 0.0
    outcome = _outcome(adv, adv, rule)
    return Comparison(condition, ad_name, ad, base_name, base, float(adv), outcome, rule)


def _outcome(lo, hi, rule):
    """ "for" when the whole interval [lo, hi] of the advantage is past the margin, and so on."""
    if rule.scale == "ratio":
        return "for" if lo >= rule.margin else "against" if hi <= 1 / rule.margin else "tie"
    return "for" if lo > rule.margin else "against" if hi < -rule.margin else "tie"


def _best_of_families(condition, values, adaptive, rule):
    """(name, value) of the best adaptive and the best other method; nan = not measured."""
    fams = []
    for members in (adaptive, [k for k in values if k not in adaptive]):
        measured = {k: values[k] for k in members if not np.isnan(values[k])}
        if not measured:
            raise ValueError(f"compare: no measured value among {members} for {condition!r}")
        pick = min if rule.lower_is_better else max
        best = pick(measured, key=measured.get)
        fams.append((best, measured[best]))
    return fams


def _compare_seeds(condition, results, adaptive, rule, seeded):
    """:func:`compare` for values repeated over paired seeds."""
    name = "compare"
    if not all(seeded.values()):
        plain = [k for k, s in seeded.items() if not s]
        raise ValueError(
            f"{name}: either every method or none has one value per seed; {plain} have one value"
        )
    per_seed = {}
    for k, v in results.items():
        x = np.array([_check_real_or_inf(name, f"results[{k!r}]", e) for e in np.ravel(v)])
        if np.ndim(v) != 1 or x.size < MIN_SEEDS:
            raise ValueError(
                f"{name}: results[{k!r}] must be 1-D with at least {MIN_SEEDS} seeds, "
                f"got shape {np.shape(v)}"
            )
        per_seed[k] = x
    sizes = {x.size for x in per_seed.values()}
    if len(sizes) != 1:
        raise ValueError(f"{name}: every method needs the same seeds, got counts {sorted(sizes)}")
    means = {k: float(np.mean(x)) for k, x in per_seed.items()}
    (ad_name, ad), (base_name, base) = _best_of_families(condition, means, adaptive, rule)
    a, b = per_seed[ad_name], per_seed[base_name]
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError(
            f"{name}: the seeds of {ad_name} and {base_name} under {condition!r} must all be "
            "finite (pick rates at which every seed reached the target)"
        )
    sign = 1.0 if rule.lower_is_better else -1.0
    if rule.scale == "ratio":
        if np.any(a <= 0) or np.any(b <= 0):
            raise ValueError(f"{name}: a ratio rule over seeds needs positive values")
        d = sign * (np.log10(b) - np.log10(a))
    else:
        d = sign * (b - a)
    n = d.size
    mean, h = _mean_and_half_width(d)
    if rule.scale == "ratio":
        adv, half = float(10.0**mean), float(10.0**h)
        lo, hi = float(10.0 ** (mean - h)), float(10.0 ** (mean + h))
    else:
        adv, half, lo, hi = mean, h, mean - h, mean + h
    outcome = _outcome(lo, hi, rule)
    return Comparison(condition, ad_name, ad, base_name, base, adv, outcome, rule, n, half)


def _check_real_or_inf(func, name, value):
    """A real number, where ``inf`` and ``nan`` are allowed (never reached, not measured)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"{func}: {name} must be a number, got {value!r}")


class Verdict(NamedTuple):
    """A claim's verdict from its comparisons, with what it depends on."""

    claim: str
    verdict: str  # one of VERDICTS
    comparisons: tuple

    def count(self, outcome: str) -> int:
        return sum(c.outcome == outcome for c in self.comparisons)

    @property
    def key_number(self) -> str:
        """The range of the adaptive family's advantage over the conditions."""
        advs = np.array([c.advantage for c in self.comparisons])
        rule = self.comparisons[0].rule
        lo, hi = advs.min(), advs.max()
        if rule.scale == "ratio":
            return f"advantage x{lo:.2g} to x{hi:.2g}"
        return f"advantage {lo:+.3g} to {hi:+.3g}{rule.unit}"

    @property
    def depends_on(self) -> str:
        """The conditions where adaptive methods were ahead, level and behind."""
        parts = []
        for outcome, word in (("for", "ahead"), ("tie", "level"), ("against", "behind")):
            conds = [c.condition for c in self.comparisons if c.outcome == outcome]
            if conds:
                parts.append(f"{word} on {', '.join(conds)}")
        return "; ".join(parts)

    def __str__(self) -> str:
        return (
            f"{self.claim}: {self.verdict.upper()} ({self.count('for')} for, "
            f"{self.count('tie')} tie, {self.count('against')} against; {self.key_number})"
        )


def verdict(claim: str, comparisons: Sequence[Comparison]) -> Verdict:
    """The verdict on a claim from its comparisons, by a rule fixed before any experiment.

    * *supported*: some comparisons are "for" the claim and none "against" it;
    * *contradicted*: some are "against" and none "for";
    * *mixed*: some are "for" and some "against" (the conditions say on what it depends);
    * *not supported (no difference found)*: every comparison is a tie.

    A tie is never counted against a claim: it says the comparison found no difference
    larger than it could detect (:attr:`Comparison.detectable`), not that there is none.

    Example:
        >>> rule = Rule(True, "ratio", 1.5)
        >>> cs = [compare("a", {"sgd": 9.0, "adam": 3.0}, ["adam"], rule),
        ...       compare("b", {"sgd": 3.0, "adam": 3.5}, ["adam"], rule)]
        >>> v = verdict("faster", cs)
        >>> v.verdict, v.depends_on
        ('supported', 'ahead on a; level on b')
        >>> verdict("faster", cs[1:]).verdict
        'not supported (no difference found)'
    """
    comparisons = tuple(comparisons)
    if not comparisons or not all(isinstance(c, Comparison) for c in comparisons):
        raise TypeError(
            f"verdict: comparisons must be a non-empty list of Comparison, got {comparisons!r}"
        )
    n_for = sum(c.outcome == "for" for c in comparisons)
    n_against = sum(c.outcome == "against" for c in comparisons)
    if n_for and n_against:
        word = "mixed"
    elif n_for:
        word = "supported"
    elif n_against:
        word = "contradicted"
    else:
        word = "not supported (no difference found)"
    return Verdict(claim, word, comparisons)


# --------------------------------------------------------------------------------------
# Sweeps over the learning rate
# --------------------------------------------------------------------------------------
class GoodRange(NamedTuple):
    """The good rates of a sweep: within ``tol`` times the best final loss, around the best."""

    lo: float  # smallest good rate of the contiguous range holding the best rate
    hi: float  # largest good rate of that range
    width: float  # log10(hi / lo), in decades
    best: int  # index of the best rate
    good: np.ndarray  # boolean mask over the rates: within tol of the best (anywhere)


def good_range(lrs, final, tol=2.0) -> GoodRange:
    r"""The width, in decades, of the range of rates whose final loss is within ``tol`` of the best.

    With :math:`\ell^* = \min_i \ell_i` over the finite final losses, a rate is *good* when
    :math:`\ell_i \le \text{tol}\cdot\ell^*`; non-finite losses (diverged runs) are never
    good. The range is the run of consecutive good rates that contains the best one, and its
    width is :math:`\log_{10}(\eta_{hi}/\eta_{lo})` (0 when only the best rate is good).

    Args:
        lrs: increasing rates (> 0).
        final: the final loss (or excess loss, >= 0) of each rate; ``inf``/``nan`` = diverged.
        tol: the factor, >= 1 (2 means "within 2x of the best").

    Example:
        >>> lrs = [1e-3, 1e-2, 1e-1, 1.0, 10.0]
        >>> g = good_range(lrs, [5.0, 0.3, 0.2, 0.35, float("inf")], tol=2.0)
        >>> g.lo, g.hi, g.width
        (0.01, 1.0, 2.0)
    """
    name = "good_range"
    lrs = check_vector(name, "lrs", lrs)
    final = np.array(final, dtype=float)
    if lrs.ndim != 1 or final.shape != lrs.shape:
        raise ValueError(
            f"{name}: lrs and final must be 1-D of the same length, "
            f"got {lrs.shape} and {final.shape}"
        )
    if np.any(lrs <= 0) or np.any(np.diff(lrs) <= 0):
        raise ValueError(f"{name}: lrs must be positive and increasing")
    tol = check_real(name, "tol", tol)
    if tol < 1:
        raise ValueError(f"{name}: tol must be >= 1, got {tol!r}")
    ok = np.isfinite(final)
    if not ok.any():
        raise ValueError(f"{name}: every run diverged; there is no best rate")
    if np.any(final[ok] < 0):
        raise ValueError(f"{name}: final losses must be >= 0 (use excess losses f - f*)")
    f = np.where(ok, final, np.inf)
    best = int(np.argmin(f))
    good = f <= tol * f[best]
    lo = hi = best
    while lo > 0 and good[lo - 1]:
        lo -= 1
    while hi < len(f) - 1 and good[hi + 1]:
        hi += 1
    width = round(float(np.log10(lrs[hi] / lrs[lo])), 10)  # 0.25, not 0.25000000000000006
    return GoodRange(float(lrs[lo]), float(lrs[hi]), width, best, good)


def first_below(k, values, target) -> int | None:
    """The first ``k[i]`` with ``values[i] <= target`` (``None`` if there is none).

    Example:
        >>> first_below([0, 10, 20, 30], [1.0, 0.5, 0.09, 0.2], 0.1)
        20
    """
    k = np.asarray(k)
    values = np.asarray(values, dtype=float)
    if k.shape != values.shape:
        raise ValueError(f"first_below: k and values differ in shape, {k.shape} vs {values.shape}")
    hit = np.flatnonzero(values <= check_real("first_below", "target", target))
    return int(k[hit[0]]) if hit.size else None


class Fastest(NamedTuple):
    """The fastest rate of a grid and the steps it needed (``None``: no rate reached the target)."""

    lr: float | None
    steps: int | None
    steps_per_lr: np.ndarray  # steps of each rate (inf: diverged or not reached within its cap)


def fastest_rate(
    problem: Problem, make_opt: Callable, lrs, target: float, max_steps: int
) -> Fastest:
    r"""The rate of the grid ``lrs`` that reaches ``f - f* <= target`` in the fewest steps.

    Each rate runs ``make_opt(lr=rate)`` (``make_opt`` is a function ``lr -> optimizer``,
    e.g. ``optimizers.gd``) with ``stop_at_gap=target``. Rates are tried from the
    largest down, and each run gets at most as many steps as the best found so far (a run
    that needs more cannot win), which keeps the search cheap.

    Returns:
        A :class:`Fastest`; ``steps_per_lr`` is ``inf`` for a rate that diverged or did not
        reach the target within its allowance.

    Example:
        >>> from learnlr import optimizers, problems
        >>> bowl = problems.quadratic2d(kappa=10)
        >>> res = fastest_rate(bowl, optimizers.gd, [0.01, 0.1, 0.18, 0.3], 1e-6, 1000)
        >>> res.lr, res.steps, res.steps_per_lr.tolist()   # 0.1 and 0.01 cannot beat 39
        (0.18, 39, [inf, inf, 39.0, inf])
    """
    name = "fastest_rate"
    check_problem(name, problem)
    check_make_opt(name, make_opt)
    if problem.f_min is None:
        raise ValueError(f"{name}: problem must have a known f_min, got {problem!r} (f_min=None)")
    lrs = check_vector(name, "lrs", lrs)
    if lrs.ndim != 1 or np.any(lrs <= 0):
        raise ValueError(f"{name}: lrs must be a list of positive rates")
    target = check_positive(name, "target", target)
    max_steps = check_int(name, "max_steps", max_steps, 1)
    steps = np.full(lrs.shape, np.inf)
    best_i, best = None, max_steps
    for i in np.argsort(lrs)[::-1]:
        tr = run(problem, make_opt(lr=float(lrs[i])), best, stop_at_gap=target)
        if tr.stopped_at is not None:
            steps[i] = tr.n_updates
            if best_i is None or tr.n_updates < best:
                best_i, best = i, tr.n_updates
    if best_i is None:
        return Fastest(None, None, steps)
    return Fastest(float(lrs[best_i]), int(best), steps)


def final_losses(problem: Problem, make_opt: Callable, lrs, steps: int, f_star=None) -> np.ndarray:
    """Final ``f - f_star`` of ``make_opt(lr=rate)`` after ``steps`` updates, for each rate.

    ``make_opt`` is a function ``lr -> optimizer`` (e.g. ``optimizers.gd``).
    ``f_star`` defaults to ``problem.f_min`` (0 if unknown). A diverged run gives ``inf``.

    Example:
        >>> from learnlr import optimizers, problems
        >>> final_losses(problems.quadratic1d(a=1.0), optimizers.gd, [1.0, 1.5, 2.5], 30)
        array([0.00000000e+00, 1.73472348e-18,            inf])
    """
    name = "final_losses"
    check_problem(name, problem)
    check_make_opt(name, make_opt)
    lrs = check_vector(name, "lrs", lrs)
    steps = check_int(name, "steps", steps, 1)
    if f_star is None:
        f_star = problem.f_min if problem.f_min is not None else 0.0
    f_star = check_real(name, "f_star", f_star)
    out = np.empty(lrs.shape)
    for i, lr in enumerate(lrs):
        tr = run(problem, make_opt(lr=float(lr)), steps, record_every=steps)
        out[i] = np.inf if tr.diverged else max(tr.loss_final - f_star, 0.0)
    return out


def seed_runs(nets, make_opts: dict, lrs, epochs: int, path=None) -> dict:
    """Every method at every rate, each from every seed: ``{name: [results per rate]}``.

    ``make_opts`` maps a method's name to its function ``lr -> optimizer``;
    ``runs[name][i]`` is ``mlp.train_seeds(nets, make_opts[name](lr=lrs[i]), epochs)``: one
    :class:`~learnlr.problems.mlp.TrainResult` per network of ``nets`` (the seeds).

    Training them all is most of chapter 11's running time, so the results may be kept in
    the JSON file ``path``, with a key made of everything they depend on: each network's
    layers, activation, penalty, batch size, seed and starting weights, the data, each
    optimizer as ``repr`` shows it at each rate, and the number of epochs. A file whose key
    matches is read; otherwise the runs are trained now and written there (when the folder
    can be written), so a changed experiment is never answered from an old file. The code
    of the optimizers is not in the key: a test trains every method again at one rate and
    compares it with the file, and the chapter trains one run again and says whether it
    agrees. A run read from the file has no ``x_final`` (None): the chapter does not use it,
    and keeping every network's weights would make the file a hundred times larger.
    """
    name = "seed_runs"
    nets = list(nets)
    if not nets or not all(isinstance(p, mlp.MLPProblem) for p in nets):
        raise TypeError(f"{name}: nets must be a non-empty list of MLPProblem, got {nets!r}")
    if not isinstance(make_opts, dict):
        raise TypeError(
            f"{name}: make_opts must be a dict mapping a method's name to a function "
            f"lr -> optimizer, got {short_repr(make_opts)}"
        )
    for method, make_opt in make_opts.items():
        check_make_opt(name, make_opt, f"make_opts[{method!r}]")
    lrs = [float(v) for v in check_vector(name, "lrs", lrs)]
    epochs = check_int(name, "epochs", epochs, 1)
    key = _runs_key(nets, make_opts, lrs, epochs)
    stored = {}
    if path is not None and os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                stored = json.load(f)
        except (OSError, ValueError):  # unreadable here (or not JSON): trained instead
            stored = {}
    if stored.get("key") == key:
        return {
            method: [[_result(r) for r in seeds] for seeds in per_rate]
            for method, per_rate in stored["runs"].items()
        }
    runs = {
        method: [mlp.train_seeds(nets, make_opt(lr=lr), epochs) for lr in lrs]
        for method, make_opt in make_opts.items()
    }
    if path is not None:
        kept = {
            method: [[_record(r) for r in seeds] for seeds in per_rate]
            for method, per_rate in runs.items()
        }
        text = json.dumps({"key": key, "runs": kept}, separators=(",", ":"))
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError:  # a folder a reader cannot write: the runs are still returned
            pass
    return runs


def _runs_key(nets, make_opts, lrs, epochs) -> str:
    # numbers enter at single precision: a computer whose last bits differ finds the same key
    def fingerprint(a):
        return np.ascontiguousarray(np.asarray(a, dtype=np.float32)).tobytes()

    digest = hashlib.sha256()
    for p in nets:
        digest.update(repr((p.sizes, p.activation, p.l2, p.batch_size, p.seed)).encode())
        digest.update(fingerprint(p.x0))
    for array in nets[0].data:
        digest.update(fingerprint(array))
    for method, make_opt in make_opts.items():
        digest.update(repr((method, [repr(make_opt(lr=lr)) for lr in lrs], epochs)).encode())
    return digest.hexdigest()


_KEPT = ("train_loss", "val_loss", "val_acc", "test_acc")  # the curves kept in the file


def _record(r) -> dict:
    out = {f: np.asarray(getattr(r, f)).tolist() for f in ("k", *_KEPT)}
    out.update(diverged_at=r.diverged_at, status=r.status)
    return out


def _result(d: dict):
    arrays = {f: np.array(d[f], dtype=float) for f in _KEPT}
    k = np.array(d["k"], dtype=np.int64)
    return mlp.TrainResult(
        k=k, x_final=None, diverged_at=d["diverged_at"], status=d["status"], **arrays
    )


# --------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------
def multi_start_quadratic(kappa=10.0, angle=0.0, n_starts=4, radius=2.5, seed=0) -> Problem:
    r"""``n_starts`` copies of a 2-D bowl, each from its own start, run as one problem.

    The Hessian is block diagonal with ``n_starts`` copies of the bowl of
    :func:`learnlr.problems.quadratic2d` (eigenvalues 1 and ``kappa``, rotated by
    ``angle``); the copies start on a circle of ``radius`` around the minimum, at angles
    drawn from ``seed``. Every optimizer of the package acts coordinate by coordinate, so
    the copies never interact, and the loss is the sum of theirs: a rate that reaches the
    minimum quickly from one lucky start does not win unless it does so from all of them.

    Example:
        >>> p = multi_start_quadratic(kappa=100, n_starts=3)
        >>> p.dim, round(float(p.L), 6), round(float(p.mu), 6), p.f_min
        (6, 100.0, 1.0, 0.0)
    """
    name = "multi_start_quadratic"
    kappa = check_real(name, "kappa", kappa)
    if kappa < 1:
        raise ValueError(f"{name}: kappa must be >= 1, got {kappa!r}")
    angle = check_real(name, "angle", angle)
    n_starts = check_int(name, "n_starts", n_starts, 1)
    radius = check_positive(name, "radius", radius)
    seed = check_int(name, "seed", seed, 0)
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    A2 = R @ np.diag([1.0, kappa]) @ R.T
    A = np.kron(np.eye(n_starts), (A2 + A2.T) / 2)
    phis = np.random.default_rng(seed).uniform(0, 2 * np.pi, n_starts)
    x0 = radius * np.column_stack([np.cos(phis), np.sin(phis)]).ravel()
    deg = np.degrees(angle)
    label = f"{n_starts} starts, kappa={kappa:g}" + (f", rotated {deg:.0f} deg" if deg else "")
    return quadratic(A, x0=x0, name=label)


class WilsonProblem(StochasticProblem):
    """Wilson et al.'s separable least-squares problem; see :func:`wilson_problem`."""

    def test_error(self, w) -> float | np.ndarray:
        """Fraction of test points with ``sign(x . w) != y`` (an array for a stack of w)."""
        w = np.asarray(w, dtype=float)
        if w.shape[-1] != self.dim:
            raise ValueError(f"WilsonProblem.test_error: w must end in {self.dim}, got {w.shape}")
        pred = np.sign(w @ self.X_test.T)
        return np.mean(pred != self.y_test, axis=-1)

    def train_error(self, w) -> float | np.ndarray:
        """Fraction of training points with ``sign(x . w) != y``."""
        w = np.asarray(w, dtype=float)
        return np.mean(np.sign(w @ self.X.T) != self.y, axis=-1)


def _wilson_rows(y, first_free):
    """Feature rows of Wilson et al.'s construction, unique features starting at first_free."""
    n = len(y)
    X = np.zeros((n, first_free + 5 * n))
    X[:, 0], X[:, 1], X[:, 2] = y, 1.0, 1.0
    for i, yi in enumerate(y):
        start = first_free + 5 * i
        X[i, start : start + (1 if yi > 0 else 5)] = 1.0
    return X


def wilson_problem(n=60, p=0.6, n_test=2000, seed=0, batch_size=None) -> WilsonProblem:
    r"""The separable least-squares problem of Wilson et al. (2017, section 3.3).

    Labels :math:`y_i = \pm 1` with :math:`P(y_i = 1) = p`. Sample :math:`i` has features

    .. math::
        x_{i1} = y_i, \quad x_{i2} = x_{i3} = 1, \quad
        x_{ij} = 1 \text{ for } j = 4 + 5(i-1), \dots, 4 + 5(i-1) + 2(1 - y_i)

    (one feature of its own for a positive label, five for a negative one) and 0 elsewhere,
    so :math:`d = 3 + 5n` columns. The loss is :math:`f(w) = \frac{1}{2n}\|Xw - y\|^2`
    with :math:`f^* = 0`: with :math:`d > n` many :math:`w` fit the data exactly. A test
    point is a fresh sample; its own features lie outside the training columns, so within
    them it is :math:`(y, 1, 1, 0, \dots, 0)` and the prediction is
    :math:`\mathrm{sign}(w_1 y + w_2 + w_3)`.

    Gradient descent from 0 stays in the row space of :math:`X` and converges to the
    minimum-norm solution, which puts most weight on :math:`w_1` and classifies every test
    point correctly. When positive labels are the majority, :math:`X\,\mathrm{sign}(X^\top y)
    = 4y`, and AdaGrad, RMSProp and Adam from 0 keep :math:`w` proportional to
    :math:`\mathrm{sign}(X^\top y)` and converge to :math:`w = \mathrm{sign}(X^\top y)/4`
    (Wilson et al., Lemma 3.1), which predicts :math:`\mathrm{sign}((y + 2)/4) = +1` for every
    test point: its test error is the fraction of negative labels, about :math:`1 - p`.
    (With as many negative as positive labels, :math:`X^\top y` has zeros and the lemma does
    not apply; pick a ``seed`` whose labels are mostly positive.)

    Args:
        n: training samples (>= 2). p: probability of a positive label, in (0, 1).
        n_test: test samples (>= 1). seed: seeds the labels.
        batch_size: minibatch size (``None``: full batches, i.e. gradient descent).

    Example:
        >>> prob = wilson_problem(n=20, p=0.6, seed=1)
        >>> prob.X.shape, prob.f_min, int(prob.y.sum())   # 15 positive labels, 5 negative
        ((20, 103), 0.0, 10)
        >>> u = np.sign(prob.X.T @ prob.y)
        >>> bool(np.allclose(prob.X @ u, 4 * prob.y)), float(prob.test_error(u / 4))
        (True, 0.4)

    Wilson, Roelofs, Stern, Srebro & Recht (2017), "The marginal value of adaptive gradient
    methods in machine learning", NeurIPS, arXiv:1705.08292.
    """
    name = "wilson_problem"
    n = check_int(name, "n", n, 2)
    p = check_interval(name, "p", p, 0.0, 1.0, "()")
    n_test = check_int(name, "n_test", n_test, 1)
    seed = check_int(name, "seed", seed, 0)
    batch_size = check_batch_size(name, batch_size, n)
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < p, 1.0, -1.0)
    y_test = np.where(rng.random(n_test) < p, 1.0, -1.0)
    X = _wilson_rows(y, 3)
    X_test = np.zeros((n_test, X.shape[1]))
    X_test[:, 0], X_test[:, 1], X_test[:, 2] = y_test, 1.0, 1.0

    def sample_loss(w, Xb, yb):
        r = np.asarray(w) @ Xb.T - yb
        return 0.5 * np.mean(r**2, axis=-1)

    def sample_grad(w, Xb, yb):
        return Xb.T @ (Xb @ w - yb) / len(yb)

    eig = np.linalg.eigvalsh(X.T @ X / n)
    prob = WilsonProblem(
        f"wilson n={n} p={p:g}",
        X,
        y,
        sample_loss,
        sample_grad,
        batch_size,
        seed,
        x0=np.zeros(X.shape[1]),
        f_min=0.0,
        L=float(eig.max()),
    )
    prob.X_test, prob.y_test, prob.p = X_test, y_test, p
    return prob


def min_norm_solution(X, y) -> np.ndarray:
    r"""The least-squares solution of smallest norm, :math:`w = X^+ y`.

    For a wide :math:`X` of full row rank it is :math:`X^\top (X X^\top)^{-1} y`, the only
    solution of :math:`Xw = y` in the row space of :math:`X`: where gradient descent from 0
    converges.

    Example:
        >>> min_norm_solution(np.array([[1.0, 1.0]]), np.array([2.0]))
        array([1., 1.])
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            "min_norm_solution: need X of shape (n, d) and y of shape (n,), "
            f"got {X.shape} and {y.shape}"
        )
    return np.linalg.pinv(X) @ y


def logistic_minimizer(problem: StochasticProblem, l2: float, iters=50, tol=1e-10) -> np.ndarray:
    r"""The minimiser of a logistic-regression problem with L2 penalty ``l2``, by Newton's method.

    .. math::
        w \leftarrow w - H^{-1} \nabla f(w), \qquad
        H = \tfrac1n X^\top \mathrm{diag}(p(1 - p)) X + l_2 I, \quad p = \sigma(Xw)

    from :math:`w = 0`, until :math:`\|\nabla f\| \le` ``tol``. ``l2`` must be the penalty
    the problem was built with (``problem.grad`` is used for the gradient; a mismatch shows
    up as a gradient that does not vanish, which raises).

    Example:
        >>> from learnlr import problems
        >>> lr_prob = problems.logistic_regression(l2=1e-3)
        >>> w = logistic_minimizer(lr_prob, l2=1e-3)
        >>> bool(np.linalg.norm(lr_prob.grad(w)) < 1e-10)
        True
    """
    name = "logistic_minimizer"
    if not isinstance(problem, StochasticProblem):
        raise TypeError(f"{name}: problem must be a logistic-regression problem, got {problem!r}")
    l2 = check_nonnegative(name, "l2", l2)
    iters = check_int(name, "iters", iters, 1)
    tol = check_positive(name, "tol", tol)
    X = problem.X
    w = np.zeros(problem.dim)
    for _ in range(iters):
        g = problem.grad(w)
        if np.linalg.norm(g) <= tol:
            return w
        p = 0.5 * (1 + np.tanh(0.5 * (X @ w)))
        H = (X * (p * (1 - p))[:, None]).T @ X / len(X) + l2 * np.eye(problem.dim)
        w = w - np.linalg.solve(H, g)
    g = problem.grad(w)
    if np.linalg.norm(g) > tol:
        raise ValueError(
            f"{name}: the gradient is still {np.linalg.norm(g):.3g} after {iters} Newton steps; "
            f"is l2={l2!r} the problem's penalty?"
        )
    return w


# --------------------------------------------------------------------------------------
# Several seeds
# --------------------------------------------------------------------------------------
#: Two-sided 95% quantiles of Student's t, t(0.975, df), for df = 1, ..., 30.
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip


def t_quantile(df: int) -> float:
    r"""The 97.5% quantile of Student's t distribution with ``df`` degrees of freedom.

    It is the factor of a two-sided 95% confidence interval of a mean of :math:`n` values,
    :math:`\bar x \pm t_{0.975,\,n-1}\, s / \sqrt n`. Tabulated (4 decimals) for
    ``df <= 30``; beyond, the first terms of its expansion in :math:`1/df` around the normal
    quantile :math:`z = 1.95996`, :math:`z + (z^3 + z)/(4\,df) + (5z^5 + 16z^3 + 3z)/(96\,df^2)`,
    within 0.001 of the exact value.

    Example:
        >>> t_quantile(4), t_quantile(1000) < 1.963
        (2.7764, True)
    """
    df = check_int("t_quantile", "df", df, 1)
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def _mean_and_half_width(y: np.ndarray) -> tuple[float, float]:
    """The mean of ``y`` and the half-width of its 95% Student-t confidence interval."""
    n = y.size
    return float(y.mean()), t_quantile(n - 1) * float(y.std(ddof=1)) / np.sqrt(n)


class SeedSummary(NamedTuple):
    r"""One measurement over several seeds: mean with a 95% confidence interval, median, range.

    With ``log=True`` the summary is of :math:`\log_{10}` of the values and reported back on
    the original scale, so ``mean`` is the geometric mean and the interval is a factor range.
    """

    n: int
    mean: float  # arithmetic mean, or geometric mean with log=True
    lo: float  # 95% confidence interval of the mean
    hi: float
    median: float
    min: float
    max: float
    log: bool

    def below(self, other: SeedSummary | float) -> bool:
        """True when this interval lies entirely below ``other`` (an interval or a number)."""
        top = other.lo if isinstance(other, SeedSummary) else float(other)
        return bool(self.hi < top)

    def above(self, other: SeedSummary | float) -> bool:
        """True when this interval lies entirely above ``other`` (an interval or a number)."""
        bottom = other.hi if isinstance(other, SeedSummary) else float(other)
        return bool(self.lo > bottom)


def seed_summary(values, log=False) -> SeedSummary:
    r"""Summarise one measurement repeated over ``n >= 2`` seeds.

    The 95% confidence interval of the mean is :math:`\bar x \pm t_{0.975,\,n-1}\, s/\sqrt n`
    (:math:`s` the sample standard deviation, Student's t from :func:`t_quantile`). With
    ``log=True`` (for positive values spread over orders of magnitude, such as final losses)
    the same is computed on :math:`\log_{10} x` and transformed back: the geometric mean and
    an interval of factors. A conclusion drawn from two summaries should hold for their whole
    intervals (:meth:`SeedSummary.below`, :meth:`SeedSummary.above`); if the intervals
    overlap, the seeds do not decide.

    Example:
        >>> s = seed_summary([1.0, 2.0, 3.0, 4.0, 5.0])
        >>> s.mean, round(s.lo, 4), round(s.hi, 4), s.median, s.min, s.max
        (3.0, 1.0368, 4.9632, 3.0, 1.0, 5.0)
        >>> g = seed_summary([0.01, 0.1, 1.0], log=True)   # geometric mean 0.1
        >>> round(g.mean, 12), g.hi > 20, g.below(20.0)   # 3 seeds: a wide interval
        (0.1, True, False)
    """
    name = "seed_summary"
    x = check_vector(name, "values", values)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"{name}: values must be 1-D with at least 2 seeds, got shape {x.shape}")
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"{name}: log must be True or False, got {log!r}")
    if log and np.any(x <= 0):
        raise ValueError(f"{name}: log=True needs positive values, got min {x.min()!r}")
    y = np.log10(x) if log else x
    n = y.size
    m, half = _mean_and_half_width(y)
    back = (lambda v: float(10.0**v)) if log else float
    return SeedSummary(
        n, back(m), back(m - half), back(m + half), float(np.median(x)), float(x.min()),
        float(x.max()), bool(log),
    )  # fmt: skip
