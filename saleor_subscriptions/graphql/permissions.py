"""Who is asking: staff/app permissions and subscription ownership, checked on every field."""
from typing import Optional, Tuple

from saleor.core.permissions import (
    AccountPermissions,
    CheckoutPermissions,
    OrderPermissions,
    ProductPermissions,
)
from saleor.graphql.decorators import _permission_required

from ..error_codes import SubscriptionErrorCode
from ..models import ActorType, Subscription, SubscriptionPlan
from .ids import decode_pk, invalid, type_of

SUBSCRIPTION_TYPE = "CustomerSubscription"


def can_manage_orders(context) -> bool:
    return _permission_required((OrderPermissions.MANAGE_ORDERS,), context)


def can_manage_products(context) -> bool:
    """Staff or apps that manage plans; they also see archived ones."""
    return _permission_required((ProductPermissions.MANAGE_PRODUCTS,), context)


def can_manage_checkouts(context) -> bool:
    return _permission_required((CheckoutPermissions.MANAGE_CHECKOUTS,), context)


def can_see_user(context, user_id: Optional[int]) -> bool:
    """Saleor's rule for the user on an order event: that user, or MANAGE_USERS/MANAGE_STAFF."""
    if user_id is not None and context.user.is_authenticated and context.user.pk == user_id:
        return True
    return (_permission_required((AccountPermissions.MANAGE_USERS,), context)
            or _permission_required((AccountPermissions.MANAGE_STAFF,), context))


def may_reach_checkout(context, checkout) -> bool:
    """Saleor's `checkout(token)` rule: a guest checkout for whoever holds its id, a customer's
    for that customer and for staff or Apps with MANAGE_CHECKOUTS."""
    if checkout.user_id is None:
        return True
    if context.user.is_authenticated and context.user.pk == checkout.user_id:
        return True
    return can_manage_checkouts(context)


def visible_plans(context):
    """Plans a visitor may see: none while subscriptions are switched off, and only those of
    published products (Saleor's own rule for products); MANAGE_PRODUCTS sees every plan.
    Archived plans are filtered by the caller."""
    from saleor.product.models import Product

    from ..config import load_settings

    if can_manage_products(context):
        return SubscriptionPlan.objects.all()
    if not load_settings().active:
        return SubscriptionPlan.objects.none()
    return SubscriptionPlan.objects.filter(
        variant__product_id__in=Product.objects.published().values("pk"))


#: the subscriptions a request reached through a manage link's token (manage_link_subscription)
_LINKED = "_subscriptions_manage_link_ids"


def manage_link_subscription(context, token, field: str = "manage_token") -> Subscription:
    """The one subscription a manage link's token names (no sign-in needed); the request then
    acts on it as its customer. Typed errors: INVALID (forged, revoked), LINK_EXPIRED."""
    from datetime import datetime, timezone

    from ..services import manage_links

    try:
        subscription = manage_links.subscription_of(token, datetime.now(timezone.utc))
    except manage_links.LinkRefused as refused:
        code = (SubscriptionErrorCode.LINK_EXPIRED if refused.expired
                else SubscriptionErrorCode.INVALID)
        raise invalid(field, str(refused), code)
    linked = getattr(context, _LINKED, None)
    if linked is None:
        linked = set()
        setattr(context, _LINKED, linked)
    linked.add(subscription.pk)
    return subscription


def acts_through_link(context, subscription) -> bool:
    return subscription.pk in (getattr(context, _LINKED, None) or ())


def is_owner(context, subscription) -> bool:
    """The subscription's customer: signed in as its user, or holding its manage link."""
    if acts_through_link(context, subscription):
        return True
    user = getattr(context, "user", None)
    return bool(user is not None and user.is_authenticated and subscription.user_id == user.pk)


def actor(context, subscription=None) -> Tuple[str, Optional[object], Optional[object]]:
    """(actor type, user, app) for the event rows a mutation writes; on a subscription reached
    through its manage link, the customer (the link does not say who clicked it: no user)."""
    if subscription is not None and acts_through_link(context, subscription):
        return ActorType.CUSTOMER, None, None
    app = getattr(context, "app", None)
    if app is not None:
        return ActorType.APP, None, app
    user = context.user if context.user.is_authenticated else None
    if user is not None and user.is_staff and can_manage_orders(context):
        return ActorType.STAFF, user, None
    return ActorType.CUSTOMER, user, None


def visible_subscriptions(context):
    """What the requester may see: everything for MANAGE_ORDERS, else only their own."""
    if can_manage_orders(context):
        return Subscription.objects.all()
    if context.user.is_authenticated:
        return Subscription.objects.filter(user=context.user)
    return Subscription.objects.none()


def get_subscription_or_error(context, global_id: str, field: str = "id",
                              manage_token: Optional[str] = None) -> Subscription:
    """The subscription behind a global id, if the requester may act on it: their own, any for
    MANAGE_ORDERS, or — with `manage_token` — the one subscription the link names.

    Another customer's subscription (or another link's) answers "not found", like a missing one,
    so ids cannot be probed.
    """
    if manage_token is not None:
        linked = manage_link_subscription(context, manage_token)
        if decode_pk(global_id, SUBSCRIPTION_TYPE) != linked.pk:
            raise invalid(field, "Subscription not found.", SubscriptionErrorCode.NOT_FOUND)
        return linked
    found_type = type_of(global_id)
    if found_type is not None and found_type != SUBSCRIPTION_TYPE:
        raise invalid(field, "Must receive a CustomerSubscription id.")
    pk = decode_pk(global_id, SUBSCRIPTION_TYPE)
    if pk is None:
        raise invalid(field, f"Couldn't resolve to a subscription: {global_id}")
    subscription = visible_subscriptions(context).filter(pk=pk).first()
    if subscription is None:
        raise invalid(field, "Subscription not found.", SubscriptionErrorCode.NOT_FOUND)
    return subscription
