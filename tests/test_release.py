"""One version everywhere, release metadata that agree, and the artefact checks of make release.

``scripts/release.py`` knows every place that names the version; these tests fail when one of
them disagrees with ``learnlr.__version__``, and check that ``bump`` rewrites them all (on a
copy of the files) without touching anything else in a notebook. Building the sdist and the
wheel and installing the wheel take a minute, so ``make release`` does that (``.ci/run`` runs
it); here the rules it applies to their file lists are tested on made-up lists.
"""

import datetime as dt
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import learnlr

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
release = importlib.util.module_from_spec(spec)
spec.loader.exec_module(release)

VERSION = learnlr.__version__


def _citation():
    """CITATION.cff's top-level scalar and list fields (the file is simple YAML)."""
    import yaml

    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


# ---- one version ---------------------------------------------------------------------------
def test_package_metadata_and_dunder_version_agree():
    assert importlib.metadata.version("learnlr") == VERSION


def test_pyproject_takes_the_version_from_the_package():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    assert not re.search(r"^version\s*=", project, re.MULTILINE), "a second, static version"
    assert re.search(r'^dynamic = \["version"\]$', project, re.MULTILINE)
    assert 'version = { attr = "learnlr.__version__" }' in text


def test_version_is_pep440_and_written_once_in_the_package():
    assert re.fullmatch(release.VERSION, VERSION), VERSION
    assert release.current_version() == VERSION
    hits = [
        path.name
        for path in (ROOT / "learnlr").glob("*.py")
        if re.search(r"^__version__\s*=", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert hits == ["__init__.py"]


def test_every_file_that_names_the_version_names_this_one():
    named = release.versions_named()
    assert {where for where, _ in named} == {"learnlr/__init__.py", "CITATION.cff", "book/intro.md"}
    wrong = [(where, v) for where, v in named if v != VERSION]
    assert not wrong, f"not {VERSION}: {wrong}; run make bump"


def test_citation_cff_version_is_the_package_version():
    assert _citation()["version"] == VERSION


# ---- the Colab cell ------------------------------------------------------------------------
def test_every_notebook_installs_this_version_in_colab():
    expected = release.colab_cell()
    assert f'"learnlr[notebooks]=={VERSION}"' in expected
    assert release.repository_url() in expected
    cells = release.colab_cells()
    on_disk = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert on_disk and len(cells) == len(on_disk), sorted(cells)
    wrong = {name: sources for name, sources in cells.items() if sources != [expected]}
    assert not wrong, f"Colab cells that differ from scripts/release.py's: {wrong}; make bump"


def test_colab_cell_is_hidden_silent_and_second():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        cell = nb.cells[1]
        assert "google.colab" in cell.source, f"{path.name}: cell 1 is not the Colab cell"
        assert cell.metadata.get("tags") == ["remove-cell"], path.name
        assert cell.outputs == [], path.name


def test_colab_cell_is_valid_python_and_does_nothing_outside_colab():
    source = release.colab_cell()
    compile(source, "<colab cell>", "exec")
    namespace = {}
    exec(source, namespace)  # not in Colab: only `import sys` runs
    assert "pip" not in namespace and "subprocess" not in namespace


def test_running_page_shows_the_colab_cell():
    text = (ROOT / "book" / "running.md").read_text(encoding="utf-8")
    shown = "".join(
        "  " + line if line.strip() else line
        for line in release.colab_cell().splitlines(keepends=True)
    )
    assert f"  ```python\n{shown}\n  ```\n" in text


# ---- changelog, citation, archive ----------------------------------------------------------
def test_changelog_dates_the_release_and_citation_agrees():
    date = release.changelog_date(VERSION)
    if not release.is_release(VERSION):  # a development version is still Unreleased
        assert date is None, f"CHANGELOG.md dates the development version {VERSION}"
        return
    assert date, f"CHANGELOG.md has no '## [{VERSION}] - YYYY-MM-DD' section"
    assert str(_citation()["date-released"]) == date
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert f"The learnlr authors ({date[:4]})" in intro
    assert f"  year    = {{{date[:4]}}}," in intro
    assert release.notes(VERSION).startswith("### Added")


def test_changelog_keeps_an_unreleased_section_first():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert VERSION in headings or not release.is_release(VERSION)


def test_zenodo_metadata_agree_with_citation_cff():
    zenodo = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    cff = _citation()
    assert zenodo["title"] == cff["title"]
    assert [c["name"] for c in zenodo["creators"]] == [a["name"] for a in cff["authors"]]
    assert zenodo["keywords"] == cff["keywords"]
    assert zenodo["license"] in cff["license"]
    assert zenodo["upload_type"] == "software"
    assert "version" not in zenodo, "Zenodo takes the version from the release tag"


def test_landing_page_shows_how_to_cite():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert "## How to cite" in intro
    assert "```bibtex\n@software{learnlr," in intro
    assert f"title   = {{{_citation()['title']}}}," in intro
    assert f"url     = {{{_citation()['url']}}}," in intro


# ---- bump, on a copy of the files it rewrites ------------------------------------------------
@pytest.fixture()
def copy(tmp_path):
    files = ["learnlr/__init__.py", "CITATION.cff", "CHANGELOG.md", "_config.yml"]
    for name in files + ["book/intro.md", "book/running.md", "scripts/release.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    return tmp_path


def _release(root, *args):
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "release.py"), *args],
        capture_output=True,
        text=True,
    )


