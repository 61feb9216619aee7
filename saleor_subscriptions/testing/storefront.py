"""A storefront's calls, through /graphql/: create a checkout, choose a plan, pay, complete."""
from decimal import Decimal
from typing import Optional

from .. import GATEWAY_ID
from .store import US_ADDRESS

CHECKOUT_CREATE = """
mutation($input: CheckoutCreateInput!) {
  checkoutCreate(input: $input) {
    checkout { id token lines { id quantity variant { id } } availableShippingMethods { id } }
    checkoutErrors { field message code }
  }
}"""
PLAN_SET = """
mutation($checkout: ID!, $line: ID!, $plan: ID) {
  checkoutLineSubscriptionPlanSet(checkoutId: $checkout, lineId: $line, planId: $plan) {
    checkout { totalPrice { gross { amount currency } } }
    linePlan { lineId plan { id name } firstCharge { amount } }
    subscriptionErrors { field message code }
  }
}"""
SHIPPING_METHOD = """
mutation($checkout: ID!, $method: ID!) {
  checkoutShippingMethodUpdate(checkoutId: $checkout, shippingMethodId: $method) {
    checkout { id } checkoutErrors { field message code }
  }
}"""
TOTAL = """
query($token: UUID!) { checkout(token: $token) { totalPrice { gross { amount currency } } } }"""
PAYMENT_CREATE = """
mutation($checkout: ID!, $input: PaymentInput!) {
  checkoutPaymentCreate(checkoutId: $checkout, input: $input) {
    payment { id } paymentErrors { field message code }
  }
}"""
COMPLETE = """
mutation($checkout: ID!) {
  checkoutComplete(checkoutId: $checkout) {
    order { id number total { gross { amount currency } } paymentStatus }
    checkoutErrors { field message code }
  }
}"""


def create_checkout(api, variant_id: str, quantity: int = 1,
                    email: str = "guest@example.com") -> dict:
    payload = api.mutate(CHECKOUT_CREATE, {"input": {
        "email": email, "lines": [{"variantId": variant_id, "quantity": quantity}],
        "shippingAddress": US_ADDRESS, "billingAddress": US_ADDRESS,
    }})
    return payload["checkout"]


def choose_plan(api, checkout: dict, plan_id: Optional[str], line_index: int = 0) -> dict:
    """The raw payload (with subscriptionErrors) so tests can check rejections."""
    data = api.execute(PLAN_SET, {"checkout": checkout["id"],
                                  "line": checkout["lines"][line_index]["id"], "plan": plan_id})
    return data["checkoutLineSubscriptionPlanSet"]


def choose_shipping(api, checkout: dict, method_id: Optional[str] = None) -> None:
    method_id = method_id or checkout["availableShippingMethods"][0]["id"]
    api.mutate(SHIPPING_METHOD, {"checkout": checkout["id"], "method": method_id})


def total(api, checkout: dict) -> Decimal:
    data = api.execute(TOTAL, {"token": checkout["token"]})
    return Decimal(str(data["checkout"]["totalPrice"]["gross"]["amount"]))


def pay(api, checkout: dict, token: str, gateway: str = GATEWAY_ID,
        amount: Optional[Decimal] = None) -> None:
    amount = total(api, checkout) if amount is None else amount
    api.mutate(PAYMENT_CREATE, {"checkout": checkout["id"], "input": {
        "gateway": gateway, "token": token, "amount": str(amount)}})


def complete(api, checkout: dict) -> dict:
    """The raw checkoutComplete payload: order and checkoutErrors."""
    return api.execute(COMPLETE, {"checkout": checkout["id"]})["checkoutComplete"]


def buy(api, variant_id: str, plan_id: Optional[str], payment_token: str, quantity: int = 1,
        email: str = "guest@example.com", gateway: str = GATEWAY_ID) -> dict:
    """The whole purchase; returns checkoutComplete's payload."""
    checkout = create_checkout(api, variant_id, quantity, email)
    if plan_id is not None:
        chosen = choose_plan(api, checkout, plan_id)
        assert not chosen["subscriptionErrors"], chosen["subscriptionErrors"]
    choose_shipping(api, checkout)
    pay(api, checkout, payment_token, gateway)
    return complete(api, checkout)
