"""``oppcore demo``: a realistic sample pipeline, walked through the whole flow.

A fixed seed generates a few hundred leads from three channels (with duplicates), which are
captured into an embedded SQLite store, qualified and converted into deals in the
``standard`` pipeline, moved through its stages (one refused move is explained), scored and
ranked, won or lost, and finally reported on. Time is simulated: the demo's clock starts
on 2026-06-01 and advances as the sales team works, so the output is the same every run.

Every write goes through :class:`~oppcore.OpportunityService`, as a host's would: captures,
merges, the lead lifecycle, conversions, quotes (an edit), stage moves and scores are all
authorised, audited and retried the same way; the demo never writes to the store itself.
"""

import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from oppcore._errors import DuplicateError, TransitionError
from oppcore._models import Lead, Opportunity
from oppcore._money import Money
from oppcore._parties import Channel, CompanySize, Source
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
from oppcore._records import Activity, ActivityKind, Quote, QuoteLine, QuoteStatus
from oppcore._report._format import fit, points
from oppcore._service import OpportunityService
from oppcore.dedupe import find_duplicates
from oppcore.locale import channel_label, describe, format_date
from oppcore.locale._catalog import _, active
from oppcore.locale._reasons import translate_reason
from oppcore.pipeline import Pipeline
from oppcore.scoring import Score, Scorecard
from oppcore.storage import SQLiteStore, query_all

from ._common import UsageError, key_label
from ._demo_after import after_the_win

SEED = 2026
START = datetime(2026, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
REPORT_AT = START + timedelta(days=150)
N_LEADS = 300

_GIVEN = ("Wei", "Fang", "Lei", "Jing", "Min", "Hao", "Yan", "Tao", "Anna", "James", "Maria",
          "David", "Sofia", "Lukas", "Emma", "Ravi", "Priya", "Kenji", "Yuki", "Omar")
_FAMILY = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Smith", "Berg",
           "Garcia", "Müller", "Rossi", "Sharma", "Tanaka", "Kim", "Haddad", "Novak")
_COMPANIES = (
    ("杭州茶叶有限公司", "teaco.cn", "food", CompanySize.MEDIUM),
    ("Shenzhen Bright Robotics Co., Ltd.", "brightrobotics.cn", "manufacturing",
     CompanySize.LARGE),
    ("北京云帆科技股份有限公司", "yunfan-tech.cn", "software", CompanySize.ENTERPRISE),
    ("Nordlicht GmbH", "nordlicht.de", "energy", CompanySize.MEDIUM),
    ("Pacific Foods Inc.", "pacfoods.com", "food", CompanySize.LARGE),
    ("Acme Logistics LLC", "acmelogistics.com", "logistics", CompanySize.LARGE),
    ("上海新材料集团", "sh-newmat.cn", "chemicals", CompanySize.ENTERPRISE),
    ("Medica Partners S.A.", "medica.es", "healthcare", CompanySize.MEDIUM),
    ("Greenfield Farms Ltd.", "greenfield.co.uk", "agriculture", CompanySize.SMALL),
    ("Sakura Components K.K.", "sakura-comp.jp", "electronics", CompanySize.LARGE),
    ("成都天府医疗器械有限公司", "tianfu-med.cn", "healthcare", CompanySize.MEDIUM),
    ("Atlas Retail Group", "atlasretail.com", "retail", CompanySize.ENTERPRISE),
    ("Blue Harbor Shipping", "blueharbor.sg", "logistics", CompanySize.MEDIUM),
    ("Vértice Construções Ltda.", "vertice.com.br", "construction", CompanySize.LARGE),
    ("苏州精密机械有限公司", "szprecision.cn", "manufacturing", CompanySize.SMALL),
    ("Helios Solar AG", "helios-solar.ch", "energy", CompanySize.MEDIUM),
)
_CHANNELS = ((Channel.EVENT, ("Industrial Expo 2026", "CIIE forum", "Hannover Messe")),
             (Channel.REFERRAL, ("customer referral", "partner introduction")),
             (Channel.ONLINE, ("SEO: pricing page", "SEM campaign Q2", "WeChat article",
                               "LinkedIn ad")))
