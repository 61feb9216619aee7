"""The storefront's side of a renewal payment that needed the customer (3-D Secure)."""
from ...models import Subscription
from ...services import pending_payment, renewals
from .lifecycle import _LifecycleMutation, _meta


class SubscriptionPaymentConfirm(_LifecycleMutation):
    Meta = _meta(
        "Call after Stripe.js confirmed the subscription's pending payment "
        "(pendingPayment.clientSecret): records it once Stripe says it succeeded. The "
        "subscription's owner, or MANAGE_ORDERS."
    )

    @classmethod
    def change(cls, subscription_id, actor, now, settings):
        pending_payment.confirm_pending_payment(subscription_id, now,
                                                renewals.make_context(settings))
        return Subscription.objects.get(pk=subscription_id)
