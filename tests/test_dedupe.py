"""Match keys and duplicate finding (oppcore.dedupe)."""

import unicodedata
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import Account, Contact, Lead, Opportunity, ValidationError
from oppcore.dedupe import (
    FREE_MAIL_DOMAINS,
    company_key,
    domain_key,
    email_key,
    external_key,
    find_duplicates,
    match_keys,
    phone_key,
)

UTC = timezone.utc  # datetime.UTC needs Python 3.11

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def lead(id_: str, **kw: object) -> Lead:
    return Lead(id=id_, name=str(kw.pop("name", f"Person {id_}")), captured_at=T0, **kw)  # type: ignore[arg-type]


def to_fullwidth(text: str) -> str:
    """Map printable ASCII to its full-width form (what an IME produces)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c)
                   for c in text)


# --- hand-written cases ---------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("Foo@Example.COM ", "foo@example.com"),
    ("ｆｏｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "foo@example.com"),
    ("Jörg@Bücher.de", "jörg@xn--bcher-kva.de"),
    ("王芳@例子.中国", "王芳@例子。中国"),
    ("sales@acme.com.", "SALES@ACME.COM"),
])
def test_email_variants_share_a_key(a: str, b: str) -> None:
    assert email_key(a) is not None
    assert email_key(a) == email_key(b)


@pytest.mark.parametrize("bad", [None, "", "   ", "foo", "@acme.com", "foo@", "foo@acme",
                                 "a b@acme.com", "foo@acme..com", "a@" + "x" * 64 + ".com"])
def test_invalid_email_has_no_key(bad: str | None) -> None:
    assert email_key(bad) is None


@pytest.mark.parametrize(("a", "b"), [
    ("+86 138-0013-8000", "13800138000"),
    ("0086 138 0013 8000", "１３８００１３８０００"),
    ("010-6552 9988 转 12", "+86 (0)10 65529988 ext. 12"),
    ("+86 010 65529988 #12", "861065529988;ext=12".join(["+", ""])),
    ("(010) 65529988 x12", "010 65529988 分机 12"),
    ("+44 (0)20 7946 0958", "0044 20 7946 0958"),
])
def test_phone_variants_share_a_key(a: str, b: str) -> None:
    assert phone_key(a) is not None
    assert phone_key(a) == phone_key(b)


def test_phone_key_form_and_extension_is_separate() -> None:
    assert phone_key("+86 138-0013-8000") == "+8613800138000"
    assert phone_key("010-65529988 转12") == "+861065529988;ext=12"
    # A switchboard number alone is not the same person as one of its extensions.
    assert phone_key("010-65529988") != phone_key("010-65529988 ext 12")
    assert phone_key("(555) 123-4567", default_country="1") == "+15551234567"


@pytest.mark.parametrize("bad", [None, "", "n/a", "12", "Box 12", "1" * 20])
def test_implausible_phone_has_no_key(bad: str | None) -> None:
    assert phone_key(bad) is None


def test_phone_key_refuses_a_bad_country_code() -> None:
    with pytest.raises(ValidationError, match="default_country"):
        phone_key("13800138000", default_country="+86")


@pytest.mark.parametrize(("a", "b"), [
    ("北京字节跳动科技有限公司", "北京字节跳动科技"),
    ("ACME Co., Ltd.", "Acme"),
    ("ＡＣＭＥ　ＣＯ．，ＬＴＤ．", "acme"),
    ("The Acme Group Co.,Ltd", "ACME"),
    ("阿里巴巴集团控股有限公司", "阿里巴巴集团控股"),
    ("华为技术有限公司", "华为技术股份有限公司"),
    ("字节跳动（北京）有限公司", "字节跳动"),
    ("Siemens AG", "SIEMENS"),
    ("Müller GmbH & Co. KG", "müller"),
    ("Initech, Inc.", "Initech Incorporated"),
    ("Globex Corp.", "Globex Corporation"),
    ("Tesco PLC", "tesco plc"),
    ("Société Générale S.A.", "SOCIÉTÉ GÉNÉRALE SA"),
])
def test_company_variants_share_a_key(a: str, b: str) -> None:
    assert company_key(a) is not None
    assert company_key(a) == company_key(b)


def test_company_key_keeps_a_name_that_is_only_a_suffix() -> None:
    assert company_key("有限公司") == "有限公司"
    assert company_key("Co., Ltd.") == "co ltd"
    assert company_key("  ") is None
    assert company_key("Acme") != company_key("Acme Software")


def test_domain_key_skips_free_mail_and_reads_web_sites() -> None:
    assert domain_key("li.lei@qq.com") is None
    assert domain_key("bob@VIP.163.com") is None
    assert domain_key("sales@acme.com") == "acme.com"
    assert domain_key("https://www.Acme.com/about?x=1") == "acme.com"
    assert domain_key("bücher.de") == "xn--bcher-kva.de"
    assert domain_key("sales@acme.com", free_mail_domains={"acme.com"}) is None
    assert domain_key("localhost") is None


@pytest.mark.parametrize("func", [email_key, phone_key, company_key, external_key, domain_key])
def test_key_functions_refuse_non_strings(func: object) -> None:
    with pytest.raises(ValidationError, match="expected a string"):
        func(12345)  # type: ignore[operator]


def test_external_key_normalises() -> None:
    assert external_key("  ERP-00１２   A ") == "erp-0012 a"
    assert external_key(" \t ") is None


# --- properties of the keys -----------------------------------------------------------

text = st.text(max_size=30)
local = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,10}", fullmatch=True)
label = st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True)
emails = st.builds(lambda lo, d1, d2: f"{lo}@{d1}.{d2}", local, label,
                   st.sampled_from(["com", "cn", "de", "com.cn"]))
companies = st.builds(
    lambda name, suffix: f"{name}{suffix}",
    st.from_regex(r"[A-Za-z][A-Za-z ]{0,12}[A-Za-z]|[\u4e00-\u9fa5]{2,8}", fullmatch=True),
    st.sampled_from(["", " Co., Ltd.", " Inc.", " GmbH", "有限公司", "股份有限公司", " LLC"]),
)
phones = st.builds(lambda n: "1" + n, st.from_regex(r"[3-9][0-9]{9}", fullmatch=True))


@given(text)
def test_keys_are_idempotent(value: str) -> None:
    for func in (email_key, company_key, external_key, phone_key, domain_key):
        key = func(value)
        if key is not None:
            assert func(key) == key, func.__name__


@given(emails, st.sampled_from([str.upper, str.lower, str.title, to_fullwidth]),
       st.sampled_from(["", " ", "\t", "\u3000"]))
def test_email_case_width_and_space_variants_agree(
        email: str, variant: object, pad: str) -> None:
    assert email_key(pad + variant(email) + pad) == email_key(email)  # type: ignore[operator]
    assert email_key(email) is not None


@given(companies, st.sampled_from([str.upper, str.lower, to_fullwidth]),
       st.sampled_from(["", " ", "\u3000"]))
def test_company_case_width_and_space_variants_agree(
        name: str, variant: object, pad: str) -> None:
    assert company_key(pad + variant(name) + pad) == company_key(name)  # type: ignore[operator]


@given(phones, st.sampled_from(["+86 ", "0086", "+86-", ""]),
       st.sampled_from([to_fullwidth, lambda s: s, lambda s: f"{s[:3]}-{s[3:7]}-{s[7:]}"]))
def test_phone_prefix_and_format_variants_agree(number: str, prefix: str, variant: object) -> None:
    assert phone_key(variant(prefix + number)) == phone_key(number) == f"+86{number}"  # type: ignore[operator]


@given(local, local, st.sampled_from(sorted(FREE_MAIL_DOMAINS)), st.text(max_size=8))
def test_free_mail_never_makes_a_company_match(
        a: str, b: str, domain: str, name: str) -> None:
    assert domain_key(f"{a}@{domain}") is None
    people = [lead("1", name=f"x{name}", email=f"{a}@{domain}"),
              lead("2", name=f"x{name}", email=f"{b}x@{domain}")]
    for candidate in find_duplicates(people, threshold=0.0):
        assert "company_domain" not in candidate.codes


# --- match_keys -----------------------------------------------------------------------

def test_match_keys_of_each_record_type() -> None:
    keys = match_keys(lead("1", name="Li Lei", email="Li.Lei@Acme.com ", phone="13800138000",
                           company="ACME Co., Ltd.", external_key=" F-1 "))
    assert (keys.kind, keys.email, keys.phone, keys.company, keys.domain, keys.name,
            keys.external) == ("lead", "li.lei@acme.com", "+8613800138000", "acme",
                               "acme.com", "lilei", "f-1")
    account = Account(id="a1", name="Acme Ltd", website="www.acme.com", external_key="ERP7")
    assert match_keys(account).company == "acme"
    assert match_keys(account).domain == "acme.com"
    contact = Contact(id="c1", name="Li Lei", email="lilei@gmail.com")
    assert match_keys(contact).domain is None
    opp = Opportunity(id="o1", name="ERP rollout", pipeline_id="p", stage_id="s",
                      created_at=T0, account=Account(id="a1", name="Acme Ltd"),
                      contacts=(contact,))
    okeys = match_keys(opp)
    assert (okeys.kind, okeys.email, okeys.company, okeys.name) == (
        "opportunity", "lilei@gmail.com", "acme", "erprollout")
    with pytest.raises(ValidationError, match="cannot compute match keys"):
        match_keys("not a record")  # type: ignore[arg-type]


# --- find_duplicates ------------------------------------------------------------------

def test_find_duplicates_real_looking_data() -> None:
    records = [
        lead("1", name="张伟", email="Zhang.Wei@Bytedance.com ",
             company="北京字节跳动科技有限公司"),
        lead("2", name="张 伟", email="zhang.wei@bytedance.com", company="北京字节跳动科技"),
        lead("3", name="王芳", phone="+86 138-0013-8000"),
        lead("4", name="Wang Fang", phone="13800138000"),
        lead("5", name="李雷", email="lilei@qq.com", company="ACME Co., Ltd."),
        lead("6", name="韩梅梅", email="hmm@qq.com", company="Acme"),
        lead("7", name="Jane Roe", email="jane@initech.com", external_key="HS-77"),
        lead("8", name="J. Roe", email="j.roe@initech.com", external_key="hs-77 "),
    ]
    found = {c.ids: c for c in find_duplicates(records)}
    assert set(found) == {("1", "2"), ("3", "4"), ("7", "8")}
    assert found[("1", "2")].codes == {"email", "name", "company_name", "company_domain"}
    assert found[("3", "4")].codes == {"phone"}
    assert found[("3", "4")].score == pytest.approx(0.7)
    assert found[("7", "8")].reasons[0].code == "external_key"
    assert "same e-mail" in found[("1", "2")].reasons[0].message
    # Colleagues (same company, different people) are below the default threshold...
    low = {c.ids: c for c in find_duplicates(records, threshold=0.0)}
    assert ("5", "6") not in low  # ...and do not even share a block for people.


def test_accounts_match_on_company_and_domain() -> None:
    accounts = [Account(id="a", name="ACME Co., Ltd.", website="https://acme.com"),
                Account(id="b", name="Acme", website="www.acme.com"),
                Account(id="c", name="Globex", website="gmail.com")]
    (candidate,) = find_duplicates(accounts)
    assert candidate.ids == ("a", "b")
    assert candidate.score == pytest.approx(1 - 0.2 * 0.4)


def test_opportunities_with_one_contact_are_not_duplicates() -> None:
    contact = Contact(id="c", name="Li", email="li@acme.com")
    acme = Account(id="a", name="Acme")
    opps = [Opportunity(id=i, name=n, pipeline_id="p", stage_id="s", created_at=T0,
                        account=acme, contacts=(contact,))
            for i, n in (("o1", "ERP rollout"), ("o2", "CRM licences"), ("o3", "ERP Rollout"))]
    assert [c.ids for c in find_duplicates(opps)] == [("o1", "o3")]


def test_same_record_twice_is_not_a_pair_and_leads_match_contacts() -> None:
    one = lead("1", email="a@acme.com")
    contact = Contact(id="1", name="A", email="A@acme.com")
    found = find_duplicates([one, one, contact])
    # The lead is given twice (one record, never paired with itself); each copy pairs
    # with the contact, a different record that happens to have the same id.
    assert [c.ids for c in found] == [("1", "1"), ("1", "1")]
    assert all(isinstance(c.first, Lead) and isinstance(c.second, Contact) for c in found)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "0.5", True])
def test_find_duplicates_refuses_a_bad_threshold(bad: object) -> None:
    with pytest.raises(ValidationError, match="threshold"):
        find_duplicates([], threshold=bad)  # type: ignore[arg-type]


def test_find_duplicates_refuses_a_non_record() -> None:
    with pytest.raises(ValidationError, match="cannot compute match keys"):
        find_duplicates([lead("1"), {"id": "2"}])  # type: ignore[list-item]


people = st.lists(
    st.builds(
        lambda i, name, email, phone, company: (name, email, phone, company),
        st.integers(), st.sampled_from(["Li", "Wang", "Zhang"]),
        st.sampled_from([None, "a@acme.com", "A@ACME.com", "b@qq.com", "c@initech.com"]),
        st.sampled_from([None, "13800138000", "+86 138 0013 8000", "010-1234567"]),
        st.sampled_from([None, "Acme", "ACME Ltd", "Initech"]),
    ),
    max_size=12,
)


@given(people)
def test_find_duplicates_is_symmetric_and_never_self_pairs(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    records = [lead(str(i), name=n, email=e, phone=p, company=c)
               for i, (n, e, p, c) in enumerate(rows)]
    forward = {frozenset(c.ids): (c.score, c.codes) for c in find_duplicates(records, threshold=0)}
    backward = {frozenset(c.ids): (c.score, c.codes)
                for c in find_duplicates(records[::-1], threshold=0)}
    assert forward == backward
    assert all(len(pair) == 2 for pair in forward)
    # Blocking finds every pair that shares a strong key.
    for i, a in enumerate(records):
        for b in records[i + 1:]:
            ka, kb = match_keys(a), match_keys(b)
            if ka.email and ka.email == kb.email:
                assert frozenset((a.id, b.id)) in forward


def test_unicode_normalisation_is_stable() -> None:
    # Characters whose case fold is not NFKC-normal still give idempotent keys.
    for ch in ("ǰ", "ΐ", "ﬃ", "İ", "ß"):
        key = company_key(f"{ch}corp Ltd")
        assert key is not None
        assert company_key(key) == key
        assert unicodedata.is_normalized("NFKC", key)
