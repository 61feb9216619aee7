"""Our own customer e-mails, sent the way Saleor sends its own: a Celery task that renders a
templated_email template (templates/templated_email/subscriptions/) with Saleor's e-mail context,
scheduled when the transaction that decided to send it commits."""
from django.db import transaction
from saleor.celeryconf import app
from saleor.core.emails import get_email_context
from templated_email import send_templated_mail

PAYMENT_ACTION_REQUIRED_TEMPLATE = "subscriptions/payment_action_required"


def send_payment_action_required(subscription_pk: int, cycle_pk: int) -> None:
    """Ask the customer to confirm a renewal payment their bank holds for 3-D Secure."""
    transaction.on_commit(
        lambda: send_payment_action_required_email.delay(subscription_pk, cycle_pk))


@app.task(name="saleor_subscriptions.emails.send_payment_action_required_email")
def send_payment_action_required_email(subscription_pk: int, cycle_pk: int) -> None:
    from ..domain.money import quantize
    from ..models import BillingCycle

    cycle = BillingCycle.objects.select_related(
        "subscription__plan", "subscription__user", "order").get(pk=cycle_pk,
                                                                 subscription_id=subscription_pk)
    subscription = cycle.subscription
    recipient = subscription.user.email if subscription.user_id else subscription.email
    send_kwargs, context = get_email_context()
    context.update(
        order=cycle.order, plan_name=subscription.plan.name, currency=cycle.currency,
        amount=quantize(cycle.amount, cycle.currency),
    )
    send_templated_mail(template_name=PAYMENT_ACTION_REQUIRED_TEMPLATE,
                        recipient_list=[recipient], context=context, **send_kwargs)