def test_bump_writes_the_version_everywhere_and_changes_only_the_colab_cell(copy):
    changelog = (copy / "CHANGELOG.md").read_text(encoding="utf-8")
    (copy / "CHANGELOG.md").write_text(
        changelog.replace("## [Unreleased]\n", "## [Unreleased]\n\n### Added\n\n- more\n", 1)
    )
    before = {p.name: nbformat.read(p, as_version=4) for p in (copy / "notebooks").glob("*.ipynb")}

    result = _release(copy, "bump", "9.8.7")
    assert result.returncode == 0, result.stderr
    n_notebooks = len(list((copy / "notebooks").glob("*.ipynb")))
    assert f"rewritten in {n_notebooks} notebooks" in result.stdout

    today = dt.date.today().isoformat()
    assert 'version: "9.8.7"' in (copy / "CITATION.cff").read_text()
    assert f'date-released: "{today}"' in (copy / "CITATION.cff").read_text()
    intro = (copy / "book" / "intro.md").read_text()
    assert "(Version 9.8.7)" in intro and "version = {9.8.7}," in intro
    assert f"The learnlr authors ({today[:4]})" in intro
    assert '__version__ = "9.8.7"' in (copy / "learnlr" / "__init__.py").read_text()
    assert '"learnlr[notebooks]==9.8.7"' in (copy / "book" / "running.md").read_text()
    text = (copy / "CHANGELOG.md").read_text()
    assert f"## [Unreleased]\n\n## [9.8.7] - {today}\n\n### Added\n\n- more\n" in text

    for name, old in before.items():
        new = nbformat.read(copy / "notebooks" / name, as_version=4)
        assert new.metadata == old.metadata
        assert len(new.cells) == len(old.cells)
        changed = [i for i, (a, b) in enumerate(zip(old.cells, new.cells, strict=True)) if a != b]
        assert changed == [1], name
        assert '"learnlr[notebooks]==9.8.7"' in new.cells[1].source
        assert new.cells[1].execution_count == old.cells[1].execution_count

    # a second bump to the same version changes nothing
    snapshot = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert _release(copy, "bump", "9.8.7").returncode == 0
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == snapshot

    # a development version: the cells name it, the CHANGELOG keeps its sections
    assert _release(copy, "bump", "9.9.0.dev0").returncode == 0
    assert (copy / "CHANGELOG.md").read_text() == text
    cell = nbformat.read(copy / "notebooks" / "01_gradient_update.ipynb", as_version=4).cells[1]
    assert '"learnlr[notebooks]==9.9.0.dev0"' in cell.source


def test_bump_points_the_colab_cell_at_the_forks_repository(copy):
    config = (copy / "_config.yml").read_text()
    (copy / "_config.yml").write_text(
        config.replace("https://github.com/learnlr/learnlr", "https://gitlab.com/someone/fork")
    )
    assert _release(copy, "bump").returncode == 0
    cell = nbformat.read(copy / "notebooks" / "05_adam.ipynb", as_version=4).cells[1].source
    assert '"learnlr[notebooks] @ git+https://gitlab.com/someone/fork"' in cell
    assert f'"learnlr[notebooks]=={VERSION}"' in cell


