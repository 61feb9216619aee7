"""Celery tasks of webhooks out (registered through tasks.py, which the worker autodiscovers)."""
import logging
from typing import Dict, List

from saleor.celeryconf import app

from .services import webhook_outbox

logger = logging.getLogger(__name__)


@app.task(name="saleor_subscriptions.webhook_tasks.deliver_webhooks_task")
def deliver_webhooks_task(delivery_ids: List[int]) -> Dict[str, int]:
    """Send deliveries just written (each with the rest of its line that is due)."""
    counts: Dict[str, int] = {}
    for delivery_id in delivery_ids:
        for outcome, number in webhook_outbox.deliver_in_line(delivery_id).items():
            counts[outcome] = counts.get(outcome, 0) + number
    return counts


@app.task(name="saleor_subscriptions.webhook_tasks.sweep_webhook_deliveries_task")
def sweep_webhook_deliveries_task() -> Dict[str, int]:
    """Retries that came due and anything the on-commit task missed (broker down, worker lost)."""
    counts = webhook_outbox.sweep()
    if counts:
        logger.info("Webhook sweep: %s", counts)
    return counts
