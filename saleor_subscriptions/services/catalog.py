"""Product variants and shipping methods read once per renewal batch.

Most subscriptions in a batch share a handful of variants and shipping methods; joining them
into every subscription's row lock cost more than everything else in that lock (nine tables).
A batch lasts seconds, so a rename during it reaches the next batch's orders.
"""
from typing import Dict, Optional

from saleor.product.models import ProductVariant
from saleor.shipping.models import ShippingMethod


class BatchCatalog:
    def __init__(self):
        self._variants: Dict[int, Optional[ProductVariant]] = {}
        self._methods: Dict[int, Optional[ShippingMethod]] = {}

    def attach(self, subscription) -> None:
        """Give the subscription its variant and shipping method from the batch's copies."""
        variant = self._variant(subscription.variant_id)
        if variant is not None:
            subscription.variant = variant
        method = self._method(subscription.shipping_method_id)
        if method is not None:
            subscription.shipping_method = method

    def _variant(self, pk: Optional[int]) -> Optional[ProductVariant]:
        if pk is not None and pk not in self._variants:
            self._variants[pk] = (ProductVariant.objects
                                  .select_related("product__product_type").filter(pk=pk).first())
        return self._variants.get(pk)

    def _method(self, pk: Optional[int]) -> Optional[ShippingMethod]:
        if pk is not None and pk not in self._methods:
            self._methods[pk] = ShippingMethod.objects.filter(pk=pk).first()
        return self._methods.get(pk)
