"""The billing engine: new readings become ledger entries.

**Remote cost control.** For each meter in an open account, the readings after the meter's
cursor (:class:`MeterBilling`) are priced one interval at a time with
``openprepaid.calc.tariffs.price_interval`` (tariff register deltas; tiers by the energy of the
tier cycle carried in the cursor). The first reading after the meter joined the account only sets
the cursor. One run posts one consumption entry per meter — the exact amounts of all the
intervals it priced plus the residue carried from before, rounded once; the new residue is
carried — with the external id ``c:<meter>:<epoch of the last reading>``, and a monthly service
charge once per month (``s:<account>:<meter>:<YYYY-MM>``). The cursor only moves forward and the
ledger skips known external ids, so a batch delivered twice bills once.

Registers going backwards (a reading below the cursor) are not charged: the cursor stays, a
tamper alarm is raised once (until the registers are above the cursor again, which clears it),
and pricing resumes from the cursor. A meter no tariff applies to is not priced (nor loaded): its
cursor waits, and once a tariff is assigned — from a date in the past if need be — the readings
since the cursor are priced. Energy before a tariff's first start has no price: the cursor moves
over it without a charge.

**Local cost control.** The meter holds the wallet; the ledger mirrors it. The meter's wallet in
the ledger is the sum of the account's entries for that meter except sales not (yet) delivered
to it. When the meter reports less than that, the difference is the meter's consumption and is
posted (``m:<meter>:<epoch>``); when it reports more, a ``ledger_difference`` alarm is raised
once per episode (cleared when they agree again). While a sale is on its way to the meter, or
for a reading older than the meter's last delivered purchase, the mirror waits.

:func:`bill_meters` loads the readings stored since each cursor (the hook after
``DjangoRepository.store``, and the benchmark per chunk); :func:`bill_readings` takes readings
in memory. Both write in the caller's transaction, or in their own.
:func:`bill_final_reading` prices a remote meter up to a final total given by hand (a swap).

**Overload.** After a batch is billed, :func:`bill_after_store` passes its full readings to
``overload.check_overload``: a meter's power above its overload threshold raises one
``overload`` alarm per episode, a later reading at or below clears it (both modes).

The package, by responsibility: :mod:`.entrances` (the functions above and the run they
start), :mod:`.run` (memberships, locks, cursors and the run's collected writes),
:mod:`.readings` (loading the stored readings), :mod:`.remote` (pricing), :mod:`.local` (the
mirror) and :mod:`.alarms` (tamper and ledger-difference alarms).
"""

from openprepaid.domain.billing.engine.alarms import DIFFERENCE_DETAIL, TAMPER_DETAIL, TAMPER_KIND
from openprepaid.domain.billing.engine.entrances import (
    bill_after_store,
    bill_final_reading,
    bill_meters,
    bill_readings,
)
from openprepaid.domain.billing.engine.local import meter_wallets, reported_balance
from openprepaid.domain.billing.engine.readings import ReadingRow
from openprepaid.domain.billing.engine.run import RunResult

__all__ = [
    "DIFFERENCE_DETAIL",
    "TAMPER_DETAIL",
    "TAMPER_KIND",
    "ReadingRow",
    "RunResult",
    "bill_after_store",
    "bill_final_reading",
    "bill_meters",
    "bill_readings",
    "meter_wallets",
    "reported_balance",
]
