"""All match keys of one record: a lead, contact, account or opportunity.

:func:`match_keys` reads the fields that identify a customer (an opportunity through its
primary contact and its account) and normalises each with its key function.
"""

from collections.abc import Iterable

import attrs

from oppcore._credit_code import credit_code_key
from oppcore._errors import ValidationError
from oppcore._identity import email_key, external_key, fold
from oppcore._models import Lead, Opportunity
from oppcore._parties import Account, Contact

from ._keys import FREE_MAIL_DOMAINS, company_key, domain_key, phone_key, split_words

__all__ = ["MatchKeys", "Record", "RecordKeyer", "match_keys"]

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
            only used to score pairs found through another key. ``None`` for a deal name
            that only repeats its account, product or id (what an importer synthesises
            when the export has no deal name): it is no evidence.
        external: :func:`external_key` of the record's own external key.
        created: Deals only: the ISO day the deal was created.
        amount: Deals only: ``"<CUR> <amount>"``, normalised.
        owner: Deals only: the owner, folded.
        stage: Deals only: the current stage id.
        product: Deals only: the ``product`` custom field, folded.
        settled: Deals only: ``"<stage>@<ISO day>"`` when the current stage was entered
            by a recorded move (a close, an advance), else ``None``. Two deals that settled
            differently (closed on different days, won and lost) are different deals.
        credit_code: The unified social credit code of the account (accounts and
            opportunities), upper case without spaces.
    """

    kind: str
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    domain: str | None = None
    name: str | None = None
    external: str | None = None
    created: str | None = None
    amount: str | None = None
    owner: str | None = None
    stage: str | None = None
    product: str | None = None
    settled: str | None = None
    credit_code: str | None = None


def _credit(account: Account | None) -> str | None:
    if account is None or account.credit_code is None:
        return None
    return credit_code_key(account.credit_code)


def _name_key(name: str | None) -> str | None:
    if not name:
        return None
    return "".join(split_words(fold(name))) or None


def _deal_name_key(record: Opportunity) -> str | None:
    """The deal's name key, or ``None`` when the name only repeats other fields."""
    key = _name_key(record.name)
    if key is None:
        return None
    account = record.account.name if record.account is not None else ""
    product = record.custom.get("product")
    parts = [account, record.id, *record.tags, *([product] if isinstance(product, str)
                                                 else [])]
    derived = {_name_key(p) for p in parts}
    derived.update(_name_key(f"{account} {t}") for t in parts[2:])
    return None if key in derived else key


def _settled(record: Opportunity) -> str | None:
    history = record.stage_history
    if history and history[-1].to_stage == record.stage_id \
            and history[-1].from_stage is not None:
        return f"{record.stage_id}@{history[-1].at.date().isoformat()}"
    return None


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
    return RecordKeyer(default_country, frozenset(free_mail_domains)).keys(record)


class RecordKeyer:
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

    def keys(self, record: Record) -> MatchKeys:
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
                credit_code=_credit(record),
            )
        if isinstance(record, Opportunity):
            contact, account = record.primary_contact, record.account
            email = email_key(contact.email if contact else None)
            product = record.custom.get("product")
            amount = record.amount
            return MatchKeys(
                kind="opportunity",
                email=email,
                phone=phone_key(contact.phone if contact else None,
                                default_country=self.country),
                company=self.company(account.name) if account else None,
                domain=self.domain(account.website if account else None)
                or self.domain(None, email),
                name=_deal_name_key(record),
                external=external_key(record.external_key),
                created=record.created_at.date().isoformat(),
                amount=(f"{amount.currency} {amount.amount.normalize():f}"
                        if amount is not None else None),
                owner=fold(record.owner) if record.owner else None,
                stage=record.stage_id,
                product=fold(product) if isinstance(product, str) and product else None,
                settled=_settled(record),
                credit_code=_credit(account),
            )
        raise ValidationError(
            f"cannot compute match keys of a {type(record).__name__}: expected a Lead, "
            "Contact, Account or Opportunity", value=record,
        )
