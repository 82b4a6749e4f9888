"""Verbs of the sales desk and of accounts: each one transaction with its permission check, its
system-log row and its ledger entries (``openprepaid.domain.billing.ledger``).

Tariff and threshold verbs live beside these (``services.tariffs``, ``services.settings``).
"""

from openprepaid.domain.billing.services.accounts import close_account, open_account, swap_meter
from openprepaid.domain.billing.services.delivery import command_finished
from openprepaid.domain.billing.services.receipts import next_receipt_number
from openprepaid.domain.billing.services.sales import correct, refund, sell
from openprepaid.domain.billing.services.settings import (
    add_holiday,
    remove_holiday,
    set_meter_thresholds,
    update_billing_settings,
)
from openprepaid.domain.billing.services.tariffs import (
    add_tariff_version,
    assign_tariff,
    create_meter_group,
    create_tariff,
    set_group_meters,
)

__all__ = [
    "add_holiday",
    "add_tariff_version",
    "assign_tariff",
    "close_account",
    "command_finished",
    "correct",
    "create_meter_group",
    "create_tariff",
    "next_receipt_number",
    "open_account",
    "refund",
    "remove_holiday",
    "sell",
    "set_group_meters",
    "set_meter_thresholds",
    "swap_meter",
    "update_billing_settings",
]