_OWNERS = ("rep-zhang", "rep-li", "rep-berg", "rep-garcia", "rep-tanaka")
_RIVALS = ("Rival Systems", "Incumbent Tech", "LowCost Co")
_PRODUCTS = (("Automation cell A1", "185000"), ("Sensor kit S4", "12800"),
             ("Control software (year)", "48000"), ("Installation", "15000"))


class SimulatedClock:
    """The service's clock: returns the simulated now, which the demo moves forward."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _leads(rng: random.Random) -> list[Lead]:
    """Generate leads: mostly distinct, some repeated with the same e-mail in another case
    (stores refuse those at once), some re-entered with a private e-mail (found later by
    duplicate detection)."""
    leads: list[Lead] = []
    for i in range(N_LEADS):
        channel, details = rng.choice(_CHANNELS)
        company, domain, industry, size = rng.choice(_COMPANIES)
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        name = f"{given} {family}"
        handle = f"{given}.{family}{i}".lower().replace("ü", "ue")
        captured = START + timedelta(hours=7 * i + rng.randrange(7))
        email = f"{handle}@{domain}"
        lead = Lead(id=f"lead-{i:04d}", name=name, company=company, industry=industry,
                    size=size, email=email,
                    phone=f"+86 13{rng.randrange(10**8, 10**9)}",
                    source=Source(channel=channel, detail=rng.choice(details)),
                    owner=rng.choice(_OWNERS), captured_at=captured, region="APAC")
        leads.append(lead)
        if i % 25 == 7:  # the same person submits a second form, e-mail typed in capitals
            leads.append(lead.evolve(id=f"lead-{i:04d}-again", email=f" {email.upper()} ",
                                     captured_at=captured + timedelta(hours=2)))
        if i % 30 == 11:  # a colleague re-enters the contact with a private e-mail
            leads.append(lead.evolve(id=f"lead-{i:04d}-b", email=f"{handle}@gmail.com",
                                     company=company.upper(), phone=lead.phone,
                                     captured_at=captured + timedelta(days=1)))
    return leads


def _qualification(rng: random.Random) -> Qualification:
    amount = Decimal(rng.randrange(50, 2000)) * 1000
    urgency = Urgency(level=rng.choice(list(UrgencyLevel)),
                      deadline=(START + timedelta(days=rng.randrange(60, 300))).date()
                      if rng.random() < 0.6 else None)
    budget = Budget(amount=Money(amount=amount * Decimal(rng.choice(("0.8", "1", "1.3"))),
                                 currency="CNY").quantize(),
                    confirmed=rng.random() < 0.5) if rng.random() < 0.8 else None
    decision = DecisionProcess(
        expected_decision=(START + timedelta(days=rng.randrange(45, 200))).date(),
        cycle_days=rng.choice((30, 60, 90, 180)),
        decision_maker_identified=rng.random() < 0.7, decision_maker_engaged=rng.random() < 0.4)
    rivals = tuple(Competitor(name=n, position=rng.choice(list(CompetitivePosition)),
                              incumbent=(n == "Incumbent Tech"))
                   for n in rng.sample(_RIVALS, rng.randrange(0, 3)))
    competition = Competition(competitors=rivals) if rng.random() < 0.85 else None
    return Qualification(urgency=urgency, budget=budget, decision=decision,
                         competition=competition)


def _quote(opp: Opportunity, rng: random.Random, at: datetime) -> Quote:
    lines = tuple(QuoteLine(product=p, quantity=Decimal(rng.randrange(1, 6)),
                            unit_price=Money.of(price, "CNY"),
                            discount=Decimal(rng.choice(("0", "0.05", "0.1"))),
                            tax_rate=Decimal("0.13"))
                  for p, price in rng.sample(_PRODUCTS, 2))
    return Quote(id=f"Q-{opp.id}", currency="CNY", lines=lines, status=QuoteStatus.SENT,
                 sent_at=at, valid_until=(at + timedelta(days=30)).date())


def _refusal(error: DuplicateError) -> str:
    # In English this is str(error); the demo's refused records are all leads.
    return _("lead {record!r}: {key} already used by {existing!r}").format(
        record=error.record_id, key=key_label(error.key),
        existing=error.existing_id)


def _capture(service: OpportunityService, lead: Lead) -> DuplicateError | None:
    """Create a lead through the service; return the store's refusal instead of raising it."""
    try:
        service.create(lead, by=lead.owner or "rep-zhang")
    except DuplicateError as exc:
        return exc
    return None


