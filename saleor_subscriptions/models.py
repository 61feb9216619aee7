"""Plans, subscriptions, billing cycles, payment attempts and the event history."""
from uuid import uuid4

from django.conf import settings
from django.contrib.postgres.fields import JSONField
from django.db import models
from django.utils import timezone
from django_prices.models import MoneyField

AMOUNT = {"max_digits": 12, "decimal_places": 3}

# Mirrors domain.periods.IntervalUnit and domain.states.Status (kept literal so that
# migrations do not depend on importing the domain layer).
INTERVAL_UNIT_CHOICES = [("day", "Day"), ("week", "Week"), ("month", "Month"), ("year", "Year")]
STATUS_CHOICES = [
    ("trialing", "Trialing"),
    ("active", "Active"),
    ("past_due", "Past due"),
    ("paused", "Paused"),
    ("cancelled", "Cancelled"),
    ("expired", "Expired"),
]
#: statuses the renewal run bills (domain.states.BILLABLE, spelled out for the index below)
BILLABLE_STATUSES = ["active", "past_due", "trialing"]


class SubscriptionPlan(models.Model):
    variant = models.ForeignKey(
        "product.ProductVariant", related_name="subscription_plans", on_delete=models.CASCADE
    )
    name = models.CharField(max_length=255)
    # Plans of one family are the tiers a customer can move between (basic < medium < platinum).
    family = models.CharField(max_length=64, blank=True, default="", db_index=True)
    tier_rank = models.PositiveIntegerField(default=0)
    interval_unit = models.CharField(max_length=8, choices=INTERVAL_UNIT_CHOICES)
    interval_count = models.PositiveIntegerField(default=1)
    currency = models.CharField(max_length=3)
    price_amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    trial_days = models.PositiveIntegerField(default=0)
    signup_fee_amount = models.DecimalField(default=0, **AMOUNT)
    signup_fee = MoneyField(amount_field="signup_fee_amount", currency_field="currency")
    # None: renews until cancelled.
    billing_cycles = models.PositiveIntegerField(null=True, blank=True)
    # Introductory price for the first `intro_cycles` paid cycles (domain/intro.py).
    intro_price_amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    intro_cycles = models.PositiveIntegerField(default=0)
    renewal_notice_days = models.PositiveIntegerField(
        default=0, help_text="Days before each renewal the customer is e-mailed (and the "
        "renewal-upcoming webhook event sent); 0: no notice.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("variant_id", "tier_rank", "pk")

    def __str__(self):
        return self.name

    @property
    def interval(self):
        from .domain.periods import Interval, IntervalUnit

        return Interval(IntervalUnit(self.interval_unit), self.interval_count)


class Subscription(models.Model):
    token = models.UUIDField(default=uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="subscriptions",
        on_delete=models.SET_NULL,
    )
    email = models.EmailField()
    # A guest checkout's subscription has no user by design; a member's losing its user means
    # the account was deleted.
    is_guest = models.BooleanField(default=False)
    plan = models.ForeignKey(SubscriptionPlan, related_name="subscriptions", on_delete=models.PROTECT)
    variant = models.ForeignKey(
        "product.ProductVariant", null=True, related_name="+", on_delete=models.SET_NULL
    )
    quantity = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, db_index=True)

    currency = models.CharField(max_length=3)
    # The price agreed at subscribe time (grandfathered when the plan's price changes).
    unit_price_amount = models.DecimalField(**AMOUNT)
    unit_price = MoneyField(amount_field="unit_price_amount", currency_field="currency")
    # A credit carried to the next renewal (immediate downgrades, goodwill).
    credit_amount = models.DecimalField(default=0, **AMOUNT)
    credit = MoneyField(amount_field="credit_amount", currency_field="currency")
    # Owed from a renewal below the gateway's minimum charge: added to the next renewal's order.
    carried_amount = models.DecimalField(default=0, **AMOUNT)
    # Intro terms agreed at subscribe time (grandfathered): the intro price applies while
    # paid_cycles < intro_until_cycle (domain.intro.cycle_unit_price).
    intro_price_amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    intro_until_cycle = models.PositiveIntegerField(default=0)
    # How many of its discounts (discount_models.SubscriptionDiscount) are active: the hot path
    # reads them only when there are some.
    discount_count = models.PositiveIntegerField(default=0)

    # Billing dates are computed from the anchor so month ends never drift.
    anchor_at = models.DateTimeField()
    cycle_index = models.PositiveIntegerField(default=0)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    next_billing_at = models.DateTimeField(null=True, blank=True)
    trial_end_at = models.DateTimeField(null=True, blank=True)
    paid_cycles = models.PositiveIntegerField(default=0)

    cancel_at_period_end = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=32, blank=True, default="")
    cancel_reason_text = models.TextField(blank=True, default="")
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_resumes_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    scheduled_plan = models.ForeignKey(
        SubscriptionPlan, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    scheduled_quantity = models.PositiveIntegerField(null=True, blank=True)
    # A new plan price staff moved this subscriber to (services/price_changes.py): it applies at
    # the first renewal on or after scheduled_price_at, the end of the customer's notice.
    scheduled_price_amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    scheduled_price_at = models.DateTimeField(null=True, blank=True)
    # Plan changes that charged (or tried to): part of their payment attempts' keys, counted
    # under the row lock, so a repeated request can never make a second key for one change.
    plan_change_count = models.PositiveIntegerField(default=0)
    # Part of every manage link (services/manage_links.py): bumped to revoke the links sent.
    manage_link_version = models.PositiveIntegerField(default=0)

    shipping_address = models.ForeignKey(
        "account.Address", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    billing_address = models.ForeignKey(
        "account.Address", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    shipping_method = models.ForeignKey(
        "shipping.ShippingMethod", null=True, blank=True, related_name="+",
        on_delete=models.SET_NULL,
    )
    origin_order = models.ForeignKey(
        "order.Order", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )

    gateway = models.CharField(max_length=64, blank=True, default="")
    customer_reference = models.CharField(max_length=255, blank=True, default="")
    payment_method_reference = models.CharField(max_length=255, blank=True, default="")
    card_brand = models.CharField(max_length=40, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    card_exp_month = models.PositiveIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveIntegerField(null=True, blank=True)

    # Set aside after repeated non-payment failures so one bad row never blocks a batch.
    parked_at = models.DateTimeField(null=True, blank=True)
    parked_reason = models.TextField(blank=True, default="")
    # Set (database clock) while a renewal worker holds this row, so others skip it.
    renewal_lease_until = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=["status", "next_billing_at"], name="subs_due_idx"),
            # The renewal queue in claim order: a claim reads one batch, not the whole due set.
            models.Index(
                fields=["next_billing_at", "id"], name="subs_renewal_queue_idx",
                condition=models.Q(status__in=BILLABLE_STATUSES, parked_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"Subscription {self.token}"


class EventType:
    CREATED = "created"
    TRIAL_STARTED = "trial_started"
    TRIAL_ENDED = "trial_ended"
    RENEWAL_ORDER_CREATED = "renewal_order_created"
    RENEWED = "renewed"
    RENEWAL_FAILED = "renewal_failed"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_RETRY_SCHEDULED = "payment_retry_scheduled"
    PAYMENT_RETRIED = "payment_retried"
    PAYMENT_RECOVERED = "payment_recovered"
    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    CHARGE_CARRIED = "charge_carried"
    DUNNING_EXHAUSTED = "dunning_exhausted"
    PLAN_CHANGED = "plan_changed"
    PLAN_CHANGE_SCHEDULED = "plan_change_scheduled"
    PLAN_CHANGE_CANCELLED = "plan_change_cancelled"
    QUANTITY_CHANGED = "quantity_changed"
    PAUSED = "paused"
    RESUMED = "resumed"
    RENEWAL_SKIPPED = "renewal_skipped"
    CANCELLATION_SCHEDULED = "cancellation_scheduled"
    CANCELLATION_UNDONE = "cancellation_undone"
    CANCELLED = "cancelled"
    REACTIVATED = "reactivated"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    #: the gateway refused to give back a payment for an abandoned cycle (retried by the sweep)
    REFUND_FAILED = "refund_failed"
    PAYMENT_METHOD_CHANGED = "payment_method_changed"
    ADDRESS_CHANGED = "address_changed"
    NEXT_BILLING_DATE_CHANGED = "next_billing_date_changed"
    PERIOD_EXTENDED = "period_extended"
    STATUS_CHANGED = "status_changed"
    PARKED = "parked"
    RELEASED = "released"
    PRICE_CHANGE_SCHEDULED = "price_change_scheduled"
    PRICE_CHANGED = "price_changed"
    ACCOUNT_LINKED = "account_linked"  # a guest's subscription joined the account of its e-mail
    INTRO_PRICE_ENDED = "intro_price_ended"  # the first renewal at the regular price
    MANAGE_LINKS_REVOKED = "manage_links_revoked"  # the links e-mailed so far stop working
    DISPUTE_OPENED = "dispute_opened"  # the customer's bank disputes a charge (Stripe)
    DISPUTE_CLOSED = "dispute_closed"
    CARD_UPDATED = "card_updated"  # Stripe changed the stored card (updated by the bank)
    CARD_DETACHED = "card_detached"  # the stored card was removed at Stripe
    CARD_EXPIRING = "card_expiring"
    TRIAL_ENDING = "trial_ending"  # the trial ends in a few days (services/reminders.py)
    RENEWAL_UPCOMING = "renewal_upcoming"  # the plan's renewal notice days before a renewal
    RETENTION_OFFERED = "retention_offered"  # offers shown to a customer about to cancel
    RETENTION_OFFER_ACCEPTED = "retention_offer_accepted"
    RETENTION_OFFER_DECLINED = "retention_offer_declined"  # cancelled after seeing offers
    WIN_BACK_OFFERED = "win_back_offered"
    WIN_BACK_REDEEMED = "win_back_redeemed"
    DISCOUNT_GRANTED = "discount_granted"  # services/discounts.py
    DISCOUNT_ENDED = "discount_ended"
    FREE_PERIOD_GIVEN = "free_period_given"  # staff goodwill: billing pushed by whole cycles

    CHOICES = [
        (value, value.replace("_", " ").capitalize())
        for name, value in sorted(vars().items())
        if name.isupper() and isinstance(value, str)
    ]


class ActorType:
    CUSTOMER = "customer"
    STAFF = "staff"
    APP = "app"
    SYSTEM = "system"

    CHOICES = [(CUSTOMER, "Customer"), (STAFF, "Staff"), (APP, "App"), (SYSTEM, "System")]


class SubscriptionEvent(models.Model):
    subscription = models.ForeignKey(
        Subscription, related_name="events", on_delete=models.CASCADE
    )
    type = models.CharField(max_length=40, choices=EventType.CHOICES)
    date = models.DateTimeField(default=timezone.now, db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.CHOICES)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
        on_delete=models.SET_NULL,
    )
    app = models.ForeignKey(
        "app.App", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    order = models.ForeignKey(
        "order.Order", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    currency = models.CharField(max_length=3, blank=True, default="")
    amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    parameters = JSONField(blank=True, default=dict)
    # The subscription's status and plan after the change (the metrics' subscriber counts);
    # blank/null on rows written before they were kept.
    status = models.CharField(max_length=16, blank=True, default="")
    plan = models.ForeignKey(
        SubscriptionPlan, null=True, blank=True, related_name="+", on_delete=models.DO_NOTHING,
        db_constraint=False, db_index=False,
    )
    # Counted into the metrics' rollup (services/metrics_rollup.py).
    rolled_up = models.BooleanField(default=False)

    class Meta:
        ordering = ("date", "pk")
        indexes = [
            models.Index(fields=["id"], name="subs_event_rollup_idx",
                         condition=models.Q(rolled_up=False)),
            models.Index(fields=["subscription", "id"], name="subs_event_history_idx"),
        ]


class CycleStatus:
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    ABANDONED = "abandoned"

    CHOICES = [(PENDING, "Pending"), (PAID, "Paid"), (FAILED, "Failed"), (ABANDONED, "Abandoned")]


#: cycles still waiting for their money: the renewal run retries them
OPEN_CYCLE_STATUSES = (CycleStatus.FAILED, CycleStatus.PENDING)


class BillingCycle(models.Model):
    """One row per billing period: the unique key that makes a renewal happen exactly once."""

    subscription = models.ForeignKey(
        Subscription, related_name="cycles", on_delete=models.CASCADE
    )
    cycle_index = models.PositiveIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=CycleStatus.CHOICES, default=CycleStatus.PENDING)
    order = models.ForeignKey(
        "order.Order", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    attempt_count = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    # Consecutive failures that were not the card's fault (stock, plan, variant, customer).
    blocked_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("subscription_id", "cycle_index")
        indexes = [
            # Open cycles due for a retry, without reading the paid ones.
            models.Index(fields=["next_retry_at"], name="subs_cycle_retry_idx",
                         condition=models.Q(status__in=OPEN_CYCLE_STATUSES)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "cycle_index"], name="subs_one_cycle_per_period"
            )
        ]


class AttemptStatus:
    STARTED = "started"  # the call was made; its outcome is unknown until reconciled
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ACTION_REQUIRED = "action_required"

    CHOICES = [
        (STARTED, "Started"),
        (SUCCEEDED, "Succeeded"),
        (FAILED, "Failed"),
        (ACTION_REQUIRED, "Action required"),
    ]


class PaymentAttempt(models.Model):
    """Every charge try is data; its key is stored before the gateway is called."""

    subscription = models.ForeignKey(
        Subscription, related_name="payment_attempts", on_delete=models.CASCADE
    )
    cycle = models.ForeignKey(
        BillingCycle, null=True, blank=True, related_name="attempts", on_delete=models.CASCADE
    )
    purpose = models.CharField(max_length=16, default="renewal")
    idempotency_key = models.CharField(max_length=128, unique=True)
    status = models.CharField(max_length=16, choices=AttemptStatus.CHOICES)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    gateway_reference = models.CharField(max_length=255, blank=True, default="")
    # The gateway's customer the charge is made for, stored with the key: the subscription may
    # move to another customer (a new card) before an unknown outcome is looked up. Null on rows
    # stored before it was kept: those are looked up under the subscription's customer.
    customer_reference = models.CharField(max_length=255, null=True, blank=True)
    # ACTION_REQUIRED: the open charge's secret, shown only to the subscription's owner so the
    # storefront can complete it (Stripe.js confirmCardPayment).
    client_secret = models.CharField(max_length=255, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Charges that are not a renewal (a prorated upgrade): the order they pay and what happens
    # once the money is in (the plan change, applied in the outcome's transaction).
    order = models.ForeignKey(
        "order.Order", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    details = JSONField(blank=True, default=dict)

    class Meta:
        ordering = ("created_at", "pk")
        indexes = [
            # The sweep reads the attempts still STARTED, never the finished ones.
            models.Index(fields=["created_at"], name="subs_attempt_started_idx",
                         condition=models.Q(status="started")),
        ]


class StripeCustomer(models.Model):
    """One Stripe customer per Saleor user, reused across checkouts."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="stripe_subscription_customer",
        on_delete=models.CASCADE,
    )
    customer_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)


class GatewayKeyRefusal(models.Model):
    """A gateway key the gateway refused (services/gateway_health.py): renewals halt while it is
    the configured key, and staff are alerted once per refused key. Only a fingerprint of the key
    is kept, never the key."""

    key_fingerprint = models.CharField(max_length=64, unique=True)
    code = models.CharField(max_length=64)
    message = models.TextField(blank=True, default="")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)


class CheckoutLinePlan(models.Model):
    """The plan a customer chose for a checkout line; validated again before the order."""

    line = models.OneToOneField(
        "checkout.CheckoutLine", related_name="subscription_plan_choice", on_delete=models.CASCADE
    )
    plan = models.ForeignKey(SubscriptionPlan, related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)


class TrialUse(models.Model):
    """A free trial a customer started: with "Free trials per customer" = one, a user, e-mail
    (normalised, services/trials.py) or card fingerprint found here gets no second trial."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
        on_delete=models.SET_NULL,
    )
    email = models.CharField(max_length=254, db_index=True)
    card_fingerprint = models.CharField(max_length=64, blank=True, default="", db_index=True)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    # A claim: the checkout that passed the check before its order exists (services/trials.py).
    # It counts until claimed_until; the subscription's start turns it into a use (None).
    checkout_token = models.CharField(max_length=36, blank=True, default="", db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


from .discount_models import (  # noqa: E402,F401  (renewal discounts, voucher terms)
    SubscriptionDiscount,
    SubscriptionVoucherTerms,
)
from .forecast_models import ForecastDelta, ForecastRollup  # noqa: E402,F401  (forecast totals)
from .mrr_models import MetricsRollup, MrrMovement  # noqa: E402,F401  (the MRR ledger, registered with this app)
from .notice_models import CustomerNotice  # noqa: E402,F401  (the e-mail notice ledger)
from .offer_models import RetentionOffer, WinBackOffer  # noqa: E402,F401  (retention, win-back)
from .stripe_webhook_models import StripeWebhookEvent  # noqa: E402,F401  (Stripe webhooks in)
from .webhook_models import (  # noqa: E402,F401  (webhooks out, registered with this app)
    SubscriptionWebhook,
    WebhookDelivery,
    WebhookDeliveryAttempt,
)
