"""Loading pipelines from plain data, TOML and JSON, with every problem reported at once.

Nothing in a configuration is evaluated: values are read as data, guard names are looked
up in the registry the caller passes, cadences are parsed by a small closed grammar.
"""

import json
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from oppcore._errors import ConfigError, ValidationError
from oppcore._records import ActivityKind, QuoteStatus

from ._cadence import cadence_parts
from ._pipeline import Pipeline
from ._requirements import (
    GuardRegistry,
    RequireActivity,
    RequireFields,
    RequireGuard,
    RequireLostReason,
    Requirement,
    RequireQualification,
    RequireQuote,
)
from ._stage import FollowUp, ForecastCategory, Guidance, Stage, StageKind
from ._transitions import TransitionPolicy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["from_dict", "load_text", "to_dict"]

Problems = list[tuple[str, str]]

_ROOT_KEYS: Final = frozenset({"id", "label", "description", "calendar", "stages",
                               "transitions", "aftersales"})
_STAGE_KEYS: Final = frozenset({"id", "label", "kind", "probability", "forecast_category",
                                "guidance", "requirements", "follow_up"})
_POLICY_KEYS: Final = frozenset({"allow_skip", "allow_backward", "allow_reopen", "table"})
_GUIDANCE_KEYS: Final = frozenset({"summary", "actions", "documents", "key_fields"})
_FOLLOW_UP_KEYS: Final = frozenset({"max_days", "cadence", "business_days"})
# Each built-in kind by its stable configuration name, with its allowed and required keys.
_REQUIREMENT_KEYS: Final = {cls.requirement_type: (cls, allowed, required) for cls, allowed,
                            required in (
    (RequireFields, frozenset({"fields"}), frozenset({"fields"})),
    (RequireQualification, frozenset({"parts", "budget_confirmed"}), frozenset({"parts"})),
    (RequireActivity, frozenset({"kind", "min_count"}), frozenset({"kind"})),
    (RequireQuote, frozenset({"statuses"}), frozenset()),
    (RequireLostReason, frozenset({"reasons"}), frozenset()),
    (RequireGuard, frozenset({"name"}), frozenset({"name"})),
)}
_DEFAULT_PROBABILITY: Final = {StageKind.WON: 1.0, StageKind.LOST: 0.0}
_DEFAULT_CATEGORY: Final = {StageKind.OPEN: ForecastCategory.PIPELINE,
                            StageKind.WON: ForecastCategory.CLOSED,
                            StageKind.LOST: ForecastCategory.OMITTED}


_PLACEHOLDER: Final = RequireFields(fields=())


def _unknown_keys(data: Mapping[Any, Any], allowed: frozenset[str], path: str,
                  problems: Problems) -> None:
    for key in data:
        if key not in allowed:
            problems.append((f"{path}.{key}" if path else str(key),
                             f"unknown key (expected one of: {', '.join(sorted(allowed))})"))


def _text(data: Mapping[Any, Any], key: str, path: str, problems: Problems, *,
          default: str | None = None) -> str | None:
    value = data.get(key, default)
    if value is None:
        problems.append((path, "is required"))
        return None
    if type(value) is not str or not value.strip():
        problems.append((path, f"must be a non-empty string, got {value!r}"))
        return None
    return value


def _bool(data: Mapping[Any, Any], key: str, path: str, problems: Problems) -> bool:
    value = data.get(key, False)
    if type(value) is not bool:
        problems.append((f"{path}.{key}" if path else key, (f"must be true or false, got "
                         f"{value!r}")))
        return False
    return value


def _strings(value: Any, path: str, problems: Problems) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        problems.append((path, f"must be a list of strings, got {type(value).__name__}"))
        return None
    bad = [i for i, v in enumerate(value) if type(v) is not str or not v.strip()]
    for i in bad:
        problems.append((f"{path}[{i}]", f"must be a non-empty string, got {value[i]!r}"))
    return None if bad else tuple(value)


def _enum(cls: Any, value: Any, path: str, problems: Problems) -> Any:
    try:
        return cls(value)
    except (ValueError, TypeError):
        known = ", ".join(repr(m.value) for m in cls)
        problems.append((path, f"unknown value {value!r} (expected one of: {known})"))
        return None


def _build(cls: Any, path: str, problems: Problems, **kwargs: Any) -> Any:
    """Construct ``cls`` and turn a validation failure into a problem at ``path``."""
    try:
        return cls(**kwargs)
    except ValidationError as exc:
        field = getattr(exc, "field", None)
        message = str(exc)
        prefix = f"{cls.__name__}.{field}: " if field else f"{cls.__name__}: "
        message = message.removeprefix(prefix)
        problems.append((f"{path}.{field}" if field else path, message))
    except (ValueError, TypeError) as exc:
        problems.append((path, str(exc)))
    return None


