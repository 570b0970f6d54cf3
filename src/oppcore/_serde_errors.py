"""Path-naming structure errors, read from cattrs' own error groups.

A converter with detailed validation (the cattrs default) raises a ``ClassValidationError``
or ``IterableValidationError`` whose leaves carry notes naming the attribute or index.
``cattrs.transform_error`` walks that tree and builds each leaf's path; this module asks it
for the paths and reads each leaf itself, so a message says what oppcore's hooks and models
said (``invalid decimal 'abc'``) rather than cattrs' generic wording.

Three leaves need more than transform_error's path:

* a model's own ``ValidationError`` (raised by a validator or ``__attrs_post_init__``, which
  cattrs reports for the whole object) names its field in ``.field``; the path gets it;
* a ``KeyError`` from cattrs' generated code is a missing field: the path names the object
  that lacks it, and the message the field;
* a nested ``StructureError`` keeps its own path below ours.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

import cattrs
from cattrs.errors import AttributeValidationNote

from ._errors import StructureError, ValidationError

__all__ = ["Problem", "problems", "structure_error"]

_MORE: int = 3
"""How many further problems a message lists after the first."""


class Problem(NamedTuple):
    """One bad value: where it sits, what is wrong, the value and the error raised."""

    path: str
    message: str
    value: Any
    error: BaseException


def _join(path: str, part: str) -> str:
    if not part or part.startswith("["):
        return f"{path}{part}"
    return f"{path}.{part}" if path else part


def _is_missing_field(exc: BaseException) -> bool:
    # cattrs' generated code looks the field up with o[name] inside a try that notes the
    # attribute; a KeyError of that very name is the field being absent.
    if type(exc) is not KeyError or not exc.args:
        return False
    notes: Sequence[object] = getattr(exc, "__notes__", ())
    return bool(notes) and isinstance(notes[-1], AttributeValidationNote) \
        and notes[-1].name == exc.args[0]


def _read(exc: BaseException, where: str) -> Problem:
    """Return the problem ``exc`` describes, at ``where`` (transform_error's path)."""
    if isinstance(exc, StructureError):
        text = str(exc)
        if exc.path and text.startswith(exc.path + ": "):
            text = text[len(exc.path) + 2:]
        return Problem(_join(where, exc.path), text, exc.value, exc)
    if isinstance(exc, ValidationError):
        text = str(exc)
        if exc.model and exc.field:
            text = text.removeprefix(f"{exc.model}.{exc.field}: ")
        return Problem(_join(where, exc.field or ""), text, exc.value, exc)
    if _is_missing_field(exc):
        name = exc.args[0]
        parent = where.removesuffix(f".{name}") if where != name else ""
        return Problem(parent, f"missing required field {name!r}", None, exc)
    if isinstance(exc, cattrs.BaseValidationError):
        # A group transform_error does not open (a host's own kind): report it whole.
        return Problem(where, "; ".join(str(e) for e in exc.exceptions), None, exc)
    return Problem(where, str(exc) or type(exc).__name__, getattr(exc, "value", None), exc)


def problems(exc: BaseException, *, path: str = "") -> list[Problem]:
    """Return every problem in ``exc`` (a cattrs error group or a plain error), in order.

    Args:
        exc: What a converter configured by ``serde.configure_converter`` raised.
        path: A prefix for every path (``"opportunities[3]"``).
    """
    leaves: list[BaseException] = []

    def remember(leaf: BaseException, _type: Any) -> str:
        # The "description" transform_error puts before " @ " is the leaf's index here,
        # so the path after it is read back without parsing any message.
        leaves.append(leaf)
        return str(len(leaves) - 1)

    found: list[Problem] = []
    for line in cattrs.transform_error(exc, path=path, format_exception=remember):
        index, _, where = line.partition(" @ ")
        if not path:
            where = where.removeprefix(".")
        found.append(_read(leaves[int(index)], where))
    return found


def structure_error(exc: BaseException, *, path: str = "") -> StructureError:
    """Return the :class:`StructureError` for ``exc``, naming the first bad value's path.

    See ``serde.structure_error`` (the public name) for the contract.
    """
    found = problems(exc, path=path)
    if not found:  # an empty group: nothing to point at
        return StructureError(str(exc) or type(exc).__name__, path=path)
    first = found[0]
    message = first.message
    if len(found) > 1:
        more = "; ".join(f"{p.path or '<root>'}: {p.message}" for p in found[1:1 + _MORE])
        etc = "; ..." if len(found) > 1 + _MORE else ""
        message += f" (and {len(found) - 1} more: {more}{etc})"
    return StructureError(message, path=first.path, value=first.value)
