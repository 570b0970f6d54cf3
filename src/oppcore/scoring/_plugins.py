"""Third-party scoring rules from the ``oppcore.scoring_rules`` entry-point group.

Nothing is discovered at import time: a host calls :func:`load_plugins` when it wants
plugin rules. An entry point may name a rule class (built with no arguments), a rule
instance, or a factory returning one rule or an iterable of rules.
"""

from collections.abc import Callable, Collection, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final

import attrs

from oppcore._errors import PluginError

from ._rule import ScoringRule

__all__ = ["ENTRY_POINT_GROUP", "LoadedPlugins", "PluginInfo", "load_plugins"]

ENTRY_POINT_GROUP: Final = "oppcore.scoring_rules"
"""The entry-point group scoring plugins register under."""


@attrs.frozen(kw_only=True)
class PluginInfo:
    """Where loaded rules came from.

    Args:
        name: The entry point's name.
        value: The entry point's target (``"package.module:attr"``).
        distribution: The distribution that declared it, if known.
        version: That distribution's version, if known.
        rule_ids: The ids of the rules it provided.
    """

    name: str
    value: str
    distribution: str | None
    version: str | None
    rule_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class LoadedPlugins:
    """What :func:`load_plugins` found.

    Args:
        rules: The rules that loaded, in entry-point order; pass them to
            :meth:`Scorecard.from_dict <oppcore.Scorecard.from_dict>` or a
            :class:`~oppcore.Scorecard`.
        plugins: One entry per plugin that loaded.
        failures: One :class:`~oppcore.PluginError` per plugin that failed (collect mode).
    """

    rules: tuple[ScoringRule, ...] = ()
    plugins: tuple[PluginInfo, ...] = ()
    failures: tuple[PluginError, ...] = ()

    def rule(self, rule_id: str) -> ScoringRule:
        """Return the loaded rule with ``rule_id``.

        Raises:
            KeyError: If no plugin provided it.
        """
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(f"no plugin provided a rule {rule_id!r}")


def _is_rule(obj: object) -> bool:
    rid = getattr(obj, "rule_id", None)
    return (type(rid) is str and bool(rid) and type(getattr(obj, "dimension", None)) is str
            and callable(getattr(obj, "evaluate", None)) and not isinstance(obj, type))


def _rules_from(obj: Any) -> tuple[ScoringRule, ...]:
    if isinstance(obj, type):
        built = obj()
        if not _is_rule(built):
            raise TypeError(f"class {obj.__name__} does not build a scoring rule (needs "
                            "rule_id, dimension and evaluate)")
        return (built,)
    if _is_rule(obj):
        return (obj,)
    if callable(obj):
        out = obj()
        if _is_rule(out):
            return (out,)
        if isinstance(out, Iterable) and not isinstance(out, (str, bytes)):
            items = tuple(out)
            bad = [x for x in items if not _is_rule(x)]
            if bad:
                raise TypeError(f"factory returned {bad[0]!r}, not a scoring rule")
            if not items:
                raise TypeError("factory returned no rules")
            return items
        raise TypeError(f"factory returned {out!r}, not a scoring rule or rules")
    raise TypeError(f"{obj!r} is not a rule class, a rule or a factory of rules")


def _origin(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    try:
        return dist.metadata["Name"], dist.version
    except Exception:  # broken metadata must not hide the real failure
        return None, None


def load_plugins(
    *,
    names: Collection[str] | None = None,
    collect: bool = False,
    group: str = ENTRY_POINT_GROUP,
    entry_points_fn: Callable[..., Iterable[EntryPoint]] | None = None,
) -> LoadedPlugins:
    """Discover and build the scoring rules that installed plugins declare.

    Args:
        names: Only load the entry points with these names (default: all in the group).
        collect: Keep going past failures and return them in ``failures``; by default the
            first failure raises.
        group: The entry-point group (default ``"oppcore.scoring_rules"``).
        entry_points_fn: Where entry points come from; defaults to
            :func:`importlib.metadata.entry_points` (tests may inject their own).

    Returns:
        The loaded rules, where they came from, and (in collect mode) the failures.

    Raises:
        PluginError: Unless ``collect``: a plugin failed to import, to build its rules,
            gave something that is not a rule, or reused a rule id another plugin took.
            The error names the entry point, distribution and version.
    """
    found = (entry_points_fn or entry_points)(group=group)
    wanted = None if names is None else frozenset(names)
    rules: list[ScoringRule] = []
    plugins: list[PluginInfo] = []
    failures: list[PluginError] = []
    taken: dict[str, str] = {}
    seen: set[str] = set()
    for ep in found:
        if wanted is not None and ep.name not in wanted:
            continue
        if ep.name in seen:  # the same distribution found twice on sys.path
            continue
        seen.add(ep.name)
        dist, version = _origin(ep)
        try:
            try:
                obj = ep.load()
            except Exception as exc:
                raise PluginError(ep.name, f"failed to import {ep.value!r}: "
                                  f"{type(exc).__name__}: {exc}", distribution=dist,
                                  version=version) from exc
            try:
                got = _rules_from(obj)
            except Exception as exc:
                raise PluginError(ep.name, f"failed to build rules from {ep.value!r}: "
                                  f"{type(exc).__name__}: {exc}", distribution=dist,
                                  version=version) from exc
            for r in got:
                if r.rule_id in taken:
                    raise PluginError(ep.name, f"rule id {r.rule_id!r} is already provided "
                                      f"by plugin {taken[r.rule_id]!r}", distribution=dist,
                                      version=version)
        except PluginError as err:
            if not collect:
                raise
            failures.append(err)
            continue
        for r in got:
            taken[r.rule_id] = ep.name
        rules.extend(got)
        plugins.append(PluginInfo(name=ep.name, value=ep.value, distribution=dist,
                                  version=version, rule_ids=tuple(r.rule_id for r in got)))
    for name in sorted(wanted - seen) if wanted is not None else ():
        missing = PluginError(name, f"no entry point named {name!r} in group {group!r}")
        if not collect:
            raise missing
        failures.append(missing)
    return LoadedPlugins(rules=tuple(rules), plugins=tuple(plugins), failures=tuple(failures))
