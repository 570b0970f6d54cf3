"""Import and export of leads, opportunities and stage history (public namespace).

* **Foreign CSV exports** (Salesforce, HubSpot, Odoo, any CRM): :func:`read_csv` streams
  opportunities through a :class:`ColumnMapping` (build one from a dict/TOML or start from
  :func:`preset`); :func:`import_csv` collects them into an :class:`ImportReport`.
* **Weekly re-imports**: :func:`sync` brings a store up to date with a new version of an
  export (added, updated, unchanged, conflicts, missing) in a :class:`SyncReport`.
* **oppcore's flat CSV** (both directions): :func:`write_opportunities_csv`,
  :func:`write_leads_csv`, :func:`write_stage_history_csv` and their readers.
* **JSON** (full fidelity, the documented wire format with ``schema_version``):
  :func:`write_json` / :func:`import_json` for one document, :func:`write_jsonl` /
  :func:`read_jsonl` / :func:`import_jsonl` for streaming JSON Lines.

Every reader streams (constant memory), reports bad rows as :class:`RowError` values with
row, column and message, never yields a half-built record, and enforces :class:`Limits`.
"""

from oppcore._public import publish as _publish

from ._csv import (
    HISTORY_COLUMNS,
    LEAD_COLUMNS,
    OPPORTUNITY_COLUMNS,
    write_leads_csv,
    write_opportunities_csv,
    write_stage_history_csv,
)
from ._flat_read import read_leads_csv, read_opportunities_csv, read_stage_history_csv
from ._foreign import import_csv, read_csv
from ._json import import_json, import_jsonl, read_jsonl, write_json, write_jsonl
from ._mapping import ColumnMapping
from ._presets import PRESET_NAMES, preset
from ._references import ESTIMATE_FIELD, Reference
from ._report import ErrorMode, ImportReport, Limits, RowError
from ._sync import SyncConflict, SyncReport, sync
from ._sync_state import SYNC_FIELD

__all__ = [
    # foreign CSV exports
    "ColumnMapping",
    "ESTIMATE_FIELD",
    "PRESET_NAMES",
    "Reference",
    "import_csv",
    "preset",
    "read_csv",
    # re-importing a changed export
    "SYNC_FIELD",
    "SyncConflict",
    "SyncReport",
    "sync",
    # oppcore flat CSV
    "HISTORY_COLUMNS",
    "LEAD_COLUMNS",
    "OPPORTUNITY_COLUMNS",
    "read_leads_csv",
    "read_opportunities_csv",
    "read_stage_history_csv",
    "write_leads_csv",
    "write_opportunities_csv",
    "write_stage_history_csv",
    # JSON (wire format with schema_version)
    "import_json",
    "import_jsonl",
    "read_jsonl",
    "write_json",
    "write_jsonl",
    # reports and limits
    "ErrorMode",
    "ImportReport",
    "Limits",
    "RowError",
]

_publish(__name__, globals(), __all__)
