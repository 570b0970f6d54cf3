"""The deal fields a :class:`RequireFields` may name, and how it reads and judges them."""

from collections.abc import Mapping
from typing import Any, Final

import attrs

from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity
from oppcore._parties import Account

__all__ = ["FIELD_NAMES", "SIZED", "field_problem", "is_missing", "read_path"]


FIELD_NAMES: Final = frozenset({
    "amount", "expected_close", "account", "contacts", "owner", "source", "probability",
    "model_probability", "activities", "quotes", "tags", "external_key", "lead_id",
    "custom",
})
"""Deal fields a :class:`RequireFields` may name (plus ``custom.<key>`` and
``account.<field>``)."""

_ACCOUNT_FIELDS: Final = frozenset(a.name for a in attrs.fields(Account))


def field_problem(path: str) -> str | None:
    """Return why ``path`` cannot be a required field, or ``None`` if it can."""
    if type(path) is not str or not path.strip():
        return f"field names must be non-empty strings, got {path!r}"
    head, dot, rest = path.partition(".")
    if head not in FIELD_NAMES:
        return f"unknown deal field {path!r} (known: {', '.join(sorted(FIELD_NAMES))})"
    if dot:
        if head == "custom" and rest:
            return None
        if head == "account" and rest in _ACCOUNT_FIELDS:
            return None
        return f"cannot require {path!r}: only custom.<key> and account.<field> are nested"
    return None


SIZED: Final = frozenset({str, tuple, frozenset, FrozenMap})


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, tuple, frozenset, Mapping)):
        return len(value) == 0 or (isinstance(value, str) and value.isspace())
    return False


def read_path(opp: Opportunity, path: str) -> Any:
    head, _, rest = path.partition(".")
    value = getattr(opp, head)
    if not rest:
        return value
    if head == "custom":
        return value.get(rest)
    return None if value is None else getattr(value, rest)
