"""Shared test configuration: hypothesis profiles sized for a 2-core CI machine, and the
fixtures more than one test module needs (test modules never import each other)."""

import os
import random
import shutil
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings

from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Budget,
    Channel,
    Competition,
    CompetitivePosition,
    Competitor,
    Contact,
    Money,
    Opportunity,
    Probability,
    ProbabilitySource,
    Qualification,
    Quote,
    Source,
    StageChange,
    Urgency,
    UrgencyLevel,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

# "ci": no deadline (shared 2-core runners have noisy timing), a moderate example count.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# --------------------------------------------------------------------------- no skips in CI

# Under CI=true a skipped test is a failed test: CI installs every extra and starts every
# server, so a skip there means something is missing, never a pass. One mechanism for every
# skip (importorskip of an extra, a missing server or browser) instead of a check per test.
# The only skip CI expects: PySpark 4 does not run on Python 3.10.
_CI_SKIPS_ALLOWED: tuple[tuple[str, bool], ...] = (
    ("pyspark is not installed", sys.version_info < (3, 11)),
)


def _skip_reason(longrepr: Any) -> str:
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(
        longrepr)
    return text.removeprefix("Skipped: ")


def _fail_skip_in_ci(report: Any) -> None:
    if os.environ.get("CI") != "true" or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report.longrepr)
    if any(reason.startswith(prefix) and allowed for prefix, allowed in _CI_SKIPS_ALLOWED):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true (CI must run every test): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: Any) -> Any:
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


