"""The demo's localstripe keeps its state across restarts (scripts/demo.sh starts it with
`--state .run/localstripe.pickle`), so the Stripe customers and cards in the demo's database
can still be charged after `make demo` is run again."""
from decimal import Decimal

import stripe
from prices import Money

from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeRequest
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.localstripe import LocalStripe

KEY = "sk_test_restart"


def renew(url, card, key):
    return StripeGateway(KEY, url).charge(ChargeRequest(
        amount=Money(Decimal("18.00"), "USD"), customer_reference=card.customer_id,
        payment_method_reference=card.payment_method_id, idempotency_key=key))


def test_customers_and_cards_survive_a_restart_with_a_state_file(tmp_path):
    state = str(tmp_path / "localstripe.pickle")
    before = LocalStripe(state_file=state).start()
    try:
        card = rf.create_card(before.url, KEY, "restart@example.com")
        assert renew(before.url, card, "cycle-1").outcome == ChargeOutcome.SUCCEEDED
    finally:
        before.stop()

    after = LocalStripe(port=before.port, state_file=state).start()
    try:
        client = rf.stripe_client(after.url, KEY)
        assert client.PaymentMethod.retrieve(card.payment_method_id)["customer"] == card.customer_id
        result = renew(after.url, card, "cycle-2")
        assert result.outcome == ChargeOutcome.SUCCEEDED, result
        assert len(rf.payment_intents(after.url, KEY, card.customer_id)) == 2
    finally:
        after.stop()


def test_without_a_state_file_a_restart_forgets_everything(tmp_path):
    # What the demo did before: the next renewal failed with "Not Found".
    before = LocalStripe().start()
    try:
        card = rf.create_card(before.url, KEY, "restart@example.com")
    finally:
        before.stop()
    after = LocalStripe(port=before.port).start()
    try:
        try:
            rf.stripe_client(after.url, KEY).Customer.retrieve(card.customer_id)
            found = True
        except stripe.error.InvalidRequestError:
            found = False
        assert not found
        assert renew(after.url, card, "cycle-2").outcome != ChargeOutcome.SUCCEEDED
    finally:
        after.stop()
