"""The service's plumbing: construction, the clock, the policy check and the retry loop.

The use cases live in mixins over :class:`ServiceBase` (records, leads, deals), composed
into :class:`~oppcore.OpportunityService`; this module holds what they share.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from oppcore._checks import is_aware
from oppcore._errors import (
    ConfigError,
    PermissionDeniedError,
    UnknownStageError,
    ValidationError,
    VersionConflictError,
)
from oppcore._models import Lead, Opportunity
from oppcore.pipeline import Pipeline
from oppcore.scoring import Scorecard
from oppcore.storage import AuditEntry, Store

from ._policy import AllowAll, Permission, Policy

__all__ = ["Clock", "ServiceBase", "entry"]

Clock = Callable[[], datetime]
"""A function returning the current time (timezone-aware)."""

_T = TypeVar("_T")


def entry(before: Lead | Opportunity | None, after: Lead | Opportunity | None, action: str,
          by: str, at: datetime, note: str | None = None) -> AuditEntry:
    """Return the audit entry of one write (see :meth:`~oppcore.AuditEntry.for_change`)."""
    return AuditEntry.for_change(before, after, action=action, by=by, at=at, note=note)


class ServiceBase:
    """State and plumbing shared by every use case (see :class:`~oppcore.OpportunityService`).

    Raises:
        ValidationError: Bad arguments.
    """

    def __init__(
        self,
        store: Store,
        *,
        pipelines: Pipeline | Iterable[Pipeline],
        clock: Clock,
        scorecard: Scorecard | None = None,
        policy: Policy | None = None,
        retries: int = 3,
    ) -> None:
        listed = (pipelines,) if isinstance(pipelines, Pipeline) else tuple(pipelines)
        if not listed or not all(isinstance(p, Pipeline) for p in listed):
            raise ValidationError("pipelines must be a Pipeline or a non-empty sequence of them",
                                  field="pipelines", value=pipelines)
        if not callable(clock):
            raise ValidationError("clock must be a callable returning the current time",
                                  field="clock", value=clock)
        if type(retries) is not int or not 0 <= retries <= 100:
            raise ValidationError("retries must be an int in [0, 100]", field="retries",
                                  value=retries)
        self._store = store
        self._pipelines = {p.id: p for p in listed}
        self._default = listed[0]
        self._clock = clock
        self._scorecard = scorecard
        self._policy: Policy = policy if policy is not None else AllowAll()
        self._retries = retries

    def _now(self) -> datetime:
        now = self._clock()
        if not is_aware(now):
            raise ValidationError("the clock must return a timezone-aware datetime",
                                  field="clock", value=now)
        return now

    def _retry(self, attempt: Callable[[], _T]) -> _T:
        for remaining in range(self._retries, -1, -1):
            try:
                return attempt()
            except VersionConflictError:  # noqa: PERF203 - retrying on conflict is the point
                if remaining == 0:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _check_actor(actor: object) -> str:
        if type(actor) is not str or not actor.strip():
            raise ValidationError(f"the actor must be a non-blank user id, got {actor!r}",
                                  field="by", value=actor)
        return actor

    def _authorise(self, actor: str, action: Permission, record: Lead | Opportunity) -> None:
        self._check_actor(actor)
        if not self._policy.allows(actor, action, record):
            raise PermissionDeniedError(actor, action.value, record.id)

    def _pipeline(self, pipeline_id: str) -> Pipeline:
        try:
            return self._pipelines[pipeline_id]
        except KeyError:
            raise ConfigError([("pipeline_id", f"the service has no pipeline {pipeline_id!r}")],
                              source="OpportunityService") from None

    def _check_new(self, record: object) -> Lead | Opportunity:
        """Refuse what cannot be created: not a record, or a deal in a stage its pipeline
        (when the service knows it) does not have."""
        if type(record) is not Lead and type(record) is not Opportunity:
            raise ValidationError(
                f"expected a Lead or an Opportunity, got {type(record).__name__}",
                field="record", value=record)
        if isinstance(record, Opportunity):
            pipeline = self._pipelines.get(record.pipeline_id)
            if pipeline is not None and record.stage_id not in pipeline:
                raise UnknownStageError(record.stage_id, pipeline.id)
        return record
