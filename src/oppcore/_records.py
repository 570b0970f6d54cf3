"""Records attached to an opportunity: activities, quotes, and stage-history entries."""

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Final

import attrs

from ._check_table import Checks
from ._checks import Bounds, check_bounds, fail, in_bounds
from ._errors import ValidationError
from ._money import (
    CURRENCY_MINOR_UNITS,
    MAX_EXPONENT,
    Money,
    exact_mul,
    round_minor,
    to_decimal,
)

__all__ = [
    "Activity",
    "ActivityKind",
    "SurveyScale",
    "Quote",
    "QuoteLine",
    "QuoteStatus",
    "StageChange",
]


class ActivityKind(str, enum.Enum):
    """What kind of follow-up touch an activity was."""

    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    DEMO = "demo"
    NEEDS_ANALYSIS = "needs_analysis"
    """The needs-analysis (requirements) session; some stages require one."""
    QUOTE_SENT = "quote_sent"
    SURVEY = "survey"
    """A satisfaction survey (客户满意度调查): carries a ``score`` on a ``scale``."""
    OTHER = "other"


class SurveyScale(str, enum.Enum):
    """The declared scale of a satisfaction survey's score."""

    CSAT = "csat"
    """Customer satisfaction: a whole number from 1 (very dissatisfied) to 5 (very
    satisfied)."""
    NPS = "nps"
    """Net Promoter Score question: a whole number from 0 to 10 (9-10 promoters, 7-8
    passives, 0-6 detractors)."""

    @property
    def low(self) -> int:
        """The lowest score of the scale."""
        return 1 if self is SurveyScale.CSAT else 0

    @property
    def high(self) -> int:
        """The highest score of the scale."""
        return 5 if self is SurveyScale.CSAT else 10

    def is_good(self, score: int) -> bool:
        """Return whether ``score`` is a good answer: 4-5 in CSAT, a promoter (9-10) in NPS."""
        return score >= (4 if self is SurveyScale.CSAT else 9)


SURVEY_SCORE: Final = Bounds(0, 10, integer=True, kind=int)
"""A survey score: a whole number in [0, 10], the union of the scales; the scale's own range
is a cross-field rule (:class:`SurveyScale`)."""


def _survey_fields_agree(activity: Any) -> None:
    """A score is a whole number in :data:`SURVEY_SCORE`; a survey has a scale and a score
    within it; other kinds carry neither."""
    if activity.score is not None:
        check_bounds(activity)  # the field's declared bounds (they may normalise it)
    score, scale = activity.score, activity.scale
    if activity.kind is ActivityKind.SURVEY:
        if scale is None or score is None:
            missing = "scale" if scale is None else "score"
            fail(activity, missing, "a survey needs a scale (csat or nps) and a score",
                 None)
        if not scale.low <= score <= scale.high:
            fail(activity, "score", f"must be an integer in [{scale.low}, {scale.high}] on "
                 f"the {scale.value} scale, got {score!r}", score)
    elif score is not None or scale is not None:
        name = "score" if score is not None else "scale"
        fail(activity, name, f"only a survey activity carries a {name} (kind is "
             f"{activity.kind.value!r})", getattr(activity, name))


_ACTIVITY = Checks(
    rules=(_survey_fields_agree,),
    text=("id", "by"),
    aware=("at",),
    instances=(("kind", (ActivityKind,)), ("summary", (str,)),
               ("scale", (SurveyScale, type(None)))),
    optional_text=("outcome", "next_step", "task"),
    optional_date=("next_step_due",),
)


