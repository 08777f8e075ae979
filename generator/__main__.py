"""`python -m generator` is `scaffold`."""

import sys

from generator.cli import main

sys.exit(main())
