"""Checks of the arguments of public pipeline functions (one definition each).

The library-wide vocabulary of checks (``oppcore._checks``) will own these definitions; this
module then becomes a re-export, so every pipeline boundary keeps calling the same name.
"""

from datetime import datetime

from oppcore._errors import ValidationError

__all__ = ["check_aware"]


def check_aware(value: object, name: str) -> None:
    """Refuse ``value`` unless it is a timezone-aware datetime.

    Aware means ``isinstance(value, datetime) and value.utcoffset() is not None``: Python's
    own definition, so a ``tzinfo`` whose ``utcoffset()`` answers ``None`` is naive too.

    Args:
        value: The argument to check.
        name: The argument's name, for the message and ``ValidationError.field``.

    Raises:
        ValidationError: If ``value`` is not a datetime, is naive, or its ``tzinfo``
            breaks the ``tzinfo`` contract (``utcoffset()`` raising, or answering
            something other than a ``timedelta`` or ``None``).
    """
    if isinstance(value, datetime):
        try:
            if value.utcoffset() is not None:
                return
        except (TypeError, ValueError) as exc:  # a broken tzinfo, e.g. a non-timedelta
            raise ValidationError(f"{name} must be a timezone-aware datetime; its tzinfo "
                                  f"failed: {exc}", field=name, value=value) from exc
        shown = "a naive datetime (no UTC offset)"
    else:
        shown = type(value).__name__
    raise ValidationError(f"{name} must be a timezone-aware datetime, got {shown}",
                          field=name, value=value)
