"""What a submission did to its notebook, and a cleaned copy nbgrader can always grade.

``preclean`` compares a submitted notebook with the release: cells deleted, duplicated, retyped,
tampered with or carrying edited nbgrader metadata are reported and repaired (deleted cells come
back from the release, the first copy of a duplicated cell keeps its grade id, retyped cells get
their type back). nbgrader would repair most of this itself, but a duplicated grade id makes it
abort the whole batch, so the repair happens before it runs. ``run_findings`` reads the timeouts
and errors of an autograded notebook. Code that rebinds what the checks rely on is found by
``monkeypatching.scan_monkeypatching``.

nbformat is imported where it is used: it takes a second or more to import, and
``python -m course_lib.grading --help`` should not wait for it.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat.notebooknode import NotebookNode

# Cells stopped by the cell timeout, and cells never run because the notebook's time was used up.
TIME_LIMIT = "TimeLimitError"
TIMEOUT_ENAMES = ("CellTimeoutError", "TimeoutError", TIME_LIMIT)
# The errors the grader itself writes into a test cell (``autograde.CappedExecute``): no sign
# that the test ran to its end, and the kernel stopped before it ran.
NO_EVIDENCE = "NoEvidenceError"
KERNEL_STOPPED = "KernelStoppedError"


@dataclass
class Findings:
    """What pre-cleaning one submission found (lists hold grade ids unless said otherwise)."""

    invalid: str | None = None  # one sentence when the file is not a usable notebook
    deleted: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    retyped: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)
    metadata_changed: list[str] = field(default_factory=list)
    unknown_cells: list[str] = field(default_factory=list)
    monkeypatching: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# --- reading ---------------------------------------------------------------------------------


def read_submission(data: bytes) -> tuple[dict | None, str | None]:
    """Parse a submitted file: ``(notebook as a plain dict, None)`` or ``(None, why not)``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "the file is not text (not UTF-8), so it cannot be a notebook"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"the file is not valid JSON (line {exc.lineno}: {exc.msg})"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        return None, "the file is JSON but not a Jupyter notebook (it has no list of cells)"
    if raw.get("nbformat", 4) != 4:
        import nbformat

        try:
            raw = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as exc:  # nbformat raises many kinds for broken old notebooks
            return None, f"the file is an old-format notebook that cannot be converted ({exc})"
    return raw, None


def _source(value) -> str:
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    nbg = meta.get("nbgrader")
    return nbg if isinstance(nbg, dict) else {}


def _grade_id(cell: dict) -> str | None:
    grade_id = _nbgrader(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else None


def is_locked(nbg: dict) -> bool:
    """nbgrader's rule: grade cells and locked cells are restored, solution cells never."""
    return not nbg.get("solution", False) and bool(nbg.get("grade") or nbg.get("locked"))


# --- pre-clean -------------------------------------------------------------------------------


def preclean(submission: dict, release: NotebookNode) -> tuple[NotebookNode, Findings]:
    """A gradable copy of ``submission`` built against ``release``, and what was repaired.

    Every cell is rebuilt from its type, source and metadata (outputs dropped; nbgrader drops
    them anyway), with the release's nbgrader metadata and tags on each cell that has a release
    grade id (a test cell's whole metadata is the release's: a ``skip-execution`` tag the learner
    added never reaches nbclient).
    """
    import nbformat

    found = Findings()
    reference = {_grade_id(cell): cell for cell in release.cells if _grade_id(cell)}
    raw_cells = [cell for cell in submission.get("cells", []) if isinstance(cell, dict)]
    keep = _choose_copies(raw_cells, reference, found)

    cells: list[NotebookNode] = []
    for index, raw in enumerate(raw_cells):
        grade_id = _grade_id(raw)
        if raw.get("cell_type") not in ("code", "markdown", "raw"):
            found.notes.append(f"cell {index} had an unknown type {raw.get('cell_type')!r}: dropped")
            continue
        if grade_id is None or keep.get(grade_id) != index:
            cells.append(_plain_cell(raw))
            continue
        ref = reference[grade_id]
        cell = _plain_cell(raw, cell_type=ref.cell_type)
        if is_locked(ref.metadata["nbgrader"]):  # tests and setup: the release's, tags included
            cell.metadata = copy.deepcopy(ref.metadata)
        else:  # an answer keeps the learner's display settings, but the release's tags
            cell.metadata.pop("tags", None)
            for key in ("nbgrader", "editable", "deletable", "tags"):
                if key in ref.metadata:
                    cell.metadata[key] = copy.deepcopy(ref.metadata[key])
        if raw.get("cell_type") != ref.cell_type:
            found.retyped.append(grade_id)
        if is_locked(ref.metadata["nbgrader"]) and cell.source != ref.source:
            found.tampered.append(grade_id)
        if (_flags(_nbgrader(raw)) != _flags(ref.metadata["nbgrader"])
                or _tags(raw) != list(ref.metadata.get("tags", []))):
            found.metadata_changed.append(grade_id)
        cells.append(cell)

    _restore_deleted(cells, release, found)
    _make_ids_unique(cells)
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(release.metadata))
    nb.nbformat, nb.nbformat_minor = release.nbformat, max(release.nbformat_minor, 5)
    return nb, found


