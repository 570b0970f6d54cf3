"""The demo report in zh-CN, in a real headless Chromium: no clipped text, no tofu.

A CJK font must be installed (``.ci/run`` installs Debian's ``fonts-noto-cjk``). The browser
comes from the ``chromium`` fixture: without one the test skips on a developer's machine
and fails under ``CI=true``.
"""

import contextlib
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from oppcore._cli import main

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--window-size=1280,2000",
         "--virtual-time-budget=10000")

# Runs in the page after load. Clipping: no element cuts its text (overflow hidden or
# ellipsis with content wider than the box), no text sticks out of its section or card, no
# SVG label leaves its chart, the page never scrolls sideways. Tofu: each distinct
# non-ASCII character is drawn on a canvas in the page's font and compared with the glyph
# drawn for a code point no font has (U+10FFFD, private use): the same pixels, or none,
# mean the font has no glyph for it.
CHECK = "<script>\n" + (Path(__file__).parent / "fixtures" / "locale" / "check.js").read_text(
    encoding="utf-8") + "</script>\n"


def _run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("zh-browser")
    db, html = tmp / "demo.db", tmp / "report.html"
    _run("--locale", "zh-CN", "demo", "--db", str(db))
    _run("--locale", "zh-CN", "report", "--db", str(db), "--now", "2026-10-29T09:00+08:00",
         "--html", str(html))
    page = html.read_text("utf-8")
    assert "销售漏斗" in page  # the report really is in Chinese
    probe = tmp / "probe.html"
    probe.write_text(page.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp / 'profile'}",
                             "--dump-dom", probe.as_uri()],
                            capture_output=True, timeout=120, check=False, cwd=tmp)
    dom = result.stdout.decode("utf-8", "replace")
    match = re.search(r'<pre id="locale-check">(.*?)</pre>', dom, re.S)
    assert match, result.stderr.decode("utf-8", "replace")[-2000:]
    data: dict[str, object] = json.loads(match.group(1).replace("&quot;", '"')
                                         .replace("&amp;", "&").replace("&lt;", "<")
                                         .replace("&gt;", ">"))
    return data


def test_the_tofu_check_can_see_tofu(checked: dict[str, object]) -> None:
    # Two code points no font has draw the same .notdef box: the comparison works.
    assert checked["control"] is True


def test_every_character_of_the_zh_cn_report_has_a_glyph(checked: dict[str, object]) -> None:
    assert isinstance(checked["checked"], int) and checked["checked"] > 100
    assert checked["tofu"] == [], "characters drawn as tofu: install fonts-noto-cjk"
    assert checked["blank"] == []


def test_no_text_of_the_zh_cn_report_is_clipped(checked: dict[str, object]) -> None:
    assert checked["clipped"] == []
    assert checked["overflowX"] is False
