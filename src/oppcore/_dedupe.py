"""Normalised match keys for finding the same customer entered twice.

A *key* is a plain string computed from a field as entered, such that two spellings of the
same thing give the same key (``"Foo@Example.COM "`` and ``"foo@example.com"``). Keys are
``None`` when the input is blank or cannot be a valid value; ``None`` never matches anything.

Every key function is pure and idempotent on its own output.
"""

import re
import unicodedata

from ._errors import ValidationError

__all__ = ["email_key", "external_key"]

_SPACE = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Return ``text`` NFKC-normalised and case-folded (a fixed point of both steps)."""
    # NFKC first maps full-width letters to ASCII; casefold can produce characters that are
    # not NFKC-normal (rare), so normalise again to make the result idempotent.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _text_or_none(value: object, what: str) -> str | None:
    """Return ``value`` if it is a string, ``None`` for ``None``; refuse other types."""
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(
        f"expected a string or None for the {what}, got {type(value).__name__}",
        field=what, value=value,
    )


def email_key(email: str | None) -> str | None:
    """Return the normalised match key of an e-mail address.

    The address is NFKC-normalised (full-width characters become ASCII), stripped and
    case-folded (local parts are treated as case-insensitive, as virtually every mail
    provider does); the domain loses a trailing dot and is IDNA-encoded, so
    ``"Jörg@Bücher.de"`` and ``"jörg@xn--bcher-kva.de"`` share a key.

    Args:
        email: The address as entered, or ``None``.

    Returns:
        ``"local@ascii-domain"``, or ``None`` when the input is blank or not a plausible
        address (no ``@``, an empty part, whitespace inside, a domain without a dot or
        one that cannot be IDNA-encoded).

    Raises:
        ValidationError: ``email`` is neither a string nor ``None``.
    """
    text = _text_or_none(email, "email")
    if text is None:
        return None
    text = _fold(text).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or "@" in local or _SPACE.search(text):
        return None
    # IDNA treats the ideographic full stops as label separators too (NFKC already
    # mapped the full-width one).
    domain = domain.replace("\u3002", ".").replace("\uff61", ".").rstrip(".")
    if "." not in domain:
        return None
    ascii_domain = _idna(domain)
    if ascii_domain is None:
        return None
    return f"{local}@{ascii_domain}"


def _idna(domain: str) -> str | None:
    """Return the lower-case ASCII (IDNA) form of ``domain``, or ``None`` if it has none."""
    try:
        encoded = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        # Empty labels, labels over 63 octets, prohibited code points.
        return None
    if not encoded or any(not label for label in encoded.split(".")):
        return None
    return encoded


def external_key(value: str | None) -> str | None:
    """Return the normalised form of an external key (an id in another system).

    The key is NFKC-normalised, case-folded, stripped and its inner whitespace runs
    collapsed to one space: ``" ERP-00１２  A "`` becomes ``"erp-0012 a"``.

    Args:
        value: The external key as entered, or ``None``.

    Returns:
        The normalised key, or ``None`` when blank.

    Raises:
        ValidationError: ``value`` is neither a string nor ``None``.
    """
    text = _text_or_none(value, "external_key")
    if text is None:
        return None
    text = _SPACE.sub(" ", _fold(text)).strip()
    return text or None
