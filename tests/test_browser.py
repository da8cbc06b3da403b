"""The live widgets in a real browser: JupyterLab on loopback, driven in Debian's Chromium.

What a learner does: open the notebook, run all cells, press play on the playground. The test
asserts that the playground's canvas changes between two screenshots, that its epoch counter
advances (and stops when paused), that no cell shows an error, and that the page logs no
JavaScript error. Screenshots are kept under ``test-artifacts/browser/``.

The page is ``tests/browser/widgets_demo.ipynb`` (every widget, as its notebook embeds it); once
notebook 05's source (``solutions/05_xor/xor.ipynb``) embeds the playground it is tested too.
Both are run from a copy in a temporary folder, so the repository's files are never rewritten.

Chromium is not optional here: without it the test fails and says how to install it
(``.ci/run`` installs it with apt-get). Playwright drives it from Python (``pip install -e
".[dev]"``); ``playwright install`` is never needed, the system's Chromium is used.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO = ROOT / "tests" / "browser" / "widgets_demo.ipynb"
NOTEBOOK_05 = ROOT / "solutions" / "05_xor" / "xor.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
# Console errors that are JupyterLab's own business, not the widgets' (none needed so far).
IGNORED_CONSOLE = ()

pytestmark = pytest.mark.slow


def _chromium():
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("The browser test needs Debian's Chromium and it is not installed: run "
                    "`apt-get install -y chromium` as root (.ci/run does this), then make test again.",
                    pytrace=False)
    return path


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The browser test needs the playwright Python package: "
                    "`pip install -e '.[dev]'` (no `playwright install` needed).", pytrace=False)
    return sync_playwright


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebooks():
    pages = [pytest.param(DEMO, id="widgets_demo")]
    embeds = NOTEBOOK_05.exists() and "Playground(" in NOTEBOOK_05.read_text(encoding="utf-8")
    pages.append(pytest.param(NOTEBOOK_05, id="notebook_05", marks=pytest.mark.skipif(
        not embeds, reason="notebook 05 (solutions/05_xor/xor.ipynb) does not embed the "
                           "playground yet; the demo page covers it")))
    return pages


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, serving a temporary folder."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        settings = root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        # every cell stays in the page (no virtual scrolling), so every output can be checked
        notebook_settings = root / ".lab-settings" / "@jupyterlab" / "notebook-extension"
        notebook_settings.mkdir(parents=True)
        (notebook_settings / "tracker.jupyterlab-settings").write_text(
            json.dumps({"windowingMode": "none"}))
        env = {k: v for k, v in os.environ.items()
               if k not in ("COURSE_HEADLESS", "NBGRADER_EXECUTION")}
        env.update(JUPYTERLAB_SETTINGS_DIR=str(root / ".lab-settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(root / ".lab-workspaces"),
                   JUPYTER_RUNTIME_DIR=str(root / ".runtime"))
        args = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                f"--port={self.port}", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
                "--LabApp.news_url=", "--ServerApp.port_retries=0"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        self.log = open(root / "jupyter.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, cwd=root, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def wait(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"JupyterLab did not start: {self.tail()}")

    def tail(self, n=3000):
        self.log.flush()
        return (self.root / "jupyter.log").read_text(errors="replace")[-n:]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # JupyterLab asks twice: send it twice
            time.sleep(0.2)
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


def _distinct_colours(locator):
    return locator.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  const seen = new Set();
                  for (let i = 0; i < d.length && seen.size < 3; i += 4 * 97)
                      seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2] + ',' + d[i + 3]);
                  return seen.size; }""")


ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def _wait_until_all_cells_ran(page, timeout=300):
    """Every code cell numbered (or the run stopped at an error, which the test reports)."""
    deadline = time.monotonic() + timeout
    while True:
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        busy = any("*" in p for p in prompts)
        waiting = any(re.fullmatch(r"\[\s*\]:", p.strip()) for p in prompts)
        if not busy and (not waiting or page.locator(ERROR_OUTPUT).count()):
            return
        assert time.monotonic() < deadline, f"cells still running after {timeout} s: {prompts}"
        page.wait_for_timeout(250)


def _epoch(page):
    text = page.locator(".course-playground .course-epoch").first.inner_text()
    match = re.search(r"Epoch ([\d,]+)", text)
    assert match, f"no epoch counter in {text!r}"
    return int(match.group(1).replace(",", ""))


def _counter(page, widget):
    return page.locator(f".{widget} .course-epoch").first.inner_text()


