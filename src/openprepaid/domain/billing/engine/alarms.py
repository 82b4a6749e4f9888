"""The engine's own billing alarms, one per episode: registers going backwards (tamper, on a
remote meter) and a local meter showing more money than the ledger (ledger difference). An
open alarm is keyed by meter and ``detail``; the run raises and clears them in memory
(``run.Run.alarm`` / ``run.Run.clear``) and :func:`write_alarms` writes them at its end."""

from __future__ import annotations

from openprepaid.domain.billing.models import BillingAlarm, BillingAlarmKind
from openprepaid.domain.sites.models import Meter

#: Registers going backwards are recorded with this alarm kind; ``detail`` says so.
TAMPER_KIND = BillingAlarmKind.TAMPER
TAMPER_DETAIL = "registers went backwards"
DIFFERENCE_DETAIL = "meter shows more money than the ledger"


def open_alarms(meter_ids: list[int]) -> dict[tuple[int, str], BillingAlarm]:
    """The engine's alarms of ``meter_ids`` not cleared yet, by (meter id, detail)."""
    rows = BillingAlarm.objects.filter(
        meter_id__in=meter_ids,
        cleared_at__isnull=True,
        detail__in=[TAMPER_DETAIL, DIFFERENCE_DETAIL],
    )
    return {(a.meter_id, a.detail): a for a in rows}


def new_alarm(meter_id: int, account_id: int, detail: str, at, **values) -> BillingAlarm:
    """An alarm raised at ``at`` (not saved; its site is set by :func:`write_alarms`)."""
    return BillingAlarm(
        site_id=0,
        kind=TAMPER_KIND if detail == TAMPER_DETAIL else BillingAlarmKind.LEDGER_DIFFERENCE,
        account_id=account_id,
        meter_id=meter_id,
        detail=detail,
        raised_at=at,
        **values,
    )


def write_alarms(raised: list[BillingAlarm], cleared: list[BillingAlarm]) -> None:
    """Insert the alarms raised (each in its meter's site) and save the ones cleared."""
    if raised:
        sites = dict(
            Meter.objects.filter(pk__in={a.meter_id for a in raised}).values_list(
                "pk", "gateway__site_id"
            )
        )
        for alarm in raised:
            alarm.site_id = sites[alarm.meter_id]
        BillingAlarm.objects.bulk_create(raised)
    if cleared:
        BillingAlarm.objects.bulk_update(cleared, ["cleared_at"])
