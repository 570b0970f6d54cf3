"""Hypothesis strategies for every oppcore model.

Plugin authors, store authors and oppcore's own tests use these to generate valid values:

.. code-block:: python

    from hypothesis import given
    from oppcore.testing import strategies as st_opp

    @given(st_opp.opportunities())
    def test_my_store_round_trips(opp): ...

Every strategy yields values that pass the models' validation. Amounts stay within what
real deals carry (up to 10**12 in the currency's minor unit); datetimes are timezone-aware
with a mix of offsets. Requires ``hypothesis`` (a test dependency, not a runtime one).
"""

from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import strategies as st

from oppcore._models import Lead, LeadStatus, Opportunity, Probability, ProbabilitySource
from oppcore._money import CURRENCY_MINOR_UNITS, Money
from oppcore._parties import Account, Channel, CompanySize, Contact, ContactRole, Source
from oppcore._qualification import (
    Budget,
    Competition,
    CompetitivePosition,
    Competitor,
    DecisionProcess,
    Qualification,
    Urgency,
    UrgencyLevel,
)
from oppcore._records import (
    Activity,
    ActivityKind,
    Quote,
    QuoteLine,
    QuoteStatus,
    StageChange,
    SurveyScale,
)

__all__ = [
    "accounts",
    "activities",
    "aware_datetimes",
    "naive_datetimes",
    "budgets",
    "competitions",
    "contacts",
    "currencies",
    "custom_fields",
    "dates",
    "decision_processes",
    "ids",
    "leads",
    "money",
    "opportunities",
    "probabilities",
    "qualifications",
    "quote_lines",
    "quotes",
    "sources",
    "surveys",
    "stage_changes",
    "urgencies",
]

_T = TypeVar("_T")
_COMMON_CURRENCIES = ("CNY", "USD", "EUR", "JPY", "GBP", "HKD", "KWD")


def ids(prefix: str = "") -> st.SearchStrategy[str]:
    """Non-empty identifiers (ASCII letters, digits, ``-``/``_``), optionally prefixed."""
    body = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
    return body.map(lambda s: f"{prefix}{s}")


def _text(max_size: int = 30) -> st.SearchStrategy[str]:
    # Printable text including CJK, never blank (ids and names must not be blank).
    return st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        min_size=1, max_size=max_size,
    ).filter(lambda s: not s.isspace())


def _opt(strategy: st.SearchStrategy[_T]) -> st.SearchStrategy[_T | None]:
    return st.none() | strategy


def currencies(*, common_only: bool = True) -> st.SearchStrategy[str]:
    """ISO 4217 codes: a handful of common ones (with 0, 2 and 3 minor units) or all."""
    if common_only:
        return st.sampled_from(_COMMON_CURRENCIES)
    return st.sampled_from(sorted(CURRENCY_MINOR_UNITS))


def money(
    currency: str | None = None, *, min_units: int = 0, max_units: int = 10**12
) -> st.SearchStrategy[Money]:
    """Money in ``currency`` (or a common one) with an amount on its minor-unit grid."""

    def build(code: str) -> st.SearchStrategy[Money]:
        digits = CURRENCY_MINOR_UNITS[code]
        return st.integers(min_units, max_units).map(
            lambda units: Money(amount=Decimal(units).scaleb(-digits), currency=code))

    if currency is not None:
        return build(currency)
    return currencies().flatmap(build)


_OFFSETS = st.sampled_from([
    timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
])


def aware_datetimes(
    *, min_value: datetime = datetime(2015, 1, 1), max_value: datetime = datetime(2035, 1, 1)
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes (UTC and a few real offsets, microseconds included)."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=_OFFSETS)


class _NoOffset(tzinfo):
    """A tzinfo that gives no UTC offset: a datetime using it is naive by Python's rule."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None

    def __repr__(self) -> str:
        return "NoOffset()"


class _BrokenOffset(tzinfo):
    """A tzinfo whose ``utcoffset()`` raises (a host's broken zone)."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        raise RuntimeError("this tzinfo cannot tell its offset")

    def dst(self, dt: datetime | None) -> timedelta | None:
        raise RuntimeError("this tzinfo cannot tell its offset")

    def tzname(self, dt: datetime | None) -> str | None:
        return None

    def __repr__(self) -> str:
        return "BrokenOffset()"


def naive_datetimes(
    *, min_value: datetime = datetime(2015, 1, 1), max_value: datetime = datetime(2035, 1, 1)
) -> st.SearchStrategy[datetime]:
    """Datetimes that are not timezone-aware, of every kind oppcore must refuse.

    Plain naive datetimes, datetimes whose tzinfo gives no offset (naive by Python's own
    definition), and datetimes whose tzinfo raises: a function taking a time must refuse
    each with ``ValidationError``. Use it to prove your own boundaries (a store's
    ``updated_since``, a plugin's ``now``).
    """
    base = st.datetimes(min_value=min_value, max_value=max_value)
    return st.one_of(base,
                     base.map(lambda d: d.replace(tzinfo=_NoOffset())),
                     base.map(lambda d: d.replace(tzinfo=_BrokenOffset())))


def dates() -> st.SearchStrategy[date]:
    """Calendar dates between 2015 and 2035."""
    return st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 1, 1))


