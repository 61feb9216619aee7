"""Running renewals: the management command, the plugin switch, SQL per renewal, 429s."""
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeResult
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import BillingCycle
from saleor_subscriptions.services import renewals
from saleor_subscriptions.tasks import renew_due_subscriptions_task
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc


class RateLimitedTwice(StripeGateway):
    calls = 0

    def charge(self, request):
        self.calls += 1
        if self.calls <= 2:
            return ChargeResult(ChargeOutcome.RATE_LIMITED, error_code="rate_limit")
        return super().charge(request)


def test_command_renews_everything_due_with_progress_and_summary(renewal, capsys):
    renewal.configure(**{"Renewal batch size": "2"})
    card = renewal.card()
    for _ in range(3):
        renewal.subscription(card=card)
    renewal.subscription(card=renewal.card(rf.DECLINED_CARD))
    out = StringIO()
    call_command("renew_subscriptions", "--now", "2028-03-01T00:00:00+00:00", stdout=out)
    assert out.getvalue().strip() == "renewed=3 failed=1 skipped=0"
    assert "4/4" in capsys.readouterr().err
    out = StringIO()
    call_command("renew_subscriptions", "--now", "2028-03-01T00:00:00+00:00", stdout=out)
    assert out.getvalue().strip() == "renewed=0 failed=0 skipped=0"


def test_nothing_happens_while_the_plugin_is_off(renewal):
    subscription = renewal.subscription()
    renewal.configure(active=False)
    assert renewal.run(utc(2028, 3, 1)) == {}
    assert renew_due_subscriptions_task(now="2028-03-01T00:00:00+00:00") == {"inactive": True}
    outcome = renewals.renew_subscription(subscription.pk, utc(2028, 3, 1), force=True,
                                          context=renewal.context())
    assert outcome.status == "skipped"
    assert BillingCycle.objects.filter(subscription=subscription).count() == 1


def test_rate_limited_charges_back_off_and_charge_once(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    gateway = RateLimitedTwice("sk_test_subscriptions", renewal.localstripe.url)
    pauses = []
    assert renewal.run(utc(2028, 3, 1), gateway=gateway, sleep=pauses.append) == {"renewed": 1}
    assert pauses == [0.5, 1.0]
    assert len(renewal.intents(card.customer_id)) == 1
    assert BillingCycle.objects.get(subscription=subscription, cycle_index=1).status == "paid"


def _queries(renewal, card, count, start, due):
    for _ in range(count):
        renewal.subscription(card=card, start=start)
    context = renewal.context()
    with CaptureQueriesContext(connection) as captured:
        result = renewals.renew_due_subscriptions(due, context=context)
    assert result.renewed == count
    return len(captured)


def test_sql_per_renewal_is_constant_in_batch_size_and_history(renewal, settings):
    # A batch's first renewal goes alone; the others start and are recorded in groups as large
    # as the pool (8), here with all of a group's answers recorded together.
    settings.SUBSCRIPTIONS_RENEWAL_GATHER_SECONDS = 30
    card = renewal.card()
    _queries(renewal, card, 1, utc(2028, 1, 8), utc(2028, 2, 8))  # warm the Site cache
    one = _queries(renewal, card, 1, utc(2028, 1, 10), utc(2028, 2, 10))
    five = _queries(renewal, card, 5, utc(2028, 1, 12), utc(2028, 2, 12))
    nine = _queries(renewal, card, 9, utc(2028, 1, 14), utc(2028, 2, 14))
    # A batch of one: the batch's own look-ups and one renewal alone (about 40, 2026-11-29).
    assert one <= 57
    # In a group a renewal adds only what Saleor runs per order: its plugin hooks' savepoints
    # and (Celery eager in tests) its payment e-mail task; the group's rows cost the same
    # statements for four renewals as for eight.
    assert nine - five <= 4 * 12
    assert nine <= 3 * one  # nine renewals for the statements of three alone

    # A subscription with a long history costs the same as a new one.
    old = renewal.subscription(card=card, start=utc(2027, 1, 20))
    for month in range(2, 13):
        assert renewal.run(utc(2027, month, 20)) == {"renewed": 1}
    context = renewal.context()
    with CaptureQueriesContext(connection) as captured:
        assert renewals.renew_due_subscriptions(utc(2028, 1, 20), context=context).renewed == 1
    assert len(captured) == one
    assert old.cycles.count() == 13
    print("\nSQL queries: 1 renewal=%d, 5=%d, 9=%d" % (one, five, nine))
