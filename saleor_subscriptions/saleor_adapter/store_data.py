"""What the simulation reads from the store's Saleor catalogue: an address to ship to and the
shipping method that serves it."""
from saleor.account.models import Address
from saleor.shipping.models import ShippingMethod

#: a simulated customer's address (the United States: the demo store ships there)
SIMULATED_ADDRESS = dict(first_name="Ada", last_name="Lovelace",
                         street_address_1="1600 Amphitheatre Pkwy", city="MOUNTAIN VIEW",
                         postal_code="94043", country="US", country_area="CA",
                         phone="+16505550100")


def any_address() -> Address:
    """An address row the orders copy (each order gets copies, as a checkout's)."""
    return Address.objects.create(**SIMULATED_ADDRESS)


def cheapest_shipping_method():
    """The cheapest shipping method serving the address's country (None: nothing ships there,
    and products that need shipping are not renewable)."""
    country = SIMULATED_ADDRESS["country"]
    methods = [method for method in ShippingMethod.objects.select_related("shipping_zone")
               .order_by("price_amount", "pk") if country in method.shipping_zone.countries]
    return methods[0] if methods else None
