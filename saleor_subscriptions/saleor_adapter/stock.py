"""Stock for renewal order lines, allocated as Saleor 2.10's `allocate_stock` does.

Same rule (the variant's stocks in warehouses shipping to the country, locked and taken in pk
order, each up to its quantity less what is allocated), one difference: Saleor sums allocations
with Allocation's default ordering left in the GROUP BY, so it reads one row per allocation and
gets slower with every unfulfilled order. Renewals place thousands of orders; here the sum is
one row per stock.
"""
from django.db.models import Subquery, Sum
from saleor.core.exceptions import InsufficientStock
from saleor.warehouse.models import Allocation, Stock, Warehouse


def allocate_line(line, country_code: str) -> None:
    """Allocate line.quantity of line.variant; raises InsufficientStock (nothing allocated)."""
    warehouses = Warehouse.objects.filter(shipping_zones__countries__contains=country_code)
    stocks = list(
        Stock.objects.select_for_update(of=("self",))
        .filter(product_variant_id=line.variant_id, warehouse__in=Subquery(warehouses.values("pk")))
        .order_by("pk")
        .values_list("pk", "quantity")
    )
    allocated = dict(
        Allocation.objects.filter(stock_id__in=[pk for pk, _ in stocks], quantity_allocated__gt=0)
        .order_by()
        .values("stock_id")
        .annotate(total=Sum("quantity_allocated"))
        .values_list("stock_id", "total")
    )
    wanted = line.quantity
    allocations = []
    for stock_id, quantity in stocks:
        take = min(wanted, quantity - allocated.get(stock_id, 0))
        if take > 0:
            allocations.append(Allocation(order_line=line, stock_id=stock_id, quantity_allocated=take))
            wanted -= take
        if wanted == 0:
            Allocation.objects.bulk_create(allocations)
            return
    raise InsufficientStock(line.variant)
