"""Run the ``oppcore`` command: ``python -m oppcore``."""

import sys

from oppcore._cli import main

if __name__ == "__main__":
    sys.exit(main())
