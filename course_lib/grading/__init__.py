"""The instructor's tools around nbgrader: release, collect, grade, feedback, export, formgrader.

    python -m course_lib.grading release [ASSIGNMENT ...]
    python -m course_lib.grading collect SRC --assignment ID [--course DIR]
    python -m course_lib.grading grade SRC --assignment ID [--course DIR] [--timeout S] [--jobs N]
                                       [--memory-limit GB]
    python -m course_lib.grading feedback --assignment ID [--course DIR] [--student ID ...]
    python -m course_lib.grading export [--course DIR] [--output FILE]
    python -m course_lib.grading formgrader [--course DIR] [JUPYTER LAB OPTIONS ...]

``release`` turns ``solutions/NN_topic/`` into ``notebooks/NN_topic/`` (deterministic, run in a
scratch folder so no gradebook lands in the repository). The other commands work in a *course
folder* (``./grading`` unless ``--course`` says otherwise), nbgrader's usual layout::

    grading/
      nbgrader_config.py   written here; points at the repository's settings
      source/ release/     copies of solutions/<id> and its generated release
      originals/<id>/      every uploaded file exactly as received (never overwritten)
      submitted/ autograded/ feedback/ gradebook.db    nbgrader's folders
      reports/<id>/        one JSON per learner + summary.md: what each submission did
      grades.csv           one row per learner
      students.json        learner id -> the name the upload gave them

``grade`` = collect (folder or LMS zip) -> pre-clean -> autograde each learner in a worker process
-> feedback with hidden tests scrubbed -> reports -> CSV, and it always ends with a summary table.
Every function is also callable from Python: ``release()``, ``collect()``, ``grade()``,
``write_feedback()``, ``export()``.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .collect import CollectError, Upload, group_by_student, pick_file, read_source

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT_DIR = re.compile(r"^\d\d_[A-Za-z0-9_]+$")
CONFIG_MARKER = "# Written by course_lib.grading"
DEFAULT_JOBS = min(os.cpu_count() or 1, 4)  # one kernel per CPU; four keep memory near 5 GB
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")


class GradingError(Exception):
    """Bad input or a failed step, said in one sentence (the CLI prints it and exits 2)."""


def skip_slow_optional_imports() -> None:
    """Spare each grading process the 1.5-4 s that importing nbformat spends in jsonschema's
    optional IRI checker (``rfc3987_syntax`` builds a parser grammar at import); nothing here
    validates IRIs. Only the command line and the workers call this, before importing nbformat.
    """
    sys.modules.setdefault("rfc3987_syntax", None)


# --- assignments and the repository -----------------------------------------------------------


def discover_assignments(repo: Path = REPO) -> list[str]:
    """Assignment ids: every ``solutions/NN_topic/`` folder that holds a notebook."""
    solutions = Path(repo) / "solutions"
    if not solutions.is_dir():
        return []
    return sorted(p.name for p in solutions.iterdir()
                  if p.is_dir() and ASSIGNMENT_DIR.match(p.name) and any(p.glob("*.ipynb")))


def _require(repo: Path, assignment: str) -> None:
    known = discover_assignments(repo)
    if assignment not in known:
        listing = ", ".join(known) if known else f"none yet in {Path(repo) / 'solutions'}"
        raise GradingError(f"unknown assignment {assignment!r}; the course has: {listing}.")


def config_file(repo: Path) -> Path:
    """The nbgrader_config.py that holds the course's settings (the repository's own)."""
    own = Path(repo) / "nbgrader_config.py"
    return own if own.exists() else REPO / "nbgrader_config.py"


def notebook_names(folder: Path) -> list[str]:
    return sorted(p.stem for p in Path(folder).glob("*.ipynb"))


# --- release ----------------------------------------------------------------------------------


def release(assignments: list[str] | None = None, repo: Path = REPO,
            output: Path | None = None) -> list[Path]:
    """Regenerate ``notebooks/<id>/`` from ``solutions/<id>/`` for each assignment (all by default).

    nbgrader runs in a temporary course folder; only the release folder is copied back, so the
    repository never gets a gradebook. ``output`` replaces ``<repo>/notebooks`` (tests use it).
    Returns the folders written.
    """
    from . import autograde as nbg

    repo = Path(repo)
    assignments = assignments or discover_assignments(repo)
    if not assignments:
        raise GradingError(f"no assignments to release: {repo / 'solutions'} has no NN_topic folders.")
    for assignment in assignments:
        _require(repo, assignment)
    output = Path(output) if output else repo / "notebooks"
    written = []
    for assignment in assignments:
        with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
            tmp = Path(tmp)
            shutil.copytree(repo / "solutions" / assignment, tmp / "solutions" / assignment,
                            ignore=IGNORED)
            for notebook in (tmp / "solutions" / assignment).glob("*.ipynb"):
                _fill_missing_cell_ids(notebook)
            config = nbg.load_config(config_file(repo), **{
                "CourseDirectory.root": str(tmp),
                "CourseDirectory.source_directory": "solutions",
                "CourseDirectory.release_directory": "notebooks"})
            nbg.generate_assignment(nbg.make_api(config), assignment)
            target = output / assignment
            _replace_folder(tmp / "notebooks" / assignment, target)
            written.append(target)
    return written


def _fill_missing_cell_ids(path: Path) -> None:
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
        path.write_text(json.dumps(raw, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                        encoding="utf-8")


def _replace_folder(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly the files of ``source`` (stale generated files go)."""
    target.mkdir(parents=True, exist_ok=True)
    new = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    for old in sorted(target.rglob("*"), reverse=True):
        rel = old.relative_to(target)
        if old.is_file() and rel not in new:
            old.unlink()
        elif old.is_dir() and not any(old.iterdir()):
            old.rmdir()
    for rel in sorted(new):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, target / rel)


