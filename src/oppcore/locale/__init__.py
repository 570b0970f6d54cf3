"""Locales: oppcore's text in the reader's language (English by default, and zh-CN).

Everything a person reads has a zh-CN form: the built-in templates' labels and guidance
(``Pipeline.template("standard", locale="zh-CN")``), violation and duplicate-match
messages (:func:`describe`, from their stable codes), the report and the CLI
(``oppcore --locale zh-CN``, or ``OPPCORE_LOCALE``), and money and dates
(:func:`format_money`, :func:`format_date`, with optional 万/亿 units).

Translations are gettext catalogs shipped in the package and read with the standard
library's :mod:`gettext`; Babel is only a development tool (see the contributing notes in
the docs for the extract / update / compile commands). Rendering code picks the language
for a block with :func:`use`; functions that take ``locale=`` need no block.
"""

from oppcore._public import publish as _publish

from ._catalog import SUPPORTED, active, normalize, translation, use
from ._messages import VIOLATION_MESSAGES, channel_label, describe, field_label
from ._numbers import format_amount, format_date, format_money

__all__ = [
    "SUPPORTED",
    "VIOLATION_MESSAGES",
    "active",
    "channel_label",
    "describe",
    "field_label",
    "format_amount",
    "format_date",
    "format_money",
    "normalize",
    "translation",
    "use",
]

_publish(__name__, globals(), __all__)
