"""python -m devstack: see cli.py, or run with --help."""

import sys

from devstack.cli import main

sys.exit(main())