def _requirement(data: Any, path: str, problems: Problems) -> Requirement | None:
    if not isinstance(data, Mapping):
        problems.append((path, f"must be a table with a 'type', got {type(data).__name__}"))
        return None
    kind = data.get("type")
    if kind not in _REQUIREMENT_KEYS:
        problems.append((f"{path}.type", (f"unknown requirement type {kind!r} (expected one "
                         f"of: {', '.join(_REQUIREMENT_KEYS)})")))
        return None
    cls, allowed, required = _REQUIREMENT_KEYS[kind]
    before = len(problems)
    _unknown_keys(data, allowed | {"type"}, path, problems)
    for key in sorted(required - set(data)):
        problems.append((f"{path}.{key}", "is required"))
    kwargs = {k: v for k, v in data.items() if k in allowed}
    for key in ("fields", "parts", "reasons", "statuses"):
        if key in kwargs:
            kwargs[key] = _strings(kwargs[key], f"{path}.{key}", problems)
    if "kind" in kwargs:
        kwargs["kind"] = _enum(ActivityKind, kwargs["kind"], f"{path}.kind", problems)
    if "statuses" in kwargs and kwargs["statuses"] is not None:
        kwargs["statuses"] = tuple(_enum(QuoteStatus, s, f"{path}.statuses[{i}]", problems)
                                   for i, s in enumerate(kwargs["statuses"]))
    if len(problems) > before:
        return None
    result: Requirement | None = _build(cls, path, problems, **kwargs)
    return result


def _guidance(data: Any, path: str, problems: Problems) -> Guidance:
    if isinstance(data, str):
        return Guidance(summary=data)
    if not isinstance(data, Mapping):
        problems.append((path, f"must be text or a table, got {type(data).__name__}"))
        return Guidance()
    before = len(problems)
    _unknown_keys(data, _GUIDANCE_KEYS, path, problems)
    summary = data.get("summary", "")
    if type(summary) is not str:
        problems.append((f"{path}.summary", "must be a string"))
    lists = {k: _strings(data[k], f"{path}.{k}", problems)
             for k in ("actions", "documents", "key_fields") if k in data}
    if len(problems) > before:
        return Guidance()
    built: Guidance | None = _build(Guidance, path, problems, summary=summary, **lists)
    return built or Guidance()


def _follow_up(data: Any, path: str, problems: Problems) -> FollowUp | None:
    if not isinstance(data, Mapping):
        problems.append((path, f"must be a table, got {type(data).__name__}"))
        return None
    before = len(problems)
    _unknown_keys(data, _FOLLOW_UP_KEYS, path, problems)
    if len(problems) > before:
        return None
    fields = dict(data)
    if "cadence" in fields:  # checked apart from max_days so that both get reported
        try:
            cadence_parts(fields["cadence"])
        except ValueError as exc:
            problems.append((f"{path}.cadence", str(exc)))
            del fields["cadence"]
    result: FollowUp | None = _build(FollowUp, path, problems, **fields)
    return None if len(problems) > before else result


def _stage(data: Any, i: int, problems: Problems) -> Stage | None:
    path = f"stages[{i}]"
    if not isinstance(data, Mapping):
        problems.append((path, f"must be a table, got {type(data).__name__}"))
        return None
    _unknown_keys(data, _STAGE_KEYS, path, problems)
    sid = _text(data, "id", f"{path}.id", problems)
    label = _text(data, "label", f"{path}.label", problems, default=sid or "?")
    kind = _enum(StageKind, data.get("kind", "open"), f"{path}.kind", problems)
    kind = kind or StageKind.OPEN
    probability = data.get("probability", _DEFAULT_PROBABILITY.get(kind))
    if probability is None:
        problems.append((f"{path}.probability", "is required for an open stage"))
        probability = 0.0
    elif type(probability) not in (int, float) or not (0 <= probability <= 1):
        shown = "NaN" if isinstance(probability, float) and math.isnan(probability) else (
            repr(probability))
        problems.append((f"{path}.probability", f"must be a number in [0, 1], got {shown}"))
        probability = _DEFAULT_PROBABILITY.get(kind, 0.0)
    category = _enum(ForecastCategory, data.get("forecast_category", _DEFAULT_CATEGORY[kind]),
                     f"{path}.forecast_category", problems) or _DEFAULT_CATEGORY[kind]
    guidance = _guidance(data.get("guidance", ""), f"{path}.guidance", problems)
    follow_up = (_follow_up(data["follow_up"], f"{path}.follow_up", problems)
                 if "follow_up" in data else None)
    raw = data.get("requirements", ())
    requirements: list[Requirement] = []
    if not isinstance(raw, (list, tuple)):
        problems.append((f"{path}.requirements", "must be a list of tables"))
    else:
        for j, item in enumerate(raw):
            req = _requirement(item, f"{path}.requirements[{j}]", problems)
            # A no-op stands in for a broken entry so later paths keep their index.
            requirements.append(req if req is not None else _PLACEHOLDER)
    # Build a best-effort stage even after problems, so the pipeline-level checks
    # (duplicates, reachability, guard names) still run and report in the same pass.
    stage: Stage | None = _build(
        Stage, path, problems, id=sid or f"<stage {i}>", label=label or sid or "?",
        kind=kind, probability=float(probability), forecast_category=category, order=i,
        guidance=guidance, requirements=tuple(requirements), follow_up=follow_up)
    return stage


