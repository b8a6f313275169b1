"""``python -m efficacy_flow.cli``."""

import sys

from efficacy_flow.cli import main

sys.exit(main())
