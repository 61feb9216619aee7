from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saleor_subscriptions.domain.dunning import (
    FinalAction,
    next_retry_at,
    parse_retry_schedule,
)

DAY = timedelta(days=1)
FIRST_FAILURE = datetime(2024, 3, 10, 9, 30, tzinfo=timezone.utc)


def test_parse_bare_numbers_as_days():
    assert parse_retry_schedule("1,3,7") == (DAY, 3 * DAY, 7 * DAY)


def test_parse_tolerates_whitespace_and_mixed_units():
    assert parse_retry_schedule(" 30m, 12H ,1d, 3 ") == (
        timedelta(minutes=30),
        timedelta(hours=12),
        DAY,
        3 * DAY,
    )


def test_blank_schedule_means_no_retries():
    assert parse_retry_schedule("  ") == ()


def test_ten_entries_and_sixty_days_are_the_limits():
    assert len(parse_retry_schedule(",".join(str(day) for day in range(1, 11)))) == 10
    assert parse_retry_schedule("60") == (60 * DAY,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "Invalid retry delay"),
        ("1,,3", "Invalid retry delay"),
        ("1.5", "Invalid retry delay"),
        ("-1", "Invalid retry delay"),
        ("2w", "Invalid retry delay"),
        ("0", "positive"),
        ("0h", "positive"),
        ("3,1", "must increase"),
        ("1,1", "must increase"),
        ("1,24h", "must increase"),
        ("61", "60 days"),
        ("1,2,1441h", "60 days"),
        (",".join(str(day) for day in range(1, 12)), "At most 10"),
    ],
)
def test_parse_rejects_bad_input_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_retry_schedule(text)


@given(st.lists(st.integers(1, 60), min_size=1, max_size=10, unique=True))
def test_parse_round_trips_increasing_day_lists(days):
    days.sort()
    text = ",".join(str(day) for day in days)
    assert parse_retry_schedule(text) == tuple(day * DAY for day in days)


def test_next_retry_is_counted_from_the_first_failure():
    schedule = parse_retry_schedule("1,3,7")
    assert next_retry_at(FIRST_FAILURE, schedule, 1) == FIRST_FAILURE + DAY
    assert next_retry_at(FIRST_FAILURE, schedule, 2) == FIRST_FAILURE + 3 * DAY
    assert next_retry_at(FIRST_FAILURE, schedule, 3) == FIRST_FAILURE + 7 * DAY
    assert next_retry_at(FIRST_FAILURE, schedule, 4) is None


def test_empty_schedule_is_exhausted_immediately():
    assert next_retry_at(FIRST_FAILURE, (), 1) is None


def test_next_retry_requires_at_least_one_failure_and_aware_time():
    with pytest.raises(ValueError):
        next_retry_at(FIRST_FAILURE, (DAY,), 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_retry_at(FIRST_FAILURE.replace(tzinfo=None), (DAY,), 1)


@given(st.lists(st.integers(1, 60), min_size=1, max_size=10, unique=True))
def test_retries_move_forward_then_stop(days):
    schedule = tuple(day * DAY for day in sorted(days))
    attempts = [next_retry_at(FIRST_FAILURE, schedule, n) for n in range(1, len(schedule) + 1)]
    assert attempts == sorted(attempts)
    assert all(attempt > FIRST_FAILURE for attempt in attempts)
    assert next_retry_at(FIRST_FAILURE, schedule, len(schedule) + 1) is None


def test_final_action_values():
    assert FinalAction("cancel") is FinalAction.CANCEL
    assert FinalAction("pause") is FinalAction.PAUSE
