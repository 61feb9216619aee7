"""Thin Celery tasks over services.renewals (autodiscovered by saleor.celeryconf).

`now` is an optional ISO 8601 datetime: the controlled clock for tests and back-fills; by default
the real clock. Every task does nothing while the plugin is switched off.
"""
import logging
from datetime import datetime, timezone
from typing import Optional

from django.utils.dateparse import parse_datetime
from saleor.celeryconf import app

from . import webhook_tasks  # noqa: F401  (registers the webhook delivery tasks)
from .saleor_adapter import (  # noqa: F401  (register their e-mail tasks)
    emails,
    notice_emails,
    notifications,
)
from .services import claiming, forecast_rollup, reminders, renewals

logger = logging.getLogger(__name__)


def parse_now(now: Optional[str]) -> datetime:
    if not now:
        return datetime.now(timezone.utc)
    moment = parse_datetime(now)
    if moment is None or moment.tzinfo is None:
        raise ValueError("now must be an ISO 8601 datetime with a timezone, got %r" % now)
    return moment.astimezone(timezone.utc)


def _same_queue(task) -> dict:
    delivery = getattr(task.request, "delivery_info", None) or {}
    queue = delivery.get("routing_key")
    return {"queue": queue} if queue else {}


@app.task(bind=True, name="saleor_subscriptions.tasks.renew_due_subscriptions_task")
def renew_due_subscriptions_task(self, now: Optional[str] = None) -> dict:
    """One batch of due renewals and retries; re-enqueues itself while due rows remain and the
    batch made progress (a row that every batch claims and skips must not make it spin)."""
    moment = parse_now(now)
    context = renewals.make_context()
    if not context.settings.active:
        return {"inactive": True}
    result = renewals.renew_due_subscriptions(moment, context=context)
    progress = result.claimed > result.counts.get(renewals.SKIPPED, 0)
    more = progress and not result.halted and claiming.has_due(moment)
    if more:
        renew_due_subscriptions_task.apply_async(kwargs={"now": now}, **_same_queue(self))
    else:  # the run's changes into the forecast's totals, so deltas never pile up unread
        forecast_rollup.refresh()
    logger.info("Renewal batch: claimed=%d %s more=%s", result.claimed, result.counts, more)
    return {"claimed": result.claimed, "counts": result.counts, "more": more}


def _one(subscription_id: int, now: Optional[str], force: bool) -> dict:
    outcome = renewals.renew_subscription(subscription_id, parse_now(now), force=force)
    return {"subscription_id": outcome.subscription_id, "status": outcome.status,
            "detail": outcome.detail, "cycle_index": outcome.cycle_index}


@app.task(name="saleor_subscriptions.tasks.renew_subscription_task")
def renew_subscription_task(subscription_id: int, now: Optional[str] = None,
                            force: bool = False) -> dict:
    """Renew one subscription (if due, or now with force=True)."""
    return _one(subscription_id, now, force)


@app.task(name="saleor_subscriptions.tasks.retry_payment_task")
def retry_payment_task(subscription_id: int, now: Optional[str] = None) -> dict:
    """Retry the failed payment of one subscription's open cycle now."""
    return _one(subscription_id, now, True)


@app.task(name="saleor_subscriptions.tasks.send_notices_task")
def send_notices_task(now: Optional[str] = None) -> dict:
    """Reminders due now (renewal coming up, trial ending, card expiring), each decided once,
    and notices whose queued send was lost."""
    from .config import load_settings

    settings = load_settings()
    if not settings.active:
        return {"inactive": True}
    counts = reminders.send_due_reminders(parse_now(now), settings)
    logger.info("Subscription notices: %s", counts)
    return counts


@app.task(name="saleor_subscriptions.tasks.send_win_back_offers_task")
def send_win_back_offers_task(now: Optional[str] = None) -> dict:
    """Win-back codes for the subscriptions whose day has come (each once: services/win_back)."""
    from .config import load_settings
    from .services import win_back

    return {"sent": win_back.send_due(parse_now(now), load_settings())}
