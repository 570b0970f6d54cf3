"""Locales: the shipped catalogs are complete, and zh-CN reaches everything a person reads.

When a change adds or edits a message, run ``python tools/i18n.py`` (extract, update,
compile), translate the new entries and run this module again: it fails while a message of
the source has no translation in a shipped catalog.
"""

import gettext
import io
import itertools
import re
import subprocess
import sys
import threading
import tokenize
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcore import (
    ConfigError,
    Money,
    Opportunity,
    Pipeline,
    Scorecard,
    TransitionError,
    ValidationError,
)
from oppcore.dedupe import MatchReason
from oppcore.locale import (
    SUPPORTED,
    VIOLATION_MESSAGES,
    active,
    describe,
    field_label,
    format_amount,
    format_date,
    format_money,
    normalize,
    translation,
    use,
)
from oppcore.locale._catalog import catalog_dir, ngettext
from oppcore.pipeline import Violation
from oppcore.scoring import Reason
from oppcore.testing.strategies import opportunities

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "oppcore"
SHIPPED = [loc for loc in SUPPORTED if loc != "en"]
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
UTC = timezone.utc


def _source_messages() -> tuple[set[str], set[tuple[str, str]]]:
    """Every message the source marks with ``_()`` or ``N_()``, and every singular and
    plural pair it marks with ``ngettext()`` (the keywords of tools/i18n.py)."""
    found = list(extract_from_dir(
        str(SRC), method_map=[("**.py", "python")], keywords=KEYWORDS,
        # Babel skips "_"-prefixed folders by default: oppcore's private packages are.
        directory_filter=lambda path: not Path(path).name.startswith((".", "__pycache__")),
    ))
    messages = {m for _file, _line, m, _comments, _context in found if isinstance(m, str) and m}
    plurals = {(m[0], m[1]) for _file, _line, m, _comments, _context in found
               if isinstance(m, tuple)}
    return messages, plurals


KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
MESSAGES, PLURALS = _source_messages()
COUNTS = (0, 1, 2, 5, 21)  # English: plural, singular, plural...


# --- the catalogs ------------------------------------------------------------------------

def test_the_source_has_the_messages_the_catalogs_are_checked_against() -> None:
    assert len(MESSAGES) > 150
    assert "Lead identification" in MESSAGES and "Funnel" in MESSAGES
    assert set(VIOLATION_MESSAGES.values()) <= MESSAGES


def test_the_tool_extracts_with_the_keywords_the_tests_check() -> None:
    tool = (ROOT / "tools" / "i18n.py").read_text(encoding="utf-8")
    assert '"_ N_ ngettext:1,2"' in tool
    assert len(PLURALS) >= 10
    one = "{deals} deal: {open} open, {won} won, {lost} lost   win rate {rate}   stale {stale}"
    assert (one, one.replace("deal:", "deals:")) in PLURALS


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_message_has_a_translation_in_every_shipped_catalog(locale: str) -> None:
    catalog = translation(locale)
    missing = sorted(m for m in MESSAGES if catalog.gettext(m) == m and not _same_ok(m))
    missing += sorted(p for p in PLURALS for n in COUNTS
                      if catalog.ngettext(p[0], p[1], n) in p)
    assert not missing, (f"{len(missing)} message(s) without a {locale} translation: run "
                         f"python tools/i18n.py and translate them: {missing[:10]}")


@pytest.mark.parametrize("pair", sorted(PLURALS))
def test_english_picks_the_singular_for_one_and_the_plural_otherwise(
        pair: tuple[str, str]) -> None:
    singular, plural = pair
    assert singular != plural
    assert sorted(PLACEHOLDER.findall(singular)) == sorted(PLACEHOLDER.findall(plural))
    with use("en"):
        assert [ngettext(singular, plural, n) for n in COUNTS] == \
            [plural, singular, plural, plural, plural]


def _same_ok(message: str) -> bool:
    # Nothing oppcore shows is the same in Chinese and English; a message made only of
    # placeholders and punctuation would be.
    return not re.search(r"[A-Za-z]", PLACEHOLDER.sub("", message))


@pytest.mark.parametrize("locale", SHIPPED)
def test_translations_keep_the_placeholders_of_their_message(locale: str) -> None:
    catalog = translation(locale)
    for message in MESSAGES:
        translated = catalog.gettext(message)
        assert sorted(PLACEHOLDER.findall(translated)) == \
            sorted(PLACEHOLDER.findall(message)), message
    for singular, plural in PLURALS:
        for n in COUNTS:
            translated = catalog.ngettext(singular, plural, n)
            assert sorted(PLACEHOLDER.findall(translated)) == \
                sorted(PLACEHOLDER.findall(plural)), (plural, n)


