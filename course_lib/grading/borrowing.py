"""Graded functions that hand in course_lib's own answer: ``linear_forward = F.linear_forward``,
``from course_lib.functional import linear_forward``, a ``def linear_forward`` that calls
``F.linear_forward`` (through any alias, ``getattr`` with a computed name, ``vars(F)[...]``,
``overrides.reference(...)``, a helper function or a lambda).

The graded names are the functions the release's solution cells define. Only a reference of the
*same* name counts: a learner may build on other reference functions as the notebook itself does
(01's ``tanh_forward`` calls ``F.sigmoid_forward``), and may call ``F.linear_forward`` outside the
graded function (plots, comparisons). A finding sends the submission to review; the score stays
what the checks gave (the instructor decides).

``scan_borrowing`` reads the code with ``ast`` and runs nothing.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .integrity import is_locked
from .monkeypatching import fold, learner_cells, parse_cell

if TYPE_CHECKING:
    from nbformat.notebooknode import NotebookNode

COMPUTED = "?"  # the last part of a name looked up by a string built at run time
LOOKUPS = ("course_lib.overrides.reference", "course_lib.overrides.get")  # name -> function
IMPORTERS = ("importlib.import_module", "__import__")


def graded_names(release: NotebookNode) -> set[str]:
    """The functions the release's solution cells define (``linear_forward``, ...)."""
    names = set()
    for cell in release.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            tree = parse_cell(cell.source)
            for node in tree.body if tree else []:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(node.name)
    return names


@dataclass
class _Binding:
    """One definition of a top-level name in a learner cell: what course_lib names it uses."""

    cell: int
    source: str
    refs: list[tuple[str, ast.AST]] = field(default_factory=list)  # (dotted name, where)
    uses: set[str] = field(default_factory=set)  # global names it reads (helpers it may call)
    direct: str | None = None  # the course_lib name it IS, for ``g = F.g`` or an import
    code: bool = False  # a def, a class or a lambda: code that runs when the name is called
    node: ast.AST | None = None  # where the binding is
    body: ast.AST | None = None  # the def, or the value bound


def scan_borrowing(nb: NotebookNode, release: NotebookNode) -> list[dict]:
    """Where a graded function of ``release`` is, calls or aliases course_lib's function of the
    same name in ``nb``'s learner cells.

    Each finding: ``{"cell": index, "line": n, "code": "...", "function": "linear_forward",
    "what": "linear_forward calls course_lib.functional.linear_forward"}``.
    """
    names = graded_names(release)
    if not names:
        return []
    aliases: dict[str, set[str]] = {"course_lib": {"course_lib"}}
    for cell in nb.cells:
        if cell.cell_type == "code" and is_locked(cell.metadata.get("nbgrader", {})):
            tree = parse_cell(cell.source)
            if tree is not None:
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        for name, target in _imports(node):
                            aliases.setdefault(name, set()).add(target)
    reader = _Reader(names, aliases)
    for index, source in learner_cells(nb):
        reader.read_cell(index, source)
    return reader.findings()


