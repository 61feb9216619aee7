from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from saleor_subscriptions.domain.periods import Interval, IntervalUnit, next_billing_date_after
from saleor_subscriptions.domain.stalls import catch_up

MONTHLY = Interval(IntervalUnit.MONTH)
ANCHOR = datetime(2028, 1, 31, 10, tzinfo=timezone.utc)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_nothing_missed_inside_the_due_period():
    result = catch_up(ANCHOR, MONTHLY, utc(2028, 2, 29, 10), utc(2028, 3, 30))
    assert result.current == (utc(2028, 2, 29, 10), utc(2028, 3, 31, 10))
    assert (result.missed, result.listed) == (0, ())


def test_missed_periods_on_the_grid_and_off_it():
    result = catch_up(ANCHOR, MONTHLY, utc(2028, 2, 29, 10), utc(2028, 6, 15))
    assert result.current == (utc(2028, 5, 31, 10), utc(2028, 6, 30, 10))
    assert result.missed == 3
    assert [start for start, _ in result.listed] == [
        utc(2028, 2, 29, 10), utc(2028, 3, 31, 10), utc(2028, 4, 30, 10)]
    moved = catch_up(ANCHOR, MONTHLY, utc(2028, 3, 10), utc(2028, 6, 15))  # a moved billing date
    assert moved.listed[0] == (utc(2028, 3, 10), utc(2028, 3, 31, 10))
    assert moved.missed == 3 and moved.current == result.current
    early = catch_up(ANCHOR, MONTHLY, utc(2028, 1, 1), utc(2028, 3, 1))  # due before the anchor
    assert early.missed == 2 and early.listed[0] == (utc(2028, 1, 1), ANCHOR)


@given(st.integers(0, 4000), st.integers(0, 40000), st.sampled_from(list(IntervalUnit)),
       st.integers(1, 3))
def test_the_count_matches_a_walk(due_hours, stall_hours, unit, count):
    interval = Interval(unit, count)
    due = next_billing_date_after(ANCHOR, interval, ANCHOR + timedelta(hours=due_hours))
    now = due + timedelta(hours=stall_hours)
    result = catch_up(ANCHOR, interval, due, now, listed=10 ** 6)
    assert len(result.listed) == result.missed
    walked = [period for period in result.listed]
    begin = walked[-1][1] if walked else due
    assert result.current[0] == begin <= now < result.current[1]
