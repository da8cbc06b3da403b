"""nbgrader glue for ``course_lib.grading``: configuration, the in-process API, the gradebook,
the preprocessors nbgrader_config.py names (CappedExecute, ScrubHiddenTests), and the
KernelManager that starts each learner's kernel in its sandbox (SandboxedKernelManager).

Everything that imports nbgrader lives here, so that ``course_lib.grading`` stays importable (and
its ``--help`` fast) without it: the steps import this module inside the functions that need it.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from jinja2 import BytecodeCache
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbconvert.exporters import HTMLExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader import api as nbgrader_api
from nbgrader.apps import NbGraderAPI
from nbgrader.dbutil import _temp_alembic_ini
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode
from traitlets.config import Config, PyFileConfigLoader

from . import sandbox
from .common import GradingError
from .hidden import hidden_lines, strip_hidden_region, traceback_quotes
from .integrity import KERNEL_STOPPED, NO_EVIDENCE, TIME_LIMIT, TIMEOUT_ENAMES


def quiet_nbgrader() -> None:
    """Silence the noise nbgrader makes on every run, and make its own commands findable.

    nbgrader runs ``alembic`` as a subprocess (found on PATH, ≈ 6 s) each time it creates a
    gradebook, only to read a constant; reading it in-process takes milliseconds.
    """
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    nbgrader_api.get_alembic_version = _alembic_head
    try:
        from sqlalchemy.exc import SAWarning

        warnings.filterwarnings("ignore", category=SAWarning)
    except ImportError:  # pragma: no cover - sqlalchemy always comes with nbgrader
        pass


def _alembic_head() -> str:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        return ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()


def load_config(config_file: Path, **overrides) -> Config:
    """The settings of ``config_file`` (an nbgrader_config.py) with dotted ``overrides`` applied.

    ``load_config(path, **{"CourseDirectory.root": "/tmp/x"})``.
    """
    loader = PyFileConfigLoader(config_file.name, path=str(config_file.parent))
    config = loader.load_config()
    for dotted, value in overrides.items():
        section, name = dotted.split(".")
        setattr(config[section], name, value)
    return config


def make_api(config: Config, log_level: int = logging.WARNING,
             figures: bool = True) -> NbGraderAPI:
    """nbgrader's in-process API on ``config``; ``figures=False`` makes the kernels skip drawing
    matplotlib figures (no PNG in the outputs; grades never depend on them, and drawing is
    most of a plotting cell's time)."""
    quiet_nbgrader()
    config = copy.deepcopy(config)
    config.NbGraderAPI.log_level = log_level
    if not figures:
        config.Execute.extra_arguments = ["--InlineBackend.figure_formats=set()"]
    return NbGraderAPI(config=config)


def check(result: dict, what: str) -> None:
    """Raise GradingError with the tail of nbgrader's log when an API call failed."""
    if not result.get("success"):
        details = (result.get("log") or "") + (result.get("error") or "")
        tail = "\n".join(details.strip().splitlines()[-15:])
        raise GradingError(f"nbgrader could not {what}:\n{tail}")


def generate_assignment(api: NbGraderAPI, assignment: str) -> None:
    check(api.generate_assignment(assignment, force=True), f"generate assignment {assignment!r}")


def generate_if_changed(course: Path, assignment: str, config: Config) -> bool:
    """``generate_assignment`` in the course folder, unless its last run was for the same
    source, settings and gradebook (a regrade then spends no time on it); True when it ran.

    The key (``.grading/<id>.release``) hashes ``source/<id>``'s files, the course's
    nbgrader_config.py and the settings it loads; the release notebooks and the gradebook must
    also still be what that run left."""
    stamp = Path(course) / ".grading" / f"{assignment}.release"
    key = _release_key(Path(course), assignment)
    try:
        if stamp.read_text(encoding="ascii").strip() == key:
            return False
    except OSError:
        pass
    stamp.unlink(missing_ok=True)
    generate_assignment(make_api(config), assignment)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(_release_key(Path(course), assignment) + "\n", encoding="ascii")
    return True


def _release_key(course: Path, assignment: str) -> str:
    """The hash of what ``generate_assignment`` reads and writes for ``assignment``."""
    import hashlib

    from .common import CONFIG_MARKER

    digest = hashlib.sha256()
    config = course / "nbgrader_config.py"
    files = [config]
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if text.startswith(CONFIG_MARKER):  # the course's settings file, which it loads
        files += [Path(m[2]) for m in re.finditer(r"load_subconfig\((['\"])(.*?)\1\)", text)]
    for folder in ("source", "release"):
        root = course / folder / assignment
        files += sorted(p for p in root.rglob("*") if p.is_file()
                        and ".ipynb_checkpoints" not in p.parts) if root.is_dir() else []
    gradebook = course / "gradebook.db"
    for path in files:
        digest.update(str(path).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-")
    # The gradebook changes with every grade; that it is there (the assignment in it) is enough.
    digest.update(b"gradebook" if gradebook.exists() else b"no gradebook")
    return digest.hexdigest()


def gradebook_url(config: Config) -> str:
    """The database nbgrader keeps grades in (``gradebook.db`` in the course folder by default)."""
    url = config.CourseDirectory.get("db_url")
    return url or f"sqlite:///{Path(config.CourseDirectory.root) / 'gradebook.db'}"


# The last line the grader adds to each test cell it runs: a token that only a test that ran to
# its end prints (and that the learner's earlier cells cannot know: a new one per cell and run).
EVIDENCE_LINE = "__import__('sys').stdout.write({token!r} + '\\n');  # no value shown"
# Run (silently) before each test cell: the test's ``checks`` become a private copy, read again
# from course_lib's file, so nothing the learner did to the imported module counts.
PRIVATE_CHECKS = """\
def _course_private_checks(path={path!r}):
    import importlib.util
    spec = importlib.util.spec_from_file_location("course_lib.lessons.checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
checks = _course_private_checks()
del _course_private_checks
"""


def is_test_cell(cell) -> bool:
    """An autograded test cell: code, graded, not an answer."""
    nbg = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(nbg.get("grade")) and not nbg.get("solution")


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class CappedExecute(Execute):
    """nbgrader's Execute, failing closed, keeping at most ``output_limit`` characters per cell.

    * A test cell earns its points only with positive evidence that it ran to its end: it is
      run with one more line that prints a token made for that cell and run; the token is
      taken out of the output again, and a test cell whose token did not arrive gets an error
      (``NoEvidenceError``), so nbgrader scores it 0 (a cell skipped, emptied or rewritten by
      the learner's earlier code, or with the output switched off).
    * Before each test cell, ``checks`` is re-bound to a private copy read from course_lib's file.
    * When the kernel stops (a crash, the memory limit), the cells that ran keep their points;
      every test cell from there on gets an error (``KernelStoppedError``): partial credit.
    * nbclient keeps every output message in memory, so a learner's infinite loop that prints
      (``while loss > 0.01: print(loss)``) fills gigabytes before the cell timeout stops it
      (measured here: about 1 GB in 5 s). Past the limit further outputs are dropped and one
      line says so; the loop still ends at the cell timeout.
    """

    output_limit = Integer(1_000_000, help="characters of output kept per cell").tag(config=True)
    timeout_after_timeout = Integer(0, help=(
        "per-cell limit once a cell of the notebook has timed out, in seconds (0: a twentieth "
        "of the cell timeout, at least 3 s)")).tag(config=True)
    notebook_timeout = Integer(0, help=(
        "seconds the whole notebook may take (0: five cell timeouts)")).tag(config=True)
    iopub_timeout = Integer(30, help=(
        "seconds to wait, once a cell's reply has come, for the rest of its output (nbclient's "
        "4 s is too short on a busy machine after a flood of output was interrupted: the cell "
        "then failed the whole notebook instead of timing out)")).tag(config=True)
    checks_file = Unicode(str(Path(__file__).resolve().parents[1] / "lessons" / "checks.py"),
                          help="the checks module test cells get a private copy of").tag(
                              config=True)

    def preprocess(self, nb, resources=None, *args, **kwargs):
        self._used: dict[int, int] = {}
        self._tokens: dict[int, str] = {}
        self._seen: set[int] = set()
        self._stopped: str | None = None  # why no more cells run, once that happens
        self._stop_kind = KERNEL_STOPPED
        self._sealed = False
        self._end = time.monotonic() + (self.notebook_timeout or 5 * (self.timeout or 60))
        self._timed_out = False
        return super().preprocess(nb, resources, *args, **kwargs)

    def preprocess_cell(self, cell, resources, index):
        if not self._sealed:  # the kernel is up and its sockets exist: nothing more to write
            self._sealed = True
            if hasattr(self.km, "seal"):
                self.km.seal()
        if self._stopped is None and cell.cell_type == "code" and time.monotonic() >= self._end:
            self._stopped, self._stop_kind = self._time_message(), TIME_LIMIT
        if self._stopped is not None:
            if is_test_cell(cell):
                cell.outputs = [error_output(self._stop_kind, self._stopped)]
            return cell, self.resources
        cell, resources = self._run(cell, resources, index)
        if not self._timed_out and any(out.output_type == "error" and out.get("ename") in
                                       TIMEOUT_ENAMES for out in cell.get("outputs", [])):
            self._timed_out = True  # from now on each cell gets the short limit
        return cell, resources

    def short_timeout(self) -> int:
        return self.timeout_after_timeout or max(3, math.ceil((self.timeout or 60) / 20))

    def _get_timeout(self, cell):
        """The cell timeout (the short one after a first timeout), never past the notebook's
        own limit: a function that loops forever costs its first caller the cell timeout and
        every later caller the short one."""
        timeout = super()._get_timeout(cell)
        if self._timed_out:
            timeout = min(timeout or self.short_timeout(), self.short_timeout())
        left = math.ceil(self._end - time.monotonic())
        return max(1, min(timeout, left)) if timeout else max(1, left)

    def _time_message(self) -> str:
        return ("not run: the notebook used up its time limit "
                f"({self.notebook_timeout or 5 * (self.timeout or 60)} s) before this cell")

    def _run(self, cell, resources, index):
        if not is_test_cell(cell):
            try:
                return super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._stopped = self._stop_message(index)
                return cell, self.resources
        unprepared = self._private_checks()
        token = secrets.token_hex(16)
        self._tokens[index] = token
        original = cell.source
        cell.source = f"{original}\n{EVIDENCE_LINE.format(token=token)}"
        try:
            cell, _ = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = self._stop_message(index)
            cell.outputs.append(error_output(KERNEL_STOPPED, self._stopped))
        finally:
            cell.source = original
        if not any(out.output_type == "error" for out in cell.outputs):
            if unprepared:
                cell.outputs.append(error_output(NO_EVIDENCE, (
                    f"the grader could not prepare its checks before this test ({unprepared}); "
                    "it earns no points")))
            elif index not in self._seen:
                cell.outputs.append(error_output(NO_EVIDENCE, (
                    "this test gave no sign that it ran to its end, so it earns no points (did "
                    "code in an earlier cell change how cells run, or switch the output off?)")))
        return cell, self.resources

    def _stop_message(self, index: int) -> str:
        return (f"the kernel stopped during cell {index} (it crashed, or went past the memory "
                "or process limit), so no later test ran")

    def _private_checks(self) -> str | None:
        """Re-bind ``checks`` in the kernel to a fresh private copy; None, or what went wrong."""
        try:
            msg_id = self.kc.execute(PRIVATE_CHECKS.format(path=self.checks_file), silent=True,
                                     store_history=False)
            reply = self.wait_for_reply(msg_id)
        except DeadKernelError:
            raise
        except Exception as exc:  # a timeout: the kernel is stuck in the learner's code
            return f"{type(exc).__name__}: {exc}"
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            return f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}"
        return None

    def output(self, outs, msg, display_id, cell_index):
        token = self._tokens.get(cell_index)
        content = msg.get("content", {})
        if token and msg.get("msg_type") == "stream" and token in content.get("text", ""):
            self._seen.add(cell_index)
            content["text"] = content["text"].replace(token + "\n", "").replace(token, "")
            if not content["text"]:
                return None
        used = self._used.get(cell_index, 0)
        if used > self.output_limit:
            return None
        used += len(str(content))
        self._used[cell_index] = used
        if used > self.output_limit:
            outs.append(NotebookNode(output_type="stream", name="stdout", text=(
                f"\n[the grader kept the first {self.output_limit:,} characters of this "
                "cell's output and dropped the rest]\n")))
            return None
        return super().output(outs, msg, display_id, cell_index)


class _Templates(BytecodeCache):
    """Compiled Jinja templates kept in memory for the life of the process."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _Templates()


class CachedHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter whose templates are compiled once per process.

    nbgrader makes a new exporter, and so a new Jinja environment, for every feedback page:
    with one page a learner, compiling the feedback templates again each time was most of the
    page's cost. Jinja's own bytecode cache (keyed by template name and checksum of its source)
    keeps what it compiled; everything else (filters, config, resources) is the exporter's own.
    """

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _TEMPLATES
        return environment


class DropImages(NbGraderPreprocessor):
    """Feedback without embedded images (``grade --feedback-images no``): each output keeps its
    text and loses its PNG/JPEG/SVG data, about 0.9 MB a learner on notebook 01."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                data = output.get("data")
                if data:
                    for mime in [m for m in data if m.startswith("image/")]:
                        del data[mime]
                    if not data:
                        data["text/plain"] = "[figure left out of this feedback]"
        return nb, resources


class ScrubHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests from an autograded notebook before it becomes learner feedback.

    nbgrader restores each grade cell from the gradebook, hidden region included, and its feedback
    HTML shows that source (nbgrader issue #917); IPython tracebacks quote the lines around the
    failing one too. Hidden regions become one comment line, and every traceback that comes from
    a cell with hidden tests, or quotes one of their lines, is cut down to its last line
    (``AssertionError: <the check's message>``).
    """

    note = Unicode("(traceback hidden: it quotes hidden tests)").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        secret = hidden_lines(cell.source for cell in nb.cells)
        for cell in nb.cells:
            cell.source, had_hidden = strip_hidden_region(cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and (
                    had_hidden or traceback_quotes(output.get("traceback", []), secret)
                ):
                    last = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                    output.traceback = [last, self.note]
        return nb, resources


class SandboxedKernelManager(AsyncKernelManager):
    """A KernelManager whose kernel runs in the sandbox of ``sandbox.py``, over Unix sockets.

    nbclient builds one per notebook (``CappedExecute.kernel_manager_class``); the run folder
    (connection file and sockets, nobody else's) is made here and removed with the kernel.
    """

    memory_mb = Integer(2048, help="heap of the kernel, in MB").tag(config=True)
    processes = Integer(64, help="processes and threads the kernel may run").tag(config=True)
    scratch_mb = Integer(256, help="size of the kernel's private scratch folder, MB").tag(
        config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.run_dir = Path(tempfile.mkdtemp(prefix="course-kernel-"))
        if sandbox.is_root():
            os.chown(self.run_dir, sandbox.sandbox_uid(), sandbox.sandbox_uid())
        self.transport = "ipc"
        self.connection_file = str(self.run_dir / "kernel.json")
        self.ip = str(self.run_dir / "kernel")
        self._cwd_notebooks: list[Path] = []

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if sandbox.is_root():  # the kernel's own user must read it; nobody else sees the folder
            os.chown(self.connection_file, sandbox.sandbox_uid(), sandbox.sandbox_uid())

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:  # a signal would stop at bwrap; ask the kernel itself
            spec.interrupt_mode = "message"
        return spec

    async def _async_pre_start_kernel(self, **kw):
        self._cwd_notebooks = _submitted_notebooks(kw.get("cwd"))
        return await super()._async_pre_start_kernel(**kw)

    def seal(self) -> None:
        """Once the kernel has made its sockets, its run folder (on the grader's disk) becomes
        read-only to it: from then on it can write only to its size-limited scratch. (As root;
        otherwise the kernel's user owns the folder and the per-file limit is what holds.)"""
        if sandbox.is_root():
            os.chown(self.run_dir, 0, 0)
            os.chmod(self.run_dir, 0o711)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        argv = super().format_kernel_cmd(extra_arguments)
        return sandbox.command(argv, self.run_dir, memory_mb=self.memory_mb, processes=self.processes,
                       scratch_mb=self.scratch_mb, env=sandbox.kernel_env(),
                       files=self._cwd_notebooks)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _submitted_notebooks(cwd: str | None) -> list[Path]:
    """The learner's own notebook as they submitted it (pre-cleaned, no hidden tests), for the
    sandbox to show them beside their code. nbgrader starts the kernel in
    ``autograded/<student>/<id>/``, whose notebook already holds the hidden tests: never that."""
    if not cwd:
        return []
    cwd = Path(cwd)
    submitted = cwd.parents[2] / "submitted" / cwd.parent.name / cwd.name
    return sorted(submitted.glob("*.ipynb")) if cwd.parents[1].name == "autograded" else []
