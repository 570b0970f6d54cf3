"""Finding duplicates: records grouped by shared keys (blocking), pairs scored with reasons.

Each pair that shares a key gets a :class:`MatchReason` per shared key, weighted by what is
compared (people, accounts or deals); the score combines the weights.
"""

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap

from ._keys import FREE_MAIL_DOMAINS
from ._record_keys import MatchKeys, Record, RecordKeyer

__all__ = ["WEIGHTS", "DuplicateCandidate", "MatchReason", "find_duplicates"]


@attrs.frozen(kw_only=True)
class MatchReason:
    """One key two records share, and what it adds to their score.

    Args:
        code: Stable code: ``"credit_code"``, ``"external_key"``, ``"email"``,
            ``"phone"``, ``"company_name"``, ``"company_domain"`` or ``"name"``; for deals
            also ``"product"``, ``"amount"``, ``"created"`` (the same creation day),
            ``"owner"`` and ``"stage"``.
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
    "product": "product", "amount": "amount", "created": "creation day", "owner": "owner",
    "stage": "stage",
    "credit_code": "unified social credit code",
}

# Evidence weights per kind of pair. People (leads and contacts, compared with each other),
# accounts, opportunities. Shared company signals are weak for people (colleagues are not
# duplicates) and strong for accounts; a shared contact is weak for opportunities (repeat
# business is not a duplicate). The "name" weight only adds to pairs found by another key.
# Deals also weigh what tells one deal from another (product, amount, creation day, owner,
# stage): a customer's repeat orders share the account and product, not the day.
_PEOPLE: Final = "people"
_GROUP: Final = {"lead": _PEOPLE, "contact": _PEOPLE, "account": "account",
                 "opportunity": "opportunity"}
WEIGHTS: Final[Mapping[str, Mapping[str, float]]] = FrozenMap({
    _PEOPLE: FrozenMap({"external_key": 0.95, "email": 0.9, "phone": 0.7,
                        "company_name": 0.3, "company_domain": 0.2, "name": 0.4}),
    "account": FrozenMap({"credit_code": 0.99, "external_key": 0.95, "company_name": 0.8,
                          "company_domain": 0.6}),
    "opportunity": FrozenMap({"external_key": 0.95, "email": 0.3, "phone": 0.2,
                              "credit_code": 0.3, "company_name": 0.3,
                              "company_domain": 0.2, "name": 0.5,
                              "product": 0.3, "amount": 0.3, "created": 0.2, "owner": 0.2,
                              "stage": 0.1}),
})
_FIELDS: Final = (("credit_code", "credit_code"), ("external_key", "external"),
                  ("email", "email"), ("phone", "phone"), ("company_name", "company"),
                  ("company_domain", "domain"), ("name", "name"),
                  ("product", "product"), ("amount", "amount"), ("created", "created"),
                  ("owner", "owner"), ("stage", "stage"))
# Facts that, known on both deals and different, make them two deals whatever else they
# share: two ids in the source system, two amounts, two products, two real names, two
# owners, or two settlements (closed on different days, won and lost, advanced on
# different days).
_DISTINCT: Final = ("external", "amount", "product", "name", "owner", "settled")


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
        blocks += [("k", group, v) for v in (keys.credit_code,) if v]
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
        for code, value in (("c", keys.company), ("d", keys.domain), ("e", keys.email),
                            ("k", keys.credit_code)):
            if value and (code != "e" or group != _PEOPLE):
                blocks.append((code + "n", group, value, keys.name))
    elif keys.created:
        # A deal without a name of its own: the same customer on the same creation day.
        customer = keys.company or keys.domain or keys.email
        if customer:
            blocks.append(("cc", group, customer, keys.created))
    return blocks


def _distinct(a: MatchKeys, b: MatchKeys) -> bool:
    """Whether two deals differ in a fact that tells deals apart (never duplicates)."""
    if a.kind != "opportunity" or b.kind != "opportunity":
        return False
    for attr in _DISTINCT:
        x, y = getattr(a, attr), getattr(b, attr)
        if x is not None and y is not None and x != y:
            return True
    return False


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
    credit_code    --               0.99     0.3
    external_key   0.95             0.95     0.95
    email          0.9              --       0.3
    phone          0.7              --       0.2
    company_name   0.3              0.8      0.3
    company_domain 0.2              0.6      0.2
    name           0.4              --       0.5
    product        --               --       0.3
    amount         --               --       0.3
    created        --               --       0.2
    owner          --               --       0.2
    stage          --               --       0.1
    ============== ================ ======== =============

    For people and deals, company signals and e-mails of deals count only together with
    the same name (colleagues at one company are not duplicates, nor are two deals with
    one contact); external keys only match records of the same kind.

    Deals are compared on what tells deals apart. A name that only repeats the deal's
    account, product or id (what an importer synthesises from an export without deal
    names) is no evidence; such deals are compared only with deals of the same customer
    created the same day. Two deals are never paired when both have, and differ in, an
    external key, an amount, a ``product`` custom field, a name of their own, an owner, or
    how their current stage was reached (two closed deals with different close dates, a won and a
    lost deal): a customer's repeat orders are not duplicates.

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
    keyer = RecordKeyer(default_country, frozenset(free_mail_domains))
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
        if (a.kind == b.kind and items[i].id == items[j].id) or _distinct(a, b):
            continue
        reasons = _reasons(a, b)
        score = _score(tuple(r.weight for r in reasons))
        if reasons and score >= threshold:
            found.append((-score, i, j, reasons, score))
    found.sort(key=lambda f: f[:3])
    return tuple(DuplicateCandidate(first=items[i], second=items[j], score=score,
                                    reasons=reasons)
                 for _, i, j, reasons, score in found)