@contextmanager
def _store_at(db: str | None) -> Iterator[tuple[SQLiteStore, str]]:
    if db is not None:
        if Path(db).exists():
            raise UsageError(_("--db {db!r} already exists: remove it or choose another "
                               "path").format(db=db))
        # The demo's data is synthetic: NORMAL synchronisation (the documented opt-in) keeps
        # its thousands of small transactions fast.
        store = SQLiteStore(db, synchronous="NORMAL")
        try:
            yield store, db
        finally:
            store.close()
        return
    with tempfile.TemporaryDirectory(prefix="oppcore-demo-") as tmp:
        path = str(Path(tmp) / "demo.db")
        store = SQLiteStore(path, synchronous="NORMAL")
        try:
            yield store, path
        finally:
            store.close()


def run_demo(*, db: str | None, out: TextIO) -> int:
    """Run the demo, printing each step and the final report to ``out``; return 0."""
    started = time.perf_counter()
    with _store_at(db) as (store, path):
        _run(store, out)
        say = out.write
        done = _("Done in {seconds:.1f} s.").format(seconds=time.perf_counter() - started)
        # A sentence ending in full-width punctuation (Chinese) takes no space after it.
        say("\n" + done + ("" if done.endswith("。") else " "))
        if db:
            say(_("The store is at {path}; try:").format(path=path) + "\n"
                f"  oppcore report --db {path} --now {REPORT_AT.isoformat()} --html report.html\n"
                f"  oppcore score --db {path} --now {REPORT_AT.isoformat()}\n"
                f"  oppcore dedupe --db {path}\n")
        else:
            say(_("Keep the store with --db demo.db to explore it with "
                  "'oppcore report', 'score' and 'dedupe'.") + "\n")
    return 0


