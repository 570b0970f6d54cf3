"""The ``oppcore`` command.

Exit codes: **0** success, **1** data problems found (bad rows, duplicates, sync conflicts,
incomplete scores), **2** usage or configuration errors (bad arguments, missing files, an
unknown preset, an invalid pipeline, mapping or scorecard file). Errors go to
stderr, one readable line each.
"""

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from oppcore._errors import ConfigError, OppcoreError
from oppcore.locale._catalog import _, normalize, use

from ._common import UsageError, error
from ._language import argparse_speaks, requested_locale
from ._parser import build_parser

__all__ = ["EXIT_DATA", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2


def _run_demo(args: argparse.Namespace) -> int:
    # (Not named after the submodule: importing oppcore._cli._demo binds that name in this
    # package, which would replace a handler of the same name.)
    from ._demo import run_demo

    return run_demo(db=args.db, out=sys.stdout)


def _db_upgrade(args: argparse.Namespace) -> int:
    from ._db import cmd_db_upgrade

    return cmd_db_upgrade(args)


def _handler(name: str | None) -> Callable[[argparse.Namespace], int] | None:
    """The function a subcommand's ``handler`` name stands for (imported when run)."""
    if name is None:
        return None
    if name == "run_demo":
        return _run_demo
    if name == "db_upgrade":
        return _db_upgrade
    from . import _commands

    handler: Callable[[argparse.Namespace], int] = getattr(_commands, name)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``oppcore`` command; return its exit code.

    The language (``--locale``, else ``$OPPCORE_LOCALE``) is read first, so that the
    help, argparse's own words and the errors are in it too.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        locale = normalize(requested_locale(arguments, os.environ))
    except ConfigError as exc:
        error(exc.problems[0][1])
        return EXIT_USAGE
    with use(locale), argparse_speaks():
        return _run(arguments)


def _run(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(exc.code or 0)
    handler = _handler(getattr(args, "handler", None))
    if handler is None:
        (getattr(args, "subparser", None) or parser).print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    except ConfigError as exc:
        # A configuration error (preset, pipeline, mapping, scorecard): one line per
        # problem, each naming its path; exit 2 like any other usage error.
        error(_("{source}: {count} problem(s)").format(source=exc.source,
                                                       count=len(exc.problems)))
        for path, message in exc.problems:
            error(f"{exc.source}: {path or '<root>'}: {message}")
        return EXIT_USAGE
    except OppcoreError as exc:
        error(str(exc).replace("\n", "; "))
        return EXIT_DATA
    except OSError as exc:
        error(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        return EXIT_DATA
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        error(_("interrupted"))
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
