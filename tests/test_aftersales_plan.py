"""After-sales plans: the model, the standard plan, loading from TOML, due dates and status."""

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Activity,
    ActivityKind,
    ConfigError,
    Opportunity,
    Pipeline,
    StageChange,
    SurveyScale,
    ValidationError,
)
from oppcore.aftersales import (
    STANDARD_PLAN,
    AfterSalesPlan,
    Anchor,
    PlannedTask,
    PlanTask,
    TaskStatus,
    plan,
)
from oppcore.pipeline._cadence import business_days_between

UTC = timezone.utc
STANDARD = Pipeline.template("standard")
WON_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def won(at: datetime = WON_AT, **fields: object) -> Opportunity:
    base = Opportunity(id="d1", name="Acme", pipeline_id="standard", stage_id="won",
                       created_at=at - timedelta(days=30),
                       stage_history=(StageChange(from_stage=None, to_stage="won", at=at,
                                                  by="u"),))
    return base.evolve(**fields) if fields else base


def survey(at: datetime, score: int, scale: SurveyScale = SurveyScale.NPS,
           task: str | None = None, aid: str = "s") -> Activity:
    return Activity(id=aid, kind=ActivityKind.SURVEY, at=at, by="u", scale=scale,
                    score=score, task=task)


def by_id(deal: Opportunity, now: datetime,
          pipeline: Pipeline = STANDARD) -> dict[str, PlannedTask]:
    return {t.task.id: t for t in plan(deal, pipeline, now=now)}


# --- the model -------------------------------------------------------------------------

def test_the_standard_template_carries_the_default_plan() -> None:
    assert STANDARD.aftersales is STANDARD_PLAN
    ids = [t.id for t in STANDARD_PLAN.tasks]
    assert ids == ["handover", "acceptance", "satisfaction_survey", "renewal_talk",
                   "referral_ask"]
    renewal = STANDARD_PLAN.task("renewal_talk")
    assert renewal is not None
    assert (renewal.anchor, renewal.offset_days) == (Anchor.CONTRACT_END, -60)
    assert Pipeline.template("simple").aftersales is None


def test_the_zh_cn_standard_template_names_the_plan_in_chinese_with_the_same_tasks() -> None:
    plan = Pipeline.template("standard", locale="zh-CN").aftersales
    assert plan is not None and plan.label == "售后服务"
    assert [(t.id, t.anchor, t.offset_days, t.kind) for t in plan.tasks] == \
        [(t.id, t.anchor, t.offset_days, t.kind) for t in STANDARD_PLAN.tasks]
    labels = {t.id: t.label for t in plan.tasks}
    assert labels["satisfaction_survey"] == "客户满意度调查"
    assert labels["referral_ask"] == "邀请客户推荐（推荐计划）"
    assert all(not any("a" <= c.lower() <= "z" for c in label) for label in labels.values())


def test_a_plan_refuses_duplicate_task_ids() -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        AfterSalesPlan(tasks=(PlanTask(id="a", label="A"), PlanTask(id="a", label="B")))


@pytest.mark.parametrize("offset", [3661, -3661, 1.5, True, "3"])
def test_a_task_offset_is_a_whole_number_of_days_in_range(offset: object) -> None:
    with pytest.raises(ValidationError, match="offset_days"):
        PlanTask(id="a", label="A", offset_days=offset)  # type: ignore[arg-type]


def test_a_pipeline_refuses_something_else_as_its_plan() -> None:
    data = STANDARD.to_dict()
    with pytest.raises(ConfigError, match="aftersales"):
        Pipeline(id="p", label="P", stages=STANDARD.stages,
                 aftersales=data["aftersales"])  # type: ignore[arg-type]


# --- configuration ---------------------------------------------------------------------

def test_the_plan_round_trips_through_plain_data() -> None:
    data = STANDARD.to_dict()
    assert data["aftersales"]["tasks"][3]["anchor"] == "contract_end"
    assert Pipeline.from_dict(data) == STANDARD


TOML = """
id = "svc"
label = "Service contracts"

[[stages]]
id = "open"
label = "Open"
probability = 0.5

[[stages]]
id = "won"
kind = "won"

[[stages]]
id = "lost"
kind = "lost"

[aftersales]
label = "售后服务"

[[aftersales.tasks]]
id = "kickoff"
label = "Kick-off call"
offset_days = 2
business_days = true
kind = "call"

[[aftersales.tasks]]
id = "renewal"
anchor = "contract_end"
offset_days = -90
"""


def test_a_toml_pipeline_defines_its_own_plan() -> None:
    p = Pipeline.from_toml(TOML)
    assert p.aftersales is not None
    assert p.aftersales.label == "售后服务"
    kickoff, renewal = p.aftersales.tasks
    assert (kickoff.business_days, kickoff.kind, kickoff.offset_days) == (
        True, ActivityKind.CALL, 2)
    assert renewal.label == "renewal"  # the id stands in for a missing label
    assert Pipeline.from_dict(p.to_dict()) == p


def test_every_problem_of_a_plan_is_listed() -> None:
    bad = TOML.replace('offset_days = 2', 'offset_days = 99999').replace(
        'kind = "call"', 'kind = "fax"\ncolour = "red"').replace(
        'anchor = "contract_end"', 'anchor = "someday"').replace(
        'id = "renewal"', 'id = "kickoff"')
    with pytest.raises(ConfigError) as info:
        Pipeline.from_toml(bad)
    paths = {path for path, _ in info.value.problems}
    assert {"aftersales.tasks[0].offset_days", "aftersales.tasks[0].kind",
            "aftersales.tasks[0].colour", "aftersales.tasks[1].anchor",
            "aftersales.tasks[1].id"} <= paths


