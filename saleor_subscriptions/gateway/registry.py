"""Which payment gateway renewals use: Stripe by default, the in-process fake when
SUBSCRIPTIONS_GATEWAY=fake (large tests and benchmarks)."""
import os
from typing import Optional

from .interface import PaymentGateway


def get_gateway(settings=None) -> PaymentGateway:
    name = os.environ.get("SUBSCRIPTIONS_GATEWAY", "stripe").strip().lower()
    if name == "fake":
        from . import fake

        factory = getattr(fake, "get_fake_gateway", None) or fake.FakeGateway
        return factory()
    from ..config import load_settings
    from .simulated import with_simulated_cards
    from .stripe_gateway import StripeGateway

    current: Optional[object] = settings if settings is not None else load_settings()
    return with_simulated_cards(StripeGateway.from_settings(current))