def _exercise_other_widgets(page):
    """Click through the other widgets of the demo page: a preset, play, step."""
    results = {}
    explorer = page.locator(".course-lr-explorer").first
    explorer.get_by_role("button", name="α = 50").click()
    page.wait_for_timeout(1500)
    text = explorer.inner_text()
    results["learning-rate explorer, α = 50"] = ("diverging" in text, text[:300])

    race = page.locator(".course-optimizer-race").first
    race.locator(".widget-play button").first.click()
    page.wait_for_timeout(2500)
    race.locator(".widget-play button").first.click()
    text = _counter(page, "course-optimizer-race")
    steps = int(re.search(r"Step (\d+)", text).group(1))
    results["optimizer race, play"] = (steps > 0, text)

    for widget in ("course-regularization", "course-batchnorm-view"):
        box = page.locator(f".{widget}").first
        box.get_by_role("button", name="Step").click()
        deadline = time.monotonic() + 30
        while "Epoch 1" not in _counter(page, widget) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        results[f"{widget}, step"] = ("Epoch 1" in _counter(page, widget),
                                      _counter(page, widget))
    return results


@pytest.mark.parametrize("notebook", _notebooks())
def test_playground_trains_live_in_chromium(notebook, tmp_path):
    chromium = _chromium()
    sync_playwright = _playwright()
    work = tmp_path / "lab"
    work.mkdir()
    page_name = notebook.name
    shutil.copy(notebook, work / page_name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / notebook.stem
    lab = Lab(work)
    console, page_errors = [], []
    try:
        lab.wait()
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=chromium, args=CHROMIUM_FLAGS,
                headless=True, viewport={"width": 1300, "height": 3400})
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.on("console", lambda m: console.append((m.type, m.text)))
                page.on("pageerror", lambda e: page_errors.append(str(e)))
                page.goto(f"{lab.url}/lab/tree/{page_name}?reset&token={lab.token}")
                status = page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))
                status.first.wait_for(timeout=120_000)

                page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
                page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

                box = page.locator(".course-playground").first
                box.wait_for(timeout=120_000)
                box.scroll_into_view_if_needed()
                canvas = box.locator(".jupyter-matplotlib-canvas-div canvas").first
                canvas.wait_for(timeout=60_000)
                deadline = time.monotonic() + 60
                while _distinct_colours(canvas) < 2:
                    assert time.monotonic() < deadline, "the playground canvas was never painted"
                    page.wait_for_timeout(200)
                _wait_until_all_cells_ran(page)
                page.wait_for_timeout(500)
                start_epoch = _epoch(page)
                before = canvas.screenshot(path=f"{prefix}_playground_before.png")

                box.locator(".widget-play button").first.click()  # play
                deadline = time.monotonic() + 60
                while _epoch(page) < start_epoch + 30:
                    assert time.monotonic() < deadline, (
                        f"the epoch counter stayed at {_epoch(page)} for a minute after play; "
                        f"status: {box.locator('.course-status').inner_text()}")
                    page.wait_for_timeout(250)
                page.wait_for_timeout(1000)
                after = canvas.screenshot(path=f"{prefix}_playground_after.png")
                playing_epoch = _epoch(page)

                box.locator(".widget-play button").first.click()  # pause
                page.wait_for_timeout(800)  # a tick already on its way may still land
                paused_epoch = _epoch(page)
                page.wait_for_timeout(1500)
                still = _epoch(page)
                others = _exercise_other_widgets(page) if notebook == DEMO else {}
                page.screenshot(path=f"{prefix}_page.png", full_page=True)

                errors = page.locator(ERROR_OUTPUT)
                error_texts = [errors.nth(i).inner_text()[:500] for i in range(errors.count())]
                status_text = box.locator(".course-status").inner_text()
            finally:
                context.close()
    finally:
        lab.stop()

    assert before != after, "the playground canvas looked the same before and after playing"
    assert playing_epoch > start_epoch
    assert still == paused_epoch, f"training went on after pause ({paused_epoch} -> {still})"
    assert not error_texts, f"cells printed errors: {error_texts}"
    assert not page_errors, f"uncaught JavaScript errors: {page_errors}"
    js_errors = [text for kind, text in console if kind == "error"
                 and not any(s in text for s in IGNORED_CONSOLE)]
    assert not js_errors, f"JavaScript console errors: {js_errors}"
    assert "Stopped" not in status_text, status_text
    for name, (ok, text) in others.items():
        assert ok, f"{name}: {text}"


# --- Run All on a fresh student notebook; the learner's own train_network in 05's playground ----

STUDENT = sorted((ROOT / "notebooks").glob("*/*.ipynb"))


def _open(page, lab, name):
    """Open ``name`` in JupyterLab; returns seconds until its kernel is idle (page load)."""
    started = time.monotonic()
    page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).first.wait_for(
        timeout=120_000)
    return time.monotonic() - started


def _run_all(page):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def _in_lab(tmp_path, files: dict, body):
    """Start JupyterLab on a folder holding ``files`` (name -> text) and run ``body(page, lab)``
    in Chromium; returns what ``body`` returns, plus the page's JavaScript errors."""
    chromium = _chromium()
    sync_playwright = _playwright()
    work = tmp_path / "lab"
    work.mkdir(parents=True)
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lab = Lab(work)
    page_errors = []
    try:
        lab.wait()
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=chromium, args=CHROMIUM_FLAGS,
                headless=True, viewport={"width": 1300, "height": 3400})
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.on("pageerror", lambda e: page_errors.append(str(e)))
                return body(page, lab), page_errors
            finally:
                context.close()
    finally:
        lab.stop()


