"""The ``aftersales`` table of a pipeline configuration: read with every problem listed.

The same mechanism as the rest of the loader (:mod:`._config`): problems are collected as
``(path, message)`` pairs and the loader raises one :class:`~oppcore.ConfigError` with all
of them. The format::

    [aftersales]
    label = "After-sales service"

    [[aftersales.tasks]]
    id = "satisfaction_survey"
    label = "Satisfaction survey"
    anchor = "won"            # won | contract_start | contract_end | good_survey
    offset_days = 30          # negative: before the anchor
    business_days = false
    kind = "survey"           # optional: an activity kind that completes the task
"""

from collections.abc import Mapping
from typing import Any, Final

from oppcore._records import ActivityKind

from ._aftersales import AfterSalesPlan, Anchor, PlanTask
from ._config import Problems, _bool, _build, _enum, _text, _unknown_keys

__all__ = ["plan_from_data", "plan_to_data"]

_PLAN_KEYS: Final = frozenset({"label", "tasks"})
_TASK_KEYS: Final = frozenset({"id", "label", "anchor", "offset_days", "business_days",
                               "kind"})


def _task(data: Any, path: str, problems: Problems) -> PlanTask | None:
    if not isinstance(data, Mapping):
        problems.append((path, f"must be a table, got {type(data).__name__}"))
        return None
    before = len(problems)
    _unknown_keys(data, _TASK_KEYS, path, problems)
    tid = _text(data, "id", f"{path}.id", problems)
    label = _text(data, "label", f"{path}.label", problems, default=tid)
    anchor = _enum(Anchor, data.get("anchor", "won"), f"{path}.anchor", problems)
    kind = (_enum(ActivityKind, data["kind"], f"{path}.kind", problems)
            if data.get("kind") is not None else None)
    business = _bool(data, "business_days", path, problems)
    offset = data.get("offset_days", 0)
    if len(problems) > before:
        # Still check the offset, so that one pass names every problem of the task.
        _build(PlanTask, path, problems, id="x", label="x", offset_days=offset)
        return None
    task: PlanTask | None = _build(PlanTask, path, problems, id=tid, label=label,
                                   anchor=anchor, offset_days=offset,
                                   business_days=business, kind=kind)
    return task


def plan_from_data(data: Any, problems: Problems) -> AfterSalesPlan | None:
    """Read the ``aftersales`` table; append every problem to ``problems``."""
    path = "aftersales"
    if not isinstance(data, Mapping):
        problems.append((path, f"must be a table, got {type(data).__name__}"))
        return None
    before = len(problems)
    _unknown_keys(data, _PLAN_KEYS, path, problems)
    label = data.get("label", "After-sales service (售后服务)")
    if type(label) is not str or not label.strip():
        problems.append((f"{path}.label", f"must be a non-empty string, got {label!r}"))
    raw = data.get("tasks", ())
    tasks: list[PlanTask] = []
    if not isinstance(raw, (list, tuple)):
        problems.append((f"{path}.tasks", "must be a list of tables"))
    else:
        seen: dict[str, int] = {}
        for i, item in enumerate(raw):
            task = _task(item, f"{path}.tasks[{i}]", problems)
            tid = item.get("id") if isinstance(item, Mapping) else None
            if isinstance(tid, str):  # checked on every task, broken or not
                if tid in seen:
                    problems.append((f"{path}.tasks[{i}].id", (f"task id {tid!r} is already "
                                     f"used by tasks[{seen[tid]}]")))
                seen.setdefault(tid, i)
            if task is not None:
                tasks.append(task)
    if len(problems) > before:
        return None
    plan: AfterSalesPlan | None = _build(AfterSalesPlan, path, problems, tasks=tuple(tasks),
                                         label=label)
    return plan


def plan_to_data(plan: AfterSalesPlan) -> dict[str, Any]:
    """Return ``plan`` as the plain data :func:`plan_from_data` reads back."""
    tasks = []
    for t in plan.tasks:
        item: dict[str, Any] = {"id": t.id, "label": t.label, "anchor": t.anchor.value,
                                "offset_days": t.offset_days,
                                "business_days": t.business_days}
        if t.kind is not None:
            item["kind"] = t.kind.value
        tasks.append(item)
    return {"label": plan.label, "tasks": tasks}
