"""Releasing learnlr: one version everywhere, artefacts that carry the package and nothing else.

    python scripts/release.py version            print the version (from learnlr/__init__.py)
    python scripts/release.py bump [X.Y.Z]       write X.Y.Z (default: the current version)
                                                 into every place that names it (below)
    python scripts/release.py check-dist DIR     the sdist and wheel in DIR: file lists, sizes
    python scripts/release.py smoke WHEEL        install WHEEL into a fresh virtual environment
                                                 outside the repository: check the bare wheel
                                                 (NumPy only), then run a smoke test with the
                                                 notebooks extra
    python scripts/release.py check-tag TAG      TAG is v<version> of a dated CHANGELOG section
    python scripts/release.py notes [X.Y.Z]      the CHANGELOG section of a version
    python scripts/release.py requirements EXTRA the requirements of one of learnlr's extras

The version is written once, as ``__version__`` in ``learnlr/__init__.py``; the package
metadata reads it from there (``[tool.setuptools.dynamic]`` in pyproject.toml). Other files
must name it as text, so ``bump`` rewrites them all and ``tests/test_release.py`` fails when
one disagrees:

* ``CITATION.cff`` (``version``; ``date-released`` from the CHANGELOG section's date),
* ``book/intro.md`` (the citation and its BibTeX),
* the hidden Colab cell of every notebook, and its copy in ``book/running.md``: it installs
  ``learnlr[notebooks]==<version>`` from the package index, or the repository's code when
  that version is not there (an unreleased build, such as ``0.2.0.dev0``);
* ``CHANGELOG.md``: for a release version (no ``.dev``), ``bump`` renames the
  ``## [Unreleased]`` section to ``## [X.Y.Z] - <today>`` and opens a new empty one.

The Colab cell's repository address is ``repository: url`` in ``_config.yml``, so in a fork
``bump`` also points the cells at the fork. Only that cell's source changes in a notebook.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "learnlr"
INIT = ROOT / PACKAGE / "__init__.py"
CITATION = ROOT / "CITATION.cff"
CHANGELOG = ROOT / "CHANGELOG.md"
INTRO = ROOT / "book" / "intro.md"
RUNNING = ROOT / "book" / "running.md"
CONFIG = ROOT / "_config.yml"
NOTEBOOKS = ROOT / "notebooks"
SMOKE = ROOT / "scripts" / "smoke_installed.py"

# PEP 440 versions as this project writes them: 1.2.3, 1.2.3rc1, 1.2.3.post1, 1.3.0.dev0
VERSION = r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?"

# Each place that names the version: (file, pattern whose one group is the version).
SITES = [
    (INIT, rf'^__version__ = "({VERSION})"$'),
    (CITATION, rf'^version: "({VERSION})"$'),
    (INTRO, rf"\(Version ({VERSION})\)"),
    (INTRO, rf"version = \{{({VERSION})\}}"),
]

# The release date (CITATION.cff) and its year in the citation on the landing page.
DATE_RELEASED = r'^date-released: "(\d{4}-\d{2}-\d{2})"$'
YEARS = [r"^> The learnlr authors \((\d{4})\)", r"^  year += \{(\d{4})\},$"]

COLAB_CELL = """\
# In Colab, install learnlr first (nothing happens elsewhere): the release this book was
# built with or, if that version is not on the package index yet, the repository's code.
import sys

if "google.colab" in sys.modules:
    import subprocess

    release = "learnlr[notebooks]=={version}"
    repository = "learnlr[notebooks] @ git+{url}"
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    if subprocess.run([*pip, release], capture_output=True).returncode != 0:
        subprocess.run([*pip, repository], check=True)"""

# What a wheel and an sdist may hold besides the package's own files (paths below the
# sdist's top folder or the wheel's .dist-info folder).
WHEEL_METADATA = {"METADATA", "WHEEL", "RECORD", "top_level.txt", "licenses/LICENSE"}
SDIST_EXTRAS = {
    "PKG-INFO",
    "setup.cfg",
    "pyproject.toml",
    "MANIFEST.in",
    "README.md",
    "LICENSE",
    f"{PACKAGE}.egg-info/PKG-INFO",
    f"{PACKAGE}.egg-info/SOURCES.txt",
    f"{PACKAGE}.egg-info/dependency_links.txt",
    f"{PACKAGE}.egg-info/requires.txt",
    f"{PACKAGE}.egg-info/top_level.txt",
}

# Run on the wheel installed without extras: NumPy and learnlr only.
LIGHT_CHECK = """\
import importlib.util
from learnlr import optimizers, problems, run
for name in ("matplotlib", "ipywidgets", "sklearn"):
    assert importlib.util.find_spec(name) is None, name + " came with the bare wheel"
