"""Who may call which of our queries and mutations: one row per operation, seven requesters.

Every Query/Mutation field the plugin adds to schema.graphql needs a row (the last test fails
otherwise). A row names the field, its arguments and selection (variables like `$sub` come from
the `world` fixture), who gets through and which permission staff/Apps need. Allowed requesters
get through (a clean success unless `succeeds=False`: then a business refusal such as "nothing
to retry" is fine, but never an access one); everyone else is refused — "You do not have
permission", NOT_FOUND on the id, or nothing to read — and nothing changes.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, FrozenSet, Optional

import pytest
from matrix_world import CHECKOUTS, DISCOUNTS, ORDERS, PRODUCTS, fields_of_ours, snapshot

from saleor_subscriptions.models import Subscription, SubscriptionPlan, WinBackOffer

REQUESTERS = ("anonymous", "owner", "other customer", "staff without", "staff with",
              "app without", "app with")
EVERYONE = frozenset(REQUESTERS)
OWNER_OR_STAFF = frozenset({"owner", "staff with", "app with"})
STAFF = frozenset({"staff with", "app with"})
OWNER = frozenset({"owner"})
VARIABLE_TYPES = {"sub": "ID!", "plan": "ID!", "cheap": "ID!", "spare": "ID!", "tea": "ID!",
                  "variant": "ID!", "checkout": "ID!", "line": "ID!", "order": "ID!",
                  "manage": "String!", "offer": "ID!", "discount": "ID!", "voucher": "ID!"}
NOW = datetime.now(timezone.utc)


def _update(**fields):
    return lambda world: Subscription.objects.filter(pk=world.subscription_pk).update(**fields)


def _manage_link(world):
    """A manage link's token for the world's subscription: whoever holds it acts as its
    customer, signed in or not."""
    from saleor_subscriptions.services.manage_links import make_token

    world.ids["manage"] = make_token(world.subscription(), NOW)


def _win_back_code(world):
    Subscription.objects.filter(pk=world.subscription_pk).update(
        status="cancelled", next_billing_at=None, ended_at=NOW - timedelta(days=20),
        cancelled_at=NOW - timedelta(days=20))
    WinBackOffer.objects.create(subscription_id=world.subscription_pk,
                                ended_at=NOW - timedelta(days=20), code="matrix-win-back",
                                expires_at=NOW + timedelta(days=5))


def _offers_shown(world):
    """The owner asked for the cancellation offers: an accept answers that open showing."""
    from saleor_subscriptions.offer_models import RetentionOffer
    from saleor_subscriptions.services import retention
    from saleor_subscriptions.services.lifecycle import Actor

    retention.record_offered(world.subscription_pk, "too_expensive",
                             list(RetentionOffer.objects.filter(reason="too_expensive")),
                             Actor(), NOW)


def _archive_spare(world):
    SubscriptionPlan.objects.filter(name="Archived").update(is_active=False)


@dataclass(frozen=True)
class Op:
    field: str
    call: str  # arguments and selection, e.g. '(id: $sub) { subscriptionErrors { field code } }'
    who: FrozenSet[str]
    permission: Optional[str]
    prepare: Optional[Callable] = None
    succeeds: bool = True
    seen: Optional[Callable] = None  # queries: did the requester get what it asked for?
    label: str = ""

    @property
    def name(self):
        return self.label or self.field


ERR = "subscriptionErrors { field code }"
SUB = "subscription { id } " + ERR
ADDRESS = ('{firstName: "Ada", lastName: "L", streetAddress1: "1 Main St", city: "AUSTIN", '
           'postalCode: "73301", country: US, countryArea: "TX"}')
DATE = (NOW + timedelta(days=40)).isoformat()


def listed(key):
    return lambda data, world: any(edge["node"]["id"] == world.ids[key]
                                   for edge in (data or {}).get("edges", []))


OPS = [
    # -- customers' own subscriptions (owner, or MANAGE_ORDERS) ------------------------------
    Op("subscriptionPause", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS),
    Op("subscriptionCancel", '(id: $sub, reasonText: "bye") { %s }' % SUB, OWNER_OR_STAFF, ORDERS),
    Op("subscriptionCancelUndo", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS,
       _update(cancel_at_period_end=True)),
    Op("subscriptionReactivate", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS,
       _update(status="cancelled", next_billing_at=None)),
    Op("subscriptionResume", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS,
       _update(status="paused", next_billing_at=None, paused_at=NOW)),
    Op("subscriptionSkipNextRenewal", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS),
    Op("subscriptionChangePlan", "(id: $sub, planId: $cheap, quantity: 1) { %s }" % SUB,
       OWNER_OR_STAFF, ORDERS),
    Op("subscriptionChangePlanCancel", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS,
       lambda world: Subscription.objects.filter(pk=world.subscription_pk).update(
           scheduled_plan=SubscriptionPlan.objects.get(name="Small"), scheduled_quantity=1)),
    Op("subscriptionPaymentMethodUpdate", '(id: $sub, paymentMethodId: "pm_unknown") { %s }'
       % SUB, OWNER_OR_STAFF, ORDERS, succeeds=False),
    Op("subscriptionPaymentConfirm", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS,
       succeeds=False),
    Op("subscriptionAddressUpdate", "(id: $sub, shippingAddress: %s) { %s }" % (ADDRESS, SUB),
       OWNER_OR_STAFF, ORDERS),
    Op("subscriptionChangePlanPreview",
       "(id: $sub, planId: $cheap, quantity: 1) { quote { kind } %s }" % ERR, OWNER_OR_STAFF,
       ORDERS, seen=lambda data, world: data["quote"] is not None),
    Op("subscriptionManageLinksRevoke", "(id: $sub) { %s }" % SUB, OWNER_OR_STAFF, ORDERS),
    # -- manage links: the token is the permission, for that one subscription -------------------
    Op("subscriptionByManageToken", "(token: $manage) { subscription { id } %s }" % ERR,
       EVERYONE, None, _manage_link, seen=lambda data, world: data["subscription"] is not None),
    Op("subscriptionByManageToken", '(token: "forged") { subscription { id } %s }' % ERR,
       frozenset(), None, seen=lambda data, world: data["subscription"] is not None,
       label="subscriptionByManageToken(forged)"),
    Op("subscriptionSkipNextRenewal", "(id: $sub, manageToken: $manage) { %s }" % SUB,
       EVERYONE, None, _manage_link, label="subscriptionSkipNextRenewal(link)"),
    Op("customerSubscription", "(id: $sub) { id }", OWNER_OR_STAFF, ORDERS,
       seen=lambda data, world: data is not None),
    Op("mySubscriptions", "(first: 5) { edges { node { id } } }", OWNER, None, seen=listed("sub")),
    # -- retention offers and win-back: the subscription's owner only ------------------------
    Op("subscriptionCancellationOffers",
       "(id: $sub, reason: TOO_EXPENSIVE) { offers { id kind } %s }" % ERR, OWNER, ORDERS,
       seen=lambda data, world: data is not None and [o["id"] for o in data["offers"]] == [
           world.ids["offer"]]),
    Op("subscriptionRetentionOfferAccept",
       "(id: $sub, offerId: $offer, reason: TOO_EXPENSIVE) { %s }" % SUB, OWNER, ORDERS,
       _offers_shown),
    Op("subscriptionWinBackRedeem", '(code: "matrix-win-back") { %s }' % SUB, OWNER, ORDERS,
       _win_back_code),
    Op("subscriptionRetentionOffers", "{ id kind }", STAFF, ORDERS,
       seen=lambda data, world: bool(data)),
    Op("subscriptionRetentionOfferCreate",
       "(input: {reason: NOT_USING, kind: PAUSE, cycles: 1}) { offer { id } %s }" % ERR, STAFF,
       ORDERS),
    Op("subscriptionRetentionOfferArchive", "(id: $offer) { offer { id } %s }" % ERR, STAFF,
       ORDERS),
    # -- staff tools and renewal operations (MANAGE_ORDERS) ----------------------------------
    Op("subscriptionNextBillingDateUpdate", '(id: $sub, date: "%s") { %s }' % (DATE, SUB),
       STAFF, ORDERS),
    Op("subscriptionExtendPeriod", "(id: $sub, days: 3) { %s }" % SUB, STAFF, ORDERS),
    Op("subscriptionDiscountGrant", '(id: $sub, percent: 5, renewals: 2, reason: "matrix") { %s }'
       % SUB, STAFF, ORDERS),
    Op("subscriptionDiscountEnd", '(id: $discount, reason: "matrix") { %s }' % SUB, STAFF, ORDERS,
       succeeds=False),  # the first allowed requester ends it; the next is told it has ended
    Op("subscriptionFreePeriodGrant", '(id: $sub, cycles: 1, reason: "matrix") { %s }' % SUB,
       STAFF, ORDERS),
    # -- vouchers' terms on subscriptions (MANAGE_DISCOUNTS) ---------------------------------
    Op("subscriptionVoucherTermsSet", "(voucherId: $voucher, duration: RENEWALS, renewals: 2) "
       "{ voucherTerms { duration } %s }" % ERR, STAFF, DISCOUNTS),
    Op("subscriptionVoucherTerms", "(voucherId: $voucher) { duration }", STAFF, DISCOUNTS,
       seen=lambda data, world: data is not None),
    Op("subscriptionRefund", '(id: $sub, orderId: $order, amount: "1.00") { %s }' % SUB, STAFF,
       ORDERS, succeeds=False),
    Op("subscriptionRenewNow", "(id: $sub) { %s }" % SUB, STAFF, ORDERS, succeeds=False),
    Op("subscriptionRetryPayment", "(id: $sub) { %s }" % SUB, STAFF, ORDERS, succeeds=False),
    Op("subscriptionRelease", "(id: $sub) { %s }" % SUB, STAFF, ORDERS,
       _update(parked_at=NOW, parked_reason="matrix")),
    Op("customerSubscriptions", "(first: 5) { edges { node { id } } }", STAFF, ORDERS,
       seen=listed("sub")),
    Op("subscriptionMrr", '(currency: "USD") { mrr %s }' % ERR, STAFF, ORDERS,
       seen=lambda data, world: data is not None and data["mrr"] is not None),
    Op("subscriptionMetrics", '(currency: "USD", start: "2028-01-01", end: "2028-03-31") '
       '{ summary { mrr } series { mrr } %s }' % ERR, STAFF, ORDERS,
       seen=lambda data, world: data is not None and data["summary"] is not None),
    Op("subscriptionRevenueReconciliation", '(month: "2028-03", currency: "USD") { ours %s }'
       % ERR, STAFF, ORDERS, seen=lambda data, world: data is not None and data["ours"] is not None),
    # -- plans (MANAGE_PRODUCTS; active plans are public) ------------------------------------
    Op("subscriptionPlanCreate", '(input: {variantId: $variant, name: "New", intervalUnit: MONTH,'
       ' price: 5}) { subscriptionPlan { id } %s }' % ERR, STAFF, PRODUCTS),
    Op("subscriptionPlanUpdate", '(id: $plan, input: {name: "Renamed"}) { %s }' % ERR, STAFF,
       PRODUCTS),
    Op("subscriptionPlanArchive", "(id: $cheap) { %s }" % ERR, STAFF, PRODUCTS),
    Op("subscriptionPlanUnarchive", "(id: $spare) { %s }" % ERR, STAFF, PRODUCTS,
       _archive_spare),
    Op("subscriptionPlanMigrateSubscribers",
       "(planId: $plan, noticeDays: 30) { scheduledCount %s }" % ERR, STAFF, PRODUCTS),
    Op("subscriptionPlans", "(first: 10) { edges { node { id } } }", EVERYONE, None,
       seen=listed("plan")),
    Op("subscriptionPlans", "(first: 10, includeArchived: true) { edges { node { id } } }",
       STAFF, PRODUCTS, seen=listed("spare"), label="subscriptionPlans(includeArchived)"),
    Op("subscriptionPlan", "(id: $plan) { id }", EVERYONE, None,
       seen=lambda data, world: data is not None),
    Op("subscriptionPlan", "(id: $spare) { id }", STAFF, PRODUCTS,
       seen=lambda data, world: data is not None, label="subscriptionPlan(archived)"),
    Op("subscriptionTrialAvailable", '(planId: $plan, email: "someone@example.com")', EVERYONE,
       None, seen=lambda data, world: data is not None),
    # -- checkout plan choice (the checkout's owner, or MANAGE_CHECKOUTS) ---------------------
    Op("checkoutLineSubscriptionPlanSet",
       "(checkoutId: $checkout, lineId: $line, planId: $cheap) { linePlan { lineId } %s }" % ERR,
       OWNER_OR_STAFF, CHECKOUTS),
    Op("checkoutSubscriptionPlans", "(checkoutId: $checkout) { lineId plan { id } }",
       OWNER_OR_STAFF, CHECKOUTS,
       seen=lambda data, world: any(line["plan"] for line in data or [])),
]


def document(op: Op) -> str:
    used = sorted(set(re.findall(r"\$(\w+)", op.call)))
    declared = ", ".join("$%s: %s" % (name, VARIABLE_TYPES[name]) for name in used)
    kind = "query" if op.seen else "mutation"
    return "%s%s { %s%s }" % (kind, "(%s)" % declared if declared else "", op.field, op.call)


def _permission_error(body) -> bool:
    return any(error["message"].startswith("You do not have permission")
               for error in body.get("errors") or [])


def _access_refusal(payload) -> bool:
    return any(error["code"] == "NOT_FOUND" and error["field"] in ("id", "checkoutId", "code")
               for error in payload.get("subscriptionErrors") or [])


def _cells():
    for op in OPS:
        for who in REQUESTERS:
            yield pytest.param(op, who, id="%s-%s" % (op.name, who))


@pytest.mark.parametrize("op, who", _cells())
def test_matrix(world, db, op, who):
    if op.prepare is not None:
        op.prepare(world)
    before = snapshot()
    used = set(re.findall(r"\$(\w+)", op.call))
    body = world.requester(who, op.permission).raw(
        document(op), {name: world.ids[name] for name in used})
    data = (body.get("data") or {}).get(op.field)
    if who in op.who:
        assert not body.get("errors"), body["errors"]
        if op.seen:
            assert op.seen(data, world), data
        else:
            assert not _access_refusal(data), data
            if op.succeeds:
                assert data["subscriptionErrors"] == [], data
        return
    if op.seen:
        assert _permission_error(body) or not op.seen(data, world), body
        assert not body.get("errors") or _permission_error(body), body["errors"]
    else:
        assert _permission_error(body) or _access_refusal(data), body
    assert snapshot() == before


#: Fields whose requesters are not this matrix's (Apps managing their own webhooks, MANAGE_APPS):
#: their own matrix is tests/lifecycle/test_webhooks_out_access.py.
WEBHOOK_FIELDS = {"subscriptionWebhooks", "subscriptionWebhookCreate", "subscriptionWebhookUpdate",
                  "subscriptionWebhookDelete", "subscriptionWebhookDeliveryRedeliver"}


def test_every_field_of_ours_has_a_row():
    ours = fields_of_ours() - WEBHOOK_FIELDS
    assert len(ours) >= 28
    assert ours - {op.field for op in OPS} == set(), "add a row to OPS for each new field"
    assert {op.field for op in OPS} - ours == set()
