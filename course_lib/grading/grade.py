"""Grade: a whole class in one go, and feedback rewritten after manual grading.

``grade`` = collect (folder or LMS zip) -> pre-clean -> autograde each learner in a worker process
-> feedback with hidden tests scrubbed -> reports -> CSV, and it always ends with a summary table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import deadlines, sandbox, similarity, term
from .collect import collect_files
from .common import (
    DEFAULT_JOBS,
    REPO,
    GradingError,
    existing_course_folder,
    init_course_folder,
    require_assignment,
    worker_env,
)
from .export import export
from .hidden import hidden_code_lines
from .integrity import run_findings
from .pool import WorkerPool
from .progress import Progress
from .report import Submission, feedback_leaks, write_report
from .uploads import QUIET, read_source


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
          figures: bool = True, feedback: bool = True, unsafe_no_sandbox: bool = False,
          force: bool = False, feedback_images: bool = True, scheduler: str | None = None,
          echo=print, due: str | None = None, late_penalty: str | None = None,
          grace: str | None = None, keep: str = "last",
          similarity_threshold: float = similarity.THRESHOLD) -> GradeRun:
    """Collect, pre-clean, autograde, write feedback, reports and the CSV, for a whole class.

    ``timeout`` is the per-cell limit (nbgrader_config.py's by default); ``submission_limit``
    the most seconds one learner may take in all (ten cell timeouts by default); ``jobs`` the
    number of learners graded at once; ``memory_limit`` the GB of heap each grading process and
    kernel may use (the course budgets 1 GB per notebook). No submission can stop the batch.
    ``figures=False``
    skips drawing plots and ``feedback=False`` skips the feedback files: grades are the same,
    in less time (the course's own tests use both); ``feedback_images=False`` writes feedback
    without its figures (a fraction of the size, for large classes).

    Each learner's kernel runs in a bubblewrap sandbox (``sandbox.py``). Where none can run,
    grading refuses to start unless ``unsafe_no_sandbox``, which every report row then records.
    course_lib and the environment are fingerprinted before and after the batch: a change
    stops it with GradingError (nothing a learner could have caused is written as a grade).

    A learner whose cleaned notebook and the assignment's source are the same as at their last
    complete grading is not graded again (unless ``force``), so a regrade redoes only what
    changed and an interrupted batch resumes where it stopped: each learner's report is written
    as soon as they are graded.

    With ``scheduler`` (a Dask scheduler's address, ``tcp://host:8786``) each learner is graded
    as one task on that Dask cluster (``cluster.py``, ``remote.py``; the workers need the course
    environment and bubblewrap); this process alone writes the course folder and the gradebook.

    ``due``, ``late_penalty`` and ``grace`` are the late policy (``deadlines.py``); ``keep``
    which of a learner's uploads is graded (``history.py``: "last" by default). Answer cells
    much alike between learners (``similarity.py``, at ``similarity_threshold``) send both to
    review and never change a score. ``summary.md`` and the printed summary cover the whole
    class, every run (``term.py``).
    """
    import nbformat

    from . import autograde as nbg  # nbgrader: seconds to import, so only when grading

    if scheduler:
        from .cluster import require_dask

        require_dask()  # one sentence saying how to install it, before anything is done
    require_assignment(Path(repo), assignment)
    late_policy = deadlines.policy(due, late_penalty, grace)
    files = read_source(Path(src))
    # On a cluster the kernels run on the workers, and each worker checks its own sandbox.
    if not scheduler and not unsafe_no_sandbox and (why := sandbox.problem()):
        raise GradingError(f"learners' code must run in a sandbox and {why}; to grade without "
                           "one (every row will say so), pass --unsafe-no-sandbox.")
    # What feedback must never quote, read from the repository (not from any file a kernel saw).
    secret: set[str] = set()
    for source in sorted((Path(repo) / "solutions" / assignment).glob("*.ipynb")):
        secret |= hidden_code_lines(nbformat.read(source, as_version=4))
    course = init_course_folder(course, assignment, repo)
    config = nbg.load_config(course / "nbgrader_config.py")
    timeout = int(timeout or config.ExecutePreprocessor.get("timeout", 60))
    jobs = max(1, min(jobs, len(files)))
    if scheduler:
        from .cluster import ClusterPool

        pool = ClusterPool(scheduler, course, assignment, repo=Path(repo), timeout=timeout,
                           figures=figures, feedback=feedback,
                           memory_mb=int(memory_limit * 1024), sandbox=not unsafe_no_sandbox,
                           feedback_images=feedback_images)
        where = f"on the Dask cluster at {scheduler}"
    else:
        # The workers import nbgrader (seconds) while this process generates and collects.
        pool = WorkerPool(course, assignment, timeout=timeout, jobs=jobs, figures=figures,
                          feedback=feedback, limit=submission_limit or 10 * timeout,
                          memory_mb=int(memory_limit * 1024), env=worker_env(),
                          sandbox=not unsafe_no_sandbox, feedback_images=feedback_images,
                          log_path=course / "reports" / assignment / "worker.log")
        where = f"{jobs} at a time"
    with pool:
        nbg.generate_if_changed(course, assignment, config)  # not again on a regrade
        submissions = collect_files(files, Path(src), assignment, course, force=force, keep=keep)
        to_grade = sorted({s.student for s in submissions if s.status == "collected"})
        reused = sum(s.reused for s in submissions)
        echo(f"Grading {len(to_grade)} of {len(submissions)} submissions for {assignment} "
             f"({where}, cell timeout {timeout} s)"
             + (f"; {reused} unchanged since their last grading are kept (--force regrades "
                "them)." if reused else "."))
        by_student = {s.student: s for s in submissions}
        bar = Progress(len(to_grade), echo)

        def progress(student, result):
            sub = by_student[student]
            try:
                _record_result(course, sub, result, secret)
            except Exception as exc:  # an odd file must not cost the rest of the summary
                sub.grading_error = f"its results could not be read ({exc})"
            sub.sandboxed = not unsafe_no_sandbox
            write_report(course, sub)  # at once: an interrupted batch resumes after it
            bar.done(student, "graded" if sub.status == "graded" else "FAILED", sub.seconds)

        before = sandbox.fingerprint() if to_grade else {}
        pool.run(to_grade, on_result=progress)
        bar.close()
    changed = sandbox.changes(before, sandbox.fingerprint()) if to_grade else []
    if changed:
        for sub in submissions:  # nothing of this batch may be kept by the next run
            if sub.student in to_grade:
                sub.key = None
                write_report(course, sub)
        raise GradingError(
            f"course_lib or the Python environment changed while grading ({len(changed)} files, "
            f"first: {changed[0]}): this batch's grades cannot be trusted; restore them (git "
            "status, reinstall the environment) and grade again.")

    for sub in submissions:
        if not sub.reused:  # every row of this run says whether its learner was sandboxed
            sub.sandboxed = not unsafe_no_sandbox
    _read_scores(config, assignment, submissions)
    for sub in submissions:
        deadlines.apply(late_policy, sub)
        if feedback and sub.feedback is None and sub.status in ("failed", "invalid"):
            sub.feedback = _failure_page(course, sub)
        write_report(course, sub)
    similarity.report(course, assignment, threshold=similarity_threshold)
    summary, table = term.write_class_summary(course, assignment, submissions, late_policy)
    csv_path = export(course)
    echo("")
    echo(table)
    dropped = {p: why for p, why in getattr(files, "dropped", {}).items() if why not in QUIET}
    if dropped:
        echo(f"\nNot collected: {len(dropped)} entries of the upload were not notebooks or were "
             f"refused; the list: {course / 'reports' / assignment / 'not_collected.md'}")
    echo(f"\nGrades: {csv_path}\nReports: {summary}\nFeedback: {course / 'feedback'}")
    return GradeRun(assignment, course, submissions, csv_path, summary, table)


def _record_result(course: Path, sub: Submission, result: dict, secret: set[str]) -> None:
    """Fill ``sub`` from its worker's result, its autograded notebook and its feedback file."""
    import nbformat

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
        sub.no_evidence = ran["no_evidence"]
        sub.kernel_crash = sub.kernel_crash or ran["kernel_stopped"]
    written = result.get("feedback")
    if written and not written["success"]:
        problem = _last_error_line(written.get("log", "") + written.get("error", ""))
        sub.findings.setdefault("notes", []).append(f"feedback not written ({problem})")
    _only_feedback_pages(course / "feedback" / folder)
    html_file = course / "feedback" / folder / f"{sub.notebook}.html"
    if html_file.exists():
        leaked = feedback_leaks(html_file, secret)
        if leaked:  # never hand out hidden tests: withhold the file and say so
            html_file.unlink()
            sub.findings.setdefault("notes", []).append(
                f"feedback withheld: it quoted hidden tests ({leaked[0]!r})")
        else:
            sub.feedback = str(html_file.relative_to(course))


def _failure_page(course: Path, sub: Submission) -> str:
    """A feedback page for a learner whose notebook could not be graded: what happened, in
    words meant for them (nbgrader writes none when autograding fails)."""
    import html

    if sub.status == "invalid":
        why = sub.findings.get("invalid") or "the file could not be read as a notebook"
    elif sub.grading_error:
        why = sub.grading_error
    else:
        why = "the notebook could not be run to the end"
    name = sub.notebook or "submission"
    path = course / "feedback" / sub.student / sub.assignment / f"{name}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(sub.assignment)}: not graded</title></head><body>\n"
        f"<h1>{html.escape(sub.assignment)}: your submission could not be graded</h1>\n"
        f"<p>What happened: {html.escape(why)}.</p>\n"
        f"<p>Score recorded: {sub.score:g} of {sub.max_score:g}. Your instructor has been told "
        "and will look at it; you can also open the notebook, run every cell from the top "
        "(Kernel &gt; Restart Kernel and Run All Cells) and see where it stops.</p>\n"
        "</body></html>\n", encoding="utf-8")
    return str(path.relative_to(course))


def _only_feedback_pages(folder: Path) -> None:
    """Feedback is the HTML pages and nothing else: nbgrader copies every other file of the
    learner's folder along, and none of them is for the learner to get back."""
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_symlink() or (path.is_file() and path.suffix != ".html"):
                path.unlink()


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

    from .autograde import gradebook_url

    with Gradebook(gradebook_url(config)) as gb:
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
            if sub.change and sub.change.startswith("unchanged"):
                # nbgrader marks every manually graded cell for review again on a regrade; of
                # the very notebook that was graded by hand, the manual grade still holds.
                for nb in found.notebooks:
                    for g in nb.grades:
                        if g.needs_manual_grade and g.manual_score is not None:
                            g.needs_manual_grade = False
                gb.db.commit()
            sub.grades = {g.name: {"score": g.score, "max_score": g.max_score,
                                   "needs_manual_grade": bool(g.needs_manual_grade),
                                   "auto": g.auto_score is not None}
                          for nb in found.notebooks for g in nb.grades}
            sub.needs_manual_grading = any(g["needs_manual_grade"] for g in sub.grades.values())


def write_feedback(assignment: str, course: Path = Path("grading"),
                   students: list[str] | None = None) -> list[Path]:
    """(Re)write scrubbed feedback for autograded learners, e.g. after manual grading."""
    from . import autograde as nbg  # nbgrader: seconds to import

    course = existing_course_folder(course)
    api = nbg.make_api(nbg.load_config(course / "nbgrader_config.py"))
    graded = sorted(p.name for p in (course / "autograded").glob("*")
                    if (p / assignment).is_dir())
    written = []
    for student in students or graded:
        if student not in graded:
            raise GradingError(f"{student!r} has no autograded submission for {assignment}.")
        nbg.check(api.generate_feedback(assignment, student, force=True),
                  f"write feedback for {student}")
        written += sorted((course / "feedback" / student / assignment).glob("*.html"))
    return written
