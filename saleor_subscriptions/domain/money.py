from decimal import ROUND_HALF_UP, Decimal

from prices import Money

ZERO_DECIMAL_CURRENCIES = frozenset(
    "JPY KRW VND CLP ISK UGX XAF XOF PYG RWF KMF GNF DJF BIF VUV XPF".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("BHD KWD OMR JOD TND IQD LYD".split())


def minor_units(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def _require_decimal(amount: Decimal) -> None:
    # Floats cannot represent most prices exactly; refuse them outright.
    if not isinstance(amount, Decimal):
        raise TypeError(f"Expected Decimal, got {type(amount).__name__}")


def quantize(amount: Decimal, currency: str) -> Decimal:
    _require_decimal(amount)
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def to_minor(money: Money) -> int:
    _require_decimal(money.amount)
    scaled = money.amount.scaleb(minor_units(money.currency))
    # Silently rounding here would hide a pricing bug upstream.
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{money!r} has more precision than {money.currency} allows")
    return int(scaled)


def from_minor(units: int, currency: str) -> Money:
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"Minor units must be an int, got {units!r}")
    amount = Decimal(units).scaleb(-minor_units(currency))
    return Money(quantize(amount, currency), currency)


def percent_of(money: Money, percent: Decimal) -> Money:
    _require_decimal(percent)
    return Money(quantize(money.amount * percent / 100, money.currency), money.currency)


def ensure_same_currency(*amounts: Money) -> str:
    currencies = {money.currency for money in amounts}
    if len(currencies) != 1:
        raise ValueError("Currency mismatch: {}".format(", ".join(sorted(currencies))))
    return currencies.pop()


# -- Stripe's currency rules (https://stripe.com/docs/currencies) --------------------------------
# Stripe's units are not always ISO 4217's: MGA is zero-decimal at Stripe, ISK is zero-decimal
# but sent ×100, and only five three-decimal currencies are sent ×1000 (ending in 0).

STRIPE_ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
STRIPE_THREE_DECIMAL_CURRENCIES = frozenset("BHD JOD KWD OMR TND".split())
#: zero-decimal in meaning, sent as two decimals whose last two digits are 00
STRIPE_HUNDREDS_CURRENCIES = frozenset(["ISK"])

#: Stripe's minimum charge per currency; an amount below it is carried to the next charge.
#: Currencies not listed have no minimum of ours beyond "more than zero".
MINIMUM_CHARGES = {
    "USD": "0.50", "AED": "2.00", "AUD": "0.50", "BGN": "1.00", "BRL": "0.50", "CAD": "0.50",
    "CHF": "0.50", "CZK": "15.00", "DKK": "2.50", "EUR": "0.50", "GBP": "0.30", "HKD": "4.00",
    "HUF": "175.00", "INR": "0.50", "JPY": "50", "MXN": "10", "MYR": "2", "NOK": "3.00",
    "NZD": "0.50", "PLN": "2.00", "RON": "2.00", "SEK": "3.00", "SGD": "0.50", "THB": "10",
}


def _stripe_exponent(currency: str) -> int:
    code = currency.upper()
    if code in STRIPE_ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in STRIPE_THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def to_stripe_amount(money: Money) -> int:
    """The integer `amount` Stripe expects for `money`.

    Three-decimal currencies are rounded (half up) to a final 0, as Stripe requires; ISK whole
    krónur are sent ×100. Raises ValueError for more precision than the currency has (a pricing
    bug upstream, never rounded away silently).
    """
    _require_decimal(money.amount)
    code = money.currency.upper()
    if code in STRIPE_HUNDREDS_CURRENCIES:
        whole = money.amount.to_integral_value(rounding=ROUND_HALF_UP)
        return int(whole) * 100
    scaled = money.amount.scaleb(_stripe_exponent(code))
    if code in STRIPE_THREE_DECIMAL_CURRENCIES:
        return int((scaled / 10).to_integral_value(rounding=ROUND_HALF_UP)) * 10
    if code in STRIPE_ZERO_DECIMAL_CURRENCIES:
        # MGA has two decimals in ISO 4217 but none at Stripe.
        return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{money!r} has more precision than {money.currency} allows")
    return int(scaled)


def from_stripe_amount(units: int, currency: str) -> Money:
    """The Money for an integer `amount` Stripe reports."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"Stripe amounts are ints, got {units!r}")
    code = currency.upper()
    if code in STRIPE_HUNDREDS_CURRENCIES:
        return Money(Decimal(units // 100), code)
    return Money(Decimal(units).scaleb(-_stripe_exponent(code)), code)


def minimum_charge(currency: str) -> Money:
    code = currency.upper()
    return Money(Decimal(MINIMUM_CHARGES.get(code, "0")), code)


def below_minimum_charge(money: Money) -> bool:
    """More than nothing but less than the gateway accepts: carry it to the next charge."""
    return Decimal(0) < money.amount < minimum_charge(money.currency).amount
