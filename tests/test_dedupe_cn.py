"""Phone and company keys as Chinese leads write them (issue #17)."""

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from oppcore import ConfigError, ValidationError
from oppcore.dedupe import company_key, phone_key

# --- phone: the examples --------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    "13800138000", "8613800138000", "+86 138-0013-8000", "+8613800138000",
    "0086 138 0013 8000", "(+86) 138 0013 8000", "tel:+86-138-0013-8000",
    "+86.138.0013.8000", "１３８００１３８０００", "+86 (138) 0013 8000",
])
def test_every_spelling_of_a_mobile_number_has_one_key(spelling: str) -> None:
    assert phone_key(spelling) == "+8613800138000"


@pytest.mark.parametrize(("spelling", "key"), [
    ("010-1234 5678", "+861012345678"),
    ("(010) 12345678", "+861012345678"),
    ("+86 10 1234 5678", "+861012345678"),
    ("+86 (0)10 1234 5678", "+861012345678"),
    ("861012345678", "+861012345678"),
    ("(021) 1234-5678", "+862112345678"),
    ("0571-8765 4321", "+8657187654321"),
    ("400-810-8888", "+864008108888"),
    ("800 810 8888", "+868008108888"),
    ("+852 2123 4567", "+85221234567"),
    ("00852-9123-4567", "+85291234567"),
    ("+853 2888 1234", "+85328881234"),
    ("+886 2 2345 6789", "+886223456789"),
    ("+886 (0)2-2345-6789", "+886223456789"),
])
def test_landlines_service_numbers_and_hk_mo_tw(spelling: str, key: str) -> None:
    assert phone_key(spelling) == key


@pytest.mark.parametrize(("spelling", "key"), [
    ("13800138000 转 123", "+8613800138000;ext=123"),
    ("010-6552 9988 分机 12", "+861065529988;ext=12"),
    ("+1 800 555 0100 ext. 7", "+18005550100;ext=7"),
    ("+1 800 555 0100 x7", "+18005550100;ext=7"),
    ("tel:+86-10-6552-9988;ext=12", "+861065529988;ext=12"),
])
def test_extensions_stay_a_separate_part(spelling: str, key: str) -> None:
    assert phone_key(spelling) == key


def test_the_default_region_is_an_argument() -> None:
    # Written without a country code: the caller's region decides.
    assert phone_key("1 800 555 0100", default_country="US") == "+18005550100"
    assert phone_key("1 800 555 0100", default_country="1") == "+18005550100"
    assert phone_key("(800) 555-0100", default_country="US") == "+18005550100"
    assert phone_key("02-2345-6789", default_country="TW") == "+886223456789"
    assert phone_key("2123 4567", default_country="HK") == "+85221234567"
    with pytest.raises(ValidationError, match="ISO region"):
        phone_key("13800138000", default_country="XX")


def test_a_tel_uri_drops_its_parameters_but_plain_text_keeps_digits() -> None:
    assert phone_key("tel:13800138000;phone-context=example.com") == "+8613800138000"
    # Two numbers in one field are not a number (more than 15 digits).
    assert phone_key("13800138000; 13900139000") is None


def test_exact_mode_uses_libphonenumber() -> None:
    assert phone_key("8613800138000", exact=True) == "+8613800138000"
    assert phone_key("1 800 555 0100", default_country="US", exact=True) == "+18005550100"
    assert phone_key("12", exact=True) is None
    assert phone_key("13800138000 转 5", exact=True) == "+8613800138000;ext=5"


def test_exact_mode_without_phonenumbers_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    with pytest.raises(ConfigError, match="phonenumbers"):
        phone_key("13800138000", exact=True)


# --- phone: property, checked against libphonenumber -----------------------------------

def _mobile() -> st.SearchStrategy[tuple[str, str, str]]:
    prefix = st.sampled_from(["130", "135", "138", "139", "150", "158", "186", "188", "199"])
    return st.builds(lambda p, r: ("86", "CN", p + r), prefix,
                     st.from_regex(r"[0-9]{8}", fullmatch=True))