@pytest.mark.parametrize("locale", SHIPPED)
def test_the_compiled_catalog_matches_its_source(locale: str) -> None:
    folder = catalog_dir() / locale.replace("-", "_") / "LC_MESSAGES"
    with (folder / "oppcore.po").open("rb") as f:
        po = read_po(f)
    with (folder / "oppcore.mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    entries = {m.id: m.string for m in po if m.id and not m.pluralizable}
    assert entries, "empty catalog"
    stale = [k for k, v in entries.items() if mo.gettext(k) != (v or k)]
    stale += [m.id for m in po if m.pluralizable for n in COUNTS
              if mo.ngettext(m.id[0], m.id[1], n) != m.string[mo.plural(n)]]  # type: ignore[attr-defined]
    assert not stale, f"the .mo is older than the .po: run tools/i18n.py compile ({stale[:5]})"
    fuzzy = [m.id for m in po if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries need a translator's look: {fuzzy[:5]}"


def test_no_message_is_marked_inside_an_f_string() -> None:
    # Babel cannot see _() inside an f-string (Python < 3.12 tokenises it as one string):
    # such a message would silently never be translated.
    offenders = []
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    for path in SRC.rglob("*.py"):
        tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline))
        depth = 0
        for tok, after in itertools.pairwise(tokens):
            if tok.type == fstring_start:
                depth += 1
            elif tok.type == fstring_end:
                depth -= 1
            inside = (depth > 0 and tok.type == tokenize.NAME and tok.string in ("_", "N_")
                      and after.string == "(")
            # Before 3.12 an f-string is one STRING token with its expressions in it.
            old = (tok.type == tokenize.STRING and tok.string[:2].lower() in ("f'", 'f"')
                   and re.search(r"\b_\(|\bN_\(", tok.string))
            if inside or old:
                offenders.append(f"{path.relative_to(ROOT)}:{tok.start[0]}")
    assert not offenders, offenders


@pytest.mark.slow
def test_the_wheel_ships_the_compiled_catalogs_only(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w",
         str(tmp_path)], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("oppcore-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for locale in SHIPPED:
            mo = f"oppcore/locale/{locale.replace('-', '_')}/LC_MESSAGES/oppcore.mo"
            assert mo in names
            assert zf.read(mo) == (SRC.parent / mo).read_bytes()
    assert not [n for n in names if n.endswith((".po", ".pot"))]


# --- choosing a locale -------------------------------------------------------------------

@pytest.mark.parametrize(("given_", "expected"), [
    (None, "en"), ("", "en"), ("en_US.UTF-8", "en"), ("C", "en"), ("zh-CN", "zh-CN"),
    ("zh_CN.UTF-8", "zh-CN"), ("zh", "zh-CN"), ("zh-Hans", "zh-CN"), ("ZH_cn", "zh-CN"),
])
def test_locale_names_are_normalised(given_: str | None, expected: str) -> None:
    assert normalize(given_) == expected


@pytest.mark.parametrize("bad", ["fr-FR", "zh-TW", "klingon"])
def test_unsupported_locales_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="supported: en, zh-CN"):
        normalize(bad)
    with pytest.raises(ConfigError):
        Pipeline.template("standard", locale=bad)


def test_use_is_local_to_the_context_and_restored() -> None:
    seen: dict[str, str] = {}

    def other_thread() -> None:
        seen["thread"] = active()

    with use("zh-CN") as name:
        assert name == active() == "zh-CN"
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        with use(None):
            assert active() == "en"
        assert active() == "zh-CN"
    assert active() == "en"
    assert seen["thread"] == "en"  # a new thread starts in the default locale


# --- the standard template in zh-CN ------------------------------------------------------

SEED_STEPS = ("潜在客户识别", "客户需求分析", "解决方案制定", "报价和合同")


def test_the_zh_cn_standard_template_uses_the_process_vocabulary() -> None:
    en = Pipeline.template("standard")
    zh = Pipeline.template("standard", locale="zh-CN")
    assert [s.id for s in zh.stages] == [s.id for s in en.stages]
    assert tuple(s.label for s in zh.open_stages) == SEED_STEPS
    assert "售后服务" in zh.stage("won").guidance.summary
    assert "客户预算" in zh.stage("needs_analysis").guidance.summary
    assert zh.stage("needs_analysis").guidance.documents == ("客户需求分析表",)
    for a, b in zip(en.stages, zh.stages, strict=True):
        # Only text changes: the rules, requirements and key fields are the same.
        assert (a.kind, a.probability, a.forecast_category, a.requirements, a.follow_up,
                a.guidance.key_fields) == (b.kind, b.probability, b.forecast_category,
                                           b.requirements, b.follow_up, b.guidance.key_fields)
        assert a.label != b.label
        assert len(a.guidance.actions) == len(b.guidance.actions)
    assert en.policy == zh.policy
    assert Pipeline.template("standard", locale="en") == en
    assert Pipeline.template("standard", locale=None).stage("won").label == "Won"


