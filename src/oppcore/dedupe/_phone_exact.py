"""The exact phone key: Google's libphonenumber data through the optional ``phonenumbers``.

Kept apart so that :mod:`oppcore.dedupe` never imports ``phonenumbers`` unless asked
(``phone_key(..., exact=True)``).
"""

from oppcore._errors import ConfigError

__all__ = ["exact_key", "region_of"]


def region_of(calling_code: str) -> str:
    """Return the main ISO region of ``calling_code`` ("86" -> "CN"), "ZZ" if unknown."""
    import phonenumbers

    return str(phonenumbers.region_code_for_country_code(int(calling_code)))


def exact_key(text: str, calling_code: str) -> str | None:
    """Return ``text`` (no extension) in E.164 form, or ``None`` if it is no possible
    number.

    Raises:
        ConfigError: ``phonenumbers`` is not installed.
    """
    try:
        import phonenumbers
    except ImportError as exc:
        raise ConfigError([("exact", ("phone_key(exact=True) needs the phonenumbers "
                                      "package: pip install 'oppcore[phone]'"))],
                          source="phone_key") from exc
    stripped = text.lstrip(" \t([")
    if stripped.startswith("00"):
        # "00" is the international prefix of CN, HK, MO and most of the world; where it is
        # not (TW's 002, the NANP's 011), no national number starts with "00" either, so
        # the plain key reads it the same way everywhere: keep the two modes in step.
        text = "+" + stripped[2:]
    try:
        number = phonenumbers.parse(text, region_of(calling_code))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
