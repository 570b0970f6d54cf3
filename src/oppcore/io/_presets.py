"""Mapping presets for the deal exports of widely used CRMs.

Column names come from each product's documentation; every preset accepts both the labels
a report/export shows and the API (technical) names, because the two kinds of export use
different headers. Sources checked:

* Salesforce: Opportunity field reference (field labels and API names such as
  ``StageName``/"Stage", ``CloseDate``/"Close Date", ``LeadSource``/"Lead Source",
  ``CurrencyIsoCode``/"Opportunity Currency"),
  https://developer.salesforce.com/docs/platform/field-reference/references/field-reference/salesforce-field-reference-opportunity.html
  and "Opportunity Fields", https://help.salesforce.com/s/articleView?id=sales.opp_fields.htm
  (sample stage names as listed for ``StageName``: Prospecting ... Closed Won/Closed Lost).
* HubSpot: "HubSpot's default deal properties",
  https://knowledge.hubspot.com/crm-deals/hubspots-default-deal-properties, and the deals
  API guide, https://developers.hubspot.com/docs/api/crm/deals (internal names
  ``dealname``, ``dealstage``, ``pipeline``, ``amount``, ``closedate``, ``createdate``,
  ``hubspot_owner_id``; default-pipeline stage ids ``appointmentscheduled`` ...
  ``closedwon``/``closedlost``). The knowledge base writes the labels in sentence case
  ("Deal name", "Create date", "Closed lost reason"), older exports in title case; the
  preset accepts both.
* Odoo: the ``crm.lead`` model (``addons/crm/models/crm_lead.py`` in odoo/odoo): field
  labels "Opportunity" (``name``), "Salesperson" (``user_id``), "Stage" (``stage_id``),
  "Tags" (``tag_ids``), "Expected Revenue" (``expected_revenue``), "Expected Closing"
  (``date_deadline``), "Closed Date" (``date_closed``), "Customer" (``partner_id``),
  "Lost Reason" (``lost_reason_id``), "Sales Team" (``team_id``); default stages New,
  Qualified, Proposition, Won. Odoo 13 and older call the revenue ``planned_revenue``.
* Pipedrive: the deal object of the Pipedrive API v1 (``id``, ``title``, ``value``,
  ``currency``, ``owner_name``, ``org_name``, ``stage_id``, ``status`` open/won/lost/deleted,
  ``add_time`` and ``update_time`` as ``YYYY-MM-DD HH:MM:SS`` in UTC, ``close_time``,
  ``lost_reason``, ``expected_close_date``), https://developers.pipedrive.com/docs/api/v1/Deals;
  spreadsheet exports prefix the labels with the object ("Deal - Title", "Deal - Status").
  The outcome is the ``status`` column: the stage column keeps the stage a closed deal was
  in. Default pipeline stages: Qualified, Contact Made, Demo Scheduled, Proposal Made,
  Negotiations Started. A ``deleted`` deal is a row error (it is not a deal any more).
* Zoho CRM: the Deals module's fields ("CRM Modules & Fields",
  https://www.zoho.com/crm/help/api/modules-fields.html, and the v2 API names): "Deal Name"
  (``Deal_Name``), "Deal Owner" (``Owner``), "Account Name" (``Account_Name``), "Amount",
  "Closing Date" (``Closing_Date``), "Stage", "Lead Source" (``Lead_Source``), "Type",
  "Created Time" (``Created_Time``), "Modified Time" (``Modified_Time``), "Reason For
  Loss" (``Reason_For_Loss__s``), "Record Id" (``id``); default stages Qualification, Needs
  Analysis, Value Proposition, Identify Decision Makers, Proposal/Price Quote,
  Negotiation/Review, Closed Won, Closed Lost, Closed-Lost to Competition. As in Salesforce,
  "Closing Date" is the expected close of an open deal and the close of a closed one.
* Maven Analytics "CRM Sales Opportunities" sample: ``opportunity_id, sales_agent, product,
  account, deal_stage, engage_date, close_date, close_value`` (its data dictionary).

These exports carry no stage history, so the history is synthesised from the dates: a won
or lost deal is recorded as created in the last open stage (``quote_contract`` for the
``standard`` template, ``engaging`` for ``maven``) and closed at its close date. That path
replays legally through the template (which forbids skipping stages), and the sales cycle
(creation to close) is exact; the time a closed deal spent in earlier stages is unknown.

Presets other than ``maven`` set no default currency: a row with an amount and no currency
column is an error until you pass ``default_currency=`` (no currency is ever guessed).
"""