# --- the course folder ------------------------------------------------------------------------


def prepare_course(course: Path, assignment: str, repo: Path = REPO):
    """Create or refresh the course folder for ``assignment``; returns (api, config).

    ``source/<id>`` is refreshed from the repository and the release regenerated in place, so
    grading always uses the current solutions. Learners' files and grades are never touched.
    """
    from . import autograde as nbg

    course = _init_course_folder(course, assignment, repo)
    config = nbg.load_config(course / "nbgrader_config.py")
    api = nbg.make_api(config)
    nbg.generate_assignment(api, assignment)
    return api, config


def _init_course_folder(course: Path, assignment: str, repo: Path) -> Path:
    """The course folder with its config and a fresh ``source/<id>`` (no nbgrader needed)."""
    repo, course = Path(repo).resolve(), Path(course).resolve()
    _require(repo, assignment)
    inside = repo in course.parents and course.relative_to(repo).parts[0] in (
        "solutions", "notebooks")
    if course == repo or inside:
        raise GradingError(f"the course folder {course} must not be the repository or inside "
                           "solutions/ or notebooks/; use for example ./grading.")
    course.mkdir(parents=True, exist_ok=True)
    ignore = course / ".gitignore"
    if not ignore.exists():  # learners' work must never be committed by accident
        ignore.write_text("# Learners' submissions and grades: never commit them.\n*\n")
    _write_course_config(course, repo)
    _replace_folder(repo / "solutions" / assignment, course / "source" / assignment)
    return course


def _write_course_config(course: Path, repo: Path) -> None:
    path = course / "nbgrader_config.py"
    text = (
        f"{CONFIG_MARKER}; it rewrites this file on each run while this line is here.\n"
        "# The course settings come from the repository; only the folders are this course's.\n"
        "import os\n\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(config_file(repo))!r})  # noqa: F821\n"
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))\n"
        'c.CourseDirectory.source_directory = "source"\n'
        'c.CourseDirectory.release_directory = "release"\n'
    )
    if not path.exists() or path.read_text().startswith(CONFIG_MARKER):
        path.write_text(text)


# --- collect ----------------------------------------------------------------------------------