@attrs.frozen(kw_only=True)
class Activity:
    """One follow-up touch with the customer.

    Args:
        id: Stable identifier.
        kind: Call, email, meeting, visit, demo, needs analysis, quote sent or other.
        at: When it happened (timezone-aware).
        by: Who did it (a user id of the host application).
        summary: What happened.
        outcome: The result, if any.
        next_step: The agreed next step.
        next_step_due: When the next step is due.
        task: The after-sales task this activity completes (a task id of the pipeline's
            after-sales plan), or ``None``.
        score: A survey's score, a whole number on its ``scale`` (surveys only).
        scale: A survey's declared scale, CSAT 1-5 or NPS 0-10 (surveys only).

    Raises:
        ValidationError: A field has the wrong type; a survey lacks its scale or score, or
            the score is outside the scale; another kind carries a score or scale.
    """

    id: str
    kind: ActivityKind
    at: datetime
    by: str
    summary: str = ""
    outcome: str | None = None
    next_step: str | None = None
    next_step_due: date | None = None
    task: str | None = None
    score: int | None = attrs.field(default=None, metadata=in_bounds(SURVEY_SCORE))
    scale: SurveyScale | None = None

    __oppcore_checks__: ClassVar[Checks] = _ACTIVITY

    def __attrs_post_init__(self) -> None:
        _ACTIVITY.run(self)


def _to_decimal(value: Decimal | int | str) -> Any:
    """Converter: an int or decimal string to ``Decimal``; anything else passes for the check."""
    if type(value) is Decimal or isinstance(value, (bool, float)):
        return value
    if isinstance(value, (int, str)):
        try:
            return to_decimal(value)
        except ValidationError:
            return value
    return value


def _round(amount: Decimal, currency: str) -> Decimal:
    return round_minor(amount, currency)


_ZERO = Decimal(0)
_QUOTE_LINE = Checks(text=("product",), money=("unit_price",))
_QUANTITY: Final = Bounds(0, 1e18, kind=Decimal, low_exclusive=True)
_DISCOUNT: Final = Bounds(0, 1, kind=Decimal)
_TAX_RATE: Final = Bounds(0, 1e18, kind=Decimal)


def _as_is(value: Any, bounds: Bounds) -> bool:
    """Whether the decimal rules (:func:`~oppcore._money.to_decimal`) and ``bounds`` accept
    ``value`` as it is, without a call of either."""
    return (bounds.holds(value) and (not value or abs(value.adjusted()) <= MAX_EXPONENT))


@attrs.frozen(kw_only=True)
class QuoteLine:
    """One line of a quotation.

    Args:
        product: Product or service name (or SKU).
        quantity: How many units (> 0; fractions allowed for hours, metres...).
        unit_price: Price of one unit before discount and tax.
        discount: Discount as a fraction of the line's gross amount, in [0, 1].
        tax_rate: Tax rate as a fraction (``"0.13"`` for 13 % VAT), >= 0.

    Rounding rule (one rule, everywhere): each line's gross amount, discount and tax are
    rounded half-up to the currency's minor unit; a quote's figures are the sums of its
    rounded line figures. So a quote's total always equals the sum of the lines a customer
    sees on the document.
    """

    product: str
    quantity: Decimal = attrs.field(metadata=in_bounds(_QUANTITY), converter=_to_decimal)
    unit_price: Money
    discount: Decimal = attrs.field(metadata=in_bounds(_DISCOUNT), default=_ZERO,
                                    converter=_to_decimal)
    tax_rate: Decimal = attrs.field(metadata=in_bounds(_TAX_RATE), default=_ZERO,
                                    converter=_to_decimal)

    def __attrs_post_init__(self) -> None:
        _QUOTE_LINE.run(self)
        if self.unit_price is None:
            fail(self, "unit_price", "is required", None)
        if (_as_is(self.quantity, _QUANTITY) and _as_is(self.discount, _DISCOUNT)
                and _as_is(self.tax_rate, _TAX_RATE)):
            return  # the common case: the rules below would accept these values as they are
        for name in ("quantity", "discount", "tax_rate"):  # the decimal rules (range 10**18)
            value = getattr(self, name)
            if isinstance(value, (Decimal, str, int)) and type(value) is not bool:
                try:
                    to_decimal(value, what=name)
                except ValidationError as exc:
                    fail(self, name, str(exc), value)
        check_bounds(self)

    @property
    def currency(self) -> str:
        """The line's currency (that of its unit price)."""
        return self.unit_price.currency

    @property
    def gross(self) -> Money:
        """Quantity x unit price, rounded to the minor unit."""
        return Money(amount=_round(exact_mul(self.quantity, self.unit_price.amount),
                                   self.currency),
                     currency=self.currency)

    @property
    def discount_amount(self) -> Money:
        """The line's discount, rounded to the minor unit."""
        return Money(amount=_round(exact_mul(self.gross.amount, self.discount), self.currency),
                     currency=self.currency)

    @property
    def net(self) -> Money:
        """Gross minus discount."""
        return self.gross - self.discount_amount

    @property
    def tax(self) -> Money:
        """Tax on the net amount, rounded to the minor unit."""
        return Money(amount=_round(exact_mul(self.net.amount, self.tax_rate), self.currency),
                     currency=self.currency)

    @property
    def total(self) -> Money:
        """Net plus tax."""
        return self.net + self.tax