from collections.abc import Callable
from typing import Any

from oppcore._errors import ConfigError

from ._mapping import ColumnMapping

__all__ = ["PRESET_NAMES", "preset", "preset_data"]

# Stage labels of the CRMs' default pipelines -> the "standard" template's stage ids
# (identification, needs_analysis, solution, quote_contract, won, lost).
_SALESFORCE_STAGES = {
    "Prospecting": "identification",
    "Qualification": "identification",
    "Needs Analysis": "needs_analysis",
    "Value Proposition": "solution",
    "Id. Decision Makers": "solution",
    "Perception Analysis": "solution",
    "Proposal/Price Quote": "quote_contract",
    "Negotiation/Review": "quote_contract",
    "Closed Won": "won",
    "Closed Lost": "lost",
}
_SALESFORCE_SOURCES = {
    "Web": "online",
    "Advertisement": "online",
    "Phone Inquiry": "direct",
    "Partner Referral": "referral",
    "Employee Referral": "referral",
    "External Referral": "referral",
    "Partner": "referral",
    "Trade Show": "event",
    "Seminar - Internal": "event",
    "Seminar - Partner": "event",
    "Purchased List": "other",
    "Other": "other",
}
_HUBSPOT_STAGES = {
    "Appointment Scheduled": "identification",
    "appointmentscheduled": "identification",
    "Qualified To Buy": "needs_analysis",
    "qualifiedtobuy": "needs_analysis",
    "Presentation Scheduled": "solution",
    "presentationscheduled": "solution",
    "Decision Maker Bought-In": "solution",
    "decisionmakerboughtin": "solution",
    "Contract Sent": "quote_contract",
    "contractsent": "quote_contract",
    "Closed Won": "won",
    "closedwon": "won",
    "Closed Lost": "lost",
    "closedlost": "lost",
}
# HubSpot's "Original Traffic Source" values (labels and internal values).
_HUBSPOT_SOURCES = {
    "Organic Search": "online", "ORGANIC_SEARCH": "online",
    "Paid Search": "online", "PAID_SEARCH": "online",
    "Email Marketing": "online", "EMAIL_MARKETING": "online",
    "Organic Social": "online", "SOCIAL_MEDIA": "online",
    "Paid Social": "online", "PAID_SOCIAL": "online",
    "Referrals": "referral", "REFERRALS": "referral",
    "Direct Traffic": "direct", "DIRECT_TRAFFIC": "direct",
    "Offline Sources": "other", "OFFLINE": "other",
    "Other Campaigns": "other", "OTHER_CAMPAIGNS": "other",
}
_ODOO_STAGES = {
    "New": "identification",
    "Qualified": "needs_analysis",
    "Proposition": "quote_contract",
    "Won": "won",
    "Lost": "lost",
}


def _salesforce() -> dict[str, Any]:
    return {
        "pipeline_id": "standard",
        "id": ["Opportunity ID", "Id"],
        "name": ["Opportunity Name", "Name"],
        "stage": ["Stage", "StageName"],
        "stage_values": _SALESFORCE_STAGES,
        "closed_from_stage": "quote_contract",
        "amount": ["Amount"],
        "currency": ["Opportunity Currency", "CurrencyIsoCode"],
        "owner": ["Opportunity Owner", "Owner ID", "OwnerId"],
        "account": ["Account Name"],
        "account_id": ["Account ID", "AccountId"],
        "source": ["Lead Source", "LeadSource"],
        "source_values": _SALESFORCE_SOURCES,
        "created_at": ["Created Date", "CreatedDate"],
        "closed_at": ["Close Date", "CloseDate"],
        "expected_close": ["Close Date", "CloseDate"],
        "updated_at": ["Last Modified Date", "LastModifiedDate"],
        # Field labels per the Opportunity field reference: Type is "Opportunity Type",
        # OwnerId is "Owner ID" (reports show "Type" and "Opportunity Owner").
        "custom": {"type": ["Type", "Opportunity Type"],
                   "next_step": ["Next Step", "NextStep"]},
        # Report exports use the user's locale (US shown); the API uses ISO 8601.
        "date_formats": ["%m/%d/%Y", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%Y-%m-%d",
                         "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"],
        "id_prefix": "sf-",
        "optional": ["id", "currency", "owner", "account", "account_id", "source",
                     "updated_at", "custom.type", "custom.next_step"],
    }