def probabilities() -> st.SearchStrategy[Probability]:
    """Probabilities in [0, 1] with any provenance."""
    return st.builds(Probability, value=st.floats(0.0, 1.0),
                     source=st.sampled_from(ProbabilitySource), note=_opt(_text()))


def custom_fields() -> st.SearchStrategy[dict[str, str | int | bool | None]]:
    """Custom-field mappings of str/int/bool/None values."""
    values = st.none() | st.booleans() | st.integers(-10**9, 10**9) | _text()
    return st.dictionaries(ids(), values, max_size=3)


def sources() -> st.SearchStrategy[Source]:
    """Lead sources over every channel; referrals may name their referrer."""
    plain = st.builds(Source, channel=st.sampled_from(Channel), detail=_opt(_text()))
    referred = st.builds(Source, channel=st.just(Channel.REFERRAL), detail=_opt(_text()),
                         referrer=ids("acc-") | ids("c-"))
    return plain | referred


def contacts() -> st.SearchStrategy[Contact]:
    """Contacts, some without any channel."""
    return st.builds(Contact, id=ids("c-"), name=_text(), email=_opt(st.emails()),
                     phone=_opt(st.from_regex(r"\+?[0-9 ()-]{7,16}", fullmatch=True)),
                     title=_opt(_text()), role=_opt(st.sampled_from(ContactRole)))


def _credit_codes() -> st.SearchStrategy[str]:
    """Valid unified social credit codes (GB 32100-2015)."""
    from oppcore._credit_code import CREDIT_CODE_CHARS, check_character

    return st.builds(
        lambda head, division, body: head + division + body,
        st.text(CREDIT_CODE_CHARS, min_size=2, max_size=2),
        st.from_regex(r"[0-9]{6}", fullmatch=True),
        st.text(CREDIT_CODE_CHARS, min_size=9, max_size=9),
    ).map(lambda first17: first17 + check_character(first17))


def accounts() -> st.SearchStrategy[Account]:
    """Customer companies (some with a Chinese unified social credit code)."""
    return st.builds(Account, id=ids("acc-"), name=_text(), industry=_opt(_text()),
                     size=_opt(st.sampled_from(CompanySize)),
                     employees=_opt(st.integers(0, 500_000)), region=_opt(_text()),
                     tier=_opt(st.sampled_from(["A", "B", "C"])), website=_opt(st.emails()),
                     external_key=_opt(ids()), credit_code=_opt(_credit_codes()))


def urgencies() -> st.SearchStrategy[Urgency]:
    """Urgency parts (level and/or deadline)."""
    return st.builds(Urgency, level=_opt(st.sampled_from(UrgencyLevel)), deadline=_opt(dates()),
                     reason=_opt(_text()))


def budgets(currency: str | None = None) -> st.SearchStrategy[Budget]:
    """Budget parts, confirmed or not, amount known or not."""
    return st.builds(Budget, amount=_opt(money(currency)), confirmed=st.booleans(),
                     note=_opt(_text()))


def decision_processes() -> st.SearchStrategy[DecisionProcess]:
    """Decision-process parts."""
    flag = _opt(st.booleans())
    return st.builds(DecisionProcess, expected_decision=_opt(dates()),
                     cycle_days=_opt(st.integers(0, 2000)), decision_maker_identified=flag,
                     decision_maker_engaged=flag)


def competitions() -> st.SearchStrategy[Competition]:
    """Competitive situations with zero to three competitors."""
    competitor = st.builds(Competitor, name=_text(),
                           position=st.sampled_from(CompetitivePosition),
                           incumbent=st.booleans(), note=_opt(_text()))
    return st.builds(Competition, competitors=st.lists(competitor, max_size=3).map(tuple))


def qualifications(currency: str | None = None) -> st.SearchStrategy[Qualification]:
    """Qualifications with any subset of the four criteria known."""
    return st.builds(Qualification, urgency=_opt(urgencies()), budget=_opt(budgets(currency)),
                     decision=_opt(decision_processes()), competition=_opt(competitions()))


def surveys() -> st.SearchStrategy[Activity]:
    """Satisfaction surveys with a score on either scale (CSAT 1-5, NPS 0-10)."""
    scored = st.sampled_from(SurveyScale).flatmap(
        lambda scale: st.tuples(st.just(scale), st.integers(scale.low, scale.high)))
    return st.builds(
        lambda pair, **fields: Activity(kind=ActivityKind.SURVEY, scale=pair[0],
                                        score=pair[1], **fields),
        scored, id=ids("act-"), at=aware_datetimes(), by=ids("u-"),
        summary=st.text(max_size=40), task=_opt(ids("task-")))


def activities() -> st.SearchStrategy[Activity]:
    """Follow-up activities of every kind (surveys with their score and scale)."""
    others = st.builds(Activity, id=ids("act-"),
                       kind=st.sampled_from([k for k in ActivityKind
                                             if k is not ActivityKind.SURVEY]),
                       at=aware_datetimes(), by=ids("u-"), summary=st.text(max_size=40),
                       outcome=_opt(_text()), next_step=_opt(_text()),
                       next_step_due=_opt(dates()), task=_opt(ids("task-")))
    return others | surveys()


