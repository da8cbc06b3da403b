"""Release: ``solutions/NN_topic/`` becomes ``notebooks/NN_topic/``, the learners' copy.

Deterministic (cell ids are filled in, not invented), and run in a scratch course folder so no
gradebook lands in the repository.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from .common import (
    IGNORED,
    REPO,
    GradingError,
    config_file,
    discover_assignments,
    replace_folder,
    require_assignment,
    write_json,
)


def release(assignments: list[str] | None = None, repo: Path = REPO,
            output: Path | None = None) -> list[Path]:
    """Regenerate ``notebooks/<id>/`` from ``solutions/<id>/`` for each assignment (all by default).

    nbgrader runs in a temporary course folder; only the release folder is copied back, so the
    repository never gets a gradebook. ``output`` replaces ``<repo>/notebooks`` (tests use it).
    Returns the folders written.
    """
    from . import autograde as nbg  # nbgrader: seconds to import, so only when releasing

    repo = Path(repo)
    assignments = assignments or discover_assignments(repo)
    if not assignments:
        raise GradingError(f"no assignments to release: {repo / 'solutions'} has no NN_topic folders.")
    for assignment in assignments:
        require_assignment(repo, assignment)
    output = Path(output) if output else repo / "notebooks"
    written = []
    for assignment in assignments:
        with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
            tmp = Path(tmp)
            shutil.copytree(repo / "solutions" / assignment, tmp / "solutions" / assignment,
                            ignore=IGNORED)
            for notebook in (tmp / "solutions" / assignment).glob("*.ipynb"):
                fill_missing_cell_ids(notebook)
            config = nbg.load_config(config_file(repo), **{
                "CourseDirectory.root": str(tmp),
                "CourseDirectory.source_directory": "solutions",
                "CourseDirectory.release_directory": "notebooks"})
            nbg.generate_assignment(nbg.make_api(config), assignment)
            target = output / assignment
            replace_folder(tmp / "notebooks" / assignment, target)
            written.append(target)
    return written


def fill_missing_cell_ids(path: Path) -> None:
    """Give cells without an id a stable one (nbformat would invent random ids on each run)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("nbformat") != 4 or raw.get("nbformat_minor", 0) < 5:
        return
    taken = {cell.get("id") for cell in raw.get("cells", [])}
    changed = False
    for index, cell in enumerate(raw.get("cells", [])):
        if not cell.get("id"):
            number = index
            while f"cell-{number}" in taken:
                number += 1
            cell["id"] = f"cell-{number}"
            taken.add(cell["id"])
            changed = True
    if changed:
        write_json(path, raw)
