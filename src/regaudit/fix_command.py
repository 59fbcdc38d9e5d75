"""`regaudit fix MODEL [-o Fix.java] [--class-name NAME] [--importer RELEASE]`: the Java that
makes DL4J's imported network penalise what Keras penalised (regaudit.fix, regaudit.render.java;
docs/fix.md).

Exit status as for an audit: 0 the Java was written; 2 the file could not be read, or there is
nothing to fix (no configuration, the file imports in neither mode, the verdict is unknown: one
line on stderr says which); 4 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from regaudit.cli import (
    DEFAULT_TIMEOUT_S,
    EXIT_BAD_INPUT,
    EXIT_OK,
    Input,
    Parser,
    Run,
    _importer,
    _preload,
    audit_one,
    complain,
    write_output,
)
from regaudit.importers import DEFAULT, PROFILES, short_name
from regaudit.isolate import Isolated
from regaudit.render import Context
from regaudit.render.java import render_java, valid_class_name


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="regaudit fix",
        description="Write a Java 17 source file whose apply(net) sets, on the network DL4J's "
        "Keras import builds from MODEL, the regularization Keras had (L2 doubled "
        "to DL4J's convention, dropped regularizers put back), and whose main shows the whole "
        "recipe. Rows no DL4J setting can express are listed in its comments. See docs/fix.md.",
        epilog="Exit status: 0 written; 2 the file cannot be read or has nothing to fix (no "
        "configuration, not importable, verdict unknown); 4 usage error.",
    )
    parser.add_argument("model", metavar="MODEL", help="one Keras model file (.h5, .json)")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="write the Java here, not to stdout (Fix.java: class Fix)")
    parser.add_argument("--class-name", metavar="NAME",
                        help="the Java class's name (default: from --output's name, else from "
                        "the model's: conv.h5 -> ConvFix)")
    parser.add_argument("--importer", type=_importer, default=None, metavar="RELEASE",
                        help="the DL4J release the fix is for: "
                        + ", ".join(short_name(p) for p in PROFILES.values() if p.verified)
                        + f" (default {short_name(DEFAULT)}; the fix is checked on each by "
                        "python build.py conformance --fix --importer RELEASE)")
    return parser


def class_name(args: argparse.Namespace) -> str | None:
    """--class-name, else the output file's name when it is a Java class name, else None (the
    renderer names it after the model)."""
    if args.class_name:
        return args.class_name
    if args.output and args.output.endswith(".java"):
        stem = os.path.basename(args.output)[: -len(".java")]
        if valid_class_name(stem):
            return stem
    return None


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.importer == "all":
        parser.error("--importer all: a fix is for one DL4J release; name it")
    if args.class_name and not valid_class_name(args.class_name):
        parser.error(f"--class-name {args.class_name!r} is not a Java class name (letters, "
                     "digits, _ and $, not starting with a digit, not a keyword)")
    if os.path.isdir(args.model):
        complain(args.model, "a folder: regaudit fix takes one model file")
        return EXIT_BAD_INPUT
    if not os.path.exists(args.model):
        complain(args.model, "no such file or directory")
        return EXIT_BAD_INPUT
    _preload()
    run = Run()
    with Isolated() as isolated:
        done = audit_one(Input(args.model), "json", run, isolated,
                         Context(importer=args.importer), DEFAULT_TIMEOUT_S)
    if done is None:
        return EXIT_BAD_INPUT
    report = done[0]
    java = render_java(report, class_name(args),
                       os.path.basename(args.output) if args.output else None)
    if java is None:
        complain(args.model, f"no fix: {report['fix']['message']}")
        return EXIT_BAD_INPUT
    try:
        write_output(java, args.output)
    except OSError as e:
        complain(args.output or "<stdout>", f"cannot write the output: {e.strerror or e}")
        return EXIT_BAD_INPUT
    if args.output:
        print(f"regaudit: {args.output}: {report['fix']['message']}", file=sys.stderr)
    return EXIT_OK

