"""Run the analytics and scoring on partitions of a big export (Dask, Spark, your own loop).

Row-local work runs per partition: :func:`import_rows` / :func:`import_frame` turn export
rows into deals through a mapping (bad rows become error values), :func:`score_records`
and :func:`score_frame` score them. Analytics become small mergeable partials:
:func:`partial` runs one analysis over one partition, :func:`merge` adds partials in any
tree (associative and commutative) and :meth:`Partial.finalize` gives the result that the
function of :mod:`oppcore.analytics` gives over all the deals at once, by construction:
each analytics function *is* ``finalize(tally(deals))`` over the same state.

:func:`analyse_columns` is the columnar path for one big export on one machine: the
same funnel, win rates and sales cycle, and the same row errors, as importing the frame
and calling the analytics, computed from pandas columns (:func:`column_partials` gives
its partials, to merge chunk by chunk).

:mod:`oppcore.batch.dask` (extra ``dask``) drives this on a Dask DataFrame; the Spark
recipe (``mapInPandas``) is in the guide. oppcore has no scheduler of its own.

Example:
    >>> from oppcore import batch                                       # doctest: +SKIP
    >>> parts = [batch.partial("win_rate", chunk, pipeline, by="owner") for chunk in chunks]
    >>> batch.merge(parts).finalize() == analytics.win_rate(deals, pipeline, by="owner")
    True
"""

from oppcore._public import publish as _publish

from ._columnar import COLUMNAR_ANALYSES, analyse_columns, column_partials
from ._partial import ANALYSES, Partial, merge, partial
from ._rows import (
    ERROR_COLUMNS,
    SCORE_COLUMNS,
    ScoreRow,
    import_frame,
    import_rows,
    score_frame,
    score_records,
)

__all__ = [
    # analytics on partitions
    "ANALYSES",
    "Partial",
    "partial",
    "merge",
    # row-local work
    "import_rows",
    "import_frame",
    "score_records",
    "score_frame",
    "ScoreRow",
    "SCORE_COLUMNS",
    "ERROR_COLUMNS",
    # the columnar path (one big frame, one machine)
    "analyse_columns",
    "column_partials",
    "COLUMNAR_ANALYSES",
]

_publish(__name__, globals(), __all__)
