"""The one rule for a cycle's unit price, and how e-mails are compared for the one-trial rule."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prices import Money

from saleor_subscriptions.domain.intro import cycle_unit_price, intro_ends_with
from saleor_subscriptions.services.trials import normalise_email

REGULAR, INTRO = Money(Decimal("19.99"), "USD"), Money(Decimal("9.99"), "USD")


@given(intro_cycles=st.integers(0, 30), paid=st.integers(0, 60))
def test_exactly_the_first_intro_cycles_cost_the_intro_price(intro_cycles, paid):
    price = cycle_unit_price(REGULAR, INTRO, intro_cycles, paid)
    assert price == (INTRO if paid < intro_cycles else REGULAR)
    assert cycle_unit_price(REGULAR, None, intro_cycles, paid) == REGULAR
    assert intro_ends_with(intro_cycles, paid) == (intro_cycles > 0 and paid == intro_cycles)


def test_an_intro_price_in_another_currency_is_a_bug():
    with pytest.raises(ValueError):
        cycle_unit_price(REGULAR, Money(Decimal("9"), "EUR"), 3, 0)


@pytest.mark.parametrize("email, normalised", [
    (" Ada@Example.COM ", "ada@example.com"),
    ("ada+promo@example.com", "ada@example.com"),
    ("A.da+x@GoogleMail.com", "ada@gmail.com"),
    ("a.da@example.com", "a.da@example.com"),  # dots matter outside Gmail
    ("+only@example.com", "+only@example.com"),
    ("not-an-email", "not-an-email"),
    ("", ""),
])
def test_normalise_email(email, normalised):
    assert normalise_email(email) == normalised
