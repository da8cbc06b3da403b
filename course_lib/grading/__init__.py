"""The instructor's tools around nbgrader, one module per step (``python -m course_lib.grading``)::

    cli          the command line: release, collect, grade, feedback, export, formgrader, publish
    release      solutions/<id> -> notebooks/<id>, the learners' copy
    collect      a folder or LMS zip -> originals/ and pre-cleaned submitted/
    uploads      the notebooks in a folder or LMS zip, and a stable id per learner
    borrowing    graded functions that hand in course_lib's own reference implementation
    publish      the student repository: notebooks and course_lib, no solutions or hidden tests
    integrity    what a submission did to its cells, repaired before grading
    monkeypatching   code in a learner's cells that rebinds what the checks rely on
    grade        the whole batch: collect, autograde in a pool of workers, feedback, reports, CSV
    pool/worker  the local worker processes: one learner at a time (remote.grade_one), killed and
                 replaced if they hang, their learner graded again if they die
    sandbox      bubblewrap around each learner's kernel; the fingerprint of course_lib and the
                 environment taken before and after a batch
    progress     the batch's progress bar (a line per learner off a terminal)
    cluster      grade --scheduler: each learner one task on a Dask cluster, results written here
    remote       the task: one learner graded in a private course folder (a Dask or local
                 worker); store_result, what the instructor's process writes from it
    learner      nbgrader's API as every grading process sets it up, and one learner's autograde
                 and feedback (what remote.grade_one runs)
    autograde    nbgrader glue (config, API, gradebook, the preprocessors nbgrader_config names,
                 fail-closed scoring, the sandboxed kernel manager)
    hidden       hidden-test regions: what feedback must never quote
    report       per-learner JSON, summary.md, the summary table, feedback leak check
    history      every upload a learner made, and which one is graded (--keep)
    deadlines    --due, --late-penalty, --grace: late days and the penalty
    similarity   answer cells much alike between learners (own winnowing, as MOSS); review only
    term         the whole class's summary, and what changed since the last run
    export       grades.csv
    lms          Canvas's gradebook CSV, Moodle's grading worksheet, feedback zips for each
    common       GradingError, the repository, assignments and the course folder

Imports run one way: cli -> steps -> common. Every command is also a function: ``release()``,
``collect()``, ``grade()``, ``write_feedback()``, ``export()``, ``formgrader()``,
``publish()``.
"""

from .cli import formgrader, main
from .collect import collect
from .common import (
    DEFAULT_JOBS,
    REPO,
    GradingError,
    config_file,
    discover_assignments,
    notebook_names,
    skip_slow_optional_imports,
)
from .export import export
from .grade import GradeRun, grade, write_feedback
from .publish import publish
from .release import release
from .report import Submission, feedback_leaks, summary_table

__all__ = [
    "DEFAULT_JOBS", "REPO", "GradeRun", "GradingError", "Submission", "collect", "config_file",
    "discover_assignments", "export", "feedback_leaks", "formgrader", "grade", "main",
    "notebook_names", "publish", "release", "skip_slow_optional_imports", "summary_table",
    "write_feedback",
]
