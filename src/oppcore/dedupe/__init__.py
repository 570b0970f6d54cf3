"""Duplicates: normalised match keys, duplicate candidates with reasons, and merging.

The public namespace of the duplicate finder. The everyday names (:func:`find_duplicates`,
:class:`DuplicateCandidate`, :func:`merge_records`, :class:`MergeResult`) are also
importable from :mod:`oppcore`; the match keys and the parts of a result live here only::

    from oppcore import find_duplicates, merge_records
    from oppcore.dedupe import company_key, phone_key

:func:`email_key` and :func:`external_key` are defined with the models, because they are
what makes two stored records the same record (:func:`oppcore.unique_keys`); they are
listed here with the other match keys.
"""

from oppcore._identity import email_key, external_key
from oppcore._public import publish as _publish

from ._keys import (
    COMPANY_SUFFIXES,
    FREE_MAIL_DOMAINS,
    GENERIC_NAMES,
    REGION_CODES,
    REGION_PREFIXES,
    company_key,
    domain_key,
    phone_key,
)
from ._matching import DuplicateCandidate, MatchReason, find_duplicates
from ._merging import FieldOutcome, MergeResult, merge_records
from ._record_keys import MatchKeys, match_keys

__all__ = [
    # match keys: one normalised key per field, and all keys of a record
    "COMPANY_SUFFIXES",
    "FREE_MAIL_DOMAINS",
    "GENERIC_NAMES",
    "REGION_CODES",
    "REGION_PREFIXES",
    "MatchKeys",
    "company_key",
    "domain_key",
    "email_key",
    "external_key",
    "match_keys",
    "phone_key",
    # finding duplicates
    "DuplicateCandidate",
    "MatchReason",
    "find_duplicates",
    # merging
    "FieldOutcome",
    "MergeResult",
    "merge_records",
]

_publish(__name__, globals(), __all__)
