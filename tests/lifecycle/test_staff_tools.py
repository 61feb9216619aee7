"""Staff with MANAGE_ORDERS move the next billing date and give free days; customers cannot."""
from freezegun import freeze_time

from saleor_subscriptions.models import Subscription

EXTEND = """
mutation($id: ID!, $days: Int!) {
  subscriptionExtendPeriod(id: $id, days: $days) {
    subscription { nextBillingAt events { type actorType userEmail } }
    subscriptionErrors { field code }
  }
}"""
MOVE = """
mutation($id: ID!, $date: DateTime!) {
  subscriptionNextBillingDateUpdate(id: $id, date: $date) {
    subscription { nextBillingAt } subscriptionErrors { field code }
  }
}"""


@freeze_time("2030-02-10 12:00:00")
def test_staff_extends_the_period(staff_api, superuser, subscription, gid):
    result = staff_api.execute(EXTEND, {"id": gid(subscription), "days": 7})
    payload = result["subscriptionExtendPeriod"]
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["nextBillingAt"].startswith("2030-03-07T10:00")
    assert payload["subscription"]["events"][-1] == {
        "type": "PERIOD_EXTENDED", "actorType": "STAFF", "userEmail": superuser.email}


@freeze_time("2030-02-10 12:00:00")
def test_staff_moves_the_next_billing_date_and_the_anchor(staff_api, subscription, gid):
    result = staff_api.execute(MOVE, {"id": gid(subscription), "date": "2030-03-15T09:00:00+00:00"})
    assert result["subscriptionNextBillingDateUpdate"]["subscriptionErrors"] == []
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.next_billing_at.isoformat() == "2030-03-15T09:00:00+00:00"
    assert row.anchor_at == row.next_billing_at


@freeze_time("2030-02-10 12:00:00")
def test_bad_dates_and_days_change_nothing(staff_api, subscription, gid):
    before = Subscription.objects.get(pk=subscription.pk).next_billing_at
    past = staff_api.execute(MOVE, {"id": gid(subscription), "date": "2030-01-01T00:00:00+00:00"})
    assert past["subscriptionNextBillingDateUpdate"]["subscriptionErrors"] == [
        {"field": "date", "code": "INVALID"}]
    for days in (0, -3, 367):
        bad = staff_api.execute(EXTEND, {"id": gid(subscription), "days": days})
        assert bad["subscriptionExtendPeriod"]["subscriptionErrors"] == [
            {"field": "days", "code": "INVALID"}]
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.next_billing_at == before and row.events.count() == 0


def test_customers_cannot_use_staff_tools(customer_api, subscription, gid):
    body = customer_api.raw(EXTEND, {"id": gid(subscription), "days": 7})
    assert body["errors"][0]["message"].startswith("You do not have permission")
    assert Subscription.objects.get(pk=subscription.pk).events.count() == 0
