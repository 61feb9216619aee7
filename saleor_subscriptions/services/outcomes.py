"""What a renewal run reports, and what it runs with."""
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from ..gateway.interface import PaymentGateway

RENEWED = "renewed"
FAILED = "failed"
SKIPPED = "skipped"
PENDING = "pending"
ENDED = "ended"


@dataclass
class RenewalOutcome:
    subscription_id: int
    status: str  # renewed, failed, skipped, pending (unknown outcome, retried later), ended
    detail: str = ""
    cycle_index: Optional[int] = None
    order_id: Optional[int] = None
    #: the lease was cleared in the transaction that recorded the outcome
    lease_released: bool = False


@dataclass
class BatchResult:
    claimed: int = 0
    counts: Dict[str, int] = field(default_factory=dict)
    outcomes: List[RenewalOutcome] = field(default_factory=list)
    inactive: bool = False
    #: why the batch stopped early (gateway_auth_failed: the gateway refused our key)
    halted: str = ""

    def add(self, outcome: RenewalOutcome) -> None:
        self.outcomes.append(outcome)
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1

    @property
    def renewed(self) -> int:
        return self.counts.get(RENEWED, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(FAILED, 0) + self.counts.get(PENDING, 0)

    @property
    def skipped(self) -> int:
        return self.counts.get(SKIPPED, 0) + self.counts.get(ENDED, 0)


def _new_catalog():
    from .catalog import BatchCatalog

    return BatchCatalog()


@dataclass
class RenewalContext:
    settings: object
    gateway: PaymentGateway
    sleep: Callable[[float], None] = time.sleep
    #: called before each gateway request (a request budget); may block
    throttle: Optional[Callable[[], None]] = None
    #: Saleor's order side effects with one plugins manager for the batch (made on first use)
    _order_effects: Optional[object] = None
    #: variants and shipping methods read once for the batch (services/catalog.py)
    catalog: object = field(default_factory=_new_catalog)

    def new_batch(self) -> None:
        """Forget what the last batch read once (plugins, webhooks, variants): a context that
        lives for a whole back-fill sees changes made during it."""
        self._order_effects = None
        self.catalog = _new_catalog()

    def order_effects(self):
        if self._order_effects is None:
            from ..saleor_adapter.order_effects import OrderEffects

            self._order_effects = OrderEffects()
        return self._order_effects


