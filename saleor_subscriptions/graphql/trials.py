"""`subscriptionTrialAvailable`: may a storefront promise this customer the plan's free trial?"""
from typing import Optional

from ..config import load_settings
from ..services import trials
from . import permissions
from .ids import decode_pk


def resolve_trial_available(info, plan_id: str, email: Optional[str] = None) -> Optional[bool]:
    """Yes/no only (nothing about whose trial it was). Asks about the given e-mail and, when
    signed in, the account and its e-mail. Null for a plan the caller can't see."""
    pk = decode_pk(plan_id, "SubscriptionPlan")
    plan = (permissions.visible_plans(info.context).filter(pk=pk, is_active=True).first()
            if pk is not None else None)
    if plan is None:
        return None
    user = info.context.user if info.context.user.is_authenticated else None
    return trials.trial_available(plan, load_settings(), user=user, email=email)