# --------------------------------------------------------------------------- browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a headless-capable Chromium, for the tests that measure the report in a
    real browser. Skips without one on a developer machine; under ``CI=true`` that skip is a
    failure (see "no skips in CI" above; ``.ci/run`` installs Chromium)."""
    path = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if path is None:
        pytest.skip(f"no Chromium found on PATH (looked for {', '.join(BROWSERS)}); "
                    "install one, e.g. apt-get install chromium")
    return path


# --------------------------------------------------------------------------- wire paths

WIRE_PATHS = ("plain", "fast")


@pytest.fixture(params=WIRE_PATHS)
def wire_path(request: pytest.FixtureRequest) -> Any:
    """Run the test on the plain path (``json``) and on the fast path (msgspec).

    Switches the shared codec of ``oppcore.serde`` (the module-level helpers, the io formats
    and the stores) for the test and restores it after. The fast path needs msgspec (the
    ``test`` extra has it): without it the fast run is skipped on a developer's machine, a
    failure under CI (see "no skips in CI" above).
    """
    from oppcore import serde

    fast = request.param == "fast"
    if fast and serde.make_converter().fast is False:
        pytest.skip("msgspec is not installed (pip install -e '.[fast]')")
    was = serde.set_fast(fast)
    try:
        yield request.param
    finally:
        serde.set_fast(was)


# --------------------------------------------------------------------------- plugins


def _install_example_plugin(site: Path) -> None:
    """Install the example plugin into ``site`` the way an installer lays it out.

    Offline and without a build backend (the test machine has no ``wheel``), we copy the
    package and write the ``.dist-info`` metadata an installer writes: ``METADATA`` with the
    name and version, ``entry_points.txt`` with the groups from ``pyproject.toml``, and
    ``RECORD``. ``importlib.metadata`` then finds it exactly as it finds an installed wheel.
    """
    plugin = ROOT / "examples" / "scoring_plugin"
    meta = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    shutil.copytree(plugin / "src" / "oppcore_scoring_example",
                    site / "oppcore_scoring_example")
    dist = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
        f"Summary: {meta['description']}\n")
    lines = []
    for group, entries in meta["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (dist / "INSTALLER").write_text("oppcore-test\n")
    files = [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()]
    (dist / "RECORD").write_text("".join(f"{f},,\n" for f in files))


@pytest.fixture(scope="session")
def install_example_plugin() -> Callable[[Path], None]:
    """Return ``install(site)``: lays the example scoring plugin out in a site directory."""
    return _install_example_plugin


# --------------------------------------------------------------------------- report sample


OPEN_PATH = ("identification", "needs_analysis", "solution", "quote_contract")
HOSTILE_OWNER = "<script>alert('x')</script> \"O'Brien\" & co"
HOSTILE_ACCOUNT = "=HYPERLINK(\"http://evil\")<b>\x1b[31mred"
OWNERS = ("ana.silva", "ben.okafor", "chen.wei", "dora.kim", "emil.novak", HOSTILE_OWNER)
CHANNELS = tuple(Channel)


def _sample_deals(n: int, *, seed: int, now: datetime) -> list[Opportunity]:
    """Return ``n`` realistic deals of the ``standard`` pipeline (same seed, same deals)."""
    rnd = random.Random(seed)
    accounts = [Account(id=f"acc-{i}", name=f"Account {i:03d}") for i in range(40)]
    accounts.append(Account(id="acc-evil", name=HOSTILE_ACCOUNT))
    return [_deal(rnd, i, now, accounts) for i in range(n)]


def _deal(rnd: random.Random, i: int, now: datetime, accounts: list[Account]) -> Opportunity:
    created = now - timedelta(days=rnd.randint(5, 240), hours=rnd.randint(0, 23))
    depth = rnd.choices(range(1, 5), weights=(35, 30, 20, 15))[0]
    outcome = rnd.choices(("open", "won", "lost"), weights=(50, 20, 30))[0]
    at = created
    history = [StageChange(from_stage=None, to_stage=OPEN_PATH[0], at=at, by="import")]
    for stage in OPEN_PATH[1:depth]:
        at += timedelta(days=rnd.randint(2, 25))
        history.append(StageChange(from_stage=history[-1].to_stage, to_stage=stage, at=at,
                                   by="rep"))
    stage = history[-1].to_stage
    lost_reason = None
    if outcome != "open":
        at += timedelta(days=rnd.randint(1, 20))
        stage = outcome
        lost_reason = "price" if outcome == "lost" else None
        history.append(StageChange(from_stage=history[-1].to_stage, to_stage=stage, at=at,
                                   by="rep", reason=lost_reason))
    at = min(at, now)
    history = [attrs.evolve(h, at=min(h.at, now)) for h in history]
    currency = "USD" if i % 5 == 0 else "EUR"
    amount = None if i % 23 == 0 else Money.of(rnd.randint(20, 900) * 100, currency)
    close = (now + timedelta(days=rnd.randint(-20, 150))).date()
    qualification = Qualification(
        urgency=Urgency(level=rnd.choice(tuple(UrgencyLevel)),
                        deadline=close if i % 3 else None),
        budget=Budget(amount=Money.of(rnd.randint(10, 1000) * 100, currency),
                      confirmed=bool(i % 2)) if i % 4 else None,
        competition=Competition(competitors=(
            Competitor(name="Rival", position=rnd.choice(tuple(CompetitivePosition))),
        )) if i % 3 == 0 else None,
    )
    return Opportunity(
        id=f"opp-{i:05d}", name=f"Deal {i} for {accounts[i % len(accounts)].name}",
        pipeline_id="standard", stage_id=stage, created_at=created,
        account=accounts[i % len(accounts)], owner=OWNERS[i % len(OWNERS)] if i % 17 else None,
        amount=amount, expected_close=close if i % 11 else None,
        source=Source(channel=CHANNELS[i % len(CHANNELS)]) if i % 13 else None,
        qualification=qualification, stage_history=tuple(history), lost_reason=lost_reason,
        updated_at=max(at, created),
    )


class SampleDeals:
    """``sample_deals(n, seed=..., now=...)``: ``n`` realistic deals of the ``standard``
    pipeline (same seed, same deals), with hostile text among owners and accounts."""

    hostile_owner = HOSTILE_OWNER
    hostile_account = HOSTILE_ACCOUNT
    open_path = OPEN_PATH

    def __call__(self, n: int = 300, *, seed: int = 7, now: datetime) -> list[Opportunity]:
        return _sample_deals(n, seed=seed, now=now)


@pytest.fixture(scope="session")
def sample_deals() -> SampleDeals:
    """The seeded deal sample the ``test_report*`` modules share."""
    return SampleDeals()


# --------------------------------------------------------------------------- analytics table

# A small, explicit set of deals on the standard pipeline, shared by the analytics tests.
#
# Every figure the analytics tests expect is computed by hand from this table (see the
# comments in ``test_analytics.py``). Day offsets are from ``T0`` (2026-01-01 09:00 UTC).
#
# ====  =====  ========  =============  ======  ============================================
# deal  owner  source    tags           amount  path (day)
# ====  =====  ========  =============  ======  ============================================
# d1    alice  referral  crm            1000 USD I0 N2 S5 Q10 W20
# d2    alice  online    crm, support    500 USD I0 N4 L6 (price)
# d3    bob    online    erp            2000 USD I0 S3 (skip) Q8 (override) W30
# d4    bob    event     erp             800 EUR I0 N1 S6, open, close 2026-03-15
# d5    carol  referral  -               300 USD I0 L1 (no reason)
# d6    carol  -         crm            -        I0, open
# d7    alice  online    support        1200 USD I0 N2 S4 Q7, open, p=0.9, close 2026-02-05
# d8    bob    event     -               400 EUR I0 N3 S5 N8 S12 L15 (competitor)
# ====  =====  ========  =============  ======  ============================================

ANALYTICS_T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
ANALYTICS_NOW = ANALYTICS_T0 + timedelta(days=40)  # 2026-02-10 09:00 UTC

_STAGE = {"I": "identification", "N": "needs_analysis", "S": "solution",
          "Q": "quote_contract", "W": "won", "L": "lost"}

ACME = Account(id="acc-acme", name="Acme")
GLOBEX = Account(id="acc-globex", name="Globex")
INITECH = Account(id="acc-initech", name="Initech")
UMBRELLA = Account(id="acc-umbrella", name="Umbrella")


def day(n: float) -> datetime:
    """Return ANALYTICS_T0 plus ``n`` days."""
    return ANALYTICS_T0 + timedelta(days=n)


def history(path: str, *, override_at: int | None = None,
            reason: str | None = None) -> tuple[StageChange, ...]:
    """Build a history from ``"I0 N2 S5"`` (stage letter, day offset)."""
    changes = []
    previous = None
    for i, step in enumerate(path.split()):
        stage = _STAGE[step[0]]
        changes.append(StageChange(
            from_stage=previous, to_stage=stage, at=day(int(step[1:])), by="tester",
            override="approved by VP" if i == override_at else None,
            reason=reason if stage == "lost" else None,
        ))
        previous = stage
    return tuple(changes)


def deal(oid: str, path: str, **fields: Any) -> Opportunity:
    """Build a deal of the standard pipeline whose current stage ends ``path``."""
    override_at = fields.pop("override_at", None)
    changes = history(path, override_at=override_at, reason=fields.get("lost_reason"))
    return Opportunity(id=oid, name=f"Deal {oid}", pipeline_id="standard",
                       stage_id=changes[-1].to_stage, created_at=ANALYTICS_T0,
                       stage_history=changes, **fields)


def usd(amount: str) -> Money:
    """Return ``amount`` US dollars."""
    return Money.of(amount, "USD")


def eur(amount: str) -> Money:
    """Return ``amount`` euros."""
    return Money.of(amount, "EUR")


def src(channel: Channel) -> Source:
    """Return a source of ``channel``."""
    return Source(channel=channel)


def deals() -> list[Opportunity]:
    """Return the eight deals of the module docstring."""
    return [
        deal("d1", "I0 N2 S5 Q10 W20", owner="alice", source=src(Channel.REFERRAL),
             tags={"crm"}, amount=usd("1000"), account=ACME,
             contacts=(Contact(id="c1", name="No Channel"),)),
        deal("d2", "I0 N4 L6", owner="alice", source=src(Channel.ONLINE),
             tags={"crm", "support"}, amount=usd("500"), account=ACME, lost_reason="price"),
        deal("d3", "I0 S3 Q8 W30", owner="bob", source=src(Channel.ONLINE), tags={"erp"},
             amount=usd("2000"), account=GLOBEX, override_at=2),
        deal("d4", "I0 N1 S6", owner="bob", source=src(Channel.EVENT), tags={"erp"},
             amount=eur("800"), account=INITECH, expected_close=date(2026, 3, 15),
             activities=(Activity(id="a4", kind=ActivityKind.CALL, at=day(38), by="bob"),)),
        deal("d5", "I0 L1", owner="carol", source=src(Channel.REFERRAL), amount=usd("300"),
             account=UMBRELLA),
        deal("d6", "I0", owner="carol", tags={"crm"}),
        deal("d7", "I0 N2 S4 Q7", owner="alice", source=src(Channel.ONLINE),
             tags={"support"}, amount=usd("1200"), account=GLOBEX,
             expected_close=date(2026, 2, 5),
             expected_close_history=(date(2026, 1, 20), date(2026, 1, 31)),
             probability=Probability(value=0.9, source=ProbabilitySource.MANUAL),
             quotes=(Quote(id="q7", currency="EUR"),),
             activities=(Activity(id="a7", kind=ActivityKind.EMAIL, at=day(20), by="alice",
                                  next_step_due=date(2026, 1, 25)),)),
        deal("d8", "I0 N3 S5 N8 S12 L15", owner="bob", source=src(Channel.EVENT),
             amount=eur("400"), lost_reason="competitor"),
    ]


# --- a minimal stand-in pipeline: the attributes of analytics.PipelineLike, nothing more ---


@attrs.frozen
class FollowUpStandIn:
    """Follow-up rule of the stand-in."""

    max_days: int | None
    cadence: str | None = None


@attrs.frozen
class StageStandIn:
    """A stage of the stand-in pipeline."""

    id: str
    kind: str
    order: int
    probability: float
    forecast_category: str
    follow_up: FollowUpStandIn | None = None


@attrs.frozen
class PipelineStandIn:
    """A pipeline shaped like ``Pipeline.template("standard")``, with calendar-day staleness."""

    id: str
    stages: tuple[StageStandIn, ...]

    def is_stale(self, opp: Opportunity, *, now: datetime) -> bool:
        """Return whether ``opp`` has been in its stage longer than ``max_days``."""
        stage = next(s for s in self.stages if s.id == opp.stage_id)
        if stage.follow_up is None or stage.follow_up.max_days is None:
            return False
        entered = max((c.at for c in opp.stage_history if c.to_stage == opp.stage_id),
                      default=opp.created_at)
        return (now - entered).days > stage.follow_up.max_days


STAND_IN = PipelineStandIn(id="standard", stages=(
    StageStandIn("identification", "open", 0, 0.1, "pipeline", FollowUpStandIn(14)),
    StageStandIn("needs_analysis", "open", 1, 0.25, "pipeline", FollowUpStandIn(21)),
    StageStandIn("solution", "open", 2, 0.5, "best_case", FollowUpStandIn(30)),
    StageStandIn("quote_contract", "open", 3, 0.75, "commit", FollowUpStandIn(30)),
    StageStandIn("won", "won", 4, 1.0, "closed"),
    StageStandIn("lost", "lost", 5, 0.0, "omitted"),
))


class AnalyticsTable:
    """The hand-computed deal table above, for the analytics tests (``analytics_table``)."""

    t0 = ANALYTICS_T0
    now = ANALYTICS_NOW
    stand_in = STAND_IN

    @staticmethod
    def deals() -> list[Opportunity]:
        """Return the eight deals of the table (fresh values each call)."""
        return deals()

    @staticmethod
    def deal(oid: str, path: str, **fields: Any) -> Opportunity:
        """Build a deal of the standard pipeline whose current stage ends ``path``."""
        return deal(oid, path, **fields)

    @staticmethod
    def usd(amount: str) -> Money:
        """Return ``amount`` US dollars."""
        return usd(amount)

    @staticmethod
    def eur(amount: str) -> Money:
        """Return ``amount`` euros."""
        return eur(amount)


@pytest.fixture(scope="session")
def analytics_table() -> AnalyticsTable:
    """The hand-computed deal table every analytics figure is checked against."""
    return AnalyticsTable()


# --------------------------------------------------------------------------- PostgreSQL

_PG_DATABASES = iter(range(1, 1_000_000))


@pytest.fixture(scope="session")
def pg_cluster() -> Any:
    """A throwaway PostgreSQL cluster for the session (``tests/_postgres.py``).

    Without PostgreSQL or the ``sql`` extra the PostgreSQL tests skip, saying what is
    missing; under ``CI=true`` that is a failure instead: CI must run them.
    """
    from _postgres import Cluster, find_bin

    missing = None
    try:
        import psycopg  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as exc:
        missing = f"the sql extra is not installed ({exc}): pip install -e '.[test]'"
    bindir = find_bin()
    if missing is None and bindir is None:
        missing = ("PostgreSQL is not installed (no initdb on PATH or in "
                   "/usr/lib/postgresql/*/bin): apt-get install postgresql")
    if missing is not None or bindir is None:
        pytest.skip(missing or "")  # a failure under CI=true (see "no skips in CI" above)
    cluster = Cluster(bindir)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def pg_url(pg_cluster: Any) -> Any:
    """The URL of a fresh PostgreSQL database for one test module.

    Its default collation is ICU's ``en-US`` (where ``"a" < "B"``), not code-point order,
    so the tests prove the store orders ids itself (``COLLATE "C"``).
    """
    import psycopg

    name = f"oppcore_test_{next(_PG_DATABASES)}"
    with psycopg.connect(host=str(pg_cluster.socket_dir), user="postgres", dbname="postgres",
                         autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu "
                      f"ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
    yield pg_cluster.url(name)
    with psycopg.connect(host=str(pg_cluster.socket_dir), user="postgres", dbname="postgres",
                         autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def pg_engine(pg_url: str) -> Any:
    """A PostgreSQL engine with oppcore's tables, for what only PostgreSQL has."""
    import sqlalchemy as sa

    from oppcore.storage.sql import upgrade

    engine = sa.create_engine(pg_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _sqlite_engine(path: Path) -> Any:
    """A host's SQLite engine as the guide sets it up: WAL, a busy timeout."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")

    return engine


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def sql_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An engine with oppcore's tables, once per dialect (PostgreSQL, SQLite) and module."""
    import sqlalchemy as sa

    from oppcore.storage.sql import upgrade

    if request.param == "postgresql":
        engine = sa.create_engine(request.getfixturevalue("pg_url"), pool_size=12)
    else:
        engine = _sqlite_engine(tmp_path_factory.mktemp("sql") / "store.db")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sql_clean(sql_engine: Any) -> Any:
    """``sql_engine`` with every oppcore table emptied first (the schema version kept)."""
    import sqlalchemy as sa

    from oppcore.storage.sql import SQLStore

    tables = [t for t in SQLStore.metadata.sorted_tables if not t.name.endswith("meta")]
    with sql_engine.begin() as conn:
        if sql_engine.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE " + ", ".join(t.name for t in tables))
        else:
            for t in tables:
                conn.execute(sa.delete(t))
    return sql_engine
