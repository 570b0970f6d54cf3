"""A score is a pure function of (record, scorecard, now, context): no history, no order."""

import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from decimal import Context, Decimal, localcontext

from oppcore import Budget, DecisionProcess, Money, Opportunity, Qualification, Scorecard

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

# Scores two deals in a fresh interpreter, in the order given on the command line, and
# prints each deal's decision reasons. A fresh process per order: whatever the process
# remembers from earlier scores is exactly what this test is about.
_SCRIPT = textwrap.dedent("""
    import json, sys
    from datetime import datetime, timedelta, timezone
    from oppcore import Budget, DecisionProcess, Money, Opportunity, Qualification, Scorecard

    now = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    deals = {
        "none": Qualification(decision=None),
        "empty": Qualification(decision=DecisionProcess()),
    }
    card = Scorecard.default()
    out = {}
    for key in sys.argv[1:]:
        opp = Opportunity(id=key, name="d", pipeline_id="standard", stage_id="solution",
                          created_at=now - timedelta(days=3), qualification=deals[key])
        c = card.score(opp, now=now).contribution("decision_cycle")
        out[key] = [[r.code, r.message] for r in c.reasons]
    print(json.dumps(out))
""")


def _reasons_in_fresh_process(*order: str) -> dict[str, list[list[str]]]:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, *order], capture_output=True,
                          text=True, check=True, timeout=120)
    result: dict[str, list[list[str]]] = json.loads(done.stdout)
    return result


def test_explanations_do_not_depend_on_what_the_process_scored_first() -> None:
    forward = _reasons_in_fresh_process("none", "empty")
    backward = _reasons_in_fresh_process("empty", "none")
    assert forward == backward
    # and the two deals are explained differently: nothing known vs. a process with no facts
    assert forward["none"] != forward["empty"]


def _deal(q: Qualification, key: str) -> Opportunity:
    return Opportunity(id=key, name="d", pipeline_id="standard", stage_id="solution",
                       created_at=NOW - timedelta(days=3), qualification=q)


def test_explanations_do_not_depend_on_order_in_one_process() -> None:
    none, empty = (_deal(Qualification(decision=None), "n"),
                   _deal(Qualification(decision=DecisionProcess()), "e"))
    card = Scorecard.default()
    a = [card.score(x, now=NOW) for x in (none, empty)]
    b = [card.score(x, now=NOW) for x in (empty, none)][::-1]
    assert a == b


def test_points_do_not_depend_on_the_callers_decimal_context() -> None:
    opp = _deal(Qualification(decision=DecisionProcess(decision_maker_identified=True)), "d")
    budget = _deal(Qualification(budget=Budget(amount=Money(amount=Decimal("123457"),
                                                            currency="EUR"))), "b")
    budget = budget.evolve(amount=Money(amount=Decimal("100000"), currency="EUR"))
    with localcontext(Context(prec=2)):
        narrow_budget = Scorecard.default().score(budget, now=NOW)
    assert narrow_budget == Scorecard.default().score(budget, now=NOW)
    # First in a narrow decimal context, then in the default one: a shared table of
    # points values must not keep what the narrow context made.
    with localcontext(Context(prec=2)):
        narrow = Scorecard.default().score(opp, now=NOW)
    wide = Scorecard.default().score(opp, now=NOW)
    assert narrow == wide
    assert str(wide.total) == str(narrow.total) == "60.00"
