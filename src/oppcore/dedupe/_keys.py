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
    "GENERIC_NAMES",
    "REGION_CODES",
    "REGION_PREFIXES",
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
_URI_PARAMS = re.compile(r";.*$")  # ";phone-context=...", ";isub=..." of a tel: URI

REGION_CODES: Final[Mapping[str, str]] = FrozenMap({
    "CN": "86", "HK": "852", "MO": "853", "TW": "886", "SG": "65", "MY": "60",
    "JP": "81", "KR": "82", "US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33",
    "AU": "61", "IN": "91",
})
"""ISO 3166 regions ``phone_key`` accepts as ``default_country`` (their calling codes).

Any other region is given by its calling code (``default_country="39"``).
"""

# The longest national (significant) number of a calling code, from the ITU-T E.164
# national numbering plans. A number written without an international prefix that starts
# with its own calling code and is longer than this was written with the code and without
# the "+" ("8613800138000"). Codes not listed never get this treatment.
_MAX_NATIONAL: Final[Mapping[str, int]] = FrozenMap({
    "1": 10, "86": 11, "852": 8, "853": 8, "886": 9, "65": 8, "81": 10, "44": 10,
    "33": 9, "61": 9,
})


def _calling_code(default_country: object) -> str:
    if type(default_country) is str and default_country in _CODES:
        return _CODES[default_country]  # the common case: "86", "CN" (checked once)
    if isinstance(default_country, str):
        code = REGION_CODES.get(default_country.upper(), default_country)
        if code.isascii() and code.isdigit() and 1 <= len(code) <= 3:
            return code
    raise ValidationError(
        f"default_country must be an ISO region ({', '.join(sorted(REGION_CODES))}) or a "
        f"country calling code of 1 to 3 digits, got {default_country!r}",
        field="default_country", value=default_country,
    )


_CODES: Final[dict[str, str]] = {**{c: c for c in set(REGION_CODES.values())},
                                 **REGION_CODES}


def phone_key(phone: str | None, *, default_country: str = "86",
              exact: bool = False) -> str | None:
    """Return the normalised match key of a phone number.

    The number is NFKC-normalised (full-width digits become ASCII) and reduced to its
    digits, in international (E.164) form:

    * ``+86 138-0013-8000``, ``0086 13800138000`` and ``tel:+86-138-0013-8000`` keep their
      country code: ``+8613800138000``;
    * a number written without an international prefix gets ``default_country``; a leading
      national trunk ``0`` is dropped first (``010-1234 5678`` becomes ``+861012345678``);
    * a number that starts with ``default_country``'s code and is too long to be a
      national number had the code written without the ``+``: ``8613800138000`` is
      ``+8613800138000`` too (for the codes whose national lengths are known: CN, HK, MO,
      TW, SG, JP, GB, FR, AU and the NANP);
    * a trunk zero written after the country code (``+86 (0)10 ...``, ``+86 010 ...``) is
      dropped;
    * an extension (``ext. 12``, ``x12``, ``#12``, ``转12``, ``分机 12``, ``;ext=12``) is
      kept as a separate part: ``+861012345678;ext=12``. Two numbers match only with the
      same extension (a switchboard number alone does not identify a person).

    Args:
        phone: The number as entered, or ``None``.
        default_country: The region assumed for numbers written without an international
            prefix: an ISO region from :data:`REGION_CODES` (``"CN"``, ``"US"``) or a
            calling code (``"86"``, ``"1"``).
        exact: Parse with Google's libphonenumber data (the ``phonenumbers`` package, the
            ``phone`` extra) instead of the rules above, and give no key to a number
            that is not a possible number of its region.

    Returns:
        The key, or ``None`` when the input is blank or does not look like a phone number
        (fewer than 5 national digits, more than 15 digits in all).

    Raises:
        ValidationError: ``phone`` is neither a string nor ``None``, or
            ``default_country`` is neither a known region nor 1 to 3 digits.
        ConfigError: ``exact`` without the ``phonenumbers`` package installed.
    """
    text = text_or_none(phone, "phone")
    country = _calling_code(default_country)
    if text is None:
        return None
    text = fold(text).strip()
    uri = text.startswith("tel:")  # an RFC 3966 URI ("tel:+86-10-1234-5678;ext=12")
    if uri:
        text = text[4:].lstrip()
    extension = None
    match = _EXTENSION.search(text)
    if match:
        extension = match.group(1)
        text = text[: match.start()]
    if uri:
        text = _URI_PARAMS.sub("", text)
    if exact:
        from ._phone_exact import exact_key

        key = exact_key(text, country)
    else:
        key = _plain_key(text, country)
    if key is None:
        return None
    return f"{key};ext={extension}" if extension else key


