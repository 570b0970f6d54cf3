"""How :class:`~oppcore.storage.sql.SQLStore` reads the database's errors.

Driver exceptions never leave the store: each becomes an oppcore error here. PostgreSQL
says what went wrong with an SQLSTATE code (psycopg's ``sqlstate``, psycopg2's
``pgcode``); SQLite with a message. Three outcomes matter to the store itself:

* ``"retry"``: a serialisation failure (``40001``) or deadlock (``40P01``). In a
  transaction the store began, it rolls back and runs the batch again; in the caller's
  transaction it cannot (the caller's snapshot and earlier work are part of the failed
  transaction), so the caller is told to roll back and retry
  (``StorageUnavailableError(reason="retry-transaction")``).
* ``"raced"``: a unique index refused a row the batch's checks had found free, i.e.
  another writer got there in between. Handled like ``"retry"``: the rerun names the
  holder with a :class:`~oppcore.DuplicateError`.
* ``"too-large"``: PostgreSQL refused a value as too large for an index (an id of many
  kilobytes): a :class:`~oppcore.ValidationError`, since retrying cannot help.
* anything else: :class:`~oppcore.StorageUnavailableError` with a reason and advice.
"""

from typing import Literal

import sqlalchemy as sa

from oppcore._errors import StorageProblem, StorageUnavailableError

__all__ = ["Outcome", "outcome", "unavailable"]

Outcome = Literal["retry", "raced", "too-large", "other"]

# PostgreSQL SQLSTATE classes and codes, by problem.
_PG: dict[str, StorageProblem] = {
    "08": "cannot-open",  # connection exception
    "28": "cannot-open",  # invalid authorisation
    "3D": "cannot-open",  # invalid catalog name (no such database)
    "53100": "disk-full",
    "53": "failed",  # insufficient resources
    "25006": "read-only",  # read_only_sql_transaction
    "42501": "read-only",  # insufficient_privilege
    "55P03": "busy",  # lock_not_available (lock_timeout)
    "57014": "busy",  # query_canceled (statement_timeout)
    "57P01": "cannot-open",  # admin shutdown
    "58": "io-error",  # system error
    "XX001": "corrupt",  # data_corrupted
    "XX002": "corrupt",  # index_corrupted
    "42P01": "needs-upgrade",  # undefined_table
    "42703": "needs-upgrade",  # undefined_column
    "25P02": "retry-transaction",  # in_failed_sql_transaction: the caller's is aborted
    "40001": "retry-transaction",
    "40P01": "retry-transaction",
}
_SQLITE: tuple[tuple[str, StorageProblem], ...] = (
    ("readonly", "read-only"), ("disk is full", "disk-full"), ("malformed", "corrupt"),
    ("not a database", "not-a-database"), ("locked", "busy"), ("busy", "busy"),
    ("unable to open", "cannot-open"), ("disk i/o error", "io-error"),
    ("no such table", "needs-upgrade"), ("no such column", "needs-upgrade"),
)
_ADVICE: dict[StorageProblem, str] = {
    "cannot-open": "check the URL, that the server runs and that the user may connect (and "
                   "that the connection given to the store is still open)",
    "disk-full": "free space on the database server, then retry",
    "read-only": "check the database user's privileges and that the server accepts writes",
    "busy": "another transaction held a lock too long, or the engine's pool had no free "
            "connection; retry, or end the blocking session, or enlarge the pool",
    "io-error": "check the database server's disks and logs",
    "corrupt": "restore the database from a backup",
    "not-a-database": "check the URL",
    "needs-upgrade": "run `oppcore db upgrade --url URL` (or oppcore.storage.sql.upgrade)",
    "retry-transaction": "roll the transaction back and run it again",
    "failed": "retry; if it persists, check the database server's log",
}


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code if isinstance(code, str) else None


def outcome(exc: sa.exc.DBAPIError) -> Outcome:
    """Return what a failed statement means for the store (see the module documentation)."""
    code = _sqlstate(exc)
    if code in ("40001", "40P01"):
        return "retry"
    if code == "54000":  # program_limit_exceeded: an index entry over PostgreSQL's limit
        return "too-large"
    if code == "23505" or (code is None and isinstance(exc, sa.exc.IntegrityError)
                           and "unique" in str(exc.orig).lower()):
        return "raced"
    return "other"


def problem_of(exc: BaseException) -> StorageProblem:
    """Return the reason a driver (or SQLAlchemy) error stands for."""
    if isinstance(exc, sa.exc.TimeoutError):  # the engine's pool had no connection free
        return "busy"
    if isinstance(exc, sa.exc.ResourceClosedError):
        return "cannot-open"
    code = _sqlstate(exc)
    if code is not None:
        return _PG.get(code) or _PG.get(code[:2]) or "failed"
    text = str(getattr(exc, "orig", exc)).lower()
    for needle, problem in _SQLITE:
        if needle in text:
            return problem
    if isinstance(exc, sa.exc.OperationalError) and "connect" in text:
        return "cannot-open"
    return "failed"


def unavailable(exc: BaseException, *, where: str, operation: str,
                problem: StorageProblem | None = None) -> StorageUnavailableError:
    """Return the :class:`~oppcore.StorageUnavailableError` a driver error stands for."""
    reason = problem or problem_of(exc)
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    return StorageUnavailableError(
        f"{operation} on {where} failed ({reason}): {first}; {_ADVICE[reason]}", path=where,
        reason=reason, operation=operation, detail="\n".join(detail) or None)
