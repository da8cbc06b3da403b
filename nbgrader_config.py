"""nbgrader configuration for the course.

Source notebooks live in ``solutions/NN_topic/`` and the generated student versions in
``notebooks/NN_topic/``; every folder ``solutions/NN_*/`` is one assignment, named like its folder
(nbgrader finds them there, and so does ``python -m course_lib.grading``, which reads this file).

Run the instructor's tools through ``make release`` / ``make grade`` (see the README): they run
nbgrader in a scratch or course folder outside the checkout, so no ``gradebook.db`` lands here.
Plain ``nbgrader`` commands run in this folder also work with these settings.
"""

import os

c = get_config()  # noqa: F821 (traitlets injects get_config into config files)

# Paths: the repository is the course root; generated files never depend on the current folder.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# Files that never travel from solutions/ into a release or into a student's grading folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]

# Per-cell time limit while autograding. A whole notebook must run in 30 s on Binder's one CPU
# (DESIGN.md), so no correct cell comes near 60 s even on a busy grading machine. An infinite loop
# costs its first cell 60 s; after that every cell of the notebook gets a twentieth of the limit
# (CappedExecute.timeout_after_timeout) and the whole notebook five limits
# (CappedExecute.notebook_timeout), so a looping function called by ten cells costs 87 s, not 10 min.
c.ExecutePreprocessor.timeout = 60
c.ExecutePreprocessor.interrupt_on_timeout = True

# Autograding as nbgrader does it, except that each cell keeps at most 1 MB of output: an
# infinite loop that prints would otherwise fill the grader's memory before the timeout.
c.Autograde.autograde_preprocessors = [
    "course_lib.grading.autograde.CappedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.CappedExecute.output_limit = 1_000_000

# A test cell a learner deleted is put back and graded instead of waiting for a manual grade.
c.OverwriteCells.add_missing_cells = True

# What replaces a solution region in notebooks/, and the markers the authors write.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Generation is deterministic: outputs and execution counts are stripped (nbgrader's defaults),
# and the release is written with nbformat's sorted keys; a test regenerates notebooks/ and
# compares byte for byte.
c.ClearOutput.remove_metadata_fields = ["collapsed", "scrolled", "execution", "ExecuteTime"]

# Feedback for learners: nbgrader's HTML shows the hidden tests (nbgrader issue #917), so the
# grade cells' hidden regions and the tracebacks that quote them are scrubbed first.
c.GenerateFeedback.preprocessors = [
    "course_lib.grading.autograde.ScrubHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Validate (the command and the lab's button): nbgrader cuts every output line at Validator.width
# (90 by default, "…write your code in the cell abo..."). A failed check's box is wrapped at 96
# characters (checks.CheckFailed._render_traceback_) and indented by 4, so 108 keeps every line
# of it whole, and the check cells' own lines (at most 100 characters) too. The summary leads with
# the number of failed checks.
c.Validator.width = 108
c.Validator.failed_warning = (
    "{num_failed} CHECK(S) FAILED. Each message below says what to look at; if you submit the "
    "notebook as it is, those checks give no points."
)