@pytest.mark.parametrize("notebook", STUDENT, ids=[p.parent.name[:2] for p in STUDENT])
def test_run_all_reaches_the_last_cell_of_a_fresh_student_notebook(notebook, tmp_path):
    """notebooks/NN as handed out: Run All goes through every unfinished exercise (each check says
    "not attempted yet") to the last cell, and the notebook opens unchanged (no ● on its tab)."""
    def body(page, lab):
        seconds = _open(page, lab, notebook.name)
        dirty_on_open = page.locator(".jp-mod-dirty").count()
        _run_all(page)
        _wait_until_all_cells_ran(page)
        page.wait_for_timeout(500)
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        text = page.locator(".jp-Notebook").inner_text()
        errors = page.locator(ERROR_OUTPUT)
        error_texts = [errors.nth(i).inner_text()[:300] for i in range(errors.count())]
        page.screenshot(path=str(ARTIFACTS / f"run_all_{notebook.parent.name}.png"),
                        full_page=True)
        return seconds, dirty_on_open, prompts, text, error_texts

    (seconds, dirty, prompts, text, errors), page_errors = _in_lab(
        tmp_path, {notebook.name: notebook.read_text(encoding="utf-8")}, body)
    print(f"\n{notebook.parent.name}: opened, kernel idle after {seconds:.1f} s; "
          f"dirty on open: {bool(dirty)}")
    assert re.fullmatch(r"\[\d+\]:", prompts[-1].strip()), f"the last cell did not run: {prompts}"
    assert not errors, f"cells printed errors: {errors}"
    assert "not attempted yet: 0 of" in text
    assert not page_errors, page_errors


BROKEN_TRAIN_NETWORK = '''def train_network(model, X, y, lr=1.0, num_epochs=5000):
    costs = []
    for _ in range(num_epochs):
        cost, d_y_hat = losses.half_squared_error(model.forward(X), y)
        costs.append(float(cost))
        model.backward(d_y_hat)
        for p in model.parameters():
            p.data = p.data + lr * p.grad          # planted: a step uphill
    return costs'''


def _notebook_05(train_network_source=None) -> str:
    nb = json.loads((ROOT / "notebooks" / "05_xor" / "xor.ipynb").read_text(encoding="utf-8"))
    if train_network_source is not None:
        for cell in nb["cells"]:
            if cell.get("id") == "train_network":
                cell["source"] = train_network_source
    return json.dumps(nb)


def _loss_of(counter: str) -> float:
    return float(re.search(r"loss ([\d.]+) /", counter).group(1))


def _play_05(page, lab, tag):
    _open(page, lab, "xor.ipynb")
    _run_all(page)
    _wait_until_all_cells_ran(page)
    box = page.locator(".course-playground").first
    if not page.locator(".course-playground").count():
        # a failed check stops Run All (a wrong answer is an error): run the playground's cell
        cell = page.locator(".jp-CodeCell", has_text="Playground(").last
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
    box.wait_for(timeout=120_000)
    box.scroll_into_view_if_needed()
    box.get_by_role("button", name="Step").click()
    deadline = time.monotonic() + 30
    while "Epoch 1" not in _counter(page, "course-playground"):
        assert time.monotonic() < deadline, "Step did not train an epoch"
        page.wait_for_timeout(200)
    first = _loss_of(box.inner_text())
    box.locator(".widget-play button").first.click()
    deadline = time.monotonic() + 90
    while _epoch(page) < 400 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    box.locator(".widget-play button").first.click()
    page.wait_for_timeout(800)
    box.screenshot(path=str(ARTIFACTS / f"playground_05_{tag}.png"))
    return first, _loss_of(box.inner_text()), box.locator(
        ".course-status").inner_text()


def test_playground_05_runs_the_learners_train_network(tmp_path):
    """Notebook 05 as a learner has it: a train_network that steps uphill is named in the status
    and makes the loss rise; the right one makes it fall."""
    (broken, page_errors) = _in_lab(tmp_path / "broken", {"xor.ipynb": _notebook_05(
        BROKEN_TRAIN_NETWORK)}, lambda page, lab: _play_05(page, lab, "broken"))
    assert not page_errors
    solution = json.loads(NOTEBOOK_05.read_text(encoding="utf-8"))
    right_source = next("".join(c["source"]) for c in solution["cells"]
                        if c.get("id") == "train_network")
    right_source = "\n".join(line for line in right_source.splitlines() if "###" not in line)
    (right, page_errors) = _in_lab(tmp_path / "right", {"xor.ipynb": _notebook_05(
        right_source)}, lambda page, lab: _play_05(page, lab, "right"))
    assert not page_errors
    first, last, status = broken
    assert last > first and "train_network" in status, (first, last, status)
    assert "Training is diverging" in status or "Training has stalled" in status, status
    first, last, status = right
    assert last < first, (first, last, status)
    assert "Running your train_network; course_lib's reference for the rest." in status, status
