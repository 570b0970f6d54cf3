"""The CLI in zh-CN (``--locale``, ``OPPCORE_LOCALE``) and with ``--calendar``."""

import contextlib
import io
import re
from pathlib import Path

import pytest

from oppcore._cli import main
from oppcore.locale import active

CJK = re.compile(r"[\u4e00-\u9fff]")
NOW = "2026-10-29T09:00+08:00"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("zh") / "demo.db"
    code, out, err = run("--locale", "zh-CN", "demo", "--db", str(db))
    assert code == 0, err
    return db, out


def test_the_demo_speaks_chinese(demo: tuple[Path, str]) -> None:
    _, out = demo
    for phrase in ("oppcore 演示", "查重", "商机分析报告", "销售漏斗", "潜在客户识别",
                   "客户需求分析", "解决方案制定", "报价和合同", "2026年10月29日"):
        assert phrase in out, phrase
    # The refused move is explained in Chinese, with the stage's Chinese label.
    assert re.search(r"- \[\w+\] 进入“[^”]+”阶段前", out)
    assert active() == "en"  # the run left the process's locale alone


def test_report_text_and_html_in_zh_cn(demo: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo
    html = tmp_path / "r.html"
    code, out, err = run("--locale", "zh-CN", "report", "--db", str(db), "--now", NOW,
                         "--html", str(html))
    assert code == 0, err
    assert "已写入" in err
    page = html.read_text("utf-8")
    assert '<html lang="zh-CN">' in page
    for phrase in ("商机分析报告", "阶段转化率", "评分最高的在途商机", "停滞商机"):
        assert phrase in page
    code, out, _ = run("--locale", "zh-CN", "report", "--db", str(db), "--now", NOW)
    assert code == 0 and "销售流程：标准 B2B 销售流程" in out
    code, out, _ = run("report", "--db", str(db), "--now", NOW)
    assert code == 0 and not CJK.search(out.split("\n", 3)[2])  # English header line


def test_the_environment_variable_picks_the_locale(
        demo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = demo
    monkeypatch.setenv("OPPCORE_LOCALE", "zh_CN.UTF-8")
    code, out, _ = run("dedupe", "--db", str(db))
    assert code in (0, 1) and out.startswith("已检查")
    code, out, _ = run("--locale", "en", "dedupe", "--db", str(db))  # the flag wins
    assert out.startswith("checked")


@pytest.mark.parametrize("how", ["flag", "env"])
def test_an_unsupported_locale_is_a_usage_error(
        how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "env":
        monkeypatch.setenv("OPPCORE_LOCALE", "fr_FR")
        args: tuple[str, ...] = ("pipeline", "show", "standard")
    else:
        args = ("--locale", "fr", "pipeline", "show", "standard")
    code, out, err = run(*args)
    assert code == 2 and not out
    assert "no text for locale" in err and "zh-CN" in err


def test_pipeline_show_in_chinese() -> None:
    code, out, _ = run("--locale", "zh-CN", "pipeline", "show", "standard", "--no-mermaid")
    assert code == 0
    assert "标准 B2B 销售流程" in out and "报价和合同" in out


def test_calendar_flag_changes_stale_counts(demo: tuple[Path, str]) -> None:
    db, _ = demo
    # Over Golden Week 2026 the CN calendar counts fewer working days than weekends do,
    # so fewer deals of the business-day stages have outstayed their limit.
    args = ("report", "--db", str(db), "--now", "2026-10-09T09:00+08:00", "--format", "json")
    code, weekends, _ = run(*args, "--calendar", "weekends")
    assert code == 0
    code, cn, _ = run(*args, "--calendar", "CN")
    assert code == 0
    stale = re.compile(r'"stale": (\d+)')
    w, c = int(stale.search(weekends).group(1)), int(stale.search(cn).group(1))  # type: ignore[union-attr]
    assert c < w
    code, _, err = run(*args, "--calendar", "Mars")  # a configuration error: exit 2 (#12)
    assert code == 2 and "unknown calendar 'Mars'" in err


_STAGE_IDS = re.compile(r"\[(identification|needs_analysis|solution|quote_contract)\]")
_ZH_LABEL = re.compile(r"\[(潜在客户识别|客户需求分析|解决方案制定|报价和合同)\]")


def test_people_read_stage_labels_machines_read_ids(demo: tuple[Path, str]) -> None:
    db, out = demo
    # The demo names stages by their labels: the refused move and the top five.
    assert re.search(r"lead-\d+-opp -> (客户需求分析|解决方案制定|报价和合同)\n", out)
    assert len(_ZH_LABEL.findall(out)) >= 5 and not _STAGE_IDS.search(out)
    assert "（续约）" in out and "(renewal)" not in out  # created in zh-CN, named so
    code, zh, _ = run("--locale", "zh-CN", "score", "--db", str(db), "--now", NOW)
    assert code == 0 and _ZH_LABEL.search(zh) and not _STAGE_IDS.search(zh)
    code, en, _ = run("score", "--db", str(db), "--now", NOW)
    assert code == 0 and "[Lead identification]" in en and not _STAGE_IDS.search(en)
    # What a program reads keeps the stable ids, whatever the locale.
    code, data, _ = run("--locale", "zh-CN", "report", "--db", str(db), "--now", NOW,
                        "--format", "json")
    assert code == 0 and '"identification"' in data
    code, data, _ = run("--locale", "zh-CN", "report", "--db", str(db), "--now", NOW,
                        "--format", "csv")
    assert code == 0 and "identification" in data


def test_the_forecast_chart_names_its_overdue_period_in_chinese(
        demo: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo
    pages = {}
    for locale in ("en", "zh-CN"):
        page = tmp_path / f"{locale}.html"
        code, _out, err = run("--locale", locale, "report", "--db", str(db), "--now", NOW,
                              "--html", str(page))
        assert code == 0, err
        pages[locale] = page.read_text("utf-8")
    # The chart's axis, tooltips and accessible label, as the text report's table.
    assert ">overdue<" in pages["en"] and "overdue: won" in pages["en"]
    assert "overdue" not in pages["zh-CN"]
    assert ">已逾期<" in pages["zh-CN"] and "已逾期: 赢单" in pages["zh-CN"]
