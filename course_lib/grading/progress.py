"""The batch's progress: a bar on a terminal (done / total, rate, time left), a plain line per
learner anywhere else (a log file, CI, a notebook)."""

from __future__ import annotations

import sys
import time


class Progress:
    """``bar = Progress(total, echo)``; ``bar.done(student, status, seconds)`` per learner;
    ``bar.close()``. The bar is drawn only when ``echo`` is ``print`` and stdout is a terminal."""

    def __init__(self, total: int, echo=print, stream=None):
        self.total, self.echo, self.count = total, echo, 0
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self.failed = 0
        self.bar = echo is print and self.stream.isatty() and total > 0
        if self.bar:
            self._draw()

    def done(self, student: str, status: str, seconds: float | None) -> None:
        self.count += 1
        self.failed += status != "graded"
        if self.bar:
            if status != "graded":  # a failure keeps its own line above the bar
                self.stream.write(f"\r\x1b[2K  {student}: {status} ({seconds or '-'} s)\n")
            self._draw()
        else:
            self.echo(f"  {student}: {status} ({seconds if seconds is not None else '-'} s)")

    def line(self) -> str:
        """``[#####.....] 12/40  0.8/s  35 s left``."""
        elapsed = time.monotonic() - self.started
        rate = self.count / elapsed if elapsed > 0 and self.count else 0.0
        left = (self.total - self.count) / rate if rate else None
        width = 30
        filled = int(width * self.count / self.total) if self.total else width
        eta = f"{left:.0f} s left" if left is not None else "time left: -"
        failed = f"  {self.failed} failed" if self.failed else ""
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.count}/{self.total}  "
                f"{rate:.2f}/s  {eta}{failed}")

    def _draw(self) -> None:
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()

    def close(self) -> None:
        if self.bar:
            self.stream.write("\n")
            self.stream.flush()
