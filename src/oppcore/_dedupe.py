"""Normalised match keys for finding the same customer entered twice.

A *key* is a plain string computed from a field as entered, such that two spellings of the
same thing give the same key (``"Foo@Example.COM "`` and ``"foo@example.com"``). Keys are
``None`` when the input is blank or cannot be a valid value; ``None`` never matches anything.

Every key function is pure and idempotent on its own output. :func:`match_keys` computes
all keys of a lead, contact, account or opportunity at once; :func:`find_duplicates` groups
records by key (blocking) and scores the pairs that share one; :func:`merge` folds two
records into one without losing a value silently.
"""

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Final, Literal, TypeVar

import attrs

from ._errors import ValidationError
from ._models import Account, Contact, Lead, LeadStatus, Opportunity
from ._qualification import PARTS, UNKNOWN_QUALIFICATION
from ._validate import FrozenMap

__all__ = [
    "COMPANY_SUFFIXES",
    "FREE_MAIL_DOMAINS",
    "DuplicateCandidate",
    "FieldOutcome",
    "MatchKeys",
    "MatchReason",
    "MergeResult",
    "WEIGHTS",
    "company_key",
    "domain_key",
    "email_key",
    "external_key",
    "find_duplicates",
    "match_keys",
    "merge",
    "phone_key",
]

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


# --- phone ------------------------------------------------------------------------------

# An extension at the end of the number: "ext. 12", "extension 12", "x12", "#12", "转12",
# "分机12", or the RFC 3966 form ";ext=12" that phone_key itself produces.
_EXTENSION = re.compile(
    r"(?:;\s*ext\s*=|\bext(?:ension)?\b\.?|x|#|转|轉|分机|分機|内线|內線)\s*[:.=-]?\s*(\d{1,8})\s*$"
)
_TRUNK = re.compile(r"\(\s*0\s*\)")  # "+44 (0)20 ...": the optional national trunk zero


def phone_key(phone: str | None, *, default_country: str = "86") -> str | None:
    """Return the normalised match key of a phone number.

    The number is NFKC-normalised (full-width digits become ASCII) and reduced to its
    digits, in international form without the ``+``:

    * ``+86 138-0013-8000`` and ``0086 13800138000`` (international prefixes ``+`` and
      ``00``) keep their country code: ``+8613800138000``;
    * a number written without an international prefix gets ``default_country``; a leading
      national trunk ``0`` is dropped first (``010-1234 5678`` becomes ``+861012345678``);
    * a trunk zero written after the country code (``+86 (0)10 ...``, ``+86 010 ...``) is
      dropped;
    * an extension (``ext. 12``, ``x12``, ``#12``, ``转12``, ``分机 12``) is kept as a
      separate part: ``+861012345678;ext=12``. Two numbers match only with the same
      extension (a switchboard number alone does not identify a person).

    Args:
        phone: The number as entered, or ``None``.
        default_country: Country calling code (digits) assumed for numbers written without
            an international prefix.

    Returns:
        The key, or ``None`` when the input is blank or does not look like a phone number
        (fewer than 5 national digits, more than 15 digits in all).

    Raises:
        ValidationError: ``phone`` is neither a string nor ``None``, or ``default_country``
            is not 1 to 3 digits.
    """
    text = _text_or_none(phone, "phone")
    if not default_country.isascii() or not default_country.isdigit() \
            or not 1 <= len(default_country) <= 3:
        raise ValidationError(
            f"default_country must be a country calling code of 1 to 3 digits, "
            f"got {default_country!r}", field="default_country", value=default_country,
        )
    if text is None:
        return None
    text = _fold(text).strip()
    extension = None
    match = _EXTENSION.search(text)
    if match:
        extension = match.group(1)
        text = text[: match.start()]
    text = _TRUNK.sub(" ", text).strip()
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    else:
        international = default_country + digits.lstrip("0")
    if international.startswith(default_country + "0"):
        international = default_country + international[len(default_country):].lstrip("0")
    if len(international) - len(default_country) < 5 or len(international) > 15:
        return None
    key = "+" + international
    return f"{key};ext={extension}" if extension else key


# --- company ----------------------------------------------------------------------------

