"""course_lib.lessons.my_nn: the last cell of each notebook keeps the learner's passing functions
in <course folder>/my_nn.py; later notebooks load them; grading never touches the file."""

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import checks
from course_lib.lessons import my_nn

ROOT = Path(__file__).parents[1]

LEARNER = '''import numpy as np


def linear_forward(X, W, b):
    """my layer"""
    Z = X @ W + b
    return Z, (X, W)


def sigmoid_forward(z):
    return 1 / (1 + np.exp(z)), None     # a sign slip: its check fails


def relu_forward(z):
    raise NotImplementedError()
'''


class _Info:
    def __init__(self, cell_id):
        self.cell_id = cell_id


class _Result:
    error_in_exec = None


def _cell(cell_id, body):
    """pre_run_cell, the cell, post_run_cell: as IPython runs a check cell."""
    checks.before_cell(_Info(cell_id))
    result = _Result()
    try:
        body()
    except Exception as err:  # noqa: BLE001
        result.error_in_exec = err
    checks.after_cell(result)


@pytest.fixture
def learner(tmp_path, monkeypatch):
    """The learner's cell as a module (inspect.getsource reads it, as it reads IPython's cells),
    and a course folder with a notebook folder as the working directory."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("MY_NN_PATH", raising=False)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "learner_cells.py").write_text(LEARNER)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    module = importlib.import_module("learner_cells")
    notebook = tmp_path / "course" / "01_forward_propagation"
    notebook.mkdir(parents=True)
    monkeypatch.chdir(notebook)
    my_nn._results.clear()
    yield module
    my_nn._results.clear()
    checks.before_cell(_Info(None))
    del importlib.sys.modules["learner_cells"]


def _run_checks(module):
    X, W, b = np.eye(2), np.ones((2, 2)), np.array([0.5, -0.5])
    _cell("test_linear_forward", lambda: checks.check_close(
        "linear_forward", checks.call(module.linear_forward, X, W, b)[0], X @ W + b))
    _cell("test_sigmoid_forward", lambda: checks.check_close(
        "sigmoid_forward", checks.call(module.sigmoid_forward, np.zeros(1) + 2)[0],
        [0.8807970779778823]))
    _cell("test_relu_forward", lambda: checks.call(module.relu_forward, np.ones(2)))


def test_save_writes_only_the_functions_whose_checks_passed(learner):
    _run_checks(learner)
    written = my_nn.save(vars(learner))
    assert written == ["linear_forward"]
    path = Path.cwd().parent / "my_nn.py"
    assert my_nn.path() == path
    text = path.read_text()
    assert '    """my layer"""\n    Z = X @ W + b\n    return Z, (X, W)' in text  # their own lines
    assert "sigmoid_forward" not in text and "relu_forward" not in text
    mine = my_nn.load()
    Z, cache = mine.linear_forward(np.eye(2), np.ones((2, 2)), np.zeros(2))
    assert Z.tolist() == [[1.0, 1.0], [1.0, 1.0]] and cache[0].shape == (2, 2)
    assert list(my_nn.functions()) == ["linear_forward"]  # course_lib can take it in


def test_a_later_notebook_keeps_what_an_earlier_one_saved(learner, monkeypatch):
    _run_checks(learner)
    my_nn.save(vars(learner))
    later = Path.cwd().parent / "03_backpropagation"
    later.mkdir()
    monkeypatch.chdir(later)
    source = "def relu_backward(dout, cache):\n    return dout * (cache > 0)\n"
    namespace = {"np": np}
    exec(compile(source, str(later / "cell.py"), "exec"), namespace)  # noqa: S102
    (later / "cell.py").write_text(source)                             # getsource reads it
    _cell("test_relu_backward", lambda: checks.call(namespace["relu_backward"], np.ones(2),
                                                    np.ones(2)))
    assert my_nn.save(namespace) == ["relu_backward"]
    text = (Path.cwd().parent / "my_nn.py").read_text()
    assert "def linear_forward" in text and "def relu_backward" in text


def test_a_function_changed_after_its_check_is_not_saved(learner):
    _run_checks(learner)
    namespace = dict(vars(learner))
    namespace["linear_forward"] = learner.sigmoid_forward  # redefined, never checked
    assert my_nn.save(namespace) == []


def test_grading_never_writes_or_reads_the_file(learner, monkeypatch):
    _run_checks(learner)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert my_nn.save(vars(learner)) == []
    assert not (Path.cwd().parent / "my_nn.py").exists()
    (Path.cwd().parent / "my_nn.py").write_text("def linear_forward(X, W, b):\n    return 0\n")
    assert my_nn.load() is None


def test_a_broken_file_is_one_sentence_and_the_reference(learner, capsys):
    (Path.cwd().parent / "my_nn.py").write_text("def linear_forward(:\n")
    assert my_nn.load() is None
    assert "could not be imported (SyntaxError" in capsys.readouterr().out


def test_every_notebook_ends_with_the_save_cell():
    for folder in ("solutions", "notebooks"):
        for path in sorted((ROOT / folder).glob("*/*.ipynb")):
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            last = cells[-1]
            assert last.get("id") == "save-my-nn", path
            assert "my_nn.save(globals())" in "".join(last["source"])
            assert not last["metadata"].get("nbgrader", {}).get("grade"), path


def test_check_cells_catalogue_matches_the_notebooks():
    """mistakes.CHECK_CELLS (points per check cell) equals the notebooks' nbgrader metadata."""
    matched = 0
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if cell["cell_type"] == "code" and meta.get("grade"):
                if meta["grade_id"] in checks.catalogue.CHECK_CELLS:
                    assert checks.catalogue.CHECK_CELLS[meta["grade_id"]][1] == meta["points"]
                    matched += 1
    assert matched == len(checks.catalogue.CHECK_CELLS)   # none listed that is not there
