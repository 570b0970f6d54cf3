"""Analyse an exported pipeline: a notebook-style walk-through (run it, or open the cells).

The cells (``# %%``) run top to bottom in Jupyter, VS Code or plain ``python``. In a
notebook, leave out ``print``: each result renders as an HTML table.
"""

# %% Import a CRM export (columns of the Maven Analytics "CRM Sales Opportunities" sample)
import io as textio
from datetime import datetime, timezone

from oppcore import Money, Pipeline, analytics, io

EXPORT = """\
opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
M01,Moses Frase,GTX Basic,Cancity,Won,2017-01-10,2017-02-20,550
M02,Zane Levy,GTXPro,Codehow,Won,2017-01-11,2017-03-02,4831
M03,Moses Frase,MG Special,Ron-tech,Lost,2017-01-12,2017-02-03,0
M04,Vicki Laflamme,MG Advanced,Sonron,Engaging,2017-02-13,,
M05,Zane Levy,GTX Basic,Cancity,Won,2017-02-14,2017-04-01,601
M06,Vicki Laflamme,GTXPro,Codehow,Lost,2017-02-15,2017-03-15,0
M07,Moses Frase,GTX Plus Pro,Sonron,Won,2017-03-01,2017-05-20,5200
M08,Zane Levy,MG Special,Ron-tech,Engaging,2017-03-05,,
M09,Vicki Laflamme,GTX Basic,Cancity,Won,2017-03-09,2017-04-30,520
M10,Moses Frase,MG Advanced,Codehow,Lost,2017-04-02,2017-05-01,0
M11,Zane Levy,GTXPro,Sonron,Won,2017-04-03,2017-06-10,4700
M12,Vicki Laflamme,MG Special,Ron-tech,Prospecting,,,
"""
EXPORTED_ON = datetime(2017, 6, 30, tzinfo=timezone.utc)

report = io.import_csv(textio.StringIO(EXPORT), io.preset("maven"), as_of=EXPORTED_ON)
deals = report.records
pipeline = Pipeline.template("simple")
print(f"imported {len(deals)} deals, {len(report.errors)} bad rows")

# %% Where do deals die? (both funnel modes in one table)
print(analytics.funnel(deals, pipeline))

# %% Who converts? Win rate per sales agent, then per product
print(analytics.win_rate(deals, pipeline, by="owner"))
print(analytics.win_rate(deals, pipeline, by="custom:product"))

# %% How fast do deals close? Closed deals only, then with the open ones counted
print(analytics.sales_cycle(deals, pipeline, include_open=True, now=EXPORTED_ON))

# %% What is missing: open deals without amounts, stale limits the pipeline does not set
print(analytics.forecast(deals, pipeline, period="quarter", now=EXPORTED_ON))
health = analytics.health(deals, pipeline.with_stale_after(90), now=EXPORTED_ON)
print(f"stale after 90 days: {health.count('stale')} of {health.deals} open deals")

# %% Rep performance against a quota
print(analytics.rep_performance(deals, pipeline, quota=Money.of(10000, "USD")))

# %% Which accounts matter? ABC tiers by value won
print(analytics.account_tiers(deals, pipeline))

# %% Draw the report's charts: in a notebook, end a cell with a chart to see it inline
funnel = analytics.funnel(deals, pipeline)
charts = [funnel.chart(pipeline=pipeline), funnel.chart("conversion", pipeline=pipeline),
          analytics.win_rate(deals, pipeline, by="owner").chart(),
          analytics.forecast(deals, pipeline, period="quarter", now=EXPORTED_ON).chart()]
for chart in charts:  # str(chart) is the SVG text, to save as a .svg file
    print(f"{chart.kind}: {len(chart.svg):,} characters of SVG")

# %% Hand the numbers to pandas for your own charts
frame = analytics.win_rate(deals, pipeline, by="owner").to_pandas()
print(frame[["key", "won", "closed", "win_rate"]].to_string(index=False))

# %% One row per deal, to join with your own tables (Maven's accounts.csv, sales_teams.csv)
per_deal = analytics.deals_frame(deals, pipeline, now=EXPORTED_ON).to_pandas()
print(per_deal[["opportunity_id", "kind", "amount", "cycle_days", "age_days", "owner",
                "product"]].head(5).to_string(index=False))
