"""``python -m course_lib.grading``: the instructor's command line."""

import sys

from . import main

sys.exit(main())
