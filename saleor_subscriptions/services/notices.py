"""E-mail notices, each sent exactly once.

Deciding to send writes a `CustomerNotice` row — unique per subscription, cycle and kind — in the
transaction that decides it (a second worker, a retried task or a replayed event inserts nothing),
and the send is queued after that transaction commits (saleor_adapter/notice_emails.py).

A send that fails after the commit is not repeated: the send task takes the row (pending →
sending, committed) before it calls the mail server, and a failure is recorded on the row
(`failed`, with the error) and logged. Repeating it could e-mail twice — a mail server can accept
a message and still answer with an error — and a missed reminder is better than a double one.
Rows still `pending` a while after their commit (the queued message was lost with the broker)
are sent by the reminder sweep: they were never taken, so nothing was sent.
"""
import hashlib
import logging
from datetime import datetime
from decimal import Decimal
from typing import Optional

from django.db import IntegrityError, transaction

from ..domain.money import quantize
from ..domain.notices import NoticeKind
from ..models import EventType, Subscription
from ..notice_models import CustomerNotice, NoticeStatus

logger = logging.getLogger(__name__)

#: the history rows a customer is told about, and the notice each one is (the row is its cycle:
#: one notice per row, decided in the transaction that writes it)
CONFIRMATIONS = {
    EventType.CANCELLED: NoticeKind.CANCELLED,
    EventType.CANCELLATION_SCHEDULED: NoticeKind.CANCELLATION_SCHEDULED,
    EventType.PAUSED: NoticeKind.PAUSED,
    EventType.RESUMED: NoticeKind.RESUMED,
    EventType.PLAN_CHANGED: NoticeKind.PLAN_CHANGED,
    EventType.PLAN_CHANGE_SCHEDULED: NoticeKind.PLAN_CHANGED,
    EventType.CARD_UPDATED: NoticeKind.CARD_UPDATED,
    EventType.CARD_DETACHED: NoticeKind.CARD_DETACHED,
    EventType.PRICE_CHANGE_SCHEDULED: NoticeKind.PRICE_CHANGE,
    EventType.WIN_BACK_OFFERED: NoticeKind.WIN_BACK,
}
#: the payment-failed e-mail already says the subscription was cancelled or paused
TOLD_BY_PAYMENT_FAILED = "dunning_exhausted"


def decide(subscription: Subscription, kind: str, cycle: int, settings=None,
           **details) -> Optional[CustomerNotice]:
    """Record the notice and queue its e-mail after the commit. Returns None when this notice
    was decided before (nothing is queued). A switched-off notice is recorded (`off`, so the
    decision stays once) but not sent."""
    if settings is None:
        from ..config import load_settings

        settings = load_settings()
    status = NoticeStatus.PENDING if settings.notice_on(kind) else NoticeStatus.OFF
    try:
        with transaction.atomic():
            notice = CustomerNotice.objects.create(
                subscription=subscription, kind=kind, cycle=cycle, status=status,
                details={key: _jsonable(value) for key, value in details.items()})
    except IntegrityError:
        return None
    if status == NoticeStatus.PENDING:
        queue_send(notice.pk)
    return notice


def queue_send(notice_pk: int) -> None:
    from ..saleor_adapter.notice_emails import send_notice

    transaction.on_commit(lambda: send_notice.delay(notice_pk))


def for_event(event, subscription: Subscription) -> None:
    """The confirmation a history row asks for, if any (record_event calls this)."""
    kind = CONFIRMATIONS.get(event.type)
    parameters = event.parameters or {}
    # Not told: dunning's end (the payment-failed e-mail says it), a scheduled price withdrawn
    if kind is None or parameters.get("reason") == TOLD_BY_PAYMENT_FAILED or (
            parameters.get("cancelled")):
        return
    decide(subscription, kind, event.pk, **confirmation_details(event, subscription))


def confirmation_details(event, subscription: Subscription) -> dict:
    from ..models import SubscriptionPlan

    parameters = event.parameters or {}
    details = {"event_type": event.type, "occurred_at": event.date,
               "actor": event.actor_type}
    for key in ("ends_at", "resumes_at", "next_billing_at", "effective_at", "paid_until",
                "expires_at"):
        if parameters.get(key):
            details[key] = parameters[key]
    extra = _EXTRA_DETAILS.get(event.type)
    if extra is not None:
        details.update(extra(parameters, subscription))
    if event.type in (EventType.PLAN_CHANGED, EventType.PLAN_CHANGE_SCHEDULED):
        plans = dict(SubscriptionPlan.objects.filter(
            pk__in=[parameters.get("from_plan"), parameters.get("to_plan")]
        ).values_list("pk", "name"))
        details.update(
            from_plan_name=plans.get(parameters.get("from_plan"), ""),
            to_plan_name=plans.get(parameters.get("to_plan"), ""),
            quantity=parameters.get("to_quantity") or parameters.get("quantity")
            or subscription.quantity,
            scheduled=event.type == EventType.PLAN_CHANGE_SCHEDULED)
        if event.amount:
            details["charged"] = money_text(event.amount, event.currency)
    return details


