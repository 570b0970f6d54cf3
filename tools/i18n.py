"""Refresh oppcore's message catalogs with Babel (a development tool, not a runtime need).

    python tools/i18n.py            # extract -> update -> compile, in that order
    python tools/i18n.py extract    # only rewrite src/oppcore/locale/oppcore.pot
    python tools/i18n.py compile    # only rebuild the .mo files from the .po files

After ``update``, translate the new or fuzzy entries in
``src/oppcore/locale/<ll_CC>/LC_MESSAGES/oppcore.po``, then run ``compile`` (or the whole
script again) and ``pytest tests/test_locale.py``: it fails while any message of the
source lacks a translation in a shipped catalog, or a .mo file is older than its .po.
"""

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "src" / "oppcore" / "locale"
POT = LOCALE_DIR / "oppcore.pot"
LOCALES = ("zh_CN",)

# The same keywords tests/test_locale.py extracts with: _() translates, N_() only marks,
# ngettext(singular, plural, n) picks the form that fits a count.
EXTRACT = [
    "pybabel", "extract", "--mapping-file", str(ROOT / "babel.cfg"),
    "--keywords", "_ N_ ngettext:1,2", "--add-comments", "TRANSLATORS:", "--no-location",
    "--sort-output", "--project", "oppcore", "--copyright-holder", "oppcore developers",
    # Babel skips folders starting with "_" by default; oppcore's private packages do.
    "--ignore-dirs", ".* __pycache__",
    "--output-file", str(POT), str(ROOT / "src"),
]


def _run(argv: list[str]) -> None:
    CommandLineInterface().run(argv)


def main(steps: list[str]) -> None:
    """Run the named steps (all three by default)."""
    for step in steps or ["extract", "update", "compile"]:
        if step == "extract":
            _run(EXTRACT)
        elif step == "update":
            for locale in LOCALES:
                _run(["pybabel", "update", "--input-file", str(POT), "--domain", "oppcore",
                      "--output-dir", str(LOCALE_DIR), "--locale", locale, "--no-wrap",
                      "--ignore-obsolete"])
        elif step == "compile":
            _run(["pybabel", "compile", "--directory", str(LOCALE_DIR), "--domain",
                  "oppcore", "--statistics"])
        else:
            raise SystemExit(f"unknown step {step!r}: extract, update or compile")


if __name__ == "__main__":
    main(sys.argv[1:])
