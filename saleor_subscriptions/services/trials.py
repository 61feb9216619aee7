"""One free trial per customer (store setting "Free trials per customer" = one).

A customer is known by their account, their e-mail address (normalised, see `normalise_email`)
and the fingerprint of their card where the gateway gives one (Stripe: `card.fingerprint`,
the same for every PaymentMethod made from one card number). A `TrialUse` row is written when a
trial subscription starts; a checkout whose trial matches one is refused before money moves:
account and e-mail in `preprocess_order_creation` (before Saleor calls the gateway), the card in
the gateway, once Stripe told it the card's fingerprint and before anything is charged.
"""
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q

from ..config import TRIALS_ONE
from ..error_codes import SubscriptionErrorCode
from ..models import Subscription, SubscriptionPlan, TrialUse

TRIAL_USED_MESSAGE = ("You have already had a free trial: choose a plan without a trial to "
                      "subscribe.")
ONE_TRIAL_MESSAGE = "A checkout can start one free trial: buy the other plans without a trial."
#: mailboxes that ignore dots in the local part (a.b@gmail.com is ab@gmail.com)
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
#: How long a checkout's claim on a trial holds without its order (a payment that failed leaves
#: one behind: the same checkout may try again at once, another one after this).
CLAIM_HOLDS = timedelta(minutes=15)
#: pg_advisory_xact_lock(namespace, key) namespace of the per-customer trial locks
_TRIAL_LOCK_NAMESPACE = 7310


def normalise_email(email: Optional[str]) -> str:
    """Lower-case and trimmed; `+tag` dropped from the local part (any domain: plus-addressing
    reaches the same mailbox at Gmail, Outlook, iCloud, Fastmail…); dots dropped and
    googlemail.com read as gmail.com for Gmail."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email
    local = local.split("+", 1)[0] or local
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "") or local
    return "%s@%s" % (local, domain)


def _limited(settings) -> bool:
    return getattr(settings, "trials_per_customer", "") == TRIALS_ONE


def trial_used(user=None, emails: Iterable[Optional[str]] = (), card_fingerprint: str = "",
               checkout_token: str = "") -> bool:
    """Whether any of the account, the e-mail addresses or the card has had a free trial, or
    another checkout holds a claim on one."""
    match = _customer_match(user, emails, card_fingerprint)
    holding = Q(claimed_until__isnull=True) | Q(claimed_until__gt=datetime.now(timezone.utc))
    found = TrialUse.objects.filter(match).filter(holding)
    if checkout_token:
        found = found.exclude(checkout_token=checkout_token, subscription__isnull=True)
    return found.exists()


def _customer_match(user, emails, card_fingerprint) -> Q:
    match = Q(pk__in=[])
    if user is not None and user.pk:
        match |= Q(user_id=user.pk)
    normalised = {normalise_email(email) for email in emails if email}
    normalised.discard("")
    if normalised:
        match |= Q(email__in=normalised)
    if card_fingerprint:
        match |= Q(card_fingerprint=card_fingerprint)
    return match


def trial_available(plan: SubscriptionPlan, settings, user=None, email: Optional[str] = None
                    ) -> bool:
    """For storefronts: would this customer get the plan's free trial? Only yes/no."""
    if not plan.trial_days:
        return False
    if not _limited(settings):
        return True
    emails = [email, user.email if user is not None else None]
    return not trial_used(user, emails)


def _trial_plans(plans: Iterable[SubscriptionPlan]):
    return [plan for plan in plans if plan.trial_days > 0]


def refuse(message: str) -> ValidationError:
    return ValidationError({"lines": ValidationError(
        message, code=SubscriptionErrorCode.TRIAL_ALREADY_USED.value)})


def check_checkout(checkout, plans: Iterable[SubscriptionPlan], settings) -> None:
    """Before the order: refuse a second trial of the checkout's account or e-mail."""
    trials = _trial_plans(plans)
    if not trials or not _limited(settings):
        return
    if len(trials) > 1:
        raise refuse(ONE_TRIAL_MESSAGE)
    user = checkout.user
    emails = [checkout.email, user.email if user is not None else None]
    token = str(checkout.token)
    with transaction.atomic():
        # Two checkouts of one customer completing at once: the second waits here for the
        # first's claim, then sees it.
        _lock_customer(user, emails)
        if trial_used(user, emails, checkout_token=token):
            raise refuse(TRIAL_USED_MESSAGE)
        TrialUse.objects.filter(checkout_token=token, subscription__isnull=True).delete()
        TrialUse.objects.create(user=user, email=normalise_email(checkout.email),
                                checkout_token=token,
                                claimed_until=datetime.now(timezone.utc) + CLAIM_HOLDS)


def _lock_customer(user, emails) -> None:
    keys = {"email:%s" % normalise_email(email) for email in emails if email}
    if user is not None and user.pk:
        keys.add("user:%s" % user.pk)
    with connection.cursor() as cursor:
        for key in sorted(keys):  # one order for everyone: no deadlock
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                           [_TRIAL_LOCK_NAMESPACE, key])


def card_refusal(plans: Iterable[SubscriptionPlan], settings, card_fingerprint: str
                 ) -> Optional[str]:
    """In the gateway, before charging: the message refusing a card that had a trial, or None."""
    if not card_fingerprint or not _trial_plans(plans) or not _limited(settings):
        return None
    if trial_used(card_fingerprint=card_fingerprint):
        return TRIAL_USED_MESSAGE
    return None


def record_trial(subscription: Subscription, card_fingerprint: str = "",
                 checkout_token: str = "") -> TrialUse:
    """Called in the transaction that starts a trial subscription (whatever the setting, so
    switching to one later knows who had one); the checkout's claim becomes this use."""
    if checkout_token:
        TrialUse.objects.filter(checkout_token=checkout_token, subscription__isnull=True).delete()
    return TrialUse.objects.create(checkout_token=checkout_token or "",
        user=subscription.user, email=normalise_email(subscription.email),
        card_fingerprint=card_fingerprint or "", subscription=subscription,
        created_at=subscription.created_at)
