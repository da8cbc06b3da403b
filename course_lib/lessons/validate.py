"""The Validate button for learners: its dialog leads with the number of failed checks and each
check's whole message, then nbgrader's detail (each failed cell's source and output).

A Jupyter server extension (``make lab`` enables it in ``tools/lab_config``, Binder in
``binder/postBuild``) serving nbgrader's two Validate addresses, ``/assignments/validate`` and
``/nbgrader_version``. jupyter_server loads extensions in alphabetical order and tornado answers
with the first handler registered for an address, so this one answers before nbgrader's own
``validate_assignment`` extension, which stays enabled: should this module fail to load, the
button still works, with nbgrader's plain dialog.

nbgrader's lab extension draws every entry of the reply's ``failed`` list the same way: "The
following cell failed:", the cell's source as text, then its ``error`` as HTML. The summary is a
first entry of that list whose ``error`` holds the count and the messages, and a ``<style>``
scoped to the dialog (``#validation-message``) hides the heading and the empty source box drawn
above it. With another nbgrader the worst case is that heading showing above the summary.

It lives in ``lessons``, not ``grading``: ``grading publish`` leaves the instructor's tools (and
nbgrader_config.py) out of the repository learners and Binder get, and this is theirs. The
command line is nbgrader's own (``nbgrader validate``; Validator.width and failed_warning in
nbgrader_config.py).
"""

from __future__ import annotations

import html
import traceback
from pathlib import Path

from jupyter_server.utils import url_path_join
from nbconvert.filters import strip_ansi
from nbgrader.nbgraderformat import SchemaTooNewError, SchemaTooOldError
from nbgrader.server_extensions.validate_assignment.handlers import (
    NbGraderVersionHandler,
    ValidateAssignmentHandler,
)
from nbgrader.validator import Validator
from tornado import web
from traitlets import Integer

from .checks import CheckFailed, NotAttempted

# A check's message is the whole story: shown without its exception's name.
CHECK_EXCEPTIONS = {CheckFailed.__name__, NotAttempted.__name__}

# Hides what nbgrader's dialog draws for the summary entry: its "The following cell failed:"
# and its (empty) source; the summary's text wraps like a paragraph.
SUMMARY_STYLE = (
    "<style>"
    "#validation-message > div:nth-child(1), #validation-message > div:nth-child(2)"
    " { display: none; }"
    " .course-validate-summary { white-space: pre-wrap; word-break: normal; }"
    "</style>"
)


def count_line(failed: int) -> str:
    """'1 check failed', '3 checks failed'."""
    return f"{failed} check{'' if failed == 1 else 's'} failed"


class CourseValidator(Validator):
    """nbgrader's Validator; each entry of ``failed`` also holds ``message``: what the cell's
    check raised, whole (its exception's message, never cut at ``width``)."""

    # nbgrader_config.py's width where it is not read (the published repository has none): a
    # check's box, 96 characters indented by 4, keeps its lines whole in the detail too
    width = Integer(108, help="Maximum line width for displaying code/errors").tag(config=True)

    def validate(self, filename: str) -> dict:
        self._messages: list[str] = []
        results = super().validate(filename)
        for entry, message in zip(results.get("failed", []), self._messages, strict=False):
            entry["message"] = message
        return results

    def _get_failed_cells(self, nb):
        failed = super()._get_failed_cells(nb)
        self._messages = [self.message(cell) for cell in failed]
        return failed

    def message(self, cell) -> str:
        """The failed cell's error in one piece: a check's sentence, ``Name: message`` for any
        other exception, or nbgrader's own words (stderr, partial credit, no response) after
        the cell's grade id, which says which answer is meant (``written_…: You did not…``)."""
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                text = strip_ansi(str(output.get("evalue", ""))).strip()
                name = output.get("ename", "")
                if name in CHECK_EXCEPTIONS and text:
                    return text
                return f"{name}: {text}" if text else name
        words = strip_ansi(self._extract_error(cell)).strip()
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        return f"{grade_id}: {words}" if grade_id else words


def summary_entry(failed: list[dict]) -> dict:
    """The first entry of the dialog's ``failed`` list: the count, then each message."""
    lines = [count_line(len(failed))]
    lines += [f"{i}. {entry.get('message') or strip_ansi(entry.get('raw_error', '')).strip()}"
              for i, entry in enumerate(failed, 1)]
    lines.append("If you submit the notebook as it is, a failed check gives no points. "
                 "Below: each failed cell and all it printed.")
    text = "\n\n".join(lines)
    first, rest = text.split("\n", 1)
    body = (f'<span class="course-validate-summary"><strong>{html.escape(first)}</strong>\n'
            f"{html.escape(rest)}</span>")
    return {"source": "", "error": SUMMARY_STYLE + body, "raw_error": text, "summary": True}


def with_summary(results: dict) -> dict:
    """nbgrader's results, with the summary entry leading ``failed`` when checks failed."""
    failed = results.get("failed")
    if not failed:
        return results
    return {**results, "failed": [summary_entry(failed), *failed]}


class ValidateHandler(ValidateAssignmentHandler):
    """nbgrader's handler (same address, same replies), validating with CourseValidator and
    leading a failure with the summary."""

    def validate_notebook(self, path):
        root = Path(self.root_dir).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPError(403, "Access denied: path outside allowed directory")
        try:
            results = CourseValidator(config=self.load_config()).validate(str(target))
        except (SchemaTooOldError, SchemaTooNewError):
            # nbgrader's advice for old or new metadata; it stops at the same check, before
            # running any cell
            return super().validate_notebook(path)
        except Exception:
            self.log.error(traceback.format_exc())
            return {"success": False, "value": traceback.format_exc()}
        return {"success": True, "value": with_summary(results)}


def _jupyter_server_extension_points():
    return [{"module": "course_lib.lessons.validate"}]


def _load_jupyter_server_extension(serverapp):
    webapp = serverapp.web_app
    base_url = webapp.settings["base_url"]
    webapp.settings["root_dir"] = serverapp.root_dir  # as nbgrader's extension sets it
    webapp.add_handlers(".*$", [
        (url_path_join(base_url, "/assignments/validate"), ValidateHandler),
        (url_path_join(base_url, "/nbgrader_version"), NbGraderVersionHandler),
    ])
    serverapp.log.info("course_lib.lessons.validate: Validate leads with the failed checks")
