import itertools

import pytest

from saleor_subscriptions.domain.states import (
    ALLOWED_TRANSITIONS,
    BILLABLE,
    TERMINAL,
    InvalidTransition,
    Status,
    can_transition,
    ensure_transition,
)

ALL_PAIRS = list(itertools.product(Status, Status))


def test_every_status_has_a_row_in_the_table():
    assert set(ALLOWED_TRANSITIONS) == set(Status)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.TRIALING, Status.ACTIVE),
        (Status.TRIALING, Status.PAUSED),
        (Status.ACTIVE, Status.PAST_DUE),
        (Status.ACTIVE, Status.EXPIRED),
        (Status.PAST_DUE, Status.ACTIVE),
        (Status.PAUSED, Status.ACTIVE),
        (Status.CANCELLED, Status.ACTIVE),
    ],
)
def test_allowed_transitions(current, target):
    assert can_transition(current, target)
    ensure_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.ACTIVE, Status.TRIALING),
        (Status.PAUSED, Status.PAST_DUE),
        (Status.PAST_DUE, Status.EXPIRED),
        (Status.CANCELLED, Status.PAUSED),
        (Status.EXPIRED, Status.ACTIVE),
        (Status.ACTIVE, Status.ACTIVE),
    ],
)
def test_forbidden_transitions_raise_a_clear_error(current, target):
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition) as excinfo:
        ensure_transition(current, target)
    message = str(excinfo.value)
    assert current.value in message and target.value in message


def test_invalid_transition_is_a_value_error():
    assert issubclass(InvalidTransition, ValueError)


def test_expired_is_a_dead_end():
    assert ALLOWED_TRANSITIONS[Status.EXPIRED] == frozenset()
    with pytest.raises(InvalidTransition, match="none"):
        ensure_transition(Status.EXPIRED, Status.ACTIVE)


def test_cancelled_can_only_be_reactivated():
    assert ALLOWED_TRANSITIONS[Status.CANCELLED] == frozenset({Status.ACTIVE})


def test_no_status_transitions_to_itself():
    assert all(status not in ALLOWED_TRANSITIONS[status] for status in Status)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_ensure_transition_agrees_with_can_transition(current, target):
    if can_transition(current, target):
        ensure_transition(current, target)
    else:
        with pytest.raises(InvalidTransition):
            ensure_transition(current, target)


def test_raw_strings_are_accepted_and_unknown_ones_rejected():
    assert can_transition("active", "past_due")
    assert not can_transition("expired", "active")
    with pytest.raises(ValueError):
        can_transition("active", "frozen")


def test_billable_and_terminal_sets():
    assert BILLABLE == {Status.TRIALING, Status.ACTIVE, Status.PAST_DUE}
    assert TERMINAL == {Status.CANCELLED, Status.EXPIRED}
    assert not BILLABLE & TERMINAL


def test_the_renewal_queue_index_spells_out_the_billable_statuses():
    from saleor_subscriptions.models import BILLABLE_STATUSES

    assert sorted(BILLABLE_STATUSES) == sorted(status.value for status in BILLABLE)
