"""Event parameters as the requester may see them.

Rows store primary keys and raw detail (gateway messages, exception text, Stripe references).
Everyone gets global ids instead of primary keys; customers get only the parameters listed as
safe below, with a problem code instead of raw codes and messages. Staff with MANAGE_ORDERS get
the rest too. A parameter added later stays hidden from customers until it is listed here.
"""
from typing import Any, Dict

import graphene

from ..domain.problems import classify, classify_reason
from ..models import EventType

#: parameters that hold primary keys, and the type of their global id
GLOBAL_IDS = {"plan": "SubscriptionPlan", "from_plan": "SubscriptionPlan",
              "to_plan": "SubscriptionPlan", "order_id": "Order",
              "discount": "SubscriptionDiscount", "offer": "SubscriptionRetentionOffer"}

CUSTOMER_SAFE = frozenset(GLOBAL_IDS) | {
    "plan_name", "quantity", "trial_end", "cycle_index", "attempt", "attempts", "retry_at",
    "retry_number", "previous_status", "status", "action", "kind", "from_quantity",
    "to_quantity", "credit", "effective_at", "days", "next_billing_at", "previous",
    "resumes_at", "cycles", "anchor_at", "automatic", "skipped", "period_start", "period_end",
    "paid_cycles", "failures", "reason", "reason_text", "ends_at", "previous_last4", "last4",
    "changed", "refund_of_unused_time", "intro_price", "intro_cycles", "regular_price",
    "source", "name", "percent", "renewals", "renewals_used", "why", "voucher_code",
    "kinds", "offered_reason", "win_back_code", "expires_at", "win_back",
}
#: events whose `reason` is raw detail rather than one of our reason codes
RAW_REASON_EVENTS = {EventType.PARKED}
#: events whose `reason` is the staff's own note (goodwill): staff with MANAGE_ORDERS only
STAFF_REASON_EVENTS = {EventType.DISCOUNT_GRANTED, EventType.DISCOUNT_ENDED,
                       EventType.FREE_PERIOD_GIVEN}


def _with_global_ids(parameters: Dict[str, Any]) -> Dict[str, Any]:
    shown = dict(parameters)
    for key, type_name in GLOBAL_IDS.items():
        if isinstance(shown.get(key), int):
            shown[key] = graphene.Node.to_global_id(type_name, shown[key])
    return shown


def _problem(event) -> Any:
    parameters = event.parameters or {}
    if event.type in RAW_REASON_EVENTS:
        problem = classify_reason(parameters.get("reason") or "")
    else:
        problem = classify(parameters.get("code") or "")
    return problem.name if problem is not None else None


def visible_parameters(event, staff: bool) -> Dict[str, Any]:
    shown = _with_global_ids(event.parameters or {})
    problem = _problem(event)
    if not staff:
        hidden_reason = event.type in RAW_REASON_EVENTS or event.type in STAFF_REASON_EVENTS
        shown = {key: value for key, value in shown.items()
                 if key in CUSTOMER_SAFE and not (hidden_reason and key == "reason")}
    if problem is not None:
        shown["problem"] = problem
    return shown