def _hubspot() -> dict[str, Any]:
    return {
        "pipeline_id": "standard",
        "id": ["Record ID", "Deal ID", "hs_object_id"],
        # HubSpot labels are sentence case in its knowledge base ("Deal name", "Create
        # date", ...); older exports title-case them. Both spellings are listed.
        "name": ["Deal Name", "Deal name", "dealname"],
        "stage": ["Deal Stage", "Deal stage", "dealstage"],
        "stage_values": _HUBSPOT_STAGES,
        "closed_from_stage": "quote_contract",
        "amount": ["Amount", "amount"],
        "currency": ["Currency", "deal_currency_code"],
        "owner": ["Deal owner", "Deal Owner", "hubspot_owner_id"],
        "account": ["Associated Company", "Company name"],
        "source": ["Original Traffic Source", "Original Source Type", "hs_analytics_source"],
        "source_values": _HUBSPOT_SOURCES,
        "lost_reason": ["Closed Lost Reason", "Closed lost reason", "closed_lost_reason"],
        "created_at": ["Create Date", "Create date", "createdate"],
        "closed_at": ["Close Date", "Close date", "closedate"],
        "expected_close": ["Close Date", "Close date", "closedate"],
        "updated_at": ["Last Modified Date", "Last modified date", "hs_lastmodifieddate"],
        "custom": {"hubspot_pipeline": ["Pipeline", "pipeline"],
                   "deal_type": ["Deal Type", "Deal type", "dealtype"]},
        "date_formats": ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d",
                         "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"],
        "id_prefix": "hs-",
        "optional": ["id", "currency", "owner", "account", "source", "lost_reason",
                     "updated_at", "custom.hubspot_pipeline", "custom.deal_type"],
    }


def _odoo() -> dict[str, Any]:
    return {
        "pipeline_id": "standard",
        "id": ["ID", "id"],
        "name": ["Opportunity", "name"],
        "stage": ["Stage", "stage_id"],
        "stage_values": _ODOO_STAGES,
        "closed_from_stage": "quote_contract",
        # Odoo 13 and older name the "Expected Revenue" field planned_revenue.
        "amount": ["Expected Revenue", "expected_revenue", "planned_revenue"],
        "currency": ["Currency", "company_currency"],
        "owner": ["Salesperson", "user_id"],
        "account": ["Customer", "partner_id", "Company Name", "partner_name"],
        "source": ["Source", "source_id"],
        "lost_reason": ["Lost Reason", "lost_reason_id"],
        "tags": ["Tags", "tag_ids"],
        "tags_separator": ",",
        "created_at": ["Created on", "create_date"],
        "closed_at": ["Closed Date", "date_closed"],
        "expected_close": ["Expected Closing", "date_deadline"],
        "updated_at": ["Last Updated on", "write_date"],
        "custom": {"sales_team": ["Sales Team", "team_id"]},
        "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        "id_prefix": "odoo-",
        "optional": ["id", "currency", "owner", "account", "source", "lost_reason", "tags",
                     "closed_at", "updated_at", "custom.sales_team"],
    }


_PIPEDRIVE_STAGES = {
    "Lead In": "identification",
    "Qualified": "identification",
    "Contact Made": "needs_analysis",
    "Needs Defined": "needs_analysis",
    "Demo Scheduled": "solution",
    "Proposal Made": "quote_contract",
    "Negotiations Started": "quote_contract",
}


def _pipedrive() -> dict[str, Any]:
    return {
        "pipeline_id": "standard",
        "external_key": ["Deal - ID", "ID", "id"],
        "name": ["Deal - Title", "Title", "title"],
        "stage": ["Deal - Stage", "Stage", "stage_id"],
        "stage_values": _PIPEDRIVE_STAGES,
        "status": ["Deal - Status", "Status", "status"],
        "status_values": {"open": "", "won": "won", "lost": "lost"},
        "closed_from_stage": "quote_contract",
        "amount": ["Deal - Value", "Value", "value"],
        "currency": ["Deal - Currency", "Deal - Currency of Value", "Currency", "currency"],
        "owner": ["Deal - Owner", "Owner", "owner_name"],
        "account": ["Deal - Organization", "Organization", "org_name"],
        "lost_reason": ["Deal - Lost reason", "Lost reason", "lost_reason"],
        "created_at": ["Deal - Deal created", "Deal created", "add_time"],
        "closed_at": ["Deal - Deal closed on", "Deal closed on", "close_time"],
        "expected_close": ["Deal - Expected close date", "Expected close date",
                           "expected_close_date"],
        "updated_at": ["Deal - Update time", "Update time", "update_time"],
        "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        "id_prefix": "pd-",
        "optional": ["currency", "owner", "account", "lost_reason", "closed_at",
                     "expected_close", "updated_at"],
    }


