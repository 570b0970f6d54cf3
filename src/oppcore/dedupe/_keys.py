"""Normalised match keys of single fields: phone numbers, company names, company domains.

A *key* is a plain string computed from a field as entered, such that two spellings of the
same thing give the same key (``"+86 138-0013-8000"`` and ``"13800138000"``). Keys are
``None`` when the input is blank or cannot be a valid value; ``None`` never matches anything.
Every key function is pure and idempotent on its own output.

The e-mail and external keys define a record's identity, so they live with the models
(:mod:`oppcore._identity`) and are re-exported by :mod:`oppcore.dedupe`.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final

from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._identity import WHITESPACE, ascii_domain, email_key, fold, text_or_none

__all__ = [
    "COMPANY_SUFFIXES",
    "FREE_MAIL_DOMAINS",
    "company_key",
    "domain_key",
    "phone_key",
    "split_words",
]

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
    text = text_or_none(phone, "phone")
    if not default_country.isascii() or not default_country.isdigit() \
            or not 1 <= len(default_country) <= 3:
        raise ValidationError(
            f"default_country must be a country calling code of 1 to 3 digits, "
            f"got {default_country!r}", field="default_country", value=default_country,
        )
    if text is None:
        return None
    text = fold(text).strip()
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


def split_words(text: str) -> list[str]:
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
    sorted({tuple(split_words(fold(s))) for s in COMPANY_SUFFIXES if not _is_cjk(s[0])},
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
    text = text_or_none(name, "company")
    if text is None:
        return None
    text = fold(text)
    without = _PARENTHESES.sub(" ", text)
    words = split_words(without) or split_words(text)
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
    text = text_or_none(value, "domain")
    if text is None:
        return None
    if "@" in text:
        key = email_key(text)
        domain = key.rpartition("@")[2] if key else None
    else:
        host = _URL_PREFIX.sub("", fold(text).strip())
        host = re.split(r"[/?#:]", host, maxsplit=1)[0]
        host = host.replace("\u3002", ".").replace("\uff61", ".").rstrip(".")
        if host.startswith("www."):
            host = host[4:]
        domain = ascii_domain(host) if "." in host and not WHITESPACE.search(host) else None
    if domain is None:
        return None
    free = free_mail_domains if isinstance(free_mail_domains, (set, frozenset)) \
        else frozenset(free_mail_domains)
    labels = domain.split(".")
    if any(".".join(labels[i:]) in free for i in range(len(labels) - 1)):
        return None
    return domain
