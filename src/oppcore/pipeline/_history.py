"""Reading an opportunity's stage history: replay, time in stage, staleness, follow-ups."""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, overload

from oppcore import _calendars as calendars
from oppcore._calendars import WEEKENDS, BusinessCalendar
from oppcore._checks import aware
from oppcore._errors import TransitionError, ValidationError
from oppcore._models import Opportunity
from oppcore._records import StageChange

from ._cadence import step
from ._pipeline import Pipeline
from ._requirements import Violation
from ._stage import FollowUp
from ._transitions import move_violation

__all__ = ["is_stale", "next_follow_up", "replay", "stage_entered_at", "time_in_stage",
           "working_days"]

_T = TypeVar("_T", timedelta, int)


def _opp(value: Any) -> None:
    if not isinstance(value, Opportunity):
        raise ValidationError(f"opp must be an Opportunity, got {type(value).__name__}",
                              field="opp", value=value)


def replay(pipeline: Pipeline, history: Sequence[StageChange]) -> str:
    """Verify that ``history`` is a legal path through ``pipeline``; return the final stage.

    The first entry must have ``from_stage=None`` (creation or conversion) and enter a
    stage of the pipeline; each later entry must leave the stage the previous one entered,
    be a move the pipeline's policy allows, and not be dated before it. Entry requirements
    are not re-checked (they depended on the deal's data at the time; overrides are in the
    history).

    Args:
        pipeline: The pipeline the history should follow.
        history: The stage changes, oldest first (``opp.stage_history``).

    Returns:
        The id of the stage the history ends in.

    Raises:
        TransitionError: With a violation per illegal entry (code ``empty_history``,
            ``bad_first_entry``, ``unknown_stage``, ``broken_chain``, ``out_of_order``,
            or the policy's codes), each message naming the entry index.
    """
    given: object = history
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        raise ValidationError("history must be a sequence of StageChange", field="history",
                              value=history)
    if not history:
        raise TransitionError("cannot replay an empty history", [Violation(
            code="empty_history", message="the history has no entries")])
    found: list[Violation] = []
    index = pipeline._index
    current: str | None = None
    last_at: datetime | None = None
    entries: Sequence[object] = history
    for i, entry in enumerate(entries):
        if not isinstance(entry, StageChange):
            found.append(Violation(code="bad_entry", message=f"entry {i} is a "
                                   f"{type(entry).__name__}, not a StageChange"))
            break
        where = f"entry {i} ({entry.from_stage} -> {entry.to_stage})"
        if entry.to_stage not in index:
            found.append(Violation(code="unknown_stage", stage_id=entry.to_stage,
                                   message=f"{where}: pipeline {pipeline.id!r} has no "
                                   f"stage {entry.to_stage!r}"))
            break
        if i == 0:
            if entry.from_stage is not None:
                found.append(Violation(code="bad_first_entry", stage_id=entry.to_stage,
                                       message=f"{where}: the first entry must record "
                                       f"creation (from_stage None)"))
        elif entry.from_stage != current:
            found.append(Violation(code="broken_chain", stage_id=entry.to_stage,
                                   message=f"{where}: leaves {entry.from_stage!r} but the "
                                   f"deal was in {current!r}"))
        elif current is not None:
            illegal = move_violation(pipeline, index[current], index[entry.to_stage])
            if illegal is not None:
                found.append(Violation(code=illegal.code, stage_id=entry.to_stage,
                                       message=f"{where}: {illegal.message}"))
        if last_at is not None and entry.at < last_at:
            found.append(Violation(code="out_of_order", stage_id=entry.to_stage,
                                   message=f"{where}: dated before the previous entry"))
        current, last_at = entry.to_stage, entry.at
    if found:
        raise TransitionError(f"history is not a legal path through {pipeline.id!r}", found)
    assert current is not None  # the history is non-empty and every entry was read
    return current


def stage_entered_at(opp: Opportunity) -> datetime | None:
    """Return when ``opp`` entered its current stage, from its history.

    For a won or lost deal this is when it closed: the analytics (``closed_at``) and the
    calibration's split into earlier and later deals use this one function, so they agree.

    Returns:
        The time of the latest history entry into ``opp.stage_id``, or ``None`` when the
        history has no such entry.
    """
    _opp(opp)
    for entry in reversed(opp.stage_history):
        if entry.to_stage == opp.stage_id:
            return entry.at
    return None


@overload
def time_in_stage(opp: Opportunity, *, now: datetime, business_days: Literal[False] = ...,
                  calendar: None = ...) -> dict[str, timedelta]: ...


@overload
def time_in_stage(opp: Opportunity, *, now: datetime, business_days: Literal[True],
                  calendar: BusinessCalendar | str | None = ...) -> dict[str, int]: ...