def _policy(data: Any, problems: Problems) -> TransitionPolicy:
    if not isinstance(data, Mapping):
        problems.append(("transitions", f"must be a table, got {type(data).__name__}"))
        return TransitionPolicy()
    _unknown_keys(data, _POLICY_KEYS, "transitions", problems)
    flags = {k: _bool(data, k, "transitions", problems)
             for k in ("allow_skip", "allow_backward", "allow_reopen")}
    table = data.get("table")
    clean: dict[str, tuple[str, ...]] | None = None
    if table is not None:
        if not isinstance(table, Mapping):
            problems.append(("transitions.table", ("must be a table of stage id -> list of "
                             "stage ids")))
        else:
            clean = {}
            for src, dsts in table.items():
                got = _strings(dsts, f"transitions.table.{src}", problems)
                if type(src) is str and got is not None:
                    clean[src] = got
    return TransitionPolicy(**flags, table=clean)


def from_dict(data: Any, *, guards: GuardRegistry | None = None,
              source: str = "pipeline config") -> Pipeline:
    """Build a :class:`Pipeline` from plain data; see :meth:`Pipeline.from_dict`."""
    if guards is not None and not isinstance(guards, GuardRegistry):
        raise ConfigError([("guards", (f"must be a GuardRegistry, got "
                            f"{type(guards).__name__}"))], source=source)
    if not isinstance(data, Mapping):
        raise ConfigError([("", (f"a pipeline must be a table/object, got "
                            f"{type(data).__name__}"))], source=source)
    problems: Problems = []
    _unknown_keys(data, _ROOT_KEYS, "", problems)
    pid = _text(data, "id", "id", problems)
    label = _text(data, "label", "label", problems, default=pid or "?")
    description = data.get("description", "")
    if type(description) is not str:
        problems.append(("description", "must be a string"))
        description = ""
    calendar = data.get("calendar", "weekends")
    if type(calendar) is not str or not calendar.strip():
        problems.append(("calendar", ("must be a calendar name (\"weekends\", \"CN\") "
                                      "or the path of a TOML calendar file")))
        calendar = "weekends"
    raw = data.get("stages")
    stages: list[Stage] = []
    if not isinstance(raw, (list, tuple)) or not raw:
        problems.append(("stages", "must be a non-empty list of stages"))
    else:
        for i, item in enumerate(raw):
            stage = _stage(item, i, problems)
            if stage is not None:
                stages.append(stage)
    policy = _policy(data.get("transitions", {}), problems)
    aftersales = None
    if "aftersales" in data:
        from ._config_aftersales import plan_from_data

        aftersales = plan_from_data(data["aftersales"], problems)
    if stages and isinstance(raw, (list, tuple)) and len(stages) == len(raw):
        try:
            pipeline = Pipeline(id=pid or "?", label=label or "?", stages=tuple(stages),
                                policy=policy, guards=guards or GuardRegistry(),
                                description=description, aftersales=aftersales,
                                calendar=calendar)
        except ConfigError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
        else:
            if not problems:
                return pipeline
    raise ConfigError(problems, source=source)


