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


def reserve(needs) -> list:
    """allocate_line's rule for many lines at once, before they exist: `needs` is a list of
    (variant id, quantity, country code); returns, in its order, the [(stock id, quantity)] to
    allocate to each, or None where there is not enough (nothing is taken for it). The stocks
    are locked as allocate_line locks them; allocations are written with `allocations`."""
    if not needs:
        return []
    variants_by_country = {}
    for variant_id, _quantity, country in needs:
        variants_by_country.setdefault(country, set()).add(variant_id)
    stocks = {}
    for country, variant_ids in sorted(variants_by_country.items()):
        warehouses = Warehouse.objects.filter(shipping_zones__countries__contains=country)
        rows = (Stock.objects.select_for_update(of=("self",))
                .filter(product_variant_id__in=variant_ids,
                        warehouse__in=Subquery(warehouses.values("pk")))
                .order_by("pk").values_list("pk", "product_variant_id", "quantity"))
        for pk, variant_id, quantity in rows:
            stocks.setdefault((country, variant_id), []).append((pk, quantity))
    allocated = dict(
        Allocation.objects.filter(
            stock_id__in=[pk for rows in stocks.values() for pk, _ in rows],
            quantity_allocated__gt=0)
        .order_by().values("stock_id").annotate(total=Sum("quantity_allocated"))
        .values_list("stock_id", "total")
    )
    plans = []
    for variant_id, wanted, country in needs:
        takes = []
        for stock_id, quantity in stocks.get((country, variant_id), []):
            take = min(wanted, quantity - allocated.get(stock_id, 0))
            if take > 0:
                takes.append((stock_id, take))
                wanted -= take
            if wanted == 0:
                break
        if wanted:
            plans.append(None)
            continue
        for stock_id, take in takes:
            allocated[stock_id] = allocated.get(stock_id, 0) + take
        plans.append(takes)
    return plans


def allocations(line, takes) -> list:
    """The Allocation rows (not saved) of a line's `reserve` plan."""
    return [Allocation(order_line=line, stock_id=stock_id, quantity_allocated=take)
            for stock_id, take in takes]