COMPANY_SUFFIXES: Final[tuple[str, ...]] = (
    # Chinese (simplified and traditional), longest first where one contains another.
    "集团股份有限公司", "集團股份有限公司", "股份有限公司", "有限责任公司", "有限責任公司",
    "集团有限公司", "集團有限公司", "有限公司", "股份公司", "集团", "集團", "公司",
    # English
    "Co., Ltd.", "Company Limited", "Co. Limited", "Limited", "Ltd.", "Inc.",
    "Incorporated", "Corp.", "Corporation", "Company", "Co.", "LLC", "L.L.C.", "LLP", "LP",
    "PLC", "Pte. Ltd.", "Pty. Ltd.", "Group",
    # German, French, Spanish, Italian, Dutch, Nordic, Japanese
    "GmbH & Co. KG", "GmbH", "AG", "KG", "e.V.", "S.A.", "SA", "S.A.S.", "SAS", "SARL",
    "S.L.", "S.p.A.", "SpA", "S.r.l.", "Srl", "B.V.", "BV", "N.V.", "NV", "AB", "A/S", "ASA",
    "Oy", "K.K.", "KK",
)
"""Legal-form suffixes :func:`company_key` removes from the end of a company name.

Latin suffixes are matched as whole words after punctuation is removed (so ``"Co.,Ltd"``,
``"CO LTD"`` and ``"co., ltd."`` are the same suffix); Chinese ones as the end of the name.
Several suffixes in a row are all removed (``"Acme Group Co., Ltd."`` becomes ``"acme"``),
but never the whole name.
"""

_PARENTHESES = re.compile(r"[(\[（【][^()\[\]（）【】]*[)\]）】]")


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uac00" <= ch <= "\ud7af"


_ASCII_WORDS = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    """Split folded text into words: punctuation and symbols become spaces, and CJK
    characters are never separated by spaces."""
    if text.isascii():
        return _ASCII_WORDS.findall(text)  # fast path: folded ASCII is lower case
    chars: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] in "LNM":
            chars.append(ch)
        else:
            chars.append(" ")
    words = "".join(chars).split()
    # CJK writing has no spaces: join neighbouring words at a CJK boundary.
    joined: list[str] = []
    for word in words:
        if joined and _is_cjk(joined[-1][-1]) and _is_cjk(word[0]):
            joined[-1] += word
        else:
            joined.append(word)
    return joined


_LATIN_SUFFIXES: Final = tuple(
    sorted({tuple(_words(_fold(s))) for s in COMPANY_SUFFIXES if not _is_cjk(s[0])},
           key=len, reverse=True)
)
_CJK_SUFFIXES: Final = tuple(
    sorted((s for s in COMPANY_SUFFIXES if _is_cjk(s[0])), key=len, reverse=True)
)


_LATIN_BY_LAST: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = FrozenMap({
    last: tuple(sfx for sfx in _LATIN_SUFFIXES if sfx[-1] == last)
    for last in {sfx[-1] for sfx in _LATIN_SUFFIXES}
})


def _strip_suffix(words: list[str]) -> bool:
    """Remove the longest legal suffix from the end of ``words``; return whether one was.

    Nothing is removed when the longest matching suffix is the whole name (``"Co., Ltd."``
    and ``"有限公司"`` stay as they are rather than shrink to a shorter suffix).
    """
    for suffix in _LATIN_BY_LAST.get(words[-1], ()):
        n = len(suffix)
        if tuple(words[-n:]) == suffix:
            if len(words) == n:
                return False
            del words[-n:]
            return True
    last = words[-1]
    for cjk in _CJK_SUFFIXES:
        if last.endswith(cjk):
            if last == cjk:
                if len(words) == 1:
                    return False
                words.pop()
            else:
                words[-1] = last[: -len(cjk)]
            return True
    return False


def company_key(name: str | None) -> str | None:
    """Return the normalised match key of a company name.

    The name is NFKC-normalised (full-width letters, digits and brackets become their
    ASCII forms) and case-folded; a parenthesised part (``"（北京）"``, ``"(China)"``) is
    dropped unless it is the whole name; punctuation and symbols become spaces; and legal
    suffixes from :data:`COMPANY_SUFFIXES` are removed from the end, repeatedly, together
    with a leading ``"the"``. So ``"ACME Co., Ltd."``, ``"Acme"`` and ``"ＡＣＭＥ　ＣＯ．"``
    share the key ``"acme"``, and ``"北京字节跳动科技有限公司"`` and ``"北京字节跳动科技"``
    share ``"北京字节跳动科技"``.

    Args:
        name: The company name as entered, or ``None``.

    Returns:
        The words of the name separated by single spaces (CJK runs unbroken), or ``None``
        when nothing is left.

    Raises:
        ValidationError: ``name`` is neither a string nor ``None``.
    """
    text = _text_or_none(name, "company")
    if text is None:
        return None
    text = _fold(text)
    without = _PARENTHESES.sub(" ", text)
    words = _words(without) or _words(text)
    if not words:
        return None
    if len(words) > 1 and words[0] == "the":
        del words[0]
    while _strip_suffix(words):
        pass
    return " ".join(words)


