"""The language the ``oppcore`` command speaks, settled before its parser is built.

Two jobs, both for ``oppcore --locale zh-CN ... --help`` to be Chinese throughout:

* :func:`requested_locale` reads ``--locale`` (or ``OPPCORE_LOCALE``) from the raw argument
  list, so that the parser's help strings, built in the active locale, are already
  translated when argparse prints them;
* :func:`argparse_speaks` makes argparse's own words ("usage:", "options", "the following
  arguments are required: ...") come from oppcore's catalog too;
* :class:`WideHelpFormatter` lays the help out for Chinese, whose characters take two
  terminal columns each (argparse measures with ``len``).

Why not the route the Python docs describe for translating argparse (a ``.mo`` file in
gettext's *global* text domain)? argparse looks its words up with ``gettext.gettext``,
which reads the process-wide domain (:func:`gettext.textdomain`) in the language of the
environment (``LANGUAGE``, ``LC_ALL``...). oppcore's CLI also runs in-process
(``main(argv)`` from tests or a host application): switching the global domain would move
the host's own messages to oppcore's catalog, and the language must follow ``--locale``,
not the environment. argparse reads its ``_`` and ``ngettext`` as module globals each time
it formats a message; this module puts one thin function in each place, once, that answers
from oppcore's catalog only inside :func:`argparse_speaks` (a context variable, so other
threads and tasks, and every argparse use outside oppcore's command, get exactly what they
got before). On a Python whose argparse has no such names, argparse's words stay English;
the command works the same.
"""

import argparse
import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final

from oppcore._report._format import width, wrap
from oppcore.locale._catalog import DEFAULT, N_, _, active

__all__ = ["ARGPARSE_MESSAGES", "LOCALE_OPTION", "WideHelpFormatter", "argparse_speaks",
           "requested_locale"]

LOCALE_OPTION: Final = "--locale"
ENVIRONMENT: Final = "OPPCORE_LOCALE"

# argparse's messages a user of the command can see (Python 3.10 to 3.13), marked here so
# that the catalog keeps them and tests/test_locale.py checks each has a translation.
# Messages that only report a bug in the parser itself (conflicting options, a bad
# ``dest=``) are left out: oppcore's parser has none. Singular and plural forms are two
# messages (Chinese has one form; see _ngettext).
ARGPARSE_MESSAGES: Final = (
    N_("usage: "),
    N_("%(heading)s:"),
    N_("positional arguments"),
    N_("options"),
    N_("subcommands"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_(" (default: %(default)s)"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("%(prog)s: warning: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("unrecognized arguments: %s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("expected %s argument"),
    N_("expected %s arguments"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("unexpected option string: %s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("argument '%(argument_name)s' is deprecated"),
    N_("option '%(option)s' is deprecated"),
    N_("command '%(parser_name)s' is deprecated"),
)

_SPEAKING: contextvars.ContextVar[bool] = contextvars.ContextVar("oppcore_argparse",
                                                                 default=False)
_INSTALL_LOCK = threading.Lock()


def requested_locale(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """Return the locale the command line asks for, before any parsing.

    ``--locale NAME`` or ``--locale=NAME`` among the options before the command name
    (where the parser accepts it, abbreviations included; the last one, as argparse reads
    it), else ``$OPPCORE_LOCALE``, else
    ``None``. A value is not checked here: the caller normalises it and reports a bad one.
    """
    found: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg == "--":
            break  # the command name (or the end of options): --locale comes before it
        option, equals, value = arg.partition("=")
        if len(option) > 2 and LOCALE_OPTION.startswith(option):
            if not equals:
                if i + 1 >= len(argv):
                    return None  # argparse reports the missing value
                i += 1
                value = argv[i]
            found = value  # the last one wins, as in argparse
        i += 1
    if found is not None:
        return found
    return environ.get(ENVIRONMENT) or None


def _gettext(original: Callable[[str], str]) -> Callable[[str], str]:
    def gettext(message: str) -> str:
        return _(message) if _SPEAKING.get() else original(message)

    return gettext


def _ngettext(original: Callable[[str, str, int], str]) -> Callable[[str, str, int], str]:
    def ngettext(singular: str, plural: str, n: int) -> str:
        if not _SPEAKING.get():
            return original(singular, plural, n)
        # The English rule picks the message id; each id has its own translation.
        return _(singular if n == 1 else plural)

    return ngettext


def _install() -> bool:
    """Put the locale-aware lookups in argparse once; return whether argparse has them."""
    with _INSTALL_LOCK:
        if getattr(argparse, "_oppcore_speaks", False):
            return True
        gettext, ngettext = getattr(argparse, "_", None), getattr(argparse, "ngettext", None)
        if not (callable(gettext) and callable(ngettext)):  # pragma: no cover - other Pythons
            return False
        argparse._ = _gettext(gettext)  # type: ignore[attr-defined]
        argparse.ngettext = _ngettext(ngettext)  # type: ignore[attr-defined]
        argparse._oppcore_speaks = True  # type: ignore[attr-defined]
        return True


@contextlib.contextmanager
def argparse_speaks() -> Iterator[None]:
    """Inside the block, argparse's own words are in oppcore's active locale.

    In English (argparse's own language) nothing is touched at all.
    """
    if active() == DEFAULT:
        yield
        return
    _install()
    token = _SPEAKING.set(True)
    try:
        yield
    finally:
        _SPEAKING.reset(token)


class WideHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help, laid out for text whose characters take two columns (Chinese).

    argparse aligns the help column and wraps text by ``len``, which counts a Chinese
    character as one column and finds no spaces to break Chinese text at: columns drift and
    lines run past the terminal. Here each option's help starts on the line below it (no
    column to align), and text wraps by display width (the report's :func:`wrap`, which
    breaks between Chinese characters and keeps closing punctuation on its line).
    Descriptions and epilogs keep their line breaks, as with the English formatter.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 6,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, width)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(" ".join(text.split()), width) or [""]

    def _fill_text(self, text: str, width_: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            fits = width(line) <= width_ - len(indent) or line.startswith(" ")
            lines.extend([line] if fits else wrap(line, width_ - len(indent)))
        return "\n".join(indent + line for line in lines)
