"""The demo report in zh-CN, in a real headless Chromium: no clipped text, no tofu.

A CJK font must be installed (``.ci/run`` installs Debian's ``fonts-noto-cjk``). Without a
browser the test skips on a developer's machine and fails under ``CI=true``.
"""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from oppcore._cli import main

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((path for name in BROWSERS if (path := shutil.which(name))), None)
if BROWSER is None and os.environ.get("CI") == "true":  # pragma: no cover - CI guard
    raise RuntimeError("CI=true but no Chromium: .ci/run installs it (apt-get install chromium)")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH")
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
CHECK = r"""
<script>
window.addEventListener("load", async () => {
  await document.fonts.ready;
  const out = {clipped: [], tofu: [], blank: [], checked: 0, overflowX: false, control: false};
  const where = (el) => el.tagName.toLowerCase() + ": " + (el.textContent || "").trim().slice(0, 40);
  for (const el of document.querySelectorAll("main *")) {
    if (el.closest("svg") || el.classList.contains("sr-only") || el.closest(".sr-only")) continue;
    const cs = getComputedStyle(el);
    if ((cs.overflowX !== "visible" || cs.textOverflow === "ellipsis")
        && el.scrollWidth > el.clientWidth + 1) out.clipped.push(where(el));
  }
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const host = node.parentElement;
    if (!node.textContent.trim() || host.closest("svg") || host.closest(".sr-only")) continue;
    const box = host.closest("section, .card, header, footer").getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.left < box.left - 1 || r.right > box.right + 1) { out.clipped.push(where(host)); break; }
    }
  }
  for (const t of document.querySelectorAll("svg text")) {
    if (t.hasAttribute("transform")) continue;  // rotated month labels: checked by eye
    const vb = t.ownerSVGElement.viewBox.baseVal, b = t.getBBox();
    if (b.x < vb.x - 1 || b.x + b.width > vb.x + vb.width + 1) out.clipped.push("svg " + where(t));
  }
  out.overflowX = document.documentElement.scrollWidth > window.innerWidth;
  const canvas = document.createElement("canvas");
  canvas.width = 48; canvas.height = 48;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (ch) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = "32px " + font;
    ctx.fillStyle = "#000";
    ctx.fillText(ch, 4, 38);
    const data = ctx.getImageData(0, 0, 48, 48).data;
    let ink = 0, hash = 0;
    for (let i = 3; i < data.length; i += 4) { ink += data[i] > 0; hash = (hash * 31 + data[i]) | 0; }
    return [ink, hash];
  };
  const missing = draw("\u{10FFFD}");
  out.control = draw("\u{10FFFC}").join() === missing.join();
  const chars = new Set([...document.body.innerText].filter((c) => c.codePointAt(0) > 0x7f && /\S/.test(c)));
  for (const ch of chars) {
    out.checked += 1;
    const got = draw(ch);
    if (got.join() === missing.join()) out.tofu.push(ch);
    else if (got[0] === 0) out.blank.push(ch);
  }
  const pre = document.createElement("pre");
  pre.id = "locale-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("zh-browser")
    db, html = tmp / "demo.db", tmp / "report.html"
    _run("--locale", "zh-CN", "demo", "--db", str(db))
    _run("--locale", "zh-CN", "report", "--db", str(db), "--now", "2026-10-29T09:00+08:00",
         "--html", str(html))
    page = html.read_text("utf-8")
    assert "销售漏斗" in page  # the report really is in Chinese
    probe = tmp / "probe.html"
    probe.write_text(page.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    assert BROWSER is not None
    result = subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={tmp / 'profile'}",
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
