"""Violations and match reasons in the reader's language, from their stable codes.

The core writes every violation's ``message`` in English at the moment it finds it. Its
``code`` (and ``stage_id``, ``field``, ``requirement``) is the translatable data: a
locale's sentence is looked up by code and filled from those attributes. A code with no
sentence here (a host's own requirement) keeps its original message.
"""

from collections.abc import Mapping
from typing import Any, Final, Protocol, cast

from ._catalog import DEFAULT, N_, active, normalize, use
from ._catalog import _ as gettext
from ._reasons import translate_reason

__all__ = ["VIOLATION_MESSAGES", "channel_label", "describe", "field_label"]


class _Violation(Protocol):
    code: str
    message: str
    stage_id: str | None
    field: str | None
    requirement: Any


class _Match(Protocol):
    code: str
    key: str

    @property
    def message(self) -> str: ...


class _Message(Protocol):
    @property
    def message(self) -> str: ...


class _Stages(Protocol):
    def __contains__(self, stage_id: object) -> bool: ...

    def stage(self, stage_id: str) -> Any: ...


VIOLATION_MESSAGES: Final[Mapping[str, str]] = {
    # TRANSLATORS: {field} is a deal field, {stage} a stage label.
    "missing_field": N_("Fill in {field} before moving to {stage}."),
    "missing_qualification": N_("Find out the customer's {field} before moving to {stage}."),
    "budget_not_confirmed": N_("Get the budget confirmed before moving to {stage}."),
    # TRANSLATORS: {activity} is a kind of activity ("needs-analysis session").
    "missing_activity": N_("Log a {activity} before moving to {stage}."),
    # TRANSLATORS: {statuses} lists quote statuses ("sent or accepted").
    "missing_quote": N_("A quote must be {statuses} before moving to {stage}."),
    "missing_lost_reason": N_("Give the reason the deal was lost."),
    "invalid_lost_reason": N_("Choose a lost reason from the list: {reasons}."),
    "guard_failed": N_("A check of your company refused the move to {stage}."),
    "same_stage": N_("The deal is already in {stage}."),
    "transition_not_allowed": N_("Moving the deal to {stage} is not allowed."),
    "terminal_stage": N_("The deal is closed; a closed deal cannot move to {stage}."),
    "reopen_not_allowed": N_("Lost deals cannot be reopened (to {stage})."),
    "skip_not_allowed": N_("The deal cannot skip stages on its way to {stage}."),
    "backward_not_allowed": N_("The deal cannot move back to {stage}."),
    "wrong_pipeline": N_("The deal follows another pipeline."),
    "unknown_stage": N_("The pipeline has no stage {stage}."),
    "unknown_current_stage": N_("The deal's current stage is not in the pipeline."),
    "out_of_order": N_("The change is dated before the previous one."),
    "illegal_status_move": N_("The lead cannot change to that status."),
    "missing_reason": N_("Say why the lead is disqualified."),
}
"""The English source sentence of every code the core emits (the ``msgid``)."""

_FIELDS: Final[Mapping[str, str]] = {
    "account": N_("account"),
    "contacts": N_("contacts"),
    "amount": N_("amount"),
    "expected_close": N_("expected close date"),
    "owner": N_("owner"),
    "source": N_("source"),
    "qualification": N_("qualification"),
    "qualification.urgency": N_("urgency of the need"),
    "qualification.budget": N_("budget"),
    "qualification.decision": N_("decision process"),
    "qualification.competition": N_("competition"),
    "activities": N_("activities"),
    "quotes": N_("quotes"),
    "lost_reason": N_("lost reason"),
}

_ACTIVITIES: Final[Mapping[str, str]] = {
    "call": N_("call"), "email": N_("e-mail"), "meeting": N_("meeting"),
    "visit": N_("visit"), "demo": N_("demo"), "needs_analysis": N_("needs-analysis session"),
    "quote_sent": N_("sent quote"), "other": N_("activity"),
}

_QUOTE_STATUSES: Final[Mapping[str, str]] = {
    "draft": N_("drafted"), "sent": N_("sent"), "accepted": N_("accepted"),
    "rejected": N_("rejected"),
}

_LOST_REASONS: Final[Mapping[str, str]] = {
    "price": N_("price"), "competitor": N_("lost to a competitor"),
    "no_budget": N_("no budget"), "no_decision": N_("no decision"), "timing": N_("timing"),
    "product_fit": N_("product fit"), "other": N_("other"),
}

