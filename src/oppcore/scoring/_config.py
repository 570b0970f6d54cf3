"""Scorecards as data: load from and dump to a dict or TOML, with every problem listed.

The format (TOML shown; the dict form has the same shape)::

    name = "default"
    missing_data = "exclude"      # or "value"
    missing_value = 0.5           # used by "value"

    [grades]                      # highest first; the lowest must be 0
    A = 75
    B = 50
    C = 25
    D = 0

    [caps]                        # most points a dimension may give
    competition = 15

    [rules.urgency]               # a rule by id
    weight = 25
    [rules.urgency.params]        # the rule's parameters (see each rule's docs)
    close_horizon_days = 120

    [rules.big_budget]            # a second rule of a built-in type, with its own id
    type = "budget"
    weight = 10

Rules are built only from known types (the four built-ins and the rules a host passes in,
e.g. from plugins); nothing in a file is evaluated as code.
"""

import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from oppcore._errors import ConfigError

from ._builtin import BudgetRule, CompetitionRule, DecisionCycleRule, UrgencyRule
from ._rule import ScoringRule
from ._scorecard import Scorecard

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["scorecard_from_dict", "scorecard_from_toml", "scorecard_to_dict",
           "scorecard_to_toml"]

_BUILTIN: Final[tuple[ScoringRule, ...]] = (UrgencyRule(), BudgetRule(), DecisionCycleRule(),
                                            CompetitionRule())
_TOP_KEYS: Final = frozenset({"name", "missing_data", "missing_value", "grades", "caps",
                              "rules"})
_RULE_KEYS: Final = frozenset({"type", "weight", "params"})


def _available(extra: Iterable[ScoringRule]) -> dict[str, ScoringRule]:
    out: dict[str, ScoringRule] = {r.rule_id: r for r in _BUILTIN}
    for r in extra:
        out[r.rule_id] = r
    return out


def _param_names(rule: ScoringRule) -> frozenset[str] | None:
    cls = type(rule)
    if not attrs.has(cls):
        return None
    # eq=False fields (a FunctionRule's function, caches) are not parameters a file can set.
    return frozenset(f.name for f in attrs.fields(cls)
                     if f.init and f.eq and f.name != "rule_id")


def _build_rule(key: str, spec: Any, available: Mapping[str, ScoringRule],
                problems: list[tuple[str, str]]) -> tuple[ScoringRule, Any] | None:
    path = f"rules.{key}"
    if not isinstance(spec, Mapping):
        problems.append((path, f"must be a table with a weight, got {type(spec).__name__}"))
        return None
    problems.extend((f"{path}.{k}", "unknown key; expected type, weight or params")
                    for k in spec if k not in _RULE_KEYS)
    rtype = spec.get("type", key)
    weight = spec.get("weight")
    if "weight" not in spec:
        problems.append((f"{path}.weight", "missing: every rule needs a weight"))
    elif type(weight) not in (int, float) or not 0 <= weight < math.inf:  # type: ignore[operator]
        problems.append((f"{path}.weight", f"must be a number >= 0, got {weight!r}"))
    base = available.get(rtype) if type(rtype) is str else None
    if base is None:
        known = ", ".join(sorted(available))
        problems.append((f"{path}.type" if "type" in spec else path,
                         (f"unknown rule {rtype!r}; known rules: {known} (plugin rules must "
                         "be loaded and passed in)")))
        return None
    params = spec.get("params", {})
    if not isinstance(params, Mapping):
        problems.append((f"{path}.params", "must be a table of parameters"))
        return None
    changes = dict(params)
    if key != base.rule_id:
        changes["rule_id"] = key
    if not changes:
        return base, weight
    names = _param_names(base)
    if names is None:
        problems.append((f"{path}.params", f"rule {rtype!r} takes no parameters"))
        return None
    bad = sorted(set(params) - names)
    takes = ", ".join(sorted(names))
    problems.extend((f"{path}.params.{name}", f"unknown parameter; {rtype!r} takes: {takes}")
                    for name in bad)
    if bad:
        return None
    try:
        return attrs.evolve(base, **changes), weight  # type: ignore[misc]  # attrs.has above
    except ConfigError as exc:
        problems.extend((f"{path}.params.{p}", m) for p, m in exc.problems)
    except (TypeError, ValueError) as exc:
        problems.append((f"{path}.params", str(exc)))
    return None