def test_the_template_locale_does_not_leak_into_the_context() -> None:
    Pipeline.template("simple", locale="zh-CN")
    assert active() == "en"
    with use("zh-CN"):
        # An explicit argument, not the context, decides a pipeline's language.
        assert Pipeline.template("simple").stage("won").label == "Won"


# --- violations and match reasons --------------------------------------------------------

ZH = Pipeline.template("standard", locale="zh-CN")
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_a_refused_move_reads_in_chinese_with_stage_labels_and_field_names() -> None:
    deal = Opportunity(id="o1", name="D", pipeline_id="standard", stage_id="identification",
                       created_at=T0)
    with pytest.raises(TransitionError) as info:
        ZH.advance(deal, "needs_analysis", at=T0 + timedelta(days=1), by="u")
    texts = [describe(v, locale="zh-CN", pipeline=ZH) for v in info.value.violations]
    assert texts == ["进入“客户需求分析”阶段前，请先填写客户。",
                     "进入“客户需求分析”阶段前，请先填写联系人。"]
    english = [describe(v) for v in info.value.violations]
    assert english == [v.message for v in info.value.violations]


def test_requirement_details_are_translated_too() -> None:
    deal = Opportunity(id="o1", name="D", pipeline_id="standard", stage_id="lost",
                       created_at=T0)
    reasons = ZH.stage("lost").requirements[0]
    (missing,) = reasons.violations(deal, ZH.stage("lost"), at=T0, reason="foo",
                                    guards=ZH.guards)
    assert missing.code == "invalid_lost_reason"
    assert describe(missing, locale="zh-CN") == (
        "请从以下输单原因中选择：价格、输给竞争对手、没有预算、客户迟迟未决策、时机不合适、"
        "产品不匹配、其他。")
    quote = ZH.stage("quote_contract").requirements[1]
    (no_quote,) = quote.violations(deal, ZH.stage("quote_contract"), at=T0, reason=None,
                                   guards=ZH.guards)
    assert describe(no_quote, locale="zh-CN", pipeline=ZH) == \
        "进入“报价和合同”阶段前，报价单须为已发送或已接受状态。"


@given(code=st.sampled_from(sorted(VIOLATION_MESSAGES)),
       stage=st.sampled_from([s.id for s in ZH.stages] + ["nowhere"]),
       field=st.sampled_from(["amount", "account", "qualification.budget", "custom.x", None]))
def test_every_known_code_reads_as_a_filled_chinese_sentence(
        code: str, stage: str, field: str | None) -> None:
    v = Violation(code=code, message="english", stage_id=stage, field=field)
    text = describe(v, locale="zh-CN", pipeline=ZH)
    assert text != "english"
    assert re.search(r"[\u4e00-\u9fff]", text)
    assert "{" not in text and "}" not in text


def test_unknown_codes_keep_their_own_message() -> None:
    v = Violation(code="credit_check", message="the credit check failed")
    assert describe(v, locale="zh-CN") == "the credit check failed"


def test_match_reasons_are_translated() -> None:
    reason = MatchReason(code="phone", weight=0.7, key="+8613800138000")
    assert describe(reason) == reason.message
    assert describe(reason, locale="zh-CN") == "电话相同：'+8613800138000'"


def test_field_labels() -> None:
    assert field_label("expected_close", locale="zh-CN") == "预计成交日期"
    assert field_label("expected_close") == "expected close date"
    assert field_label("custom.region", locale="zh-CN") == "custom.region"


# --- money and dates ---------------------------------------------------------------------

@pytest.mark.parametrize(("money", "en", "zh"), [
    (Money.of("12345.5", "CNY"), "CNY 12,345.50", "¥12,345.50"),
    (Money.of("-12345.5", "CNY"), "CNY -12,345.50", "-¥12,345.50"),
    (Money.of("1234", "JPY"), "JPY 1,234", "JP¥1,234"),
    (Money.of("1234.5", "KWD"), "KWD 1,234.500", "KWD 1,234.500"),
    (Money.of("99.99", "USD"), "USD 99.99", "US$99.99"),
    (Money.of("0.5", "EUR"), "EUR 0.50", "€0.50"),
])
def test_money_uses_the_minor_unit_and_the_locale(money: Money, en: str, zh: str) -> None:
    assert format_money(money) == en
    assert format_money(money, locale="zh-CN") == zh
    with use("zh-CN"):
        assert format_money(money) == zh
    assert format_money(None) == "-"


