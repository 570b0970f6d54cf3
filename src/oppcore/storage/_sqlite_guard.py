"""What keeps :class:`~oppcore.SQLiteStore` safe to close and its errors readable.

:class:`OperationGuard` admits each public operation of a store, counts the operations in
flight, and lets ``close()`` refuse new ones and wait for the running ones before the
connections are closed. Closing an SQLite connection while another thread runs a statement
on it (connections are opened with ``check_same_thread=False``) crashes the interpreter, so
no connection may close while an operation is in flight.

The guard is also the one place where ``sqlite3`` exceptions become oppcore errors:
:func:`storage_error` classifies SQLite's error code and writes a message that names the
file and says what to do.
"""

import errno
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from oppcore._errors import StorageProblem, StorageUnavailableError, StoreClosedError

__all__ = ["OperationGuard", "classify", "guarded", "storage_error"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

# SQLite's primary result codes (the low byte of an extended code), by problem.
_BY_CODE: dict[int, StorageProblem] = {
    3: "read-only",  # SQLITE_PERM: the file system refused access
    5: "busy",  # SQLITE_BUSY
    6: "busy",  # SQLITE_LOCKED
    8: "read-only",  # SQLITE_READONLY
    10: "io-error",  # SQLITE_IOERR
    11: "corrupt",  # SQLITE_CORRUPT
    13: "disk-full",  # SQLITE_FULL
    14: "cannot-open",  # SQLITE_CANTOPEN
    26: "not-a-database",  # SQLITE_NOTADB
}
# Python 3.10 has no ``sqlite_errorcode``: recognise SQLite's (stable) English messages.
_BY_MESSAGE: tuple[tuple[str, StorageProblem], ...] = (
    ("readonly", "read-only"),
    ("disk is full", "disk-full"),
    ("malformed", "corrupt"),
    ("not a database", "not-a-database"),
    ("locked", "busy"),
    ("unable to open", "cannot-open"),
    ("disk i/o error", "io-error"),
)
# What each problem means, and what to do about it.
_EXPLAIN: dict[StorageProblem, tuple[str, str]] = {
    "read-only": (
        "the database is read-only",
        ("check the permissions of the file and of its directory (SQLite writes -wal and "
         "-shm files beside it) and whether the file system is mounted read-only")),
    "disk-full": ("the disk is full", "free space on its file system, then retry"),
    "corrupt": (
        "the database file is damaged",
        "restore it from a backup; integrity_check() shows the damage"),
    "not-a-database": (
        "the file is not an SQLite database (or its header is damaged)",
        "check the path; if it held a store, restore it from a backup"),
    "busy": (
        "another connection held the write lock longer than busy_timeout ({timeout} s)",
        "retry later, end the process that holds the lock, or raise busy_timeout"),
    "cannot-open": (
        "cannot open the file",
        "check that its directory exists and is writable and that the path names a file"),
    "io-error": (
        "the disk or file system reported an I/O error",
        "check the disk and the file system, then run integrity_check()"),
    "failed": (
        "the database failed",
        "retry; if it persists, check the file with integrity_check()"),
}


def classify(exc: sqlite3.Error) -> StorageProblem:
    """Return which storage problem an ``sqlite3`` exception reports."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _BY_CODE:
        return _BY_CODE[code & 0xFF]
    text = str(exc).lower()
    for needle, problem in _BY_MESSAGE:
        if needle in text:
            return problem
    return "failed"


def _classify_os(exc: OSError) -> StorageProblem:
    if exc.errno == errno.ENOSPC:
        return "disk-full"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "read-only"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR):
        return "cannot-open"
    return "io-error"


def storage_error(
    exc: sqlite3.Error | OSError, *, path: str, operation: str, write: bool, busy_timeout: float,
    rolled_back: str = "nothing was written",
) -> StorageUnavailableError:
    """Return the oppcore error for an ``sqlite3`` (or file system) error in ``operation``.

    Args:
        exc: What ``sqlite3`` (or the file system) raised.
        path: The file to name in the message.
        operation: The store method that failed.
        write: Whether the operation writes (its failure then wrote nothing).
        busy_timeout: The store's busy timeout in seconds (named for a lock timeout).
        rolled_back: What to say about a failed write.
    """
    if isinstance(exc, OSError):
        reason, detail, source = _classify_os(exc), exc.strerror or str(exc), "system"
    else:
        reason, detail, source = classify(exc), str(exc), "SQLite"
    what, advice = _EXPLAIN[reason]
    what = what.format(timeout=f"{busy_timeout:g}")
    undone = f"; {rolled_back}" if write else ""
    return StorageUnavailableError(
        f"{path!r}: {operation} failed: {what} ({source}: {detail}){undone}. To fix: {advice}",
        path=path, reason=reason, operation=operation, detail=detail)


class _Flights:
    """The operations in flight in one process, and whether the store is closed."""

    def __init__(self, *, closed: bool) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)  # shut() waits on it for count to fall
        self.count = 0
        self.closed = closed
        self.depth = threading.local()  # per thread: how many operations it is inside


_AFTER_FORK = threading.Lock()


class OperationGuard:
    """Admit store operations until the store closes; translate the SQLite errors in them.

    Args:
        path: The database file, for messages.
        busy_timeout: The store's busy timeout in seconds, for messages.
    """

    def __init__(self, path: str, busy_timeout: float) -> None:
        self._path = path
        self._timeout = busy_timeout
        self._flights = _Flights(closed=False)

    def is_closed(self) -> bool:
        """Return whether ``shut`` has been called (in this process or before a fork)."""
        return self._flights.closed

    def _current(self) -> _Flights:
        flights = self._flights
        if flights.pid == os.getpid():
            return flights
        # A child after fork: the parent's threads and their count did not come along, and
        # the parent's lock may have been held at the fork. Start afresh, closed or not.
        with _AFTER_FORK:
            if self._flights.pid != os.getpid():
                self._flights = _Flights(closed=self._flights.closed)
            return self._flights

    def enter(self) -> tuple[_Flights, int]:
        """Admit one operation; return what :meth:`leave` needs.

        An operation started inside another in the same thread is part of it, and runs
        even if ``shut`` was called meanwhile (the outer one is still being waited for).

        Raises:
            StoreClosedError: The store is closed.
        """
        flights = self._current()
        depth: int = getattr(flights.depth, "n", 0)
        with flights.lock:
            if flights.closed and depth == 0:
                raise StoreClosedError(self._path)
            flights.count += 1
        flights.depth.n = depth + 1
        return flights, depth

    def leave(self, flights: _Flights, depth: int) -> None:
        """End an operation admitted by :meth:`enter`; wake ``shut`` if it waits."""
        flights.depth.n = depth
        with flights.lock:
            flights.count -= 1
            if flights.closed:
                flights.cond.notify_all()

    def failure(self, exc: sqlite3.Error, flights: _Flights, name: str, *, write: bool,
                rolled_back: str) -> Exception:
        """Return the oppcore error for ``exc``, raised by operation ``name``."""
        if isinstance(exc, sqlite3.ProgrammingError) and flights.closed:
            # This thread's connection was closed under it (close() from a signal handler).
            return StoreClosedError(self._path)
        return self.translate(exc, name, write=write, rolled_back=rolled_back)

    @contextmanager
    def operation(self, name: str, *, write: bool = False,
                  rolled_back: str = "nothing was written") -> Iterator[None]:
        """Run the body as one operation of the store (see :meth:`enter`).

        Raises:
            StoreClosedError: The store is closed (checked when the operation starts).
            StorageUnavailableError: The body raised an ``sqlite3`` exception.
        """
        flights, depth = self.enter()
        try:
            yield
        except sqlite3.Error as exc:
            raise self.failure(exc, flights, name, write=write, rolled_back=rolled_back) \
                from exc
        finally:
            self.leave(flights, depth)

    def translate(self, exc: sqlite3.Error | OSError, operation: str, *, write: bool,
                  rolled_back: str = "nothing was written",
                  path: str | None = None) -> StorageUnavailableError:
        """Return the oppcore error for ``exc`` (see :func:`storage_error`)."""
        return storage_error(exc, path=self._path if path is None else path,
                             operation=operation, write=write, busy_timeout=self._timeout,
                             rolled_back=rolled_back)

    def shut(self) -> None:
        """Refuse new operations, then wait until those in flight have finished.

        The calling thread's own operations (a ``close()`` from a signal handler that
        interrupted one) are not waited for: they could never finish first.
        """
        flights = self._current()
        own: int = getattr(flights.depth, "n", 0)
        with flights.lock:
            flights.closed = True
            flights.cond.wait_for(lambda: flights.count <= own)


class _Guarded(Protocol):
    _guard: OperationGuard


_S = TypeVar("_S", bound=_Guarded)


def guarded(name: str, *, write: bool = False,
            rolled_back: str = "nothing was written") -> Callable[
    [Callable[Concatenate[_S, _P], _T]], Callable[Concatenate[_S, _P], _T]
]:
    """Decorate a store method so that it runs as one operation of the store's guard."""

    def decorate(method: Callable[Concatenate[_S, _P], _T]) -> Callable[Concatenate[_S, _P], _T]:
        # The body of ``OperationGuard.operation``, inlined: the guard wraps every call.
        @wraps(method)
        def run(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            guard = self._guard
            flights, depth = guard.enter()
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise guard.failure(exc, flights, name, write=write, rolled_back=rolled_back) \
                    from exc
            finally:
                guard.leave(flights, depth)

        return run

    return decorate
