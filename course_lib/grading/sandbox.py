"""Each learner's kernel in its own bubblewrap sandbox (Debian's ``bubblewrap``, ``bwrap``).

What the learner's code sees, and may do::

    /usr, /lib...               read-only: the system's libraries and tools
    <Python>, <environment>     read-only: the interpreter and the virtual environment
    <repository>/course_lib     read-only: the library the notebooks import, nothing else of the
                                repository (no solutions/, tests/, course folder)
    /tmp                        a private tmpfs of ``scratch_mb``, holding /home/learner (cwd,
                                HOME) and a read-only copy of the learner's notebook
    <run folder>                the kernel's connection file and its Unix sockets, nothing else

No network (its own network namespace: the kernel talks to the grader over Unix sockets,
jupyter_client's ``ipc`` transport), its own PID namespace (every process it starts dies with the
kernel, ``--die-with-parent``), at most ``processes`` processes, ``memory_mb`` of address space.
When the grader runs as root, the kernel runs as an unprivileged user id of its own (so the process
limit applies to it and nothing on the machine is writable to it); otherwise in a user namespace.

Nothing a kernel writes comes back: its scratch folder disappears with it, and only the executed
notebook (nbgrader's client side, in the trusted worker) goes on to grades and feedback.
``autograde.SandboxedKernelManager`` (nbgrader's side) starts kernels with ``command``; ``problem()`` says in one
sentence why a sandbox cannot run here (``grade`` then refuses, unless ``--unsafe-no-sandbox``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE_LIB = Path(__file__).resolve().parents[1]  # the package the notebooks import
HOME = "/home/learner"  # a link to SCRATCH, the kernel's working folder
SCRATCH = "/tmp/learner"
# The command the sandbox starts first: limits, then the unprivileged user, then the kernel. It is
# our code, run before any of the learner's (``python -I -S``: no site, no environment variables).
ENTRY = """\
import os, resource, sys
memory, processes, scratch, uid = (int(v) for v in sys.argv[1:5])
for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_DATA, memory),
                     (resource.RLIMIT_NPROC, processes), (resource.RLIMIT_FSIZE, scratch),
                     (resource.RLIMIT_CORE, 0)):
    hard = resource.getrlimit(which)[1]
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))
if os.getuid() == 0:
    os.setgroups([]); os.setgid(uid); os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        sys.exit("the sandbox could not leave the root user")
os.execv(sys.argv[5], sys.argv[5:])
"""
# Address space a kernel needs beyond its heap: the interpreter, NumPy's and matplotlib's
# libraries, thread stacks (measured: about 0.9 GB mapped after notebook 08, with 2 malloc arenas).
ADDRESS_SPACE_EXTRA_MB = 1536
ETC = ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime", "/etc/alternatives", "/etc/mime.types",
       "/etc/ssl/certs")


def bwrap() -> str | None:
    return shutil.which("bwrap")


def is_root() -> bool:
    return os.geteuid() == 0


def sandbox_uid() -> int:
    """An unprivileged user id of this grading process's own: two workers never share one, so the
    process limit of one learner's kernel is not shared with another's (pids are unique)."""
    return 200_000 + os.getpid() % 100_000


def readable_roots() -> list[Path]:
    """The folders a kernel may read besides /usr: the Python installation, the environment and
    course_lib's own folder (for an editable install, only that folder of the repository)."""
    roots = [Path(sys.base_prefix), Path(sys.prefix), COURSE_LIB]
    kept: list[Path] = []
    for root in sorted({r.resolve() for r in roots}, key=lambda p: len(p.parts)):
        if not any(root == k or k in root.parents for k in kept) and not _under_usr(root):
            kept.append(root)
    return kept


def _under_usr(path: Path) -> bool:
    return path.parts[:2] == ("/", "usr")


def _parents(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if p != Path("/")]


