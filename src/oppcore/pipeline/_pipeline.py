"""The Pipeline value: ordered stages, a transition policy and the guards it may call."""

from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from oppcore import _calendars as calendars
from oppcore._calendars import BusinessCalendar
from oppcore._errors import ConfigError, ValidationError
from oppcore._models import Opportunity, Probability, ProbabilitySource

from ._aftersales import AfterSalesPlan
from ._requirements import (
    GuardRegistry,
    Violation,
)
from ._stage import Stage, StageKind, UnknownStageError
from ._transitions import TransitionPolicy, advance, check, move_violation

__all__ = ["Pipeline"]


def _stages(value: Any) -> tuple[Stage, ...]:
    """Store stages as a tuple, each with ``order`` set to its position."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValidationError("must be a sequence of Stage", model="Pipeline",
                              field="stages", value=value)
    out = []
    for i, stage in enumerate(value):
        if isinstance(stage, Stage) and stage.order != i:
            stage = attrs.evolve(stage, order=i)
        out.append(stage)
    return tuple(out)


def _default_guards() -> GuardRegistry:
    return GuardRegistry()


@attrs.frozen(kw_only=True)
class Pipeline:
    """A sales process as data: ordered stages and the rules for moving between them.

    A pipeline is validated when built: every problem is collected and reported at once
    in a :class:`~oppcore.ConfigError`. Build one from configuration with
    :meth:`from_dict`, :meth:`from_toml` or :meth:`from_json`, or start from
    :meth:`template`.

    Args:
        id: Stable identifier; an opportunity names its pipeline by this id.
        label: Display name.
        stages: The stages in order (open stages first is usual; won/lost anywhere).
        policy: Which moves are legal (sequential by default).
        guards: The custom guards this pipeline's requirements may name. Not part of the
            pipeline's equality or of :meth:`to_dict` (code is never serialised).
        description: Free text shown in documentation.
        aftersales: The after-sales plan every won deal gets (售后服务: hand-over,
            satisfaction survey, renewal conversation, referral ask...), or ``None``.
        calendar: The business calendar that counts ``business_days`` in follow-up rules:
            a name of :func:`oppcore.calendars.get` (``"weekends"``, the default, or
            ``"CN"``) or the path of a company calendar file (``.toml``).

    Raises:
        ConfigError: With every structural problem (duplicate ids, no won or lost stage,
            unreachable stages, unknown guard names...).
    """

    id: str
    label: str
    stages: tuple[Stage, ...] = attrs.field(converter=_stages)
    policy: TransitionPolicy = attrs.field(factory=TransitionPolicy)
    guards: GuardRegistry = attrs.field(factory=_default_guards, eq=False, repr=False)
    description: str = ""
    aftersales: AfterSalesPlan | None = None
    calendar: str = "weekends"
    _calendar: BusinessCalendar = attrs.field(init=False, eq=False, repr=False)
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False)
    _defaults: tuple[Probability, ...] = attrs.field(init=False, eq=False, repr=False)
    _next_open: tuple[int | None, ...] = attrs.field(init=False, eq=False, repr=False)
    _moves: tuple[tuple[Violation | None, ...], ...] = attrs.field(init=False, eq=False,
                                                                  repr=False)

    def __attrs_post_init__(self) -> None:
        stages = self.stages
        setattr_ = object.__setattr__
        setattr_(self, "_calendar", calendars.get(self.calendar))
        # Lookup tables first: the structural checks walk the policy graph with them.
        valid = all(isinstance(s, Stage) for s in stages)
        setattr_(self, "_index", {s.id: i for i, s in enumerate(stages)} if valid else {})
        setattr_(self, "_defaults", tuple(
            Probability(value=s.probability, source=ProbabilitySource.STAGE) for s in stages)
            if valid else ())
        n = len(stages) if valid else 0
        setattr_(self, "_next_open", tuple(
            next((j for j in range(i + 1, n) if stages[j].is_open), None) for i in range(n)))
        from ._structure import structural_problems

        problems = structural_problems(self)
        if problems:
            raise ConfigError(problems, source=f"pipeline {self.id!r}")
        # The policy is fixed, so every move's verdict is computed once, here: check()
        # then costs one tuple lookup per move.
        setattr_(self, "_moves", tuple(tuple(move_violation(self, i, j) for j in range(n))
                                       for i in range(n)))

    # --- lookups -----------------------------------------------------------------------

    @property
    def business_calendar(self) -> BusinessCalendar:
        """The calendar :attr:`calendar` names, which counts business days."""
        return self._calendar

    def stage(self, stage_id: str) -> Stage:
        """Return the stage with id ``stage_id``.

        Raises:
            UnknownStageError: If there is none (also a ``KeyError``).
        """
        i = self._index.get(stage_id) if isinstance(stage_id, str) else None
        if i is None:
            raise UnknownStageError(stage_id, self.id)
        return self.stages[i]

    def index(self, stage_id: str) -> int:
        """Return the position of ``stage_id`` in the pipeline.

        Raises:
            UnknownStageError: If there is no such stage.
        """
        i = self._index.get(stage_id) if isinstance(stage_id, str) else None
        if i is None:
            raise UnknownStageError(stage_id, self.id)
        return i

    def __contains__(self, stage_id: object) -> bool:
        return isinstance(stage_id, str) and stage_id in self._index

    def next_open_index(self, index: int) -> int | None:
        """Return the index of the first open stage after ``index``, or ``None``."""
        return self._next_open[index]

    @property
    def first_stage(self) -> Stage:
        """The stage new deals start in."""
        return self.stages[0]

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        """The open stages, in order."""
        return tuple(s for s in self.stages if s.kind is StageKind.OPEN)

    @property
    def won_stages(self) -> tuple[Stage, ...]:
        """The won stages, in order."""
        return tuple(s for s in self.stages if s.kind is StageKind.WON)

    @property
    def lost_stages(self) -> tuple[Stage, ...]:
        """The lost stages, in order."""
        return tuple(s for s in self.stages if s.kind is StageKind.LOST)

    # --- transitions -------------------------------------------------------------------

    def check(self, opp: Opportunity, to_stage: str, *, at: datetime,
              reason: str | None = None) -> tuple[Violation, ...]:
        """Return every reason moving ``opp`` to ``to_stage`` would be refused.

        Args:
            opp: The deal.
            to_stage: The target stage id.
            at: When the move would happen (timezone-aware).
            reason: The reason that would be given (a lost reason for a lost stage).

        Returns:
            Every violation (policy, ordering and entry requirements); empty if allowed.

        Raises:
            ValidationError: If ``at`` is not a timezone-aware datetime, ``opp`` is not
                an Opportunity, or a requirement's ``violations()`` returns anything but
                :class:`~oppcore.Violation` values.
        """
        return check(self, opp, to_stage, at=at, reason=reason)

    def advance(self, opp: Opportunity, to_stage: str, *, at: datetime, by: str,
                reason: str | None = None, override: str | None = None) -> Opportunity:
        """Return a copy of ``opp`` moved to ``to_stage``, with the move in its history.

        Probability provenance: a stage default is replaced by the new stage's default; a
        manual value sticks while the deal stays open; a model value moves to
        ``model_probability`` and the stage default becomes effective. Closing a deal
        (won or lost) always sets the closed stage's default. A move to a lost stage sets
        ``lost_reason`` (from ``reason``); leaving it clears it. ``updated_at`` becomes
        ``at``; ``version`` is left to stores. The input is never changed.

        Args:
            opp: The deal.
            to_stage: The target stage id.
            at: When the move happens (timezone-aware, not before the last move).
            by: Who moves it.
            reason: Why; required (from the configured list) for lost stages.
            override: A manager's note that bypasses unmet entry *requirements*; recorded
                in the history. It never makes an illegal move legal.

        Returns:
            The moved deal.

        Raises:
            TransitionError: With ``.violations`` when the move is refused.
            ValidationError: For a naive ``at``, an empty ``by`` or an empty override note.
        """
        return advance(self, opp, to_stage, at=at, by=by, reason=reason, override=override)

    def _closing_stage(self, stages: tuple[Stage, ...], stage: str | None, kind: str) -> str:
        if stage is not None:
            return stage
        if len(stages) != 1:
            raise ValidationError(f"pipeline {self.id!r} has {len(stages)} {kind} stages: "
                                  f"say which one with stage=...", field="stage")
        return stages[0].id

    def mark_won(self, opp: Opportunity, *, at: datetime, by: str, stage: str | None = None,
                 reason: str | None = None, override: str | None = None) -> Opportunity:
        """Move ``opp`` to the won stage, through the same checks as :meth:`advance`.

        Args:
            opp: The deal.
            at: When it was won.
            by: Who records it.
            stage: The won stage, needed only when the pipeline has several.
            reason: Free text.
            override: As for :meth:`advance`.

        Returns:
            The won deal.

        Raises:
            TransitionError: If the move is refused.
            ValidationError: If ``stage`` is needed but not given, or as for
                :meth:`advance` (a naive ``at``, an empty ``by``...).
        """
        target = self._closing_stage(self.won_stages, stage, "won")
        return self.advance(opp, target, at=at, by=by, reason=reason, override=override)

    def mark_lost(self, opp: Opportunity, *, at: datetime, by: str, reason: str,
                  stage: str | None = None, override: str | None = None) -> Opportunity:
        """Move ``opp`` to the lost stage with ``reason``, through the same checks.

        Args:
            opp: The deal.
            at: When it was lost.
            by: Who records it.
            reason: The lost reason (from the stage's list, if it has one).
            stage: The lost stage, needed only when the pipeline has several.
            override: As for :meth:`advance`.

        Returns:
            The lost deal, with ``lost_reason`` set.

        Raises:
            TransitionError: If the move is refused.
            ValidationError: If ``stage`` is needed but not given, or as for
                :meth:`advance` (a naive ``at``, an empty ``by``...).
        """
        target = self._closing_stage(self.lost_stages, stage, "lost")
        return self.advance(opp, target, at=at, by=by, reason=reason, override=override)

    # --- follow-up ---------------------------------------------------------------------

    def is_stale(self, opp: Opportunity, *, now: datetime) -> bool:
        """Return whether ``opp`` has been in its stage longer than the stage allows.

        Raises:
            UnknownStageError: If the deal's stage is not in this pipeline.
            ValidationError: If ``now`` is not timezone-aware or the deal follows another
                pipeline.
        """
        from ._history import is_stale

        return is_stale(self, opp, now=now)

    def next_follow_up(self, opp: Opportunity, *, now: datetime) -> datetime | None:
        """Return when ``opp`` is next due a follow-up under its stage's cadence.

        The cadence counts from the latest activity logged in the current stage (ignoring
        activities dated after ``now``), or from entering the stage. The result may be
        before ``now``: the follow-up is overdue. ``None`` when the stage has no cadence.

        Raises:
            UnknownStageError: If the deal's stage is not in this pipeline.
            ValidationError: If ``now`` is not timezone-aware or the deal follows another
                pipeline.
        """
        from ._history import next_follow_up

        return next_follow_up(self, opp, now=now)

    # --- configuration -----------------------------------------------------------------

    @classmethod
    def template(cls, name: str, *, locale: str | None = None) -> "Pipeline":
        """Return a built-in pipeline: ``"standard"`` (B2B) or ``"simple"``.

        Args:
            name: The template's name.
            locale: The language of its labels and guidance (``"en"``, the default, or
                ``"zh-CN"``); stage ids are the same in every locale.

        Raises:
            ConfigError: For an unknown template name or an unsupported locale.
        """
        from ._templates import template

        return template(name, locale=locale)

    @classmethod
    def from_dict(cls, data: Any, *, guards: GuardRegistry | None = None,
                  source: str = "pipeline config") -> "Pipeline":
        """Build a pipeline from plain data (as read from JSON or TOML).

        Args:
            data: The configuration mapping (format in the reference).
            guards: The registry any ``guard`` requirement must name guards from.
            source: What is being loaded, for error messages.

        Raises:
            ConfigError: With every problem found, each with its path.
        """
        from ._config import from_dict

        return from_dict(data, guards=guards, source=source)

    @classmethod
    def from_toml(cls, path_or_text: str | Path, *,
                  guards: GuardRegistry | None = None) -> "Pipeline":
        """Load a pipeline from a TOML file (a path) or TOML text.

        A :class:`~pathlib.Path`, or a one-line string ending in ``.toml``, is read as a
        file; any other string is parsed as TOML text.

        Raises:
            ConfigError: If the file cannot be read or parsed, or the pipeline is invalid.
        """
        from ._config import load_text

        return load_text(path_or_text, fmt="toml", guards=guards)

    @classmethod
    def from_json(cls, path_or_text: str | Path, *,
                  guards: GuardRegistry | None = None) -> "Pipeline":
        """Load a pipeline from a JSON file (a path) or JSON text.

        A :class:`~pathlib.Path`, or a one-line string ending in ``.json``, is read as a
        file; any other string is parsed as JSON text.

        Raises:
            ConfigError: If the file cannot be read or parsed, or the pipeline is invalid.
        """
        from ._config import load_text

        return load_text(path_or_text, fmt="json", guards=guards)

    def to_dict(self) -> dict[str, Any]:
        """Return the pipeline as plain data that :meth:`from_dict` reads back."""
        from ._config import to_dict

        return to_dict(self)

    @property
    def has_stale_limits(self) -> bool:
        """Whether any open stage sets a stale limit (``follow_up.max_days``).

        Without one no deal can go stale: "no stale deals" would say nothing.
        """
        return any(s.follow_up is not None and s.follow_up.max_days is not None
                   for s in self.open_stages)

    def with_stale_after(self, days: int) -> "Pipeline":
        """Return this pipeline with a stale limit of ``days`` on open stages that set none.

        Stages with their own ``follow_up.max_days`` keep it; a stage's cadence and
        business-day setting are kept. Use it to judge an export whose pipeline (such as
        the ``simple`` template the ``maven`` import preset maps onto) sets no limits.

        Raises:
            ValidationError: If ``days`` is not a whole number in 1..36500.
        """
        from ._stage import FollowUp

        FollowUp(max_days=days)  # the one check of a day limit
        stages = []
        for s in self.stages:
            follow = s.follow_up
            if s.is_open and (follow is None or follow.max_days is None):
                follow = (FollowUp(max_days=days) if follow is None
                          else attrs.evolve(follow, max_days=days))
                s = attrs.evolve(s, follow_up=follow)
            stages.append(s)
        return attrs.evolve(self, stages=tuple(stages))

    def with_guards(self, guards: GuardRegistry) -> "Pipeline":
        """Return this pipeline bound to another guard registry (validated again).

        Raises:
            ConfigError: If a requirement names a guard ``guards`` lacks.
        """
        return attrs.evolve(self, guards=guards)

    def to_mermaid(self) -> str:
        """Return a Mermaid ``stateDiagram-v2`` of the stages and legal moves."""
        from ._mermaid import to_mermaid

        return to_mermaid(self)

    def legal_moves(self, stage_id: str) -> tuple[str, ...]:
        """Return the ids of the stages the policy allows moving to from ``stage_id``.

        Raises:
            UnknownStageError: If there is no such stage.
        """
        src = self.index(stage_id)
        return tuple(s.id for j, s in enumerate(self.stages)
                     if j != src and self._moves[src][j] is None)