# --- domains ----------------------------------------------------------------------------

FREE_MAIL_DOMAINS: Final[frozenset[str]] = frozenset({
    # China
    "qq.com", "vip.qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "188.com",
    "vip.163.com", "vip.126.com", "sina.com", "sina.cn", "vip.sina.com", "sohu.com",
    "139.com", "189.cn", "wo.cn", "aliyun.com", "tom.com", "21cn.com",
    # International
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "hotmail.co.uk", "outlook.de", "hotmail.de", "hotmail.fr", "live.cn", "outlook.cn",
    "yahoo.com", "yahoo.co.uk", "yahoo.co.jp", "yahoo.de", "yahoo.fr", "yahoo.com.cn",
    "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.de", "gmx.net",
    "gmx.com", "web.de", "t-online.de", "mail.ru", "yandex.ru", "yandex.com", "proton.me",
    "protonmail.com", "zoho.com", "mail.com", "naver.com", "daum.net",
})
"""Shared free-mail domains: an address there says nothing about the person's company.

A domain in this set, or any subdomain of one, never counts as a company match. Pass
``free_mail_domains=`` to :func:`match_keys` or :func:`find_duplicates` to extend it
(``FREE_MAIL_DOMAINS | {"example.net"}``).
"""

_URL_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*://")


def domain_key(value: str | None, *, free_mail_domains: Iterable[str] = FREE_MAIL_DOMAINS
               ) -> str | None:
    """Return the company domain of an e-mail address or web site, if it identifies one.

    An e-mail address gives its domain; a web site (``"https://www.Acme.com/about"``,
    ``"acme.com"``) its host name without ``www.``. The result is IDNA-encoded and lower
    case.

    Args:
        value: An e-mail address, URL or bare domain, or ``None``.
        free_mail_domains: Domains that are never a company signal (they and their
            subdomains give ``None``).

    Returns:
        The domain, or ``None`` when blank, invalid or a free-mail domain.

    Raises:
        ValidationError: ``value`` is neither a string nor ``None``.
    """
    text = _text_or_none(value, "domain")
    if text is None:
        return None
    if "@" in text:
        key = email_key(text)
        domain = key.rpartition("@")[2] if key else None
    else:
        host = _URL_PREFIX.sub("", _fold(text).strip())
        host = re.split(r"[/?#:]", host, maxsplit=1)[0]
        host = host.replace("\u3002", ".").replace("\uff61", ".").rstrip(".")
        if host.startswith("www."):
            host = host[4:]
        domain = _idna(host) if "." in host and not _SPACE.search(host) else None
    if domain is None:
        return None
    free = free_mail_domains if isinstance(free_mail_domains, (set, frozenset)) \
        else frozenset(free_mail_domains)
    labels = domain.split(".")
    if any(".".join(labels[i:]) in free for i in range(len(labels) - 1)):
        return None
    return domain


# --- keys of a record -------------------------------------------------------------------

Record = Lead | Contact | Account | Opportunity
"""A record that has match keys."""


@attrs.frozen(kw_only=True)
class MatchKeys:
    """The normalised match keys of one record (``None`` where the field is blank).

    Args:
        kind: ``"lead"``, ``"contact"``, ``"account"`` or ``"opportunity"``.
        email: :func:`email_key` of the (primary contact's) e-mail.
        phone: :func:`phone_key` of the (primary contact's) phone.
        company: :func:`company_key` of the company (the account's name for accounts and
            opportunities).
        domain: :func:`domain_key` of the web site, else of the e-mail (never free-mail).
        name: The person's (or the deal's) name, folded, without spaces or punctuation;
            only used to score pairs found through another key.
        external: :func:`external_key` of the record's own external key.
    """

    kind: str
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    domain: str | None = None
    name: str | None = None
    external: str | None = None


def _name_key(name: str | None) -> str | None:
    if not name:
        return None
    return "".join(_words(_fold(name))) or None


