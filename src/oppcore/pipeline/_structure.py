"""Structural validation of a pipeline: every problem at once, each with its path."""

from collections import deque
from typing import TYPE_CHECKING

from ._aftersales import AfterSalesPlan
from ._requirements import GuardRegistry, RequireGuard, RequireLostReason, requirement_problem
from ._stage import ForecastCategory, Stage, StageKind
from ._transitions import TransitionPolicy, move_violation

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = ["structural_problems"]


def _text_problem(value: object) -> str | None:
    if type(value) is not str or not value.strip():
        return f"must be a non-empty string, got {value!r}"
    return None


def structural_problems(p: "Pipeline") -> list[tuple[str, str]]:
    """Return every structural problem of a pipeline as ``(path, message)`` pairs."""
    problems: list[tuple[str, str]] = []
    for name in ("id", "label"):
        msg = _text_problem(getattr(p, name))
        if msg:
            problems.append((name, msg))
    if type(p.description) is not str:
        problems.append(("description", "must be a string"))
    aftersales: object = p.aftersales
    if aftersales is not None and not isinstance(aftersales, AfterSalesPlan):
        problems.append(("aftersales", "must be an AfterSalesPlan or None"))
    # Pipelines built in Python bypass the loader: check the types the annotations promise.
    policy: object = p.policy
    registry: object = p.guards
    if not isinstance(policy, TransitionPolicy):
        problems.append(("transitions", "must be a TransitionPolicy"))
        return problems
    if not isinstance(registry, GuardRegistry):
        problems.append(("guards", "must be a GuardRegistry"))
        return problems
    stages = p.stages
    if not stages:
        return [*problems, ("stages", "a pipeline needs at least one stage")]
    seen: dict[str, int] = {}
    ok = True
    items: tuple[object, ...] = stages
    for i, s in enumerate(items):
        if not isinstance(s, Stage):
            problems.append((f"stages[{i}]", f"must be a Stage, got {type(s).__name__}"))
            ok = False
            continue
        if s.id in seen:
            problems.append((f"stages[{i}].id", (f"duplicate stage id {s.id!r} (also "
                             f"stages[{seen[s.id]}])")))
        else:
            seen[s.id] = i
        problems.extend(_stage_problems(p, i, s))
    if not ok:
        return problems
    kinds = {s.kind for s in stages}
    if stages[0].kind is not StageKind.OPEN:
        problems.append(("stages[0].kind", ("the first stage must be an open stage (new "
                         "deals start there)")))
    problems.extend(("stages", f"a pipeline needs at least one {kind.value} stage")
                    for kind in StageKind if kind not in kinds)
    problems.extend(_table_problems(p, seen))
    if not problems:
        problems.extend(_reachability_problems(p))
    return problems


def _stage_problems(p: "Pipeline", i: int, s: Stage) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = f"stages[{i}]"
    if s.kind is StageKind.WON:
        if s.probability != 1.0:
            out.append((f"{at}.probability", (f"a won stage has probability 1, got "
                        f"{s.probability}")))
        if s.forecast_category is not ForecastCategory.CLOSED:
            out.append((f"{at}.forecast_category", ("a won stage is in forecast category "
                        "'closed'")))
    elif s.kind is StageKind.LOST:
        if s.probability != 0.0:
            out.append((f"{at}.probability", (f"a lost stage has probability 0, got "
                        f"{s.probability}")))
        if s.forecast_category is not ForecastCategory.OMITTED:
            out.append((f"{at}.forecast_category", ("a lost stage is in forecast category "
                        "'omitted'")))
    elif s.forecast_category is ForecastCategory.CLOSED:
        out.append((f"{at}.forecast_category", "only won stages are in category 'closed'"))
    reqs: tuple[object, ...] = s.requirements
    for j, req in enumerate(reqs):
        where = f"{at}.requirements[{j}]"
        problem = requirement_problem(req)  # Stage refuses these; kept for a forged one
        if problem is not None:
            out.append((where, problem))
        elif isinstance(req, RequireGuard) and req.name not in p.guards:
            known = ", ".join(sorted(p.guards)) or "none registered"
            out.append((f"{where}.name", f"unknown guard {req.name!r} (known: {known})"))
        elif isinstance(req, RequireLostReason) and s.kind is not StageKind.LOST:
            out.append((where, "a lost-reason requirement belongs on a lost stage"))
    return out


def _table_problems(p: "Pipeline", ids: dict[str, int]) -> list[tuple[str, str]]:
    table = p.policy.table
    if table is None:
        return []
    out: list[tuple[str, str]] = []
    for src, dsts in table.items():
        if src not in ids:
            out.append((f"transitions.table.{src}", f"unknown stage {src!r}"))
        for k, dst in enumerate(dsts):
            if dst not in ids:
                out.append((f"transitions.table.{src}[{k}]", f"unknown stage {dst!r}"))
            elif dst == src:
                out.append((f"transitions.table.{src}[{k}]", "a stage cannot move to itself"))
    return out


def _reachability_problems(p: "Pipeline") -> list[tuple[str, str]]:
    """Every stage reachable from the first; every open stage able to reach a close."""
    n = len(p.stages)
    edges = [[j for j in range(n) if j != i and move_violation(p, i, j) is None]
             for i in range(n)]
    reached = {0}
    queue = deque([0])
    while queue:
        for j in edges[queue.popleft()]:
            if j not in reached:
                reached.add(j)
                queue.append(j)
    out = [(f"stages[{i}]", f"stage {s.id!r} cannot be reached from {p.stages[0].id!r}")
           for i, s in enumerate(p.stages) if i not in reached]
    closing = {i for i, s in enumerate(p.stages) if s.is_closed}
    changed = True
    while changed:  # backwards closure: stages from which some closed stage is reachable
        changed = False
        for i in range(n):
            if i not in closing and any(j in closing for j in edges[i]):
                closing.add(i)
                changed = True
    out += [(f"stages[{i}]", f"deals in {s.id!r} can never be won or lost (no way out)")
            for i, s in enumerate(p.stages) if i not in closing]
    return out
