"""The one merge of analytics states: how partial tallies of the same analysis add up.

Every analytics function is ``finish(tally(deals))``: a one-pass *tally* of the deals into
a small state (counts, exact money sums, exact duration histograms, keyed by group,
currency or stage), and a *finish* that turns a state into the result. The state of a
concatenation of deal lists is :func:`merge_state` of their states, so the same function
runs in one process or on partitions (:mod:`oppcore.batch`), with identical results.

A state is built from a few value kinds, each merged one way:

* ``int``, :class:`~decimal.Decimal` (added exactly), :class:`~datetime.timedelta`: summed;
* ``dict``: merged key by key (a key on one side only is kept as it is); duration
  histograms are dicts ``value -> count``, so merging them is exact;
* ``list``: a fixed-length vector of counts, summed element by element;
* ``tuple``: rows tagged with their place in the input (``(place, row)``), merged in
  place order;
* ``str``: the least of the two (a deterministic choice where the input disagrees).

Each rule is associative and commutative, so any tree of merges gives the same state.
"""

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from oppcore._money import exact_add

__all__ = ["Tally", "expand", "histogram_add", "merge_state", "scale_state"]

Tally = dict[str, Any]
"""The state of one analysis over some deals (fields named by the analysis)."""


def merge_state(a: Any, b: Any) -> Any:
    """Return the state of both inputs' deals together (see the module for the rules).

    Raises:
        TypeError: For states of different shapes (not two states of one analysis).
    """
    if type(a) is not type(b):
        raise TypeError(f"cannot merge {type(a).__name__} with {type(b).__name__}")
    if isinstance(a, bool):
        raise TypeError("a state holds no booleans")
    if isinstance(a, Decimal):
        return exact_add(a, b)
    if isinstance(a, (int, timedelta)):
        return a + b
    if isinstance(a, dict):
        out = dict(a)
        for key, value in b.items():
            mine = out.get(key, _MISSING)
            out[key] = value if mine is _MISSING else merge_state(mine, value)
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            raise TypeError(f"cannot merge vectors of {len(a)} and {len(b)} counts")
        return [merge_state(x, y) for x, y in zip(a, b, strict=True)]
    if isinstance(a, tuple):
        return tuple(sorted((*a, *b), key=lambda row: row[0]))
    if isinstance(a, str):
        return min(a, b)
    raise TypeError(f"a state holds no {type(a).__name__}")


_MISSING = object()


def scale_state(state: Any, times: int) -> Any:
    """Return the state of ``times`` copies of the deals of ``state`` (``times >= 1``).

    Equal to merging ``times`` copies of ``state`` with :func:`merge_state`, for the
    kinds whose merge is a sum (counts, histograms, vectors of counts) and strings;
    exact money sums and rows in input order cannot be scaled.

    Raises:
        TypeError: For a state holding another kind.
    """
    if isinstance(state, bool) or not isinstance(state, (int, str, dict, list)):
        raise TypeError(f"cannot scale a state holding {type(state).__name__}")
    if isinstance(state, int):
        return state * times
    if isinstance(state, str):
        return state
    if isinstance(state, dict):
        return {key: scale_state(value, times) for key, value in state.items()}
    return [scale_state(value, times) for value in state]


def histogram_add(histogram: dict[float, int], value: float) -> None:
    """Count ``value`` once more in an exact histogram (``value -> count``)."""
    histogram[value] = histogram.get(value, 0) + 1


def expand(histogram: Mapping[float, int]) -> list[float]:
    """Return the values of an exact histogram, sorted, each as often as it was counted."""
    return [v for v, n in sorted(histogram.items()) for _ in range(n)]