@pytest.mark.parametrize(("amount", "text"), [
    ("9999", "9,999.00"), ("12345", "1.23万"), ("1234567", "123.46万"),
    ("100000000", "1.00亿"), ("2345678901", "23.46亿"), ("-56789", "-5.68万"),
])
def test_wan_and_yi_units(amount: str, text: str) -> None:
    assert format_amount(Decimal(amount), "CNY", locale="zh-CN", units=True) == text
    assert format_money(Money.of(amount, "CNY"), locale="zh-CN", units=True) == \
        ("-¥" + text[1:] if text.startswith("-") else "¥" + text)
    # English has no such units.
    assert "万" not in format_amount(Decimal(amount), "CNY", locale="en", units=True)


@given(st.decimals(min_value=10_000, max_value=10**15, places=2))
def test_wan_units_round_trip_within_half_a_hundredth(value: Decimal) -> None:
    text = format_amount(value, "CNY", locale="zh-CN", units=True)
    number, unit = Decimal(text[:-1].replace(",", "")), text[-1]
    scale = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}[unit]
    assert abs(number * scale - value) <= scale / 200
    assert (unit == "亿") == (value >= 10**8)


def test_dates() -> None:
    assert format_date(date(2025, 10, 10)) == "2025-10-10"
    assert format_date(date(2025, 10, 10), locale="zh-CN") == "2025年10月10日"
    at = datetime(2025, 10, 10, 9, 30, 59, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    assert format_date(at, time=True) == "2025-10-10T09:30-03:30"
    assert format_date(at, time=True, locale="zh-CN") == "2025年10月10日 09:30（UTC-03:30）"
    with pytest.raises(ValidationError):
        format_date(date(2025, 10, 10), time=True)
    with pytest.raises(ValidationError):
        format_date(datetime(2025, 10, 10, 9, 30), time=True, locale="zh-CN")  # naive
    shanghai = timezone(timedelta(hours=8))
    assert format_date(datetime(2025, 10, 1, 0, 30, tzinfo=shanghai), locale="zh-CN") == \
        "2025年10月1日"


@pytest.mark.parametrize(("value", "en", "zh"), [
    (64_333_000, "64.3M", "6433.3万"), (4500, "4.5k", "4500"), (12_345, "12.3k", "1.2万"),
    (250_000_000, "250M", "2.5亿"), (0, "0", "0"),
])
def test_report_axis_labels_count_in_wan_and_yi_in_chinese(value: int, en: str, zh: str
                                                            ) -> None:
    from oppcore._report._format import compact

    assert compact(Decimal(value)) == en
    with use("zh-CN"):
        assert compact(Decimal(value)) == zh


# --- scoring reasons ---------------------------------------------------------------------

@settings(max_examples=60)
@given(opportunities(), st.datetimes(min_value=datetime(2020, 1, 1),
                                     max_value=datetime(2030, 1, 1), timezones=st.just(UTC)))
def test_every_reason_of_the_built_in_rules_is_translated(
        deal: Opportunity, now: datetime) -> None:
    score = Scorecard.default().score(deal, now=now)
    for contribution in score.contributions:
        for reason in contribution.reasons:
            text = describe(reason, locale="zh-CN")
            assert re.search(r"[\u4e00-\u9fff]", text), (reason.code, reason.message)
            assert describe(reason) == reason.message


@pytest.mark.parametrize(("message", "zh"), [
    ("customer deadline in 12 day(s)", "距客户截止日期还有 12 天"),
    ("our position against Acme Ltd.: trailing", "与 Acme Ltd. 相比我方：落后"),
    ("budget covers all of the deal amount", "预算覆盖商机金额的 全部"),
    ("customer states critical urgency", "客户表示需求紧迫程度：非常紧急"),
    ("a plugin's own reason", "a plugin's own reason"),
])
def test_reason_figures_and_words_are_carried_over(message: str, zh: str) -> None:
    reason = Reason(code="x", message=message)
    assert describe(reason, locale="zh-CN") == zh


def test_acquisition_channels_use_the_process_vocabulary() -> None:
    from oppcore import Channel
    from oppcore.locale import channel_label

    names = {c.value: channel_label(c.value, locale="zh-CN") for c in Channel}
    assert names["event"] == "市场活动" and names["referral"] == "客户推荐"
    assert names["online"] == "网络推广"
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in names.values())
    assert channel_label("event") == "event"
    assert channel_label("trade fair", locale="zh-CN") == "trade fair"


def test_report_amounts_use_the_currency_minor_unit() -> None:
    from oppcore._report._format import amount, money

    assert amount(Decimal("1234.4"), "JPY") == "1,234"
    assert amount(Decimal("1234.4"), "KWD") == "1,234.400"
    assert amount(Decimal("1234.4")) == "1,234.40"
    assert money(Money.of("1234", "JPY")) == "JPY 1,234"
    with use("zh-CN"):
        assert money(Money.of("1234", "CNY")) == "¥1,234.00"
