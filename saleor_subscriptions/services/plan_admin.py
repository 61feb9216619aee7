"""Creating and changing plans: every rule a store owner's input must pass, checked before any write.

Takes plain Python values (Decimals, ints, strings) keyed by snake_case field name, so the GraphQL
mutations, management commands and tests share one set of rules. Errors are collected for all
fields at once and raised as one ValidationError keyed by field.
"""
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from django.core.exceptions import ValidationError
from django.db import transaction

from ..domain import notices
from ..domain.money import minor_units, quantize
from ..domain.periods import MAX_INTERVAL_COUNT, IntervalUnit
from ..domain.text import text_problem
from ..error_codes import SubscriptionErrorCode
from ..models import SubscriptionPlan

MAX_TRIAL_DAYS = 730
MAX_INTRO_CYCLES = 120
# The amount columns hold 12 digits with 3 decimal places.
MAX_AMOUNT = Decimal("999999999")
NAME_LENGTH = SubscriptionPlan._meta.get_field("name").max_length
FAMILY_LENGTH = SubscriptionPlan._meta.get_field("family").max_length
# Changing these would rewrite the terms existing subscribers signed up for.
TERMS = ("variant", "interval_unit", "interval_count", "billing_cycles")

INVALID = SubscriptionErrorCode.INVALID.value
REQUIRED = SubscriptionErrorCode.REQUIRED.value


class _Errors:
    def __init__(self):
        self.by_field: Dict[str, List[ValidationError]] = {}

    def add(self, field: str, message: str, code: str = INVALID) -> None:
        self.by_field.setdefault(field, []).append(ValidationError(message, code=code))

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def store_currency(variant) -> str:
    """Plans are priced in the variant's currency (Saleor 2.10 has one store currency)."""
    return variant.currency


def _check_amount(errors: _Errors, field: str, amount: Optional[Decimal], currency: str,
                  *, allow_zero: bool) -> None:
    if amount is None:
        return
    if not amount.is_finite():
        errors.add(field, "Must be a number.")
    elif amount < 0 or (amount == 0 and not allow_zero):
        errors.add(field, "Must be %s." % ("zero or more" if allow_zero else "greater than zero"))
    elif amount > MAX_AMOUNT:
        errors.add(field, "Must be at most %s." % MAX_AMOUNT)
    elif quantize(amount, currency) != amount:
        errors.add(field, "%s amounts have at most %d decimal places."
                   % (currency, minor_units(currency)))


def _check_discount(errors: _Errors, percent: Optional[Decimal]) -> None:
    if percent is None:
        return
    if not percent.is_finite() or not Decimal(0) < percent < Decimal(100):
        errors.add("discount_percent", "Must be greater than 0 and less than 100.")
    elif percent.quantize(Decimal("0.01")) != percent:
        errors.add("discount_percent", "Use at most 2 decimal places.")


def _pricing(errors: _Errors, data: Mapping, plan: Optional[SubscriptionPlan]
             ) -> Tuple[Optional[Decimal], Optional[Decimal]]:
    """(own price, discount percent): exactly one is set. An explicit null counts as not given."""
    price, discount = data.get("price"), data.get("discount_percent")
    if price is not None and discount is not None:
        message = "Set either a price or a discount percent, not both."
        errors.add("price", message)
        errors.add("discount_percent", message)
        return None, None
    if price is not None:
        return price, None
    if discount is not None:
        return None, discount
    if plan is None:
        errors.add("price", "Set a price or a discount percent.", REQUIRED)
        return None, None
    return plan.price_amount, plan.discount_percent


def _intro(errors: _Errors, data: Mapping, plan: Optional[SubscriptionPlan]
           ) -> Tuple[Optional[Decimal], int]:
    """(intro price, intro cycles): both set, or neither. `introCycles: 0` (or an explicit
    `introPrice: null` with it) removes the intro price."""
    cycles = data["intro_cycles"] if data.get("intro_cycles") is not None else (
        plan.intro_cycles if plan else 0)
    if "intro_price" in data:
        price = data["intro_price"]
    elif data.get("intro_cycles") == 0:
        price = None
    else:
        price = plan.intro_price_amount if plan else None
    if price is not None and not cycles:
        errors.add("intro_cycles", "Set for how many paid cycles the intro price applies.",
                   REQUIRED)
    elif cycles and price is None:
        errors.add("intro_price", "Set the intro price for the first %s paid cycles." % cycles,
                   REQUIRED)
    return price, cycles


def _text(errors: _Errors, data: Mapping, field: str, current: str, max_length: int,
          *, required: bool) -> str:
    if field not in data or data[field] is None:
        if required and not current:
            errors.add(field, "This field is required.", REQUIRED)
        return current
    value = str(data[field]).strip()
    problem = text_problem(value, max_length, single_line=True)
    if required and not value:
        errors.add(field, "Must not be blank.", REQUIRED)
    elif problem:
        errors.add(field, problem)
    return value


def _int_in_range(errors: _Errors, field: str, value: Optional[int], low: int,
                  high: Optional[int] = None) -> None:
    if value is None:
        return
    if value < low or (high is not None and value > high):
        bound = "from %d to %d" % (low, high) if high is not None else "%d or more" % low
        errors.add(field, "Must be %s." % bound)


