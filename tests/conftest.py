"""Shared test configuration: hypothesis profiles sized for a 2-core CI machine, and the
fixtures more than one test module needs (test modules never import each other)."""

import os
import random
import shutil
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, settings

from oppcore import (
    Account,
    Budget,
    Channel,
    Competition,
    CompetitivePosition,
    Competitor,
    Opportunity,
    Qualification,
    Source,
    StageChange,
    Urgency,
    UrgencyLevel,
)
from oppcore._money import Money

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