def _plain_key(text: str, country: str) -> str | None:
    """The rule-based key of a number without its extension (``None`` if implausible)."""
    plus = text.lstrip(" \t([").startswith("+")  # "+86 ...", "(+86) ...": a leading plus
    text = _TRUNK.sub(" ", text).strip()
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if plus:
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    else:
        national = digits.lstrip("0")
        if national.startswith(country) and len(national) > _MAX_NATIONAL.get(country, 15):
            national = national[len(country):]
        international = country + national.lstrip("0")
    if international.startswith(country + "0"):
        international = country + international[len(country):].lstrip("0")
    if len(international) - len(country) < 5 or len(international) > 15:
        return None
    return "+" + international


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


# Mainland provinces (and the SARs, Taiwan), then the larger cities: the place names that
# open most registered company names (行政区划 + 字号 + 行业 + 组织形式, per the company
# name registration rules), with the administrative suffix that may follow them.
_PROVINCES: Final = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港",
    "澳门",
)
_CITIES: Final = (
    "广州", "深圳", "杭州", "南京", "苏州", "武汉", "成都", "西安", "长沙", "郑州", "济南",
    "青岛", "大连", "沈阳", "哈尔滨", "长春", "石家庄", "太原", "合肥", "福州", "厦门", "南昌",
    "南宁", "昆明", "贵阳", "兰州", "西宁", "银川", "乌鲁木齐", "呼和浩特", "拉萨", "海口",
    "宁波", "温州", "无锡", "常州", "东莞", "佛山", "珠海", "绍兴", "嘉兴", "金华", "烟台",
    "潍坊", "徐州", "南通", "泉州", "唐山",
)
_ADMIN_SUFFIXES: Final = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区",
                          "省", "市")
REGION_PREFIXES: Final[tuple[str, ...]] = tuple(sorted(
    {p + sfx for p in (*_PROVINCES, *_CITIES) for sfx in ("", *_ADMIN_SUFFIXES)},
    key=len, reverse=True))
"""Place names :func:`company_key` removes from the start of a Chinese company name.

``"浙江杭州字节科技"``, ``"杭州市字节科技"`` and ``"字节科技"`` share a key. The place stays
when what follows is one of :data:`GENERIC_NAMES` (``"北京银行"`` and ``"上海银行"`` are two
banks) or is shorter than two characters.
"""

GENERIC_NAMES: Final[tuple[str, ...]] = (
    "银行", "农商", "农村", "商业银行", "证券", "保险", "信托", "交易所", "大学", "学院",
    "医院", "人民", "日报", "电视", "广播", "电力", "电信", "移动", "联通", "航空", "机场",
    "地铁", "铁路", "港", "水务", "燃气", "自来水", "公交", "烟草", "邮政", "市政", "城建",
    "城投", "国资", "国投", "投资", "发展", "建设", "建工", "文旅", "旅游", "中学", "小学",
)
"""Words that make the place part of a company's identity (see :data:`REGION_PREFIXES`)."""


# The prefixes by their first character, longest first: one dict lookup per word instead
# of a scan of every prefix.
_PREFIXES_BY_FIRST: Final[Mapping[str, tuple[str, ...]]] = FrozenMap({
    first: tuple(p for p in REGION_PREFIXES if p[0] == first)
    for first in {p[0] for p in REGION_PREFIXES}
})


def _strip_region(word: str) -> str:
    """Remove leading place names from a CJK word while the rest stays a distinct name."""
    while True:  # a province, then a city ("浙江杭州..."): until none is left, so idempotent
        for prefix in _PREFIXES_BY_FIRST.get(word[:1], ()):
            if word.startswith(prefix):
                rest = word[len(prefix):]
                if len(rest) < 2 or rest.startswith(GENERIC_NAMES):
                    return word
                word = rest
                break
        else:
            return word


def company_key(name: str | None) -> str | None:
    """Return the normalised match key of a company name.

    The name is NFKC-normalised (full-width letters, digits and brackets become their
    ASCII forms) and case-folded; a parenthesised part (``"（北京）"``, ``"(China)"``) is
    dropped unless it is the whole name; punctuation and symbols become spaces; and legal
    suffixes from :data:`COMPANY_SUFFIXES` are removed from the end, repeatedly, together
    with a leading ``"the"``; a Chinese name loses the province and city it opens with
    (:data:`REGION_PREFIXES`) unless the place is part of the name's identity. So
    ``"ACME Co., Ltd."``, ``"Acme"`` and ``"ＡＣＭＥ　ＣＯ．"`` share the key ``"acme"``,
    and ``"北京字节跳动科技有限公司"``, ``"字节跳动科技(北京)有限公司"`` and
    ``"字节跳动科技"`` share ``"字节跳动科技"``, while ``"北京银行"`` keeps its place.

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
    if _is_cjk(words[0][0]):
        words[0] = _strip_region(words[0])
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
