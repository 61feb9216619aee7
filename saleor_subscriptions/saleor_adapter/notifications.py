"""E-mails through Saleor's templated e-mail machinery (templates under
host/templates/templated_email/subscriptions/): staff alerts go to Saleor's staff notification
recipients (dashboard: Configuration > Staff notifications); every alert is also logged at error
level, so a store without recipients still sees it."""
import logging
from typing import List

from saleor.account.models import StaffNotificationRecipient
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
