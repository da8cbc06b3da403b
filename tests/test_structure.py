"""course_lib's imports run one way (DESIGN.md, "course_lib: what lives where"): the plumbing at the
bottom, the library above it, then lessons, widgets and the grading tools. Read from the source with
``ast``, function-level imports included, so a lazy import cannot hide a cycle or an upward edge.

Parts, lowest first:

0. plumbing: ``backend``, ``_validate``, ``overrides``; and ``_fast`` (the speed twins), which
   imports nothing from the rest of course_lib at all;
1. the library: ``functional``, ``losses``, ``optim``, ``regularization``, ``layers``, ``train``,
   ``gradcheck``, ``datasets``, ``plotting``;
2. ``lessons`` and ``grading``, side by side (neither imports the other);
3. ``widgets`` (they may show a lesson's surfaces).

The package root ``course_lib/__init__.py`` is above everything (it hands out the submodules), and
``course_lib/checks.py`` is only ``lessons.checks`` under its old name.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_lib"

PLUMBING = {"backend", "_validate", "overrides"}
LIBRARY = {"functional", "losses", "optim", "regularization", "layers", "train", "gradcheck",
           "datasets", "plotting"}
ALIASES = {"course_lib", "course_lib.checks"}  # the root and the old name of lessons.checks


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, pathlib.Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part(name: str) -> tuple[int, str]:
    """(rank, part name) of a course_lib module."""
    pieces = name.split(".")
    top = pieces[1] if len(pieces) > 1 else ""
    if top in PLUMBING:
        return 0, "plumbing"
    if top == "_fast":
        return 0, "_fast"
    if top in LIBRARY:
        return 1, "library"
    if top in ("lessons", "grading"):
        return 2, top
    if top == "widgets":
        return 3, "widgets"
    raise AssertionError(f"{name} belongs to no part: add it to DESIGN.md's layout and to this test")


def _package_of(name: str, path: pathlib.Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _from_target(name: str, path: pathlib.Path, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = _package_of(name, path)
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{node.module}" if node.module else base


def imports(name: str, path: pathlib.Path, known: dict) -> list[tuple[str, int, list[str]]]:
    """``(imported course_lib module, line, names taken from it)`` for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("course_lib"):
                    found.append((alias.name, node.lineno, []))
        elif isinstance(node, ast.ImportFrom):
            target = _from_target(name, path, node)
            if not target.startswith("course_lib"):
                continue
            taken = []
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # `from . import layers`: an edge to the module itself
                    found.append((sub, node.lineno, []))
                else:
                    taken.append(alias.name)
            if taken:
                found.append((target, node.lineno, taken))
    return found


def graph():
    known = modules()
    return known, {name: imports(name, path, known) for name, path in known.items()}


def test_every_module_belongs_to_a_part():
    for name in modules():
        if name not in ALIASES:
            part(name)


def test_imports_never_go_up_or_sideways_between_parts():
    known, edges = graph()
    wrong = []
    for source, targets in edges.items():
        if source in ALIASES:
            continue
        rank, source_part = part(source)
        for target, line, _ in targets:
            if target not in known:
                wrong.append(f"{source}:{line} imports {target}, which does not exist")
                continue
            if target == "course_lib.checks":
                wrong.append(f"{source}:{line} imports course_lib.checks: use course_lib.lessons.checks")
                continue
            if target == "course_lib":
                wrong.append(f"{source}:{line} imports the package root (import the module itself)")
                continue
            target_rank, target_part = part(target)
            if source_part == "_fast" and target_part != "_fast":
                wrong.append(f"{source}:{line} imports {target}: _fast imports nothing from course_lib")
            elif target_rank > rank or (target_rank == rank and target_part != source_part
                                        and source_part != "plumbing"):
                wrong.append(f"{source}:{line} ({source_part}) imports {target} ({target_part})")
            elif source_part == "plumbing" and target_part not in ("plumbing",):
                wrong.append(f"{source}:{line} (plumbing) imports {target} ({target_part})")
    assert not wrong, "imports that run the wrong way:\n" + "\n".join(wrong)


def _cycle(edges):
    """One import cycle, as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for target, _, _ in edges.get(node, []):
            if target in ALIASES or target not in edges:
                continue
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycles_even_through_function_level_imports():
    _, edges = graph()
    cycle = _cycle({k: v for k, v in edges.items() if k not in ALIASES})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_takes_another_modules_private_names():
    known, edges = graph()
    wrong = []
    for source, targets in edges.items():
        for target, line, taken in targets:
            private = [n for n in taken if n.startswith("_") and not n.startswith("__")]
            if private and target != source:
                wrong.append(f"{source}:{line} takes {', '.join(private)} from {target}")
        # `module._name` on a course_lib module bound by an import
        tree = ast.parse(known[source].read_text(encoding="utf-8"))
        bound = _bound_modules(source, known[source], known)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in bound and node.attr.startswith("_")
                    and not node.attr.startswith("__") and bound[node.value.id] != source):
                wrong.append(f"{source}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert not wrong, "private names used across modules:\n" + "\n".join(sorted(set(wrong)))


def _bound_modules(name, path, known) -> dict[str, str]:
    """Local name -> course_lib module, for imports that bind a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _from_target(name, path, node)
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    bound[alias.asname or alias.name] = f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known and alias.asname:
                    bound[alias.asname] = alias.name
    return bound


@pytest.mark.parametrize("bad, expected", [
    ({"a": [("b", 1, [])], "b": [("c", 2, [])], "c": [("a", 3, [])]}, ["a", "b", "c", "a"]),
    ({"a": [("b", 1, [])], "b": []}, None),
])
def test_the_cycle_finder_finds_a_planted_cycle(bad, expected):
    """The checker itself: a planted three-module cycle is reported, a chain is not."""
    assert _cycle(bad) == expected
