"""Renewals that fail for reasons other than the card: recorded, retried, parked, released."""
from saleor.warehouse.models import Stock

from saleor_subscriptions.models import BillingCycle, EventType, SubscriptionEvent
from saleor_subscriptions.services import renewals
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)


def events(subscription):
    return list(SubscriptionEvent.objects.filter(subscription=subscription)
                .values_list("type", flat=True))


def cycle_of(subscription):
    return BillingCycle.objects.get(subscription=subscription, cycle_index=1)


def assert_blocked(renewal, subscription, code):
    assert renewal.run(DUE) == {"failed": 1}
    subscription.refresh_from_db()
    cycle = cycle_of(subscription)
    assert cycle.error_code == code
    assert cycle.order_id is None
    assert subscription.status == "active"  # not the customer's card: no dunning
    assert EventType.RENEWAL_FAILED in events(subscription)
    return cycle


def test_archived_plan_still_renews(renewal):
    """Archiving stops new sales only: existing subscribers keep renewing."""
    subscription = renewal.subscription()
    plan = subscription.plan
    plan.is_active = False
    plan.save(update_fields=["is_active"])
    assert renewal.run(DUE) == {"renewed": 1}
    assert cycle_of(subscription).status == "paid"
    subscription.refresh_from_db()
    assert subscription.parked_at is None and subscription.cycle_index == 1


def test_blocked_renewal_is_retried_then_parked_then_released(renewal):
    subscription = renewal.subscription()
    Stock.objects.filter(product_variant=subscription.variant).update(quantity=0)
    cycle = assert_blocked(renewal, subscription, "out_of_stock")
    assert cycle.next_retry_at == utc(2028, 3, 1, 10)
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}
    assert renewal.run(utc(2028, 3, 5, 11)) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.parked_at == utc(2028, 3, 5, 11)
    assert subscription.parked_reason.startswith("out_of_stock")
    assert EventType.PARKED in events(subscription)
    assert renewal.run(utc(2028, 6, 1)) == {}  # parked rows are never claimed

    Stock.objects.filter(product_variant=subscription.variant).update(quantity=100)
    outcome = renewals.release_subscription(subscription.pk, utc(2028, 6, 1))
    assert outcome
    # By default ("Missed renewals": bill_once) only the current period (May 31 - Jun 30) is
    # billed; the periods missed while parked are recorded as skipped.
    assert renewal.run(utc(2028, 6, 1, 0, 1)) == {"renewed": 1}
    subscription.refresh_from_db()
    assert subscription.parked_at is None
    assert subscription.next_billing_at == utc(2028, 6, 30, 10)
    assert EventType.RELEASED in events(subscription)


def test_out_of_stock_then_restocked(renewal):
    subscription = renewal.subscription()
    Stock.objects.filter(product_variant=subscription.variant).update(quantity=0)
    assert_blocked(renewal, subscription, "out_of_stock")
    Stock.objects.filter(product_variant=subscription.variant).update(quantity=10)
    assert renewal.run(utc(2028, 3, 1, 10)) == {"renewed": 1}
    assert cycle_of(subscription).status == "paid"


def test_deleted_variant(renewal):
    tea = rf.variant_from_global_id(renewal.store.variants["TEA-100G"])
    subscription = renewal.subscription()
    subscription.variant = tea
    subscription.save(update_fields=["variant"])
    tea.delete()
    assert_blocked(renewal, subscription, "variant_deleted")


def test_deleted_customer_account(renewal):
    subscription = renewal.subscription()
    renewal.customer.delete()
    assert_blocked(renewal, subscription, "customer_deleted")


def test_card_gone_at_stripe_is_invalid(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=rf.StripeCard(card.customer_id, "pm_doesnotexist1"))
    assert renewal.run(DUE) == {"failed": 1}
    cycle = cycle_of(subscription)
    assert cycle.error_code == "invalid_request" and cycle.order_id is not None
    assert cycle.blocked_count == 1 and cycle.attempt_count == 0


def test_one_bad_row_does_not_block_the_batch(renewal):
    renewal.configure(**{"Renewal batch size": "2"})
    bad = renewal.subscription()
    bad.variant = None
    bad.save(update_fields=["variant"])
    good = [renewal.subscription() for _ in range(3)]
    assert renewal.run(DUE) == {"failed": 1, "renewed": 3}
    for subscription in good:
        assert cycle_of(subscription).status == "paid"
