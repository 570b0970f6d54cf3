"""A scorecard's configuration checks and converters (every problem listed at once)."""

import math
from collections.abc import Mapping
from typing import Any, Final

from oppcore._frozenmap import FrozenMap

from ._score import MissingDataPolicy

__all__ = ["DEFAULT_GRADES", "grades", "floats", "number", "policy", "problems", "tuple_of"]

DEFAULT_GRADES: Final = (("A", 75.0), ("B", 50.0), ("C", 25.0), ("D", 0.0))


def grades(v: Any) -> Any:
    if isinstance(v, Mapping):
        v = tuple(v.items())
    if isinstance(v, (list, tuple)):
        out = []
        for item in v:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                name, t = item
                out.append((name, float(t) if type(t) is int else t))
            else:
                out.append(item)
        return tuple(sorted(out, key=lambda g: -g[1] if isinstance(g, tuple)
                            and type(g[1]) is float else 0))
    return v


def floats(v: Any) -> Any:
    if isinstance(v, Mapping):
        return FrozenMap({k: float(x) if type(x) is int else x for k, x in v.items()})
    return v


def number(v: Any) -> Any:
    return float(v) if type(v) is int else v


def tuple_of(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def policy(v: Any) -> Any:
    try:
        return MissingDataPolicy(v)
    except ValueError:
        return v


def problems(card: Any) -> list[tuple[str, str]]:
    # ``Any``: the fields may hold anything a caller passed; this is where it is checked.
    p: list[tuple[str, str]] = []
    if type(card.name) is not str or not card.name.strip():
        p.append(("name", f"must be a non-empty string, got {card.name!r}"))
    ids: set[str] = set()
    dims: set[str] = set()
    if not isinstance(card.rules, tuple) or not card.rules:
        p.append(("rules", "must be a non-empty sequence of rules"))
    else:
        for i, r in enumerate(card.rules):
            rid = getattr(r, "rule_id", None)
            if type(rid) is not str or not rid or not callable(getattr(r, "evaluate", None)) \
                    or type(getattr(r, "dimension", None)) is not str:
                p.append((f"rules[{i}]", (f"{r!r} is not a ScoringRule (needs rule_id, "
                          "dimension and evaluate)")))
                continue
            if rid in ids:
                p.append((f"rules[{i}]", f"duplicate rule id {rid!r}"))
            ids.add(rid)
            dims.add(r.dimension)
    if not isinstance(card.weights, Mapping):
        p.append(("weights", "must be a mapping of rule id to weight"))
    else:
        p.extend((f"weights.{rid}", "missing: every rule needs a weight")
                 for rid in sorted(ids - set(card.weights)))
        for rid, w in card.weights.items():
            if rid not in ids:
                p.append((f"weights.{rid}", "no rule with this id in the scorecard"))
            elif type(w) is not float or not 0.0 <= w < math.inf:
                p.append((f"weights.{rid}", f"must be a finite number >= 0, got {w!r}"))
        if ids and all(type(w) is float and w == 0.0 for w in card.weights.values()):
            p.append(("weights", "at least one weight must be positive"))
    if not isinstance(card.caps, Mapping):
        p.append(("caps", "must be a mapping of dimension to points"))
    else:
        for dim, cap in card.caps.items():
            if dim not in dims:
                p.append((f"caps.{dim}", f"no rule has dimension {dim!r}"))
            if type(cap) is not float or not 0.0 <= cap <= 100.0:
                p.append((f"caps.{dim}", (f"must be a number of points in [0, 100], got "
                          f"{cap!r}")))
    g = card.grades
    if not isinstance(g, tuple) or not g or not all(
            isinstance(x, tuple) and len(x) == 2 and type(x[0]) is str and x[0]
            and type(x[1]) is float for x in g):
        p.append(("grades", ("must be (grade name, threshold) pairs, e.g. {A = 75, B = 50, "
                  "C = 25, D = 0}")))
    else:
        names = [x[0] for x in g]
        if len(set(names)) != len(names):
            p.append(("grades", "grade names must be unique"))
        for name, t in g:
            if not 0.0 <= t <= 100.0:
                p.append((f"grades.{name}", f"threshold must be in [0, 100], got {t!r}"))
        if g[-1][1] != 0.0:
            p.append(("grades", ("the lowest grade's threshold must be 0 so every total "
                      "gets a grade")))
    if not isinstance(card.missing, MissingDataPolicy):
        p.append(("missing", f"must be 'exclude' or 'value', got {card.missing!r}"))
    mv = card.missing_value
    if type(mv) is not float or not 0.0 <= mv <= 1.0:
        p.append(("missing_value", f"must be a number in [0, 1], got {mv!r}"))
    return p

