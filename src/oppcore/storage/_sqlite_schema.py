"""The SQL of :class:`~oppcore.SQLiteStore`: migrations, statements and the row of a record.

Only fixed table and column names appear in these statements; every value is bound.
"""

import json
from typing import Any, cast

from oppcore import serde
from oppcore._models import Opportunity

from ._base import micros, unique_keys
from ._protocol import Record

__all__ = ["DELETE", "GET", "HOLDER", "INSERT", "MIGRATIONS", "SCHEMA_VERSION", "TABLES",
           "UPDATE", "VERSION", "row_of"]

TABLES = {"lead": "leads", "opportunity": "opportunities"}

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: records, tombstones, the history feed
    (
        """CREATE TABLE opportunities (
            id TEXT PRIMARY KEY, version INTEGER NOT NULL, stage_id TEXT NOT NULL,
            pipeline_id TEXT NOT NULL, owner TEXT, account_id TEXT,
            updated_us INTEGER NOT NULL, external_key TEXT, data TEXT NOT NULL)""",
        "CREATE INDEX opportunities_stage ON opportunities (stage_id, id)",
        "CREATE INDEX opportunities_pipeline ON opportunities (pipeline_id, id)",
        "CREATE INDEX opportunities_owner ON opportunities (owner, id)",
        "CREATE INDEX opportunities_account ON opportunities (account_id, id)",
        "CREATE INDEX opportunities_updated ON opportunities (updated_us)",
        """CREATE UNIQUE INDEX opportunities_external_key ON opportunities (external_key)
            WHERE external_key IS NOT NULL""",
        """CREATE TABLE leads (
            id TEXT PRIMARY KEY, version INTEGER NOT NULL, owner TEXT,
            updated_us INTEGER NOT NULL, email_key TEXT, external_key TEXT,
            data TEXT NOT NULL)""",
        "CREATE INDEX leads_owner ON leads (owner, id)",
        "CREATE INDEX leads_updated ON leads (updated_us)",
        "CREATE UNIQUE INDEX leads_email ON leads (email_key) WHERE email_key IS NOT NULL",
        """CREATE UNIQUE INDEX leads_external_key ON leads (external_key)
            WHERE external_key IS NOT NULL""",
        """CREATE TABLE tombstones (kind TEXT NOT NULL, id TEXT NOT NULL,
            version INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID""",
        """CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, tx INTEGER NOT NULL,
            kind TEXT NOT NULL, record_id TEXT NOT NULL, action TEXT NOT NULL,
            version INTEGER NOT NULL)""",
    ),
    # 2: the audit trail
    (
        """CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
            record_id TEXT NOT NULL, data TEXT NOT NULL)""",
        "CREATE INDEX audit_record ON audit (kind, record_id, seq)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def row_of(name: str, record: Record, version: int) -> tuple[Any, ...]:
    """Return the table row of ``record`` stored at ``version``."""
    data = serde.unstructure(record)
    data["version"] = version
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    keys = dict(unique_keys(record))
    if name == "opportunity":
        opp = cast(Opportunity, record)
        account = opp.account.id if opp.account is not None else None
        return (opp.id, version, opp.stage_id, opp.pipeline_id, opp.owner, account,
                micros(opp.updated_at), keys.get("external_key"), text)
    return (record.id, version, record.owner, micros(record.updated_at), keys.get("email"),
            keys.get("external_key"), text)


INSERT = {
    "opportunity": "INSERT INTO opportunities (id, version, stage_id, pipeline_id, owner, "
                   "account_id, updated_us, external_key, data) VALUES (?,?,?,?,?,?,?,?,?)",
    "lead": "INSERT INTO leads (id, version, owner, updated_us, email_key, external_key, "
            "data) VALUES (?,?,?,?,?,?,?)",
}
UPDATE = {
    "opportunity": "UPDATE opportunities SET version=?2, stage_id=?3, pipeline_id=?4, "
                   "owner=?5, account_id=?6, updated_us=?7, external_key=?8, data=?9 "
                   "WHERE id=?1",
    "lead": "UPDATE leads SET version=?2, owner=?3, updated_us=?4, email_key=?5, "
            "external_key=?6, data=?7 WHERE id=?1",
}
GET = {"lead": "SELECT data FROM leads WHERE id = ?",
        "opportunity": "SELECT data FROM opportunities WHERE id = ?"}
VERSION = {"lead": "SELECT version FROM leads WHERE id = ?",
            "opportunity": "SELECT version FROM opportunities WHERE id = ?"}
DELETE = {"lead": "DELETE FROM leads WHERE id = ?",
           "opportunity": "DELETE FROM opportunities WHERE id = ?"}
HOLDER = {
    ("lead", "email"): "SELECT id FROM leads WHERE email_key = ? AND id != ?",
    ("lead", "external_key"): "SELECT id FROM leads WHERE external_key = ? AND id != ?",
    ("opportunity", "external_key"):
        "SELECT id FROM opportunities WHERE external_key = ? AND id != ?",
}
