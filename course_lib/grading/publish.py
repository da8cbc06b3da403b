"""Publish: the repository learners and Binder get, written to a new folder.

The instructor's repository stays private: it holds ``solutions/`` (the answers), the hidden
tests and the grading tools. ``publish(dest)`` copies what a learner needs for ``make lab``,
``pip install -e .`` and Binder: the released ``notebooks/``, ``course_lib`` without its
``grading`` package (the instructor's tools; no notebook imports it), ``binder/``, ``tools/``,
``environment.yml``, ``pyproject.toml``, ``Makefile``, ``README.md``, ``CONVENTIONS.md`` and
``LICENSE``. Not ``solutions/``, ``tests/`` (mutants and hidden-test text), ``nbgrader_config.py``,
``CONTRIBUTING.md``, ``benchmarks/``, ``.git`` or anything a build left behind. Links are never
followed. Before it returns it reads every file it wrote: a hidden-test line anywhere, or a whole
solution region outside ``course_lib`` (whose modules are the reference implementation the
notebooks build on, by design), is a GradingError and the copy is removed.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

from .common import REPO, GradingError
from .hidden import hidden_code_lines, quoted_lines, strip_hidden_region

PUBLISHED = ("notebooks", "course_lib", "binder", "tools", "environment.yml", "pyproject.toml",
             "Makefile", "README.md", "CONVENTIONS.md", "LICENSE")
LEFT_OUT = ("course_lib/grading",)  # the instructor's tools: nothing a learner imports
JUNK = re.compile(r"(^|/)(__pycache__|\.ipynb_checkpoints|[^/]*\.egg-info|\.DS_Store)(/|$)|\.pyc$")
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"


def publish(dest: Path, repo: Path = REPO) -> list[Path]:
    """Write the student repository to ``dest`` (a new or empty folder outside ``repo``);
    returns the files written."""
    import nbformat

    repo, dest = Path(repo).resolve(), Path(dest).resolve()
    if dest == repo or repo in dest.parents:
        raise GradingError(f"{dest} is inside the repository {repo}; publish to a folder "
                           "outside it, e.g. ../course-public.")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise GradingError(f"{dest} exists and is not empty; publish writes a new folder "
                           "(remove it or give another).")
    missing = [name for name in ("notebooks", "course_lib") if not (repo / name).is_dir()]
    if missing:
        raise GradingError(f"{repo} has no {' or '.join(missing)}; run release first.")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for name in PUBLISHED:
            if (repo / name).exists() or (repo / name).is_symlink():
                written += _copy(repo, repo / name, dest)
        solutions = [nbformat.read(path, as_version=4)
                     for path in sorted((repo / "solutions").glob("*/*.ipynb"))]
        problem = leaked_answers(written, solutions, dest)
        if problem:
            raise GradingError(f"the published copy would show answers ({problem}); "
                               "run release and publish again.")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return written


def _copy(repo: Path, source: Path, dest: Path) -> list[Path]:
    """Copy ``source`` (a file or a folder) to the same place under ``dest``: regular files only,
    no links followed, junk and ``LEFT_OUT`` skipped."""
    written = []
    paths = [source] if not source.is_dir() or source.is_symlink() else sorted(
        Path(top) / name for top, _, names in os.walk(source) for name in names)
    for path in paths:
        rel = path.relative_to(repo).as_posix()
        if JUNK.search(rel) or any(rel == out or rel.startswith(out + "/") for out in LEFT_OUT):
            continue
        if not stat.S_ISREG(path.lstat().st_mode):  # a link or a special file: never followed
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        written.append(target)
    return written


def solution_regions(nb) -> list[str]:
    """The text of each solution region (stripped lines joined by newlines)."""
    regions, current = [], None
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            if BEGIN_SOLUTION in line:
                current = []
            elif END_SOLUTION in line and current is not None:
                regions.append("\n".join(current))
                current = None
            elif current is not None and line.strip():
                current.append(line.strip())
    return [region for region in regions if region]


def leaked_answers(files: list[Path], solutions: list, root: Path) -> str | None:
    """What the first of ``files`` (under ``root``) that shows a hidden-test line, or a whole
    solution region outside ``course_lib/``, shows (one phrase); None when none does.

    ``course_lib``'s modules hold the reference implementation on purpose (later notebooks use
    it; ``borrowing`` flags a graded function that hands it in), so only hidden tests are looked
    for there."""
    reference = root / "course_lib"
    secret = set().union(*(hidden_code_lines(nb) for nb in solutions)) if solutions else set()
    secret -= {line.strip() for nb in solutions for cell in nb.cells  # shown by another notebook
               for line in strip_hidden_region(cell.source)[0].split("\n")}
    regions = [region for nb in solutions for region in solution_regions(nb)
               if "\n" in region or len(region) >= 40]  # one short line is no answer
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":  # the cells' text, as a learner's JupyterLab shows it
            import nbformat

            text = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
        shown = quoted_lines(text, secret)
        if shown:
            return f"{path.name} shows the hidden-test line {shown[0]!r}"
        if reference in path.parents:
            continue  # course_lib is the reference implementation learners build on, by design
        lines = "\n".join(line.strip() for line in text.split("\n") if line.strip())
        for region in regions:
            if region in lines:
                return f"{path.name} shows a solution: {region.splitlines()[0]!r}"
    return None
