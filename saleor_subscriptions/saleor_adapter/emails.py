"""Renewal e-mails through Saleor's own machinery: templated e-mail, Celery, after the commit.

The tasks live here, beside the Saleor functions they call, so the adapter never imports
`tasks.py`; `tasks.py` imports this module so that every worker knows them.
"""
from datetime import datetime
from typing import Optional

from django.db import transaction
from django.utils.dateparse import parse_datetime
from saleor.celeryconf import app
from saleor.core.emails import get_email_context
from saleor.order import events as order_events
from saleor.order.emails import (
    CONFIRM_ORDER_TEMPLATE,
    collect_data_for_email,
    send_order_confirmation,
    send_staff_order_confirmation,
)
from templated_email import send_templated_mail

from .notice_emails import day

#: templates/templated_email/subscriptions/payment_failed.email (found by Django's app
#: directories loader, which Saleor's settings use, so any host that installs the app has it)
PAYMENT_FAILED_TEMPLATE = "subscriptions/payment_failed"
PAYMENT_ACTION_REQUIRED_TEMPLATE = "subscriptions/payment_action_required"
#: extends Saleor's (or the store's) order/confirm_order template with the manage link
RENEWAL_ORDER_CONFIRMATION_TEMPLATE = "subscriptions/renewal_order_confirmation"


def customer_email_context(subscription):
    """(send kwargs, context) of every e-mail to a subscription's customer: Saleor's e-mail
    context and `manage_url`, the subscription's signed manage link ("" when the store has no
    "Manage link page"). Templates show it with
    {% include "templated_email/subscriptions/includes/manage_link.txt" %} (and .html)."""
    from datetime import timezone

    from ..config import load_settings
    from ..services.manage_links import manage_url

    send_kwargs, context = get_email_context()
    context["manage_url"] = manage_url(subscription, datetime.now(timezone.utc),
                                       load_settings().manage_link_url)
    return send_kwargs, context


# The name is the one the task had in tasks.py: messages queued before an upgrade still run.
@app.task(name="saleor_subscriptions.tasks.send_renewal_order_emails")
def send_renewal_order_emails(order_pk: int, user_pk: Optional[int] = None) -> None:
    """Saleor's order confirmations (customer, then staff) for a placed renewal order: what
    checkoutComplete sends as two messages, in one."""
    try:
        _send_renewal_order_confirmation(order_pk, user_pk)
    finally:
        send_staff_order_confirmation(order_pk, "")


def _send_renewal_order_confirmation(order_pk: int, user_pk: Optional[int]) -> None:
    """Saleor's order confirmation, with the subscription's manage link added below it."""
    from ..models import BillingCycle

    cycle = (BillingCycle.objects.filter(order_id=order_pk).select_related("subscription")
             .first())
    if cycle is None:
        send_order_confirmation(order_pk, "", user_pk)
        return
    email_data = collect_data_for_email(order_pk, CONFIRM_ORDER_TEMPLATE)
    _send_kwargs, context = customer_email_context(cycle.subscription)
    email_data["context"]["manage_url"] = context["manage_url"]
    email_data["template_name"] = RENEWAL_ORDER_CONFIRMATION_TEMPLATE
    send_templated_mail(**email_data)
    order_events.email_sent_event(order=email_data["context"]["order"], user=None,
                                  user_pk=user_pk, email_type=order_events.OrderEventsEmails.ORDER)


def schedule_order_emails(order_pk: int, user_pk: Optional[int]) -> None:
    transaction.on_commit(lambda: send_renewal_order_emails.delay(order_pk, user_pk))


# The two tasks below are no longer queued (notices go through notice_emails.send_notice, once
# each); they stay so that messages queued before an upgrade still run.
@app.task(name="saleor_subscriptions.send_payment_failed_email")
def send_payment_failed_email(recipient: str, details: dict) -> None:
    """What went wrong with a renewal's payment and what the customer can do about it."""
    from ..models import Subscription

    subscription = Subscription.objects.filter(pk=details.get("subscription_id")).first()
    send_kwargs, context = (customer_email_context(subscription) if subscription is not None
                            else get_email_context())
    context.update(details)
    retry_at = parse_datetime(details["retry_at"]) if details.get("retry_at") else None
    context["retry_on"] = day(retry_at) if retry_at is not None else ""
    send_templated_mail(
        template_name=PAYMENT_FAILED_TEMPLATE, recipient_list=[recipient], context=context,
        **send_kwargs,
    )


@app.task(name="saleor_subscriptions.emails.send_payment_action_required_email")
def send_payment_action_required_email(subscription_pk: int, cycle_pk: int) -> None:
    from ..domain.money import quantize
    from ..models import BillingCycle

    cycle = BillingCycle.objects.select_related(
        "subscription__plan", "subscription__user", "order").get(pk=cycle_pk,
                                                                 subscription_id=subscription_pk)
    subscription = cycle.subscription
    recipient = subscription.user.email if subscription.user_id else subscription.email
    send_kwargs, context = customer_email_context(subscription)
    context.update(
        order=cycle.order, order_number=cycle.order_id, plan_name=subscription.plan.name,
        currency=cycle.currency,
        amount=quantize(cycle.amount, cycle.currency),
    )
    send_templated_mail(template_name=PAYMENT_ACTION_REQUIRED_TEMPLATE,
                        recipient_list=[recipient], context=context, **send_kwargs)


# The card, win-back and price change tasks below are no longer queued either (their notices are
# the ledger's: services/notices.py); they stay for messages queued before an upgrade.
CARD_NOTICE_TEMPLATE = "subscriptions/card_notice"


@app.task(name="saleor_subscriptions.emails.send_card_notice")
def send_card_notice(subscription_pk: int, kind: str) -> None:
    from ..models import Subscription

    subscription = (Subscription.objects.select_related("plan", "user")
                    .filter(pk=subscription_pk).first())
    if subscription is None:
        return
    recipient = subscription.user.email if subscription.user_id else subscription.email
    if not recipient:
        return
    send_kwargs, context = customer_email_context(subscription)
    context.update(kind=kind, plan_name=subscription.plan.name,
                   card_brand=subscription.card_brand, card_last4=subscription.card_last4,
                   card_exp_month=subscription.card_exp_month,
                   card_exp_year=subscription.card_exp_year)
    send_templated_mail(template_name=CARD_NOTICE_TEMPLATE, recipient_list=[recipient],
                        context=context, **send_kwargs)
WIN_BACK_TEMPLATE = "subscriptions/win_back"


@app.task(name="saleor_subscriptions.emails.send_win_back_email")
def send_win_back_email(recipient: str, details: dict) -> None:
    """The former subscriber's win-back code and its terms."""
    send_kwargs, context = get_email_context()
    context.update(details)
    context["expires_on"] = day(parse_datetime(details["expires_at"]))
    send_templated_mail(template_name=WIN_BACK_TEMPLATE, recipient_list=[recipient],
                        context=context, **send_kwargs)

