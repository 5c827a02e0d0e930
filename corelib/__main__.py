"""Allow ``python -m corelib``."""
import sys

from corelib.cli import main

sys.exit(main())