def _imports(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(name bound, dotted target) of an import; ``*`` for a star import."""
    if isinstance(node, ast.Import):
        return [(a.asname or a.name.split(".")[0], a.name if a.asname else a.name.split(".")[0])
                for a in node.names]
    if not node.module or node.level:
        return []
    return [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names]


def _call_name(func: ast.AST) -> str | None:
    return func.id if isinstance(func, ast.Name) else None


class _Reader:
    """Reads the learner's cells in order: aliases of course_lib names, and each top-level
    definition or binding with the course_lib names it uses."""

    def __init__(self, names: set[str], aliases: dict[str, set[str]]):
        self.names = names
        self.aliases = aliases
        self.bindings: dict[str, list[_Binding]] = {}
        self._direct: list[tuple[str, int, ast.AST, str, str]] = []  # (name, cell, node, src, target)

    # --- reading ---------------------------------------------------------------------------

    def read_cell(self, index: int, source: str) -> None:
        tree = parse_cell(source)
        if tree is None:
            return  # a cell that does not parse defines nothing when it runs
        for node in tree.body:
            self._statement(index, source, node)
        for node in ast.walk(tree):  # exec("def linear_forward(...): ...") with a constant
            if isinstance(node, ast.Call) and _call_name(node.func) == "exec" and node.args:
                code = fold(node.args[0])
                if code is not None:
                    self.read_cell(index, code)

    def _statement(self, index: int, source: str, node: ast.stmt) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self._bind(node.name, index, source, node, node)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name, target in _imports(node):
                if name == "*":
                    self._star_import(index, source, node, target.rsplit(".", 1)[0])
                    continue
                self.aliases.setdefault(name, set()).add(target)
                if name in self.names and target.startswith("course_lib."):
                    self._direct.append((name, index, node, source, target))
            return
        for target, value in self._assignments(node):
            if isinstance(target, ast.Name):
                resolved = {d for d in self.resolve(value) if d.startswith("course_lib")}
                if resolved:  # ref = F.linear_forward: ref is watched from here on
                    self.aliases.setdefault(target.id, set()).update(resolved)
                self._bind(target.id, index, source, node, value)
            else:
                key = self._global_key(target)
                if key is not None:
                    self._bind(key, index, source, node, value)
        if isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try):
            for child in ast.iter_child_nodes(node):  # definitions under if/try still bind
                if isinstance(child, ast.stmt):
                    self._statement(index, source, child)
            for handler in getattr(node, "handlers", []):
                for child in handler.body:
                    self._statement(index, source, child)

    def _assignments(self, node: ast.stmt) -> list[tuple[ast.AST, ast.AST]]:
        """(target, value) pairs a statement binds at the top level, including
        ``globals().update(name=value)`` and ``setattr(sys.modules[__name__], "name", value)``."""
        pairs = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple | ast.List) and isinstance(node.value, ast.Tuple
                                                                            | ast.List):
                    pairs += list(zip(target.elts, node.value.elts, strict=False))
                else:
                    pairs.append((target, node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            pairs.append((node.target, node.value))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "update" \
                    and isinstance(func.value, ast.Call) \
                    and _call_name(func.value.func) in ("globals", "locals", "vars"):
                for keyword in call.keywords:
                    if keyword.arg:
                        pairs.append((ast.Name(id=keyword.arg, ctx=ast.Store()), keyword.value))
                for arg in call.args:
                    if isinstance(arg, ast.Dict):
                        for key, value in zip(arg.keys, arg.values, strict=True):
                            if fold(key) is not None:
                                pairs.append((ast.Name(id=fold(key), ctx=ast.Store()), value))
            elif _call_name(func) == "setattr" and len(call.args) == 3 \
                    and fold(call.args[1]) is not None:
                pairs.append((ast.Name(id=fold(call.args[1]), ctx=ast.Store()), call.args[2]))
        return pairs

    def _global_key(self, target: ast.AST) -> str | None:
        """``globals()["linear_forward"] = ...`` -> "linear_forward"."""
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Call) \
                and _call_name(target.value.func) in ("globals", "locals", "vars") \
                and not target.value.args:
            return fold(target.slice)
        return None

    def _star_import(self, index: int, source: str, node: ast.AST, module: str) -> None:
        if not module.startswith("course_lib"):
            return
        try:
            found = importlib.import_module(module)
        except Exception:  # not a module of course_lib: nothing is bound
            return
        for name in sorted(self.names):
            if hasattr(found, name):
                self._direct.append((name, index, node, source, f"{module}.{name}"))

    def _bind(self, name: str, index: int, source: str, node: ast.AST, body: ast.AST) -> None:
        code = isinstance(body, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
        # read once every cell is in (``_read_body``): an alias may come after the def
        binding = _Binding(cell=index, source=source, code=code, node=node, body=body)
        self.bindings.setdefault(name, []).append(binding)

    def _read_body(self, binding: _Binding) -> None:
        """Fill ``refs``, ``uses`` and ``direct`` from the aliases of the whole notebook."""
        body = binding.body
        local_aliases, local_names = self._locals(body)
        for child in ast.walk(body):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) \
                    and child.id not in local_names:
                binding.uses.add(child.id)
            for dotted in self.resolve(child, local_aliases, local_names):
                if dotted.startswith("course_lib."):
                    binding.refs.append((dotted, child))
        if not binding.code:
            direct = sorted(d for d in self.resolve(body) if d.startswith("course_lib."))
            binding.direct = direct[0] if direct else None

    def _locals(self, body: ast.AST) -> tuple[dict[str, set[str]], set[str]]:
        """Names a function binds itself (they hide globals), and which of them alias course_lib."""
        if not isinstance(body, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return {}, set()
        declared = {n for node in ast.walk(body) if isinstance(node, ast.Global | ast.Nonlocal)
                    for n in node.names}
        args = body.args
        local = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                                 *filter(None, [args.vararg, args.kwarg])]}
        aliases: dict[str, set[str]] = {}
        for node in ast.walk(body):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                local.add(node.id)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for name, target in _imports(node):
                    local.add(name)
                    aliases.setdefault(name, set()).add(target)
        for node in ast.walk(body):
            if isinstance(node, ast.Assign):
                resolved = self.resolve(node.value, aliases, set())
                for target in node.targets:
                    if isinstance(target, ast.Name) and resolved:
                        aliases.setdefault(target.id, set()).update(resolved)
        return aliases, local - declared

    # --- what an expression names -----------------------------------------------------------

    def resolve(self, node: ast.AST, local_aliases: dict[str, set[str]] | None = None,
                local_names: set[str] | None = None) -> set[str]:
        """The dotted names an expression may be: ``F.linear_forward`` ->
        {"course_lib.functional.linear_forward"}; empty when it names nothing known."""
        local_aliases, local_names = local_aliases or {}, local_names or set()

        def go(n: ast.AST) -> set[str]:
            if isinstance(n, ast.Name):
                if n.id in local_aliases:
                    return set(local_aliases[n.id])
                if n.id in local_names:
                    return set()
                if n.id == "__import__":
                    return {"__import__"}
                return set(self.aliases.get(n.id, ()))
            if isinstance(n, ast.Attribute):
                if n.attr == "__dict__":
                    return set()
                return {f"{base}.{n.attr}" for base in go(n.value)}
            if isinstance(n, ast.Subscript):
                key = fold(n.slice) or COMPUTED
                container = n.value
                if isinstance(container, ast.Attribute) and container.attr == "__dict__":
                    bases = go(container.value)
                elif isinstance(container, ast.Call) and _call_name(container.func) == "vars" \
                        and container.args:
                    bases = go(container.args[0])
                else:
                    bases = go(container)
                    if "sys.modules" in bases:
                        return {key if key != COMPUTED else f"course_lib.{COMPUTED}"}
                return {f"{base}.{key}" for base in bases}
            if isinstance(n, ast.Call) and n.args:
                name = _call_name(n.func)
                if name == "getattr" and len(n.args) >= 2:
                    key = fold(n.args[1]) or COMPUTED
                    return {f"{base}.{key}" for base in go(n.args[0])}
                funcs = go(n.func)
                if funcs & set(IMPORTERS):
                    module = fold(n.args[0])
                    return {module} if module else {f"course_lib.{COMPUTED}"}
                if funcs & set(LOOKUPS):
                    return {f"course_lib.overrides.{fold(n.args[0]) or COMPUTED}"}
                if name == "fallback" or "course_lib.overrides.fallback" in funcs:
                    return go(n.args[1]) if len(n.args) > 1 else set()
            return set()

        return go(node)

    # --- the findings --------------------------------------------------------------------

    def findings(self) -> list[dict]:
        found: list[dict] = []

        def add(name: str, cell: int, node: ast.AST, source: str, what: str) -> None:
            code = ast.get_source_segment(source, node) or ""
            code = code.strip().splitlines()[0][:120] if code.strip() else ""
            finding = {"cell": cell, "line": getattr(node, "lineno", 0), "code": code,
                       "function": name, "what": what}
            if finding not in found:
                found.append(finding)

        for binding in (b for same in self.bindings.values() for b in same):
            self._read_body(binding)
        for name, cell, node, source, target in self._direct:
            add(name, cell, node, source, f"{name} is course_lib's {target} (imported)")
        for name in sorted(self.names):
            for binding in self.bindings.get(name, []):
                if binding.direct:
                    add(name, binding.cell, binding.node, binding.source,
                        f"{name} is course_lib's {binding.direct}")
                    continue
                for helper, dotted, where, b in self._reachable(name, binding):
                    if not _same(dotted, name):
                        continue
                    via = f" through {helper}" if helper != name else ""
                    verb = ("looks up course_lib by a computed name"
                            if dotted.endswith(COMPUTED) else f"uses {dotted}")
                    add(name, b.cell, where, b.source, f"{name} {verb}{via}")
        return found

    def _reachable(self, name: str, start: _Binding):
        """(helper, dotted, node, binding) for every course_lib name ``start`` uses, itself or
        through the learner's own functions it reads (each followed once)."""
        seen, todo = set(), [(name, start)]
        while todo:
            helper, binding = todo.pop()
            if id(binding) in seen:
                continue
            seen.add(id(binding))
            for dotted, where in binding.refs:
                yield helper, dotted, where, binding
            for used in sorted(binding.uses):  # the learner's own helpers it may call
                todo += [(used, other) for other in self.bindings.get(used, []) if other.code]


def _same(dotted: str, name: str) -> bool:
    """Whether a course_lib name is the graded function's own reference (or a computed one)."""
    last = dotted.rsplit(".", 1)[-1]
    return dotted.startswith("course_lib.") and last in (name, COMPUTED)