def clean_plan(data: Mapping[str, Any], *, variant=None,
               plan: Optional[SubscriptionPlan] = None) -> Dict[str, Any]:
    """The plan's field values after applying `data` (to `plan` when updating); writes nothing.

    `variant` is the (new) product variant; it is required when creating.
    """
    errors = _Errors()
    variant = variant if variant is not None else (plan.variant if plan else None)
    if variant is None:
        errors.add("variant_id", "This field is required.", REQUIRED)
        errors.raise_if_any()
    currency = plan.currency if plan else store_currency(variant)
    given_currency = data.get("currency")
    if given_currency and given_currency.strip().upper() != currency:
        errors.add("currency", "Plans are priced in the store's currency, %s." % currency,
                   SubscriptionErrorCode.CURRENCY_MISMATCH.value)

    def current(field, default=None):
        if data.get(field) is not None:
            return data[field]
        return getattr(plan, field) if plan else default

    values = {
        "variant": variant,
        "currency": currency,
        "name": _text(errors, data, "name", plan.name if plan else "", NAME_LENGTH, required=True),
        "family": _text(errors, data, "family", plan.family if plan else "", FAMILY_LENGTH,
                        required=False),
        "tier_rank": current("tier_rank", 0),
        "interval_unit": current("interval_unit"),
        "interval_count": current("interval_count", 1),
        "trial_days": current("trial_days", 0),
        "renewal_notice_days": current("renewal_notice_days", 0),
        "signup_fee_amount": data["signup_fee"] if data.get("signup_fee") is not None else (
            plan.signup_fee_amount if plan else Decimal(0)),
        # An explicit null means "renews until cancelled".
        "billing_cycles": data["billing_cycles"] if "billing_cycles" in data else (
            plan.billing_cycles if plan else None),
        "is_active": current("is_active", True),
    }
    values["price_amount"], values["discount_percent"] = _pricing(errors, data, plan)
    values["intro_price_amount"], values["intro_cycles"] = _intro(errors, data, plan)

    units = [unit.value for unit in IntervalUnit]
    if values["interval_unit"] is None:
        errors.add("interval_unit", "This field is required.", REQUIRED)
    elif values["interval_unit"] not in units:
        errors.add("interval_unit", "Must be one of: %s." % ", ".join(units))
    else:
        _int_in_range(errors, "interval_count", values["interval_count"], 1,
                      MAX_INTERVAL_COUNT[IntervalUnit(values["interval_unit"])])
    _int_in_range(errors, "tier_rank", values["tier_rank"], 0)
    _int_in_range(errors, "trial_days", values["trial_days"], 0, MAX_TRIAL_DAYS)
    _check_renewal_notice(errors, values)
    _int_in_range(errors, "billing_cycles", values["billing_cycles"], 1)
    _check_amount(errors, "price", values["price_amount"], currency, allow_zero=False)
    _check_amount(errors, "signup_fee", values["signup_fee_amount"], currency, allow_zero=True)
    # A free cycle would be an order of 0, which Saleor 2.10.1 cannot tax: use a trial for that.
    _check_amount(errors, "intro_price", values["intro_price_amount"], currency, allow_zero=False)
    _int_in_range(errors, "intro_cycles", values["intro_cycles"], 0, MAX_INTRO_CYCLES)
    if (values["billing_cycles"] is not None and values["intro_cycles"]
            and values["intro_cycles"] > values["billing_cycles"] >= 1):
        errors.add("intro_cycles", "Can't be more than the plan's %d billing cycles."
                   % values["billing_cycles"])
    _check_discount(errors, values["discount_percent"])
    if plan is not None:
        _check_terms_unchanged(errors, plan, values)
    errors.raise_if_any()
    return values


def _check_renewal_notice(errors: _Errors, values: Dict) -> None:
    days = values["renewal_notice_days"]
    _int_in_range(errors, "renewal_notice_days", days, 0, notices.MAX_RENEWAL_NOTICE_DAYS)
    unit, count = values["interval_unit"], values["interval_count"]
    if (days and 0 < days <= notices.MAX_RENEWAL_NOTICE_DAYS
            and unit in notices.SHORTEST_UNIT_DAYS and isinstance(count, int) and count >= 1
            and not notices.renewal_notice_fits(days, unit, count)):
        errors.add("renewal_notice_days", "Must be shorter than the billing period (%d days at "
                   "the shortest)." % notices.shortest_period_days(unit, count))


def _check_terms_unchanged(errors: _Errors, plan: SubscriptionPlan, values: Dict) -> None:
    changed = [field for field in TERMS if values[field] != getattr(plan, field)]
    if changed and plan.subscriptions.exists():
        for field in changed:
            errors.add(
                "variant_id" if field == "variant" else field,
                "Customers subscribe to this plan, so its billing terms can't change; create a "
                "new plan and archive this one instead.",
                SubscriptionErrorCode.NOT_ALLOWED.value,
            )


def create_plan(variant, data: Mapping[str, Any]) -> SubscriptionPlan:
    values = clean_plan(data, variant=variant)
    return SubscriptionPlan.objects.create(**values)


def update_plan(plan: SubscriptionPlan, data: Mapping[str, Any], variant=None) -> SubscriptionPlan:
    with transaction.atomic():
        plan = SubscriptionPlan.objects.select_for_update().get(pk=plan.pk)
        values = clean_plan(data, variant=variant, plan=plan)
        for field, value in values.items():
            setattr(plan, field, value)
        plan.save()
    return plan


def set_plan_active(plan: SubscriptionPlan, active: bool) -> SubscriptionPlan:
    """Archive (hide from visitors and new checkouts) or bring back a plan; idempotent."""
    if plan.is_active != active:
        plan.is_active = active
        plan.save(update_fields=["is_active", "updated_at"])
    return plan