def command(argv: list[str], run_dir: Path | None, *, memory_mb: int, processes: int,
            scratch_mb: int, env: dict[str, str], files: list[Path] = ()) -> list[str]:
    """``argv`` wrapped in bubblewrap: the exact command a sandboxed kernel is started with."""
    args = [bwrap() or "bwrap", "--die-with-parent", "--new-session",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try"]
    if is_root():  # real root: no user namespace; ENTRY switches to an unprivileged uid
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in ETC:
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(scratch_mb * 1024 * 1024), "--perms", "01777", "--tmpfs", "/tmp",
             "--perms", "01777", "--dir", SCRATCH, "--perms", "0755", "--dir", "/home",
             "--symlink", SCRATCH, HOME]
    made: set[Path] = {Path("/tmp")}
    for root in readable_roots() + ([run_dir] if run_dir else []):
        for parent in _parents(root):
            if parent not in made and not _under_usr(parent):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--bind" if root == run_dir else "--ro-bind", str(root), str(root)]
    for path in files:  # e.g. the learner's own notebook, read-only, beside their code
        args += ["--ro-bind", str(path), f"{SCRATCH}/{Path(path).name}"]
    args += ["--chdir", HOME, "--clearenv"]
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    memory = (memory_mb + ADDRESS_SPACE_EXTRA_MB) * 1024 * 1024
    if argv and argv[0] == sys.executable:  # a kernel spec names this Python as it was started
        argv = [python(), *argv[1:]]
    return [*args, "--", python(), "-I", "-S", "-c", ENTRY, str(memory), str(processes),
            str(scratch_mb * 1024 * 1024), str(sandbox_uid()), *argv]


def python() -> str:
    """This Python, as a path that means the same inside the sandbox: ``..`` resolved by hand
    (``../.venv/bin/python`` run from ``benchmarks/`` names a folder the sandbox does not
    mount), symlinks kept (the venv's ``python`` is a link that makes it the venv)."""
    return os.path.normpath(os.path.abspath(sys.executable))


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a sandboxed kernel: nothing of the grader's leaks in."""
    env = {
        "HOME": HOME, "TMPDIR": "/tmp", "USER": "learner", "LOGNAME": "learner",
        "LANG": "C.UTF-8", "PATH": f"{Path(python()).parent}:/usr/local/bin:/usr/bin:/bin",
        "MPLCONFIGDIR": f"{HOME}/.config/matplotlib", "IPYTHONDIR": f"{HOME}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{HOME}/.jupyter-runtime", "MALLOC_ARENA_MAX": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name, value in os.environ.items():  # the course's own switches and the thread counts
        if name.startswith("COURSE_") or name.endswith("_NUM_THREADS"):
            env[name] = value
    env.update(extra or {})
    return env


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """None when a sandboxed Python starts here; otherwise why not, in one sentence."""
    if bwrap() is None:
        return ("bubblewrap (bwrap) is not installed: install it with "
                "`sudo apt-get install bubblewrap`")
    argv = [python(), "-I", "-c", "import course_lib, numpy"]
    cmd = command(argv, None, memory_mb=1024, processes=64, scratch_mb=16, env=kernel_env())
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a sandbox here ({exc})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap could not start a sandbox here ({last})"
    return None


# --- the library and the environment, before and after a batch ----------------------------------


def fingerprint(roots: list[Path] | None = None) -> dict[str, str]:
    """path -> sha256 of every file under ``roots`` (course_lib and the environment by default).

    ``grade`` takes one before and one after a batch; any difference stops it loudly.
    """
    roots = roots or [COURSE_LIB, Path(sys.prefix)]
    found: dict[str, str] = {}
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in names:
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    found[path] = "link:" + os.readlink(path)
                    continue
                digest = hashlib.sha256()
                try:
                    with open(path, "rb") as handle:
                        while block := handle.read(1 << 20):
                            digest.update(block)
                except OSError as exc:
                    found[path] = f"unreadable: {exc.strerror}"
                    continue
                found[path] = digest.hexdigest()
    return found


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What differs between two fingerprints, one phrase per file (added, removed, changed)."""
    out = [f"added {p}" for p in sorted(after.keys() - before.keys())]
    out += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    out += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return out
