"""The `regaudit` command: `regaudit fix MODEL ...` (regaudit.fix_command), else an audit
(regaudit.cli). A model file named `fix` is still audited as `regaudit ./fix`."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["fix"]:
        from regaudit.fix_command import main as fix_main

        return fix_main(args[1:])
    from regaudit.cli import main as audit_main

    return audit_main(args)