def match_keys(record: Record, *, default_country: str = "86",
               free_mail_domains: Iterable[str] = FREE_MAIL_DOMAINS) -> MatchKeys:
    """Return the normalised match keys of a lead, contact, account or opportunity.

    An opportunity is matched through its primary contact (e-mail, phone) and its account
    (company name, web site), plus its own name and external key.

    Args:
        record: The record.
        default_country: Passed to :func:`phone_key`.
        free_mail_domains: Passed to :func:`domain_key`.

    Returns:
        The keys.

    Raises:
        ValidationError: ``record`` is not one of the four record types.
    """
    return _Keyer(default_country, frozenset(free_mail_domains)).keys(record)


class _Keyer:
    """Computes match keys with per-run memos: company names and e-mail domains repeat."""

    def __init__(self, default_country: str, free: frozenset[str]) -> None:
        phone_key("", default_country=default_country)  # validate the country code once
        self.country = default_country
        self.free = free
        self.companies: dict[str | None, str | None] = {}
        self.domains: dict[str | None, str | None] = {}

    def company(self, name: str | None) -> str | None:
        try:
            return self.companies[name]
        except (KeyError, TypeError):
            key = self.companies[name] = company_key(name)
            return key

    def domain(self, value: str | None, email: str | None = None) -> str | None:
        # For an e-mail, the memo is keyed by the (already normalised) domain part.
        memo = ("@" + email.rpartition("@")[2]) if email else value
        try:
            return self.domains[memo]
        except (KeyError, TypeError):
            key = self.domains[memo] = domain_key(f"x{memo}" if email else value,
                                                  free_mail_domains=self.free)
            return key

    def keys(self, record: "Record") -> MatchKeys:
        if isinstance(record, Lead | Contact):
            company = record.company if isinstance(record, Lead) else None
            email = email_key(record.email)
            return MatchKeys(
                kind="lead" if isinstance(record, Lead) else "contact",
                email=email,
                phone=phone_key(record.phone, default_country=self.country),
                company=self.company(company),
                domain=self.domain(None, email),
                name=_name_key(record.name),
                external=external_key(record.external_key) if isinstance(record, Lead)
                else None,
            )
        if isinstance(record, Account):
            return MatchKeys(
                kind="account",
                company=self.company(record.name),
                domain=self.domain(record.website),
                external=external_key(record.external_key),
            )
        if isinstance(record, Opportunity):
            contact, account = record.primary_contact, record.account
            email = email_key(contact.email if contact else None)
            return MatchKeys(
                kind="opportunity",
                email=email,
                phone=phone_key(contact.phone if contact else None,
                                default_country=self.country),
                company=self.company(account.name) if account else None,
                domain=self.domain(account.website if account else None)
                or self.domain(None, email),
                name=_name_key(record.name),
                external=external_key(record.external_key),
            )
        raise ValidationError(
            f"cannot compute match keys of a {type(record).__name__}: expected a Lead, "
            "Contact, Account or Opportunity", value=record,
        )


# --- finding duplicates -----------------------------------------------------------------

@attrs.frozen(kw_only=True)
class MatchReason:
    """One key two records share, and what it adds to their score.

    Args:
        code: Stable code: ``"external_key"``, ``"email"``, ``"phone"``, ``"company_name"``,
            ``"company_domain"`` or ``"name"``.
        weight: The evidence weight in (0, 1] for this kind of pair (see
            :func:`find_duplicates`).
        key: The shared normalised key.
    """

    code: str
    weight: float
    key: str

    @property
    def message(self) -> str:
        """A readable sentence naming the shared key."""
        return f"same {_LABELS[self.code]}: {self.key!r}"


_LABELS: Final = {
    "external_key": "external key", "email": "e-mail", "phone": "phone",
    "company_name": "company name", "company_domain": "company domain", "name": "name",
}

# Evidence weights per kind of pair. People (leads and contacts, compared with each other),
# accounts, opportunities. Shared company signals are weak for people (colleagues are not
# duplicates) and strong for accounts; a shared contact is weak for opportunities (repeat
# business is not a duplicate). The "name" weight only adds to pairs found by another key.
_PEOPLE: Final = "people"
_GROUP: Final = {"lead": _PEOPLE, "contact": _PEOPLE, "account": "account",
                 "opportunity": "opportunity"}
