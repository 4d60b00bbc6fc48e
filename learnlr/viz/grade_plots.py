"""The class figure of a grading: marks per exercise, and the distribution of totals.

Kept apart from :mod:`learnlr.course.coursework` so that grading itself needs no display
library; it takes the grading's numbers, so it does not import the grading code.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = ["save_class_figure"]


def save_class_figure(summary, totals, path) -> Path:
    """Draw a grading's class figure and save it as a PNG.

    Args:
        summary: ``(exercise, passed, total)`` per exercise, as in
            ``Grading.summary`` (:mod:`learnlr.course.coursework`).
        totals: ``{student: {exercise: mark}}``, as the second value of
            :func:`learnlr.course.coursework.gradebook`.
        path: where to write the PNG.
    """
    names = [ex for ex, _, _ in summary]
    passed = [n for _, n, _ in summary]
    failed = [total - n for _, n, total in summary]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    ax0.bar(names, passed, color="tab:green", label="pass")
    ax0.bar(names, failed, bottom=passed, color="tab:red", label="fail")
    ax0.set_xlabel("exercise")
    ax0.set_ylabel("students")
    ax0.set_title("marks per exercise")
    ax0.legend()
    sums = [sum(marks.values()) for marks in totals.values()]
    most = max(len(names), 1)
    ax1.hist(sums, bins=[k - 0.5 for k in range(most + 2)], color="tab:blue", rwidth=0.9)
    ax1.set_xlabel("exercises passed")
    ax1.set_ylabel("students")
    ax1.set_title("distribution of totals")
    for axis in (ax0.yaxis, ax1.xaxis, ax1.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