def scorecard_from_dict(data: Mapping[str, Any], *, rules: Iterable[ScoringRule] = (),
                        source: str = "scorecard") -> Scorecard:
    """Build a scorecard from its dict form (see the module docs for the format).

    Args:
        data: The scorecard document.
        rules: Extra rules the document may refer to by id (e.g. loaded plugins).
        source: Named in error messages (a file name).

    Returns:
        The validated scorecard.

    Raises:
        ConfigError: Listing every problem found, each with its path.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise ConfigError([("", f"a scorecard must be a table, got {type(data).__name__}")],
                          source=source)
    expected = ", ".join(sorted(_TOP_KEYS))
    problems.extend((str(k), f"unknown key; expected one of {expected}")
                    for k in data if k not in _TOP_KEYS)
    available = _available(rules)
    spec = data.get("rules")
    built: list[ScoringRule] = []
    weights: dict[str, Any] = {}
    if not isinstance(spec, Mapping) or not spec:
        problems.append(("rules", "must be a non-empty table of rules by id"))
    else:
        for key, rule_spec in spec.items():
            got = _build_rule(str(key), rule_spec, available, problems)
            if got is not None:
                built.append(got[0])
                weights[got[0].rule_id] = got[1]
    kwargs: dict[str, Any] = {"rules": tuple(built), "weights": weights}
    for key, field in (("name", "name"), ("missing_data", "missing"),
                       ("missing_value", "missing_value"), ("grades", "grades"),
                       ("caps", "caps")):
        if key in data:
            kwargs[field] = data[key]
    try:
        card = Scorecard(**kwargs)
    except ConfigError as exc:
        seen = {p for p, _ in problems}
        for path, message in exc.problems:
            path = _config_path(path, built)
            if path == "rules" and any(x.startswith("rules.") for x in seen):
                continue  # every rule failed: already reported entry by entry
            if path not in seen:  # else already reported against the rule entry
                problems.append((path, message))
        card = None
    except (TypeError, ValueError) as exc:  # a converter met a value of the wrong shape
        problems.append(("", str(exc)))
        card = None
    if problems or card is None:
        raise ConfigError(problems, source=source)
    return card


def _config_path(path: str, built: list[ScoringRule]) -> str:
    if path.startswith("weights."):
        return f"rules.{path[8:]}.weight"
    if path == "missing":
        return "missing_data"
    m = re.fullmatch(r"rules\[(\d+)\]", path)
    if m and int(m.group(1)) < len(built):
        return f"rules.{built[int(m.group(1))].rule_id}"
    return path


def scorecard_from_toml(text: str, *, rules: Iterable[ScoringRule] = (),
                        source: str = "scorecard.toml") -> Scorecard:
    """Build a scorecard from TOML text.

    Args:
        text: The TOML document.
        rules: Extra rules the document may refer to by id (e.g. loaded plugins).
        source: Named in error messages (a file name).

    Raises:
        ConfigError: If the TOML does not parse, or listing every problem in it.
    """
    if not isinstance(text, str):
        raise ConfigError([("", f"expected TOML text, got {type(text).__name__}")],
                          source=source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([("", f"invalid TOML: {exc}")], source=source) from exc
    return scorecard_from_dict(data, rules=rules, source=source)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list, frozenset)):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum
        return value.value
    return value


def scorecard_to_dict(card: Scorecard) -> dict[str, Any]:
    """Return the dict form of ``card``; :func:`scorecard_from_dict` reads it back.

    Parameters equal to the rule type's defaults are left out, so the document shows only
    what was tuned.
    """
    available = _available(())
    rules: dict[str, Any] = {}
    for r in card.rules:
        rtype = getattr(type(r), "rule_type", None)
        base = available.get(rtype) if isinstance(rtype, str) and type(
            available.get(rtype)) is type(r) else None
        entry: dict[str, Any] = {}
        if base is not None and rtype != r.rule_id:
            entry["type"] = rtype
        entry["weight"] = card.weights[r.rule_id]
        if base is not None:
            names = _param_names(r) or frozenset()
            params = {n: _plain(getattr(r, n)) for n in sorted(names)
                      if getattr(r, n) != getattr(base, n)}
            if params:
                entry["params"] = params
        rules[r.rule_id] = entry
    out: dict[str, Any] = {"name": card.name, "missing_data": card.missing.value,
                           "missing_value": card.missing_value,
                           "grades": dict(card.grades)}
    if card.caps:
        out["caps"] = dict(card.caps)
    out["rules"] = rules
    return out


_BARE: Final = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else json.dumps(k)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError([("", f"{v!r} cannot be written to TOML")])
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    raise ConfigError([("", f"cannot write {type(v).__name__} to TOML")])


def _emit(table: Mapping[str, Any], prefix: str, lines: list[str]) -> None:
    subtables = []
    for k, v in table.items():
        if isinstance(v, Mapping):
            subtables.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in subtables:
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        lines.extend(("", f"[{name}]"))
        _emit(v, name, lines)


def scorecard_to_toml(card: Scorecard) -> str:
    """Return ``card`` as TOML text; :func:`scorecard_from_toml` reads it back."""
    lines: list[str] = []
    _emit(scorecard_to_dict(card), "", lines)
    return "\n".join(lines) + "\n"
