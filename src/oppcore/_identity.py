"""What makes a stored record the same record: its normalised e-mail and external key.

This is the model layer's definition of identity, used by every store (a second lead with
the same key is refused) and by the duplicate finder (the same keys are its strongest
evidence). It imports only the models, the errors and the standard library.

:func:`unique_keys` lists the keys a store holds unique per kind; :func:`email_key` and
:func:`external_key` are the normalisations behind them. The text helpers at the end
(:func:`fold`, :func:`text_or_none`, :func:`ascii_domain`) are shared with the other match
keys in :mod:`oppcore.dedupe`, so "the same text" means one thing everywhere.
"""

import re
import unicodedata

from ._errors import ValidationError
from ._models import Lead, Opportunity

__all__ = [
    "WHITESPACE",
    "ascii_domain",
    "email_key",
    "external_key",
    "fold",
    "text_or_none",
    "unique_keys",
]

WHITESPACE = re.compile(r"\s+")
"""A run of whitespace (any Unicode space)."""


def fold(text: str) -> str:
    """Return ``text`` NFKC-normalised and case-folded (a fixed point of both steps)."""
    # NFKC first maps full-width letters to ASCII; casefold can produce characters that are
    # not NFKC-normal (rare), so normalise again to make the result idempotent.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def text_or_none(value: object, what: str) -> str | None:
    """Return ``value`` if it is a string, ``None`` for ``None``; refuse other types.

    Raises:
        ValidationError: ``value`` is neither (``what`` names the field in the error).
    """
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(
        f"expected a string or None for the {what}, got {type(value).__name__}",
        field=what, value=value,
    )


def ascii_domain(domain: str) -> str | None:
    """Return the lower-case ASCII (IDNA) form of ``domain``, or ``None`` if it has none."""
    if domain.isascii():
        # What the idna codec does with an ASCII name (labels of 1 to 63 characters),
        # without its per-label overhead: this is the hot path of find_duplicates.
        labels = domain.lower().split(".")
        return ".".join(labels) if all(0 < len(lb) < 64 for lb in labels) else None
    try:
        encoded = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        # Empty labels, labels over 63 octets, prohibited code points.
        return None
    if not encoded or any(not label for label in encoded.split(".")):
        return None
    return encoded


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
    text = text_or_none(email, "email")
    if text is None:
        return None
    text = fold(text).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or "@" in local or WHITESPACE.search(text):
        return None
    # IDNA treats the ideographic full stops as label separators too (NFKC already
    # mapped the full-width one).
    domain = domain.replace("\u3002", ".").replace("\uff61", ".").rstrip(".")
    if "." not in domain:
        return None
    ascii_name = ascii_domain(domain)
    if ascii_name is None:
        return None
    return f"{local}@{ascii_name}"


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
    text = text_or_none(value, "external_key")
    if text is None:
        return None
    text = WHITESPACE.sub(" ", fold(text)).strip()
    return text or None


def unique_keys(record: Lead | Opportunity) -> tuple[tuple[str, str], ...]:
    """Return the keys no other stored record of the same kind may share.

    A store holds each ``(key name, key)`` pair at most once per kind (leads apart from
    opportunities) and refuses a write that would give a second record the same pair, with
    :class:`~oppcore.DuplicateError` naming the key. The pairs are:

    * ``("email", email_key(lead.email))`` for a lead with a plausible e-mail address. An
      opportunity has no e-mail of its own, and two deals with one contact are repeat
      business, not duplicates;
    * ``("external_key", external_key(record.external_key))`` for a lead or opportunity
      with an external key.

    The keys are normalised as :func:`email_key` and :func:`external_key` describe, so
    ``"Foo@Example.COM "`` and ``"foo@example.com"`` clash while a blank or implausible
    value gives no key (and never clashes). A store keeps the keys of each record it holds
    and compares the new record's keys with them on every add and save.

    Args:
        record: A lead or an opportunity.

    Returns:
        The pairs, the e-mail first; empty when the record has neither key.

    Raises:
        ValidationError: ``record`` is not a :class:`~oppcore.Lead` or
            :class:`~oppcore.Opportunity`.
    """
    keys = []
    if isinstance(record, Lead):
        email = email_key(record.email)
        if email is not None:
            keys.append(("email", email))
    elif not isinstance(record, Opportunity):
        raise ValidationError(
            f"unique keys are defined for leads and opportunities, got "
            f"{type(record).__name__}", value=record,
        )
    ext = external_key(record.external_key)
    if ext is not None:
        keys.append(("external_key", ext))
    return tuple(keys)
