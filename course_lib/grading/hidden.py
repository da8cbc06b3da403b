"""Hidden tests: the lines between ``BEGIN HIDDEN TESTS`` and ``END HIDDEN TESTS`` that no
release, feedback file or traceback may show. Plain text work, no nbgrader here; the nbgrader
preprocessor that applies it is ``autograde.ScrubHiddenTests``.
"""

from __future__ import annotations

import re

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
HIDDEN_PLACEHOLDER = "# (hidden tests: not shown)"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
GUTTER = re.compile(r"^\s*(-*>\s*)?\d+\s")  # "----> 5 " or "      5 " in IPython tracebacks


def strip_hidden_region(source: str) -> tuple[str, bool]:
    """``source`` with every hidden-test region replaced by one placeholder comment."""
    kept, inside, found = [], False, False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside, found = True, True
            kept.append(re.match(r"\s*", line).group(0) + HIDDEN_PLACEHOLDER)
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept), found


def hidden_lines(sources) -> set[str]:
    """The stripped lines inside hidden-test regions of ``sources`` (used to spot quotes of them)."""
    lines, inside = set(), False
    for source in sources:
        for line in source.split("\n"):
            if BEGIN_HIDDEN in line:
                inside = True
            elif END_HIDDEN in line:
                inside = False
            elif inside and len(line.strip()) >= 8:
                lines.add(line.strip())
    return lines


def hidden_code_lines(nb) -> set[str]:
    """Hidden-test lines that feedback and releases must never show: code lines only (a failing
    check's own message is meant for the learner) that occur nowhere outside a hidden region."""
    public = set()
    for cell in nb.cells:
        visible, _ = strip_hidden_region(cell.source)
        public |= {line.strip() for line in visible.split("\n")}
    return {line for line in hidden_lines(cell.source for cell in nb.cells)
            if line not in public and not re.match(r"""^([rRbBfFuU]{0,2}["']|#|[)\]}])""", line)}


def quoted_lines(text: str, secret: set[str]) -> list[str]:
    """The lines of ``secret`` that ``text`` shows as whole lines (traceback gutters ignored)."""
    shown = set()
    for line in text.split("\n"):
        shown.add(line.strip())
        shown.add(GUTTER.sub("", line).strip())
    return sorted(secret & shown)


def traceback_quotes(traceback: list[str], secret: set[str]) -> bool:
    """Whether a traceback (ANSI colours removed) contains any of the ``secret`` lines."""
    text = ANSI.sub("", "\n".join(traceback))
    return any(line in text for line in secret)