@dataclass
class Submission:
    """One learner's submission for one assignment, and what grading found."""

    student: str
    assignment: str
    original_name: str
    original_files: list[str]
    notebook: str | None = None
    status: str = "collected"  # collected | invalid | graded | failed
    findings: dict = field(default_factory=dict)
    timeouts: list[str] = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    kernel_crash: bool = False
    grading_error: str | None = None
    log_tail: str | None = None  # nbgrader's last log lines when it could not grade
    grades: dict = field(default_factory=dict)
    score: float = 0.0
    max_score: float = 0.0
    needs_manual_grading: bool = False
    feedback: str | None = None
    seconds: float | None = None

    @property
    def flags(self) -> list[str]:
        """Short phrases for the summary and the CSV, most serious first."""
        f = self.findings
        flags = []
        if f.get("invalid"):
            flags.append(f"invalid file ({f['invalid']})")
        if self.kernel_crash:
            flags.append("kernel crash")
        if self.grading_error:
            flags.append(f"not graded ({self.grading_error})")
        if f.get("monkeypatching"):
            what = sorted({m["what"] for m in f["monkeypatching"]})
            flags.append("monkeypatching: " + ", ".join(what))
        for key, label in (("deleted", "deleted"), ("duplicated", "duplicated"),
                           ("retyped", "retyped"), ("tampered", "tampered"),
                           ("metadata_changed", "metadata edited"),
                           ("unknown_cells", "unknown cells")):
            if f.get(key):
                flags.append(f"{label}: {', '.join(f[key])}")
        if self.timeouts:
            flags.append(f"timeout: {', '.join(self.timeouts)}")
        flags += f.get("notes", [])
        return flags

    @property
    def review_reasons(self) -> list[str]:
        """Why a person should look at this submission before the grade counts."""
        f = self.findings
        reasons = []
        if f.get("invalid"):
            reasons.append("the file could not be read as a notebook")
        if f.get("monkeypatching"):
            reasons.append("code rebinds functions the checks rely on")
        if self.kernel_crash:
            reasons.append("the kernel crashed, so no cell after the crash was graded")
        if self.grading_error:
            reasons.append("nbgrader could not grade it")
        if any(note.startswith("more than one file") for note in f.get("notes", [])):
            reasons.append("several files were uploaded; one was chosen")
        return reasons

    @property
    def needs_review(self) -> bool:
        return bool(self.review_reasons)

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items()}
        data.update(flags=self.flags, needs_review=self.needs_review,
                    review_reasons=self.review_reasons)
        return data


def collect(src: Path, assignment: str, course: Path = Path("grading"),
            repo: Path = REPO) -> list[Submission]:
    """Put every learner's notebook from ``src`` (folder or LMS zip) into nbgrader's layout.

    Each file is kept as received under ``originals/``; a cleaned copy (see
    ``integrity.preclean``) goes to ``submitted/<student>/<id>/<notebook>.ipynb``.
    """
    _require(Path(repo), assignment)
    files = _read_source(src)
    prepare_course(course, assignment, repo)
    return _collect(files, Path(src), assignment, Path(course).resolve())


def _read_source(src: Path) -> dict[str, bytes]:
    try:
        return read_source(Path(src))
    except CollectError as exc:
        raise GradingError(str(exc)) from None


def _collect(files: dict[str, bytes], src: Path, assignment: str,
             course: Path) -> list[Submission]:
    import nbformat

    from .integrity import preclean, read_submission, scan_monkeypatching

    release_dir = course / "release" / assignment
    names = notebook_names(release_dir)
    if len(names) != 1:
        raise GradingError(f"{assignment} has {len(names)} notebooks; the course's tools grade "
                           "assignments of exactly one notebook.")
    name = names[0]
    release_nb = nbformat.read(release_dir / f"{name}.ipynb", as_version=4)
    uploads = group_by_student(files)

    submissions = []
    for upload in uploads:
        _keep_originals(course, assignment, upload)
        _forget_derived(course, upload.student, assignment)  # the new upload replaces the old
        chosen, notes = pick_file(upload, name)
        sub = Submission(student=upload.student, assignment=assignment,
                         original_name=upload.original_name,
                         original_files=sorted(upload.files), notebook=name)
        raw, problem = read_submission(upload.files[chosen])
        if raw is None:
            sub.status = "invalid"
            sub.findings = {"invalid": problem, "notes": notes}
        else:
            cleaned, found = preclean(raw, release_nb)
            found.monkeypatching = scan_monkeypatching(cleaned)
            found.notes = notes + found.notes
            sub.findings = found.as_dict()
            submitted = course / "submitted" / upload.student / assignment / f"{name}.ipynb"
            submitted.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(cleaned, submitted)
        submissions.append(sub)
    _update_students(course, assignment, uploads, src)
    for sub in submissions:
        _write_report(course, sub)
    return submissions


