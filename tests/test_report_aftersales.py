"""The report's after-sales section: built from the deals, rendered as text and HTML."""

from datetime import date, datetime, timedelta, timezone

from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Channel,
    Money,
    Opportunity,
    Pipeline,
    Source,
    StageChange,
    SurveyScale,
)
from oppcore._report import build_report, render_html, render_text

UTC = timezone.utc
STANDARD = Pipeline.template("standard")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def won(oid: str, days_ago: int, **fields: object) -> Opportunity:
    at = NOW - timedelta(days=days_ago)
    return Opportunity(id=oid, name=f"Deal {oid}", pipeline_id="standard", stage_id="won",
                       created_at=at - timedelta(days=20), owner="li",
                       amount=Money.of("100.00", "CNY"),
                       stage_history=(StageChange(from_stage=None, to_stage="won", at=at,
                                                  by="u"),), **fields)  # type: ignore[arg-type]


def deals() -> list[Opportunity]:
    survey = Activity(id="s", kind=ActivityKind.SURVEY, at=NOW - timedelta(days=5), by="u",
                      scale=SurveyScale.NPS, score=10)
    return [
        won("a", 40, activities=(survey,), contract_end=NOW.date() + timedelta(days=30)),
        won("b", 100, contract_end=NOW.date() + timedelta(days=200)),  # beyond 90 days
        won("c", 2, contract_end=NOW.date() + timedelta(days=60), renewed_by="c2"),  # renewed
        won("<script>x</script>", 20, source=Source(channel=Channel.REFERRAL,
                                                      referrer="ACC-<1>"),
            account=Account(id="acc", name="Acme")),
    ]


def test_the_section_lists_overdue_tasks_renewals_due_and_referrers() -> None:
    report = build_report(deals(), STANDARD, now=NOW)
    section = report.aftersales
    assert section is not None
    # b won 100 days ago: hand-over, acceptance and survey are overdue; the oldest first.
    assert section.overdue[0].opportunity_id == "b"
    assert section.overdue[0].days_overdue == 100
    # c won two days ago: its hand-over (due on the day of the win) is late already.
    assert {t.opportunity_id for t in section.overdue} == {"a", "b", "c", "<script>x</script>"}
    assert [r.opportunity_id for r in section.renewals_due] == ["a"]
    assert (section.nps, section.nps_responses) == (100.0, 1)
    assert section.surveyed_share == 0.25
    (referrer,) = section.referrers
    assert (referrer.referrer, referrer.deals, referrer.won) == ("ACC-<1>", 1, 1)
    assert referrer.value_won == Money.of("100.00", "CNY")


def test_text_and_html_show_the_section_and_escape_user_text() -> None:
    report = build_report(deals(), STANDARD, now=NOW)
    text = render_text(report)
    assert "After-sales service" in text and "NPS 100 (1 answer)" in text  # one: singular
    assert "ACC-<1>                     1 deal     1 won" in text  # columns still line up
    assert "Renewals due in the next 90 days (1)" in text
    page = render_html(report)
    assert 'id="aftersales"' in page
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert "ACC-&lt;1&gt;" in page


def test_no_plan_no_section() -> None:
    simple = Pipeline.template("simple")
    deal = won("a", 3).evolve(pipeline_id="simple")
    report = build_report([deal], simple, now=NOW)
    assert report.aftersales is None
    assert "After-sales service" not in render_text(report)
    assert 'id="aftersales"' not in render_html(report)


def test_contract_dates_past_now_are_not_due() -> None:
    ended = won("z", 400, contract_end=date(2026, 1, 1))
    report = build_report([ended], STANDARD, now=NOW)
    assert report.aftersales is not None and report.aftersales.renewals_due == ()


def test_a_cut_name_is_marked_like_in_the_other_tables() -> None:
    long = "A deal whose name is far too long for its column"
    report = build_report([won("long", 100).evolve(name=long)], STANDARD, now=NOW)
    lines = [line for line in render_text(report).splitlines() if "A deal whose" in line]
    assert lines and all("\u2026" in line and "..." not in line for line in lines)
    ascii_lines = [line for line in render_text(report, unicode=False).splitlines()
                   if "A deal whose" in line]
    assert ascii_lines and all("..." in line for line in ascii_lines)
