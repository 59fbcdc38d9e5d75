"""`python -m regaudit PATH...`: the same as the `regaudit` command."""

import sys

from regaudit.cli import main

sys.exit(main())
