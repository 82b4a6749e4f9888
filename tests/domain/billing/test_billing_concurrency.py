"""Concurrent sales on one account from real threads: no update is lost and receipt numbers
never repeat. On PostgreSQL the balance row lock serialises them; on SQLite every transaction
begins IMMEDIATE (settings), which serialises writers on the whole file."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from openprepaid.domain.billing import ledger, services
from openprepaid.domain.billing.models import AccountBalance, LedgerEntry, Sale

THREADS = 8
SALES = 10

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_sales_never_lose_an_update(register, make_meter, cashier):
    account = register(make_meter())
    services.open_account(
        acting_user=cashier, account=account, amount="0", payment_method="cash", external_id="o"
    )
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def sell_many(worker: int) -> None:
        try:
            start.wait()
            for n in range(SALES):
                services.sell(
                    acting_user=cashier,
                    account=account,
                    amount=f"{worker + 1}.{n:02d}",
                    payment_method="cash",
                    external_id=f"t{worker}-{n}",
                )
                # Every sale is sent twice: the repeat credits nothing.
                services.sell(
                    acting_user=cashier,
                    account=account,
                    amount=f"{worker + 1}.{n:02d}",
                    payment_method="cash",
                    external_id=f"t{worker}-{n}",
                )
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sell_many, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = sum(
        (Decimal(f"{w + 1}.{n:02d}") for w in range(THREADS) for n in range(SALES)), Decimal(0)
    )
    assert expected == Decimal("363.60")
    assert AccountBalance.objects.get(account=account).balance == Decimal("363.60")
    assert ledger.recompute(account.pk) == Decimal("363.60")
    assert LedgerEntry.objects.filter(account=account).count() == THREADS * SALES
    receipts = list(Sale.objects.values_list("receipt_number", flat=True))
    assert len(set(receipts)) == len(receipts) == THREADS * SALES + 1
    # balance_after runs without gaps: each entry adds to the one before.
    running = Decimal("0.00")
    for entry in LedgerEntry.objects.filter(account=account).order_by("id"):
        running += entry.amount
        assert entry.balance_after == running