# The acquisition channels (oppcore.Channel values), in the words of the standard process.
_CHANNELS: Final[Mapping[str, str]] = {
    "event": N_("event"), "referral": N_("referral"), "online": N_("online"),
    "direct": N_("direct"), "other": N_("other"), "(none)": N_("(none)"),
}

MATCH_MESSAGES: Final[Mapping[str, str]] = {
    "credit_code": N_("same unified social credit code: {key}"),
    "external_key": N_("same external key: {key}"),
    "email": N_("same e-mail: {key}"),
    "phone": N_("same phone: {key}"),
    "company_name": N_("same company name: {key}"),
    "company_domain": N_("same company domain: {key}"),
    "name": N_("same name: {key}"),
}


def _or(items: list[str]) -> str:
    # TRANSLATORS: the separator of alternatives ("sent or accepted").
    return gettext(" or ").join(items)


def field_label(field: str, *, locale: str | None = None) -> str:
    """Return the reader's name of a deal field (``"amount"`` -> ``"金额"`` in zh-CN).

    A field oppcore has no name for is returned as it is.
    """
    with use(locale if locale is not None else DEFAULT):
        known = _FIELDS.get(field)
        return gettext(known) if known is not None else field


def channel_label(channel: str, *, locale: str | None = None) -> str:
    """Return the reader's name of an acquisition channel (``"referral"`` -> ``"客户推荐"``).

    ``locale`` defaults to the active locale; a value that is not a
    :class:`~oppcore.Channel` value is returned as it is.
    """
    with use(active() if locale is None else locale):
        known = _CHANNELS.get(channel)
        return gettext(known) if known is not None else channel


def _stage_label(stage_id: str | None, pipeline: _Stages | None) -> str:
    if stage_id is None:
        return ""
    if pipeline is not None and stage_id in pipeline:
        return f"“{pipeline.stage(stage_id).label}”"
    return f"“{stage_id}”"


def _known(table: Mapping[str, str], key: str) -> str:
    return gettext(table[key]) if key in table else key


def _values(violation: _Violation, pipeline: _Stages | None) -> dict[str, str]:
    req = violation.requirement
    field = violation.field or ""
    kind = getattr(getattr(req, "kind", None), "value", None)
    statuses = [getattr(s, "value", str(s)) for s in getattr(req, "statuses", ()) or ()]
    reasons = [str(r) for r in getattr(req, "reasons", ()) or ()]
    return {
        "stage": _stage_label(violation.stage_id, pipeline),
        "field": _known(_FIELDS, field),
        "activity": _known(_ACTIVITIES, kind) if kind else gettext("activity"),
        "statuses": _or([_known(_QUOTE_STATUSES, s) for s in statuses]),
        # TRANSLATORS: the separator of a list ("price, timing").
        "reasons": gettext(", ").join(_known(_LOST_REASONS, r) for r in reasons),
    }


def describe(item: _Violation | _Match | _Message, *, locale: str | None = None,
             pipeline: _Stages | None = None) -> str:
    """Return a violation's, duplicate match reason's or scoring reason's message in
    ``locale``.

    In English (the default) this is the item's own ``message``. In another locale a
    violation's sentence is the translation of its ``code`` (:data:`VIOLATION_MESSAGES`),
    filled with its stage (its label in ``pipeline`` when given), field and requirement; a
    scoring reason (a :class:`~oppcore.scoring.Reason`, a score's factor, a report's top
    reason) is translated with its figures when a built-in rule gave it. An item oppcore
    does not know keeps its own message.

    Args:
        item: A :class:`~oppcore.Violation`, a :class:`~oppcore.dedupe.MatchReason`, or
            anything with a scoring reason's ``message``.
        locale: ``"en"`` (default) or ``"zh-CN"``.
        pipeline: The pipeline the violation comes from, to name stages by their labels.

    Raises:
        ConfigError: For an unsupported locale.
    """
    name = normalize(locale)
    if name == DEFAULT:
        return item.message
    with use(name):
        if hasattr(item, "key"):
            match = cast(_Match, item)
            if match.code in MATCH_MESSAGES:
                return gettext(MATCH_MESSAGES[match.code]).format(key=repr(match.key))
            return match.message
        if not hasattr(item, "stage_id"):
            return translate_reason(item.message)  # a scoring reason or factor
        violation = cast(_Violation, item)
        template = VIOLATION_MESSAGES.get(violation.code)
        if template is None:
            return violation.message
        return gettext(template).format(**_values(violation, pipeline))