def _landline() -> st.SearchStrategy[tuple[str, str, str]]:
    area = st.sampled_from(["10", "21", "22", "20", "571", "755", "591", "28"])
    return st.builds(lambda a, r: ("86", "CN", a + r), area,
                     st.from_regex(r"[2-8][0-9]{7}", fullmatch=True))


def _service() -> st.SearchStrategy[tuple[str, str, str]]:
    return st.builds(lambda p, r: ("86", "CN", p + r), st.sampled_from(["400", "800"]),
                     st.from_regex(r"[0-9]{7}", fullmatch=True))


def _hk_mo_tw() -> st.SearchStrategy[tuple[str, str, str]]:
    return st.one_of(
        st.builds(lambda r: ("852", "HK", r), st.from_regex(r"[2359][0-9]{7}", fullmatch=True)),
        st.builds(lambda r: ("853", "MO", r), st.from_regex(r"6[0-9]{7}", fullmatch=True)),
        st.builds(lambda r: ("886", "TW", r), st.from_regex(r"9[0-9]{8}", fullmatch=True)),
    )


def _spaced(digits: str, sep: str, cuts: list[int]) -> str:
    parts, last = [], 0
    for cut in sorted({c % max(len(digits), 1) for c in cuts}):
        if cut > last:
            parts.append(digits[last:cut])
            last = cut
    parts.append(digits[last:])
    return sep.join(parts)


@given(number=st.one_of(_mobile(), _landline(), _service(), _hk_mo_tw()),
       sep=st.sampled_from(["", " ", "-", ".", "\u3000"]),
       cuts=st.lists(st.integers(1, 12), max_size=3),
       ext=st.sampled_from(["", " 转 8", " ext. 8", " x8", " 分机8"]))
def test_every_spelling_of_a_number_gives_one_key(
        number: tuple[str, str, str], sep: str, cuts: list[int], ext: str) -> None:
    code, region, national = number
    parsed = phonenumbers.parse("+" + code + national)
    assume(phonenumbers.is_valid_number(parsed))
    expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    body = _spaced(national, sep, cuts)
    trunk = "0" if region in ("CN", "TW") and not national.startswith(("1", "4", "8")) \
        else ""
    if region == "TW":
        trunk = "0"
    spellings = [
        f"+{code} {body}", f"00{code}{sep}{body}", f"tel:+{code}-{body}", f"(+{code}) {body}",
    ]
    if region == "CN":
        spellings += [f"{trunk}{body}", f"{code}{national}"]
    else:
        spellings += [f"{trunk}{body}"]
    suffix = ";ext=8" if ext else ""
    for spelling in spellings:
        default = "CN" if region == "CN" else region
        assert phone_key(spelling + ext, default_country=default) == expected + suffix, \
            spelling
        assert phone_key(spelling + ext, default_country=default, exact=True) == \
            expected + suffix, spelling


# --- companies ---------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    "杭州字节科技有限公司", "浙江杭州字节科技有限公司", "浙江省杭州市字节科技有限公司",
    "字节科技（杭州）有限公司", "字节科技有限公司", "字节科技", "　字节科技　",
    "杭州字节科技股份有限公司",
])
def test_province_and_city_prefixes_and_suffixes_fall_away(spelling: str) -> None:
    assert company_key(spelling) == "字节科技"


@pytest.mark.parametrize(("a", "b"), [
    ("北京银行", "上海银行"), ("上海证券交易所", "深圳证券交易所"), ("浙江大学", "江苏大学"),
])
def test_a_place_that_is_part_of_the_name_stays(a: str, b: str) -> None:
    assert company_key(a) == a
    assert company_key(a) != company_key(b)


@given(st.lists(st.sampled_from(["北京", "浙江省", "杭州市", "上海", "广州"]), max_size=4),
       st.sampled_from(["阿里巴巴网络技术", "字节跳动科技", "美团点评"]),
       st.sampled_from(["", "有限公司", "股份有限公司", "集团有限公司"]))
def test_company_key_is_idempotent_and_place_free(
        places: list[str], name: str, suffix: str) -> None:
    key = company_key("".join(places) + name + suffix)
    assert key == name
    assert company_key(key) == key
