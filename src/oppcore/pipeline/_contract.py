"""The requirement contract: the :class:`Requirement` protocol and :class:`Violation`.

A requirement evaluates itself: :meth:`Requirement.violations` is the only way oppcore asks
one whether a move may happen, so a subclass or a host's own kind is enforced like the
built-ins (:mod:`._requirements`), never skipped.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Opportunity

from ._guards import GuardRegistry

if TYPE_CHECKING:
    from ._stage import Stage

__all__ = ["Requirement", "Violation"]


@attrs.frozen(kw_only=True)
class Violation:
    """One reason a move is refused.

    Args:
        code: Stable machine-readable code (``"missing_field"``, ``"skip_not_allowed"``...;
            the full list is in the reference).
        message: A sentence a salesperson can act on.
        stage_id: The stage the move was aimed at, when there is one.
        field: The deal field concerned, when there is one (``"amount"``).
        requirement: The entry requirement that is unmet (``None`` for policy violations).
        overridable: Whether a manager's override may bypass it (requirements: yes;
            illegal moves and structural problems: no).

    Raises:
        ValidationError: If ``code`` or ``message`` is not a non-empty string,
            ``stage_id`` or ``field`` is neither a string nor ``None``, or ``overridable``
            is not a bool.
    """

    code: str
    message: str
    stage_id: str | None = None
    field: str | None = None
    requirement: "Requirement | None" = None
    overridable: bool = False

    def __attrs_post_init__(self) -> None:
        # Host requirements build violations too: keep the ones a refusal reports sound.
        for name in ("code", "message"):
            value = getattr(self, name)
            if type(value) is not str or not value.strip():
                raise ValidationError(f"must be a non-empty string, got {value!r}",
                                      model="Violation", field=name, value=value)
        for name in ("stage_id", "field"):
            value = getattr(self, name)
            if value is not None and type(value) is not str:
                raise ValidationError(f"must be a string or None, got {value!r}",
                                      model="Violation", field=name, value=value)
        if type(self.overridable) is not bool:
            raise ValidationError("must be True or False", model="Violation",
                                  field="overridable", value=self.overridable)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@runtime_checkable
class Requirement(Protocol):
    """What must hold before a deal may enter a stage: anything with this method.

    The six built-in kinds (:class:`~oppcore.RequireFields`,
    :class:`~oppcore.RequireQualification`, :class:`~oppcore.RequireActivity`,
    :class:`~oppcore.RequireQuote`, :class:`~oppcore.RequireLostReason`,
    :class:`~oppcore.RequireGuard`) implement it, and so may a host's own class (no base
    class needed) or a subclass of a built-in. A :class:`~oppcore.Stage` refuses, when it
    is built, any requirement without a compatible ``violations`` method, so a requirement
    is always enforced, never silently skipped.

    A host's own kind, or a subclass of a built-in, lives in Python only:
    :meth:`~oppcore.Pipeline.to_dict` refuses to write it (a configuration can only name a
    built-in kind, and would lose the host's rule without a word).
    """

    def violations(self, opp: Opportunity, stage: "Stage", *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        """Return every way ``opp`` fails this requirement for a move into ``stage``.

        Called by :meth:`~oppcore.Pipeline.check` (and so by every move) with arguments
        it has already checked. The answer should depend on the arguments only (no clock,
        no I/O), so that checks and replays are deterministic; an exception it raises
        reaches the caller of ``check`` or ``advance`` unchanged.

        Args:
            opp: The deal about to move.
            stage: The stage it would enter (the one holding this requirement).
            at: When the move would happen (timezone-aware).
            reason: The reason given for the move (a lost reason for a lost stage).
            guards: The pipeline's guard registry.

        Returns:
            The violations, each a :class:`~oppcore.Violation` with ``stage_id=stage.id``,
            ``requirement=self`` and, as a rule, ``overridable=True`` (an override note
            then bypasses it; ``False`` makes it block even an override). Anything else
            in the result makes ``check`` raise ``ValidationError``. When the requirement
            is met, return an empty tuple: this runs on every move, and ``()`` costs
            nothing to build or to test.
        """
        ...