def _card_details(parameters: dict, subscription: Subscription) -> dict:
    month, year = parameters.get("exp_month"), parameters.get("exp_year")
    return {"card_brand": subscription.card_brand,
            "card_last4": parameters.get("last4") or subscription.card_last4,
            "card_expiry": "%02d/%d" % (month, year) if month and year else ""}


def _price_details(parameters: dict, _subscription) -> dict:
    def text(money: dict) -> str:
        return money_text(Decimal(money["amount"]), money["currency"])

    # `_at` keys: the e-mail also gets them as days ("March 21, 2028")
    return {"old_price": text(parameters["old_price"]), "new_price": text(parameters["new_price"]),
            "notice_until_at": parameters.get("notice_until"),
            "expected_from_at": parameters.get("expected_from")}


def _win_back_details(parameters: dict, _subscription) -> dict:
    percent = Decimal(parameters.get("percent") or 0)
    return {"code": parameters["win_back_code"], "renewals": parameters.get("renewals") or 0,
            "percent": f"{percent.normalize():f}" if percent else ""}


_EXTRA_DETAILS = {
    EventType.CARD_UPDATED: _card_details,
    EventType.CARD_DETACHED: _card_details,
    EventType.PRICE_CHANGE_SCHEDULED: _price_details,
    EventType.WIN_BACK_OFFERED: _win_back_details,
}


def money_text(amount, currency: str) -> str:
    return "%s %s" % (quantize(amount, currency), currency)


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def notify_staff(subscription: Subscription, kind: str, cycle: int, settings=None,
                 **details) -> Optional[CustomerNotice]:
    """A notice to the store's staff notification recipients (never to the customer): one place
    for every staff notice; each kind has its template and its switch."""
    assert kind in NoticeKind.STAFF, kind
    return decide(subscription, kind, cycle, settings, **details)


def notify_staff_of_payment_failure(subscription: Subscription, cycle, settings=None
                                    ) -> Optional[CustomerNotice]:
    """Once per failing billing cycle (its first failure; dunning carries on)."""
    return notify_staff(
        subscription, NoticeKind.STAFF_PAYMENT_FAILED, cycle.cycle_index, settings,
        amount=money_text(cycle.amount, cycle.currency), code=cycle.error_code,
        message=cycle.last_error, attempt=cycle.attempt_count,
        retry_at=cycle.next_retry_at, order_id=cycle.order_id, status=subscription.status)


def notify_staff_of_dispute(subscription: Subscription, dispute_id: str, *, amount,
                            currency: str, reason: str, status: str, opened: bool,
                            paused: bool = False, order_id: Optional[int] = None, settings=None
                            ) -> Optional[CustomerNotice]:
    """For Stripe webhooks in: a dispute opened or closed on one of the subscription's charges.
    Once per dispute and state (`cycle`: a number made from the dispute id and opened/closed)."""
    return notify_staff(
        subscription, NoticeKind.STAFF_DISPUTE, dispute_key(dispute_id, opened), settings,
        dispute_id=dispute_id, amount=money_text(amount, currency), reason=reason,
        dispute_status=status, opened=opened, paused=paused, order_id=order_id)


def notify_staff_of_refunded_payment(subscription: Subscription, cycle, *, amount, reference: str,
                                     refund_reference: str, settings=None
                                     ) -> Optional[CustomerNotice]:
    """A renewal payment that arrived for an abandoned cycle was refunded: once per cycle."""
    return notify_staff(
        subscription, NoticeKind.STAFF_PAYMENT_REFUNDED, cycle.cycle_index, settings,
        amount=money_text(amount.amount, amount.currency), payment_reference=reference,
        refund_reference=refund_reference, cycle_index=cycle.cycle_index,
        status=subscription.status)


def notify_staff_of_unrefunded_payment(subscription: Subscription, cycle, *, amount,
                                       reference: str, error: str, settings=None
                                       ) -> Optional[CustomerNotice]:
    """The gateway refused to refund a payment for an abandoned cycle: once per cycle."""
    return notify_staff(
        subscription, NoticeKind.STAFF_REFUND_FAILED, cycle.cycle_index, settings,
        amount=money_text(amount.amount, amount.currency), payment_reference=reference,
        error=error, cycle_index=cycle.cycle_index, status=subscription.status)


def dispute_key(dispute_id: str, opened: bool) -> int:
    """(dispute, opened/closed) as the ledger's cycle column."""
    return subject_key("%s:%s" % (dispute_id, "opened" if opened else "closed"))


def subject_key(subject: str) -> int:
    """A stable 62-bit number for a notice's subject named by text: the ledger's cycle."""
    digest = hashlib.sha256(subject.encode())
    return int.from_bytes(digest.digest()[:8], "big") >> 2


def sweep_unsent(older_than: datetime, limit: int = 200) -> int:
    """Queue again the notices whose send message never ran (still pending: never taken, so
    never sent); the send task takes each at most once."""
    from ..saleor_adapter.notice_emails import send_notice

    lost = list(CustomerNotice.objects.filter(status=NoticeStatus.PENDING,
                                              created_at__lt=older_than)
                .order_by("created_at").values_list("pk", flat=True)[:limit])
    for notice_pk in lost:
        send_notice.delay(notice_pk)
    return len(lost)
