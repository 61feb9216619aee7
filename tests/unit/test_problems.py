"""Raw failure codes become stable problem codes with words a customer may read."""
from saleor_subscriptions.domain.problems import MESSAGES, Problem, classify, classify_reason, message


def test_every_problem_has_a_message():
    assert set(MESSAGES) == set(Problem)


def test_codes_map_to_problems():
    assert classify("") is None and message(None) is None
    assert classify("fraudulent") is Problem.CARD_DECLINED  # never tell a customer "fraud"
    assert classify("expired_card") is Problem.CARD_EXPIRED
    assert classify("status_processing") is Problem.PAYMENT_PENDING
    assert classify("some_new_stripe_code") is Problem.PAYMENT_FAILED
    assert classify("out_of_stock") is Problem.OUT_OF_STOCK


def test_a_parked_reason_is_read_by_its_code():
    assert classify_reason("internal_error: KeyError: 'x'") is Problem.INTERNAL_ERROR
    assert classify_reason("") is None
