"""The HTML report in a real headless Chromium: the DOM has the charts, the page paints.

The browser comes from the ``chromium`` fixture: without one the tests skip on a developer
machine and fail under ``CI=true`` (CI installs one: ``apt-get install chromium``).
"""

import struct
import subprocess
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oppcore import Pipeline, Scorecard
from oppcore._report import build_report, render_html

if TYPE_CHECKING:
    from conftest import SampleDeals

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=timezone.utc)
STANDARD = Pipeline.template("standard")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")
TIMEOUT = 90


def _chromium(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True, timeout=TIMEOUT, check=False, cwd=tmp,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, sample_deals: "SampleDeals") -> Path:
    tmp = tmp_path_factory.mktemp("report-browser")
    report = build_report(sample_deals(400, seed=21, now=NOW), STANDARD, now=NOW,
                          scorecard=Scorecard.default(), top=10)
    path = tmp / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def test_rendered_dom_has_the_charts_and_tables(page: Path, sample_deals: "SampleDeals",
                                                chromium: str) -> None:
    result = _chromium(chromium, page.parent, "--dump-dom", page.as_uri())
    dom = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    assert dom.count("<svg") >= 6  # funnel, conversion, two win rates, EUR and USD forecast
    for anchor in ('id="funnel"', 'id="conversion"', 'id="by-source"', 'id="by-owner"',
                   'id="forecast"', 'id="top"', 'id="stale"'):
        assert anchor in dom
    assert dom.count("<rect") > 30
    before, _, after = dom.partition('id="aftersales"')
    assert before.count("<table") == 3  # forecast totals, top deals, stale deals
    # The after-sales section: a table for each list that has rows, a note for the others.
    assert "After-sales service" in after
    assert after.count("<table") + after.count('class="empty"') == 3
    assert "<script" not in dom  # the hostile owner stayed text
    assert "&lt;script&gt;alert" in dom
    assert sample_deals.hostile_owner.startswith("<script>")
    assert "Stale deals (" in dom


def test_page_paints_something_real(page: Path, chromium: str) -> None:
    shot = page.parent / "shot.png"
    result = _chromium(chromium, page.parent, f"--screenshot={shot}", "--window-size=1280,2000",
                       page.as_uri())
    assert shot.exists(), result.stderr.decode("utf-8", "replace")[-2000:]
    assert shot.stat().st_size > 20_000
    width, height, colours, dark = _png_stats(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    assert colours > 50  # not one flat colour: text, bars, lines, antialiasing
    assert dark > 0.002  # some dark pixels (text) on the light page


def _png_stats(data: bytes) -> tuple[int, int, int, float]:
    """Return width, height, distinct sampled colours and the share of dark pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = depth = ctype = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert depth == 8
    assert ctype in (2, 6)  # RGB or RGBA
    channels = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    dark = sampled = 0
    offset = 0
    for y in range(height):
        kind = raw[offset]
        line = bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        _unfilter(kind, line, previous, channels)
        previous = line
        if y % 4:
            continue
        for x in range(0, stride, channels * 4):
            pixel = bytes(line[x:x + 3])
            colours.add(pixel)
            sampled += 1
            if sum(pixel) < 200:
                dark += 1
    return width, height, len(colours), dark / max(sampled, 1)


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    """Undo one PNG scanline filter in place (PNG spec, section 9)."""
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:
            corner = previous[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + predictor) & 0xFF
