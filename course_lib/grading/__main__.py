"""``python -m course_lib.grading``: the instructor's command line (see ``cli.py``)."""

import sys

from .cli import main

sys.exit(main())
