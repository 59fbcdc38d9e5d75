"""`python -m regaudit PATH...`: the same as the `regaudit` command."""

import sys

from regaudit.command import main

sys.exit(main())