class QuoteStatus(str, enum.Enum):
    """Where a quotation stands."""

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def _currency_known(quote: Any) -> None:
    if quote.currency not in CURRENCY_MINOR_UNITS:
        fail(quote, "currency", f"unknown ISO 4217 currency code {quote.currency!r}",
             quote.currency)


def _lines_in_quote_currency(quote: Any) -> None:
    for i, line in enumerate(quote.lines):
        if line.currency != quote.currency:
            fail(quote, "lines", f"line {i} is in {line.currency}, the quote is in "
                 f"{quote.currency}", line)


_QUOTE = Checks(
    rules=(_currency_known, _lines_in_quote_currency),
    text=("id",),
    tuples=(("lines", (QuoteLine,)),),
    instances=(("currency", (str,)), ("status", (QuoteStatus,))),
    optional_date=("valid_until",),
    optional_aware=("sent_at",),
    optional_text=("note",),
)


@attrs.frozen(kw_only=True)
class Quote:
    """A quotation sent (or to be sent) to the customer.

    Args:
        id: Stable identifier (the quote number).
        currency: ISO 4217 code every line must use.
        lines: The quote lines.
        status: Draft, sent, accepted or rejected.
        valid_until: Last day the offer holds.
        sent_at: When it was sent, if it was.
        note: Free text (terms, conditions).

    Raises:
        ValidationError: If a line is in another currency than the quote.
    """

    id: str
    currency: str
    lines: tuple[QuoteLine, ...] = ()
    status: QuoteStatus = QuoteStatus.DRAFT
    valid_until: date | None = None
    sent_at: datetime | None = None
    note: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _QUOTE

    def __attrs_post_init__(self) -> None:
        _QUOTE.run(self)

    def _sum(self, part: str) -> Money:
        return sum((getattr(line, part) for line in self.lines), Money.zero(self.currency))

    @property
    def subtotal(self) -> Money:
        """Sum of the lines' gross amounts."""
        return self._sum("gross")

    @property
    def discount(self) -> Money:
        """Sum of the lines' discounts."""
        return self._sum("discount_amount")

    @property
    def tax(self) -> Money:
        """Sum of the lines' taxes."""
        return self._sum("tax")

    @property
    def total(self) -> Money:
        """Subtotal - discount + tax (equal to the sum of the line totals)."""
        return self._sum("total")


_STAGE_CHANGE = Checks(
    text=("to_stage", "by"),
    optional_text=("from_stage", "reason", "override"),
    aware=("at",),
)


@attrs.frozen(kw_only=True)
class StageChange:
    """One entry of an opportunity's append-only stage history.

    Args:
        from_stage: The stage left, or ``None`` for the entry that created the deal.
        to_stage: The stage entered.
        at: When the move happened.
        by: Who moved it.
        reason: Why (a lost reason for a move to a lost stage, free text otherwise).
        override: The manager's note when requirements were bypassed; ``None`` when the move
            met every requirement. An override is never silent.
    """

    from_stage: str | None
    to_stage: str
    at: datetime
    by: str
    reason: str | None = None
    override: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _STAGE_CHANGE

    def __attrs_post_init__(self) -> None:
        _STAGE_CHANGE.run(self)
