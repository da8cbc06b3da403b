"""Similarity: answer cells much alike between learners, found by winnowing as MOSS does.

Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document fingerprinting"
(SIGMOD 2003): the learner's answer cells are turned into tokens, every ``K`` consecutive tokens
(a k-gram) are hashed, and in each window of ``WINDOW`` consecutive hashes the smallest is kept
as a fingerprint. Any run of at least ``K + WINDOW - 1`` tokens shared by two learners then
shares a fingerprint.

Before hashing, the code is normalised so that cosmetic edits do not hide a copy: names the
learner binds (functions, parameters, variables, loop targets, import aliases) become ``V``,
strings ``S``; comments, docstrings and blank lines go. Each top-level function is
fingerprinted on its own, so reordering functions changes nothing. Fingerprints found in the
release (the starter code) or in the course's own solution (what a correct answer is expected
to look like) are left out. A pair shares ``percent`` = shared fingerprints / the smaller
learner's fingerprints; pairs at or above ``THRESHOLD`` with at least ``MIN_SHARED``
fingerprints in common are listed in ``reports/<id>/similarity.md`` with the shared code, and
both learners go to review. The report is a reason to look, never a change to any score.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import json
import keyword
import tokenize
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

K = 5  # tokens per k-gram
WINDOW = 4  # k-grams per winnowing window: every shared run of K + WINDOW - 1 = 8 tokens is seen
THRESHOLD = 0.6  # share of the smaller learner's fingerprints
MIN_SHARED = 8  # fingerprints: below that, too little code to call it a copy
BUILTINS = set(dir(builtins))


@dataclass
class Fingerprints:
    """One learner's answer code and its fingerprints: hash -> the code lines it covers."""

    code: list[str]
    prints: dict[int, set[int]]


def answer_code(nb) -> str:
    """The learner's code: the source of every code cell nbgrader marks as a solution cell."""
    cells = [c.source for c in nb.cells if c.cell_type == "code"
             and (c.metadata.get("nbgrader") or {}).get("solution")]
    return "\n\n".join(cells)


def _bound_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    return names


def _units(code: str) -> list[tuple[int, int]]:
    """(first line, last line) of each top-level function or class, and of each run of other
    top-level statements; the whole code when it does not parse."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [(1, code.count("\n") + 1)]
    units, loose = [], None
    for node in tree.body:
        span = (getattr(node, "decorator_list", None) or [node])[0].lineno, node.end_lineno
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if loose:
                units.append(loose)
                loose = None
            units.append(span)
        else:
            loose = (loose[0], span[1]) if loose else span
    return units + ([loose] if loose else [])


def tokens(code: str, bound: set[str] | None = None) -> list[tuple[str, int]]:
    """The normalised tokens of ``code`` and the line each starts on; ``bound``: the names to
    rename (by default those ``code`` binds)."""
    try:
        rename = (bound if bound is not None else _bound_names(ast.parse(code))).__contains__
    except SyntaxError:
        rename = lambda name: not keyword.iskeyword(name) and name not in BUILTINS  # noqa: E731
    out: list[tuple[str, int]] = []
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    previous = tokenize.NEWLINE
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            kind = tok.type
            if kind in skip:
                previous = kind if kind != tokenize.COMMENT else previous
                continue
            if kind == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT,
                                                        tokenize.DEDENT):
                previous = kind  # a docstring or a bare string: not code
                continue
            previous = kind
            if kind == tokenize.NAME and rename(tok.string):
                out.append(("V", tok.start[0]))
            elif kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
                out.append(("S", tok.start[0]))
            elif kind in (getattr(tokenize, "FSTRING_MIDDLE", -1),
                          getattr(tokenize, "FSTRING_END", -1)):
                continue
            else:
                out.append((tok.string, tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what was read
    return out


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def winnow(toks: list[tuple[str, int]], k: int = K, window: int = WINDOW) -> dict[int, set[int]]:
    """Fingerprints of one token sequence: hash -> the lines its k-gram covers."""
    grams = [(_hash(" ".join(t for t, _ in toks[i:i + k])), set(range(toks[i][1],
                                                                      toks[i + k - 1][1] + 1)))
             for i in range(len(toks) - k + 1)]
    prints: dict[int, set[int]] = {}
    if not grams:
        return prints
    for start in range(max(1, len(grams) - window + 1)):
        chunk = grams[start:start + window]
        low = min(h for h, _ in chunk)
        index = max(i for i, (h, _) in enumerate(chunk) if h == low)  # the rightmost minimum
        prints.setdefault(low, set()).update(chunk[index][1])
    return prints


def fingerprint(code: str) -> Fingerprints:
    """The fingerprints of a learner's answer code, each top-level unit on its own."""
    lines = code.split("\n")
    try:
        bound = _bound_names(ast.parse(code))  # a helper is renamed where it is called too
    except SyntaxError:
        bound = None
    prints: dict[int, set[int]] = {}
    for first, last in _units(code):
        unit = "\n".join(lines[first - 1:last])
        for h, covered in winnow(tokens(unit, bound)).items():
            prints.setdefault(h, set()).update(line + first - 1 for line in covered)
    return Fingerprints(lines, prints)


