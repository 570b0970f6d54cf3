"""The service: every use case a host or the ``oppcore`` command runs over a store."""

from ._aftersales import AfterSalesUseCases
from ._deals import DealUseCases
from ._leads import LeadUseCases
from ._records import RecordUseCases
from ._sync import SyncUseCases

__all__ = ["OpportunityService"]


class OpportunityService(RecordUseCases, LeadUseCases, DealUseCases, AfterSalesUseCases,
                         SyncUseCases):
    """Use cases over a store: the only write path of the shell.

    * records: :meth:`create`, :meth:`create_many`, :meth:`edit`, :meth:`get`,
      :meth:`merge_duplicates`;
    * leads: :meth:`mark_contacted`, :meth:`qualify`, :meth:`disqualify`, :meth:`convert`;
    * deals: :meth:`move_stage`, :meth:`mark_won`, :meth:`mark_lost`,
      :meth:`log_activity`, :meth:`rescore`, :meth:`rescore_many`;
    * after the win: :meth:`log_survey`, :meth:`complete_task`, :meth:`renew`.
    * imports: :meth:`sync_batch` (what :func:`oppcore.io.sync` decided, in one write).

    Each one loads, authorises with the policy, calls the pure core, saves with the
    version it read together with its audit entries in one atomic write, retries on a
    version conflict, and returns past-tense domain events.

    Args:
        store: Any :class:`~oppcore.Store`.
        pipelines: The pipeline, or several; an opportunity follows the one named by its
            ``pipeline_id``. Conversions use the first unless told otherwise.
        clock: Returns the current time (timezone-aware); called once per attempt.
        scorecard: Needed by :meth:`rescore` and :meth:`rescore_many` only.
        policy: Decides who may do what; default :class:`~oppcore.AllowAll`.
        retries: How many times a use case is re-run after a version conflict.

    Raises:
        ValidationError: Bad arguments.
    """