def _run(store: SQLiteStore, out: TextIO) -> None:
    rng = random.Random(SEED)
    say = out.write
    pipeline = Pipeline.template("standard", locale=active())
    card = Scorecard.default()
    clock = SimulatedClock(START)
    service = OpportunityService(store=store, pipelines=pipeline, clock=clock, scorecard=card)
    say(_("oppcore demo: a sales team's half year, on an embedded SQLite store") + "\n")
    say("=" * 68 + "\n")

    # 1. Capture leads from three channels, each when it arrives; the store refuses a
    #    repeated e-mail at once.
    captured: list[Lead] = []
    refused: list[DuplicateError] = []
    for lead in _leads(rng):
        clock.now = lead.captured_at
        turned_away = _capture(service, lead)
        if turned_away is None:
            captured.append(lead)
        else:
            refused.append(turned_away)
    by_channel = Counter(lead.source.channel.value for lead in captured if lead.source)
    say("\n" + _("1. Captured {count} leads ({channels}).").format(
        count=len(captured),
        channels=_(", ").join(f"{n} {channel_label(c)}" for c, n in sorted(by_channel.items())))
        + "\n")
    say("   " + _("Refused {count} repeated entries at the door, e.g.: {example}").format(
        count=len(refused), example=_refusal(refused[0])) + "\n")

    # 2. Catch the duplicates that slipped through (private e-mail, same person) and merge.
    pairs = find_duplicates(captured, threshold=0.6)
    arrived = {lead.id: lead.captured_at for lead in captured}
    say("\n" + _("2. Duplicate check: {count} probable duplicate pair(s) among the stored "
                 "leads.").format(count=len(pairs)) + "\n")
    merged = 0
    for pair in pairs:
        if pair.score < 0.8:
            continue  # a person decides on the weaker matches
        keys = _(", ").join(key_label(r.code) for r in pair.reasons)
        if merged == 0:
            say("   " + _("e.g. {first} ~ {second}, score {score:.2f} (matched: {keys})").format(
                first=pair.first.id, second=pair.second.id, score=pair.score, keys=keys) + "\n")
        # ops merge a pair an hour after its second lead came in
        clock.now = max(arrived[pair.first.id], arrived[pair.second.id]) + timedelta(hours=1)
        service.merge_duplicates(Lead, pair.first.id, pair.second.id, by="ops-admin")
        merged += 1
    say("   " + _("Merged the {merged} confident pair(s) (score >= 0.8), leaving {left} for "
                  "review; every dropped value is kept in the merged lead's notes and the "
                  "audit trail.").format(merged=merged, left=len(pairs) - merged) + "\n")

    # 3. Contact every lead, then qualify (the needs-analysis form) and convert, or
    #    disqualify.
    live = list(query_all(store, Lead))
    converted = disqualified = 0
    clock.now = START
    for lead in live:
        clock.now = max(clock.now, lead.captured_at + timedelta(days=2))
        rep = lead.owner or "rep-zhang"
        service.mark_contacted(lead.id, by=rep)
        roll = rng.random()
        if roll < 0.2:
            service.disqualify(lead.id, by=rep, reason=rng.choice(
                ("no budget", "student enquiry", "competitor's customer")))
            disqualified += 1
        elif roll < 0.62:
            service.qualify(lead.id, by=rep, qualification=_qualification(rng))
            service.convert(lead.id, by=rep,
                            amount=Money(amount=Decimal(rng.randrange(80, 1500)) * 1000,
                                         currency="CNY").quantize(),
                            expected_close=(clock.now + timedelta(
                                days=rng.randrange(40, 160))).date())
            converted += 1
    say("\n" + _("3. Qualified and converted {converted} leads into deals; disqualified "
                 "{disqualified}; the rest stay in follow-up.").format(
        converted=converted, disqualified=disqualified) + "\n")

    # 4. Work the deals through the standard process. A move the process refuses leaves the
    #    deal where it is (stalled), as it would in real life.
    deals = list(query_all(store, Opportunity))
    moves = stalled = 0
    refusal: tuple[str, TransitionError] | None = None

    def move(deal_id: str, stage: str, owner: str) -> bool:
        nonlocal moves, stalled, refusal
        try:
            service.move_stage(deal_id, stage, by=owner)
        except TransitionError as exc:
            stalled += 1
            if refusal is None:
                refusal = (f"{deal_id} -> {pipeline.stage(stage).label}", exc)
            return False
        moves += 1
        return True

    for deal in deals:
        clock.now = deal.created_at + timedelta(days=rng.randrange(3, 10))
        owner = deal.owner or "rep-zhang"
        depth = rng.choices((0, 1, 2, 3, 4), weights=(8, 10, 14, 30, 38))[0]
        lost_early = depth in (1, 2) and rng.random() < 0.25
        # A working team: a deal still open today entered its stage recently (within the
        # stage's limit), except a few that stalled (stale, and flagged in the report).
        ago = rng.randrange(1, 12) if rng.random() < 0.88 else rng.randrange(35, 80)
        settle_at = REPORT_AT - timedelta(days=ago, hours=rng.randrange(0, 8))
        ends_open = depth < 4 and not lost_early
        step = timedelta(days=1)
        if ends_open and depth:
            # Its moves run up to today, a few days apart: the last lands at settle_at.
            step = max(min((settle_at - clock.now) / depth,
                           timedelta(days=rng.randrange(4, 9))), step)
            clock.now = max(clock.now, settle_at - step * (depth - 1))

        def gap(low: int, high: int, ends_open: bool = ends_open,
                step: timedelta = step) -> float:
            return step / timedelta(days=1) if ends_open else rng.randrange(low, high)

        if depth >= 1 and not move(deal.id, "needs_analysis", owner):
            continue
        if depth >= 2:
            clock.advance(days=gap(5, 15))
            service.log_activity(deal.id, Activity(
                id=f"{deal.id}-na", kind=ActivityKind.NEEDS_ANALYSIS, at=clock.now, by=owner,
                summary="Needs-analysis workshop", next_step="Solution proposal",
                next_step_due=(clock.now + timedelta(days=10)).date()), by=owner)
            if not move(deal.id, "solution", owner):
                continue
        if depth >= 3:
            clock.advance(days=gap(5, 20))
            service.edit(Opportunity, deal.id, {"quotes": (_quote(deal, rng, clock.now),)},
                         by=owner)
            if not move(deal.id, "quote_contract", owner):
                continue
        if depth >= 4:
            clock.advance(days=rng.randrange(5, 30))
            if rng.random() < 0.6:
                service.mark_won(deal.id, by=owner)
            else:
                service.mark_lost(deal.id, by=owner, reason=rng.choice(
                    ("price", "competitor", "timing", "no_decision")))
        elif lost_early:
            clock.advance(days=rng.randrange(10, 40))
            service.mark_lost(deal.id, by=owner, reason=rng.choice(("no_budget", "competitor")))
    say("\n" + _("4. Worked the deals: {moves} stage moves recorded (who, when, why); "
                 "{stalled} refused by the process.").format(moves=moves, stalled=stalled)
        + "\n")
    if refusal is not None:
        what, exc = refusal
        say("   " + _("A refused move, explained: {what}").format(what=what) + "\n")
        for violation in exc.violations:
            text = describe(violation, locale=active(), pipeline=pipeline)
            say(f"   - [{violation.code}] {text}\n")

    # After the win: contracts, the after-sales plan, surveys, referrals, renewals.
    after_the_win(service, store, clock, REPORT_AT, out)

    # 5. Score and rank the open deals (the service keeps each score on its deal).
    clock.now = REPORT_AT
    open_ids = {s.id for s in pipeline.open_stages}
    open_deals = {d.id: d for d in query_all(store, Opportunity) if d.stage_id in open_ids}
    summary = service.rescore_many(open_deals, by="ops-admin")
    scores: list[tuple[Score, Opportunity]] = [
        (event.score, open_deals[event.opportunity_id]) for event in summary.rescored]
    scores.sort(key=lambda pair: (-pair[0].total, pair[1].id))
    grades = Counter(score.grade for score, _ in scores)
    say("\n" + _("5. Scored {count} open deals (grades: {grades}). Top 5:").format(
        count=len(scores), grades=_(", ").join(f"{g} {grades[g]}" for g in sorted(grades)))
        + "\n")
    for score, deal in scores[:5]:
        # Coverage beside the score: a high total on little data is told apart (#13).
        say(f"   {score.total:>6} {score.grade}  {score.coverage:>4.0%}  {deal.id}  "
            f"{fit(deal.name, 38)} [{pipeline.stage(deal.stage_id).label}]\n")
        for factor in (*score.top_positive(2), *score.top_negative(1)):
            say(f"          {points(factor.points)}  {translate_reason(factor.message)}\n")

    # 6. Report.
    from oppcore._report import build_report, render_text

    report = build_report(query_all(store, Opportunity), pipeline, now=REPORT_AT,
                          scorecard=card, top=5, title=_("Pipeline report"))
    say("\n" + _("6. Pipeline report as of {day}").format(day=format_date(REPORT_AT))
        + "\n\n")
    say(render_text(report))


__all__ = ["run_demo"]
