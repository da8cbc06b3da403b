"""The README's first command, run exactly as a newcomer runs it: ``make lab`` (the Makefile's own
target, not a copy of its command) in a copy of the repository, as root and as an ordinary user.

Each run: the port asked for with ``PORT=`` is held busy by the test, so ``make lab`` must say so
and move to the next free port; the last line it prints is the address with its token; the
notebook list comes back over HTTP on 127.0.0.1; notebook 01 opens in Debian's Chromium; a Ctrl-C
to the whole process group (what a terminal sends) stops it, and no process is left behind.

As the user running the tests, the copy reuses this repository's ``.venv`` (linked, with
``pyproject.toml`` older than its stamp, so ``make`` installs nothing). As an ordinary user (user
``nobody`` through ``setpriv`` when the tests run as root) the copy gets its own ``.venv``, built by
that user with the system's ``python3`` (this one's lives under root's home), before the timed run.
The time printed is from ``make lab`` to the first served page, on an existing ``.venv`` both times.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from queue import Empty, Queue

import pytest
from test_browser import CHROMIUM_FLAGS, _chromium, _playwright

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
URL_LINE = re.compile(r"^https?://[^/\s]+:(\d+)/lab\?token=(\w+)$")
NOBODY = 65534
ORDINARY_PATH = "/usr/local/bin:/usr/bin:/bin"

pytestmark = pytest.mark.slow


def _copy_of_the_repository(dest: pathlib.Path, link_venv: bool) -> pathlib.Path:
    """The files a commit of this working tree would hold (tracked, and new ones git does not
    ignore), copied to ``dest``; with ``link_venv``, this repository's .venv linked in."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if link_venv:
        (dest / ".venv").symlink_to(VENV)
        stamp = (VENV / ".installed").stat().st_mtime
        os.utime(dest / "pyproject.toml", (stamp - 60, stamp - 60))  # make must not reinstall
    return dest


def _free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and _bindable(port + 1):
            return port


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _processes_of(session: int, folder: pathlib.Path) -> list[str]:
    """Processes still alive in the session ``make lab`` started, or working inside ``folder``."""
    left = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if fields[0] == "Z":  # a zombie holds nothing; its parent has not reaped it yet
            continue
        if int(fields[4]) == session or cwd.startswith(str(folder)):
            left.append(f"{entry.name}: {cmdline.strip()}")
    return left


def _as_user(kind: str) -> list[str]:
    """The command prefix for a run as ``kind``: nothing, or setpriv to user nobody."""
    if kind == "root":
        if os.geteuid() != 0:
            pytest.skip("this run is for root, and the tests are not running as root")
        return []
    if os.geteuid() != 0:
        return []  # the tests already run as an ordinary user
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as another user needs setpriv (util-linux), which is not installed")
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run([*prefix, "sh", "-c", "python3 -c 'import sys, venv; "
                            "sys.exit(sys.version_info < (3, 11))'"],
                           env={"PATH": ORDINARY_PATH}, capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("an ordinary user here has no python3 ≥ 3.11 with venv on the standard PATH, "
                    "so make lab would stop at its version check")
    return prefix


@pytest.mark.parametrize("kind", ["root", "ordinary user"])
def test_make_lab_serves_the_notebooks_and_stops_cleanly(kind):
    prefix = _as_user(kind)
    chromium = _chromium()
    sync_playwright = _playwright()
    base = pathlib.Path(tempfile.mkdtemp(prefix="make-lab-"))
    try:
        os.chmod(base, 0o755)
        repo = _copy_of_the_repository(base / "course", link_venv=not prefix)
        home = base / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MAKEFLAGS", "MAKELEVEL", "VIRTUAL_ENV")}
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
                   JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
                   JUPYTER_RUNTIME_DIR=str(home / ".local" / "share" / "jupyter" / "runtime"))
        if prefix:  # another user: owns its copy and home, builds its own .venv first
            env["PATH"] = ORDINARY_PATH
            for path in (repo, home, *repo.rglob("*")):
                os.lchown(path, NOBODY, NOBODY)
            started = time.monotonic()
            built = subprocess.run([*prefix, "make", ".venv/.installed"], cwd=repo, env=env,
                                   capture_output=True, text=True, timeout=1200)
            assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
            print(f"\n{kind}'s own .venv built by make in {time.monotonic() - started:.0f} s")
        port = _free_port()
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", port))
            busy.listen()
            _run_make_lab(prefix, repo, env, port, kind, chromium, sync_playwright, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _assert_learners_lab(port: int, token: str) -> None:
    """The learner's lab: nbgrader's instructor parts off (as on Binder), Validate kept, and no
    "Jupyter news" question (tools/lab_config)."""
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{base}/formgrader?token={token}", timeout=30)
    assert missing.value.code == 404
    page = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=30).read().decode()
    disabled = json.loads(re.search(r'"disabledExtensions": *(\[[^]]*\])', page).group(1))
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
            "@jupyter/nbgrader:menu"} <= set(disabled)
    assert not any("validate" in name for name in disabled)
    settings = json.load(urllib.request.urlopen(
        f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}",
        timeout=30))
    assert settings["schema"]["properties"]["fetchNews"]["default"] == "false"


