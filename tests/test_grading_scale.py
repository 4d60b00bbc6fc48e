"""Grading in parallel and on a Dask cluster gives the same marks as grading one at a time."""

from pathlib import Path

from distributed import LocalCluster

from learnlr.course import coursework

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
NOTEBOOKS = ROOT / "notebooks"


def _marks(result):
    # hidden cases are drawn afresh for each grading, so compare marks, not the numbers shown
    return [(g.student, g.exercise, g.passed) for g in result.grades]


def test_serial_parallel_and_dask_grades_are_identical(tmp_path):
    serial = coursework.grade(SUBMISSIONS, src=NOTEBOOKS, timeout=10, jobs=1)
    parallel = coursework.grade(SUBMISSIONS, src=NOTEBOOKS, timeout=10, jobs=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        dask = coursework.grade(
            SUBMISSIONS,
            src=NOTEBOOKS,
            timeout=10,
            scheduler=cluster.scheduler_address,
            out=tmp_path,
        )
    assert _marks(serial) == _marks(parallel) == _marks(dask)
    assert serial.summary == parallel.summary == dask.summary
    assert [r[:2] for r in serial.runs] == [r[:2] for r in dask.runs]
    assert (tmp_path / "canvas.csv").read_text().startswith("Student,ID,SIS User ID")


def test_jobs_must_be_a_positive_int():
    import pytest

    with pytest.raises(ValueError, match="grade: jobs must be an int >= 1, got 0"):
        coursework.grade(SUBMISSIONS, src=NOTEBOOKS, jobs=0)


def test_instructor_notebooks_are_read_once_and_again_when_they_change(tmp_path):
    # grading reads and analyses the instructor notebooks once per version of the files
    # (a serial cost that would otherwise come with every grading and every Dask task)
    src = tmp_path / "src"
    src.mkdir()
    chapter = src / "01_gradient_update.ipynb"
    chapter.write_bytes((NOTEBOOKS / chapter.name).read_bytes())
    first = coursework._sources(src)
    assert coursework._sources(src) is first
    assert [ids for _, ids in first[0].regions] == [["1.1"], ["1.2"], ["1.3"]]
    nb = chapter.read_text().replace('\\"1.3\\"', '\\"1.4\\"')
    chapter.write_text(nb + "\n")
    again = coursework._sources(src)
    assert again is not first
    assert [ids for _, ids in again[0].regions][-1] == ["1.4"]
