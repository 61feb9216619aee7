"""Builds a small store the way a store owner does: through Saleor's own GraphQL API."""
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict

from .client import ApiClient

US_ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "streetAddress1": "1600 Amphitheatre Pkwy",
    "city": "MOUNTAIN VIEW",
    "postalCode": "94043",
    "country": "US",
    "countryArea": "CA",
    "phone": "+16505550100",
}


@dataclass
class Store:
    warehouse_id: str
    shipping_method_id: str
    product_type_id: str
    category_id: str
    variants: Dict[str, str] = field(default_factory=dict)  # sku -> global id
    products: Dict[str, str] = field(default_factory=dict)  # name -> global id


def _mutate(api: ApiClient, query: str, variables: dict) -> dict:
    return api.mutate(query, variables)


WAREHOUSE_CREATE = """
mutation($input: WarehouseCreateInput!) {
  createWarehouse(input: $input) { warehouse { id } warehouseErrors { field message code } }
}"""
ZONE_CREATE = """
mutation($input: ShippingZoneCreateInput!) {
  shippingZoneCreate(input: $input) { shippingZone { id } shippingErrors { field message code } }
}"""
PRICE_CREATE = """
mutation($input: ShippingPriceInput!) {
  shippingPriceCreate(input: $input) { shippingMethod { id } shippingErrors { field message code } }
}"""
TYPE_CREATE = """
mutation($input: ProductTypeInput!) {
  productTypeCreate(input: $input) { productType { id } productErrors { field message code } }
}"""
CATEGORY_CREATE = """
mutation($input: CategoryInput!) {
  categoryCreate(input: $input) { category { id } productErrors { field message code } }
}"""
PRODUCT_CREATE = """
mutation($input: ProductCreateInput!) {
  productCreate(input: $input) { product { id } productErrors { field message code } }
}"""
VARIANT_CREATE = """
mutation($input: ProductVariantCreateInput!) {
  productVariantCreate(input: $input) { productVariant { id } productErrors { field message code } }
}"""


def build_store(staff_api: ApiClient, shipping_price: Decimal = Decimal("5.00")) -> Store:
    """A warehouse, a US shipping zone with one method, and an empty product type/category."""
    warehouse = _mutate(staff_api, WAREHOUSE_CREATE, {"input": {
        "name": "Main warehouse",
        "address": {"streetAddress1": "1 Main St", "city": "AUSTIN", "postalCode": "73301",
                    "country": "US", "countryArea": "TX"},
    }})["warehouse"]["id"]
    zone = _mutate(staff_api, ZONE_CREATE, {"input": {
        "name": "United States", "countries": ["US"], "addWarehouses": [warehouse],
    }})["shippingZone"]["id"]
    method = _mutate(staff_api, PRICE_CREATE, {"input": {
        "name": "Standard", "price": str(shipping_price), "type": "PRICE", "shippingZone": zone,
    }})["shippingMethod"]["id"]
    product_type = _mutate(staff_api, TYPE_CREATE, {"input": {
        "name": "Subscription goods", "hasVariants": True, "isShippingRequired": True, "weight": 0.25,
    }})["productType"]["id"]
    category = _mutate(staff_api, CATEGORY_CREATE, {"input": {"name": "Subscriptions"}})[
        "category"]["id"]
    return Store(warehouse, method, product_type, category)


def add_product(staff_api: ApiClient, store: Store, name: str, price: Decimal,
                variants: Dict[str, Decimal], stock: int = 1000) -> Dict[str, str]:
    """A published product with variants (sku -> price); returns sku -> variant id."""
    product = _mutate(staff_api, PRODUCT_CREATE, {"input": {
        "productType": store.product_type_id, "category": store.category_id, "name": name,
        "basePrice": str(price), "isPublished": True,
    }})["product"]["id"]
    store.products[name] = product
    created = {}
    for sku, variant_price in variants.items():
        created[sku] = _mutate(staff_api, VARIANT_CREATE, {"input": {
            "product": product, "sku": sku, "attributes": [], "priceOverride": str(variant_price),
            "trackInventory": True,
            "stocks": [{"warehouse": store.warehouse_id, "quantity": stock}],
        }})["productVariant"]["id"]
    store.variants.update(created)
    return created