tr = run(problems.quadratic2d(kappa=10), optimizers.adam(lr=0.1), 50)
assert tr.loss_final < tr.loss[0], tr.status
try:
    import learnlr.viz
except ImportError as e:
    assert "learnlr[notebooks]" in str(e), e
else:
    raise AssertionError("learnlr.viz imported without matplotlib")
print("smoke: the bare wheel runs learnlr.run with NumPy alone; learnlr.viz asks for the extra")
"""


def fail(message: str) -> None:
    sys.exit(f"release: {message}")


# ---- the version and the places that name it ----------------------------------------------
def current_version() -> str:
    match = re.search(SITES[0][1], INIT.read_text(encoding="utf-8"), re.MULTILINE)
    if not match:
        fail(f'no __version__ = "X.Y.Z" line in {INIT.relative_to(ROOT)}')
    return match.group(1)


def is_release(version: str) -> bool:
    return ".dev" not in version


def repository_url() -> str:
    """``repository: url`` of _config.yml (read as text: the file is simple YAML)."""
    match = re.search(
        r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)",
        CONFIG.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    if not match:
        fail(f"no repository: url: in {CONFIG.relative_to(ROOT)}")
    return match.group(1)


def colab_cell(version: str | None = None, url: str | None = None) -> str:
    """The source of the hidden Colab install cell for this version and repository."""
    return COLAB_CELL.format(version=version or current_version(), url=url or repository_url())


def versions_named() -> list[tuple[str, str]]:
    """(where, version) for every place that names a version; a missing one is ("where", "")."""
    found = []
    for path, pattern in SITES:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT).as_posix()
        matches = re.findall(pattern, text, re.MULTILINE)
        found += [(where, v) for v in matches] or [(where, "")]
    return found


def colab_cells() -> dict[str, list[str]]:
    """For each notebook, the sources of its code cells that install learnlr in Colab."""
    import nbformat

    cells = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        cells[path.relative_to(ROOT).as_posix()] = [
            cell.source
            for cell in nb.cells
            if cell.cell_type == "code" and "google.colab" in cell.source
        ]
    return cells


def changelog_date(version: str) -> str | None:
    """The date of ``## [version] - YYYY-MM-DD`` in CHANGELOG.md, or None."""
    match = re.search(
        rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$",
        CHANGELOG.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    return match.group(1) if match else None


def _replace_all(path: Path, pattern: str, value: str) -> None:
    """Put ``value`` in place of group 1 of every match of ``pattern`` in ``path``."""

    def put(match):
        head = match.group(0)[: match.start(1) - match.start()]
        tail = match.group(0)[match.end(1) - match.start() :]
        return head + value + tail

    text = path.read_text(encoding="utf-8")
    new, n = re.subn(pattern, put, text, flags=re.MULTILINE)
    if n == 0:
        fail(f"{path.relative_to(ROOT)}: nothing matches {pattern!r}")
    path.write_text(new, encoding="utf-8")


def _date_changelog(version: str, today: str) -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    if re.search(rf"^## \[{re.escape(version)}\]", text, re.MULTILINE):
        return
    if "\n## [Unreleased]\n" not in text:
        fail("CHANGELOG.md has no '## [Unreleased]' section to release")
    text = text.replace(
        "\n## [Unreleased]\n", f"\n## [Unreleased]\n\n## [{version}] - {today}\n", 1
    )
    CHANGELOG.write_text(text, encoding="utf-8")


def _write_colab_cells(source: str) -> list[str]:
    """Give every notebook's Colab cell this source; return the notebooks changed."""
    import nbformat

    changed = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        raw = path.read_text(encoding="utf-8")
        nb = nbformat.reads(raw, as_version=nbformat.NO_CONVERT)
        # nbformat writes what Jupyter and nbconvert write, so only the cell's lines change
        if nbformat.writes(nb) + "\n" != raw:
            fail(f"{path.name}: nbformat would rewrite more than the Colab cell; not touching it")
        cells = [c for c in nb.cells if c.cell_type == "code" and "google.colab" in c.source]
        if len(cells) != 1:
            fail(f"{path.name}: {len(cells)} Colab install cells, expected 1")
        if cells[0].source != source:
            cells[0].source = source
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            changed.append(path.name)
    return changed


def bump(version: str, today: str | None = None) -> None:
    if not re.fullmatch(VERSION, version):
        fail(f"bump: version must look like 1.2.3, 1.2.3rc1 or 1.3.0.dev0, got {version!r}")
    for path, pattern in SITES:
        _replace_all(path, pattern, version)
    if is_release(version):
        _date_changelog(version, today or dt.date.today().isoformat())
    date = changelog_date(version)
    if date:
        _replace_all(CITATION, DATE_RELEASED, date)
        for pattern in YEARS:
            _replace_all(INTRO, pattern, date[:4])
    cell = colab_cell(version)
    changed = _write_colab_cells(cell)
    running = RUNNING.read_text(encoding="utf-8")
    block = re.search(r"^( *)```python\n((?:\1.*\n|\n)*?)\1```$", running, re.MULTILINE)
    indent = block.group(1) if block else ""
    if block is None or "google.colab" not in block.group(2):
        fail("book/running.md: no ```python block with the Colab cell")
    shown = "".join(
        indent + line if line.strip() else line for line in cell.splitlines(keepends=True)
    )
    RUNNING.write_text(running.replace(block.group(2), shown + "\n", 1), encoding="utf-8")
    print(f"version {version}; Colab cell rewritten in {len(changed)} notebooks")


# ---- the built artefacts --------------------------------------------------------------------
def package_files() -> set[str]:
    """The package's files as git tracks them: what the wheel must carry, no more."""
    out = subprocess.run(
        ["git", "ls-files", PACKAGE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def wheel_problems(names: list[str], version: str, package: set[str]) -> list[str]:
    """What is wrong with a wheel holding these file names (empty list: nothing)."""
    info = f"{PACKAGE}-{version}.dist-info/"
    expected = package | {info + name for name in WHEEL_METADATA}
    problems = [f"wheel: unexpected file {n}" for n in sorted(set(names) - expected)]
    problems += [f"wheel: missing {n}" for n in sorted(expected - set(names))]
    return problems


def sdist_problems(names: list[str], version: str, package: set[str]) -> list[str]:
    """What is wrong with an sdist holding these member names (directories excluded)."""
    top = f"{PACKAGE}-{version}/"
    outside = [n for n in names if not n.startswith(top)]
    inside = {n[len(top) :] for n in names if n.startswith(top)}
    expected = package | SDIST_EXTRAS
    problems = [f"sdist: {n} is outside {top}" for n in outside]
    problems += [f"sdist: unexpected file {n}" for n in sorted(inside - expected)]
    problems += [f"sdist: missing {n}" for n in sorted((package | {"pyproject.toml"}) - inside)]
    return problems


def _artefacts(dist: Path, version: str) -> tuple[Path, Path]:
    wheel = dist / f"{PACKAGE}-{version}-py3-none-any.whl"
    sdist = dist / f"{PACKAGE}-{version}.tar.gz"
    others = sorted(set(dist.iterdir()) - {wheel, sdist})
    if not wheel.exists() or not sdist.exists() or others:
        found = ", ".join(p.name for p in sorted(dist.iterdir()))
        fail(f"{dist} should hold exactly {wheel.name} and {sdist.name}; it holds {found}")
    return wheel, sdist


def check_dist(dist: Path) -> None:
    version = current_version()
    wheel, sdist = _artefacts(dist, version)
    with zipfile.ZipFile(wheel) as zf:
        wheel_entries = [(i.filename, i.file_size) for i in zf.infolist() if not i.is_dir()]
    with tarfile.open(sdist) as tf:
        sdist_names = [m.name for m in tf.getmembers() if not m.isdir()]
    package = package_files()
    problems = wheel_problems([n for n, _ in wheel_entries], version, package)
    problems += sdist_problems(sdist_names, version, package)

    print(f"{wheel.name}: {wheel.stat().st_size / 1024:.1f} KiB, {len(wheel_entries)} files")
    for name, size in sorted(wheel_entries):
        print(f"  {size:8d}  {name}")
    top = f"{PACKAGE}-{version}/"
    inside = sorted(n[len(top) :] for n in sdist_names if n.startswith(top))
    in_package = [n for n in inside if n.startswith(PACKAGE + "/")]
    print(
        f"{sdist.name}: {sdist.stat().st_size / 1024:.1f} KiB, {len(sdist_names)} files: "
        f"{len(in_package)} in {PACKAGE}/, and "
        + ", ".join(n for n in inside if n not in in_package)
    )
    if problems:
        fail("\n  ".join(["the artefacts are not what they should be:", *problems]))
    print("check-dist: the wheel and the sdist carry the package and nothing else")


def smoke(wheel: Path) -> None:
    """Install ``wheel`` in a fresh environment outside the repository; run the smoke test."""
    wheel = wheel.resolve()
    with tempfile.TemporaryDirectory(prefix="learnlr-smoke-") as tmp:
        tmp = Path(tmp)
        if ROOT in tmp.parents:
            fail(f"the temporary folder {tmp} is inside the repository")
        env = tmp / "env"
        t0 = time.perf_counter()
        venv.create(env, with_pip=True)
        python = env / "bin" / "python"
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        work = tmp / "work"
        work.mkdir()
        run_env = {"PATH": f"{env / 'bin'}:/usr/bin:/bin", "MPLBACKEND": "Agg", "HOME": str(tmp)}
        # the wheel alone: the NumPy core runs, and learnlr.viz names the extra it needs
        subprocess.run([*pip, wheel], check=True)
        subprocess.run([python, "-I", "-c", LIGHT_CHECK], cwd=work, check=True, env=run_env)
        # with the notebooks extra: what a reader's first cells do
        subprocess.run([*pip, f"{wheel}[notebooks]"], check=True)
        t1 = time.perf_counter()
        print(f"smoke: fresh environment with the wheel and its dependencies in {t1 - t0:.0f} s")
        script = work / SMOKE.name
        shutil.copy(SMOKE, script)
        # -I: no PYTHONPATH, no user site-packages, no script folder on sys.path
        subprocess.run(
            [python, "-I", script.name],
            cwd=work,
            check=True,
            env=run_env,
        )
        print(f"smoke: test ran in {time.perf_counter() - t1:.0f} s")


# ---- tags, notes, extras --------------------------------------------------------------------
def check_tag(tag: str) -> None:
    version = current_version()
    if tag != f"v{version}":
        fail(f"tag {tag} does not name the package's version {version} (expected v{version})")
    if not is_release(version):
        fail(f"{version} is a development version; bump to a release version first")
    if changelog_date(version) is None:
        fail(f"CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' section")
    print(f"tag {tag}: version {version} of {changelog_date(version)}")


def notes(version: str) -> str:
    text = CHANGELOG.read_text(encoding="utf-8")
    match = re.search(
        rf"^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## |^\[|\Z)", text, re.MULTILINE | re.DOTALL
    )
    if not match:
        fail(f"CHANGELOG.md has no section for {version}")
    return match.group(1).strip() + "\n"


def requirements(extra: str) -> list[str]:
    """The requirements of one of the installed learnlr's extras, from its metadata."""
    import importlib.metadata

    marker = re.compile(rf"""^(.*?)\s*;\s*extra\s*==\s*["']{re.escape(extra)}["']\s*$""")
    found = [
        m.group(1) for r in importlib.metadata.requires(PACKAGE) or [] if (m := marker.match(r))
    ]
    if not found:
        fail(f"learnlr has no extra {extra!r} (is it installed, and up to date?)")
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version")
    sub.add_parser("bump").add_argument("version", nargs="?")
    sub.add_parser("check-dist").add_argument("dist", type=Path)
    sub.add_parser("smoke").add_argument("wheel", type=Path)
    sub.add_parser("check-tag").add_argument("tag")
    sub.add_parser("notes").add_argument("version", nargs="?")
    sub.add_parser("requirements").add_argument("extra")
    args = parser.parse_args(argv)
    if args.command == "version":
        print(current_version())
    elif args.command == "bump":
        bump(args.version or current_version())
    elif args.command == "check-dist":
        check_dist(args.dist)
    elif args.command == "smoke":
        smoke(args.wheel)
    elif args.command == "check-tag":
        check_tag(args.tag)
    elif args.command == "notes":
        print(notes(args.version or current_version()), end="")
    elif args.command == "requirements":
        print("\n".join(requirements(args.extra)))


if __name__ == "__main__":
    main()
