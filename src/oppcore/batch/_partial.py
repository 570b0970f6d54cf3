"""Partial analytics: one analysis over a slice of the deals, merged later, finished once.

Each analytics function is ``finish(tally(deals))`` (see ``oppcore.analytics._fold``);
:func:`partial` runs the tally on one slice, :func:`merge` adds tallies, and
:meth:`Partial.finalize` runs the same finish. Nothing here computes a figure of its own.
"""

import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore.analytics import (
    _compliance,
    _cycle,
    _forecast,
    _funnel,
    _health,
    _reps,
    _segments,
    _velocity,
    _winrate,
)
from oppcore.analytics._common import PipelineLike
from oppcore.analytics._fold import Tally, merge_state

__all__ = ["ANALYSES", "Partial", "merge", "partial"]


class _Analysis(NamedTuple):
    tally: Callable[..., Tally]
    result: Callable[..., Any]
    ordered: bool  # keeps rows in input order: needs the slice's place (``part``)


_REGISTRY: dict[str, _Analysis] = {
    "funnel": _Analysis(_funnel._funnel_tally, _funnel._funnel_result, False),
    "win_rate": _Analysis(_winrate._win_rate_tally, _winrate._win_rate_result, False),
    "stage_durations": _Analysis(_velocity._stage_durations_tally,
                                 _velocity._stage_durations_result, False),
    "sales_cycle": _Analysis(_cycle._sales_cycle_tally, _cycle._sales_cycle_result, False),
    "pipeline_velocity": _Analysis(_velocity._velocity_tally, _velocity._velocity_result,
                                   False),
    "forecast": _Analysis(_forecast._forecast_tally, _forecast._forecast_result, False),
    "compliance": _Analysis(_compliance._compliance_tally, _compliance._compliance_result,
                            False),
    "rep_performance": _Analysis(_reps._rep_performance_tally, _reps._rep_performance_result,
                                 False),
    "account_tiers": _Analysis(_segments._account_tiers_tally,
                               _segments._account_tiers_result, False),
    "health": _Analysis(_health._health_tally, _health._health_result, True),
}

ANALYSES: tuple[str, ...] = tuple(_REGISTRY)
"""The analyses that run as partials: names of functions of :mod:`oppcore.analytics`."""


@attrs.frozen(kw_only=True)
class Partial:
    """One analysis over some of the deals: a small, picklable, mergeable state.

    Its size grows with the keys, stages, currencies and distinct durations seen, not
    with the deals (``health`` keeps one row per finding, as its result does).

    Attributes:
        name: The analysis (a name in :data:`ANALYSES`).
        pipeline: The pipeline the deals follow.
        options: The analysis' keyword options, every one with its value (defaults
            filled in), as ``(name, value)`` pairs sorted by name.
        tally: The state; merged only with the state of the same analysis and options.
    """

    name: str
    pipeline: PipelineLike
    options: tuple[tuple[str, Any], ...]
    tally: Tally

    def finalize(self) -> Any:
        """Return the analysis' result over every deal merged into this partial.

        The result has the type and values that ``analytics.<name>(deals, pipeline,
        **options)`` gives over the same deals in one call.
        """
        return _REGISTRY[self.name].result(self.tally, self.pipeline, **dict(self.options))


def _analysis(name: object) -> _Analysis:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValidationError(f"unknown analysis {name!r}; use one of {', '.join(ANALYSES)}",
                              field="name", value=name)
    return _REGISTRY[name]


def _options(name: str, analysis: _Analysis, options: dict[str, Any]) -> dict[str, Any]:
    """Return ``options`` with every default filled in; refuse an unknown one."""
    signature = inspect.signature(analysis.result)
    accepted = [p for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(options) - {p.name for p in accepted})
    if unknown:
        raise ValidationError(
            f"{name} takes no option {unknown[0]!r}; its options: "
            + (", ".join(p.name for p in accepted) or "none"),
            field=unknown[0], value=options[unknown[0]],
        )
    missing = [p.name for p in accepted if p.default is p.empty and p.name not in options]
    if missing:
        raise ValidationError(f"{name} needs the option {missing[0]!r}", field=missing[0])
    return {p.name: options.get(p.name, p.default) for p in accepted}


def partial(
    name: str, deals: Iterable[Opportunity], pipeline: PipelineLike, /, *, part: int = 0,
    **options: Any,
) -> Partial:
    """Run one analysis over a slice of the deals, as a partial to merge with others.

    Args:
        name: The analysis: ``"funnel"``, ``"win_rate"``, ``"stage_durations"``,
            ``"sales_cycle"``, ``"pipeline_velocity"``, ``"forecast"``, ``"compliance"``,
            ``"rep_performance"``, ``"account_tiers"`` or ``"health"``.
        deals: The slice: any iterable of opportunities of ``pipeline`` (read once).
        pipeline: The pipeline of every slice.
        part: The slice's place in the whole input (a partition number). Only ``health``
            uses it, to list its findings in input order; other results do not depend on
            the order of the deals.
        **options: The analysis' keyword options (``by=``, ``now=``, ...), the same in
            every slice.

    Returns:
        The partial; merge partials with :func:`merge`, finish with
        :meth:`Partial.finalize`.

    Raises:
        ValidationError: For an unknown analysis or option, a missing required option, a
            bad option value, or a deal the analysis itself refuses.
    """
    analysis = _analysis(name)
    if type(part) is not int or part < 0:
        raise ValidationError(f"part must be an integer >= 0, got {part!r}", field="part",
                              value=part)
    full = _options(name, analysis, options)
    extra = {"part": part} if analysis.ordered else {}
    tally = analysis.tally(deals, pipeline, **full, **extra)
    return Partial(name=name, pipeline=pipeline, options=tuple(sorted(full.items())),
                   tally=tally)


def merge(partials: Iterable[Partial]) -> Partial:
    """Merge partials of one analysis into the partial of all their deals.

    Merging is associative and commutative: any grouping and order of merges gives the
    same partial, so engines may merge in whatever tree they like.

    Raises:
        ValidationError: For no partials, something that is not a :class:`Partial`, or
            partials of different analyses, pipelines or options.
    """
    items = list(partials) if isinstance(partials, Iterable) else [partials]
    if not items:
        raise ValidationError("merge needs at least one partial", field="partials")
    for p in items:
        if not isinstance(p, Partial):
            raise ValidationError(f"merge takes partials, got {type(p).__name__}",
                                  field="partials", value=p)
    first = items[0]
    tally = first.tally
    for p in items[1:]:
        _same(first, p)
        tally = merge_state(tally, p.tally)
    return attrs.evolve(first, tally=tally)


def _same(a: Partial, b: Partial) -> None:
    if a.name != b.name:
        raise ValidationError(f"cannot merge a {a.name} partial with a {b.name} partial",
                              field="name", value=b.name)
    if a.pipeline is not b.pipeline and a.pipeline != b.pipeline:
        raise ValidationError(
            f"cannot merge partials of pipelines {a.pipeline.id!r} and {b.pipeline.id!r} "
            "(or of two versions of one pipeline)", field="pipeline", value=b.pipeline.id)
    if a.options != b.options:
        mine, theirs = dict(a.options), dict(b.options)
        differ = next(k for k in mine if mine[k] != theirs.get(k))
        raise ValidationError(
            f"cannot merge {a.name} partials made with different options: {differ}="
            f"{mine[differ]!r} and {differ}={theirs.get(differ)!r}",
            field=differ, value=theirs.get(differ))
