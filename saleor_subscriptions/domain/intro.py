"""Introductory prices: the first N paid cycles at a lower price, then the regular price.

One pure rule decides what a cycle's unit costs — checkout (the first paid cycle), renewals
and plan-change quotes all ask it. `intro_until` counts paid cycles: the intro price applies to
a cycle while fewer than `intro_until` cycles have been paid (a free trial is not a paid cycle,
so with a trial the intro price starts with the first paid cycle).
"""
from typing import Optional

from prices import Money

from .money import ensure_same_currency


def cycle_unit_price(regular: Money, intro: Optional[Money], intro_until: int,
                     paid_cycles: int) -> Money:
    """The unit price of the next paid cycle after `paid_cycles` paid ones."""
    if intro is None or paid_cycles >= intro_until:
        return regular
    ensure_same_currency(regular, intro)
    return intro


def intro_ends_with(intro_until: int, paid_cycles: int) -> bool:
    """True when, after `paid_cycles` paid cycles, the intro price has just run out: the next
    cycle is the first at the regular price."""
    return intro_until > 0 and paid_cycles == intro_until