_ZOHO_STAGES = {
    "Qualification": "identification",
    "Needs Analysis": "needs_analysis",
    "Value Proposition": "solution",
    "Identify Decision Makers": "solution",
    "Id. Decision Makers": "solution",
    "Proposal/Price Quote": "quote_contract",
    "Negotiation/Review": "quote_contract",
    "Closed Won": "won",
    "Closed Lost": "lost",
    "Closed-Lost to Competition": "lost",
}


def _zoho() -> dict[str, Any]:
    return {
        "pipeline_id": "standard",
        "external_key": ["Record Id", "Deal Id", "id"],
        "name": ["Deal Name", "Deal_Name"],
        "stage": ["Stage"],
        "stage_values": _ZOHO_STAGES,
        "closed_from_stage": "quote_contract",
        "amount": ["Amount"],
        "currency": ["Currency"],
        "owner": ["Deal Owner", "Owner"],
        "account": ["Account Name", "Account_Name"],
        "source": ["Lead Source", "Lead_Source"],
        "source_values": _SALESFORCE_SOURCES,
        "lost_reason": ["Reason For Loss", "Reason_For_Loss__s"],
        "created_at": ["Created Time", "Created_Time"],
        "closed_at": ["Closing Date", "Closing_Date"],
        "expected_close": ["Closing Date", "Closing_Date"],
        "updated_at": ["Modified Time", "Modified_Time"],
        "custom": {"type": ["Type"]},
        "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%Y %I:%M %p",
                         "%Y-%m-%dT%H:%M:%S%z"],
        "id_prefix": "zoho-",
        "optional": ["currency", "owner", "account", "source", "lost_reason", "updated_at",
                     "custom.type"],
    }


def _maven() -> dict[str, Any]:
    return {
        "pipeline_id": "simple",
        "id": "opportunity_id",
        "stage": "deal_stage",
        "stage_values": {"Prospecting": "prospecting", "Engaging": "engaging",
                         "Won": "won", "Lost": "lost"},
        "closed_from_stage": "engaging",
        "owner": "sales_agent",
        "product": "product",
        # The pipeline file spells "GTX Pro" as "GTXPro" (products.csv has "GTX Pro").
        "product_values": {"GTXPro": "GTX Pro"},
        "account": "account",
        "created_at": "engage_date",
        "closed_at": "close_date",
        "amount": "close_value",
        "default_currency": "USD",
        "id_prefix": "maven-",
    }


_PRESETS: dict[str, Callable[[], dict[str, Any]]] = {
    "salesforce": _salesforce,
    "hubspot": _hubspot,
    "odoo": _odoo,
    "pipedrive": _pipedrive,
    "zoho": _zoho,
    "maven": _maven,
}

PRESET_NAMES: tuple[str, ...] = tuple(_PRESETS)
"""Names accepted by :func:`preset`."""


def preset_data(name: str) -> dict[str, Any] | None:
    """Return the entries of preset ``name`` as plain data (a fresh copy), or ``None``."""
    build = _PRESETS.get(name)
    return None if build is None else build()


def preset(name: str, **changes: Any) -> ColumnMapping:
    """Return the column mapping for a known export shape, optionally adapted.

    ``salesforce`` (opportunity reports and API/Data Loader exports), ``hubspot`` (deal
    exports), ``odoo`` (CRM pipeline exports, labels or technical names), ``pipedrive``
    (deal exports with a separate ``status`` column) and ``zoho`` (Deals module exports)
    map onto the ``standard`` pipeline template (Pipedrive and Zoho deals are matched on
    sync by their CRM id, the ``external_key``); ``maven`` (the Maven Analytics CRM sample:
    ``opportunity_id, sales_agent, product, account, deal_stage, engage_date, close_date,
    close_value``) maps onto ``simple`` with USD amounts.

    Args:
        name: One of :data:`PRESET_NAMES`.
        **changes: Mapping fields to override, e.g. ``default_currency="EUR"`` or
            ``stage_values={...}`` for a customised pipeline.

    Raises:
        ConfigError: For an unknown preset name or invalid changes.
    """
    build = _PRESETS.get(name)
    if build is None:
        known = ", ".join(PRESET_NAMES)
        raise ConfigError([("preset", f"unknown preset {name!r}; known: {known}")],
                          source="column mapping")
    data = build()
    data.update(changes)
    return ColumnMapping.from_dict(data, source=f"preset {name!r}")