def _stage_dict(stage: Stage, i: int, problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {"id": stage.id, "label": stage.label, "kind": stage.kind.value,
                           "probability": stage.probability,
                           "forecast_category": stage.forecast_category.value}
    g = stage.guidance
    if g:
        guide: dict[str, Any] = {"summary": g.summary} if g.summary else {}
        guide.update({k: list(getattr(g, k)) for k in ("actions", "documents", "key_fields")
                      if getattr(g, k)})
        out["guidance"] = guide
    if stage.requirements:
        out["requirements"] = [_requirement_dict(r, f"stages[{i}].requirements[{j}]",
                                                 stage, problems)
                               for j, r in enumerate(stage.requirements)]
    f = stage.follow_up
    if f is not None:
        follow: dict[str, Any] = {"business_days": f.business_days}
        if f.max_days is not None:
            follow["max_days"] = f.max_days
        if f.cadence is not None:
            follow["cadence"] = f.cadence
        out["follow_up"] = follow
    return out


def _requirement_dict(req: Requirement, path: str, stage: Stage,
                      problems: Problems) -> dict[str, Any]:
    kind = getattr(type(req), "requirement_type", None)
    spec = _REQUIREMENT_KEYS.get(kind) if isinstance(kind, str) else None
    if spec is None or spec[0] is not type(req):
        # Exact type on purpose: a subclass may carry a rule the data cannot express, and
        # writing its base kind would drop that rule without a word when read back.
        problems.append((path, (f"{type(req).__qualname__} in stage {stage.id!r} is not a "
                         f"built-in requirement kind, so a configuration cannot express it "
                         f"(built-in kinds: {', '.join(_REQUIREMENT_KEYS)})")))
        return {}
    out: dict[str, Any] = {"type": kind}
    if isinstance(req, RequireFields):
        out["fields"] = list(req.fields)
    elif isinstance(req, RequireQualification):
        out["parts"] = list(req.parts)
        out["budget_confirmed"] = req.budget_confirmed
    elif isinstance(req, RequireActivity):
        out["kind"] = req.kind.value
        out["min_count"] = req.min_count
    elif isinstance(req, RequireQuote):
        out["statuses"] = [s.value for s in req.statuses]
    elif isinstance(req, RequireLostReason):
        out["reasons"] = list(req.reasons)
    elif isinstance(req, RequireGuard):
        out["name"] = req.name
    return out


def to_dict(pipeline: Pipeline) -> dict[str, Any]:
    """Return ``pipeline`` as plain data (JSON- and TOML-ready: no ``None`` values).

    Raises:
        ConfigError: Listing every requirement that is not of a built-in kind (a host's
            own class or a subclass of a built-in): plain data cannot express it.
    """
    policy = pipeline.policy
    transitions: dict[str, Any] = {"allow_skip": policy.allow_skip,
                                   "allow_backward": policy.allow_backward,
                                   "allow_reopen": policy.allow_reopen}
    if policy.table is not None:
        transitions["table"] = {k: list(v) for k, v in policy.table.items()}
    out: dict[str, Any] = {"id": pipeline.id, "label": pipeline.label}
    if pipeline.description:
        out["description"] = pipeline.description
    if pipeline.calendar != "weekends":
        out["calendar"] = pipeline.calendar
    out["transitions"] = transitions
    problems: Problems = []
    out["stages"] = [_stage_dict(s, i, problems) for i, s in enumerate(pipeline.stages)]
    if pipeline.aftersales is not None:
        from ._config_aftersales import plan_to_data

        out["aftersales"] = plan_to_data(pipeline.aftersales)
    if problems:
        raise ConfigError(problems, source=f"pipeline {pipeline.id!r} (to_dict)")
    return out


def _is_path(value: str, suffix: str) -> bool:
    return "\n" not in value and value.strip().lower().endswith(suffix)


def load_text(path_or_text: str | os.PathLike[str], *, fmt: str,
              guards: GuardRegistry | None) -> Pipeline:
    """Read TOML/JSON text or a file and build the pipeline; errors are ConfigErrors."""
    source = f"pipeline {fmt.upper()} text"
    text: Any = path_or_text
    path: Path | None = None
    if isinstance(path_or_text, os.PathLike) or (
            isinstance(path_or_text, str) and _is_path(path_or_text, f".{fmt}")):
        path = Path(path_or_text)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([("", f"cannot read the file: {exc}")], source=source) from exc
    if not isinstance(text, str):
        raise ConfigError([("", f"expected text or a path, got {type(text).__name__}")],
                          source=source)
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError/JSONDecodeError too
        raise ConfigError([("", f"invalid {fmt.upper()}: {exc}")], source=source) from exc
    calendar = data.get("calendar") if isinstance(data, dict) else None
    if path is not None and isinstance(calendar, str) and calendar.endswith(".toml") \
            and not Path(calendar).is_absolute():
        # A calendar file named in a pipeline file lives beside it, wherever we run from.
        data = {**data, "calendar": str(path.parent / calendar)}
    return from_dict(data, guards=guards, source=source)

