"""Built-in pipelines: ``standard`` (the B2B process) and ``simple`` (CRM-export shaped)."""

import attrs

from oppcore._errors import ConfigError
from oppcore._records import ActivityKind, QuoteStatus
from oppcore.locale._catalog import DEFAULT, _, use

from ._aftersales import STANDARD_PLAN, AfterSalesPlan
from ._pipeline import Pipeline
from ._requirements import (
    RequireActivity,
    RequireFields,
    RequireLostReason,
    RequireQualification,
    RequireQuote,
)
from ._stage import FollowUp, ForecastCategory, Guidance, Stage, StageKind
from ._transitions import TransitionPolicy

__all__ = ["LOST_REASONS", "TEMPLATES", "template"]

LOST_REASONS = ("price", "competitor", "no_budget", "no_decision", "timing", "product_fit",
                "other")
"""The lost reasons of the ``standard`` template."""

TEMPLATES = ("standard", "simple")


def _standard_plan() -> AfterSalesPlan:
    """The standard after-sales plan, its labels in the active locale (ids unchanged).

    In English it is :data:`STANDARD_PLAN` itself.
    """
    plan = attrs.evolve(STANDARD_PLAN, label=_(STANDARD_PLAN.label),
                        tasks=tuple(attrs.evolve(t, label=_(t.label))
                                    for t in STANDARD_PLAN.tasks))
    return STANDARD_PLAN if plan == STANDARD_PLAN else plan


def _standard() -> Pipeline:
    return Pipeline(
        id="standard",
        label=_("Standard B2B sales process"),
        description=_("Lead identification -> needs analysis -> solution -> quote & "
                      "contract -> won / lost; after-sales follow-up on won deals."),
        policy=TransitionPolicy(allow_backward=True),
        aftersales=_standard_plan(),
        stages=(
            Stage(id="identification", label=_("Lead identification"), probability=0.1,
                  guidance=Guidance(
                      summary=_("Confirm the company and the person are a real prospect."),
                      actions=(_("Research the company"), _("Reach the contact"),
                               _("Book a needs-analysis meeting")),
                      key_fields=("account", "contacts", "source")),
                  follow_up=FollowUp(max_days=14, cadence="every 3 days",
                                     business_days=True)),
            Stage(id="needs_analysis", label=_("Needs analysis"), probability=0.25,
                  requirements=(RequireFields(fields=("account", "contacts")),),
                  guidance=Guidance(
                      summary=_("Understand the need: urgency, budget, decision process "
                                "and competition."),
                      actions=(_("Run the needs-analysis session"),
                               _("Identify the decision maker"), _("Map the competition")),
                      documents=(_("Needs-analysis notes"),),
                      key_fields=("qualification",)),
                  follow_up=FollowUp(max_days=21, cadence="every 7 days")),
            Stage(id="solution", label=_("Solution"), probability=0.5,
                  forecast_category=ForecastCategory.BEST_CASE,
                  requirements=(RequireActivity(kind=ActivityKind.NEEDS_ANALYSIS),
                                RequireQualification(parts=("budget",))),
                  guidance=Guidance(
                      summary=_("Propose a solution that answers the analysed needs."),
                      actions=(_("Present or demo the solution"), _("Agree the scope")),
                      documents=(_("Solution proposal"),),
                      key_fields=("amount", "expected_close")),
                  follow_up=FollowUp(max_days=30, cadence="every 7 days")),
            Stage(id="quote_contract", label=_("Quote & contract"), probability=0.75,
                  forecast_category=ForecastCategory.COMMIT,
                  requirements=(RequireFields(fields=("amount", "expected_close")),
                                RequireQuote(statuses=(QuoteStatus.SENT,
                                                       QuoteStatus.ACCEPTED))),
                  guidance=Guidance(
                      summary=_("Send the quote, negotiate, and get the contract signed."),
                      actions=(_("Send the quote"), _("Negotiate terms"),
                               _("Get the signature")),
                      documents=(_("Quote"), _("Contract"))),
                  follow_up=FollowUp(max_days=30, cadence="every 5 days",
                                     business_days=True)),
            Stage(id="won", label=_("Won"), kind=StageKind.WON, probability=1.0,
                  forecast_category=ForecastCategory.CLOSED,
                  guidance=Guidance(
                      summary=_("After-sales: delivery, satisfaction, renewal and "
                                "referrals."),
                      actions=(_("Hand over to delivery"), _("Check satisfaction"),
                               _("Ask for a referral"))),
                  follow_up=FollowUp(cadence="every 3 months")),
            Stage(id="lost", label=_("Lost"), kind=StageKind.LOST, probability=0.0,
                  forecast_category=ForecastCategory.OMITTED,
                  requirements=(RequireLostReason(reasons=LOST_REASONS),),
                  guidance=Guidance(summary=_("Record why the deal was lost."))),
        ),
    )


def _simple() -> Pipeline:
    return Pipeline(
        id="simple",
        label=_("Simple pipeline"),
        description=_("Prospecting -> engaging -> won / lost; any move allowed, as in "
                      "most CRM exports."),
        policy=TransitionPolicy(allow_skip=True, allow_backward=True, allow_reopen=True),
        stages=(
            Stage(id="prospecting", label=_("Prospecting"), probability=0.1),
            Stage(id="engaging", label=_("Engaging"), probability=0.5,
                  forecast_category=ForecastCategory.BEST_CASE),
            Stage(id="won", label=_("Won"), kind=StageKind.WON, probability=1.0,
                  forecast_category=ForecastCategory.CLOSED),
            Stage(id="lost", label=_("Lost"), kind=StageKind.LOST, probability=0.0,
                  forecast_category=ForecastCategory.OMITTED,
                  requirements=(RequireLostReason(),)),
        ),
    )


def template(name: str, *, locale: str | None = None) -> Pipeline:
    """Return the built-in pipeline ``name`` (``"standard"`` or ``"simple"``).

    Labels, descriptions and guidance are in ``locale`` (``"en"`` by default, or
    ``"zh-CN"``); ids, requirements and rules are the same in every locale.

    Raises:
        ConfigError: For an unknown name or an unsupported locale.
    """
    with use(locale if locale is not None else DEFAULT):
        if name == "standard":
            return _standard()
        if name == "simple":
            return _simple()
    raise ConfigError([("template", (f"unknown template {name!r} (known: "
                        f"{', '.join(TEMPLATES)})"))], source="Pipeline.template")
