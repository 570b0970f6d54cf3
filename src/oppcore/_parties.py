"""Who a deal is with and where it came from: sources, contacts, accounts.

Frozen, slotted, keyword-only ``attrs`` classes like every model; each checks its fields
with its check table.
"""

import enum
from typing import Any, ClassVar

import attrs

from ._check_table import Checks
from ._checks import COUNT, fail, in_bounds, text
from ._credit_code import credit_code_problem
from ._errors import ValidationError

_NONE = type(None)

__all__ = ["Account", "Channel", "CompanySize", "Contact", "ContactRole", "Source"]


class Channel(str, enum.Enum):
    """The acquisition channel a lead came through."""

    EVENT = "event"
    """Trade shows, forums, conferences, seminars."""
    REFERRAL = "referral"
    """Customer referral programmes, partners, introductions."""
    ONLINE = "online"
    """SEO, SEM, social media, website forms, content."""
    DIRECT = "direct"
    """Inbound call or walk-in with no tracked campaign."""
    OTHER = "other"


def _referrer_means_referral(source: Any) -> None:
    if source.referrer is None:
        return
    text(source.referrer, "referrer", model="Source")  # an id: non-blank text
    if source.channel is not Channel.REFERRAL:
        fail(source, "referrer", f"only a referral names a referrer (channel is "
             f"{source.channel.value!r})", source.referrer)


_SOURCE = Checks(rules=(_referrer_means_referral,), instances=(("channel", (Channel,)),),
                 optional_text=("detail",))


@attrs.frozen(kw_only=True)
class Source:
    """Where a lead or deal came from.

    Args:
        channel: One of the acquisition channels.
        detail: Free text naming the campaign, event or referrer (``"CeBIT 2026"``).
        referrer: Who referred the lead or deal (客户推荐): the id of an account or of a
            contact of the host's records. Only a ``referral`` source names one.

    Raises:
        ValidationError: A field has the wrong type, or a referrer is named on another
            channel than ``referral``.
    """

    channel: Channel
    detail: str | None = None
    referrer: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _SOURCE

    def __attrs_post_init__(self) -> None:
        _SOURCE.run(self)


class ContactRole(str, enum.Enum):
    """A contact's role in the customer's buying decision."""

    DECISION_MAKER = "decision_maker"
    INFLUENCER = "influencer"
    CHAMPION = "champion"
    USER = "user"
    GATEKEEPER = "gatekeeper"
    OTHER = "other"


_CONTACT = Checks(
    text=("id", "name"),
    optional_text=("email", "phone", "title"),
    instances=(("role", (ContactRole, _NONE)),),
)


@attrs.frozen(kw_only=True)
class Contact:
    """A person at a customer.

    Args:
        id: Stable identifier.
        name: Full name.
        email: E-mail address, as entered.
        phone: Phone number, as entered.
        title: Job title.
        role: Role in the buying decision, when known.
    """

    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    role: ContactRole | None = None

    __oppcore_checks__: ClassVar[Checks] = _CONTACT

    def __attrs_post_init__(self) -> None:
        _CONTACT.run(self)

    @property
    def reachable(self) -> bool:
        """Whether the contact has at least one channel (e-mail or phone)."""
        return bool(self.email or self.phone)


class CompanySize(str, enum.Enum):
    """Company size band by head count (the usual SME bands)."""

    MICRO = "micro"
    """Fewer than 10 employees."""
    SMALL = "small"
    """10 to 49."""
    MEDIUM = "medium"
    """50 to 249."""
    LARGE = "large"
    """250 to 999."""
    ENTERPRISE = "enterprise"
    """1,000 or more."""

    @classmethod
    def from_employees(cls, employees: int) -> "CompanySize":
        """Return the band for a head count."""
        for limit, band in ((10, cls.MICRO), (50, cls.SMALL), (250, cls.MEDIUM),
                            (1000, cls.LARGE)):
            if employees < limit:
                return band
        return cls.ENTERPRISE


def _credit_code_valid(account: Any) -> None:
    if account.credit_code is not None:
        problem = credit_code_problem(account.credit_code)
        if problem is not None:
            raise ValidationError(problem, model="Account", field="credit_code",
                                  value=account.credit_code)


_ACCOUNT = Checks(
    rules=(_credit_code_valid,),
    text=("id", "name"),
    optional_text=("industry", "region", "tier", "website", "external_key", "credit_code"),
    instances=(("size", (CompanySize, _NONE)),),
    optional_counts=("employees",),
)


@attrs.frozen(kw_only=True)
class Account:
    """A customer company.

    Args:
        id: Stable identifier.
        name: Company name, as entered.
        industry: Industry or sector.
        size: Size band.
        employees: Head count, when known.
        region: Region, country or sales territory.
        tier: Segment or tier label of the host's choosing (``"A"``, ``"key account"``).
        website: Web site or e-mail domain, used to match duplicates.
        external_key: The account's id in another system (ERP number, tax id).
        credit_code: A Chinese organisation's unified social credit code (统一社会信用代码,
            GB 32100-2015), checked at construction (18 characters, check character); the
            strongest duplicate key of accounts. Spaces, dashes, lower case and
            full-width characters are accepted and ignored by the check.

    Raises:
        ValidationError: For a field of the wrong type or out of range, or a credit code
            that is not valid.
    """

    id: str
    name: str
    industry: str | None = None
    size: CompanySize | None = None
    employees: int | None = attrs.field(metadata=in_bounds(COUNT), default=None)
    region: str | None = None
    tier: str | None = None
    website: str | None = None
    external_key: str | None = None
    credit_code: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _ACCOUNT

    def __attrs_post_init__(self) -> None:
        _ACCOUNT.run(self)
