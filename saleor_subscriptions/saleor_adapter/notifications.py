"""E-mails through Saleor's templated e-mail machinery (templates under
templates/templated_email/subscriptions/), as saleor.order.emails sends its own: an old
price change task (kept for queued messages), and staff alerts, which go
to Saleor's staff notification recipients (dashboard: Configuration > Staff notifications) and
are also logged at error level, so a store without recipients still sees them."""
import logging
from typing import List

from saleor.account.models import StaffNotificationRecipient
from saleor.celeryconf import app
from saleor.core.emails import get_email_context
from templated_email import send_templated_mail

logger = logging.getLogger(__name__)

STAFF_ALERT_TEMPLATE = "subscriptions/staff_alert"


def staff_recipients() -> List[str]:
    rows = StaffNotificationRecipient.objects.filter(
        active=True, user__is_active=True, user__is_staff=True)
    return [row.get_email() for row in rows if row.get_email()]


def alert_staff(subject: str, message: str) -> None:
    """Log at error level and e-mail the staff notification recipients; never raises."""
    logger.error("Staff alert: %s. %s", subject, message)
    recipients = staff_recipients()
    if not recipients:
        return
    try:
        send_kwargs, context = get_email_context()
        context.update(subject=subject, message=message)
        send_templated_mail(template_name=STAFF_ALERT_TEMPLATE, recipient_list=recipients,
                            context=context, **send_kwargs)
    except Exception:  # the alert is logged above; a mail server problem must not hide it
        logger.exception("Could not e-mail the staff alert %r", subject)


PRICE_CHANGE_TEMPLATE = "subscriptions/price_change"


def _money(amount, currency: str) -> str:
    from ..domain.money import quantize

    return "%s %s" % (quantize(amount, currency), currency)


@app.task(name="saleor_subscriptions.saleor_adapter.notifications.send_price_change_notices")
def send_price_change_notices(subscription_ids: List[int]) -> int:
    """No longer queued (the price change notice is the ledger's, services/notices.py); kept for
    messages queued before an upgrade. Skips subscriptions whose scheduled price is gone by now;
    returns how many were sent."""
    from ..models import Subscription
    from ..services.price_changes import expected_renewal
    from .emails import customer_email_context
    from .notice_emails import day

    sent = 0
    rows = (Subscription.objects.filter(pk__in=subscription_ids, scheduled_price_at__isnull=False)
            .select_related("plan", "user").order_by("pk"))
    for subscription in rows:
        email = subscription.user.email if subscription.user_id else subscription.email
        if not email:
            continue
        send_kwargs, context = customer_email_context(subscription)
        expected = expected_renewal(subscription)
        context.update(
            subscription=subscription, plan_name=subscription.plan.name,
            quantity=subscription.quantity,
            old_price=_money(subscription.unit_price_amount, subscription.currency),
            new_price=_money(subscription.scheduled_price_amount, subscription.currency),
            notice_until_on=day(subscription.scheduled_price_at),
            expected_from_on=day(expected) if expected is not None else "",
        )
        send_templated_mail(template_name=PRICE_CHANGE_TEMPLATE, recipient_list=[email],
                            context=context, **send_kwargs)
        sent += 1
    return sent
