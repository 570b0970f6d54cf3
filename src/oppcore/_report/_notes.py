"""The report's explanatory sentences, shared by every renderer so they all say the same.

Where data is missing the report says so in words instead of showing a zero: deals without
an amount, a pipeline without stale limits, histories that cannot show a stage, deals a
scorecard could not score, a dimension no deal has. Text, HTML, JSON (``notes``) and CSV
(``note`` rows) take these sentences from here.
"""

from oppcore.locale._catalog import N_, _, ngettext

from ._values import CurrencyTotal, PipelineReport

__all__ = ["NA", "NO_STALE_LIMITS", "history_notes", "left_out_note", "notes", "open_value_known",
           "unpriced_notes", "unranked_note"]

NA = N_("n/a")
"""A figure the data cannot give (marked only: show it as ``_(NA)``)."""

NO_STALE_LIMITS = N_(
    "The pipeline sets no stale limits, so no deal was judged stale. Give one: "
    "oppcore report --stale-after 90d, or a pipeline file whose open stages set "
    "follow_up.max_days (Pipeline.with_stale_after in Python)."
)
"""Marked only: show it as ``_(NO_STALE_LIMITS)``, in the locale active at the time."""


def open_value_known(report: PipelineReport, total: CurrencyTotal) -> bool:
    """Whether ``total``'s open pipeline is a figure, not "n/a".

    Unknown when no open deal in the currency has an amount while some open deals have
    none: 0 would then read as "nothing open".
    """
    return bool(total.open_deals) or not report.counts.unpriced_open


def unpriced_notes(report: PipelineReport) -> list[str]:
    """Sentences about deals without an amount (never summed as zero)."""
    c = report.counts
    lines = []
    if c.unpriced_open:
        lines.append(ngettext(
            "{count} open deal has no amount: the open pipeline leaves it out (n/a when no "
            "open deal has one), it does not count it as 0.",
            "{count} open deals have no amount: the open pipeline leaves them out (n/a when "
            "no open deal has one), it does not count them as 0.",
            c.unpriced_open).format(count=c.unpriced_open))
    if c.unpriced_won:
        lines.append(ngettext(
            "{count} won deal has no amount: the value won leaves it out.",
            "{count} won deals have no amount: the value won leaves them out.",
            c.unpriced_won).format(count=c.unpriced_won))
    return lines


def history_notes(report: PipelineReport) -> list[str]:
    """Sentences about stages the recorded histories cannot show."""
    if not report.unseen_stages:
        return []
    stages = _(", ").join(report.unseen_stages)
    if report.history_synthesised:
        return [_("History synthesised from creation and close dates: no deal is recorded "
                  "moving between open stages, so the stages a deal passed through before "
                  "{stages} cannot be seen; in-order counts are n/a, not 0."
                  ).format(stages=stages)]
    return [_("No deal is recorded arriving at {stages} from an earlier stage; in-order "
              "counts from there on are n/a, not 0.").format(stages=stages)]


def unranked_note(report: PipelineReport) -> str:
    """Why open deals were not ranked (none scored, or some left out)."""
    unscored = report.counts.unscored
    if not report.top_deals and not unscored:
        return _("No open deals to rank.")
    if not report.top_deals:
        return ngettext(
            "Nothing ranked: the scorecard found no data for any of its rules on the "
            "{count} open deal. Record qualification (budget, authority, need, timeline), "
            "activities or expected close dates, or use a scorecard over fields the data "
            "has.",
            "Nothing ranked: the scorecard found no data for any of its rules on the "
            "{count} open deals. Record qualification (budget, authority, need, timeline), "
            "activities or expected close dates, or use a scorecard over fields the data "
            "has.", unscored).format(count=unscored)
    return ngettext("{count} open deal could not be scored (no data for any rule) and is "
                    "not ranked.",
                    "{count} open deals could not be scored (no data for any rule) and are "
                    "not ranked.", unscored).format(count=unscored)


def left_out_note(what: str) -> str:
    """Why the win rate by ``what`` (``"source"``, ``"owner"``) is not shown."""
    if what == "source":
        return _("Win rate by source left out: no deal has a source.")
    return _("Win rate by owner left out: no deal has an owner.")


def notes(report: PipelineReport) -> list[str]:
    """Every note of the report, in reading order (the JSON and CSV carry these)."""
    lines = unpriced_notes(report) + history_notes(report)
    lines.extend(left_out_note(what) for what in report.left_out)
    if report.scorecard is not None and report.counts.unscored:
        lines.append(unranked_note(report))
    if not report.stale_limits:
        lines.append(_(NO_STALE_LIMITS))
    return lines