def quote_lines(currency: str) -> st.SearchStrategy[QuoteLine]:
    """Quote lines in ``currency``."""
    fraction = st.integers(0, 100).map(lambda n: Decimal(n) / 100)
    return st.builds(QuoteLine, product=_text(), quantity=st.integers(1, 1000).map(Decimal),
                     unit_price=money(currency, max_units=10**9), discount=fraction,
                     tax_rate=st.integers(0, 25).map(lambda n: Decimal(n) / 100))


def quotes(currency: str | None = None) -> st.SearchStrategy[Quote]:
    """Quotes with zero to four lines, all in one currency."""

    def build(code: str) -> st.SearchStrategy[Quote]:
        return st.builds(Quote, id=ids("q-"), currency=st.just(code),
                         lines=st.lists(quote_lines(code), max_size=4).map(tuple),
                         status=st.sampled_from(QuoteStatus), valid_until=_opt(dates()),
                         sent_at=_opt(aware_datetimes()), note=_opt(_text()))

    return build(currency) if currency else currencies().flatmap(build)


def stage_changes(stage_ids: tuple[str, ...] = ("a", "b", "c")) -> st.SearchStrategy[StageChange]:
    """Single history entries between the given stage ids."""
    stage = st.sampled_from(stage_ids)
    return st.builds(StageChange, from_stage=_opt(stage), to_stage=stage, at=aware_datetimes(),
                     by=ids("u-"), reason=_opt(_text()), override=_opt(_text()))


def leads() -> st.SearchStrategy[Lead]:
    """Leads in every status (a disqualified one always has its reason)."""
    return st.builds(
        _build_lead, id=ids("lead-"), name=_text(), captured_at=aware_datetimes(),
        email=_opt(st.emails()), phone=_opt(st.from_regex(r"\+?[0-9 -]{7,16}", fullmatch=True)),
        title=_opt(_text()), company=_opt(_text()), industry=_opt(_text()),
        size=_opt(st.sampled_from(CompanySize)), region=_opt(_text()), source=_opt(sources()),
        owner=_opt(ids("u-")), status=st.sampled_from(LeadStatus),
        disqualified_reason=_opt(_text()), opportunity_id=_opt(ids("opp-")),
        qualification=qualifications(), notes=st.text(max_size=40),
        tags=st.frozensets(ids(), max_size=3), custom=custom_fields(),
        external_key=_opt(ids()), version=st.integers(0, 1000),
    )


def _build_lead(**fields: Any) -> Lead:
    status = fields["status"]
    reason = fields["disqualified_reason"]
    if status is LeadStatus.DISQUALIFIED and not (reason and reason.strip()):
        fields["disqualified_reason"] = "not a fit"
    return Lead(**fields)


def opportunities(
    *, pipeline_id: str = "standard",
    stage_ids: tuple[str, ...] = ("identification", "needs_analysis", "solution",
                                  "quote_contract", "won", "lost"),
) -> st.SearchStrategy[Opportunity]:
    """Opportunities with every field exercised, in the given pipeline's stage ids."""

    @st.composite
    def build(draw: st.DrawFn) -> Opportunity:
        code = draw(currencies())
        created = draw(aware_datetimes())
        start = draw(_opt(dates()))
        end = None
        if start is not None and draw(st.booleans()):
            end = start + timedelta(days=draw(st.integers(0, 3 * 366)))
        return Opportunity(
            id=draw(ids("opp-")), name=draw(_text()), pipeline_id=pipeline_id,
            stage_id=draw(st.sampled_from(stage_ids)), created_at=created,
            account=draw(_opt(accounts())),
            contacts=tuple(draw(st.lists(contacts(), max_size=3))),
            owner=draw(_opt(ids("u-"))),
            amount=draw(_opt(money(code))),
            expected_close=draw(_opt(dates())),
            expected_close_history=tuple(draw(st.lists(dates(), max_size=3))),
            probability=draw(_opt(probabilities())),
            model_probability=draw(_opt(probabilities())),
            source=draw(_opt(sources())),
            qualification=draw(qualifications(code)),
            activities=tuple(draw(st.lists(activities(), max_size=4))),
            quotes=tuple(draw(st.lists(quotes(code), max_size=2))),
            stage_history=tuple(draw(st.lists(stage_changes(stage_ids), max_size=4))),
            lost_reason=draw(_opt(_text())),
            lead_id=draw(_opt(ids("lead-"))),
            tags=draw(st.frozensets(ids(), max_size=3)),
            custom=draw(custom_fields()),
            external_key=draw(_opt(ids())),
            contract_start=start, contract_end=end,
            renewal_of=draw(_opt(ids("ren-"))), renewed_by=draw(_opt(ids("rby-"))),
            updated_at=draw(aware_datetimes(min_value=created.replace(tzinfo=None))),
            version=draw(st.integers(0, 10_000)),
        )

    return build()