@pytest.mark.parametrize("bad", ["1.2", "v1.2.3", "1.2.3-dev", "1.2.3 "])
def test_bump_refuses_a_malformed_version(copy, bad):
    result = _release(copy, "bump", bad)
    assert result.returncode != 0
    assert "bump: version must look like 1.2.3" in result.stderr
    assert (copy / "learnlr" / "__init__.py").read_text() == (
        ROOT / "learnlr" / "__init__.py"
    ).read_text()


def _set_version(root, version):
    init = root / "learnlr" / "__init__.py"
    init.write_text(re.sub(r'__version__ = ".*"', f'__version__ = "{version}"', init.read_text()))


def test_check_tag(copy):
    _set_version(copy, "9.8.7")
    undated = _release(copy, "check-tag", "v9.8.7")
    assert undated.returncode != 0 and "no '## [9.8.7] - YYYY-MM-DD' section" in undated.stderr
    changelog = copy / "CHANGELOG.md"
    changelog.write_text(_with_new_section(changelog.read_text()))
    ok = _release(copy, "check-tag", "v9.8.7")
    assert ok.returncode == 0, ok.stderr
    other = _release(copy, "check-tag", "v9.8.8")
    assert other.returncode != 0 and "does not name the package's version 9.8.7" in other.stderr
    _set_version(copy, "9.9.0.dev0")
    dev = _release(copy, "check-tag", "v9.9.0.dev0")
    assert dev.returncode != 0 and "development version" in dev.stderr


_NEW_SECTION = "## [9.8.7] - 2031-01-02\n\n### Fixed\n\n- a bug\n\n"


def _with_new_section(text: str) -> str:
    """The changelog with a section for 9.8.7 above the newest release (below *Unreleased*,
    whatever that holds today)."""
    newest = text.index("\n## [", text.index("## [Unreleased]")) + 1
    return text[:newest] + _NEW_SECTION + text[newest:]


def test_notes_are_the_versions_changelog_section(copy):
    changelog = copy / "CHANGELOG.md"
    changelog.write_text(_with_new_section(changelog.read_text()))
    result = _release(copy, "notes", "9.8.7")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "### Fixed\n\n- a bug\n"


# ---- the artefacts' file lists ---------------------------------------------------------------
PACKAGE = {"learnlr/__init__.py", "learnlr/optimizers/", "learnlr/viz/widgets.py"}
INFO = f"learnlr-{VERSION}.dist-info/"
GOOD_WHEEL = sorted(PACKAGE | {INFO + name for name in release.WHEEL_METADATA})
TOP = f"learnlr-{VERSION}/"
GOOD_SDIST = sorted(TOP + name for name in PACKAGE | release.SDIST_EXTRAS)


def test_file_list_rules_accept_the_package_alone():
    assert release.wheel_problems(GOOD_WHEEL, VERSION, PACKAGE) == []
    assert release.sdist_problems(GOOD_SDIST, VERSION, PACKAGE) == []


@pytest.mark.parametrize(
    "extra",
    [
        "notebooks/01_gradient_update.ipynb",
        "tests/test_optimizers.py",
        "learnlr/__pycache__/x.pyc",
        "_build/html/index.html",
        "scripts/release.py",
    ],
)
def test_file_list_rules_refuse_anything_else(extra):
    assert release.wheel_problems(GOOD_WHEEL + [extra], VERSION, PACKAGE) == [
        f"wheel: unexpected file {extra}"
    ]
    assert release.sdist_problems(GOOD_SDIST + [TOP + extra], VERSION, PACKAGE) == [
        f"sdist: unexpected file {extra}"
    ]


def test_file_list_rules_notice_a_missing_module():
    wheel = [n for n in GOOD_WHEEL if n != "learnlr/viz/widgets.py"]
    sdist = [n for n in GOOD_SDIST if n != TOP + "learnlr/viz/widgets.py"]
    assert release.wheel_problems(wheel, VERSION, PACKAGE) == [
        "wheel: missing learnlr/viz/widgets.py"
    ]
    assert release.sdist_problems(sdist, VERSION, PACKAGE) == [
        "sdist: missing learnlr/viz/widgets.py"
    ]


def test_extras_of_the_release_tools():
    # make check-citation installs this extra into an environment of its own
    assert release.requirements("citation") == ["cffconvert==2.0.0"]
    assert sorted(release.requirements("release")) == ["build", "twine"]


def test_package_files_are_the_tracked_modules():
    files = release.package_files()
    assert "learnlr/__init__.py" in files and "learnlr/viz/widgets.py" in files
    assert all(name.startswith("learnlr/") and name.endswith(".py") for name in files)
