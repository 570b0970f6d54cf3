"""Plugin discovery through the ``oppcore.scoring_rules`` entry-point group."""

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from oppcore import PluginError, UrgencyRule, load_plugins

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "scoring_plugin"
GROUP = "oppcore.scoring_rules"


def eps(*pairs: tuple[str, str]) -> list[EntryPoint]:
    return [EntryPoint(name=n, value=v, group=GROUP) for n, v in pairs]


def test_rule_class_instance_and_factory_are_accepted() -> None:
    got = load_plugins(entry_points_fn=lambda group: eps(
        ("cls", "oppcore:UrgencyRule"),
        ("factory", "oppcore:Scorecard.default"),  # returns a Scorecard: not rules
    ), collect=True)
    assert [r.rule_id for r in got.rules] == ["urgency"]
    assert isinstance(got.rule("urgency"), UrgencyRule)
    assert [f.name for f in got.failures] == ["factory"]
    assert "not a scoring rule" in str(got.failures[0])


def test_failures_name_the_plugin_and_strict_mode_raises() -> None:
    found = eps(("ok", "oppcore:UrgencyRule"), ("broken", "no_such_module_xyz:rule"),
                ("nobuild", "oppcore:Money"), ("dup", "oppcore:UrgencyRule"))
    got = load_plugins(entry_points_fn=lambda group: found, collect=True)
    assert [r.rule_id for r in got.rules] == ["urgency"]
    assert [p.name for p in got.plugins] == ["ok"]
    by_name = {f.name: str(f) for f in got.failures}
    assert set(by_name) == {"broken", "nobuild", "dup"}
    assert "failed to import" in by_name["broken"]
    assert "failed to build" in by_name["nobuild"]
    assert "already provided" in by_name["dup"]
    with pytest.raises(PluginError) as info:
        load_plugins(entry_points_fn=lambda group: found)
    assert info.value.name == "broken"


def test_names_filter_and_missing_name() -> None:
    found = eps(("a", "oppcore:UrgencyRule"), ("b", "oppcore:BudgetRule"))
    got = load_plugins(names=["b"], entry_points_fn=lambda group: found)
    assert [r.rule_id for r in got.rules] == ["budget"]
    with pytest.raises(PluginError, match="no entry point named 'zzz'"):
        load_plugins(names=["zzz"], entry_points_fn=lambda group: found)
    assert load_plugins(names=["zzz"], collect=True,
                        entry_points_fn=lambda group: found).failures[0].name == "zzz"


def test_import_does_not_load_plugins() -> None:
    code = ("import sys, oppcore; import importlib.metadata as m; "
            "print(any(k.startswith('oppcore_scoring_example') for k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_example_plugin_is_discovered_through_its_entry_point(
    tmp_path: Path, install_example_plugin: Callable[[Path], None]
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_example_plugin(site)
    script = textwrap.dedent("""
        from datetime import datetime, timedelta, timezone
        from oppcore import (Activity, ActivityKind, Opportunity, Scorecard, load_plugins)
        now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        plugins = load_plugins()
        info = plugins.plugins[0]
        print("found", info.name, info.distribution, info.version, info.rule_ids)
        card = Scorecard.from_toml('''
        [rules.engagement]
        weight = 1
        [rules.engagement.params]
        target = 2
        ''', rules=plugins.rules)
        opp = Opportunity(id="o1", name="d", pipeline_id="standard",
                          stage_id="solution", created_at=now - timedelta(days=60),
                          activities=(Activity(id="a", kind=ActivityKind.CALL,
                                               at=now - timedelta(days=1), by="rep"),))
        score = card.score(opp, now=now)
        print("score", score.total, score.contributions[0].reasons[0].code)
    """)
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=tmp_path, check=False)
    assert out.returncode == 0, out.stderr
    assert "found engagement oppcore-scoring-example 0.1.0 ('engagement',)" in out.stdout
    assert "score 50.00 recent_touches" in out.stdout
    # the plugin's own test suite passes against the installed copy
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(PLUGIN / "tests")], capture_output=True, text=True, env=env,
                           cwd=tmp_path, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout
