"""Shared pieces of the analytics: what a pipeline must offer, dimensions, percentiles.

The analytics only *read* a pipeline, so they ask for the few attributes they use through
:class:`PipelineLike` (a :class:`typing.Protocol`). :class:`oppcore.Pipeline` satisfies it;
so does any host object with the same attributes.
"""

import enum
import inspect
import types
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn, Protocol

from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore.pipeline._history import stage_entered_at

__all__ = [
    "Dimension",
    "PipelineLike",
    "StageIndex",
    "StageLike",
    "closed_at",
    "dimension_keys",
    "percentile",
    "text_of",
]


class FollowUpLike(Protocol):
    """A stage's follow-up rule: stale threshold and activity cadence."""

    @property
    def max_days(self) -> int | None: ...  # pragma: no cover - protocol

    @property
    def cadence(self) -> str | None: ...  # pragma: no cover - protocol


class StageLike(Protocol):
    """What the analytics read from a stage."""

    @property
    def id(self) -> str: ...  # pragma: no cover - protocol

    @property
    def kind(self) -> str: ...  # pragma: no cover - protocol

    @property
    def order(self) -> int: ...  # pragma: no cover - protocol

    @property
    def probability(self) -> float: ...  # pragma: no cover - protocol

    @property
    def forecast_category(self) -> str: ...  # pragma: no cover - protocol

    @property
    def follow_up(self) -> FollowUpLike | None: ...  # pragma: no cover - protocol


class PipelineLike(Protocol):
    """What the analytics read from a pipeline (``oppcore.Pipeline`` satisfies it)."""

    @property
    def id(self) -> str: ...  # pragma: no cover - protocol

    @property
    def stages(self) -> Sequence[StageLike]: ...  # pragma: no cover - protocol

    def is_stale(self, opp: Opportunity, *, now: datetime) -> bool: ...  # pragma: no cover


Dimension = str | Callable[[Opportunity], Hashable]
"""A grouping: a built-in dimension name, ``"custom:<field>"`` or a key function."""

OPEN, WON, LOST = "open", "won", "lost"


def text_of(value: object) -> str:
    """Return an enum's value or the string itself (``StageKind.WON`` -> ``"won"``)."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


class StageIndex:
    """Lookup tables built once per call from a pipeline.

    Attributes:
        position: Funnel position of each stage id: open stages 0..n-1 in pipeline order,
            every won stage n, lost stages -1.
        kind: ``"open"``, ``"won"`` or ``"lost"`` per stage id.
        open_ids: Open stage ids in pipeline order.
    """

    __slots__ = ("by_id", "kind", "open_ids", "pipeline", "pipeline_id", "position", "won_ids")

    def __init__(self, pipeline: PipelineLike) -> None:
        stages = getattr(pipeline, "stages", None)
        if not isinstance(stages, Sequence) or isinstance(stages, str) or not stages:
            raise ValidationError(
                f"expected a pipeline with stages, got {type(pipeline).__name__}",
                field="pipeline", value=pipeline,
            )
        ordered = sorted(stages, key=lambda s: s.order)
        self.pipeline = pipeline
        self.pipeline_id: str = pipeline.id
        self.by_id: dict[str, StageLike] = {s.id: s for s in ordered}
        self.kind: dict[str, str] = {s.id: text_of(s.kind) for s in ordered}
        self.open_ids = tuple(s.id for s in ordered if self.kind[s.id] == OPEN)
        self.won_ids = tuple(s.id for s in ordered if self.kind[s.id] == WON)
        n = len(self.open_ids)
        self.position: dict[str, int] = {sid: i for i, sid in enumerate(self.open_ids)}
        for sid, kind in self.kind.items():
            if kind == WON:
                self.position[sid] = n
            elif kind == LOST:
                self.position[sid] = -1

    def unknown(self, opp: object, stage_id: object) -> ValidationError:
        """Return the error for a stage id the pipeline does not have.

        The error names ``stage_id`` when it is the deal's current stage, else
        ``stage_history`` (an entry of the history went to that stage).
        """
        oid = getattr(opp, "id", "?")
        pid = getattr(self.pipeline, "id", "?")
        if stage_id == getattr(opp, "stage_id", None):
            where, field = "refers to stage", "stage_id"
        else:
            where, field = "has a history entry into stage", "stage_history"
        return ValidationError(
            f"opportunity {oid!r} {where} {stage_id!r}, which pipeline {pid!r} does not have",
            model="Opportunity", field=field, value=stage_id,
        )

    def walk(self, opportunities: Iterable[Opportunity]) -> "DealWalk":
        """Return the checked walk over ``opportunities`` every analytics loop shares.

        Use it as ``with index.walk(deals) as walk: for o, kind in walk: ...``: it refuses
        something that is not an iterable of opportunities and a deal of another pipeline,
        yields each deal with its stage kind, and turns a failed lookup anywhere in the
        loop (a stage the pipeline does not have, an item that is not an opportunity) into
        the ``ValidationError`` that says so (:meth:`reraise`).
        """
        return DealWalk(self, iterate(opportunities))

    def reraise(self, opp: object, exc: KeyError | AttributeError) -> NoReturn:
        """Raise what a failed lookup while reading ``opp`` means.

        Every analytics loop shares this: an item that is not an opportunity gets a
        :class:`ValidationError` saying so; a ``KeyError`` is a stage id the pipeline does
        not have (:meth:`unknown`); anything else propagates unchanged.
        """
        check_opportunity(opp)
        if isinstance(exc, KeyError) and exc.args:
            raise self.unknown(opp, exc.args[0]) from None
        raise exc


class DealWalk:
    """One pass over a pipeline's deals (see :meth:`StageIndex.walk`)."""

    __slots__ = ("_index", "_items", "current")

    def __init__(self, index: StageIndex, items: Iterable[Opportunity]) -> None:
        self._index = index
        self._items = items
        self.current: Any = None

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        pipeline_id = self._index.pipeline_id
        kind = self._index.kind
        for o in self._items:
            self.current = o
            if o.pipeline_id != pipeline_id:
                raise other_pipeline(o, pipeline_id)
            yield o, kind[o.stage_id]

    def __enter__(self) -> "DealWalk":
        return self

    def __exit__(self, tp: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, (KeyError, AttributeError)):
            self._index.reraise(self.current, exc)


def other_pipeline(o: Opportunity, pipeline_id: str) -> ValidationError:
    """Return the error for a deal of another pipeline than the one analysed."""
    return ValidationError(
        f"opportunity {o.id!r} follows pipeline {o.pipeline_id!r}, not {pipeline_id!r}; "
        "analyse one pipeline at a time",
        model="Opportunity", field="pipeline_id", value=o.pipeline_id,
    )


def check_opportunity(opp: object) -> Opportunity:
    """Return ``opp`` if it is an :class:`~oppcore.Opportunity`, else raise."""
    if type(opp) is not Opportunity and not isinstance(opp, Opportunity):
        raise ValidationError(
            f"analytics take opportunities, got {type(opp).__name__}", value=opp,
        )
    return opp


# When a deal closed is one concept with one answer across oppcore: the time it entered
# the (won or lost) stage it is in, or None when its history has no such entry. The
# pipeline's history module defines it; calibration splits train/validation by it too.
closed_at = stage_entered_at


def _channel(o: Opportunity) -> Hashable:
    return o.source.channel.value if o.source is not None else None


def _source_detail(o: Opportunity) -> Hashable:
    return o.source.detail if o.source is not None else None


def _account_attr(name: str) -> Callable[[Opportunity], Hashable]:
    def key(o: Opportunity) -> Hashable:
        account = o.account
        if account is None:
            return None
        value: Hashable = getattr(account, name)
        if isinstance(value, enum.Enum):
            return str(value.value)
        return value

    return key


def _owner(o: Opportunity) -> Hashable:
    return o.owner


def _stage(o: Opportunity) -> Hashable:
    return o.stage_id


_SINGLE: dict[str, Callable[[Opportunity], Hashable]] = {
    "owner": _owner,
    "source": _channel,
    "channel": _channel,
    "source_detail": _source_detail,
    "account": _account_attr("name"),
    "account_id": _account_attr("id"),
    "segment": _account_attr("tier"),
    "tier": _account_attr("tier"),
    "industry": _account_attr("industry"),
    "region": _account_attr("region"),
    "size": _account_attr("size"),
    "stage": _stage,
}
MULTI = ("tag", "tags")
DIMENSIONS = (*_SINGLE, *MULTI, "custom:<field>")


def dimension_keys(by: Dimension) -> tuple[str, Callable[[Opportunity], Hashable] | None]:
    """Resolve ``by`` to ``(label, key function)``; ``None`` means "each tag".

    Raises:
        ValidationError: For an unknown dimension name or a value that is not a name or
            a callable.
    """
    if callable(by):
        return getattr(by, "__name__", "key"), by
    if not isinstance(by, str):
        raise ValidationError(
            f"'by' must be a dimension name or a key function, got {type(by).__name__}",
            field="by", value=by,
        )
    if by in _SINGLE:
        return by, _SINGLE[by]
    if by in MULTI:
        return "tag", None
    if by.startswith("custom:") and len(by) > len("custom:"):
        name = by[len("custom:"):]

        def custom(o: Opportunity) -> Hashable:
            value: Hashable = o.custom.get(name)
            return value

        return name, custom
    raise ValidationError(
        f"unknown dimension {by!r}; use one of {', '.join(DIMENSIONS)} or a key function",
        field="by", value=by,
    )


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Return the ``p``-quantile of sorted values by linear interpolation (type 7).

    The definition is Hyndman and Fan's type 7, the default of numpy, pandas, R and
    spreadsheet ``PERCENTILE.INC``: with ``h = (n - 1) * p``, the result is
    ``x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`` (0-based). The median
    is ``p = 0.5``. ``None`` for no values.
    """
    n = len(ordered)
    if n == 0:
        return None
    h = (n - 1) * p
    lo = int(h)
    frac = h - lo
    if lo + 1 >= n or frac == 0:
        return float(ordered[lo])
    a = ordered[lo]
    return float(a + (ordered[lo + 1] - a) * frac)


def ratio(numerator: int, denominator: int) -> float | None:
    """Return ``numerator / denominator``, or ``None`` when the denominator is zero."""
    return numerator / denominator if denominator else None


def decimal_ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    """Return a money ratio as a float, or ``None`` when the denominator is zero."""
    return float(numerator / denominator) if denominator else None


def iterate(opportunities: Iterable[Opportunity]) -> Iterable[Opportunity]:
    """Refuse a lone opportunity or a string where an iterable of them is expected.

    Also refuses a generator that has already run to its end: read by an earlier call, it
    would silently give no deals at all now (a result over 0 deals, not an error).
    """
    if isinstance(opportunities, (Opportunity, str, bytes)) or not isinstance(
        opportunities, Iterable
    ):
        raise ValidationError(
            f"expected an iterable of opportunities, got {type(opportunities).__name__}",
            value=opportunities,
        )
    if isinstance(opportunities, types.GeneratorType) \
            and inspect.getgeneratorstate(opportunities) == inspect.GEN_CLOSED:
        raise ValidationError(
            "this generator is exhausted: an earlier call read all its deals, so this one "
            "would count none; pass a list (or make a new generator for each call)",
            field="opportunities", value=opportunities,
        )
    return opportunities
