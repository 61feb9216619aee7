"""A guest's subscriptions join the account that owns their e-mail address.

Saleor links a guest's orders when the account's e-mail is confirmed; subscriptions follow the
same rule, and also on creation of an active account and on sign-in (an existing customer who
checked out without signing in). Only active accounts: an unconfirmed registration has not
proved the address is theirs.
"""
from datetime import datetime

from django.db import transaction

from ..models import ActorType, EventType, StripeCustomer, Subscription
from .events import record_event


def link_guest_subscriptions(user, now: datetime) -> int:
    """Give `user` the guest subscriptions bought with their e-mail; returns how many."""
    if user is None or not user.is_active or not user.email:
        return 0
    # Cheap check first: sign-ins run this, and almost nobody has guest subscriptions.
    if not _guest_rows(user).exists():
        return 0
    with transaction.atomic():
        # Serialises with checkouts of this user that create its Stripe customer.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        rows = list(_guest_rows(user).select_for_update().order_by("pk"))
        for subscription in rows:
            subscription.user = user
            subscription.is_guest = False
            subscription.save(update_fields=["user", "is_guest", "updated_at"])
            record_event(subscription, EventType.ACCOUNT_LINKED, date=now,
                         actor_type=ActorType.CUSTOMER, user=user)
        _adopt_stripe_customer(user, rows)
    return len(rows)


def _guest_rows(user):
    return Subscription.objects.filter(is_guest=True, user__isnull=True,
                                       email__iexact=user.email)


def _adopt_stripe_customer(user, rows) -> None:
    """Each guest checkout made its own Stripe customer; the subscriptions keep theirs. An
    account without one takes the newest, so its next checkout and `storedPaymentSources`
    reuse that customer and its cards."""
    if StripeCustomer.objects.filter(user=user).exists():
        return
    references = [row for row in rows if row.customer_reference]
    if references:
        newest = max(references, key=lambda row: (row.created_at, row.pk))
        StripeCustomer.objects.create(user=user, customer_id=newest.customer_reference)
