"""The oppcore error tree.

Every error oppcore raises on purpose derives from :class:`OppcoreError`, so a host can
catch the library's errors in one place. Where a builtin exception describes the same kind
of failure, the oppcore error also derives from it (``ValidationError`` is a ``ValueError``,
``NotFoundError`` a ``LookupError``), so generic handlers keep working.

.. code-block:: text

    OppcoreError
    ├── ValidationError (ValueError)        a value or record is invalid (.model, .field)
    │   └── StructureError                  wire data cannot become a model (.path)
    ├── CurrencyMismatchError (ValueError)  arithmetic or comparison across currencies
    ├── ConfigError (ValueError)            a pipeline/scorecard/mapping is invalid (.problems)
    ├── TransitionError                     a stage or status move is refused (.violations)
    ├── UnknownStageError (KeyError)        a stage id not in the pipeline (.stage_id)
    ├── StoreError                          storage contract errors
    │   ├── NotFoundError (LookupError)     no record with that id (.record_id)
    │   ├── DuplicateError                  id or unique key taken (.existing_id, .key)
    │   ├── VersionConflictError            stale write refused (.record_id, .expected, .actual)
    │   ├── StoreClosedError                the store was closed; nothing more runs on it (.path)
    │   └── StorageUnavailableError         the database cannot do what was asked (.path,
    │                                       .reason, .operation): read-only, disk full,
    │                                       corrupt, not a database, locked, I/O error ...
    ├── PermissionDeniedError (PermissionError)  a policy refused (.actor, .action)
    ├── ImportDataError (ValueError)        bad rows in an import (.errors, each with .row, .column)
    ├── ScoringError                        a rule failed in strict scoring mode (.rule_id)
    ├── PluginError                         a plugin failed to load or build (.name, .distribution)
    └── CalibrationError (ValueError)       calibration cannot be fitted on the data given

Messages are written to be readable on their own; the context is also available as
attributes so programs need not parse messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

__all__ = [
    "CalibrationError",
    "ConfigError",
    "CurrencyMismatchError",
    "DuplicateError",
    "ImportDataError",
    "NotFoundError",
    "OppcoreError",
    "PermissionDeniedError",
    "PluginError",
    "ScoringError",
    "StorageUnavailableError",
    "StoreClosedError",
    "StoreError",
    "StructureError",
    "TransitionError",
    "UnknownStageError",
    "ValidationError",
    "VersionConflictError",
]


class OppcoreError(Exception):
    """Root of every error oppcore raises on purpose."""


class ValidationError(OppcoreError, ValueError):
    """A value is not acceptable for a model field.

    Attributes:
        model: Name of the model class (``"Opportunity"``), or ``None`` for a bare value.
        field: Name of the field (``"amount"``), or ``None``.
        value: The rejected value.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        if model and field:
            message = f"{model}.{field}: {message}"
        elif model:
            message = f"{model}: {message}"
        super().__init__(message)
        self.model = model
        self.field = field
        self.value = value


class StructureError(ValidationError):
    """Wire data (a dict from JSON, a row) cannot be turned into a model.

    Attributes:
        path: Where the bad value sits, as a dotted/indexed path such as
            ``opportunities[3].amount.amount``.
    """

    def __init__(self, message: str, *, path: str = "", value: Any = None) -> None:
        super().__init__(f"{path}: {message}" if path else message, value=value)
        self.path = path


class CurrencyMismatchError(OppcoreError, ValueError):
    """Two amounts in different currencies were combined or compared.

    oppcore never converts or sums currencies silently.
    """

    def __init__(self, left: str, right: str, operation: str) -> None:
        super().__init__(f"cannot {operation} {left} and {right}: currencies differ")
        self.left = left
        self.right = right
        self.operation = operation


class ConfigError(OppcoreError, ValueError):
    """A configuration (pipeline, scorecard, import mapping) has problems.

    All problems found are reported at once, each with the path of the offending entry.

    Attributes:
        problems: ``(path, message)`` pairs, in document order.
        source: What was being loaded (a file name or a description).
    """

    def __init__(self, problems: Sequence[tuple[str, str]], *, source: str = "config") -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        self.source = source
        lines = [f"{source}: {len(self.problems)} problem(s)"]
        lines += [f"  {path or '<root>'}: {message}" for path, message in self.problems]
        super().__init__("\n".join(lines))


class TransitionError(OppcoreError):
    """A move (stage change, lead status change) was refused.

    Attributes:
        violations: Every unmet requirement; each has a stable ``code`` and a ``message``.
        record_id: The deal or lead that was to move, when known.
        from_stage: Where it is (stage id or lead status), when known.
        to_stage: Where it was to go, when known.
    """

    def __init__(
        self,
        message: str,
        violations: Sequence[Any] = (),
        *,
        record_id: str | None = None,
        from_stage: str | None = None,
        to_stage: str | None = None,
    ) -> None:
        self.violations: tuple[Any, ...] = tuple(violations)
        self.record_id = record_id
        self.from_stage = from_stage
        self.to_stage = to_stage
        if self.violations:
            details = "; ".join(str(getattr(v, "message", v)) for v in self.violations)
            message = f"{message}: {details}"
        super().__init__(message)


