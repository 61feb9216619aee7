"""POST /subscriptions/stripe/webhook/: Stripe's signed events (the plugin's signing secret).

400 for a bad signature or an event signed more than 5 minutes ago (nothing stored); 200 for
every verified event handled or ignored, so that Stripe stops sending it; 503 for one that could
not be handled yet (stored unprocessed; Stripe sends it again).
"""
import logging
from datetime import datetime, timezone

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..config import load_settings
from ..gateway import stripe_events

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    settings = load_settings()
    try:
        event = stripe_events.verify(request.body, request.META.get("HTTP_STRIPE_SIGNATURE", ""),
                                     settings.stripe_webhook_secret)
    except stripe_events.BadSignature as error:
        logger.warning("Stripe webhook refused: %s", error)
        return HttpResponse("Invalid signature.", status=400, content_type="text/plain")
    from ..services import renewals, stripe_webhooks

    result = stripe_webhooks.receive(event, datetime.now(timezone.utc),
                                     renewals.make_context(settings, throttle=None))
    status = result.split(":")[0]
    # 503: not handled yet; Stripe retries with backoff for three days.
    return JsonResponse({"received": True, "result": status},
                        status=503 if status == stripe_webhooks.RETRY else 200)
