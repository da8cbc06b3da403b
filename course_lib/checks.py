"""``course_lib.checks`` is ``course_lib.lessons.checks`` under its old name (notebooks, old
submissions and the grader's integrity scan use this one): the same module object, not a copy."""

import sys

from .lessons import checks

sys.modules[__name__] = checks