def time_in_stage(opp: Opportunity, *, now: datetime, business_days: bool = False,
                  calendar: BusinessCalendar | str | None = None
                  ) -> dict[str, timedelta] | dict[str, int]:
    """Return the cumulative time ``opp`` spent in each stage it has been in, up to ``now``.

    Each history entry starts a stay that lasts until the next entry (or ``now`` for the
    current stay). A deal without history counts from ``created_at`` in its current stage.
    Stays that would be negative (``now`` before the entry) count as zero.

    With ``business_days=True`` each stay is counted in working days of ``calendar``, as a
    stale check with ``business_days`` counts them (:func:`is_stale`): the working days
    after the day the stay began, up to and including the day it ended, both days read in
    the zone of the entry. A stay within one day counts 0.

    Args:
        opp: The deal.
        now: The end of the current stay (timezone-aware).
        business_days: Count working days (whole days) instead of elapsed time.
        calendar: With ``business_days``, the calendar that says which days are working
            days: a :class:`~oppcore.calendars.BusinessCalendar`, or a name or file for
            :func:`oppcore.calendars.get` (``"CN"``); default ``"weekends"``. A pipeline's
            is ``pipeline.business_calendar``.

    Returns:
        Stage id -> total time (a ``timedelta``, or an ``int`` of working days with
        ``business_days``), in the order the stages were first entered.

    Raises:
        ValidationError: If ``now`` is not timezone-aware, ``business_days`` is not a bool,
            a calendar is given without ``business_days``, or a stay falls on days the
            calendar does not cover (``"CN"`` outside its years).
        ConfigError: For an unknown calendar name or an unreadable calendar file.
    """
    _opp(opp)
    aware(now, "now")
    if type(business_days) is not bool:
        raise ValidationError(f"business_days must be True or False, got {business_days!r}",
                              field="business_days", value=business_days)
    if not business_days:
        if calendar is not None:
            raise ValidationError("a calendar counts business days: pass business_days=True "
                                  "with it", field="calendar", value=calendar)
        return _sum_stays(opp, now, lambda start, end: end - start, timedelta(0))
    counter = _calendar(calendar)
    return _sum_stays(opp, now, lambda start, end: working_days(start, end, counter), 0)


def _calendar(value: BusinessCalendar | str | None) -> BusinessCalendar:
    if value is None:
        return WEEKENDS
    if isinstance(value, str):
        return calendars.get(value)
    if not isinstance(value, BusinessCalendar):
        raise ValidationError(f"calendar must be a BusinessCalendar or a calendar name, got "
                              f"{type(value).__name__}", field="calendar", value=value)
    return value


def working_days(start: datetime, end: datetime, calendar: BusinessCalendar) -> int:
    """Count the working days of ``calendar`` from the instant ``start`` to ``end``: the
    days after ``start``'s day up to and including ``end``'s day, both read in ``start``'s
    zone (0 if ``end`` is not on a later day). The one rule of stale checks and
    :func:`time_in_stage` in business days."""
    return calendar.working_days_between(start.date(),
                                         end.astimezone(start.tzinfo).date())


def _sum_stays(opp: Opportunity, now: datetime, length: Callable[[datetime, datetime], _T],
               zero: _T) -> dict[str, _T]:
    """Add up ``length(start, end)`` over the stays of ``opp``'s history, per stage (a
    stay that ends before it starts adds ``zero``)."""
    history: tuple[StageChange, ...] = opp.stage_history
    if not history:
        return {opp.stage_id: length(opp.created_at, now) if now > opp.created_at else zero}
    totals: dict[str, _T] = {}
    for entry, nxt in zip(history, (*history[1:], None), strict=True):
        end = now if nxt is None else min(nxt.at, now)
        stay = length(entry.at, end) if end > entry.at else zero
        totals[entry.to_stage] = totals.get(entry.to_stage, zero) + stay
    return totals


def _entered(opp: Opportunity) -> datetime:
    entered = stage_entered_at(opp)
    return opp.created_at if entered is None else entered


def _follow_up(pipeline: Pipeline, opp: Opportunity, now: datetime) -> FollowUp | None:
    """Check the arguments and return the follow-up rule of ``opp``'s current stage."""
    _opp(opp)
    aware(now, "now")
    if opp.pipeline_id != pipeline.id:
        # Pipelines often share stage ids ('won', 'lost'): looking the stage up anyway would
        # apply another pipeline's rules to the deal without a word.
        raise ValidationError(
            f"deal {opp.id!r} follows pipeline {opp.pipeline_id!r}, not {pipeline.id!r}",
            model="Opportunity", field="pipeline_id", value=opp.pipeline_id)
    return pipeline.stage(opp.stage_id).follow_up


def is_stale(pipeline: Pipeline, opp: Opportunity, *, now: datetime) -> bool:
    """Return whether ``opp`` has outstayed its stage's ``follow_up.max_days``.

    Days are counted from entering the stage (or creation) to ``now``; with
    ``business_days``, only working days of the pipeline's calendar count. A stage without
    ``max_days`` never goes stale.

    Raises:
        UnknownStageError: If the deal's stage is not in the pipeline.
        ValidationError: If ``now`` is not timezone-aware or the deal follows another
            pipeline.
    """
    follow = _follow_up(pipeline, opp, now)
    if follow is None or follow.max_days is None:
        return False
    entered = _entered(opp)
    if follow.business_days:
        return working_days(entered, now, pipeline.business_calendar) > follow.max_days
    return now - entered > timedelta(days=follow.max_days)


def next_follow_up(pipeline: Pipeline, opp: Opportunity, *, now: datetime) -> datetime | None:
    """Return when ``opp`` is next due a follow-up (see :meth:`Pipeline.next_follow_up`).

    Raises:
        UnknownStageError: If the deal's stage is not in the pipeline.
        ValidationError: If ``now`` is not timezone-aware or the deal follows another
            pipeline.
    """
    follow = _follow_up(pipeline, opp, now)
    if follow is None or follow.cadence_parts is None:
        return None
    base = _entered(opp)
    for activity in opp.activities:
        if base <= activity.at <= now:
            base = activity.at
    return step(base, follow.cadence_parts, business_days=follow.business_days,
                calendar=pipeline.business_calendar)