def _choose_copies(raw_cells: list[dict], reference: dict, found: Findings) -> dict[str, int]:
    """grade id -> index of the copy that keeps it: the first, except for a solution cell whose
    first copy is the untouched stub while a later copy holds the learner's work."""
    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(raw_cells):
        grade_id = _grade_id(cell)
        if grade_id is None:
            if _nbgrader(cell):
                found.notes.append(f"cell {index} had nbgrader metadata without a grade id")
        elif grade_id not in reference:
            found.unknown_cells.append(grade_id)
        else:
            positions.setdefault(grade_id, []).append(index)
    keep = {}
    for grade_id, indices in positions.items():
        keep[grade_id] = indices[0]
        if len(indices) > 1:
            found.duplicated.append(grade_id)
            ref = reference[grade_id]
            if not is_locked(ref.metadata["nbgrader"]):
                edited = [i for i in indices if _source(raw_cells[i].get("source")) != ref.source]
                if edited and indices[0] not in edited:
                    keep[grade_id] = edited[0]
    return keep


def _tags(cell: dict) -> list:
    meta = cell.get("metadata")
    tags = meta.get("tags", []) if isinstance(meta, dict) else []
    return list(tags) if isinstance(tags, list) else [tags]


def _flags(nbg: dict) -> tuple:
    points = nbg.get("points")
    try:
        points = float(points) if points is not None else None
    except (TypeError, ValueError):
        pass
    return (bool(nbg.get("grade")), bool(nbg.get("solution")), bool(nbg.get("locked")),
            bool(nbg.get("task")), points if nbg.get("grade") else None)


def _plain_cell(raw: dict, cell_type: str | None = None) -> NotebookNode:
    """A fresh, valid cell with ``raw``'s source and metadata (minus nbgrader's)."""
    import nbformat
    from nbformat.notebooknode import from_dict

    cell_type = cell_type or raw.get("cell_type")
    source = _source(raw.get("source"))
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    metadata = {k: v for k, v in metadata.items() if k not in ("nbgrader", "editable", "deletable")}
    if cell_type == "code":
        cell = nbformat.v4.new_code_cell(source, metadata=metadata)
    elif cell_type == "markdown":
        cell = nbformat.v4.new_markdown_cell(source, metadata=metadata)
        if raw.get("cell_type") == "markdown" and isinstance(raw.get("attachments"), dict):
            cell.attachments = from_dict(raw["attachments"])  # pasted images in written answers
    else:
        cell = nbformat.v4.new_raw_cell(source, metadata=metadata)
    cell.id = raw.get("id") if isinstance(raw.get("id"), str) else ""
    return cell


def _restore_deleted(cells: list[NotebookNode], release: NotebookNode, found: Findings) -> None:
    """Put every release cell with a grade id that the submission lacks back in its place:
    right after the nearest earlier release cell that is present."""
    present = {_grade_id(cell) for cell in cells if _grade_id(cell)}
    anchor = -1  # position in ``cells`` after which the next missing cell goes
    for ref in release.cells:
        grade_id = _grade_id(ref)
        if grade_id is None:
            continue
        if grade_id in present:
            anchor = next(i for i, cell in enumerate(cells) if _grade_id(cell) == grade_id)
            continue
        anchor += 1
        cells.insert(anchor, copy.deepcopy(ref))
        found.deleted.append(grade_id)


def _make_ids_unique(cells: list[NotebookNode]) -> None:
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        cell_id = cell.get("id") or ""
        if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", cell_id) or cell_id in seen:
            base = re.sub(r"[^a-zA-Z0-9_-]", "", cell_id)[:40] or "cell"
            number = index
            while f"{base}-{number}" in seen:
                number += 1
            cell_id = f"{base}-{number}"
        cell.id = cell_id
        seen.add(cell_id)


# --- after autograding -----------------------------------------------------------------------


def run_findings(nb: NotebookNode) -> dict:
    """What an autograded notebook shows of its run: ``{"timeouts": [...], "errors": {...},
    "no_evidence": [...], "kernel_stopped": bool}``.

    Cells are named by grade id, or ``cell N`` when they have none.
    """
    timeouts, errors, no_evidence, stopped = [], {}, [], False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        name = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            if output.get("ename") in TIMEOUT_ENAMES:
                timeouts.append(name)
            elif output.get("ename") == NO_EVIDENCE:
                no_evidence.append(name)
            elif output.get("ename") == KERNEL_STOPPED:
                stopped = True
            else:
                evalue = str(output.get("evalue", "")).strip().splitlines()
                errors[name] = f"{output.get('ename')}: {evalue[0] if evalue else ''}"[:200]
    return {"timeouts": timeouts, "errors": errors, "no_evidence": no_evidence,
            "kernel_stopped": stopped}