def _keep_originals(course: Path, assignment: str, upload: Upload) -> None:
    """Store each uploaded file as received; a different file under a known name gets a number."""
    folder = course / "originals" / assignment / upload.student
    folder.mkdir(parents=True, exist_ok=True)
    for path, data in upload.files.items():
        first = folder / re.sub(r"[^\w.() -]+", "_", path.replace("/", "__"))[-150:]
        number, target = 1, first
        while target.exists() and target.read_bytes() != data:
            number += 1
            target = first.with_name(f"{first.stem}.{number}{first.suffix}")
        if not target.exists():
            target.write_bytes(data)


def _forget_derived(course: Path, student: str, assignment: str) -> None:
    """Drop what was made from a learner's earlier upload (their originals stay)."""
    for step in ("submitted", "autograded", "feedback"):
        folder = course / step / student / assignment
        if folder.exists():
            shutil.rmtree(folder)


def _update_students(course: Path, assignment: str, uploads: list[Upload], src: Path) -> None:
    path = course / "students.json"
    students = json.loads(path.read_text()) if path.exists() else {}
    for upload in uploads:
        entry = students.setdefault(upload.student, {"original_name": upload.original_name,
                                                     "assignments": {}})
        entry["assignments"][assignment] = {"files": sorted(upload.files), "source": str(src)}
    path.write_text(json.dumps(students, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def _write_report(course: Path, sub: Submission) -> Path:
    path = course / "reports" / sub.assignment / f"{sub.student}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sub.as_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return path


# --- grade ------------------------------------------------------------------------------------


@dataclass
class GradeRun:
    """What ``grade`` produced: one Submission per learner and where the files are."""

    assignment: str
    course: Path
    submissions: list[Submission]
    csv: Path
    summary: Path
    table: str


def grade(src: Path, assignment: str, course: Path = Path("grading"), repo: Path = REPO,
          timeout: int | None = None, jobs: int = DEFAULT_JOBS,
          submission_limit: float | None = None, memory_limit: float = 2.0,
          figures: bool = True, feedback: bool = True, echo=print) -> GradeRun:
    """Collect, pre-clean, autograde, write feedback, reports and the CSV, for a whole class.

    ``timeout`` is the per-cell limit (nbgrader_config.py's by default); ``submission_limit``
    the most seconds one learner may take in all (ten cell timeouts by default); ``jobs`` the
    number of learners graded at once; ``memory_limit`` the GB of heap each grading process and
    kernel may use (the course budgets 1 GB per notebook). No submission can stop the batch.
    ``figures=False``
    skips drawing plots and ``feedback=False`` skips the feedback files: grades are the same,
    in less time (the course's own tests use both).
    """
    import nbformat

    from . import autograde as nbg
    from .worker import WorkerPool

    _require(Path(repo), assignment)
    files = _read_source(src)
    course = _init_course_folder(course, assignment, repo)
    config = nbg.load_config(course / "nbgrader_config.py")
    timeout = int(timeout or config.ExecutePreprocessor.get("timeout", 60))
    jobs = max(1, min(jobs, len(files)))
    # The workers import nbgrader (seconds) while this process generates and collects.
    with WorkerPool(course, assignment, timeout=timeout, jobs=jobs, figures=figures,
                    feedback=feedback, limit=submission_limit or 10 * timeout,
                    memory_mb=int(memory_limit * 1024), env=_worker_env(),
                    log_path=course / "reports" / assignment / "worker.log") as pool:
        nbg.generate_assignment(nbg.make_api(config), assignment)
        submissions = _collect(files, Path(src), assignment, course)
        to_grade = sorted({s.student for s in submissions if s.status == "collected"})
        echo(f"Grading {len(to_grade)} of {len(submissions)} submissions for {assignment} "
             f"({jobs} at a time, cell timeout {timeout} s).")

        def progress(student, result):
            ok = result["autograde"]["success"]
            echo(f"  {student}: {'graded' if ok else 'FAILED'} ({result.get('seconds', '-')} s)")

        results = pool.run(to_grade, on_result=progress)

    source = course / "source" / assignment / f"{submissions[0].notebook}.ipynb"
    secret = nbg.hidden_code_lines(nbformat.read(source, as_version=4))
    for sub in submissions:
        if sub.student in results:
            try:
                _record_result(course, sub, results[sub.student], secret)
            except Exception as exc:  # an odd file must not cost the rest of the summary
                sub.grading_error = f"its results could not be read ({exc})"
    _read_scores(config, assignment, submissions)
    for sub in submissions:
        _write_report(course, sub)
    summary = _write_summary(course, assignment, submissions)
    csv_path = export(course)
    table = summary_table(submissions)
    echo("")
    echo(table)
    echo(f"\nGrades: {csv_path}\nReports: {summary}\nFeedback: {course / 'feedback'}")
    return GradeRun(assignment, course, submissions, csv_path, summary, table)


def _record_result(course: Path, sub: Submission, result: dict, secret: set[str]) -> None:
    """Fill ``sub`` from its worker's result, its autograded notebook and its feedback file."""
    import nbformat

    from .integrity import run_findings

    graded = result["autograde"]
    sub.seconds = result.get("seconds")
    if graded["success"]:
        sub.status = "graded"
    else:
        sub.status = "failed"
        text = graded.get("log", "") + graded.get("error", "")
        sub.log_tail = "\n".join(text.strip().splitlines()[-30:])
        sub.kernel_crash = bool(re.search(r"DeadKernelError|[Kk]ernel died", text))
        if not sub.kernel_crash:
            sub.grading_error = result.get("worker") or _last_error_line(text)
    folder = Path(sub.student) / sub.assignment
    autograded = course / "autograded" / folder / f"{sub.notebook}.ipynb"
    if autograded.exists():
        ran = run_findings(nbformat.read(autograded, as_version=4))
        sub.timeouts, sub.errors = ran["timeouts"], ran["errors"]
    written = result.get("feedback")
    if written and not written["success"]:
        problem = _last_error_line(written.get("log", "") + written.get("error", ""))
        sub.findings.setdefault("notes", []).append(f"feedback not written ({problem})")
    html_file = course / "feedback" / folder / f"{sub.notebook}.html"
    if html_file.exists():
        leaked = feedback_leaks(html_file, secret)
        if leaked:  # never hand out hidden tests: withhold the file and say so
            html_file.unlink()
            sub.findings.setdefault("notes", []).append(
                f"feedback withheld: it quoted hidden tests ({leaked[0]!r})")
        else:
            sub.feedback = str(html_file.relative_to(course))


def _worker_env() -> dict:
    env = dict(os.environ)
    env["COURSE_HEADLESS"] = "1"  # widgets build without a browser (see the notebooks)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def _last_error_line(text: str) -> str:
    """The most telling line of a log: the last "SomeError: ..." other than nbgrader's own
    "see the traceback above"."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b", line)
              and "NbGraderException" not in line]
    return (errors or lines or ["unknown error"])[-1][:200]


def _read_scores(config, assignment: str, submissions: list[Submission]) -> None:
    """Scores from the gradebook (manual grades made in the formgrader included)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(_db_url(config)) as gb:
        max_score = gb.find_assignment(assignment).max_score
        for sub in submissions:
            sub.max_score = max_score
            if sub.status == "invalid":
                continue
            try:
                found = gb.find_submission(assignment, sub.student)
            except MissingEntry:
                continue
            sub.score = found.score
            sub.needs_manual_grading = bool(found.needs_manual_grade)
            sub.grades = {g.name: {"score": g.score, "max_score": g.max_score,
                                   "needs_manual_grade": g.needs_manual_grade}
                          for nb in found.notebooks for g in nb.grades}


def _db_url(config) -> str:
    url = config.CourseDirectory.get("db_url")
    return url or f"sqlite:///{Path(config.CourseDirectory.root) / 'gradebook.db'}"


def feedback_leaks(html_file: Path, secret_lines: set[str]) -> list[str]:
    """The hidden-test lines that a feedback HTML file shows (tags and escapes removed)."""
    from .autograde import quoted_lines

    text = html.unescape(re.sub(r"<[^>]+>", "", Path(html_file).read_text(encoding="utf-8")))
    return quoted_lines(text, secret_lines)


def summary_table(submissions: list[Submission], scores: bool = True) -> str:
    """One line per learner: score and max (or, before grading, the status), review, flags."""
    head = ("student", "score", "max") if scores else ("student", "status")
    rows = [(*head, "review", "flags")]
    for sub in sorted(submissions, key=lambda s: s.student):
        middle = (f"{sub.score:g}", f"{sub.max_score:g}") if scores else (sub.status,)
        rows.append((sub.student, *middle, "YES" if sub.needs_review else "",
                     "; ".join(sub.flags) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) + 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True))
             + "  " + row[-1] for row in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    review = sum(s.needs_review for s in submissions)
    if scores:
        graded = sum(s.status == "graded" for s in submissions)
        counts = f"{graded} graded, {len(submissions) - graded} not graded"
    else:
        readable = sum(s.status != "invalid" for s in submissions)
        counts = f"{readable} collected, {len(submissions) - readable} unreadable"
    lines.append(f"\n{len(submissions)} submissions: {counts}, {review} to review by hand.")
    return "\n".join(lines)


def _write_summary(course: Path, assignment: str, submissions: list[Submission]) -> Path:
    path = course / "reports" / assignment / "summary.md"
    lines = [f"# {assignment}: integrity report", "",
             "| student | original name | score | max | review | flags |", "|---|---|---|---|---|---|"]
    for sub in sorted(submissions, key=lambda s: s.student):
        flags = "; ".join(sub.flags).replace("|", "/") or "-"
        lines.append(f"| {sub.student} | {sub.original_name} | {sub.score:g} | {sub.max_score:g} "
                     f"| {'YES' if sub.needs_review else ''} | {flags} |")
    lines += ["", "## Details", ""]
    for sub in sorted(submissions, key=lambda s: s.student):
        if not (sub.flags or sub.errors):
            continue
        lines.append(f"### {sub.student}")
        for reason in sub.review_reasons:
            lines.append(f"- **review**: {reason}")
        for finding in sub.findings.get("monkeypatching", []):
            lines.append(f"- cell {finding['cell']}, line {finding['line']}: `{finding['code']}` "
                         f"({finding['what']})")
        for flag in sub.flags:
            lines.append(f"- {flag}")
        for cell, error in sub.errors.items():
            lines.append(f"- {cell} raised `{error}`")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- feedback and export ----------------------------------------------------------------------


def write_feedback(assignment: str, course: Path = Path("grading"),
             students: list[str] | None = None) -> list[Path]:
    """(Re)write scrubbed feedback for autograded learners, e.g. after manual grading."""
    from . import autograde as nbg

    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise GradingError(f"{course} is not a course folder yet: run grade first.")
    api = nbg.make_api(nbg.load_config(course / "nbgrader_config.py"))
    graded = sorted(p.name for p in (course / "autograded").glob("*")
                    if (p / assignment).is_dir())
    written = []
    for student in students or graded:
        if student not in graded:
            raise GradingError(f"{student!r} has no autograded submission for {assignment}.")
        nbg.check(api.generate_feedback(assignment, student, force=True), f"write feedback for {student}")
        written += sorted((course / "feedback" / student / assignment).glob("*.html"))
    return written


def export(course: Path = Path("grading"), output: Path | None = None) -> Path:
    """Write the grade CSV: one row per learner ever collected, a score column per assignment.

    Columns: student, original_name, then ``<id>`` and ``<id>_max`` per assignment, total,
    max_total, needs_manual_grading, needs_review, flags. A learner with an unreadable file or
    no submission gets 0 and a flag.
    """
    from nbgrader.api import Gradebook

    from . import autograde as nbg

    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise GradingError(f"{course} is not a course folder yet: run grade first.")
    nbg.quiet_nbgrader()
    config = nbg.load_config(course / "nbgrader_config.py")
    students_file = course / "students.json"
    students = json.loads(students_file.read_text()) if students_file.exists() else {}
    reports = {}
    for path in sorted((course / "reports").glob("*/*.json")):
        reports[(path.parent.name, path.stem)] = json.loads(path.read_text())
    with Gradebook(_db_url(config)) as gb:
        assignments = {a.name: a.max_score for a in gb.assignments}
        assignments.update({a: assignments.get(a, 0.0) for a, _ in reports})
        ids = sorted(set(students) | {s.id for s in gb.students} | {s for _, s in reports})
        rows = [_export_row(gb, student, students.get(student, {}).get("original_name", ""),
                            assignments, reports) for student in ids]
    columns = ["student", "original_name"]
    for assignment in sorted(assignments):
        columns += [assignment, f"{assignment}_max"]
    columns += ["total", "max_total", "needs_manual_grading", "needs_review", "flags"]
    output = Path(output) if output else course / "grades.csv"
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return output


def _export_row(gb, student: str, original_name: str, assignments: dict[str, float],
                reports: dict) -> dict:
    from nbgrader.api import MissingEntry

    row = {"student": student, "original_name": original_name}
    total = max_total = 0.0
    flags, manual, review = [], False, False
    for assignment, max_score in sorted(assignments.items()):
        report = reports.get((assignment, student), {})
        score = 0.0
        if report.get("status") != "invalid":
            try:
                found = gb.find_submission(assignment, student)
                score, manual = found.score, manual or bool(found.needs_manual_grade)
            except MissingEntry:
                if not report:
                    flags.append(f"{assignment}: not submitted")
        if report.get("flags"):
            flags.append(f"{assignment}: {'; '.join(report['flags'])}")
        review = review or bool(report.get("needs_review"))
        row[assignment], row[f"{assignment}_max"] = f"{score:g}", f"{max_score:g}"
        total, max_total = total + score, max_total + max_score
    row.update(total=f"{total:g}", max_total=f"{max_total:g}",
               needs_manual_grading="yes" if manual else "no",
               needs_review="yes" if review else "no", flags=" | ".join(flags))
    return row


def formgrader(course: Path = Path("grading"), lab_args: list[str] | None = None) -> int:
    """Open JupyterLab in the course folder; nbgrader's Formgrader is in its Nbgrader menu."""
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise GradingError(f"{course} is not a course folder yet: run grade first.")
    command = [sys.executable, "-m", "jupyter", "lab", *(lab_args or [])]
    print(f"Starting JupyterLab in {course}; open Nbgrader > Formgrader (or /formgrader).")
    os.chdir(course)
    return os.spawnv(os.P_WAIT, sys.executable, command)


# --- command line -----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading",
        description="Release, collect, autograde and export the course's assignments (nbgrader).")
    parser.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate notebooks/<id> from solutions/<id>")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="ids (default: all)")

    for name, text in (("collect", "put a class's notebooks into the course folder"),
                       ("grade", "collect, autograde, feedback, reports and CSV in one go")):
        p = sub.add_parser(name, help=text)
        p.add_argument("src", type=Path, help="a folder of .ipynb files or an LMS zip export")
        p.add_argument("--assignment", "-a", required=True, help="e.g. 01_forward_propagation")
        p.add_argument("--course", type=Path, default=Path("grading"),
                       help="course folder (default: ./grading)")
        if name == "grade":
            p.add_argument("--timeout", type=int, help="seconds per cell (default: from config)")
            p.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                           help=f"learners graded at once (default: {DEFAULT_JOBS})")
            p.add_argument("--memory-limit", type=float, default=2.0, metavar="GB",
                           help="heap per kernel (default: 2)")

    p = sub.add_parser("feedback", help="rewrite scrubbed feedback (after manual grading)")
    p.add_argument("--assignment", "-a", required=True)
    p.add_argument("--course", type=Path, default=Path("grading"))
    p.add_argument("--student", action="append", help="only this learner (repeatable)")

    p = sub.add_parser("export", help="write the grade CSV")
    p.add_argument("--course", type=Path, default=Path("grading"))
    p.add_argument("--output", type=Path, help="CSV path (default: <course>/grades.csv)")

    p = sub.add_parser("formgrader", help="open JupyterLab with nbgrader's formgrader "
                       "(other options, e.g. --port 8889, go to jupyter lab)")
    p.add_argument("--course", type=Path, default=Path("grading"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "formgrader":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    skip_slow_optional_imports()
    try:
        if args.command == "release":
            for path in release(args.assignments, repo=args.repo):
                print(f"wrote {path}")
        elif args.command == "collect":
            subs = collect(args.src, args.assignment, args.course, repo=args.repo)
            print(summary_table(subs, scores=False))
        elif args.command == "grade":
            grade(args.src, args.assignment, args.course, repo=args.repo, timeout=args.timeout,
                  jobs=args.jobs, memory_limit=args.memory_limit)
        elif args.command == "feedback":
            for path in write_feedback(args.assignment, args.course, args.student):
                print(f"wrote {path}")
        elif args.command == "export":
            print(f"wrote {export(args.course, args.output)}")
        elif args.command == "formgrader":
            return formgrader(args.course, [a for a in extra if a != "--"])
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

