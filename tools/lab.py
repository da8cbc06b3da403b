"""``make lab``: the learner's JupyterLab on ``notebooks/``, for whoever runs it, wherever.

- As root (a container, a cloud VM, WSL) it passes ``--allow-root`` and says so in one line.
- Without a display (Linux with neither ``DISPLAY`` nor ``WAYLAND_DISPLAY``) it opens no browser.
- The port is ``PORT`` (default 8888) or, when that one is busy, the next free one, said in one line.
- ``make lab ARGS="..."`` passes more options to ``jupyter lab`` (they come last, so they win;
  a folder named there, ``--notebook-dir=...``, replaces notebooks/).
- It is the learner's JupyterLab (``tools/lab_config/``): nbgrader's instructor parts off as on
  Binder, no news pop-up; the learner's own ``~/.jupyter`` settings still come first.
- JupyterLab's own log goes to ``lab.log``; what a person sees ends with the address to open,
  token included. Ctrl-C (or SIGTERM) stops the server and everything it started.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "lab.log"
LAB_CONFIG = ROOT / "tools" / "lab_config"
URL = re.compile(r"(https?://(?:127\.0\.0\.1|localhost|\[::1\]|[\w.-]+):\d+/lab\?token=\w+)")
FOLDER_OPTIONS = {"--notebook-dir", "--root-dir", "--ServerApp.root_dir",
                  "--ServerApp.notebook_dir"}
READY_SECONDS = 120  # a first start on a slow machine builds JupyterLab's settings: give it time


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(first: int, tries: int = 50) -> int | None:
    return next((p for p in range(first, first + tries) if port_is_free(p)), None)


def has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True  # macOS and Windows open a browser without a display variable
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def command(port: int, extra: list[str]) -> list[str]:
    jupyter = Path(sys.executable).with_name("jupyter")
    # traitlets refuses a folder given twice, so one in ``extra`` replaces ours
    own_folder = any(a.split("=")[0] in FOLDER_OPTIONS for a in extra)
    folder = [] if own_folder else [f"--notebook-dir={ROOT / 'notebooks'}"]
    cmd = [str(jupyter), "lab", *folder,
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--LabApp.app_settings_dir={LAB_CONFIG / 'settings'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    if not has_display():
        cmd.append("--no-browser")
    return cmd + extra


def environment() -> dict:
    """This environment, with the learner's lab settings (tools/lab_config) in JUPYTER_CONFIG_PATH:
    after JUPYTER_CONFIG_DIR (the person's own), before the environment's (nbgrader's)."""
    env = dict(os.environ)
    paths = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(LAB_CONFIG), *paths])
    return env


def main(argv: list[str]) -> int:
    wanted = os.environ.get("PORT", "").strip() or "8888"
    if not wanted.isdigit() or not 0 < int(wanted) < 65536:
        print(f"PORT must be a port number from 1 to 65535, got {wanted!r}.", file=sys.stderr)
        return 2
    port = free_port(int(wanted))
    if port is None:
        print(f"Ports {wanted} to {int(wanted) + 49} are all busy: choose another, "
              "e.g. make lab PORT=9999.", file=sys.stderr)
        return 1
    if port != int(wanted):
        print(f"Port {wanted} is busy: JupyterLab uses {port} instead.")
    if os.geteuid() == 0:
        print("Running as root: JupyterLab is started with --allow-root.")
    print(f"Starting JupyterLab on notebooks/ (its log: {LOG.relative_to(ROOT)}) ...", flush=True)
    with open(LOG, "w", encoding="utf-8") as log:
        server = subprocess.Popen(command(port, argv), cwd=ROOT, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT, env=environment())
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        url = wait_for_url(server)
        if url is None:
            what = (f"stopped before it was ready (exit code {server.returncode})"
                    if server.poll() is not None else f"was not ready after {READY_SECONDS} s")
            print(f"JupyterLab {what}; the end of {LOG.name}:", file=sys.stderr)
            print("".join(LOG.read_text(encoding="utf-8").splitlines(True)[-20:]), file=sys.stderr)
            return server.returncode or 1
        print("JupyterLab is running; Ctrl-C stops it. Open this address in a browser:")
        print(url, flush=True)
        return server.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to JupyterLab too: it is shutting down
        pass
    finally:
        stop(server)
    print("JupyterLab stopped.")
    return 0


def wait_for_url(server: subprocess.Popen) -> str | None:
    """The address JupyterLab prints once it serves, read from its log; None if it exits first."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return None
        found = URL.search(LOG.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.2)
    return None


def stop(server: subprocess.Popen) -> None:
    """Let JupyterLab shut its kernels down; kill it if it has not after 15 s."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
