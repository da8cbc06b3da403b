"""Code in a learner's cells that rebinds what the checks rely on: ``np.allclose = ...``,
``setattr(numpy.testing, ...)``, ``course_lib.checks`` functions, ``builtins``; or that reaches
around the checks inside the kernel: IPython input or AST transformers, magics and event hooks,
``sys.modules`` entries and module dictionaries (``vars(m).update``), ``sys.settrace``,
``importlib.reload`` of course_lib, the import system; and any ``get_ipython`` in an answer cell.

``scan_monkeypatching`` reads the learner's code cells with ``ast`` (regular expressions when a
cell does not parse); the notebook's own locked cells say which names are guarded.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from .integrity import is_locked

if TYPE_CHECKING:
    from nbformat.notebooknode import NotebookNode

# Modules whose attributes the checks use: rebinding anything in them is flagged.
PROTECTED = ("numpy", "course_lib", "builtins", "math", "unittest", "sys.modules")
DEFAULT_ALIASES = {
    "np": "numpy", "numpy": "numpy", "npt": "numpy.testing", "checks": "course_lib.checks",
    "course_lib": "course_lib", "builtins": "builtins", "__builtins__": "builtins",
    "math": "math", "sys": "sys", "importlib": "importlib",
}
# IPython's ways to rewrite or watch every cell the kernel runs after this one.
IPYTHON_HOOKS = ("input_transformers_cleanup", "input_transformers_post",
                 "input_transformer_manager", "ast_transformers", "register_magic_function",
                 "register_magics", "register_transformer", "register_cell_magic",
                 "register_line_magic", "set_custom_exc", "set_hook")
TRACERS = ("sys.settrace", "sys.setprofile", "threading.settrace", "threading.setprofile",
           "sys.addaudithook", "sys.set_asyncgen_hooks", "sys.setrecursionlimit")
IMPORT_SYSTEM = ("sys.meta_path", "sys.path_hooks", "sys.path_importer_cache")
MUTATORS = ("update", "pop", "popitem", "setdefault", "clear", "__setitem__", "__delitem__")


def learner_cells(nb: NotebookNode) -> list[tuple[int, str]]:
    """(index, source) of the code cells the learner controls: everything but locked cells."""
    return [(i, cell.source) for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and not is_locked(cell.metadata.get("nbgrader", {}))]


def scan_monkeypatching(nb: NotebookNode) -> list[dict]:
    """Statements in the learner's cells that rebind checking functions or the names the
    notebook's own cells imported from numpy, course_lib, builtins...

    Each finding: ``{"cell": index, "line": n, "code": "np.allclose = ...", "what": "..."}``.
    """
    aliases = dict(DEFAULT_ALIASES)
    guarded = {"np", "numpy", "checks"}
    for cell in nb.cells:
        if cell.cell_type == "code" and is_locked(cell.metadata.get("nbgrader", {})):
            tree = parse_cell(cell.source)
            if tree is not None:
                bound = _import_aliases(tree)
                aliases.update(bound)
                guarded |= {name for name, target in bound.items() if _protected(target)}
    findings = []
    for index, source in learner_cells(nb):
        if nb.cells[index].metadata.get("nbgrader", {}).get("solution"):
            findings += [dict(f, cell=index) for f in _ipython_in_answer(source)]
        scanner = _Scanner(aliases, guarded)
        tree = parse_cell(source)
        if tree is None:
            findings += [dict(f, cell=index) for f in _regex_scan(source, aliases)]
            continue
        scanner.visit_module(tree, source)
        findings += [dict(f, cell=index) for f in scanner.findings]
        aliases.update(scanner.new_aliases)  # later cells see this cell's imports
    return findings


def _ipython_in_answer(source: str) -> list[dict]:
    """An answer cell has no business with the kernel: any ``get_ipython`` or ``IPython`` there
    (a magic line is written as ``%...`` and turns into ``get_ipython()`` only when it runs)."""
    findings = []
    for number, line in enumerate(source.splitlines(), start=1):
        if re.search(r"get_ipython|\bIPython\b|__IPYTHON__", line):
            findings.append({"line": number, "code": line.strip()[:120],
                             "what": "uses get_ipython/IPython in an answer cell"})
    return findings


def parse_cell(source: str) -> ast.Module | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or a transform error: parse the plain text
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _protected(dotted: str | None) -> bool:
    return dotted is not None and any(
        dotted == root or dotted.startswith(root + ".") for root in PROTECTED)


def _import_aliases(tree: ast.AST) -> dict[str, str]:
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


class _Scanner:
    """Walks one cell; ``findings`` lists each suspicious statement once."""

    def __init__(self, aliases: dict[str, str], guarded: set[str]):
        self.aliases = aliases
        self.guarded = guarded
        self.new_aliases: dict[str, str] = {}
        self.findings: list[dict] = []
        self.source = ""
        self._top_nodes: set[int] = set()

    def visit_module(self, tree: ast.Module, source: str) -> None:
        self.source = source
        globals_in_functions = {
            name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}
        self._top_nodes = {id(node) for node in tree.body}
        for node in tree.body:
            self._top_level(node, globals_in_functions)
        for node in ast.walk(tree):
            self._anywhere(node, globals_in_functions)

    # what the dotted name of an expression resolves to, e.g. np.testing -> "numpy.testing"
    def resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.new_aliases.get(node.id) or self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Subscript) and fold(node.slice) is not None:
            key = fold(node.slice)
            base = self.resolve(node.value)
            if base == "sys.modules" and isinstance(key, str):
                return key
            if isinstance(node.value, ast.Call) and _call_name(node.value) == "vars" \
                    and node.value.args and isinstance(key, str):
                inner = self.resolve(node.value.args[0])
                return f"{inner}.{key}" if inner else None
        if isinstance(node, ast.Call) and _call_name(node) == "getattr" and len(node.args) >= 2 \
                and fold(node.args[1]) is not None:
            base = self.resolve(node.args[0])
            return f"{base}.{fold(node.args[1])}" if base else None
        if isinstance(node, ast.Call) and node.args and fold(node.args[0]) is not None \
                and self.resolve(node.func) in ("importlib.import_module", "__import__"):
            return fold(node.args[0])
        return None

    def flag(self, node: ast.AST, what: str) -> None:
        line = getattr(node, "lineno", 0)
        code = ast.get_source_segment(self.source, node) or ""
        code = code.strip().splitlines()[0][:120] if code.strip() else ""
        finding = {"line": line, "code": code, "what": what}
        if finding not in self.findings:
            self.findings.append(finding)

    def _top_level(self, node: ast.stmt, globals_in_functions: set[str]) -> None:
        """Statements that rebind a guarded global name (np = ..., def check_close(...))."""
        names: list[str] = []
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [leaf.id for t in targets for leaf in _leaves(t) if isinstance(leaf, ast.Name)]
            if isinstance(node, ast.Assign) and _protected(self.resolve(node.value)):
                for target in node.targets:
                    if isinstance(target, ast.Name):  # t = np.testing: t.x = ... is watched too
                        self.new_aliases[target.id] = self.resolve(node.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for name, target in _import_aliases(node).items():
                if name in self.guarded and target != self.aliases.get(name):
                    self.flag(node, f"rebinds {name} (was {self.aliases.get(name)}) to {target}")
                self.new_aliases[name] = target
        elif isinstance(node, ast.Delete):
            names += [leaf.id for t in node.targets for leaf in _leaves(t)
                      if isinstance(leaf, ast.Name)]
        elif isinstance(node, ast.With | ast.AsyncWith):
            names += [leaf.id for item in node.items if item.optional_vars is not None
                      for leaf in _leaves(item.optional_vars) if isinstance(leaf, ast.Name)]
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            names += [n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr)]
        for name in names:
            if name in self.guarded:
                self.flag(node, f"rebinds {name} ({self.aliases.get(name, name)})")

    def _anywhere(self, node: ast.AST, globals_in_functions: set[str]) -> None:
        """Attribute and item assignments, setattr and friends, at any depth."""
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
            targets = [node.target]
        for leaf in (leaf for target in targets for leaf in _leaves(target)):
            if isinstance(leaf, ast.Attribute) and _protected(self.resolve(leaf)):
                self.flag(node, f"rebinds {self.resolve(leaf)}")
            elif isinstance(leaf, ast.Subscript):
                self._check_item_assignment(node, leaf)
            elif isinstance(leaf, ast.Name) and leaf.id in globals_in_functions \
                    and leaf.id in self.guarded and id(node) not in self._top_nodes:
                self.flag(node, f"rebinds {leaf.id} (declared global inside a function)")
        if isinstance(node, ast.Call):
            self._check_call(node)
        self._check_bypass(node)

    def _check_item_assignment(self, node: ast.AST, target: ast.Subscript) -> None:
        container = target.value
        dotted = self.resolve(container)
        key = fold(target.slice)
        if dotted == "sys.modules":
            self.flag(node, f"replaces module {key or '(computed name)'!r} in sys.modules")
        elif isinstance(container, ast.Attribute) and container.attr == "__dict__" \
                and _protected(self.resolve(container.value)):
            self.flag(node, f"rebinds {self.resolve(container.value)}.{key}")
        elif dotted == "builtins":
            self.flag(node, f"rebinds builtins.{key}")
        elif isinstance(container, ast.Call) and _call_name(container) in ("vars", "globals"):
            if _call_name(container) == "vars" and container.args:
                inner = self.resolve(container.args[0])
                if _protected(inner):
                    self.flag(node, f"rebinds {inner}.{key}")
            elif key is None or key in self.guarded:
                self.flag(node, f"rebinds global {key if key else '(computed name)'} via globals()")

    def _check_bypass(self, node: ast.AST) -> None:
        """IPython hooks, the import system, tracers, reloads and module dictionaries."""
        if isinstance(node, ast.Attribute) and node.attr in IPYTHON_HOOKS:
            self.flag(node, f"changes how IPython runs cells ({node.attr})")
        elif isinstance(node, ast.Attribute) and node.attr == "register" \
                and isinstance(node.value, ast.Attribute) and node.value.attr == "events":
            self.flag(node, "registers an IPython event callback (events.register)")
        elif isinstance(node, ast.Attribute) and self.resolve(node) in IMPORT_SYSTEM:
            self.flag(node, f"changes the import system ({self.resolve(node)})")
        if not isinstance(node, ast.Call):
            return
        func = self.resolve(node.func) or _call_name(node) or ""
        first = node.args[0] if node.args else None
        if func in TRACERS:
            self.flag(node, f"installs a tracer or hook ({func})")
        elif func in ("importlib.reload", "imp.reload", "reload") and first is not None:
            target = self.resolve(first)
            if target is None or _protected(target):
                self.flag(node, f"reloads {target or 'a module'}")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            owner = node.func.value
            dotted = self.resolve(owner)
            if dotted == "sys.modules":
                self.flag(node, f"changes sys.modules ({node.func.attr})")
            elif dotted == "builtins":
                self.flag(node, f"changes builtins ({node.func.attr})")
            elif isinstance(owner, ast.Call) and _call_name(owner) == "vars" and owner.args \
                    and _module_like(self.resolve(owner.args[0]), owner.args[0]):
                self.flag(node, f"changes the namespace of {self.resolve(owner.args[0]) or 'a module'}")
            elif isinstance(owner, ast.Attribute) and owner.attr == "__dict__" \
                    and _module_like(self.resolve(owner.value), owner.value):
                self.flag(node, f"changes the namespace of {self.resolve(owner.value) or 'a module'}")
        elif _call_name(node) in ("setattr", "delattr") and isinstance(first, ast.Subscript) \
                and self.resolve(first.value) == "sys.modules":
            self.flag(node, f"{_call_name(node)} on a module from sys.modules")

    def _check_call(self, node: ast.Call) -> None:
        name = _call_name(node)
        first = node.args[0] if node.args else None
        if name in ("setattr", "delattr", "object.__setattr__", "type.__setattr__") and first:
            dotted = self.resolve(first)
            if _protected(dotted):
                attr = node.args[1].value if len(node.args) > 1 and isinstance(
                    node.args[1], ast.Constant) else "?"
                self.flag(node, f"{name.split('.')[-1]} on {dotted}.{attr}")
        elif name and (name.endswith("patch") or name.endswith("patch.object")
                       or name.endswith("monkeypatch.setattr")) and first is not None:
            target = first.value if isinstance(first, ast.Constant) else self.resolve(first)
            if isinstance(target, str) and _protected(target):
                self.flag(node, f"patches {target}")
        elif name in ("exec", "eval", "compile") and first is not None:
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                inner = parse_cell(first.value)
                if inner is not None:
                    nested = _Scanner(self.aliases, self.guarded)
                    nested.visit_module(inner, first.value)
                    for finding in nested.findings:
                        self.flag(node, f"{finding['what']} (inside {name})")
            else:
                self.flag(node, f"runs code built at run time with {name}()")


def fold(node: ast.AST | None) -> str | None:
    """The string an expression always evaluates to, when it is built from constants:
    ``"linear_" + "forward"``, ``f"linear_{'forward'}"``, ``"_".join(["linear", "forward"])``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = fold(node.left), fold(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [fold(v.value if isinstance(v, ast.FormattedValue) else v) for v in node.values]
        return "".join(parts) if all(p is not None for p in parts) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords:
        base = fold(node.func.value)
        if base is not None and node.func.attr == "join" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.List | ast.Tuple):
            parts = [fold(e) for e in node.args[0].elts]
            return base.join(parts) if all(p is not None for p in parts) else None
        if base is not None and node.func.attr == "format":
            parts = [fold(a) for a in node.args]
            if all(p is not None for p in parts):
                try:
                    return base.format(*parts)
                except (IndexError, KeyError, ValueError):
                    return None
    return None


