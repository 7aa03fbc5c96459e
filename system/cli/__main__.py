"""`python -m system.cli`: the `hailong` command."""

import sys

from system.cli import main

sys.exit(main())