WEIGHTS: Final[Mapping[str, Mapping[str, float]]] = FrozenMap({
    _PEOPLE: FrozenMap({"external_key": 0.95, "email": 0.9, "phone": 0.7,
                        "company_name": 0.3, "company_domain": 0.2, "name": 0.4}),
    "account": FrozenMap({"external_key": 0.95, "company_name": 0.8,
                          "company_domain": 0.6}),
    "opportunity": FrozenMap({"external_key": 0.95, "email": 0.3, "phone": 0.2,
                              "company_name": 0.3, "company_domain": 0.2, "name": 0.5}),
})
_FIELDS: Final = (("external_key", "external"), ("email", "email"), ("phone", "phone"),
                  ("company_name", "company"), ("company_domain", "domain"), ("name", "name"))


@attrs.frozen(kw_only=True)
class DuplicateCandidate:
    """Two records that may be the same customer (or deal).

    Args:
        first: The record that comes first in the input.
        second: The other record.
        score: Combined evidence in [0, 1]: ``1 - prod(1 - weight)`` over the reasons.
        reasons: Every shared key, strongest first.
    """

    first: Record
    second: Record
    score: float
    reasons: tuple[MatchReason, ...]

    @property
    def ids(self) -> tuple[str, str]:
        """The ids of the two records."""
        return (self.first.id, self.second.id)

    @property
    def codes(self) -> frozenset[str]:
        """The codes of the reasons."""
        return frozenset(r.code for r in self.reasons)


def _block_keys(keys: MatchKeys) -> list[tuple[str, ...]]:
    """Keys under which a record is grouped; only records in one group are compared."""
    group = _GROUP[keys.kind]
    blocks: list[tuple[str, ...]] = []
    if keys.external:  # external keys are ids in another system: only within one kind
        blocks.append(("x", keys.kind, keys.external))
    if group == "account":
        blocks += [("c", group, v) for v in (keys.company,) if v]
        blocks += [("d", group, v) for v in (keys.domain,) if v]
        return blocks
    if group == _PEOPLE:
        blocks += [("e", group, v) for v in (keys.email,) if v]
        blocks += [("p", group, v) for v in (keys.phone,) if v]
    if keys.name:
        # Company signals alone never reach a sensible threshold for people or deals, so
        # they block together with the name: this keeps groups small (a big customer's
        # domain would otherwise put thousands of colleagues in one group).
        for code, value in (("c", keys.company), ("d", keys.domain), ("e", keys.email)):
            if value and (code != "e" or group != _PEOPLE):
                blocks.append((code + "n", group, value, keys.name))
    return blocks


def _score(weights: tuple[float, ...]) -> float:
    miss = 1.0
    for weight in sorted(weights):
        miss *= 1.0 - weight
    return round(1.0 - miss, 6)


def _reasons(a: MatchKeys, b: MatchKeys) -> tuple[MatchReason, ...]:
    table = WEIGHTS[_GROUP[a.kind]]
    found = []
    for code, attr in _FIELDS:
        value = getattr(a, attr)
        if code in table and value is not None and value == getattr(b, attr) \
                and (code != "external_key" or a.kind == b.kind):
            found.append(MatchReason(code=code, weight=table[code], key=value))
    found.sort(key=lambda r: (-r.weight, r.code))
    return tuple(found)


