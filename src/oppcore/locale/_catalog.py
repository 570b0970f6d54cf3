"""Message catalogs: gettext at run time, the active locale in a context variable.

The library's own English text is the message id; a locale's ``.mo`` catalog, shipped in
the wheel under ``oppcore/locale/<ll_CC>/LC_MESSAGES/oppcore.mo``, gives its translation.
Catalogs are read on first use (never at import time) and cached.

Two ways to pick the language:

* explicitly, where a function takes ``locale=`` (``Pipeline.template("standard",
  locale="zh-CN")``, :func:`oppcore.locale.describe`, the formatters);
* for a block of rendering code (the report, the CLI), with :func:`use`: the locale is a
  :class:`contextvars.ContextVar`, so threads and asyncio tasks each keep their own.
"""

import contextlib
import contextvars
import functools
import gettext as _gettext
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from oppcore._errors import ConfigError

__all__ = [
    "DEFAULT",
    "DOMAIN",
    "SUPPORTED",
    "N_",
    "_",
    "active",
    "catalog_dir",
    "ngettext",
    "normalize",
    "pgettext",
    "translation",
    "use",
]

DOMAIN: Final = "oppcore"
DEFAULT: Final = "en"
SUPPORTED: Final = ("en", "zh-CN")
"""The locales oppcore ships text for (``"en"`` is the source language)."""

_ALIASES: Final = {
    "en": "en", "en-us": "en", "en-gb": "en", "c": "en", "posix": "en",
    "zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN",
}

_ACTIVE: contextvars.ContextVar[str] = contextvars.ContextVar("oppcore_locale",
                                                              default=DEFAULT)


def catalog_dir() -> Path:
    """The folder holding the compiled catalogs (``<ll_CC>/LC_MESSAGES/oppcore.mo``)."""
    return Path(__file__).parent


def normalize(locale: str | None) -> str:
    """Return the supported locale ``locale`` names (``"zh_CN.UTF-8"`` -> ``"zh-CN"``).

    ``None`` or an empty string gives the default, ``"en"``.

    Raises:
        ConfigError: For a locale oppcore has no text for.
    """
    if locale is None or not str(locale).strip():
        return DEFAULT
    if not isinstance(locale, str):
        raise ConfigError([("locale", f"must be a string, got {type(locale).__name__}")],
                          source="locale")
    key = locale.strip().split(".", 1)[0].split("@", 1)[0].replace("_", "-").lower()
    try:
        return _ALIASES[key]
    except KeyError:
        raise ConfigError([("locale", (f"no text for locale {locale!r} (supported: "
                                       f"{', '.join(SUPPORTED)})"))],
                          source="locale") from None


@functools.cache
def _load(locale: str) -> _gettext.NullTranslations:
    if locale == DEFAULT:
        return _gettext.NullTranslations()
    folder = locale.replace("-", "_")
    # fallback=False: a supported locale whose catalog is missing is a packaging bug.
    return _gettext.translation(DOMAIN, localedir=catalog_dir(), languages=[folder])


def translation(locale: str | None = None) -> _gettext.NullTranslations:
    """Return the gettext translations of ``locale`` (default: the active locale).

    Raises:
        ConfigError: For an unsupported locale.
    """
    return _load(active() if locale is None else normalize(locale))


def active() -> str:
    """Return the locale :func:`use` made active here (``"en"`` outside any)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def use(locale: str | None) -> Iterator[str]:
    """Make ``locale`` the active locale inside the ``with`` block; yield its name.

    Raises:
        ConfigError: For an unsupported locale.
    """
    token = _ACTIVE.set(normalize(locale))
    try:
        yield _ACTIVE.get()
    finally:
        _ACTIVE.reset(token)


def _(message: str) -> str:
    """Translate ``message`` into the active locale (the English text if it has none)."""
    if _ACTIVE.get() == DEFAULT:
        return message
    return _load(_ACTIVE.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate the form of a message that fits the count ``n`` into the active locale.

    English picks ``singular`` for 1 and ``plural`` otherwise; a catalog picks by its own
    ``Plural-Forms`` rule (zh-CN has one form for every count).
    """
    if _ACTIVE.get() == DEFAULT:
        return singular if n == 1 else plural
    return _load(_ACTIVE.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate ``message`` in ``context`` into the active locale."""
    if _ACTIVE.get() == DEFAULT:
        return message
    return _load(_ACTIVE.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translated where shown)."""
    return message
