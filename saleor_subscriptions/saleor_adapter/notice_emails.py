"""The e-mail of one notice (services/notices.py), through Saleor's templated e-mail: template
`templated_email/subscriptions/<kind>.email`, which a store overrides with a file of the same
path in its templates DIRS. Customer notices go to the subscription's e-mail (the account's, or
the guest's) and see only customer-safe values; staff notices go to Saleor's staff notification
recipients.
"""
import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from saleor.celeryconf import app
from saleor.core.emails import get_email_context
from templated_email import send_templated_mail

from ..domain.notices import NoticeKind
from ..notice_models import CustomerNotice, NoticeStatus
from .notifications import staff_recipients

logger = logging.getLogger(__name__)

#: how long the send task has to take the error text it records
MAX_ERROR_LENGTH = 2000


def template_name(kind: str) -> str:
    return "subscriptions/%s" % kind


def manage_url(subscription, domain: str) -> str:
    """Where the customer manages the subscription: its signed manage link when the store has a
    "Manage link page" (services/manage_links.py), else the store's site (its account pages)."""
    from ..config import load_settings
    from ..services.manage_links import manage_url as signed_manage_url

    signed = signed_manage_url(subscription, datetime.now(timezone.utc),
                               load_settings().manage_link_url)
    return signed or "https://%s/" % domain


def day(moment: datetime) -> str:
    """March 1, 2028 (the UTC date)."""
    moment = moment.astimezone(timezone.utc)
    return "%s %d, %d" % (moment.strftime("%B"), moment.day, moment.year)


def customer_context(notice: CustomerNotice, base: dict) -> dict:
    subscription = notice.subscription
    variant = subscription.variant
    context = dict(base)
    context.update(
        plan_name=subscription.plan.name,
        product=str(variant.product) if variant is not None else subscription.plan.name,
        quantity=subscription.quantity,
        manage_url=manage_url(subscription, base["domain"]),
    )
    context.update(_with_days(notice.details))
    return context


def staff_context(notice: CustomerNotice, base: dict) -> dict:
    from saleor.order.models import Order

    subscription = notice.subscription
    context = customer_context(notice, base)
    order_id = notice.details.get("order_id")
    order = Order.objects.filter(pk=order_id).first() if order_id else None
    context.update(customer_email=_recipient(subscription), subscription_token=subscription.token,
                   subscription_pk=subscription.pk, order=order)
    return context


def _with_days(details: dict) -> dict:
    """Each `x_at` date also as `x_on`: "March 1, 2028"."""
    shown = dict(details)
    for key, value in details.items():
        if key.endswith("_at") and isinstance(value, str):
            moment = parse_datetime(value)
            if moment is not None:
                shown[key] = moment
                shown[key[:-3] + "_on"] = day(moment)
    return shown


def _recipient(subscription) -> str:
    return subscription.user.email if subscription.user_id else subscription.email


def _take(notice_pk: int) -> bool:
    """pending → sending, committed before the mail server is called: at most one sender."""
    with transaction.atomic():
        return CustomerNotice.objects.filter(
            pk=notice_pk, status=NoticeStatus.PENDING).update(status=NoticeStatus.SENDING) == 1


def _finish(notice_pk: int, status: str, error: str = "") -> None:
    CustomerNotice.objects.filter(pk=notice_pk).update(
        status=status, error=error[:MAX_ERROR_LENGTH],
        sent_at=timezone.now() if status == NoticeStatus.SENT else None)


@app.task(name="saleor_subscriptions.send_notice")
def send_notice(notice_pk: int) -> str:
    """Send one notice once; what happened: sent, failed, taken (someone else has it)."""
    if not _take(notice_pk):
        return "taken"
    try:
        notice = CustomerNotice.objects.select_related(
            "subscription__plan", "subscription__user", "subscription__variant__product",
        ).get(pk=notice_pk)
        send_kwargs, base = get_email_context()
        if notice.kind in NoticeKind.STAFF:
            recipients, context = staff_recipients(), staff_context(notice, base)
        else:
            recipients = [_recipient(notice.subscription)]
            context = customer_context(notice, base)
        recipients = [address for address in recipients if address]
        if not recipients:
            _finish(notice_pk, NoticeStatus.FAILED, "no recipient")
            return NoticeStatus.FAILED
        send_templated_mail(template_name=template_name(notice.kind), recipient_list=recipients,
                            context=context, **send_kwargs)
    except Exception as error:  # recorded and logged; never sent twice (services/notices.py)
        logger.exception("Could not send subscription notice %s", notice_pk)
        _finish(notice_pk, NoticeStatus.FAILED, "%s: %s" % (type(error).__name__, error))
        return NoticeStatus.FAILED
    _finish(notice_pk, NoticeStatus.SENT)
    return NoticeStatus.SENT
