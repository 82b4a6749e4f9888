"""Receipt numbers: ``{prefix}-{YYYYMMDD}-{NNNN}`` per site per local day.

The prefix is the site's ``BillingSettings.receipt_prefix`` or else the site code (at most 16
characters of it, so that a number fits its column); the day is the local date
(``settings.TIME_ZONE``) of the sale; ``NNNN`` counts from 0001 each day and grows past four
digits on a day with more than 9999 sales. The day's :class:`ReceiptCounter` row is locked while
the next number is taken, so numbers are sequential without gaps or repeats even under
concurrent sales (a sale that rolls back gives its number back with the counter).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from openprepaid.domain.billing.models import BillingSettings, ReceiptCounter
from openprepaid.domain.sites.models import Site

PREFIX_LENGTH = 16


def receipt_prefix(site: Site) -> str:
    prefix = (
        BillingSettings.objects.filter(site_id=site.pk)
        .values_list("receipt_prefix", flat=True)
        .first()
    )
    return (prefix or site.code)[:PREFIX_LENGTH]


def next_receipt_number(site: Site, at: dt.datetime) -> str:
    """The next receipt number of ``site`` on the local day of ``at`` (inside the caller's
    transaction, which holds the day's counter locked until it ends)."""
    day = timezone.localdate(at)
    counter = ReceiptCounter.objects.select_for_update().filter(site_id=site.pk, day=day).first()
    if counter is None:
        try:
            with transaction.atomic():
                ReceiptCounter.objects.create(site_id=site.pk, day=day)
        except IntegrityError:
            pass  # created by a concurrent sale: the lock below waits for it
        counter = ReceiptCounter.objects.select_for_update().get(site_id=site.pk, day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{receipt_prefix(site)}-{day:%Y%m%d}-{counter.last:04d}"
