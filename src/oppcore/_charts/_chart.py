"""One drawn chart as a value: SVG text that Jupyter shows inline."""

import zlib
from collections.abc import Callable

import attrs

from ._draw import escape, svg

__all__ = ["Chart", "draw", "nothing_to_draw"]


@attrs.frozen(repr=False)
class Chart:
    """A chart of an analytics result, as one standalone SVG image.

    Returned by :meth:`Funnel.chart`, :meth:`WinRates.chart` and :meth:`Forecast.chart`:
    the same drawing as the HTML report's chart, carrying its own size, font and colours.
    A notebook shows it inline (``_repr_svg_``); ``str(chart)`` or :attr:`svg` is the SVG
    text, to write to a ``.svg`` file or embed in a page. No plotting library is used.

    Attributes:
        kind: ``"funnel"``, ``"conversion"``, ``"win_rate"`` or ``"forecast"``.
        svg: The ``<svg>`` element (UTF-8 text, user data escaped, no script).
    """

    kind: str
    svg: str

    def _repr_svg_(self) -> str:
        """Return the SVG text (what Jupyter and IPython display)."""
        return self.svg

    def __str__(self) -> str:
        """Return the SVG text."""
        return self.svg

    def __repr__(self) -> str:
        """Return a short description (the SVG text is :attr:`svg`)."""
        return f"Chart(kind={self.kind!r}, svg=<{len(self.svg)} characters>)"


def draw(kind: str, drawing: Callable[[str], str]) -> Chart:
    """Return the standalone chart ``drawing(uid)`` draws, with an id of its own content.

    Element ids must differ between charts shown on one page and stay the same for the same
    chart: the uid is a checksum of the drawing made with a placeholder uid.
    """
    uid = f"{zlib.crc32(drawing('0').encode('utf-8')):08x}"
    return Chart(kind=kind, svg=drawing(uid))


def nothing_to_draw(kind: str, message: str) -> Chart:
    """Return a chart that says why there is nothing to draw."""
    return draw(kind, lambda uid: svg(
        uid, message, 520, 30,
        f'<text x="0" y="20" font-size="13" class="muted">{escape(message)}</text>',
        standalone=True))
