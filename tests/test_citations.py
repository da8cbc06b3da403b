"""Learner-facing text cites the articles by title, never by this repository's file shorthand
("seed 003"): no such phrase in the notebooks, their solutions or the README, and every notebook
ends its teaching with a References section (SYLLABUS.md's citation table)."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHORTHAND = re.compile(r"(?i)\bseeds? ?0\d\d\b(?!_)")  # "seed 003", "Seed 004's", "seeds 003"
NOTEBOOKS = sorted(ROOT.glob("notebooks/*/*.ipynb")) + sorted(ROOT.glob("solutions/*/*.ipynb"))


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def test_the_pattern_finds_the_shorthand():
    for text in ("seed 003", "Seed 004's example", "(seed 000: prices)", "seeds 003 and 004"):
        assert SHORTHAND.search(text), text
    for text in ("seed=0", "rng seed 42", "xor.seed003_network()", "Khan (2019)"):
        assert not SHORTHAND.search(text), text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_no_seed_shorthand_in_notebooks(path):
    found = [f"cell {i}: {m.group(0)!r}" for i, cell in enumerate(_cells(path))
             for m in SHORTHAND.finditer(_source(cell))]
    assert not found, f"{path.name} cites an article by its file shorthand: {found[:5]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_every_notebook_has_a_references_section(path):
    cells = _cells(path)
    refs = [i for i, c in enumerate(cells)
            if c["cell_type"] == "markdown" and _source(c).lstrip().startswith("## References")]
    assert refs, f"{path.name} has no '## References' markdown cell"
    text = _source(cells[refs[-1]])
    assert text.count("\n- ") >= 1, f"{path.name}: the References cell lists no article"
    # nothing but code cells (a save cell, say) may follow it: it closes the teaching
    assert all(c["cell_type"] == "code" for c in cells[refs[-1] + 1:]), path.name


def test_readme_cites_the_articles():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not SHORTHAND.search(text)
    assert "## References" in text and "Nothing but NumPy" in text
