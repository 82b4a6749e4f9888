"""The words printed on a receipt in the operator's language (gettext, context "receipt").

The renderer itself knows no Django: it takes a :class:`ReceiptLabels`. :func:`receipt_labels`
builds one for a language from the project's translations; a layout may still override the
title, footer, part captions and field labels of a site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import pgettext


@dataclass(frozen=True, slots=True)
class ReceiptLabels:
    title: str
    footer: str
    captions: Mapping[str, str]  # stub / customer / finance → "第一联 存根" …
    fields: Mapping[str, str]  # field name → label
    payee: str
    date: str
    number: str
    printed: str
    cashier_signature: str
    customer_signature: str


def receipt_labels(language: str) -> ReceiptLabels:
    with translation.override(language):
        return ReceiptLabels(
            title=pgettext("receipt", "Electricity receipt"),
            footer=pgettext("receipt", "Please keep this receipt safe."),
            captions={
                "stub": pgettext("receipt", "Part 1: stub"),
                "customer": pgettext("receipt", "Part 2: customer"),
                "finance": pgettext("receipt", "Part 3: finance"),
            },
            fields={
                "tenant_name": pgettext("receipt", "Tenant"),
                "tenant_code": pgettext("receipt", "Tenant number"),
                "unit_code": pgettext("receipt", "Unit"),
                "account_number": pgettext("receipt", "Account number"),
                "meter_address": pgettext("receipt", "Meter address"),
                "kind": pgettext("receipt", "Transaction"),
                "payment_method": pgettext("receipt", "Payment method"),
                "purchase_count": pgettext("receipt", "Purchase count"),
                "energy": pgettext("receipt", "Energy"),
                "unit_price": pgettext("receipt", "Unit price"),
                "balance_after": pgettext("receipt", "Balance after"),
                "cashier": pgettext("receipt", "Cashier"),
                "amount_in_words": pgettext("receipt", "Amount in words"),
                "amount": pgettext("receipt", "Amount"),
                "corrects_receipt": pgettext("receipt", "Corrects receipt"),
                "note": pgettext("receipt", "Note"),
            },
            payee=pgettext("receipt", "Payee"),
            date=pgettext("receipt", "Date"),
            number=pgettext("receipt", "No."),
            printed=pgettext("receipt", "Printed"),
            cashier_signature=pgettext("receipt", "Cashier's signature"),
            customer_signature=pgettext("receipt", "Customer's signature"),
        )