class UnknownStageError(OppcoreError, KeyError):
    """A stage id is not part of the pipeline (a ``KeyError`` as well).

    Attributes:
        stage_id: The id that was asked for.
        pipeline_id: The pipeline that was asked.
    """

    def __init__(self, stage_id: object, pipeline_id: str) -> None:
        self.message = f"pipeline {pipeline_id!r} has no stage {stage_id!r}"
        super().__init__(self.message)
        self.stage_id = stage_id
        self.pipeline_id = pipeline_id

    def __str__(self) -> str:
        # KeyError would print the repr of its argument; the plain message reads better.
        return self.message


class StoreError(OppcoreError):
    """Base of the storage error contract."""


class NotFoundError(StoreError, LookupError):
    """No record with the given id exists (or it was deleted)."""

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"{kind} {record_id!r} not found")
        self.kind = kind
        self.record_id = record_id


class DuplicateError(StoreError):
    """The id or a uniqueness key of a new record is already taken.

    Attributes:
        record_id: Id of the record that was being added.
        existing_id: Id of the record that already holds the id or key.
        key: Which key collided (``"id"``, ``"email"``, ``"external_key"``).
    """

    def __init__(self, kind: str, record_id: str, *, existing_id: str, key: str = "id") -> None:
        if key == "id":
            message = f"{kind} {record_id!r} already exists"
        else:
            message = f"{kind} {record_id!r}: {key} already used by {existing_id!r}"
        super().__init__(message)
        self.kind = kind
        self.record_id = record_id
        self.existing_id = existing_id
        self.key = key


class VersionConflictError(StoreError):
    """A save or delete carried a version that is no longer the stored one.

    Nothing was written. Reload the record, re-apply the change and retry.
    """

    def __init__(self, kind: str, record_id: str, *, expected: int, actual: int) -> None:
        super().__init__(
            f"{kind} {record_id!r}: version conflict (you read version {expected}, "
            f"stored version is {actual}); reload and retry"
        )
        self.kind = kind
        self.record_id = record_id
        self.expected = expected
        self.actual = actual


class StoreClosedError(StoreError):
    """The store was closed; it runs no further operation.

    Operations already running when ``close()`` was called finish (or fail) normally;
    any call after it raises this error. Open a new store on the same database to go on.

    Attributes:
        path: The database the store was opened on (or a description of the store).
    """

    def __init__(self, path: str) -> None:
        super().__init__(f"the store on {path!r} is closed; open a new store to use the "
                         f"database again")
        self.path = path


StorageProblem = Literal["read-only", "disk-full", "corrupt", "not-a-database",
                         "not-an-oppcore-store", "newer-schema", "needs-upgrade", "busy",
                         "retry-transaction", "cannot-open", "io-error", "failed"]
"""Why the storage under a store could not do what was asked (``.reason``)."""


class StorageUnavailableError(StoreError):
    """The database beneath a store cannot do what was asked; the message says what to do.

    Raised instead of the driver's own exceptions (``sqlite3.OperationalError`` and the
    like), for every public store method. A failed write wrote nothing.

    Attributes:
        path: The database file (or the target of a backup).
        reason: One of ``"read-only"`` (file, directory or mount not writable),
            ``"disk-full"``, ``"corrupt"`` (restore from a backup), ``"not-a-database"``,
            ``"not-an-oppcore-store"``, ``"newer-schema"`` (upgrade oppcore),
            ``"needs-upgrade"`` (the database has no or older oppcore tables: run ``oppcore db
            upgrade``), ``"busy"`` (another connection held the write lock too long; retrying
            may succeed), ``"retry-transaction"`` (a SQL store inside the caller's
            transaction hit a serialisation failure or deadlock: roll the whole transaction
            back and run it again; retrying inside it cannot succeed),
            ``"cannot-open"``, ``"io-error"`` or ``"failed"`` (anything else).
        operation: The store method that failed (``"add"``, ``"query"``, ``"open"`` ...).
        detail: The database's own message, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        reason: StorageProblem,
        operation: str,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.reason: StorageProblem = reason
        self.operation = operation
        self.detail = detail


class PermissionDeniedError(OppcoreError, PermissionError):
    """A policy refused an actor an action on a record; nothing was changed."""

    def __init__(self, actor: str, action: str, record_id: str | None = None) -> None:
        target = f" on {record_id!r}" if record_id else ""
        super().__init__(f"{actor!r} may not {action}{target}")
        self.actor = actor
        self.action = action
        self.record_id = record_id


class ImportDataError(OppcoreError, ValueError):
    """An import met bad rows and was asked to stop (or to report them).

    Attributes:
        errors: The row errors; each carries ``row``, ``column`` and ``message``.
    """

    def __init__(self, errors: Sequence[Any]) -> None:
        self.errors: tuple[Any, ...] = tuple(errors)
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} bad row(s): {shown}{more}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by the row errors, so the error travels back from a worker process."""
        return (type(self), (self.errors,))


class ScoringError(OppcoreError):
    """A scoring rule failed while scoring in strict mode."""

    def __init__(self, rule_id: str, message: str) -> None:
        super().__init__(f"rule {rule_id!r}: {message}")
        self.rule_id = rule_id


class PluginError(OppcoreError):
    """A plugin entry point failed to import or to build its rules."""

    def __init__(
        self,
        name: str,
        message: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        origin = f" from {distribution} {version or ''}".rstrip() if distribution else ""
        super().__init__(f"plugin {name!r}{origin}: {message}")
        self.name = name
        self.distribution = distribution
        self.version = version


class CalibrationError(OppcoreError, ValueError):
    """A model cannot be fitted on the history given (too few won or lost deals...)."""