@pytest.mark.parametrize(("table", "path"), [
    ('[aftersales]\ntasks = "all"', "aftersales.tasks"),
    ('[aftersales]\nlabel = ""', "aftersales.label"),
    ('[aftersales]\nsteps = []', "aftersales.steps"),
    ('[aftersales]\nlabel = 3', "aftersales.label"),
])
def test_a_malformed_plan_table_names_its_path(table: str, path: str) -> None:
    text = TOML[:TOML.index("[aftersales]")] + table
    with pytest.raises(ConfigError) as info:
        Pipeline.from_toml(text)
    assert path in {p for p, _ in info.value.problems}


def test_a_plan_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        Pipeline.from_toml("aftersales = 3\n" + TOML[:TOML.index("[aftersales]")])
    assert ("aftersales", "must be a table, got int") in info.value.problems


# --- due dates and status --------------------------------------------------------------

def test_due_dates_and_status_as_of_now() -> None:
    deal = won(contract_start=date(2026, 3, 5), contract_end=date(2027, 3, 4),
               activities=(Activity(id="h", kind=ActivityKind.MEETING, at=WON_AT, by="u",
                                    task="handover"),))
    tasks = by_id(deal, WON_AT + timedelta(days=20))
    handover, acceptance, surveyed, renewal, referral = (
        tasks[k] for k in ("handover", "acceptance", "satisfaction_survey", "renewal_talk",
                           "referral_ask"))
    assert (handover.status, handover.activity_id) == (TaskStatus.DONE, "h")
    assert acceptance.due == date(2026, 3, 16)
    assert acceptance.status is TaskStatus.OVERDUE
    assert acceptance.days_overdue == 6
    assert surveyed.status is TaskStatus.OPEN
    assert renewal.due == date(2027, 3, 4) - timedelta(days=60)
    assert referral.status is TaskStatus.WAITING and referral.due is None


def test_a_survey_completes_the_survey_task_and_a_good_one_starts_the_referral_ask() -> None:
    good = survey(WON_AT + timedelta(days=25), 9)
    tasks = by_id(won(activities=(good,)), WON_AT + timedelta(days=40))
    assert tasks["satisfaction_survey"].status is TaskStatus.DONE
    referral = tasks["referral_ask"]
    assert referral.due == good.at.date() + timedelta(days=7)
    assert referral.status is TaskStatus.OVERDUE


def test_a_poor_survey_does_not_start_the_referral_ask() -> None:
    tasks = by_id(won(activities=(survey(WON_AT + timedelta(days=5), 6),)),
                  WON_AT + timedelta(days=40))
    assert tasks["satisfaction_survey"].status is TaskStatus.DONE
    assert tasks["referral_ask"].status is TaskStatus.WAITING


def test_activities_before_the_win_or_after_now_do_not_complete_a_task() -> None:
    early = survey(WON_AT - timedelta(days=1), 10, aid="early")
    late = survey(WON_AT + timedelta(days=50), 10, aid="late")
    tasks = by_id(won(activities=(early, late)), WON_AT + timedelta(days=40))
    assert tasks["satisfaction_survey"].status is TaskStatus.OVERDUE


def test_open_deals_and_pipelines_without_a_plan_have_no_tasks() -> None:
    open_deal = won().evolve(stage_id="solution")
    assert plan(open_deal, STANDARD, now=WON_AT) == ()
    simple = Pipeline.template("simple")
    assert plan(won().evolve(pipeline_id="simple"), simple, now=WON_AT) == ()


def test_plan_refuses_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="now"):
        plan(won(), STANDARD, now=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="pipeline"):
        plan(won().evolve(pipeline_id="other"), STANDARD, now=WON_AT)
    with pytest.raises(ValidationError, match="deal"):
        plan("d1", STANDARD, now=WON_AT)  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------

@given(shift=st.integers(-2000, 2000), offset=st.integers(-400, 400))
def test_calendar_due_dates_move_with_the_win_date(shift: int, offset: int) -> None:
    pipeline = Pipeline(id="standard", label="S", stages=STANDARD.stages,
                        policy=STANDARD.policy,
                        aftersales=AfterSalesPlan(tasks=(
                            PlanTask(id="t", label="T", offset_days=offset),)))
    base = plan(won(), pipeline, now=WON_AT)[0].due
    moved_at = WON_AT + timedelta(days=shift)
    moved = plan(won(moved_at), pipeline, now=moved_at)[0].due
    assert base is not None and moved is not None
    assert (moved - base).days == shift


@given(shift=st.integers(0, 3000), offset=st.integers(-300, 300))
def test_business_day_due_dates_skip_weekends_and_count_weekdays(shift: int,
                                                                 offset: int) -> None:
    pipeline = Pipeline(id="standard", label="S", stages=STANDARD.stages,
                        policy=STANDARD.policy,
                        aftersales=AfterSalesPlan(tasks=(
                            PlanTask(id="t", label="T", offset_days=offset,
                                     business_days=True),)))
    at = WON_AT + timedelta(days=shift)
    due = plan(won(at), pipeline, now=at)[0].due
    assert due is not None and due.weekday() < 5
    start = at.date()
    if offset >= 0:
        # Weekdays in (start, due]: the offset, plus one when the count starts from the
        # Monday after a weekend win (the Monday itself is day 0).
        counted = business_days_between(start, due)
        assert counted == offset + (1 if start.weekday() >= 5 else 0)
    else:
        # Going back from a weekend counts from the Friday before, which is not in
        # (due, start]: either way the weekdays in between are the offset.
        assert business_days_between(due, start) == -offset