def find_duplicates(
    records: Iterable[Record],
    *,
    threshold: float = 0.5,
    default_country: str = "86",
    free_mail_domains: Iterable[str] = FREE_MAIL_DOMAINS,
) -> tuple[DuplicateCandidate, ...]:
    """Find pairs of records that are probably the same customer (or deal).

    Records are grouped by each normalised key (blocking), so only records that share a
    key are compared: the cost is linear in the number of records plus the pairs inside
    each group, not quadratic in the input. Leads and contacts are compared with each
    other; accounts with accounts; opportunities with opportunities. Each pair's score
    combines the weights of every shared key (``1 - prod(1 - weight)``):

    ============== ================ ======== =============
    code           leads, contacts  accounts opportunities
    ============== ================ ======== =============
    external_key   0.95             0.95     0.95
    email          0.9              --       0.3
    phone          0.7              --       0.2
    company_name   0.3              0.8      0.3
    company_domain 0.2              0.6      0.2
    name           0.4              --       0.5
    ============== ================ ======== =============

    For people and deals, company signals and e-mails of deals count only together with
    the same name (colleagues at one company are not duplicates, nor are two deals with
    one contact); external keys only match records of the same kind.

    Args:
        records: Leads, contacts, accounts and opportunities, in any mix.
        threshold: Minimum score of a returned pair, in [0, 1].
        default_country: Passed to :func:`phone_key`.
        free_mail_domains: Domains that are never a company signal.

    Returns:
        The candidate pairs with a score at or above ``threshold``, highest score first
        (ties in input order). A record is never paired with itself (the same kind and id).

    Raises:
        ValidationError: A record is not one of the four types, or ``threshold`` is not a
            number in [0, 1].
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) \
            or not 0.0 <= threshold <= 1.0:
        raise ValidationError(f"threshold must be a number in [0, 1], got {threshold!r}",
                              field="threshold", value=threshold)
    items = tuple(records)
    keyer = _Keyer(default_country, frozenset(free_mail_domains))
    keys = [keyer.keys(r) for r in items]
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, record_keys in enumerate(keys):
        for block in _block_keys(record_keys):
            groups.setdefault(block, []).append(index)
    pairs: set[tuple[int, int]] = set()
    for members in groups.values():
        if len(members) > 1:
            for pos, i in enumerate(members):
                for j in members[pos + 1:]:
                    pairs.add((i, j))
    found = []
    for i, j in pairs:
        a, b = keys[i], keys[j]
        if a.kind == b.kind and items[i].id == items[j].id:
            continue
        reasons = _reasons(a, b)
        score = _score(tuple(r.weight for r in reasons))
        if reasons and score >= threshold:
            found.append((-score, i, j, reasons, score))
    found.sort(key=lambda f: f[:3])
    return tuple(DuplicateCandidate(first=items[i], second=items[j], score=score,
                                    reasons=reasons)
                 for _, i, j, reasons, score in found)


# --- merging ----------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class FieldOutcome:
    """What a merge did with one field.

    Args:
        field: The field name; a dotted path for parts (``"qualification.budget"``,
            ``"custom.region"``).
        kept: The value in the merged record.
        dropped: Non-empty values of the inputs that are not the kept value (each is also
            written to the merged record's notes or custom fields where the type has them).
        source: ``"survivor"``, ``"other"`` (the survivor's value was empty), ``"both"``
            (combined: unions, concatenated notes) or ``"merge"`` (set by the merge itself:
            ``updated_at``).
    """

    field: str
    kept: Any
    dropped: tuple[Any, ...] = ()
    source: str = "survivor"


@attrs.frozen(kw_only=True)
class MergeResult:
    """The outcome of :func:`merge`: the merged record and a report of every field.

    Args:
        record: The merged record: the survivor's id and version, ready for a store's save
            (then delete ``merged_ids``).
        survivor_id: The id of the record that was kept.
        merged_ids: The ids of the records folded into it.
        fields: One outcome per field (and per custom field and qualification part).
        at: When the merge happened.
        by: Who merged.
    """

    record: Record
    survivor_id: str
    merged_ids: tuple[str, ...]
    fields: tuple[FieldOutcome, ...]
    at: datetime
    by: str

    @property
    def conflicts(self) -> tuple[FieldOutcome, ...]:
        """The outcomes that dropped a value (a conflict between the two records)."""
        return tuple(f for f in self.fields if f.dropped)

    def outcome(self, field: str) -> FieldOutcome:
        """Return the outcome of ``field`` (``"email"``, ``"custom.region"``).

        Raises:
            KeyError: No such field in the report.
        """
        for outcome in self.fields:
            if outcome.field == field:
                return outcome
        raise KeyError(field)


Prefer = Literal["older", "newer", "first", "second"]
_R = TypeVar("_R", Lead, Contact, Account, Opportunity)
_CREATED: Final = {Lead: "captured_at", Opportunity: "created_at"}
_STATUS_RANK: Final = {LeadStatus.NEW: 0, LeadStatus.CONTACTED: 1, LeadStatus.QUALIFIED: 2,
                       LeadStatus.DISQUALIFIED: 3, LeadStatus.CONVERTED: 4}
_BY_ID: Final = frozenset({"contacts", "activities", "quotes"})
# Fields whose "dropped" value is bookkeeping, not customer data: not copied to notes/custom.
_BOOKKEEPING: Final = frozenset({"id", "version", "updated_at", "captured_at", "created_at"})


def _empty(value: Any) -> bool:
    return value is None or value == "" or value is UNKNOWN_QUALIFICATION or (
        isinstance(value, tuple | frozenset | Mapping) and not value)


def _describe(value: Any) -> str:
    """A short text form of a dropped value, for notes and custom fields."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | frozenset):
        return "; ".join(_describe(v) for v in value)
    if hasattr(value, "id") and isinstance(value.id, str):
        return f"{type(value).__name__} {value.id}"
    return str(value)


def _pick(field: str, kept_value: Any, other_value: Any) -> FieldOutcome:
    """The default rule: the survivor's non-empty value wins, else the other's."""
    if _empty(kept_value) and not _empty(other_value):
        return FieldOutcome(field=field, kept=other_value, source="other")
    dropped = () if _empty(other_value) or other_value == kept_value else (other_value,)
    return FieldOutcome(field=field, kept=kept_value, dropped=dropped)


def _union_by_id(field: str, mine: tuple[Any, ...], theirs: tuple[Any, ...]) -> FieldOutcome:
    known = {item.id: item for item in mine}
    added = tuple(item for item in theirs if item.id not in known)
    dropped = tuple(item for item in theirs if item.id in known and known[item.id] != item)
    kept = mine + added
    if field == "activities":
        kept = tuple(sorted(kept, key=lambda activity: activity.at))
    return FieldOutcome(field=field, kept=kept, dropped=dropped,
                        source="both" if added and mine else ("other" if added else "survivor"))


def _merge_custom(mine: Mapping[str, Any], theirs: Mapping[str, Any]
                  ) -> tuple[dict[str, Any], list[FieldOutcome]]:
    merged = dict(mine)
    outcomes = []
    for key in sorted(set(mine) | set(theirs)):
        outcome = _pick(f"custom.{key}", mine.get(key), theirs.get(key))
        merged[key] = outcome.kept if key in mine else theirs[key]
        outcomes.append(outcome)
    return merged, outcomes


def _field_outcomes(kept: Record, other: Record, at: datetime) -> list[FieldOutcome]:
    outcomes: list[FieldOutcome] = []
    for attribute in attrs.fields(type(kept)):
        name = attribute.name
        mine, theirs = getattr(kept, name), getattr(other, name)
        if name == "updated_at":
            outcomes.append(FieldOutcome(field=name, kept=at, source="merge",
                                         dropped=tuple(dict.fromkeys(
                                             v for v in (mine, theirs) if v != at))))
        elif name in ("captured_at", "created_at"):
            first = min(mine, theirs)
            outcomes.append(FieldOutcome(
                field=name, kept=first, source="survivor" if first == mine else "other",
                dropped=(max(mine, theirs),) if mine != theirs else ()))
        elif name == "tags":
            outcomes.append(FieldOutcome(field=name, kept=mine | theirs,
                                         source="both" if theirs - mine else "survivor"))
        elif name in _BY_ID:
            outcomes.append(_union_by_id(name, mine, theirs))
        elif name == "custom":
            continue  # handled by _merge_custom
        elif name == "qualification":
            outcomes += [_pick(f"qualification.{part}", getattr(mine, part),
                               getattr(theirs, part)) for part in PARTS]
        elif name == "status":
            best = max((mine, theirs), key=_STATUS_RANK.__getitem__)
            outcomes.append(FieldOutcome(
                field=name, kept=best, source="survivor" if best == mine else "other",
                dropped=(theirs,) if best == mine and theirs != mine else
                ((mine,) if best != mine else ())))
        else:
            outcomes.append(_pick(name, mine, theirs))
    return outcomes


def merge(a: _R, b: _R, *, prefer: Prefer = "older", at: datetime, by: str) -> MergeResult:
    """Merge two records of the same type into one, losing no value silently.

    Policy:

    * **Survivor**: ``prefer="older"`` keeps the record captured/created first (leads and
      opportunities; ``a`` on a tie and for contacts and accounts), ``"newer"`` the later
      one, ``"first"``/``"second"`` the first or second argument. The merged record has
      the survivor's id and version, so a store saves it with the version read.
    * **Each field**: the survivor's non-empty value wins, else the other's. A conflicting
      value of the other record is listed in :attr:`FieldOutcome.dropped`.
    * **Combined fields**: ``tags`` are unioned; contacts, activities and quotes are
      unioned by id (activities sorted by time); ``custom`` fields are merged key by key
      with the same rule; each qualification part is merged separately; a lead's
      ``status`` is the furthest of the two (new < contacted < qualified < disqualified <
      converted), and a ``disqualified_reason`` is kept only with the disqualified status;
      ``captured_at``/``created_at`` is the earliest; ``updated_at`` is ``at``.
    * **Notes**: the other lead's notes are appended to the survivor's, followed by a line
      naming the merged id and every customer value that was not kept.
    * **Opportunities** have no notes: each value not kept is written to
      ``custom["merged:<other id>:<field>"]`` as text. Contacts and accounts have neither,
      so their dropped values are only in the result (the service records them in the
      audit trail).

    The function is pure: storing the result and deleting the merged record is the
    caller's (the service's) job.

    Args:
        a: A lead, contact, account or opportunity.
        b: Another record of the same type, with a different id.
        prefer: Which record survives (see above).
        at: When the merge happens (timezone-aware).
        by: Who merges.

    Returns:
        The merged record and the per-field report.

    Raises:
        ValidationError: The records are not of the same supported type, have the same
            id, ``prefer`` is unknown, ``at`` is not timezone-aware or ``by`` is blank.
    """
    if type(a) is not type(b) or not isinstance(a, Lead | Contact | Account | Opportunity):
        raise ValidationError(
            f"cannot merge a {type(a).__name__} with a {type(b).__name__}: both must be "
            "leads, contacts, accounts or opportunities", value=(a, b))
    kind = type(a).__name__
    if a.id == b.id:
        raise ValidationError(f"cannot merge {kind} {a.id!r} with itself", model=kind,
                              field="id", value=a.id)
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ValidationError(f"merge time must be a timezone-aware datetime, got {at!r}",
                              field="at", value=at)
    if not isinstance(by, str) or not by.strip():
        raise ValidationError(f"merge needs who merges (a non-blank string), got {by!r}",
                              field="by", value=by)
    survivor, other = _choose(a, b, prefer)
    outcomes = _field_outcomes(survivor, other, at)
    if isinstance(survivor, Lead):
        outcomes = _fix_disqualified_reason(outcomes)
    changes = {o.field: o.kept for o in outcomes if "." not in o.field}
    if isinstance(survivor, Lead | Opportunity) and isinstance(other, Lead | Opportunity):
        custom, custom_outcomes = _merge_custom(survivor.custom, other.custom)
        outcomes += custom_outcomes
        changes["qualification"] = survivor.qualification.evolve(**{
            o.field.partition(".")[2]: o.kept for o in outcomes
            if o.field.startswith("qualification.")})
        lost = [(o.field, v) for o in outcomes if o.field not in _BOOKKEEPING
                for v in o.dropped]
        if isinstance(survivor, Lead) and isinstance(other, Lead):
            notes = _merged_notes(survivor, other, lost, at, by)
            changes["notes"] = notes
            outcomes = [FieldOutcome(field="notes", kept=notes, source="both")
                        if o.field == "notes" else o for o in outcomes]
        else:
            for field, value in lost:
                custom[f"merged:{other.id}:{field}"] = _describe(value)
        changes["custom"] = FrozenMap(custom)
        outcomes.append(FieldOutcome(field="custom", kept=changes["custom"], source="both"))
    record = attrs.evolve(survivor, **changes)
    return MergeResult(record=record, survivor_id=survivor.id, merged_ids=(other.id,),
                       fields=tuple(outcomes), at=at, by=by)


def _fix_disqualified_reason(outcomes: list[FieldOutcome]) -> list[FieldOutcome]:
    """Drop a disqualified reason unless the merged lead is disqualified."""
    status = next(o.kept for o in outcomes if o.field == "status")
    if status is LeadStatus.DISQUALIFIED:
        return outcomes
    return [FieldOutcome(field=o.field, kept=None,
                         dropped=(o.kept, *o.dropped) if o.kept else o.dropped)
            if o.field == "disqualified_reason" else o for o in outcomes]


def _choose(a: _R, b: _R, prefer: str) -> tuple[_R, _R]:
    if prefer in ("first", "second"):
        return (a, b) if prefer == "first" else (b, a)
    if prefer not in ("older", "newer"):
        raise ValidationError(
            f"prefer must be 'older', 'newer', 'first' or 'second', got {prefer!r}",
            field="prefer", value=prefer)
    created = _CREATED.get(type(a))
    if created is None or getattr(a, created) == getattr(b, created):
        return a, b
    a_first = getattr(a, created) < getattr(b, created)
    return (a, b) if a_first == (prefer == "older") else (b, a)


def _merged_notes(survivor: Lead, other: Lead, lost: list[tuple[str, Any]], at: datetime,
                  by: str) -> str:
    parts = [survivor.notes] if survivor.notes else []
    if other.notes and other.notes not in survivor.notes:
        parts.append(other.notes)
    lines = [f"Merged lead {other.id} on {at.isoformat()} by {by}."]
    lines += [f"- {field} (not kept): {_describe(value)}" for field, value in lost
              if field != "notes"]
    parts.append("\n".join(lines))
    return "\n\n".join(parts)
