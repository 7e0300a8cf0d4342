"""Pay at the front desk: the order waits for the clerk to take the money."""
from __future__ import annotations

from typing import Any

from hotel_community.hookspecs import PaymentProvider, hookimpl


class PayAtDesk(PaymentProvider):
    name = "pay_at_desk"
    label = "Pay at the front desk"

    def start_payment(self, payment: dict[str, Any]) -> dict[str, Any]:
        return {"status": "pending", "instructions": "Please pay at the front desk.",
                "reference": payment["reference"]}


@hookimpl
def hotel_community_payment_providers() -> list[PaymentProvider]:
    return [PayAtDesk()]
