"""Transition policy and the pure check/advance functions behind :class:`Pipeline`."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from oppcore._checks import aware, is_text
from oppcore._copying import trusted, trusted_evolve
from oppcore._errors import TransitionError, ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity, Probability, ProbabilitySource
from oppcore._records import StageChange

from ._requirements import Violation
from ._stage import StageKind

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = ["TransitionPolicy", "advance", "check", "move_violation"]


def _stage_ids(value: Any) -> tuple[str, ...]:
    ids = (value,) if isinstance(value, str) else (
        tuple(value) if isinstance(value, Iterable) else None)
    if ids is None or any(type(i) is not str or not i.strip() for i in ids):
        raise ValidationError(f"must map stage ids to stage ids (non-empty strings), got "
                              f"{value!r}", model="TransitionPolicy", field="table",
                              value=value)
    return ids


def _table(value: Any) -> FrozenMap[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError("must be a mapping of stage id to stage ids",
                              model="TransitionPolicy", field="table", value=value)
    _stage_ids(tuple(value))  # the keys: stage ids too
    return FrozenMap((k, _stage_ids(v)) for k, v in value.items())


@attrs.frozen(kw_only=True)
class TransitionPolicy:
    """Which stage moves are legal.

    Without a table the policy is *sequential*: from an open stage a deal moves to the next
    open stage (to a won stage from the last open one) or to any lost stage; won and lost
    stages are terminal. The flags relax this. With a ``table`` exactly the listed moves
    are legal and the flags do not apply.

    Args:
        allow_skip: Allow jumping forward over open stages (and to won from any open stage).
        allow_backward: Allow moving back to an earlier open stage.
        allow_reopen: Allow moving a lost deal back to an open stage (won stays terminal).
        table: Explicit legal moves, ``{from_stage_id: (to_stage_id, ...)}`` (stage ids
            are non-empty strings; a :class:`Pipeline` checks that they name its stages).

    Raises:
        ValidationError: If a flag is not a bool or the table is not a mapping of stage
            ids to stage ids.
    """

    allow_skip: bool = False
    allow_backward: bool = False
    allow_reopen: bool = False
    table: FrozenMap[str, tuple[str, ...]] | None = attrs.field(default=None, converter=_table)

    def __attrs_post_init__(self) -> None:
        for name in ("allow_skip", "allow_backward", "allow_reopen"):
            if type(getattr(self, name)) is not bool:
                raise ValidationError("must be True or False", model="TransitionPolicy",
                                      field=name, value=getattr(self, name))


def move_violation(pipeline: "Pipeline", src: int, dst: int) -> Violation | None:
    """Return why the policy forbids moving from stage index ``src`` to ``dst``, if it does."""
    stages = pipeline.stages
    a, b = stages[src], stages[dst]
    policy = pipeline.policy
    if src == dst:
        return Violation(code="same_stage", stage_id=b.id,
                         message=f"the deal is already in {b.label!r}")
    if policy.table is not None:
        if b.id in policy.table.get(a.id, ()):
            return None
        return Violation(code="transition_not_allowed", stage_id=b.id,
                         message=f"moving from {a.label!r} to {b.label!r} is not allowed")
    if a.kind is StageKind.WON:
        return Violation(code="terminal_stage", stage_id=b.id,
                         message=f"the deal is won ({a.label!r}); won deals do not move")
    if a.kind is StageKind.LOST:
        if b.kind is StageKind.OPEN:
            if policy.allow_reopen:
                return None
            return Violation(code="reopen_not_allowed", stage_id=b.id,
                             message=f"reopening lost deals is not allowed (to {b.label!r})")
        return Violation(code="terminal_stage", stage_id=b.id,
                         message=f"the deal is lost ({a.label!r}); lost deals do not move "
                         f"to {b.label!r}")
    if b.kind is StageKind.LOST:
        return None
    nxt = pipeline.next_open_index(src)
    if b.kind is StageKind.WON:
        if nxt is None or policy.allow_skip:
            return None
        return Violation(code="skip_not_allowed", stage_id=b.id,
                         message=f"the deal must go through {stages[nxt].label!r} before "
                         f"{b.label!r}")
    if dst == nxt:
        return None
    if dst > src:
        if policy.allow_skip:
            return None
        assert nxt is not None  # dst is a later open stage, so there is a next one
        return Violation(code="skip_not_allowed", stage_id=b.id,
                         message=f"the deal must go through {stages[nxt].label!r} before "
                         f"{b.label!r}")
    if policy.allow_backward:
        return None
    return Violation(code="backward_not_allowed", stage_id=b.id,
                     message=f"moving back from {a.label!r} to {b.label!r} is not allowed")


def check(pipeline: "Pipeline", opp: Opportunity, to_stage: str, *, at: datetime,
          reason: str | None = None) -> tuple[Violation, ...]:
    """Return every reason moving ``opp`` to ``to_stage`` at ``at`` is refused (see Pipeline)."""
    aware(at, "at")
    if not isinstance(opp, Opportunity):
        raise ValidationError(f"opp must be an Opportunity, got {type(opp).__name__}",
                              field="opp", value=opp)
    index = pipeline._index
    if opp.pipeline_id != pipeline.id:
        return (Violation(code="wrong_pipeline", message=f"deal {opp.id!r} follows pipeline "
                          f"{opp.pipeline_id!r}, not {pipeline.id!r}"),)
    dst = index.get(to_stage)
    if dst is None:
        return (Violation(code="unknown_stage", stage_id=str(to_stage),
                          message=f"pipeline {pipeline.id!r} has no stage {to_stage!r}"),)
    src = index.get(opp.stage_id)
    if src is None:
        return (Violation(code="unknown_current_stage", stage_id=to_stage,
                          message=f"deal {opp.id!r} is in stage {opp.stage_id!r}, which "
                          f"pipeline {pipeline.id!r} does not have"),)
    found: list[Violation] = []
    illegal = pipeline._moves[src][dst]
    if illegal is not None:
        found.append(illegal)
    history = opp.stage_history
    if history and at < history[-1].at:
        found.append(Violation(code="out_of_order", stage_id=to_stage,
                               message=f"the move at {at.isoformat()} is earlier than the "
                               f"last recorded move ({history[-1].at.isoformat()})"))
    stage = pipeline.stages[dst]
    if stage.requirements:
        guards = pipeline.guards
        for req in stage.requirements:
            # Each requirement evaluates itself: a subclass or a host's own kind is
            # enforced exactly like a built-in. A met requirement returns () (falsy).
            unmet = req.violations(opp, stage, at=at, reason=reason, guards=guards)
            if unmet:
                _collect(req, stage.id, unmet, found)
    return tuple(found) if found else ()


def _collect(req: object, stage_id: str, unmet: Iterable[object],
             found: list[Violation]) -> None:
    """Append what a requirement returned to ``found``, refusing anything but violations."""
    for v in unmet:
        if not isinstance(v, Violation):
            raise ValidationError(f"requirement {req!r} of stage {stage_id!r} returned "
                                  f"{v!r}; violations() must return Violation values",
                                  field="requirements", value=v)
        found.append(v)


def _probabilities(pipeline: "Pipeline", opp: Opportunity, dst: int,
                   ) -> tuple[Probability, Probability | None]:
    """Apply the provenance policy for a move into stage index ``dst``."""
    default = pipeline._defaults[dst]
    current = opp.probability
    model = opp.model_probability
    if current is None or current.source is ProbabilitySource.STAGE:
        return default, model
    if current.source is ProbabilitySource.MODEL:
        return default, current
    # MANUAL sticks while the deal stays open; a closed deal's outcome is certain.
    if pipeline.stages[dst].kind is StageKind.OPEN:
        return current, model
    return default, model


def advance(pipeline: "Pipeline", opp: Opportunity, to_stage: str, *, at: datetime, by: str,
            reason: str | None = None, override: str | None = None) -> Opportunity:
    """Return ``opp`` moved to ``to_stage``, or raise TransitionError (see Pipeline)."""
    if override is not None and (type(override) is not str or not override.strip()):
        raise ValidationError("an override needs a non-empty note saying why",
                              field="override", value=override)
    if not is_text(by):  # the same rule as every model's required text
        raise ValidationError(f"by must name who moves the deal, got {by!r}", field="by",
                              value=by)
    if reason is not None and type(reason) is not str:
        raise ValidationError("reason must be a string or None", field="reason", value=reason)
    violations = check(pipeline, opp, to_stage, at=at, reason=reason)
    bypassed = None
    if violations:
        blocking = [v for v in violations if not v.overridable]
        if blocking or override is None:
            raise TransitionError(
                f"cannot move deal {opp.id!r} from {opp.stage_id!r} to {to_stage!r}"
                + (" (an override does not bypass these)" if override and blocking else ""),
                blocking if override is not None else violations,
                record_id=opp.id, from_stage=opp.stage_id, to_stage=to_stage)
        bypassed = override
    dst = pipeline._index[to_stage]
    stage = pipeline.stages[dst]
    probability, model = _probabilities(pipeline, opp, dst)
    # Every field is already valid: the deal's stage, a stage of the pipeline, and the
    # arguments checked above and in check(). Skip re-validating them on this hot path.
    # (The stage's own id, not ``to_stage``: an equal str subclass must not get stored.)
    entry = trusted(StageChange, from_stage=opp.stage_id, to_stage=stage.id, at=at, by=by,
                    reason=reason, override=bypassed)
    if stage.kind is StageKind.LOST:
        lost_reason = reason if reason is not None else opp.lost_reason
    else:
        lost_reason = None
    changes: dict[str, object] = {"stage_id": stage.id,
                                  "stage_history": (*opp.stage_history, entry),
                                  "updated_at": at}
    if probability is not opp.probability:
        changes["probability"] = probability
    if model is not opp.model_probability:
        changes["model_probability"] = model
    if lost_reason != opp.lost_reason:
        changes["lost_reason"] = lost_reason
    # Every new value is valid by the rules Opportunity's table would apply: a stage id
    # of this (validated) pipeline, a tuple of StageChange, ``at`` checked as aware by
    # check(), probabilities from the pipeline or the deal, a str-or-None reason.
    return trusted_evolve(opp, changes)
