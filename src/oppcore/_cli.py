"""The ``oppcore`` command.

Exit codes: 0 success, 1 data errors found, 2 usage errors. Errors go to stderr, one
readable line each.
"""

import argparse
import sys
from collections.abc import Callable, Sequence

from ._errors import OppcoreError
from ._version import __version__

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(db=args.db, out=sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``oppcore`` command."""
    parser = argparse.ArgumentParser(
        prog="oppcore",
        description="Opportunity management toolkit: demo, import, score, report.",
        epilog="Example: oppcore demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"oppcore {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run the end-to-end demo on a sample pipeline",
        description="Build a sample pipeline and walk it through oppcore's flow.",
        epilog="Example:\n  oppcore demo\n  oppcore demo --db /tmp/demo.db",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--db", help="SQLite file to write (default: a temporary directory)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``oppcore`` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except OppcoreError as exc:
        message = str(exc).replace("\n", "; ")
        print(f"oppcore: error: {message}", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        print("oppcore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
