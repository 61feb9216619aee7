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
