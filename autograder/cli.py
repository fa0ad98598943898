"""The `autograder` command: a thin layer over the library functions, one per verb."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import commands, service_cli, settings
from .errors import AutograderError, ExitCode, refused_write

# The rest of the library is imported where used, not here (commands.py says why).


def main(argv: list[str] | None = None) -> int:
    # jsonschema (under nbformat) imports rfc3987_syntax when installed, building a
    # grammar for ~1 s; nbformat's schemas check no formats, so the command starts
    # without it.
    # None blocks the import; typeshed types sys.modules' values as modules only
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    parser = _parser()
    args = parser.parse_args(_course_first(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "verb", None):
        parser.print_help()
        return ExitCode.USAGE
    try:
        return int(args.verb(args) or ExitCode.OK)
    except AutograderError as error:
        return _fail(error)
    except KeyboardInterrupt:
        resume = (
            " (the same command with --resume grades the rest)"
            if getattr(args, "json", None)
            else ""
        )
        _say(f"interrupted; results written so far are kept{resume}")
        return 130
    # a bug of ours: one line, not a traceback, and what to do
    except Exception as error:
        # or a full disk under a write no verb reports itself
        if (refused := refused_write(error)) is not None:
            return _fail(refused)
        _say(
            f"internal error: {type(error).__name__}: {str(error)[:300]}; results "
            "written so far are kept; please report it (run with AUTOGRADER_DEBUG=1 "
            "for the traceback)"
        )
        if settings.debug():
            raise
        return int(ExitCode.INTERNAL)


def _course_first(argv: list[str]) -> list[str]:
    """`--course PATH` is the whole command's, written before the verb or after it
    (`autograder grade NAME --course PATH`): moved before it for argparse."""
    moved: list[str] = []
    rest = list(argv)
    i = 0
    while i < len(rest) and rest[i] != "--":  # after "--", nothing is an option
        if rest[i] == "--course" and i + 1 < len(rest):
            moved += rest[i : i + 2]
            del rest[i : i + 2]
        elif rest[i].startswith("--course="):
            moved.append(rest.pop(i))
        else:
            i += 1
    return moved + rest


def _fail(error: AutograderError) -> int:
    from rich.console import Console
    from rich.text import Text

    from .outputs.terminal import text

    # plain text: rich would take "[limits.timeout]" in a ConfigError for markup and
    # drop it
    Console(stderr=True).print(
        Text("error: ", style="bold red") + text(str(error)),
        highlight=False,
        soft_wrap=True,
    )
    return int(error.exit_code)


def _say(message: str) -> None:
    from rich.console import Console

    from .outputs.terminal import say

    say(Console(stderr=True), message)


def run() -> None:
    """The `autograder` command: `main`, then exit at once. Every result is written and
    every file, database and worker closed by then; tearing down the libraries imported
    (NumPy, pandas, pytest, SQLAlchemy) would only add 0.2 to 0.4 s to every command."""
    try:
        code = main()
    # argparse's --help and usage errors: it has printed what to say
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="course folder (default: found from here up)",
    )
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")

    release = verbs.add_parser(
        "release", help="generate the student version with nbgrader"
    )
    release.add_argument("assignment")
    release.set_defaults(verb=commands.cmd_release)

    grade = verbs.add_parser("grade", help="grade submitted notebooks")
    grade.add_argument("assignment")
    grade.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a notebook, a folder of notebooks, or nbgrader's submitted/ tree",
    )
    grade.add_argument("--json", type=Path, help="write the results as JSON here")
    grade.add_argument("--csv", type=Path, help="write one row per student as CSV here")
    grade.add_argument(
        "--gradebook",
        nargs="?",
        const="",
        metavar="URL",
        help=(
            "store the scores in nbgrader's gradebook (default URL: the course's "
            "gradebook.db)"
        ),
    )
    grade.add_argument(
        "--feedback",
        type=Path,
        metavar="DIR",
        help=(
            "write each student's feedback page to "
            "DIR/<student>/<assignment>/<notebook>.html"
        ),
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=(
            "grade N submissions at a time, each in its own grader process (default: "
            "cores)"
        ),
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=(
            "grade on the Dask cluster at ADDRESS (tls://HOST:8786); the course is "
            "sent to its workers"
        ),
    )
    for option, what in (
        ("ca-file", "the course CA's certificate"),
        ("cert", "our certificate, signed by that CA"),
        ("key", "our certificate's private key"),
    ):
        grade.add_argument(
            f"--tls-{option}",
            type=Path,
            metavar="PEM",
            help=f"with --scheduler tls://: {what} "
            "(default: Dask's distributed.comm.tls.*)",
        )
    grade.add_argument(
        "--resume",
        action="store_true",
        help=(
            "keep the finished results of an interrupted run with the same --json; "
            "grade the rest"
        ),
    )
    grade.set_defaults(verb=commands.cmd_grade)

    validate = verbs.add_parser(
        "validate", help="check the master scores full marks and the stubs 0"
    )
    validate.add_argument("assignment")
    validate.set_defaults(verb=commands.cmd_validate)

    doctor = verbs.add_parser(
        "doctor", help="show which protections grading gets on this machine"
    )
    doctor.set_defaults(verb=commands.cmd_doctor)

    gradescope = verbs.add_parser(
        "gradescope", help="build a Gradescope autograder zip for an assignment"
    )
    gradescope.add_argument("assignment")
    gradescope.add_argument(
        "-o", "--output", type=Path, default=Path("autograder.zip"), metavar="ZIP"
    )
    gradescope.set_defaults(verb=commands.cmd_gradescope)

    report = verbs.add_parser(
        "report", help="write the class report (HTML) from a results JSON"
    )
    report.add_argument("assignment")
    report.add_argument(
        "--json",
        type=Path,
        required=True,
        help="the results of `autograder grade --json`",
    )
    report.add_argument(
        "-o", "--output", type=Path, default=Path("report.html"), metavar="HTML"
    )
    report.set_defaults(verb=commands.cmd_report)

    new = verbs.add_parser(
        "new",
        help="start an assignment: master, reference, config and a first hidden test",
    )
    new.add_argument("assignment")
    new.set_defaults(verb=commands.cmd_new)

    check = verbs.add_parser(
        "check", help="run an assignment's public checks on a notebook (for students)"
    )
    check.add_argument("notebook", type=Path)
    check.add_argument(
        "--assignment",
        help="the assignment (default: from the notebook's metadata or file name)",
    )
    check.set_defaults(verb=commands.cmd_check)

    service_cli.add_verbs(verbs)
    return parser
