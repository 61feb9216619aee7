"""What Saleor's payments say was captured and refunded on given orders in a date range."""
from collections import defaultdict
from decimal import Decimal
from typing import Dict, Iterable

from saleor.payment import TransactionKind
from saleor.payment.models import Transaction


def net_captured_by_order(order_ids: Iterable[int], currency: str, start, end,
                          refunds_only: Iterable[int] = ()) -> Dict[int, Decimal]:
    """Successful CAPTURE minus successful REFUND transactions created in [start, end), by
    order (orders without any are absent); only the refunds of the `refunds_only` orders."""
    refunds_only = set(refunds_only)
    rows = (Transaction.objects
            .filter(payment__order_id__in=list(order_ids), currency=currency, is_success=True,
                    kind__in=[TransactionKind.CAPTURE, TransactionKind.REFUND],
                    created__gte=start, created__lt=end)
            .values_list("payment__order_id", "kind", "amount"))
    totals = defaultdict(Decimal)
    for order_id, kind, amount in rows:
        if kind == TransactionKind.CAPTURE and order_id in refunds_only:
            continue
        totals[order_id] += amount if kind == TransactionKind.CAPTURE else -amount
    return dict(totals)