def _module_like(dotted: str | None, node: ast.AST) -> bool:
    """A protected module, or ``sys.modules[...]`` under any name."""
    return _protected(dotted) or (isinstance(node, ast.Subscript) and isinstance(
        node.value, ast.Attribute) and node.value.attr == "modules")


def _leaves(target: ast.AST) -> list[ast.AST]:
    """The names, attributes and items an assignment target binds (tuples unpacked)."""
    if isinstance(target, ast.Tuple | ast.List):
        return [leaf for elt in target.elts for leaf in _leaves(elt)]
    if isinstance(target, ast.Starred):
        return _leaves(target.value)
    return [target]


def _call_name(node: ast.Call) -> str | None:
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
        return ".".join(reversed(parts))
    return None


def _regex_scan(source: str, aliases: dict[str, str]) -> list[dict]:
    """Fallback for a cell that does not parse: the plain patterns, line by line."""
    names = sorted({name for name, target in aliases.items() if _protected(target)}, key=len)
    alt = "|".join(re.escape(name) for name in reversed(names))
    patterns = [
        (rf"\b({alt})(\.\w+)+\s*(=(?!=)|[-+*/]=)", "rebinds {0}"),
        (rf"\b(setattr|delattr)\s*\(\s*({alt})\b", "{0} on {1}"),
        (r"\b__builtins__\s*\[", "rebinds builtins"),
        (r"\bsys\.modules\s*\[[^\]]*\]\s*=(?!=)", "replaces a module in sys.modules"),
    ]
    findings = []
    for number, line in enumerate(source.splitlines(), start=1):
        for pattern, what in patterns:
            match = re.search(pattern, line)
            if match:
                text = match.group(0).rstrip("= ").strip()
                findings.append({"line": number, "code": line.strip()[:120],
                                 "what": what.format(text, *match.groups()[1:]) + " (text match)"})
                break
    return findings