def _run_make_lab(prefix, repo, env, port, kind, chromium, sync_playwright, base):
    started = time.monotonic()
    make = subprocess.Popen([*prefix, "make", "lab", f"PORT={port}"], cwd=repo, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    try:
        url = _wait_for_url(make, lines)
        found = URL_LINE.match(url)
        assert found, f"make lab's last line is not an address with a token: {url!r}"
        served_port, token = int(found.group(1)), found.group(2)
        assert served_port == port + 1, f"port {port} was busy, yet make lab printed {url}"
        assert f"Port {port} is busy" in "\n".join(lines), lines
        assert ("Running as root" in "\n".join(lines)) == (os.geteuid() == 0 and not prefix), lines

        api = f"http://127.0.0.1:{served_port}/api/contents"
        listing = json.load(urllib.request.urlopen(f"{api}?token={token}", timeout=30))
        first_page = time.monotonic() - started
        folders = {item["name"] for item in listing["content"]}
        assert "01_forward_propagation" in folders, folders
        inside = json.load(urllib.request.urlopen(
            f"{api}/01_forward_propagation?token={token}", timeout=30))
        assert "forward_propagation.ipynb" in {item["name"] for item in inside["content"]}
        _assert_learners_lab(served_port, token)

        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(base / "profile"), executable_path=chromium, args=CHROMIUM_FLAGS,
                headless=True, viewport={"width": 1200, "height": 900})
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.goto(f"http://127.0.0.1:{served_port}/lab/tree/01_forward_propagation/"
                          f"forward_propagation.ipynb?reset&token={token}")
                heading = page.locator(".jp-Notebook .jp-RenderedMarkdown h1",
                                       has_text="Forward propagation")
                heading.first.wait_for(timeout=120_000)  # notebook 01, rendered
                page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).first.wait_for(
                    timeout=120_000)
                page.wait_for_timeout(2000)
                dirty = page.locator(".jp-mod-dirty").count()
                assert dirty == 0, "notebook 01 was marked unsaved (●) as soon as it opened"
            finally:
                context.close()
        print(f"\nmake lab as {kind}: first page served {first_page:.1f} s after `make lab`")
    finally:
        _stop(make)
    left = _processes_of(make.pid, repo)
    for _ in range(100):  # a kernel told to shut down may take a moment to exit after the server
        if not left:
            break
        time.sleep(0.1)
        left = _processes_of(make.pid, repo)
    assert not left, "make lab left processes behind:\n" + "\n".join(left)
    assert make.returncode is not None


def _wait_for_url(make, lines, timeout=180) -> str:
    """Read make lab's output until it prints the address; it must be the last line then."""
    queue: Queue = Queue()
    threading.Thread(target=lambda: [queue.put(line.rstrip("\n")) for line in make.stdout],
                     daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            lines.append(queue.get(timeout=0.5))
        except Empty:
            if make.poll() is not None and queue.empty():
                break
            continue
        if URL_LINE.match(lines[-1]):
            time.sleep(1.0)  # anything printed after the address would show up now
            while not queue.empty():
                lines.append(queue.get())
            return lines[-1]
    log = "\n".join(lines)
    pytest.fail(f"make lab printed no address within {timeout} s (exit code {make.poll()}):\n{log}",
                pytrace=False)


def _stop(make) -> None:
    """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
    if make.poll() is None:
        try:
            os.killpg(make.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    try:
        make.wait(timeout=45)
    except subprocess.TimeoutExpired:
        os.killpg(make.pid, signal.SIGKILL)
        make.wait()
        pytest.fail("make lab did not stop within 45 s of Ctrl-C", pytrace=False)
