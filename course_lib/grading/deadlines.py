"""Deadlines: a due date-time with its zone, a late penalty and a grace period.

``--due 2026-03-01T23:59+01:00`` (ISO 8601; a zone is required, ``Z`` for UTC),
``--late-penalty 10%/day`` (a percentage of the assignment's points for each day or part of a
day after the due time, ``10%/day,max=30%`` caps it, ``20%`` is one flat deduction for any
lateness) and ``--grace 15m`` (``30s``, ``15m``, ``2h``, ``1d``: an upload within the grace
period is not late; past it, lateness counts from the due time itself).

As Canvas's late policy does, the penalty is a share of the points possible, taken from the
score and never below zero: 2 days late at 10 %/day on a 6-point assignment loses 1.2 points.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from .common import GradingError

DAY = timedelta(days=1)


@dataclass(frozen=True)
class LatePolicy:
    """When an assignment is due and what lateness costs."""

    due: datetime | None = None  # timezone-aware
    per_day: float = 0.0  # percent of the points possible, per started day late
    cap: float = 100.0  # percent: the most a late upload loses
    flat: float | None = None  # percent lost once, however late (instead of per_day)
    grace: timedelta = timedelta(0)

    def late_days(self, submitted: datetime | None) -> int:
        """Started days after the due time (0: on time or within the grace period)."""
        if self.due is None or submitted is None or submitted <= self.due + self.grace:
            return 0
        return max(1, math.ceil((submitted - self.due) / DAY))

    def percent(self, days: int) -> float:
        """The share of the points possible (percent) that ``days`` late costs."""
        if days <= 0:
            return 0.0
        lost = self.flat if self.flat is not None else self.per_day * days
        return min(lost, self.cap, 100.0)

    def describe(self) -> str:
        if self.due is None:
            return "no due date"
        rule = (f"{self.flat:g} % once" if self.flat is not None
                else f"{self.per_day:g} % of the points per day or part of a day")
        if self.cap < 100 and self.flat is None:
            rule += f", at most {self.cap:g} %"
        grace = f", grace {self.grace}" if self.grace else ""
        return f"due {self.due.isoformat()}; late: {rule}{grace}"

    def as_dict(self) -> dict:
        return {"due": self.due.isoformat() if self.due else None, "per_day": self.per_day,
                "cap": self.cap, "flat": self.flat, "grace_s": self.grace.total_seconds()}


def parse_due(text: str | None) -> datetime | None:
    """An ISO 8601 date-time with a zone; a date alone means 23:59:59 of that day (with a zone)."""
    if text is None:
        return None
    value = text.strip().replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise GradingError(f"--due {text!r} is not a date-time; write e.g. "
                           "2026-03-01T23:59+01:00 (ISO 8601 with its zone, Z for UTC).") from None
    if moment.tzinfo is None:
        raise GradingError(f"--due {text!r} has no time zone; add one, e.g. "
                           f"{text.strip()}+01:00 or {text.strip()}Z for UTC.")
    return moment


def parse_penalty(text: str | None) -> tuple[float, float, float | None]:
    """``"10%/day"`` -> (10, 100, None); ``"10%/day,max=30%"`` -> (10, 30, None);
    ``"20%"`` -> (0, 100, 20): (per day, cap, flat), all percent."""
    if not text:
        return 0.0, 100.0, None
    number = r"(\d+(?:\.\d+)?)\s*%?"
    match = re.fullmatch(rf"\s*{number}\s*(/\s*day)?\s*(?:,\s*(?:max|cap)\s*=?\s*{number})?\s*",
                         text, flags=re.IGNORECASE)
    if not match or (match[3] and not match[2]):
        raise GradingError(f"--late-penalty {text!r} is not understood; write 10%/day, "
                           "10%/day,max=30% or 20% (once, for any lateness).")
    amount, cap = float(match[1]), float(match[3]) if match[3] else 100.0
    if amount > 100 or cap > 100:
        raise GradingError(f"--late-penalty {text!r}: a penalty is at most 100 %.")
    return (amount, cap, None) if match[2] else (0.0, 100.0, amount)


def parse_grace(text: str | None) -> timedelta:
    """``"15m"``, ``"2h"``, ``"1d"``, ``"30s"`` or a number of minutes."""
    if not text:
        return timedelta(0)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text, flags=re.IGNORECASE)
    if not match:
        raise GradingError(f"--grace {text!r} is not a duration; write e.g. 15m, 2h or 1d.")
    unit = {"s": "seconds", "m": "minutes", "": "minutes", "h": "hours", "d": "days"}
    return timedelta(**{unit[match[2].lower()]: float(match[1])})


def policy(due: str | None = None, late_penalty: str | None = None,
           grace: str | None = None) -> LatePolicy:
    """The LatePolicy the command line's ``--due``, ``--late-penalty`` and ``--grace`` give."""
    per_day, cap, flat = parse_penalty(late_penalty)
    moment = parse_due(due)
    if moment is None and (late_penalty or grace):
        raise GradingError("--late-penalty and --grace need --due (when the work was due).")
    return LatePolicy(due=moment, per_day=per_day, cap=cap, flat=flat, grace=parse_grace(grace))


def apply(policy_: LatePolicy, sub) -> None:
    """Set ``sub``'s ``late``, ``late_days``, ``penalty_percent``, ``penalty`` (points) and
    ``final_score`` from its ``submitted_at`` and score. Without a due date, a Canvas ``_late``
    marker still makes it late (no penalty: nothing says how late)."""
    submitted = datetime.fromisoformat(sub.submitted_at) if sub.submitted_at else None
    if policy_.due is None:
        sub.late = bool(sub.lms.get("late"))
        sub.late_days, sub.penalty_percent, sub.penalty = 0, 0.0, 0.0
    else:
        sub.late_days = policy_.late_days(submitted)
        sub.late = sub.late_days > 0
        sub.penalty_percent = policy_.percent(sub.late_days)
        sub.penalty = round(min(sub.score, sub.max_score * sub.penalty_percent / 100), 6)
    sub.final_score = round(sub.score - sub.penalty, 6)
