"""The Validate button's dialog leads with the number of failed checks and each check's whole
message, then nbgrader's detail; a passing notebook gets nbgrader's success (issue 16).

Learners' notebook 01 (notebooks/, as handed out) with every answer typed in from solutions/ and
mistakes planted from tests/mutants/; the expected hints come from the catalogue
(course_lib.lessons.mistakes). The server tests POST to JupyterLab started with make lab's
configuration (tools/lab.py's command and environment, run from the repository as make lab runs
it), so they check the handler that answers the button; the browser test clicks Validate in
Debian's Chromium and keeps its screenshot under test-artifacts/browser/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from grading_helpers import Case, correct_in_release, load_mutants, to_bytes, with_source
from test_browser import (
    ARTIFACTS,
    CHROMIUM_FLAGS,
    Lab,
    _chromium,
    _free_port,
    _open,
    _playwright,
)

from course_lib.lessons import mistakes
from course_lib.lessons.validate import CourseValidator, count_line, with_summary

ROOT = Path(__file__).resolve().parents[1]
CASE = Case(ROOT, "01_forward_propagation")
NOTEBOOK = "forward_propagation"
NO_BIAS = "linear_forward without the bias"
OVERFLOW = "sigmoid_forward written as 1 / (1 + exp(-z)) (overflow warning at -1000)"


def _hint(name: str) -> str:
    """The catalogue's whole hint for the mutant ``name`` (its message is the hint's start)."""
    prefix = next(m for m in load_mutants(CASE) if m["name"] == name)["message"]
    X = np.arange(9.0).reshape(3, 3)
    hints = [h for _, h in mistakes.linear_forward(X, X, X[0])] + [mistakes.SIGMOID_OVERFLOW]
    return next(h for h in hints if h.startswith(prefix))


def _notebook(*planted: str) -> bytes:
    """Notebook 01 as a learner who answered everything, with the mutants ``planted``."""
    import nbformat

    release = nbformat.read(CASE.notebooks / f"{NOTEBOOK}.ipynb", as_version=4)
    nb = correct_in_release(release, CASE.solution(NOTEBOOK))
    mutants = {m["name"]: m for m in load_mutants(CASE)}
    for name in planted:
        nb = with_source(nb, mutants[name]["cell"], mutants[name]["source"])
    return to_bytes(nb)


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- the summary itself (no server) ---------------------------------------------------------

def test_the_summary_leads_with_the_count_and_every_message_whole():
    long = "x" * 300 + " <b>&"
    results = {"failed": [{"source": "check_a()", "error": "A", "raw_error": "A", "message": long},
                          {"source": "check_b()", "error": "B", "raw_error": "B",
                           "message": "b went wrong."}]}
    failed = with_summary(results)["failed"]
    assert [e["source"] for e in failed[1:]] == ["check_a()", "check_b()"]  # nbgrader's detail
    summary = failed[0]
    assert summary["raw_error"].split("\n\n")[:3] == ["2 checks failed", f"1. {long}",
                                                      "2. b went wrong."]
    assert "<strong>2 checks failed</strong>" in summary["error"]
    assert "x" * 300 + " &lt;b&gt;&amp;" in summary["error"]  # escaped, never cut
    assert count_line(1) == "1 check failed"
    assert with_summary({}) == {}  # success stays nbgrader's
    changed = {"changed": [{"source": "a test cell"}]}
    assert with_summary(changed) == changed


def test_each_message_is_the_exception_message_or_names_the_cell():
    import nbformat

    def cell(outputs=(), kind="code", **nbgrader):
        made = (nbformat.v4.new_code_cell("x", outputs=list(outputs)) if kind == "code"
                else nbformat.v4.new_markdown_cell("YOUR ANSWER HERE"))
        made.metadata["nbgrader"] = nbgrader
        return made

    def error(name, value):
        return nbformat.v4.new_output("error", ename=name, evalue=value,
                                      traceback=["\x1b[31mwrapped\x1b[0m", "box"])

    message = CourseValidator().message
    assert message(cell([error("CheckFailed", "relu_forward: whole, not wrapped.")])) == (
        "relu_forward: whole, not wrapped.")
    assert message(cell([error("NotAttempted", "softmax is not implemented yet.")])) == (
        "softmax is not implemented yet.")
    assert message(cell([error("NameError", "name 'np' is not defined")])) == (
        "NameError: name 'np' is not defined")
    written = cell(kind="markdown", grade=True, solution=True, grade_id="written_search")
    assert message(written) == "written_search: You did not provide a response."


# --- JupyterLab as make lab starts it ---------------------------------------------------------

def _make_lab_module():
    spec = importlib.util.spec_from_file_location("make_lab", ROOT / "tools" / "lab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_lab_args_may_name_another_folder():
    """``make lab ARGS="--notebook-dir=..."`` serves that folder: traitlets refuses a folder
    given twice ("root_dir only accepts one value"), so make lab leaves its own out."""
    lab = _make_lab_module()
    default = lab.command(8888, [])
    assert [a for a in default if a.startswith("--notebook-dir=")] == [
        f"--notebook-dir={ROOT / 'notebooks'}"]
    for option in ("--notebook-dir=/tmp/mine", "--ServerApp.root_dir=/tmp/mine"):
        args = lab.command(8888, [option])
        assert [a for a in args if a.split("=")[0] in lab.FOLDER_OPTIONS] == [option]


class LearnersLab(Lab):
    """make lab's JupyterLab (tools/lab.py: its command, its JUPYTER_CONFIG_PATH, started from
    the repository) on 127.0.0.1, serving ``folder`` instead of notebooks/; waiting, the log
    and stopping as test_browser's ``Lab``."""

    def __init__(self, folder: Path, home: Path):
        lab = _make_lab_module()
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.folder = folder
        env = {k: v for k, v in lab.environment().items()
               if k not in ("COURSE_HEADLESS", "NBGRADER_EXECUTION", "DISPLAY", "WAYLAND_DISPLAY")}
        env.update(JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
                   JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                   MY_NN_PATH=str(home / "my_nn.py"),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
        args = lab.command(self.port, ["--ServerApp.ip=127.0.0.1", "--no-browser",
                                       f"--IdentityProvider.token={self.token}",
                                       f"--notebook-dir={folder}"])
        self.log_path = home / "jupyter.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def request(self, path, body=None, timeout=300):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/{path}", data=data,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as reply:
            return json.loads(reply.read())


@pytest.fixture(scope="module")
def learners_lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    (folder / "two_mistakes.ipynb").write_bytes(_notebook(NO_BIAS, OVERFLOW))
    (folder / "one_mistake.ipynb").write_bytes(_notebook(OVERFLOW))
    (folder / "correct.ipynb").write_bytes(_notebook())
    lab = LearnersLab(folder, tmp_path_factory.mktemp("home"))
    try:
        lab.wait(timeout=120)
        yield lab
    finally:
        lab.stop()


def _validate(lab, name):
    started = time.monotonic()
    reply = lab.request("assignments/validate", {"path": name})
    print(f"\nvalidate {name}: {time.monotonic() - started:.1f} s")
    return reply


@pytest.mark.slow
def test_the_reply_leads_with_the_count_and_each_whole_hint(learners_lab):
    reply = _validate(learners_lab, "two_mistakes.ipynb")
    assert reply["success"] is True, reply
    failed = reply["value"]["failed"]
    losing = {cell for m in load_mutants(CASE) if m["name"] in (NO_BIAS, OVERFLOW)
              for cell in m["loses"]}
    assert len(failed) == 1 + len(losing) == 3, [e["source"][:80] for e in failed]
    summary = failed[0]["raw_error"]
    lines = summary.split("\n\n")
    assert lines[0] == "2 checks failed", summary
    assert lines[1].startswith("1. linear_forward ") and lines[1].endswith(_hint(NO_BIAS)), summary
    assert lines[2].startswith("2. sigmoid_forward ") and lines[2].endswith(_hint(OVERFLOW))
    assert failed[0]["error"].index("2 checks failed") < failed[0]["error"].index(
        "the bias seems to be missing")
    # then nbgrader's detail: each failed cell's source and its output, in the notebook's order
    assert "linear_forward" in failed[1]["source"] and "sigmoid_forward" in failed[2]["source"]
    assert _hint(OVERFLOW)[:60] in _flat(failed[2]["raw_error"])


@pytest.mark.slow
def test_a_correct_notebook_gets_nbgraders_success(learners_lab):
    assert _validate(learners_lab, "correct.ipynb") == {"success": True, "value": {}}
    version = learners_lab.request("nbgrader_version?version=0.9.6")
    assert version == {"success": True}


@pytest.mark.slow
def test_nbgrader_validate_on_the_command_line_still_prints_the_count_and_whole_hints(
        learners_lab):
    """The command nbgrader's docs give learners, with the repository's nbgrader_config.py."""
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    env.update(COURSE_HEADLESS="1", MY_NN_PATH=str(learners_lab.folder / "my_nn.py"))
    done = subprocess.run([str(Path(sys.executable).with_name("nbgrader")), "validate",
                           str(learners_lab.folder / "two_mistakes.ipynb")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    out = _flat(done.stdout)
    assert out.startswith("2 CHECK(S) FAILED."), done.stdout[:500] + done.stderr[-2000:]
    assert _flat(_hint(NO_BIAS)) in out and _flat(_hint(OVERFLOW)) in out


# --- the dialog in Chromium -----------------------------------------------------------------

@pytest.mark.slow
def test_the_dialog_shows_the_count_first_then_the_whole_hint(learners_lab, tmp_path):
    chromium = _chromium()
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page_errors = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, args=CHROMIUM_FLAGS,
            headless=True, viewport={"width": 1300, "height": 1000})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            _open(page, learners_lab, "one_mistake.ipynb")
            started = time.monotonic()
            page.locator(".validate-button").first.click()
            dialog = page.locator(".jp-Dialog #validation-message")
            dialog.wait_for(timeout=300_000)
            seconds = time.monotonic() - started
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / "validate_dialog.png"))
            text = dialog.inner_text()
            title = page.locator(".jp-Dialog-header").inner_text()
        finally:
            context.close()
    print(f"\nValidate clicked -> dialog in {seconds:.1f} s; its first lines:\n{text[:600]}")
    lines = [line for line in text.splitlines() if line.strip()]
    assert "Validation Results" in title, title
    assert lines[0] == "1 check failed", text[:500]
    assert lines[1].startswith("1. sigmoid_forward "), text[:800]
    assert _flat(lines[1]).endswith(_flat(_hint(OVERFLOW))), text[:800]
    flat = _flat(text)
    assert flat.index(_flat(_hint(OVERFLOW))) < flat.index("The following cell failed:")
    assert text.count("The following cell failed:") == 1, text[:2000]  # not the summary's
    assert not page_errors, page_errors
