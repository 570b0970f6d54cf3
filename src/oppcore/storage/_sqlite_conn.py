"""The connections of an :class:`~oppcore.SQLiteStore`: one per thread and process.

A connection is opened with ``check_same_thread=False`` only so that ``close()`` may close
it from another thread; each is used by the thread that opened it alone. Closing one while
its thread runs a statement would crash the interpreter, so :meth:`Connections.close_all`
runs only after the store's :class:`~._sqlite_guard.OperationGuard` has seen every
operation in flight finish.
"""

import os
import sqlite3
import threading

from oppcore._errors import StoreClosedError

from ._sqlite_guard import OperationGuard

__all__ = ["Connections"]


class Connections:
    """Open, hand out and close a store's SQLite connections.

    Args:
        path: The database file.
        synchronous: ``"FULL"`` or ``"NORMAL"``.
        timeout: The busy timeout in seconds.
        guard: The store's guard, which says whether the store is closed.
    """

    def __init__(self, path: str, *, synchronous: str, timeout: float,
                 guard: OperationGuard) -> None:
        self._path = path
        self._synchronous = synchronous
        self._timeout = timeout
        self._guard = guard
        self._local = threading.local()
        # Every connection opened, with the thread and process that own it.
        self._all: list[tuple[threading.Thread, int, sqlite3.Connection]] = []
        # Connections inherited through fork(): never used, closed or freed in this process
        # (SQLite forbids touching a connection carried across fork; freeing one closes it).
        self._inherited: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use.

        Raises:
            StoreClosedError: The store is closed.
            sqlite3.Error: The database cannot be opened (the calling operation translates).
        """
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if self._guard.is_closed():
            raise StoreClosedError(self._path)
        conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except BaseException:
            conn.close()  # not half-set-up and left open
            raise
        pid = os.getpid()
        with self._lock:
            if self._guard.is_closed():  # close() ran while this thread was connecting
                conn.close()
                raise StoreClosedError(self._path)
            local.conn, local.pid = conn, pid
            # Close the connections of threads that have finished (a host serving each
            # request on a new thread would otherwise pile them up until close()), and set
            # aside those inherited from a parent process.
            kept = []
            for owner, owner_pid, other in self._all:
                if owner_pid != pid:
                    self._inherited.append(other)
                elif owner.is_alive():
                    kept.append((owner, owner_pid, other))
                else:
                    other.close()
            kept.append((threading.current_thread(), pid, conn))
            self._all = kept
        return conn

    def count_open(self) -> int:
        """Return how many connections this process holds open."""
        pid = os.getpid()
        with self._lock:
            return sum(1 for _, owner_pid, _ in self._all if owner_pid == pid)

    def drop(self, conn: sqlite3.Connection) -> None:
        """Close and forget this thread's ``conn`` (closing undoes an open transaction)."""
        with self._lock:
            self._all = [entry for entry in self._all if entry[2] is not conn]
        if getattr(self._local, "conn", None) is conn:
            del self._local.conn
        conn.close()

    def close_all(self) -> None:
        """Close every connection this process opened; leave those inherited through fork.

        Call only once the guard is shut and no operation is in flight.
        """
        pid = os.getpid()
        with self._lock:
            # Under the lock that registers connections: none can slip in after this.
            entries, self._all = self._all, []
        for _, owner_pid, conn in entries:
            if owner_pid == pid:
                conn.close()
            else:
                self._inherited.append(conn)
        self._local = threading.local()