def compare(a: Fingerprints, b: Fingerprints, exclude: set[int] = frozenset()) -> dict:
    """What ``a`` and ``b`` share, starter and reference fingerprints left out."""
    mine, theirs = set(a.prints) - exclude, set(b.prints) - exclude
    shared = mine & theirs
    smaller = min(len(mine), len(theirs))
    return {"shared": len(shared), "count_a": len(mine), "count_b": len(theirs),
            "percent": 100.0 * len(shared) / smaller if smaller else 0.0,
            "lines_a": sorted(set().union(*(a.prints[h] for h in shared))) if shared else [],
            "lines_b": sorted(set().union(*(b.prints[h] for h in shared))) if shared else []}


def similar_pairs(codes: dict[str, str], starter: list[str] = (),
                  threshold: float = THRESHOLD, min_shared: int = MIN_SHARED) -> list[dict]:
    """Pairs of learners (id -> answer code) at or above ``threshold``, most alike first.

    Only pairs that share a fingerprint are compared (an index from fingerprint to learners),
    and, as MOSS's ``-m`` does, a fingerprint held by more than ``common_limit(n)`` of the ``n``
    learners counts as common code, not as evidence."""
    exclude: set[int] = set()
    for text in starter:
        exclude |= set(fingerprint(text).prints)
    prints = {student: fingerprint(code) for student, code in codes.items()}
    holders: dict[int, list[str]] = {}
    for student in sorted(prints):
        for h in prints[student].prints:
            if h not in exclude:
                holders.setdefault(h, []).append(student)
    limit = common_limit(len(prints))
    exclude |= {h for h, who in holders.items() if len(who) > limit}
    candidates = {(one, two) for h, who in holders.items() if len(who) <= limit
                  for one, two in combinations(who, 2)}
    pairs = []
    for one, two in sorted(candidates):
        found = compare(prints[one], prints[two], exclude)
        if found["shared"] >= min_shared and found["percent"] >= 100 * threshold:
            pairs.append({"a": one, "b": two, **found,
                          "code_a": [prints[one].code[i - 1] for i in found["lines_a"]],
                          "code_b": [prints[two].code[i - 1] for i in found["lines_b"]]})
    return sorted(pairs, key=lambda p: (-p["percent"], p["a"], p["b"]))


def common_limit(learners: int) -> int:
    """Learners that may hold a fingerprint before it is common code: 10, or a tenth of a
    class of more than 100."""
    return max(10, learners // 10)


def report(course: Path, assignment: str, threshold: float = THRESHOLD) -> Path:
    """Compare every learner's submitted answer cells; write ``reports/<id>/similarity.md`` and
    each learner's ``similar`` list in their report (review, never the score)."""
    import nbformat

    from .report import Submission, write_report

    def read(path: Path) -> str:
        try:
            return answer_code(nbformat.read(path, as_version=4))
        except Exception:  # an unreadable file was reported by collect already
            return ""

    codes = {p.parents[1].name: read(p)
             for p in sorted((course / "submitted").glob(f"*/{assignment}/*.ipynb"))}
    starter = [read(p) for p in sorted((course / "release" / assignment).glob("*.ipynb"))]
    starter += [read(p) for p in sorted((course / "source" / assignment).glob("*.ipynb"))]
    pairs = similar_pairs(codes, starter, threshold)
    by_student: dict[str, list[dict]] = {}
    for pair in pairs:
        for me, other in (("a", "b"), ("b", "a")):
            by_student.setdefault(pair[me], []).append(
                {"other": pair[other], "percent": round(pair["percent"], 1),
                 "shared": pair["shared"]})
    for path in sorted((course / "reports" / assignment).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        similar = by_student.get(path.stem, [])
        if data.get("similar", []) != similar:
            data["similar"] = similar
            write_report(course, Submission.from_dict(data))
    out = course / "reports" / assignment / "similarity.md"
    lines = [f"# {assignment}: similar answer cells", "",
             f"Winnowing (k = {K} tokens, window {WINDOW}) over the answer cells, names the "
             "learner binds renamed, each function on its own; the release's starter code and "
             "the course's solution left out. Listed: pairs sharing at least "
             f"{100 * threshold:g} % of the smaller learner's fingerprints (and at least "
             f"{MIN_SHARED}). A reason to look, never a change to a score.", ""]
    if not pairs:
        lines.append(f"No pair of the {len(codes)} learners is above the threshold.")
    for pair in pairs:
        lines += [f"## {pair['a']} and {pair['b']}: {pair['percent']:.0f} % "
                  f"({pair['shared']} shared fingerprints of {pair['count_a']} and "
                  f"{pair['count_b']})", "",
                  f"{pair['a']}:", "", "```python", *pair["code_a"], "```", "",
                  f"{pair['b']}:", "", "```python", *pair["code_b"], "```", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
