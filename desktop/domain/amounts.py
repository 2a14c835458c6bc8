"""Amounts of money as people type or paste them: "15,000", "฿15000.50", "๑๕๐๐๐ บาท".

One reading for every place a person enters an amount (a wizard's money field, a pasted
payslip, an agency list), so each refuses the same things: text that is not a number,
"NaN" and "Infinity" (which ``Decimal`` reads, but which are no amount and which the sync
server refuses), negative amounts, and amounts beyond :data:`MAX_AMOUNT`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from desktop.domain.dates import arabic_digits

# far above any monthly wage or benefit; keeps an amount's text well within what the
# sync server takes for a decimal (32 characters)
MAX_AMOUNT = Decimal(10) ** 12
# thousands separators, spaces, the baht sign and the currency written out
_NOISE = re.compile(r"[,\s฿]|บาท|baht|thb")


def parse_amount(typed: str) -> Decimal | None:
    """The amount ``typed`` says, written out in full ("1e5" is 100000); None when it says
    none (see the module's docstring)."""
    cleaned = _NOISE.sub("", arabic_digits(typed).casefold())
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        return None
    return Decimal(format(amount, "f"))
