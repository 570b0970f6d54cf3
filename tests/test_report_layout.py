"""No chart text is clipped, and the stat cards never leave one card alone on a row (#13).

Measured in a real headless Chromium: a small script appended to the report's page (the
report itself has none) reads the bounding box of every ``<text>`` of every chart and of
its ``<svg>`` after layout, and writes what sticks out into the DOM, which
``--dump-dom`` prints. Bounding boxes, not string lengths: what the browser draws.

Two reports: the demo's, and a Maven-sized one (30 owners, 8,800 deals, thousands of
deals per source, so labels such as ``4238/6711`` are long). And the analytics results'
``chart()`` drawings, one of each kind, standalone on a page of their own (their own size,
font and colours, no report CSS). The browser comes from the ``chromium`` fixture (a
failure under ``CI=true`` when missing, a skip elsewhere).
"""

import io
import json
import re
import subprocess
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from oppcore import Channel, Money, Opportunity, Pipeline, Source, StageChange
from oppcore._report import build_report, render_html

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--virtual-time-budget=5000")
NOW = datetime(2018, 1, 1, tzinfo=timezone.utc)

MEASURE = """<script>
addEventListener("load", () => {
  const bad = [];
  let texts = 0;
  for (const svg of document.querySelectorAll("svg")) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll("text")) {
      const r = t.getBoundingClientRect();
      texts += 1;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 ||
          r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5) {
        bad.push(t.firstChild ? t.firstChild.textContent : "");
      }
    }
  }
  const tops = [...document.querySelectorAll(".card")].map(c => c.offsetTop);
  const rows = [...new Set(tops)].map(top => tops.filter(t => t === top).length);
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({charts: document.querySelectorAll("svg").length,
                                    texts, bad, rows});
  document.body.appendChild(out);
});
</script>"""


def _measure(browser: str, html: str, tmp: Path) -> dict[str, object]:
    page = tmp / "report.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    result = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,2000",
         "--dump-dom", page.as_uri()],
        capture_output=True, timeout=120, check=False, cwd=tmp)
    dom = result.stdout.decode("utf-8", "replace")
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, result.stderr.decode("utf-8", "replace")[-2000:]
    data: dict[str, object] = json.loads(found.group(1).replace("&quot;", '"')
                                         .replace("&amp;", "&").replace("&lt;", "<")
                                         .replace("&gt;", ">"))
    return data


def _maven_sized() -> list[Opportunity]:
    """8,800 deals of the ``simple`` pipeline, 30 owners, Maven's outcome mix."""
    owners = [f"Sales Agent {chr(65 + i % 26)}{i:02d} Featherstonehaugh" for i in range(30)]
    t0 = datetime(2017, 1, 1, tzinfo=timezone.utc)
    deals = []
    for i in range(8800):
        created = t0 + timedelta(days=i % 300)
        stage = "won" if i < 4238 else "lost" if i < 6711 else "engaging"
        history = [StageChange(from_stage=None, to_stage="engaging", at=created, by="x")]
        if stage != "engaging":
            history.append(StageChange(from_stage="engaging", to_stage=stage,
                                       at=created + timedelta(days=20 + i % 60), by="x"))
        deals.append(Opportunity(
            id=f"d{i:05d}", name=f"Deal {i}", pipeline_id="simple", stage_id=stage,
            created_at=created, owner=owners[i % 30], stage_history=tuple(history),
            amount=(Money(amount=Decimal(1000 + i), currency="USD")
                    if stage == "won" else None),
            source=Source(channel=Channel.ONLINE) if i < 6711 else None,
            lost_reason="price" if stage == "lost" else None))
    return deals


def _check(data: dict[str, object]) -> None:
    assert isinstance(data["charts"], int) and data["charts"] >= 4
    assert isinstance(data["texts"], int) and data["texts"] > 20
    assert data["bad"] == [], f"clipped chart text: {data['bad']}"
    rows = data["rows"]
    assert isinstance(rows, list) and rows
    assert len(rows) == 1 or rows[-1] > 1, f"a card alone on its row: {rows}"


def test_no_text_is_clipped_on_a_maven_sized_report(tmp_path: Path, chromium: str) -> None:
    report = build_report(_maven_sized(), Pipeline.template("simple"), now=NOW,
                          stale_after=90)
    assert ("online", 4238, 6711) in [(r.key, r.won, r.closed) for r in report.by_source]
    assert len(report.by_owner) == 30
    _check(_measure(chromium, render_html(report), tmp_path))


def test_no_text_is_clipped_on_the_demo(tmp_path: Path, chromium: str) -> None:
    from oppcore._cli._common import open_store
    from oppcore._cli._demo import REPORT_AT, run_demo
    from oppcore.scoring import Scorecard
    from oppcore.storage import query_all

    db = tmp_path / "demo.db"
    assert run_demo(db=str(db), out=io.StringIO()) == 0
    store = open_store(str(db))
    try:
        deals = list(query_all(store, Opportunity))
    finally:
        store.close()
    report = build_report(deals, Pipeline.template("standard"), now=REPORT_AT,
                          scorecard=Scorecard.default())
    _check(_measure(chromium, render_html(report), tmp_path))


def test_no_text_is_clipped_in_the_analytics_charts(tmp_path: Path, chromium: str) -> None:
    from oppcore import analytics

    deals, pipeline = _maven_sized(), Pipeline.template("simple")
    funnel = analytics.funnel(deals, pipeline)
    charts = [funnel.chart(pipeline=pipeline), funnel.chart("conversion", pipeline=pipeline),
              analytics.win_rate(deals, pipeline, by="source").chart(),
              analytics.win_rate(deals, pipeline, by="owner").chart(),
              analytics.forecast(deals, pipeline, period="month", now=NOW).chart()]
    assert [c.kind for c in charts] == ["funnel", "conversion", "win_rate", "win_rate",
                                        "forecast"]
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head><body>'
            + "".join(c._repr_svg_() for c in charts) + "</body></html>")
    data = _measure(chromium, page, tmp_path)
    assert data["charts"] == len(charts)
    assert isinstance(data["texts"], int) and data["texts"] > 40
    assert data["bad"] == [], f"clipped chart text: {data['bad']}"
