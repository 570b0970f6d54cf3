"""The online backup of an :class:`~oppcore.SQLiteStore` to a new file."""

import os
import sqlite3
import threading
from pathlib import Path

from oppcore._errors import StoreError

from ._sqlite_guard import OperationGuard, classify

__all__ = ["copy_database"]


def _exists(target: Path) -> StoreError:
    return StoreError(f"backup target {os.fspath(target)!r} exists; a backup never "
                      f"overwrites a file: remove it or choose a new path")


def _publish(partial: Path, target: Path) -> None:
    """Give the finished copy its name without ever replacing an existing file."""
    try:
        os.link(partial, target)  # fails, rather than replaces, if the name was taken
    except FileExistsError:
        raise
    except OSError:
        # A filesystem without hard links: rename, after checking the name once more.
        if target.exists():
            raise FileExistsError(os.fspath(target)) from None
        os.replace(partial, target)


def copy_database(source: sqlite3.Connection, source_path: str, target: Path,
                  guard: OperationGuard) -> None:
    """Copy the database open on ``source`` to the new file ``target`` (see ``backup``).

    Raises:
        StoreError: ``target`` exists.
        StorageUnavailableError: The copy failed; nothing is left behind.
    """
    if target.exists():
        raise _exists(target)
    partial = target.with_name(
        f".{target.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        dest = sqlite3.connect(os.fspath(partial))
        try:
            source.backup(dest)
        finally:
            dest.close()
        _publish(partial, target)
    except FileExistsError as exc:
        raise _exists(target) from exc
    except (sqlite3.Error, OSError) as exc:
        # Damage is in the database read; anything else is about the copy being written.
        damaged = isinstance(exc, sqlite3.Error) and classify(exc) in (
            "corrupt", "not-a-database", "busy")
        raise guard.translate(
            exc, f"backup to {os.fspath(target)!r}" if damaged else
            f"backup of {source_path!r}", write=True,
            rolled_back="no partial copy was left behind",
            path=source_path if damaged else os.fspath(target)) from exc
    finally:
        for leftover in (partial, *(partial.with_name(partial.name + suffix)
                                    for suffix in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
